/**
 * The user's loop: a committed dist/ that CI can prove current (synth --check), warnings that fail a
 * strict run or are acknowledged once, and no leftovers of a synth killed mid-write.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import { parseDocument } from 'yaml';

import { copyTree, EXAMPLE_CLUSTERS } from './support/fixtures';
import { readTree, runCli } from './support/synth';
import { filesHash, treeHash } from '../lib/cli/synth-memo';

const ROOT = path.join(__dirname, '..');
const PRODUCTION = path.join(ROOT, 'examples', 'production-smcp', 'clusters');
const tmpOut = () => path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'meshfed-loop-')), 'dist');

describe('synth --check', () => {
  test("the committed dist/ is what clusters/ renders (the repository's own stale-render gate)", () => {
    const res = runCli(['--check', '--clusters', EXAMPLE_CLUSTERS, '--out', path.join(ROOT, 'dist')]);
    expect(res.stderr).toContain('dist/ is up to date');
    expect(res.code).toBe(0);
  });
  test('lists missing, different and extra files, exits 1 and writes nothing', () => {
    const out = tmpOut();
    expect(runCli(['--clusters', EXAMPLE_CLUSTERS, '--out', out]).code).toBe(0);
    fs.appendFileSync(path.join(out, 'east', '00-federation', 'kustomization.yaml'), '# edited\n');
    fs.rmSync(path.join(out, 'plan.json'));
    fs.writeFileSync(path.join(out, 'east', 'stray.yaml'), 'x: 1\n');
    const before = readTree(out);
    const res = runCli(['--check', '--clusters', EXAMPLE_CLUSTERS, '--out', out]);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain(`  + ${out}/plan.json`);
    expect(res.stderr).toContain(`  ~ ${out}/east/00-federation/kustomization.yaml`);
    expect(res.stderr).toContain(`  - ${out}/east/stray.yaml`);
    expect(res.stderr).toContain('1 missing, 1 different, 1 extra file(s)');
    expect(readTree(out)).toEqual(before);
  });
});

describe('warnings: --strict and spec.acknowledge', () => {
  test('--strict fails on warnings and writes nothing', () => {
    const out = tmpOut();
    const res = runCli(['--strict', '--clusters', PRODUCTION, '--out', out]);
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/meshfed: --strict: \d+ warning\(s\) \(above\); nothing was written/);
    expect(fs.existsSync(out)).toBe(false);
  });
  test('acknowledged warnings are not printed again, plan.json keeps them; errors are never silenced', () => {
    const dir = copyTree(PRODUCTION);
    const f = path.join(dir, 'east', 'cluster.yaml');
    const doc = parseDocument(fs.readFileSync(f, 'utf8'));
    doc.setIn(['spec', 'acknowledge'], ['MF016', 'MF018']);
    fs.writeFileSync(f, doc.toString());
    const out = tmpOut();
    const res = runCli(['--strict', '--clusters', dir, '--out', out]);
    expect(res.stderr).not.toMatch(/MF01[68]/);
    expect(res.code).toBe(0);
    const plan = JSON.parse(fs.readFileSync(path.join(out, 'plan.json'), 'utf8')) as {
      findings: { rule: string; acknowledged?: boolean }[];
    };
    expect(plan.findings.filter((x) => x.rule === 'MF016').every((x) => x.acknowledged)).toBe(true);
    expect(plan.findings.filter((x) => x.rule === 'MF016').length).toBeGreaterThan(0);
    // An error of an acknowledged rule still stops synth.
    doc.setIn(['spec', 'phase'], '00-federation');
    const svc = {
      apiVersion: 'networking.istio.io/v1beta1',
      kind: 'ServiceEntry',
      metadata: { name: 'no-ports', namespace: 'client' },
      spec: { hosts: ['legacy.example.com'], location: 'MESH_EXTERNAL', resolution: 'DNS' },
    };
    fs.writeFileSync(path.join(dir, 'east', 'ossm2', 'extra.yaml'), JSON.stringify(svc));
    const failed = runCli(['--clusters', dir, '--out', tmpOut()]);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain('MF016 [east');
  });
});

test('a synth removes the temporary folders a killed synth left, but not those of one still running', () => {
  const out = tmpOut();
  const parent = path.dirname(out);
  const dead = 2 ** 22 + 12345; // above the default pid_max: no such process
  for (const name of [`.dist.meshfed-new-${dead}-Ab12Cd`, `.dist.meshfed-old-${dead}`, '.dist.meshfed-old-1'])
    fs.mkdirSync(path.join(parent, name, 'east'), { recursive: true });
  expect(runCli(['--clusters', EXAMPLE_CLUSTERS, '--out', out]).code).toBe(0);
  // pid 1 runs (or cannot be signalled, EPERM): its folder is left alone.
  expect(fs.readdirSync(parent).sort()).toEqual(['.dist.meshfed-old-1', 'dist']);
  const ignored = fs.readFileSync(path.join(ROOT, '.gitignore'), 'utf8');
  expect(ignored).toContain('.*.meshfed-new-*/');
  expect(ignored).toContain('.*.meshfed-old-*/');
});

