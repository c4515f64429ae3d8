/**
 * An Istio AuthorizationPolicy evaluator: may a caller (a SPIFFE identity, or a plaintext client) reach a workload,
 * and which policies decide? Pure data in, a verdict out; the checks judge planned policies with it, the twin live
 * ones. Semantics of Istio 1.27 (istio/istio@1.27.3), the same in Maistra 2.5/2.6 except where marked:
 *
 * - which policies apply to a workload: those of the root namespace (meshConfig.rootNamespace, the control plane's
 *   namespace by default) and of the workload's namespace, whose `selector.matchLabels` is a subset of the workload's
 *   labels, or who have no selector (pilot/pkg/model/authorization.go:84-113 ListAuthorizationPolicies,
 *   pilot/pkg/model/policyattachment.go:109-112 isSelected). A policy with `targetRef`/`targetRefs` is ignored by
 *   every workload that is not a Gateway API gateway (policyattachment.go:130-136); for a Gateway API gateway's pods
 *   (label gateway.networking.k8s.io/gateway-name) a targetRef of kind Gateway and that name in its namespace
 *   attaches, a selector-only policy does not (EnableSelectorBasedK8sGatewayPolicy is on by default, so it does:
 *   :138-147). Maistra 2.5 has no targetRef (maistra/istio@maistra-2.5 pilot/pkg/model/authorization.go).
 * - order: CUSTOM (its own filter, first), then DENY, then ALLOW (pilot/pkg/security/authz/builder/builder.go:110-136). A request a DENY
 *   policy matches is denied; when ALLOW policies apply, only a request one of them matches is allowed; with none, all
 *   are. A policy whose `rules` is empty never matches (builder.go:228-233 rbacPolicyMatchNever): an empty ALLOW
 *   policy denies everything, an empty DENY denies nothing. A policy annotated `istio.io/dry-run: "true"` only logs
 *   (builder.go:189-197: shadow rules).
 * - a rule matches when its `from`, `to` and `when` all match; `from`: any source; a source: every field it sets;
 *   a field: any value, a not-field: none (pilot/pkg/security/authz/model/model.go:78-140, permission/principal.go).
 * - principals / notPrincipals: `*`, `prefix*`, `*suffix` or exact on `<trust domain>/ns/<ns>/sa/<sa>`
 *   (model/generator.go:221-223, matcher/string.go StringMatcherWithPrefix), after trust-domain alias expansion
 *   (see `expandPrincipal`); namespaces / notNamespaces: the regex `.*\/ns/<value, * → .*>/.*` on the identity
 *   (generator.go:178-181); serviceAccounts / notServiceAccounts (1.27, not in Maistra 2.6): `<ns>/<sa>` or `<sa>` in
 *   the policy's namespace (generator.go:192-212). All three need mTLS: a plaintext caller has no identity, so
 *   they never match it and their not-forms always do (principalAuthenticated).
 * - `when`: each condition ANDs with the rule's sources (model.go:82-126: `when` conditions go into every `from`'s
 *   principal list). `source.principal`, `source.namespace` and (1.27 only) `source.serviceAccount` use the same
 *   generators as principals, namespaces and serviceAccounts, and `source.principal` values and notValues get the same
 *   trust-domain alias expansion (model.go:85-118, 150-167 MigrateTrustDomain; maistra/istio@maistra-2.6
 *   pilot/pkg/security/authz/model/model.go:81-113, 147-160 the same, without source.serviceAccount), so they are
 *   judged exactly; `destination.port` when the flow's port is known. A key Istio does not know (source.serviceAccount
 *   in Maistra) makes it skip the rule ("unknown attribute", model.go:119-121; builder.go:208-212): it never matches.
 * - request attributes (methods, paths, hosts, headers, requestPrincipals, ipBlocks, SNI, `request.*` and IP `when`
 *   keys) are not known for a flow between two workloads: a rule that needs one matches `some` of its requests. Ports
 *   are known when the flow has one.
 * - a TCP flow (the server's port speaks a non-HTTP protocol, `AuthzCaller.tcp`): the HTTP-only fields (methods, paths,
 *   hosts, requestPrincipals, `request.headers` / `request.auth.*` keys) cannot be generated for the network RBAC
 *   filter (generator.go forTCP errors). In an ALLOW policy that error drops the whole rule; in DENY, AUDIT and
 *   CUSTOM it drops only the condition, so the rule matches more (model.go:344-354 checkError; builder.go:218-221).
 */
