/**
 * The pipeline, as one library call (kustomize's `krusty.MakeKustomizer(...).Run` is the model): a
 * clusters folder in, the plan, the findings and every file of `dist/` out. Nothing here writes; the
 * commands (lib/cli/) and the cdk8s app call it and decide what to do with the result.
 *
 *   analyse:  load → model → plan → pointer rules           (check, plan, graduate stop here)
 *   render:   analyse → checks → constructs → files          (synth, rehearse)
 */
import * as path from 'path';

import { acknowledgeWarnings, runChecks } from '../check';
import { Finding, throwIfErrorFindings } from '../check/finding';
import { Diagnostic, Diagnostics } from '../diagnostics';
import { JsonObject } from '../json';
import { GitOpsSettings } from '../load/gitops';
import { Input, loadInput, loadInputGitOps } from '../load/input';
import { buildModel } from '../model/federation';
import { FederationModel } from '../model/types';
import { PhaseId, phaseIndex } from '../phases';
import { checkAddressChanges, EastWestAddress, eastWestAddresses } from '../plan/address-change';
import { deliveries } from '../plan/delivery';
import { buildPlan } from '../plan/plan';
import { checkPointers } from '../plan/pointers';
import { Plan } from '../plan/types';
import { renderBundles } from '../write/bundles';
import { renderArgoCd, renderFlux } from '../write/gitops';
import { SYNTH_MARKER, SYNTH_MARKER_TEXT } from '../write/out-dir';
import { FolderRenderer, renderCluster, renderDist } from '../write/overlays';
import { planJson } from '../write/plan-json';
import { renderClusterRunbook, renderGreenfieldRunbook, renderRunbook } from '../write/runbook';
import { rollback } from '../write/runbook/rollback';

/** Milliseconds per stage, for MESHFED_TIMING=1 and the benchmark. */
export type Timings = Record<string, number>;

export function timed<T>(timings: Timings, stage: string, fn: () => T): T {
  const start = process.hrtime.bigint();
  try {
    return fn();
  } finally {
    timings[stage] = (timings[stage] ?? 0) + Number(process.hrtime.bigint() - start) / 1e6;
  }
}

export interface AnalyseOptions {
  /** Pointers of the previous render (its plan.json), for the rules on how a pointer may move. */
  readonly previousPointers?: Readonly<Record<string, string>>;
  /** Exporters' east-west addresses in the previous render (its plan.json), for the rule on changing one under importers. */
  readonly previousEastWest?: Readonly<Record<string, EastWestAddress>>;
  /** What the user confirmed: rollbacks from 03-import on (clusters), east-west address changes (exporters). */
  readonly confirmed?: { readonly rollbacks?: readonly string[]; readonly addressChanges?: readonly string[] };
  /** Skip the pointer rules (meshfed plan reports them itself; graduate needs none). */
  readonly skipPointerRules?: boolean;
  readonly timings?: Timings;
}

export interface Analysis {
  readonly model: FederationModel;
  readonly plan: Plan;
  readonly gitops: GitOpsSettings | undefined;
  /** Warnings so far (errors were thrown as InputError). */
  readonly diagnostics: Diagnostics;
  /** Each migrating local cluster's dumped objects as load read them (the rehearsal twin's cluster at 00). */
  readonly dumps: ReadonlyMap<string, readonly JsonObject[]>;
}

/**
 * load → model → plan → pointer rules. Throws InputError naming every problem of the input: a clusters folder, or
 * a federation declared in code (lib/load/declared.ts).
 */
export function analyse(input: Input, opts: AnalyseOptions = {}): Analysis {
  const timings = opts.timings ?? {};
  const diags = new Diagnostics();
  const clusters = timed(timings, 'load', () => loadInput(input, diags));
  const gitops = timed(timings, 'load', () => loadInputGitOps(input, diags));
  const model = timed(timings, 'model', () => buildModel(clusters, diags));
  const plan = timed(timings, 'plan', () => buildPlan(model, diags));
  if (!opts.skipPointerRules) timed(timings, 'plan', () => previousRenderRules(plan, model, diags, opts));
  diags.throwIfErrors();
  acknowledgeWarnings(model, diags);
  const dumps = new Map(clusters.flatMap((c) => (c.dumps ? [[c.name, c.dumps] as const] : [])));
  return { model, plan, gitops, diagnostics: diags, dumps };
}

/** The rules on what a render may change from the previous one: how pointers move, east-west addresses under importers. */
function previousRenderRules(plan: Plan, model: FederationModel, diags: Diagnostics, opts: AnalyseOptions): void {
  const pointers = { ...opts.previousPointers };
  checkPointers(plan, model, diags, pointers, {
    rollbacks: opts.confirmed?.rollbacks,
    describeRollback: (cluster, phase) => rollbackEffects(plan, cluster, phase),
  });
  checkAddressChanges(plan, model, diags, { pointers, addresses: { ...opts.previousEastWest } }, opts.confirmed?.addressChanges);
}

