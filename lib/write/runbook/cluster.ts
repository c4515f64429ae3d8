import { abortRules, abortSteps, deliveryNames, DeliveryNames, durationText, failureRows, moveLines } from './delivery';
import { list } from './format';
import { TITLES, WHAT } from './phase-text';
import { preflight } from './preflight';
import { rollback } from './rollback';
import { verification } from './verification';
import { coOwnedObjects } from '../../check/co-ownership';
import { checkContext } from '../../check/context';
import { States } from '../../check/state';
import { GitOpsSettings } from '../../load/gitops';
import { ModelIndex } from '../../model/model-index';
import { FederationModel, Mesh } from '../../model/types';
import { HAND_OVER_LABELS_WHY } from '../../plan/names';
import { nextSteps } from '../../plan/pointers';
import { networkRestartDecisions, revisionRestartDecisions, ROLLOUT_TIMEOUT_SECONDS, workloadKey } from '../../plan/restart';
import { MigrationPhase, PhasePlan, PHASES, Plan, Resource, WorkloadRef } from '../../plan/types';
import { PhaseDurations, phaseDurations } from '../durations';

/** The gate of a cluster's next phase in one line. */
function gateLine(blockedBy: string[], gates: string[]): string {
  if (blockedBy.length) return `blocked: ${blockedBy.join('; ')}`;
  return gates.length ? `${gates.join(', ')} (synth refuses the pointer otherwise).` : "only this cluster's own previous phase.";
}

/**
 * When to abort (the phase's own worst case, not a fixed time), how (per tool), and the rollback decision table
 * whose "verification fails" row says what rolling `p` back does.
 */
function abortAndRollback(phase: MigrationPhase, mesh: Mesh, d: PhaseDurations, n: DeliveryNames, p: PhasePlan): string[] {
  return [
    '**When to abort** — stop and roll back when:',
    '',
    ...abortRules(
      phase,
      mesh,
      d,
      n,
      p.adds.some((r) => r.ref.kind === 'ServiceMeshControlPlane') || p.patches.some((x) => x.target.kind === 'ServiceMeshControlPlane'),
    ).map((a) => `- ${a}`),
    '',
    ...abortSteps(
      mesh,
      d,
      n,
      p.adds.filter((r) => r.ref.kind === 'Job').map((r) => r.ref),
    ),
    '**Rollback decision table.**',
    '',
    '| what you see | do |',
    '| --- | --- |',
    ...failureRows(n, mesh),
    `| verification or traffic fails | ${rollback(phase, p).replace(/\|/g, '\\|')} |`,
    `| a peer cluster is affected | roll this cluster back first, then check the peer's own runbook (\`../<peer>/RUNBOOK.md\`) |`,
    '',
  ];
}

/**
 * dist/<cluster>/RUNBOOK.md: one cluster at 3 a.m. — where it is, the next step with every command
 * concrete, its gate in one line, what to verify, when to abort, and a rollback decision table. The
 * federation-wide dist/README.md stays the overview.
 */
/** Each workload as inline code, followed by why when it has one: `ns/Kind/name` — why; … */
function workloadList(ws: readonly WorkloadRef[]): string {
  if (!ws.some((w) => w.why)) return list(ws.map(workloadKey), ws.length);
  return ws.map((w) => `\`${workloadKey(w)}\`${w.why ? ` — ${w.why}` : ''}`).join('; ');
}

/**
 * Every workload the phase's restart Jobs restart, by name and with why, how many roll at once, and the member
 * workloads they leave out and why (03 on an importer: no sidecar, no import visible, or
 * spec.workloadRestart.skipNetworkRestart; 06: no sidecar before or after); what no Job can restart is MF026's.
 */
/**
 * The Gateway API Gateways whose pods 07 rolls once more (lib/plan/phase-07-finalize.ts planHandOverLabels: 1.27 copies
 * a Gateway's labels and annotations into its pod template), and what to expect. The Deployment 1.27 renders sets no
 * strategy (istio/istio@1.27.3 manifests/charts/istio-control/istio-discovery/files/kube-gateway.yaml), so the
 * defaults hold: maxSurge 25% rounded up, maxUnavailable 25% rounded down (kubernetes docs, "Deployments", Max
 * Unavailable / Max Surge): a new pod is Ready before an old one stops, whose open connections close as it drains.
 */
export function gatewayRolls(p: PhasePlan): string {
  const gateways = p.patches.filter((x) => x.why === HAND_OVER_LABELS_WHY).map((x) => `\`${x.target.namespace}/${x.target.name}\``);
  if (!gateways.length) return '';
  return (
    `The pods of Gateway ${gateways.join(', ')} roll once more when its labels change (07 drops 06's hand-over labels ` +
    "`istio.io/rev` and `maistra.io/ignore` and its sync wave; Istio 1.27 copies a Gateway's labels and annotations into its " +
    'pod template: istio/istio@1.27.3 `pilot/pkg/config/kube/gateway/deploymentcontroller.go:544`), and again if 07 is ' +
    'rolled back. Expect no gap (a new pod is Ready before an old one stops), but the connections open on each old pod — ' +
    'the cross-cluster mTLS connections through an east-west gateway, egress through an egress gateway — are closed when ' +
    'it drains; clients reconnect. Move outside peak traffic.'
  );
}

