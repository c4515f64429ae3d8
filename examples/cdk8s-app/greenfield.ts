/**
 * examples/greenfield declared in code instead of YAML (README, "Two ways in"): a Mesh per cluster, its MeshPeer, and
 * under the peer what it imports or exports. `npx tsc && node greenfield.js` renders into dist-greenfield/ the dist/
 * that `meshfed synth --clusters ../greenfield/clusters` renders, byte for byte; the inventory and the root
 * certificates are the YAML example's files. `meshfed graduate --format ts` writes such an app from a finished
 * migration (docs/gitops.md, "After 07-finalize").
 */
import * as path from 'path';

import { App } from 'cdk8s';
import { ExportedServiceSet, Federation, ImportedServiceSet, Mesh, MeshPeer } from 'meshfed';

const clusters = process.env.MESHFED_GREENFIELD ?? path.join('..', 'greenfield', 'clusters');
const app = new App({ outdir: 'cdk8s.out' });
const fed = new Federation(app, 'federation', { out: process.env.MESHFED_OUT ?? 'dist-greenfield' });

// The hook Jobs' image (restarts, traffic checks): /bin/sh and kubectl, pinned.
const workloadRestart = { image: 'quay.io/openshift/origin-cli:4.19' };

const east = new Mesh(fed, 'east', {
  settings: {
    trustDomain: 'east.local',
    // Shared services are called <name>.<namespace>.mesh.global on every cluster.
    hostnameScheme: 'global',
    network: 'east-network',
    ossm3: { version: 'v1.27.3' },
    remoteNetworks: { 'west-mesh': 'west-network' },
    verify: [{ from: { namespace: 'sleep', deployment: 'sleep' }, url: 'http://httpbin.httpbin.mesh.global:8000/headers' }],
    workloadRestart,
  },
  rootCert: path.join(clusters, 'east', 'root-cert.pem'),
  inventory: path.join(clusters, 'east', 'inventory'),
});
const eastPeer = new MeshPeer(east, 'west-mesh', { security: { trustDomain: 'west.local' } });
new ImportedServiceSet(eastPeer, 'imports', {
  importRules: [{ type: 'NameSelector', nameSelector: { namespace: 'httpbin', name: 'httpbin' } }],
});

const west = new Mesh(fed, 'west', {
  settings: {
    trustDomain: 'west.local',
    hostnameScheme: 'global',
    network: 'west-network',
    ossm3: { version: 'v1.27.3' },
    eastWestGateway: { address: '198.51.100.20' },
    remoteNetworks: { 'east-mesh': 'east-network' },
    workloadRestart,
  },
  rootCert: path.join(clusters, 'west', 'root-cert.pem'),
  inventory: path.join(clusters, 'west', 'inventory'),
});
const westPeer = new MeshPeer(west, 'east-mesh', { security: { trustDomain: 'east.local' } });
new ExportedServiceSet(westPeer, 'exports', {
  exportRules: [{ type: 'NameSelector', nameSelector: { namespace: 'httpbin', name: 'httpbin' } }],
});

app.synth();
