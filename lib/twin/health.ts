/**
 * How Argo CD and Flux judge a live object, the way their own code does.
 *
 * Argo CD (argo-cd@v3.4.0, gitops-engine vendored under gitops-engine/): `health.GetResourceHealth`
 * (gitops-engine/pkg/health/health.go:70-101) — an object being deleted is Progressing; else a Lua check wins when
 * there is one: the argocd-cm `resource.customizations.health.<group>_<kind>` scripts the render ships in
 * `dist/argocd/argocd-cm-health.patch.yaml`, else the Lua Argo CD bundles (health-lua-builtin.ts), executed in
 * health-lua.ts; else the Go checks ported below; else the object has no health (a sync counts it as done at once).
 *
 * Flux (kustomize-controller@186fb3b with fluxcd/pkg@e2cfd1a and fluxcd/cli-utils@967855f): the status poller asks
 * its readers in order — Flux's own Job reader, then the Kustomization's `healthCheckExprs` (CEL), then kstatus
 * (kustomization_controller.go:1364-1373, cli-utils pkg/kstatus/polling/polling.go:27-32).
 */
import { celEnv, celError, isCelError, parse, plan } from '@bufbuild/cel';
import { strings } from '@bufbuild/cel/ext';
import { load } from 'js-yaml';

import { runLuaHealth } from './health-lua';
import { BUILTIN_LUA_CHECKS } from './health-lua-builtin';
import { isObject, splitApiVersion } from './kustomize';
import { metadata, Obj } from './objects';
import { FileTree } from './tree';
import { ArgoHealth, ArgoHealthOf, FluxHealth, HealthCheckExpr } from './types';
import { Json, JsonObject } from '../load/yaml-source';
import { compareStrings } from '../sort';

// ───────────────────────────────────────────── Argo CD ─────────────────────────────────────────────

/** Where meshfed writes its health checks in `dist/` (lib/write/gitops.ts renderArgo; the twin may not import write/). */
export const ARGOCD_HEALTH_PATCH = 'argocd/argocd-cm-health.patch.yaml';

/** A Lua health check by resource-override key: `group/Kind`, `Kind`, or a glob (`all` in argocd-cm is the glob of every kind). */
export interface LuaOverride {
  readonly lua: string;
  /** `resource.customizations.useOpenLibs.<group_kind>`: the standard libraries are opened (lua.go:169-175). */
  readonly openLibs: boolean;
}

export type LuaOverrides = ReadonlyMap<string, LuaOverride>;

/**
 * Argo CD's health for the objects of a render: the checks of `tree`'s `argocd/argocd-cm-health.patch.yaml` (the dist
 * tree) over Argo CD's own. Without that file, Argo CD's built-in checks only. A file Argo CD could not load is refused.
 */
export function argoHealthFrom(tree: FileTree): ArgoHealthOf {
  const text = tree.read(ARGOCD_HEALTH_PATCH);
  if (text === undefined) return argoHealthWith(new Map());
  let cm: Json | undefined;
  try {
    cm = load(text) as Json;
  } catch (e) {
    throw new Error(`${ARGOCD_HEALTH_PATCH}: not YAML: ${(e as Error).message}`);
  }
  if (!isObject(cm) || cm.kind !== 'ConfigMap') throw new Error(`${ARGOCD_HEALTH_PATCH}: expected the argocd-cm ConfigMap`);
  return argoHealthWith(readLuaOverrides(cm, ARGOCD_HEALTH_PATCH));
}

/**
 * The health checks of an argocd-cm ConfigMap, as Argo CD's settings manager reads them
 * (argo-cd@v3.4.0:util/settings/settings.go:992-1010, 1087-1165): the `resource.customizations` YAML first, then the
 * split keys `resource.customizations.<type>.<group>_<kind>` (`<kind>` alone for the core group, `all` for every kind),
 * which override it. Types other than `health` and `useOpenLibs` are accepted and ignored here; an unknown type or a
 * malformed key makes Argo CD refuse the whole ConfigMap, and so does this.
 */
export function readLuaOverrides(cm: JsonObject, where = 'argocd-cm'): LuaOverrides {
  const data = isObject(cm.data) ? cm.data : {};
  const out = new Map<string, { lua: string; openLibs: boolean }>();
  const entry = (key: string) => {
    if (!out.has(key)) out.set(key, { lua: '', openLibs: false });
    return out.get(key)!;
  };
  const blob = data['resource.customizations'];
  if (typeof blob === 'string' && blob !== '') {
    const parsed = load(blob) as Json;
    if (!isObject(parsed)) throw new Error(`${where}: data.resource.customizations is not a map`);
    for (const [key, v] of Object.entries(parsed)) {
      if (!isObject(v)) continue;
      // The YAML names of ResourceOverride's fields (pkg/apis/application/v1alpha1/types.go:2528-2529).
      if (typeof v['health.lua'] === 'string') entry(key).lua = v['health.lua'];
      if (v['health.lua.useOpenLibs'] === true) entry(key).openLibs = true;
    }
  }
  for (const k of Object.keys(data).sort(compareStrings)) {
    if (!k.startsWith('resource.customizations')) continue;
    const parts = splitN(k, '.', 4);
    if (parts.length < 4) continue;
    let key = overrideKey(parts[3], where);
    if (key === 'all') key = '*/*';
    const v = String(data[k] ?? '');
    switch (parts[2]) {
      case 'health':
        entry(key).lua = v;
        break;
      case 'useOpenLibs':
        entry(key).openLibs = parseGoBool(v, `${where}: data.${k}`);
        break;
      case 'actions':
      case 'ignoreDifferences':
      case 'ignoreResourceUpdates':
      case 'knownTypeFields':
        break;
      default:
        throw new Error(`${where}: data.${k}: resource customization type ${parts[2]} not supported`);
    }
  }
  return out;
}

/** Go's strings.SplitN. */
function splitN(s: string, sep: string, n: number): string[] {
  const parts = s.split(sep);
  return parts.length <= n ? parts : [...parts.slice(0, n - 1), parts.slice(n - 1).join(sep)];
}

