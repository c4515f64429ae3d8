/**
 * MF005–MF012: the mesh pitfalls of Istio manual multi-network discovery, checked on the plan of every
 * cluster and phase, one function per rule. Most cannot happen with settings as documented; they guard
 * the renderer and the settings that could break them.
 */
import { CheckContext } from './context';
import { Finding } from './finding';
import { PhaseState } from './state';
import { JsonObject } from '../json';
import { annotatedExportTo, visibleTo } from '../model/services';
import { Mesh } from '../model/types';
import { TLS_MODE_LABEL } from '../plan/names';
import { PhasePlan, PHASES } from '../plan/types';

/**
 * API versions the OSSM 2.6 (Istio 1.20) CRDs serve, for objects applied before OSSM 3 is installed: per kind where
 * a group's kinds differ (istio@1.20.8 manifests/charts/base/crds/crd-all.gen.yaml: PeerAuthentication serves
 * v1beta1 only, AuthorizationPolicy and RequestAuthentication v1 and v1beta1; Telemetry v1alpha1).
 */
const SERVED_BY_OSSM2: Record<string, string[]> = {
  'networking.istio.io': ['v1alpha3', 'v1beta1'],
  'networking.istio.io/EnvoyFilter': ['v1alpha3'],
  'security.istio.io': ['v1', 'v1beta1'],
  'security.istio.io/PeerAuthentication': ['v1beta1'],
  'telemetry.istio.io': ['v1alpha1'],
  'gateway.networking.k8s.io': ['v1', 'v1beta1'],
  /** Experimental channel (v1.3.0), the only version Istio 1.20 watches (with PILOT_ENABLE_ALPHA_GATEWAY_API). */
  'gateway.networking.k8s.io/TLSRoute': ['v1alpha2'],
};
const OSSM3_PHASE = PHASES.indexOf('05-install-ossm3');

interface Written {
  readonly mesh: Mesh;
  readonly phasePlan: PhasePlan;
  readonly state: PhaseState;
}

/** Every written phase of every mesh, with its state. */
export function writtenPhases(c: CheckContext): Written[] {
  return c.model.meshes.flatMap((mesh) =>
    c.plan.byCluster[mesh.cluster]
      .filter((p) => p.blockedBy.length === 0)
      .map((phasePlan) => ({ mesh, phasePlan, state: c.states.get(mesh.cluster, phasePlan.phase) })),
  );
}

function remoteGatewayNetworkProblem(own: boolean): string {
  return own
    ? "this cluster's own network (local clients would be sent through the remote gateway)."
    : 'a federation network (it would replace the federation ingress address while the federation still runs).';
}

function workloadEntryNetworkProblem(own: boolean): string {
  return own
    ? 'is the local network: istiod drops an address-less endpoint there.'
    : 'no istio-remote Gateway serves: istiod has no address for it.';
}

/** MF005: istio-remote Gateways on a peer network of their own; WorkloadEntries on a network such a Gateway serves. */
export function checkNetworks(c: CheckContext): Finding[] {
  const out: Finding[] = [];
  for (const { mesh, phasePlan, state } of writtenPhases(c)) {
    const base = { rule: 'MF005', severity: 'error', cluster: mesh.cluster, phase: phasePlan.phase } as const;
    const federationNets = new Set(c.ctx.linksOf(mesh.cluster).map((l) => l.federationNetwork));
    const gatewayNets = new Set(state.of('remoteGateway').map((g) => g.network));
    for (const g of state.of('remoteGateway')) {
      if (g.network !== mesh.network && !federationNets.has(g.network)) continue;
      out.push({
        ...base,
        location: mesh.settings.source.at(['spec', 'remoteNetworks']),
        problem: `istio-remote Gateway ${g.ref.name} is on network ${g.network}, which is ${remoteGatewayNetworkProblem(g.network === mesh.network)}`,
        fix: 'Give the peer another spec.remoteNetworks name.',
      });
    }
    for (const we of state.of('importWorkloadEntry')) {
      if (gatewayNets.has(we.network) && we.network !== mesh.network) continue;
      out.push({
        ...base,
        problem:
          `WorkloadEntry ${we.ref.namespace}/${we.ref.name} is on network ${we.network}, which ` +
          workloadEntryNetworkProblem(we.network === mesh.network),
        fix: "The WorkloadEntry network must equal an istio-remote Gateway's topology.istio.io/network label.",
      });
    }
  }
  return out;
}

