/**
 * Greenfield multi-cluster (spec.mode: greenfield): the declared federation goes through the same
 * model, one overlay per cluster, the shared-name scheme, and the input meshfed refuses.
 */
import * as fs from 'fs';
import * as path from 'path';

import { stringify } from 'yaml';

import { copyTree, EXAMPLE_CLUSTERS } from './support/fixtures';
import { crdProblems, find } from './support/kube';
import { runCli, synthTo, desiredState } from './support/synth';

const EXAMPLE = path.join(__dirname, '..', 'examples', 'greenfield', 'clusters');

function edit(file: string, from: string | RegExp, to: string): void {
  const s = fs.readFileSync(file, 'utf8');
  const out = s.replace(from, to);
  if (out === s) throw new Error(`test setup: ${String(from)} not found in ${file}`);
  fs.writeFileSync(file, out);
}

function synthFails(dir: string): { stderr: string; out: string } {
  const out = path.join(fs.mkdtempSync('/tmp/meshfed-'), 'dist');
  const res = runCli(['--clusters', dir, '--out', out]);
  expect(res.code).toBe(1);
  expect(fs.existsSync(out)).toBe(false);
  return { stderr: res.stderr, out };
}

describe("examples/greenfield (the reference documents' mesh.global scenario)", () => {
  const { dist, result } = synthTo(EXAMPLE);
  const east = desiredState(dist, 'east', 'multicluster');
  const west = desiredState(dist, 'west', 'multicluster');

  test('one overlay per cluster, nothing else per cluster; CRD-valid; no error finding', () => {
    expect(result.plan.phases).toEqual(['multicluster']);
    expect(fs.readdirSync(path.join(dist, 'east')).sort()).toEqual(['imports', 'multicluster']);
    expect(fs.readdirSync(path.join(dist, 'east', 'imports'))).toEqual(['west']);
    expect([...east, ...west].flatMap(crdProblems)).toEqual([]);
    expect(result.findings.filter((f) => f.severity === 'error')).toEqual([]);
    expect(fs.readFileSync(path.join(dist, 'README.md'), 'utf8')).toContain('# Multi-cluster runbook (greenfield)');
  });

  test('the restart waits for the revision istiod (installed in the same apply) before restarting anything, with a read-only Role', () => {
    const job = east.find((o) => o.kind === 'Job' && o.metadata.name.startsWith('meshfed-restart-workloads'))!;
    const script = job.spec.template.spec.containers[0].command[2] as string;
    const lines = script.split('\n');
    const wait = lines.indexOf('kubectl rollout status deployments/istiod-default-v1-27-3 -n istio-system --timeout=600s || exit 1');
    // After the helper functions, before the first restart.
    expect(wait).toBeGreaterThan(0);
    expect(lines.findIndex((l) => l.startsWith('restart '))).toBeGreaterThan(wait);
    const role = east.find((o) => o.kind === 'Role' && o.metadata.name === 'meshfed-restart-workloads-wait')!;
    expect(role.metadata.namespace).toBe('istio-system');
    expect(role.rules).toEqual([
      { apiGroups: ['apps'], resources: ['deployments'], verbs: ['get', 'list', 'watch'], resourceNames: ['istiod-default-v1-27-3'] },
    ]);
  });

  test("OSSM 3 is installed from the settings: trust domain, the peer's trust domain and root, network", () => {
    const istio = find(east, 'Istio', 'default')!;
    expect(istio.spec.values.meshConfig).toMatchObject({ trustDomain: 'east.local', trustDomainAliases: ['west.local'] });
    expect(istio.spec.values.meshConfig.caCertificates).toEqual([
      { pem: fs.readFileSync(path.join(EXAMPLE, 'west', 'root-cert.pem'), 'utf8') },
    ]);
    expect(istio.spec.values.global.network).toBe('east-network');
    expect(find(west, 'Istio', 'default')!.spec.values.pilot.env.PILOT_ENABLE_ALPHA_GATEWAY_API).toBe('true');
    expect(find(east, 'Namespace', 'istio-system')).toBeDefined();
    expect(find(east, 'Namespace', 'sleep')!.metadata.labels).toEqual({ 'istio.io/rev': 'default-v1-27-3' });
    expect(east.filter((o) => o.apiVersion.startsWith('maistra.io') || o.apiVersion.startsWith('federation.maistra.io'))).toEqual([]);
  });

  test(
    'httpbin.httpbin.mesh.global on both sides: the exporter gives it to its pods, the importer ' +
      'joins its own pods and the remote endpoint',
    () => {
      expect(find(west, 'Gateway', 'expose-services', 'istio-ingress')!.spec.servers[0].hosts).toEqual(['httpbin.httpbin.mesh.global']);
      expect(find(west, 'Gateway', 'expose-services', 'istio-ingress')!.spec.selector).toEqual({
        'gateway.networking.k8s.io/gateway-name': 'eastwestgateway',
      });
      expect(find(west, 'ServiceEntry', 'httpbin-httpbin-mesh-global', 'httpbin')!.spec).toEqual({
        exportTo: ['httpbin', 'istio-ingress'],
        hosts: ['httpbin.httpbin.mesh.global'],
        location: 'MESH_INTERNAL',
        ports: [{ name: 'http', number: 8000, protocol: 'HTTP', targetPort: 8080 }],
        resolution: 'STATIC',
        workloadSelector: { labels: { app: 'httpbin' } },
      });
      expect(find(east, 'ServiceEntry', 'httpbin-httpbin-mesh-global', 'httpbin')!.spec).toMatchObject({
        hosts: ['httpbin.httpbin.mesh.global'],
        ports: [{ name: 'http', number: 8000, protocol: 'HTTP', targetPort: 8080 }],
        subjectAltNames: ['spiffe://west.local/ns/httpbin/sa/httpbin'],
        workloadSelector: { labels: { app: 'httpbin' } },
      });
      expect(find(east, 'WorkloadEntry', 'httpbin-httpbin-mesh-global-west-mesh', 'httpbin')).toMatchObject({
        metadata: { labels: { app: 'httpbin', 'security.istio.io/tlsMode': 'istio' } },
        spec: { network: 'west-network' },
      });
      expect(find(east, 'Gateway', 'remote-gateway-west-network', 'istio-system')!.spec.addresses).toEqual([{ value: '198.51.100.20' }]);
    },
  );
});

