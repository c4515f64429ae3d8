import { PhaseState } from './state';
import { JsonObject } from '../load/yaml-source';
import { Import, Mesh } from '../model/types';
import { PlanContext } from '../plan/context';
import { EGRESS_PORT } from '../plan/egress';
import { TLS_MODE_LABEL } from '../plan/phase-03-import';
import { Resource } from '../plan/types';

/** The SMCP's trust domain aliases in this state: the last merge patch that sets them, else the dump's. */
export function smcpAliases(state: PhaseState, mesh: Mesh): string[] {
  return state.cachedWithPatches('smcpAliases', () => computeSmcpAliases(state, mesh));
}

function computeSmcpAliases(state: PhaseState, mesh: Mesh): string[] {
  const v = smcpPatched(state, ['spec', 'techPreview', 'meshConfig', 'trustDomainAliases']);
  return Array.isArray(v) ? v.map(String) : mesh.controlPlane.trustDomainAliases;
}

/** The value at `path` the SMCP merge patches applied so far set last (undefined when none sets it). */
function smcpPatched(state: PhaseState, path: string[]): unknown {
  let out: unknown;
  for (const p of state.patches) {
    if (p.type !== 'merge' || p.target.kind !== 'ServiceMeshControlPlane') continue;
    let v: unknown = p.patch;
    for (const k of path) v = v && typeof v === 'object' && !Array.isArray(v) ? (v as JsonObject)[k] : undefined;
    if (v !== undefined) out = v;
  }
  return out;
}

/** True once the namespace holding `ns` workloads was moved to the OSSM 3 revision. */
export function onOssm3(state: PhaseState, ns: string): boolean {
  if (state.phase === 'multicluster') return true; // greenfield: there is only OSSM 3
  return state.cachedWithPatches(`ossm3/${ns}`, () =>
    state.patches.some(
      (p) =>
        p.type === 'merge' && p.target.kind === 'Namespace' && p.target.name === ns && JSON.stringify(p.patch).includes('"istio.io/rev"'),
    ),
  );
}

/** Federation gateways still in the SMCP (not removed by a JSON patch). */
export function federationGatewayPresent(state: PhaseState, map: 'additionalIngress' | 'additionalEgress', key: string): boolean {
  return state.cachedWithPatches(
    `gw/${map}/${key}`,
    () =>
      !state.patches.some(
        (p) =>
          p.type === 'json6902' &&
          p.target.kind === 'ServiceMeshControlPlane' &&
          p.ops.some(
            (o) =>
              o.op === 'remove' &&
              (o.path === `/spec/gateways/${map}` || o.path === `/spec/gateways/${map}/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`),
          ),
      ),
  );
}

/** Why `mesh` (in `state`) does not accept or trust `peer` (empty string when it does). */
function trustProblem(state: PhaseState, mesh: Mesh, peer: Mesh, workloadNs: string, role: 'client' | 'server'): string {
  return state.cachedWithPatches(`trust/${peer.cluster}/${workloadNs}/${role}`, () =>
    computeTrustProblem(state, mesh, peer, workloadNs, role),
  );
}

function computeTrustProblem(state: PhaseState, mesh: Mesh, peer: Mesh, workloadNs: string, role: 'client' | 'server'): string {
  if (!onOssm3(state, workloadNs)) {
    return smcpAliases(state, mesh).includes(peer.trustDomain)
      ? ''
      : `${mesh.cluster}'s SMCP does not list ${peer.trustDomain} in trustDomainAliases (${role} side)`;
  }
  const istio = state.of('istio')[0];
  if (!istio) return `${mesh.cluster}'s ${role} workloads are on OSSM 3 but no Istio control plane is rendered`;
  const scoped = istio.caCertificates.some((c) => c.trustDomains?.includes(peer.trustDomain));
  if (!istio.trustDomainAliases.includes(peer.trustDomain) && !scoped)
    return `${mesh.cluster}'s Istio does not accept trust domain ${peer.trustDomain}`;
  if (!istio.caCertificates.some((c) => c.cluster === peer.cluster))
    return `${mesh.cluster}'s Istio does not trust ${peer.cluster}'s root (caCertificates)`;
  return '';
}

/** Importer side of the federation path: its ServiceMeshPeer, ImportedServiceSet and egress gateway. */
export function federationImporterProblem(i: Import, imp: PhaseState): string {
  const il = i.link;
  if (!imp.has('ServiceMeshPeer', il.peer.name, il.peer.namespace) || !imp.has('ImportedServiceSet', il.peer.name, il.peer.namespace))
    return `${i.importer} no longer has its ServiceMeshPeer/ImportedServiceSet ${il.peer.name}`;
  if (!federationGatewayPresent(imp, 'additionalEgress', il.peer.egressGateway))
    return `${i.importer}'s federation egress gateway ${il.peer.egressGateway} is removed`;
  return '';
}