/** What rolling `phase` back does on `cluster`, as its runbook says (without the runbook's "Set spec.phase …, synth, commit."). */
function rollbackEffects(plan: Plan, cluster: string, phase: PhaseId): string {
  if (phase === 'multicluster') return '';
  return rollback(phase, plan.byCluster[cluster][phaseIndex(phase)]).replace(/^Set `spec\.phase: [^`]*`, synth, commit\. /, '');
}

export interface RenderOptions extends AnalyseOptions {
  /**
   * How each folder's planned objects become objects: a cdk8s app's Federation adds its own and applies its
   * Aspects (lib/federation/).
   * @default meshfed's constructs alone
   */
  readonly renderer?: FolderRenderer;
}

export interface RenderResult extends Analysis {
  readonly findings: Finding[];
  /** Every file of dist/, by path relative to it. */
  readonly files: Map<string, string>;
  /** One-line remarks for the user (not problems). */
  readonly notes: string[];
}

/**
 * The whole pipeline: `dist/` as files, or an InputError naming every problem (then nothing is rendered). A
 * declaration renders what the clusters folder of the same greenfield declarations renders, byte for byte.
 */
export function render(input: Input, opts: RenderOptions = {}): RenderResult {
  const clustersDir = typeof input === 'string' ? input : undefined;
  const timings = opts.timings ?? {};
  const analysis = analyse(input, { ...opts, timings });
  const { model, plan, diagnostics: diags } = analysis;
  const findings = timed(timings, 'check', () => runChecks(model, plan));
  throwIfErrorFindings(findings, diags.warnings);
  // Input files relative to the clusters folder; a declaration's (construct paths, the files its Meshes name)
  // relative to the folder the app runs in, where `cdk8s synth` runs it: its own folder.
  const base = clustersDir ?? process.cwd();
  const relative = (f: string) => path.relative(base, f).split(path.sep).join('/');
  const renderClusters = (renderer?: FolderRenderer) => new Map(plan.local.map((c) => [c, renderCluster(plan.byCluster[c], renderer)]));
  // An app's renderer says what it adds to each phase once that phase is rendered; plan.json lists it.
  const { renderer } = opts;
  const early =
    renderer &&
    timed(timings, 'render', () => {
      const byCluster = renderClusters(renderer);
      renderer.finish?.(plan);
      return byCluster;
    });
  const json = timed(timings, 'planjson', () =>
    planJson(plan, diags.warnings, findings, relative, base, eastWestAddresses(model, plan), renderer),
  );
  const spanning = federationFiles(input, timings, analysis);
  const clusters = early ?? timed(timings, 'render', () => renderClusters());
  const files = timed(timings, 'render', () => renderDist(plan, json, clusters));
  for (const [f, c] of spanning.files) files.set(f, c);
  // What lets the next synth recognise this folder as its own (lib/write/out-dir.ts).
  files.set(SYNTH_MARKER, SYNTH_MARKER_TEXT);
  return { ...analysis, findings, files, notes: spanning.notes };
}

/** The files that span clusters: runbooks, peer bundles, Argo CD and Flux objects; and the notes. */
function federationFiles(
  input: Input,
  timings: Timings,
  { model, plan, gitops }: Analysis,
): { files: Map<string, string>; notes: string[] } {
  const files = new Map<string, string>();
  const greenfield = plan.phases[0] === 'multicluster';
  timed(timings, 'runbook', () =>
    files.set('README.md', greenfield ? renderGreenfieldRunbook(model, plan) : renderRunbook(model, plan, gitops)),
  );
  // One runbook per migrating cluster, for whoever is on call for it.
  if (!greenfield)
    timed(timings, 'runbook', () => plan.local.forEach((c) => files.set(`${c}/RUNBOOK.md`, renderClusterRunbook(model, plan, c, gitops))));
  // Bundles describe a migrating peer (its phase, its federation); greenfield peers share one clusters/ folder.
  if (!greenfield) timed(timings, 'bundles', () => renderBundles(model, plan, plan.local).forEach((c, f) => files.set(f, c)));
  const notes: string[] = [];
  if (gitops) timed(timings, 'gitops', () => gitopsFiles({ model, plan, gitops }).forEach((c, f) => files.set(f, c)));
  else
    notes.push(
      typeof input === 'string'
        ? `no ${input}/gitops.yaml: dist/argocd and dist/flux are not written (docs/gitops.md).`
        : `${input.path} has no gitops file: dist/argocd and dist/flux are not written (docs/gitops.md).`,
    );
  return { files, notes };
}

/** dist/argocd and dist/flux for the plan's pointers. */
function gitopsFiles({ model, plan, gitops }: { model: FederationModel; plan: Plan; gitops: GitOpsSettings }): Map<string, string> {
  const d = deliveries(model, plan, gitops);
  return new Map([...renderArgoCd(gitops, d), ...renderFlux(gitops, d, plan)]);
}

/**
 * `dist/` as it would be with some clusters' pointers elsewhere: the phase folders do not depend on the
 * pointers, the Argo CD Applications and Flux Kustomizations do. The rehearsal replays moves with it
 * without rendering the federation again. Undefined without gitops.yaml (nothing to rehearse).
 */
export function filesAtPointers(result: RenderResult, pointers: Readonly<Record<string, PhaseId>>): Map<string, string> | undefined {
  if (!result.gitops) return undefined;
  const plan: Plan = { ...result.plan, pointers: { ...result.plan.pointers, ...pointers } };
  const files = new Map(result.files);
  for (const [f, c] of gitopsFiles({ model: result.model, plan, gitops: result.gitops })) files.set(f, c);
  return files;
}

/** `meshfed check`'s findings over an analysis (the rules of lib/rules.ts that read the model and the plan). */
export function check(analysis: Analysis): Finding[] {
  return runChecks(analysis.model, analysis.plan);
}

/** The pointer rules' errors, reported rather than thrown (meshfed plan shows them beside where each cluster is). */
export function pointerErrors(analysis: Analysis): Diagnostic[] {
  const diags = new Diagnostics();
  checkPointers(analysis.plan, analysis.model, diags);
  return diags.errors;
}
