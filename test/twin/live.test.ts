import { mkdtempSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';

import { Cluster } from '../../lib/twin/cluster';
import { findCondition } from '../../lib/twin/controllers/kube';
import { liveCluster, readDumps } from '../../lib/twin/live';
import { Obj, Ref } from '../../lib/twin/objects';

const PROD = 'examples/production-smcp/clusters/east/ossm2';
const EAST = 'clusters/east/ossm2';
const ref = (kind: string, namespace: string, name: string, group = ''): Ref => ({ group, kind, namespace, name });
const live = (c: Cluster, r: Ref) => c.get(r) as any;
const SMCP = ref('ServiceMeshControlPlane', 'istio-system', 'basic', 'maistra.io');

describe('readDumps', () => {
  test('reads every YAML file of a folder in name order and flattens kind: List documents', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dumps-'));
    writeFileSync(
      join(dir, 'b.yaml'),
      'apiVersion: v1\nkind: ConfigMapList\nitems:\n- {apiVersion: v1, kind: ConfigMap, metadata: {name: two}}\n',
    );
    writeFileSync(
      join(dir, 'a.yml'),
      '# a dump\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: one}\ndata: {on: yes, at: 2026-01-13T14:02:11Z}\n---\n',
    );
    writeFileSync(join(dir, 'notes.txt'), 'not yaml: [');
    const objs = readDumps(dir) as any[];
    expect(objs.map((o) => o.metadata.name)).toEqual(['one', 'two']);
    // YAML 1.2 core schema: `yes`/`on` stay strings and timestamps are not turned into dates.
    expect(objs[0].data).toEqual({ on: 'yes', at: '2026-01-13T14:02:11Z' });
  });

  test('the production example dump: Lists flattened, no List left', () => {
    const objs = readDumps(PROD);
    expect(objs.some((o) => String(o.kind).endsWith('List'))).toBe(false);
    expect(objs.filter((o) => o.kind === 'Route').map((o) => (o.metadata as any).name)).toEqual([
      'istio-ingressgateway',
      'client-bookinfo-gateway-6cb0b89a9686da22',
      'internal-ingressgateway',
    ]);
  });
});

