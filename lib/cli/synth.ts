import * as fs from 'fs';
import * as path from 'path';
import * as v8 from 'v8';

import { parseCommand } from './args';
import { nothingCompared, PreviousRender, readPreviousRender } from './previous-render';
import { currentStamp, filesHash, inputHash, saveStamp, StampReport } from './synth-memo';
import { Finding } from '../check/finding';
import { Diagnostic, formatDiagnostic, InputError, WarningDiagnostic } from '../diagnostics';
import { formatRehearsal } from './rehearse';
import { warningLines } from './warnings';
import { Declaration } from '../load/declared';
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
  /** The clusters folder; with a declaration, the folder the output may not be (the working folder). */
  readonly clustersDir: string;
  readonly outDir: string;
  /** A federation declared in code (a cdk8s app's Mesh constructs): rendered instead of the clusters folder. */
  readonly declaration?: Declaration;
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

const USAGE = `usage: meshfed synth [--clusters DIR] [--out DIR] [--allow-removals] [--confirm-rollback CLUSTER]
                     [--confirm-address-change EXPORTER] [--check] [--strict] [--verbose]

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
  --confirm-rollback CLUSTER
                     write CLUSTER's pointer moving back from 03-import or a later phase (default:
                     refuse, saying what the rollback does); repeatable ($MESHFED_CONFIRM_ROLLBACK=a,b)
  --confirm-address-change EXPORTER
                     write EXPORTER's new east-west address while clusters importing from it are at
                     03-import or later (default: refuse, naming them); repeatable
                     ($MESHFED_CONFIRM_ADDRESS_CHANGE=a,b)
  --check            write nothing; exit 1, listing the files, when DIR is not what the input renders
                     (for CI: a committed dist/ that is stale)
  --strict           warnings (not acknowledged in spec.acknowledge) fail the run like errors
  --json             the result on stdout as JSON (clusters, files, warnings, findings, errors);
                     messages stay on stderr
  --verbose          print every warning and finding; without it a rule that fires more than once
                     in a cluster prints one line (how often, the first locations; dist/plan.json and
                     --json list every one)
  --skip-rehearsal   write without rehearsing each cluster's current and next move on the twin of
                     Argo CD, Flux and the operators ($MESHFED_REHEARSE=0; for a twin that is wrong)

A re-run on unchanged input (same files, same meshfed, DIR as the last synth wrote it) renders nothing
and prints the same warnings; --json reports what the first run did, with "unchanged": true
(MESHFED_CACHE=0: render anyway).

The previous render is DIR/plan.json; when DIR or its plan.json is gone and DIR is in a Git work
tree, the committed one (git show HEAD:DIR/plan.json): the pointer rules, the confirmations and the
removal guard compare with it. With neither, the summary says nothing was compared.`;

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

/**
 * The refusal when the output folder holds the render of clusters none of which is in the input: most
 * often the bundled example's dist/ in a copy of the template whose clusters/ the user replaced.
 */
