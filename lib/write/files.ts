import { apiGroup, ObjectRef } from '../plan/types';
export { refKey } from '../plan/types';

/**
 * Stable, unique file name for an object inside a phase folder: one folder per namespace ("cluster" for
 * cluster-scoped objects), then `<kind>.<group>_<name>.yaml`, so a one-object change is a one-file diff
 * and same-named objects of different kinds or namespaces never clash.
 */
export function objectPath(r: ObjectRef, suffix = ''): string {
  return `${r.namespace ?? 'cluster'}/${r.kind.toLowerCase()}.${apiGroup(r.apiVersion)}_${r.name}${suffix}.yaml`;
}

export function refOf(obj: { apiVersion?: unknown; kind?: unknown; metadata?: unknown }): ObjectRef {
  const meta = (obj.metadata ?? {}) as { name?: string; namespace?: string };
  return { apiVersion: String(obj.apiVersion), kind: String(obj.kind), name: String(meta.name), namespace: meta.namespace };
}

/** The `target` of a kustomize patch: exact group, version, kind, name and namespace. */
export function patchTarget(r: ObjectRef): Record<string, string> {
  const [g, v] = r.apiVersion.includes('/') ? r.apiVersion.split('/') : ['', r.apiVersion];
  const t: Record<string, string> = { group: g, version: v, kind: r.kind, name: r.name };
  if (r.namespace) t.namespace = r.namespace;
  return t;
}
