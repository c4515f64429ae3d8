/**
 * The Federation construct (lib/federation/): what `app.synth()` writes is what `meshfed synth` writes, plus the
 * app's objects in the phases it names, with its Aspects applied to every object; refusals leave `out` as it was.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import { ApiObject, App } from 'cdk8s';
import { IConstruct } from 'constructs';

import { Aspects, Federation, FederationProps, FederationSynthError } from '../lib';
import { EXAMPLE_CLUSTERS } from './support/fixtures';
import { find, kustomize } from './support/kube';
import { readTree, runCli } from './support/synth';
import { PlanJson } from '../lib/write/plan-json';

const tmp = (prefix: string) => fs.mkdtempSync(path.join(os.tmpdir(), `meshfed-fed-${prefix}-`));

/** A fresh app with a Federation of the bundled example, rendering into a fresh folder; the rehearsal is skipped unless asked. */
function federation(props: FederationProps = {}) {
  const app = new App({ outdir: path.join(tmp('cdk8s'), 'out') });
  const out = path.join(tmp('dist'), 'dist');
  const fed = new Federation(app, 'federation', { clusters: EXAMPLE_CLUSTERS, out, skipRehearsal: true, ...props });
  return { app, fed, out };
}

/** app.synth() with console.error captured. */
function synth(app: App): { stderr: string; error?: unknown } {
  const lines: string[] = [];
  const spy = jest.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void lines.push(a.join(' ')));
  try {
    app.synth();
    return { stderr: lines.join('\n') };
  } catch (error) {
    return { stderr: lines.join('\n'), error };
  } finally {
    spy.mockRestore();
  }
}

function configMap(scope: IConstruct, id: string, name: string, namespace = 'istio-system') {
  return new ApiObject(scope as never, id, {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name, namespace },
    data: { owner: 'team' },
  } as never);
}

const env = { MESHFED_CACHE: '0' };

test('with nothing added, app.synth() writes what meshfed synth writes, and nothing into the App outdir', () => {
  const { app, out } = federation();
  expect(synth(app).error).toBeUndefined();
  const cli = path.join(tmp('cli'), 'dist');
  expect(runCli(['--clusters', EXAMPLE_CLUSTERS, '--out', cli, '--skip-rehearsal'], env).code).toBe(0);
  expect(readTree(out)).toEqual(readTree(cli));
  expect(fs.readdirSync(app.outdir)).toEqual([]);
});

test("an object added to a phase lands in its overlay and every later one; plan.json lists it with the phase's adds", () => {
  const { app, fed, out } = federation();
  configMap(fed.phase('east', '05-install-ossm3'), 'team-policy', 'team-policy');
  const { error } = synth(app);
  expect(error).toBeUndefined();
  expect(fs.readFileSync(path.join(out, 'east', '05-install-ossm3', 'istio-system.yaml'), 'utf8')).toContain('name: team-policy');
  const has = (phase: string) => find(kustomize(path.join(out, 'east', phase)), 'ConfigMap', 'team-policy', 'istio-system');
  expect(has('04-remove-federation')).toBeUndefined();
  expect(has('05-install-ossm3')).toMatchObject({
    data: { owner: 'team' },
    metadata: { annotations: { 'argocd.argoproj.io/sync-wave': '-1' } },
  });
  expect(has('07-finalize')).toBeDefined();
  // Written once: the later phases build on 05.
  for (const [file, text] of readTree(path.join(out, 'east')))
    if (!file.startsWith('05-')) expect(`${file}: ${text.includes('team-policy')}`).toBe(`${file}: false`);
  const plan = JSON.parse(fs.readFileSync(path.join(out, 'plan.json'), 'utf8')) as PlanJson;
  const phase = plan.clusters.east.phases.find((p) => p.phase === '05-install-ossm3')!;
  expect(phase.adds).toContain('ConfigMap/istio-system/team-policy (v1)');
  expect(plan.clusters.west.phases.flatMap((p) => p.adds)).not.toContain('ConfigMap/istio-system/team-policy (v1)');
});

test('through: the overlay after the last phase deletes the objects', () => {
  const { app, fed, out } = federation();
  configMap(fed.phase('west', '02-export', { through: '05-install-ossm3' }), 'bridge', 'bridge');
  expect(synth(app).error).toBeUndefined();
  const has = (phase: string) => find(kustomize(path.join(out, 'west', phase)), 'ConfigMap', 'bridge', 'istio-system');
  expect(has('02-export')).toBeDefined();
  expect(has('05-install-ossm3')).toBeDefined();
  expect(has('06-migrate-workloads')).toBeUndefined();
  expect(has('07-finalize')).toBeUndefined();
  const plan = JSON.parse(fs.readFileSync(path.join(out, 'plan.json'), 'utf8')) as PlanJson;
  expect(plan.clusters.west.phases.find((p) => p.phase === '06-migrate-workloads')!.deletes).toContain(
    'ConfigMap/istio-system/bridge (v1)',
  );
});

