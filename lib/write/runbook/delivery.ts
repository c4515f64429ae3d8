import { kc, refName } from './format';
import { ARGOCD_RETRY_LIMIT } from '../../constructs/argocd-application';
import { SMCP_ERROR_REASONS } from '../../constructs/health-checks';
import { GitOpsSettings } from '../../load/gitops';
import { Mesh } from '../../model/types';
import { MigrationPhase, ObjectRef, PHASES } from '../../plan/types';
import { minutes, PhaseDurations, SYNC_WAVES_SECONDS } from '../durations';

// What the cluster runbook says per GitOps tool: how a pointer move reaches it, how long a phase may take, how to
// stop a phase that runs, how to run a failed Job again. Argo CD and Flux differ in each (docs/gitops.md).

/** The names and namespaces the commands use; placeholders when clusters/gitops.yaml is missing. */
export interface DeliveryNames {
  readonly app: string;
  readonly argocdNamespace: string;
  readonly fluxNamespace: string;
  /** spec.argocd.automated: Argo CD syncs the Application by itself. */
  readonly automated: boolean;
  /** dist/argocd and dist/flux are written (clusters/gitops.yaml). */
  readonly written: boolean;
}

export function deliveryNames(mesh: Mesh, gitops: GitOpsSettings | undefined): DeliveryNames {
  return {
    app: `meshfed-${mesh.cluster}`,
    argocdNamespace: gitops?.argocdNamespace ?? '<argocd namespace>',
    fluxNamespace: gitops?.fluxNamespace ?? 'flux-system',
    automated: mesh.settings.argocd.automated ?? true,
    written: gitops !== undefined,
  };
}

/** `argocd app sync` of the cluster's Application: a full sync (hooks run), with prune (04 and 07 delete objects). */
function argoSync(n: DeliveryNames): string {
  return `argocd app sync ${n.app} --prune`;
}

function fluxReconcile(c: string, n: DeliveryNames, name: string, withSource: boolean): string {
  return `flux --context ${c} reconcile kustomization ${name} -n ${n.fluxNamespace}${withSource ? ' --with-source' : ''}`;
}

/**
 * After the commit: how the new pointer reaches each tool. Argo CD: the root Application (dist/argocd/root.yaml) applies
 * the cluster's Application from Git, within Argo CD's polling interval (`timeout.reconciliation` 120 s plus up to
 * 60 s jitter: argo-cd@v3.4.0 docs/operator-manual/argocd-cm.yaml:341-348) or at once on a webhook; Flux: the
 * delivery Kustomization applies dist/flux/<cluster> on its interval.
 */
export function moveLines(mesh: Mesh, n: DeliveryNames): string[] {
  const c = mesh.cluster;
  if (!n.written)
    return ['# GitOps applies the new phase folder (no clusters/gitops.yaml: your own Application or Kustomization points at it)'];
  return [
    `# Argo CD: the root Application meshfed (dist/argocd/root.yaml, applied once) applies the new ${n.app} within about`,
    `#   3 minutes (or at once on a webhook); without it: kubectl apply -k dist/argocd -n ${n.argocdNamespace}`,
    ...(n.automated
      ? [`#   ${n.app} then syncs by itself (automated, with prune)`]
      : [`${argoSync(n)}   # spec.argocd.automated is false: nothing else syncs ${n.app}; --prune, the phase may delete objects`]),
    `# Flux: ${n.app}-delivery applies dist/flux/${c}, then ${n.app} reconciles the new folder; to start now:`,
    fluxReconcile(c, n, `${n.app}-delivery`, true),
  ];
}

/** Jobs as one `kubectl delete job` per namespace. */
function deleteJobs(c: string, jobs: readonly ObjectRef[]): string[] {
  const byNs = new Map<string, string[]>();
  for (const j of jobs) byNs.set(j.namespace ?? '', [...(byNs.get(j.namespace ?? '') ?? []), j.name]);
  return [...byNs].map(([ns, names]) => `${kc(c)} delete job ${names.join(' ')} -n ${ns} --ignore-not-found`);
}

