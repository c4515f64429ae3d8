/**
 * Egress-gateway routing (spec.egressGateway): one hostname exported by two peers, both platforms'
 * routing objects, the settings meshfed refuses, and the continuity check over the egress hop.
 */
import * as fs from 'fs';
import * as path from 'path';

import { runChecks } from '../lib/check';
import { Diagnostics } from '../lib/diagnostics';
import { ClusterSpec, writeClusters } from './support/fixtures';
import { crdProblems, find, Obj } from './support/kube';
import { runCli, synthTo, desiredState } from './support/synth';
import { loadClusters } from '../lib/load/clusters';
import { buildModel } from '../lib/model/federation';
import { RenderResult } from '../lib/pipeline/render';
import { buildPlan } from '../lib/plan/plan';
import { Plan } from '../lib/plan/types';

/** `api` in namespace `shared` runs on alpha and beta; gamma imports both as api.shared.global (one host, two exporters). */
function specs(gamma: Record<string, unknown>, betaAddress: string | string[] = '203.0.113.2'): ClusterSpec[] {
  const exporter = (name: 'alpha' | 'beta', root: 'red' | 'green', address: string | string[]): ClusterSpec => ({
    name,
    trustDomain: `${name}.local`,
    root,
    services: [{ namespace: 'shared', name: 'api' }],
    peers: [{ name: 'gamma-mesh', trustDomain: 'gamma.local', rootOf: 'gamma' }],
    exportSets: [{ name: 'gamma-mesh', exportRules: [{ type: 'NameSelector', nameSelector: { namespace: 'shared', name: 'api' } }] }],
    settings: { eastWestGateway: { address } },
  });
  return [
    exporter('alpha', 'red', '203.0.113.1'),
    exporter('beta', 'green', betaAddress),
    {
      name: 'gamma',
      trustDomain: 'gamma.local',
      root: 'blue',
      services: [{ namespace: 'client', name: 'curl' }],
      peers: [
        { name: 'alpha-mesh', trustDomain: 'alpha.local', rootOf: 'alpha' },
        { name: 'beta-mesh', trustDomain: 'beta.local', rootOf: 'beta' },
      ],
      importSets: ['alpha-mesh', 'beta-mesh'].map((name) => ({
        name,
        spec: { importRules: [{ type: 'NameSelector', nameSelector: { namespace: 'shared' } }], domainSuffix: 'global' },
      })),
      settings: gamma,
    },
  ];
}

describe.each(['openshift', 'kubernetes'] as const)('egress gateway on %s, one host exported by two peers', (platform) => {
  let dist: string;
  let result: RenderResult;
  let objs: Obj[];
  beforeAll(() => {
    ({ dist, result } = synthTo(writeClusters(specs({ platform, egressGateway: { enabled: true } }))));
    objs = desiredState(dist, 'gamma', '03-import');
  });

  test('every overlay builds, every object is CRD-valid, no error finding', () => {
    for (const phase of result.plan.phases) expect(desiredState(dist, 'gamma', phase).flatMap(crdProblems)).toEqual([]);
    expect(result.findings.filter((f) => f.severity === 'error')).toEqual([]);
  });

  test('both istio-remote Gateways point at the egress gateway; the route for the host leads to both peers', () => {
    for (const net of ['alpha-network', 'beta-network']) {
      const gw = objs.find(
        (o) =>
          o.kind === 'Gateway' && o.spec.gatewayClassName === 'istio-remote' && o.metadata.labels?.['topology.istio.io/network'] === net,
      )!;
      expect(gw.spec.addresses).toEqual([{ type: 'Hostname', value: 'egress-gateway-istio.istio-egress.svc.cluster.local' }]);
    }
    if (platform === 'kubernetes') {
      expect(find(objs, 'TLSRoute', 'api-shared-global', 'istio-egress')!.spec.rules).toEqual([
        {
          backendRefs: [
            { name: 'ingress-alpha', port: 15443 },
            { name: 'ingress-beta', port: 15443 },
          ],
        },
      ]);
      expect(find(objs, 'EndpointSlice', 'ingress-beta', 'istio-egress')!.endpoints).toEqual([{ addresses: ['203.0.113.2'] }]);
    } else {
      expect(find(objs, 'VirtualService', 'api-shared-global', 'istio-egress')!.spec.tls[0].route).toEqual([
        { destination: { host: 'ingress.alpha.global', port: { number: 15443 } }, weight: 50 },
        { destination: { host: 'ingress.beta.global', port: { number: 15443 } }, weight: 50 },
      ]);
      expect(find(objs, 'ServiceEntry', 'ingress-beta', 'istio-egress')!.spec.endpoints).toEqual([{ address: '203.0.113.2' }]);
    }
  });
});

