/**
 * Rendered output, for the bundled example and a three-mesh federation: every overlay builds with
 * kubectl kustomize, every object is valid against its upstream CRD schema, the mesh pitfalls are
 * avoided, plan.json states the gates, and the output is deterministic.
 */
import * as fs from 'fs';
import * as path from 'path';

import * as yaml from 'js-yaml';

import { EXAMPLE_CLUSTERS, writeClusters } from './support/fixtures';
import { crdProblems, find, Obj } from './support/kube';
import { builtStates, desiredState, overlayDirs, readTree, runCli, synthTo } from './support/synth';
import { threeMeshSpecs, writeThreeMesh } from './support/three-mesh';
import { RenderResult } from '../lib/pipeline/render';
import { refKey } from '../lib/plan/types';

interface ObjectRefLike {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
}

const scenarios: [string, () => string][] = [
  ['bundled example', () => EXAMPLE_CLUSTERS],
  ['three meshes', writeThreeMesh],
];

describe.each(scenarios)('%s', (_name, clusters) => {
  let dist: string;
  let result: RenderResult;
  let dirs: string[];
  let built: Map<string, Obj[]>;
  beforeAll(() => {
    ({ dist, result } = synthTo(clusters()));
    dirs = overlayDirs(dist);
    built = builtStates(dist);
  });

  test('every cluster gets all eight phase folders and every overlay builds', () => {
    const clustersOut = fs.readdirSync(dist).filter((c) => fs.existsSync(path.join(dist, c, '00-federation')));
    expect(dirs).toHaveLength(clustersOut.length * 8);
    // Each build (the phase folder and the import folders delivered with it) gives objects, each with an apiVersion, a kind and a name.
    const text = (v: unknown) => typeof v === 'string' && v !== '';
    const problems = [...built].flatMap(([dir, objs]) => [
      ...(objs.length === 0 ? [`${dir}: the build holds no object`] : []),
      ...objs
        .filter((o) => !text(o.apiVersion) || !text(o.kind) || !text(o.metadata?.name))
        .map((o) => `${dir}: an object without apiVersion, kind or metadata.name: ${JSON.stringify(o).slice(0, 120)}`),
    ]);
    expect(problems).toEqual([]);
    expect(built.size).toBe(dirs.length);
  });

  test('every rendered object is valid against its upstream CRD schema', () => {
    const problems = [...built.values()].flat().flatMap(crdProblems);
    expect([...new Set(problems)]).toEqual([]);
  });

  test(
    'pitfalls: WorkloadEntries carry tlsMode, name a remote network known to an istio-remote ' +
      'Gateway, never the local or a federation network',
    () => {
      let checked = 0;
      for (const [dir, objs] of built) {
        if (!dir.endsWith('03-import')) continue;
        const cluster = dir.split(path.sep)[0];
        const smcp = find(built.get(path.join(cluster, '01-prepare'))!, 'ServiceMeshControlPlane', 'basic')!;
        const local = smcp.spec.cluster.network;
        const remoteNets = objs
          .filter((o) => o.kind === 'Gateway' && o.spec.gatewayClassName === 'istio-remote')
          .map((g) => g.metadata.labels!['topology.istio.io/network']);
        const federationNets = objs.filter((o) => o.kind === 'ServiceMeshPeer').map((p) => `network-${p.metadata.name}`);
        for (const we of objs.filter((o) => o.kind === 'WorkloadEntry')) {
          checked++;
          expect(we.metadata.labels!['security.istio.io/tlsMode']).toBe('istio');
          expect(we.spec.address).toBeUndefined();
          expect(remoteNets).toContain(we.spec.network);
          expect(we.spec.network).not.toBe(local);
          expect(federationNets).not.toContain(we.spec.network);
        }
        for (const g of objs.filter((o) => o.kind === 'Gateway' && o.spec.gatewayClassName === 'istio-remote')) {
          const a = g.spec.addresses[0];
          expect(/^[0-9.]+$/.test(a.value) ? a.type : a.type).toBe(/^[0-9.]+$/.test(a.value) ? undefined : 'Hostname');
        }
      }
      expect(checked).toBeGreaterThan(0);
    },
  );

  test('ServiceEntries select WorkloadEntries in their own namespace only', () => {
    let checked = 0;
    for (const objs of built.values()) {
      for (const se of objs.filter((o) => o.kind === 'ServiceEntry' && o.spec.subjectAltNames)) {
        checked++;
        const sel = se.spec.workloadSelector.labels as Record<string, string>;
        const wes = objs.filter((o) => o.kind === 'WorkloadEntry' && Object.entries(sel).every(([k, v]) => o.metadata.labels?.[k] === v));
        expect(wes.length).toBeGreaterThan(0);
        for (const we of wes) expect(we.metadata.namespace).toBe(se.metadata.namespace);
      }
    }
    expect(checked).toBeGreaterThan(0);
  });

  test("imported services live in dist/<cluster>/imports/ only: no object twice in a cluster's state, none left in the phase folders", () => {
    for (const [dir, objs] of built) {
      const ids = objs.map((o) => `${o.apiVersion.split('/')[0]}/${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`);
      expect({ dir, repeated: ids.filter((id, i) => ids.indexOf(id) !== i) }).toEqual({ dir, repeated: [] });
    }
    // The objects a folder's files hold, as refKeys (the files' documents, whatever their grouping).
    const held = (dir: string) =>
      new Set(
        fs
          .readdirSync(dir)
          .filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml')
          .flatMap((f) => yaml.loadAll(fs.readFileSync(path.join(dir, f), 'utf8')) as ObjectRefLike[])
          .map((o) => refKey({ apiVersion: o.apiVersion, kind: o.kind, name: o.metadata.name, namespace: o.metadata.namespace })),
      );
    let shipped = 0;
    for (const c of result.plan.local) {
      for (const p of result.plan.byCluster[c]) {
        const inPhase = held(path.join(dist, c, p.phase));
        for (const shard of p.shards) {
          const inShard = held(path.join(dist, c, 'imports', shard.name));
          for (const r of shard.resources) {
            const key = refKey(r.ref);
            expect({ key, inPhase: inPhase.has(key), inShard: inShard.has(key) }).toEqual({ key, inPhase: false, inShard: true });
            shipped++;
          }
        }
      }
    }
    expect(shipped).toBeGreaterThan(0);
  });

  test('Sail kinds are cluster-scoped: no namespace on Istio or IstioCNI', () => {
    const sail = [...built.values()].flat().filter((x) => x.apiVersion.startsWith('sailoperator.io/'));
    expect(new Set(sail.map((o) => o.kind))).toEqual(new Set(['Istio', 'IstioCNI']));
    for (const o of sail) expect(o.metadata.namespace).toBeUndefined();
  });

  test('the output is deterministic: two synths give byte-identical trees', () => {
    const again = synthTo(clusters()).dist;
    expect(readTree(again)).toEqual(readTree(dist));
  });
});

