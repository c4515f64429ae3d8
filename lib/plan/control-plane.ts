import { ref } from './api-versions';
import { GATEWAY_NAME_LABEL, OSSM2_GATEWAY_LABEL } from './gateway-pods';
import { hasSmcp } from './namespaces';
import { TAKEOVER_SUFFIX, takenOver } from './north-south';
import { isObject, JsonObject, valueAt } from '../json';
import { accountSettings, SettingFate, SettingsAccount, withDefaults } from './smcp-settings';
import { Contribute, NetworkPolicyFields, Resource } from './types';
import { Mesh } from '../model/types';

/**
 * v1beta1: the only version OSSM 2.6's CRD serves (istio@1.20.8 manifests/charts/base/crds/crd-all.gen.yaml;
 * maistra/istio-operator@08c043ffe1 resources/helm/v2.6/istio-init/files/peerauthentications.security.istio.io.crd.yaml),
 * and still served by 1.27 (its storage version). 01 applies it while only OSSM 2.6 runs: v1 would fail Argo CD's dry
 * run and Flux's server-side apply of the whole phase unless the OSSM 3 operator's CRDs were already installed.
 */
export const PEER_AUTHENTICATION_API = 'security.istio.io/v1beta1';
export const DESTINATION_RULE_API = 'networking.istio.io/v1beta1';
export const NETWORK_POLICY_API = 'networking.k8s.io/v1';
/** The name of every mesh-wide object meshfed renders for the SMCP's mTLS (never the operator's `default`). */
export const MESH_MTLS_NAME = 'meshfed-mesh-mtls';
/** The standalone Kiali's name (and instance name): the SMCP's own `kiali` is pruned with it. */
export const KIALI_NAME = 'kiali-ossm3';

const accounts = new WeakMap<Mesh, SettingsAccount>();

/** Every setting of the mesh's SMCP with its fate, and the values carried to OSSM 3 (memoized per mesh). */
export function smcpAccount(mesh: Mesh): SettingsAccount {
  let a = accounts.get(mesh);
  if (!a) {
    const cp = mesh.controlPlane;
    const federation = new Set(mesh.inventory.peers.flatMap((p) => [p.ingressGateway, p.egressGateway]));
    const raw = accountSettings(cp.effective, cp.effectiveFrom, federation);
    // The gateways meshfed takes over (lib/plan/north-south.ts) are no longer lost, nor is IOR's work.
    const taken = new Map(takenOver(mesh).map((g) => [g.path, `${g.name}${TAKEOVER_SUFFIX}`]));
    const fates = raw.fates.map((f): SettingFate => {
      if (f.path === 'mode' && f.value === 'MultiTenant')
        return {
          ...f,
          target: 'istio.io/rev namespace labels (06); meshConfig.discoverySelectors: the mesh namespaces by name (05)',
          why: 'OSSM 3 has no SMMR: the istiod discovers only its namespaces, as the MultiTenant 2.6 istiod did (MF011).',
        };
      if (f.fate !== 'lost') return f;
      if (taken.has(f.path))
        return {
          ...f,
          fate: 'meshfed',
          target: `Deployment ${taken.get(f.path)} (06), Service handed over (07)`,
          why: 'gateway injection takes it over.',
        };
      if (f.path === 'gateways.openshiftRoute' && taken.size)
        return { ...f, fate: 'meshfed', target: 'plain Routes in Git, IOR off (06)', why: 'its Routes become GitOps-owned.' };
      return f;
    });
    accounts.set(mesh, (a = { fates, values: raw.values }));
  }
  return a;
}

/** What the SMCP enforces, read from its settings (defaults included) with the given merge patches applied. */
export interface SmcpPosture {
  readonly mtls: 'STRICT' | 'PERMISSIVE';
  readonly autoMtls: boolean;
  readonly manageNetworkPolicy: boolean;
  readonly outboundPolicy: string;
  readonly clusterDomain: string;
}