/** **Expected duration.** of a phase, from its Jobs' deadlines. */
export function durationText(d: PhaseDurations, n: DeliveryNames): string[] {
  const waves = `The sync waves take minutes (control planes reconciling, gateways rolling): allow ${minutes(SYNC_WAVES_SECONDS)}.`;
  if (d.jobs.length === 0)
    return [
      `**Expected duration.** ${waves} No Job runs. Flux gives up after ${minutes(d.fluxTimeoutSeconds)} (\`${n.app}\`'s timeout); ` +
        'Argo CD has no sync timeout by default: on a control plane that never becomes Ready it waits for ever.',
      '',
    ];
  const jobs = d.jobs.map((j) => `\`${refName(j.ref)}\` ${minutes(j.deadlineSeconds)}`).join(', ');
  return [
    `**Expected duration.** ${waves} Then the Jobs, each ended by Kubernetes at its deadline (\`activeDeadlineSeconds\`): ${jobs}` +
      `${d.jobs.some((j) => j.ref.name.startsWith('meshfed-verify')) ? ' (the verify Job waits for the restart first)' : ''}. ` +
      `Worst case before the sync fails by itself: Argo CD ${minutes(d.argocdSeconds)} per attempt (the PostSync waves run one after ` +
      `another) — and it retries a failed sync ${ARGOCD_RETRY_LIMIT} times, every hook Job again, so up to ${ARGOCD_RETRY_LIMIT + 1} × that ` +
      `before the Application shows Degraded (it reads Progressing meanwhile: abort at the first failed Job, below); ` +
      `Flux ${minutes(d.fluxTimeoutSeconds)} (\`${n.app}\`'s timeout; its Jobs run at the same time).`,
    '',
  ];
}

/** The control planes to look at when a sync does not end: their conditions say why (Maistra's reason, Sail's). */
function controlPlaneChecks(phase: MigrationPhase, mesh: Mesh): string[] {
  const c = mesh.cluster;
  const cp = mesh.controlPlane;
  const out: string[] = [];
  if (phase !== '07-finalize') out.push(`\`${kc(c)} get smcp ${cp.name} -n ${cp.namespace} -o jsonpath='{.status.conditions}'\``);
  if (PHASES.indexOf(phase) >= PHASES.indexOf('05-install-ossm3'))
    out.push(`\`${kc(c)} get istio ${mesh.ossm3.istioName} -o jsonpath='{.status.conditions}'\``);
  return out;
}

/**
 * Under Flux a failed reconcile of the SMCP's new spec is never Failed, only a timeout. Maistra moves
 * status.observedGeneration only after a successful reconcile (the twin: lib/twin/controllers/maistra.ts `fail`;
 * maistra/istio-operator pkg/controller/servicemesh/controlplane/reconciler.go), and kustomize-controller reads an
 * object whose observedGeneration differs from its generation as InProgress before any healthCheckExprs is evaluated
 * (fluxcd/pkg@62d235c runtime/cel/status_evaluator.go Evaluate, "First we check if the object has the field
 * status.observedGeneration"): no CEL expression can see the failure. What the operator sees instead, and where to look.
 */
