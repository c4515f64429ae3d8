/**
 * A Kubernetes NetworkPolicy evaluator: is a connection from a peer to a pod on a port allowed, and which
 * policies decide? Pure data in, a verdict out; every layer may use it (the checks on planned policies, the
 * twin on live ones). Semantics of networking.k8s.io/v1 (kubernetes/api@v0.31.0 networking/v1/types.go
 * NetworkPolicySpec, NetworkPolicyPeer, NetworkPolicyPort; https://kubernetes.io/docs/concepts/services-networking/network-policies/):
 *
 * - a policy selects the pods of its own namespace that its podSelector matches (`{}`: all of them);
 * - a pod is isolated for ingress when some policy whose policyTypes include Ingress selects it (policyTypes
 *   unset: Ingress always, Egress when the policy has an `egress` section), for egress likewise;
 * - an isolated pod accepts what at least one rule of one of those policies admits (policies are additive, the
 *   order is irrelevant); a connection needs the source's egress AND the destination's ingress;
 * - a rule without `from`/`to` admits every peer, without `ports` every port; a peer with namespaceSelector and
 *   podSelector needs both (one element), two elements are either; a podSelector alone means the policy's namespace;
 * - a named port is the destination container's port of that name (and protocol); protocol defaults to TCP;
 *   `endPort` makes a range.
 *
 * Sources off the pod network: on OpenShift, a policy cannot select host-network pods, and traffic from the
 * host network (an IngressController with endpointPublishingStrategy HostNetwork, the default on every platform but
 * AWS, Azure, GCP, IBM Cloud and Alibaba: openshift/api@2a3d739 operator/v1/types_ingresscontroller.go:118-131,
 * 502-515; the API server) is matched by a namespaceSelector for `policy-group.network.openshift.io/host-network: ""`;
 * `policy-group.network.openshift.io/ingress: ""` matches the router whether it runs on the pod or the host network
 * (OpenShift 4.7 release notes, "Network policy supports selecting host network Ingress Controllers",
 * https://docs.redhat.com/en/documentation/openshift_container_platform/4.7/html/release_notes/ocp-4-7-release-notes).
 * Such a source is described here by the namespace labels it matches (`HOST_NETWORK_LABELS`), with no pod labels,
 * so only rules without a podSelector (or with `podSelector: {}`) can admit it. A source outside the cluster (a
 * load balancer's client) matches only a rule without `from` or an `ipBlock` containing its address.
 */

/** A label selector as the API spells it (matchLabels AND every expression; empty selects everything). */
export interface Selector {
  readonly matchLabels?: Readonly<Record<string, string>>;
  readonly matchExpressions?: readonly { readonly key: string; readonly operator: string; readonly values?: readonly string[] }[];
}

export interface PolicyPeer {
  readonly podSelector?: Selector;
  readonly namespaceSelector?: Selector;
  readonly ipBlock?: { readonly cidr: string; readonly except?: readonly string[] };
}

export interface PolicyPort {
  readonly protocol?: string;
  readonly port?: number | string;
  readonly endPort?: number;
}

export interface PolicyRule {
  readonly from?: readonly PolicyPeer[];
  readonly to?: readonly PolicyPeer[];
  readonly ports?: readonly PolicyPort[];
}

/** A NetworkPolicy: its name, namespace and spec as the API server stores it. */
export interface NetworkPolicy {
  readonly name: string;
  readonly namespace: string;
  readonly spec: {
    readonly podSelector?: Selector;
    readonly policyTypes?: readonly string[];
    readonly ingress?: readonly PolicyRule[];
    readonly egress?: readonly PolicyRule[];
  };
}

export interface ContainerPort {
  readonly name?: string;
  readonly containerPort: number;
  readonly protocol?: string;
}

/** A pod: where it runs, its labels, the ports its containers declare (for named ports). */
export interface PodEndpoint {
  readonly namespace: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly ports?: readonly ContainerPort[];
  /** Its address, for ipBlock rules on egress (unknown: no ipBlock matches). */
  readonly ip?: string;
}

/**
 * Where a connection comes from: a pod (its egress policies apply too), traffic that policies see as a namespace
 * without pods (the host network), or a client outside the cluster.
 */
export type Source =
  | { readonly kind: 'pod'; readonly pod: PodEndpoint; readonly namespaceLabels: Readonly<Record<string, string>> }
  | { readonly kind: 'namespace'; readonly namespace: string; readonly namespaceLabels: Readonly<Record<string, string>> }
  | { readonly kind: 'external'; readonly ip?: string };

/** The destination pod and its namespace's labels. */
export interface Destination {
  readonly pod: PodEndpoint;
  readonly namespaceLabels: Readonly<Record<string, string>>;
}

export interface Verdict {
  readonly allowed: boolean;
  /** `ingress`/`egress`: the side that denies; undefined when allowed. */
  readonly deniedBy?: 'ingress' | 'egress';
  /** The policies that isolate the side that decides (`namespace/name`), sorted; empty when no policy selects it. */
  readonly policies: string[];
  /** The policies with a rule that admits the connection (`namespace/name`), sorted. */
  readonly admittedBy: string[];
  /** A sentence: why it is allowed or denied. */
  readonly why: string;
}