import { compareStrings } from './sort';

/** An AuthorizationPolicy as stored: name, namespace, its dry-run annotation and its spec. */
export interface AuthzPolicy {
  readonly name: string;
  readonly namespace: string;
  readonly dryRun?: boolean;
  readonly spec: {
    readonly action?: string;
    readonly selector?: { readonly matchLabels?: Readonly<Record<string, string>> };
    readonly targetRef?: TargetRef;
    readonly targetRefs?: readonly TargetRef[];
    readonly rules?: readonly AuthzRule[];
  };
}

export interface TargetRef {
  readonly group?: string;
  readonly kind?: string;
  readonly name?: string;
  readonly namespace?: string;
}

export interface AuthzRule {
  readonly from?: readonly { readonly source?: Readonly<Record<string, readonly string[] | undefined>> }[];
  readonly to?: readonly { readonly operation?: Readonly<Record<string, readonly string[] | undefined>> }[];
  readonly when?: readonly unknown[];
}

/** One `when` condition (istio/api security/v1beta1 Condition). */
interface AuthzCondition {
  readonly key?: string;
  readonly values?: readonly string[];
  readonly notValues?: readonly string[];
}

/** The workload a request reaches: its namespace and pod labels. */
export interface AuthzTarget {
  readonly namespace: string;
  readonly labels: Readonly<Record<string, string>>;
}

/** Who calls: its identity `<trust domain>/ns/<ns>/sa/<sa>` (no `spiffe://`), none for a plaintext client. */
export interface AuthzCaller {
  readonly principal?: string;
  /** The destination port, when known. */
  readonly port?: number;
  /** The server's port speaks a non-HTTP protocol (TCP, TLS, ...): Istio's network RBAC filter judges it. */
  readonly tcp?: boolean;
}

/** What the server's control plane knows: its root namespace and its trust domain bundle. */
export interface AuthzMesh {
  readonly rootNamespace: string;
  readonly trustDomain: string;
  readonly trustDomainAliases?: readonly string[];
  /** Istio 1.27 (serviceAccounts, targetRef) or Maistra 2.x (neither). @default 'istio' */
  readonly flavour?: 'istio' | 'maistra';
}

/** How much of a flow's traffic a condition covers. */
export type Match = 'all' | 'some' | 'none';

export interface AuthzVerdict {
  /** `allowed`: every request; `partial`: some (request attributes decide); `denied`: none. */
  readonly outcome: 'allowed' | 'partial' | 'denied';
  /** The policies that decide (`namespace/name`): the DENY ones that match, or the ALLOW ones that apply. */
  readonly policies: string[];
  readonly why: string;
}

const and = (xs: Match[]): Match => (xs.includes('none') ? 'none' : xs.every((x) => x === 'all') ? 'all' : 'some');
const or = (xs: Match[]): Match => (xs.includes('all') ? 'all' : xs.every((x) => x === 'none') ? 'none' : 'some');

/**
 * Whether a pod presents an identity a policy could match: a caller's identity is its proxy's workload certificate, so
 * a pod without a proxy has none (a policy naming principals never matches it). It runs a proxy unless its template opts
 * out of injection (`sidecar.istio.io/inject` "false", label else annotation, as istiod's, Grafana's, Kiali's and the
 * hook Jobs' do: maistra/istio-operator@8143614c resources/helm/v2.5/istio-control/istio-discovery/templates/
 * deployment.yaml:41,59) without running an istio-proxy container itself (a gateway does: same repository,
 * gateways/istio-ingress/templates/deployment.yaml), or uses the host network (never injected). The check reads dumped
 * workloads with it (lib/check/own-identities.ts), the twin its running pods (lib/twin/authz-flows.ts).
 */
