import { createHash } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import { compareStrings } from '../sort';

/**
 * The output-folder guard: no command replaces or writes into a folder it did not write. synth swaps its
 * whole output folder (lib/write/atomic.ts), graduate writes a new clusters folder the same way, certs
 * writes <out>/<cluster>/, collect writes dumps into clusters/<cluster>/ossm2/. Each may use a folder
 * that is missing, empty, or recognisably its own previous output, and never the file system root, the
 * home folder, the current folder or a parent of it, the input folder, a parent of it or a folder inside
 * it, or a folder holding `.git`. Paths are compared after resolving symbolic links.
 */

/** The command writing the folder: what it recognises as its own previous output. */
export type OutDirUse = 'synth' | 'graduate' | 'certs';

/** The file synth writes at the top of its output folder, recognised (with plan.json) as its own. */
export const SYNTH_MARKER = '.meshfed';

/** The marker's content: the same for every render (no version, no time), so dist/ stays byte-identical. */
export const SYNTH_MARKER_TEXT =
  'This folder is the output of meshfed synth. Every synth replaces all of it with what the clusters\n' +
  'folder renders: keep no files of your own here. meshfed replaces a folder that is not empty only when\n' +
  'it holds this file and the plan.json it wrote (docs/output.md, "The output folder").\n';

/** The files meshfed certs writes into <out>/<cluster>/. */
export const CA_FILES = ['ca-cert.pem', 'ca-key.pem', 'cert-chain.pem', 'root-cert.pem', 'root-key.pem'];

/** Top-level entries of a synth output folder besides one folder per rendered cluster. */
const SYNTH_TOP = new Set([SYNTH_MARKER, 'README.md', 'argocd', 'flux', 'plan.json']);

export interface OutDirContext {
  /** The option that named the folder, for the message (`--out`, `--to`). */
  readonly option: string;
  /** The input folder (--clusters); none for a cdk8s app's declaration (its inventory folders are checked one by one). */
  readonly input?: string;
  /** How the messages name the input folder. @default `--clusters <input>` */
  readonly inputName?: string;
  readonly cwd?: string;
  readonly home?: string;
}

/** `p` with symbolic links resolved; for a path that does not exist yet, its deepest existing parent's. */
export function realPath(p: string): string {
  const abs = path.resolve(p);
  try {
    return fs.realpathSync.native(abs);
  } catch {
    const parent = path.dirname(abs);
    return parent === abs ? abs : path.join(realPath(parent), path.basename(abs));
  }
}

/** Is `inner` the folder `outer` or inside it? */
function within(inner: string, outer: string): boolean {
  const rel = path.relative(outer, inner);
  return rel === '' || (rel.split(path.sep)[0] !== '..' && !path.isAbsolute(rel));
}

/** The entries of a folder as a message lists them: a few names (folders with a slash) and the count. */
export function describeEntries(dir: string): string {
  const names = fs.readdirSync(dir).sort(compareStrings);
  const shown = names.slice(0, 5).map((n) => (isDir(path.join(dir, n)) ? `${n}/` : n));
  const more = names.length > shown.length ? ` and ${names.length - shown.length} more` : '';
  return `${names.length} entr${names.length === 1 ? 'y' : 'ies'}: ${shown.join(', ')}${more}`;
}

