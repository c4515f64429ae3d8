/**
 * The flows a cluster carries besides the federation, read from the live objects of the twin, and their verdict
 * through the live NetworkPolicies (lib/netpol.ts): the OpenShift router, on the pod and the host network, to the
 * pods behind every Route; clients outside the cluster to the pods of every LoadBalancer or NodePort Service; the
 * API server to the pods behind every webhook Service; user-workload monitoring to the pods every PodMonitor and
 * ServiceMonitor selects; where the users' own NetworkPolicies (restored from the dumps with every other object)
 * isolate mesh pods, the mesh's pods to the Services of the mesh's namespaces. The rehearsal watches them at every
 * tick of every sync (`FlowWatch`): a flow admitted before a move and denied at any step of it, or a flow the move
 * adds and leaves denied, is a finding naming the flow, the policies that isolate its pods, the step and the fix.
 * (MF027 judges the same kinds of flow on the plan.)
 */
import { AuthzBreak, authzBreaks, judgeAuthz } from './authz-flows';
import { Cluster, Controller } from './cluster';
import { isObject, splitApiVersion } from './kustomize';
import { labels, metadata, Obj, valueAt } from './objects';
import { Json } from '../load/yaml-source';
import {
  evaluate,
  HOST_NETWORK_LABELS,
  NetworkPolicy,
  networkPolicyOf,
  PodEndpoint,
  policyTypes,
  ROUTER_NAMESPACE_LABELS,
  Selector,
  selectorMatches,
  Source,
  USER_WORKLOAD_MONITORING_LABELS,
  Verdict,
} from '../netpol';
import { compareStrings } from '../sort';

export interface LiveFlow {
  /** `the OpenShift router (pod network) → Route istio-system/kiali`: the same key across moves. */
  readonly key: string;
  readonly source: Source;
  readonly pods: Obj[];
  /** The port on the pods: a number, or a container port name. */
  readonly port: number | string;
  readonly fix: string;
}

const API_SERVER: Source = {
  kind: 'namespace',
  namespace: 'openshift-kube-apiserver',
  namespaceLabels: { 'policy-group.network.openshift.io/host-network': '' },
};
const ROUTERS: [string, Source][] = [
  ['the OpenShift router (pod network)', { kind: 'namespace', namespace: 'openshift-ingress', namespaceLabels: ROUTER_NAMESPACE_LABELS }],
  ['the OpenShift router (host network)', { kind: 'namespace', namespace: 'openshift-host-network', namespaceLabels: HOST_NETWORK_LABELS }],
];
const MONITORING: Source = {
  kind: 'namespace',
  namespace: 'openshift-user-workload-monitoring',
  namespaceLabels: USER_WORKLOAD_MONITORING_LABELS,
};

const live = (o: Obj) => metadata(o).deletionTimestamp === undefined;
const group = (o: Obj) => splitApiVersion(String(o.apiVersion ?? ''))[0];
const ns = (o: Obj) => String(metadata(o).namespace ?? '');
const name = (o: Obj) => String(metadata(o).name ?? '');

/** Running pods on the pod network (host-network pods are not subject to NetworkPolicies). */
function podsIn(cluster: Cluster, namespace: string, matches: (l: Record<string, string>) => boolean): Obj[] {
  return cluster
    .list((o) => o.kind === 'Pod' && group(o) === '' && ns(o) === namespace && live(o))
    .filter((p) => valueAt(p, ['spec', 'hostNetwork']) !== true && matches(labels(p)));
}

function serviceSelects(svc: Obj): ((l: Record<string, string>) => boolean) | undefined {
  const sel = valueAt(svc, ['spec', 'selector']);
  if (!isObject(sel) || Object.keys(sel).length === 0) return undefined;
  return (l) => Object.entries(sel).every(([k, v]) => l[k] === v);
}