test('both directions on one shared name: one ServiceEntry per cluster for the host (local pods + the peer), no second exporter entry', () => {
  const dir = copyTree(EXAMPLE);
  fs.appendFileSync(
    path.join(dir, 'east', 'federation', 'west.yaml'),
    '---\n' +
      stringify({
        apiVersion: 'federation.maistra.io/v1',
        kind: 'ExportedServiceSet',
        metadata: { name: 'west-mesh' },
        spec: { exportRules: [{ type: 'NameSelector', nameSelector: { namespace: 'httpbin', name: 'httpbin' } }] },
      }),
  );
  fs.appendFileSync(
    path.join(dir, 'west', 'federation', 'east.yaml'),
    '---\n' +
      stringify({
        apiVersion: 'federation.maistra.io/v1',
        kind: 'ImportedServiceSet',
        metadata: { name: 'east-mesh' },
        spec: { importRules: [{ type: 'NameSelector', nameSelector: { namespace: 'httpbin' } }] },
      }),
  );
  edit(
    path.join(dir, 'east', 'cluster.yaml'),
    'network: east-network',
    'network: east-network\n  eastWestGateway:\n    address: 198.51.100.10',
  );
  const { dist, result } = synthTo(dir);
  expect(result.findings.filter((f) => f.severity === 'error')).toEqual([]);
  for (const [c, peer] of [
    ['east', 'west'],
    ['west', 'east'],
  ]) {
    const objs = desiredState(dist, c, 'multicluster');
    const entries = objs.filter((o) => o.kind === 'ServiceEntry' && o.spec.hosts[0] === 'httpbin.httpbin.mesh.global');
    expect(entries.map((o) => `${o.metadata.namespace}/${o.metadata.name}`)).toEqual(['httpbin/httpbin-httpbin-mesh-global']);
    expect(entries[0].spec.subjectAltNames).toEqual([`spiffe://${peer}.local/ns/httpbin/sa/httpbin`]);
    expect(find(objs, 'Gateway', 'expose-services', 'istio-ingress')!.spec.servers[0].hosts).toEqual(['httpbin.httpbin.mesh.global']);
  }
});

