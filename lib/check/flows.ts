/**
 * The traffic a production SMCP carries besides the federation, as flows through NetworkPolicies: what runs at
 * 00 (the OpenShift router and load balancers to the SMCP's gateways, the router to the addon consoles, the API
 * server to istiod's webhooks, the SMCP's Prometheus to the proxies) and what meshfed renders to replace it (the
 * taken-over gateway pods of 06, the OSSM 3 istiod of 05, user-workload monitoring for the PodMonitors and the
 * ServiceMonitor of 05, the standalone Kiali). Each is judged by lib/netpol.ts against the NetworkPolicies of a
 * phase: Maistra's while the SMCP manages them, meshfed's from 01, and the users' own (dumped with the workloads:
 * lib/load/kinds.ts) in every phase, with the namespace labels of that phase (`namespaceLabels`). Where a user's
 * policy isolates a member workload, the mesh's own traffic is judged too: every dumped member workload and every
 * ingress gateway to the pods behind each member Service (docs/north-south.md, "Flows").
 */
import { CheckContext } from './context';
import { Finding } from './finding';
import { smcpSpecAt } from './regression';
import { PhaseState } from './state';
import { JsonObject, pointerKey, valueAt } from '../json';
import { Mesh } from '../model/types';
import {
  Destination,
  HOST_NETWORK_LABELS,
  NetworkPolicy,
  ROUTER_NAMESPACE_LABELS,
  Selector,
  Source,
  USER_WORKLOAD_MONITORING_LABELS,
  Verdict,
  evaluate,
  policyTypes,
  selectorMatches,
} from '../netpol';
import { smcpPosture } from '../plan/control-plane';
import { kialiPodLabels, MONITORING_VIEW_ROLE, SMCP_ADDONS } from '../plan/network-policies';
import { gatewayPodLabels, smcpGateways, TAKEOVER_SUFFIX } from '../plan/north-south';
import { withDefaults } from '../plan/smcp-settings';
import { NetworkPolicyFields, Resource } from '../plan/types';
import { compareStrings } from '../sort';

/** Pods a flow reaches: where, their labels, and what they are (for the message). */
export interface FlowPods {
  readonly namespace: string;
  readonly labels: Record<string, string>;
  readonly what: string;
}

/** Who connects: a name for the message and the peer the evaluator matches. */
export interface FlowSource {
  readonly name: string;
  readonly source: Source;
}

export interface Flow {
  /** Same key, same flow: the pods that serve it may change between phases (old and taken-over gateway pods). */
  readonly key: string;
  readonly from: FlowSource;
  /** What it reaches, for the message: `the gateway internal-gw/internal-ingressgateway`. */
  readonly to: string;
  readonly pods: FlowPods[];
  readonly port: number;
  /** What restores it when a NetworkPolicy denies it. */
  readonly fix: string;
}

export const ROUTER: FlowSource = {
  name: 'the OpenShift router (pod network)',
  source: { kind: 'namespace', namespace: 'openshift-ingress', namespaceLabels: ROUTER_NAMESPACE_LABELS },
};
export const HOST_ROUTER: FlowSource = {
  name: 'the OpenShift router (host network)',
  source: { kind: 'namespace', namespace: 'openshift-host-network', namespaceLabels: HOST_NETWORK_LABELS },
};
/** The API server calls webhooks from the host network (OVN-Kubernetes: the host-network policy group). */
export const API_SERVER: FlowSource = {
  name: 'the API server',
  source: {
    kind: 'namespace',
    namespace: 'openshift-kube-apiserver',
    namespaceLabels: { 'policy-group.network.openshift.io/host-network': '' },
  },
};
export const USER_WORKLOAD_MONITORING: FlowSource = {
  name: 'user-workload monitoring',
  source: { kind: 'namespace', namespace: 'openshift-user-workload-monitoring', namespaceLabels: USER_WORKLOAD_MONITORING_LABELS },
};
export const LOAD_BALANCER: FlowSource = { name: 'clients outside the cluster (load balancer, node port)', source: { kind: 'external' } };

/** The SMCP's settings at a phase (defaults under them), when it still exists. */
function smcpAt(mesh: Mesh, state: PhaseState): JsonObject | undefined {
  const cp = mesh.controlPlane;
  if (!state.has('ServiceMeshControlPlane', cp.name, cp.namespace)) return undefined;
  return withDefaults(smcpSpecAt(mesh, state), cp.effectiveFrom);
}