test("Aspects visit every object meshfed renders (imported ServiceEntries included) and the app's, before it is written", () => {
  const { app, fed, out } = federation();
  configMap(fed.phase('east', '03-import'), 'team-policy', 'team-policy');
  const kinds = new Set<string>();
  Aspects.of(fed).add({
    visit(node) {
      if (!(node instanceof ApiObject)) return;
      kinds.add(node.kind);
      node.metadata.addLabel('example.com/owner', 'platform');
    },
  });
  expect(synth(app).error).toBeUndefined();
  expect(kinds).toEqual(expect.objectContaining(new Set(['ServiceEntry', 'WorkloadEntry', 'Istio', 'ConfigMap', 'Job'])));
  for (const [file, text] of readTree(out)) {
    if (!/\/(00|01|02|03|04|05|06|07)-[^/]+\/[^/]+\.yaml$|\/imports\/[^/]+\/[^/]+\.yaml$/.test(file) || file.endsWith('kustomization.yaml'))
      continue;
    const docs = text.split(/^---$/m).filter((d) => /^kind: /m.test(d));
    for (const d of docs) expect(`${file}: ${d.includes('example.com/owner: platform')}`).toBe(`${file}: true`);
  }
  const imported = kustomize(path.join(out, 'east', 'imports', 'west')).filter((o) => o.kind === 'ServiceEntry');
  expect(imported.length).toBeGreaterThan(0);
  for (const se of imported) expect(se.metadata.labels!['example.com/owner']).toBe('platform');
});

test('refusals: an object meshfed already writes, a kind without a sync wave, an unknown cluster; out stays as it was', () => {
  const { app, fed, out } = federation();
  expect(synth(app).error).toBeUndefined();
  const before = readTree(out);
  const attempts: [(f: Federation) => void, RegExp][] = [
    [(f) => configMap(f.phase('east', '07-finalize'), 'x', 'west-mesh-ca-root-cert', 'istio-system'), /which the overlay already holds/],
    [
      (f) => new ApiObject(f.phase('east', '07-finalize'), 'w', { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' } }),
      /no Argo CD sync wave for kind Widget.*Set metadata.annotations\['argocd.argoproj.io\/sync-wave'\]/,
    ],
    [(f) => configMap(f.phase('esat', '07-finalize'), 'x', 'x'), /has no cluster esat.*Name one of east, west/],
  ];
  for (const [add, message] of attempts) {
    const again = new App({ outdir: app.outdir });
    const f = new Federation(again, 'federation', { clusters: EXAMPLE_CLUSTERS, out, skipRehearsal: true });
    void fed;
    add(f);
    const { stderr, error } = synth(again);
    expect(error).toBeInstanceOf(FederationSynthError);
    expect((error as FederationSynthError).exitCode).toBe(1);
    expect(stderr).toMatch(message);
    expect(stderr).toContain('nothing was written');
    expect(readTree(out)).toEqual(before);
  }
});

test("the App's outdir and out may not overlap; a phase must be one of meshfed's", () => {
  const app = new App({ outdir: 'dist' });
  expect(() => new Federation(app, 'federation', { out: 'dist' })).toThrow(
    /the App's outdir \(dist\) and the Federation's out \(dist\) overlap/,
  );
  const { fed } = federation();
  expect(() => fed.phase('east', '08-done' as never)).toThrow(/no such phase/);
  expect(() => fed.phase('east', '05-install-ossm3', { through: '02-export' })).toThrow(
    /through must be 05-install-ossm3 or a later phase/,
  );
});

test('the rehearsal runs over what the app adds, as synth runs it', () => {
  const { app, fed, out } = federation({ skipRehearsal: false });
  configMap(fed.phase('east', '06-migrate-workloads'), 'team-policy', 'team-policy');
  const { error, stderr } = synth(app);
  expect(error).toBeUndefined();
  expect(stderr).not.toContain('--skip-rehearsal');
  expect(fs.existsSync(path.join(out, 'east', '06-migrate-workloads', 'istio-system.yaml'))).toBe(true);
});

test("the removal guard counts the app's objects: dropping one the current phase applies is refused", () => {
  const { app, fed, out } = federation();
  configMap(fed.phase('east', '00-federation'), 'team-policy', 'team-policy');
  expect(synth(app).error).toBeUndefined();
  const before = readTree(out);
  const again = new App({ outdir: app.outdir });
  new Federation(again, 'federation', { clusters: EXAMPLE_CLUSTERS, out, skipRehearsal: true });
  const { error, stderr } = synth(again);
  expect(error).toBeInstanceOf(FederationSynthError);
  expect(stderr).toContain('ConfigMap/istio-system/team-policy');
  expect(stderr).toMatch(/refused: GitOps would delete what runs on east/);
  expect(readTree(out)).toEqual(before);
  const allowed = new App({ outdir: app.outdir });
  new Federation(allowed, 'federation', { clusters: EXAMPLE_CLUSTERS, out, skipRehearsal: true, allowRemovals: true });
  expect(synth(allowed).error).toBeUndefined();
  expect(readTree(out).get('east/00-federation/istio-system.yaml')).not.toContain('team-policy');
});
