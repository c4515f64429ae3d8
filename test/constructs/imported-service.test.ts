/** ImportedServiceEntry / ImportedWorkloadEntry, rendered alone (cdk8s Testing.chart, milliseconds). */
import { Testing } from 'cdk8s';

import { ImportedServiceEntry, ImportedWorkloadEntry } from '../../lib/constructs/imported-service';

const base = {
  name: 'httpbin-a-svc-west-mesh-imports-local',
  namespace: 'istio-system',
  host: 'httpbin.a.svc.west-mesh-imports.local',
  ports: [{ name: 'http', number: 8000, protocol: 'HTTP', targetPort: 8080 }],
  subjectAltNames: ['spiffe://west.local/ns/a/sa/httpbin'],
  exportTo: ['client'],
  selector: { app: 'httpbin-a-svc-west-mesh-imports-local' },
};

function render(props: Partial<typeof base> & { localPods?: boolean }) {
  const chart = Testing.chart();
  new ImportedServiceEntry(chart, 'se', { ...base, ...props });
  return Testing.synth(chart)[0];
}

test('an imported ServiceEntry drops the targetPort (the gateway routes by SNI) and keeps the SANs', () => {
  const se = render({});
  expect(se).toMatchObject({ apiVersion: 'networking.istio.io/v1beta1', kind: 'ServiceEntry' });
  expect(se.spec).toEqual({
    exportTo: ['client'],
    hosts: ['httpbin.a.svc.west-mesh-imports.local'],
    location: 'MESH_INTERNAL',
    ports: [{ name: 'http', number: 8000, protocol: 'HTTP' }],
    resolution: 'STATIC',
    subjectAltNames: ['spiffe://west.local/ns/a/sa/httpbin'],
    workloadSelector: { labels: { app: 'httpbin-a-svc-west-mesh-imports-local' } },
  });
});

test('an entry that also selects the local pods keeps their targetPort', () => {
  expect(render({ localPods: true }).spec.ports).toEqual([{ name: 'http', number: 8000, protocol: 'HTTP', targetPort: 8080 }]);
});

test('without known identities there is no subjectAltNames field (not an empty list)', () => {
  expect(render({ subjectAltNames: [] }).spec).not.toHaveProperty('subjectAltNames');
});

test('an address-less WorkloadEntry carries network, labels and only the optional fields given', () => {
  const chart = Testing.chart();
  new ImportedWorkloadEntry(chart, 'we', {
    name: 'httpbin-west-mesh',
    namespace: 'istio-system',
    labels: { app: 'httpbin', 'security.istio.io/tlsMode': 'istio' },
    network: 'west-network',
  });
  new ImportedWorkloadEntry(chart, 'we2', {
    name: 'ratings-red-mesh',
    namespace: 'bookinfo',
    labels: { app: 'ratings', 'security.istio.io/tlsMode': 'istio' },
    network: 'red-network',
    locality: 'us-east/zone-1',
    serviceAccount: 'bookinfo-ratings',
    ports: { http: 9080 },
  });
  const [plain, full] = Testing.synth(chart);
  expect(plain.metadata.labels).toEqual({ app: 'httpbin', 'security.istio.io/tlsMode': 'istio' });
  expect(plain.spec).toEqual({ network: 'west-network' });
  expect(full.spec).toEqual({
    network: 'red-network',
    locality: 'us-east/zone-1',
    serviceAccount: 'bookinfo-ratings',
    ports: { http: 9080 },
  });
});
