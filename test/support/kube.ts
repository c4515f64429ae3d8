import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

import Ajv, { ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { parseAllDocuments } from 'yaml';

import { celViolations, SchemaNode } from './cel';
import { buildKustomization, KustomizeError } from '../../lib/twin/kustomize';
import { diskTree } from '../../lib/twin/tree';

export type Obj = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: any;
  [k: string]: any;
};

/** `kubectl kustomize <dir>`, parsed. Throws with kustomize's message when the overlay does not build. */
// kustomize's legacy output order (kubectl kustomize's default): kinds first and last by these lists
// (kustomize@v5 kyaml/resid/gvk.go orderFirst/orderLast), then by group_version_kind, then namespace|name
// (api/internal/builtins/SortOrderTransformer.go legacyResIDSortString).
const ORDER_FIRST = [
  'Namespace',
  'ResourceQuota',
  'StorageClass',
  'CustomResourceDefinition',
  'ServiceAccount',
  'PodSecurityPolicy',
  'Role',
  'ClusterRole',
  'RoleBinding',
  'ClusterRoleBinding',
  'ConfigMap',
  'Secret',
  'Endpoints',
  'Service',
  'LimitRange',
  'PriorityClass',
  'PersistentVolume',
  'PersistentVolumeClaim',
  'Deployment',
  'StatefulSet',
  'CronJob',
  'PodDisruptionBudget',
];
const ORDER_LAST = ['MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration'];

function typeOrder(kind: string): number {
  const first = ORDER_FIRST.indexOf(kind);
  if (first >= 0) return -ORDER_FIRST.length + first;
  const last = ORDER_LAST.indexOf(kind);
  return last >= 0 ? 1 + last : 0;
}

function gvkString(o: Obj): string {
  const [group, version] = String(o.apiVersion).includes('/') ? String(o.apiVersion).split('/') : ['', String(o.apiVersion)];
  return [group || '~G', version || '~V', o.kind || '~K'].join('_');
}

/** Objects in the order `kubectl kustomize` prints them (test/e2e/kustomize-kubectl.test.ts checks it against kubectl). */
export function sortLikeKustomize(objs: Obj[]): Obj[] {
  const key = (o: Obj) => [gvkString(o), o.metadata?.namespace || '~X', o.metadata?.name || '~N'].join('|');
  return [...objs].sort((a, b) => {
    const d = typeOrder(a.kind) - typeOrder(b.kind);
    if (d) return d;
    const ga = gvkString(a);
    const gb = gvkString(b);
    if (ga !== gb) return ga < gb ? -1 : 1;
    const ka = key(a);
    const kb = key(b);
    return ka < kb ? -1 : ka > kb ? 1 : 0;
  });
}

