import { API, ref } from './api-versions';
import { smcpRef } from './names';
import { JsonObject } from '../json';
import { Contribute, ObjectRef, Patch } from './types';
import { Mesh } from '../model/types';

/**
 * 04-remove-federation: delete the ImportedServiceSets and ExportedServiceSets, and turn the federation
 * gateways of the SMCP off. The ServiceMeshPeers and the peers' CA ConfigMaps stay until 07: Maistra pushes
 * a peer's root to the OSSM 2 sidecars (TBDS) only while its ServiceMeshPeer exists
 * (maistra/istio@08e9b7bd27 (maistra-2.5) pkg/servicemesh/federation/discovery/controller.go:238-246,
 * 335-350: updateRootCert on delete; pilot/pkg/xds/tbds.go:54-57),
 * and OSSM 2 proxies need those roots for the direct mTLS path until 06 moves them to OSSM 3.
 *
 * Off, not removed: the SMCP is adopted, and under server-side apply a field another field manager owns (the
 * `oc apply` or console edit that made the SMCP) stays when GitOps stops declaring it — Argo CD migrates only
 * `kubectl-client-side-apply`'s fields (argo-cd@v3.4.0 gitops-engine/pkg/sync/sync_context.go:1391-1392), Flux
 * only its own list (fluxcd/kustomize-controller@186fb3b kustomization_controller.go:894-945). A value GitOps sets
 * is applied whoever owned it. Maistra renders an additional gateway only when `enabled` is true
 * (maistra/istio-operator@8143614 pkg/controller/versions/strategy_v2_5.go:636-655) and prunes what it no
 * longer renders.
 */
function planRemoveFederation(mesh: Mesh): { deletes: ObjectRef[]; patches: Patch[] } {
  const inv = mesh.inventory;
  const deletes: ObjectRef[] = [
    ...inv.importSets.map((s) => ref(API.peer, 'ImportedServiceSet', s.name, s.namespace)),
    ...inv.exportSets.map((s) => ref(API.peer, 'ExportedServiceSet', s.name, s.namespace)),
  ];
  const cp = mesh.controlPlane;
  const off = (present: string[], federation: Set<string>): JsonObject | undefined => {
    const fed = present.filter((k) => federation.has(k)).sort();
    return fed.length ? Object.fromEntries(fed.map((k) => [k, { enabled: false }])) : undefined;
  };
  const ingress = off(cp.additionalIngress, new Set(inv.peers.map((p) => p.ingressGateway)));
  const egress = off(cp.additionalEgress, new Set(inv.peers.map((p) => p.egressGateway)));
  const gateways: JsonObject = { ...(ingress ? { additionalIngress: ingress } : {}), ...(egress ? { additionalEgress: egress } : {}) };
  const patches: Patch[] = Object.keys(gateways).length
    ? [{ type: 'merge', target: smcpRef(mesh), patch: { spec: { gateways } }, why: 'turn the federation ingress/egress gateways off' }]
    : [];
  return { deletes: dedupeRefs(deletes), patches };
}

function dedupeRefs(refs: ObjectRef[]): ObjectRef[] {
  const seen = new Set<string>();
  return refs.filter((r) => {
    const k = `${r.apiVersion}/${r.kind}/${r.namespace}/${r.name}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

export const contribute: Contribute = (_ctx, mesh) => ({ '04-remove-federation': planRemoveFederation(mesh) });
