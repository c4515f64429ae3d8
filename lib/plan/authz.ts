import { ref } from './api-versions';
import { principalMatches } from '../authz';
import { Contribute, Patch, Resource } from './types';
import { Diagnostics } from '../diagnostics';
import { JsonObject } from '../json';
import { AuthorizationPolicyObj } from '../load/inventory-types';
import { SourceObject } from '../load/yaml-source';
import { ModelIndex } from '../model/model-index';
import { dnsLabel, uniqSorted } from '../model/names';
import { Mesh } from '../model/types';

const AP_API = 'security.istio.io/v1';

/**
 * A value of a policy source that matches one or more federation ingress gateways: in principals or
 * namespaces (the source admits, or with DENY denies, the gateway) or in notPrincipals / notNamespaces
 * (a DENY rule exempts it).
 */
export interface GatewayReference {
  readonly value: string;
  readonly field: 'principal' | 'namespace';
  readonly negated: boolean;
  readonly path: (string | number)[];
  /** The peers whose gateway identity it matches (sorted). */
  readonly peers: string[];
  /** It names a gateway's identity exactly (its trust domain or cluster.local): dropped in 04. */
  readonly exact: boolean;
}

/** How one of the exporter's AuthorizationPolicies must change when its callers stop arriving through the federation ingress gateway. */
export interface PolicyMigration {
  readonly policy: AuthorizationPolicyObj;
  readonly references: GatewayReference[];
  /** The real callers (principals) that stand in for each peer's gateway. */
  readonly callers: Record<string, string[]>;
  /** Peers whose calling namespaces are not known (exportTo "*"): the whole trust domain is admitted. */
  readonly unknownCallers: string[];
}

/**
 * Istio's string match for AuthorizationPolicy values: "*" matches anything, a leading "*" is a suffix
 * match, a trailing one a prefix match, anything else is exact (istio/istio
 * pilot/pkg/security/authz/matcher/string.go, StringMatcherWithPrefix). So `*\/ns/istio-system/sa/*` is a
 * suffix match on a literal "*" and matches no real service account.
 */
export function istioMatches(pattern: string, value: string): boolean {
  if (pattern === '*') return value.length > 0;
  if (pattern.startsWith('*')) return value.endsWith(pattern.slice(1));
  if (pattern.endsWith('*')) return value.startsWith(pattern.slice(0, -1));
  return pattern === value;
}

interface GatewayIdentity {
  readonly peer: string;
  readonly principal: string;
  /** `cluster.local/…`: Istio reads the trust domain cluster.local as the local one and its aliases. */
  readonly alias: string;
}

/** The identity of a mesh's federation ingress gateway for each peer, as its services saw callers. */
function gatewayIdentities(ctx: ModelIndex, mesh: Mesh): GatewayIdentity[] {
  return ctx.linksOf(mesh.cluster).map((l) => {
    const path = `ns/${mesh.controlPlane.namespace}/sa/${l.peer.ingressGateway}-service-account`;
    return { peer: l.remote, principal: `${mesh.trustDomain}/${path}`, alias: `cluster.local/${path}` };
  });
}

/**
 * Callers of `peer` that reach services of `mesh` in `namespace`: the namespaces the peer made its
 * imports visible to (ServiceEntry exportTo), or the peer's whole trust domain when that is "*".
 */
function callersFrom(ctx: ModelIndex, mesh: Mesh, peer: string, namespace: string): { principals: string[]; unknown: boolean } {
  const imports = ctx.importsFrom(mesh.cluster).filter((i) => i.importer === peer && i.export.service.namespace === namespace);
  if (imports.length === 0) return { principals: [], unknown: false };
  const named = mesh.settings.exposure.callers[peer];
  if (named) return { principals: uniqSorted(named), unknown: false };
  const p = ctx.mesh(peer);
  const ns = p.importExportTo.filter((n) => n !== '.');
  if (ns.includes('*') || ns.length === 0) return { principals: [`${p.trustDomain}/*`], unknown: true };
  return { principals: ns.map((n) => `${p.trustDomain}/ns/${n}/sa/*`), unknown: false };
}

/** The gateways a source value matches (the trust domain alias cluster.local included, Istio's wildcards). */
function referenceOf(
  v: AuthorizationPolicyObj['principals'][number],
  gateways: GatewayIdentity[],
  cpNamespace: string,
): GatewayReference | undefined {
  const matched =
    v.field === 'namespace'
      ? istioMatches(v.value, cpNamespace)
        ? gateways
        : []
      : gateways.filter((g) => principalMatches(v.value, g.principal) || principalMatches(v.value, g.alias));
  if (matched.length === 0) return undefined;
  const exact = v.field === 'principal' && matched.some((g) => v.value === g.principal || v.value === g.alias);
  return { value: v.value, field: v.field, negated: v.negated, path: v.path, peers: uniqSorted(matched.map((g) => g.peer)), exact };
}

