import { MemoFamily, memoFamily, PhaseState } from './state';
import { valueAt } from '../json';
import { ModelIndex } from '../model/model-index';
import { spiffeId } from '../model/names';
import { Import, Mesh, PeerLink } from '../model/types';
import { EGRESS_PORT } from '../plan/egress';
import { GATEWAY_NAME_LABEL, OSSM2_GATEWAY_LABEL } from '../plan/gateway-pods';
import { TLS_MODE_LABEL } from '../plan/names';
import { smcpGateways } from '../plan/north-south';
import { NETWORK_RESTART_ANNOTATION, ossm2Sidecar, workloadKey } from '../plan/restart';
import { refKey, Resource } from '../plan/types';

type WorkloadEntry = Extract<Resource, { type: 'importWorkloadEntry' }>;
type EgressRoute = Extract<Resource, { type: 'egressRoute' }>;
type ImportServiceEntry = Extract<Resource, { type: 'importServiceEntry' }>;
type ExposedServices = Extract<Resource, { type: 'exposedServices' }>;
type SelectingGateway = Extract<Resource, { type: 'exposedServices' | 'egressPassthroughGateway' }>;
type Role = 'client' | 'server';
type GatewayMap = 'additionalIngress' | 'additionalEgress';

// The memo families of these rules (lib/check/state.ts): one constant per question, keyed by what the rule holds.
/** The SMCP's trust domain aliases, per mesh. */
const SMCP_ALIASES = memoFamily<Mesh, string[]>({ withPatches: true });
/** Whether a namespace's workloads are on the OSSM 3 revision, per namespace. */
const ON_OSSM3 = memoFamily<string, boolean>({ withPatches: true });
/** Whether an SMCP federation gateway is still there, per gateway name: one family per gateway map. */
const GATEWAY_PRESENT: Record<GatewayMap, MemoFamily<string, boolean>> = {
  additionalIngress: memoFamily({ withPatches: true }),
  additionalEgress: memoFamily({ withPatches: true }),
};
/** Trust problems per link, then per workload namespace: one family per side. */
const TRUST_PROBLEMS: Record<Role, MemoFamily<PeerLink, Map<string, string>>> = {
  client: memoFamily({ withPatches: true }),
  server: memoFamily({ withPatches: true }),
};
/** tlsMode-istio WorkloadEntries by namespace, label and value, per cluster. */
const WORKLOAD_ENTRY_INDEX = memoFamily<string, Map<string, Map<string, Map<string, WorkloadEntry[]>>>>();
/** Egress routes by host, per cluster. */
const EGRESS_ROUTES = memoFamily<string, Map<string, EgressRoute>>();
/** An Istio Gateway's pod selector as the JSON patches so far leave it, per Gateway. */
const GATEWAY_SELECTOR = memoFamily<SelectingGateway, Record<string, string>>({ withPatches: true });
/** A namespace's OSSM 2 clients without a network, per namespace. */
const NETWORKLESS_CLIENTS = memoFamily<string, string[]>();
/** The istio-remote Gateway with an address, per network. */
const REMOTE_GATEWAY = memoFamily<string, Extract<Resource, { type: 'remoteGateway' }> | undefined>();
/** Imported ServiceEntries by host, per cluster. */
const IMPORT_SERVICE_ENTRIES = memoFamily<string, Map<string, ImportServiceEntry>>();
/** The first exposing Gateway per host, per cluster. */
const EXPOSED_BY_HOST = memoFamily<string, Map<string, ExposedServices>>();
/** `<namespace>/<host>` of the ServiceEntries that give a host to local pods, per cluster. */
const EXPORTER_SERVICE_ENTRIES = memoFamily<string, Set<string>>();

/** The SMCP's trust domain aliases in this state: the last merge patch that sets them, else the dump's. */
export function smcpAliases(state: PhaseState, mesh: Mesh): string[] {
  return state.memo(SMCP_ALIASES, mesh, () => computeSmcpAliases(state, mesh));
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
    const v = valueAt(p.patch, path);
    if (v !== undefined) out = v;
  }
  return out;
}

