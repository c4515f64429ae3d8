/**
 * The package as a user installs it: `npm pack` (which builds build/), then `npm install <tarball>` in a scratch
 * folder (a copy, not a symbolic link). `npx meshfed synth` there renders the repository's dist/ with no
 * TypeScript at run time, and examples/cdk8s-app, compiled against the installed declarations, renders the same
 * dist/ plus its own objects, with its Aspect applied to every object; its greenfield.ts, the typed constructs, renders
 * what examples/greenfield renders.
 */
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import { runGraduate } from '../../lib/cli/graduate';
import { render } from '../../lib/pipeline/render';
import { buildIsCurrent } from '../support/build';
import { finished, PRODUCTION } from '../support/graduate';
import { find, kustomize } from '../support/kube';
import { readTree } from '../support/synth';

const ROOT = path.join(__dirname, '..', '..');
/** How many files the repository's committed dist/ holds (what the CLI renders from clusters/). */
const COMMITTED = fs.readdirSync(path.join(ROOT, 'dist'), { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).length;
/** The compiled lib/ in the tarball. */
const BUILD = 'package/build/lib';
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'meshfed-pack-'));
let tarball = '';

/** npm install from the cache where it can (npm ci filled it); the registry answers what the cache lacks (package metadata). */
function npmInstall(cwd: string, ...specs: string[]): void {
  execFileSync('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', ...specs], { cwd, stdio: 'pipe' });
}

function scratch(name: string, pkg: object): string {
  const dir = path.join(work, name);
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify(pkg, null, 2));
  fs.cpSync(path.join(ROOT, 'clusters'), path.join(dir, 'clusters'), { recursive: true });
  return dir;
}

beforeAll(() => {
  // npm pack runs prepare (npm run build) first; a build/ that bin/sources.js finds compiled from the sources as they
  // are is what that build would write again, so it is packed as it is (a stale or missing one is rebuilt).
  const current = buildIsCurrent();
  const packed = execFileSync('npm', ['pack', '--pack-destination', work, '--silent', ...(current ? ['--ignore-scripts'] : [])], {
    cwd: ROOT,
    encoding: 'utf8',
    stdio: 'pipe',
  });
  tarball = path.join(work, packed.trim().split('\n').pop()!);
}, 600_000);

