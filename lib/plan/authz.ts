import { PlanContext } from './context';
import { ref } from './refs';
import { Patch, Resource } from './types';
import { AuthorizationPolicyObj } from '../load/inventory-types';
import { JsonObject } from '../load/yaml-source';
import { dnsLabel, uniqSorted } from '../model/names';
import { Mesh } from '../model/types';

const AP_API = 'security.istio.io/v1';

/** How one of the exporter's AuthorizationPolicies must change when its callers stop arriving through the federation ingress gateway. */
export interface PolicyMigration {
  readonly policy: AuthorizationPolicyObj;
  /** The gateway principals it names, and the peer each stands for. */
  readonly gateways: { readonly principal: string; readonly peer: string }[];
  /** The real callers admitted instead, per gateway principal. */
  readonly callers: Record<string, string[]>;
  /** Peers whose calling namespaces are not known (exportTo "*"): the whole trust domain is admitted. */
  readonly unknownCallers: string[];
}

/** The identity of a mesh's federation ingress gateway for one peer, as its services saw callers. */
function gatewayPrincipals(ctx: PlanContext, mesh: Mesh): Map<string, string> {
  return new Map(
    ctx
      .linksOf(mesh.cluster)
      .map((l) => [`${mesh.trustDomain}/ns/${mesh.controlPlane.namespace}/sa/${l.peer.ingressGateway}-service-account`, l.remote]),
  );
}

/**
 * Callers of `peer` that reach services of `mesh` in `namespace`: the namespaces the peer made its
 * imports visible to (ServiceEntry exportTo), or the peer's whole trust domain when that is "*".
 */
function callersFrom(ctx: PlanContext, mesh: Mesh, peer: string, namespace: string): { principals: string[]; unknown: boolean } {
  const imports = ctx.importsFrom(mesh.cluster).filter((i) => i.importer === peer && i.export.service.namespace === namespace);
  if (imports.length === 0) return { principals: [], unknown: false };
  const p = ctx.mesh(peer);
  const ns = p.importExportTo.filter((n) => n !== '.');
  if (ns.includes('*') || ns.length === 0) return { principals: [`${p.trustDomain}/*`], unknown: true };
  return { principals: ns.map((n) => `${p.trustDomain}/ns/${n}/sa/*`), unknown: false };
}

export function policyMigrations(ctx: PlanContext, mesh: Mesh): PolicyMigration[] {
  const gws = gatewayPrincipals(ctx, mesh);
  const out: PolicyMigration[] = [];
  for (const ap of mesh.inventory.authorizationPolicies) {
    const named = uniqSorted(ap.principals.map((p) => p.value).filter((v) => gws.has(v)));
    if (named.length === 0) continue;
    const callers: Record<string, string[]> = {};
    const unknown: string[] = [];
    for (const g of named) {
      const c = callersFrom(ctx, mesh, gws.get(g)!, ap.namespace);
      callers[g] = c.principals;
      if (c.unknown) unknown.push(gws.get(g)!);
    }
    out.push({
      policy: ap,
      gateways: named.map((g) => ({ principal: g, peer: gws.get(g)! })),
      callers,
      unknownCallers: uniqSorted(unknown),
    });
  }
  return out;
}

/** spec.rules of a policy with each gateway principal followed by (or, `keepGateway` false, replaced by) the real callers. */
function rewriteRules(m: PolicyMigration, keepGateway: boolean): JsonObject[] {
  const rules = JSON.parse(JSON.stringify((m.policy.source.value.spec as JsonObject | undefined)?.rules ?? [])) as JsonObject[];
  for (const rule of rules) {
    for (const from of (rule.from as JsonObject[] | undefined) ?? []) {
      const source = (from.source ?? {}) as Record<string, string[]>;
      for (const key of ['principals', 'notPrincipals']) {
        if (!Array.isArray(source[key])) continue;
        source[key] = uniqSorted(source[key].flatMap((v) => (m.callers[v] ? [...(keepGateway ? [v] : []), ...m.callers[v]] : [v])));
      }
    }
  }
  return rules;
}

/**
 * The rendered change: the policy is adopted in 00 (as it runs), gains the real callers next to the
 * gateway principal in 02 (before any importer's 03 sends real identities), and loses the gateway
 * principal in 04 (the gateway is gone).
 */
export function planPolicies(ctx: PlanContext, mesh: Mesh): { adopt: Resource[]; add: Patch[]; drop: Patch[] } {
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

/** MF003 opt-in: per exported service, an ALLOW policy admitting the exporting mesh and the meshes it was exported to. */
export function exposurePolicies(ctx: PlanContext, mesh: Mesh): Resource[] {
  if (!mesh.settings.exposure.enforce) return [];
  const byService = new Map<string, { ns: string; name: string; selector: Record<string, string>; importers: Set<string> }>();
  for (const i of ctx.importsFrom(mesh.cluster)) {
    const s = i.export.service;
    if (Object.keys(s.podSelector).length === 0) continue;
    const k = `${s.namespace}/${s.name}`;
    const e = byService.get(k) ?? { ns: s.namespace, name: s.name, selector: s.podSelector, importers: new Set<string>() };
    e.importers.add(i.importer);
    byService.set(k, e);
  }
  return [...byService.values()].map((e) => ({
    type: 'exposurePolicy' as const,
    ref: ref(AP_API, 'AuthorizationPolicy', dnsLabel('meshfed-exposure', e.name), e.ns),
    selector: e.selector,
    principals: [`${mesh.trustDomain}/*`, ...[...e.importers].sort().map((c) => `${ctx.mesh(c).trustDomain}/*`)],
  }));
}
