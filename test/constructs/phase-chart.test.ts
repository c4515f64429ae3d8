/**
 * Every kind of planned object renders: one sample per Resource type (a new type without a sample does
 * not compile), each becoming exactly one object with the planned name and namespace.
 */
import { synthPhaseObjects } from '../../lib/constructs/phase-chart';
import { PEER_AUTHENTICATION_API } from '../../lib/plan/control-plane';
import { ObjectRef, Resource } from '../../lib/plan/types';

const r = (apiVersion: string, kind: string, name: string, namespace?: string): ObjectRef => ({
  apiVersion,
  kind,
  name,
  ...(namespace ? { namespace } : {}),
});
const sa = r('v1', 'ServiceAccount', 'meshfed-x', 'istio-system');
const SAMPLES: { [T in Resource['type']]: Extract<Resource, { type: T }> } = {
  adopted: {
    type: 'adopted',
    ref: r('v1', 'ConfigMap', 'c', 'n'),
    body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'n' }, data: { a: 'b' } },
  },
  namespace: { type: 'namespace', ref: r('v1', 'Namespace', 'istio-ingress'), labels: {} },
  eastWestGateway: {
    type: 'eastWestGateway',
    ref: r('gateway.networking.k8s.io/v1', 'Gateway', 'ew', 'istio-ingress'),
    network: 'n',
    serviceType: 'LoadBalancer',
    annotations: {},
  },
  exposedServices: {
    type: 'exposedServices',
    ref: r('networking.istio.io/v1alpha3', 'Gateway', 'expose-services', 'istio-ingress'),
    selector: { 'istio.io/gateway-name': 'ew' },
    hosts: ['a.b'],
  },
  exporterServiceEntry: {
    type: 'exporterServiceEntry',
    ref: r('networking.istio.io/v1beta1', 'ServiceEntry', 'x', 'a'),
    host: 'x.y',
    ports: [{ name: 'http', number: 80 }],
    podSelector: { app: 'x' },
    exportTo: ['a', 'istio-ingress'],
  },
  remoteGateway: {
    type: 'remoteGateway',
    ref: r('gateway.networking.k8s.io/v1beta1', 'Gateway', 'rg', 'istio-system'),
    network: 'w',
    addresses: ['192.0.2.1'],
    port: 15443,
  },
  egressGateway: {
    type: 'egressGateway',
    ref: r('gateway.networking.k8s.io/v1', 'Gateway', 'egress-gateway', 'istio-egress'),
    platform: 'openshift',
  },
  egressPassthroughGateway: {
    type: 'egressPassthroughGateway',
    ref: r('networking.istio.io/v1alpha3', 'Gateway', 'p', 'istio-egress'),
    selector: { 'istio.io/gateway-name': 'egress-gateway' },
    sniHosts: ['*.a'],
  },
  egressBackend: {
    type: 'egressBackend',
    ref: r('networking.istio.io/v1beta1', 'ServiceEntry', 'ingress-w', 'istio-egress'),
    exporter: 'w',
    host: 'ingress.w.global',
    addresses: ['192.0.2.1'],
    port: 15443,
  },
  egressEndpointSlice: {
    type: 'egressEndpointSlice',
    ref: r('discovery.k8s.io/v1', 'EndpointSlice', 'ingress-w-ipv4', 'istio-egress'),
    fileOf: r('v1', 'Service', 'ingress-w', 'istio-egress'),
    service: 'ingress-w',
    addressType: 'IPv4',
    addresses: ['192.0.2.1'],
    port: 15443,
  },
  egressRoute: {
    type: 'egressRoute',
    ref: r('networking.istio.io/v1beta1', 'VirtualService', 'route', 'istio-egress'),
    host: 'a',
    gatewayName: 'p',
    backends: [{ exporter: 'w', name: 'ingress-w', host: 'ingress.w.global' }],
  },
  importServiceEntry: {
    type: 'importServiceEntry',
    ref: r('networking.istio.io/v1beta1', 'ServiceEntry', 'se', 'istio-system'),
    host: 'a',
    ports: [],
    subjectAltNames: [],
    exportTo: ['.'],
    exporters: ['w'],
    selector: { app: 'se' },
  },
  importWorkloadEntry: {
    type: 'importWorkloadEntry',
    ref: r('networking.istio.io/v1beta1', 'WorkloadEntry', 'we', 'istio-system'),
    exporter: 'w',
    labels: { app: 'se' },
    network: 'w',
  },
  istioCni: { type: 'istioCni', ref: r('sailoperator.io/v1', 'IstioCNI', 'default'), version: 'v1.27.3', namespace: 'istio-cni' },
  istio: {
    type: 'istio',
    ref: r('sailoperator.io/v1', 'Istio', 'default'),
    version: 'v1.27.3',
    namespace: 'istio-system',
    trustDomain: 'a.local',
    trustDomainAliases: [],
    caCertificates: [],
    network: 'n',
    pilotEnv: {},
    dnsCapture: true,
    carried: { meshConfig: { outboundTrafficPolicy: { mode: 'REGISTRY_ONLY' } } },
  },
  meshPeerAuthentication: {
    type: 'meshPeerAuthentication',
    ref: r(PEER_AUTHENTICATION_API, 'PeerAuthentication', 'meshfed-mesh-mtls', 'istio-system'),
    mode: 'STRICT',
  },
  meshDestinationRule: {
    type: 'meshDestinationRule',
    ref: r('networking.istio.io/v1beta1', 'DestinationRule', 'meshfed-mesh-mtls', 'istio-system'),
    host: '*.cluster.local',
    tlsMode: 'ISTIO_MUTUAL',
  },
  istiodServiceMonitor: {
    type: 'istiodServiceMonitor',
    ref: r('monitoring.coreos.com/v1', 'ServiceMonitor', 'istiod-monitor', 'istio-system'),
  },
  proxiesPodMonitor: { type: 'proxiesPodMonitor', ref: r('monitoring.coreos.com/v1', 'PodMonitor', 'istio-proxies-monitor', 'a') },
  kiali: {
    type: 'kiali',
    ref: r('kiali.io/v1alpha1', 'Kiali', 'kiali-ossm3', 'istio-system'),
    revision: 'default-v1-27-3',
    openshift: true,
  },
  gatewayDeployment: {
    type: 'gatewayDeployment',
    ref: r('apps/v1', 'Deployment', 'istio-ingressgateway-ossm3', 'istio-system'),
    serviceAccount: sa,
    podLabels: { istio: 'ingressgateway', 'istio.io/rev': 'r' },
    selectorLabels: { 'meshfed.dev/gateway': 'istio-ingressgateway' },
    ports: [{ name: 'http2', containerPort: 8080, protocol: 'TCP' }],
    replicas: 2,
    pod: { resources: { requests: { cpu: '10m' } } },
  },
  gatewaySecretsRole: {
    type: 'gatewaySecretsRole',
    ref: r('rbac.authorization.k8s.io/v1', 'Role', 'istio-ingressgateway-ossm3', 'istio-system'),
  },
  gatewayAutoscaler: {
    type: 'gatewayAutoscaler',
    ref: r('autoscaling/v2', 'HorizontalPodAutoscaler', 'istio-ingressgateway-ossm3', 'istio-system'),
    min: 2,
    max: 5,
    cpu: 80,
  },
  handoverRole: {
    type: 'handoverRole',
    ref: r('rbac.authorization.k8s.io/v1', 'Role', 'meshfed-handover', 'istio-system'),
    deployments: ['istio-ingressgateway-ossm3'],
    services: ['istio-ingressgateway'],
    routes: ['istio-ingressgateway'],
    serviceAccounts: ['istio-ingressgateway-service-account'],
    disruptionBudgets: [],
    smcp: 'basic',
  },
  handoverJob: {
    type: 'handoverJob',
    ref: r('batch/v1', 'Job', 'meshfed-handover-x', 'istio-system'),
    serviceAccount: sa,
    image: 'quay.io/openshift/origin-cli:4.19',
    smcp: { name: 'basic', namespace: 'istio-system' },
    targets: [
      {
        namespace: 'istio-system',
        deployment: 'istio-ingressgateway-ossm3',
        service: 'istio-ingressgateway',
        routes: [],
        serviceAccount: 'istio-ingressgateway-service-account',
      },
    ],
    waitForMemberRoll: true,
    members: [],
  },
  networkPolicy: {
    type: 'networkPolicy',
    ref: r('networking.k8s.io/v1', 'NetworkPolicy', 'meshfed-mesh', 'a'),
    podLabels: {},
    from: { namespaces: ['a', 'istio-system'] },
  },
  serviceMeshMember: {
    type: 'serviceMeshMember',
    ref: r('maistra.io/v1', 'ServiceMeshMember', 'default', 'internal-gw'),
    controlPlane: { name: 'basic', namespace: 'istio-system' },
  },
  serviceAccount: { type: 'serviceAccount', ref: sa },
  roleBinding: { type: 'roleBinding', ref: r('rbac.authorization.k8s.io/v1', 'RoleBinding', 'meshfed-x', 'a'), serviceAccount: sa },
  restartRole: {
    type: 'restartRole',
    ref: r('rbac.authorization.k8s.io/v1', 'Role', 'meshfed-x', 'a'),
    workloads: [{ kind: 'Deployment', namespace: 'a', name: 'd' }],
  },
  restartJob: {
    type: 'restartJob',
    ref: r('batch/v1', 'Job', 'restart', 'istio-system'),
    serviceAccount: sa,
    image: 'i',
    annotation: 'meshfed.dev/restarted-for-revision',
    value: 'rev',
    workloads: [],
  },
  verifyRole: { type: 'verifyRole', ref: r('rbac.authorization.k8s.io/v1', 'Role', 'meshfed-verify', 'a'), deployments: ['d'] },
  verifyJob: {
    type: 'verifyJob',
    ref: r('batch/v1', 'Job', 'verify', 'istio-system'),
    serviceAccount: sa,
    image: 'i',
    phase: '03-import',
    probes: [],
    after: [{ name: 'restart-1', namespace: 'istio-system', deadlineSeconds: 930 }],
  },
  verifyJobsRole: {
    type: 'verifyJobsRole',
    ref: r('rbac.authorization.k8s.io/v1', 'Role', 'meshfed-verify-jobs', 'istio-system'),
    jobs: ['restart-1'],
  },
  exposurePolicy: {
    type: 'exposurePolicy',
    ref: r('security.istio.io/v1', 'AuthorizationPolicy', 'p', 'a'),
    selector: { app: 'x' },
    principals: ['a.local/*'],
  },
  namespaceRelabelRole: {
    type: 'namespaceRelabelRole',
    ref: r('rbac.authorization.k8s.io/v1', 'ClusterRole', 'meshfed-x'),
    namespaces: ['a'],
  },
  clusterRoleBinding: {
    type: 'clusterRoleBinding',
    ref: r('rbac.authorization.k8s.io/v1', 'ClusterRoleBinding', 'meshfed-x'),
    serviceAccount: sa,
  },
  cacertsExternalSecret: {
    type: 'cacertsExternalSecret',
    ref: r('external-secrets.io/v1', 'ExternalSecret', 'cacerts', 'istio-system'),
    storeName: 's',
    storeKind: 'ClusterSecretStore',
    key: 'k',
  },
};

