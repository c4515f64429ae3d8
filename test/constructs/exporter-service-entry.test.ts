/** ExporterServiceEntry, rendered alone. */
import { Testing } from 'cdk8s';

import { ExporterServiceEntry } from '../../lib/constructs/exporter-service-entry';

test('gives the importer hostname to the pods, visible only in their namespace and the east-west gateway namespace', () => {
  const chart = Testing.chart();
  new ExporterServiceEntry(chart, 'se', {
    name: 'httpbin-a-svc-east-mesh-exports-local',
    namespace: 'a',
    host: 'httpbin.a.svc.west-mesh-imports.local',
    ports: [{ name: 'http', number: 8000, protocol: 'HTTP', targetPort: 8080 }],
    podSelector: { app: 'httpbin' },
    exportTo: ['a', 'istio-ingress'],
  });
  expect(Testing.synth(chart)[0].spec).toEqual({
    exportTo: ['a', 'istio-ingress'],
    hosts: ['httpbin.a.svc.west-mesh-imports.local'],
    location: 'MESH_INTERNAL',
    ports: [{ name: 'http', number: 8000, protocol: 'HTTP', targetPort: 8080 }],
    resolution: 'STATIC',
    workloadSelector: { labels: { app: 'httpbin' } },
  });
});