test('meshfed --version prints the package version', () => {
  const res = spawnSync('node', [path.join(ROOT, 'bin', 'meshfed.js'), '--version'], { encoding: 'utf8' });
  const version = (JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
  expect(res.stdout).toBe(`meshfed ${version}\n`);
  expect(res.status).toBe(0);
});

describe('the runbook at 3 a.m.: dist/<cluster>/RUNBOOK.md', () => {
  const out = tmpOut();
  let res: ReturnType<typeof runCli>;
  beforeAll(() => {
    const dir = copyTree(PRODUCTION);
    const f = path.join(dir, 'east', 'cluster.yaml');
    const doc = parseDocument(fs.readFileSync(f, 'utf8'));
    doc.setIn(['spec', 'phase'], '05-install-ossm3');
    doc.setIn(['spec', 'ossm3', 'namespace'], 'istio-system');
    fs.writeFileSync(f, doc.toString());
    const wf = path.join(dir, 'west', 'cluster.yaml');
    const wdoc = parseDocument(fs.readFileSync(wf, 'utf8'));
    wdoc.setIn(['spec', 'phase'], '05-install-ossm3');
    fs.writeFileSync(wf, wdoc.toString());
    res = runCli(['--clusters', dir, '--out', out]);
  });
  test('one per cluster: where it is, the next step, its gate, concrete commands, abort criteria, rollback table', () => {
    expect(res.code).toBe(0);
    const east = fs.readFileSync(path.join(out, 'east', 'RUNBOOK.md'), 'utf8');
    expect(east).toContain('**Where it is.** `spec.phase: 05-install-ossm3`');
    expect(east).toContain('**Next.** `06-migrate-workloads`');
    expect(east).toMatch(/\*\*Gate\.\*\* west at `02-export` or later/);
    // Concrete: the real control-plane namespace and istiod revision, the takeover gateways.
    expect(east).toContain('kubectl --context east get istio default -o jsonpath=');
    expect(east).toContain('istioctl --context east -i istio-system proxy-status');
    expect(east).toContain('kubectl --context east get endpoints istio-ingressgateway -n istio-system');
    expect(east).toContain('**Abort**');
    expect(east).toContain('| verification or traffic fails | Set `spec.phase: 05-install-ossm3`, synth, commit.');
    expect(fs.existsSync(path.join(out, 'west', 'RUNBOOK.md'))).toBe(true);
  });
});

test('a rollback refusal names the cluster that rolled back and which one must roll back first', () => {
  const dir = copyTree(EXAMPLE_CLUSTERS);
  const setPhase = (c: string, phase: string) => {
    const f = path.join(dir, c, 'cluster.yaml');
    const doc = parseDocument(fs.readFileSync(f, 'utf8'));
    doc.setIn(['spec', 'phase'], phase);
    fs.writeFileSync(f, doc.toString());
  };
  const out = tmpOut();
  for (const [c, phase] of [
    ['west', '01-prepare'],
    ['east', '01-prepare'],
    ['west', '02-export'],
    ['east', '02-export'],
    ['east', '03-import'],
  ]) {
    setPhase(c, phase);
    expect(runCli(['--clusters', dir, '--out', out]).code).toBe(0);
  }
  setPhase('west', '01-prepare');
  const res = runCli(['--clusters', dir, '--out', out]);
  expect(res.code).toBe(1);
  expect(res.stderr).toContain('west/cluster.yaml');
  expect(res.stderr).toContain(
    'west cannot roll back from 02-export to 01-prepare yet: east (at 03-import) needs west at 02-export or later',
  );
  // The hint names the file under the --clusters folder this run was given.
  expect(res.stderr).toContain(`Roll east back first (spec.phase in ${dir}/east/cluster.yaml, to a phase before 03-import)`);
});

test('a trust domain copied from another ServiceMeshPeer is reported at the copy, with the mesh no peer names', () => {
  const dir = copyTree(path.join(ROOT, 'examples', 'three-meshes', 'clusters'));
  const f = path.join(dir, 'red', 'ossm2', 'federation.yaml');
  // red's green-mesh peer gets blue's trust domain: green-mesh is the wrong one, whatever the order.
  fs.writeFileSync(f, fs.readFileSync(f, 'utf8').replace('trustDomain: green-mesh.local', 'trustDomain: blue-mesh.local'));
  const res = runCli(['--clusters', dir, '--out', tmpOut()]);
  expect(res.code).toBe(1);
  expect(res.stderr).toContain('ServiceMeshPeer red-mesh-system/green-mesh, field spec.security.trustDomain');
  expect(res.stderr).toContain('ServiceMeshPeers blue-mesh and green-mesh both name trust domain "blue-mesh.local" (blue)');
  expect(res.stderr).toContain('(no ServiceMeshPeer names green (green-mesh.local))');
});

describe('re-running synth', () => {
  const stat = (dir: string) =>
    new Map(
      [...readTree(dir).keys()].map((f) => {
        const s = fs.statSync(path.join(dir, f));
        return [f, `${s.ino}/${s.mtimeMs}`];
      }),
    );
  const cache = () => ({ MESHFED_CACHE_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'meshfed-cache-')) });

  test('on unchanged input rewrites nothing (same inodes and mtimes); a change touches only its files', () => {
    const dir = copyTree(PRODUCTION);
    const out = tmpOut();
    const env = { MESHFED_CACHE: '0' };
    expect(runCli(['--clusters', dir, '--out', out], env).code).toBe(0);
    const first = stat(out);
    const again = runCli(['--clusters', dir, '--out', out], env);
    expect(again.stderr).toContain('all unchanged, nothing written');
    expect(stat(out)).toEqual(first);
    // One more verify URL for west: its plan, runbook and verify Jobs change; east's files stay as they are.
    const f = path.join(dir, 'west', 'cluster.yaml');
    const doc = parseDocument(fs.readFileSync(f, 'utf8'));
    doc.setIn(['spec', 'workloadRestart', 'image'], 'quay.io/openshift/origin-cli:4.20');
    fs.writeFileSync(f, doc.toString());
    const changed = runCli(['--clusters', dir, '--out', out], env);
    expect(changed.code).toBe(0);
    const after = stat(out);
    const touched = [...after].filter(([file, id]) => first.get(file) !== id).map(([file]) => file);
    expect(touched.length).toBeGreaterThan(0);
    expect(touched.filter((file) => file.startsWith('east/'))).toEqual([]);
    expect(changed.stderr).toMatch(new RegExp(`0 new, ${touched.length} changed, 0 removed, ${after.size - touched.length} unchanged`));
  });

  test('with its stamp: renders nothing, prints the same warnings; an edited dist/ or input renders in full', () => {
    const dir = copyTree(PRODUCTION);
    const out = tmpOut();
    const env = cache();
    const first = runCli(['--clusters', dir, '--out', out], env);
    const warnings = first.stderr.split('\n').filter((l) => l.startsWith('warning'));
    expect(warnings.length).toBeGreaterThan(0);
    const again = runCli(['--clusters', dir, '--out', out], env);
    expect(again.stderr).toContain('nothing rendered, nothing written');
    expect(again.stderr.split('\n').filter((l) => l.startsWith('warning'))).toEqual(warnings);
    expect(runCli(['--strict', '--clusters', dir, '--out', out], env).code).toBe(1);
    // dist/ edited by hand: not what the stamp recorded, so synth renders and restores it.
    const plan = path.join(out, 'east', 'RUNBOOK.md');
    const text = fs.readFileSync(plan, 'utf8');
    fs.writeFileSync(plan, `${text}edited\n`);
    const restored = runCli(['--clusters', dir, '--out', out], env);
    expect(restored.stderr).not.toContain('nothing rendered');
    expect(fs.readFileSync(plan, 'utf8')).toBe(text);
    // Input edited: rendered again.
    fs.appendFileSync(path.join(dir, 'east', 'cluster.yaml'), '# a comment\n');
    expect(runCli(['--clusters', dir, '--out', out], env).stderr).not.toContain('nothing rendered');
    expect(runCli(['--clusters', dir, '--out', out], { ...env, MESHFED_CACHE: '0' }).stderr).not.toContain('nothing rendered');
  });
});