/** Exporter side of the federation path: its ServiceMeshPeer, ExportedServiceSet and ingress gateway. */
export function federationExporterProblem(i: Import, exp: PhaseState): string {
  const el = i.export.link;
  if (!exp.has('ServiceMeshPeer', el.peer.name, el.peer.namespace) || !exp.has('ExportedServiceSet', el.peer.name, el.peer.namespace))
    return `${i.exporter} no longer has its ServiceMeshPeer/ExportedServiceSet ${el.peer.name}`;
  if (!federationGatewayPresent(exp, 'additionalIngress', el.peer.ingressGateway))
    return `${i.exporter}'s federation ingress gateway ${el.peer.ingressGateway} is removed`;
  return '';
}

/** WorkloadEntries with tlsMode istio, indexed by `namespace|label=value` for every label they carry. */
function workloadEntryIndex(imp: PhaseState) {
  return imp.cached('weIndex', () => {
    const index = new Map<string, Extract<Resource, { type: 'importWorkloadEntry' }>[]>();
    for (const w of imp.of('importWorkloadEntry')) {
      if (w.labels[TLS_MODE_LABEL] !== 'istio') continue;
      for (const [k, v] of Object.entries(w.labels)) {
        const key = `${w.ref.namespace}|${k}=${v}`;
        const list = index.get(key);
        if (list) list.push(w);
        else index.set(key, [w]);
      }
    }
    return index;
  });
}

/** Is there a tlsMode-istio WorkloadEntry on `net` in `ns` carrying every label of `selector`? */
function selectsWorkloadEntry(imp: PhaseState, ns: string, selector: Record<string, string>, net: string): boolean {
  const entries = Object.entries(selector);
  if (entries.length === 0) return false;
  const [k0, v0] = entries[0];
  return (workloadEntryIndex(imp).get(`${ns}|${k0}=${v0}`) ?? []).some(
    (w) => w.network === net && entries.every(([k, v]) => w.labels[k] === v),
  );
}

/**
 * The egress hop: the gateway the istio-remote Gateway points at, a route for the host's SNI to a backend
 * at the exporter's address, and an istiod that accepts them.
 */
function egressProblem(i: Import, imp: PhaseState, importer: Mesh, exporter: Mesh, port: number): string {
  const eg = importer.egress!;
  const gateway = imp.of('egressGateway').find((g) => g.ref.name === eg.name && g.ref.namespace === eg.namespace);
  if (!gateway)
    return `${i.importer}'s istio-remote Gateway for ${i.exporter} points at egress gateway ${eg.namespace}/${eg.name}, which is not there`;
  if (port !== EGRESS_PORT)
    return `${i.importer}'s istio-remote Gateway for ${i.exporter} uses port ${port}, but the egress gateway listens on ${EGRESS_PORT}`;
  const route = imp.cached('egressRoutes', () => new Map(imp.of('egressRoute').map((r) => [r.host, r]))).get(i.hostname);
  if (!route) return `${i.importer}'s egress gateway has no route for ${i.hostname}`;
  const b = route.backends.find((x) => x.exporter === i.exporter);
  if (!b) return `${i.importer}'s egress route for ${i.hostname} does not lead to ${i.exporter}`;
  const backend = imp.of('egressBackend').find((x) => x.exporter === i.exporter && x.ref.name === b.name);
  if (!backend) return `${i.importer}'s egress gateway has no backend ${b.name} for ${i.exporter}`;
  const want = exporter.eastWest.port ?? EGRESS_PORT;
  if (backend.port !== want || [...backend.addresses].sort().join() !== [...exporter.eastWest.addresses].sort().join())
    return (
      `${i.importer}'s egress backend ${b.name} points at ` +
      `${backend.addresses.join(', ')}:${backend.port}, but ${i.exporter}'s gateway is reached at ` +
      `${exporter.eastWest.addresses.join(', ')}:${want}`
    );
  if (backend.ref.kind === 'Service' && !imp.of('egressEndpointSlice').some((x) => x.service === backend.ref.name))
    return `${i.importer}'s egress backend Service ${b.name} has no EndpointSlice`;
  if (
    route.ref.kind === 'TLSRoute' &&
    !onOssm3(imp, eg.namespace) &&
    !smcpPatched(imp, ['spec', 'runtime', 'components', 'pilot', 'container', 'env', 'PILOT_ENABLE_ALPHA_GATEWAY_API'])
  )
    return `${i.importer}'s OSSM 2 istiod ignores TLSRoutes without PILOT_ENABLE_ALPHA_GATEWAY_API`;
  if (onOssm3(imp, eg.namespace) && !imp.of('istio').some((x) => x.pilotEnv.PILOT_ENABLE_ALPHA_GATEWAY_API === 'true'))
    return `${i.importer}'s OSSM 3 istiod owns the egress Gateway but refuses its TLS listener (no PILOT_ENABLE_ALPHA_GATEWAY_API)`;
  return '';
}

