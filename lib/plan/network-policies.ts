import { ref } from './api-versions';
import { isolatedNamespaces, KIALI_NAME, NETWORK_POLICY_API, rendersNetworkPolicies } from './control-plane';
import { hasSmcp } from './namespaces';
import { smcpGateways } from './north-south';
import { settingsOf } from './smcp-settings';
import { Contribute, NetworkPolicyFields, Resource } from './types';
import { JsonObject, valueAt } from '../json';
import { Mesh } from '../model/types';

/**
 * The SMCP's addons whose consoles the router reaches through their Routes, and the labels of their pods as
 * Maistra's open NetworkPolicies select them (maistra/istio-operator@8143614c resources/helm/v2.5/istio-telemetry/
 * {kiali,grafana,prometheus,tracing}/templates/networkpolicy.yaml: `ingress: - ports: / port: <n>` decodes to a
 * rule with no ports and no peers, i.e. open to every source; the tracing one selects the Jaeger operator's
 * all-in-one or query pods of instance `jaeger`).
 */
export const SMCP_ADDONS: readonly {
  readonly name: string;
  readonly enabled: (settings: JsonObject) => boolean;
  readonly pods: readonly Record<string, string>[];
  /** The port its Route targets. */
  readonly port: number;
}[] = [
  { name: 'kiali', enabled: (s) => valueAt(s, 'addons.kiali.enabled') === true, pods: [{ app: 'kiali' }], port: 20001 },
  { name: 'grafana', enabled: (s) => valueAt(s, 'addons.grafana.enabled') === true, pods: [{ app: 'grafana' }], port: 3001 },
  { name: 'prometheus', enabled: (s) => valueAt(s, 'addons.prometheus.enabled') === true, pods: [{ app: 'prometheus' }], port: 3001 },
  {
    name: 'jaeger',
    enabled: (s) => String(valueAt(s, 'tracing.type') ?? '') === 'Jaeger',
    pods: ['all-in-one', 'query'].map((component) => ({
      'app.kubernetes.io/instance': 'jaeger',
      'app.kubernetes.io/part-of': 'jaeger',
      'app.kubernetes.io/managed-by': 'jaeger-operator',
      'app.kubernetes.io/component': component,
    })),
    port: 16686,
  },
];

/**
 * The labels the Kiali operator gives a Kiali's pods: `deployment.instance_name` "will be used to label those
 * resources as belonging to this Kiali installation instance" (kiali/kiali-operator@c8bd73c2 crd-docs/crd/
 * kiali.io_kialis.yaml, deployment.instance_name), which meshfed sets to the Kiali's name.
 */
export function kialiPodLabels(instance: string): Record<string, string> {
  return { 'app.kubernetes.io/instance': instance };
}

/** The ClusterRole user-workload monitoring's Thanos querier authorizes a bearer token against. */
export const MONITORING_VIEW_ROLE = 'cluster-monitoring-view';
/** Red Hat's name for the policy that admits user-workload monitoring into a mesh namespace. */
export const MONITORING_POLICY = 'meshfed-user-workload-monitoring';

const np = (name: string, namespace: string, fields: NetworkPolicyFields): Resource => ({
  type: 'networkPolicy',
  ref: ref(NETWORK_POLICY_API, 'NetworkPolicy', name, namespace),
  ...fields,
});

/** The namespaces whose gateway pods meshfed-gateways (in control-plane.ts) opens. */
function openGatewayNamespaces(mesh: Mesh): Set<string> {
  return new Set([mesh.controlPlane.namespace, mesh.eastWest.namespace, ...(mesh.egress ? [mesh.egress.namespace] : [])]);
}

/**
 * 01's policies beside meshfed-mesh for what Maistra kept open and meshfed's namespace-wide ones do not: each SMCP
 * ingress gateway in another namespace (a member's, e.g. internal-gw), open as Maistra's own policy for it
 * (gateways/istio-ingress/templates/networkpolicy.yaml: `namespace: {{ $gateway.namespace }}`, `ingress: - {}`),
 * selecting the pods its Service selects — the SMCP's and, from 06, the taken-over pods, which carry those labels.
 */
function gatewayPolicies(mesh: Mesh): Resource[] {
  const open = openGatewayNamespaces(mesh);
  return smcpGateways(mesh)
    .filter((g) => g.kind === 'ingress' && !open.has(g.namespace) && Object.keys(g.selector).length)
    .map((g) => np(`meshfed-gateway-${g.name}`, g.namespace, { podLabels: g.selector, from: 'anywhere' }));
}

