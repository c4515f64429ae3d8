import { API, ref } from './api-versions';
import { Patch, Resource } from './types';
import { Diagnostics } from '../diagnostics';
import { JsonObject } from '../json';
import { ModelIndex } from '../model/model-index';
import { Mesh } from '../model/types';

/**
 * An object that existed before meshfed (a Namespace with workloads, a gateway Service or Route handed over
 * from the operator) must outlive GitOps: neither a rollback's prune, nor removing it from a later render,
 * nor deleting the Application / Kustomization may delete it. Argo CD skips pruning and deletion of an object
 * annotated `Prune=false,Delete=false` (argo-cd@v3.4.0 docs/user-guide/sync-options.md;
 * gitops-engine/pkg/sync/sync_context.go:1431-1440), and `IgnoreExtraneous` keeps such an object, once no phase
 * declares it, from holding the Application OutOfSync for ever (controller/state.go:926-942); Flux skips garbage
 * collection of objects annotated `kustomize.toolkit.fluxcd.io/prune: disabled`
 * (fluxcd/kustomize-controller@186fb3b internal/controller/kustomization_controller.go:1401-1414).
 */
export const KEEP_ANNOTATIONS: Readonly<Record<string, string>> = {
  'argocd.argoproj.io/sync-options': 'Prune=false,Delete=false',
  'argocd.argoproj.io/compare-options': 'IgnoreExtraneous',
  'kustomize.toolkit.fluxcd.io/prune': 'disabled',
};

/**
 * Does GitOps keep this add when a rollback or a later phase drops it (KEEP_ANNOTATIONS on the rendered object):
 * adopted Namespaces, the gateway Services and Routes handed over from the operator, meshfed's ServiceMeshMembers
 * (lib/constructs/service-mesh-member.ts always carries them)? Argo CD reports such an object "ignored (no prune)"
 * (argo-cd@v3.4.0 gitops-engine/pkg/sync/sync_context.go:1431-1440) and Flux leaves it out of garbage collection.
 */
export function keptByGitOps(r: Resource): boolean {
  if (r.type === 'namespace') return r.keep === true;
  if (r.type === 'serviceMeshMember') return true;
  if (r.type !== 'adopted') return false;
  if (r.ref.kind === 'Namespace') return true;
  const annotations = ((r.body.metadata as JsonObject | undefined)?.annotations ?? {}) as Record<string, string>;
  return (annotations['argocd.argoproj.io/sync-options'] ?? '').split(',').includes('Prune=false');
}

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

/**
 * A gateway's namespace, unless it is a member (adopted in 00): created, or — when it exists already (dumped,
 * or the SMCP's own namespace) — rendered with its labels and never pruned or deleted (KEEP_ANNOTATIONS).
 */
export function gatewayNamespace(mesh: Mesh, ns: string): Resource[] {
  if (mesh.memberNamespaces.includes(ns)) return [];
  return [
    {
      type: 'namespace',
      ref: ref(API.namespace, 'Namespace', ns),
      labels: mesh.inventory.namespaces.find((n) => n.name === ns)?.labels ?? {},
      ...(preexisting(mesh, ns) ? { keep: true } : {}),
    },
  ];
}

/**
 * MultiTenant control planes only see their members: a merge patch adding gateway namespaces to the
 * SMMR (lists are replaced whole, so it carries every namespace added so far: the east-west gateway's
 * from 02 and the egress gateway's from 03). Undefined when nothing is missing.
 */
export function memberRollPatch(ctx: ModelIndex, mesh: Mesh, namespaces: string[], why: string, diags?: Diagnostics): Patch | undefined {
  const cp = mesh.controlPlane;
  const missing = namespaces.filter((n) => !mesh.memberNamespaces.includes(n));
  if (cp.mode !== 'MultiTenant' || missing.length === 0) return undefined;
  const roll = mesh.inventory.memberRoll;
  if (!roll) {
    diags?.warn(
      'MF020',
      cp.source.at(['spec', 'mode']),
      `MultiTenant control plane without a ServiceMeshMemberRoll in ossm2/: the OSSM 2 istiod will not see the gateway in ${missing.join(', ')}.`,
      'Add the ServiceMeshMemberRoll to the dumps.',
    );
    return undefined;
  }
  const earlier = ctx.isExporter(mesh.cluster) && !mesh.memberNamespaces.includes(mesh.eastWest.namespace) ? [mesh.eastWest.namespace] : [];
  const members = [...roll.members];
  for (const n of [...earlier, ...missing]) if (!members.includes(n)) members.push(n);
  return { type: 'merge', target: ref(API.smmr, 'ServiceMeshMemberRoll', roll.name, roll.namespace), why, patch: { spec: { members } } };
}