/** MF006: cross-network endpoints need the tlsMode label (or a service account a Kubernetes Service vouches for). */
export function checkTlsMode(c: CheckContext): Finding[] {
  return writtenPhases(c).flatMap(({ mesh, phasePlan, state }) =>
    state
      .of('importWorkloadEntry')
      .filter((we) => we.labels[TLS_MODE_LABEL] !== 'istio' && !we.serviceAccount)
      .map((we) => ({
        rule: 'MF006' as const,
        severity: 'error' as const,
        cluster: mesh.cluster,
        phase: phasePlan.phase,
        problem:
          `WorkloadEntry ${we.ref.namespace}/${we.ref.name} has no ${TLS_MODE_LABEL}: istio label, so ` +
          `cross-network endpoints without mTLS are dropped.`,
        fix: `Label it ${TLS_MODE_LABEL}: istio.`,
      })),
  );
}

/** MF007: before 05-install-ossm3 only the OSSM 2.6 CRDs serve the Istio and Gateway API kinds. */
export function checkServedVersions(c: CheckContext): Finding[] {
  const out: Finding[] = [];
  for (const { mesh, phasePlan } of writtenPhases(c)) {
    const index = PHASES.indexOf(phasePlan.phase as (typeof PHASES)[number]);
    if (index < 0 || index >= OSSM3_PHASE) continue;
    for (const r of phasePlan.adds) {
      const [group, version] = r.ref.apiVersion.includes('/') ? r.ref.apiVersion.split('/') : ['', r.ref.apiVersion];
      const served = SERVED_BY_OSSM2[`${group}/${r.ref.kind}`] ?? SERVED_BY_OSSM2[group];
      if (!served || served.includes(version)) continue;
      out.push({
        rule: 'MF007',
        severity: 'error',
        cluster: mesh.cluster,
        phase: phasePlan.phase,
        problem:
          `${r.ref.kind} ${r.ref.name} is written as ${r.ref.apiVersion}, which the OSSM 2.6 CRDs on ` +
          `the cluster do not serve before 05-install-ossm3.`,
        fix: `Use one of ${served.map((v) => `${group}/${v}`).join(', ')}.`,
      });
    }
  }
  return out;
}

/** MF008: Istio ≥ 1.25 accepts a Gateway API listener with protocol TLS only with PILOT_ENABLE_ALPHA_GATEWAY_API. */
export function checkAlphaGatewayApi(c: CheckContext): Finding[] {
  const out: Finding[] = [];
  for (const { mesh, phasePlan, state } of writtenPhases(c)) {
    const istio = state.of('istio')[0];
    if (!istio || istio.pilotEnv.PILOT_ENABLE_ALPHA_GATEWAY_API) continue;
    for (const [type, what] of [
      ['eastWestGateway', 'east-west'],
      ['egressGateway', 'egress'],
    ] as const) {
      if (state.of(type).length === 0) continue;
      out.push({
        rule: 'MF008',
        severity: 'error',
        cluster: mesh.cluster,
        phase: phasePlan.phase,
        problem:
          `the OSSM 3 istiod (Istio ≥ 1.25) refuses the ${what} Gateway's protocol: TLS listener ` +
          `without PILOT_ENABLE_ALPHA_GATEWAY_API, so once it owns the gateway (06) cross-mesh ` +
          `traffic stops.`,
        fix: `Set values.pilot.env.PILOT_ENABLE_ALPHA_GATEWAY_API: "true" on ${mesh.cluster}'s Istio.`,
      });
    }
  }
  return out;
}

/** The SMCP's spec.techPreview.meshConfig.defaultServiceExportTo, as dumped. */
function defaultServiceExportTo(mesh: Mesh): string[] {
  const spec = mesh.controlPlane.rendered.spec as JsonObject | undefined;
  const meshConfig = (spec?.techPreview as JsonObject | undefined)?.meshConfig as JsonObject | undefined;
  return (meshConfig?.defaultServiceExportTo ?? []) as string[];
}

/** The exportTo a Service carries (its networking.istio.io/exportTo annotation), else the mesh default. */
function serviceExportTo(mesh: Mesh, annotations: Record<string, string>): string[] {
  const annotated = annotatedExportTo(annotations);
  if (annotated.length) return annotated;
  const defaults = defaultServiceExportTo(mesh);
  return defaults.length ? defaults : ['*'];
}

/**
 * MF009: the east-west gateway routes an importer's hostname only to a host it can see: the exporter
 * ServiceEntries meshfed renders (their exportTo), or the exported Service itself when importers use its
 * own name (its exportTo annotation, else the SMCP's defaultServiceExportTo).
 */
