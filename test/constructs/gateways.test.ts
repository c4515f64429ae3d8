/** The east-west, istio-remote and egress Gateways, rendered alone. */
import { Testing } from 'cdk8s';

import { EastWestGateway } from '../../lib/constructs/east-west-gateway';
import { EgressGateway, EgressPassthroughGateway } from '../../lib/constructs/egress-gateway';
import { ExposedServices } from '../../lib/constructs/exposed-services';
import { RemoteGateway } from '../../lib/constructs/remote-gateway';

function one(build: (chart: ReturnType<typeof Testing.chart>) => void) {
  const chart = Testing.chart();
  build(chart);
  return Testing.synth(chart)[0];
}

test('east-west Gateway: network label, TLS auto-passthrough listener on a hostname that matches nothing', () => {
  const gw = one((c) => new EastWestGateway(c, 'gw', { name: 'eastwestgateway', namespace: 'istio-ingress', network: 'west-network' }));
  expect(gw.metadata).toEqual({
    name: 'eastwestgateway',
    namespace: 'istio-ingress',
    labels: { 'topology.istio.io/network': 'west-network' },
  });
  expect(gw.spec.listeners).toEqual([
    {
      name: 'cross-network',
      hostname: 'fake-hostname-to-block-all-by-default',
      port: 15443,
      protocol: 'TLS',
      tls: { mode: 'Passthrough', options: { 'gateway.istio.io/listener-protocol': 'auto-passthrough' } },
    },
  ]);
});

test('east-west Gateway: Service annotations on the Gateway metadata (both control planes copy them), never in spec.infrastructure', () => {
  const gw = one(
    (c) =>
      new EastWestGateway(c, 'gw', {
        name: 'ew',
        namespace: 'istio-ingress',
        network: 'n',
        annotations: { 'service.beta.kubernetes.io/aws-load-balancer-type': 'nlb' },
      }),
  );
  expect(gw.metadata.annotations).toEqual({ 'service.beta.kubernetes.io/aws-load-balancer-type': 'nlb' });
  expect(gw.spec).not.toHaveProperty('infrastructure');
});

test('east-west Gateway: a non-default Service type is an annotation', () => {
  const gw = one((c) => new EastWestGateway(c, 'gw', { name: 'ew', namespace: 'istio-ingress', network: 'n', serviceType: 'NodePort' }));
  expect(gw.metadata.annotations).toEqual({ 'networking.istio.io/service-type': 'NodePort' });
});

test('istio-remote Gateway: IPs as plain addresses, DNS names as Hostname, the port the exporter listens on', () => {
  const gw = one(
    (c) =>
      new RemoteGateway(c, 'rg', {
        name: 'remote-gateway-west-network',
        namespace: 'istio-system',
        network: 'west-network',
        addresses: ['198.51.100.20', 'ew.west.example.com'],
        port: 31443,
      }),
  );
  expect(gw.apiVersion).toBe('gateway.networking.k8s.io/v1beta1');
  expect(gw.spec.gatewayClassName).toBe('istio-remote');
  expect(gw.spec.addresses).toEqual([{ value: '198.51.100.20' }, { type: 'Hostname', value: 'ew.west.example.com' }]);
  expect(gw.spec.listeners[0].port).toBe(31443);
});

test('expose-services lists exactly the given hosts, sorted, AUTO_PASSTHROUGH on 15443', () => {
  const gw = one(
    (c) =>
      new ExposedServices(c, 'x', {
        name: 'expose-services',
        namespace: 'istio-ingress',
        selector: { 'gateway.networking.k8s.io/gateway-name': 'ew' },
        hosts: ['b.x', 'a.x'],
      }),
  );
  expect(gw.spec.selector).toEqual({ 'gateway.networking.k8s.io/gateway-name': 'ew' });
  expect(gw.spec.servers).toEqual([
    { port: { number: 15443, name: 'tls', protocol: 'TLS' }, tls: { mode: 'AUTO_PASSTHROUGH' }, hosts: ['a.x', 'b.x'] },
  ]);
});

test('egress Gateway: ClusterIP; on openshift the listener matches no hostname and an Istio Gateway carries the SNI hosts', () => {
  const k = one((c) => new EgressGateway(c, 'g', { name: 'egress-gateway', namespace: 'istio-egress', platform: 'kubernetes' }));
  const o = one((c) => new EgressGateway(c, 'g', { name: 'egress-gateway', namespace: 'istio-egress', platform: 'openshift' }));
  expect(k.metadata.annotations).toEqual({ 'networking.istio.io/service-type': 'ClusterIP' });
  expect(k.spec.listeners[0]).not.toHaveProperty('hostname');
  expect(o.spec.listeners[0].hostname).toBe('fake-hostname-to-block-all-by-default');
  const p = one(
    (c) =>
      new EgressPassthroughGateway(c, 'p', {
        name: 'egress-gateway-passthrough',
        namespace: 'istio-egress',
        selector: { 'istio.io/gateway-name': 'egress-gateway' },
        sniHosts: ['*.b', '*.a'],
      }),
  );
  expect(p.spec.servers[0]).toMatchObject({ tls: { mode: 'PASSTHROUGH' }, hosts: ['*.a', '*.b'] });
});