function isDir(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** The part of a previous plan.json the guard reads; undefined when the file is not one synth wrote. */
function synthPlan(dir: string): { clusters: Record<string, unknown> } | undefined {
  try {
    const doc = JSON.parse(fs.readFileSync(path.join(dir, 'plan.json'), 'utf8')) as Record<string, unknown>;
    const clusters = doc.clusters;
    if (doc.generatedBy !== 'meshfed' || !Array.isArray(doc.phases) || !clusters || typeof clusters !== 'object') return undefined;
    return { clusters: clusters as Record<string, unknown> };
  } catch {
    return undefined;
  }
}

/**
 * A folder synth wrote: a plan.json of synth's shape and the marker. A folder rendered by meshfed before
 * the marker existed (a committed dist/ of an existing user) has the plan.json alone; it is recognised
 * when every top-level entry is one synth writes (plan.json, README.md, argocd/, flux/, the folders of
 * the clusters that plan.json lists), so upgrading never locks a user out of their own dist/ (deleting it
 * would also lose the previous plan.json the removal guard compares with), while a folder that merely
 * holds a copy of a plan.json is still refused.
 */
function isSynthOutput(dir: string, entries: string[]): boolean {
  const plan = synthPlan(dir);
  if (!plan) return false;
  const marker = path.join(dir, SYNTH_MARKER);
  if (fs.existsSync(marker) && fs.readFileSync(marker, 'utf8') === SYNTH_MARKER_TEXT) return true;
  return entries.every((e) => SYNTH_TOP.has(e) || (Object.hasOwn(plan.clusters, e) && isDir(path.join(dir, e))));
}

/** A folder certs wrote: one folder per cluster, each holding only the CA files. */
function isCertsOutput(dir: string, entries: string[]): boolean {
  return entries.every((e) => {
    const sub = path.join(dir, e);
    return isDir(sub) && fs.readdirSync(sub).every((f) => CA_FILES.includes(f));
  });
}

const WHAT: Record<OutDirUse, { rule: string; fix: string }> = {
  synth: {
    rule:
      'meshfed synth replaces the whole folder it writes, so it writes only into a missing or empty folder or one a previous synth ' +
      'wrote (with its plan.json and .meshfed)',
    fix: 'Name a new or empty folder (the default is dist), or the one a previous synth wrote',
  },
  graduate: {
    rule: 'meshfed graduate writes a new clusters folder and replaces nothing, so it writes only into a missing or empty folder',
    fix: 'Name a new or empty folder',
  },
  certs: {
    rule:
      'meshfed certs writes keys into <folder>/<cluster>/, so it writes only into a missing or empty folder or one a previous certs ' +
      'wrote (one folder per cluster, holding only its CA files)',
    fix: 'Name a new or empty folder (the default is certs), or the one a previous certs wrote',
  },
};

/** Where the output folder `real` is relative to the input folder, when it is, or holds, or is inside it. */
function inputPlace(real: string, ctx: OutDirContext): string | undefined {
  if (ctx.input === undefined) return undefined;
  const input = realPath(ctx.input);
  const name = ctx.inputName ?? `--clusters ${ctx.input}`;
  if (real === input) return `is the input folder (${name})`;
  if (within(input, real)) return `holds the input folder (${name})`;
  return within(real, input) ? `is inside the input folder (${name})` : undefined;
}

/**
 * Why `use` may not write the folder `dir` (a message naming the folder, what is in it and what to do),
 * or undefined when it may. Reads the folder; writes nothing.
 */
export function outDirRefusal(use: OutDirUse, dir: string, ctx: OutDirContext): string | undefined {
  const real = realPath(dir);
  const inInput = inputPlace(real, ctx);
  const cwd = realPath(ctx.cwd ?? process.cwd());
  const home = realPath(ctx.home ?? os.homedir());
  const exists = fs.existsSync(real);
  const place =
    path.parse(real).root === real
      ? 'is the file system root'
      : real === home
        ? 'is your home folder'
        : real === cwd
          ? 'is the current folder'
          : within(cwd, real)
            ? `is a parent of the current folder (${cwd})`
            : (inInput ??
              (exists && !isDir(real)
                ? 'is a file, not a folder'
                : exists && fs.existsSync(path.join(real, '.git'))
                  ? 'is a Git repository (it holds .git)'
                  : undefined));
  const { rule, fix } = WHAT[use];
  const named = `${ctx.option} ${dir}${real !== path.resolve(dir) ? ` (${real})` : ''}`;
  const holds = exists && isDir(real) ? `; it holds ${describeEntries(real)}` : '';
  if (place) {
    return (
      `refused: ${named} ${place}${holds}. meshfed never writes into the file system root, your home folder, ` +
      `the current folder, the input folder, a parent of these, or a Git repository. ${fix}; nothing was written.`
    );
  }
  if (!exists) return undefined;
  const entries = fs.readdirSync(real);
  if (entries.length === 0) return undefined;
  if (use === 'synth' && isSynthOutput(real, entries)) return undefined;
  if (use === 'certs' && isCertsOutput(real, entries)) return undefined;
  return `refused: ${named} is not empty and not a folder meshfed wrote${holds}. ${rule}. ${fix}; nothing was written.`;
}

// --- collect -------------------------------------------------------------------------------------

/**
 * The record of what `meshfed collect` wrote into a cluster's folder: clusters/<cluster>/ossm2/.meshfed,
 * one line per file (path relative to the cluster's folder, SHA-256 of its bytes). collect replaces a
 * file only when it is missing, already holds the new dump's bytes, or is listed here unchanged: a dump
 * written by hand, or a collected file edited since, is the user's and stays as it is.
 */
export const COLLECT_MARKER = path.join('ossm2', SYNTH_MARKER);

const COLLECT_HEADER =
  '# Written by meshfed collect: the files it dumped into this cluster folder, with their SHA-256.\n' +
  '# collect replaces a file only while it is listed here unchanged; every other file here is yours.\n';

export function sha256(bytes: Buffer | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** The files the last collects wrote into `clusterDir` (relative path → SHA-256); empty without a record. */
export function readCollectRecord(clusterDir: string): Map<string, string> {
  const file = path.join(clusterDir, COLLECT_MARKER);
  const out = new Map<string, string>();
  if (!fs.existsSync(file)) return out;
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const m = /^([0-9a-f]{64}) {2}(\S.*)$/.exec(line);
    if (m) out.set(m[2], m[1]);
  }
  return out;
}

/** The record's text: one `<sha256>  <path>` line per file (sha256sum's format), sorted by path. */
export function collectRecord(files: ReadonlyMap<string, string>): string {
  const lines = [...files].sort(([a], [b]) => compareStrings(a, b)).map(([f, h]) => `${h}  ${f}`);
  return COLLECT_HEADER + lines.map((l) => `${l}\n`).join('');
}

/**
 * Of the files collect is about to write into `clusterDir` (relative path → new bytes), those it may
 * not replace: present with other bytes, and not a file an earlier collect wrote and nobody changed.
 */
export function collectConflicts(clusterDir: string, incoming: ReadonlyMap<string, Buffer>): string[] {
  const record = readCollectRecord(clusterDir);
  const conflicts: string[] = [];
  for (const [rel, bytes] of incoming) {
    const target = path.join(clusterDir, rel);
    if (!fs.existsSync(target)) continue;
    const now = fs.readFileSync(target);
    if (now.equals(bytes) || record.get(rel) === sha256(now)) continue;
    conflicts.push(rel);
  }
  return conflicts.sort(compareStrings);
}