/** `kubectl kustomize dir`, the real one. */
export function kubectlKustomize(dir: string): Obj[] {
  const out = execFileSync('kubectl', ['kustomize', dir], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return parseAllDocuments(out)
    .map((d) => d.toJS() as Obj)
    .filter(Boolean);
}

/**
 * What `kubectl kustomize dir` builds, by the twin's kustomize (lib/twin/kustomize.ts), in process: test/e2e/kustomize-kubectl.test.ts
 * proves it builds every kustomization of every example to the same objects as kubectl, and it refuses any field it does not
 * implement. Objects in kubectl's order (kustomize's legacy kind order, then by id), so tests read the same lists.
 */
export function kustomize(dir: string): Obj[] {
  const abs = path.resolve(dir);
  const root = path.parse(abs).root;
  try {
    return sortLikeKustomize(buildKustomization(diskTree(root), path.relative(root, abs).split(path.sep).join('/')) as unknown as Obj[]);
  } catch (e) {
    // What the twin's builder refuses (a field or merge it does not implement) is built by kubectl itself.
    if (e instanceof KustomizeError) return kubectlKustomize(dir);
    throw e;
  }
}

export function find(objs: Obj[], kind: string, name: string, namespace?: string, apiGroup?: string): Obj | undefined {
  return objs.find(
    (o) =>
      o.kind === kind &&
      o.metadata.name === name &&
      (namespace === undefined || o.metadata.namespace === namespace) &&
      (apiGroup === undefined || o.apiVersion.startsWith(`${apiGroup}/`)),
  );
}

const SCHEMAS = path.join(__dirname, '..', 'schemas');
const index = JSON.parse(fs.readFileSync(path.join(SCHEMAS, 'index.json'), 'utf8')) as Record<string, { file: string; scope: string }>;
// The API server applies structural-schema defaults before it validates (e.g. a Gateway address's
// type defaults to IPAddress, which decides its oneOf branch): one pass fills defaults, the next validates.
const ajv = new Ajv({ strict: false, allErrors: true, useDefaults: true });
addFormats(ajv);
// Kubernetes' integer formats; Ajv checks the JSON type already.
for (const f of ['int32', 'int64', 'byte', 'double', 'float']) ajv.addFormat(f, true);
const compiled = new Map<string, { validate: ValidateFunction; schema: SchemaNode }>();

/** Built-in kinds meshfed renders: validated by their typed cdk8s-plus classes, not by CRD schemas. */
const BUILTIN = new Set([
  'v1/Namespace',
  'v1/ConfigMap',
  'v1/ServiceAccount',
  'batch/v1/Job',
  'rbac.authorization.k8s.io/v1/Role',
  'rbac.authorization.k8s.io/v1/RoleBinding',
  'rbac.authorization.k8s.io/v1/ClusterRole',
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding',
  'v1/Service',
  'discovery.k8s.io/v1/EndpointSlice',
  'networking.k8s.io/v1/NetworkPolicy',
  'apps/v1/Deployment',
  'autoscaling/v2/HorizontalPodAutoscaler',
  'policy/v1/PodDisruptionBudget',
]);

/**
 * Validate against the upstream CRD schema of its group/version/kind — OpenAPI schema and CEL rules, defaults
 * applied first as the API server does; returns the problems found.
 */
export function crdProblems(o: Obj): string[] {
  const key = `${o.apiVersion}/${o.kind}`;
  if (BUILTIN.has(key)) return [];
  const entry = index[key];
  if (!entry) return [`no CRD schema for ${key}`];
  let c = compiled.get(key);
  if (!c) {
    const schema = JSON.parse(fs.readFileSync(path.join(SCHEMAS, entry.file), 'utf8')) as SchemaNode;
    c = { validate: ajv.compile(schema), schema };
    compiled.set(key, c);
  }
  const v = c.validate;
  const problems: string[] = [];
  const copy = JSON.parse(JSON.stringify(o));
  v(copy);
  if (!v(copy)) problems.push(...(v.errors ?? []).map((e) => `${e.instancePath} ${e.message}`));
  // The API server evaluates the CEL rules on the defaulted object, after the OpenAPI schema passed.
  else problems.push(...celViolations(c.schema, copy));
  problems.push(...prunedFields(c.schema, o.spec === undefined ? {} : { spec: o.spec }, ''));
  if (entry.scope === 'Cluster' && o.metadata.namespace) problems.push('cluster-scoped object has metadata.namespace');
  if (entry.scope === 'Namespaced' && !o.metadata.namespace) problems.push('namespaced object has no metadata.namespace');
  return problems.map((p) => `${o.kind} ${o.metadata.namespace ?? ''}/${o.metadata.name}: ${p}`);
}

/**
 * Fields the API server would silently drop: structural schemas prune every key an object schema does
 * not declare (unless it preserves unknown fields), so a wrong field name passes Ajv and vanishes on apply.
 */
function prunedFields(schema: SchemaNode & { 'x-kubernetes-preserve-unknown-fields'?: boolean }, value: unknown, at: string): string[] {
  if (schema['x-kubernetes-preserve-unknown-fields'] || value === null || typeof value !== 'object') return [];
  if (Array.isArray(value)) return schema.items ? value.flatMap((v, i) => prunedFields(schema.items!, v, `${at}/${i}`)) : [];
  const out: string[] = [];
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    const sub = schema.properties?.[k] ?? (typeof schema.additionalProperties === 'object' ? schema.additionalProperties : undefined);
    if (sub) out.push(...prunedFields(sub, v, `${at}/${k}`));
    else if (schema.properties && schema.additionalProperties !== true)
      out.push(`${at}/${k} is not in the schema: the API server prunes it`);
  }
  return out;
}

/** An object without the delivery annotations meshfed adds for Argo CD and Flux (sync waves, hooks). */
export function withoutGitOpsAnnotations(o: Obj): Obj {
  const out = JSON.parse(JSON.stringify(o)) as Obj;
  const a = out.metadata.annotations as Record<string, string> | undefined;
  if (!a) return out;
  for (const k of Object.keys(a)) if (k.startsWith('argocd.argoproj.io/') || k.startsWith('kustomize.toolkit.fluxcd.io/')) delete a[k];
  if (Object.keys(a).length === 0) delete out.metadata.annotations;
  return out;
}
