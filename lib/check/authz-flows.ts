/**
 * MF027, identities: the caller → server flows that AuthorizationPolicies decide, judged by lib/authz.ts in every
 * phase the gates allow. The servers are the dumped workloads some policy applies to (dumped, adopted and patched by
 * MF002, or rendered by MF003); the callers are the mesh's own workloads and its SMCP gateways (their SMCP pods while
 * the SMCP runs them, meshfed's pods from 06: `gatewayDeployment`), and each importing peer's callers: through this
 * mesh's federation ingress gateway (its identity) until 04, as themselves from 02 (MF002). A flow allowed at 00 and
 * denied later is an error; so is an identity that reaches a server at a phase though it did not at 00 (MF002's
 * `<peer td>/ns/<ns>/sa/*` matches `<own td>/ns/<ns>/sa/*` through the trust domain aliases), unless the user named
 * that caller in spec.exposure.callers (Istio treats the same namespace and service account in every trust domain of
 * the bundle as one identity: istio/istio@1.27.3 pilot/pkg/security/trustdomain/bundle.go:32-37).
 *
 * Which control plane serves the workloads: the SMCP until 06, the OSSM 3 Istio from 06 (06 moves the workloads);
 * each reads its own trust domain aliases and root namespace (meshConfig.rootNamespace, by default the control plane's
 * namespace: istio/istio@1.27.3 pkg/config/mesh/mesh.go DefaultMeshConfig RootNamespace).
 */
import { CheckContext } from './context';
import { Finding } from './finding';
import { controlPlaneIdentities, OwnIdentity } from './own-identities';
import { smcpSpecAt } from './regression';
import { PhaseState } from './state';
import { AuthzMesh, AuthzPolicy, authorize, AuthzVerdict, presentsIdentity } from '../authz';
import { isObject, mergeJson, valueAt } from '../json';
import { Workload } from '../load/inventory-types';
import { ModelIndex } from '../model/model-index';
import { uniqSorted } from '../model/names';
import { Mesh } from '../model/types';
import { PHASES } from '../phases';
import { hasSmcp } from '../plan/namespaces';
import { gatewayServiceAccount, smcpGateways } from '../plan/north-south';

/** A server: pods of one workload (the first of those sharing namespace and labels). */
interface Server {
  readonly namespace: string;
  readonly labels: Record<string, string>;
  readonly what: string;
}

/** A caller: the identities its pods present at a phase (several while old and new pods serve it). */
interface Caller {
  readonly key: string;
  readonly what: string;
  readonly identities: string[];
  /** Only these servers (a peer's callers reach the services exported to it); all when undefined. */
  readonly servers?: (s: Server) => boolean;
  /** The caller reaches the server over TCP only (every port of the services it calls speaks a non-HTTP protocol). */
  readonly tcp?: (s: Server) => boolean;
}

/**
 * Istio protocols served by the network (TCP) RBAC filter, not the HTTP one: istio/istio@1.27.3
 * pkg/config/protocol/instance.go:117-131 IsHTTP is false and IsTCP true for them. A sniffed port (undefined) may be
 * either, so it is not known to be TCP.
 */
const TCP_PROTOCOLS = new Set(['TCP', 'TLS', 'HTTPS', 'MONGO', 'REDIS', 'MYSQL']);

const phaseIndex = (p: string) => PHASES.indexOf(p as (typeof PHASES)[number]);

/** The control plane that serves the workloads at a phase, as the evaluator needs it. */
export function authzMeshAt(mesh: Mesh, state: PhaseState): AuthzMesh {
  const istio = state.of('istio')[0];
  if (istio && phaseIndex(state.phase) >= phaseIndex('06-migrate-workloads'))
    return {
      rootNamespace: istio.namespace,
      trustDomain: istio.trustDomain,
      trustDomainAliases: istio.trustDomainAliases,
      flavour: 'istio',
    };
  const spec = hasSmcp(mesh) ? smcpSpecAt(mesh, state) : undefined;
  const patched = spec ? valueAt(spec, 'techPreview.meshConfig.trustDomainAliases') : undefined;
  return {
    rootNamespace: mesh.controlPlane.namespace,
    trustDomain: mesh.trustDomain,
    trustDomainAliases: Array.isArray(patched) ? patched.map(String) : mesh.controlPlane.trustDomainAliases,
    flavour: 'maistra',
  };
}

/**
 * The AuthorizationPolicies at a phase: the dumped ones with the merge patches applied so far (MF002 adopts and patches
 * them), and meshfed's exposure policies (MF003, lib/constructs/exposure-policy.ts).
 */
