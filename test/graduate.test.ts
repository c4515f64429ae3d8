/**
 * meshfed graduate: after 07-finalize, clusters/ as greenfield declarations whose render is 07-finalize's
 * end state byte for byte (every object of the phase folder and its import folders, as kustomize prints
 * it), without the migration's own Jobs and their RBAC; and a service shared afterwards goes in there.
 */
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import { load } from 'js-yaml';
import { parseAllDocuments, parseDocument } from 'yaml';

import { copyTree, EXAMPLE_CLUSTERS } from './support/fixtures';
import { runCli } from './support/synth';
import { runGraduate } from '../lib/cli/graduate';

const PRODUCTION = path.join(__dirname, '..', 'examples', 'production-smcp', 'clusters');
const tmp = (name: string) => path.join(fs.mkdtempSync(path.join(os.tmpdir(), `meshfed-grad-${name}-`)), name);

/** meshfed's own migration machinery: the hand-over, restart and verify Jobs and what they run as. */
const MACHINERY = /^meshfed-(handover|restart-workloads|restart-for-network|verify)/;

function edit(file: string, fn: (doc: ReturnType<typeof parseDocument>) => void): void {
  const doc = parseDocument(fs.readFileSync(file, 'utf8'));
  fn(doc);
  fs.writeFileSync(file, doc.toString());
}

/** Every cluster at 07-finalize, and (production) the addons 07 would delete switched off as MF016 asks. */
function finished(from: string): string {
  const dir = copyTree(from);
  for (const c of fs.readdirSync(dir).filter((c) => fs.existsSync(path.join(dir, c, 'cluster.yaml'))))
    edit(path.join(dir, c, 'cluster.yaml'), (d) => d.setIn(['spec', 'phase'], '07-finalize'));
  const smcp = path.join(dir, 'east', 'ossm2', 'smcp.yaml');
  if (from === PRODUCTION)
    edit(smcp, (d) => {
      for (const at of [['spec'], ['status', 'appliedSpec']]) {
        d.setIn([...at, 'addons', 'grafana', 'enabled'], false);
        d.setIn([...at, 'tracing', 'type'], 'None');
      }
    });
  return dir;
}

/** The objects of a cluster's state, as `kubectl kustomize` prints each, keyed by kind/namespace/name. */
function state(dist: string, cluster: string, phase: string): Map<string, string> {
  const dirs = [path.join(dist, cluster, phase)];
  const imports = path.join(dist, cluster, 'imports');
  if (fs.existsSync(imports)) dirs.push(...fs.readdirSync(imports).map((d) => path.join(imports, d)));
  const out = new Map<string, string>();
  for (const d of dirs) {
    const text = execFileSync('kubectl', ['kustomize', d], { encoding: 'utf8', maxBuffer: 1 << 28 });
    for (const doc of text.split(/^---\n/m).filter((t) => t.trim())) {
      const o = load(doc) as { kind: string; metadata: { name: string; namespace?: string } };
      out.set(`${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`, doc);
    }
  }
  return out;
}

const withoutMachinery = (m: Map<string, string>) => new Map([...m].filter(([k]) => !MACHINERY.test(k.split('/')[2])));

describe.each([
  ['the bundled example', EXAMPLE_CLUSTERS],
  ['a production SMCP (gateways, Routes, addons replaced, STRICT)', PRODUCTION],
])('%s at 07-finalize, graduated', (_name, from) => {
  const clusters = finished(from);
  const migrated = tmp('dist');
  const graduated = tmp('clusters');
  const rendered = tmp('dist');
  const env = { MESHFED_CACHE: '0' };
  expect(runCli(['--clusters', clusters, '--out', migrated], env).code).toBe(0);
  const err = jest.spyOn(console, 'error').mockImplementation(() => undefined);
  const code = runGraduate(['--clusters', clusters, '--to', graduated], {});
  err.mockRestore();
  const synth = runCli(['--clusters', graduated, '--out', rendered], env);

  test('graduate writes greenfield declarations that synth renders without errors', () => {
    expect(code).toBe(0);
    expect(synth.stderr).not.toMatch(/^error/m);
    expect(synth.code).toBe(0);
    for (const c of ['east', 'west']) {
      for (const f of ['cluster.yaml', 'control-plane.yaml', 'federation/federation.yaml', 'inventory/inventory.yaml', 'root-cert.pem'])
        expect(fs.existsSync(path.join(graduated, c, f))).toBe(true);
      expect(fs.readFileSync(path.join(graduated, c, 'cluster.yaml'), 'utf8')).toMatch(/mode: greenfield[\s\S]*onInstall: false/);
    }
  });

  test("every object of 07-finalize and its import folders, byte for byte; nothing else but meshfed's verify hook", () => {
    for (const c of ['east', 'west']) {
      const before = withoutMachinery(state(migrated, c, '07-finalize'));
      const after = state(rendered, c, 'multicluster');
      const extra = [...after.keys()].filter((k) => !before.has(k));
      expect({ c, extra: extra.filter((k) => !/^(Job|Role|RoleBinding|ServiceAccount)\/[^/]*\/meshfed-verify/.test(k)) }).toEqual({
        c,
        extra: [],
      });
      // Nothing restarts: the workloads already run on the revision.
      expect(extra.filter((k) => k.includes('restart'))).toEqual([]);
      for (const [k, text] of before) expect({ k, text: after.get(k) }).toEqual({ k, text });
      expect(before.size).toBeGreaterThan(10);
    }
  });
});

