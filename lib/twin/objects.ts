/**
 * How the twin names objects and reads the annotations the engines act on. Identity ignores the API
 * version, as the API server does: one object is served in several versions and stored once.
 */
import { isObject, splitApiVersion } from './kustomize';
import { Json, JsonObject } from '../load/yaml-source';

export type Obj = JsonObject;

export interface Ref {
  readonly group: string;
  readonly kind: string;
  /** '' for cluster-scoped objects. */
  readonly namespace: string;
  readonly name: string;
}

export function refOf(o: Obj): Ref {
  const [group] = splitApiVersion(String(o.apiVersion ?? ''));
  const meta = metadata(o);
  return { group, kind: String(o.kind ?? ''), namespace: String(meta.namespace ?? ''), name: String(meta.name ?? '') };
}

/** `group/Kind/namespace/name`: the key the store uses. */
export function refKey(r: Ref): string {
  return `${r.group}/${r.kind}/${r.namespace}/${r.name}`;
}

export function keyOf(o: Obj): string {
  return refKey(refOf(o));
}

/** `Kind namespace/name`, the way messages name an object. */
export function label(r: Ref): string {
  return `${r.kind} ${r.namespace ? `${r.namespace}/` : ''}${r.name}`;
}

export function metadata(o: Obj): JsonObject {
  return isObject(o.metadata) ? o.metadata : {};
}

export function annotations(o: Obj): Record<string, string> {
  const a = metadata(o).annotations;
  return isObject(a) ? (a as Record<string, string>) : {};
}

export function labels(o: Obj): Record<string, string> {
  const l = metadata(o).labels;
  return isObject(l) ? (l as Record<string, string>) : {};
}

export function ownerReferences(o: Obj): { apiVersion: string; kind: string; name: string; uid: string; controller?: boolean }[] {
  const r = metadata(o).ownerReferences;
  return Array.isArray(r) ? (r.filter(isObject) as never) : [];
}

export function valueAt(o: Json | undefined, path: readonly string[]): Json | undefined {
  let v: Json | undefined = o;
  for (const p of path) {
    if (!isObject(v)) return undefined;
    v = v[p];
  }
  return v;
}

// Argo CD annotations (argo-cd@v3.4.0: docs/user-guide/sync-waves.md, sync-options.md, resource_hooks.md).
export const ARGO_WAVE = 'argocd.argoproj.io/sync-wave';
export const ARGO_HOOK = 'argocd.argoproj.io/hook';
export const ARGO_HOOK_DELETE_POLICY = 'argocd.argoproj.io/hook-delete-policy';
export const ARGO_SYNC_OPTIONS = 'argocd.argoproj.io/sync-options';
export const ARGO_COMPARE_OPTIONS = 'argocd.argoproj.io/compare-options';
export const ARGO_TRACKING_ID = 'argocd.argoproj.io/tracking-id';
// Flux (fluxcd/kustomize-controller@186fb3b: docs/spec/v1/kustomizations.md "Controlling the apply behavior").
export const FLUX_PRUNE = 'kustomize.toolkit.fluxcd.io/prune';
export const FLUX_SSA = 'kustomize.toolkit.fluxcd.io/ssa';
export const FLUX_NAME_LABEL = 'kustomize.toolkit.fluxcd.io/name';
export const FLUX_NAMESPACE_LABEL = 'kustomize.toolkit.fluxcd.io/namespace';

/** The sync wave (0 when unset: gitops-engine pkg/sync/syncwaves/waves.go). */
export function syncWave(o: Obj): number {
  const w = annotations(o)[ARGO_WAVE];
  const n = w === undefined ? 0 : Number.parseInt(w, 10);
  return Number.isFinite(n) ? n : 0;
}

/** The hook types of an object (comma-separated annotation), empty for a plain resource. */
export function hookTypes(o: Obj): string[] {
  const h = annotations(o)[ARGO_HOOK];
  return h ? h.split(',').map((s) => s.trim()) : [];
}

/** `Prune=false,Delete=false,…` as a set of `Key=value` strings. */
export function syncOptions(o: Obj): Set<string> {
  const s = annotations(o)[ARGO_SYNC_OPTIONS];
  return new Set(s ? s.split(',').map((x) => x.trim()) : []);
}
