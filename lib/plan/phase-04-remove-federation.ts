import { API, ref } from './api-versions';
import { smcpRef } from './names';
import { pointerKey } from '../json';
import { Contribute, JsonPatchOp, ObjectRef, Patch } from './types';
import { Mesh } from '../model/types';

/**
 * 04-remove-federation: delete the ImportedServiceSets and ExportedServiceSets, and remove the federation
 * gateways from the SMCP. The ServiceMeshPeers and the peers' CA ConfigMaps stay until 07: Maistra pushes
 * a peer's root to the OSSM 2 sidecars (TBDS) only while its ServiceMeshPeer exists
 * (maistra/istio@08e9b7bd27 (maistra-2.5) pkg/servicemesh/federation/discovery/controller.go:238-246,
 * 335-350: updateRootCert on delete; pilot/pkg/xds/tbds.go:54-57),
 * and OSSM 2 proxies need those roots for the direct mTLS path until 06 moves them to OSSM 3. A whole additionalIngress /
 * additionalEgress map goes (as in the guide) only when it holds nothing but federation gateways;
 * otherwise just the federation entries are removed, so other gateways keep running.
 */
function planRemoveFederation(mesh: Mesh): { deletes: ObjectRef[]; patches: Patch[] } {
  const inv = mesh.inventory;
  const deletes: ObjectRef[] = [
    ...inv.importSets.map((s) => ref(API.peer, 'ImportedServiceSet', s.name, s.namespace)),
    ...inv.exportSets.map((s) => ref(API.peer, 'ExportedServiceSet', s.name, s.namespace)),
  ];
  const ops: JsonPatchOp[] = [];
  const remove = (mapKey: 'additionalIngress' | 'additionalEgress', present: string[], federation: Set<string>) => {
    const fed = present.filter((k) => federation.has(k)).sort();
    if (fed.length === 0) return;
    if (fed.length === present.length) ops.push({ op: 'remove', path: `/spec/gateways/${mapKey}` });
    else for (const k of fed) ops.push({ op: 'remove', path: `/spec/gateways/${mapKey}/${pointerKey(k)}` });
  };
  const cp = mesh.controlPlane;
  remove('additionalIngress', cp.additionalIngress, new Set(inv.peers.map((p) => p.ingressGateway)));
  remove('additionalEgress', cp.additionalEgress, new Set(inv.peers.map((p) => p.egressGateway)));
  const patches: Patch[] = ops.length
    ? [{ type: 'json6902', target: smcpRef(mesh), ops, why: 'remove the federation ingress/egress gateways' }]
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