test('the tarball holds the compiled code, its declarations, the bin and the schemas, and no TypeScript source', () => {
  const files = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' }).trim().split('\n');
  expect(files).toEqual(
    expect.arrayContaining([
      'package/bin/meshfed.js',
      `${BUILD}/index.js`,
      `${BUILD}/index.d.ts`,
      `${BUILD}/federation/federation.d.ts`,
      'package/schema/cluster-settings.schema.json',
      'package/schema/gitops-settings.schema.json',
    ]),
  );
  expect(files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([]);
});

test('installed from the tarball, npx meshfed synth renders what the repository renders, without tsx or TypeScript', () => {
  const user = scratch('user', { name: 'user', private: true });
  npmInstall(user, tarball);
  expect(fs.lstatSync(path.join(user, 'node_modules', 'meshfed')).isSymbolicLink()).toBe(false);
  for (const compiler of ['tsx', 'typescript', 'ts-node']) expect(fs.existsSync(path.join(user, 'node_modules', compiler))).toBe(false);
  const res = spawnSync('npx', ['meshfed', 'synth'], { cwd: user, encoding: 'utf8', env: { ...process.env, MESHFED_CACHE: '0' } });
  expect(res.stderr).toContain(`meshfed: 2 cluster(s), 16 phase overlay(s), ${COMMITTED} file(s) in dist/: ${COMMITTED} new`);
  expect(res.status).toBe(0);
  expect(readTree(path.join(user, 'dist'))).toEqual(readTree(path.join(ROOT, 'dist')));
  const version = spawnSync('npx', ['meshfed', '--version'], { cwd: user, encoding: 'utf8' });
  expect(version.stdout.trim()).toBe(
    `meshfed ${(JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version}`,
  );
}, 300_000);

/** examples/cdk8s-app with meshfed installed from the tarball, compiled (type-checked against build/lib/*.d.ts). */
let installed: string | undefined;
function exampleApp(): string {
  if (installed) return installed;
  const example = path.join(ROOT, 'examples', 'cdk8s-app');
  const app = scratch('app', JSON.parse(fs.readFileSync(path.join(example, 'package.json'), 'utf8')));
  for (const f of ['main.ts', 'greenfield.ts', 'tsconfig.json', 'cdk8s.yaml']) fs.copyFileSync(path.join(example, f), path.join(app, f));
  npmInstall(app, tarball);
  // Type-checked against the installed declarations (build/lib/*.d.ts), then run as JavaScript.
  execFileSync('npx', ['tsc'], { cwd: app, stdio: 'pipe' });
  return (installed = app);
}

test("examples/cdk8s-app against the installed package: the CLI's dist/ plus the app's objects, every object labelled", () => {
  const app = exampleApp();
  const res = spawnSync(process.execPath, ['main.js'], { cwd: app, encoding: 'utf8', env: { ...process.env, MESHFED_CACHE: '0' } });
  // The CLI's files and the app's two: its Namespace's file on east and its ConfigMap's on west.
  expect(res.stderr).toContain(`meshfed: 2 cluster(s), 16 phase overlay(s), ${COMMITTED + 2} file(s) in dist/: ${COMMITTED + 2} new`);
  expect(res.status).toBe(0);
  expect(fs.readdirSync(path.join(app, 'cdk8s.out'))).toEqual([]);

  // Without the Aspect's label, every file is the repository's but those the app's objects went to.
  const rendered = readTree(path.join(app, 'dist'));
  // The objects GitOps applies: phase folders and import folders (not patches, peer bundles, Argo CD or Flux objects).
  const objectFile = (f: string) => /^[^/]+\/(\d\d-[^/]+|imports\/[^/]+)\/[^/]+\.yaml$/.test(f) && !f.endsWith('kustomization.yaml');
  for (const [f, text] of rendered)
    if (objectFile(f) && /^kind: /m.test(text))
      for (const doc of text.split(/^---$/m).filter((d) => /^kind: /m.test(d)))
        expect(`${f}: ${doc.includes('example.com/owner: platform')}`).toBe(`${f}: true`);
  const label = /^( *)labels:\n\1 {2}example\.com\/owner: platform\n(?!\1 {2}\S)|^ *example\.com\/owner: platform\n/gm;
  const unlabelled = new Map([...rendered].map(([f, text]) => [f, text.replace(label, '')]));
  const differ = [...unlabelled].filter(([f, text]) => readTree(path.join(ROOT, 'dist')).get(f) !== text).map(([f]) => f);
  expect(differ.sort()).toEqual(
    [
      'east/06-migrate-workloads/_cluster.yaml',
      'east/06-migrate-workloads/kustomization.yaml',
      'east/06-migrate-workloads/mesh-canary.yaml',
      'plan.json',
      'west/02-export/istio-system.yaml',
      'west/02-export/kustomization.yaml',
      'west/05-install-ossm3/kustomization.yaml',
    ].sort(),
  );

  const at = (cluster: string, phase: string) => kustomize(path.join(app, 'dist', cluster, phase));
  expect(find(at('east', '05-install-ossm3'), 'Deployment', 'canary', 'mesh-canary')).toBeUndefined();
  for (const phase of ['06-migrate-workloads', '07-finalize']) {
    expect(find(at('east', phase), 'Deployment', 'canary', 'mesh-canary')).toBeDefined();
    expect(find(at('east', phase), 'Service', 'canary', 'mesh-canary')).toBeDefined();
    expect(find(at('east', phase), 'Namespace', 'mesh-canary')).toBeDefined();
  }
  expect(find(at('west', '04-remove-federation'), 'ConfigMap', 'export-in-flight', 'istio-system')).toBeDefined();
  expect(find(at('west', '05-install-ossm3'), 'ConfigMap', 'export-in-flight', 'istio-system')).toBeUndefined();
}, 300_000);

test('examples/cdk8s-app/greenfield.ts against the installed package: the typed mesh pair renders what examples/greenfield renders', () => {
  const app = exampleApp();
  fs.cpSync(path.join(ROOT, 'examples', 'greenfield', 'clusters'), path.join(app, 'greenfield'), { recursive: true });
  const env = { ...process.env, MESHFED_GREENFIELD: 'greenfield', MESHFED_OUT: 'dist-greenfield' };
  const res = spawnSync(process.execPath, ['greenfield.js'], { cwd: app, encoding: 'utf8', env });
  expect(res.stderr).toContain('meshfed: 2 cluster(s), 2 phase overlay(s), 16 file(s) in dist-greenfield/: 16 new');
  expect(res.status).toBe(0);
  expect(readTree(path.join(app, 'dist-greenfield'))).toEqual(new Map(render(path.join(ROOT, 'examples', 'greenfield', 'clusters')).files));
}, 300_000);

test('graduate --format ts of a finished production migration type-checks against the installed declarations', () => {
  const app = exampleApp();
  const to = path.join(app, 'graduated');
  const spy = jest.spyOn(console, 'error').mockImplementation(() => undefined);
  try {
    expect(runGraduate(['--clusters', finished(PRODUCTION), '--to', to, '--format', 'ts'], {})).toBe(0);
  } finally {
    spy.mockRestore();
  }
  const tsconfig = { extends: './tsconfig.json', compilerOptions: { noEmit: true }, include: ['graduated/main.ts'] };
  fs.writeFileSync(path.join(app, 'tsconfig.graduated.json'), JSON.stringify(tsconfig));
  const res = spawnSync('npx', ['tsc', '-p', 'tsconfig.graduated.json'], { cwd: app, encoding: 'utf8' });
  expect(res.stdout + res.stderr).toBe('');
  expect(res.status).toBe(0);
}, 300_000);
