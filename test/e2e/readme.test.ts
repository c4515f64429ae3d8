/**
 * The README followed literally, on a fresh copy of the repository: its Quick start, its loop (plan,
 * move a pointer, synth, review, the CI check), `npx cdk8s synth`, and meshfed used as a dependency
 * of another repository. The commands run are the README's own lines, read from it; only `npm ci` (the
 * copy shares this checkout's node_modules) and `npm test` (this suite) are not run again.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import { buildIsCurrent } from '../support/build';
import { readTree } from '../support/synth';

const ROOT = path.join(__dirname, '..', '..');
const README = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');

/** The fenced code blocks under a `## heading` of the README, as lines. */
function blocks(heading: string): string[][] {
  const section = README.split(/^## /m).find((s) => s.startsWith(`${heading}\n`));
  if (!section) throw new Error(`README has no "## ${heading}"`);
  return [...section.matchAll(/^```[a-z]*\n([\s\S]*?)^```/gm)].map((m) => m[1].trimEnd().split('\n'));
}

/** A command line of a block without its comment. */
const command = (line: string) => line.replace(/\s+#.*$/, '').trim();

/**
 * Run a README line. After the Quick start, whose `npm run synth` rehearses as a user's does, synth skips its rehearsal
 * (MESHFED_REHEARSE=0): test/twin/synth-rehearsal.test.ts proves it, and it is most of each synth's time.
 */
function sh(cwd: string, line: string, rehearse = false): { code: number; stdout: string; stderr: string } {
  const env = {
    ...process.env,
    NO_COLOR: '1',
    MESHFED_CACHE: '0',
    npm_config_update_notifier: 'false',
    ...(rehearse ? {} : { MESHFED_REHEARSE: '0' }),
  };
  const res = spawnSync('/bin/sh', ['-c', line], { cwd, encoding: 'utf8', env, maxBuffer: 1 << 28 });
  return { code: res.status ?? 1, stdout: res.stdout, stderr: res.stderr };
}

/** What a fresh clone holds: the tracked and new files of this checkout, committed in a new repository. */
function freshClone(): string {
  const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'meshfed-readme-')), 'meshfed');
  const listed = spawnSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: ROOT, encoding: 'utf8' });
  for (const f of listed.stdout.split('\0').filter(Boolean)) {
    if (!fs.existsSync(path.join(ROOT, f))) continue; // deleted in the work tree, not yet committed
    fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
    fs.copyFileSync(path.join(ROOT, f), path.join(dir, f));
  }
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'));
  // `npm ci` (not run again) builds build/ as prepare: this checkout's build/, when bin/sources.js finds it compiled
  // from these very sources, is that build (the copy's sources hash the same); otherwise the copy runs them through tsx.
  if (buildIsCurrent()) fs.cpSync(path.join(ROOT, 'build'), path.join(dir, 'build'), { recursive: true });
  const git = (...a: string[]) => spawnSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...a], { cwd: dir });
  git('init', '-q');
  git('add', '-A');
  git('commit', '-q', '-m', 'clone');
  return dir;
}

const status = (dir: string, ...paths: string[]) =>
  spawnSync('git', ['status', '--porcelain', '--', ...paths], { cwd: dir, encoding: 'utf8' }).stdout.trim();

