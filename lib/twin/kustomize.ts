/**
 * `kustomize build` for the overlays meshfed writes, so the twin reads `dist/` the way Argo CD's repo
 * server and Flux's kustomize-controller do, without a kustomize binary.
 *
 * Only the part of kustomize v5 that meshfed's overlays use is implemented, and anything else is refused
 * with a `KustomizeError` (never guessed): `resources` (files and folders), and `patches` whose patch is
 * inline or a file, either a strategic-merge patch (with `$patch: delete`) or a JSON 6902 patch with a
 * `target`. test/e2e/kustomize-kubectl.test.ts builds every overlay and import folder of every example with both
 * this and `kubectl kustomize` and compares the objects, so the two cannot drift unnoticed.
 *
 * Semantics follow kubernetes-sigs/kustomize@kustomize/v5.4.3:
 * - api/internal/target/kusttarget.go (accumulate resources, then run the patch transformers in order);
 * - api/resmap/reswrangler.go `Append` ("may not add resource with an already registered id");
 * - api/filters/patchstrategicmerge (SMP; `$patch: delete` removes the object), and
 *   api/internal/builtins/PatchTransformer.go (a patch without `target` applies to the object it names;
 *   "no resource matches strategic merge patch" otherwise);
 * - api/filters/patchjson6902 (RFC 6902 operations, here through fast-json-patch).
 */
import { applyPatch, Operation } from 'fast-json-patch';
import { loadAll } from 'js-yaml';

import { FileTree, normalize } from './tree';
import { Json, JsonObject } from '../load/yaml-source';

export class KustomizeError extends Error {
  constructor(
    /** The kustomization folder (or file) that fails to build, relative to the tree. */
    public readonly where: string,
    message: string,
  ) {
    super(`${where}: ${message}`);
    this.name = 'KustomizeError';
  }
}

/** An object's identity the way kustomize's ResId compares it: group, version, kind, namespace, name. */
export function objectId(o: JsonObject): string {
  const meta = isObject(o.metadata) ? o.metadata : {};
  return `${String(o.apiVersion ?? '')}|${String(o.kind ?? '')}|${String(meta.namespace ?? '')}|${String(meta.name ?? '')}`;
}

const KUSTOMIZATION_FILES = ['kustomization.yaml', 'kustomization.yml', 'Kustomization'];

/** The objects `kustomize build <dir>` prints, in accumulation order. */
export function buildKustomization(tree: FileTree, dir: string, seen: readonly string[] = []): JsonObject[] {
  const here = normalize(dir);
  if (seen.includes(here)) throw new KustomizeError(here, `cycle in resources: ${[...seen, here].join(' -> ')}`);
  const file = KUSTOMIZATION_FILES.map((f) => join(here, f)).find((f) => tree.read(f) !== undefined);
  if (!file) throw new KustomizeError(here, 'no kustomization.yaml in this folder');
  const k = parseOne(tree.read(file)!, file);
  checkFields(k, file);
  const objects: JsonObject[] = [];
  const ids = new Set<string>();
  const add = (o: JsonObject, from: string) => {
    const id = objectId(o);
    if (ids.has(id)) throw new KustomizeError(file, `may not add resource with an already registered id: ${describe(o)} (from ${from})`);
    ids.add(id);
    objects.push(o);
  };
  for (const entry of asList(k.resources, file, 'resources')) {
    if (typeof entry !== 'string') throw new KustomizeError(file, 'resources: every entry must be a path');
    const target = join(here, entry);
    if (tree.isDir(target)) for (const o of buildKustomization(tree, target, [...seen, here])) add(o, target);
    else {
      const text = tree.read(target);
      if (text === undefined) throw new KustomizeError(file, `resources: ${entry} does not exist`);
      for (const o of parseAll(text, target)) add(o, target);
    }
  }
  let result = objects;
  for (const [i, p] of asList(k.patches, file, 'patches').entries()) result = applyPatchEntry(tree, here, file, i, p, result);
  return result;
}

/** The fields of a Kustomization this builder understands; any other is refused rather than ignored. */
const KNOWN_FIELDS = new Set(['apiVersion', 'kind', 'metadata', 'resources', 'patches']);

function checkFields(k: JsonObject, file: string): void {
  for (const key of Object.keys(k))
    if (!KNOWN_FIELDS.has(key))
      throw new KustomizeError(
        file,
        `the twin's kustomize does not implement "${key}" (only resources and patches); build with kubectl kustomize`,
      );
}

