import * as fs from 'fs';
import * as path from 'path';

import { acknowledgeWarnings, runChecks } from '../check';
import { parseCommand } from './args';
import { currentStamp, filesHash, inputHash, saveStamp, StampReport } from './synth-memo';
import { Finding, formatFinding, throwIfErrorFindings } from '../check/finding';
import { Diagnostic, Diagnostics, formatDiagnostic, InputError } from '../diagnostics';
import { GitOpsSettings, loadGitOps } from '../load/gitops';
import { loadInput } from '../load/input';
import { buildModel } from '../model/federation';
import { FederationModel } from '../model/types';
import { deliveries } from '../plan/delivery';
import { buildPlan } from '../plan/plan';
import { checkPointers } from '../plan/pointers';
import { compareRenders, describeChanges, otherFederation, PlanJsonView } from '../plan/removals';
import { Plan } from '../plan/types';
import { listFiles, TreeChanges, treeDiff, writeTreeAtomically } from '../write/atomic';
import { renderBundles } from '../write/bundles';
import { renderArgoCd, renderFlux } from '../write/gitops';
import { outDirRefusal, SYNTH_MARKER, SYNTH_MARKER_TEXT } from '../write/out-dir';
import { renderCluster, renderDist } from '../write/overlays';
import { planJson } from '../write/plan-json';
import { PARALLEL_MIN_OBJECTS, RenderWorker, sharedClusters } from '../write/render-worker';
import { renderClusterRunbook, renderRunbook } from '../write/runbook';
import { renderGreenfieldRunbook } from '../write/runbook-greenfield';

export interface SynthOptions {
  readonly clustersDir: string;
  readonly outDir: string;
}

export interface SynthResult {
  readonly plan: Plan;
  readonly findings: Finding[];
  readonly files: Map<string, string>;
  readonly diagnostics: Diagnostics;
  /** One-line remarks for the user (not problems). */
  readonly notes: string[];
}

/** Milliseconds per stage, for MESHFED_TIMING=1 and the benchmark. */
export type Timings = Record<string, number>;

function timed<T>(timings: Timings, stage: string, fn: () => T): T {
  const start = process.hrtime.bigint();
  try {
    return fn();
  } finally {
    timings[stage] = (timings[stage] ?? 0) + Number(process.hrtime.bigint() - start) / 1e6;
  }
}

/**
 * load → model → plan → constructs → files. Pure apart from reading the input; throws InputError.
 * Plans of `parallelMinObjects` objects or more render part of their clusters on a second thread
 * (MESHFED_THREADS=1 in `env` keeps everything on one); the files are the same either way.
 */
export function synthesize(
  clustersDir: string,
  timings: Timings = {},
  env: NodeJS.ProcessEnv = process.env,
  parallelMinObjects = PARALLEL_MIN_OBJECTS,
  previousPointers: Record<string, string> = {},
): SynthResult {
  // A large input will need the second thread: start it first, so it loads the renderer while the input loads.
  const early = env.MESHFED_THREADS !== '1' && inputBytes(clustersDir) >= EARLY_WORKER_INPUT_BYTES ? new RenderWorker() : undefined;
  let worker: RenderWorker | undefined;
  try {
    const diags = new Diagnostics();
    const clusters = timed(timings, 'load', () => loadInput(clustersDir, diags));
    const gitops = timed(timings, 'load', () => loadGitOps(clustersDir, diags));
    const model = timed(timings, 'model', () => buildModel(clusters, diags));
    const plan = timed(timings, 'plan', () => buildPlan(model, diags));
    timed(timings, 'plan', () => checkPointers(plan, model, diags, previousPointers));
    diags.throwIfErrors();
    acknowledgeWarnings(model, diags);
    // Large federations share their clusters with the second thread: it renders while this one runs the
    // checks and writes the federation-wide files, then this one renders what the worker has not taken.
    const shared = sharedClusters(plan, env, parallelMinObjects);
    if (shared.length) worker = timed(timings, 'render', () => (early ?? new RenderWorker()).share(plan, shared));
    else early?.cancel();
    const findings = timed(timings, 'check', () => runChecks(model, plan));
    throwIfErrorFindings(findings, diags.warnings);
    const relative = (f: string) => path.relative(clustersDir, f).split(path.sep).join('/');
    const json = timed(timings, 'planjson', () => planJson(plan, diags.warnings, findings, relative));
    const spanning = finish({ clustersDir, timings, model, plan, gitops });
    const mine = timed(timings, 'render', () =>
      worker ? worker.renderRest() : new Map(plan.local.map((c) => [c, renderCluster(plan.byCluster[c])])),
    );
    const theirs = timed(timings, 'wait', () => worker?.result() ?? []);
    const files = timed(timings, 'render', () => renderDist(plan, json, new Map([...mine, ...theirs])));
    for (const [f, c] of spanning.files) files.set(f, c);
    // What lets the next synth recognise this folder as its own (lib/write/out-dir.ts).
    files.set(SYNTH_MARKER, SYNTH_MARKER_TEXT);
    return { plan, findings, files, diagnostics: diags, notes: spanning.notes };
  } catch (e) {
    (worker ?? early)?.cancel();
    throw e;
  }
}

