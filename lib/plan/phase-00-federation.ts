import { ref } from './api-versions';
import { keptNamespaceBody } from './namespaces';
import { Contribute, Resource } from './types';
import { Dumped } from '../load/inventory-types';
import { ModelIndex } from '../model/model-index';
import { Mesh } from '../model/types';

function adopt(d: Dumped): Resource {
  const s = d.source;
  return { type: 'adopted', ref: ref(s.apiVersion, s.kind, s.name, s.namespace), body: d.rendered };
}

/**
 * 00-federation: the OSSM 2 federation as it runs today, re-rendered from the dumps without server-side
 * noise so GitOps adopts it: SMCP, SMMR, ServiceMeshMembers, peers, export/import sets, the peers' CA
 * ConfigMaps and the member Namespaces.
 */
function planFederation(ctx: ModelIndex, mesh: Mesh): Resource[] {
  const inv = mesh.inventory;
  const members = new Set(mesh.memberNamespaces);
  const caConfigMaps = new Set(
    ctx
      .linksOf(mesh.cluster)
      .map((l) => l.caConfigMap)
      .filter((c) => c !== undefined),
  );
  return [
    adopt(inv.controlPlane),
    ...(inv.memberRoll ? [adopt(inv.memberRoll)] : []),
    ...inv.members.filter((m) => members.has(m.namespace)).map(adopt),
    ...inv.peers.map(adopt),
    ...inv.exportSets.map(adopt),
    ...inv.importSets.map(adopt),
    ...inv.configMaps.filter((c) => caConfigMaps.has(c)).map(adopt),
    ...inv.namespaces.filter((n) => members.has(n.name)).map((n) => ({ ...adopt(n), body: keptNamespaceBody(n.rendered) }) as Resource),
  ];
}

export const contribute: Contribute = (ctx, mesh) => ({ '00-federation': { adds: planFederation(ctx, mesh) } });