export function authzPoliciesAt(mesh: Mesh, state: PhaseState): AuthzPolicy[] {
  const out: AuthzPolicy[] = mesh.inventory.authorizationPolicies.map((ap) => {
    let body = ap.source.value;
    for (const p of state.patches)
      if (p.type === 'merge' && p.target.kind === 'AuthorizationPolicy' && p.target.name === ap.name && p.target.namespace === ap.namespace)
        body = mergeJson(body, p.patch);
    const annotations = valueAt(body, 'metadata.annotations');
    return {
      name: ap.name,
      namespace: ap.namespace,
      dryRun: isObject(annotations) && annotations['istio.io/dry-run'] === 'true',
      spec: (isObject(body.spec) ? body.spec : {}) as AuthzPolicy['spec'],
    };
  });
  for (const e of state.of('exposurePolicy'))
    out.push({
      name: e.ref.name,
      namespace: e.ref.namespace!,
      spec: {
        action: 'ALLOW',
        selector: { matchLabels: e.selector },
        rules: [{ from: [{ source: { principals: [...e.principals].sort() } }] }],
      },
    });
  return out;
}

function servers(mesh: Mesh): Server[] {
  const seen = new Set<string>();
  const out: Server[] = [];
  for (const w of mesh.inventory.workloads) {
    const k = `${w.namespace}|${JSON.stringify(w.podLabels)}`;
    if (seen.has(k)) continue;
    seen.add(k);
    out.push({ namespace: w.namespace, labels: w.podLabels, what: `${w.kind} ${w.namespace}/${w.name}` });
  }
  return out;
}

const identity = (td: string, ns: string, sa: string) => `${td}/ns/${ns}/sa/${sa}`;

/** The federation ingress gateway's identity per importing peer (as exported services saw its callers at 00). */
function gatewayIdentity(ctx: ModelIndex, mesh: Mesh, peer: string): string | undefined {
  const link = ctx.linksOf(mesh.cluster).find((l) => l.remote === peer);
  return link && identity(mesh.trustDomain, mesh.controlPlane.namespace, `${link.peer.ingressGateway}-service-account`);
}

/** A peer's real callers: the ones the user named, else its workloads in the namespaces its imports are visible to. */
function peerIdentities(ctx: ModelIndex, mesh: Mesh, peer: string): string[] {
  const named = mesh.settings.exposure.callers[peer];
  if (named?.length) return uniqSorted(named.filter((p) => !p.includes('*')));
  const p = ctx.mesh(peer);
  const ns = p.importExportTo.filter((n) => n !== '.');
  const all = ns.length === 0 || ns.includes('*');
  const ws = p.inventory.workloads.filter((w) => all || ns.includes(w.namespace));
  if (ws.length) return uniqSorted(ws.map((w) => identity(p.trustDomain, w.namespace, w.serviceAccount)));
  return all ? [] : ns.map((n) => identity(p.trustDomain, n, 'default'));
}

/** Every caller at a phase. */
function callersAt(ctx: ModelIndex, mesh: Mesh, state: PhaseState): Caller[] {
  const out: Caller[] = [];
  const td = mesh.trustDomain;
  const own = new Map<string, string>();
  for (const w of mesh.inventory.workloads) {
    const id = identity(td, w.namespace, w.serviceAccount);
    if (!own.has(id)) own.set(id, `${w.kind} ${w.namespace}/${w.name}`);
  }
  const smcpAlive = state.has('ServiceMeshControlPlane', mesh.controlPlane.name, mesh.controlPlane.namespace);
  for (const g of smcpGateways(mesh)) {
    const ids: string[] = [];
    if (smcpAlive) ids.push(identity(td, g.namespace, gatewayServiceAccount(g)));
    for (const d of state.of('gatewayDeployment').filter((x) => x.ref.namespace === g.namespace && x.ref.name.startsWith(`${g.name}-`)))
      ids.push(identity(td, g.namespace, d.serviceAccount.name));
    if (ids.length)
      out.push({ key: `gateway ${g.namespace}/${g.name}`, what: `the gateway ${g.namespace}/${g.name}`, identities: uniqSorted(ids) });
    for (const id of ids) own.delete(id);
  }
  for (const [id, what] of own) out.push({ key: `identity ${id}`, what: `${what} (${id})`, identities: [id] });
  const at = phaseIndex(state.phase);
  for (const peer of ctx.importersOf(mesh.cluster)) {
    const exported = ctx
      .importsFrom(mesh.cluster)
      .filter((i) => i.importer === peer)
      .map((i) => i.export.service);
    const reaches = (s: Server) =>
      exported.some((e) => e.namespace === s.namespace && Object.entries(e.podSelector).every(([k, v]) => s.labels[k] === v));
    const tcp = (s: Server) => {
      const ports = exported
        .filter((e) => e.namespace === s.namespace && Object.entries(e.podSelector).every(([k, v]) => s.labels[k] === v))
        .flatMap((e) => e.ports);
      return ports.length > 0 && ports.every((p) => TCP_PROTOCOLS.has((p.protocol ?? '').toUpperCase()));
    };
    const gw = gatewayIdentity(ctx, mesh, peer);
    const ids = [
      ...(gw && at < phaseIndex('04-remove-federation') ? [gw] : []),
      ...(at >= phaseIndex('02-export') ? peerIdentities(ctx, mesh, peer) : []),
    ];
    if (ids.length)
      out.push({ key: `peer ${peer}`, what: `${peer}'s callers of its imports`, identities: uniqSorted(ids), servers: reaches, tcp });
  }
  return out;
}

