/**
 * The change record of one pointer move (`meshfed report`): what the engine applies, patches, prunes and what hooks
 * delete, in its order; the diff of the two desired states as `kubectl kustomize` builds them (the twin's builder,
 * equal to it by test); restarts, access changes, gates, the runbook's commands and the twin's verdict. Reads a render
 * (and, for the phase that runs now, the committed dist/); writes nothing.
 */
import * as path from 'path';

import { createTwoFilesPatch } from 'diff';

import { rehearseRender } from './rehearse';
import { RenderResult } from './render';
import { accessChanges } from './report-access';
import { restartsOf } from './report-restarts';
import { JOB_STEPS_ANNOTATION, JobStep } from '../job-steps';
import { ModelIndex } from '../model/model-index';
import { MigrationPhase, PHASES, phaseIndex } from '../phases';
import { deliveredShards } from '../plan/delivery';
import { nextSteps } from '../plan/pointers';
import { compareStrings } from '../sort';
import { plannedSync } from '../twin/argocd';
import { buildKustomization } from '../twin/kustomize';
import { annotations, keyOf, Obj, refOf } from '../twin/objects';
import { FileTree, memoryTree } from '../twin/tree';
import { ChangeRecord, HookEffect, RecordCommand, RecordObject, RecordVerdict, splitCommand } from '../write/report/types';
import { TITLES, WHAT } from '../write/runbook/phase-text';
import { preflight } from '../write/runbook/preflight';
import { rollback } from '../write/runbook/rollback';
import { verification } from '../write/runbook/verification';
import { toYaml } from '../write/yaml';

export interface ReportOptions {
  readonly cluster: string;
  /** Default: the phase the committed dist/ delivers (its plan.json), else the phase before the pointer. */
  readonly from?: string;
  /** Default: the pointer in cluster.yaml; when it equals `from`, the next phase. */
  readonly to?: string;
  /** The committed dist/: the `from` side is built from it when it holds that phase. */
  readonly dist?: FileTree;
  /** Run the twin on the move (default true; 30 s or more for a large cluster). */
  readonly rehearse?: boolean;
}

/** A refusal the command prints as it is (exit 2): an unknown cluster or phase. */
export class ReportError extends Error {}

function recordObject(o: Obj): RecordObject {
  const r = refOf(o);
  return { kind: r.kind, apiVersion: String(o.apiVersion ?? ''), namespace: r.namespace, name: r.name };
}

/** Canonical YAML of an object (keys sorted): what the diff and the equality compare. */
function yamlOf(o: Obj): string {
  return toYaml(o);
}

/** The desired state of `cluster` at `phase` in `tree`: the phase folder and the import folders GitOps delivers with it. */
function desiredState(result: RenderResult, tree: FileTree, cluster: string, phase: MigrationPhase): Obj[] {
  const folders = [`${cluster}/${phase}`, ...deliveredShards(result.plan, cluster, phase).map((s) => `${cluster}/imports/${s.name}`)];
  return folders.flatMap((f) => buildKustomization(tree, f));
}

function phaseOf(text: string | undefined, what: string, phases: readonly MigrationPhase[]): MigrationPhase | undefined {
  if (text === undefined) return undefined;
  const p = phases.find((x) => x === text || x.slice(0, 2) === text);
  if (!p) throw new ReportError(`${what} "${text}" is not a written phase of this cluster: one of ${phases.join(', ')}.`);
  return p;
}

/** The phase a committed dist/ delivers to a cluster (its plan.json's `current`). */
function committedPhase(dist: FileTree | undefined, cluster: string): string | undefined {
  const text = dist?.read('plan.json');
  if (!text) return undefined;
  try {
    return (JSON.parse(text) as { clusters?: Record<string, { current?: string }> }).clusters?.[cluster]?.current;
  } catch {
    return undefined;
  }
}

