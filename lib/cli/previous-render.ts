import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

import { PreviousPlanJson } from '../write/plan-json';

/**
 * The render synth compares with: the output folder's plan.json, or, when that is gone (dist/ deleted), the
 * committed one. Without it the pointer rules (lib/plan/pointers.ts: skipped phases, rollbacks) and the removal
 * guard (lib/write/removal-guard.ts) have no previous state, so deleting dist/ would let any pointer move and
 * any removal through. What GitOps applies is what was committed, so `git show HEAD:<out>/plan.json` is the
 * last delivered state; a deletion staged with `git rm` (the README's way to remove the bundled example) is
 * taken as meant, and nothing is compared.
 */
export interface PreviousRender {
  readonly plan?: PreviousPlanJson;
  /** Where `plan` was read, for messages: `dist/plan.json`, or `git show HEAD:dist/plan.json`. */
  readonly source?: string;
  /** True when `plan` is the committed one (the output folder's is gone). */
  readonly committed?: boolean;
  /** Why there is no `plan`: a clause completing "<out>/plan.json does not exist, and …" (or saying it cannot be read). */
  readonly missing?: string;
}

/** Seconds each git command may take (a repository on a slow network file system). */
const GIT_TIMEOUT_MS = 10_000;

function git(cwd: string, args: string[]): { ok: true; stdout: string } | { ok: false; error: string; notFound?: boolean } {
  try {
    const stdout = execFileSync('git', args, {
      cwd,
      encoding: 'utf8',
      timeout: GIT_TIMEOUT_MS,
      maxBuffer: 1 << 30,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return { ok: true, stdout };
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { stderr?: string | Buffer; signal?: string };
    if (err.code === 'ENOENT') return { ok: false, error: 'git is not installed', notFound: true };
    if (err.signal === 'SIGTERM') return { ok: false, error: `git ${args[0]} took longer than ${GIT_TIMEOUT_MS / 1000} s` };
    const first = String(err.stderr ?? '')
      .split('\n')[0]
      .trim();
    return { ok: false, error: first || err.message };
  }
}

/** The nearest folder of `dir` or above it that exists (the output folder, or its parent, may be gone). */
function existingAncestor(dir: string): string {
  let d = dir;
  while (!fs.existsSync(d) && path.dirname(d) !== d) d = path.dirname(d);
  return d;
}

const NOT_A_REPOSITORY = { ok: false, error: 'not a git repository' } as const;

/**
 * Whether git could find a repository from `dir` (else asking it is a process for nothing: a synth into a scratch
 * folder). Git looks for one in `dir` and each folder above it — a `.git` folder or file, or the folder itself a bare
 * repository (HEAD, objects/ and refs/) — unless GIT_DIR names it (git/setup.c setup_git_directory_gently_1,
 * is_git_directory); anything else it might honour (GIT_CEILING_DIRECTORIES, safe.directory) only finds less.
 */
function mayBeInRepository(dir: string): boolean {
  if (process.env.GIT_DIR) return true;
  for (let d = dir; ; d = path.dirname(d)) {
    if (fs.existsSync(path.join(d, '.git'))) return true;
    if (['HEAD', 'objects', 'refs'].every((f) => fs.existsSync(path.join(d, f)))) return true;
    if (path.dirname(d) === d) return false;
  }
}

/** The committed plan.json of `outDir`, read with git from the nearest existing folder at or above it. */
function committedPlan(outDir: string, shown: string): PreviousRender {
  const out = path.resolve(outDir);
  const cwd = existingAncestor(path.dirname(out));
  const prefix = mayBeInRepository(cwd) ? git(cwd, ['rev-parse', '--show-prefix']) : NOT_A_REPOSITORY;
  if (!prefix.ok)
    return {
      missing: /not a git repository/i.test(prefix.error)
        ? `${shown}/ is not in a Git work tree`
        : `git could not tell whether ${shown}/ is in a Git work tree (${prefix.error})`,
    };
  const rel = path.relative(cwd, path.join(out, 'plan.json')).split(path.sep).join('/');
  const inRepo = `${prefix.stdout.trim()}${rel}`;
  const spec = `HEAD:${inRepo}`;
  const show = git(cwd, ['show', spec]);
  if (!show.ok) {
    // Git's own words only when they say more than "no such file at HEAD" (or "no commit yet").
    const usual = /does not exist|exists on disk, but not in|invalid object name|ambiguous argument|bad revision|unknown revision/;
    return { missing: `HEAD has none either (git show ${spec}${usual.test(show.error) ? '' : `: ${show.error}`})` };
  }
  const tracked = git(cwd, ['ls-files', '--cached', '--', rel]);
  if (tracked.ok && tracked.stdout.trim() === '')
    return { missing: `its deletion is staged (git rm), which is taken as meant: the committed ${inRepo} was not compared` };
  try {
    return { plan: JSON.parse(show.stdout) as PreviousPlanJson, source: `git show ${spec}`, committed: true };
  } catch {
    return { missing: `the committed one (git show ${spec}) is not JSON` };
  }
}

/** The previous render's plan.json: `outDir`'s own, or the committed one when `outDir` has none. */
export function readPreviousRender(outDir: string): PreviousRender {
  const file = path.join(outDir, 'plan.json');
  const shown = outDir.replace(/[\\/]+$/, '');
  if (!fs.existsSync(file)) return committedPlan(outDir, shown);
  try {
    return { plan: JSON.parse(fs.readFileSync(file, 'utf8')) as PreviousPlanJson, source: `${shown}/plan.json` };
  } catch (e) {
    return { missing: `${shown}/plan.json cannot be read (${(e as Error).message})` };
  }
}

/**
 * The line synth adds to its summary when there was nothing to compare with: the pointer rules and the removal
 * guard checked nothing, which a first synth expects and a deleted dist/ should not be.
 */
export function nothingCompared(outDir: string, previous: PreviousRender): string | undefined {
  if (previous.plan) return undefined;
  const shown = outDir.replace(/[\\/]+$/, '');
  const why = previous.missing?.startsWith(`${shown}/plan.json cannot be read`)
    ? previous.missing
    : `${shown}/plan.json does not exist, and ${previous.missing}`;
  return (
    `meshfed: no previous render found (${why}), so the pointer and removal guards had nothing to compare: ` +
    `skipped phases, unconfirmed rollbacks, changed east-west addresses and removals were not checked. On a first synth ` +
    `that is expected; if ${shown}/ was deleted, restore the render GitOps applies now (with Git: git checkout HEAD -- ${shown}) ` +
    'and synth again.'
  );
}