export function restartLines(p: PhasePlan, mesh: Mesh, ctx: ModelIndex): string[] {
  const jobs = p.adds.filter((r): r is Extract<Resource, { type: 'restartJob' }> => r.type === 'restartJob');
  const migrating = !mesh.virtual && mesh.settings.mode !== 'greenfield';
  const network = p.phase === '03-import' && migrating && ctx.importsInto(mesh.cluster).length > 0;
  const revision = p.phase === '06-migrate-workloads' && migrating;
  const left = network
    ? networkRestartDecisions(ctx, mesh).filter((d) => !d.restart)
    : revision
      ? revisionRestartDecisions(mesh).filter((d) => !d.restart)
      : [];
  const skipped = left.filter((d) => d.reason === 'skipped').map((d) => workloadKey(d.workload));
  const paused = left.filter((d) => d.reason === 'paused');
  const needless = left.filter((d) => d.reason !== 'skipped' && d.reason !== 'paused');
  const rolls = gatewayRolls(p);
  if (jobs.length === 0 && left.length === 0) return rolls ? [`**Restarts.** ${rolls}`, ''] : [];
  const out = jobs.map(
    (j) =>
      `**Restarts.** The PostSync Job \`${j.ref.name}\` restarts ${j.workloads.length} workload(s), at most ` +
      `${j.maxConcurrent ?? j.workloads.length} at a time, each waited for (up to ${j.rolloutTimeoutSeconds ?? ROLLOUT_TIMEOUT_SECONDS} s; ` +
      `\`spec.workloadRestart.maxConcurrent\`, \`rolloutTimeoutSeconds\`): ${workloadList(j.workloads)}.`,
  );
  if (needless.length)
    out.push(
      (network ? 'Not restarted in 03, their proxies need no network: ' : 'Not restarted in 06, no sidecar before or after: ') +
        `${workloadList(needless.map((d) => ({ ...d.workload, why: d.why })))}.`,
    );
  if (paused.length)
    out.push(
      `Left out, paused (a restart would never roll out; MF026): ${workloadList(paused.map((d) => ({ ...d.workload, why: d.why })))}.`,
    );
  if (skipped.length)
    out.push(
      `Left out on purpose (\`spec.workloadRestart.skipNetworkRestart\`): ${list(skipped, skipped.length)}; ` +
        'they keep proxies without the network.',
    );
  if (rolls) out.push(rolls);
  out.push(
    'What no Job restarts (DeploymentConfigs, Rollouts, CronJobs, bare pods, OnDelete, partitions, paused Deployments): `meshfed check`, MF026.',
  );
  return [out.join(' '), ''];
}

/**
 * The objects another Argo CD application or Flux Kustomization tracks that the next phase patches, adopts or restarts
 * (MF029), and the reason the cluster gave for acknowledging the hand-off (spec.acknowledgeReasons.MF029).
 */
function coOwnershipLines(model: FederationModel, plan: Plan, mesh: Mesh, next: MigrationPhase): string[] {
  const here = coOwnedObjects(checkContext(model, plan)).filter((o) => o.mesh.cluster === mesh.cluster && o.phase === next);
  if (!here.length) return [];
  const reason = mesh.settings.acknowledge.includes('MF029') ? mesh.settings.acknowledgeReasons.MF029 : undefined;
  return [
    `**Co-ownership (MF029${reason ? ', acknowledged' : ''}).** This phase changes objects another delivery tracks` +
      (reason ? `; handed over: ${reason}` : '') +
      ':',
    '',
    ...here.map((o) => `- ${o.source.label} (${o.owner}): meshfed ${o.touch.how}`),
    '',
  ];
}

export function renderClusterRunbook(model: FederationModel, plan: Plan, cluster: string, gitops?: GitOpsSettings): string {
  const ctx = ModelIndex.of(model);
  const mesh = ctx.mesh(cluster);
  const names = deliveryNames(mesh, gitops);
  const step = nextSteps(plan).find((s) => s.cluster === cluster)!;
  const current = step.current as MigrationPhase;
  const next = step.next as MigrationPhase | undefined;
  const out: string[] = [
    `# ${cluster} — runbook`,
    '',
    '_Generated by meshfed; the whole federation, its diagram and every phase: [../README.md](../README.md)._',
    '',
    `**Where it is.** \`spec.phase: ${current}\` (${TITLES[current]}); GitOps applies \`dist/${cluster}/${current}\`.`,
    '',
  ];
  if (!next) {
    out.push('**Next.** Nothing: the migration is complete. OSSM 3 runs alone.', '');
    out.push('**Verify.**', '', '```sh', ...verification(current, mesh, ctx), '```', '');
    return out.join('\n').replace(/\n{3,}/g, '\n\n') + '\n';
  }
  const p = plan.byCluster[cluster][PHASES.indexOf(next)];
  const durations = phaseDurations(new States(plan), cluster, next);
  const gates = p.waitsFor.map((g) => `${g.cluster} at \`${g.phase}\` or later`);
  out.push(
    `**Next.** \`${next}\` — ${TITLES[next]}. ${WHAT[next]}`,
    '',
    ...restartLines(p, mesh, ctx),
    ...coOwnershipLines(model, plan, mesh, next),
    `**Gate.** ${gateLine(step.blockedBy, gates)}`,
    '',
    '**Pre-flight** (all must hold before you merge):',
    '',
    '```sh',
    ...preflight(next, mesh, ctx, gitops),
    '```',
    '',
    '**Move.**',
    '',
    '```sh',
    `# in clusters/${cluster}/cluster.yaml: spec.phase: ${next}`,
    'npm run synth && git diff --stat dist/',
    `git add clusters/${cluster} dist && git commit -m "${cluster}: ${next}"   # then merge`,
    ...moveLines(mesh, names),
    '```',
    '',
    ...durationText(durations, names),
    '**Verify** (after the sync is Healthy):',
    '',
    '```sh',
    ...verification(next, mesh, ctx),
    '```',
    '',
    ...abortAndRollback(next, mesh, durations, names, p),
  );
  return out.join('\n').replace(/\n{3,}/g, '\n\n') + '\n';
}