export function smcpPosture(mesh: Mesh, patched: JsonObject = mesh.controlPlane.effective): SmcpPosture {
  const s = withDefaults(patched, mesh.controlPlane.effectiveFrom);
  return {
    mtls: valueAt(s, 'security.dataPlane.mtls') === true ? 'STRICT' : 'PERMISSIVE',
    autoMtls: valueAt(s, 'security.dataPlane.automtls') !== false,
    manageNetworkPolicy: valueAt(s, 'security.manageNetworkPolicy') !== false,
    outboundPolicy: String(valueAt(s, 'proxy.networking.trafficControl.outbound.policy') ?? 'ALLOW_ANY'),
    clusterDomain: String(valueAt(s, 'proxy.networking.clusterDomain') ?? 'cluster.local'),
  };
}

/** Providers every Istio mesh config defines (istio/istio@1.27.9 pkg/config/mesh/mesh.go:108-127). */
export const BUILTIN_PROVIDERS: readonly string[] = ['envoy', 'prometheus', 'stackdriver'];

/** Names of the extension providers a set of settings (SMCP spec or Istio values) defines. */
export function providerNames(meshConfig: unknown): string[] {
  const list = isObject(meshConfig as JsonObject) ? (meshConfig as JsonObject).extensionProviders : undefined;
  return Array.isArray(list) ? list.filter(isObject).map((p) => String(p.name)) : [];
}

/** The namespaces Maistra isolated with NetworkPolicies: the control plane's and every member. */
export function isolatedNamespaces(mesh: Mesh): string[] {
  return [...new Set([mesh.controlPlane.namespace, ...mesh.memberNamespaces])].sort();
}

/** Does meshfed render the isolation (the SMCP managed NetworkPolicies at 00 and the settings do not opt out)? */
export function rendersNetworkPolicies(mesh: Mesh): boolean {
  return mesh.settings.networkPolicies.render && smcpPosture(mesh).manageNetworkPolicy;
}

/** Namespaces whose pods are the mesh: members, both control planes, and every gateway and import namespace. */
function meshNamespaces(mesh: Mesh): string[] {
  return [
    ...new Set([
      ...isolatedNamespaces(mesh),
      mesh.ossm3.namespace,
      mesh.eastWest.namespace,
      mesh.importNamespace,
      ...(mesh.egress ? [mesh.egress.namespace] : []),
    ]),
  ].sort();
}

/**
 * The NetworkPolicies Maistra keeps while it manages them (maistra/istio-operator v2.6 mesh-config
 * templates/networkpolicy.yaml; member copies, member/ovs_networkpolicy.go:41-101), owned by GitOps: in
 * each isolated namespace, mesh traffic only (`istio-mesh`, keyed on namespace names, not on
 * maistra.io/member-of, which 07 removes) and the OpenShift router to exposed pods (`istio-expose-route`);
 * in the control plane's and gateway namespaces, istiod and gateway pods open to all (`istio-istiod`,
 * per-gateway policies), for either control plane.
 */
function networkPolicies(mesh: Mesh): Resource[] {
  const mesh3 = meshNamespaces(mesh);
  const gatewayNamespaces = new Set([
    mesh.controlPlane.namespace,
    mesh.eastWest.namespace,
    ...(mesh.egress ? [mesh.egress.namespace] : []),
  ]);
  const np = (name: string, namespace: string, fields: NetworkPolicyFields): Resource => ({
    type: 'networkPolicy',
    ref: ref(NETWORK_POLICY_API, 'NetworkPolicy', name, namespace),
    ...fields,
  });
  const out: Resource[] = [];
  for (const ns of isolatedNamespaces(mesh)) {
    out.push(
      np('meshfed-mesh', ns, { podLabels: {}, from: { namespaces: mesh3 } }),
      np('meshfed-expose-route', ns, {
        podLabels: { 'maistra.io/expose-route': 'true' },
        from: { namespaceLabels: { 'network.openshift.io/policy-group': 'ingress' } },
      }),
    );
    if (ns === mesh.controlPlane.namespace) out.push(np('meshfed-istiod', ns, { podLabels: { app: 'istiod' }, from: 'anywhere' }));
    if (gatewayNamespaces.has(ns)) {
      // Istio gateway charts label their pods `istio: <gateway>`; Gateway API gateways carry a gateway-name label.
      for (const [name, key] of [
        ['meshfed-gateways', 'istio'],
        ['meshfed-gateway-api', OSSM2_GATEWAY_LABEL],
        ['meshfed-gateway-api-ossm3', GATEWAY_NAME_LABEL],
      ])
        out.push(np(name, ns, { podLabels: {}, podLabelsExist: [key], from: 'anywhere' }));
    }
  }
  return out;
}

