import { JsonObject } from '../load/yaml-source';

/**
 * What the simulated API server serves: built-in Kubernetes and OpenShift kinds always, the CRDs of each
 * operator while that operator is installed. A version that is not served is refused on apply, as the API
 * server does ("no matches for kind … in version …"), which is how Argo CD's dry run and Flux's
 * server-side apply fail a whole sync.
 */

export interface ResourceType {
  readonly group: string;
  readonly kind: string;
  readonly versions: readonly string[];
  readonly namespaced: boolean;
  /** Field paths that cannot change once set (the API server answers "field is immutable"). */
  readonly immutable?: readonly (readonly string[])[];
  /** The CRD schema's default for `status`, which the API server returns for an object created without one. */
  readonly statusDefault?: JsonObject;
}

const ns = (group: string, kind: string, versions: string[], immutable?: string[][]): ResourceType => ({
  group,
  kind,
  versions,
  namespaced: true,
  immutable,
});
const cluster = (group: string, kind: string, versions: string[]): ResourceType => ({ group, kind, versions, namespaced: false });

/**
 * Kubernetes 1.29+ (OpenShift 4.16+) built-ins the renders and dumps use. Immutable fields:
 * kubernetes@v1.31.0 pkg/apis/core/validation/validation.go ValidateServiceUpdate (clusterIP, clusterIPs),
 * pkg/apis/apps/validation/validation.go ValidateDeploymentUpdate and StatefulSet (selector),
 * pkg/apis/batch/validation/validation.go ValidateJobUpdate (selector, template).
 */
export const BUILTIN: readonly ResourceType[] = [
  cluster('', 'Namespace', ['v1']),
  ns('', 'ConfigMap', ['v1']),
  ns('', 'Secret', ['v1']),
  ns('', 'ServiceAccount', ['v1']),
  ns(
    '',
    'Service',
    ['v1'],
    [
      ['spec', 'clusterIP'],
      ['spec', 'clusterIPs'],
    ],
  ),
  ns('', 'Endpoints', ['v1']),
  ns('', 'Pod', ['v1']),
  ns('discovery.k8s.io', 'EndpointSlice', ['v1']),
  ns('apps', 'Deployment', ['v1'], [['spec', 'selector']]),
  ns('apps', 'StatefulSet', ['v1'], [['spec', 'selector']]),
  ns('apps', 'DaemonSet', ['v1'], [['spec', 'selector']]),
  ns('apps', 'ReplicaSet', ['v1'], [['spec', 'selector']]),
  ns(
    'batch',
    'Job',
    ['v1'],
    [
      ['spec', 'selector'],
      ['spec', 'template'],
    ],
  ),
  ns('batch', 'CronJob', ['v1']),
  ns('policy', 'PodDisruptionBudget', ['v1']),
  ns('autoscaling', 'HorizontalPodAutoscaler', ['v2']),
  ns('networking.k8s.io', 'NetworkPolicy', ['v1']),
  ns('rbac.authorization.k8s.io', 'Role', ['v1']),
  ns('rbac.authorization.k8s.io', 'RoleBinding', ['v1']),
  cluster('rbac.authorization.k8s.io', 'ClusterRole', ['v1']),
  cluster('rbac.authorization.k8s.io', 'ClusterRoleBinding', ['v1']),
  cluster('apiextensions.k8s.io', 'CustomResourceDefinition', ['v1']),
  cluster('admissionregistration.k8s.io', 'MutatingWebhookConfiguration', ['v1']),
  cluster('admissionregistration.k8s.io', 'ValidatingWebhookConfiguration', ['v1']),
  // OpenShift (openshift/api route/v1, apps/v1).
  ns('route.openshift.io', 'Route', ['v1']),
  ns('apps.openshift.io', 'DeploymentConfig', ['v1']),
];

/**
 * The Istio CRDs of OSSM 2.6 (Istio 1.20) and of OSSM 3 (Istio 1.27): istio@1.20.8
 * manifests/charts/base/crds/crd-all.gen.yaml and istio@1.27.3 manifests/charts/base/files/crd-all.gen.yaml
 * (shared research istio-gitops.md §2). PeerAuthentication is served as v1beta1 only in 1.20.
 */
const NETWORKING = ['DestinationRule', 'Gateway', 'ServiceEntry', 'Sidecar', 'VirtualService', 'WorkloadEntry', 'WorkloadGroup'];
function istioCrds(release: '1.20' | '1.27'): ResourceType[] {
  const networking = release === '1.20' ? ['v1alpha3', 'v1beta1'] : ['v1', 'v1alpha3', 'v1beta1'];
  return [
    ...NETWORKING.map((k) => ns('networking.istio.io', k, networking)),
    ns('networking.istio.io', 'EnvoyFilter', ['v1alpha3']),
    ns('networking.istio.io', 'ProxyConfig', ['v1beta1']),
    ns('security.istio.io', 'AuthorizationPolicy', ['v1', 'v1beta1']),
    ns('security.istio.io', 'RequestAuthentication', ['v1', 'v1beta1']),
    ns('security.istio.io', 'PeerAuthentication', release === '1.20' ? ['v1beta1'] : ['v1', 'v1beta1']),
    ns('telemetry.istio.io', 'Telemetry', release === '1.20' ? ['v1alpha1'] : ['v1', 'v1alpha1']),
  ];
}