/** The pod port a Service port sends to (its targetPort, a number or a name; its port when unset). */
function targetOf(svc: Obj, port: unknown): number | string | undefined {
  const ports = (Array.isArray(valueAt(svc, ['spec', 'ports'])) ? (valueAt(svc, ['spec', 'ports']) as Json[]) : []).filter(isObject);
  const p = port === undefined ? ports[0] : ports.find((x) => x.name === port || x.port === port || x.targetPort === port);
  if (!p) return typeof port === 'number' || typeof port === 'string' ? port : undefined;
  const t = p.targetPort ?? p.port;
  return typeof t === 'number' || typeof t === 'string' ? t : undefined;
}

function service(cluster: Cluster, namespace: string, svcName: string): Obj | undefined {
  return cluster.get({ group: '', kind: 'Service', namespace, name: svcName });
}

function routeFlows(cluster: Cluster): LiveFlow[] {
  const out: LiveFlow[] = [];
  for (const r of cluster.list((o) => o.kind === 'Route' && group(o) === 'route.openshift.io' && live(o))) {
    const svc = service(cluster, ns(r), String(valueAt(r, ['spec', 'to', 'name']) ?? ''));
    const selects = svc && serviceSelects(svc);
    if (!svc || !selects) continue;
    const port = targetOf(svc, valueAt(r, ['spec', 'port', 'targetPort']));
    const pods = podsIn(cluster, ns(r), selects);
    if (port === undefined || !pods.length) continue;
    for (const [who, source] of ROUTERS)
      out.push({
        key: `${who} → Route ${ns(r)}/${name(r)}`,
        source,
        pods,
        port,
        fix:
          'admit the router (namespaceSelector policy-group.network.openshift.io/ingress: "", or every source) ' +
          `to the pods of Service ${ns(r)}/${name(svc)}`,
      });
  }
  return out;
}

function externalFlows(cluster: Cluster): LiveFlow[] {
  const out: LiveFlow[] = [];
  for (const svc of cluster.list((o) => o.kind === 'Service' && group(o) === '' && live(o))) {
    const type = String(valueAt(svc, ['spec', 'type']) ?? 'ClusterIP');
    const selects = serviceSelects(svc);
    if (!['LoadBalancer', 'NodePort'].includes(type) || !selects) continue;
    const pods = podsIn(cluster, ns(svc), selects);
    const port = targetOf(svc, undefined);
    if (!pods.length || port === undefined) continue;
    out.push({
      key: `clients outside the cluster → ${type} Service ${ns(svc)}/${name(svc)}`,
      source: { kind: 'external' },
      pods,
      port,
      fix: `admit every source (ingress: [{}]) to the pods of Service ${ns(svc)}/${name(svc)}`,
    });
  }
  return out;
}

function webhookFlows(cluster: Cluster): LiveFlow[] {
  const out: LiveFlow[] = [];
  const configs = cluster.list(
    (o) =>
      ['MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration'].includes(String(o.kind)) &&
      group(o) === 'admissionregistration.k8s.io',
  );
  for (const c of configs)
    for (const w of (Array.isArray(c.webhooks) ? c.webhooks : []).filter(isObject)) {
      const ref = valueAt(w, ['clientConfig', 'service']);
      if (!isObject(ref)) continue;
      const svc = service(cluster, String(ref.namespace ?? ''), String(ref.name ?? ''));
      const selects = svc && serviceSelects(svc);
      if (!svc || !selects) continue;
      const pods = podsIn(cluster, ns(svc), selects);
      const port = targetOf(svc, ref.port ?? 443);
      if (!pods.length || port === undefined) continue;
      out.push({
        key: `the API server → ${String(c.kind)} ${name(c)} (Service ${ns(svc)}/${name(svc)})`,
        source: API_SERVER,
        pods,
        port,
        fix:
          'admit the API server (the host network: policy-group.network.openshift.io/host-network: "", or every source) ' +
          `to the pods of ${ns(svc)}/${name(svc)}`,
      });
    }
  return out;
}

