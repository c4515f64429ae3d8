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
 * - request attributes (methods, paths, hosts, headers, requestPrincipals, ipBlocks, `when`) are not known for a flow
 *   between two workloads: a rule that needs one matches `some` of its requests. Ports are known when the flow has one.
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

/** Istio's string match: `*`, a leading `*` (suffix), a trailing `*` (prefix), else exact (matcher/string.go). */
export function stringMatches(pattern: string, value: string): boolean {
  if (pattern === '*') return value.length > 0;
  if (pattern.startsWith('*')) return value.endsWith(pattern.slice(1));
  if (pattern.endsWith('*')) return value.startsWith(pattern.slice(0, -1));
  return pattern === value;
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

/** One source of a rule against the caller. */
function sourceMatch(
  source: Readonly<Record<string, readonly string[] | undefined>> | undefined,
  p: AuthzPolicy,
  caller: AuthzCaller,
  mesh: AuthzMesh,
): Match {
  if (!source) return 'all';
  const id = caller.principal;
  const conds: Match[] = [];
  const field = (values: readonly string[], matches: (v: string) => boolean, negated: boolean) => {
    if (!values.length) return;
    const hit = id !== undefined && values.some(matches);
    conds.push(negated ? (hit ? 'none' : 'all') : hit ? 'all' : 'none');
  };
  const principal = (v: string) => expandPrincipal(v, mesh).some((x) => stringMatches(x, id!));
  field(list(source, 'principals'), principal, false);
  field(list(source, 'notPrincipals'), principal, true);
  field(list(source, 'namespaces'), (v) => namespaceMatches(v, id!), false);
  field(list(source, 'notNamespaces'), (v) => namespaceMatches(v, id!), true);
  if (mesh.flavour !== 'maistra') {
    field(list(source, 'serviceAccounts'), (v) => serviceAccountMatches(v, p.namespace, id!), false);
    field(list(source, 'notServiceAccounts'), (v) => serviceAccountMatches(v, p.namespace, id!), true);
  }
  // Attributes of the request or the connection's address: unknown for a flow between workloads.
  for (const k of ['requestPrincipals', 'notRequestPrincipals', 'ipBlocks', 'notIpBlocks', 'remoteIpBlocks', 'notRemoteIpBlocks'])
    if (list(source, k).length) conds.push('some');
  return and(conds);
}

function operationMatch(op: Readonly<Record<string, readonly string[] | undefined>> | undefined, caller: AuthzCaller): Match {
  if (!op) return 'all';
  const conds: Match[] = [];
  const port = caller.port;
  const ports = list(op, 'ports');
  const notPorts = list(op, 'notPorts');
  if (ports.length) conds.push(port === undefined ? 'some' : ports.includes(String(port)) ? 'all' : 'none');
  if (notPorts.length) conds.push(port === undefined ? 'some' : notPorts.includes(String(port)) ? 'none' : 'all');
  for (const k of ['hosts', 'notHosts', 'methods', 'notMethods', 'paths', 'notPaths']) if (list(op, k).length) conds.push('some');
  return and(conds);
}

/** How much of the caller's traffic a rule matches. */
export function ruleMatch(rule: AuthzRule, p: AuthzPolicy, caller: AuthzCaller, mesh: AuthzMesh): Match {
  const from = rule.from?.length ? or(rule.from.map((f) => sourceMatch(f.source, p, caller, mesh))) : 'all';
  const to = rule.to?.length ? or(rule.to.map((t) => operationMatch(t.operation, caller))) : 'all';
  const when: Match = rule.when?.length ? 'some' : 'all';
  return and([from, to, when]);
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