/** `from` and `to` of the move, with the notes that say how defaults were chosen. */
function resolveMove(
  result: RenderResult,
  o: ReportOptions,
  written: MigrationPhase[],
): { from: MigrationPhase; to: MigrationPhase; notes: string[] } {
  const notes: string[] = [];
  const pointer = result.plan.pointers[o.cluster] as MigrationPhase;
  let to = phaseOf(o.to, '--to', written) ?? pointer;
  const committed = committedPhase(o.dist, o.cluster);
  let from =
    phaseOf(o.from, '--from', written) ??
    (committed && written.includes(committed as MigrationPhase) ? (committed as MigrationPhase) : undefined);
  if (!from) from = written[Math.max(0, written.indexOf(to) - 1)];
  if (from === to && o.to === undefined) {
    const next = nextSteps(result.plan).find((s) => s.cluster === o.cluster)?.next as MigrationPhase | undefined;
    if (next && written.includes(next)) {
      to = next;
      notes.push(`The pointer (${pointer}) is what dist/ delivers already: this is the record of the next move.`);
    }
  }
  if (from === to) throw new ReportError(`--from and --to are both ${from}: nothing moves.`);
  if (Math.abs(written.indexOf(to) - written.indexOf(from)) > 1)
    notes.push(`This spans ${Math.abs(written.indexOf(to) - written.indexOf(from))} moves; synth refuses a pointer that skips a phase.`);
  return { from, to, notes };
}

/** A note for each phase whose committed build differs from the render's (the twin rehearses the committed one). */
function staleNotes(result: RenderResult, o: ReportOptions, phases: MigrationPhase[]): string[] {
  const dist = o.dist;
  if (!dist) return [];
  const render = memoryTree(result.files);
  const text = (t: FileTree, p: MigrationPhase) => desiredState(result, t, o.cluster, p).map(yamlOf).sort(compareStrings).join('---\n');
  return phases
    .filter((p) => dist.read(`${o.cluster}/${p}/kustomization.yaml`) !== undefined && text(dist, p) !== text(render, p))
    .map(
      (p) =>
        `dist/${o.cluster}/${p} as committed is not what clusters/ renders: run synth and commit before this change. ` +
        'The rehearsal replays the committed folders.',
    );
}

/** What each hook Job's steps do to objects it does not declare. */
function hookEffects(targets: Obj[]): HookEffect[] {
  const out: HookEffect[] = [];
  for (const job of targets.filter((o) => o.kind === 'Job')) {
    const text = annotations(job)[JOB_STEPS_ANNOTATION];
    if (!text) continue;
    for (const s of JSON.parse(text) as JobStep[]) {
      const j = recordObject(job);
      if (s.op === 'delete')
        out.push({ job: j, op: 'delete', target: `${s.resource} ${s.namespace}/${s.name}`, detail: `kubectl delete --wait` });
      if (s.op === 'strip-owner')
        out.push({
          job: j,
          op: 'patch',
          target: `${s.resource} ${s.namespace}/${s.name}`,
          detail: `removes ${s.labels.join(', ')} and owner references`,
        });
      if (s.op === 'relabel-namespaces')
        for (const ns of [...s.namespaces, ...s.ignoreOnly])
          out.push({
            job: j,
            op: 'relabel',
            target: `Namespace ${ns}`,
            detail: s.ignoreOnly.includes(ns)
              ? 'sets maistra.io/ignore-namespace=true'
              : `sets ${Object.entries(s.set)
                  .map(([k, v]) => `${k}=${v}`)
                  .join(', ')}; removes ${s.remove.join(', ') || 'nothing'}`,
          });
      if (s.op === 'restart')
        for (const w of s.workloads)
          out.push({
            job: j,
            op: 'patch',
            target: `${w.resource} ${w.namespace}/${w.name}`,
            detail: `pod template ${s.annotation}=${s.value} (a restart)`,
          });
    }
  }
  return out;
}

