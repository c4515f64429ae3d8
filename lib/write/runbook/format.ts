import { Mesh } from '../../model/types';
import { ObjectRef } from '../../plan/types';

// How every runbook writes commands, object names and lists.

/** istioctl against a cluster's OSSM 3 control plane (its namespace is not always istio-system). */
export function ictl(mesh: Mesh): string {
  return `istioctl --context ${mesh.cluster} -i ${mesh.ossm3.namespace}`;
}

/** kubectl against a cluster: its kube context is named after the cluster folder. */
export function kc(cluster: string): string {
  return `kubectl --context ${cluster}`;
}

/** `Kind namespace/name` of an object, as the runbooks name it. */
export function refName(r: ObjectRef): string {
  return `${r.kind} ${r.namespace ? `${r.namespace}/` : ''}${r.name}`;
}

/** Items as inline code, comma-separated, at most `max` of them then how many more; `nothing` when empty. */
export function list(items: string[], max = 12): string {
  if (items.length === 0) return 'nothing';
  const shown = items
    .slice(0, max)
    .map((i) => `\`${i}\``)
    .join(', ');
  return items.length > max ? `${shown} and ${items.length - max} more` : shown;
}

/** Items without repeats, in first-seen order. */
export function uniq(items: string[]): string[] {
  return [...new Set(items)];
}