function gatewayFlows(mesh: Mesh, state: PhaseState, smcp: JsonObject | undefined): Flow[] {
  const out: Flow[] = [];
  for (const g of smcpGateways(mesh).filter((x) => x.kind === 'ingress')) {
    const pods: FlowPods[] = [];
    if (smcp && valueAt(smcp, `${g.path}.enabled`) !== false)
      pods.push({ namespace: g.namespace, labels: gatewayPodLabels(g), what: `the SMCP's pods of ${g.namespace}/${g.name}` });
    const ours = state.of('gatewayDeployment').find((d) => d.ref.name === `${g.name}${TAKEOVER_SUFFIX}` && d.ref.namespace === g.namespace);
    if (ours) pods.push({ namespace: g.namespace, labels: ours.podLabels, what: `the pods of Deployment ${g.namespace}/${ours.ref.name}` });
    if (!pods.length) continue;
    const http = g.service?.ports.find((p) => p.name === 'http2') ?? g.service?.ports.find((p) => p.port === 80);
    const port = typeof http?.targetPort === 'number' ? http.targetPort : 8080;
    const fix = `admit every source to the gateway's pods in ${g.namespace}, as Maistra's NetworkPolicy ${g.name} did (ingress: [{}])`;
    const to = `the gateway ${g.namespace}/${g.name}`;
    for (const from of [ROUTER, HOST_ROUTER]) out.push({ key: `${from.name}|gateway ${g.namespace}/${g.name}`, from, to, pods, port, fix });
    if (g.service && ['LoadBalancer', 'NodePort'].includes(g.service.type))
      out.push({ key: `external|gateway ${g.namespace}/${g.name}`, from: LOAD_BALANCER, to, pods, port, fix });
  }
  return out;
}

function istiodFlows(mesh: Mesh, state: PhaseState, smcp: JsonObject | undefined): Flow[] {
  const out: Flow[] = [];
  const cp = mesh.controlPlane;
  const monitor = state.of('istiodServiceMonitor')[0];
  const planes: [string, string, string][] = [];
  if (smcp) planes.push([cp.namespace, cp.name, `the pods of the SMCP's istiod-${cp.name}`]);
  if (state.of('istio').length)
    planes.push([mesh.ossm3.namespace, mesh.ossm3.revision, `the pods of the OSSM 3 istiod-${mesh.ossm3.revision}`]);
  for (const [namespace, rev, what] of planes) {
    const pods = [{ namespace, labels: { app: 'istiod', 'istio.io/rev': rev }, what }];
    const fix = `admit every source to istiod's pods in ${namespace} (the NetworkPolicy meshfed-istiod)`;
    out.push({ key: `api-server|istiod ${rev}`, from: API_SERVER, to: `istiod-${rev}'s webhooks`, pods, port: 15017, fix });
    // The ServiceMonitor selects the `istio: pilot` Services of its own namespace (user-workload monitoring ignores
    // namespaceSelector): the istiods there.
    if (monitor && monitor.ref.namespace === namespace)
      out.push({
        key: `uwm|istiod ${rev}`,
        from: USER_WORKLOAD_MONITORING,
        to: `istiod-${rev}'s metrics (ServiceMonitor ${monitor.ref.namespace}/${monitor.ref.name})`,
        pods,
        port: 15014,
        fix: `admit user-workload monitoring (network.openshift.io/policy-group: monitoring) in ${namespace}`,
      });
  }
  return out;
}

/** The pods whose proxies a namespace's PodMonitor scrapes: the dumped workloads and the gateways there. */
function proxyPods(mesh: Mesh, state: PhaseState, ns: string, smcp: JsonObject | undefined): FlowPods[] {
  const out: FlowPods[] = mesh.inventory.workloads
    .filter((w) => w.namespace === ns)
    .map((w) => ({ namespace: ns, labels: w.podLabels, what: `the pods of ${w.kind} ${ns}/${w.name}` }));
  for (const g of smcpGateways(mesh).filter((x) => x.namespace === ns && !mesh.inventory.workloads.includes(x.deployment!)))
    if (smcp) out.push({ namespace: ns, labels: gatewayPodLabels(g), what: `the SMCP's pods of ${ns}/${g.name}` });
  for (const d of state.of('gatewayDeployment').filter((x) => x.ref.namespace === ns))
    out.push({ namespace: ns, labels: d.podLabels, what: `the pods of Deployment ${ns}/${d.ref.name}` });
  return out;
}

