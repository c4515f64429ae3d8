/**
 * meshfed graduate: after 07-finalize, clusters/ as greenfield declarations whose render is 07-finalize's
 * end state byte for byte (every object of the phase folder and its import folders, as kustomize prints
 * it), without the migration's own Jobs and their RBAC; and a service shared afterwards goes in there.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import { load } from 'js-yaml';
import { parseAllDocuments } from 'yaml';

import { EXAMPLE_CLUSTERS } from './support/fixtures';
import { finished, PRODUCTION } from './support/graduate';
import { captureConsole, runCli } from './support/synth';
import { runGraduate } from '../lib/cli/graduate';

const tmp = (name: string) => path.join(fs.mkdtempSync(path.join(os.tmpdir(), `meshfed-grad-${name}-`)), name);

/**
 * The objects of a cluster's state, as `kubectl kustomize` prints each, keyed by kind/namespace/name. Each state is built
 * once (the tests below read the same ones).
 */
const states = new Map<string, Map<string, string>>();
function state(dist: string, cluster: string, phase: string): Map<string, string> {
  const key = JSON.stringify([dist, cluster, phase]);
  if (!states.has(key)) states.set(key, printed(dist, cluster, phase));
  return states.get(key)!;
}

function printed(dist: string, cluster: string, phase: string): Map<string, string> {
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

/** Every leaf of a value, by path (`metadata.annotations["a/b"]`, `spec.ports[0].port`); empty maps and lists are leaves. */
function leaves(value: unknown, at = '', out = new Map<string, string>()): Map<string, string> {
  if (Array.isArray(value) && value.length) value.forEach((v, i) => leaves(v, `${at}[${i}]`, out));
  else if (value && typeof value === 'object' && !Array.isArray(value) && Object.keys(value).length)
    for (const [k, v] of Object.entries(value))
      leaves(v, /^[A-Za-z0-9_-]+$/.test(k) ? `${at}${at ? '.' : ''}${k}` : `${at}[${JSON.stringify(k)}]`, out);
  else out.set(at, JSON.stringify(value));
  return out;
}

/**
 * How the graduated render differs from 07-finalize, one line per object only one of them declares and
 * per field of an object both declare whose value differs or that one of them does not declare (under
 * server-side apply a field the manager stops declaring is removed from the live object).
 */
function differences(before: Map<string, string>, after: Map<string, string>): string[] {
  const out: string[] = [];
  for (const k of [...new Set([...before.keys(), ...after.keys()])].sort()) {
    if (!after.has(k)) out.push(`${k}: only in 07-finalize`);
    else if (!before.has(k)) out.push(`${k}: only in the graduated render`);
    else {
      const [b, a] = [leaves(load(before.get(k)!)), leaves(load(after.get(k)!))];
      for (const f of [...new Set([...b.keys(), ...a.keys()])].sort())
        if (b.get(f) !== a.get(f))
          out.push(`${k} ${f}: ${b.get(f) ?? '(not declared)'} in 07-finalize, ${a.get(f) ?? '(not declared)'} graduated`);
    }
  }
  return out;
}

/**
 * The differences that are intended, each named: a line of differences() matching none of them fails
 * the test, and so does an entry no cluster needs any more.
 */
const HANDOVER = "07-finalize's hand-over Job and its RBAC";
const VERIFY = 'the verify hook of the greenfield overlay';
const INTENDED: Record<string, RegExp> = {
  // 07 hands the SMCP gateways' Services to Git with a Job (and the RBAC it runs as): nothing is left to hand over.
  [HANDOVER]: /^(Job|Role|RoleBinding|ServiceAccount)\/[^/]*\/meshfed-handover[^ ]*: only in 07-finalize$/,
  // 07 deletes the 06 verify Job and its RBAC (they must not outlive the migration); a greenfield overlay verifies itself.
  [VERIFY]: /^(Job|Role|RoleBinding|ServiceAccount)\/[^/]*\/meshfed-verify[^ ]*: only in the graduated render$/,
};

describe.each([
  // No SMCP gateway to hand over.
  ['the bundled example', EXAMPLE_CLUSTERS, [VERIFY]],
  ['a production SMCP (gateways, Routes, addons replaced, STRICT)', PRODUCTION, [HANDOVER, VERIFY]],
])('%s at 07-finalize, graduated', (_name, from, intended) => {
  let clusters: string;
  let migrated: string;
  let graduated: string;
  let rendered: string;
  const env = { MESHFED_CACHE: '0' };
  let code: number;
  let synth: ReturnType<typeof runCli>;
  beforeAll(() => {
    clusters = finished(from);
    migrated = tmp('dist');
    graduated = tmp('clusters');
    rendered = tmp('dist');
    expect(runCli(['--clusters', clusters, '--out', migrated], env).code).toBe(0);
    const err = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    code = runGraduate(['--clusters', clusters, '--to', graduated], {});
    err.mockRestore();
    synth = runCli(['--clusters', graduated, '--out', rendered], env);
  });

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

  test('every object 07-finalize declares is declared field for field; the differences are the named intended ones', () => {
    // A restart Job (workloads already run on the revision) or any other object or field only one side declares fails here.
    const unexplained: string[] = [];
    const used = new Set<string>();
    for (const c of ['east', 'west']) {
      const before = state(migrated, c, '07-finalize');
      expect(before.size).toBeGreaterThan(10);
      for (const d of differences(before, state(rendered, c, 'multicluster'))) {
        const why = Object.keys(INTENDED).find((name) => INTENDED[name].test(d));
        if (why) used.add(why);
        else unexplained.push(`${c}: ${d}`);
      }
    }
    expect(unexplained).toEqual([]);
    expect([...used].sort()).toEqual([...intended].sort());
  });

  test('every object of 07-finalize and its import folders, byte for byte, apart from the intended differences', () => {
    for (const c of ['east', 'west']) {
      const before = state(migrated, c, '07-finalize');
      const after = state(rendered, c, 'multicluster');
      const both = [...before].filter(([k]) => after.has(k));
      expect(both.length).toBeGreaterThan(10);
      for (const [k, text] of both) expect({ k, text: after.get(k) }).toEqual({ k, text });
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

test('graduate --json lists what it wrote', () => {
  const to = tmp('clusters');
  const { value: code, out, err } = captureConsole(() => runGraduate(['--clusters', finished(EXAMPLE_CLUSTERS), '--to', to, '--json'], {}));
  expect(code).toBe(0);
  const report = JSON.parse(out.join('\n')) as { to: string; files: string[] };
  expect(report.files).toEqual(expect.arrayContaining(['east/control-plane.yaml', 'west/inventory/inventory.yaml', 'gitops.yaml']));
  expect(err.join('\n')).toContain('2 cluster(s) graduated');
});