/** The namespace labels traffic from the host network matches on OpenShift (see the module comment). */
export const HOST_NETWORK_LABELS: Readonly<Record<string, string>> = {
  'policy-group.network.openshift.io/host-network': '',
  'policy-group.network.openshift.io/ingress': '',
};

/**
 * The labels of the OpenShift router's namespace when it runs on the pod network (openshift-ingress):
 * the legacy `network.openshift.io/policy-group: ingress` and `policy-group.network.openshift.io/ingress: ""`
 * (OpenShift "About network policy", creating a policy that allows traffic from the router:
 * https://docs.redhat.com/en/documentation/openshift_container_platform/4.18/html/network_security/network-policy).
 */
export const ROUTER_NAMESPACE_LABELS: Readonly<Record<string, string>> = {
  'kubernetes.io/metadata.name': 'openshift-ingress',
  'network.openshift.io/policy-group': 'ingress',
  'policy-group.network.openshift.io/ingress': '',
};

/**
 * The labels of the monitoring namespaces (openshift-monitoring, openshift-user-workload-monitoring): user-workload
 * monitoring scrapes from openshift-user-workload-monitoring, admitted by `network.openshift.io/policy-group:
 * monitoring` (openshift/openshift-docs@0b60d86a modules/ossm-integrating-with-user-workload-monitoring.adoc, the
 * `user-workload-access` NetworkPolicy).
 */
export const USER_WORKLOAD_MONITORING_LABELS: Readonly<Record<string, string>> = {
  'kubernetes.io/metadata.name': 'openshift-user-workload-monitoring',
  'network.openshift.io/policy-group': 'monitoring',
};

/** Does a selector match the labels? `undefined` selector: matches nothing (absent); `{}`: everything. */
export function selectorMatches(sel: Selector | undefined, labels: Readonly<Record<string, string>>): boolean {
  if (!sel) return false;
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of sel.matchExpressions ?? []) {
    const has = Object.prototype.hasOwnProperty.call(labels, e.key);
    const values = e.values ?? [];
    switch (e.operator) {
      case 'In':
        if (!has || !values.includes(labels[e.key])) return false;
        break;
      case 'NotIn':
        if (has && values.includes(labels[e.key])) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
      default:
        // The API server refuses an unknown operator (metav1.LabelSelectorAsSelector): such a policy never exists.
        return false;
    }
  }
  return true;
}

/** The policy types a policy has: written, or Ingress plus Egress when it has an egress section (types.go PolicyTypes). */
export function policyTypes(p: NetworkPolicy): string[] {
  if (p.spec.policyTypes && p.spec.policyTypes.length) return [...p.spec.policyTypes];
  return p.spec.egress !== undefined ? ['Ingress', 'Egress'] : ['Ingress'];
}

function selects(p: NetworkPolicy, pod: PodEndpoint): boolean {
  return p.namespace === pod.namespace && selectorMatches(p.spec.podSelector ?? {}, pod.labels);
}

function ipv4(a: string): number | undefined {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(a);
  if (!m) return undefined;
  const parts = m.slice(1).map(Number);
  return parts.some((x) => x > 255) ? undefined : parts.reduce((n, x) => n * 256 + x, 0);
}

/** Is an IPv4 address inside a CIDR? (IPv6 addresses and blocks never match here.) */
export function inCidr(ip: string, cidr: string): boolean {
  const [net, bitsText] = cidr.split('/');
  const a = ipv4(ip);
  const n = ipv4(net);
  const bits = Number(bitsText ?? 32);
  if (a === undefined || n === undefined || !(bits >= 0 && bits <= 32)) return false;
  const size = 2 ** (32 - bits);
  return Math.floor(a / size) === Math.floor(n / size);
}

function inBlock(ip: string | undefined, block: NonNullable<PolicyPeer['ipBlock']>): boolean {
  return ip !== undefined && inCidr(ip, block.cidr) && !(block.except ?? []).some((e) => inCidr(ip, e));
}

/** Does an ingress peer admit the source? `policyNamespace`: where a podSelector alone looks. */
function peerAdmits(peer: PolicyPeer, source: Source, policyNamespace: string): boolean {
  if (peer.ipBlock) return source.kind === 'external' && inBlock(source.ip, peer.ipBlock);
  if (source.kind === 'external') return false;
  const nsOk = peer.namespaceSelector
    ? selectorMatches(peer.namespaceSelector, source.namespaceLabels)
    : (source.kind === 'pod' ? source.pod.namespace : source.namespace) === policyNamespace;
  if (!nsOk) return false;
  if (!peer.podSelector) return true;
  // Traffic with no pod (the host network) has no labels: only an empty podSelector matches it.
  return (
    selectorMatches(peer.podSelector, source.kind === 'pod' ? source.pod.labels : {}) &&
    (source.kind === 'pod' || isEmpty(peer.podSelector))
  );
}

function isEmpty(sel: Selector): boolean {
  return Object.keys(sel.matchLabels ?? {}).length === 0 && (sel.matchExpressions ?? []).length === 0;
}