export function checkDefaultExportTo(c: CheckContext): Finding[] {
  const out: Finding[] = [];
  for (const mesh of c.model.meshes) {
    if (!c.ctx.isExporter(mesh.cluster)) continue;
    const gatewayNs = mesh.eastWest.namespace;
    const base = { rule: 'MF009', severity: 'error', cluster: mesh.cluster, phase: '02-export' } as const;
    const state = c.plan.byCluster[mesh.cluster].some((p) => p.phase === '02-export') ? c.states.get(mesh.cluster, '02-export') : undefined;
    for (const se of state?.of('exporterServiceEntry') ?? []) {
      if (visibleTo(se.exportTo, se.ref.namespace ?? '', gatewayNs)) continue;
      out.push({
        ...base,
        problem:
          `ServiceEntry ${se.ref.namespace}/${se.ref.name} (exportTo ${JSON.stringify(se.exportTo)}) is hidden from ` +
          `the east-west gateway in ${gatewayNs}, so it has no route for ${se.host}.`,
        fix: `Render it with exportTo including "${gatewayNs}".`,
      });
    }
    const seen = new Set<string>();
    for (const imp of c.ctx.importsFrom(mesh.cluster)) {
      const svc = imp.export.service;
      if (imp.hostname !== svc.hostname || svc.kind !== 'Service' || seen.has(svc.hostname)) continue;
      seen.add(svc.hostname);
      const service = mesh.inventory.services.find((s) => s.name === svc.name && s.namespace === svc.namespace);
      const exportTo = serviceExportTo(mesh, service?.annotations ?? {});
      if (visibleTo(exportTo, svc.namespace, gatewayNs)) continue;
      const annotated = service?.annotations['networking.istio.io/exportTo'] !== undefined;
      out.push({
        ...base,
        location: annotated
          ? svc.source.at(['metadata', 'annotations', 'networking.istio.io/exportTo'])
          : mesh.controlPlane.source.at(['spec', 'techPreview', 'meshConfig', 'defaultServiceExportTo']),
        problem:
          `${imp.importer} imports ${svc.namespace}/${svc.name} under its own name ${svc.hostname}, but its exportTo ` +
          `${JSON.stringify(exportTo)} hides it from the east-west gateway in ${gatewayNs}, so the gateway has no route for it.`,
        fix: `Add "${gatewayNs}" (or "*") to ${annotated ? 'the networking.istio.io/exportTo annotation' : 'defaultServiceExportTo'}.`,
      });
    }
  }
  return out;
}

/** MF010: multi-port exports change behaviour (Maistra routed every port of a multi-port export to 15443). */
export function checkMultiPort(c: CheckContext): Finding[] {
  const out: Finding[] = [];
  for (const mesh of c.model.meshes) {
    const seen = new Set<string>();
    for (const imp of c.ctx.importsFrom(mesh.cluster)) {
      const svc = imp.export.service;
      const key = `${svc.namespace}/${svc.name}`;
      if (svc.ports.length < 2 || seen.has(key)) continue;
      seen.add(key);
      out.push({
        rule: 'MF010',
        severity: 'warning',
        cluster: mesh.cluster,
        phase: '03-import',
        location: svc.source.at(['spec', 'ports']),
        problem:
          `${key} exports ${svc.ports.length} ports; Maistra routed its imports without a port, so only ` +
          `one behaved, while the new path serves every port: cross-mesh behaviour changes at ` +
          `03-import.`,
        fix: 'Test every port from the importers after 03-import (spec.verify), and check clients did not depend on the old behaviour.',
      });
    }
  }
  return out;
}

/** MF011: Sail's Istio and IstioCNI are cluster-scoped. */
export function checkSailScope(c: CheckContext): Finding[] {
  return writtenPhases(c).flatMap(({ mesh, phasePlan }) =>
    phasePlan.adds
      .filter((r) => (r.type === 'istio' || r.type === 'istioCni') && r.ref.namespace)
      .map((r) => ({
        rule: 'MF011' as const,
        severity: 'error' as const,
        cluster: mesh.cluster,
        phase: phasePlan.phase,
        problem:
          `${r.ref.kind} ${r.ref.name} has a namespace, but Sail kinds are cluster-scoped: Argo CD ` +
          `shows an eternal diff and the API server ignores it.`,
        fix: 'Render Sail kinds without metadata.namespace (no namespace: transformer).',
      })),
  );
}

/** MF012: imported hostnames are not in cluster DNS; OSSM 3 proxies must capture DNS to resolve them. */
export function checkDnsCapture(c: CheckContext): Finding[] {
  const out: Finding[] = [];
  for (const { mesh, phasePlan, state } of writtenPhases(c)) {
    const istio = state.of('istio')[0];
    const entries = state.of('importServiceEntry');
    if (!istio || istio.dnsCapture || entries.length === 0) continue;
    out.push({
      rule: 'MF012',
      severity: 'error',
      cluster: mesh.cluster,
      phase: phasePlan.phase,
      problem:
        `imported hostnames such as ${entries[0].host} are not in cluster DNS, and OSSM 3 proxies do not ` +
        'capture DNS: clients cannot resolve them.',
      fix: 'Set meshConfig.defaultConfig.proxyMetadata.ISTIO_META_DNS_CAPTURE: "true".',
    });
  }
  return out;
}
