/**
 * The output-folder guard (lib/write/out-dir.ts): synth --out, graduate --to and certs --out write only
 * into a missing or empty folder or their own previous output; never the current folder, the input
 * folder, a parent of either, a Git repository, the root or the home folder. A refusal exits 2 and
 * leaves every file as it was (compared by listing and hash, .git included).
 */
import { spawnSync } from 'child_process';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import { copyTree, EXAMPLE_CLUSTERS } from './support/fixtures';
import { runCli } from './support/synth';
import { runCerts } from '../lib/cli/certs';
import { runGraduate } from '../lib/cli/graduate';
import { byKey } from '../lib/sort';
import { outDirRefusal, SYNTH_MARKER, SYNTH_MARKER_TEXT } from '../lib/write/out-dir';

const ROOT = path.join(__dirname, '..');
const env = { MESHFED_CACHE: '0' };

/** Every entry under `dir` (links not followed): relative path → sha256 of a file, the target of a link, or "dir". */
function snapshot(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true }).sort(byKey((x) => x.name))) {
      const p = path.join(d, e.name);
      const rel = path.relative(dir, p);
      if (e.isSymbolicLink()) out.set(rel, `-> ${fs.readlinkSync(p)}`);
      else if (e.isDirectory()) {
        out.set(rel, 'dir');
        walk(p);
      } else out.set(rel, createHash('sha256').update(fs.readFileSync(p)).digest('hex'));
    }
  };
  walk(dir);
  return out;
}

/** A scratch copy of the repository's layout: a Git work tree with package.json, clusters/ and the committed dist/. */
function scratchRepo(): string {
  const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'meshfed-outdir-')), 'repo');
  fs.mkdirSync(dir);
  fs.copyFileSync(path.join(ROOT, 'package.json'), path.join(dir, 'package.json'));
  copyTree(EXAMPLE_CLUSTERS, path.join(dir, 'clusters'));
  copyTree(path.join(ROOT, 'dist'), path.join(dir, 'dist'));
  const git = (...a: string[]) => spawnSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...a], { cwd: dir });
  git('init', '-q');
  git('add', '-A');
  git('commit', '-q', '-m', 'scratch');
  return dir;
}

/** Run `fn` with `dir` as the current folder. */
function inDir<T>(dir: string, fn: () => T): T {
  const cwd = process.cwd();
  process.chdir(dir);
  try {
    return fn();
  } finally {
    process.chdir(cwd);
  }
}

/** Run the async `fn` with `dir` as the current folder until it settles. */
async function inDirAsync<T>(dir: string, fn: () => Promise<T>): Promise<T> {
  const cwd = process.cwd();
  process.chdir(dir);
  try {
    return await fn();
  } finally {
    process.chdir(cwd);
  }
}

/** Capture console.error (and silence console.log) around an async command. */
async function quiet(fn: () => number | Promise<number>): Promise<{ code: number; stderr: string }> {
  const err: string[] = [];
  const e = jest.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(a.join(' ')));
  const l = jest.spyOn(console, 'log').mockImplementation(() => undefined);
  try {
    return { code: await fn(), stderr: err.join('\n') };
  } finally {
    e.mockRestore();
    l.mockRestore();
  }
}

const foreign = () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshfed-docs-'));
  fs.writeFileSync(path.join(dir, 'notes.md'), '# my notes\n');
  fs.mkdirSync(path.join(dir, 'drafts'));
  return dir;
};

