/**
 * Synthetic federations in the real input format: N meshes in full mesh (N×(N−1) ServiceMeshPeers),
 * each exporting S services with two ports to every peer, every peer importing all of them.
 */
import * as fs from 'fs';
import * as path from 'path';

import { stringify } from 'yaml';

const ROOT_PEM = fs.readFileSync(path.join(__dirname, '..', 'test', 'fixtures', 'certs', 'red-root-cert.pem'), 'utf8');

/** How the dumps are written: `plain` (the objects alone) or `realistic` (what `oc get -o yaml` writes: see `asDumped`). */
export type DumpStyle = 'plain' | 'realistic';

export function dumpList(items: unknown[], style: DumpStyle = 'plain'): string {
  if (style === 'plain') return stringify({ apiVersion: 'v1', kind: 'List', items }, { lineWidth: 0 });
  // `oc get -o yaml` (sigs.k8s.io/yaml over go-yaml): keys sorted, sequences not indented under their key,
  // `kind: List` with an empty resourceVersion.
  const text = stringify(
    { apiVersion: 'v1', items: items.map((o, i) => asDumped(o as Dumped, i)), kind: 'List', metadata: { resourceVersion: '' } },
    { lineWidth: 0, indentSeq: false, sortMapEntries: true },
  );
  // go-yaml quotes a string that YAML 1.1 would read as a timestamp.
  return text.replace(/^(\s*(?:- )?[A-Za-z]+: )(\d{4}-\d\d-\d\dT[\d:]+Z)$/gm, '$1"$2"');
}

type Dumped = { apiVersion: string; kind: string; metadata: Record<string, unknown>; spec?: Record<string, unknown> } & Record<
  string,
  unknown
>;

/** The managedFields entry of one field manager: every field of `value` as a fieldsV1 set (`f:` keys, `.: {}` for maps). */
function fieldsV1(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return {};
  if (Array.isArray(value))
    return Object.fromEntries(
      value.map((v, i) => {
        const o = v as Record<string, unknown>;
        const key =
          o && typeof o === 'object' && 'port' in o
            ? `k:{"port":${String(o.port)},"protocol":"TCP"}`
            : o && typeof o === 'object' && ('name' in o || 'type' in o)
              ? 'name' in o
                ? `k:{"name":"${String(o.name)}"}`
                : `k:{"type":"${String(o.type)}"}`
              : `i:${i}`;
        return [key, { '.': {}, ...(fieldsV1(v) as object) }];
      }),
    );
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [`f:${k}`, fieldsV1(v)]));
}

/**
 * An object as the API server returns it and `oc get -o yaml` prints it: uid, resourceVersion, creationTimestamp,
 * the last-applied annotation of `kubectl apply`, managedFields of the client and of the controllers, the
 * defaults the API server fills in and a status. Deterministic (from the object's index), so runs compare.
 */
function asDumped(o: Dumped, i: number): Dumped {
  const time = `2026-11-${String(1 + (i % 28)).padStart(2, '0')}T10:${String(i % 60).padStart(2, '0')}:03Z`;
  const uid = `0b0a${String(i).padStart(4, '0')}-5c1e-4f7a-9d2b-${String(i * 7919)
    .padStart(12, '0')
    .slice(-12)}`;
  const applied = JSON.stringify({ apiVersion: o.apiVersion, kind: o.kind, metadata: o.metadata, spec: o.spec });
  const spec =
    o.kind === 'Service' ? serviceDefaults(o.spec ?? {}, i) : o.kind === 'Deployment' ? deploymentDefaults(o.spec ?? {}) : o.spec;
  const managed = [
    {
      apiVersion: o.apiVersion,
      fieldsType: 'FieldsV1',
      fieldsV1: fieldsV1({
        metadata: { annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '' }, labels: o.metadata.labels },
        spec: o.spec,
      }),
      manager: 'kubectl-client-side-apply',
      operation: 'Update',
      time,
    },
  ];
  const status = o.kind === 'Deployment' ? deploymentStatus(time) : o.kind === 'Service' ? { loadBalancer: {} } : undefined;
  if (status)
    managed.push({
      apiVersion: o.apiVersion,
      fieldsType: 'FieldsV1',
      fieldsV1: fieldsV1({ status }),
      manager: 'kube-controller-manager',
      operation: 'Update',
      time,
      subresource: 'status',
    } as never);
  return {
    ...o,
    metadata: {
      ...o.metadata,
      annotations: {
        ...(o.metadata.annotations as object),
        ...(o.kind === 'Deployment' && { 'deployment.kubernetes.io/revision': '1' }),
        'kubectl.kubernetes.io/last-applied-configuration': `${applied}\n`,
      },
      creationTimestamp: time,
      ...(o.kind === 'Deployment' && { generation: 1 }),
      managedFields: managed,
      resourceVersion: String(100000 + i * 13),
      uid,
    },
    ...(spec && { spec }),
    ...(status && { status }),
  };
}

