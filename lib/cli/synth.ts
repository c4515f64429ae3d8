import * as fs from 'fs';
import * as path from 'path';

import { runChecks } from '../check';
import { parseCommand } from './args';
import { Finding, findingDiagnostic, formatFinding } from '../check/finding';
import { Diagnostics, formatDiagnostic, InputError } from '../diagnostics';
import { GitOpsSettings, loadGitOps } from '../load/gitops';
import { loadInput } from '../load/input';
import { buildModel } from '../model/federation';
import { FederationModel } from '../model/types';
import { deliveries } from '../plan/delivery';
import { buildPlan } from '../plan/plan';
import { checkPointers } from '../plan/pointers';
import { compareRenders, describeChanges, PlanJsonView } from '../plan/removals';
import { Plan } from '../plan/types';
import { treeDiff, writeTreeAtomically } from '../write/atomic';
import { renderBundles } from '../write/bundles';
import { renderArgoCd, renderFlux } from '../write/gitops';
import { renderCluster, renderDist } from '../write/overlays';
import { planJson } from '../write/plan-json';
import { PARALLEL_MIN_OBJECTS, RenderWorker, workerClusters } from '../write/render-worker';
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
  const diags = new Diagnostics();
  const clusters = timed(timings, 'load', () => loadInput(clustersDir, diags));
  const gitops = timed(timings, 'load', () => loadGitOps(clustersDir, diags));
  const model = timed(timings, 'model', () => buildModel(clusters, diags));
  const plan = timed(timings, 'plan', () => buildPlan(model, diags));
  timed(timings, 'plan', () => checkPointers(plan, model, diags, previousPointers));
  diags.throwIfErrors();
  // Large federations render part of their clusters on a second thread, started before the checks run.
  const offload = workerClusters(plan, env, parallelMinObjects);
  const worker = offload.length ? timed(timings, 'render', () => new RenderWorker(plan, offload)) : undefined;
  try {
    const findings = timed(timings, 'check', () => runChecks(model, plan));
    const errors = findings.filter((f) => f.severity === 'error');
    // The warnings go along: they often say why a finding is an error.
    if (errors.length) throw new InputError([...diags.warnings, ...errors.map(findingDiagnostic)]);
    const relative = (f: string) => path.relative(clustersDir, f).split(path.sep).join('/');
    const json = planJson(plan, diags.warnings, findings, relative);
    const mine = timed(
      timings,
      'render',
      () => new Map(plan.local.filter((c) => !offload.includes(c)).map((c) => [c, renderCluster(plan.byCluster[c])])),
    );
    const theirs = timed(timings, 'wait', () => worker?.result() ?? []);
    const files = timed(timings, 'render', () => renderDist(plan, json, new Map([...mine, ...theirs])));
    return finish({ clustersDir, timings, model, plan, findings, files, diags, gitops });
  } catch (e) {
    worker?.cancel();
    throw e;
  }
}

interface Rendered {
  readonly clustersDir: string;
  readonly timings: Timings;
  readonly model: FederationModel;
  readonly plan: Plan;
  readonly findings: Finding[];
  readonly files: Map<string, string>;
  readonly diags: Diagnostics;
  readonly gitops: GitOpsSettings | undefined;
}

/** The files that span clusters: runbook, peer bundles, Argo CD and Flux objects. */
function finish({ clustersDir, timings, model, plan, findings, files, diags, gitops }: Rendered): SynthResult {
  const greenfield = plan.phases[0] === 'multicluster';
  timed(timings, 'runbook', () => files.set('README.md', greenfield ? renderGreenfieldRunbook(model, plan) : renderRunbook(model, plan)));
  // One runbook per migrating cluster, for whoever is on call for it.
  if (!greenfield)
    timed(timings, 'runbook', () => plan.local.forEach((c) => files.set(`${c}/RUNBOOK.md`, renderClusterRunbook(model, plan, c))));
  // Bundles describe a migrating peer (its phase, its federation); greenfield peers share one clusters/ folder.
  if (!greenfield) for (const [f, c] of renderBundles(model, plan, plan.local)) files.set(f, c);
  const notes: string[] = [];
  if (gitops) {
    const d = deliveries(model, plan, gitops);
    for (const [f, c] of [...renderArgoCd(gitops, d), ...renderFlux(gitops, d)]) files.set(f, c);
  } else {
    notes.push(`no ${clustersDir}/gitops.yaml: dist/argocd and dist/flux are not written (docs/gitops.md).`);
  }
  return { plan, findings, files, diagnostics: diags, notes };
}