function monitoringFlows(mesh: Mesh, state: PhaseState, smcp: JsonObject | undefined): Flow[] {
  const out: Flow[] = [];
  for (const m of state.of('proxiesPodMonitor')) {
    const ns = m.ref.namespace!;
    const pods = proxyPods(mesh, state, ns, smcp);
    if (pods.length)
      out.push({
        key: `uwm|proxies ${ns}`,
        from: USER_WORKLOAD_MONITORING,
        to: `the proxies' metrics in ${ns} (PodMonitor ${ns}/${m.ref.name})`,
        pods,
        port: 15020,
        fix: `admit user-workload monitoring (network.openshift.io/policy-group: monitoring) in ${ns}, as Red Hat's user-workload-access policy`,
      });
  }
  const cp = mesh.controlPlane;
  if (smcp && SMCP_ADDONS.find((a) => a.name === 'prometheus')!.enabled(smcp)) {
    const prometheus: FlowSource = {
      name: "the SMCP's Prometheus",
      source: {
        kind: 'pod',
        pod: { namespace: cp.namespace, labels: { app: 'prometheus' } },
        namespaceLabels: namespaceLabels(mesh, state, cp.namespace),
      },
    };
    for (const ns of [...new Set([cp.namespace, ...mesh.memberNamespaces])].sort()) {
      const pods = proxyPods(mesh, state, ns, smcp);
      if (pods.length)
        out.push({
          key: `smcp-prometheus|proxies ${ns}`,
          from: prometheus,
          to: `the proxies' metrics in ${ns}`,
          pods,
          port: 15020,
          fix: `admit the control plane's namespace ${cp.namespace} in ${ns}`,
        });
    }
  }
  return out;
}

function consoleFlows(mesh: Mesh, state: PhaseState, smcp: JsonObject | undefined): Flow[] {
  const cp = mesh.controlPlane;
  const consoles: { name: string; pods: FlowPods; port: number }[] = [];
  for (const a of SMCP_ADDONS)
    if (smcp && a.enabled(smcp))
      consoles.push({
        name: a.name,
        pods: { namespace: cp.namespace, labels: a.pods[0], what: `the SMCP's ${a.name} pods` },
        port: a.port,
      });
  // The standalone Kiali of 05 replaces the SMCP's: its console is a flow of its own (a new Route), which must work too.
  for (const k of state.of('kiali'))
    consoles.push({
      name: k.ref.name,
      pods: {
        namespace: k.ref.namespace!,
        labels: { app: 'kiali', ...kialiPodLabels(k.ref.name) },
        what: `the pods of Kiali ${k.ref.namespace}/${k.ref.name}`,
      },
      port: 20001,
    });
  return consoles.flatMap((c) =>
    [ROUTER, HOST_ROUTER].map((from) => ({
      key: `${from.name}|console ${c.name}`,
      from,
      to: `the ${c.name} console (its Route)`,
      pods: [c.pods],
      port: c.port,
      fix: `admit every source to the ${c.name} pods in ${c.pods.namespace}, as Maistra's addon NetworkPolicies did`,
    })),
  );
}

/** Every flow at a phase. */
export function flowsAt(mesh: Mesh, state: PhaseState): Flow[] {
  const smcp = smcpAt(mesh, state);
  return [
    ...gatewayFlows(mesh, state, smcp),
    ...istiodFlows(mesh, state, smcp),
    ...monitoringFlows(mesh, state, smcp),
    ...consoleFlows(mesh, state, smcp),
    ...meshFlows(mesh, state, smcp),
  ];
}

/**
 * The mesh's own traffic, where a user's NetworkPolicy can cut it: every dumped member workload and every ingress
 * gateway (the SMCP's pods while it runs them, meshfed's taken-over Deployment from 06) to the pods behind each
 * member Service whose pods a user's policy isolates for ingress (or every member Service, when a user's policy
 * isolates some member workload for egress). Maistra's istio-mesh policy admits it at 00 (`maistraPolicies`).
 */
