/**
 * The removal guard, end to end through the real synth with a previous dist/: a re-render that takes
 * objects away from a cluster's current desired state (pointer unchanged) is refused and lists them;
 * --allow-removals (or MESHFED_ALLOW_REMOVALS=1) lets it through; a pointer move prints what it applies
 * and what prune deletes. A pointer that skips a phase is a pointer error (lib/plan/pointers.ts), not a
 * removal to confirm; a dist/ of another federation altogether is named as such.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import { parse, stringify } from 'yaml';

import { clusterName, generateFederation, serviceObjects } from '../bench/generate';
import { copyTree, EXAMPLE_CLUSTERS, importsVisibleTo } from './support/fixtures';
import { readTree, runCli } from './support/synth';
import { MAX_SHARD_OBJECTS } from '../lib/plan/shards';
import { PreviousPlanJson } from '../lib/write/plan-json';
import { compareRenders, describeChanges } from '../lib/write/removal-guard';

const policy = {
  apiVersion: 'security.istio.io/v1',
  kind: 'AuthorizationPolicy',
  metadata: { name: 'httpbin-callers', namespace: 'a' },
  spec: {
    action: 'ALLOW',
    selector: { matchLabels: { app: 'httpbin' } },
    rules: [{ from: [{ source: { principals: ['west.local/ns/istio-system/sa/federation-ingress-service-account'] } }] }],
  },
};

function setPhase(dir: string, cluster: string, phase: string): void {
  const f = path.join(dir, cluster, 'cluster.yaml');
  fs.writeFileSync(f, fs.readFileSync(f, 'utf8').replace(/^(\s+)phase: .*$/m, `$1phase: ${phase}`));
}

function fresh() {
  // The adopted policy names west's federation gateway: east's callers are admitted from 02 by namespace (importsVisibleTo).
  const clusters = importsVisibleTo(copyTree(EXAMPLE_CLUSTERS), 'east', ['client']);
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'meshfed-guard-')), 'dist');
  return { clusters, out, synth: (...extra: string[]) => runCli(['--clusters', clusters, '--out', out, ...extra]) };
}

test('a re-render that drops an adopted object from the current phase is refused, naming it; dist/ is unchanged', () => {
  const { clusters, out, synth } = fresh();
  fs.writeFileSync(path.join(clusters, 'west', 'ossm2', 'policies.yaml'), stringify(policy));
  expect(synth().code).toBe(0);
  const before = readTree(out);
  fs.rmSync(path.join(clusters, 'west', 'ossm2', 'policies.yaml')); // the forgotten dump file
  const res = synth();
  expect(res.code).toBe(1);
  expect(res.stderr).toContain('meshfed: west stays at 00-federation but loses 1 object(s):');
  expect(res.stderr).toContain('  - AuthorizationPolicy/a/httpbin-callers (security.istio.io)');
  expect(res.stderr).toContain('run again with --allow-removals');
  expect(readTree(out)).toEqual(before);
  expect(synth('--allow-removals').code).toBe(0);
  expect(readTree(out)).not.toEqual(before);
});

test('MESHFED_ALLOW_REMOVALS=1 confirms for CI; an unchanged re-render needs nothing; a vanished cluster is named', () => {
  const { clusters, out, synth } = fresh();
  fs.writeFileSync(path.join(clusters, 'west', 'ossm2', 'policies.yaml'), stringify(policy));
  expect(synth().code).toBe(0);
  expect(synth().code).toBe(0);
  fs.rmSync(path.join(clusters, 'west', 'ossm2', 'policies.yaml'));
  expect(runCli(['--clusters', clusters, '--out', out], { MESHFED_ALLOW_REMOVALS: '1' }).code).toBe(0);
  // Rendering only east (west administered elsewhere, from its bundle) into the same dist/ drops west.
  const alone = path.join(EXAMPLE_CLUSTERS, '..', 'examples', 'separate-domains', 'clusters');
  const res = runCli(['--clusters', alone, '--out', out]);
  expect(res.code).toBe(1);
  expect(res.stderr).toContain('west is no longer rendered: GitOps would prune everything it applied');
});

test('a pointer move prints what it applies and what prune deletes', () => {
  const { clusters, synth } = fresh();
  expect(synth().code).toBe(0);
  setPhase(clusters, 'west', '01-prepare');
  const move = synth();
  expect(move.code).toBe(0);
  // 01 adds the PeerAuthentication and the NetworkPolicies (istio-system: 6, members a and b: 2 each) the SMCP stops owning.
  expect(move.stderr).toContain('meshfed: west: 00-federation -> 01-prepare: applies 11 new object(s), prune deletes 0.');
  setPhase(clusters, 'west', '00-federation');
  expect(synth().code).toBe(0);
});

test('a pointer that skips a phase, on or back, is refused at spec.phase with the one phase to set, not as a removal', () => {
  const { clusters, out, synth } = fresh();
  expect(synth().code).toBe(0);
  const before = readTree(out);
  setPhase(clusters, 'west', '02-export');
  // --allow-removals is for removals; a skipped phase is a pointer error it does not override.
  for (const res of [synth(), synth('--allow-removals')]) {
    expect(res.code).toBe(1);
    expect(res.stderr).toContain(
      `error: ${clusters}/west/cluster.yaml:6, ClusterSettings west, field spec.phase: west's pointer skips a phase: spec.phase is 02-export, ` +
        'the last synth rendered west at 00-federation, and 01-prepare comes between. GitOps would apply 01-prepare and 02-export in one ' +
        'sync, with no synced, healthy, verified 01-prepare in between. Set spec.phase: 01-prepare (the next phase) in ' +
        `${clusters}/west/cluster.yaml, synth, commit, let GitOps sync it, then move on.`,
    );
    expect(res.stderr).not.toContain('allow-removals');
    expect(res.stderr).not.toContain('GitOps would delete');
    expect(readTree(out)).toEqual(before);
  }
  // One phase at a time goes; then back two at once is refused the same way, naming the phase before.
  setPhase(clusters, 'west', '01-prepare');
  expect(synth().code).toBe(0);
  setPhase(clusters, 'west', '02-export');
  expect(synth().code).toBe(0);
  setPhase(clusters, 'west', '00-federation');
  const back = synth();
  expect(back.code).toBe(1);
  expect(back.stderr).toContain(
    "west's pointer skips a phase: spec.phase is 00-federation, the last synth rendered west at 02-export, and 01-prepare comes " +
      'between. GitOps would undo 02-export and 01-prepare in one sync, with no synced state in between to check or stop at. Set ' +
      `spec.phase: 01-prepare (the phase before 02-export) in ${clusters}/west/cluster.yaml, synth, commit, let GitOps sync it, ` +
      'then roll back further.',
  );
  expect(back.stderr).not.toContain('allow-removals');
});

test("a dist/ of another federation (the bundled example's, after clusters/ was replaced) is named, with what to do; nothing written", () => {
  const { out, synth } = fresh();
  expect(synth().code).toBe(0);
  const before = readTree(out);
  const theirs = copyTree(path.join(EXAMPLE_CLUSTERS, '..', 'examples', 'three-meshes', 'clusters'));
  const res = runCli(['--clusters', theirs, '--out', out]);
  expect(res.code).toBe(1);
  expect(res.stderr).toContain(
    `meshfed: refused: ${out}/ holds the render of another federation (east, west), none of whose clusters is in ${theirs}/ now. ` +
      `If you replaced the bundled example (or another federation's clusters) with yours, delete that render (git rm -r ${out}, ` +
      `or rm -r ${out}) and synth again.`,
  );
  // Not a list of everything east and west would lose: the case is named instead.
  expect(res.stderr).not.toContain('no longer rendered');
  expect(readTree(out)).toEqual(before);
  // Deleted as it says, the next synth renders.
  fs.rmSync(out, { recursive: true });
  expect(runCli(['--clusters', theirs, '--out', out]).code).toBe(0);
  // (One cluster in common is the same federation: the removal guard names the one that went, as above.)
});

test("a folder renamed or a service moved to another exporter's folder is a move the guard names", () => {
  /** east at 03-import with these import folders (`services` undefined: a plan.json from before they were listed). */
  const view = (folders: Record<string, string[] | undefined>): PreviousPlanJson => ({
    phases: ['03-import'],
    clusters: {
      east: {
        current: '03-import',
        phases: [
          {
            phase: '03-import',
            adds: [],
            deletes: [],
            imports: Object.entries(folders).map(([folder, services]) => ({ folder, exporter: 'west', services })),
          },
        ],
      },
    },
  });
  const se = (n: string) => `ServiceEntry/istio-system/${n} (networking.istio.io/v1)`;
  const unchanged = compareRenders(view({ 'imports/west': [se('a'), se('b')] }), view({ 'imports/west': [se('a'), se('b')] }));
  expect(unchanged[0].needsConfirmation).toEqual([]);
  // What the power-of-two split did at 351 services: the folder renamed, every service moved.
  const renamed = compareRenders(
    view({ 'imports/west': [se('a'), se('b')] }),
    view({ 'imports/west.1-of-2': [se('a')], 'imports/west.2-of-2': [se('b')] }),
  );
  expect(renamed[0].moved).toEqual([
    { from: 'imports/west', to: 'imports/west.1-of-2', services: 1 },
    { from: 'imports/west', to: 'imports/west.2-of-2', services: 1 },
  ]);
  expect(describeChanges(renamed).join('\n')).toContain('`flux suspend kustomization meshfed-east-imports-west`');
  // A plan.json of meshfed before 2026-12-02 lists no services: an exporter's folders changing is a move.
  const legacy = view({ 'imports/west.1-of-2': undefined, 'imports/west.2-of-2': undefined });
  const upgraded = view({ 'imports/west': [se('a')], 'imports/west.1': [se('b')] });
  const lines = describeChanges(compareRenders(legacy, upgraded));
  expect(lines[0]).toMatch(/^meshfed: Services east imports move to another import folder/);
  expect(lines).toContain('  - services: imports/west.1-of-2 -> imports/west');
  expect(lines).toContain('  - services: imports/west.2-of-2 -> imports/west.1');
  expect(compareRenders(legacy, legacy)[0].needsConfirmation).toEqual([]);
  // A service a second exporter (first in name order) now exports too goes to that exporter's folder.
  const other = compareRenders(view({ 'imports/west': [se('a')] }), view({ 'imports/north': [se('a')] }));
  expect(describeChanges(other)).toContain('  - 1 service(s): imports/west -> imports/north');
});

