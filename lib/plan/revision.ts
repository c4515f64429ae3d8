import { usesEgress } from './egress';
import { ModelIndex } from '../model/model-index';
import { Mesh } from '../model/types';

/** The labels 06 gives a namespace it moves to the revision: OSSM 3 injects it, OSSM 2's injector stays out. */
export function revisionLabels(mesh: Mesh): Record<string, string> {
  return { 'istio.io/rev': mesh.ossm3.revision, 'maistra.io/ignore-namespace': 'true' };
}

/** Namespaces that move to the new revision: the members, the east-west gateway's on exporters, the egress gateway's on importers using one. */
export function migratedNamespaces(ctx: ModelIndex, mesh: Mesh): string[] {
  const out = new Set(mesh.memberNamespaces);
  if (ctx.isExporter(mesh.cluster)) out.add(mesh.eastWest.namespace);
  if (usesEgress(ctx, mesh)) out.add(mesh.egress!.namespace);
  return [...out].sort();
}