/**
 * 01-prepare's objects: what the SMCP enforced through objects the operator owns (and prunes when
 * the SMCP goes), rendered by GitOps before 01's patch lets the operator drop its own: the mesh-wide
 * PeerAuthentication (and DestinationRules) with the SMCP's mode in the OSSM 3 root namespace
 * (rootNamespace defaults to global.istioNamespace, istio/istio@1.27.9 manifests/charts/istio-control/
 * istio-discovery/templates/configmap.yaml:10, which Sail sets to spec.namespace), and the
 * NetworkPolicies. A second mesh-wide PeerAuthentication is harmless while the SMCP's exists: Istio
 * uses the oldest (pilot/pkg/model/authentication.go:125-146), and both have the same mode.
 */
export function planControlPlaneObjects(mesh: Mesh): Resource[] {
  if (!hasSmcp(mesh)) return [];
  const posture = smcpPosture(mesh);
  const root = mesh.ossm3.namespace;
  const out: Resource[] = [
    { type: 'meshPeerAuthentication', ref: ref(PEER_AUTHENTICATION_API, 'PeerAuthentication', MESH_MTLS_NAME, root), mode: posture.mtls },
  ];
  if (posture.mtls === 'STRICT') {
    // maistra/istio-operator v2.6 mesh-config templates/enable-mesh-mtls.yaml renders both with mtls: true.
    out.push(
      {
        type: 'meshDestinationRule',
        ref: ref(DESTINATION_RULE_API, 'DestinationRule', MESH_MTLS_NAME, root),
        host: `*.${posture.clusterDomain}`,
        tlsMode: 'ISTIO_MUTUAL',
      },
      {
        type: 'meshDestinationRule',
        ref: ref(DESTINATION_RULE_API, 'DestinationRule', 'meshfed-api-server', root),
        host: `kubernetes.default.svc.${posture.clusterDomain}`,
        tlsMode: 'DISABLE',
      },
    );
  }
  if (rendersNetworkPolicies(mesh)) out.push(...networkPolicies(mesh));
  return out;
}

/**
 * 05's replacements for SMCP addons that 07 deletes, each behind spec.observability: user-workload
 * monitoring for istiod and the proxies (Istio's samples/addons/extras/prometheus-operator.yaml @1.27.9;
 * one PodMonitor per mesh namespace, since user-workload monitoring ignores namespaceSelector), and a
 * standalone Kiali CR on the OSSM 3 istiod (sail-operator docs/ossm/ossm2-migration/README.md:108-139).
 */
export function planObservability(mesh: Mesh): Resource[] {
  if (!hasSmcp(mesh)) return [];
  const o = mesh.settings.observability;
  const ns = mesh.ossm3.namespace;
  const out: Resource[] = [];
  if (o.monitors) {
    out.push({ type: 'istiodServiceMonitor', ref: ref('monitoring.coreos.com/v1', 'ServiceMonitor', 'istiod-monitor', ns) });
    for (const n of [...new Set([ns, ...isolatedNamespaces(mesh)])].sort())
      out.push({ type: 'proxiesPodMonitor', ref: ref('monitoring.coreos.com/v1', 'PodMonitor', 'istio-proxies-monitor', n) });
  }
  if (o.kiali)
    out.push({
      type: 'kiali',
      ref: ref('kiali.io/v1alpha1', 'Kiali', KIALI_NAME, ns),
      revision: mesh.ossm3.revision,
      openshift: mesh.platform === 'openshift',
    });
  return out;
}

/** What replaces the SMCP's settings: its mTLS objects and NetworkPolicies in 01, its addons' replacements in 05. */
export const contribute: Contribute = (_ctx, mesh) => ({
  '01-prepare': { adds: planControlPlaneObjects(mesh) },
  '05-install-ossm3': { adds: planObservability(mesh) },
});
