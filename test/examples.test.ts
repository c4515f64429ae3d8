/**
 * The example folders under examples/: each synthesizes, every overlay builds, every object is valid
 * against its CRD schema, and each shows what it is for.
 */
import * as fs from 'fs';
import * as path from 'path';

import { copyTree, EXAMPLE_CLUSTERS } from './support/fixtures';
import { crdProblems, find, Obj } from './support/kube';
import { builtStates, readTree, runCli, synthTo } from './support/synth';
import { RenderResult } from '../lib/pipeline/render';

const EXAMPLES = path.join(__dirname, '..', 'examples');

describe.each(fs.readdirSync(EXAMPLES).filter((e) => fs.existsSync(path.join(EXAMPLES, e, 'clusters'))))('examples/%s', (example) => {
  let dist: string;
  let result: RenderResult;
  let built: Map<string, Obj[]>;
  beforeAll(() => {
    ({ dist, result } = synthTo(path.join(EXAMPLES, example, 'clusters')));
    built = builtStates(dist);
  });

  test('synthesizes every phase of every cluster, valid against the CRD schemas, with no error finding', () => {
    expect(built.size).toBe(result.plan.local.length * result.plan.phases.length);
    expect([...built.values()].flat().flatMap(crdProblems)).toEqual([]);
    expect(result.findings.filter((f) => f.severity === 'error')).toEqual([]);
  });

  if (example === 'nodeport') {
    test('the exporter asks for a NodePort Service; the importer reaches every node on the node port', () => {
      const ew = find(built.get('west/02-export')!, 'Gateway', 'eastwestgateway', 'istio-ingress')!;
      expect(ew.metadata.annotations).toMatchObject({ 'networking.istio.io/service-type': 'NodePort' });
      const remote = find(built.get('east/03-import')!, 'Gateway', 'remote-gateway-network-west-mesh', 'istio-system')!;
      expect(remote.spec.addresses).toEqual([{ value: '192.0.2.31' }, { value: '192.0.2.32' }, { value: '192.0.2.33' }]);
      expect(remote.spec.listeners[0]).toMatchObject({
        port: 31443,
        protocol: 'TLS',
        tls: { mode: 'Passthrough', options: { 'gateway.istio.io/listener-protocol': 'auto-passthrough' } },
      });
    });
  }
  if (example === 'aws-nlb') {
    test('the NLB annotation reaches the generated Service, and the DNS name becomes type: Hostname', () => {
      const ew = find(built.get('west/02-export')!, 'Gateway', 'eastwestgateway', 'istio-ingress')!;
      // On the Gateway's metadata, which OSSM 2.6 and OSSM 3 both copy to the Service (spec.infrastructure: OSSM 3 only).
      expect(ew.metadata.annotations).toMatchObject({ 'service.beta.kubernetes.io/aws-load-balancer-type': 'nlb' });
      expect(ew.spec.infrastructure).toBeUndefined();
      const remote = find(built.get('east/03-import')!, 'Gateway', 'remote-gateway-network-west-mesh', 'istio-system')!;
      expect(remote.spec.addresses).toEqual([{ type: 'Hostname', value: 'a1b2c3d4e5f6-0123456789.elb.eu-west-1.amazonaws.com' }]);
      expect(remote.spec.listeners[0].port).toBe(15443);
    });
  }
  if (example === 'separate-domains') {
    test("east alone, from west's bundle, renders exactly what the combined render of clusters/ gives east", () => {
      const combined = synthTo(EXAMPLE_CLUSTERS).dist;
      expect(readTree(path.join(dist, 'east'))).toEqual(readTree(path.join(combined, 'east')));
      expect(fs.existsSync(path.join(dist, 'west'))).toBe(false);
    });
  }
  if (example === 'egress-openshift' || example === 'egress-kubernetes') {
    const kube = example === 'egress-kubernetes';
    test('the importer sends every peer through its egress gateway: istio-remote Gateway at the egress Service, SNI routes to the peer', () => {
      const objs = built.get('east/03-import')!;
      const remote = find(objs, 'Gateway', 'remote-gateway-network-west-mesh', 'istio-system')!;
      expect(remote.spec.addresses).toEqual([{ type: 'Hostname', value: 'egress-gateway-istio.istio-egress.svc.cluster.local' }]);
      expect(remote.spec.listeners[0].port).toBe(15443);
      const egress = objs.find(
        (o) => o.kind === 'Gateway' && o.apiVersion === 'gateway.networking.k8s.io/v1' && o.metadata.name === 'egress-gateway',
      )!;
      expect(egress.metadata).toMatchObject({
        namespace: 'istio-egress',
        annotations: { 'networking.istio.io/service-type': 'ClusterIP' },
      });
      expect(egress.spec.listeners).toEqual([
        {
          name: 'tls',
          port: 15443,
          protocol: 'TLS',
          tls: { mode: 'Passthrough' },
          ...(kube ? {} : { hostname: 'fake-hostname-to-block-all-by-default' }),
        },
      ]);
      expect(objs.filter((o) => o.kind === 'TLSRoute').length).toBe(kube ? 2 : 0);
      if (kube) {
        const route = find(objs, 'TLSRoute', 'httpbin-a-svc-west-mesh-imports-local', 'istio-egress')!;
        expect(route.spec).toEqual({
          hostnames: ['*.httpbin.a.svc.west-mesh-imports.local'],
          parentRefs: [{ kind: 'Gateway', name: 'egress-gateway', sectionName: 'tls' }],
          rules: [{ backendRefs: [{ name: 'ingress-west', port: 15443 }] }],
        });
        expect(find(objs, 'Service', 'ingress-west', 'istio-egress')!.spec).toEqual({
          clusterIP: 'None',
          ports: [{ name: 'tls', port: 15443, protocol: 'TCP', targetPort: 31443 }],
        });
        const slice = find(objs, 'EndpointSlice', 'ingress-west', 'istio-egress')!;
        expect(slice).toMatchObject({
          addressType: 'IPv4',
          endpoints: [{ addresses: ['192.0.2.31'] }, { addresses: ['192.0.2.32'] }, { addresses: ['192.0.2.33'] }],
          ports: [{ name: 'tls', port: 31443, protocol: 'TCP' }],
        });
        expect(slice.metadata.labels).toEqual({ 'kubernetes.io/service-name': 'ingress-west' });
      } else {
        expect(find(objs, 'Gateway', 'egress-gateway-passthrough', 'istio-egress')!.spec.servers[0]).toEqual({
          port: { number: 15443, name: 'tls', protocol: 'TLS' },
          tls: { mode: 'PASSTHROUGH' },
          hosts: ['*.httpbin.a.svc.west-mesh-imports.local', '*.httpbin.b.svc.cluster.local'],
        });
        const vs = find(objs, 'VirtualService', 'httpbin-b-svc-cluster-local', 'istio-egress')!;
        expect(vs.spec).toEqual({
          exportTo: ['.'],
          gateways: ['egress-gateway-passthrough'],
          hosts: ['*.httpbin.b.svc.cluster.local'],
          tls: [
            {
              match: [{ port: 15443, sniHosts: ['*.httpbin.b.svc.cluster.local'] }],
              route: [{ destination: { host: 'ingress.west.global', port: { number: 15443 } } }],
            },
          ],
        });
        // No network on the endpoint: on the peer's network istiod would send it to that network's gateway, the egress itself.
        expect(find(objs, 'ServiceEntry', 'ingress-west', 'istio-egress')!.spec).toEqual({
          endpoints: [{ address: '198.51.100.20' }],
          exportTo: ['.'],
          hosts: ['ingress.west.global'],
          location: 'MESH_INTERNAL',
          ports: [{ name: 'tls', number: 15443, protocol: 'TLS' }],
          resolution: 'STATIC',
        });
      }
    });
    test('the egress namespace is created in 03 and moves to OSSM 3 in 06; istiod gets the alpha Gateway API flag where it needs it', () => {
      expect(find(built.get('east/02-export')!, 'Namespace', 'istio-egress')).toBeUndefined();
      expect(find(built.get('east/06-migrate-workloads')!, 'Namespace', 'istio-egress')!.metadata.labels).toMatchObject({
        'istio.io/rev': 'default-v1-27-3',
      });
      const smcp = find(built.get('east/01-prepare')!, 'ServiceMeshControlPlane', 'basic', 'istio-system')!;
      expect(smcp.spec.runtime.components.pilot.container.env.PILOT_ENABLE_ALPHA_GATEWAY_API).toBe(kube ? 'true' : undefined);
      expect(find(built.get('east/05-install-ossm3')!, 'Istio', 'default')!.spec.values.pilot.env.PILOT_ENABLE_ALPHA_GATEWAY_API).toBe(
        'true',
      );
    });
  }
});