export function fluxSmcpFailure(mesh: Mesh, d: PhaseDurations, n: DeliveryNames): string {
  const cp = mesh.controlPlane;
  return (
    `under Flux a failed SMCP reconcile is only a timeout: \`flux --context ${mesh.cluster} get kustomization ${n.app} -n ` +
    `${n.fluxNamespace}\` says \`Running health checks for revision … with a timeout of …\` for ${minutes(d.fluxTimeoutSeconds)}, then ` +
    `\`health check failed after …: timeout waiting for: [ServiceMeshControlPlane/${cp.namespace}/${cp.name} status: 'InProgress']\` ` +
    `(Maistra leaves \`status.observedGeneration\` behind while the new spec fails, and Flux reads that as InProgress ` +
    `before its failure expression). The SMCP's \`Reconciled\` condition says \`False\` with the reason ` +
    `(${SMCP_ERROR_REASONS.map((r) => `\`${r}\``).join(', ')}) from the first failed reconcile: look there, do not wait;`
  );
}

/** When to stop, for this phase (`smcpChanges`: the phase adds or patches the SMCP). */
export function abortRules(phase: MigrationPhase, mesh: Mesh, d: PhaseDurations, n: DeliveryNames, smcpChanges: boolean): string[] {
  const cps = controlPlaneChecks(phase, mesh);
  return [
    `${n.app} is not Synced and Healthy within ${minutes(d.argocdSeconds)} under Argo CD, or not Ready within ` +
      `${minutes(d.fluxTimeoutSeconds)} under Flux (the worst case above);`,
    ...(cps.length
      ? [
          `a control plane stays Progressing (Argo CD) or the health check runs (Flux) for more than ${minutes(SYNC_WAVES_SECONDS)}: ` +
            `${cps.join(', ')} say why;`,
        ]
      : []),
    ...(smcpChanges ? [fluxSmcpFailure(mesh, d, n)] : []),
    'a meshfed Job (restart, verify, hand-over) failed: `kubectl logs job/<name> -n <namespace>` says which step;',
    'any verification command above does not print what its comment expects;',
    'client error rates rise (your dashboards), or `istioctl proxy-status` shows proxies STALE or NOT SENT.',
  ];
}

/**
 * How to stop a phase that is running, per tool.
 * - Argo CD: terminating the operation deletes a running hook Job and ends the operation without a retry
 *   (argo-cd@v3.4.0 gitops-engine/pkg/sync/sync_context.go:710-731, 776-815; controller/appcontroller.go:1538), and
 *   auto-sync does not try a failed revision again (:2254-2257). Deleting the Job first would fail the hook instead,
 *   and the retry would run it again.
 * - Flux: a deleted Job does not end the running health check: a NotFound object is neither Current nor Failed, so
 *   the wait goes on to the timeout (fluxcd/pkg@e2cfd1a ssa/manager_wait.go:118-148). CancelHealthCheckOnNewRevision
 *   lets the rollback's revision end it (off by default: fluxcd/kustomize-controller@186fb3b
 *   internal/features/features.go:50-57, 94-96; before 1.8 only on a new source revision: CHANGELOG 1.8.0).
 *   Until the delivery Kustomization has applied the phase Kustomization with the rolled-back path, the phase
 *   Kustomization keeps reconciling the aborted folder (its retryInterval, or the new revision's enqueue, which
 *   reaches both: kustomization_manager.go:159-174) and would create the deleted Jobs again: suspend it first
 *   (`spec.suspend` is the CLI's field, which the delivery's server-side apply leaves alone), resume it once its path moved.
 */
export function abortSteps(mesh: Mesh, d: PhaseDurations, n: DeliveryNames, ownJobs: readonly ObjectRef[]): string[] {
  const c = mesh.cluster;
  // The Jobs this phase adds: those of earlier phases completed before it (Flux leaves them be; Argo CD's Terminate
  // deletes whichever hook still runs).
  const jobs = deleteJobs(c, ownJobs);
  return [
    '**Abort** — stop the phase, then roll back (decision table below):',
    '',
    '```sh',
    `# Argo CD: end the running sync first: Terminate deletes a running hook Job and stops the retries`,
    `argocd app terminate-op ${n.app}`,
    ...(jobs.length ? ["# make sure none of the phase's Jobs still runs (a Job deleted before Terminate is retried)", ...jobs] : []),
    `# then commit the rollback; ${n.automated ? `auto-sync applies it` : `then ${argoSync(n)}`}`,
    `# Flux: suspend the phase first: until the delivery moves its path it re-applies the aborted phase${jobs.length ? ' and its Jobs' : ''}`,
    `flux --context ${c} suspend kustomization ${n.app} -n ${n.fluxNamespace}`,
    ...jobs,
    `# commit the rollback, then fetch it and let the delivery move ${n.app} to the rolled-back phase`,
    fluxReconcile(c, n, `${n.app}-delivery`, true),
    `${kc(c)} get kustomization ${n.app} -n ${n.fluxNamespace} -o jsonpath='{.spec.path}'   # the rolled-back phase's folder`,
    `flux --context ${c} resume kustomization ${n.app} -n ${n.fluxNamespace}`,
    `#   with --feature-gates=CancelHealthCheckOnNewRevision=true on kustomize-controller >= 1.8 (docs/gitops.md) a health check`,
    `#   still running drops out for the new request; without it the resume waits until that check ends (at most ${minutes(d.fluxTimeoutSeconds)})`,
    '```',
    '',
  ];
}

/** The decision table's rows for a failed sync and a failed Job, per tool. */
export function failureRows(n: DeliveryNames, mesh: Mesh): string[] {
  const c = mesh.cluster;
  return [
    `| the sync failed, nothing new runs | fix the cause named in the sync status (Argo CD: the operation's message; Flux: ` +
      `\`flux --context ${c} get kustomization ${n.app} -n ${n.fluxNamespace}\`), commit if it was in Git; then Argo CD: ` +
      `\`${argoSync(n)}\` (after its retries auto-sync does not try the same commit again); Flux retries every minute |`,
    `| a Job failed, the rest synced | read its log (\`${kc(c)} logs job/<name> -n <namespace>\`) and fix the cause; then run it ` +
      `again — Argo CD: \`${argoSync(n)}\` (a full sync re-creates every hook); Flux: \`${kc(c)} delete job <name> -n <namespace>\`, ` +
      `then \`${fluxReconcile(c, n, n.app, true)}\` (a failed Job stays failed: re-applying it unchanged does nothing) |`,
  ];
}
