import { dump } from 'js-yaml';

import { compareStrings } from '../sort';

/** Keys of a Kubernetes object in conventional order first; everything else sorted. */
export const OBJECT_ORDER = ['apiVersion', 'kind', 'metadata', 'spec'];
export const KUSTOMIZATION_ORDER = ['apiVersion', 'kind', 'resources', 'patches'];

function keyOrder(top: readonly string[] | undefined): (a: string, b: string) => number {
  if (!top) return compareStrings;
  return (a, b) => {
    const ia = top.indexOf(a);
    const ib = top.indexOf(b);
    if (ia >= 0 || ib >= 0) return (ia < 0 ? top.length : ia) - (ib < 0 ? top.length : ib);
    return compareStrings(a, b);
  };
}

/**
 * `v` with every mapping's keys in order (`top` first at the top level) and undefined values dropped.
 * What is already in order is returned as it is, not copied: cdk8s sorts the keys of what it renders.
 */
function sortDeep(v: unknown, top: readonly string[] | undefined): unknown {
  if (Array.isArray(v)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < v.length; i++) {
      const x = sortDeep(v[i], undefined);
      if (x !== v[i]) (out ??= [...v])[i] = x;
    }
    return out ?? v;
  }
  if (v === null || typeof v !== 'object') return v;
  const o = v as Record<string, unknown>;
  const order = keyOrder(top);
  const keys = Object.keys(o);
  let same = true;
  for (let i = 0; i < keys.length && same; i++) same = o[keys[i]] !== undefined && (i === 0 || order(keys[i - 1], keys[i]) < 0);
  const values = keys.map((k) => sortDeep(o[k], undefined));
  if (same && values.every((x, i) => x === o[keys[i]])) return o;
  const out: Record<string, unknown> = {};
  const index = new Map(keys.map((k, i) => [k, i]));
  for (const k of [...keys].sort(order)) {
    const x = values[index.get(k)!];
    if (x !== undefined) out[k] = x;
  }
  return out;
}

/** A kustomization.yaml: the resources in the order given, patches if any, a header comment. */
export function kustomizationYaml(resources: string[], comment: string, patches: Record<string, unknown>[] = []): string {
  return toYaml(
    { apiVersion: 'kustomize.config.k8s.io/v1beta1', kind: 'Kustomization', resources, patches: patches.length ? patches : undefined },
    comment,
    KUSTOMIZATION_ORDER,
  );
}

/**
 * Deterministic YAML: keys sorted (the given top-level keys first, in that order), no line folding,
 * lists not indented under their key (as kubectl prints), an optional header comment. Emitted with
 * js-yaml, which is several times faster than the `yaml` library's emitter (see docs/benchmarks.md).
 * Input is read by js-yaml too, with the `yaml` library for line numbers (lib/load/yaml-source.ts).
 */
export function toYaml(value: unknown, comment?: string, topLevelOrder: readonly string[] = OBJECT_ORDER): string {
  const body = dump(sortDeep(value, topLevelOrder), { lineWidth: -1, noRefs: true, noArrayIndent: true, sortKeys: false });
  if (!comment) return body;
  return `${comment
    .split('\n')
    .map((l) => `# ${l}`.trimEnd())
    .join('\n')}\n\n${body}`;
}
