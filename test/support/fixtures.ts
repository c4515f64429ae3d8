/**
 * Builds cluster folders in the real input format (cluster.yaml, ossm2/*.yaml as `oc get -o yaml`
 * prints them, root-cert.pem) for tests: N meshes, any export/import rules.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import { stringify } from 'yaml';

export const CERTS = path.join(__dirname, '..', 'fixtures', 'certs');
export const EXAMPLE_CLUSTERS = path.join(__dirname, '..', '..', 'clusters');

/** Every clusters folder of the repository, relative to its root: `clusters` and each `examples/<name>/clusters`. */
export const INPUT_FOLDERS: readonly string[] = [
  'clusters',
  ...fs
    .readdirSync(path.join(__dirname, '..', '..', 'examples'))
    .filter((e) => fs.existsSync(path.join(__dirname, '..', '..', 'examples', e, 'clusters')))
    .map((e) => `examples/${e}/clusters`),
];

export function certPem(name: 'red' | 'green' | 'blue' | 'leaf-not-ca'): string {
  return fs.readFileSync(path.join(CERTS, name === 'leaf-not-ca' ? 'leaf-not-ca.pem' : `${name}-root-cert.pem`), 'utf8');
}

export interface ServiceSpec {
  readonly namespace: string;
  readonly name: string;
  readonly labels?: Record<string, string>;
  readonly ports?: { name?: string; port: number; targetPort?: number | string; appProtocol?: string }[];
  /** Service account of its Deployment; `null` = no Deployment in the dumps. @default name */
  readonly serviceAccount?: string | null;
}

export interface PeerSpec {
  readonly name: string;
  readonly trustDomain: string;
  /** Cluster whose root goes into the CA ConfigMap. */
  readonly rootOf: string;
  readonly address?: string;
}

export interface ClusterSpec {
  readonly name: string;
  readonly trustDomain: string;
  readonly root: 'red' | 'green' | 'blue' | 'east' | 'west';
  readonly network?: string;
  readonly cpNamespace?: string;
  readonly mode?: 'ClusterWide' | 'MultiTenant';
  readonly smcpVersion?: string;
  readonly members?: string[];
  readonly services?: ServiceSpec[];
  readonly peers?: PeerSpec[];
  readonly exportSets?: { name: string; exportRules: unknown[] }[];
  readonly importSets?: { name: string; spec: Record<string, unknown> }[];
  /** Extra settings under spec (merged). */
  readonly settings?: Record<string, unknown>;
  readonly extraObjects?: Record<string, unknown>[];
}

export function rootPem(root: ClusterSpec['root']): string {
  if (root === 'east' || root === 'west') return fs.readFileSync(path.join(EXAMPLE_CLUSTERS, root, 'root-cert.pem'), 'utf8');
  return certPem(root);
}

const NOISE = { creationTimestamp: '2026-01-13T14:00:00Z', resourceVersion: '4242', uid: '00000000-0000-4000-8000-000000000000' };

function list(items: unknown[]): string {
  return stringify({ apiVersion: 'v1', kind: 'List', metadata: { resourceVersion: '' }, items });
}

