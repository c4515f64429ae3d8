import { Json, JsonObject } from './yaml-source';

/** metadata fields the API server or controllers own; never re-rendered. */
const NOISE_METADATA = [
  'uid',
  'resourceVersion',
  'managedFields',
  'creationTimestamp',
  'generation',
  'selfLink',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
  'finalizers',
  'ownerReferences',
];
/** Annotations written by kubectl or the platform, not by the owner of the object. */
const NOISE_ANNOTATIONS = [
  /^kubectl\.kubernetes\.io\/last-applied-configuration$/,
  /^openshift\.io\/sa\.scc\./,
  /^argocd\.argoproj\.io\/tracking-id$/,
];
/** Labels set by the API server or by the Maistra operator on member namespaces. */
const NOISE_LABELS = [/^kubernetes\.io\/metadata\.name$/, /^maistra\.io\/member-of$/];

/**
 * A copy of a dumped object without server-side noise: status, uid, resourceVersion, managedFields,
 * creationTimestamp, generation, finalizers, owner references, last-applied annotations, and the
 * labels/annotations the platform owns. Empty labels/annotations maps are dropped.
 */
export function stripServerFields(obj: JsonObject): JsonObject {
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(obj)) {
    if (k === 'status') continue;
    out[k] = v;
  }
  const meta = { ...((obj.metadata as JsonObject | undefined) ?? {}) };
  for (const k of NOISE_METADATA) delete meta[k];
  cleanMap(meta, 'annotations', NOISE_ANNOTATIONS);
  cleanMap(meta, 'labels', NOISE_LABELS);
  out.metadata = meta;
  return out;
}

function cleanMap(meta: JsonObject, key: string, drop: RegExp[]): void {
  const m = meta[key];
  if (!m || typeof m !== 'object' || Array.isArray(m)) return;
  const kept: JsonObject = {};
  for (const [k, v] of Object.entries(m)) if (!drop.some((r) => r.test(k))) kept[k] = v as Json;
  if (Object.keys(kept).length) meta[key] = kept;
  else delete meta[key];
}
