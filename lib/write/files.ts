import { ObjectRef } from '../plan/types';
export { namespaceFile, objectPath, refKey } from '../plan/types';

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