describe('synth --out', () => {
  const repo = scratchRepo();

  test('synth --out . in a repository refuses with exit 2, naming the folder and what is in it; nothing is touched', () => {
    const before = snapshot(repo);
    const res = inDir(repo, () => runCli(['--out', '.'], env));
    expect(res.code).toBe(2);
    expect(res.stderr).toContain(
      'meshfed: refused: --out . is the current folder; it holds 4 entries: .git/, clusters/, dist/, package.json. meshfed never writes ' +
        'into the file system root, your home folder, the current folder, the input folder, a parent of these, or a Git repository. ' +
        'Name a new or empty folder (the default is dist), or the one a previous synth wrote; nothing was written.',
    );
    expect(snapshot(repo)).toEqual(before);
  });

  test('the input folder, a folder inside it, its parent, a parent of the current folder, or a link to one: refused', () => {
    const before = snapshot(repo);
    const elsewhere = fs.mkdtempSync(path.join(os.tmpdir(), 'meshfed-cwd-'));
    const clusters = path.join(repo, 'clusters');
    const link = path.join(elsewhere, 'link');
    fs.symlinkSync(repo, link);
    const cases: [string[], string, string][] = [
      [
        ['--out', 'clusters'],
        repo,
        'refused: --out clusters is the input folder (--clusters clusters); it holds 3 entries: east/, gitops.yaml, west/.',
      ],
      [['--out', 'clusters/east/dist'], repo, 'refused: --out clusters/east/dist is inside the input folder (--clusters clusters).'],
      [
        ['--clusters', clusters, '--out', repo],
        elsewhere,
        `refused: --out ${repo} holds the input folder (--clusters ${clusters}); it holds 4 entries`,
      ],
      [['--clusters', clusters, '--out', link], elsewhere, `refused: --out ${link} (${fs.realpathSync(repo)}) holds the input folder`],
      [
        ['--out', '..'],
        path.join(repo, 'dist'),
        `refused: --out .. is a parent of the current folder (${fs.realpathSync(path.join(repo, 'dist'))})`,
      ],
    ];
    for (const [args, cwd, message] of cases) {
      const res = inDir(cwd, () =>
        runCli(args[0] === '--clusters' ? args : ['--clusters', path.relative(cwd, clusters) || '.', ...args], env),
      );
      expect({ args, code: res.code }).toEqual({ args, code: 2 });
      expect(res.stderr).toContain(message);
      expect(res.stderr).toContain('nothing was written');
    }
    expect(snapshot(repo)).toEqual(before);
  });

  test('a folder that is not empty and not a previous render, or a Git repository, is refused and left as it was', () => {
    const docs = foreign();
    const before = snapshot(docs);
    const res = runCli(['--clusters', EXAMPLE_CLUSTERS, '--out', docs], env);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain(
      `meshfed: refused: --out ${docs} is not empty and not a folder meshfed wrote; it holds 2 entries: drafts/, notes.md. ` +
        'meshfed synth replaces the whole folder it writes, so it writes only into a missing or empty folder or one a previous synth ' +
        'wrote (with its plan.json and .meshfed).',
    );
    expect(snapshot(docs)).toEqual(before);
    // A clone of a GitOps repository, even one holding a render: synth would replace its .git.
    const clone = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'meshfed-clone-')), 'dist');
    copyTree(path.join(ROOT, 'dist'), clone);
    spawnSync('git', ['init', '-q'], { cwd: clone });
    const cloned = snapshot(clone);
    const git = runCli(['--clusters', EXAMPLE_CLUSTERS, '--out', clone], env);
    expect(git.code).toBe(2);
    expect(git.stderr).toContain(`refused: --out ${clone} is a Git repository (it holds .git)`);
    expect(snapshot(clone)).toEqual(cloned);
  });

  test("a previous render is replaced (with its marker, or an older one's plan.json alone); a missing or empty folder is used", () => {
    const render = (dir: string) => runCli(['--clusters', EXAMPLE_CLUSTERS, '--out', dir], env);
    const prev = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'meshfed-prev-')), 'dist');
    copyTree(path.join(ROOT, 'dist'), prev);
    expect(fs.readFileSync(path.join(prev, SYNTH_MARKER), 'utf8')).toBe(SYNTH_MARKER_TEXT);
    fs.appendFileSync(path.join(prev, 'east', 'RUNBOOK.md'), 'stale\n');
    expect(render(prev).code).toBe(0);
    expect(fs.readFileSync(path.join(prev, 'east', 'RUNBOOK.md'), 'utf8')).toBe(
      fs.readFileSync(path.join(ROOT, 'dist', 'east', 'RUNBOOK.md'), 'utf8'),
    );
    // Rendered before meshfed wrote the marker: recognised by plan.json and names synth writes.
    fs.rmSync(path.join(prev, SYNTH_MARKER));
    expect(render(prev).code).toBe(0);
    expect(fs.existsSync(path.join(prev, SYNTH_MARKER))).toBe(true);
    // …but not with a file of someone else's beside them, nor a plan.json of another shape.
    fs.rmSync(path.join(prev, SYNTH_MARKER));
    fs.writeFileSync(path.join(prev, 'notes.md'), 'mine\n');
    expect(render(prev).code).toBe(2);
    expect(fs.readFileSync(path.join(prev, 'notes.md'), 'utf8')).toBe('mine\n');
    const other = foreign();
    fs.writeFileSync(path.join(other, 'plan.json'), '{"tasks": []}\n');
    fs.writeFileSync(path.join(other, SYNTH_MARKER), SYNTH_MARKER_TEXT);
    expect(render(other).code).toBe(2);
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'meshfed-empty-'));
    expect(render(empty).code).toBe(0);
    expect(fs.existsSync(path.join(empty, 'plan.json'))).toBe(true);
  });

  test('--check writes nothing, so it may compare any folder', () => {
    expect(inDir(repo, () => runCli(['--check', '--out', 'dist'], env)).code).toBe(0);
  });

  test('the file system root and the home folder are refused', () => {
    const ctx = { option: '--out', input: EXAMPLE_CLUSTERS, cwd: os.tmpdir() };
    expect(outDirRefusal('synth', path.parse(process.cwd()).root, ctx)).toMatch(
      /^refused: --out \/ is the file system root; it holds \d+ entr/,
    );
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'meshfed-home-'));
    expect(outDirRefusal('synth', home, { ...ctx, home })).toContain(`refused: --out ${home} is your home folder`);
  });
});