/** True once the namespace holding `ns` workloads was moved to the OSSM 3 revision. */
export function onOssm3(state: PhaseState, ns: string): boolean {
  if (state.phase === 'multicluster') return true; // greenfield: there is only OSSM 3
  return state.memo(ON_OSSM3, ns, () =>
    state.patches.some(
      (p) =>
        p.type === 'merge' && p.target.kind === 'Namespace' && p.target.name === ns && JSON.stringify(p.patch).includes('"istio.io/rev"'),
    ),
  );
}

/** Federation gateways still in the SMCP (not removed by a JSON patch). */
export function federationGatewayPresent(state: PhaseState, map: GatewayMap, key: string): boolean {
  return state.memo(
    GATEWAY_PRESENT[map],
    key,
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
function trustProblem(state: PhaseState, mesh: Mesh, peer: Mesh, link: PeerLink, workloadNs: string, role: Role): string {
  // One link leads to one peer.
  const perLink = state.memo(TRUST_PROBLEMS[role], link, () => new Map<string, string>());
  let problem = perLink.get(workloadNs);
  if (problem === undefined) perLink.set(workloadNs, (problem = computeTrustProblem(state, mesh, peer, link, workloadNs, role)));
  return problem;
}

/**
 * OSSM 2 sidecars validate a peer's certificates with the roots Maistra pushes them (TBDS) from the
 * ServiceMeshPeer's CA ConfigMap, and only while the ServiceMeshPeer exists (phase-04-remove-federation).
 */
function ossm2TrustProblem(state: PhaseState, mesh: Mesh, peer: Mesh, link: PeerLink, role: Role): string {
  if (!smcpAliases(state, mesh).includes(peer.trustDomain)) {
    return `${mesh.cluster}'s SMCP does not list ${peer.trustDomain} in trustDomainAliases (${role} side)`;
  }
  if (!state.has('ServiceMeshPeer', link.peer.name, link.peer.namespace)) {
    return `${mesh.cluster}'s OSSM 2 proxies lose ${peer.cluster}'s root: ServiceMeshPeer ${link.peer.name} is deleted (${role} side)`;
  }
  const cm = link.caConfigMap;
  if (cm && !state.has('ConfigMap', cm.name, cm.namespace)) {
    return `${mesh.cluster}'s OSSM 2 proxies lose ${peer.cluster}'s root: ConfigMap ${cm.namespace}/${cm.name} is deleted (${role} side)`;
  }
  return '';
}

function computeTrustProblem(state: PhaseState, mesh: Mesh, peer: Mesh, link: PeerLink, workloadNs: string, role: Role): string {
  // The control plane's namespace holds OSSM 2 proxies (the SMCP's gateways) only while the SMCP exists; from 06
  // meshfed's taken-over gateway pods there are OSSM 3's, and after 07 the only ones.
  const cp = mesh.controlPlane;
  const smcpGone = workloadNs === cp.namespace && !state.has('ServiceMeshControlPlane', cp.name, cp.namespace);
  if (!onOssm3(state, workloadNs) && !smcpGone) return ossm2TrustProblem(state, mesh, peer, link, role);
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

/** WorkloadEntries with tlsMode istio, by namespace, label and value, for every label they carry. */
function workloadEntryIndex(importerState: PhaseState): Map<string, Map<string, Map<string, WorkloadEntry[]>>> {
  return importerState.memo(WORKLOAD_ENTRY_INDEX, importerState.cluster, () => {
    const index = new Map<string, Map<string, Map<string, WorkloadEntry[]>>>();
    for (const w of importerState.of('importWorkloadEntry')) {
      if (w.labels[TLS_MODE_LABEL] !== 'istio') continue;
      const ns = w.ref.namespace ?? '';
      let byLabel = index.get(ns);
      if (!byLabel) index.set(ns, (byLabel = new Map()));
      for (const [k, v] of Object.entries(w.labels)) {
        let byValue = byLabel.get(k);
        if (!byValue) byLabel.set(k, (byValue = new Map()));
        const list = byValue.get(v);
        if (list) list.push(w);
        else byValue.set(v, [w]);
      }
    }
    return index;
  });
}

/** The tlsMode-istio WorkloadEntries on `net` in `ns` carrying every label of `selector`. */
function selectedWorkloadEntries(importerState: PhaseState, ns: string, selector: Record<string, string>, net: string): WorkloadEntry[] {
  const keys = Object.keys(selector);
  if (keys.length === 0) return [];
  const candidates = workloadEntryIndex(importerState).get(ns)?.get(keys[0])?.get(selector[keys[0]]) ?? [];
  return candidates.filter((w) => w.network === net && keys.every((k) => w.labels[k] === selector[k]));
}

/** Is there a tlsMode-istio WorkloadEntry on `net` in `ns` carrying every label of `selector`? */
function selectsWorkloadEntry(importerState: PhaseState, ns: string, selector: Record<string, string>, net: string): boolean {
  return selectedWorkloadEntries(importerState, ns, selector, net).length > 0;
}

/**
 * Why no WorkloadEntry joining a local Service gives istiod an endpoint for the import: none stands for the exporter's
 * namespace, none is there, or a Service port whose targetPort is a
 * name makes istiod look the name up in the entry's ports and skip the entry without it (istio/istio@1.27.3
 * pilot/pkg/serviceregistry/kube/controller/controller.go:807-816; maistra/istio@maistra-2.6 controller.go:765-777).
 */
function joiningEntryProblem(imp: Import, importerState: PhaseState, exporter: Mesh, net: string): string {
  const local = imp.localService!;
  const svc = imp.export.service;
  // A Kubernetes Service vouches only for identities in its own namespace (the WorkloadEntry's service
  // account becomes spiffe://<local td>/ns/<ns>/sa/<sa>, istio/istio@1.20.8 serviceentry/conversion.go:433).
  if (svc.namespace !== local.namespace)
    return (
      `${imp.importer}'s clients would reject ${imp.exporter}'s identity ` +
      `${spiffeId(exporter.trustDomain, svc.namespace, svc.serviceAccounts[0] ?? 'default')}: a WorkloadEntry joining ` +
      `${local.namespace}/${local.name} can only stand for namespace ${local.namespace}`
    );
  const entries = selectedWorkloadEntries(importerState, local.namespace, local.selector, net);
  if (!entries.length) return `${imp.importer} has no WorkloadEntry joining its Service ${local.namespace}/${local.name} on network ${net}`;
  for (const p of local.ports) {
    const name = p.targetPort;
    if (typeof name !== 'string' || entries.some((w) => (w.ports?.[name] ?? 0) > 0)) continue;
    return (
      `${imp.importer}'s WorkloadEntry joining its Service ${local.namespace}/${local.name} has no port "${name}", the Service's ` +
      `named targetPort for port ${p.port}: istiod skips the endpoint, so ${imp.hostname} from ${imp.exporter} has none`
    );
  }
  return '';
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
  const deploy = gatewayDeployProblem(importerState, importer, eg.namespace, 'egress');
  if (deploy) return deploy;
  if (port !== EGRESS_PORT)
    return `${imp.importer}'s istio-remote Gateway for ${imp.exporter} uses port ${port}, but the egress gateway listens on ${EGRESS_PORT}`;
  const route = importerState
    .memo(EGRESS_ROUTES, importerState.cluster, () => new Map(importerState.of('egressRoute').map((r) => [r.host, r])))
    .get(imp.hostname);
  if (!route) return `${imp.importer}'s egress gateway has no route for ${imp.hostname}`;
  if (route.ref.kind === 'VirtualService') {
    const via = importerState
      .of('egressPassthroughGateway')
      .find((g) => g.ref.name === route.gatewayName && g.ref.namespace === eg.namespace);
    if (!via) return `${imp.importer}'s egress route for ${imp.hostname} names Gateway ${route.gatewayName}, which is not there`;
    const selects = selectorProblem(importerState, via, eg.namespace, eg.name, `${imp.importer}'s Gateway ${via.ref.name}`);
    if (selects) return selects;
  }
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

/** The SMCP value at `path` in this state: the last merge patch that sets it, else the dump's. */
function smcpValue(state: PhaseState, mesh: Mesh, path: string[]): unknown {
  const patched = smcpPatched(state, path);
  return patched !== undefined ? patched : valueAt(mesh.controlPlane.rendered, path);
}

/**
 * Why the istiod that owns the Gateway API gateways in `ns` does not deploy one (empty when it does).
 * OSSM 2.6 runs the Gateway API controllers only in ClusterWide mode or with
 * spec.techPreview.gatewayAPI.enabled (maistra/istio-operator@08c043ffe1 resources/helm/v2.6/
 * istio-control/istio-discovery/templates/deployment.yaml: PILOT_ENABLE_GATEWAY_API{,_STATUS,
 * _DEPLOYMENT_CONTROLLER}=false unless gatewayAPI.enabled or global.clusterWide).
 */
export function gatewayDeployProblem(state: PhaseState, mesh: Mesh, ns: string, what: string): string {
  if (onOssm3(state, ns) || mesh.controlPlane.mode === 'ClusterWide') return '';
  if (smcpValue(state, mesh, ['spec', 'techPreview', 'gatewayAPI', 'enabled']) === true) return '';
  return (
    `${mesh.cluster}'s MultiTenant SMCP runs no Gateway API deployment controller ` +
    `(spec.techPreview.gatewayAPI.enabled is not true), so the ${what} gateway is never deployed`
  );
}

/**
 * The gateway-name labels on the pods of the Kubernetes Gateway `name` in `ns`: OSSM 2.6 sets
 * istio.io/gateway-name; Istio ≥ 1.24 sets only gateway.networking.k8s.io/gateway-name on what it deploys
 * and keeps the old label on the Deployment OSSM 2.6 created while it exists (lib/plan/gateway-pods.ts).
 * Once OSSM 2 is gone (07) meshfed counts on the new label only.
 */
function gatewayPodLabels(state: PhaseState, ns: string, name: string): Record<string, string> {
  if (state.phase === 'multicluster') return { [GATEWAY_NAME_LABEL]: name };
  if (!onOssm3(state, ns)) return { [OSSM2_GATEWAY_LABEL]: name };
  if (state.phase === '07-finalize') return { [GATEWAY_NAME_LABEL]: name };
  return { [OSSM2_GATEWAY_LABEL]: name, [GATEWAY_NAME_LABEL]: name };
}

/** An Istio Gateway's pod selector in this state: as planned, or as a later JSON patch replaced it. */
function selectorOf(state: PhaseState, gateway: SelectingGateway): Record<string, string> {
  return state.memo(GATEWAY_SELECTOR, gateway, () => {
    let selector = gateway.selector;
    for (const p of state.patches) {
      if (p.type !== 'json6902' || refKey(p.target) !== refKey(gateway.ref)) continue;
      for (const op of p.ops) if (op.op === 'replace' && op.path === '/spec/selector') selector = op.value as Record<string, string>;
    }
    return selector;
  });
}

/** Why an Istio Gateway's selector matches none of the gateway's pods (empty when it matches). */
function selectorProblem(state: PhaseState, gateway: SelectingGateway, ns: string, name: string, what: string): string {
  const selector = selectorOf(state, gateway);
  const labels = gatewayPodLabels(state, ns, name);
  if (Object.entries(selector).every(([k, v]) => labels[k] === v)) return '';
  return `${what} selects ${JSON.stringify(selector)}, but the ${name} pods carry ${JSON.stringify(labels)} in this state`;
}

/**
 * Client namespaces whose OSSM 2 proxies have no network: their pods were injected before 01 set it and
 * no restart in this state gave them one. istiod drops every address-less WorkloadEntry for them
 * (istio/istio#58612; lib/plan/restart.ts planNetworkRestart).
 */
function networklessClients(state: PhaseState, mesh: Mesh, ns: string): string[] {
  if (onOssm3(state, ns)) return [];
  return state.memo(NETWORKLESS_CLIENTS, ns, () => {
    const restarted = new Set<string>();
    for (const job of state.of('restartJob')) {
      if (job.annotation !== NETWORK_RESTART_ANNOTATION || job.value !== mesh.network) continue;
      for (const w of job.workloads) if (w.namespace === ns) restarted.add(`${w.kind}/${w.name}`);
    }
    // The workloads spec.workloadRestart.skipNetworkRestart leaves out call no import, the user says (MF026 names each).
    const skipped = new Set(mesh.settings.workloadRestart.skipNetworkRestart);
    // The SMCP's own gateways roll by themselves: the operator re-renders them with ISTIO_META_NETWORK from the
    // network 01 sets (maistra/istio-operator@8143614c resources/helm/v2.5/gateways/istio-ingress/templates/
    // deployment.yaml:320-323; istio-egress likewise).
    const operator = new Set([
      ...smcpGateways(mesh).map((g) => `${g.namespace}/${g.name}`),
      ...mesh.inventory.peers.flatMap((p) => [p.ingressGateway, p.egressGateway].map((g) => `${mesh.controlPlane.namespace}/${g}`)),
    ]);
    // A pod without an OSSM 2 sidecar has no proxy to carry a network (lib/plan/restart.ts ossm2Sidecar).
    return mesh.inventory.workloads
      .filter((w) => w.namespace === ns && !restarted.has(`${w.kind}/${w.name}`) && !skipped.has(workloadKey(w)))
      .filter((w) => ossm2Sidecar(mesh, w).injected)
      .filter((w) => !(w.kind === 'Deployment' && operator.has(`${w.namespace}/${w.name}`)))
      .map((w) => `${w.kind}/${w.name}`);
  });
}

/** Importer side of the new path: istio-remote Gateway, entries for the hostname, client trust. */
export function newPathImporterProblem(ctx: ModelIndex, imp: Import, importerState: PhaseState): string {
  const importer = ctx.mesh(imp.importer);
  const exporter = ctx.mesh(imp.exporter);
  const net = imp.link.remoteNetwork;
  const gw = importerState.memo(REMOTE_GATEWAY, net, () =>
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
    const joined = joiningEntryProblem(imp, importerState, exporter, net);
    if (joined) return joined;
    clientNs = importer.memberNamespaces;
  } else {
    const se = importerState
      .memo(IMPORT_SERVICE_ENTRIES, importerState.cluster, () => new Map(importerState.of('importServiceEntry').map((x) => [x.host, x])))
      .get(imp.hostname);
    if (!se) return `${imp.importer} has no ServiceEntry for ${imp.hostname}`;
    if (!selectsWorkloadEntry(importerState, se.ref.namespace ?? '', se.selector, net))
      return `${imp.importer}'s ServiceEntry ${se.ref.name} selects no WorkloadEntry on network ${net} with tlsMode istio`;
    // Where the ServiceEntry is visible: "." is its own namespace, "*" every one (push_context.go IsServiceVisible).
    clientNs = se.exportTo.includes('*') ? [] : se.exportTo.map((n) => (n === '.' ? (se.ref.namespace ?? '') : n));
  }
  for (const ns of clientNs.length ? clientNs : importer.memberNamespaces) {
    const t = trustProblem(importerState, importer, exporter, imp.link, ns, 'client');
    if (t) return t;
    const stale = networklessClients(importerState, importer, ns);
    if (stale.length)
      return (
        `${imp.importer}'s clients in ${ns} (${stale.slice(0, 3).join(', ')}${stale.length > 3 ? ', …' : ''}) were injected before ` +
        `01-prepare set the network and were not restarted: istiod gives their proxies no address-less WorkloadEntry (istio/istio#58612)`
      );
  }
  return '';
}

/** Exporter side of the new path: east-west gateway exposing the host, ServiceEntry for it, server trust. */
export function newPathExporterProblem(ctx: ModelIndex, imp: Import, exporterState: PhaseState): string {
  const importer = ctx.mesh(imp.importer);
  const exporter = ctx.mesh(imp.exporter);
  const ew = exporterState.of('eastWestGateway')[0];
  if (!ew) return `${imp.exporter} has no east-west gateway`;
  const ewNs = ew.ref.namespace ?? '';
  const deploy = gatewayDeployProblem(exporterState, exporter, ewNs, 'east-west');
  if (deploy) return deploy;
  const exposing = exporterState
    .memo(EXPOSED_BY_HOST, exporterState.cluster, () => {
      const m = new Map<string, ExposedServices>();
      for (const g of exporterState.of('exposedServices')) for (const h of g.hosts) if (!m.has(h)) m.set(h, g);
      return m;
    })
    .get(imp.hostname);
  if (!exposing) return `${imp.exporter}'s east-west gateway does not expose ${imp.hostname}`;
  const selects = selectorProblem(exporterState, exposing, ewNs, ew.ref.name, `${imp.exporter}'s Gateway ${exposing.ref.name}`);
  if (selects) return selects;
  const svc = imp.export.service;
  const hostSEs = exporterState.memo(
    EXPORTER_SERVICE_ENTRIES,
    exporterState.cluster,
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
  return trustProblem(exporterState, exporter, importer, imp.export.link, svc.namespace, 'server');
}