function meshFlows(mesh: Mesh, state: PhaseState, smcp: JsonObject | undefined): Flow[] {
  const users = mesh.inventory.networkPolicies;
  if (!users.length) return [];
  const members = new Set(mesh.memberNamespaces);
  const workloads = mesh.inventory.workloads.filter((w) => members.has(w.namespace) && !w.hostNetwork);
  const isolates = (type: string, namespace: string, labels: Record<string, string>) =>
    users.some((p) => p.namespace === namespace && policyTypes(p).includes(type) && selectorMatches(p.spec.podSelector ?? {}, labels));
  const anyEgress = workloads.some((w) => isolates('Egress', w.namespace, w.podLabels));
  const sources: { key: string; from: FlowSource }[] = workloads.map((w) => ({
    key: `${w.kind} ${w.namespace}/${w.name}`,
    from: {
      name: `the mesh client ${w.kind} ${w.namespace}/${w.name}`,
      source: {
        kind: 'pod',
        pod: { namespace: w.namespace, labels: w.podLabels },
        namespaceLabels: namespaceLabels(mesh, state, w.namespace),
      },
    },
  }));
  for (const g of smcpGateways(mesh).filter((x) => x.kind === 'ingress')) {
    const from = (labels: Record<string, string>, what: string): { key: string; from: FlowSource } => ({
      key: `gateway ${g.namespace}/${g.name}`,
      from: {
        name: `${what} of the gateway ${g.namespace}/${g.name}`,
        source: { kind: 'pod', pod: { namespace: g.namespace, labels }, namespaceLabels: namespaceLabels(mesh, state, g.namespace) },
      },
    });
    if (smcp && valueAt(smcp, `${g.path}.enabled`) !== false) sources.push(from(gatewayPodLabels(g), "the SMCP's pods"));
    const ours = state.of('gatewayDeployment').find((d) => d.ref.name === `${g.name}${TAKEOVER_SUFFIX}` && d.ref.namespace === g.namespace);
    if (ours) sources.push(from(ours.podLabels, `the pods of Deployment ${ours.ref.name}`));
  }
  const out: Flow[] = [];
  for (const svc of mesh.inventory.services.filter((s) => members.has(s.namespace) && Object.keys(s.selector).length)) {
    const selected = (l: Record<string, string>) => Object.entries(svc.selector).every(([k, v]) => l[k] === v);
    const backends = workloads.filter((w) => w.namespace === svc.namespace && selected(w.podLabels));
    if (!backends.length || !(anyEgress || backends.some((w) => isolates('Ingress', w.namespace, w.podLabels)))) continue;
    const sp = svc.ports.find((p) => (p.protocol ?? 'TCP') === 'TCP');
    if (!sp) continue;
    const t = sp.targetPort ?? sp.port;
    const port = typeof t === 'number' ? t : backends[0].containerPorts[t];
    if (port === undefined) continue;
    const pods = backends.map((w) => ({
      namespace: w.namespace,
      labels: w.podLabels,
      what: `the pods of ${w.kind} ${w.namespace}/${w.name}`,
    }));
    for (const s of sources)
      out.push({
        key: `mesh|${s.key}|Service ${svc.namespace}/${svc.name}`,
        from: s.from,
        to: `Service ${svc.namespace}/${svc.name}`,
        pods,
        port,
        fix: `admit the mesh's namespaces to the pods of Service ${svc.namespace}/${svc.name}`,
      });
  }
  return out;
}

/**
 * A namespace's labels at a phase: dumped, then the label patches meshfed applies up to it (istio.io/rev,
 * maistra.io/ignore-namespace and no istio-injection at 06: lib/plan/phase-06-migrate-workloads.ts), its name (the
 * API server sets kubernetes.io/metadata.name on every namespace, Kubernetes 1.21+), and Maistra's
 * maistra.io/member-of while the SMCP lives: Maistra adds it to every member and removes it when the namespace leaves
 * the mesh or the control plane goes (maistra/istio-operator@8143614c
 * pkg/controller/servicemesh/member/namespace_reconciler.go:188-198 remove, :256-266 add).
 */