/** settings.go:1157-1165 convertToOverrideKey: `group_Kind` → `group/Kind`. */
function overrideKey(groupKind: string, where: string): string {
  const parts = groupKind.split('_');
  if (parts.length === 2) return `${parts[0]}/${parts[1]}`;
  if (parts.length === 1 && groupKind !== '') return groupKind;
  throw new Error(
    `${where}: group kind should be in format \`resource.customizations.<type>.<group_kind>\` or resource.customizations.<type>.<kind>\`, ` +
      `got group kind: '${groupKind}'`,
  );
}

/** Go's strconv.ParseBool. */
function parseGoBool(v: string, where: string): boolean {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(v)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(v)) return false;
  throw new Error(`${where}: strconv.ParseBool: parsing ${JSON.stringify(v)}: invalid syntax`);
}

/** gitops-engine/pkg/sync/hook/hook.go:13: a hook Argo CD still holds is not "Pending deletion". */
const HOOK_FINALIZER = 'argocd.argoproj.io/hook-finalizer';

/** Argo CD's health with the given Lua overrides (gitops-engine/pkg/health/health.go:70-101). */
export function argoHealthWith(overrides: LuaOverrides): ArgoHealthOf {
  const wildcards = [...overrides.keys()].sort(compareStrings).map((k) => [k, globToRegExp(k)] as const);
  return (obj) => {
    const meta = metadata(obj);
    // The twin stores deletionTimestamp as virtual seconds, the API server as a timestamp: set is what counts.
    const finalizers = Array.isArray(meta.finalizers) ? meta.finalizers : [];
    if (meta.deletionTimestamp !== undefined && meta.deletionTimestamp !== null && !finalizers.includes(HOOK_FINALIZER))
      return { status: 'Progressing', message: 'Pending deletion' };
    const script = healthScript(overrides, wildcards, obj);
    if (script) return runLuaHealth(obj, script.lua, script.openLibs);
    return builtinArgoHealth(obj);
  };
}

const BUILTIN_LUA = new Map(BUILTIN_LUA_CHECKS.map((c) => [c.key, c.lua]));

/**
 * argo-cd@v3.4.0:util/lua/lua.go:169-205 GetHealthScript: the argocd-cm script for the exact key, else the first
 * argocd-cm glob that matches (upstream walks a Go map, so with several matching globs the choice is random; here the
 * first in key order), else the bundled script (standard libraries open). Upstream's bundled wildcard scripts (Crossplane,
 * Config Connector, Upbound) match no kind the twin serves.
 */
function healthScript(overrides: LuaOverrides, wildcards: readonly (readonly [string, RegExp])[], obj: Obj): LuaOverride | undefined {
  const [group] = splitApiVersion(String(obj.apiVersion ?? ''));
  const kind = String(obj.kind ?? '');
  const key = group ? `${group}/${kind}` : kind;
  const exact = overrides.get(key);
  if (exact && exact.lua !== '') return exact;
  for (const [pattern, re] of wildcards) {
    const o = overrides.get(pattern)!;
    if (o.lua !== '' && re.test(key)) return o;
  }
  const builtin = BUILTIN_LUA.get(key);
  return builtin === undefined ? undefined : { lua: builtin, openLibs: true };
}

/** gobwas/glob without separators (argo-cd util/glob/glob.go:9-16): `*`, `?`, `[...]`, `[!...]`, `{a,b}`, `\` escapes. */
function globToRegExp(pattern: string): RegExp {
  let re = '';
  let alternatives = 0;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\' && i + 1 < pattern.length) re += escapeRegExp(pattern[++i]);
    else if (c === '*') re += '[\\s\\S]*';
    else if (c === '?') re += '[\\s\\S]';
    else if (c === '[') {
      const end = pattern.indexOf(']', i + 1);
      if (end < 0) return /$^/; // Does not compile: Match is false (glob.go:11-14).
      const body = pattern.slice(i + 1, end);
      re += body.startsWith('!') ? `[^${body.slice(1).replace(/\\/g, '\\\\')}]` : `[${body.replace(/\\/g, '\\\\')}]`;
      i = end;
    } else if (c === '{') {
      alternatives++;
      re += '(?:';
    } else if (c === '}' && alternatives > 0) {
      alternatives--;
      re += ')';
    } else if (c === ',' && alternatives > 0) re += '|';
    else re += escapeRegExp(c);
  }
  return alternatives ? /$^/ : new RegExp(`^${re}$`);
}