function summary(result: SynthResult, outDir: string): string[] {
  const lines: string[] = [];
  const { plan } = result;
  const written = plan.local.reduce((n, c) => n + plan.byCluster[c].filter((p) => p.blockedBy.length === 0).length, 0);
  lines.push(`meshfed: ${plan.local.length} cluster(s), ${written} phase overlay(s), ${result.files.size} file(s) written to ${outDir}/`);
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
  --out DIR          output folder (default: dist, or $MESHFED_OUT)
  --allow-removals   write even when a cluster's current desired state loses objects without its
                     pointer moving, a cluster disappears, or a pointer moves more than one phase
                     (default: refuse; $MESHFED_ALLOW_REMOVALS=1 for CI)
  --check            write nothing; exit 1, listing the files, when DIR is not what the input renders
                     (for CI: a committed dist/ that is stale)
  --strict           warnings (not acknowledged in spec.acknowledge) fail the run like errors`;

/** --check: is `outDir` exactly what the input renders? */
function checkTree(outDir: string, files: Map<string, string>): number {
  const d = treeDiff(outDir, files);
  const n = d.added.length + d.changed.length + d.removed.length;
  if (n === 0) {
    console.error(`meshfed: ${outDir}/ is up to date (${files.size} file(s)).`);
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

/** The `synth` command; returns the process exit code (0 ok, 1 input error, 2 usage error). */
export function runSynth(argv: string[], env: NodeJS.ProcessEnv = process.env): number {
  const parsed = parseCommand<{ clusters?: string; out?: string; 'allow-removals'?: boolean; check?: boolean; strict?: boolean }>(
    argv,
    {
      clusters: { type: 'string' },
      out: { type: 'string' },
      'allow-removals': { type: 'boolean' },
      check: { type: 'boolean' },
      strict: { type: 'boolean' },
    },
    USAGE,
  );
  if ('exit' in parsed) return parsed.exit;
  const opts: SynthOptions = {
    clustersDir: parsed.values.clusters ?? env.MESHFED_CLUSTERS ?? 'clusters',
    outDir: parsed.values.out ?? env.MESHFED_OUT ?? 'dist',
  };
  try {
    const timings: Timings = {};
    const before = previousPlan(opts.outDir);
    const pointers = Object.fromEntries(
      Object.entries(before?.clusters ?? {}).map(([c, v]) => [c, String((v as { current?: string }).current ?? '')]),
    );
    const result = synthesize(opts.clustersDir, timings, env, PARALLEL_MIN_OBJECTS, pointers);
    for (const w of result.diagnostics.warnings) console.error(formatDiagnostic(w));
    const shown = result.findings.filter((f) => !f.acknowledged);
    for (const f of shown) console.error(formatFinding(f));
    const warnings = result.diagnostics.warnings.length + shown.length;
    if (parsed.values.strict && warnings) {
      console.error(`meshfed: --strict: ${warnings} warning(s) (above); nothing was written, ${opts.outDir}/ is unchanged.`);
      return 1;
    }
    if (parsed.values.check) return checkTree(opts.outDir, result.files);
    const previous = before;
    if (previous) {
      const changes = compareRenders(previous, JSON.parse(result.files.get('plan.json')!) as PlanJsonView);
      for (const l of describeChanges(changes)) console.error(l);
      const refused = changes.filter((c) => c.needsConfirmation.length);
      if (refused.length && !parsed.values['allow-removals'] && env.MESHFED_ALLOW_REMOVALS !== '1') {
        console.error(
          `meshfed: refused: GitOps would delete what runs on ${refused.map((c) => c.cluster).join(', ')} (above). ` +
            `If that is intended, run again with --allow-removals (CI: MESHFED_ALLOW_REMOVALS=1); nothing was written, ${opts.outDir}/ is unchanged.`,
        );
        return 1;
      }
    }
    timed(timings, 'write', () => writeTreeAtomically(opts.outDir, result.files));
    if (env.MESHFED_TIMING) {
      const rss = Math.round(process.resourceUsage().maxRSS / 1024);
      console.error(
        `meshfed: timings (ms): ${Object.entries(timings)
          .map(([k, v]) => `${k} ${Math.round(v)}`)
          .join(', ')}; peak RSS ${rss} MB`,
      );
    }
    // stderr: `cdk8s synth` captures the app's stdout.
    for (const l of summary(result, opts.outDir)) console.error(l);
    return 0;
  } catch (e) {
    if (e instanceof InputError) {
      for (const d of e.diagnostics) console.error(formatDiagnostic(d));
      console.error(
        `meshfed: ${e.diagnostics.filter((d) => d.severity === 'error').length} error(s); nothing was written, ${opts.outDir}/ is unchanged.`,
      );
      return 1;
    }
    console.error(`meshfed: internal error: ${(e as Error).message}`);
    if (env.MESHFED_DEBUG) console.error((e as Error).stack);
    else console.error('meshfed: this is a bug; run again with MESHFED_DEBUG=1 for details and report it.');
    return 3;
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