function monitorFlows(cluster: Cluster): LiveFlow[] {
  const out: LiveFlow[] = [];
  const fix = (n: string) =>
    `admit user-workload monitoring (namespaceSelector network.openshift.io/policy-group: monitoring) to the pods it scrapes in ${n}`;
  for (const m of cluster.list((o) => o.kind === 'PodMonitor' && group(o) === 'monitoring.coreos.com' && live(o))) {
    const sel = (valueAt(m, ['spec', 'selector']) ?? {}) as Selector;
    const pods = podsIn(cluster, ns(m), (l) => selectorMatches(sel, l));
    // The proxies' merged metrics: the prometheus.io/port annotation the injector sets, 15020.
    if (pods.length)
      out.push({
        key: `user-workload monitoring → PodMonitor ${ns(m)}/${name(m)}`,
        source: MONITORING,
        pods,
        port: 15020,
        fix: fix(ns(m)),
      });
  }
  for (const m of cluster.list((o) => o.kind === 'ServiceMonitor' && group(o) === 'monitoring.coreos.com' && live(o))) {
    const sel = (valueAt(m, ['spec', 'selector']) ?? {}) as Selector;
    const endpoints = (Array.isArray(valueAt(m, ['spec', 'endpoints'])) ? (valueAt(m, ['spec', 'endpoints']) as Json[]) : []).filter(
      isObject,
    );
    for (const svc of cluster.list(
      (o) => o.kind === 'Service' && group(o) === '' && ns(o) === ns(m) && live(o) && selectorMatches(sel, labels(o)),
    )) {
      const selects = serviceSelects(svc);
      const pods = selects ? podsIn(cluster, ns(svc), selects) : [];
      for (const e of endpoints) {
        const port = targetOf(svc, e.port ?? e.targetPort);
        if (pods.length && port !== undefined)
          out.push({
            key: `user-workload monitoring → ServiceMonitor ${ns(m)}/${name(m)} (Service ${name(svc)}, port ${String(e.port ?? e.targetPort)})`,
            source: MONITORING,
            pods,
            port,
            fix: fix(ns(m)),
          });
      }
    }
  }
  return out;
}

/**
 * A user's NetworkPolicy: neither Maistra's (labelled maistra.io/owner in the control-plane namespace, maistra.io/member-of
 * on its copies in the members: maistra/istio-operator@8143614c pkg/controller/servicemesh/member/ovs_networkpolicy.go:44,
 * 63, 90) nor meshfed's (named meshfed-*: lib/plan/network-policies.ts).
 */
function usersPolicy(o: Obj): boolean {
  const l = labels(o);
  return !('maistra.io/owner' in l) && !('maistra.io/member-of' in l) && !name(o).startsWith('meshfed-');
}

/** The namespace's labels as NetworkPolicies see them (the API server adds kubernetes.io/metadata.name, Kubernetes 1.21+). */
function namespaceLabelsOf(cluster: Cluster, n: string): Record<string, string> {
  const o = cluster.get({ group: '', kind: 'Namespace', namespace: '', name: n });
  return { ...(o ? labels(o) : {}), 'kubernetes.io/metadata.name': n };
}

/**
 * The mesh's own traffic where a user's NetworkPolicy can cut it: the pods of every mesh namespace (labelled
 * maistra.io/member-of by Maistra, or istio.io/rev or istio-injection: enabled for OSSM 3) to the pods behind each
 * Service of a mesh namespace that a user's policy isolates for ingress (every such Service when a user's policy
 * isolates some mesh pod for egress). Sources are one pod per namespace and `app` label (stable across restarts).
 */