/** The number a port means on the destination: itself, or the container port of that name and protocol. */
function resolvePort(port: number | string, protocol: string, dst: PodEndpoint): number | undefined {
  if (typeof port === 'number') return port;
  if (/^\d+$/.test(port)) return Number(port);
  return dst.ports?.find((p) => p.name === port && (p.protocol ?? 'TCP') === protocol)?.containerPort;
}

function portAdmits(rule: PolicyRule, port: number, protocol: string, dst: PodEndpoint): boolean {
  if (!rule.ports || rule.ports.length === 0) return true;
  return rule.ports.some((p) => {
    if ((p.protocol ?? 'TCP') !== protocol) return false;
    if (p.port === undefined) return true;
    const n = resolvePort(p.port, protocol, dst);
    if (n === undefined) return false;
    return p.endPort !== undefined && typeof p.port === 'number' ? port >= n && port <= p.endPort : port === n;
  });
}

function egressPeerAdmits(peer: PolicyPeer, dst: Destination, policyNamespace: string): boolean {
  if (peer.ipBlock) return inBlock(dst.pod.ip, peer.ipBlock);
  const nsOk = peer.namespaceSelector
    ? selectorMatches(peer.namespaceSelector, dst.namespaceLabels)
    : dst.pod.namespace === policyNamespace;
  return nsOk && (!peer.podSelector || selectorMatches(peer.podSelector, dst.pod.labels));
}

const key = (p: NetworkPolicy) => `${p.namespace}/${p.name}`;
const sorted = (xs: string[]) => [...new Set(xs)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));

/** The verdict when the source pod's own egress policies deny the connection; undefined when they let it out. */
function egressDenial(
  policies: readonly NetworkPolicy[],
  src: PodEndpoint,
  dst: Destination,
  port: number | string,
  protocol: string,
): Verdict | undefined {
  const number = resolvePort(port, protocol, dst.pod);
  const isolating = policies.filter((p) => selects(p, src) && policyTypes(p).includes('Egress'));
  if (isolating.length) {
    const admitting = isolating.filter((p) =>
      (p.spec.egress ?? []).some(
        (r) =>
          number !== undefined &&
          portAdmits(r, number, protocol, dst.pod) &&
          (!r.to || r.to.length === 0 || r.to.some((peer) => egressPeerAdmits(peer, dst, p.namespace))),
      ),
    );
    if (!admitting.length)
      return {
        allowed: false,
        deniedBy: 'egress',
        policies: sorted(isolating.map(key)),
        admittedBy: [],
        why:
          `egress of the source pod is isolated by ${sorted(isolating.map(key)).join(', ')} ` +
          `and no rule admits port ${String(port)}/${protocol} to it`,
      };
  }
  return undefined;
}

/**
 * Is a connection from `source` to `dst` on `port` (a number, or a name of one of the destination's container
 * ports) allowed by `policies`? Names the policies that isolate the deciding side and those that admit it.
 */
export function evaluate(
  policies: readonly NetworkPolicy[],
  source: Source,
  dst: Destination,
  port: number | string,
  protocol = 'TCP',
): Verdict {
  const number = resolvePort(port, protocol, dst.pod);
  const egress = source.kind === 'pod' ? egressDenial(policies, source.pod, dst, port, protocol) : undefined;
  if (egress) return egress;
  const isolating = policies.filter((p) => selects(p, dst.pod) && policyTypes(p).includes('Ingress'));
  if (!isolating.length)
    return { allowed: true, policies: [], admittedBy: [], why: 'no NetworkPolicy isolates the destination pod for ingress' };
  const admitting = isolating.filter((p) =>
    (p.spec.ingress ?? []).some(
      (r) =>
        number !== undefined &&
        portAdmits(r, number, protocol, dst.pod) &&
        (!r.from || r.from.length === 0 || r.from.some((peer) => peerAdmits(peer, source, p.namespace))),
    ),
  );
  const names = sorted(isolating.map(key));
  if (admitting.length)
    return {
      allowed: true,
      policies: names,
      admittedBy: sorted(admitting.map(key)),
      why: `admitted by ${sorted(admitting.map(key)).join(', ')}`,
    };
  return {
    allowed: false,
    deniedBy: 'ingress',
    policies: names,
    admittedBy: [],
    why:
      number === undefined
        ? `the destination pod declares no port named ${String(port)}, and it is isolated by ${names.join(', ')}`
        : `the destination pod is isolated by ${names.join(', ')} and no rule admits port ${number}/${protocol} from this source`,
  };
}

/** A NetworkPolicy read from a stored object (apiVersion networking.k8s.io/v1); undefined when it is not one. */
export function networkPolicyOf(o: {
  readonly kind?: unknown;
  readonly metadata?: unknown;
  readonly spec?: unknown;
}): NetworkPolicy | undefined {
  if (o.kind !== 'NetworkPolicy') return undefined;
  const meta = (o.metadata ?? {}) as { name?: string; namespace?: string };
  return { name: String(meta.name ?? ''), namespace: String(meta.namespace ?? ''), spec: (o.spec ?? {}) as NetworkPolicy['spec'] };
}