export function presentsIdentity(pod: {
  readonly proxyContainer: boolean;
  readonly sidecarInject: string;
  readonly hostNetwork: boolean;
}): boolean {
  return !pod.hostNetwork && (pod.proxyContainer || pod.sidecarInject.toLowerCase() !== 'false');
}

/** Istio's string match: `*`, a leading `*` (suffix), a trailing `*` (prefix), else exact (matcher/string.go). */
export function stringMatches(pattern: string, value: string): boolean {
  if (pattern === '*') return value.length > 0;
  if (pattern.startsWith('*')) return value.endsWith(pattern.slice(1));
  if (pattern.endsWith('*')) return value.startsWith(pattern.slice(0, -1));
  return pattern === value;
}

/**
 * Istio's match of a principal value against an identity (generator.go:221-223 srcPrincipalGenerator, through
 * matcher/string.go:97-116 StringMatcherWithPrefix with the prefix `spiffe://`): `*` is the regex `.+`; `prefix*` a
 * prefix match on `spiffe://prefix`; `*suffix` the regex `spiffe://.*suffix`, unescaped and matched in full (Envoy
 * safe_regex), so a `.` in it matches any character: `*.local/ns/a/sa/b` matches `east-local/ns/a/sa/b` too; else exact.
 */
export function principalMatches(pattern: string, principal: string): boolean {
  if (pattern === '*') return principal.length > 0;
  if (pattern.startsWith('*')) {
    try {
      return new RegExp(`^(?:spiffe://.*${pattern.slice(1)})$`).test(`spiffe://${principal}`);
    } catch {
      return principal.endsWith(pattern.slice(1)); // not a regex JavaScript reads: Envoy's RE2 may; the plain suffix
    }
  }
  return stringMatches(pattern, principal);
}

/** trustdomain/util.go:23-31 stringMatch: the pattern may be on either side. */
function tdListMatch(a: string, list: readonly string[]): boolean {
  const prefix = (s: string, p: string) => p.endsWith('*') && s.startsWith(p.slice(0, -1));
  const suffix = (s: string, p: string) => p.startsWith('*') && s.endsWith(p.slice(1));
  return list.some((s) => a === s || s === '*' || prefix(a, s) || prefix(s, a) || suffix(a, s) || suffix(s, a));
}

/**
 * The principals a policy value stands for under a trust domain bundle (istio/istio@1.27.3
 * pilot/pkg/security/trustdomain/bundle.go:53-127 ReplaceTrustDomainAliases, the same in maistra/istio@maistra-2.5):
 * a value of exactly five `/`-parts whose trust domain is not `*` and is in the bundle (wildcards either side) or is
 * `cluster.local` becomes one value per trust domain of the bundle; any other value (`td/*`, `*\/ns/x/sa/y`) is kept.
 */
export function expandPrincipal(value: string, mesh: AuthzMesh): string[] {
  const parts = value.split('/');
  if (parts.length !== 5 || parts[0] === '*') return [value];
  const bundle = [mesh.trustDomain, ...(mesh.trustDomainAliases ?? [])];
  const td = parts[0];
  if (!(tdListMatch(td, bundle) || td === 'cluster.local')) return [value];
  const out: string[] = [];
  for (const t of bundle) {
    const v = td.startsWith('*') && t.endsWith(td.slice(1)) ? value : [t, ...parts.slice(1)].join('/');
    if (!out.includes(v)) out.push(v);
  }
  return out;
}

const list = (o: Readonly<Record<string, readonly string[] | undefined>> | undefined, k: string) => o?.[k] ?? [];

/** Does a namespace value match an identity (generator.go:178-181, a full regex match on the SPIFFE URI)? */
function namespaceMatches(value: string, principal: string): boolean {
  const ns = value.split('*').map(escapeRegex).join('.*');
  return new RegExp(`^.*/ns/${ns}/.*$`).test(`spiffe://${principal}`);
}