test('IPv6 addresses get an IPv6 EndpointSlice next to the IPv4 one', () => {
  const { dist } = synthTo(
    writeClusters(specs({ platform: 'kubernetes', egressGateway: { enabled: true } }, ['203.0.113.2', '2001:db8::2'])),
  );
  const objs = desiredState(dist, 'gamma', '03-import');
  expect(find(objs, 'EndpointSlice', 'ingress-beta', 'istio-egress')).toMatchObject({
    addressType: 'IPv4',
    endpoints: [{ addresses: ['203.0.113.2'] }],
  });
  expect(find(objs, 'EndpointSlice', 'ingress-beta-ipv6', 'istio-egress')).toMatchObject({
    addressType: 'IPv6',
    endpoints: [{ addresses: ['2001:db8::2'] }],
  });
});

test('openshift routing reaches a peer known by DNS name (resolution DNS); kubernetes refuses it, naming both fields', () => {
  const { dist } = synthTo(writeClusters(specs({ platform: 'openshift', egressGateway: { enabled: true } }, 'beta-ew.example.com')));
  expect(find(desiredState(dist, 'gamma', '03-import'), 'ServiceEntry', 'ingress-beta', 'istio-egress')!.spec).toMatchObject({
    resolution: 'DNS',
    endpoints: [{ address: 'beta-ew.example.com' }],
  });
  const dir = writeClusters(specs({ platform: 'kubernetes', egressGateway: { enabled: true } }, 'beta-ew.example.com'));
  const out = path.join(fs.mkdtempSync('/tmp/meshfed-'), 'dist');
  const res = runCli(['--clusters', dir, '--out', out]);
  expect(res.code).toBe(1);
  expect(res.stderr).toContain('gamma/cluster.yaml');
  expect(res.stderr).toContain(
    "field spec.platform: gamma's egress gateway routes to beta with a TLSRoute, whose backend " +
      "is a headless Service; its EndpointSlice takes IP addresses only, but beta's east-west " +
      'gateway is reached at beta-ew.example.com.',
  );
  expect(res.stderr).toContain(
    // The hint names the file where this run's input keeps it (the --clusters path given).
    `Set spec.eastWestGateway.address in ${dir}/beta/cluster.yaml to IP addresses, or use spec.platform: openshift here`,
  );
  expect(fs.existsSync(out)).toBe(false);
});

test('the egress gateway may not live in the control-plane namespace', () => {
  const res = runCli([
    '--clusters',
    writeClusters(specs({ egressGateway: { enabled: true, namespace: 'istio-system' } })),
    '--out',
    path.join(fs.mkdtempSync('/tmp/meshfed-'), 'dist'),
  ]);
  expect(res.code).toBe(1);
  expect(res.stderr).toContain(
    'field spec.egressGateway.namespace: the egress gateway cannot live in the control-plane namespace istio-system',
  );
});

test('spec.platform is checked against its schema', () => {
  const res = runCli([
    '--clusters',
    writeClusters(specs({ platform: 'eks' })),
    '--out',
    path.join(fs.mkdtempSync('/tmp/meshfed-'), 'dist'),
  ]);
  expect(res.code).toBe(1);
  expect(res.stderr).toContain('field spec.platform: must be one of openshift, kubernetes.');
});

describe('MF001 over the egress hop', () => {
  function analyse(platform: 'openshift' | 'kubernetes', breakPlan: (p: Plan) => void) {
    const diags = new Diagnostics();
    const model = buildModel(loadClusters(writeClusters(specs({ platform, egressGateway: { enabled: true } })), diags), diags);
    const plan = buildPlan(model, diags);
    breakPlan(plan);
    return runChecks(model, plan).filter((f) => f.rule === 'MF001');
  }
  const phase = (plan: Plan, name: string) => plan.byCluster.gamma.find((p) => p.phase === name)!;

  test('a complete egress path keeps continuity', () => {
    expect(analyse('kubernetes', () => undefined)).toEqual([]);
  });
  test('a route that misses one exporter loses that exporter', () => {
    const f = analyse('openshift', (plan) => {
      const p = phase(plan, '03-import');
      (p as { adds: unknown[] }).adds = p.adds.map((r) =>
        r.type === 'egressRoute' ? { ...r, backends: r.backends.filter((b) => b.exporter !== 'beta') } : r,
      );
    });
    expect(f.map((x) => x.problem)).toEqual([expect.stringContaining("gamma's egress route for api.shared.global does not lead to beta")]);
  });
  test('TLSRoutes without the alpha flag on the OSSM 2 istiod are ignored', () => {
    const f = analyse('kubernetes', (plan) => {
      const p = phase(plan, '01-prepare');
      (p as { patches: unknown[] }).patches = [];
    });
    expect(f[0].problem).toContain("gamma's OSSM 2 istiod ignores TLSRoutes without PILOT_ENABLE_ALPHA_GATEWAY_API");
  });
});
