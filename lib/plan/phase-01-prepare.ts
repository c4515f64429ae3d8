import { usesEgress, usesEgressTlsRoutes } from './egress';
import { smcpRef } from './names';
import { trustDomainAliases } from './trust';
import { Contribute, Patch } from './types';
import { ModelIndex } from '../model/model-index';
import { Mesh } from '../model/types';

/**
 * istiod env set in 01: discover istio-remote Gateways; an importer whose egress gateway routes with
 * TLSRoute (spec.platform: kubernetes) also needs the alpha Gateway API kinds watched (Istio 1.20).
 */
function prepareEnv(ctx: ModelIndex, mesh: Mesh): Record<string, string> {
  const env: Record<string, string> = { PILOT_MULTI_NETWORK_DISCOVER_GATEWAY_API: 'true' };
  if (usesEgressTlsRoutes(ctx, mesh)) env.PILOT_ENABLE_ALPHA_GATEWAY_API = 'true';
  return env;
}

/**
 * A MultiTenant OSSM 2.6 control plane runs the Gateway API controllers only with
 * spec.techPreview.gatewayAPI.enabled (maistra/istio-operator@08c043ffe1 resources/helm/v2.6/
 * istio-control/istio-discovery/templates/deployment.yaml sets PILOT_ENABLE_GATEWAY_API,
 * _STATUS and _DEPLOYMENT_CONTROLLER to "false" unless gatewayAPI.enabled or ClusterWide): without it the
 * east-west (or egress) Gateway of 02/03 is never deployed. ClusterWide meshes have it on already.
 */
export function needsGatewayApi(ctx: ModelIndex, mesh: Mesh): boolean {
  return mesh.controlPlane.mode === 'MultiTenant' && (ctx.isExporter(mesh.cluster) || usesEgress(ctx, mesh));
}

/**
 * 01-prepare: the guide's "Configure control plane v2.6" merge patch: trust every peer's trust domain,
 * let istiod discover istio-remote Gateways, name the local network, stop managing NetworkPolicies so
 * the new east-west gateway is reachable.
 */
function planPrepare(ctx: ModelIndex, mesh: Mesh): Patch[] {
  const gatewayApi = needsGatewayApi(ctx, mesh);
  return [
    {
      type: 'merge',
      target: smcpRef(mesh),
      why:
        `trust peer trust domains, discover istio-remote ` +
        `gateways${usesEgressTlsRoutes(ctx, mesh) ? ', watch TLSRoutes (egress gateway)' : ''}, ` +
        `name the network, allow direct traffic to the east-west gateway` +
        (gatewayApi ? ', run the Gateway API controllers (MultiTenant)' : ''),
      patch: {
        spec: {
          techPreview: {
            meshConfig: { trustDomainAliases: trustDomainAliases(ctx, mesh) },
            ...(gatewayApi ? { gatewayAPI: { enabled: true } } : {}),
          },
          runtime: { components: { pilot: { container: { env: prepareEnv(ctx, mesh) } } } },
          cluster: { network: mesh.network },
          security: { manageNetworkPolicy: false },
        },
      },
    },
  ];
}

export const contribute: Contribute = (ctx, mesh) => ({ '01-prepare': { patches: planPrepare(ctx, mesh) } });
