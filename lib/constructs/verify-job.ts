import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';

import { ScriptJob } from './job-rbac';
import { PROBE_TRIES, VERIFY_WAVE, verifyDeadlineSeconds, WAIT_MARGIN_SECONDS } from './job-timing';
import { JobInstruction, renderJobScript } from '../job-steps';
import { AwaitedJob, VerifyJobFields, VerifyJobsRoleFields, VerifyProbeSpec, VerifyRoleFields } from '../plan/types';

export interface VerifyRoleProps extends VerifyRoleFields {
  readonly name: string;
  readonly namespace: string;
}

/** What `kubectl exec deploy/<name>` needs: read the named Deployments, list pods, exec into them. */
export class VerifyRole extends Construct {
  constructor(scope: Construct, id: string, props: VerifyRoleProps) {
    super(scope, id);
    new k8s.KubeRole(this, 'Resource', {
      metadata: { name: props.name, namespace: props.namespace },
      rules: [
        { apiGroups: ['apps'], resources: ['deployments'], verbs: ['get'], resourceNames: [...props.deployments].sort() },
        { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list'] },
        { apiGroups: [''], resources: ['pods/exec'], verbs: ['create'] },
      ],
    });
  }
}

export type VerifyJobsRoleProps = VerifyJobsRoleFields & { readonly name: string; readonly namespace: string };

/** What the verify Job's wait for the restart Jobs needs: `get` on exactly those Jobs (the script polls, it does not watch). */
export class VerifyJobsRole extends Construct {
  constructor(scope: Construct, id: string, props: VerifyJobsRoleProps) {
    super(scope, id);
    new k8s.KubeRole(this, 'Resource', {
      metadata: { name: props.name, namespace: props.namespace },
      rules: [{ apiGroups: ['batch'], resources: ['jobs'], verbs: ['get'], resourceNames: [...props.jobs].sort() }],
    });
  }
}

export { verifyDeadlineSeconds };

/**
 * First the wait for the phase's restart Jobs (so the probes test restarted pods), then the probes: each is
 * retried for up to five minutes (workloads may still be rolling), and passes on a 2xx answer. The Job fails,
 * and so the phase's sync, when a restart failed or any probe never passes.
 */
export function verifySteps(phase: string, probes: VerifyProbeSpec[], after: readonly AwaitedJob[] = []): JobInstruction[] {
  return [
    { op: 'echo', text: `meshfed: verifying traffic after ${phase}` },
    ...after.map((j) => ({
      op: 'wait-job' as const,
      name: j.name,
      namespace: j.namespace,
      timeoutSeconds: j.deadlineSeconds + WAIT_MARGIN_SECONDS,
    })),
    ...probes.map((p) => ({ op: 'probe' as const, ...p, tries: PROBE_TRIES, intervalSeconds: 10 })),
  ];
}

export function verifyScript(phase: string, probes: VerifyProbeSpec[], after: readonly AwaitedJob[] = []): string {
  return renderJobScript(verifySteps(phase, probes, after));
}

export interface VerifyJobProps extends VerifyJobFields {
  readonly name: string;
  readonly namespace: string;
}

/** Checks traffic through the mesh after the phase (PostSync, wave 1: after the restart Job, whose completion it also awaits). */
export class VerifyJob extends Construct {
  constructor(scope: Construct, id: string, props: VerifyJobProps) {
    super(scope, id);
    new ScriptJob(this, 'Job', {
      name: props.name,
      namespace: props.namespace,
      serviceAccountName: props.serviceAccount.name,
      image: props.image,
      steps: verifySteps(props.phase, props.probes, props.after),
      wave: VERIFY_WAVE,
      backoffLimit: 1,
      activeDeadlineSeconds: verifyDeadlineSeconds(props.probes.length, props.after),
    });
  }
}