/** maistra/istio-operator@maistra-2.5 manifests-servicemesh (maistra.io v1/v2, federation.maistra.io v1). */
const MAISTRA: readonly ResourceType[] = [
  ns('maistra.io', 'ServiceMeshControlPlane', ['v1', 'v2']),
  ns('maistra.io', 'ServiceMeshMemberRoll', ['v1']),
  ns('maistra.io', 'ServiceMeshMember', ['v1']),
  ns('federation.maistra.io', 'ServiceMeshPeer', ['v1']),
  ns('federation.maistra.io', 'ExportedServiceSet', ['v1']),
  ns('federation.maistra.io', 'ImportedServiceSet', ['v1']),
];

/** istio-ecosystem/sail-operator@release-1.27 chart/crds (cluster-scoped Istio, IstioCNI, IstioRevision…). */
const SAIL: readonly ResourceType[] = [
  cluster('sailoperator.io', 'Istio', ['v1']),
  cluster('sailoperator.io', 'IstioCNI', ['v1']),
  cluster('sailoperator.io', 'IstioRevision', ['v1']),
  cluster('sailoperator.io', 'IstioRevisionTag', ['v1']),
  cluster('sailoperator.io', 'ZTunnel', ['v1']),
];

/**
 * A Gateway's default status: Accepted and Programmed Unknown, "Waiting for controller" (the Gateway API CRD's
 * `status.default`, as bundled at istio@1.27.3 tests/integration/pilot/testdata/gateway-api-crd.yaml:2225-2237, v1.3.0).
 */
const GATEWAY_STATUS_DEFAULT: JsonObject = {
  conditions: ['Accepted', 'Programmed'].map((type) => ({
    lastTransitionTime: '1970-01-01T00:00:00Z',
    message: 'Waiting for controller',
    reason: 'Pending',
    status: 'Unknown',
    type,
  })),
};

/** Gateway API standard channel v1.0+ (served by OpenShift 4.19's Ingress Operator, or installed by OSSM). */
const GATEWAY_API: readonly ResourceType[] = [
  cluster('gateway.networking.k8s.io', 'GatewayClass', ['v1', 'v1beta1']),
  { ...ns('gateway.networking.k8s.io', 'Gateway', ['v1', 'v1beta1']), statusDefault: GATEWAY_STATUS_DEFAULT },
  ns('gateway.networking.k8s.io', 'HTTPRoute', ['v1', 'v1beta1']),
  ns('gateway.networking.k8s.io', 'GRPCRoute', ['v1']),
  ns('gateway.networking.k8s.io', 'ReferenceGrant', ['v1beta1']),
  ns('gateway.networking.k8s.io', 'TLSRoute', ['v1alpha2']),
];

/** Operators whose CRDs other renders use (installed by OLM, never by meshfed). */
const ADDONS: readonly ResourceType[] = [
  ns('external-secrets.io', 'ExternalSecret', ['v1beta1', 'v1']),
  ns('kiali.io', 'Kiali', ['v1alpha1']),
  ns('monitoring.coreos.com', 'ServiceMonitor', ['v1']),
  ns('monitoring.coreos.com', 'PodMonitor', ['v1']),
  ns('argoproj.io', 'Application', ['v1alpha1']),
  ns('kustomize.toolkit.fluxcd.io', 'Kustomization', ['v1']),
  ns('source.toolkit.fluxcd.io', 'GitRepository', ['v1']),
];

/** Which operators are installed on the simulated cluster (each scenario sets them per phase). */
export interface Installed {
  /** The OSSM 2.6 operator: Maistra CRDs and the Istio 1.20 CRDs (until OSSM 3's OLM CRDs replace them). */
  readonly ossm2: boolean;
  /** The OSSM 3 operator: Sail CRDs, and the Istio 1.27 CRDs (2.6.x no longer overwrites OLM-owned CRDs: maistra/istio-operator#1832). */
  readonly ossm3: boolean;
}

/** The served resource types for a set of installed operators. */
export function servedTypes(installed: Installed): Map<string, ResourceType> {
  const types = [
    ...BUILTIN,
    ...GATEWAY_API,
    ...ADDONS,
    ...(installed.ossm2 ? MAISTRA : []),
    ...(installed.ossm3 ? [...SAIL, ...istioCrds('1.27')] : installed.ossm2 ? istioCrds('1.20') : []),
  ];
  return new Map(types.map((t) => [`${t.group}/${t.kind}`, t]));
}