export function writeCluster(dir: string, c: ClusterSpec, rootOf: (cluster: string) => string = () => ''): void {
  const cd = path.join(dir, c.name);
  const cp = c.cpNamespace ?? 'istio-system';
  fs.mkdirSync(path.join(cd, 'ossm2'), { recursive: true });
  const settings = {
    apiVersion: 'meshfed.dev/v1alpha1',
    kind: 'ClusterSettings',
    metadata: { name: c.name },
    spec: {
      network: c.network ?? `network-${c.name}`,
      ossm3: { version: 'v1.27.3' },
      workloadRestart: { image: 'quay.io/openshift/origin-cli:4.19' },
      ...(c.settings ?? {}),
    },
  };
  fs.writeFileSync(path.join(cd, 'cluster.yaml'), stringify(settings));
  fs.writeFileSync(path.join(cd, 'root-cert.pem'), rootPem(c.root));
  const peers = c.peers ?? [];
  const smcp = {
    apiVersion: 'maistra.io/v2',
    kind: 'ServiceMeshControlPlane',
    metadata: { name: 'basic', namespace: cp, ...NOISE, finalizers: ['maistra.io/istio-operator'] },
    spec: {
      version: c.smcpVersion ?? 'v2.6',
      mode: c.mode ?? 'ClusterWide',
      security: { trust: { domain: c.trustDomain }, identity: { type: 'ThirdParty' } },
      proxy: { accessLogging: { file: { name: '/dev/stdout' } } },
      // Red Hat's premigration state: addons, tracing, SMCP gateways and IOR off (MF016 reports them otherwise).
      addons: { prometheus: { enabled: false }, kiali: { enabled: false }, grafana: { enabled: false } },
      tracing: { type: 'None' },
      gateways: {
        ingress: { enabled: false },
        egress: { enabled: false },
        openshiftRoute: { enabled: false },
        ...(peers.length
          ? {
              additionalEgress: Object.fromEntries(
                peers.map((p) => [
                  `egress-${p.name}`,
                  {
                    enabled: true,
                    service: {
                      ports: [
                        { name: 'tls', port: 15443 },
                        { name: 'http-discovery', port: 8188 },
                      ],
                    },
                  },
                ]),
              ),
              additionalIngress: Object.fromEntries(
                peers.map((p) => [
                  `ingress-${p.name}`,
                  {
                    enabled: true,
                    service: {
                      type: 'LoadBalancer',
                      ports: [
                        { name: 'tls', port: 15443 },
                        { name: 'https-discovery', port: 8188 },
                      ],
                    },
                  },
                ]),
              ),
            }
          : {}),
      },
    },
    status: { appliedVersion: c.smcpVersion ?? 'v2.6' },
  };
  const fed: unknown[] = [];
  for (const p of peers) {
    fed.push({
      apiVersion: 'federation.maistra.io/v1',
      kind: 'ServiceMeshPeer',
      metadata: { name: p.name, namespace: cp, ...NOISE },
      spec: {
        remote: { addresses: [p.address ?? '198.51.100.99'], discoveryPort: 8188, servicePort: 15443 },
        gateways: { ingress: { name: `ingress-${p.name}` }, egress: { name: `egress-${p.name}` } },
        security: {
          trustDomain: p.trustDomain,
          clientID: `${p.trustDomain}/ns/istio-system/sa/egress-x-service-account`,
          certificateChain: { kind: 'ConfigMap', name: `${p.name}-ca-root-cert` },
        },
      },
    });
    fed.push({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: `${p.name}-ca-root-cert`, namespace: cp, ...NOISE },
      data: { 'root-cert.pem': rootOf(p.rootOf) },
    });
  }
  for (const e of c.exportSets ?? [])
    fed.push({
      apiVersion: 'federation.maistra.io/v1',
      kind: 'ExportedServiceSet',
      metadata: { name: e.name, namespace: cp, ...NOISE },
      spec: { exportRules: e.exportRules },
    });
  for (const i of c.importSets ?? [])
    fed.push({
      apiVersion: 'federation.maistra.io/v1',
      kind: 'ImportedServiceSet',
      metadata: { name: i.name, namespace: cp, ...NOISE },
      spec: i.spec,
    });
  const members = c.members ?? [...new Set((c.services ?? []).map((s) => s.namespace))];
  const namespaces = [cp, ...members].map((n) => ({
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: n, ...NOISE, labels: { 'kubernetes.io/metadata.name': n, ...(n === cp ? {} : { 'istio-injection': 'enabled' }) } },
    spec: { finalizers: ['kubernetes'] },
    status: { phase: 'Active' },
  }));
  const workloads: unknown[] = [];
  for (const s of c.services ?? []) {
    const selector = { app: s.name };
    workloads.push({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: s.name, namespace: s.namespace, labels: { app: s.name, ...(s.labels ?? {}) }, ...NOISE },
      spec: {
        selector,
        ports: (s.ports ?? [{ name: 'http', port: 8000, targetPort: 8080 }]).map((p) => ({ protocol: 'TCP', ...p })),
        type: 'ClusterIP',
      },
    });
    if (s.serviceAccount !== null) {
      const sa = s.serviceAccount ?? s.name;
      workloads.push({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: sa, namespace: s.namespace, ...NOISE } });
      workloads.push({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: s.name, namespace: s.namespace, ...NOISE },
        spec: {
          selector: { matchLabels: selector },
          template: {
            // Opted in, as Maistra's base profile (autoInject false) requires for a sidecar (lib/plan/restart.ts ossm2Sidecar).
            metadata: { labels: selector, annotations: { 'sidecar.istio.io/inject': 'true' } },
            spec: {
              serviceAccountName: sa,
              containers: [{ name: s.name, image: 'example/app', ports: [{ name: 'http', containerPort: 8080 }] }],
            },
          },
        },
      });
    }
  }
  fs.writeFileSync(path.join(cd, 'ossm2', 'smcp.yaml'), stringify(smcp));
  fs.writeFileSync(path.join(cd, 'ossm2', 'federation.yaml'), list(fed));
  fs.writeFileSync(path.join(cd, 'ossm2', 'namespaces.yaml'), list(namespaces));
  const hasRoll = (c.extraObjects ?? []).some((o) => (o as { kind?: string }).kind === 'ServiceMeshMemberRoll');
  if ((c.mode ?? 'ClusterWide') === 'MultiTenant' && !hasRoll) {
    const roll = {
      apiVersion: 'maistra.io/v1',
      kind: 'ServiceMeshMemberRoll',
      metadata: { name: 'default', namespace: cp, ...NOISE },
      spec: { members },
    };
    fs.writeFileSync(path.join(cd, 'ossm2', 'members.yaml'), stringify(roll));
  }
  fs.writeFileSync(path.join(cd, 'ossm2', 'workloads.yaml'), list([...workloads, ...(c.extraObjects ?? [])]));
}

/** Write every cluster; each peer CA ConfigMap holds the root of the cluster it names. */
export function writeClusters(specs: ClusterSpec[], dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshfed-clusters-'))): string {
  const rootOf = (name: string) => {
    const spec = specs.find((s) => s.name === name);
    return spec ? rootPem(spec.root) : '';
  };
  for (const c of specs) writeCluster(dir, c, rootOf);
  return dir;
}

/** Copy a folder tree (for tests that modify the bundled example). */
export function copyTree(from: string, to = fs.mkdtempSync(path.join(os.tmpdir(), 'meshfed-copy-'))): string {
  fs.cpSync(from, to, { recursive: true });
  return to;
}

/**
 * Make `cluster`'s imports visible to `namespaces` only (spec.importedServices.exportTo). By default they are visible to
 * its control plane namespace too, so MF002 admits `<its trust domain>/ns/istio-system/sa/*` on an exporter's adopted
 * policy, which through the trust domain alias also matches the pods the operators run in the exporter's istio-system:
 * MF027 refuses that render (test/authz-flows.test.ts). Fixtures about something else adopt policies this way.
 */
export function importsVisibleTo(dir: string, cluster: string, namespaces: string[]): string {
  const file = path.join(dir, cluster, 'cluster.yaml');
  const list = namespaces.map((n) => JSON.stringify(n)).join(', '); // quoted: "*" and "." are YAML syntax bare
  fs.writeFileSync(file, `${fs.readFileSync(file, 'utf8')}  importedServices:\n    exportTo: [${list}]\n`);
  return dir;
}