test('refuses before every cluster is at 07-finalize, and a --to folder that is not empty', () => {
  const err: string[] = [];
  const spy = jest.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(a.join(' ')));
  try {
    expect(runGraduate(['--clusters', EXAMPLE_CLUSTERS, '--to', tmp('x')], {})).toBe(1);
    expect(err.join('\n')).toContain('graduate needs every cluster at 07-finalize; east is at 00-federation, west is at 00-federation');
    const full = tmp('full');
    fs.mkdirSync(full);
    fs.writeFileSync(path.join(full, 'keep.txt'), 'x');
    expect(runGraduate(['--clusters', finished(EXAMPLE_CLUSTERS), '--to', full], {})).toBe(2);
    expect(err.join('\n')).toContain(`refused: --to ${full} is not empty and not a folder meshfed wrote; it holds 1 entry: keep.txt.`);
    expect(fs.readdirSync(full)).toEqual(['keep.txt']);
  } finally {
    spy.mockRestore();
  }
});

test('after graduating, a service shared from the declaration is a hunk in the importer’s import folder', () => {
  const graduated = tmp('clusters');
  const spy = jest.spyOn(console, 'error').mockImplementation(() => undefined);
  expect(runGraduate(['--clusters', finished(EXAMPLE_CLUSTERS), '--to', graduated], {})).toBe(0);
  spy.mockRestore();
  const out = tmp('dist');
  const env = { MESHFED_CACHE: '0' };
  expect(runCli(['--clusters', graduated, '--out', out], env).code).toBe(0);
  const before = fs.readFileSync(path.join(out, 'east', 'imports', 'west', 'istio-system.yaml'), 'utf8');
  fs.appendFileSync(
    path.join(graduated, 'west', 'inventory', 'inventory.yaml'),
    '---\napiVersion: v1\nkind: Service\nmetadata: {name: echo, namespace: a}\nspec: {selector: {app: echo}, ports: [{name: http, port: 8080}]}\n' +
      '---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: echo, namespace: a}\nspec:\n  selector: {matchLabels: {app: echo}}\n' +
      '  template:\n    metadata: {labels: {app: echo}}\n    spec: {serviceAccountName: echo, containers: [{name: echo, image: example/echo}]}\n',
  );
  const fed = path.join(graduated, 'west', 'federation', 'federation.yaml');
  const docs = parseAllDocuments(fs.readFileSync(fed, 'utf8'));
  const ess = docs.find((d) => d.get('kind') === 'ExportedServiceSet')!;
  ess.addIn(['spec', 'exportRules'], ess.createNode({ type: 'NameSelector', nameSelector: { namespace: 'a', name: 'echo' } }));
  fs.writeFileSync(fed, docs.map((d) => d.toString()).join('---\n'));
  const res = runCli(['--clusters', graduated, '--out', out], env);
  expect(res.code).toBe(0);
  const after = fs.readFileSync(path.join(out, 'east', 'imports', 'west', 'istio-system.yaml'), 'utf8');
  expect(after).not.toBe(before);
  expect(after).toContain('- echo.a.svc.west-mesh-imports.local');
  expect(res.stderr).toMatch(/0 new, \d+ changed, 0 removed/);
});

test('through the bin: graduate --json lists what it wrote', () => {
  const to = tmp('clusters');
  const res = spawnSync(
    'node',
    [path.join(__dirname, '..', 'bin', 'meshfed.js'), 'graduate', '--clusters', finished(EXAMPLE_CLUSTERS), '--to', to, '--json'],
    {
      encoding: 'utf8',
    },
  );
  expect(res.status).toBe(0);
  const report = JSON.parse(res.stdout) as { to: string; files: string[] };
  expect(report.files).toEqual(expect.arrayContaining(['east/control-plane.yaml', 'west/inventory/inventory.yaml', 'gitops.yaml']));
  expect(res.stderr).toContain('2 cluster(s) graduated');
});