describe('synth --json', () => {
  test('the result on stdout: clusters, files written, warnings', () => {
    const out = tmpOut();
    const res = runCli(['--json', '--clusters', EXAMPLE_CLUSTERS, '--out', out], { MESHFED_CACHE: '0' });
    const report = JSON.parse(res.stdout) as {
      ok: boolean;
      exitCode: number;
      clusters: Record<string, { current: string; written: string[] }>;
      files: { total: number; added: string[] };
    };
    expect(report.ok).toBe(true);
    expect(report.exitCode).toBe(0);
    expect(report.clusters.east.current).toBe('00-federation');
    expect(report.clusters.east.written).toContain('07-finalize');
    expect(report.files.added).toContain('east/07-finalize/kustomization.yaml');
    expect(report.files.total).toBe(readTree(out).size);
  });
  test('an unchanged re-run that the stamp stops early reports what the first run did: warnings, findings, clusters, notes', () => {
    const env = { MESHFED_CACHE_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'meshfed-cache-')) };
    const out = tmpOut();
    // Findings (MF rules) and a warning: west's east-west address is its old federation ingress gateway's.
    const dir = copyTree(PRODUCTION);
    const f = path.join(dir, 'west', 'cluster.yaml');
    fs.writeFileSync(f, fs.readFileSync(f, 'utf8').replace('    address: 198.51.100.20', '    address: 198.51.100.11'));
    const run = () => JSON.parse(runCli(['--json', '--clusters', dir, '--out', out], env).stdout) as Record<string, unknown>;
    const { files: written, ...first } = run();
    const { files: kept, unchanged, ...again } = run();
    expect(unchanged).toBe(true);
    expect((first.warnings as unknown[]).length).toBeGreaterThan(0);
    expect((first.findings as unknown[]).length).toBeGreaterThan(0);
    expect(again.warnings).toEqual(first.warnings);
    expect(again.findings).toEqual(first.findings);
    expect(again).toEqual(first);
    const total = (written as { total: number }).total;
    expect(kept).toEqual({ total, added: [], changed: [], removed: [], unchanged: total });
  });

  test('an input error: ok false, the error with its file, nothing written', () => {
    const dir = copyTree(EXAMPLE_CLUSTERS);
    fs.writeFileSync(path.join(dir, 'east', 'cluster.yaml'), 'apiVersion: meshfed.dev/v1alpha1\nkind: ClusterSettings\nspec: {}\n');
    const out = tmpOut();
    const res = runCli(['--json', '--clusters', dir, '--out', out]);
    const report = JSON.parse(res.stdout) as { ok: boolean; exitCode: number; errors: { location?: { file: string } }[] };
    expect(res.code).toBe(1);
    expect(report.ok).toBe(false);
    expect(report.exitCode).toBe(1);
    expect(report.errors.some((e) => e.location?.file === path.join(dir, 'east', 'cluster.yaml'))).toBe(true);
    expect(fs.existsSync(out)).toBe(false);
  });
});

