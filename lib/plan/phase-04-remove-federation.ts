import { API, ref } from './api-versions';
import { Contribute, ObjectRef, Patch } from './types';
import { Mesh } from '../model/types';

/**
 * 04-remove-federation: delete the ImportedServiceSets and ExportedServiceSets. Maistra stops importing and
 * exporting; the ServiceMeshPeers, the peers' CA ConfigMaps and the federation gateways stay until 07, when they
 * go with the SMCP:
 * - Maistra pushes a peer's root to the OSSM 2 sidecars (TBDS) only while its ServiceMeshPeer exists
 *   (maistra/istio@08e9b7bd27 (maistra-2.5) pkg/servicemesh/federation/discovery/controller.go:238-246,
 *   335-350: updateRootCert on delete; pilot/pkg/xds/tbds.go:54-57), and OSSM 2 proxies need those roots for
 *   the direct mTLS path until 06 moves them to OSSM 3;
 * - the federation ingress is what the peers' ServiceMeshPeers point at (spec.remote.addresses): removed in 04
 *   (as the guide does), a rollback to 03 re-creates its Service with a new load balancer address, and the
 *   federation does not come back until every peer is edited. Kept, the peers stay connected (idle) and a
 *   rollback from 04, 05 or 06 finds federation where it was. The rehearsal twin checks it.
 */
function planRemoveFederation(mesh: Mesh): { deletes: ObjectRef[]; patches: Patch[] } {
  const inv = mesh.inventory;
  const deletes: ObjectRef[] = [
    ...inv.importSets.map((s) => ref(API.peer, 'ImportedServiceSet', s.name, s.namespace)),
    ...inv.exportSets.map((s) => ref(API.peer, 'ExportedServiceSet', s.name, s.namespace)),
  ];
  return { deletes: dedupeRefs(deletes), patches: [] };
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
