import { ModelIndex } from '../model/model-index';
import { Mesh } from '../model/types';

/** Trust domains this mesh must accept (01's SMCP patch, 05's Istio): its existing aliases, then every peer's (sorted). */
export function trustDomainAliases(ctx: ModelIndex, mesh: Mesh): string[] {
  const peers = ctx
    .linksOf(mesh.cluster)
    .map((l) => ctx.mesh(l.remote).trustDomain)
    .sort();
  const out = [...mesh.controlPlane.trustDomainAliases];
  for (const td of peers) if (!out.includes(td)) out.push(td);
  return out;
}