export function namespaceLabels(mesh: Mesh, state: PhaseState, ns: string): Record<string, string> {
  const cp = mesh.controlPlane;
  const labels: Record<string, string> = { ...(mesh.inventory.namespaces.find((n) => n.name === ns)?.labels ?? {}) };
  delete labels['maistra.io/member-of'];
  for (const p of state.patches) {
    if (p.target.kind !== 'Namespace' || p.target.name !== ns) continue;
    if (p.type === 'merge') {
      const patched = valueAt(p.patch, 'metadata.labels');
      for (const [k, v] of Object.entries(patched && typeof patched === 'object' && !Array.isArray(patched) ? patched : {}))
        if (v === null) delete labels[k];
        else labels[k] = String(v);
    } else
      for (const op of p.ops)
        for (const [k] of Object.entries(labels))
          if (op.op === 'remove' && op.path === `/metadata/labels/${pointerKey(k)}`) delete labels[k];
  }
  const member = state.has('ServiceMeshControlPlane', cp.name, cp.namespace) && (ns === cp.namespace || inRoll(mesh, state, ns, labels));
  return { ...labels, 'kubernetes.io/metadata.name': ns, ...(member ? { 'maistra.io/member-of': cp.namespace } : {}) };
}

/**
 * Is a namespace a member at a phase? Listed in the roll's spec.members (as patched so far; `*`: every one), matched by
 * its memberSelectors with the namespace's labels of the phase (06 drops istio-injection: a roll selecting on it lets the
 * namespace go), or holding a ServiceMeshMember (the user's, or the one meshfed adds in a ClusterWide gateway
 * namespace; the roll creates and deletes its own: maistra/istio-operator@8143614c
 * pkg/controller/servicemesh/memberroll/controller.go:290-345, 535). A ClusterWide control plane without a dumped roll
 * has the one Maistra creates, selecting `istio-injection: enabled` (pkg/controller/versions/strategy_v2_5.go:771-813);
 * a MultiTenant one without: the members meshfed found (lib/model/members.ts).
 */
function inRoll(mesh: Mesh, state: PhaseState, ns: string, labels: Record<string, string>): boolean {
  const cp = mesh.controlPlane;
  const roll = mesh.inventory.memberRoll;
  const ownMember =
    state.has('ServiceMeshMember', 'default', ns) ||
    mesh.inventory.members.some((m) => {
      const annotations = (m.source.metadata.annotations ?? {}) as Record<string, unknown>;
      return m.namespace === ns && annotations['maistra.io/created-by'] !== 'servicemeshmemberroll-controller';
    });
  if (ownMember) return true;
  if (!roll) return cp.mode === 'ClusterWide' ? labels['istio-injection'] === 'enabled' : mesh.memberNamespaces.includes(ns);
  let listed = roll.members;
  for (const p of state.patches) {
    const members = p.type === 'merge' && p.target.kind === 'ServiceMeshMemberRoll' ? valueAt(p.patch, 'spec.members') : undefined;
    if (Array.isArray(members)) listed = members.map(String);
  }
  if (listed.includes(ns) || (listed.includes('*') && mesh.memberNamespaces.includes(ns))) return true;
  return roll.memberSelectors.some((sel) => selectorMatches(sel, labels));
}

/** A planned NetworkPolicy as the API server stores it (what lib/constructs/mesh-policy.ts renders). */
export function plannedPolicy(r: Extract<Resource, { type: 'networkPolicy' }>): NetworkPolicy {
  const f: NetworkPolicyFields = r;
  const exist = (f.podLabelsExist ?? []).map((key) => ({ key, operator: 'Exists' }));
  const from =
    f.from === 'anywhere'
      ? undefined
      : 'namespaces' in f.from
        ? [{ namespaceSelector: { matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'In', values: f.from.namespaces }] } }]
        : [{ namespaceSelector: { matchLabels: f.from.namespaceLabels } }];
  return {
    name: r.ref.name,
    namespace: r.ref.namespace!,
    spec: { podSelector: { matchLabels: f.podLabels, matchExpressions: exist }, policyTypes: ['Ingress'], ingress: [from ? { from } : {}] },
  };
}