function escapeRegExp(c: string): string {
  return c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/**
 * The health checks compiled into Argo CD (gitops-engine/pkg/health/health.go:104-152 GetHealthCheckFunc); undefined
 * for kinds it has none for — among them every CRD Argo CD bundles no Lua for, and argoproj.io/Application, whose check
 * was removed in Argo CD 1.8 (docs/operator-manual/health.md:29-31; health_test.go:112-115 expects none).
 */
export function builtinArgoHealth(obj: Obj): ArgoHealth | undefined {
  const [group, version] = splitApiVersion(String(obj.apiVersion ?? ''));
  const kind = String(obj.kind ?? '');
  const check = BUILTIN_ARGO[`${group}/${kind}`];
  if (!check) return undefined;
  if (check.versions && !check.versions.includes(version))
    // The typed conversion accepts one GroupVersion per kind (e.g. health_deployment.go:14-26); anything else errors.
    return { status: 'Unknown', message: `unsupported ${check.name} GVK: ${group}/${version}, Kind=${kind}`, error: true };
  return check.fn(obj, version);
}

interface BuiltinCheck {
  /** Name in the error for an unsupported version. */
  readonly name: string;
  /** The versions the typed conversion accepts; undefined when the check reads the object untyped. */
  readonly versions?: readonly string[];
  readonly fn: (o: Obj, version: string) => ArgoHealth;
}

const BUILTIN_ARGO: Record<string, BuiltinCheck> = {
  'apps/Deployment': { name: 'Deployment', versions: ['v1'], fn: deploymentHealth },
  'apps/StatefulSet': { name: 'StatefulSet', versions: ['v1'], fn: statefulSetHealth },
  'apps/ReplicaSet': { name: 'ReplicaSet', versions: ['v1'], fn: replicaSetHealth },
  'apps/DaemonSet': { name: 'DaemonSet', versions: ['v1'], fn: daemonSetHealth },
  'extensions/Ingress': { name: 'Ingress', fn: ingressHealth },
  'networking.k8s.io/Ingress': { name: 'Ingress', fn: ingressHealth },
  'argoproj.io/Workflow': { name: 'Workflow', fn: workflowHealth },
  'apiregistration.k8s.io/APIService': { name: 'APIService', versions: ['v1', 'v1beta1'], fn: apiServiceHealth },
  '/Service': { name: 'Service', versions: ['v1'], fn: serviceHealth },
  '/PersistentVolumeClaim': { name: 'PersistentVolumeClaim', versions: ['v1'], fn: pvcHealth },
  '/Pod': { name: 'Pod', versions: ['v1'], fn: podHealth },
  'batch/Job': { name: 'Job', versions: ['v1'], fn: jobHealth },
  'autoscaling/HorizontalPodAutoscaler': { name: 'HPA', versions: ['v1', 'v2beta1', 'v2beta2', 'v2'], fn: hpaHealth },
};

// Field readers with Go's typed-conversion defaults: a missing int is 0, a missing string ''.
function at(o: Json | undefined, ...path: string[]): Json | undefined {
  let v = o;
  for (const p of path) {
    if (!isObject(v)) return undefined;
    v = v[p];
  }
  return v;
}
const int = (o: Json | undefined, ...path: string[]): number => {
  const v = at(o, ...path);
  return typeof v === 'number' ? v : 0;
};
const optInt = (o: Json | undefined, ...path: string[]): number | undefined => {
  const v = at(o, ...path);
  return typeof v === 'number' ? v : undefined;
};
const str = (o: Json | undefined, ...path: string[]): string => {
  const v = at(o, ...path);
  return typeof v === 'string' ? v : '';
};
const list = (o: Json | undefined, ...path: string[]): Json[] => {
  const v = at(o, ...path);
  return Array.isArray(v) ? v : [];
};
const objects = (o: Json | undefined, ...path: string[]): JsonObject[] => list(o, ...path).filter(isObject);
const nameOf = (o: Obj): string => str(o, 'metadata', 'name');
const healthy = (message = ''): ArgoHealth => ({ status: 'Healthy', message });
const progressing = (message = ''): ArgoHealth => ({ status: 'Progressing', message });
const degraded = (message = ''): ArgoHealth => ({ status: 'Degraded', message });

/** gitops-engine/pkg/health/health_deployment.go:28-70 (kubectl rollout status). */
function deploymentHealth(d: Obj): ArgoHealth {
  if (at(d, 'spec', 'paused') === true) return { status: 'Suspended', message: 'Deployment is paused' };
  if (int(d, 'metadata', 'generation') > int(d, 'status', 'observedGeneration'))
    return progressing('Waiting for rollout to finish: observed deployment generation less than desired generation');
  const cond = objects(d, 'status', 'conditions').find((c) => c.type === 'Progressing');
  const replicas = optInt(d, 'spec', 'replicas');
  const updated = int(d, 'status', 'updatedReplicas');
  const current = int(d, 'status', 'replicas');
  const available = int(d, 'status', 'availableReplicas');
  // The deployment controller writes Progressing=False/ProgressDeadlineExceeded once progressDeadlineSeconds pass
  // without progress (kubernetes@008b365:pkg/controller/deployment/progress.go:85-93).
  if (cond && cond.reason === 'ProgressDeadlineExceeded')
    return degraded(`Deployment ${goQuote(nameOf(d))} exceeded its progress deadline`);
  if (replicas !== undefined && updated < replicas)
    return progressing(`Waiting for rollout to finish: ${updated} out of ${replicas} new replicas have been updated...`);
  if (current > updated) return progressing(`Waiting for rollout to finish: ${current - updated} old replicas are pending termination...`);
  if (available < updated)
    return progressing(`Waiting for rollout to finish: ${available} of ${updated} updated replicas are available...`);
  return healthy();
}

/** gitops-engine/pkg/health/health_statefulset.go:28-73. */
function statefulSetHealth(s: Obj): ArgoHealth {
  const observed = int(s, 'status', 'observedGeneration');
  if (observed === 0 || int(s, 'metadata', 'generation') > observed)
    return progressing('Waiting for statefulset spec update to be observed...');
  const replicas = optInt(s, 'spec', 'replicas');
  const ready = int(s, 'status', 'readyReplicas');
  const updated = int(s, 'status', 'updatedReplicas');
  if (replicas !== undefined && ready < replicas) return progressing(`Waiting for ${replicas - ready} pods to be ready...`);
  const strategy = str(s, 'spec', 'updateStrategy', 'type');
  const rolling = at(s, 'spec', 'updateStrategy', 'rollingUpdate');
  if (strategy === 'RollingUpdate' && isObject(rolling)) {
    const partition = optInt(rolling, 'partition');
    if (replicas !== undefined && partition !== undefined && updated < replicas - partition)
      return progressing(
        `Waiting for partitioned roll out to finish: ${updated} out of ${replicas - partition} new pods have been updated...`,
      );
    return healthy(`partitioned roll out complete: ${updated} new pods have been updated...`);
  }
  if (strategy === 'OnDelete') return healthy(`statefulset has ${ready} ready pods`);
  const updateRevision = str(s, 'status', 'updateRevision');
  const currentRevision = str(s, 'status', 'currentRevision');
  if (updateRevision !== currentRevision)
    return progressing(`waiting for statefulset rolling update to complete ${updated} pods at revision ${updateRevision}...`);
  return healthy(`statefulset rolling update complete ${int(s, 'status', 'currentReplicas')} pods at revision ${currentRevision}...`);
}

/** gitops-engine/pkg/health/health_daemonset.go:28-57. */
function daemonSetHealth(d: Obj): ArgoHealth {
  if (int(d, 'metadata', 'generation') > int(d, 'status', 'observedGeneration'))
    return progressing('Waiting for rollout to finish: observed daemon set generation less than desired generation');
  const desired = int(d, 'status', 'desiredNumberScheduled');
  const updated = int(d, 'status', 'updatedNumberScheduled');
  const available = int(d, 'status', 'numberAvailable');
  if (str(d, 'spec', 'updateStrategy', 'type') === 'OnDelete')
    return healthy(`daemon set ${updated} out of ${desired} new pods have been updated`);
  const name = goQuote(nameOf(d));
  if (updated < desired)
    return progressing(`Waiting for daemon set ${name} rollout to finish: ${updated} out of ${desired} new pods have been updated...`);
  if (available < desired)
    return progressing(`Waiting for daemon set ${name} rollout to finish: ${available} of ${desired} updated pods are available...`);
  return healthy();
}

/** gitops-engine/pkg/health/health_replicaset.go:29-53: ReplicaFailure (FailedCreate…) is Degraded at once. */
function replicaSetHealth(r: Obj): ArgoHealth {
  if (int(r, 'metadata', 'generation') > int(r, 'status', 'observedGeneration'))
    return progressing('Waiting for rollout to finish: observed replica set generation less than desired generation');
  const failure = objects(r, 'status', 'conditions').find((c) => c.type === 'ReplicaFailure');
  if (failure && failure.status === 'True') return degraded(str(failure, 'message'));
  const replicas = optInt(r, 'spec', 'replicas');
  const available = int(r, 'status', 'availableReplicas');
  if (replicas !== undefined && available < replicas)
    return progressing(`Waiting for rollout to finish: ${available} out of ${replicas} new replicas are available...`);
  return healthy();
}

/** gitops-engine/pkg/health/health_ingress.go:7-16 (any version of either group). */
function ingressHealth(i: Obj): ArgoHealth {
  return list(i, 'status', 'loadBalancer', 'ingress').length > 0 ? healthy() : progressing();
}

/** gitops-engine/pkg/health/health_argo.go:19-32. */
function workflowHealth(w: Obj): ArgoHealth {
  const phase = str(w, 'status', 'phase');
  const message = str(w, 'status', 'message');
  if (phase === '' || phase === 'Pending' || phase === 'Running') return progressing(message);
  if (phase === 'Succeeded') return healthy(message);
  if (phase === 'Failed' || phase === 'Error') return degraded(message);
  return { status: 'Unknown', message };
}

/** gitops-engine/pkg/health/health_apiservice.go:36-76. */
function apiServiceHealth(a: Obj): ArgoHealth {
  const c = objects(a, 'status', 'conditions').find((x) => x.type === 'Available');
  if (!c) return progressing('Waiting to be processed');
  const message = `${str(c, 'reason')}: ${str(c, 'message')}`;
  return c.status === 'True' ? healthy(message) : progressing(message);
}

/** gitops-engine/pkg/health/health_service.go:28-38: only a LoadBalancer waits, for an ingress address. */
function serviceHealth(s: Obj): ArgoHealth {
  if (str(s, 'spec', 'type') === 'LoadBalancer' && list(s, 'status', 'loadBalancer', 'ingress').length === 0) return progressing();
  return healthy();
}

/** gitops-engine/pkg/health/health_pvc.go:28-41. */
function pvcHealth(p: Obj): ArgoHealth {
  const phase = str(p, 'status', 'phase');
  if (phase === 'Lost') return degraded();
  if (phase === 'Pending') return progressing();
  if (phase === 'Bound') return healthy();
  return { status: 'Unknown', message: '' };
}

/** gitops-engine/pkg/health/health_pod.go:30-134. */
function podHealth(p: Obj): ArgoHealth {
  const restartPolicy = str(p, 'spec', 'restartPolicy');
  const message = str(p, 'status', 'message');
  const containers = objects(p, 'status', 'containerStatuses');
  if (restartPolicy === 'Always') {
    // Hook pods (restartPolicy Never/OnFailure) are exempt so a transient image pull error does not fail a hook.
    const waiting = containers
      .map((c) => at(c, 'state', 'waiting'))
      .filter(isObject)
      .filter((w) => {
        const reason = str(w, 'reason');
        return reason.startsWith('Err') || reason.endsWith('Error') || reason.endsWith('BackOff');
      });
    if (waiting.length) return degraded(waiting.map((w) => str(w, 'message')).join(', '));
  }
  switch (str(p, 'status', 'phase')) {
    case 'Pending':
      return progressing(message);
    case 'Succeeded':
      return healthy(message);
    case 'Failed': {
      if (message !== '') return degraded(message);
      for (const c of [...objects(p, 'status', 'initContainerStatuses'), ...containers]) {
        const t = at(c, 'state', 'terminated');
        if (!isObject(t)) continue;
        if (str(t, 'message') !== '') return degraded(str(t, 'message'));
        if (str(t, 'reason') === 'OOMKilled') return degraded('OOMKilled');
        if (int(t, 'exitCode') !== 0) return degraded(`container ${goQuote(str(c, 'name'))} failed with exit code ${int(t, 'exitCode')}`);
      }
      return degraded('');
    }
    case 'Running':
      if (restartPolicy === 'Always') {
        // k8s.io/kubectl/pkg/util/podutils IsPodReady: the Ready condition is True.
        if (objects(p, 'status', 'conditions').some((c) => c.type === 'Ready' && c.status === 'True')) return healthy(message);
        if (containers.some((c) => isObject(at(c, 'lastState', 'terminated')))) return degraded(message);
        return progressing(message);
      }
      if (restartPolicy === 'OnFailure' || restartPolicy === 'Never') return progressing(message);
  }
  return { status: 'Unknown', message };
}

/**
 * gitops-engine/pkg/health/health_job.go:30-75. The job controller marks a Job that ran past `activeDeadlineSeconds`
 * or `backoffLimit` with Failed=True (reasons DeadlineExceeded, BackoffLimitExceeded), which reads Degraded here. Any
 * Complete/Failed/Suspended condition, whatever its status, counts as "complete" upstream; kept as is.
 */
function jobHealth(j: Obj): ArgoHealth {
  let failed = false;
  let complete = false;
  let suspended = false;
  let failMessage = '';
  let message = '';
  for (const c of objects(j, 'status', 'conditions')) {
    if (c.type === 'Failed') {
      failed = true;
      complete = true;
      failMessage = str(c, 'message');
    } else if (c.type === 'Complete') {
      complete = true;
      message = str(c, 'message');
    } else if (c.type === 'Suspended') {
      complete = true;
      message = str(c, 'message');
      if (c.status === 'True') suspended = true;
    }
  }
  if (!complete) return progressing(message);
  if (failed) return degraded(failMessage);
  if (suspended) return { status: 'Suspended', message: failMessage };
  return healthy(message);
}

/** gitops-engine/pkg/health/health_hpa.go:29-175. */
function hpaHealth(h: Obj, version: string): ArgoHealth {
  const waiting = progressing('Waiting to Autoscale');
  let conditions: JsonObject[];
  if (version === 'v1') {
    const annotation = str(h, 'metadata', 'annotations', 'autoscaling.alpha.kubernetes.io/conditions');
    if (at(h, 'metadata', 'annotations', 'autoscaling.alpha.kubernetes.io/conditions') === undefined) return waiting;
    try {
      const parsed = JSON.parse(annotation) as Json;
      conditions = Array.isArray(parsed) ? parsed.filter(isObject) : [];
    } catch (e) {
      return { status: 'Unknown', message: `failed to convert conditions annotation to typed: ${(e as Error).message}`, error: true };
    }
    if (conditions.length === 0) return waiting;
  } else conditions = objects(h, 'status', 'conditions');
  const degradedWhen = [
    ['AbleToScale', 'FailedGetScale'],
    ['AbleToScale', 'FailedUpdateScale'],
    ['ScalingActive', 'FailedGetResourceMetric'],
    ['ScalingActive', 'InvalidSelector'],
  ];
  for (const c of conditions) {
    if (degradedWhen.some(([type, reason]) => c.type === type && c.reason === reason)) return degraded(str(c, 'message'));
    if ((c.type === 'AbleToScale' || c.type === 'ScalingLimited') && c.status === 'True') return healthy(str(c, 'message'));
  }
  return waiting;
}

/** Go's %q for the strings Kubernetes names are (DNS labels): a double-quoted string. */
function goQuote(s: string): string {
  return JSON.stringify(s);
}

// ─────────────────────────────────────────────── Flux ───────────────────────────────────────────────

export interface FluxHealthOptions {
  /**
   * Virtual seconds now, to tell a Pod that was just created from one that cannot be scheduled (kstatus gives a Pod
   * 15 s: cli-utils core.go:50-52, 449-456). Without it, or when the Pod's creationTimestamp is not virtual seconds,
   * the window is over.
   */
  readonly now?: number;
}

/**
 * The kstatus status Flux's health check sees for `obj` (undefined: the object does not exist), with the
 * Kustomization's `healthCheckExprs`. The readers, in kustomize-controller's order (kustomization_controller.go:1364-1373,
 * cli-utils pkg/kstatus/polling/polling.go:27-32): batch Jobs go to Flux's Job reader; a GroupKind with an expression
 * (or a group with a kind-less entry) to the CEL evaluator — which never looks at deletionTimestamp; everything else
 * to kstatus. A status that cannot be computed is Unknown with the error (statusreaders/common.go:164-188).
 * Throws when `exprs` is invalid: check it first with `validateHealthCheckExprs`.
 */
export function fluxHealth(obj: Obj | undefined, exprs: readonly HealthCheckExpr[], opts: FluxHealthOptions = {}): FluxHealth {
  if (!obj) return { status: 'NotFound', message: 'Resource not found' };
  const [group] = splitApiVersion(String(obj.apiVersion ?? ''));
  const kind = String(obj.kind ?? '');
  try {
    if (group === 'batch' && kind === 'Job') return fluxJobStatus(obj);
    const evaluators = compiled(exprs);
    const evaluator = evaluators.get(`${group}/${kind}`) ?? evaluators.get(`${group}/`);
    if (evaluator) return evaluateCel(evaluator, obj);
    return kstatus(obj, opts);
  } catch (e) {
    if (e instanceof StatusError) return { status: 'Unknown', message: e.message };
    throw e;
  }
}

/** An error computing a status (Go's `return nil, err`), reported as Unknown. */
class StatusError extends Error {}

/**
 * Why kustomize-controller refuses these `healthCheckExprs` (fluxcd/pkg@e2cfd1a:runtime/cel/status_reader.go:43-61,
 * status_evaluator.go:37-73): two entries for one GroupKind (the version is ignored), a missing `current`, an
 * expression that does not parse. The Kustomization then goes Stalled with reason InvalidCELExpression
 * (kustomize-controller@186fb3b:internal/controller/kustomization_controller.go:189-198). Undefined when they are valid.
 */
export function validateHealthCheckExprs(exprs: readonly HealthCheckExpr[]): string | undefined {
  try {
    compiled(exprs);
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

interface Evaluator {
  readonly inProgress?: Program;
  readonly failed?: Program;
  readonly current: Program;
}

interface Program {
  readonly expr: string;
  readonly run: ReturnType<typeof plan>;
}

const evaluatorCache = new WeakMap<readonly HealthCheckExpr[], Map<string, Evaluator>>();

function compiled(exprs: readonly HealthCheckExpr[]): Map<string, Evaluator> {
  const cached = evaluatorCache.get(exprs);
  if (cached) return cached;
  const out = new Map<string, Evaluator>();
  exprs.forEach((hc, i) => {
    const [group] = splitApiVersion(hc.apiVersion);
    const key = `${group}/${hc.kind ?? ''}`;
    if (out.has(key))
      throw new Error(`duplicate custom health check for GroupKind ${groupKindString(group, hc.kind ?? '')} at healthchecks[${i}]`);
    const where = `failed to create custom status evaluator for healthchecks[${i}]`;
    if (!hc.current) throw new Error(`${where}: expression Current not specified`);
    const p = (name: string, expr: string | undefined) =>
      expr ? program(expr, `${where}: failed to parse the expression ${name}`) : undefined;
    out.set(key, { current: p('Current', hc.current)!, failed: p('Failed', hc.failed), inProgress: p('InProgress', hc.inProgress) });
  });
  evaluatorCache.set(exprs, out);
  return out;
}

/** apimachinery schema.GroupKind.String(). */
function groupKindString(group: string, kind: string): string {
  return group ? `${kind}.${group}` : kind;
}

/**
 * fluxcd/pkg runtime/cel/expression.go:70-126: parsed, not compiled (no declared variables: the object's top-level
 * fields are the variables). The environment is cel-go's with the strings, sets and encoders extensions; @bufbuild/cel
 * implements the standard library and strings only, so an expression using sets.* or base64.* fails here with an
 * error (Unknown) where Flux evaluates it.
 */
const celEnvironment = celEnv({ funcs: strings });
const programs = new Map<string, Program>();

function program(expr: string, where: string): Program {
  let p = programs.get(expr);
  if (!p) {
    try {
      p = { expr, run: plan(celEnvironment, parse(expr)) };
    } catch (e) {
      throw new Error(`${where}: failed to parse the CEL expression '${expr}': ${(e as Error).message}`);
    }
    programs.set(expr, p);
  }
  return p;
}

/**
 * fluxcd/pkg@e2cfd1a:runtime/cel/status_evaluator.go:87-126: InProgress while status.observedGeneration (an integer)
 * differs from metadata.generation — before any expression, so `failed` is never reached for a spec the controller
 * has not finished (an SMCP whose new spec failed to reconcile) — then `inProgress`, `failed`, `current`, the first true one wins; none true
 * is InProgress. These results carry no message.
 */
function evaluateCel(e: Evaluator, obj: Obj): FluxHealth {
  const observed = at(obj, 'status', 'observedGeneration');
  const generation = at(obj, 'metadata', 'generation');
  if (Number.isInteger(observed) && Number.isInteger(generation) && observed !== generation) return { status: 'InProgress', message: '' };
  const vars = activation(obj);
  for (const [p, status] of [
    [e.inProgress, 'InProgress'],
    [e.failed, 'Failed'],
    [e.current, 'Current'],
  ] as const) {
    if (!p) continue;
    const result = p.run(vars as never);
    // runtime/cel/expression.go:134-144.
    if (isCelError(result)) throw new StatusError(`failed to evaluate the CEL expression '${p.expr}': ${result.message}`);
    if (typeof result !== 'boolean') throw new StatusError(`failed to evaluate CEL expression as boolean: '${p.expr}'`);
    if (result) return { status, message: '' };
  }
  return { status: 'InProgress', message: '' };
}

/** CEL's type identifiers, which resolve as types rather than variables. */
const CEL_TYPE_NAMES = new Set(['int', 'uint', 'double', 'bool', 'string', 'bytes', 'list', 'map', 'null_type', 'type', 'dyn']);

/**
 * The object's top-level fields as CEL variables, JSON integers as CEL ints (unstructured holds int64). A name the
 * object lacks is an error when evaluated (cel-go: "no such attribute"), so `has(status.conditions)` errors on an object
 * without status (kustomize-controller docs/spec/v1/kustomizations.md:404-413) — while `||`/`&&` may still absorb it.
 */
function activation(obj: Obj): Record<string, unknown> {
  const vars: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) vars[k] = celValue(v);
  return new Proxy(vars, {
    get: (target, name) => {
      if (typeof name !== 'string' || name.includes('.')) return undefined; // Qualified candidates resolve by their first name.
      if (name in target) return target[name];
      return CEL_TYPE_NAMES.has(name) ? undefined : celError(`no such attribute: ${name}`);
    },
  });
}

function celValue(v: Json): unknown {
  if (Array.isArray(v)) return v.map(celValue);
  if (isObject(v)) return new Map(Object.entries(v).map(([k, x]) => [k, celValue(x)]));
  if (typeof v === 'number' && Number.isSafeInteger(v)) return BigInt(v);
  return v;
}

/**
 * fluxcd/pkg@e2cfd1a:runtime/statusreaders/job.go:61-144, which kustomize-controller puts before every other reader: a
 * Job is Current only once it completed (kstatus would say Current while it runs), Failed once failed — the job
 * controller's Failed=True, including DeadlineExceeded for activeDeadlineSeconds — and Current when suspended.
 */
function fluxJobStatus(j: Obj): FluxHealth {
  if (at(j, 'spec', 'suspend') === true) return { status: 'Current', message: 'Job is suspended' };
  const parallelism = intField(j, ['spec', 'parallelism'], 1);
  const completions = intField(j, ['spec', 'completions'], parallelism);
  const active = intField(j, ['status', 'active'], 0);
  const succeeded = intField(j, ['status', 'succeeded'], 0);
  const failed = intField(j, ['status', 'failed'], 0);
  for (const c of conditionsOf(j)) {
    if (c.type === 'Complete' && c.status === 'True')
      return { status: 'Current', message: `Job Completed. succeeded: ${succeeded}/${completions}` };
    if (c.type === 'Failed' && c.status === 'True') return { status: 'Failed', message: `Job Failed. failed: ${failed}/${completions}` };
  }
  if (stringField(j, ['status', 'startTime'], '') === '')
    return { status: 'InProgress', message: `Job not started. active: 0/${parallelism}` };
  return { status: 'InProgress', message: `Job in progress. success:${succeeded}, active: ${active}, failed: ${failed}` };
}

interface Condition {
  readonly type: string;
  readonly status: string;
  readonly reason: string;
  readonly message: string;
}

/** cli-utils pkg/kstatus/status/util.go:78-86 GetObjectWithConditions: a malformed conditions list is an error. */
function conditionsOf(o: Obj): Condition[] {
  const status = o.status;
  if (status === undefined || status === null) return [];
  if (!isObject(status)) throw new StatusError('.status: expected an object');
  const conditions = status.conditions;
  if (conditions === undefined || conditions === null) return [];
  if (!Array.isArray(conditions)) throw new StatusError('.status.conditions: expected a list');
  return conditions.map((c, i) => {
    if (!isObject(c)) throw new StatusError(`.status.conditions[${i}]: expected an object`);
    const field = (k: string) => {
      const v = c[k];
      if (v === undefined || v === null) return '';
      if (typeof v !== 'string') throw new StatusError(`.status.conditions[${i}].${k}: expected a string`);
      return v;
    };
    return { type: field('type'), status: field('status'), reason: field('reason'), message: field('message') };
  });
}

/** cli-utils util.go:122-143 GetIntField: only integers count, anything else is the default. */
function intField(o: Obj, path: string[], dflt: number): number {
  const v = at(o, ...path);
  return typeof v === 'number' && Number.isInteger(v) ? v : dflt;
}

/** cli-utils util.go:102-120 GetStringField. */
function stringField(o: Obj, path: string[], dflt: string): string {
  const v = at(o, ...path);
  return typeof v === 'string' ? v : dflt;
}

const current = (message: string): FluxHealth => ({ status: 'Current', message });
const inProgress = (message: string): FluxHealth => ({ status: 'InProgress', message });
const failedStatus = (message: string): FluxHealth => ({ status: 'Failed', message });

/**
 * fluxcd/cli-utils@967855f:pkg/kstatus/status/status.go:102-139 Compute: the generic properties
 * (generic.go:22-99 — deletion, generation, the Reconciling/Stalled conditions), then the rule of a built-in kind
 * (core.go:22-39), then a Ready condition (status.go:154-183), else Current.
 */
function kstatus(o: Obj, opts: FluxHealthOptions): FluxHealth {
  const generic = genericStatus(o);
  if (generic) return generic;
  const [group] = splitApiVersion(String(o.apiVersion ?? ''));
  const kind = String(o.kind ?? '');
  const rule = KSTATUS_RULES[group ? `${group}/${kind}` : kind];
  if (rule) return rule(o, opts);
  for (const c of conditionsOf(o)) {
    if (c.type !== 'Ready') continue;
    if (c.status === 'True') return current('Resource is Ready');
    if (c.status === 'False' || c.status === 'Unknown') return inProgress(c.message);
  }
  return current('Resource is current');
}

/** generic.go:22-99. */
function genericStatus(o: Obj): FluxHealth | undefined {
  const deletion = metadata(o).deletionTimestamp;
  // The API server writes an RFC 3339 string, the twin virtual seconds: either way, set means terminating.
  if (deletion !== undefined && deletion !== null && deletion !== '')
    return { status: 'Terminating', message: 'Resource scheduled for deletion' };
  const generation = at(o, 'metadata', 'generation');
  const observed = at(o, 'status', 'observedGeneration');
  if (typeof generation === 'number' && typeof observed === 'number' && observed !== generation)
    return inProgress(`${String(o.kind ?? '')} generation is ${generation}, but latest observed generation is ${observed}`);
  for (const c of conditionsOf(o)) {
    if (c.type === 'Reconciling' && c.status === 'True') return inProgress(c.message);
    if (c.type === 'Stalled' && c.status === 'True') return failedStatus(c.message);
  }
  return undefined;
}

type KstatusRule = (o: Obj, opts: FluxHealthOptions) => FluxHealth;

const alwaysReady: KstatusRule = () => current('Resource is always ready');

/** core.go:22-39 (batch/Job never gets here under Flux: its own reader answers first). */
const KSTATUS_RULES: Record<string, KstatusRule> = {
  Service: serviceStatus,
  Pod: podStatus,
  Secret: alwaysReady,
  PersistentVolumeClaim: pvcStatus,
  'apps/StatefulSet': statefulSetStatus,
  'apps/DaemonSet': daemonSetStatus,
  'extensions/DaemonSet': daemonSetStatus,
  'apps/Deployment': deploymentStatus,
  'extensions/Deployment': deploymentStatus,
  'apps/ReplicaSet': replicaSetStatus,
  'extensions/ReplicaSet': replicaSetStatus,
  // PDBs are Current once the generic generation check passed (core.go:509-526).
  'policy/PodDisruptionBudget': () => current('AllowedDisruptions has been computed.'),
  'batch/CronJob': alwaysReady,
  ConfigMap: alwaysReady,
  'apiextensions.k8s.io/CustomResourceDefinition': crdStatus,
};

/** core.go:83-152. */
function statefulSetStatus(o: Obj): FluxHealth {
  if (stringField(o, ['spec', 'updateStrategy', 'type'], '') === 'OnDelete')
    return current('StatefulSet is using the ondelete update strategy');
  const spec = intField(o, ['spec', 'replicas'], 1);
  const ready = intField(o, ['status', 'readyReplicas'], 0);
  const currentReplicas = intField(o, ['status', 'currentReplicas'], 0);
  const updated = intField(o, ['status', 'updatedReplicas'], 0);
  const replicas = intField(o, ['status', 'replicas'], 0);
  const partition = intField(o, ['spec', 'updateStrategy', 'rollingUpdate', 'partition'], -1);
  if (spec > replicas) return inProgress(`Replicas: ${replicas}/${spec}`);
  if (spec > ready) return inProgress(`Ready: ${ready}/${spec}`);
  if (replicas > spec) return inProgress(`Pending termination: ${replicas - spec}`);
  if (partition !== -1) {
    if (updated < spec - partition) return inProgress(`updated: ${updated}/${spec - partition}`);
    return current(`Partition rollout complete. updated: ${updated}`);
  }
  if (spec > currentReplicas) return inProgress(`current: ${currentReplicas}/${spec}`);
  if (stringField(o, ['status', 'currentRevision'], '') !== stringField(o, ['status', 'updateRevision'], ''))
    return inProgress('Waiting for updated revision to match current');
  return current(`All replicas scheduled as expected. Replicas: ${replicas}`);
}

/**
 * core.go:158-250: without spec.progressDeadlineSeconds the deployment controller sets no Progressing condition, so
 * kstatus does not wait for one; Progressing reason ProgressDeadlineExceeded is Failed.
 */
function deploymentStatus(o: Obj): FluxHealth {
  let progressing = intField(o, ['spec', 'progressDeadlineSeconds'], 2147483647) === 2147483647;
  let available = false;
  for (const c of conditionsOf(o)) {
    if (c.type === 'Progressing') {
      if (c.reason === 'ProgressDeadlineExceeded') return failedStatus('Progress deadline exceeded');
      if (c.status === 'True' && c.reason === 'NewReplicaSetAvailable') progressing = true;
    } else if (c.type === 'Available' && c.status === 'True') available = true;
  }
  const spec = intField(o, ['spec', 'replicas'], 1);
  const replicas = intField(o, ['status', 'replicas'], 0);
  const updated = intField(o, ['status', 'updatedReplicas'], 0);
  const ready = intField(o, ['status', 'readyReplicas'], 0);
  const avail = intField(o, ['status', 'availableReplicas'], 0);
  if (spec > replicas) return inProgress(`Replicas: ${replicas}/${spec}`);
  if (spec > updated) return inProgress(`Updated: ${updated}/${spec}`);
  if (replicas > spec) return inProgress(`Pending termination: ${replicas - spec}`);
  if (updated > avail) return inProgress(`Available: ${avail}/${updated}`);
  if (spec > ready) return inProgress(`Ready: ${ready}/${spec}`);
  if (!progressing) return inProgress('ReplicaSet not Available');
  if (!available) return inProgress('Deployment not Available');
  return current(`Deployment is available. Replicas: ${replicas}`);
}

/** core.go:253-302: a ReplicaFailure is InProgress for kstatus, not Failed. */
function replicaSetStatus(o: Obj): FluxHealth {
  if (conditionsOf(o).some((c) => c.type === 'ReplicaFailure' && c.status === 'True'))
    return inProgress('Replica Failure condition. Check Pods');
  const spec = intField(o, ['spec', 'replicas'], 1);
  const replicas = intField(o, ['status', 'replicas'], 0);
  const ready = intField(o, ['status', 'readyReplicas'], 0);
  const avail = intField(o, ['status', 'availableReplicas'], 0);
  const labelled = intField(o, ['status', 'fullyLabeledReplicas'], 0);
  if (spec > labelled) return inProgress(`Labelled: ${labelled}/${spec}`);
  if (spec > avail) return inProgress(`Available: ${avail}/${spec}`);
  if (spec > ready) return inProgress(`Ready: ${ready}/${spec}`);
  if (replicas > spec) return inProgress(`Pending termination: ${replicas - spec}`);
  return current(`ReplicaSet is available. Replicas: ${replicas}`);
}

/** core.go:305-388: a DaemonSet must carry generation and observedGeneration. */
function daemonSetStatus(o: Obj): FluxHealth {
  if (typeof at(o, 'metadata', 'generation') !== 'number') return inProgress(`${String(o.kind)} metadata.generation not found`);
  if (typeof at(o, 'status', 'observedGeneration') !== 'number') return inProgress(`${String(o.kind)} status.observedGeneration not found`);
  const desired = intField(o, ['status', 'desiredNumberScheduled'], -1);
  const scheduled = intField(o, ['status', 'currentNumberScheduled'], 0);
  const updated = intField(o, ['status', 'updatedNumberScheduled'], 0);
  const avail = intField(o, ['status', 'numberAvailable'], 0);
  const ready = intField(o, ['status', 'numberReady'], 0);
  if (desired === -1) return inProgress('Missing .status.desiredNumberScheduled');
  if (desired > scheduled) return inProgress(`Current: ${scheduled}/${desired}`);
  if (desired > updated) return inProgress(`Updated: ${updated}/${desired}`);
  if (desired > avail) return inProgress(`Available: ${avail}/${desired}`);
  if (desired > ready) return inProgress(`Ready: ${ready}/${desired}`);
  return current(`All replicas scheduled as expected. Replicas: ${desired}`);
}

/** core.go:391-405. */
function pvcStatus(o: Obj): FluxHealth {
  const phase = stringField(o, ['status', 'phase'], 'unknown');
  return phase === 'Bound' ? current('PVC is Bound') : inProgress(`PVC is not Bound. phase: ${phase}`);
}

/** kstatus core.go:52 ScheduleWindow. */
const SCHEDULE_WINDOW_SECONDS = 15;

/** core.go:408-507: a failed Pod is Current (it completed); only a crash loop or an unschedulable Pod is Failed. */
function podStatus(o: Obj, opts: FluxHealthOptions): FluxHealth {
  const conditions = conditionsOf(o);
  const phase = stringField(o, ['status', 'phase'], '');
  switch (phase) {
    case 'Succeeded':
      return current('Pod has completed successfully');
    case 'Failed':
      return current('Pod has completed, but not successfully');
    case 'Running': {
      if (conditions.some((c) => c.type === 'Ready' && c.status === 'True')) return current('Pod is Ready');
      const looping = objects(o, 'status', 'containerStatuses')
        .filter((c) => str(c, 'state', 'waiting', 'reason') === 'CrashLoopBackOff')
        .map((c) => str(c, 'name'));
      if (looping.length) return failedStatus(`Containers in CrashLoop state: ${looping.join(',')}`);
      return inProgress('Pod is running but is not Ready');
    }
    case 'Pending': {
      const c = conditions.find((x) => x.type === 'PodScheduled' && x.status === 'False');
      if (c && c.reason === 'Unschedulable') {
        const created = metadata(o).creationTimestamp;
        if (opts.now !== undefined && typeof created === 'number' && opts.now - SCHEDULE_WINDOW_SECONDS < created)
          return inProgress('Pod has not been scheduled');
        return failedStatus('Pod could not be scheduled');
      }
      return inProgress('Pod is in the Pending phase');
    }
    case '':
      return inProgress('Pod phase not available');
    default:
      throw new StatusError(`unknown phase ${phase}`);
  }
}

/** core.go:581-599: a LoadBalancer Service is Current once it has a cluster IP (not an external address). */
function serviceStatus(o: Obj): FluxHealth {
  if (stringField(o, ['spec', 'type'], 'ClusterIP') === 'LoadBalancer' && stringField(o, ['spec', 'clusterIP'], '') === '')
    return inProgress('ClusterIP not set. Service type: LoadBalancer');
  return current('Service is ready');
}

/** core.go:601-627. */
function crdStatus(o: Obj): FluxHealth {
  for (const c of conditionsOf(o)) {
    if (c.type === 'NamesAccepted' && c.status === 'False') return failedStatus(c.message);
    if (c.type === 'Established') {
      if (c.status === 'False' && c.reason !== 'Installing') return failedStatus(c.message);
      if (c.status === 'True') return current('CRD is established');
    }
  }
  return inProgress('Install in progress');
}