/**
 * The identities that may newly reach a server: the own ones — workloads, gateways, the control planes' pods (a peer's
 * callers are judged as flows).
 */
function candidates(ctx: ModelIndex, mesh: Mesh, state: PhaseState, operators: readonly OwnIdentity[]): string[] {
  // A workload whose pods run no proxy (an istiod, a console dumped from the control plane) has no identity a policy could
  // start to admit. (Its flows stay judged as the callers' are: callersAt.)
  const id = (w: Workload) => identity(mesh.trustDomain, w.namespace, w.serviceAccount);
  const proxied = new Set(mesh.inventory.workloads.filter(presentsIdentity).map(id));
  const proxyless = new Set(mesh.inventory.workloads.map(id).filter((x) => !proxied.has(x)));
  return uniqSorted([
    ...callersAt(ctx, mesh, state)
      .filter((c) => !c.servers)
      .flatMap((c) => c.identities)
      .filter((x) => !proxyless.has(x)),
    // The operators' own proxies call no exported service, but an identity of theirs a policy starts to admit is access gained.
    ...operators.map((o) => o.id),
  ]);
}

/** Identities the user named as callers (spec.exposure.callers), as `ns/<ns>/sa/<sa>`: the same in every trust domain of the bundle. */
function declared(mesh: Mesh): Set<string> {
  return new Set(
    Object.values(mesh.settings.exposure.callers)
      .flat()
      .map((p) => p.split('/').slice(1).join('/')),
  );
}

const denied = (v: AuthzVerdict) => v.outcome === 'denied';

/** The first denial among a caller's identities. */
function judge(
  policies: AuthzPolicy[],
  server: Server,
  ids: string[],
  m: AuthzMesh,
  tcp = false,
): { id: string; verdict: AuthzVerdict } | undefined {
  for (const id of ids) {
    const verdict = authorize(policies, server, { principal: id, ...(tcp ? { tcp } : {}) }, m);
    if (denied(verdict)) return { id, verdict };
  }
  return undefined;
}

/** The dumped policy's file and line, when the deciding policy is a dumped one. */
function locate(mesh: Mesh, policies: string[]) {
  const ap = mesh.inventory.authorizationPolicies.find((p) => policies.includes(`${p.namespace}/${p.name}`));
  return ap ? { location: ap.source.at(['spec']) } : {};
}

/** What one mesh's judgement needs across phases: the state at 00 and what was seen. */
interface Judgement {
  readonly c: CheckContext;
  readonly mesh: Mesh;
  readonly guarded: Server[];
  readonly basePolicies: AuthzPolicy[];
  readonly baseMesh: AuthzMesh;
  /** Per `caller|server`: allowed at 00 (absent: the caller is not there at 00). */
  readonly worked: Map<string, boolean>;
  readonly allowedAt00: Map<string, boolean>;
  readonly declared: Set<string>;
  readonly seen: Set<string>;
  readonly out: Finding[];
}

const policyNames = (ps: string[]) => ps.map((x) => `AuthorizationPolicy ${x}`).join(', ');

/** Callers denied at a phase that were allowed at 00 (or that meshfed adds). */
function judgeCallers(j: Judgement, phase: string, state: PhaseState, policies: AuthzPolicy[], m: AuthzMesh): void {
  for (const caller of callersAt(j.c.ctx, j.mesh, state))
    for (const s of j.guarded.filter((x) => !caller.servers || caller.servers(x))) {
      const k = `${caller.key}|${s.what}`;
      if (j.worked.get(k) === false || j.seen.has(k)) continue;
      const d = judge(policies, s, caller.identities, m, caller.tcp?.(s));
      if (!d) continue;
      j.seen.add(k);
      j.out.push({
        rule: 'MF027',
        severity: 'error',
        cluster: j.mesh.cluster,
        phase,
        ...locate(j.mesh, d.verdict.policies),
        problem:
          `${caller.what} → ${s.what}: ${d.id} is denied (${d.verdict.why}) ` +
          `(${j.worked.has(k) ? 'it is allowed at 00-federation' : 'a caller meshfed adds after 00-federation'}).`,
        fix:
          `admit ${d.id} in ${policyNames(d.verdict.policies) || 'a policy that applies to it'} from this phase on; ` +
          'if meshfed renders or patches that policy, report this as a meshfed bug.',
      });
    }
}