test('without the shared-name scheme, imports are named as Maistra would', () => {
  const dir = copyTree(EXAMPLE);
  for (const c of ['east', 'west']) edit(path.join(dir, c, 'cluster.yaml'), /\n {2}hostnameScheme: global/, '');
  // The probe follows the name (a mesh.global URL no longer names anything east has: MF004).
  edit(
    path.join(dir, 'east', 'cluster.yaml'),
    'url: http://httpbin.httpbin.mesh.global',
    'url: http://httpbin.httpbin.svc.west-mesh-imports.local',
  );
  const { dist } = synthTo(dir);
  const east = desiredState(dist, 'east', 'multicluster');
  expect(find(east, 'ServiceEntry', 'httpbin-httpbin-svc-west-mesh-imports-local', 'istio-system')!.spec.hosts).toEqual([
    'httpbin.httpbin.svc.west-mesh-imports.local',
  ]);
});

test("an exporter without an address yet: importers' overlays are written without its imports, with a warning saying what to set", () => {
  const dir = copyTree(EXAMPLE);
  edit(path.join(dir, 'west', 'cluster.yaml'), /\n {2}eastWestGateway:\n(.*\n){3}/, '\n');
  const out = path.join(fs.mkdtempSync('/tmp/meshfed-'), 'dist');
  const res = runCli(['--clusters', dir, '--out', out]);
  expect(res.code).toBe(0);
  expect(res.stderr).toContain(
    "east's imports from west are left out of its multicluster overlay for now: west's " +
      "east-west gateway address is unknown: apply west's multicluster overlay, then set " +
      'spec.eastWestGateway.address in clusters/west/cluster.yaml',
  );
  const east = desiredState(out, 'east', 'multicluster');
  expect(east.filter((o) => o.kind === 'WorkloadEntry' || (o.kind === 'Gateway' && o.spec.gatewayClassName === 'istio-remote'))).toEqual(
    [],
  );
  expect(find(east, 'Istio', 'default')).toBeDefined();
  expect(find(desiredState(out, 'west', 'multicluster'), 'Gateway', 'eastwestgateway', 'istio-ingress')).toBeDefined();
});

describe('refused input', () => {
  test('greenfield without trustDomain', () => {
    const dir = copyTree(EXAMPLE);
    edit(path.join(dir, 'east', 'cluster.yaml'), /\n {2}trustDomain: east.local/, '');
    expect(synthFails(dir).stderr).toContain('field spec.mode: mode: greenfield needs spec.trustDomain.');
  });
  test('trustDomain on a migration cluster', () => {
    const dir = copyTree(EXAMPLE_CLUSTERS);
    edit(path.join(dir, 'east', 'cluster.yaml'), 'network: network-east-mesh', 'network: network-east-mesh\n  trustDomain: east.local');
    expect(synthFails(dir).stderr).toContain('field spec.trustDomain: trustDomain is only read with mode: greenfield.');
  });
  test('an ossm2/ folder in a greenfield cluster', () => {
    const dir = copyTree(EXAMPLE);
    fs.mkdirSync(path.join(dir, 'east', 'ossm2'));
    expect(synthFails(dir).stderr).toContain('a greenfield cluster (spec.mode: greenfield) has no ossm2/ folder.');
  });
  test('a Service in federation/', () => {
    const dir = copyTree(EXAMPLE);
    fs.writeFileSync(
      path.join(dir, 'east', 'federation', 'svc.yaml'),
      stringify({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'x', namespace: 'sleep' }, spec: { ports: [{ port: 80 }] } }),
    );
    expect(synthFails(dir).stderr).toContain('Service sleep/x does not belong in federation/');
  });
  test('greenfield and migration clusters in one folder', () => {
    const dir = copyTree(EXAMPLE);
    fs.cpSync(path.join(EXAMPLE_CLUSTERS, 'east'), path.join(dir, 'old'), { recursive: true });
    edit(path.join(dir, 'old', 'cluster.yaml'), 'name: east', 'name: old');
    edit(path.join(dir, 'old', 'ossm2', 'smcp.yaml'), 'domain: east.local', 'domain: old.local');
    expect(synthFails(dir).stderr).toContain(
      'old is a migration cluster, but east, west are greenfield: one clusters/ folder renders one kind of federation.',
    );
  });
});
