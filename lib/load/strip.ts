import { Json, JsonObject } from '../json';

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
/**
 * Labels set by the API server, by the Maistra operator on member namespaces, and the ownership markers
 * of another GitOps delivery (Argo CD's label tracking, Flux's inventory labels): meshfed's delivery
 * writes its own, so re-rendering another tool's would make both claim the object (the loader warns).
 */
const NOISE_LABELS = [
  /^kubernetes\.io\/metadata\.name$/,
  /^maistra\.io\/member-of$/,
  /^app\.kubernetes\.io\/instance$/,
  /^kustomize\.toolkit\.fluxcd\.io\/(name|namespace)$/,
];

/** Which other GitOps delivery tracks a dumped object, by the markers it writes (undefined: none). */
export function gitOpsOwner(obj: JsonObject): string | undefined {
  const meta = (obj.metadata ?? {}) as { labels?: Record<string, string>; annotations?: Record<string, string> };
  const labels = meta.labels ?? {};
  const tracking = meta.annotations?.['argocd.argoproj.io/tracking-id'];
  if (tracking) return `Argo CD application ${tracking.split(':')[0]} (argocd.argoproj.io/tracking-id)`;
  if (labels['kustomize.toolkit.fluxcd.io/name']) {
    return `Flux Kustomization ${labels['kustomize.toolkit.fluxcd.io/namespace'] ?? ''}/${labels['kustomize.toolkit.fluxcd.io/name']}`;
  }
  if (labels['app.kubernetes.io/instance'] && !labels['maistra.io/owner']) {
    return `an Argo CD application tracking by label (app.kubernetes.io/instance: ${labels['app.kubernetes.io/instance']})`;
  }
  return undefined;
}

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
