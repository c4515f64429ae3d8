import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';

import { ScriptJob } from './job-rbac';
import { RESTART_WAVE } from './job-timing';
import { JobInstruction, renderJobScript, WorkloadResource, WorkloadTarget } from '../job-steps';
import { restartDeadlineSeconds, ROLLOUT_TIMEOUT_SECONDS } from '../plan/restart';
import { NamespaceRelabel, RestartJobFields, RestartRoleFields, WorkloadRef } from '../plan/types';

export { restartDeadlineSeconds, ROLLOUT_TIMEOUT_SECONDS };

const RESOURCE: Record<WorkloadRef['kind'], WorkloadResource> = {
  Deployment: 'deployments',
  StatefulSet: 'statefulsets',
  DaemonSet: 'daemonsets',
};

export interface RestartRoleProps extends RestartRoleFields {
  readonly name: string;
  readonly namespace: string;
}

/**
 * Allows, on exactly the named workloads of one namespace: `get` (is it still there?), `patch` (the
 * restart), `list`/`watch` (`kubectl rollout status` watches the object by name). Nothing else.
 */
export class RestartRole extends Construct {
  constructor(scope: Construct, id: string, props: RestartRoleProps) {
    super(scope, id);
    const kinds = [...new Set(props.workloads.map((w) => w.kind))].sort();
    new k8s.KubeRole(this, 'Resource', {
      metadata: { name: props.name, namespace: props.namespace },
      rules: kinds.map((kind) => ({
        apiGroups: ['apps'],
        resources: [RESOURCE[kind]],
        verbs: props.readOnly ? ['get', 'list', 'watch'] : ['get', 'list', 'patch', 'watch'],
        resourceNames: props.workloads
          .filter((w) => w.kind === kind)
          .map((w) => w.name)
          .sort(),
      })),
    });
  }
}

/**
 * What the Job does. Per workload: skip it when it no longer exists (a stale dump must not fail the phase;
 * the skipped ones are listed), else patch its pod-template annotation with its own field manager (so a
 * Flux-managed workload's Kustomization does not take the field over and roll it again), with at most
 * `maxConcurrent` rollouts in flight (spec.workloadRestart.maxConcurrent: each waited for with `kubectl rollout
 * status` before the next starts); then wait for every rollout, so a verify Job after it tests restarted pods. A
 * failed rollout stops further patches; any other error fails the Job at once.
 *
 * Before restarting anything (06): relabel exactly the migrated namespaces and refuse to go on while any
 * still carries a label to remove — with istio-injection next to istio.io/rev the OSSM 3 injector skips
 * the namespace (sail-operator release-1.27 resources/v1.27.3/charts/istiod/templates/mutatingwebhook.yaml:
 * istio.io/rev In [rev] AND istio-injection DoesNotExist), and restarted pods would come back without a
 * sidecar.
 */
export function restartSteps(
  annotation: string,
  value: string,
  workloads: WorkloadRef[],
  relabel?: NamespaceRelabel,
  waitFor?: WorkloadRef,
  maxConcurrent?: number,
  rolloutTimeoutSeconds = ROLLOUT_TIMEOUT_SECONDS,
): JobInstruction[] {
  const target = (w: WorkloadRef): WorkloadTarget => ({
    resource: RESOURCE[w.kind],
    name: w.name,
    namespace: w.namespace,
    ...(w.why ? { why: w.why } : {}),
  });
  return [
    ...(waitFor ? [{ op: 'rollout-status' as const, target: target(waitFor), timeoutSeconds: rolloutTimeoutSeconds }] : []),
    ...(relabel ? relabelSteps(relabel) : []),
    {
      op: 'restart',
      workloads: workloads.map(target),
      annotation,
      value,
      fieldManager: FIELD_MANAGER,
      timeoutSeconds: rolloutTimeoutSeconds,
      ...(maxConcurrent === undefined ? {} : { maxConcurrent }),
    },
  ];
}

/**
 * The relabel: every namespace gets `set` and loses `remove`, except those that keep `istio-injection: disabled`
 * (relabel.keepInjectionDisabled), which only get `set`, in a step of their own.
 */
function relabelSteps(relabel: NamespaceRelabel): JobInstruction[] {
  const keep = new Set(relabel.keepInjectionDisabled ?? []);
  const step = (namespaces: string[], remove: string[], ignoreOnly: string[]): JobInstruction => ({
    op: 'relabel-namespaces',
    namespaces,
    set: relabel.set,
    remove,
    ignoreOnly,
    fieldManager: FIELD_MANAGER,
  });
  return [
    step(
      relabel.namespaces.filter((n) => !keep.has(n)),
      relabel.remove,
      relabel.ignoreOnly ?? [],
    ),
    ...(keep.size ? [step([...keep], [], [])] : []),
  ];
}

/** The restart Job's script (renderJobScript of restartSteps). */
export function restartScript(...args: Parameters<typeof restartSteps>): string {
  return renderJobScript(restartSteps(...args));
}

/** kustomize-controller does not take over fields of this manager (kustomization_controller.go:894-914). */
const FIELD_MANAGER = 'meshfed-restart';

export interface RestartJobProps extends RestartJobFields {
  readonly name: string;
  readonly namespace: string;
}

/**
 * Restarts the migrated namespaces' workloads so their sidecars are injected by the new revision, after
 * the namespaces were relabelled (PostSync, wave 0). It patches a pod-template annotation and follows the
 * rollouts, which needs `get`, `list`, `watch` and `patch` on the named objects (RestartRole).
 */
export class RestartJob extends Construct {
  constructor(scope: Construct, id: string, props: RestartJobProps) {
    super(scope, id);
    new ScriptJob(this, 'Job', {
      name: props.name,
      namespace: props.namespace,
      serviceAccountName: props.serviceAccount.name,
      image: props.image,
      steps: restartSteps(
        props.annotation,
        props.value,
        props.workloads,
        props.relabel,
        props.waitFor,
        props.maxConcurrent,
        props.rolloutTimeoutSeconds,
      ),
      wave: RESTART_WAVE,
      activeDeadlineSeconds: restartDeadlineSeconds(
        props.workloads.length,
        props.maxConcurrent,
        props.rolloutTimeoutSeconds,
        props.waitFor !== undefined,
      ),
    });
  }
}
