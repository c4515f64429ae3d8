import { Finding } from './finding';
import { States } from './state';
import { JsonObject } from '../load/yaml-source';
import { FederationModel } from '../model/types';
import { PlanContext } from '../plan/context';
import { TLS_MODE_LABEL } from '../plan/phase-03-import';
import { PhaseId, PHASES, Plan } from '../plan/types';

/** API versions the OSSM 2.6 (Istio 1.20) CRDs serve, for objects applied before OSSM 3 is installed. */
const SERVED_BY_OSSM2: Record<string, string[]> = {
  'networking.istio.io': ['v1alpha3', 'v1beta1'],
  'security.istio.io': ['v1', 'v1beta1'],
  'gateway.networking.k8s.io': ['v1', 'v1beta1'],
  /** Experimental channel (v1.3.0), the only version Istio 1.20 watches (with PILOT_ENABLE_ALPHA_GATEWAY_API). */
  'gateway.networking.k8s.io/TLSRoute': ['v1alpha2'],
};
const OSSM3_PHASE = PHASES.indexOf('05-install-ossm3');

/**
 * MF005–MF012: the mesh pitfalls of Istio manual multi-network discovery, checked on the plan of every
 * cluster and phase. Most cannot happen with settings as documented; they guard the renderer and the
 * settings that could break them.
 */