export function policyMigrations(ctx: ModelIndex, mesh: Mesh): PolicyMigration[] {
  const gateways = gatewayIdentities(ctx, mesh);
  const out: PolicyMigration[] = [];
  for (const ap of mesh.inventory.authorizationPolicies) {
    const references = ap.principals.flatMap((v) => referenceOf(v, gateways, mesh.controlPlane.namespace) ?? []);
    if (references.length === 0) continue;
    const callers: Record<string, string[]> = {};
    const unknown: string[] = [];
    for (const peer of uniqSorted(references.flatMap((r) => r.peers))) {
      const c = callersFrom(ctx, mesh, peer, ap.namespace);
      callers[peer] = c.principals;
      if (c.unknown) unknown.push(peer);
    }
    out.push({ policy: ap, references, callers, unknownCallers: uniqSorted(unknown) });
  }
  return out;
}

/**
 * spec.rules of a policy where every source that matches a federation ingress gateway matches its real
 * callers too (`keepGateway` false: and no longer names a gateway exactly). A principals list (ALLOW
 * admits, DENY denies) gets the callers; a namespaces match becomes an extra `from` with the same source
 * but the callers' principals instead of namespaces (fields of one source are ANDed, `from` entries ORed);
 * an exemption (notPrincipals / notNamespaces of a DENY) gets the callers in notPrincipals, which ANDs
 * with the rest: denied unless any exemption holds.
 *
 * A `when` condition is rewritten in the same form. Istio puts `when: source.principal` and `source.namespace`
 * through the same generators as `principals` / `namespaces` and ANDs every condition with each `from`
 * (istio/istio@1.27.3 pilot/pkg/security/authz/model/model.go:85-118, 124-136; the alias expansion of
 * source.principal, :150-167, covers the `when` values too), so: `source.principal` values / notValues get the
 * callers in the same list; a `source.namespace` notValues exemption gets a `source.principal` notValues condition
 * with the callers next to it (ANDed: matched unless any exemption holds); a `source.namespace` values match, which
 * cannot hold principals, gets a copy of the rule with that condition replaced by `source.principal` values of the
 * callers (rules are ORed: builder.go:202-228), as a namespaces match gets an extra `from`.
 */
function rewriteRules(m: PolicyMigration, keepGateway: boolean): JsonObject[] {
  const rules = JSON.parse(JSON.stringify((m.policy.source.value.spec as JsonObject | undefined)?.rules ?? [])) as JsonObject[];
  const at = (path: (string | number)[]) => `${path[2]}/${path[3]}/${path[4]}`; // spec.rules[i].from[j] or .when[k]
  const refs = new Map<string, GatewayReference[]>();
  for (const r of m.references) refs.set(at(r.path), [...(refs.get(at(r.path)) ?? []), r]);
  const callersOf = (rs: GatewayReference[]) => uniqSorted(rs.flatMap((r) => r.peers.flatMap((p) => m.callers[p] ?? [])));
  const byField = (here: GatewayReference[], field: GatewayReference['field'], negated: boolean) =>
    here.filter((r) => r.field === field && r.negated === negated);
  // An empty list would match every principal: keep the gateway's (which nobody presents any more) instead.
  const dropExact = (values: unknown, here: GatewayReference[], added: string[]) => {
    const all = Array.isArray(values) ? (values as string[]) : [];
    const kept = all.filter((v) => keepGateway || !here.some((r) => r.exact && r.value === v));
    return kept.length || added.length ? kept : all;
  };
  const copies: JsonObject[] = [];
  rules.forEach((rule, i) => {
    const froms = (rule.from as JsonObject[] | undefined) ?? [];
    const extra: JsonObject[] = [];
    froms.forEach((from, j) => {
      const here = refs.get(`${i}/from/${j}`) ?? [];
      if (here.length === 0) return;
      const source = (from.source ?? {}) as Record<string, unknown>;
      const admitted = callersOf(byField(here, 'principal', false));
      if (byField(here, 'principal', false).length)
        source.principals = uniqSorted([...dropExact(source.principals, here, admitted), ...admitted]);
      const exempted = [...byField(here, 'principal', true), ...byField(here, 'namespace', true)];
      const exemptedCallers = callersOf(exempted);
      if (exempted.length)
        source.notPrincipals = uniqSorted([...dropExact(source.notPrincipals, here, exemptedCallers), ...exemptedCallers]);
      const namespaces = byField(here, 'namespace', false);
      if (namespaces.length) {
        const { namespaces: _ns, ...rest } = source;
        extra.push({ source: { ...rest, principals: callersOf(namespaces) } as JsonObject });
      }
    });
    if (extra.length) rule.from = [...froms, ...extra];
    const whens = (rule.when as JsonObject[] | undefined) ?? [];
    const exemptions: string[] = [];
    const namespaceMatches = new Map<number, string[]>();
    whens.forEach((cond, k) => {
      const here = refs.get(`${i}/when/${k}`) ?? [];
      if (here.length === 0) return;
      const admitted = callersOf(byField(here, 'principal', false));
      if (byField(here, 'principal', false).length) cond.values = uniqSorted([...dropExact(cond.values, here, admitted), ...admitted]);
      const exempted = callersOf(byField(here, 'principal', true));
      if (byField(here, 'principal', true).length) cond.notValues = uniqSorted([...dropExact(cond.notValues, here, exempted), ...exempted]);
      exemptions.push(...callersOf(byField(here, 'namespace', true)));
      const namespaces = byField(here, 'namespace', false);
      if (namespaces.length) namespaceMatches.set(k, callersOf(namespaces));
    });
    if (exemptions.length) rule.when = [...whens, { key: 'source.principal', notValues: uniqSorted(exemptions) }];
    if (namespaceMatches.size) {
      const copy = JSON.parse(JSON.stringify(rule)) as JsonObject;
      copy.when = (copy.when as JsonObject[]).map((cond, k) =>
        namespaceMatches.has(k) ? { key: 'source.principal', values: namespaceMatches.get(k)! } : cond,
      );
      copies.push(copy);
    }
  });
  return [...rules, ...copies];
}