test.each(Object.values(SAMPLES).map((s) => [s.type, s] as const))('%s renders one object with the planned identity', (_type, sample) => {
  const objects = synthPhaseObjects([sample]);
  expect(objects).toHaveLength(1);
  const { apiVersion, kind, metadata } = objects[0] as { apiVersion: string; kind: string; metadata: { name: string; namespace?: string } };
  expect({ apiVersion, kind, name: metadata.name, namespace: metadata.namespace }).toEqual({
    apiVersion: sample.ref.apiVersion,
    kind: sample.ref.kind,
    name: sample.ref.name,
    namespace: sample.ref.namespace,
  });
});

test('a declared Namespace keeps its own annotations, with the keep annotations over them', () => {
  const [ns] = synthPhaseObjects([
    {
      type: 'namespace',
      ref: r('v1', 'Namespace', 'a'),
      labels: { team: 'x' },
      annotations: { 'openshift.io/display-name': 'A', 'kustomize.toolkit.fluxcd.io/prune': 'enabled' },
      keep: true,
    },
  ]) as { metadata: { annotations: Record<string, string>; labels: Record<string, string> } }[];
  expect(ns.metadata.annotations).toEqual({
    'openshift.io/display-name': 'A',
    'argocd.argoproj.io/sync-options': 'Prune=false,Delete=false',
    'argocd.argoproj.io/compare-options': 'IgnoreExtraneous',
    'kustomize.toolkit.fluxcd.io/prune': 'disabled',
  });
  expect(ns.metadata.labels).toEqual({ team: 'x' });
  const [bare] = synthPhaseObjects([{ type: 'namespace', ref: r('v1', 'Namespace', 'b'), labels: {} }]) as { metadata: object }[];
  expect(bare.metadata).toEqual({ name: 'b' });
});
