import * as fs from 'fs';
import * as path from 'path';

import { parseCommand } from './args';
import { currentStamp, filesHash, inputHash, saveStamp, StampReport } from './synth-memo';
import { Finding, formatFinding } from '../check/finding';
import { Diagnostic, formatDiagnostic, InputError } from '../diagnostics';
import { formatRehearsal } from './rehearse';
import { rehearseRender, SYNTH_REHEARSAL_MAX_OBJECTS } from '../pipeline/rehearse';
import { render, RenderResult, timed, Timings } from '../pipeline/render';
import { Plan } from '../plan/types';
import { RehearsalFinding } from '../twin/rehearse';
import { TreeChanges, treeDiff, writeTreeAtomically } from '../write/atomic';
import { outDirRefusal } from '../write/out-dir';
import { FolderRenderer } from '../write/overlays';
import { PreviousPlanJson } from '../write/plan-json';
import { compareRenders, describeChanges, otherFederation } from '../write/removal-guard';

export interface SynthOptions {
  readonly clustersDir: string;
  readonly outDir: string;
}

function summary(result: RenderResult, outDir: string, changes: TreeChanges): string[] {
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
  --skip-rehearsal   write without rehearsing each cluster's current and next move on the twin of
                     Argo CD, Flux and the operators ($MESHFED_REHEARSE=0; for a twin that is wrong)

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
function previousPlan(outDir: string): PreviousPlanJson | undefined {
  const file = path.join(outDir, 'plan.json');
  if (!fs.existsSync(file)) return undefined;
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as PreviousPlanJson;
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
  /** What the rehearsal twin replayed and found (docs/gitops.md, "The rehearsal twin"). */
  rehearsal?: { moves: number; findings: RehearsalFinding[] };
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

export interface SynthFlags {
  readonly allowRemovals: boolean;
  readonly check: boolean;
  readonly strict: boolean;
  readonly json: boolean;
  readonly skipRehearsal: boolean;
  /** Whether --out was given (the refusal names the option). */
  readonly outGiven: boolean;
}

/**
 * One `synth` run: the refusals, the stamp, the render, the removal guard, the write. Each step returns an
 * exit code when it ends the run, undefined to go on. `meshfed synth` runs it with meshfed's constructs alone; a
 * cdk8s app's Federation (lib/federation/) with a renderer that adds the app's objects and applies its Aspects.
 */
export class SynthRun {
  readonly report: SynthReport;
  readonly timings: Timings = {};
  /** Everything printed before the summary, for the stamp to replay on an unchanged re-run. */
  private readonly messages: string[] = [];
  /** Set once the new tree is in place: from then on a failure must not read as "nothing was written". */
  private written?: TreeChanges;

  constructor(
    private readonly opts: SynthOptions,
    private readonly flags: SynthFlags,
    private readonly env: NodeJS.ProcessEnv,
    private readonly renderer?: FolderRenderer,
  ) {
    this.report = { ok: false, exitCode: 0, outDir: opts.outDir, warnings: [], findings: [], errors: [], notes: [] };
  }

  exec(): number {
    try {
      const refused = this.refuseOutDir();
      if (refused !== undefined) return refused;
      const input = timed(this.timings, 'stamp', () => inputHash(this.opts.clustersDir));
      // An app's objects and Aspects are code the stamp does not hash: a Federation that has any always renders.
      const replayed = this.renderer ? undefined : this.replayStamp(input);
      if (replayed !== undefined) return replayed;
      const before = timed(this.timings, 'compare', () => previousPlan(this.opts.outDir));
      const result = render(this.opts.clustersDir, {
        timings: this.timings,
        threads: this.env.MESHFED_THREADS === '1' ? 1 : 'auto',
        previousPointers: pointersOf(before),
        renderer: this.renderer,
      });
      const warnings = this.reportResult(result);
      if (this.flags.strict && warnings) return this.done(this.refuseStrict(warnings));
      const rehearsed = this.rehearse(result);
      if (rehearsed !== undefined) return rehearsed;
      if (this.flags.check) {
        const d = treeDiff(this.opts.outDir, result.files);
        this.report.stale = d;
        return this.done(checkTree(this.opts.outDir, result.files.size, d));
      }
      const guarded = this.guardRemovals(before, result);
      if (guarded !== undefined) return guarded;
      return this.writeAndStamp(result, input, warnings);
    } catch (e) {
      return this.failed(e);
    }
  }

  done(code: number): number {
    if (this.flags.json) console.log(JSON.stringify({ ...this.report, ok: code === 0, exitCode: code }, null, 2));
    return code;
  }

  private say(line: string): void {
    this.messages.push(line);
    console.error(line);
  }

  private refuseStrict(warnings: number): number {
    console.error(`meshfed: --strict: ${warnings} warning(s) (above); nothing was written, ${this.opts.outDir}/ is unchanged.`);
    return 1;
  }

  /** --check writes nothing; anything else may replace only a folder synth wrote (lib/write/out-dir.ts). */
  private refuseOutDir(): number | undefined {
    if (this.flags.check) return undefined;
    const refusal = outDirRefusal('synth', this.opts.outDir, {
      option: this.flags.outGiven ? '--out' : 'the output folder',
      input: this.opts.clustersDir,
    });
    if (!refusal) return undefined;
    this.report.errors = [{ severity: 'error', location: { file: this.opts.outDir }, message: refusal }];
    console.error(`meshfed: ${refusal}`);
    return this.done(2);
  }

  /** Input, meshfed and the output as the last synth left them: replay its messages and report, render nothing. */
  private replayStamp(input: string | undefined): number | undefined {
    const stamp = timed(this.timings, 'stamp', () => currentStamp(this.opts.clustersDir, this.opts.outDir, input, this.env));
    if (!stamp) return undefined;
    for (const l of stamp.messages) console.error(l);
    // The first run's report, as --json printed it then; this run wrote nothing.
    const { files, ...same } = stamp.report;
    Object.assign(this.report, same, { files: { total: files, added: [], changed: [], removed: [], unchanged: files } });
    this.report.unchanged = true;
    if (this.flags.strict && stamp.warnings) return this.done(this.refuseStrict(stamp.warnings));
    const out = this.opts.outDir;
    console.error(
      this.flags.check
        ? `meshfed: ${out}/ is up to date (input, meshfed and ${out}/ as the last synth left them).`
        : `${stamp.summary}\nmeshfed: input, meshfed and ${out}/ are as the last synth left them: ` +
            'nothing rendered, nothing written (MESHFED_CACHE=0 renders anyway).',
    );
    return this.done(0);
  }

  /** Print the warnings and findings; the number --strict counts. */
  private reportResult(result: RenderResult): number {
    const shown = result.findings.filter((f) => !f.acknowledged);
    Object.assign(this.report, {
      warnings: result.diagnostics.shownWarnings,
      findings: shown,
      notes: result.notes,
      clusters: clustersReport(result.plan),
    });
    for (const w of result.diagnostics.shownWarnings) this.say(formatDiagnostic(w));
    for (const f of shown) this.say(formatFinding(f));
    return result.diagnostics.shownWarnings.length + shown.length;
  }

  /**
   * The rehearsal twin replays each cluster's move into its pointer and its next move, with their rollbacks
   * (lib/pipeline/rehearse.ts): a render that one of them fails, hangs on, or loses what runs with is not written.
   */
  private rehearse(result: RenderResult): number | undefined {
    if (this.flags.skipRehearsal) {
      this.say('meshfed: --skip-rehearsal: the moves of this render were not rehearsed (docs/gitops.md, "The rehearsal twin").');
      return undefined;
    }
    const report = timed(this.timings, 'rehearse', () =>
      rehearseRender(result, this.opts.clustersDir, { moves: 'current', maxObjects: SYNTH_REHEARSAL_MAX_OBJECTS }),
    );
    this.report.rehearsal = { moves: report.moves.length, findings: report.findings };
    if (report.skipped.length)
      this.say(
        `meshfed: not rehearsed here (over ${SYNTH_REHEARSAL_MAX_OBJECTS} planned objects): ` +
          `${report.skipped.map((s) => `${s.cluster} (${s.objects})`).join(', ')}; run meshfed rehearse for them (CI: after synth).`,
      );
    if (!report.findings.length) return undefined;
    for (const l of formatRehearsal(report)) console.error(l);
    console.error(
      `meshfed: the rehearsal twin fails ${new Set(report.findings.map((f) => `${f.cluster} ${f.engine} ${f.scenario} ${f.move}`)).size} ` +
        `move(s) of this render (above); nothing was written, ${this.opts.outDir}/ is unchanged. meshfed rehearse replays them all; ` +
        '--skip-rehearsal writes anyway (for a twin that is wrong: report it).',
    );
    return this.done(1);
  }

  /** Refuse a render that makes GitOps delete what runs, or that belongs to another federation, unless allowed. */
  private guardRemovals(before: PreviousPlanJson | undefined, result: RenderResult): number | undefined {
    if (!before) return undefined;
    const allow = this.flags.allowRemovals;
    const next = JSON.parse(result.files.get('plan.json')!) as PreviousPlanJson;
    const other = otherFederation(before, next);
    if (other && !allow) {
      console.error(anotherFederation(this.opts, other));
      return this.done(1);
    }
    const changes = timed(this.timings, 'compare', () => compareRenders(before, next));
    // Not replayed: an unchanged re-run changes nothing.
    for (const l of describeChanges(changes)) console.error(l);
    const refused = changes.filter((c) => c.needsConfirmation.length);
    if (!refused.length || allow) return undefined;
    console.error(
      `meshfed: refused: GitOps would delete what runs on ${refused.map((c) => c.cluster).join(', ')} (above). ` +
        `If that is intended, run again with --allow-removals (CI: MESHFED_ALLOW_REMOVALS=1); nothing was written, ` +
        `${this.opts.outDir}/ is unchanged.`,
    );
    return this.done(1);
  }

  private writeAndStamp(result: RenderResult, input: string | undefined, warnings: number): number {
    const changes = timed(this.timings, 'write', () => writeTreeAtomically(this.opts.outDir, result.files));
    this.written = changes;
    this.report.files = { total: result.files.size, ...changes };
    const lines = summary(result, this.opts.outDir, changes);
    // No stamp for an app's render: `meshfed synth` on the same input must not take the app's dist/ for its own.
    if (!this.renderer) this.stamp(result, input, warnings);
    if (this.env.MESHFED_TIMING) {
      const rss = Math.round(process.resourceUsage().maxRSS / 1024);
      const stages = Object.entries(this.timings).map(([k, v]) => `${k} ${Math.round(v)}`);
      console.error(`meshfed: timings (ms): ${stages.join(', ')}; peak RSS ${rss} MB`);
    }
    // stderr: `cdk8s synth` captures the app's stdout.
    for (const l of lines) console.error(l);
    return this.done(0);
  }

  private stamp(result: RenderResult, input: string | undefined, warnings: number): void {
    timed(this.timings, 'stamp', () =>
      saveStamp(
        this.opts.clustersDir,
        this.opts.outDir,
        {
          input: input ?? '',
          output: filesHash(result.files),
          messages: this.messages,
          warnings,
          summary: summary(result, this.opts.outDir, { added: [], changed: [], removed: [], unchanged: result.files.size }).join('\n'),
          report: {
            clusters: this.report.clusters!,
            warnings: this.report.warnings,
            findings: this.report.findings,
            notes: this.report.notes,
            files: result.files.size,
            ...(this.report.rehearsal ? { rehearsal: this.report.rehearsal } : {}),
          },
        },
        this.env,
      ),
    );
  }

  private failed(e: unknown): number {
    const out = this.opts.outDir;
    if (e instanceof InputError) {
      this.report.errors = e.diagnostics.filter((d) => d.severity === 'error');
      this.report.warnings = e.diagnostics.filter((d) => d.severity === 'warning');
      for (const d of e.diagnostics) console.error(formatDiagnostic(d));
      console.error(`meshfed: ${this.report.errors.length} error(s); nothing was written, ${out}/ is unchanged.`);
      return this.done(1);
    }
    const w = this.written;
    console.error(
      w
        ? `meshfed: internal error after ${out}/ was written: ${(e as Error).message}\n` +
            `meshfed: ${out}/ was written (${w.added.length} new, ${w.changed.length} changed, ` +
            `${w.removed.length} removed) and is complete: it is what the input renders.`
        : `meshfed: internal error: ${(e as Error).message}`,
    );
    if (this.env.MESHFED_DEBUG) console.error((e as Error).stack);
    else console.error('meshfed: this is a bug; run again with MESHFED_DEBUG=1 for details and report it.');
    return this.done(3);
  }
}

/** The pointers the previous render was at (its plan.json). */
function pointersOf(before: PreviousPlanJson | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(before?.clusters ?? {}).map(([c, v]) => [c, String(v.current ?? '')]));
}

/** The `synth` command; returns the process exit code (0 ok, 1 input error, 2 usage error, 3 bug). */
export function runSynth(argv: string[], env: NodeJS.ProcessEnv = process.env): number {
  const parsed = synthArguments(argv, env);
  return 'exit' in parsed ? parsed.exit : new SynthRun(parsed.opts, parsed.flags, env).exec();
}

/** `synth`'s arguments (and the variables that stand for them), or the exit code of `--help` or a usage error. */
export function synthArguments(
  argv: string[],
  env: NodeJS.ProcessEnv = process.env,
): { exit: number } | { opts: SynthOptions; flags: SynthFlags } {
  const parsed = parseCommand<{
    clusters?: string;
    out?: string;
    'allow-removals'?: boolean;
    check?: boolean;
    strict?: boolean;
    json?: boolean;
    'skip-rehearsal'?: boolean;
  }>(
    argv,
    {
      clusters: { type: 'string' },
      out: { type: 'string' },
      'allow-removals': { type: 'boolean' },
      check: { type: 'boolean' },
      strict: { type: 'boolean' },
      json: { type: 'boolean' },
      'skip-rehearsal': { type: 'boolean' },
    },
    USAGE,
  );
  if ('exit' in parsed) return { exit: parsed.exit };
  const v = parsed.values;
  const opts: SynthOptions = { clustersDir: v.clusters ?? env.MESHFED_CLUSTERS ?? 'clusters', outDir: v.out ?? env.MESHFED_OUT ?? 'dist' };
  const flags: SynthFlags = {
    allowRemovals: Boolean(v['allow-removals']) || env.MESHFED_ALLOW_REMOVALS === '1',
    check: Boolean(v.check),
    strict: Boolean(v.strict),
    json: Boolean(v.json),
    skipRehearsal: Boolean(v['skip-rehearsal']) || env.MESHFED_REHEARSE === '0',
    outGiven: v.out !== undefined,
  };
  return { opts, flags };
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
