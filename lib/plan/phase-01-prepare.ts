import { Mesh } from '../model/types';
import { PlanContext } from './context';
import { API, ref } from './refs';
import { Patch } from './types';

/** Trust domains this mesh must accept: its existing aliases, then every peer's (sorted). */
export function trustDomainAliases(ctx: PlanContext, mesh: Mesh): string[] {
  const peers = ctx.linksOf(mesh.cluster).map((l) => ctx.mesh(l.remote).trustDomain).sort();
  const out = [...mesh.controlPlane.trustDomainAliases];
  for (const td of peers) if (!out.includes(td)) out.push(td);
  return out;
}

export function smcpRef(mesh: Mesh) {
  const cp = mesh.controlPlane;
  return ref(API.smcp, 'ServiceMeshControlPlane', cp.name, cp.namespace);
}

/**
 * 01-prepare: the guide's "Configure control plane v2.6" merge patch: trust every peer's trust domain,
 * let istiod discover istio-remote Gateways, name the local network, stop managing NetworkPolicies so
 * the new east-west gateway is reachable.
 */
export function planPrepare(ctx: PlanContext, mesh: Mesh): Patch[] {
  return [
    {
      type: 'merge',
      target: smcpRef(mesh),
      why: 'trust peer trust domains, discover istio-remote gateways, name the network, allow direct traffic to the east-west gateway',
      patch: {
        spec: {
          techPreview: { meshConfig: { trustDomainAliases: trustDomainAliases(ctx, mesh) } },
          runtime: { components: { pilot: { container: { env: { PILOT_MULTI_NETWORK_DISCOVER_GATEWAY_API: 'true' } } } } },
          cluster: { network: mesh.network },
          security: { manageNetworkPolicy: false },
        },
      },
    },
  ];
}