describe('three meshes in detail', () => {
  let dir: string;
  let dist: string;
  let result: RenderResult;
  beforeAll(() => {
    dir = writeThreeMesh();
    ({ dist, result } = synthTo(dir));
  });
  const state = (c: string, p: string) => desiredState(dist, c, p);

  test('one istio-remote Gateway per exporting peer, with a Hostname address for DNS names', () => {
    const blue = state('blue', '03-import').filter((o) => o.kind === 'Gateway' && o.spec.gatewayClassName === 'istio-remote');
    expect(blue.map((g) => [g.metadata.name, g.metadata.labels!['topology.istio.io/network'], g.spec.addresses])).toEqual([
      ['remote-gateway-network-green', 'green-ew', [{ value: '203.0.113.20' }]],
      ['remote-gateway-network-red', 'red-network', [{ type: 'Hostname', value: 'red-ew.example.com' }]],
    ]);
  });

  test('importAsLocal into an existing local Service: WorkloadEntries join it (failover), with the remote identity', () => {
    const objs = state('blue', '03-import');
    const we = find(objs, 'WorkloadEntry', 'reviews-green-mesh', 'bookinfo')!;
    expect(we.metadata.labels).toEqual({ app: 'reviews', 'security.istio.io/tlsMode': 'istio' });
    expect(we.spec).toEqual({ network: 'green-ew', serviceAccount: 'bookinfo-reviews' });
    expect(objs.find((o) => o.kind === 'ServiceEntry' && o.spec.hosts.includes('reviews.bookinfo.svc.cluster.local'))).toBeUndefined();
    // and green's gateway exposes that exact hostname (its own FQDN: no exporter ServiceEntry needed)
    const green = state('green', '02-export');
    expect(find(green, 'Gateway', 'expose-services', 'istio-ingress')!.spec.servers[0].hosts).toEqual([
      'reviews.bookinfo.svc.cluster.local',
    ]);
    expect(green.filter((o) => o.kind === 'ServiceEntry')).toEqual([]);
  });

  test('aliases, label selectors and domain suffixes reach the exporter gateway and ServiceEntries', () => {
    const red = state('red', '02-export');
    // blue (LabelSelector + alias) and green (alias back to ratings) both call red "red-mesh": one hostname, one ServiceEntry.
    expect(find(red, 'Gateway', 'expose-services', 'istio-ingress')!.spec.servers[0].hosts).toEqual([
      'ratings.bookinfo.svc.red-mesh-imports.local',
    ]);
    const ses = red
      .filter((o) => o.kind === 'ServiceEntry')
      .map((o) => [o.metadata.namespace, o.metadata.name, o.spec.hosts[0], o.spec.ports[0].targetPort]);
    expect(ses).toEqual([
      ['red-bookinfo', 'ratings-bookinfo-svc-blue-mesh-exports-local', 'ratings.bookinfo.svc.red-mesh-imports.local', 8080],
    ]);
    expect(find(red, 'Gateway', 'eastwestgateway', 'istio-ingress')!.metadata.annotations).toMatchObject({
      'service.beta.kubernetes.io/aws-load-balancer-type': 'nlb',
    });
    const redImport = state('red', '03-import');
    const se = redImport.find((o) => o.kind === 'ServiceEntry' && o.metadata.namespace === 'red-mesh-system')!;
    expect(se.spec.hosts).toEqual(['details.bookinfo.blue.global']);
    expect(se.spec.subjectAltNames).toEqual(['spiffe://blue-mesh.local/ns/bookinfo/sa/details']);
    expect(redImport.find((o) => o.kind === 'WorkloadEntry')!.spec.locality).toBe('eu-north/b');
  });

  test('trust: aliases on both versions of the control plane and every peer root in caCertificates', () => {
    const objs = state('red', '05-install-ossm3');
    const smcp = find(objs, 'ServiceMeshControlPlane', 'basic')!;
    expect(smcp.spec.techPreview.meshConfig.trustDomainAliases).toEqual(['blue-mesh.local', 'green-mesh.local']);
    const istio = find(objs, 'Istio', 'default')!;
    expect(istio.spec.namespace).toBe('red-mesh-system');
    expect(istio.spec.values.meshConfig.trustDomainAliases).toEqual(['blue-mesh.local', 'green-mesh.local']);
    expect(istio.spec.values.meshConfig.caCertificates).toEqual([
      { pem: fs.readFileSync(path.join(dir, 'blue', 'root-cert.pem'), 'utf8') },
      { pem: fs.readFileSync(path.join(dir, 'green', 'root-cert.pem'), 'utf8') },
    ]);
  });

  test('04 removes every export/import set; the peers, their roots and the federation gateways stay until 07', () => {
    for (const c of ['red', 'green', 'blue']) {
      const objs = state(c, '04-remove-federation');
      const smcp = find(objs, 'ServiceMeshControlPlane', 'basic')!;
      // Unchanged since 03: a rollback from 04 finds the federation ingress (and its address) where it was.
      expect(smcp).toEqual(find(state(c, '03-import'), 'ServiceMeshControlPlane', 'basic'));
      expect(Object.keys(smcp.spec.gateways?.additionalIngress ?? {}).length).toBeGreaterThan(0);
      const federation = objs.filter((o) => /federation\.maistra\.io/.test(o.apiVersion));
      expect(federation.map((o) => o.kind)).toEqual(['ServiceMeshPeer', 'ServiceMeshPeer']);
      for (const p of federation) expect(find(objs, 'ConfigMap', p.spec.security.certificateChain.name)).toBeDefined();
      const final = state(c, '07-finalize');
      expect(final.filter((o) => /federation\.maistra\.io/.test(o.apiVersion))).toEqual([]);
      expect(final.filter((o) => o.kind === 'ConfigMap' && o.metadata.name.endsWith('-ca-root-cert'))).toEqual([]);
    }
  });

  test('plan.json states the gates between clusters', () => {
    const plan = JSON.parse(result.files.get('plan.json')!);
    const blue = plan.clusters.blue.phases as { phase: string; waitsFor: { cluster: string; phase: string }[] }[];
    expect(blue.find((p) => p.phase === '03-import')!.waitsFor.map((g) => `${g.cluster}@${g.phase}`)).toEqual([
      'green@02-export',
      'red@02-export',
    ]);
    // only red imports from blue
    expect(blue.find((p) => p.phase === '04-remove-federation')!.waitsFor.map((g) => `${g.cluster}@${g.phase}`)).toEqual(['red@03-import']);
  });
});

