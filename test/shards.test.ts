/**
 * Import shards (lib/plan/shards.ts): where an importer's imported services are delivered, so no
 * kustomize build grows with the size of the federation.
 */
import { Diagnostics } from '../lib/diagnostics';
import { Mesh } from '../lib/model/types';
import { API, ref } from '../lib/plan/api-versions';
import { assertShardsFinal, MAX_SHARD_OBJECTS, planImportShards, requireDistinctImportNames } from '../lib/plan/shards';
import { ObjectRef, PhasePlan, refKey, Resource } from '../lib/plan/types';

/** One imported host: a ServiceEntry and a WorkloadEntry per exporter, written to the ServiceEntry's file. */
function imported(host: string, exporters: string[]): Resource[] {
  const se = ref(API.serviceEntry, 'ServiceEntry', host, 'istio-system');
  return [
    {
      type: 'importServiceEntry',
      ref: se,
      host,
      ports: [],
      subjectAltNames: [],
      exportTo: ['.'],
      exporters: [...exporters].sort(),
      selector: { app: host },
    },
    ...exporters.map((e): Resource => ({
      type: 'importWorkloadEntry',
      ref: ref(API.workloadEntry, 'WorkloadEntry', `${host}-${e}`, 'istio-system'),
      fileOf: se,
      exporter: e,
      labels: { app: host },
      network: `${e}-network`,
    })),
  ];
}

const gateway: Resource = {
  type: 'remoteGateway',
  ref: ref(API.k8sGatewayV1Beta1, 'Gateway', 'remote-gateway-west', 'istio-system'),
  network: 'west-network',
  addresses: ['192.0.2.1'],
  port: 15443,
};

function shardOf(shards: ReturnType<typeof planImportShards>): Map<string, string> {
  return new Map(shards.flatMap((s) => s.resources.map((r) => [refKey(r.ref), s.name] as [string, string])));
}

describe('planImportShards', () => {
  test('one folder per exporter; gateways and other objects stay in the phase; an import of several exporters goes with the first', () => {
    const adds = [gateway, ...imported('a', ['west']), ...imported('b', ['north']), ...imported('c', ['west', 'north'])];
    const shards = planImportShards(adds);
    expect(shards.map((s) => [s.name, s.exporter, s.resources.map((r) => r.ref.name)])).toEqual([
      ['north', 'north', ['b', 'b-north', 'c', 'c-west', 'c-north']],
      ['west', 'west', ['a', 'a-west']],
    ]);
  });

  test('egress routes go with the imports of their first exporter', () => {
    const route: Resource = {
      type: 'egressRoute',
      ref: ref(API.virtualService, 'VirtualService', 'a', 'istio-egress'),
      host: 'a',
      gatewayName: 'egress',
      backends: [
        { exporter: 'west', name: 'ingress-west' },
        { exporter: 'east', name: 'ingress-east' },
      ],
    };
    expect(planImportShards([route, ...imported('a', ['west'])]).map((s) => [s.name, s.resources.map((r) => r.ref.kind)])).toEqual([
      ['east', ['VirtualService']],
      ['west', ['ServiceEntry', 'WorkloadEntry']],
    ]);
  });

  test(
    `a folder over ${MAX_SHARD_OBJECTS} objects splits in two by a hash bit; the first half keeps its ` +
      `name, a service's objects stay together and move only when their folder splits`,
    () => {
      const hosts = (n: number) => Array.from({ length: n }, (_, i) => `svc-${String(i).padStart(4, '0')}`);
      const shards = (n: number) => planImportShards(hosts(n).flatMap((h) => imported(h, ['west'])));
      // 350 hosts × 2 objects = 700: one folder.
      expect(shards(350).map((s) => s.name)).toEqual(['west']);
      // 351 hosts: `west` keeps the services whose first hash bit is 0, `west.1` gets the others.
      const two = shards(351);
      expect(two.map((s) => s.name)).toEqual(['west', 'west.1']);
      expect(two.reduce((n, s) => n + s.resources.length, 0)).toBe(702);
      for (const s of two) expect(s.resources.length).toBeLessThanOrEqual(MAX_SHARD_OBJECTS);
      for (const s of two) expect(s.resources.length).toBeGreaterThan(MAX_SHARD_OBJECTS / 4);
      const where = shardOf(two);
      for (const h of hosts(351))
        expect(where.get(refKey(ref(API.workloadEntry, 'WorkloadEntry', `${h}-west`, 'istio-system')))).toBe(
          where.get(refKey(ref(API.serviceEntry, 'ServiceEntry', h, 'istio-system'))),
        );
      // Growing to the next split moves no existing service; every split after that moves services out
      // of the one folder that splits, into the one folder it creates, and renames nothing.
      let before = where;
      let names = new Set(two.map((s) => s.name));
      let splits = 0;
      for (let n = 352; n <= 760; n++) {
        const now = shards(n);
        for (const s of now) expect(s.resources.length).toBeLessThanOrEqual(MAX_SHARD_OBJECTS);
        const after = shardOf(now);
        const nowNames = new Set(now.map((s) => s.name));
        for (const old of names) expect(nowNames).toContain(old);
        const created = [...nowNames].filter((x) => !names.has(x));
        const moves = [...before].filter(([k, v]) => after.get(k) !== v);
        if (created.length) {
          splits++;
          expect(created).toHaveLength(1);
          expect(new Set(moves.map(([, v]) => v)).size).toBe(1);
          for (const [k] of moves) expect(after.get(k)).toBe(created[0]);
        } else expect(moves).toEqual([]);
        [before, names] = [after, nowNames];
      }
      expect(splits).toBeGreaterThanOrEqual(2);
      // 2,800 objects: four folders or more, named by the bits that select them.
      expect(shards(1400).map((s) => s.name)).toEqual(expect.arrayContaining(['west', 'west.1']));
      for (const name of shards(1400).map((s) => s.name)) expect(name).toMatch(/^west(\.[01]*1)?$/);
    },
  );

  test('the same objects in another order give the same folders', () => {
    const adds = ['a', 'b', 'c', 'd'].flatMap((h, i) => imported(h, i % 2 ? ['west'] : ['north', 'west']));
    const names = (x: ReturnType<typeof planImportShards>) => [...shardOf(x)].sort();
    expect(names(planImportShards([...adds].reverse()))).toEqual(names(planImportShards(adds)));
  });
});