describe('an import folder that splits', () => {
  /** Two meshes in the bench's format, m01 importing m00's services from 03-import on. */
  function federation(services: number) {
    const clusters = fs.mkdtempSync(path.join(os.tmpdir(), 'meshfed-split-'));
    generateFederation(clusters, 2, services);
    for (const [c, phase] of [
      [clusterName(0), '02-export'],
      [clusterName(1), '03-import'],
    ]) {
      const f = path.join(clusters, c, 'cluster.yaml');
      const doc = parse(fs.readFileSync(f, 'utf8')) as { spec: Record<string, unknown> };
      doc.spec.phase = phase;
      fs.writeFileSync(f, stringify(doc));
    }
    fs.copyFileSync(path.join(EXAMPLE_CLUSTERS, 'gitops.yaml'), path.join(clusters, 'gitops.yaml'));
    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'meshfed-split-out-')), 'dist');
    return { clusters, out, synth: (...extra: string[]) => runCli(['--clusters', clusters, '--out', out, ...extra]) };
  }

  /** One more service exported by m00 (the bench's one-service change). */
  function addService(clusters: string, name: string): void {
    const file = path.join(clusters, clusterName(0), 'ossm2', 'workloads.yaml');
    const doc = parse(fs.readFileSync(file, 'utf8')) as { items: unknown[] };
    doc.items.push(...serviceObjects(`${clusterName(0)}-apps`, name, [{ name: 'http', port: 8000, targetPort: 8080 }]));
    fs.writeFileSync(file, stringify(doc, { lineWidth: 0 }));
  }

  test(
    `the ${MAX_SHARD_OBJECTS / 2 + 1}st service adds a folder and renames none; moving services between ` +
      'folders of a cluster at 03 needs confirmation, naming the Flux Kustomizations to suspend',
    () => {
      const { clusters, out, synth } = federation(MAX_SHARD_OBJECTS / 2 - 1);
      expect(synth().code).toBe(0);
      const imports = path.join(out, clusterName(1), 'imports');
      expect(fs.readdirSync(imports)).toEqual(['m00']);
      // One more service fills the folder: a hunk, nothing moves, nothing to confirm.
      addService(clusters, 'svc-fills');
      expect(synth().code).toBe(0);
      const before = readTree(out);
      // The next one splits it: m00 keeps about half, m00.1 gets the rest.
      addService(clusters, 'svc-splits');
      const res = synth();
      expect(res.code).toBe(1);
      expect(res.stderr).toMatch(/meshfed: \d+ service\(s\) m01 imports move to another import folder: Argo CD keeps them/);
      expect(res.stderr).toContain('`flux suspend kustomization meshfed-m01-imports-m00`');
      expect(res.stderr).toContain('resume them once meshfed-m01-imports-m00-1 is Ready');
      expect(res.stderr).toMatch(/ {2}- \d+ service\(s\): imports\/m00 -> imports\/m00\.1\n/);
      expect(readTree(out)).toEqual(before);
      expect(synth('--allow-removals').code).toBe(0);
      expect(fs.readdirSync(imports)).toEqual(['m00', 'm00.1']);
      const plan = JSON.parse(fs.readFileSync(path.join(out, 'plan.json'), 'utf8'));
      const folders = plan.clusters.m01.phases.find((p: { phase: string }) => p.phase === '03-import').imports;
      expect(folders.map((f: { folder: string; services: string[] }) => [f.folder, f.services.length > 100])).toEqual([
        ['imports/m00', true],
        ['imports/m00.1', true],
      ]);
      // Flux: one Kustomization per folder, the first keeps its name; Argo CD: one more source.
      expect(fs.readdirSync(path.join(out, 'flux', clusterName(1))).filter((f) => f.includes('imports'))).toEqual([
        'kustomization-meshfed-m01-imports-m00-1.yaml',
        'kustomization-meshfed-m01-imports-m00.yaml',
      ]);
      expect(fs.readFileSync(path.join(out, 'argocd', `application-${clusterName(1)}.yaml`), 'utf8')).toContain(
        'path: dist/m01/imports/m00.1',
      );
    },
  );

  test('at 00-federation nothing delivers the import folders yet: a split needs no confirmation', () => {
    const { clusters, out, synth } = federation(MAX_SHARD_OBJECTS / 2);
    const early = path.join(clusters, clusterName(1), 'cluster.yaml');
    fs.writeFileSync(early, fs.readFileSync(early, 'utf8').replace('phase: 03-import', 'phase: 00-federation'));
    const exporter = path.join(clusters, clusterName(0), 'cluster.yaml');
    fs.writeFileSync(exporter, fs.readFileSync(exporter, 'utf8').replace('phase: 02-export', 'phase: 00-federation'));
    expect(synth().code).toBe(0);
    addService(clusters, 'svc-splits');
    expect(synth().code).toBe(0);
    expect(fs.readdirSync(path.join(out, clusterName(1), 'imports'))).toEqual(['m00', 'm00.1']);
  });
});
