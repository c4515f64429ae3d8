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
export function federationImporterProblem(imp: Import, importerState: PhaseState): string {
  const il = imp.link;
  if (
    !importerState.has('ServiceMeshPeer', il.peer.name, il.peer.namespace) ||
    !importerState.has('ImportedServiceSet', il.peer.name, il.peer.namespace)
  )
    return `${imp.importer} no longer has its ServiceMeshPeer/ImportedServiceSet ${il.peer.name}`;
  if (!federationGatewayPresent(importerState, 'additionalEgress', il.peer.egressGateway))
    return `${imp.importer}'s federation egress gateway ${il.peer.egressGateway} is removed`;
  return '';
}

/** Exporter side of the federation path: its ServiceMeshPeer, ExportedServiceSet and ingress gateway. */
export function federationExporterProblem(imp: Import, exporterState: PhaseState): string {
  const el = imp.export.link;
  if (
    !exporterState.has('ServiceMeshPeer', el.peer.name, el.peer.namespace) ||
    !exporterState.has('ExportedServiceSet', el.peer.name, el.peer.namespace)
  )
    return `${imp.exporter} no longer has its ServiceMeshPeer/ExportedServiceSet ${el.peer.name}`;
  if (!federationGatewayPresent(exporterState, 'additionalIngress', el.peer.ingressGateway))
    return `${imp.exporter}'s federation ingress gateway ${el.peer.ingressGateway} is removed`;
  return '';
}

