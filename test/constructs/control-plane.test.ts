/** The OSSM 3 control plane, rendered alone. */
import { Testing } from 'cdk8s';

import { IstioCniControlPlane, IstioControlPlane } from '../../lib/constructs/ossm3-control-plane';

test('Istio: RevisionBased, cluster-scoped, peers roots scoped when asked, DNS capture and XDS agent on', () => {
  const chart = Testing.chart();
  new IstioControlPlane(chart, 'i', {
    name: 'default',
    version: 'v1.27.3',
    namespace: 'istio-system',
    trustDomain: 'east.local',
    trustDomainAliases: [],
    caCertificates: [{ cluster: 'west', pem: 'PEM', trustDomains: ['west.local'] }],
    network: 'east-network',
    pilotEnv: { ISTIO_MULTIROOT_MESH: 'true' },
    dnsCapture: true,
    carried: {
      meshConfig: { outboundTrafficPolicy: { mode: 'REGISTRY_ONLY' }, defaultConfig: { proxyMetadata: { FOO: 'bar' } } },
      pilot: { env: { ISTIO_MULTIROOT_MESH: 'false', KEEP: '1' }, replicaCount: 2 },
    },
  });
  new IstioCniControlPlane(chart, 'c', { version: 'v1.27.3', namespace: 'istio-cni' });
  const [istio, cni] = Testing.synth(chart);
  expect(istio.metadata).toEqual({ name: 'default' });
  expect(istio.spec.updateStrategy).toEqual({ type: 'RevisionBased' });
  // Carried SMCP settings under meshfed's own, merged key by key: meshfed's env value wins.
  expect(istio.spec.values.meshConfig).toEqual({
    outboundTrafficPolicy: { mode: 'REGISTRY_ONLY' },
    caCertificates: [{ pem: 'PEM', trustDomains: ['west.local'] }],
    defaultConfig: { proxyMetadata: { FOO: 'bar', ISTIO_META_DNS_CAPTURE: 'true', PROXY_CONFIG_XDS_AGENT: 'true' } },
    trustDomain: 'east.local',
  });
  expect(istio.spec.values.pilot).toEqual({ env: { ISTIO_MULTIROOT_MESH: 'true', KEEP: '1' }, replicaCount: 2 });
  expect(istio.spec.values.global).toEqual({ network: 'east-network' });
  expect(cni).toEqual({
    apiVersion: 'sailoperator.io/v1',
    kind: 'IstioCNI',
    metadata: { name: 'default' },
    spec: { version: 'v1.27.3', namespace: 'istio-cni' },
  });
});