/** Own identities that reach a server at a phase though they did not at 00, unless the user named them. */
function judgeGains(j: Judgement, phase: string, state: PhaseState, policies: AuthzPolicy[], m: AuthzMesh): void {
  const operators = controlPlaneIdentities(j.mesh, state);
  // What runs as an identity no dump shows (the operators' proxies), for the message.
  const runs = new Map(operators.map((o) => [o.id, ` (${o.what})`]));
  for (const id of candidates(j.c.ctx, j.mesh, state, operators))
    for (const s of j.guarded) {
      const k = `gain|${id}|${s.what}`;
      if (j.seen.has(k) || j.declared.has(id.split('/').slice(1).join('/'))) continue;
      let before = j.allowedAt00.get(k);
      if (before === undefined) j.allowedAt00.set(k, (before = !denied(authorize(j.basePolicies, s, { principal: id }, j.baseMesh))));
      if (before) continue;
      const v = authorize(policies, s, { principal: id }, m);
      if (denied(v)) continue;
      j.seen.add(k);
      const aliases = m.trustDomainAliases?.length
        ? ` (the trust domain aliases ${m.trustDomainAliases.join(', ')} make Istio match every aliased trust domain)`
        : '';
      j.out.push({
        rule: 'MF027',
        severity: 'error',
        cluster: j.mesh.cluster,
        phase,
        ...locate(j.mesh, v.policies),
        problem:
          `${id}${runs.get(id) ?? ''} reaches ${s.what} from ${phase} (${v.why}), though it is denied at 00-federation: ` +
          `an identity gains access${aliases}.`,
        fix:
          `Name the exact callers in clusters/${j.mesh.cluster}/cluster.yaml spec.exposure.callers.<importing cluster> ` +
          `(docs/input.md), leave namespace ${id.split('/')[2]} out of the importing cluster's spec.importedServices.exportTo ` +
          `if nothing there calls ${j.mesh.cluster}, or narrow ${policyNames(v.policies)} so ${id} stays out.`,
      });
    }
}

export function checkAuthzFlows(c: CheckContext): Finding[] {
  const out: Finding[] = [];
  for (const mesh of c.model.meshes) {
    if (mesh.settings.mode === 'greenfield' || mesh.virtual) continue;
    const phases = c.plan.byCluster[mesh.cluster].filter((p) => p.blockedBy.length === 0);
    if (!phases.some((p) => p.phase === '00-federation')) continue;
    const base = c.states.get(mesh.cluster, '00-federation');
    const ever = new Set(phases.flatMap((p) => authzPoliciesAt(mesh, c.states.get(mesh.cluster, p.phase)).map((x) => x.namespace)));
    // Only servers some policy may apply to (their namespace or a root namespace has one at some phase).
    const roots = [mesh.controlPlane.namespace, mesh.ossm3.namespace];
    const guarded = servers(mesh).filter((s) => ever.has(s.namespace) || roots.some((r) => ever.has(r)));
    if (!guarded.length) continue;
    const j: Judgement = {
      c,
      mesh,
      guarded,
      basePolicies: authzPoliciesAt(mesh, base),
      baseMesh: authzMeshAt(mesh, base),
      worked: new Map(),
      allowedAt00: new Map(),
      declared: declared(mesh),
      seen: new Set(),
      out,
    };
    for (const caller of callersAt(c.ctx, mesh, base))
      for (const s of guarded.filter((x) => !caller.servers || caller.servers(x)))
        j.worked.set(`${caller.key}|${s.what}`, !judge(j.basePolicies, s, caller.identities, j.baseMesh, caller.tcp?.(s)));
    for (const p of phases.filter((x) => x.phase !== '00-federation')) {
      const state = c.states.get(mesh.cluster, p.phase);
      const policies = authzPoliciesAt(mesh, state);
      const m = authzMeshAt(mesh, state);
      judgeCallers(j, p.phase, state, policies, m);
      judgeGains(j, p.phase, state, policies, m);
    }
  }
  return out;
}