function meshFlows(cluster: Cluster): LiveFlow[] {
  const users = cluster
    .list((o) => o.kind === 'NetworkPolicy' && group(o) === 'networking.k8s.io' && usersPolicy(o))
    .map((o) => networkPolicyOf(o)!);
  if (!users.length) return [];
  const meshNamespaces = cluster
    .list((o) => o.kind === 'Namespace' && group(o) === '')
    .filter((o) => {
      const l = labels(o);
      return 'maistra.io/member-of' in l || 'istio.io/rev' in l || l['istio-injection'] === 'enabled';
    })
    .map(name)
    .sort(compareStrings);
  const isolated = (type: string, pod: Obj) =>
    users.some((p) => p.namespace === ns(pod) && policyTypes(p).includes(type) && selectorMatches(p.spec.podSelector ?? {}, labels(pod)));
  const sources = new Map<string, { pod: Obj; source: Source }>();
  for (const n of meshNamespaces)
    for (const pod of podsIn(cluster, n, () => true)) {
      const who = `${n}/${labels(pod).app ?? labels(pod)['app.kubernetes.io/name'] ?? name(pod)}`;
      if (!sources.has(who))
        sources.set(who, {
          pod,
          source: { kind: 'pod', pod: { namespace: n, labels: labels(pod) }, namespaceLabels: namespaceLabelsOf(cluster, n) },
        });
    }
  const anyEgress = [...sources.values()].some((s) => isolated('Egress', s.pod));
  const out: LiveFlow[] = [];
  for (const n of meshNamespaces)
    for (const svc of cluster.list((o) => o.kind === 'Service' && group(o) === '' && ns(o) === n && live(o))) {
      const selects = serviceSelects(svc);
      const pods = selects ? podsIn(cluster, n, selects) : [];
      const port = targetOf(svc, undefined);
      if (!pods.length || port === undefined || !(anyEgress || pods.some((p) => isolated('Ingress', p)))) continue;
      for (const [who, s] of sources)
        out.push({
          key: `the mesh pods ${who} → Service ${n}/${name(svc)}`,
          source: s.source,
          pods,
          port,
          fix:
            'let your NetworkPolicies select the mesh by labels every phase keeps (kubernetes.io/metadata.name, or istio.io/rev), ' +
            'not maistra.io/member-of: Maistra removes it when the SMCP goes',
        });
    }
  return out;
}

/** Every flow the live objects describe. */
export function liveFlows(cluster: Cluster): LiveFlow[] {
  return [
    ...routeFlows(cluster),
    ...externalFlows(cluster),
    ...webhookFlows(cluster),
    ...monitorFlows(cluster),
    ...meshFlows(cluster),
  ].sort((a, b) => compareStrings(a.key, b.key));
}

/** A flow denied: the first pod that refuses it and why. */
export interface Denial {
  readonly flow: LiveFlow;
  readonly pod: Obj;
  readonly verdict: Verdict;
}

/** The verdict of every flow: undefined when every pod admits it. */
export function judgeLiveFlows(cluster: Cluster): Map<string, Denial | undefined> {
  const policies = cluster
    .list((o) => o.kind === 'NetworkPolicy' && group(o) === 'networking.k8s.io')
    .map((o) => networkPolicyOf(o))
    .filter((p): p is NetworkPolicy => p !== undefined);
  const nsLabels = new Map<string, Record<string, string>>();
  const labelsOf = (n: string) => {
    let l = nsLabels.get(n);
    if (!l) {
      const o = cluster.get({ group: '', kind: 'Namespace', namespace: '', name: n });
      // The API server labels every namespace with its name (NamespaceDefaultLabelName, Kubernetes 1.21+).
      nsLabels.set(n, (l = { ...(o ? labels(o) : {}), 'kubernetes.io/metadata.name': n }));
    }
    return l;
  };
  const out = new Map<string, Denial | undefined>();
  for (const flow of liveFlows(cluster)) {
    let denial: Denial | undefined;
    for (const pod of flow.pods) {
      const spec = valueAt(pod, ['spec', 'containers']);
      const ports = (Array.isArray(spec) ? spec : [])
        .filter(isObject)
        .flatMap((c) => (Array.isArray(c.ports) ? c.ports.filter(isObject) : []))
        .map((p) => ({
          name: p.name === undefined ? undefined : String(p.name),
          containerPort: Number(p.containerPort),
          protocol: String(p.protocol ?? 'TCP'),
        }));
      const endpoint: PodEndpoint = { namespace: ns(pod), labels: labels(pod), ports };
      const verdict = evaluate(policies, flow.source, { pod: endpoint, namespaceLabels: labelsOf(ns(pod)) }, flow.port);
      if (!verdict.allowed) {
        denial = { flow, pod, verdict };
        break;
      }
    }
    out.set(flow.key, denial);
  }
  return out;
}

