import { restartLines } from './cluster';
import { diagram, importPairs, MAX_ARROWS } from './diagram';
import { list, refName, uniq } from './format';
import { CAVEATS, TITLES, WHAT } from './phase-text';
import { preflight } from './preflight';
import { rollback } from './rollback';
import { verification } from './verification';
import { States } from '../../check/state';
import { GitOpsSettings } from '../../load/gitops';
import { ModelIndex } from '../../model/model-index';
import { FederationModel } from '../../model/types';
import { nextSteps, ORDERING_RULES } from '../../plan/pointers';
import { MigrationPhase, PHASES, Plan } from '../../plan/types';
import { isVerified } from '../../plan/verify';
import { minutes, phaseDurations } from '../durations';

interface Sections {
  readonly plan: Plan;
  readonly model: FederationModel;
  readonly ctx: ModelIndex;
  readonly states: States;
  readonly gitops?: GitOpsSettings;
}

/** How long the phase may take per cluster: the worst case before the sync fails by itself (lib/write/durations.ts). */
function durationLine(phase: MigrationPhase, { plan, states }: Sections): string[] {
  const per = plan.local.map((c) => {
    const d = phaseDurations(states, c, phase);
    return `${c}: Argo CD ${minutes(d.argocdSeconds)}, Flux ${minutes(d.fluxTimeoutSeconds)}${d.jobs.length ? ` (${d.jobs.length} Job(s))` : ''}`;
  });
  return [
    `**Expected duration** (worst case before the sync fails by itself: the sync waves, then each Job until its deadline): ` +
      `${per.join('; ')}. The cluster runbooks (\`<cluster>/RUNBOOK.md\`) name the Jobs.`,
    '',
  ];
}

/** 00: the clusters without a member roll in Git: a ClusterWide SMCP's own roll (lib/plan/north-south.ts) or none dumped. */
function memberRollLines({ plan, ctx }: Sections): string[] {
  return plan.local
    .filter((c) => !plan.byCluster[c][0].adds.some((r) => r.ref.kind === 'ServiceMeshMemberRoll'))
    .flatMap((c) => [
      ctx.mesh(c).controlPlane.mode === 'ClusterWide'
        ? `${c}: no member roll in Git — its ClusterWide SMCP's own roll (the operator makes it) stays the operator's.`
        : `${c}: no member roll in Git — none was dumped.`,
      '',
    ]);
}

function phaseSection(phase: MigrationPhase, s: Sections): string[] {
  const { plan, model, ctx, gitops } = s;
  const out = [`## ${phase} — ${TITLES[phase]}`, '', WHAT[phase], '', ...(phase === '00-federation' ? memberRollLines(s) : [])];
  out.push('| cluster | adds | patches | deletes | written |', '| --- | --- | --- | --- | --- |');
  for (const c of plan.local) {
    const p = plan.byCluster[c][PHASES.indexOf(phase)];
    const patched = uniq(p.patches.map((x) => refName(x.target)));
    const adds = `${p.adds.length}: ${list(
      p.adds.map((a) => refName(a.ref)),
      6,
    )}`;
    const deletes = `${p.deletes.length}: ${list(p.deletes.map(refName), 4)}`;
    const written = p.blockedBy.length ? 'no — ' + p.blockedBy.join(' ') : 'yes';
    out.push(`| ${c} | ${adds} | ${patched.length}: ${list(patched, 4)} | ${deletes} | ${written} |`);
  }
  out.push('');
  for (const c of plan.local) {
    const restarts = restartLines(plan.byCluster[c][PHASES.indexOf(phase)], ctx.mesh(c), ctx);
    if (restarts.length) out.push(`- **${c}**: ${restarts[0].replace(/^\*\*Restarts\.\*\* /, '')}`);
  }
  if (plan.local.some((c) => restartLines(plan.byCluster[c][PHASES.indexOf(phase)], ctx.mesh(c), ctx).length)) out.push('');
  const gates = plan.local.flatMap((c) =>
    plan.byCluster[c][PHASES.indexOf(phase)].waitsFor.map(
      (g) => `- **${c}** waits for **${g.cluster}** at \`${g.phase}\` or later: ${c} ${g.reason}.`,
    ),
  );
  out.push(
    '**Gate.** ' + (gates.length ? 'Synth refuses a `spec.phase` that breaks these:' : "Only the cluster's own previous phase."),
    ...gates,
    '',
  );
  for (const [title, fn] of [
    ['Pre-flight', (m: Parameters<typeof verification>[1]) => preflight(phase, m, ctx, gitops)],
    ['Verify', (m: Parameters<typeof verification>[1]) => verification(phase, m, ctx)],
  ] as const) {
    const blocks = model.meshes
      .filter((m) => !m.virtual)
      .map((m) => ({ c: m.cluster, cmds: fn(m) }))
      .filter((b) => b.cmds.length);
    if (blocks.length === 0) continue;
    out.push(`**${title}.**`, '', '```sh');
    for (const b of blocks) out.push(`# ${b.c}`, ...b.cmds);
    out.push('```', '');
  }
  // 07 has no verify Job (lib/plan/verify.ts): its verification above runs the same probes by hand.
  const probes = model.meshes.filter((m) => !m.virtual && isVerified(m, phase));
  if (probes.length)
    out.push(
      `The verify Job (Argo CD PostSync hook; under Flux a Job of the same apply) waits for the phase's restart Jobs, then ` +
        `runs the probes of ${probes.map((m) => m.cluster).join(', ')}: "Healthy" means traffic verified.`,
      '',
    );
  out.push(...durationLine(phase, s));
  out.push('**Rollback.**', '');
  for (const c of plan.local) out.push(`- ${c}: ${rollback(phase, plan.byCluster[c][PHASES.indexOf(phase)])}`);
  out.push('');
  const caveats = CAVEATS[phase] ?? [];
  if (caveats.length) out.push('**Caveats.**', '', ...caveats.map((x) => `- ${x}`), '');
  return out;
}