function anotherFederation(opts: SynthOptions, clusters: string[]): string {
  const names = clusters.join(', ');
  const input = opts.declaration ? opts.declaration.path : `${opts.clustersDir}/`;
  return (
    `meshfed: refused: ${opts.outDir}/ holds the render of another federation (${names}), none of whose clusters is in ` +
    `${input} now. If you replaced the bundled example (or another federation's clusters) with yours, delete that ` +
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
  /** Where the previous render compared with was read (`dist/plan.json`, `git show HEAD:dist/plan.json`); null: none found. */
  previousRender?: string | null;
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
  readonly verbose: boolean;
  readonly skipRehearsal: boolean;
  /** Clusters whose rollback from 03-import on is confirmed (--confirm-rollback, MESHFED_CONFIRM_ROLLBACK). */
  readonly confirmRollbacks: string[];
  /** Exporters whose east-west address change is confirmed (--confirm-address-change, MESHFED_CONFIRM_ADDRESS_CHANGE). */
  readonly confirmAddressChanges: string[];
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
    limitHeapGrowth();
    try {
      const refused = this.refuseOutDir();
      if (refused !== undefined) return refused;
      // A declaration, an app's objects and Aspects are code the stamp does not hash: a Federation with any always renders.
      const { declaration } = this.opts;
      const input = declaration ? undefined : timed(this.timings, 'stamp', () => inputHash(this.opts.clustersDir));
      const replayed = this.renderer || declaration ? undefined : this.replayStamp(input);
      if (replayed !== undefined) return replayed;
      const before = timed(this.timings, 'compare', () => this.previousRender());
      const result = render(declaration ?? this.opts.clustersDir, {
        timings: this.timings,
        previousPointers: pointersOf(before.plan),
        previousEastWest: before.plan?.eastWestAddresses,
        confirmed: { rollbacks: this.flags.confirmRollbacks, addressChanges: this.flags.confirmAddressChanges },
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
      return this.writeAndStamp(result, input, warnings, nothingCompared(this.opts.outDir, before));
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
    // A declaration's input folders are the inventory folders its Meshes name (none: only the other checks).
    const { declaration } = this.opts;
    const inventories = declaration?.clusters.flatMap((c) =>
      c.inventory === undefined ? [] : [{ input: c.inventory, inputName: `the inventory of Mesh ${c.path}: ${c.inventory}` }],
    );
    const inputs = inventories ? (inventories.length ? inventories : [{}]) : [{ input: this.opts.clustersDir }];
    const option = this.flags.outGiven ? '--out' : 'the output folder';
    const refusal = inputs.map((i) => outDirRefusal('synth', this.opts.outDir, { option, ...i })).find((r) => r !== undefined);
    if (!refusal) return undefined;
    this.report.errors = [{ severity: 'error', location: { file: this.opts.outDir }, message: refusal }];
    console.error(`meshfed: ${refusal}`);
    return this.done(2);
  }

  /**
   * The render this one is compared with (lib/cli/previous-render.ts); says so when it is the committed one.
   * The line is not among the stamp's messages: a re-run that replays the stamp has the render the first run wrote.
   */
  private previousRender(): PreviousRender {
    const previous = readPreviousRender(this.opts.outDir);
    this.report.previousRender = previous.source ?? null;
    if (previous.committed)
      console.error(
        `meshfed: ${this.opts.outDir}/plan.json does not exist: comparing with the last committed render (${previous.source}).`,
      );
    return previous;
  }

  /** Input, meshfed and the output as the last synth left them: replay its messages and report, render nothing. */
  private replayStamp(input: string | undefined): number | undefined {
    const stamp = timed(this.timings, 'stamp', () => currentStamp(this.opts.clustersDir, this.opts.outDir, input, this.env));
    if (!stamp) return undefined;
    this.printWarnings(stamp.report.warnings as WarningDiagnostic[], stamp.report.findings);
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
    this.printWarnings(result.diagnostics.shownWarnings, shown);
    return result.diagnostics.shownWarnings.length + shown.length;
  }

  /** Warnings and findings, one line per rule and cluster unless --verbose (not in the stamp's messages: its report has them). */
  private printWarnings(warnings: readonly WarningDiagnostic[], findings: readonly Finding[]): void {
    const listed = this.flags.check ? '--json lists them' : `${this.opts.outDir}/plan.json and --json list them`;
    for (const l of warningLines(warnings, findings, { verbose: this.flags.verbose, listed })) console.error(l);
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
      rehearseRender(result, { moves: 'current', maxObjects: SYNTH_REHEARSAL_MAX_OBJECTS }),
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
  private guardRemovals(previous: PreviousRender, result: RenderResult): number | undefined {
    const before = previous.plan;
    if (!before) return undefined;
    const allow = this.flags.allowRemovals;
    const next = JSON.parse(result.files.get('plan.json')!) as PreviousPlanJson;
    const other = otherFederation(before, next);
    if (other && previous.committed) {
      // The refusal below says to delete that render: deleted, it is no earlier state of this federation.
      console.error(
        `meshfed: the last committed render (${previous.source}) is another federation's (${other.join(', ')}) and ` +
          `${this.opts.outDir}/ is gone: nothing to compare; commit the new render in its place.`,
      );
      return undefined;
    }
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

  /** `uncompared`: the summary's line when there was no previous render (not in the stamp: the next run has one). */
  private writeAndStamp(result: RenderResult, input: string | undefined, warnings: number, uncompared: string | undefined): number {
    const changes = timed(this.timings, 'write', () => writeTreeAtomically(this.opts.outDir, result.files));
    this.written = changes;
    this.report.files = { total: result.files.size, ...changes };
    const lines = [...summary(result, this.opts.outDir, changes), ...(uncompared ? [uncompared] : [])];
    // No stamp for an app's render: `meshfed synth` on the same input must not take the app's dist/ for its own.
    if (!this.renderer && !this.opts.declaration) this.stamp(result, input, warnings);
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
            previousRender: this.report.previousRender,
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
      // The warnings first (they often say why), then every error.
      this.printWarnings(this.report.warnings as WarningDiagnostic[], []);
      for (const d of this.report.errors) console.error(formatDiagnostic(d));
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

/**
 * How far V8 lets the old generation grow past what survived its last full collection before collecting again. Left
 * to itself it allows up to 4× on a machine with memory to spare (v8 src/heap/heap-controller.cc,
 * MemoryController::GrowingFactor and MaxGrowingFactor's kHighFactor: https://github.com/v8/v8/blob/main/src/heap/heap-controller.cc),
 * and a synth allocates far more than it keeps (each chart's constructs, each document's YAML): at 20 × 100 about
 * 280 MB survive and the process peaked at 980 MB. Growing by half at most, it peaks at 730 MB for 6% more CPU
 * (docs/benchmarks.md). The flag is read at every collection (the same function), so it applies from the next one,
 * on every thread; a `--heap-growing-percent` given to node (its arguments or NODE_OPTIONS) is left as it is.
 */
export const HEAP_GROWING_PERCENT = 50;

/** How synth sets V8 flags (v8.setFlagsFromString; a test records the call instead). */
export const v8Flags = { set: (flags: string): void => v8.setFlagsFromString(flags) };

export function limitHeapGrowth(
  given: readonly string[] = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)],
  setFlags: (flags: string) => void = v8Flags.set,
): void {
  if (given.some((a) => /^--heap[-_]growing[-_]percent\b/.test(a))) return;
  setFlags(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
}

/** The pointers the previous render was at (its plan.json). */
function pointersOf(before: PreviousPlanJson | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(before?.clusters ?? {}).map(([c, v]) => [c, String(v.current ?? '')]));
}

/** Cluster names from a repeatable option and its environment variable, each possibly a comma-separated list. */
function names(given: string[] | undefined, fromEnv: string | undefined): string[] {
  return [...(given ?? []), fromEnv ?? '']
    .flatMap((v) => v.split(','))
    .map((n) => n.trim())
    .filter(Boolean);
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
    verbose?: boolean;
    'skip-rehearsal'?: boolean;
    'confirm-rollback'?: string[];
    'confirm-address-change'?: string[];
  }>(
    argv,
    {
      clusters: { type: 'string' },
      out: { type: 'string' },
      'allow-removals': { type: 'boolean' },
      check: { type: 'boolean' },
      strict: { type: 'boolean' },
      json: { type: 'boolean' },
      verbose: { type: 'boolean' },
      'skip-rehearsal': { type: 'boolean' },
      'confirm-rollback': { type: 'string', multiple: true },
      'confirm-address-change': { type: 'string', multiple: true },
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
    verbose: Boolean(v.verbose),
    skipRehearsal: Boolean(v['skip-rehearsal']) || env.MESHFED_REHEARSE === '0',
    confirmRollbacks: names(v['confirm-rollback'], env.MESHFED_CONFIRM_ROLLBACK),
    confirmAddressChanges: names(v['confirm-address-change'], env.MESHFED_CONFIRM_ADDRESS_CHANGE),
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
