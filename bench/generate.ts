/**
 * Synthetic federations in the real input format: N meshes in full mesh (N×(N−1) ServiceMeshPeers),
 * each exporting S services with two ports to every peer, every peer importing all of them.
 */
import * as fs from 'fs';
import * as path from 'path';

import { stringify } from 'yaml';

const ROOT_PEM = fs.readFileSync(path.join(__dirname, '..', 'test', 'fixtures', 'certs', 'red-root-cert.pem'), 'utf8');

function list(items: unknown[]): string {
  return stringify({ apiVersion: 'v1', kind: 'List', items }, { lineWidth: 0 });
}

export function clusterName(i: number): string {
  return `m${String(i).padStart(2, '0')}`;
}

/** One exported service as the dumps hold it: its Service and the Deployment that gives its identity. */
export function serviceObjects(ns: string, svc: string, ports: { name: string; port: number; targetPort: number }[]): unknown[] {
  return [
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: svc, namespace: ns, labels: { app: svc } },
      spec: { selector: { app: svc }, ports },
    },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: svc, namespace: ns },
      spec: {
        selector: { matchLabels: { app: svc } },
        template: {
          metadata: { labels: { app: svc } },
          spec: { serviceAccountName: svc, containers: [{ name: svc, image: 'example/app' }] },
        },
      },
    },
  ];
}

/** Write the federation under `dir`; returns the number of imports it defines. */
export function generateFederation(dir: string, meshes: number, services: number): number {
  const names = Array.from({ length: meshes }, (_, i) => clusterName(i));
  for (const [i, name] of names.entries()) {
    const cd = path.join(dir, name);
    fs.mkdirSync(path.join(cd, 'ossm2'), { recursive: true });
    const peers = names.filter((n) => n !== name);
    fs.writeFileSync(
      path.join(cd, 'cluster.yaml'),
      stringify({
        apiVersion: 'meshfed.dev/v1alpha1',
        kind: 'ClusterSettings',
        metadata: { name },
        spec: {
          network: `net-${name}`,
          ossm3: { version: 'v1.27.3' },
          workloadRestart: { image: 'quay.io/openshift/origin-cli:4.19' },
          eastWestGateway: { address: `192.0.2.${i + 1}` },
        },
      }),
    );
    // One CA for all meshes keeps generation fast; trust wiring is the same code path.
    fs.writeFileSync(path.join(cd, 'root-cert.pem'), ROOT_PEM);
    fs.writeFileSync(
      path.join(cd, 'ossm2', 'smcp.yaml'),
      stringify({
        apiVersion: 'maistra.io/v2',
        kind: 'ServiceMeshControlPlane',
        metadata: { name: 'basic', namespace: 'istio-system' },
        spec: {
          version: 'v2.6',
          mode: 'ClusterWide',
          security: { trust: { domain: `${name}.local` } },
          // Red Hat's premigration state: addons, tracing, the default gateways and IOR off.
          addons: { prometheus: { enabled: false }, kiali: { enabled: false }, grafana: { enabled: false } },
          tracing: { type: 'None' },
          gateways: {
            ingress: { enabled: false },
            egress: { enabled: false },
            openshiftRoute: { enabled: false },
            additionalIngress: Object.fromEntries(peers.map((p) => [`ingress-${p}`, { enabled: true }])),
            additionalEgress: Object.fromEntries(peers.map((p) => [`egress-${p}`, { enabled: true }])),
          },
        },
      }),
    );
    const fed: unknown[] = [];
    for (const p of peers) {
      fed.push({
        apiVersion: 'federation.maistra.io/v1',
        kind: 'ServiceMeshPeer',
        metadata: { name: `${p}-mesh`, namespace: 'istio-system' },
        spec: {
          remote: { addresses: ['192.0.2.200'] },
          gateways: { ingress: { name: `ingress-${p}` }, egress: { name: `egress-${p}` } },
          security: {
            trustDomain: `${p}.local`,
            clientID: `${p}.local/ns/istio-system/sa/egress-${name}-service-account`,
            certificateChain: { kind: 'ConfigMap', name: `${p}-mesh-ca-root-cert` },
          },
        },
      });
      fed.push({
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: `${p}-mesh-ca-root-cert`, namespace: 'istio-system' },
        data: { 'root-cert.pem': ROOT_PEM },
      });
      fed.push({
        apiVersion: 'federation.maistra.io/v1',
        kind: 'ExportedServiceSet',
        metadata: { name: `${p}-mesh`, namespace: 'istio-system' },
        spec: { exportRules: [{ type: 'NameSelector', nameSelector: { namespace: `${name}-apps` } }] },
      });
      fed.push({
        apiVersion: 'federation.maistra.io/v1',
        kind: 'ImportedServiceSet',
        metadata: { name: `${p}-mesh`, namespace: 'istio-system' },
        spec: { importRules: [{ type: 'NameSelector', nameSelector: { namespace: '*' } }] },
      });
    }
    fs.writeFileSync(path.join(cd, 'ossm2', 'federation.yaml'), list(fed));
    const ns = `${name}-apps`;
    const objs: unknown[] = [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels: { 'istio-injection': 'enabled' } } }];
    for (let s = 0; s < services; s++) {
      const svc = `svc-${String(s).padStart(4, '0')}`;
      objs.push(
        ...serviceObjects(ns, svc, [
          { name: 'http', port: 8000, targetPort: 8080 },
          { name: 'grpc', port: 9000, targetPort: 9090 },
        ]),
      );
    }
    fs.writeFileSync(path.join(cd, 'ossm2', 'workloads.yaml'), list(objs));
  }
  return meshes * (meshes - 1) * services;
}