test('the stamp hashes a folder as synth hashes its files, whatever the names sort like', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshfed-hash-'));
  const files = new Map([
    ['patches/istio-system.yaml', 'a'],
    ['patches/istio-system/x.json6902.yaml', 'b'],
    ['m00-apps.yaml', 'c'],
    ['m00/kustomization.yaml', 'd'],
  ]);
  for (const [f, c] of files) {
    fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
    fs.writeFileSync(path.join(dir, f), c);
  }
  expect(treeHash(dir)).toBe(filesHash(files));
});

test('after 07-finalize: one more shared service is a hunk in existing files, nothing renamed, the rest untouched', () => {
  const dir = copyTree(EXAMPLE_CLUSTERS);
  const setIn = (file: string, at: (string | number)[], value: unknown) => {
    const doc = parseDocument(fs.readFileSync(file, 'utf8'));
    doc.setIn(at, value);
    fs.writeFileSync(file, doc.toString());
  };
  for (const c of ['east', 'west']) setIn(path.join(dir, c, 'cluster.yaml'), ['spec', 'phase'], '07-finalize');
  const out = tmpOut();
  const env = { MESHFED_CACHE: '0' };
  expect(runCli(['--clusters', dir, '--out', out], env).code).toBe(0);
  const before = readTree(out);
  // west shares echo in namespace a (east imports all of a): its Service and identity, and an export rule.
  fs.writeFileSync(
    path.join(dir, 'west', 'ossm2', 'echo.yaml'),
    [
      'apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: echo, namespace: a}',
      'apiVersion: v1\nkind: Service\nmetadata: {name: echo, namespace: a, labels: {app: echo}}\n' +
        'spec: {selector: {app: echo}, ports: [{name: http, port: 8080, targetPort: 8080}]}',
      'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: echo, namespace: a}\nspec:\n  selector: {matchLabels: {app: echo}}\n' +
        // Injected, as every shared workload must be (MF001: a sidecar-less export loses its endpoints across networks).
        "  template:\n    metadata: {labels: {app: echo}, annotations: {sidecar.istio.io/inject: 'true'}}\n" +
        '    spec: {serviceAccountName: echo, containers: [{name: echo, image: example/echo}]}',
    ].join('\n---\n') + '\n',
  );
  const fed = path.join(dir, 'west', 'ossm2', 'federation.yaml');
  const doc = parseDocument(fs.readFileSync(fed, 'utf8'));
  const items = doc.get('items') as { items: { get: (k: string) => unknown }[] };
  const ess = items.items.findIndex((i) => i.get('kind') === 'ExportedServiceSet');
  doc.addIn(
    ['items', ess, 'spec', 'exportRules'],
    doc.createNode({ type: 'NameSelector', nameSelector: { namespace: 'a', name: 'echo' } }),
  );
  fs.writeFileSync(fed, doc.toString());
  const res = runCli(['--clusters', dir, '--out', out], env);
  expect(res.code).toBe(0);
  const after = readTree(out);
  expect([...after.keys()]).toEqual([...before.keys()]);
  const changed = [...after.keys()].filter((f) => after.get(f) !== before.get(f));
  expect(changed).toContain('east/imports/west/istio-system.yaml');
  expect(changed).not.toContain('east/imports/west/kustomization.yaml');
  expect(after.get('east/imports/west/istio-system.yaml')).toContain('hosts:\n  - echo.a.svc.');
  // Nothing in east's phase folders changes: the import folder carries the new service.
  expect(changed.filter((f) => /^east\/0\d-/.test(f))).toEqual([]);
});