/** What the watch saw during one move: flows admitted before it and denied at some step, flows it added and left denied. */
export interface FlowBreak {
  readonly denial: Denial;
  /** Virtual seconds since the move started when it was first seen denied. */
  readonly at: number;
  /** The flow was admitted before the move (else: the move added it). */
  readonly worked: boolean;
}

/** The verdicts a watch compares against: the flows through NetworkPolicies and through AuthorizationPolicies. */
export interface FlowBaseline {
  readonly netpol: Map<string, Denial | undefined>;
  readonly authz: ReturnType<typeof judgeAuthz>;
}

/** The verdicts of every flow now: the baseline of a move (or of the phase a rollback returns to). */
export function flowBaseline(cluster: Cluster): FlowBaseline {
  return { netpol: judgeLiveFlows(cluster), authz: judgeAuthz(cluster) };
}

/**
 * A controller that only looks: at every tick where something changed it judges every flow. `begin` takes the
 * verdicts before a move (or the ones given: a rollback is judged against the phase it returns to), `end` returns what
 * broke during it and what is still denied once it settled; `authzEnd` what AuthorizationPolicies broke or widened.
 * `declared`: identities (`ns/<ns>/sa/<sa>`, any trust domain) the user named as callers, which may gain access.
 */
export class FlowWatch implements Controller {
  readonly name = 'flow-watch';
  private before: FlowBaseline = { netpol: new Map(), authz: { flows: new Map(), reach: new Map() } };
  private start = 0;
  private seenEvents = -1;
  private readonly broken = new Map<string, FlowBreak>();
  private readonly authzBroken = new Map<string, AuthzBreak>();

  constructor(private readonly declared: ReadonlySet<string> = new Set()) {}

  begin(cluster: Cluster, baseline?: FlowBaseline): void {
    this.before = baseline ?? flowBaseline(cluster);
    this.start = cluster.now;
    this.broken.clear();
    this.authzBroken.clear();
    this.seenEvents = -1;
    this.reconcile(cluster);
  }

  reconcile(cluster: Cluster): void {
    if (cluster.events.length === this.seenEvents) return;
    this.seenEvents = cluster.events.length;
    for (const [key, denial] of judgeLiveFlows(cluster))
      if (denial && this.before.netpol.has(key) && this.before.netpol.get(key) === undefined && !this.broken.has(key))
        this.broken.set(key, { denial, at: cluster.now - this.start, worked: true });
    for (const b of authzBreaks(this.before.authz, judgeAuthz(cluster), cluster.now - this.start, this.declared))
      if (!this.authzBroken.has(`${b.kind}|${b.key}`)) this.authzBroken.set(`${b.kind}|${b.key}`, b);
  }

  end(cluster: Cluster): FlowBreak[] {
    this.reconcile(cluster);
    for (const [key, denial] of judgeLiveFlows(cluster))
      if (denial && !this.before.netpol.has(key) && !this.broken.has(key))
        this.broken.set(key, { denial, at: cluster.now - this.start, worked: false });
    return [...this.broken.values()].sort((a, b) => compareStrings(a.denial.flow.key, b.denial.flow.key));
  }

  /** What AuthorizationPolicies broke (a flow allowed before, denied) or widened (an identity denied before, allowed). */
  authzEnd(): AuthzBreak[] {
    return [...this.authzBroken.values()].sort((a, b) => compareStrings(`${a.kind}|${a.key}`, `${b.kind}|${b.key}`));
  }
}

/** The sentence of a finding: which flow, which pod, which policies, since when. */
export function describeBreak(b: FlowBreak): string {
  const { flow, pod, verdict } = b.denial;
  const isolating = verdict.policies.map((p) => `NetworkPolicy ${p}`).join(', ');
  return (
    `${flow.key}, port ${String(flow.port)}: pod ${ns(pod)}/${name(pod)} is isolated by ${isolating} and none admits it ` +
    `(${b.worked ? 'it was admitted before this move' : 'this move adds the flow'}).`
  );
}