/**
 * The NetworkPolicies Maistra keeps while it manages them (an SMCP whose manageNetworkPolicy is not false):
 * maistra/istio-operator@8143614c resources/helm/v2.5 — istio-discovery networkpolicy.yaml (istiod, open: its
 * mis-indented `port:` key leaves a rule without ports or peers), mesh-config networkpolicy.yaml (istio-mesh: from
 * namespaces labelled member-of; istio-expose-route: the router to expose-route pods), both copied into every member
 * (pkg/controller/servicemesh/member/ovs_networkpolicy.go:41-101: the non-internal ones), gateways/istio-ingress
 * networkpolicy.yaml (each ingress gateway, open, in its own namespace) and istio-telemetry/*\/networkpolicy.yaml
 * (the addons, open: the same mis-indented `port:`).
 */
export function maistraPolicies(mesh: Mesh, smcp: JsonObject | undefined): NetworkPolicy[] {
  const cp = mesh.controlPlane;
  if (!smcp || !smcpPosture(mesh, smcp).manageNetworkPolicy) return [];
  const rev = cp.name;
  const open = (name: string, namespace: string, labels: Record<string, string>): NetworkPolicy => ({
    name,
    namespace,
    spec: { podSelector: { matchLabels: labels }, ingress: [{}] },
  });
  const out: NetworkPolicy[] = [open(`istio-istiod-${rev}`, cp.namespace, { app: 'istiod', 'istio.io/rev': rev })];
  for (const ns of [...new Set([cp.namespace, ...mesh.memberNamespaces])].sort())
    out.push(
      {
        name: `istio-mesh-${rev}`,
        namespace: ns,
        spec: { podSelector: {}, ingress: [{ from: [{ namespaceSelector: { matchLabels: { 'maistra.io/member-of': cp.namespace } } }] }] },
      },
      {
        name: `istio-expose-route-${rev}`,
        namespace: ns,
        spec: {
          podSelector: { matchLabels: { 'maistra.io/expose-route': 'true' } },
          ingress: [{ from: [{ namespaceSelector: { matchLabels: { 'network.openshift.io/policy-group': 'ingress' } } }] }],
        },
      },
    );
  for (const g of smcpGateways(mesh).filter((x) => x.kind === 'ingress' && valueAt(smcp, `${x.path}.enabled`) !== false))
    out.push(open(g.name, g.namespace, g.selector));
  for (const a of SMCP_ADDONS.filter((x) => x.enabled(smcp))) out.push(open(`istio-${a.name}-ingress`, cp.namespace, a.pods[0]));
  return out;
}

/**
 * Every NetworkPolicy at a phase: Maistra's while it manages them, meshfed's, and the users' (but one meshfed renders
 * under the same name: applying meshfed's replaces it).
 */
export function policiesAt(mesh: Mesh, state: PhaseState): NetworkPolicy[] {
  const planned = state.of('networkPolicy').map(plannedPolicy);
  const ours = new Set(planned.map(policyKey));
  return [
    ...maistraPolicies(mesh, smcpAt(mesh, state)),
    ...planned,
    ...mesh.inventory.networkPolicies.filter((p) => !ours.has(policyKey(p))),
  ];
}

const policyKey = (p: NetworkPolicy) => `${p.namespace}/${p.name}`;

/** A flow's verdict per pod set; the first denial, or undefined when every pod set admits it. */
export function judgeFlow(
  mesh: Mesh,
  state: PhaseState,
  flow: Flow,
  policies: NetworkPolicy[],
): { pods: FlowPods; verdict: Verdict } | undefined {
  for (const pods of flow.pods) {
    const dst: Destination = {
      pod: { namespace: pods.namespace, labels: pods.labels },
      namespaceLabels: namespaceLabels(mesh, state, pods.namespace),
    };
    const verdict = evaluate(policies, flow.from.source, dst, flow.port);
    if (!verdict.allowed) return { pods, verdict };
  }
  return undefined;
}

const OPT_OUT = '(or set spec.networkPolicies.render: false and manage them)';

/**
 * MF027 flows through NetworkPolicies: in every phase the gates allow, each flow that the NetworkPolicies admitted
 * at 00 (or that meshfed renders, first seen later: the OSSM 3 istiod, user-workload monitoring) is still admitted,
 * for every pod set that serves it. Reports the first phase each flow breaks, with the policies that isolate its
 * pods.
 */
