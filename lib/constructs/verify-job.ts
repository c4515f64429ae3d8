import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';

import { ScriptJob } from './job-rbac';
import { JobInstruction, renderJobScript } from '../job-steps';
import { VerifyJobFields, VerifyProbeSpec, VerifyRoleFields } from '../plan/types';

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

/** Each probe retries 30 times, each try at most 10 s of curl and 10 s of pause; probes run one after another. */
export function verifyDeadlineSeconds(probes: number): number {
  return 120 + probes * PROBE_TRIES * 20;
}

const PROBE_TRIES = 30;

/**
 * The probes: each is retried for up to five minutes (workloads may still be rolling), and passes on a 2xx
 * answer. The Job fails, and so the phase's sync, when any probe never passes.
 */
export function verifySteps(phase: string, probes: VerifyProbeSpec[]): JobInstruction[] {
  return [
    { op: 'echo', text: `meshfed: verifying traffic after ${phase}` },
    ...probes.map((p) => ({ op: 'probe' as const, ...p, tries: PROBE_TRIES, intervalSeconds: 10 })),
  ];
}

export function verifyScript(phase: string, probes: VerifyProbeSpec[]): string {
  return renderJobScript(verifySteps(phase, probes));
}

export interface VerifyJobProps extends VerifyJobFields {
  readonly name: string;
  readonly namespace: string;
}

/** Checks traffic through the mesh after the phase (PostSync, wave 1: after the restart Job). */
export class VerifyJob extends Construct {
  constructor(scope: Construct, id: string, props: VerifyJobProps) {
    super(scope, id);
    new ScriptJob(this, 'Job', {
      name: props.name,
      namespace: props.namespace,
      serviceAccountName: props.serviceAccount.name,
      image: props.image,
      steps: verifySteps(props.phase, props.probes),
      wave: 1,
      backoffLimit: 1,
      activeDeadlineSeconds: verifyDeadlineSeconds(props.probes.length),
    });
  }
}