/** Importer side of the new path: istio-remote Gateway, entries for the hostname, client trust. */
export function newPathImporterProblem(ctx: PlanContext, i: Import, imp: PhaseState): string {
  const importer = ctx.mesh(i.importer);
  const exporter = ctx.mesh(i.exporter);
  const net = i.link.remoteNetwork;
  const gw = imp.cached(`rgw/${net}`, () => imp.of('remoteGateway').find((g) => g.network === net && g.addresses.length > 0));
  if (!gw) return `${i.importer} has no istio-remote Gateway for network ${net} with an address`;
  const egress = importer.egress && gw.addresses.length === 1 && gw.addresses[0] === importer.egress.host;
  if (egress) {
    const e = egressProblem(i, imp, importer, exporter, gw.port);
    if (e) return e;
  } else if (gw.port !== (exporter.eastWest.port ?? 15443))
    return (
      `${i.importer}'s istio-remote Gateway for ${i.exporter} uses port ${gw.port}, but ` +
      `${i.exporter}'s gateway is reached on ${exporter.eastWest.port}`
    );
  const local = i.localService;
  let clientNs: string[];
  if (local) {
    if (!selectsWorkloadEntry(imp, local.namespace, local.selector, net))
      return `${i.importer} has no WorkloadEntry joining its Service ${local.namespace}/${local.name} on network ${net}`;
    clientNs = importer.memberNamespaces;
  } else {
    const se = imp.cached('seByHost', () => new Map(imp.of('importServiceEntry').map((x) => [x.host, x]))).get(i.hostname);
    if (!se) return `${i.importer} has no ServiceEntry for ${i.hostname}`;
    if (!selectsWorkloadEntry(imp, se.ref.namespace ?? '', se.selector, net))
      return `${i.importer}'s ServiceEntry ${se.ref.name} selects no WorkloadEntry on network ${net} with tlsMode istio`;
    clientNs = se.exportTo.filter((n) => n !== '*' && n !== '.');
  }
  for (const ns of clientNs.length ? clientNs : importer.memberNamespaces) {
    const t = trustProblem(imp, importer, exporter, ns, 'client');
    if (t) return t;
  }
  return '';
}

/** Exporter side of the new path: east-west gateway exposing the host, ServiceEntry for it, server trust. */
export function newPathExporterProblem(ctx: PlanContext, i: Import, exp: PhaseState): string {
  const importer = ctx.mesh(i.importer);
  const exporter = ctx.mesh(i.exporter);
  const ew = exp.of('eastWestGateway')[0];
  if (!ew) return `${i.exporter} has no east-west gateway`;
  if (!exp.cached('exposed', () => new Set(exp.of('exposedServices').flatMap((g) => g.hosts))).has(i.hostname))
    return `${i.exporter}'s east-west gateway does not expose ${i.hostname}`;
  const svc = i.export.service;
  const hostSEs = exp.cached(
    'exporterSEs',
    () =>
      new Set(
        [...exp.of('exporterServiceEntry'), ...exp.of('importServiceEntry').filter((s) => s.localPods)].map(
          (s) => `${s.ref.namespace}/${s.host}`,
        ),
      ),
  );
  if (i.hostname !== svc.hostname && !hostSEs.has(`${svc.namespace}/${i.hostname}`))
    return `${i.exporter} has no ServiceEntry giving ${i.hostname} to ${svc.namespace}/${svc.name}`;
  if (onOssm3(exp, ew.ref.namespace ?? '') && !exp.of('istio').some((x) => x.pilotEnv.PILOT_ENABLE_ALPHA_GATEWAY_API === 'true'))
    return `${i.exporter}'s OSSM 3 istiod owns the east-west Gateway but refuses its TLS listener (no PILOT_ENABLE_ALPHA_GATEWAY_API)`;
  return trustProblem(exp, exporter, importer, svc.namespace, 'server');
}