const short = (v: unknown) => {
  const j = JSON.stringify(v);
  return j.length > 48 ? `${j.slice(0, 45)}…` : j;
};

/**
 * What becomes of each cluster's SMCP settings (docs/control-plane.md): the carried, replaced and lost
 * ones; the dropped ones (switched off, images, Maistra-only) are in plan.json.
 */
function controlPlaneSection(plan: Plan): string[] {
  const out: string[] = [];
  for (const c of plan.local) {
    const fates = (plan.settings[c] ?? []).filter((f) => f.fate !== 'dropped');
    if (fates.length === 0) continue;
    if (out.length === 0)
      out.push(
        '## The control plane',
        '',
        'Every SMCP setting and its fate (docs/control-plane.md); `default` = not in the dump, what the SMCP ' +
          'runs with anyway. The dropped ones are in `dist/plan.json`.',
        '',
      );
    out.push(`**${c}**`, '', '| setting | value | fate | OSSM 3 |', '| --- | --- | --- | --- |');
    for (const f of fates)
      out.push(
        `| \`${f.path}\`${f.source === 'default' ? ' (default)' : ''} | \`${short(f.value).replace(/\|/g, '\\|')}\` | ` +
          `${f.fate} | ${f.target ?? f.why.replace(/\|/g, '\\|')} |`,
      );
    out.push('');
  }
  return out;
}

/** dist/README.md: the whole federation, its diagram and every phase with its gate, commands and rollback. */
export function renderRunbook(model: FederationModel, plan: Plan, gitops?: GitOpsSettings): string {
  const ctx = ModelIndex.of(model);
  const sections: Sections = { plan, model, ctx, states: new States(plan), gitops };
  const out: string[] = [
    '# Federation migration runbook',
    '',
    '_Generated by meshfed from `clusters/`; do not edit. Commands use `kubectl --context <cluster>`._',
    '',
  ];
  out.push('## Where each cluster is', '', '| cluster | current phase | next phase | blocked by |', '| --- | --- | --- | --- |');
  for (const s of nextSteps(plan))
    out.push(
      `| ${s.cluster} | \`${s.current}\` | ${s.next ? `\`${s.next}\`` : 'done'} | ` +
        `${s.blockedBy.length ? s.blockedBy.join('<br/>') : s.next ? 'ready' : '—'} |`,
    );
  out.push(
    '',
    'To move a cluster on: set `spec.phase` in `clusters/<cluster>/cluster.yaml`, run `npm run ' +
      'synth`, review `git diff dist/`, merge. `npm run plan` prints this table.',
    '',
  );
  out.push('## The federation', '', ...diagram(model, ctx), '');
  if (model.imports.length <= MAX_ARROWS) {
    out.push('| importer | hostname | exporter service | exporter |', '| --- | --- | --- | --- |');
    for (const i of model.imports)
      out.push(`| ${i.importer} | \`${i.hostname}\` | \`${i.export.service.namespace}/${i.export.service.name}\` | ${i.exporter} |`);
  } else {
    out.push(
      `${model.imports.length} imports; every hostname is listed in \`dist/plan.json\` and in the importers' \`imports/<exporter>/\` folders.`,
      '',
      '| importer | exporter | services | e.g. |',
      '| --- | --- | --- | --- |',
    );
    for (const p of importPairs(model)) out.push(`| ${p.importer} | ${p.exporter} | ${p.count} | \`${p.hostnames[0]}\` |`);
  }
  out.push('', '## Ordering rules', '', ...ORDERING_RULES.map((r) => `- ${r}`), '');
  out.push(...controlPlaneSection(plan));
  for (const phase of PHASES) out.push(...phaseSection(phase, sections));
  return out.join('\n').replace(/\n{3,}/g, '\n\n') + '\n';
}
