/** Egress upstreams and routes, rendered alone. */
import { Testing } from 'cdk8s';

import { EgressBackendService, EgressBackendServiceEntry, EgressEndpointSlice } from '../../lib/constructs/egress-backend';
import { EgressTlsRoute, EgressVirtualService } from '../../lib/constructs/egress-route';

function synth(build: (chart: ReturnType<typeof Testing.chart>) => void) {
  const chart = Testing.chart();
  build(chart);
  return Testing.synth(chart);
}

test('openshift upstream: a ServiceEntry visible in its namespace only, DNS resolution for names, the peer node port per endpoint', () => {
  const [ip, dns] = synth((c) => {
    new EgressBackendServiceEntry(c, 'a', {
      name: 'ingress-west',
      namespace: 'istio-egress',
      host: 'ingress.west.global',
      addresses: ['192.0.2.2', '192.0.2.1'],
      port: 15443,
    });
    new EgressBackendServiceEntry(c, 'b', {
      name: 'ingress-east',
      namespace: 'istio-egress',
      host: 'ingress.east.global',
      addresses: ['ew.east.example.com'],
      port: 31443,
    });
  });
  expect(ip.spec).toMatchObject({ exportTo: ['.'], resolution: 'STATIC', endpoints: [{ address: '192.0.2.1' }, { address: '192.0.2.2' }] });
  expect(dns.spec).toMatchObject({ resolution: 'DNS', endpoints: [{ address: 'ew.east.example.com', ports: { tls: 31443 } }] });
  expect(ip.spec.endpoints[0]).not.toHaveProperty('network');
});

test('a ServiceEntry upstream without a host is a bug, not an empty host', () => {
  expect(() =>
    synth((c) => new EgressBackendServiceEntry(c, 'a', { name: 'x', namespace: 'n', addresses: ['192.0.2.1'], port: 15443 })),
  ).toThrow(/has no host/);
});

test('kubernetes upstream: a headless Service and an EndpointSlice with the peer addresses', () => {
  const [svc, slice] = synth((c) => {
    new EgressBackendService(c, 's', { name: 'ingress-west', namespace: 'istio-egress', addresses: ['192.0.2.1'], port: 31443 });
    new EgressEndpointSlice(c, 'e', {
      name: 'ingress-west-ipv4',
      namespace: 'istio-egress',
      service: 'ingress-west',
      addressType: 'IPv4',
      addresses: ['192.0.2.1'],
      port: 31443,
    });
  });
  expect(svc.spec).toEqual({ clusterIP: 'None', ports: [{ name: 'tls', port: 15443, targetPort: 31443, protocol: 'TCP' }] });
  expect(slice).toMatchObject({ addressType: 'IPv4', endpoints: [{ addresses: ['192.0.2.1'] }], ports: [{ port: 31443 }] });
  expect(slice.metadata.labels).toEqual({ 'kubernetes.io/service-name': 'ingress-west' });
});

test('routes: TLSRoute to Service names; VirtualService weights add up to 100 across several peers', () => {
  const backends = [
    { exporter: 'west', name: 'ingress-west', host: 'ingress.west.global' },
    { exporter: 'east', name: 'ingress-east', host: 'ingress.east.global' },
    { exporter: 'north', name: 'ingress-north', host: 'ingress.north.global' },
  ];
  const [tls, vs] = synth((c) => {
    new EgressTlsRoute(c, 't', {
      name: 'r',
      namespace: 'istio-egress',
      host: 'h.example',
      gatewayName: 'egress-gateway',
      backends: backends.map(({ exporter, name }) => ({ exporter, name })),
    });
    new EgressVirtualService(c, 'v', {
      name: 'r',
      namespace: 'istio-egress',
      host: 'h.example',
      gatewayName: 'egress-gateway-passthrough',
      backends,
    });
  });
  expect(tls.spec.hostnames).toEqual(['*.h.example']);
  expect(tls.spec.rules[0].backendRefs.map((b: { name: string }) => b.name)).toEqual(['ingress-east', 'ingress-north', 'ingress-west']);
  const weights = vs.spec.tls[0].route.map((r: { weight: number }) => r.weight);
  expect(weights).toEqual([34, 33, 33]);
  expect(vs.spec.tls[0].route.map((r: { destination: { host: string } }) => r.destination.host)).toEqual([
    'ingress.east.global',
    'ingress.north.global',
    'ingress.west.global',
  ]);
});
