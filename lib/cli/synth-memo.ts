import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';

import { Finding } from '../check/finding';
import { Diagnostic } from '../diagnostics';
import { COMPILED, PACKAGE_ROOT } from '../package-root';
import { compareStrings } from '../sort';
import { RehearsalFinding } from '../twin/rehearse';
import { listFiles } from '../write/atomic';

/**
 * Synth is a pure function of its input folder and of meshfed itself: the same bytes in give the same
 * dist/ out. After a successful synth a stamp records a hash of both, a hash of what it wrote, and what
 * it printed. When the next synth finds the same input and code and dist/ still holding exactly what was
 * written, nothing can differ: it prints the same warnings and stops, without rendering again. Anything
 * else (an edited input, a changed dist/, another meshfed, a missing stamp) renders in full. Stamps live
 * outside dist/ (node_modules/.cache/meshfed/, one per input and output folder), so dist/ stays the same
 * on every machine; MESHFED_CACHE=0 turns them off.
 */
export interface Stamp {
  readonly input: string;
  readonly output: string;
  /** What the synth printed on stderr before its summary (warnings, findings, notes). */
  readonly messages: string[];
  /** Warnings and unacknowledged findings among them (for --strict). */
  readonly warnings: number;
  readonly summary: string;
  /** What `synth --json` reported, for an unchanged re-run to report the same. */
  readonly report: StampReport;
}

/** The parts of `synth --json`'s report a re-run that renders nothing repeats. */
export interface StampReport {
  readonly clusters: Record<string, { current: string; written: string[]; blocked: { phase: string; reasons: string[] }[] }>;
  readonly warnings: Diagnostic[];
  readonly findings: Finding[];
  readonly notes: string[];
  /** Where the render compared with was read; null when there was none (lib/cli/previous-render.ts). */
  readonly previousRender?: string | null;
  /** How many files the output folder holds. */
  readonly files: number;
  /** What the rehearsal replayed and found (absent when it was skipped). */
  readonly rehearsal?: { moves: number; findings: RehearsalFinding[] };
}

/**
 * What meshfed's output depends on besides the input: its code, generated classes, schemas and locked dependencies
 * (an installed package: its compiled code, which holds the generated classes, and its package.json).
 */
const CODE = COMPILED ? ['build', 'schema', 'package.json'] : ['lib', 'imports', 'schema', 'main.ts', 'package.json', 'package-lock.json'];

/** A hash of every file under `dir` (names and bytes), or of `dir` itself when it is a file; undefined when it does not exist. */
export function treeHash(dir: string, hash = createHash('sha256')): string | undefined {
  if (!fs.existsSync(dir)) return undefined;
  // Whole paths in listFiles' order, as filesHash sorts them ("a.yaml" before "a/b.yaml").
  for (const rel of fs.statSync(dir).isDirectory() ? listFiles(dir) : ['']) {
    hash.update(`${rel}\0`);
    hash.update(fs.readFileSync(rel ? path.join(dir, rel) : dir));
    hash.update('\0');
  }
  return hash.digest('hex');
}

let codeHash: string | undefined;

/** The input's hash: the folder's files, how it was named (hints print that path), and meshfed's own code. */
export function inputHash(clustersDir: string): string | undefined {
  if (!fs.existsSync(clustersDir)) return undefined;
  if (!codeHash) {
    const h = createHash('sha256');
    for (const c of CODE) h.update(`${c}\0${treeHash(path.join(PACKAGE_ROOT, c)) ?? '-'}\0`);
    codeHash = h.digest('hex');
  }
  return treeHash(clustersDir, createHash('sha256').update(`${codeHash}\0${clustersDir}\0`));
}

function stampFile(clustersDir: string, outDir: string, env: NodeJS.ProcessEnv): string | undefined {
  if (env.MESHFED_CACHE === '0') return undefined;
  const dir = env.MESHFED_CACHE_DIR ?? path.join(PACKAGE_ROOT, 'node_modules', '.cache', 'meshfed');
  const key = createHash('sha256')
    .update(`${path.resolve(clustersDir)}\0${path.resolve(outDir)}`)
    .digest('hex')
    .slice(0, 16);
  return path.join(dir, `synth-${key}.json`);
}

/** A hash of `files` (paths relative to their folder) equal to treeHash of a folder holding exactly them. */
export function filesHash(files: ReadonlyMap<string, string>): string {
  const hash = createHash('sha256');
  for (const rel of [...files.keys()].sort(compareStrings)) hash.update(`${rel}\0`).update(files.get(rel)!).update('\0');
  return hash.digest('hex');
}

/** The stamp of the last synth of this input into this output, if input, code and output are still as it left them. */
export function currentStamp(
  clustersDir: string,
  outDir: string,
  input: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): Stamp | undefined {
  const file = stampFile(clustersDir, outDir, env);
  if (!file || !input || !fs.existsSync(file)) return undefined;
  let stamp: Stamp;
  try {
    stamp = JSON.parse(fs.readFileSync(file, 'utf8')) as Stamp;
  } catch {
    return undefined;
  }
  // A stamp without the report (meshfed before it kept one) cannot answer --json: render in full.
  if (stamp.input !== input || !stamp.report || stamp.output !== treeHash(outDir)) return undefined;
  return stamp;
}

/** Record a successful synth (best effort: a read-only cache only costs the next run its shortcut). */
export function saveStamp(clustersDir: string, outDir: string, stamp: Stamp, env: NodeJS.ProcessEnv = process.env): void {
  const file = stampFile(clustersDir, outDir, env);
  if (!file) return;
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}`;
    fs.writeFileSync(tmp, JSON.stringify(stamp));
    fs.renameSync(tmp, file);
  } catch {
    // No cache: the next synth renders in full.
  }
}