/** Input this size or larger starts the render worker before loading (a 10 × 100 federation's dumps are about 1.4 MB). */
const EARLY_WORKER_INPUT_BYTES = 512 * 1024;

/** Bytes of every file under `dir`. */
function inputBytes(dir: string): number {
  return listFiles(dir).reduce((n, rel) => n + fs.statSync(path.join(dir, rel)).size, 0);
}

interface Rendered {
  readonly clustersDir: string;
  readonly timings: Timings;
  readonly model: FederationModel;
  readonly plan: Plan;
  readonly gitops: GitOpsSettings | undefined;
}

/** The files that span clusters: runbooks, peer bundles, Argo CD and Flux objects; and the notes. */
function finish({ clustersDir, timings, model, plan, gitops }: Rendered): { files: Map<string, string>; notes: string[] } {
  const files = new Map<string, string>();
  const greenfield = plan.phases[0] === 'multicluster';
  timed(timings, 'runbook', () => files.set('README.md', greenfield ? renderGreenfieldRunbook(model, plan) : renderRunbook(model, plan)));
  // One runbook per migrating cluster, for whoever is on call for it.
  if (!greenfield)
    timed(timings, 'runbook', () => plan.local.forEach((c) => files.set(`${c}/RUNBOOK.md`, renderClusterRunbook(model, plan, c))));
  // Bundles describe a migrating peer (its phase, its federation); greenfield peers share one clusters/ folder.
  if (!greenfield) timed(timings, 'bundles', () => renderBundles(model, plan, plan.local).forEach((c, f) => files.set(f, c)));
  const notes: string[] = [];
  if (gitops) {
    const d = timed(timings, 'gitops', () => deliveries(model, plan, gitops));
    timed(timings, 'gitops', () => [...renderArgoCd(gitops, d), ...renderFlux(gitops, d)].forEach(([f, c]) => files.set(f, c)));
  } else {
    notes.push(`no ${clustersDir}/gitops.yaml: dist/argocd and dist/flux are not written (docs/gitops.md).`);
  }
  return { files, notes };
}

function summary(result: SynthResult, outDir: string, changes: TreeChanges): string[] {
  const lines: string[] = [];
  const { plan } = result;
  const written = plan.local.reduce((n, c) => n + plan.byCluster[c].filter((p) => p.blockedBy.length === 0).length, 0);
  const touched = changes.added.length + changes.changed.length + changes.removed.length;
  lines.push(
    `meshfed: ${plan.local.length} cluster(s), ${written} phase overlay(s), ${result.files.size} file(s) in ${outDir}/: ` +
      (touched
        ? `${changes.added.length} new, ${changes.changed.length} changed, ${changes.removed.length} removed, ${changes.unchanged} unchanged`
        : 'all unchanged, nothing written'),
  );
  if (changes.leftover) lines.push(`meshfed: the previous ${outDir}/ could not be removed, the next synth removes it: ${changes.leftover}`);
  for (const n of result.notes) lines.push(`meshfed: ${n}`);
  for (const c of plan.local) {
    const blocked = plan.byCluster[c].filter((p) => p.blockedBy.length > 0);
    if (blocked.length === 0) continue;
    lines.push(`meshfed: ${c}: ${blocked.map((p) => p.phase).join(', ')} not written yet:`);
    for (const reason of blocked[0].blockedBy) lines.push(`  - ${reason}`);
  }
  return lines;
}

