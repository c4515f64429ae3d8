import { JsonObject } from '../json';
import { Mesh } from '../model/types';

/**
 * A Namespace that existed before meshfed holds workloads meshfed does not own: neither a rollback's
 * prune, nor removing it from a later render, nor deleting the Application / Kustomization may delete
 * it. Argo CD skips pruning and deletion of an object annotated `Prune=false,Delete=false`
 * (docs/user-guide/sync-options.md); Flux skips garbage collection of objects annotated
 * `kustomize.toolkit.fluxcd.io/prune: disabled` (docs/spec/v1/kustomizations.md, "Prune").
 */
export const KEEP_ANNOTATIONS: Readonly<Record<string, string>> = {
  'argocd.argoproj.io/sync-options': 'Prune=false,Delete=false',
  'kustomize.toolkit.fluxcd.io/prune': 'disabled',
};

/**
 * Does the mesh have SMCP settings: a migration (its dumped SMCP), or a graduated greenfield mesh (its
 * declared control-plane.yaml)? A plain greenfield mesh has none, nor an SMCP namespace.
 */
export function hasSmcp(mesh: Mesh): boolean {
  return mesh.settings.mode !== 'greenfield' || mesh.inventory.declaredControlPlane === true;
}

/** Did this namespace exist before meshfed: dumped, or the SMCP's own? */
export function preexisting(mesh: Mesh, ns: string): boolean {
  return mesh.inventory.namespaces.some((n) => n.name === ns) || (hasSmcp(mesh) && ns === mesh.controlPlane.namespace);
}

/** A dumped Namespace as adopted: the keep annotations added to its own. */
export function keptNamespaceBody(body: JsonObject): JsonObject {
  const metadata = (body.metadata ?? {}) as JsonObject;
  const annotations = (metadata.annotations ?? {}) as Record<string, string>;
  return { ...body, metadata: { ...metadata, annotations: { ...annotations, ...KEEP_ANNOTATIONS } } };
}