/** The unified diff of every object that differs between the two states. */
function diffOf(before: Obj[], after: Obj[]): ChangeRecord['diff'] {
  const a = new Map(before.map((o) => [keyOf(o), o]));
  const b = new Map(after.map((o) => [keyOf(o), o]));
  const keys = [...new Set([...a.keys(), ...b.keys()])].sort(compareStrings);
  const out: ChangeRecord['diff'] = [];
  for (const k of keys) {
    const [x, y] = [a.get(k), b.get(k)];
    const [tx, ty] = [x ? yamlOf(x) : '', y ? yamlOf(y) : ''];
    if (tx === ty) continue;
    const patch = createTwoFilesPatch('before', 'after', tx, ty, undefined, undefined, { context: 3 })
      .split('\n')
      .filter((l) => !l.startsWith('====='))
      .join('\n');
    out.push({ object: recordObject((y ?? x)!), change: !x ? 'added' : !y ? 'removed' : 'changed', patch });
  }
  return out;
}

/** The twin's verdict on the moves between `from` and `to` (each one phase apart), with their rollbacks. */
function verdictOf(result: RenderResult, o: ReportOptions, from: MigrationPhase, to: MigrationPhase): RecordVerdict {
  if (o.rehearse === false) return { status: 'not rehearsed', reason: 'run with --skip-rehearsal', moves: [], findings: [] };
  const [lo, hi] = [Math.min(PHASES.indexOf(from), PHASES.indexOf(to)), Math.max(PHASES.indexOf(from), PHASES.indexOf(to))];
  const judge = PHASES.slice(lo + 1, hi + 1);
  const report = rehearseRender(result, { clusters: [o.cluster], judge, dist: o.dist, scenarios: ['rollback'] });
  // The twin replays the moves before the judged ones to get there; the record shows the move and its rollback.
  const steps = new Set(judge.flatMap((p) => [`${PHASES[PHASES.indexOf(p) - 1]} → ${p}`, `${p} → ${PHASES[PHASES.indexOf(p) - 1]}`]));
  const moves = report.moves
    .filter((m) => steps.has(m.move))
    .map((m) => ({ engine: m.engine, scenario: m.scenario, move: m.move, ok: m.ok, seconds: m.seconds }));
  const findings = report.findings.map((f) => ({ engine: f.engine, scenario: f.scenario, move: f.move, why: f.why, fix: f.fix }));
  return { status: findings.length ? 'failed' : 'passed', moves, findings };
}