/**
 * The rendered change: the policy is adopted in 00 (as it runs), gains the real callers next to the
 * gateway principal in 02 (before any importer's 03 sends real identities), and loses the gateway
 * principal in 04 (the gateway is gone).
 */
function planPolicies(ctx: ModelIndex, mesh: Mesh): { adopt: Resource[]; add: Patch[]; drop: Patch[] } {
  const migrations = policyMigrations(ctx, mesh);
  const target = (m: PolicyMigration) => ref(AP_API, 'AuthorizationPolicy', m.policy.name, m.policy.namespace);
  return {
    adopt: migrations.map((m) => ({
      type: 'adopted',
      ref: { ...target(m), apiVersion: m.policy.source.apiVersion },
      body: stripForAdoption(m),
    })),
    add: migrations.map((m) => ({
      type: 'merge',
      target: { ...target(m), apiVersion: m.policy.source.apiVersion },
      why: 'admit the real callers, which replace the federation ingress gateway as the peer of exported services (MF002)',
      patch: { spec: { rules: rewriteRules(m, true) } },
    })),
    drop: migrations.map((m) => ({
      type: 'merge',
      target: { ...target(m), apiVersion: m.policy.source.apiVersion },
      why: 'the federation ingress gateway is gone: stop admitting its identity (MF002)',
      patch: { spec: { rules: rewriteRules(m, false) } },
    })),
  };
}

function stripForAdoption(m: PolicyMigration): JsonObject {
  const v = m.policy.source.value;
  const meta = v.metadata as JsonObject;
  return {
    apiVersion: v.apiVersion,
    kind: v.kind,
    metadata: {
      name: meta.name,
      namespace: meta.namespace,
      ...(meta.labels ? { labels: meta.labels } : {}),
      ...(meta.annotations ? { annotations: meta.annotations } : {}),
    },
    spec: v.spec,
  } as JsonObject;
}

/**
 * The user ALLOW policies that apply to the pods behind an exported service: namespace-wide ones (no
 * selector), selector ones matching a dumped workload of the service, and root-namespace ones without a
 * selector (mesh-wide). Istio ORs ALLOW policies, so any of them next to an enforcement policy would
 * admit what the enforcement means to keep out.
 */
export function allowPoliciesOn(mesh: Mesh, namespace: string, podSelector: Record<string, string>): AuthorizationPolicyObj[] {
  const pods = mesh.inventory.workloads.filter(
    (w) => w.namespace === namespace && Object.entries(podSelector).every(([k, v]) => w.podLabels[k] === v),
  );
  const labelSets = pods.length ? pods.map((w) => w.podLabels) : [podSelector];
  return mesh.inventory.authorizationPolicies.filter((ap) => {
    if (ap.action !== 'ALLOW') return false;
    if (ap.namespace === mesh.ossm3.namespace || ap.namespace === mesh.controlPlane.namespace) return ap.selector === undefined;
    if (ap.namespace !== namespace) return false;
    return ap.selector === undefined || labelSets.some((labels) => Object.entries(ap.selector!).every(([k, v]) => labels[k] === v));
  });
}