const USAGE = `usage: meshfed synth [--clusters DIR] [--out DIR] [--allow-removals] [--check] [--strict]

Reads clusters/<cluster>/{cluster.yaml,ossm2/,root-cert.pem} and writes per-cluster, per-phase
Kustomize overlays to dist/<cluster>/<phase>/ plus dist/plan.json. On any input error nothing is
written and the previous dist/ stays as it was.

  --clusters DIR     input folder (default: clusters, or $MESHFED_CLUSTERS)
  --out DIR          output folder (default: dist, or $MESHFED_OUT): missing, empty, or one synth
                     wrote before; never the input, the current folder, a parent of either, or a
                     folder holding .git (exit 2)
  --allow-removals   write even when a cluster's current desired state loses objects without its
                     pointer moving, or a cluster disappears (default: refuse;
                     $MESHFED_ALLOW_REMOVALS=1 for CI)
  --check            write nothing; exit 1, listing the files, when DIR is not what the input renders
                     (for CI: a committed dist/ that is stale)
  --strict           warnings (not acknowledged in spec.acknowledge) fail the run like errors
  --json             the result on stdout as JSON (clusters, files, warnings, findings, errors);
                     messages stay on stderr

A re-run on unchanged input (same files, same meshfed, DIR as the last synth wrote it) renders nothing
and prints the same warnings; --json reports what the first run did, with "unchanged": true
(MESHFED_CACHE=0: render anyway).`;

/** --check: is `outDir` exactly what the input renders? */
function checkTree(outDir: string, total: number, d: { added: string[]; changed: string[]; removed: string[] }): number {
  const n = d.added.length + d.changed.length + d.removed.length;
  if (n === 0) {
    console.error(`meshfed: ${outDir}/ is up to date (${total} file(s)).`);
    return 0;
  }
  for (const [mark, list] of [
    ['+', d.added],
    ['~', d.changed],
    ['-', d.removed],
  ] as const)
    for (const f of list) console.error(`  ${mark} ${outDir}/${f}`);
  console.error(
    `meshfed: ${outDir}/ is not what the input renders: ${d.added.length} missing, ${d.changed.length} different, ` +
      `${d.removed.length} extra file(s). Run meshfed synth (npm run synth) and commit the result.`,
  );
  return 1;
}

/** The previous render's plan.json in `outDir`, if there is one. */
function previousPlan(outDir: string): PlanJsonView | undefined {
  const file = path.join(outDir, 'plan.json');
  if (!fs.existsSync(file)) return undefined;
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as PlanJsonView;
  } catch {
    return undefined;
  }
}

/**
 * The refusal when the output folder holds the render of clusters none of which is in the input: most
 * often the bundled example's dist/ in a copy of the template whose clusters/ the user replaced.
 */
function anotherFederation(opts: SynthOptions, clusters: string[]): string {
  const names = clusters.join(', ');
  return (
    `meshfed: refused: ${opts.outDir}/ holds the render of another federation (${names}), none of whose clusters is in ` +
    `${opts.clustersDir}/ now. If you replaced the bundled example (or another federation's clusters) with yours, delete that ` +
    `render (git rm -r ${opts.outDir}, or rm -r ${opts.outDir}) and synth again. If ${names} are live clusters you renamed, ` +
    `rename them back: GitOps would prune everything they run (--allow-removals writes anyway). ` +
    `Nothing was written, ${opts.outDir}/ is unchanged.`
  );
}

/** synth --json: the result on stdout, one document (diagnostics stay on stderr as text too). */
interface SynthReport {
  ok: boolean;
  exitCode: number;
  outDir: string;
  /** True when input, meshfed and dist/ were as the last synth left them (nothing rendered). */
  unchanged?: boolean;
  clusters?: StampReport['clusters'];
  files?: { total: number; added: string[]; changed: string[]; removed: string[]; unchanged: number };
  /** --check: how dist/ differs from what the input renders. */
  stale?: { added: string[]; changed: string[]; removed: string[] };
  warnings: Diagnostic[];
  findings: Finding[];
  errors: Diagnostic[];
  notes: string[];
}

function clustersReport(plan: Plan): StampReport['clusters'] {
  return Object.fromEntries(
    plan.local.map((c) => [
      c,
      {
        current: plan.pointers[c],
        written: plan.byCluster[c].filter((p) => !p.blockedBy.length).map((p) => p.phase),
        blocked: plan.byCluster[c].filter((p) => p.blockedBy.length).map((p) => ({ phase: p.phase, reasons: p.blockedBy })),
      },
    ]),
  );
}