describe('the README, followed literally on a fresh clone', () => {
  let dir = '';
  beforeAll(() => {
    dir = freshClone();
  });

  test('Quick start: npm run synth renders the bundled example, and the committed dist/ is exactly that', () => {
    const lines = blocks('Quick start')[0].map(command);
    expect(lines).toEqual(['git clone … && cd meshfed', 'npm ci && npm run synth', 'npm test']);
    const synth = sh(dir, lines[1].replace(/^npm ci && /, ''), true);
    expect(synth.stderr).not.toContain('--skip-rehearsal');
    expect(synth.stderr).toMatch(/meshfed: 2 cluster\(s\), 16 phase overlay\(s\)/);
    expect(synth.code).toBe(0);
    expect(status(dir)).toBe('');
  });

  test('The loop: plan prints what the README shows; a moved pointer makes synth:check fail until synth; cdk8s synth agrees', () => {
    const [block] = blocks('The loop');
    expect(command(block[0])).toBe('npm run plan');
    const plan = sh(dir, 'npm run plan');
    expect(plan.code).toBe(0);
    const table = plan.stdout.split('\n').slice(plan.stdout.split('\n').findIndex((l) => l.startsWith('CLUSTER')));
    expect(table.map((l) => l.trimEnd()).filter(Boolean)).toEqual(block.slice(1));
    // Step 4: move the first cluster that is ready to the phase the plan names.
    const [cluster, , , next] = block.find((l) => l.includes('ready: set spec.phase'))!.split(/\s+/);
    const file = path.join(dir, 'clusters', cluster, 'cluster.yaml');
    const text = fs.readFileSync(file, 'utf8');
    expect(text).toMatch(/^ {2}phase: \S+$/m);
    fs.writeFileSync(file, text.replace(/^ {2}phase: \S+$/m, `  phase: ${next}`));
    // Step 3's CI check sees the stale dist/, step 2's synth renders it, and the check passes again.
    expect(README).toContain('`npm run synth:check`');
    expect(sh(dir, 'npm run synth:check').code).toBe(1);
    expect(sh(dir, 'npm run synth').code).toBe(0);
    expect(status(dir, 'dist')).not.toBe('');
    expect(sh(dir, 'npm run synth:check').code).toBe(0);
    expect(sh(dir, 'npm run plan').stdout).toMatch(new RegExp(`^${cluster}\\s+${next}\\s+same\\s`, 'm'));
    // "(or npx cdk8s synth)": the same render.
    expect(README).toContain('`npm run synth` (or `npx cdk8s synth`)');
    const rendered = readTree(path.join(dir, 'dist'));
    const cdk8s = sh(dir, 'npx cdk8s synth');
    expect(cdk8s.code).toBe(0);
    expect(readTree(path.join(dir, 'dist'))).toEqual(rendered);
    expect(sh(dir, 'npm run check').code).toBe(0);
  });

  test('Before and after a move: the report and the dry run of verify, as the README shows them', () => {
    // The clone as it was cloned: the loop above moved a pointer and rendered it.
    const clone = dir;
    spawnSync('git', ['reset', '-q', '--hard'], { cwd: clone });
    spawnSync('git', ['clean', '-q', '-fd'], { cwd: clone });
    expect(status(clone)).toBe('');
    const [, block] = blocks('The loop');
    expect(block.map(command)).toEqual([
      'npx meshfed report east --to 01-prepare > change.md',
      'npx meshfed verify east --context prod-east --dry-run',
    ]);
    expect(sh(clone, command(block[0])).code).toBe(0);
    expect(fs.readFileSync(path.join(clone, 'change.md'), 'utf8')).toMatch(/^# Change record: east 00-federation → 01-prepare\n/);
    const verify = sh(clone, command(block[1]));
    expect(verify.code).toBe(0);
    expect(verify.stdout).toMatch(/^oc --context prod-east get servicemeshcontrolplane\.maistra\.io -n istio-system basic -o json$/m);
    expect(fs.existsSync(path.join(ROOT, 'docs', 'images', 'report-east-01.png'))).toBe(true);
  });

  test('meshfed as a dependency: a repository of your own with clusters/ renders the same dist/', () => {
    expect(README).toContain('docs/input.md#your-repository');
    const user = fs.mkdtempSync(path.join(os.tmpdir(), 'meshfed-user-'));
    fs.cpSync(path.join(ROOT, 'clusters'), path.join(user, 'clusters'), { recursive: true });
    fs.mkdirSync(path.join(user, 'node_modules', '.bin'), { recursive: true });
    fs.symlinkSync(dir, path.join(user, 'node_modules', 'meshfed'));
    fs.symlinkSync(path.join('..', 'meshfed', 'bin', 'meshfed.js'), path.join(user, 'node_modules', '.bin', 'meshfed'));
    const res = sh(user, 'npx meshfed synth');
    expect(res.code).toBe(0);
    expect(readTree(path.join(user, 'dist'))).toEqual(readTree(path.join(ROOT, 'dist')));
    expect(sh(user, 'npx meshfed synth --check').code).toBe(0);
  });
});