function applyPatchEntry(tree: FileTree, dir: string, file: string, i: number, p: Json, objects: JsonObject[]): JsonObject[] {
  if (!isObject(p)) throw new KustomizeError(file, `patches[${i}] must be a mapping`);
  for (const key of Object.keys(p))
    if (!['patch', 'path', 'target'].includes(key))
      throw new KustomizeError(file, `patches[${i}].${key} is not implemented by the twin's kustomize`);
  const where = typeof p.path === 'string' ? join(dir, p.path) : `${file} patches[${i}]`;
  let text: string;
  if (typeof p.patch === 'string') text = p.patch;
  else if (typeof p.path === 'string') {
    const t = tree.read(where);
    if (t === undefined) throw new KustomizeError(file, `patches[${i}].path: ${p.path} does not exist`);
    text = t;
  } else throw new KustomizeError(file, `patches[${i}] has neither patch nor path`);
  const docs = loadAll(text).filter((d) => d !== null && d !== undefined) as Json[];
  const target = p.target === undefined ? undefined : selector(p.target, file, i);
  // A JSON 6902 patch is one YAML sequence of operations; it needs a target (kustomize: "unable to find target").
  if (docs.length === 1 && Array.isArray(docs[0])) {
    if (!target) throw new KustomizeError(file, `patches[${i}] is a JSON 6902 patch without a target`);
    const matched = objects.filter(target);
    if (!matched.length) return objects;
    return objects.map((o) => (target(o) ? json6902(o, docs[0] as unknown as Operation[], where) : o));
  }
  let result = objects;
  for (const doc of docs) {
    if (!isObject(doc)) throw new KustomizeError(where, 'a strategic merge patch must be a mapping');
    const pick = target ?? ((o: JsonObject) => sameObject(o, doc));
    const matched = result.filter(pick);
    if (!matched.length) {
      if (target) continue;
      throw new KustomizeError(where, `no resource matches strategic merge patch ${describe(doc)}`);
    }
    const next: JsonObject[] = [];
    for (const o of result) {
      if (!pick(o)) next.push(o);
      else {
        const merged = strategicMerge(o, doc, where, [], !hasKustomizeSchema(o));
        if (merged !== DELETED) next.push(merged as JsonObject);
      }
    }
    result = next;
  }
  return result;
}

/** kustomize's patch target: every given field must match (name and namespace as exact strings here). */
function selector(t: Json, file: string, i: number): (o: JsonObject) => boolean {
  if (!isObject(t)) throw new KustomizeError(file, `patches[${i}].target must be a mapping`);
  for (const key of Object.keys(t))
    if (!['group', 'version', 'kind', 'name', 'namespace'].includes(key))
      throw new KustomizeError(file, `patches[${i}].target.${key} is not implemented by the twin's kustomize`);
  return (o) => {
    const [group, version] = splitApiVersion(String(o.apiVersion ?? ''));
    const meta = isObject(o.metadata) ? o.metadata : {};
    return (
      (t.group === undefined || t.group === group) &&
      (t.version === undefined || t.version === version) &&
      (t.kind === undefined || t.kind === o.kind) &&
      (t.name === undefined || t.name === meta.name) &&
      (t.namespace === undefined || t.namespace === (meta.namespace ?? ''))
    );
  };
}

function sameObject(o: JsonObject, patch: JsonObject): boolean {
  const pm = isObject(patch.metadata) ? patch.metadata : {};
  const om = isObject(o.metadata) ? o.metadata : {};
  return o.apiVersion === patch.apiVersion && o.kind === patch.kind && om.name === pm.name && (om.namespace ?? '') === (pm.namespace ?? '');
}

function json6902(o: JsonObject, ops: Operation[], where: string): JsonObject {
  try {
    return applyPatch(structuredClone(o), ops, true, false).newDocument as JsonObject;
  } catch (e) {
    throw new KustomizeError(where, `JSON 6902 patch fails on ${describe(o)}: ${(e as Error).message.split('\n')[0]}`);
  }
}

const DELETED = Symbol('deleted');

/**
 * The API groups of the OpenAPI schema kustomize carries (kyaml/openapi/kubernetesapi/v1_21_2, its default; the groups
 * read from its swagger.pb.gz at kubernetes-sigs/kustomize@kustomize/v5.4.3).
 */
const SCHEMA_GROUPS = new Set([
  '',
  'admission.k8s.io',
  'admissionregistration.k8s.io',
  'apiextensions.k8s.io',
  'apiregistration.k8s.io',
  'apps',
  'authentication.k8s.io',
  'authorization.k8s.io',
  'autoscaling',
  'batch',
  'certificates.k8s.io',
  'coordination.k8s.io',
  'discovery.k8s.io',
  'events.k8s.io',
  'extensions',
  'flowcontrol.apiserver.k8s.io',
  'imagepolicy.k8s.io',
  'internal.apiserver.k8s.io',
  'networking.k8s.io',
  'node.k8s.io',
  'policy',
  'rbac.authorization.k8s.io',
  'scheduling.k8s.io',
  'storage.k8s.io',
]);