function serviceDefaults(spec: Record<string, unknown>, i: number): Record<string, unknown> {
  const ip = `172.30.${Math.floor(i / 250) % 250}.${(i % 250) + 1}`;
  const ports = (spec.ports as Record<string, unknown>[] | undefined)?.map((p) => ({ ...p, protocol: 'TCP' }));
  return {
    ...spec,
    ...(ports && { ports }),
    clusterIP: ip,
    clusterIPs: [ip],
    internalTrafficPolicy: 'Cluster',
    ipFamilies: ['IPv4'],
    ipFamilyPolicy: 'SingleStack',
    sessionAffinity: 'None',
    type: 'ClusterIP',
  };
}

function deploymentDefaults(spec: Record<string, unknown>): Record<string, unknown> {
  const template = spec.template as {
    metadata: Record<string, unknown>;
    spec: { containers: Record<string, unknown>[] } & Record<string, unknown>;
  };
  return {
    ...spec,
    progressDeadlineSeconds: 600,
    replicas: 1,
    revisionHistoryLimit: 10,
    strategy: { rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' }, type: 'RollingUpdate' },
    template: {
      metadata: { ...template.metadata, annotations: { 'sidecar.istio.io/inject': 'true' }, creationTimestamp: null },
      spec: {
        ...template.spec,
        containers: template.spec.containers.map((c) => ({
          ...c,
          imagePullPolicy: 'Always',
          ports: [
            { containerPort: 8080, protocol: 'TCP' },
            { containerPort: 9090, protocol: 'TCP' },
          ],
          resources: { limits: { cpu: '500m', memory: '256Mi' }, requests: { cpu: '50m', memory: '64Mi' } },
          terminationMessagePath: '/dev/termination-log',
          terminationMessagePolicy: 'File',
        })),
        dnsPolicy: 'ClusterFirst',
        restartPolicy: 'Always',
        schedulerName: 'default-scheduler',
        securityContext: {},
        terminationGracePeriodSeconds: 30,
      },
    },
  };
}

function deploymentStatus(time: string): Record<string, unknown> {
  return {
    availableReplicas: 1,
    conditions: [
      {
        lastTransitionTime: time,
        lastUpdateTime: time,
        message: 'Deployment has minimum availability.',
        reason: 'MinimumReplicasAvailable',
        status: 'True',
        type: 'Available',
      },
      {
        lastTransitionTime: time,
        lastUpdateTime: time,
        message: 'ReplicaSet has successfully progressed.',
        reason: 'NewReplicaSetAvailable',
        status: 'True',
        type: 'Progressing',
      },
    ],
    observedGeneration: 1,
    readyReplicas: 1,
    replicas: 1,
    updatedReplicas: 1,
  };
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
          // Opted in, as Maistra's base profile (autoInject false) requires for a sidecar: a sidecar-less export is MF001.
          metadata: { labels: { app: svc }, annotations: { 'sidecar.istio.io/inject': 'true' } },
          spec: { serviceAccountName: svc, containers: [{ name: svc, image: 'example/app' }] },
        },
      },
    },
  ];
}

/** Write the federation under `dir` (`realistic`: the dumps as `oc get -o yaml` writes them); returns the number of imports it defines. */
export function generateFederation(dir: string, meshes: number, services: number, style: DumpStyle = 'plain'): number {
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
    fs.writeFileSync(path.join(cd, 'ossm2', 'federation.yaml'), dumpList(fed, style));
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
    fs.writeFileSync(path.join(cd, 'ossm2', 'workloads.yaml'), dumpList(objs, style));
  }
  return meshes * (meshes - 1) * services;
}