/** The `synth` command; returns the process exit code (0 ok, 1 input error, 2 usage error, 3 bug). */
export function runSynth(argv: string[], env: NodeJS.ProcessEnv = process.env): number {
  const parsed = parseCommand<{
    clusters?: string;
    out?: string;
    'allow-removals'?: boolean;
    check?: boolean;
    strict?: boolean;
    json?: boolean;
  }>(
    argv,
    {
      clusters: { type: 'string' },
      out: { type: 'string' },
      'allow-removals': { type: 'boolean' },
      check: { type: 'boolean' },
      strict: { type: 'boolean' },
      json: { type: 'boolean' },
    },
    USAGE,
  );
  if ('exit' in parsed) return parsed.exit;
  const opts: SynthOptions = {
    clustersDir: parsed.values.clusters ?? env.MESHFED_CLUSTERS ?? 'clusters',
    outDir: parsed.values.out ?? env.MESHFED_OUT ?? 'dist',
  };
  const report: SynthReport = { ok: false, exitCode: 0, outDir: opts.outDir, warnings: [], findings: [], errors: [], notes: [] };
  const done = (code: number): number => {
    if (parsed.values.json) console.log(JSON.stringify({ ...report, ok: code === 0, exitCode: code }, null, 2));
    return code;
  };
  const refuseStrict = (warnings: number): number => {
    console.error(`meshfed: --strict: ${warnings} warning(s) (above); nothing was written, ${opts.outDir}/ is unchanged.`);
    return 1;
  };
  // Everything printed before the summary, for the stamp to replay on an unchanged re-run.
  const messages: string[] = [];
  const say = (line: string) => {
    messages.push(line);
    console.error(line);
  };
  // Set once the new tree is in place: from then on a failure must not read as "nothing was written".
  let written: TreeChanges | undefined;
  try {
    // --check writes nothing; anything else may replace only a folder synth wrote (lib/write/out-dir.ts).
    const refusal = parsed.values.check
      ? undefined
      : outDirRefusal('synth', opts.outDir, {
          option: parsed.values.out === undefined ? 'the output folder' : '--out',
          input: opts.clustersDir,
        });
    if (refusal) {
      report.errors = [{ severity: 'error', location: { file: opts.outDir }, message: refusal }];
      console.error(`meshfed: ${refusal}`);
      return done(2);
    }
    const timings: Timings = {};
    const input = timed(timings, 'stamp', () => inputHash(opts.clustersDir));
    const stamp = timed(timings, 'stamp', () => currentStamp(opts.clustersDir, opts.outDir, input, env));
    if (stamp) {
      for (const l of stamp.messages) console.error(l);
      // The first run's report, as --json printed it then; this run wrote nothing.
      const { files, ...same } = stamp.report;
      Object.assign(report, same, { files: { total: files, added: [], changed: [], removed: [], unchanged: files } });
      report.unchanged = true;
      if (parsed.values.strict && stamp.warnings) return done(refuseStrict(stamp.warnings));
      console.error(
        parsed.values.check
          ? `meshfed: ${opts.outDir}/ is up to date (input, meshfed and ${opts.outDir}/ as the last synth left them).`
          : `${stamp.summary}\nmeshfed: input, meshfed and ${opts.outDir}/ are as the last synth left them: ` +
              'nothing rendered, nothing written (MESHFED_CACHE=0 renders anyway).',
      );
      return done(0);
    }
    const before = timed(timings, 'compare', () => previousPlan(opts.outDir));
    const pointers = Object.fromEntries(
      Object.entries(before?.clusters ?? {}).map(([c, v]) => [c, String((v as { current?: string }).current ?? '')]),
    );
    const result = synthesize(opts.clustersDir, timings, env, PARALLEL_MIN_OBJECTS, pointers);
    const shown = result.findings.filter((f) => !f.acknowledged);
    Object.assign(report, {
      warnings: result.diagnostics.shownWarnings,
      findings: shown,
      notes: result.notes,
      clusters: clustersReport(result.plan),
    });
    for (const w of result.diagnostics.shownWarnings) say(formatDiagnostic(w));
    for (const f of shown) say(formatFinding(f));
    const warnings = result.diagnostics.shownWarnings.length + shown.length;
    if (parsed.values.strict && warnings) return done(refuseStrict(warnings));
    if (parsed.values.check) {
      const d = treeDiff(opts.outDir, result.files);
      report.stale = d;
      return done(checkTree(opts.outDir, result.files.size, d));
    }
    const allowRemovals = parsed.values['allow-removals'] || env.MESHFED_ALLOW_REMOVALS === '1';
    if (before) {
      const next = JSON.parse(result.files.get('plan.json')!) as PlanJsonView;
      const other = otherFederation(before, next);
      if (other && !allowRemovals) {
        console.error(anotherFederation(opts, other));
        return done(1);
      }
      const changes = timed(timings, 'compare', () => compareRenders(before, next));
      // Not replayed: an unchanged re-run changes nothing.
      for (const l of describeChanges(changes)) console.error(l);
      const refused = changes.filter((c) => c.needsConfirmation.length);
      if (refused.length && !allowRemovals) {
        console.error(
          `meshfed: refused: GitOps would delete what runs on ${refused.map((c) => c.cluster).join(', ')} (above). ` +
            `If that is intended, run again with --allow-removals (CI: MESHFED_ALLOW_REMOVALS=1); nothing was written, ${opts.outDir}/ is unchanged.`,
        );
        return done(1);
      }
    }
    const changes = timed(timings, 'write', () => writeTreeAtomically(opts.outDir, result.files));
    written = changes;
    report.files = { total: result.files.size, ...changes };
    const lines = summary(result, opts.outDir, changes);
    timed(timings, 'stamp', () =>
      saveStamp(
        opts.clustersDir,
        opts.outDir,
        {
          input: input ?? '',
          output: filesHash(result.files),
          messages,
          warnings,
          summary: summary(result, opts.outDir, { added: [], changed: [], removed: [], unchanged: result.files.size }).join('\n'),
          report: {
            clusters: report.clusters!,
            warnings: report.warnings,
            findings: report.findings,
            notes: report.notes,
            files: result.files.size,
          },
        },
        env,
      ),
    );
    if (env.MESHFED_TIMING) {
      const rss = Math.round(process.resourceUsage().maxRSS / 1024);
      console.error(
        `meshfed: timings (ms): ${Object.entries(timings)
          .map(([k, v]) => `${k} ${Math.round(v)}`)
          .join(', ')}; peak RSS ${rss} MB`,
      );
    }
    // stderr: `cdk8s synth` captures the app's stdout.
    for (const l of lines) console.error(l);
    return done(0);
  } catch (e) {
    if (e instanceof InputError) {
      report.errors = e.diagnostics.filter((d) => d.severity === 'error');
      report.warnings = e.diagnostics.filter((d) => d.severity === 'warning');
      for (const d of e.diagnostics) console.error(formatDiagnostic(d));
      console.error(
        `meshfed: ${e.diagnostics.filter((d) => d.severity === 'error').length} error(s); nothing was written, ${opts.outDir}/ is unchanged.`,
      );
      return done(1);
    }
    console.error(
      written
        ? `meshfed: internal error after ${opts.outDir}/ was written: ${(e as Error).message}\n` +
            `meshfed: ${opts.outDir}/ was written (${written.added.length} new, ${written.changed.length} changed, ` +
            `${written.removed.length} removed) and is complete: it is what the input renders.`
        : `meshfed: internal error: ${(e as Error).message}`,
    );
    if (env.MESHFED_DEBUG) console.error((e as Error).stack);
    else console.error('meshfed: this is a bug; run again with MESHFED_DEBUG=1 for details and report it.');
    return done(3);
  }
}

