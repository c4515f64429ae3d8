import * as fs from 'fs';
import * as path from 'path';

/**
 * Replace `outDir` with exactly `files`, atomically as far as the file system allows: everything is
 * written to a sibling temporary folder first, then swapped in with two renames. If anything fails
 * before the swap, `outDir` is untouched.
 */
export function writeTreeAtomically(outDir: string, files: Map<string, string>): void {
  const parent = path.dirname(path.resolve(outDir));
  const base = path.basename(path.resolve(outDir));
  fs.mkdirSync(parent, { recursive: true });
  const tmp = fs.mkdtempSync(path.join(parent, `.${base}.meshfed-new-`));
  try {
    const dirs = new Set<string>();
    for (const rel of files.keys()) dirs.add(path.dirname(path.join(tmp, rel)));
    for (const d of [...dirs].sort()) fs.mkdirSync(d, { recursive: true });
    for (const [rel, content] of files) fs.writeFileSync(path.join(tmp, rel), content);
  } catch (e) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  const old = `${path.join(parent, `.${base}.meshfed-old-`)}${process.pid}`;
  const target = path.join(parent, base);
  const hadOld = fs.existsSync(target);
  if (hadOld) fs.renameSync(target, old);
  try {
    fs.renameSync(tmp, target);
  } catch (e) {
    if (hadOld) fs.renameSync(old, target);
    fs.rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  if (hadOld) fs.rmSync(old, { recursive: true, force: true });
}