/**
 * Whether kustomize may know merge keys for the object's lists. An object of any other group (Istio's, Maistra's, the
 * Gateway API's, OpenShift's) has no schema in kustomize: its patch is merged with no merge keys
 * (kyaml/yaml/walk/walk.go:90-130, GetSchema, finds none; api/filters/patchstrategicmerge/patchstrategicmerge.go:22
 * calls merge2.Merge, which leaves InferAssociativeLists unset, so schema.IsAssociative is false: walk.go:72,
 * kyaml/yaml/schema/schema.go:16-22) and a list in the patch replaces
 * the object's list whole (kyaml/yaml/merge2/merge2.go:116-122). A built-in group's lists stay refused: their merge keys
 * are per field.
 */
function hasKustomizeSchema(o: JsonObject): boolean {
  return SCHEMA_GROUPS.has(splitApiVersion(String(o.apiVersion ?? ''))[0]);
}

/**
 * A strategic-merge patch as kustomize applies it to the mappings and scalar lists meshfed patches: maps
 * merge key by key, `null` deletes a key, `$patch: delete` removes the object (or the map), scalar lists
 * are replaced. A list of mappings is replaced too on an object kustomize has no schema for (hasKustomizeSchema); on a
 * built-in kind it is merged by schema-specific keys (containers by name, ports by port…), which this builder does not
 * model: such a patch is refused unless the list is new.
 */
function strategicMerge(base: Json | undefined, patch: Json, where: string, at: string[], schemaless: boolean): Json | typeof DELETED {
  if (!isObject(patch)) return patch;
  if (patch.$patch === 'delete') return DELETED;
  if (patch.$patch !== undefined && patch.$patch !== 'merge')
    throw new KustomizeError(
      where,
      `$patch: ${String(patch.$patch)} at ${at.join('.') || '(root)'} is not implemented by the twin's kustomize`,
    );
  const out: JsonObject = isObject(base) ? { ...base } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (key === '$patch') continue;
    if (key.startsWith('$'))
      throw new KustomizeError(where, `${key} at ${[...at, key].join('.')} is not implemented by the twin's kustomize`);
    if (value === null) delete out[key];
    else if (isObject(value)) {
      const merged = strategicMerge(out[key], value, where, [...at, key], schemaless);
      if (merged === DELETED) delete out[key];
      else out[key] = merged;
    } else if (!schemaless && Array.isArray(value) && value.some(isObject) && Array.isArray(out[key]) && (out[key] as Json[]).length)
      throw new KustomizeError(
        where,
        `a list of mappings at ${[...at, key].join('.')} would be merged by schema keys; not implemented by the twin`,
      );
    else out[key] = value;
  }
  return out;
}

function parseOne(text: string, file: string): JsonObject {
  const docs = parseAll(text, file);
  if (docs.length !== 1) throw new KustomizeError(file, `expected one document, found ${docs.length}`);
  return docs[0];
}

/** Every YAML document of a file, each a mapping (kustomize refuses anything else). */
export function parseAll(text: string, file: string): JsonObject[] {
  let docs: unknown[];
  try {
    docs = loadAll(text);
  } catch (e) {
    throw new KustomizeError(file, `not valid YAML: ${(e as Error).message.split('\n')[0]}`);
  }
  return docs
    .filter((d) => d !== null && d !== undefined)
    .map((d, i) => {
      if (!isObject(d as Json)) throw new KustomizeError(file, `document ${i + 1} is not a mapping`);
      return d as JsonObject;
    });
}

function asList(v: Json | undefined, file: string, field: string): Json[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new KustomizeError(file, `${field} must be a list`);
  return v;
}

function join(dir: string, rel: string): string {
  return normalize(dir ? `${dir}/${rel}` : rel);
}

export function splitApiVersion(apiVersion: string): [group: string, version: string] {
  const i = apiVersion.lastIndexOf('/');
  return i < 0 ? ['', apiVersion] : [apiVersion.slice(0, i), apiVersion.slice(i + 1)];
}

export function describe(o: JsonObject): string {
  const meta = isObject(o.metadata) ? o.metadata : {};
  const ns = typeof meta.namespace === 'string' ? `${meta.namespace}/` : '';
  return `${String(o.kind ?? 'object')} ${ns}${String(meta.name ?? '(no name)')}`;
}

export function isObject(v: Json | undefined): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