describe('assertShardsFinal', () => {
  const plan = (phase: PhasePlan['phase'], p: Partial<PhasePlan>): PhasePlan => ({
    cluster: 'east',
    phase,
    adds: [],
    shards: [],
    patches: [],
    deletes: [],
    waitsFor: [],
    blockedBy: [],
    ...p,
  });
  const adds = imported('a', ['west']);
  const first = plan('03-import', { adds, shards: planImportShards(adds) });
  const se: ObjectRef = adds[0].ref;

  test('accepts later phases that leave delivered imports alone', () => {
    expect(() => assertShardsFinal([first, plan('04-remove-federation', { deletes: [gateway.ref] })])).not.toThrow();
  });

  test('a later phase patching or deleting a delivered import is a planner bug', () => {
    expect(() => assertShardsFinal([first, plan('07-finalize', { deletes: [se] })])).toThrow(
      'meshfed bug: 07-finalize of east changes ServiceEntry/istio-system/a',
    );
    expect(() =>
      assertShardsFinal([first, plan('06-migrate-workloads', { patches: [{ type: 'merge', target: se, patch: {}, why: 'x' }] })]),
    ).toThrow('which 03-import delivers in dist/east/imports/');
  });
});

describe('requireDistinctImportNames', () => {
  test("a cluster named like another's split folder is refused: one Flux Kustomization would apply both", () => {
    const mesh = {
      cluster: 'east',
      settings: { source: { at: (p: string[]) => ({ file: 'clusters/east/cluster.yaml', line: 4, field: p.join('.') }) } },
    } as unknown as Mesh;
    const phase = (names: string[]): PhasePlan => ({
      cluster: 'east',
      phase: '03-import',
      adds: [],
      shards: names.map((name) => ({ name, exporter: name.split('.')[0], resources: [] })),
      patches: [],
      deletes: [],
      waitsFor: [],
      blockedBy: [],
    });
    const ok = new Diagnostics();
    requireDistinctImportNames(mesh, [phase(['west', 'west.1', 'west-2'])], ok);
    expect(ok.errors).toEqual([]);
    const clash = new Diagnostics();
    requireDistinctImportNames(mesh, [phase(['west', 'west.1', 'west-1'])], clash);
    expect(clash.errors.map((e) => e.message)).toEqual([
      "east's import folders imports/west.1 and imports/west-1 would both be applied by the Flux Kustomization meshfed-east-imports-west-1.",
    ]);
    expect(clash.errors[0].location?.field).toBe('metadata.name');
  });
});