test('meshfed --help and collect load no renderer (cdk8s stays unloaded: they answer at once)', () => {
  const probe =
    "require('tsx/cjs'); const { main } = require('./lib/cli/main.ts'); const log = console.log; console.log = () => {};" +
    "main(['--help']); main(['collect', 'east', '--dry-run']); console.log = log;" +
    "console.log(Object.keys(require.cache).filter((k) => k.includes('/node_modules/cdk8s')).length);";
  const res = spawnSync('node', ['-e', probe], { cwd: ROOT, encoding: 'utf8' });
  expect(res.stdout.trim().split('\n').pop()).toBe('0');
});

describe('after synth has replaced dist/, no failure reads as "nothing was written"', () => {
  test('a failure once the new dist/ is in place says that dist/ was written and is complete (exit 3, not 1)', () => {
    const out = tmpOut();
    // The last thing synth does after writing: report timings (MESHFED_TIMING=1).
    const usage = jest.spyOn(process, 'resourceUsage').mockImplementation(() => {
      throw new Error('resourceUsage failed');
    });
    try {
      const res = runCli(['--clusters', EXAMPLE_CLUSTERS, '--out', out], { MESHFED_CACHE: '0', MESHFED_TIMING: '1' });
      expect(res.stderr).toContain(`meshfed: internal error after ${out}/ was written: resourceUsage failed\n`);
      expect(res.stderr).toMatch(new RegExp(`meshfed: ${out}/ was written \\(\\d+ new, 0 changed, 0 removed\\) and is complete`));
      expect(res.stderr).not.toContain('unchanged.');
      expect(res.code).toBe(3);
    } finally {
      usage.mockRestore();
    }
    expect(fs.existsSync(path.join(out, 'plan.json'))).toBe(true);
  });

  test('a previous dist/ that cannot be removed once the new one is in place: exit 0, and synth says where it is', () => {
    const out = tmpOut();
    expect(runCli(['--clusters', EXAMPLE_CLUSTERS, '--out', out], { MESHFED_CACHE: '0' }).code).toBe(0);
    const file = path.join(out, 'east', 'RUNBOOK.md');
    fs.appendFileSync(file, 'edited\n');
    // What atomic.ts and its test see is the same fs module (jest shares core modules).
    const realFs = jest.requireActual<typeof fs>('fs');
    const rmSync = realFs.rmSync;
    const rm = jest.spyOn(realFs, 'rmSync').mockImplementation((p, o) => {
      if (String(p).includes('.meshfed-old-')) throw new Error('EACCES: permission denied');
      rmSync(p, o);
    });
    let res: ReturnType<typeof runCli>;
    try {
      res = runCli(['--clusters', EXAMPLE_CLUSTERS, '--out', out], { MESHFED_CACHE: '0' });
    } finally {
      rm.mockRestore();
    }
    const left = path.join(path.dirname(out), `.dist.meshfed-old-${process.pid}`);
    expect(res.stderr).toContain(`meshfed: the previous ${out}/ could not be removed, the next synth removes it: ${left}: EACCES`);
    expect(res.code).toBe(0);
    expect(fs.readFileSync(file, 'utf8')).not.toContain('edited');
    expect(fs.existsSync(left)).toBe(true);
    expect(runCli(['--clusters', EXAMPLE_CLUSTERS, '--out', out], { MESHFED_CACHE: '0' }).code).toBe(0);
    expect(fs.existsSync(left)).toBe(false);
  });
});