/**
 * 01's policies for each enabled addon's console pods, open as Maistra's addon policies, until 07 deletes the
 * addons with the SMCP (and these with them: kept, they would open any later pod with those labels).
 */
function addonPolicies(mesh: Mesh): Resource[] {
  const out: Resource[] = [];
  const settings = settingsOf(mesh.controlPlane);
  for (const a of SMCP_ADDONS.filter((x) => x.enabled(settings)))
    for (const labels of a.pods) {
      // One policy per pod kind: the Jaeger all-in-one and query pods differ in their component label.
      const component = a.pods.length > 1 ? `-${labels['app.kubernetes.io/component']}` : '';
      out.push(np(`meshfed-addon-${a.name}${component}`, mesh.controlPlane.namespace, { podLabels: labels, from: 'anywhere' }));
    }
  return out;
}

/**
 * 05's policies for what 05 adds: user-workload monitoring into every namespace meshfed renders a PodMonitor or the
 * ServiceMonitor in, as Red Hat's `user-workload-access` policy (openshift/openshift-docs@0b60d86a
 * modules/ossm-integrating-with-user-workload-monitoring.adoc: `network.openshift.io/policy-group: monitoring`),
 * and the standalone Kiali's pods open, as the SMCP's Kiali was.
 */
function installPolicies(mesh: Mesh): Resource[] {
  const o = mesh.settings.observability;
  const out: Resource[] = [];
  if (o.monitors)
    for (const ns of [...new Set([mesh.ossm3.namespace, ...isolatedNamespaces(mesh)])].sort())
      out.push(
        np(MONITORING_POLICY, ns, { podLabels: {}, from: { namespaceLabels: { 'network.openshift.io/policy-group': 'monitoring' } } }),
      );
  if (o.kiali) out.push(np(`meshfed-${KIALI_NAME}`, mesh.ossm3.namespace, { podLabels: kialiPodLabels(KIALI_NAME), from: 'anywhere' }));
  return out;
}

/**
 * The standalone Kiali reads metrics from the cluster's Thanos querier with its own token (use_kiali_token): its
 * ServiceAccount (`<instance_name>-service-account`) must be bound to cluster-monitoring-view
 * (openshift-service-mesh/sail-operator@fd6516dc docs/ossm/kiali/README.md:262-278).
 */
function kialiMonitoringBinding(mesh: Mesh): Resource[] {
  if (!mesh.settings.observability.kiali || mesh.platform !== 'openshift') return [];
  return [
    {
      type: 'clusterRoleBinding',
      ref: ref('rbac.authorization.k8s.io/v1', 'ClusterRoleBinding', `${KIALI_NAME}-${mesh.ossm3.namespace}-monitoring`),
      clusterRole: MONITORING_VIEW_ROLE,
      serviceAccount: ref('v1', 'ServiceAccount', `${KIALI_NAME}-service-account`, mesh.ossm3.namespace),
    },
  ];
}

/** 01's and 05's objects, and what 07 deletes (none without SMCP settings). */
function planFlowObjects(mesh: Mesh): { gateways: Resource[]; addons: Resource[]; install: Resource[] } {
  if (!hasSmcp(mesh)) return { gateways: [], addons: [], install: [] };
  const policies = rendersNetworkPolicies(mesh);
  return {
    gateways: policies ? gatewayPolicies(mesh) : [],
    addons: policies ? addonPolicies(mesh) : [],
    install: [...(policies ? installPolicies(mesh) : []), ...kialiMonitoringBinding(mesh)],
  };
}

/** What this feature leaves at 07, for a graduated mesh's one overlay (lib/plan/greenfield.ts): no addon policies. */
export function planFlowPolicies(mesh: Mesh): Resource[] {
  const { gateways, install } = planFlowObjects(mesh);
  return [...gateways, ...install];
}

/** The flows Maistra's NetworkPolicies admitted and meshfed's must keep (MF027): 01's and 05's objects; 07 drops the addons'. */
export const contribute: Contribute = (_ctx, mesh) => {
  const { gateways, addons, install } = planFlowObjects(mesh);
  return {
    '01-prepare': { adds: [...gateways, ...addons] },
    '05-install-ossm3': { adds: install },
    '07-finalize': { deletes: addons.map((r) => r.ref) },
  };
};
