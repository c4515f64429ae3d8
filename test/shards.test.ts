/**
 * Import shards (lib/plan/shards.ts): where an importer's imported services are delivered, so no
 * kustomize build grows with the size of the federation.
 */
import { API, ref } from '../lib/plan/refs';
import { assertShardsFinal, MAX_SHARD_OBJECTS, planImportShards } from '../lib/plan/shards';
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
    `an exporter with more than ${MAX_SHARD_OBJECTS} objects is split in powers of two; a ` +
      `service's objects stay together and keep their folder as others come`,
    () => {
      const hosts = (n: number) => Array.from({ length: n }, (_, i) => `svc-${String(i).padStart(4, '0')}`);
      // 350 hosts × 2 objects = 700: one folder.
      expect(planImportShards(hosts(350).flatMap((h) => imported(h, ['west']))).map((s) => s.name)).toEqual(['west']);
      // 351 hosts: two folders, every object in exactly one, a ServiceEntry always with its WorkloadEntry.
      const adds = hosts(351).flatMap((h) => imported(h, ['west']));
      const two = planImportShards(adds);
      expect(two.map((s) => s.name)).toEqual(['west.1-of-2', 'west.2-of-2']);
      expect(two.reduce((n, s) => n + s.resources.length, 0)).toBe(adds.length);
      for (const s of two) expect(s.resources.length).toBeLessThanOrEqual(MAX_SHARD_OBJECTS);
      for (const s of two) expect(s.resources.length).toBeGreaterThan(MAX_SHARD_OBJECTS / 4);
      const where = shardOf(two);
      for (const h of hosts(351))
        expect(where.get(refKey(ref(API.workloadEntry, 'WorkloadEntry', `${h}-west`, 'istio-system')))).toBe(
          where.get(refKey(ref(API.serviceEntry, 'ServiceEntry', h, 'istio-system'))),
        );
      // Adding services below the next power of two moves no existing one.
      const more = shardOf(planImportShards(hosts(490).flatMap((h) => imported(h, ['west']))));
      for (const [k, v] of where) expect(more.get(k)).toBe(v);
      // 2,800 objects: four folders, none far over the limit.
      const four = planImportShards(hosts(1400).flatMap((h) => imported(h, ['west'])));
      expect(four.map((s) => s.name)).toEqual(['west.1-of-4', 'west.2-of-4', 'west.3-of-4', 'west.4-of-4']);
      for (const s of four) expect(s.resources.length).toBeLessThanOrEqual(MAX_SHARD_OBJECTS + 70);
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
