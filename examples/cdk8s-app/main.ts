/**
 * A cdk8s app that composes meshfed with objects of its own (README, "Two ways in"; examples/README.md).
 * `cdk8s synth` (or `npx tsc && node main.js`) renders clusters/ into dist/ exactly as `meshfed synth` does, plus:
 * - east, from 06-migrate-workloads on: a canary namespace with a Deployment and Service (cdk8s-plus-28), the
 *   workload that shows the OSSM 3 revision serves traffic once the namespaces have moved;
 * - west, 02-export through 04-remove-federation: a ConfigMap telling the team the export is in flight, which the
 *   05 overlay deletes;
 * - an Aspect labelling every object the federation writes (meshfed's own, imported ServiceEntries included).
 */
import { ApiObject, App } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { IConstruct } from 'constructs';
import { Aspects, Federation } from 'meshfed';

const app = new App({ outdir: 'cdk8s.out' });
const fed = new Federation(app, 'federation', {
  clusters: process.env.MESHFED_CLUSTERS ?? 'clusters',
  out: process.env.MESHFED_OUT ?? 'dist',
});

// The canary: objects of east's 06-migrate-workloads overlay and of every phase after it.
const east = fed.phase('east', '06-migrate-workloads');
const namespace = new kplus.Namespace(east, 'canary-namespace', {
  metadata: { name: 'mesh-canary', labels: { 'istio.io/rev': 'default' } },
});
const canary = new kplus.Deployment(east, 'canary', {
  metadata: { name: 'canary', namespace: namespace.name },
  replicas: 1,
  containers: [
    {
      name: 'canary',
      image: 'registry.access.redhat.com/ubi9/httpd-24:latest',
      portNumber: 8080,
      // httpd writes its pid and logs under /run and /var/log: a writable root, still never root.
      securityContext: { ensureNonRoot: true, readOnlyRootFilesystem: false },
    },
  ],
});
canary.exposeViaService({ name: 'canary', ports: [{ port: 8080 }] });

// A note for west's team while its services are exported twice, gone from 05 on.
new kplus.ConfigMap(fed.phase('west', '02-export', { through: '04-remove-federation' }), 'export-in-flight', {
  metadata: { name: 'export-in-flight', namespace: 'istio-system' },
  data: { status: 'west exports through the OSSM 3 east-west gateway and the federation gateway; 05 removes this note' },
});

/** Every object the federation writes carries the owning team's label. */
class OwnerLabel {
  visit(node: IConstruct): void {
    if (node instanceof ApiObject) node.metadata.addLabel('example.com/owner', 'platform');
  }
}
Aspects.of(fed).add(new OwnerLabel());

app.synth();
