import * as fs from 'fs';
import * as path from 'path';

import { compareStrings } from '../sort';

/** What a write changed, paths relative to the folder (sorted). */
export interface TreeChanges {
  readonly added: string[];
  readonly changed: string[];
  readonly removed: string[];
  /** Files whose content was already right: left as they were (same inode, same mtime). */
  readonly unchanged: number;
  /** The previous tree, moved aside and not removed (the next synth removes it), with the reason. */
  readonly leftover?: string;
}

/**
 * Replace `outDir` with exactly `files`, atomically as far as the file system allows: the new tree is
 * built in a sibling temporary folder, then swapped in with two renames. If anything fails before the
 * swap, `outDir` is untouched. A file whose content is already right is hard-linked from the old tree
 * instead of written, so it keeps its mtime (git status, editors and file watchers stay quiet); when
 * nothing differs, nothing is touched at all.
 */
export function writeTreeAtomically(outDir: string, files: Map<string, string>): TreeChanges {
  const parent = path.dirname(path.resolve(outDir));
  const base = path.basename(path.resolve(outDir));
  fs.mkdirSync(parent, { recursive: true });
  removeLeftovers(parent, base);
  const target = path.join(parent, base);
  const diff = treeDiff(target, files);
  const unchanged = files.size - diff.added.length - diff.changed.length;
  if (diff.added.length + diff.changed.length + diff.removed.length === 0) return { ...diff, unchanged };
  const fresh = new Set([...diff.added, ...diff.changed]);
  const tmp = fs.mkdtempSync(path.join(parent, `.${base}.meshfed-new-${process.pid}-`));
  try {
    const dirs = new Set<string>();
    for (const rel of files.keys()) dirs.add(path.dirname(path.join(tmp, rel)));
    for (const d of [...dirs].sort()) fs.mkdirSync(d, { recursive: true });
    for (const [rel, content] of files) {
      if (fresh.has(rel)) fs.writeFileSync(path.join(tmp, rel), content);
      else keep(path.join(target, rel), path.join(tmp, rel));
    }
  } catch (e) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  const old = `${path.join(parent, `.${base}.meshfed-old-`)}${process.pid}`;
  const hadOld = fs.existsSync(target);
  if (hadOld) fs.renameSync(target, old);
  try {
    fs.renameSync(tmp, target);
  } catch (e) {
    if (hadOld) fs.renameSync(old, target);
    fs.rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  // outDir is the new tree from here on: a failure to remove the old one must not make the write look
  // failed; the next synth removes what is left (removeLeftovers).
  if (hadOld)
    try {
      fs.rmSync(old, { recursive: true, force: true });
    } catch (e) {
      return { ...diff, unchanged, leftover: `${old}: ${(e as Error).message}` };
    }
  return { ...diff, unchanged };
}

/** Carry an unchanged file into the new tree: a hard link, or (where links fail) a copy with its times. */
function keep(from: string, to: string): void {
  try {
    fs.linkSync(from, to);
  } catch {
    fs.copyFileSync(from, to);
    const st = fs.statSync(from);
    fs.utimesSync(to, st.atime, st.mtime);
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The temporary folders a synth killed mid-write left beside `outDir` (`.<out>.meshfed-new-<pid>-*`,
 * `.<out>.meshfed-old-<pid>`): removed when the process that made them is gone, so `git add -A` never
 * commits them. A synth still running keeps its own.
 */
export function removeLeftovers(parent: string, base: string): string[] {
  const pattern = new RegExp(`^\\.${base.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.meshfed-(?:new|old)-(\\d+)`);
  const removed: string[] = [];
  for (const name of fs.existsSync(parent) ? fs.readdirSync(parent) : []) {
    const m = pattern.exec(name);
    if (!m || (Number(m[1]) !== process.pid && alive(Number(m[1])))) continue;
    fs.rmSync(path.join(parent, name), { recursive: true, force: true });
    removed.push(name);
  }
  return removed.sort();
}

/**
 * Every file under `dir` (symbolic links followed), as paths relative to it joined with `/`, sorted as
 * whole paths ("a.yaml" before "a/b.yaml"); none when `dir` does not exist.
 */
export function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string, rel: string) => {
    for (const name of fs.readdirSync(d)) {
      const r = rel ? `${rel}/${name}` : name;
      if (fs.statSync(path.join(d, name)).isDirectory()) walk(path.join(d, name), r);
      else out.push(r);
    }
  };
  if (fs.existsSync(dir)) walk(dir, '');
  return out.sort(compareStrings);
}

/** How `outDir` differs from `files`: paths to add, to change, to remove (sorted). */
export function treeDiff(outDir: string, files: Map<string, string>): { added: string[]; changed: string[]; removed: string[] } {
  const onDisk = new Set(listFiles(outDir));
  const added: string[] = [];
  const changed: string[] = [];
  for (const [rel, content] of files) {
    if (!onDisk.has(rel)) added.push(rel);
    else if (fs.readFileSync(path.join(outDir, rel), 'utf8') !== content) changed.push(rel);
  }
  const removed = [...onDisk].filter((r) => !files.has(r));
  const sort = (xs: string[]) => xs.sort(compareStrings);
  return { added: sort(added), changed: sort(changed), removed: sort(removed) };
}
