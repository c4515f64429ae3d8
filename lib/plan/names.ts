import { API, ref } from './api-versions';
import { ObjectRef } from './types';
import { ModelIndex } from '../model/model-index';
import { dnsLabel } from '../model/names';
import { Mesh } from '../model/types';

/*
 * The names, labels and references several planners, the checks and the runbooks share. A name only one
 * planner uses stays beside it.
 */

/** The SMCP: 01, 04 and 06 patch it, 07 deletes it. */
export function smcpRef(mesh: Mesh): ObjectRef {
  const cp = mesh.controlPlane;
  return ref(API.smcp, 'ServiceMeshControlPlane', cp.name, cp.namespace);
}

/** The Istio Gateway on an exporter's east-west gateway pods that exposes exactly the importers' hostnames (02). */
export const EXPOSE_GATEWAY_NAME = 'expose-services';

/** The label 03's WorkloadEntries carry with the value `istio`, so clients reach the remote endpoints with Istio mTLS. */
export const TLS_MODE_LABEL = 'security.istio.io/tlsMode';

/** The istio-remote Gateway an importer writes for an exporter (03), named after the exporter's network. */
export function remoteGatewayName(exporter: Mesh): string {
  return dnsLabel('remote-gateway', exporter.network);
}

/**
 * The Gateway API Gateways an istiod deploys for this mesh (gatewayClassName istio): the east-west gateway of an
 * exporter (02) and the egress gateway of an importer with spec.egressGateway (03, egress.ts usesEgress). 06 hands each
 * to OSSM 3 with Red Hat's labels and 07 drops them again (phase-06-migrate-workloads.ts, phase-07-finalize.ts).
 */
export function deployedGateways(ctx: ModelIndex, mesh: Mesh): ObjectRef[] {
  return [
    ...(ctx.isExporter(mesh.cluster) ? [ref(API.k8sGateway, 'Gateway', mesh.eastWest.name, mesh.eastWest.namespace)] : []),
    ...(mesh.egress && ctx.importsInto(mesh.cluster).length > 0
      ? [ref(API.k8sGateway, 'Gateway', mesh.egress.name, mesh.egress.namespace)]
      : []),
  ];
}

/** The `why` of 07's patch that drops 06's hand-over labels from a Gateway API Gateway (the runbooks find it by it). */
export const HAND_OVER_LABELS_WHY = "drop 06's hand-over labels: OSSM 3 keeps the Gateway by its namespace's revision";