describe('an exported service that selects no pods', () => {
  test('cannot be carried to the new path: a warning says why, and continuity (MF001) stops synth', () => {
    const specs = threeMeshSpecs();
    const red = specs.find((s) => s.name === 'red')!;
    const dir = writeClusters([
      {
        ...red,
        extraObjects: [
          {
            apiVersion: 'networking.istio.io/v1beta1',
            kind: 'ServiceEntry',
            metadata: { name: 'legacy-db', namespace: 'red-bookinfo', labels: { 'export-service': 'true' } },
            spec: {
              hosts: ['db.legacy.internal'],
              location: 'MESH_INTERNAL',
              ports: [{ number: 5432, name: 'tcp-pg', protocol: 'TCP' }],
              resolution: 'STATIC',
              endpoints: [{ address: '10.0.0.5' }],
            },
          },
        ],
      },
      ...specs.filter((s) => s.name !== 'red'),
    ]);
    const res = runCli(['--clusters', dir, '--out', path.join(fs.mkdtempSync('/tmp/meshfed-'), 'dist')]);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('imports this service as db.legacy.internal.bookinfo.svc.red-mesh-imports.local, but it selects no pods');
    expect(res.stderr).toContain(
      'MF001 [blue @ 03-import]: With blue at 03-import and red at 04-remove-federation, clients ' +
        'in blue lose db.legacy.internal.bookinfo.svc.red-mesh-imports.local',
    );
  });
});