export function checkFlows(c: CheckContext): Finding[] {
  const out: Finding[] = [];
  for (const mesh of c.model.meshes) {
    if (mesh.settings.mode === 'greenfield' || mesh.virtual || mesh.platform !== 'openshift') continue;
    const phases = c.plan.byCluster[mesh.cluster].filter((p) => p.blockedBy.length === 0);
    if (!phases.some((p) => p.phase === '00-federation')) continue;
    const base = c.states.get(mesh.cluster, '00-federation');
    const policies00 = policiesAt(mesh, base);
    const deniedAt00 = new Set(
      flowsAt(mesh, base)
        .filter((f) => judgeFlow(mesh, base, f, policies00))
        .map((f) => f.key),
    );
    const worked = new Set(flowsAt(mesh, base).map((f) => f.key));
    const seen = new Set<string>();
    const seenUser = new Set<string>();
    const users = new Set(mesh.inventory.networkPolicies.map(policyKey));
    for (const p of phases) {
      if (p.phase === '00-federation') continue;
      const state = c.states.get(mesh.cluster, p.phase);
      const policies = policiesAt(mesh, state);
      for (const flow of flowsAt(mesh, state)) {
        if (deniedAt00.has(flow.key) || seen.has(flow.key)) continue;
        const denied = judgeFlow(mesh, state, flow, policies);
        if (!denied) continue;
        seen.add(flow.key);
        const theirs = denied.verdict.policies.filter((k) => users.has(k));
        // One finding per user policy set and pods: every mesh client loses them for the same reason.
        const once = `${theirs.join(',')}|${denied.pods.what}`;
        if (!theirs.length)
          out.push({
            rule: 'MF027',
            severity: 'error',
            cluster: mesh.cluster,
            phase: p.phase,
            problem: flowDenied(flow, denied, worked.has(flow.key)),
            fix: `${flow.fix}. meshfed renders these NetworkPolicies: report this as a meshfed bug ${OPT_OUT}.`,
          });
        else if (!seenUser.has(once)) out.push(userPolicyDenies(mesh, base, state, p.phase, flow, denied, theirs, worked.has(flow.key)));
        seenUser.add(once);
      }
      const kiali = kialiWithoutMetrics(state);
      if (kiali && !seen.has(kiali)) {
        seen.add(kiali);
        out.push({
          rule: 'MF027',
          severity: 'error',
          cluster: mesh.cluster,
          phase: p.phase,
          problem:
            `the standalone Kiali ${kiali} → the cluster's Thanos querier: it reads metrics with its own token, and no ` +
            `ClusterRoleBinding gives its ServiceAccount ${MONITORING_VIEW_ROLE} (its graphs and health stay empty).`,
          fix:
            `bind ${MONITORING_VIEW_ROLE} to it in the phase that adds it (openshift-service-mesh/sail-operator@fd6516dc ` +
            'docs/ossm/kiali/README.md:262-278). meshfed renders that binding: report this as a meshfed bug.',
        });
      }
    }
  }
  return out;
}

/**
 * The OpenShift Kiali meshfed adds whose ServiceAccount (`<name>-service-account`, the Kiali operator's) no
 * ClusterRoleBinding of this state binds to cluster-monitoring-view: Thanos refuses its token. Its `namespace/name`.
 */
function kialiWithoutMetrics(state: PhaseState): string | undefined {
  for (const k of state.of('kiali').filter((x) => x.openshift)) {
    const sa = `${k.ref.name}-service-account`;
    const bound = state
      .of('clusterRoleBinding')
      .some(
        (b) => b.clusterRole === MONITORING_VIEW_ROLE && b.serviceAccount.name === sa && b.serviceAccount.namespace === k.ref.namespace,
      );
    if (!bound) return `${k.ref.namespace}/${k.ref.name}`;
  }
  return undefined;
}

function flowDenied(flow: Flow, denied: { pods: FlowPods; verdict: Verdict }, worked: boolean): string {
  const isolating = denied.verdict.policies.map((p) => `NetworkPolicy ${p}`).join(', ');
  return (
    `${flow.from.name} → ${flow.to}, port ${flow.port}: ${denied.pods.what} are isolated by ${isolating} and none admits it ` +
    `(${worked ? 'it works at 00-federation' : 'a flow meshfed adds after 00-federation'}).`
  );
}