/** The principals an exported service admits under enforcement: its own mesh and its importers. */
function admitted(ctx: ModelIndex, mesh: Mesh, importers: Set<string>): string[] {
  return [`${mesh.trustDomain}/*`, ...[...importers].sort().map((c) => `${ctx.mesh(c).trustDomain}/*`)];
}

/**
 * MF003 opt-in: per exported service, an ALLOW policy admitting the exporting mesh and the meshes it was
 * exported to — unless a user ALLOW policy already applies to the service's pods: Istio ORs ALLOW
 * policies, so adding one would widen what that policy allows. meshfed then renders none and says which
 * policy to narrow instead.
 */
export function exposurePolicies(ctx: ModelIndex, mesh: Mesh, diags?: Diagnostics): Resource[] {
  if (!mesh.settings.exposure.enforce) return [];
  const byService = new Map<
    string,
    { ns: string; name: string; selector: Record<string, string>; importers: Set<string>; source: SourceObject }
  >();
  for (const i of ctx.importsFrom(mesh.cluster)) {
    const s = i.export.service;
    if (Object.keys(s.podSelector).length === 0) continue;
    const k = `${s.namespace}/${s.name}`;
    const e = byService.get(k) ?? {
      ns: s.namespace,
      name: s.name,
      selector: s.podSelector,
      importers: new Set<string>(),
      source: s.source,
    };
    e.importers.add(i.importer);
    byService.set(k, e);
  }
  const out: Resource[] = [];
  for (const e of byService.values()) {
    const existing = allowPoliciesOn(mesh, e.ns, e.selector);
    if (existing.length) {
      diags?.warn(
        'MF003',
        mesh.settings.source.at(['spec', 'exposure', 'enforce']),
        `not enforced on ${e.ns}/${e.name}: ALLOW ${existing.map((p) => `${p.namespace}/${p.name}`).join(', ')} already ` +
          `applies to its pods, and Istio ORs ALLOW policies, so another one would widen what it allows.`,
        `Narrow that policy to ${admitted(ctx, mesh, e.importers).join(', ')} instead.`,
      );
      continue;
    }
    out.push({
      type: 'exposurePolicy' as const,
      ref: ref(AP_API, 'AuthorizationPolicy', dnsLabel('meshfed-exposure', e.name), e.ns),
      selector: e.selector,
      principals: admitted(ctx, mesh, e.importers),
    });
  }
  return out;
}

/**
 * The AuthorizationPolicies: each one that admits the federation ingress gateway adopted in 00, its real
 * callers added in 02 and the gateway dropped in 04 (MF002); with spec.exposure.enforce, the exported
 * services' own policies in 02 (MF003).
 */
/**
 * spec.exposure.callers: each key an importer of this mesh, each principal in that importer's trust domain (a caller of
 * another mesh is not what replaces this peer's gateway).
 */
function checkCallerSettings(ctx: ModelIndex, mesh: Mesh, diags: Diagnostics): void {
  const importers = new Set(ctx.importsFrom(mesh.cluster).map((i) => i.importer));
  for (const [peer, principals] of Object.entries(mesh.settings.exposure.callers)) {
    const at = mesh.settings.source.at(['spec', 'exposure', 'callers', peer]);
    if (!importers.has(peer)) {
      diags.error(
        at,
        `spec.exposure.callers names ${peer}, which imports nothing from ${mesh.cluster}: no policy's federation gateway stands for it.`,
        `Use the name of a cluster that imports from ${mesh.cluster} (${[...importers].sort().join(', ') || 'none does'}), or remove the entry.`,
      );
      continue;
    }
    const td = ctx.mesh(peer).trustDomain;
    principals.forEach((p, i) => {
      if (p.startsWith(`${td}/`)) return;
      diags.error(
        mesh.settings.source.at(['spec', 'exposure', 'callers', peer, i]),
        `spec.exposure.callers.${peer} lists "${p}", which is not an identity of ${peer}'s trust domain ${td}.`,
        `Write it as ${td}/ns/<namespace>/sa/<service account>.`,
      );
    });
  }
}

export const contribute: Contribute = (ctx, mesh, diags) => {
  checkCallerSettings(ctx, mesh, diags);
  const policies = planPolicies(ctx, mesh);
  return {
    '00-federation': { adds: policies.adopt },
    '02-export': { adds: exposurePolicies(ctx, mesh, diags), patches: policies.add },
    '04-remove-federation': { patches: policies.drop },
  };
};
