import { isObject, Json } from '../json';
import TREE from './sail-istio-values.json';

/**
 * The fields the Sail operator's `Istio` CRD declares under spec.values: istio-ecosystem/sail-operator@release-1.27
 * (8cde773e) chart/crds/sailoperator.io_istios.yaml, the schema test/schemas/sailoperator.io_v1_Istio.json holds
 * (imports/README.md). As a tree of keys: an object node lists its properties, `*` stands for any key of a map
 * (additionalProperties), `[]` for the items of a list, and 1 for a leaf or a field that keeps whatever it is given
 * (x-kubernetes-preserve-unknown-fields). scripts/extract-crd-schemas.ts writes sail-istio-values.json from the CRD
 * (`valuesTree`); test/control-plane.test.ts fails when the committed file differs from the committed schema.
 *
 * An undeclared field is not a setting: the API server prunes it from a structural CRD's object, and under strict
 * field validation (kubectl's default, `--validate=strict`) refuses the object instead, "unknown field"
 * (kubernetes/enhancements keps/sig-api-machinery/2885-server-side-unknown-field-validation, GA in 1.27): the
 * setting is silently lost, or the phase that applies the Istio does not sync.
 */
export type ValuesTree = 1 | { readonly [key: string]: ValuesTree };

export const SAIL_VALUES: ValuesTree = TREE as ValuesTree;

/** The Sail CRD release the tree comes from (for messages). */
export const SAIL_VALUES_RELEASE = 'Sail operator release-1.27';

interface SchemaNode {
  readonly type?: string;
  readonly properties?: Record<string, SchemaNode>;
  readonly additionalProperties?: SchemaNode | boolean;
  readonly items?: SchemaNode;
  readonly 'x-kubernetes-preserve-unknown-fields'?: boolean;
}

/** The key tree of an OpenAPI v3 schema (a CRD's structural schema), keys sorted. */
export function valuesTree(schema: SchemaNode): ValuesTree {
  if (schema['x-kubernetes-preserve-unknown-fields']) return 1;
  if (schema.type === 'array') return schema.items ? { '[]': valuesTree(schema.items) } : 1;
  if (schema.properties) {
    const out: Record<string, ValuesTree> = {};
    for (const k of Object.keys(schema.properties).sort()) out[k] = valuesTree(schema.properties[k]);
    return out;
  }
  const ap = schema.additionalProperties;
  if (ap === true) return { '*': 1 };
  if (ap && typeof ap === 'object') return { '*': valuesTree(ap) };
  return 1;
}

/**
 * The paths of `values` the tree does not declare, dotted (`pilot.priorityClassName`; a list item as `[i]`), each
 * the shortest undeclared prefix: what the API server would prune or refuse.
 */
export function undeclaredPaths(values: Json, tree: ValuesTree = SAIL_VALUES, prefix = ''): string[] {
  if (tree === 1) return [];
  if (Array.isArray(values)) {
    const items = tree['[]'];
    return items === undefined ? [] : values.flatMap((v, i) => undeclaredPaths(v, items, `${prefix}[${i}]`));
  }
  if (!isObject(values)) return [];
  const out: string[] = [];
  for (const [k, v] of Object.entries(values)) {
    const path = prefix ? `${prefix}.${k}` : k;
    const sub = Object.prototype.hasOwnProperty.call(tree, k) && k !== '*' && k !== '[]' ? tree[k] : tree['*'];
    if (sub === undefined) out.push(path);
    else out.push(...undeclaredPaths(v, sub, path));
  }
  return out;
}