/** Why Maistra removes member-of at a phase: the namespace left the member roll, or the control plane went. */
function memberOfGoes(mesh: Mesh, state: PhaseState): string {
  const cp = mesh.controlPlane;
  return state.has('ServiceMeshControlPlane', cp.name, cp.namespace)
    ? 'the namespace leaves the member roll, and Maistra removes member-of'
    : 'Maistra removes member-of when the SMCP goes';
}

/** The label keys a policy's peers select namespaces on (`from` of its ingress rules, `to` of its egress rules). */
function namespaceKeys(p: NetworkPolicy, side: 'ingress' | 'egress'): string[] {
  const keys = (sel: Selector | undefined) => [...Object.keys(sel?.matchLabels ?? {}), ...(sel?.matchExpressions ?? []).map((e) => e.key)];
  return (p.spec[side] ?? []).flatMap((r) => (side === 'ingress' ? r.from : r.to) ?? []).flatMap((peer) => keys(peer.namespaceSelector));
}

/** `maistra.io/member-of=istio-system removed`, `istio.io/rev=default-v1-27-3 added`, `a: x → y`: the keys that changed. */
function labelChanges(before: Record<string, string>, after: Record<string, string>, keys: readonly string[]): string[] {
  return [...new Set(keys)].sort(compareStrings).flatMap((k) => {
    if (before[k] === after[k]) return [];
    if (after[k] === undefined) return [`${k}=${before[k]} removed`];
    if (before[k] === undefined) return [`${k}=${after[k]} added`];
    return [`${k}: ${before[k]} → ${after[k]}`];
  });
}

/**
 * MF027 when the users' own NetworkPolicies deny a flow: which of theirs, the namespace label that changes at the
 * phase (Maistra's member-of going with the SMCP, a label meshfed's 06 sets), and a selector that holds in every phase.
 */
function userPolicyDenies(
  mesh: Mesh,
  base: PhaseState,
  state: PhaseState,
  phase: string,
  flow: Flow,
  denied: { pods: FlowPods; verdict: Verdict },
  theirs: string[],
  worked: boolean,
): Finding {
  const side = denied.verdict.deniedBy ?? 'ingress';
  const src = flow.from.source;
  const peerNs =
    side === 'ingress'
      ? src.kind === 'pod'
        ? src.pod.namespace
        : src.kind === 'namespace'
          ? src.namespace
          : undefined
      : denied.pods.namespace;
  const policies = mesh.inventory.networkPolicies.filter((p) => theirs.includes(policyKey(p)));
  const keys = policies.flatMap((p) => namespaceKeys(p, side));
  const changes = peerNs ? labelChanges(namespaceLabels(mesh, base, peerNs), namespaceLabels(mesh, state, peerNs), keys) : [];
  const why = changes.length
    ? `at ${phase} namespace ${peerNs} has ${changes.join(', ')}` +
      (changes.some((c) => c.startsWith('maistra.io/member-of')) ? ` (${memberOfGoes(mesh, state)})` : '')
    : `at ${phase} its ${side === 'ingress' ? 'rules' : 'egress rules'} match none of the peers`;
  const named = theirs.map((k) => `NetworkPolicy ${k}`).join(', ');
  const names = [...new Set([mesh.controlPlane.namespace, ...mesh.memberNamespaces])].sort(compareStrings);
  return {
    rule: 'MF027',
    severity: 'error',
    cluster: mesh.cluster,
    phase,
    problem:
      `${flow.from.name} → ${flow.to}, port ${flow.port}: ${side === 'ingress' ? denied.pods.what : 'its pods'} are isolated ` +
      `by your ${named} and none admits it: ${why} (${worked ? 'it works at 00-federation' : 'a flow meshfed adds after 00-federation'}).`,
    fix:
      `before ${phase}, let ${named} select peers on labels every phase keeps: add a namespaceSelector on ` +
      `kubernetes.io/metadata.name (operator In, values ${names.join(', ')}), or on istio.io/rev: ${mesh.ossm3.revision} ` +
      '(06 sets it on the migrated namespaces), beside the maistra.io/member-of one. meshfed does not change your NetworkPolicies.',
  };
}