describe('liveCluster', () => {
  let prod: Cluster;
  let dumps: Obj[];
  beforeAll(() => {
    dumps = readDumps(PROD);
    prod = liveCluster(dumps, { ossm2: true, ossm3: false });
  });

  test('every dumped object is there as dumped, status and generation included, owners re-pointed at the restored ones', () => {
    for (const d of dumps) {
      const m = d.metadata as any;
      expect(
        prod.get({
          group: String(d.apiVersion).includes('/') ? String(d.apiVersion).split('/')[0] : '',
          kind: String(d.kind),
          namespace: m.namespace ?? '',
          name: m.name,
        }),
      ).toBeDefined();
    }
    const smcp = live(prod, SMCP);
    expect(smcp.metadata.generation).toBe(14);
    expect(smcp.status.observedGeneration).toBe(14);
    expect(smcp.metadata.uid).not.toBe('0f6d3c1e-8a2b-4b7c-9d1e-2f3a4b5c6d7e');
    expect(live(prod, ref('Service', 'istio-system', 'istio-ingressgateway')).metadata.ownerReferences[0]).toMatchObject({
      kind: 'ServiceMeshControlPlane',
      uid: smcp.metadata.uid,
    });
    // The dumped Deployment is not re-rendered (a fully reconciled SMCP): its pod-template label stays.
    expect(live(prod, ref('Deployment', 'istio-system', 'istio-ingressgateway', 'apps')).spec.template.metadata.labels.team).toBe('edge');
    expect(live(prod, ref('Service', 'istio-system', 'istio-ingressgateway')).spec.clusterIP).toBe('172.30.41.10');
  });

  test('what the running operators made but the dump lacks exists, and runs', () => {
    const smcp = live(prod, SMCP);
    expect(live(prod, ref('ServiceAccount', 'istio-system', 'istio-ingressgateway-service-account'))).toBeDefined();
    expect(live(prod, ref('Deployment', 'istio-system', 'istiod-basic', 'apps')).status.readyReplicas).toBe(2);
    const roll = live(prod, ref('ServiceMeshMemberRoll', 'istio-system', 'default', 'maistra.io'));
    expect(roll.metadata.ownerReferences[0]).toMatchObject({ kind: 'ServiceMeshControlPlane', uid: smcp.metadata.uid });
    expect(roll.status.configuredMembers).toEqual(['client', 'internal-gw']);
    // The internal gateway's Deployment (not dumped) carries the labels its dumped Service selects.
    const internal = live(prod, ref('Deployment', 'internal-gw', 'internal-ingressgateway', 'apps'));
    expect(internal.spec.selector.matchLabels).toEqual({ app: 'internal-ingressgateway', istio: 'internal-ingressgateway' });
    const ep = live(prod, ref('Endpoints', 'internal-gw', 'internal-ingressgateway'));
    expect(ep.subsets[0].addresses).toHaveLength(2);
    expect(live(prod, ref('Endpoints', 'client', 'curl')).subsets[0].addresses[0].targetRef.name).toMatch(/^curl-/);
    for (const d of prod.list((o) => o.kind === 'Deployment')) expect(findCondition(d, 'Available')?.status).toBe('True');
    expect(findCondition(smcp, 'Ready')).toMatchObject({ status: 'True', reason: 'ComponentsReady' });
    // IOR keeps the dumped Route on the default ingress gateway.
    expect(live(prod, ref('Route', 'istio-system', 'client-bookinfo-gateway-6cb0b89a9686da22', 'route.openshift.io')).spec.to.name).toBe(
      'istio-ingressgateway',
    );
  });

  test('it has settled: another tick changes nothing', () => {
    const before = prod.events.length;
    prod.tick();
    expect(prod.events.slice(before)).toEqual([]);
  });

  test('a dump in a version the installed CRDs do not serve is restored in a served one, and says so', () => {
    expect(String(live(prod, ref('Telemetry', 'istio-system', 'mesh-default', 'telemetry.istio.io')).apiVersion)).toBe(
      'telemetry.istio.io/v1alpha1',
    );
    expect(prod.events.some((e) => /dumped as telemetry.istio.io\/v1, which the installed CRDs do not serve/.test(e.message))).toBe(true);
    const withOssm3 = liveCluster(dumps, { ossm2: true, ossm3: true });
    expect(String(live(withOssm3, ref('Telemetry', 'istio-system', 'mesh-default', 'telemetry.istio.io')).apiVersion)).toBe(
      'telemetry.istio.io/v1',
    );
  });

  test('the bundled example east: federation gateways and istiod run, the ClusterWide roll exists', () => {
    const c = liveCluster(readDumps(EAST), { ossm2: true, ossm3: false });
    for (const name of ['istiod-basic', 'federation-ingress', 'federation-egress'])
      expect(findCondition(live(c, ref('Deployment', 'istio-system', name, 'apps')), 'Available')?.status).toBe('True');
    expect(live(c, ref('ServiceMeshMemberRoll', 'istio-system', 'default', 'maistra.io'))).toBeDefined();
    // egress and ingress default gateways are disabled in that SMCP: nothing rendered for them.
    expect(live(c, ref('Deployment', 'istio-system', 'istio-ingressgateway', 'apps'))).toBeUndefined();
    expect(live(c, ref('Service', 'istio-system', 'federation-ingress')).spec.type).toBe('LoadBalancer');
  });

  test('an owner missing from the dump is dropped (else garbage collection would delete the object); unserved kinds are skipped', () => {
    const c = liveCluster(
      [
        {
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: {
            name: 'x',
            namespace: 'a',
            ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'gone', uid: 'u1' }],
          },
        },
        { apiVersion: 'jaegertracing.io/v1', kind: 'Jaeger', metadata: { name: 'jaeger', namespace: 'a' } },
      ],
      { ossm2: true, ossm3: false },
    );
    expect(live(c, ref('ConfigMap', 'a', 'x')).metadata.ownerReferences).toBeUndefined();
    expect(live(c, ref('Namespace', '', 'a')).metadata.labels).toEqual({ 'kubernetes.io/metadata.name': 'a' });
    expect(c.events.map((e) => e.message)).toEqual(
      expect.arrayContaining([
        'owner reference to ReplicaSet gone dropped: the owner is not in the dump',
        'not restored: Jaeger (jaegertracing.io/v1) is not served with the installed operators',
      ]),
    );
  });
});