/** serviceAccounts (generator.go:198-212): `<ns>/<sa>` or `<sa>` (the policy's namespace). */
function serviceAccountMatches(value: string, policyNamespace: string, principal: string): boolean {
  const [ns, sa] = value.includes('/') ? value.split('/', 2) : [policyNamespace, value];
  return new RegExp(`^spiffe://.+/ns/${escapeRegex(ns)}/(.+/|)sa/${escapeRegex(sa)}(/.+)?$`).test(`spiffe://${principal}`);
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** What judging one rule needs: the policy, the caller, the mesh, and whether a TCP filter chain dropped the rule. */
interface RuleContext {
  readonly p: AuthzPolicy;
  readonly caller: AuthzCaller;
  readonly mesh: AuthzMesh;
  /** An ALLOW rule with an HTTP-only field on a TCP flow (checkError): Istio skips the whole rule. */
  dropped: boolean;
  /** A `when` key Istio does not know: it skips the rule ("unknown attribute"). */
  unknown: boolean;
}

/**
 * A condition that needs the HTTP request: `some` on HTTP; on TCP, an ALLOW rule is dropped and a DENY / AUDIT /
 * CUSTOM rule ignores the condition (model.go:344-354 checkError).
 */
function httpOnly(c: RuleContext): Match {
  if (!c.caller.tcp) return 'some';
  if (actionOf(c.p) === 'ALLOW') c.dropped = true;
  return 'all';
}

/** An identity condition: any of `values` matches, none of `notValues` does; a plaintext caller matches no value. */
function identityCondition(
  c: RuleContext,
  values: readonly string[],
  notValues: readonly string[],
  matches: (v: string) => boolean,
): Match[] {
  const id = c.caller.principal;
  const hit = (vs: readonly string[]) => id !== undefined && vs.some(matches);
  return [
    ...(values.length ? [hit(values) ? 'all' : 'none'] : []),
    ...(notValues.length ? [hit(notValues) ? 'none' : 'all'] : []),
  ] as Match[];
}

/** The per-kind matchers of the identity fields, shared by `from` sources and `when` keys (the same generators). */
function identityMatchers(c: RuleContext) {
  const id = c.caller.principal!;
  return {
    principal: (v: string) => expandPrincipal(v, c.mesh).some((x) => principalMatches(x, id)),
    namespace: (v: string) => namespaceMatches(v, id),
    serviceAccount: (v: string) => serviceAccountMatches(v, c.p.namespace, id),
  };
}

/** One source of a rule against the caller. */
function sourceMatch(source: Readonly<Record<string, readonly string[] | undefined>> | undefined, c: RuleContext): Match {
  if (!source) return 'all';
  const m = identityMatchers(c);
  const conds: Match[] = [
    ...identityCondition(c, list(source, 'principals'), list(source, 'notPrincipals'), m.principal),
    ...identityCondition(c, list(source, 'namespaces'), list(source, 'notNamespaces'), m.namespace),
  ];
  if (c.mesh.flavour !== 'maistra')
    conds.push(...identityCondition(c, list(source, 'serviceAccounts'), list(source, 'notServiceAccounts'), m.serviceAccount));
  for (const k of ['requestPrincipals', 'notRequestPrincipals']) if (list(source, k).length) conds.push(httpOnly(c));
  // The connection's address: unknown for a flow between workloads.
  for (const k of ['ipBlocks', 'notIpBlocks', 'remoteIpBlocks', 'notRemoteIpBlocks']) if (list(source, k).length) conds.push('some');
  return and(conds);
}

/** A port condition: known when the flow's port is. */
function portCondition(values: readonly string[], notValues: readonly string[], port: number | undefined): Match[] {
  const out: Match[] = [];
  if (values.length) out.push(port === undefined ? 'some' : values.includes(String(port)) ? 'all' : 'none');
  if (notValues.length) out.push(port === undefined ? 'some' : notValues.includes(String(port)) ? 'none' : 'all');
  return out;
}

function operationMatch(op: Readonly<Record<string, readonly string[] | undefined>> | undefined, c: RuleContext): Match {
  if (!op) return 'all';
  const conds: Match[] = portCondition(list(op, 'ports'), list(op, 'notPorts'), c.caller.port);
  for (const k of ['hosts', 'notHosts', 'methods', 'notMethods', 'paths', 'notPaths']) if (list(op, k).length) conds.push(httpOnly(c));
  return and(conds);
}

/** The `when` keys Istio reads (model.go:82-121), by what a flow between workloads knows of them. */
function conditionMatch(w: AuthzCondition, c: RuleContext): Match[] {
  const key = String(w.key ?? '');
  const values = (w.values ?? []).map(String);
  const notValues = (w.notValues ?? []).map(String);
  if (!values.length && !notValues.length) return []; // appendLast skips it
  const m = identityMatchers(c);
  if (key === 'source.principal') return identityCondition(c, values, notValues, m.principal);
  if (key === 'source.namespace') return identityCondition(c, values, notValues, m.namespace);
  if (key === 'source.serviceAccount' && c.mesh.flavour !== 'maistra') return identityCondition(c, values, notValues, m.serviceAccount);
  if (key === 'destination.port') return portCondition(values, notValues, c.caller.port);
  if (['request.auth.principal', 'request.auth.audiences', 'request.auth.presenter'].includes(key)) return [httpOnly(c)];
  if (key.startsWith('request.headers') || key.startsWith('request.auth.claims')) return [httpOnly(c)];
  if (['source.ip', 'remote.ip', 'destination.ip', 'connection.sni'].includes(key) || key.startsWith('experimental.envoy.filters.'))
    return ['some'];
  c.unknown = true;
  return [];
}

/** How much of the caller's traffic a rule matches. */
export function ruleMatch(rule: AuthzRule, p: AuthzPolicy, caller: AuthzCaller, mesh: AuthzMesh): Match {
  const c: RuleContext = { p, caller, mesh, dropped: false, unknown: false };
  // Every entry is judged (no short cut): an HTTP-only field anywhere drops an ALLOW rule on TCP.
  const froms = (rule.from ?? []).map((f) => sourceMatch(f?.source, c));
  const tos = (rule.to ?? []).map((t) => operationMatch(t?.operation, c));
  const when = (rule.when ?? []).flatMap((w) => conditionMatch((w ?? {}) as AuthzCondition, c));
  if (c.dropped || c.unknown) return 'none';
  return and([froms.length ? or(froms) : 'all', tos.length ? or(tos) : 'all', ...when]);
}

/** How much of the caller's traffic a policy matches: any rule; none without rules (builder.go:228-233). */
export function policyMatch(p: AuthzPolicy, caller: AuthzCaller, mesh: AuthzMesh): Match {
  return or((p.spec.rules ?? []).map((r) => ruleMatch(r ?? {}, p, caller, mesh)));
}

const GATEWAY_NAME_LABEL = 'gateway.networking.k8s.io/gateway-name';

/** Does the policy apply to the workload (policyattachment.go:123-200, authorization.go:84-113)? */
export function applies(p: AuthzPolicy, target: AuthzTarget, mesh: AuthzMesh): boolean {
  if (p.dryRun) return false;
  if (p.namespace !== mesh.rootNamespace && p.namespace !== target.namespace) return false;
  const refs = p.spec.targetRefs?.length ? p.spec.targetRefs : p.spec.targetRef ? [p.spec.targetRef] : [];
  const selected = () => Object.entries(p.spec.selector?.matchLabels ?? {}).every(([k, v]) => target.labels[k] === v);
  if (mesh.flavour === 'maistra') return selected();
  const gateway = target.labels[GATEWAY_NAME_LABEL];
  if (gateway === undefined) return refs.length === 0 && selected();
  if (refs.length === 0) return selected();
  return refs.some(
    (r) =>
      p.namespace === target.namespace &&
      (r.namespace === undefined || r.namespace === '' || r.namespace === target.namespace) &&
      r.kind === 'Gateway' &&
      (r.group ?? 'gateway.networking.k8s.io') === 'gateway.networking.k8s.io' &&
      r.name === gateway,
  );
}

const key = (p: AuthzPolicy) => `${p.namespace}/${p.name}`;
const sortedKeys = (ps: AuthzPolicy[]) => [...new Set(ps.map(key))].sort(compareStrings);
const actionOf = (p: AuthzPolicy) => p.spec.action ?? 'ALLOW';

/**
 * May `caller` reach `target` under `policies`? CUSTOM policies that match make the outcome `partial` (the external
 * authorizer decides); DENY before ALLOW; AUDIT decides nothing.
 */
export function authorize(policies: readonly AuthzPolicy[], target: AuthzTarget, caller: AuthzCaller, mesh: AuthzMesh): AuthzVerdict {
  const on = policies.filter((p) => applies(p, target, mesh));
  const byAction = (a: string) => on.filter((p) => actionOf(p) === a);
  const custom = byAction('CUSTOM').filter((p) => policyMatch(p, caller, mesh) !== 'none');
  const denies = byAction('DENY').map((p) => ({ p, m: policyMatch(p, caller, mesh) }));
  const fullDeny = denies.filter((d) => d.m === 'all').map((d) => d.p);
  if (fullDeny.length)
    return { outcome: 'denied', policies: sortedKeys(fullDeny), why: `DENY ${sortedKeys(fullDeny).join(', ')} matches it` };
  const partDeny = denies.filter((d) => d.m === 'some').map((d) => d.p);
  const allows = byAction('ALLOW');
  const allowMatch = allows.length ? or(allows.map((p) => policyMatch(p, caller, mesh))) : 'all';
  if (allowMatch === 'none')
    return {
      outcome: 'denied',
      policies: sortedKeys(allows),
      why: `ALLOW ${sortedKeys(allows).join(', ')} ${allows.length > 1 ? 'apply' : 'applies'} to it and none matches it`,
    };
  const admitting = allows.filter((p) => policyMatch(p, caller, mesh) !== 'none');
  if (allowMatch === 'all' && !partDeny.length && !custom.length)
    return {
      outcome: 'allowed',
      policies: sortedKeys(admitting),
      why: allows.length ? `ALLOW ${sortedKeys(admitting).join(', ')} matches it` : 'no ALLOW policy applies and no DENY matches',
    };
  const reasons = [
    ...(custom.length ? [`CUSTOM ${sortedKeys(custom).join(', ')} delegates it`] : []),
    ...(partDeny.length ? [`DENY ${sortedKeys(partDeny).join(', ')} matches some requests`] : []),
    ...(allowMatch === 'some' ? [`ALLOW ${sortedKeys(admitting).join(', ')} matches some requests`] : []),
  ];
  return { outcome: 'partial', policies: sortedKeys([...custom, ...partDeny, ...admitting]), why: reasons.join('; ') };
}

/** An AuthorizationPolicy read from a stored object (security.istio.io); undefined when it is not one. */
export function authzPolicyOf(o: {
  readonly kind?: unknown;
  readonly apiVersion?: unknown;
  readonly metadata?: unknown;
  readonly spec?: unknown;
}): AuthzPolicy | undefined {
  if (o.kind !== 'AuthorizationPolicy' || !String(o.apiVersion ?? '').startsWith('security.istio.io/')) return undefined;
  const meta = (o.metadata ?? {}) as { name?: unknown; namespace?: unknown; annotations?: Record<string, unknown> };
  return {
    name: String(meta.name ?? ''),
    namespace: String(meta.namespace ?? ''),
    dryRun: meta.annotations?.['istio.io/dry-run'] === 'true',
    spec: (o.spec ?? {}) as AuthzPolicy['spec'],
  };
}