/** The scratch folder cdk8s.yaml gives cdk8s (`output:`); meshfed writes dist/ itself. */
export const CDK8S_SCRATCH = '.cdk8s.out';

/**
 * Under `cdk8s synth`: cdk8s expects the app to create its output folder, and deletes that folder before
 * it runs the app (cdk8s-cli synth): `cdk8s synth -o DIR` has emptied DIR by the time meshfed runs, so
 * meshfed refuses it rather than render into a folder whose previous content is already gone. Returns the
 * exit code of a refusal (docs/output.md, "How synth writes dist/").
 */
export function ensureCdk8sOutdir(env: NodeJS.ProcessEnv = process.env): number | undefined {
  if (!env.CDK8S_OUTDIR) return undefined;
  if (path.resolve(env.CDK8S_OUTDIR) !== path.resolve(CDK8S_SCRATCH)) {
    console.error(
      `meshfed: cdk8s synth -o ${env.CDK8S_OUTDIR} is not supported: cdk8s deletes that folder before meshfed runs ` +
        '(so an input error could not leave a previous render in place). Run npm run synth -- --out DIR, ' +
        'or MESHFED_OUT=DIR npx cdk8s synth.',
    );
    return 2;
  }
  fs.mkdirSync(env.CDK8S_OUTDIR, { recursive: true });
  return undefined;
}