export function checkPitfalls(model: FederationModel, plan: Plan): Finding[] {
  const ctx = new PlanContext(model);
  const states = new States(plan);
  const out: Finding[] = [];
  for (const mesh of model.meshes) {
    const c = mesh.cluster;
    const at = (path: (string | number)[]) => mesh.settings.source.at(path);
    const federationNets = new Set(ctx.linksOf(c).map((l) => l.federationNetwork));
    for (const phasePlan of plan.byCluster[c]) {
      if (phasePlan.blockedBy.length) continue;
      const phase = phasePlan.phase;
      const s = states.get(c, phase);
      const gwNets = new Set(s.of('remoteGateway').map((g) => g.network));
      for (const g of s.of('remoteGateway')) {
        if (g.network === mesh.network || federationNets.has(g.network))
          out.push({
            rule: 'MF005',
            severity: 'error',
            cluster: c,
            phase,
            location: at(['spec', 'remoteNetworks']),
            problem:
              `istio-remote Gateway ${g.ref.name} is on network ${g.network}, which is ` +
              (g.network === mesh.network
                ? "this cluster's own network (local clients would be sent through the remote gateway)."
                : 'a federation network (it would replace the federation ingress address while the federation still runs).'),
            fix: 'Give the peer another spec.remoteNetworks name.',
          });
      }
      for (const we of s.of('importWorkloadEntry')) {
        if (!gwNets.has(we.network) || we.network === mesh.network)
          out.push({
            rule: 'MF005',
            severity: 'error',
            cluster: c,
            phase,
            problem:
              `WorkloadEntry ${we.ref.namespace}/${we.ref.name} is on network ${we.network}, which ` +
              (we.network === mesh.network
                ? 'is the local network: istiod drops an address-less endpoint there.'
                : 'no istio-remote Gateway serves: istiod has no address for it.'),
            fix: "The WorkloadEntry network must equal an istio-remote Gateway's topology.istio.io/network label.",
          });
        if (we.labels[TLS_MODE_LABEL] !== 'istio' && !we.serviceAccount)
          out.push({
            rule: 'MF006',
            severity: 'error',
            cluster: c,
            phase,
            problem:
              `WorkloadEntry ${we.ref.namespace}/${we.ref.name} has no ${TLS_MODE_LABEL}: istio label, so ` +
              `cross-network endpoints without mTLS are dropped.`,
            fix: `Label it ${TLS_MODE_LABEL}: istio.`,
          });
      }
      for (const r of phasePlan.adds) {
        const [group, version] = r.ref.apiVersion.includes('/') ? r.ref.apiVersion.split('/') : ['', r.ref.apiVersion];
        const served = SERVED_BY_OSSM2[`${group}/${r.ref.kind}`] ?? SERVED_BY_OSSM2[group];
        const at = (PHASES as readonly PhaseId[]).indexOf(phase);
        if (at >= 0 && at < OSSM3_PHASE && served && !served.includes(version))
          out.push({
            rule: 'MF007',
            severity: 'error',
            cluster: c,
            phase,
            problem:
              `${r.ref.kind} ${r.ref.name} is written as ${r.ref.apiVersion}, which the OSSM 2.6 CRDs on ` +
              `the cluster do not serve before 05-install-ossm3.`,
            fix: `Use one of ${served.map((v) => `${group}/${v}`).join(', ')}.`,
          });
        if ((r.type === 'istio' || r.type === 'istioCni') && r.ref.namespace)
          out.push({
            rule: 'MF011',
            severity: 'error',
            cluster: c,
            phase,
            problem:
              `${r.ref.kind} ${r.ref.name} has a namespace, but Sail kinds are cluster-scoped: Argo CD ` +
              `shows an eternal diff and the API server ignores it.`,
            fix: 'Render Sail kinds without metadata.namespace (no namespace: transformer).',
          });
      }
      const istio = s.of('istio')[0];
      for (const [type, what] of [
        ['eastWestGateway', 'east-west'],
        ['egressGateway', 'egress'],
      ] as const) {
        if (istio && s.of(type).length && !istio.pilotEnv.PILOT_ENABLE_ALPHA_GATEWAY_API)
          out.push({
            rule: 'MF008',
            severity: 'error',
            cluster: c,
            phase,
            problem:
              `the OSSM 3 istiod (Istio ≥ 1.25) refuses the ${what} Gateway's protocol: TLS listener ` +
              `without PILOT_ENABLE_ALPHA_GATEWAY_API, so once it owns the gateway (06) cross-mesh ` +
              `traffic stops.`,
            fix: `Set values.pilot.env.PILOT_ENABLE_ALPHA_GATEWAY_API: "true" on ${c}'s Istio.`,
          });
      }
      if (istio && !istio.dnsCapture && s.of('importServiceEntry').length)
        out.push({
          rule: 'MF012',
          severity: 'error',
          cluster: c,
          phase,
          problem:
            'imported hostnames such as ' +
            s.of('importServiceEntry')[0].host +
            ' are not in cluster DNS, and OSSM 3 proxies do not capture DNS: clients cannot resolve them.',
          fix: 'Set meshConfig.defaultConfig.proxyMetadata.ISTIO_META_DNS_CAPTURE: "true".',
        });
    }
    // MF009: exporter ServiceEntries carry no exportTo, so the mesh default applies; it must let the gateway see them.
    const defaults = ((
      ((mesh.controlPlane.rendered.spec as JsonObject | undefined)?.techPreview as JsonObject | undefined)?.meshConfig as
        JsonObject | undefined
    )?.defaultServiceExportTo ?? []) as string[];
    if (ctx.isExporter(c) && defaults.length && !defaults.includes('*') && !defaults.includes(mesh.eastWest.namespace)) {
      out.push({
        rule: 'MF009',
        severity: 'error',
        cluster: c,
        phase: '02-export',
        location: mesh.controlPlane.source.at(['spec', 'techPreview', 'meshConfig', 'defaultServiceExportTo']),
        problem:
          `defaultServiceExportTo ${JSON.stringify(defaults)} hides the exporter ServiceEntries from ` +
          `the east-west gateway in ${mesh.eastWest.namespace}, so it has no route for the imported ` +
          `hostnames.`,
        fix: `Add "${mesh.eastWest.namespace}" (or "*") to defaultServiceExportTo.`,
      });
    }
    // MF010: multi-port exports change behaviour (Maistra routed every port of a multi-port export to 15443).
    const seen = new Set<string>();
    for (const i of ctx.importsFrom(c)) {
      const svc = i.export.service;
      const k = `${svc.namespace}/${svc.name}`;
      if (svc.ports.length < 2 || seen.has(k)) continue;
      seen.add(k);
      out.push({
        rule: 'MF010',
        severity: 'warning',
        cluster: c,
        phase: '03-import',
        location: svc.source.at(['spec', 'ports']),
        problem:
          `${k} exports ${svc.ports.length} ports; Maistra routed its imports without a port, so only ` +
          `one behaved, while the new path serves every port: cross-mesh behaviour changes at ` +
          `03-import.`,
        fix: 'Test every port from the importers after 03-import (spec.verify), and check clients did not depend on the old behaviour.',
      });
    }
  }
  return out;
}