describe('unknown east-west address', () => {
  test('importers of that exporter get no 03..07 and synth says what to set; the rest is written', () => {
    const dir = writeThreeMesh();
    const f = path.join(dir, 'green', 'cluster.yaml');
    fs.writeFileSync(f, fs.readFileSync(f, 'utf8').replace(/\s+eastWestGateway:\n\s+address: 203.0.113.20/, ''));
    const out = path.join(fs.mkdtempSync('/tmp/meshfed-'), 'dist');
    const { code, stderr } = runCli(['--clusters', dir, '--out', out]);
    expect(code).toBe(0);
    expect(stderr).toContain('blue: 03-import, 04-remove-federation, 05-install-ossm3, 06-migrate-workloads, 07-finalize not written yet');
    expect(stderr).toContain('set spec.eastWestGateway.address in clusters/green/cluster.yaml');
    expect(fs.existsSync(path.join(out, 'blue', '02-export'))).toBe(true);
    expect(fs.existsSync(path.join(out, 'blue', '03-import'))).toBe(false);
    expect(fs.existsSync(path.join(out, 'red', '07-finalize'))).toBe(true);
    const plan = JSON.parse(fs.readFileSync(path.join(out, 'plan.json'), 'utf8'));
    expect(plan.clusters.blue.phases[3]).toMatchObject({ phase: '03-import', written: false });
  });
});
