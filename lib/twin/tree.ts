import * as fs from 'fs';
import * as path from 'path';

/**
 * A rendered `dist/` as the twin reads it: files by path relative to the tree's root, joined with `/`.
 * The same interface serves a folder on disk (a committed `dist/`) and a render held in memory (what
 * `synth` is about to write), so a pointer move can be rehearsed before anything is written.
 */
export interface FileTree {
  /** The file's text, or undefined when there is no such file. */
  read(file: string): string | undefined;
  /** True when `dir` holds at least one file (directly or below). */
  isDir(dir: string): boolean;
  /** Every file, sorted. */
  files(): string[];
}

/** A tree over a render in memory (the `files` map a synth produces). */
export function memoryTree(files: ReadonlyMap<string, string>): FileTree {
  const dirs = new Set<string>();
  for (const f of files.keys()) {
    const parts = f.split('/');
    for (let i = 1; i < parts.length; i++) dirs.add(parts.slice(0, i).join('/'));
  }
  return {
    read: (file) => files.get(normalize(file)),
    isDir: (dir) => normalize(dir) === '' || dirs.has(normalize(dir)),
    files: () => [...files.keys()].sort(),
  };
}

/** A tree over a folder on disk. Reads lazily; `files()` walks the folder once. */
export function diskTree(root: string): FileTree {
  let listed: string[] | undefined;
  return {
    read: (file) => {
      const p = path.join(root, ...normalize(file).split('/'));
      try {
        return fs.statSync(p).isFile() ? fs.readFileSync(p, 'utf8') : undefined;
      } catch {
        return undefined;
      }
    },
    isDir: (dir) => {
      try {
        return fs.statSync(path.join(root, ...normalize(dir).split('/'))).isDirectory();
      } catch {
        return false;
      }
    },
    files: () => (listed ??= walk(root, '')),
  };
}

function walk(dir: string, rel: string): string[] {
  const out: string[] = [];
  for (const name of fs.readdirSync(dir).sort()) {
    const r = rel ? `${rel}/${name}` : name;
    if (fs.statSync(path.join(dir, name)).isDirectory()) out.push(...walk(path.join(dir, name), r));
    else out.push(r);
  }
  return out;
}

/** `a/./b/../c/` → `a/c`; the root is ''. */
export function normalize(p: string): string {
  const n = path.posix.normalize(p.split('\\').join('/'));
  return n === '.' || n === './' ? '' : n.replace(/^\.\//, '').replace(/\/$/, '');
}

/**
 * The GitOps repository as the engines see it: `dist/` mounted at `prefix` (gitops.yaml `spec.path`), so an
 * Application's `source.path: dist/east/03-import` reads `east/03-import` of the render.
 */
export function repoTree(dist: FileTree, prefix: string): FileTree {
  const root = normalize(prefix);
  const inside = (p: string): string | undefined => {
    const n = normalize(p);
    if (!root) return n;
    if (n === root) return '';
    return n.startsWith(`${root}/`) ? n.slice(root.length + 1) : undefined;
  };
  return {
    read: (file) => {
      const p = inside(file);
      return p === undefined ? undefined : dist.read(p);
    },
    isDir: (dir) => {
      const n = normalize(dir);
      if (root && (root === n || root.startsWith(`${n}/`) || n === '')) return true;
      const p = inside(dir);
      return p !== undefined && dist.isDir(p);
    },
    files: () => dist.files().map((f) => (root ? `${root}/${f}` : f)),
  };
}