describe('NodePort settings', () => {
  test("an unknown node port keeps the importers' 03-import unwritten and says how to find it", () => {
    const dir = copyTree(path.join(EXAMPLES, 'nodeport', 'clusters'));
    const f = path.join(dir, 'west', 'cluster.yaml');
    fs.writeFileSync(f, fs.readFileSync(f, 'utf8').replace(/\n\s+nodePort: 31443/, ''));
    const out = path.join(fs.mkdtempSync('/tmp/meshfed-'), 'dist');
    const res = runCli(['--clusters', dir, '--out', out]);
    expect(res.code).toBe(0);
    expect(res.stderr).toContain(
      "west's east-west gateway node port is unknown: apply west's 02-export, then set " +
        'spec.eastWestGateway.service.nodePort in clusters/west/cluster.yaml (kubectl get svc ' +
        'eastwestgateway-istio -n istio-ingress -o ' +
        "jsonpath='{.spec.ports[?(@.port==15443)].nodePort}')",
    );
    expect(fs.existsSync(path.join(out, 'east', '03-import'))).toBe(false);
  });
  test('nodePort without type NodePort is refused', () => {
    const dir = copyTree(path.join(EXAMPLES, 'nodeport', 'clusters'));
    const f = path.join(dir, 'west', 'cluster.yaml');
    fs.writeFileSync(f, fs.readFileSync(f, 'utf8').replace('type: NodePort', 'type: LoadBalancer'));
    const res = runCli(['--clusters', dir, '--out', path.join(fs.mkdtempSync('/tmp/meshfed-'), 'dist')]);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('field spec.eastWestGateway.service.nodePort: nodePort is only used with type: NodePort.');
  });
});