/** The change record of moving `cluster`'s pointer from one phase to another. Throws ReportError on an unknown cluster or phase. */
export function buildChangeRecord(result: RenderResult, clustersDir: string, o: ReportOptions): ChangeRecord {
  const { plan, model } = result;
  if (!plan.local.includes(o.cluster))
    throw new ReportError(`no cluster "${o.cluster}" in ${clustersDir}/: one of ${plan.local.join(', ')}.`);
  const written = plan.byCluster[o.cluster].filter((p) => p.blockedBy.length === 0).map((p) => p.phase) as MigrationPhase[];
  if (!written.every((p) => PHASES.includes(p)))
    throw new ReportError(`${o.cluster} is a greenfield cluster: it has one overlay and no pointer moves.`);
  const { from, to, notes } = resolveMove(result, o, written);
  const render = memoryTree(result.files);
  const fromTree = o.dist?.read(`${o.cluster}/${from}/kustomization.yaml`) !== undefined ? o.dist! : render;
  const before = desiredState(result, fromTree, o.cluster, from);
  const after = desiredState(result, render, o.cluster, to);
  notes.push(...staleNotes(result, o, [from, to]));
  const direction = phaseIndex(to) > phaseIndex(from) ? 'forward' : 'rollback';
  const ctx = ModelIndex.of(model);
  const mesh = ctx.mesh(o.cluster);
  const p = plan.byCluster[o.cluster][PHASES.indexOf(to)];
  // The Application's app-wide PruneLast, which 07 drops (lib/constructs/argocd-application.ts).
  const pruneLast = to !== '07-finalize';
  const steps = plannedSync(after, before, { pruneLast, equal: (x, y) => yamlOf(x) === yamlOf(y) }).map((t) => ({
    phase: t.phase,
    wave: t.wave,
    action: t.action,
    object: recordObject(t.object),
  }));
  // The rollback is the sync back to `from` over what `to` left: what it prunes (not what carries Prune=false: adopted
  // Namespaces, handed-over objects) and what it creates again, in its own order.
  const back = plannedSync(before, after, { pruneLast: from !== '07-finalize', equal: (x, y) => yamlOf(x) === yamlOf(y) });
  const created = back.filter((t) => t.action === 'prune').map((t) => recordObject(t.object));
  const pruned = back.filter((t) => t.action === 'create').map((t) => recordObject(t.object));
  const keeps = back.filter((t) => t.action === 'prune-skipped').map((t) => recordObject(t.object));
  const pointers = plan.pointers;
  return {
    cluster: o.cluster,
    from,
    to,
    direction,
    title: TITLES[to],
    what: direction === 'forward' ? WHAT[to] : `GitOps applies ${to} again: what ${from} added is pruned, what it removed comes back.`,
    sources: { from: fromTree === render ? `the render of ${clustersDir}/` : 'dist/ as committed', to: `the render of ${clustersDir}/` },
    notes,
    steps,
    hooks: hookEffects(after),
    diff: diffOf(before, after),
    restarts: restartsOf(before, after, path.join(clustersDir, o.cluster, 'ossm2')),
    access: accessChanges(before, after),
    gates: p.waitsFor.map((g) => ({
      ...g,
      pointer: pointers[g.cluster] ?? '(not local)',
      met: phaseIndex(pointers[g.cluster] ?? g.phase) >= phaseIndex(g.phase),
    })),
    blockedBy: p.blockedBy,
    preflight: direction === 'forward' ? preflight(to, mesh, ctx).map(expecting) : [],
    verification: verification(to, mesh, ctx).map(expecting),
    rollback: {
      text: direction === 'forward' ? rollback(to, p, true) : `Move the pointer forward again: set \`spec.phase: ${from}\`, synth, commit.`,
      prunes: created,
      keeps,
      restores: pruned,
    },
    verdict: verdictOf(result, o, from, to),
    flows: flowsOf(ctx, o.cluster),
    timeline: timelineOf(result, o.dist),
  };
}

/**
 * A runbook command with the output it expects: its own comment, else what the command prints when all is well (a
 * curl's `%{http_code}`, a peer's discovery status, the endpoints istioctl lists).
 */
function expecting(line: string): RecordCommand {
  const c = splitCommand(line);
  if (c.expect) return c;
  if (c.command.includes('%{http_code}')) return { ...c, expect: '200' };
  if (c.command.includes('discoveryStatus')) return { ...c, expect: 'a remote entry with "connected":true' };
  if (c.command.includes('proxy-config endpoints')) return { ...c, expect: 'a HEALTHY endpoint line for every host' };
  return c;
}

function flowsOf(ctx: ModelIndex, cluster: string): ChangeRecord['flows'] {
  const mesh = ctx.mesh(cluster);
  const imports = ctx.importsInto(cluster);
  const flows = mesh.settings.verify.map((v) => {
    const host = new URL(v.url).hostname;
    const i = imports.find((x) => x.hostname === host);
    return { from: `${cluster} ${v.from.namespace}/${v.from.deployment}`, host, to: i ? i.exporter : cluster };
  });
  for (const i of imports) if (!flows.some((f) => f.host === i.hostname)) flows.push({ from: cluster, host: i.hostname, to: i.exporter });
  return flows;
}

function timelineOf(result: RenderResult, dist: FileTree | undefined): ChangeRecord['timeline'] {
  const { plan } = result;
  return {
    phases: plan.phases,
    clusters: plan.local.map((c) => {
      const rendered = committedPhase(dist, c);
      return { cluster: c, pointer: plan.pointers[c], ...(rendered ? { rendered } : {}) };
    }),
    gates: plan.local.flatMap((c) =>
      plan.byCluster[c].flatMap((p) => p.waitsFor.map((g) => ({ cluster: c, phase: p.phase, peer: g.cluster, peerPhase: g.phase }))),
    ),
  };
}