/** The bundled example with every cluster at 07-finalize (what graduate needs). */
function finished(): string {
  const dir = copyTree(EXAMPLE_CLUSTERS, path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'meshfed-grad-')), 'clusters'));
  for (const c of ['east', 'west']) {
    const f = path.join(dir, c, 'cluster.yaml');
    fs.writeFileSync(f, fs.readFileSync(f, 'utf8').replace(/^(\s+)phase: .*$/m, '$1phase: 07-finalize'));
  }
  return dir;
}

describe('graduate --to', () => {
  test('refuses the current folder, the input folder and its parent, a Git repository, a folder not empty; exit 2, nothing touched', async () => {
    const clusters = finished();
    const parent = path.dirname(clusters);
    const docs = foreign();
    const git = fs.mkdtempSync(path.join(os.tmpdir(), 'meshfed-git-'));
    spawnSync('git', ['init', '-q'], { cwd: git });
    const before = [clusters, docs, git].map(snapshot);
    // An empty current folder too: graduate would swap it away under the shell standing in it.
    const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'meshfed-cwd-'));
    const cases: [string, string][] = [
      ['.', 'is the current folder'],
      [clusters, 'is the input folder'],
      [parent, 'holds the input folder'],
      [git, 'is a Git repository'],
      [docs, 'is not empty and not a folder meshfed wrote; it holds 2 entries: drafts/, notes.md. meshfed graduate writes a new'],
    ];
    for (const [to, why] of cases) {
      const res = await quiet(() => inDir(cwd, () => runGraduate(['--clusters', clusters, '--to', to], {})));
      expect({ to, code: res.code }).toEqual({ to, code: 2 });
      expect(res.stderr).toContain(`meshfed: refused: --to ${to} ${why}`);
    }
    expect([clusters, docs, git].map(snapshot)).toEqual(before);
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'meshfed-empty-'));
    expect((await quiet(() => runGraduate(['--clusters', clusters, '--to', empty], {}))).code).toBe(0);
    expect(fs.readdirSync(empty).sort()).toEqual(['east', 'gitops.yaml', 'west']);
  });
});

describe('certs --out', () => {
  test('refuses the current folder, the input folder or a folder in it, a folder not empty; its own folder and an empty one are used', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshfed-certs-out-'));
    copyTree(EXAMPLE_CLUSTERS, path.join(dir, 'clusters'));
    const docs = foreign();
    const before = [dir, docs].map(snapshot);
    const certs = (...args: string[]) => quiet(() => inDirAsync(dir, () => runCerts(['east', '--key-size', '2048', ...args], {})));
    const cases: [string, string][] = [
      ['.', 'is the current folder'],
      ['clusters', 'is the input folder'],
      ['clusters/keys', 'is inside the input folder'],
      [docs, 'is not empty and not a folder meshfed wrote; it holds 2 entries: drafts/, notes.md. meshfed certs writes keys into'],
    ];
    for (const [out, why] of cases) {
      const res = await certs('--out', out);
      expect({ out, code: res.code }).toEqual({ out, code: 2 });
      expect(res.stderr).toContain(`meshfed: refused: --out ${out} ${why}`);
    }
    expect([dir, docs].map(snapshot)).toEqual(before);
    // certs/ holding another cluster's CA (what certs wrote before) takes a new one beside it. (A new
    // clusters folder: the example's east has a root certs must not replace.)
    fs.mkdirSync(path.join(dir, 'certs', 'west'), { recursive: true });
    for (const f of ['root-cert.pem', 'ca-cert.pem']) fs.writeFileSync(path.join(dir, 'certs', 'west', f), 'x');
    expect((await certs('--clusters', 'new')).code).toBe(0);
    expect(fs.readdirSync(path.join(dir, 'certs')).sort()).toEqual(['east', 'west']);
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'meshfed-empty-'));
    fs.rmSync(path.join(dir, 'new'), { recursive: true });
    expect((await certs('--clusters', 'new', '--out', empty)).code).toBe(0);
    expect(fs.readdirSync(path.join(empty, 'east')).sort()).toEqual([
      'ca-cert.pem',
      'ca-key.pem',
      'cert-chain.pem',
      'root-cert.pem',
      'root-key.pem',
    ]);
  });
});
