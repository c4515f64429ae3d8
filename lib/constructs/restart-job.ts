import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';

import { ScriptJob } from './job-rbac';
import { NamespaceRelabel, RestartJobFields, RestartRoleFields, WorkloadRef } from '../plan/types';

const RESOURCE: Record<WorkloadRef['kind'], string> = { Deployment: 'deployments', StatefulSet: 'statefulsets', DaemonSet: 'daemonsets' };

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

/** How long the Job waits for each restarted workload's rollout (they roll in parallel). */
export const ROLLOUT_TIMEOUT_SECONDS = 600;
/** The Job's deadline: every rollout's wait, the patches and a margin (rollouts overlap, waits are sequential). */
export function restartDeadlineSeconds(workloads: number): number {
  return Math.min(3600, 300 + ROLLOUT_TIMEOUT_SECONDS + 30 * workloads);
}

/**
 * The shell script the Job runs. Per workload: skip it when it no longer exists (a stale dump must not
 * fail the phase; the skipped ones are listed), else patch its pod-template annotation with its own field
 * manager (so a Flux-managed workload's Kustomization does not take the field over and roll it again);
 * then wait for every restarted rollout, so a verify Job after it tests restarted pods. Any other error
 * fails the Job.
 */
/**
 * Before restarting anything (06): relabel exactly the migrated namespaces and refuse to go on while any
 * still carries a label to remove — with istio-injection next to istio.io/rev the OSSM 3 injector skips
 * the namespace (sail-operator release-1.27 resources/v1.27.3/charts/istiod/templates/mutatingwebhook.yaml:
 * istio.io/rev In [rev] AND istio-injection DoesNotExist), and restarted pods would come back without a
 * sidecar.
 */
function relabelLines(relabel: NamespaceRelabel | undefined): string[] {
  if (!relabel) return [];
  const args = [...relabel.remove.map((k) => `${k}-`), ...Object.entries(relabel.set).map(([k, v]) => `${k}=${v}`)].join(' ');
  const ignoreOnly = (relabel.ignoreOnly ?? []).map(
    (ns) => `kubectl label namespace ${ns} maistra.io/ignore-namespace=true --overwrite --field-manager=meshfed-restart || exit 1`,
  );
  return ignoreOnly.concat(
    relabel.namespaces.flatMap((ns) => [
      `kubectl label namespace ${ns} ${args} --overwrite --field-manager=meshfed-restart || exit 1`,
      ...relabel.remove.map(
        (k) =>
          `if [ -n "$(kubectl get namespace ${ns} -o jsonpath='{.metadata.labels.${k.replace(/\./g, '\\.')}}')" ]; then ` +
          `echo "meshfed: namespace ${ns} still has label ${k}: its pods would restart without an OSSM 3 sidecar; nothing restarted"; exit 1; fi`,
      ),
    ]),
  );
}

export function restartScript(
  annotation: string,
  value: string,
  workloads: WorkloadRef[],
  relabel?: NamespaceRelabel,
  waitFor?: WorkloadRef,
): string {
  // Changing the pod template makes the controller roll the pods.
  const patch = JSON.stringify({ spec: { template: { metadata: { annotations: { [annotation]: value } } } } });
  const restart = workloads.map((w) => `restart ${RESOURCE[w.kind]} ${w.name} ${w.namespace}`);
  return (
    [
      'set -u',
      ...(waitFor
        ? [
            `kubectl rollout status ${RESOURCE[waitFor.kind]}/${waitFor.name} -n ${waitFor.namespace} ` +
              `--timeout=${ROLLOUT_TIMEOUT_SECONDS}s || exit 1`,
          ]
        : []),
      ...relabelLines(relabel),
      'skipped=""',
      'restarted=""',
      'restart() {',
      '  if ! out=$(kubectl get "$1" "$2" -n "$3" -o name 2>&1); then',
      '    case "$out" in *NotFound*|*"not found"*) skipped="$skipped $3/$1/$2"; return 0 ;; esac',
      '    echo "meshfed: cannot read $3/$1/$2: $out"; exit 1',
      '  fi',
      `  kubectl patch "$1" "$2" -n "$3" --type merge --field-manager=meshfed-restart -p '${patch}' || exit 1`,
      '  restarted="$restarted $1/$2@$3"',
      '}',
      ...restart,
      'if [ -n "$skipped" ]; then echo "meshfed: skipped (no longer exist):$skipped"; fi',
      'failed=0',
      'for w in $restarted; do',
      `  kubectl rollout status "\${w%@*}" -n "\${w#*@}" --timeout=${ROLLOUT_TIMEOUT_SECONDS}s || failed=1`,
      'done',
      'exit $failed',
    ].join('\n') + '\n'
  );
}

export interface RestartJobProps extends RestartJobFields {
  readonly name: string;
  readonly namespace: string;
}

/**
 * Restarts the migrated namespaces' workloads so their sidecars are injected by the new revision, after
 * the namespaces were relabelled (PostSync, wave 0). It patches a pod-template annotation, which needs
 * only `patch` on the named objects.
 */
export class RestartJob extends Construct {
  constructor(scope: Construct, id: string, props: RestartJobProps) {
    super(scope, id);
    new ScriptJob(this, 'Job', {
      name: props.name,
      namespace: props.namespace,
      serviceAccountName: props.serviceAccount.name,
      image: props.image,
      script: restartScript(props.annotation, props.value, props.workloads, props.relabel, props.waitFor),
      wave: 0,
      activeDeadlineSeconds: restartDeadlineSeconds(props.workloads.length),
    });
  }
}