/** WorkloadEntries with tlsMode istio, indexed by `namespace|label=value` for every label they carry. */
function workloadEntryIndex(importerState: PhaseState) {
  return importerState.cached('weIndex', () => {
    const index = new Map<string, Extract<Resource, { type: 'importWorkloadEntry' }>[]>();
    for (const w of importerState.of('importWorkloadEntry')) {
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
function selectsWorkloadEntry(importerState: PhaseState, ns: string, selector: Record<string, string>, net: string): boolean {
  const entries = Object.entries(selector);
  if (entries.length === 0) return false;
  const [k0, v0] = entries[0];
  return (workloadEntryIndex(importerState).get(`${ns}|${k0}=${v0}`) ?? []).some(
    (w) => w.network === net && entries.every(([k, v]) => w.labels[k] === v),
  );
}

/**
 * The egress hop: the gateway the istio-remote Gateway points at, a route for the host's SNI to a backend
 * at the exporter's address, and an istiod that accepts them.
 */
function egressProblem(imp: Import, importerState: PhaseState, importer: Mesh, exporter: Mesh, port: number): string {
  const eg = importer.egress!;
  const gateway = importerState.of('egressGateway').find((g) => g.ref.name === eg.name && g.ref.namespace === eg.namespace);
  if (!gateway)
    return `${imp.importer}'s istio-remote Gateway for ${imp.exporter} points at egress gateway ${eg.namespace}/${eg.name}, which is not there`;
  if (port !== EGRESS_PORT)
    return `${imp.importer}'s istio-remote Gateway for ${imp.exporter} uses port ${port}, but the egress gateway listens on ${EGRESS_PORT}`;
  const route = importerState
    .cached('egressRoutes', () => new Map(importerState.of('egressRoute').map((r) => [r.host, r])))
    .get(imp.hostname);
  if (!route) return `${imp.importer}'s egress gateway has no route for ${imp.hostname}`;
  const b = route.backends.find((x) => x.exporter === imp.exporter);
  if (!b) return `${imp.importer}'s egress route for ${imp.hostname} does not lead to ${imp.exporter}`;
  const backend = importerState.of('egressBackend').find((x) => x.exporter === imp.exporter && x.ref.name === b.name);
  if (!backend) return `${imp.importer}'s egress gateway has no backend ${b.name} for ${imp.exporter}`;
  const want = exporter.eastWest.port ?? EGRESS_PORT;
  if (backend.port !== want || [...backend.addresses].sort().join() !== [...exporter.eastWest.addresses].sort().join())
    return (
      `${imp.importer}'s egress backend ${b.name} points at ` +
      `${backend.addresses.join(', ')}:${backend.port}, but ${imp.exporter}'s gateway is reached at ` +
      `${exporter.eastWest.addresses.join(', ')}:${want}`
    );
  if (backend.ref.kind === 'Service' && !importerState.of('egressEndpointSlice').some((x) => x.service === backend.ref.name))
    return `${imp.importer}'s egress backend Service ${b.name} has no EndpointSlice`;
  if (
    route.ref.kind === 'TLSRoute' &&
    !onOssm3(importerState, eg.namespace) &&
    !smcpPatched(importerState, ['spec', 'runtime', 'components', 'pilot', 'container', 'env', 'PILOT_ENABLE_ALPHA_GATEWAY_API'])
  )
    return `${imp.importer}'s OSSM 2 istiod ignores TLSRoutes without PILOT_ENABLE_ALPHA_GATEWAY_API`;
  if (onOssm3(importerState, eg.namespace) && !importerState.of('istio').some((x) => x.pilotEnv.PILOT_ENABLE_ALPHA_GATEWAY_API === 'true'))
    return `${imp.importer}'s OSSM 3 istiod owns the egress Gateway but refuses its TLS listener (no PILOT_ENABLE_ALPHA_GATEWAY_API)`;
  return '';
}

/** Importer side of the new path: istio-remote Gateway, entries for the hostname, client trust. */
export function newPathImporterProblem(ctx: PlanContext, imp: Import, importerState: PhaseState): string {
  const importer = ctx.mesh(imp.importer);
  const exporter = ctx.mesh(imp.exporter);
  const net = imp.link.remoteNetwork;
  const gw = importerState.cached(`rgw/${net}`, () =>
    importerState.of('remoteGateway').find((g) => g.network === net && g.addresses.length > 0),
  );
  if (!gw) return `${imp.importer} has no istio-remote Gateway for network ${net} with an address`;
  const egress = importer.egress && gw.addresses.length === 1 && gw.addresses[0] === importer.egress.host;
  if (egress) {
    const e = egressProblem(imp, importerState, importer, exporter, gw.port);
    if (e) return e;
  } else if (gw.port !== (exporter.eastWest.port ?? 15443))
    return (
      `${imp.importer}'s istio-remote Gateway for ${imp.exporter} uses port ${gw.port}, but ` +
      `${imp.exporter}'s gateway is reached on ${exporter.eastWest.port}`
    );
  const local = imp.localService;
  let clientNs: string[];
  if (local) {
    if (!selectsWorkloadEntry(importerState, local.namespace, local.selector, net))
      return `${imp.importer} has no WorkloadEntry joining its Service ${local.namespace}/${local.name} on network ${net}`;
    clientNs = importer.memberNamespaces;
  } else {
    const se = importerState
      .cached('seByHost', () => new Map(importerState.of('importServiceEntry').map((x) => [x.host, x])))
      .get(imp.hostname);
    if (!se) return `${imp.importer} has no ServiceEntry for ${imp.hostname}`;
    if (!selectsWorkloadEntry(importerState, se.ref.namespace ?? '', se.selector, net))
      return `${imp.importer}'s ServiceEntry ${se.ref.name} selects no WorkloadEntry on network ${net} with tlsMode istio`;
    clientNs = se.exportTo.filter((n) => n !== '*' && n !== '.');
  }
  for (const ns of clientNs.length ? clientNs : importer.memberNamespaces) {
    const t = trustProblem(importerState, importer, exporter, ns, 'client');
    if (t) return t;
  }
  return '';
}

/** Exporter side of the new path: east-west gateway exposing the host, ServiceEntry for it, server trust. */
export function newPathExporterProblem(ctx: PlanContext, imp: Import, exporterState: PhaseState): string {
  const importer = ctx.mesh(imp.importer);
  const exporter = ctx.mesh(imp.exporter);
  const ew = exporterState.of('eastWestGateway')[0];
  if (!ew) return `${imp.exporter} has no east-west gateway`;
  if (!exporterState.cached('exposed', () => new Set(exporterState.of('exposedServices').flatMap((g) => g.hosts))).has(imp.hostname))
    return `${imp.exporter}'s east-west gateway does not expose ${imp.hostname}`;
  const svc = imp.export.service;
  const hostSEs = exporterState.cached(
    'exporterSEs',
    () =>
      new Set(
        [...exporterState.of('exporterServiceEntry'), ...exporterState.of('importServiceEntry').filter((s) => s.localPods)].map(
          (s) => `${s.ref.namespace}/${s.host}`,
        ),
      ),
  );
  if (imp.hostname !== svc.hostname && !hostSEs.has(`${svc.namespace}/${imp.hostname}`))
    return `${imp.exporter} has no ServiceEntry giving ${imp.hostname} to ${svc.namespace}/${svc.name}`;
  if (
    onOssm3(exporterState, ew.ref.namespace ?? '') &&
    !exporterState.of('istio').some((x) => x.pilotEnv.PILOT_ENABLE_ALPHA_GATEWAY_API === 'true')
  )
    return `${imp.exporter}'s OSSM 3 istiod owns the east-west Gateway but refuses its TLS listener (no PILOT_ENABLE_ALPHA_GATEWAY_API)`;
  return trustProblem(exporterState, exporter, importer, svc.namespace, 'server');
}
