/**
 * Argo CD syncing an Application from the render, on a simulated `Cluster`: what the application controller
 * and gitops-engine do with the objects `kustomize build` yields for `spec.source.path` (or each of
 * `spec.sources[]`), from the comparison with the live state to the end of the sync operation, its
 * retries, the Application's health, self-heal and the deletion of the Application.
 *
 * The model is a port of the upstream logic, read at argoproj/argo-cd@v3.4.0 (gitops-engine in-tree) and
 * compared with argoproj/argo-cd@v2.13.0 (which vendors argoproj/gitops-engine@bd7681ae3f8b). Each rule
 * cites the line it comes from; `ArgoOptions.version` switches the few rules that differ.
 *
 * One operation step (`SyncOperation.step`) is one call of gitops-engine's `syncContext.Sync()`: the
 * application controller calls it again while the operation is Running, and the twin advances the
 * cluster's virtual clock by one controller tick between two calls.
 */
import { ResourceType, servedTypes } from './api';
import { Cluster, Propagation, TICK_SECONDS } from './cluster';
import { buildKustomization, isObject, KustomizeError, splitApiVersion } from './kustomize';
import {
  annotations,
  ARGO_COMPARE_OPTIONS,
  ARGO_HOOK,
  ARGO_HOOK_DELETE_POLICY,
  ARGO_SYNC_OPTIONS,
  ARGO_TRACKING_ID,
  ARGO_WAVE,
  keyOf,
  labels,
  metadata,
  Obj,
  ownerReferences,
  Ref,
  refKey,
  refOf,
} from './objects';
import { FileTree } from './tree';
import { ArgoHealth, ArgoHealthOf, ArgoHealthStatus, EngineFailure, EngineResult, EngineStep } from './types';
import { Json, JsonObject } from '../load/yaml-source';
import { compareStrings } from '../sort';

export type ArgoVersion = '2.13' | '3.4';

export interface ArgoOptions {
  /** Virtual seconds a sync may take before it is reported as hanging (Argo CD has no sync timeout by default). Default 6 h. */
  readonly horizonSeconds?: number;
  /** Default '2.13' (OpenShift GitOps 1.15/1.16 ship 2.13–2.14). */
  readonly version?: ArgoVersion;
  /** `application.resourceTrackingMethod`; default: the version's default (2.13: label, 3.4: annotation). */
  readonly tracking?: 'annotation' | 'label';
}

/** What a manual sync (`argocd app sync`) asks for; an automated sync takes it from `syncPolicy.automated`. */
export interface SyncOverrides {
  /** `argocd app sync --prune`. */
  readonly prune?: boolean;
}

/** The comparison Argo CD shows: the Application's sync status, each resource's, and the Application's health. */
export interface ArgoAppStatus {
  readonly sync: 'Synced' | 'OutOfSync';
  readonly resources: readonly { readonly ref: Ref; readonly status: 'Synced' | 'OutOfSync'; readonly requiresPruning: boolean }[];
  readonly health: ArgoHealth & { readonly object?: Ref };
}

/** The target state could not be computed (argo-cd controller/state.go: a ComparisonError condition). */
export class ArgoComparisonError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ArgoComparisonError';
  }
}

/** Default horizon: 6 virtual hours. */
export const DEFAULT_HORIZON_SECONDS = 6 * 3600;

/** argoproj/argo-cd@v3.4.0:common/common.go:128 (`ArgoCDSSAManager`). */
export const ARGO_SSA_MANAGER = 'argocd-controller';
/** Client-side apply's field manager: argoproj/argo-cd@v3.4.0:gitops-engine/pkg/sync/common/types.go:55. */
const CSA_MANAGER = 'kubectl-client-side-apply';
/** Who deletes and patches in the cluster's event log. */
const ACTOR = 'argocd-application-controller';
/** argoproj/argo-cd@v3.4.0:common/common.go:187 (label tracking's key, `application.instanceLabelKey` default). */
export const ARGO_INSTANCE_LABEL = 'app.kubernetes.io/instance';
/** argoproj/argo-cd@v3.4.0:common/common.go:223. */
const IGNORE_HEALTHCHECK = 'argocd.argoproj.io/ignore-healthcheck';
/** argoproj/argo-cd@v3.4.0:gitops-engine/pkg/sync/hook/hook.go:13 (added after v2.13). */
export const HOOK_FINALIZER = 'argocd.argoproj.io/hook-finalizer';

export type SyncPhase = 'PreSync' | 'Sync' | 'PostSync' | 'SyncFail';
type OperationPhase = 'Running' | 'Failed' | 'Error' | 'Succeeded';
type ResultCode = 'Synced' | 'SyncFailed' | 'Pruned' | 'PruneSkipped';
type RunState = 'successful' | 'pending' | 'failed';

/** argoproj/argo-cd@v3.4.0:gitops-engine/pkg/sync/sync_tasks.go:15-20. */
const PHASE_ORDER: Record<SyncPhase, number> = { PreSync: -1, Sync: 0, PostSync: 1, SyncFail: 2 };

/**
 * Kind order inside a wave (Helm's kind sorter): argoproj/argo-cd@v3.4.0:gitops-engine/pkg/sync/sync_tasks.go:27-67.
 * Listed kinds get negative ranks, so every other kind (custom resources) comes after them.
 */
const KINDS = [
  'Namespace',
  'NetworkPolicy',
  'ResourceQuota',
  'LimitRange',
  'PodSecurityPolicy',
  'PodDisruptionBudget',
  'ServiceAccount',
  'Secret',
  'SecretList',
  'ConfigMap',
  'StorageClass',
  'PersistentVolume',
  'PersistentVolumeClaim',
  'CustomResourceDefinition',
  'ClusterRole',
  'ClusterRoleList',
  'ClusterRoleBinding',
  'ClusterRoleBindingList',
  'Role',
  'RoleList',
  'RoleBinding',
  'RoleBindingList',
  'Service',
  'DaemonSet',
  'Pod',
  'ReplicationController',
  'ReplicaSet',
  'Deployment',
  'HorizontalPodAutoscaler',
  'StatefulSet',
  'Job',
  'CronJob',
  'IngressClass',
  'Ingress',
  'APIService',
];
const KIND_ORDER = new Map(KINDS.map((k, i) => [k, i - KINDS.length]));

/** argoproj/argo-cd@v3.4.0:gitops-engine/pkg/health/health.go:45-52, most healthy first. */
const HEALTH_ORDER: ArgoHealthStatus[] = ['Healthy', 'Suspended', 'Progressing', 'Missing', 'Degraded', 'Unknown'];

// ---- annotations (argoproj/argo-cd@v3.4.0:gitops-engine/pkg/sync/resource/annotations.go:16-56) ----

/** `GetAnnotationCSVs`: comma-separated, trimmed, empty items dropped, duplicates dropped. */
function csv(o: Obj | undefined, key: string): string[] {
  const text = o ? annotations(o)[key] : undefined;
  const out: string[] = [];
  for (const item of String(text ?? '').split(',')) {
    const v = item.trim();
    if (v && !out.includes(v)) out.push(v);
  }
  return out;
}

/** `HasAnnotationOption`: the exact item (e.g. `PruneLast=true`) is present. */
function hasOption(o: Obj | undefined, key: string, value: string): boolean {
  return csv(o, key).includes(value);
}

/** `GetAnnotationOptionValue`: the value of the first `Key=value` item, undefined when absent. */
function optionValue(o: Obj | undefined, key: string, option: string): string | undefined {
  const item = csv(o, key).find((i) => i.startsWith(`${option}=`));
  return item === undefined ? undefined : item.slice(option.length + 1);
}

/** Go's strconv.Atoi: an optional sign and decimal digits, nothing else. */
function atoi(text: string | undefined): number | undefined {
  return text !== undefined && /^[+-]?\d+$/.test(text) ? Number.parseInt(text, 10) : undefined;
}

/** The sync wave: argoproj/argo-cd@v3.4.0:gitops-engine/pkg/sync/syncwaves/waves.go:12-21, falling back to hook/helm/weight.go:10-19. */
function waveOf(o: Obj): number {
  const a = annotations(o);
  return atoi(a[ARGO_WAVE]) ?? atoi(a['helm.sh/hook-weight']) ?? 0;
}

// ---- hooks (argoproj/argo-cd@v3.4.0:gitops-engine/pkg/sync/hook/hook.go:26-58, sync_phase.go:10-28) ----
// Helm hook annotations are not read: meshfed renders none.

const HOOK_TYPES = ['PreSync', 'Sync', 'PostSync', 'SyncFail', 'Skip'];

function hookTypes(o: Obj): string[] {
  return csv(o, ARGO_HOOK).filter((t) => HOOK_TYPES.includes(t));
}

/** `Skip` alone: the object is never synced. */
function isSkip(o: Obj): boolean {
  const types = hookTypes(o);
  return types.includes('Skip') && types.length === 1;
}

function isHook(o: Obj): boolean {
  return ARGO_HOOK in annotations(o) && !isSkip(o);
}

/** A hook annotation without a known type: ignored altogether (gitops-engine pkg/sync/ignore/ignore.go:10-12). */
function isIgnored(o: Obj): boolean {
  return isHook(o) && hookTypes(o).length === 0;
}

function syncPhases(o: Obj): SyncPhase[] {
  if (isSkip(o)) return [];
  if (!isHook(o)) return ['Sync'];
  return (['PreSync', 'Sync', 'PostSync', 'SyncFail'] as const).filter((p) => hookTypes(o).includes(p));
}

type DeletePolicy = 'BeforeHookCreation' | 'HookSucceeded' | 'HookFailed';

/** argoproj/argo-cd@v3.4.0:gitops-engine/pkg/sync/hook/delete_policy.go:11-26: no policy means BeforeHookCreation. */
function deletePolicies(o: Obj): DeletePolicy[] {
  const known = csv(o, ARGO_HOOK_DELETE_POLICY).filter((p): p is DeletePolicy =>
    ['BeforeHookCreation', 'HookSucceeded', 'HookFailed'].includes(p),
  );
  return known.length ? known : ['BeforeHookCreation'];
}

function isCrd(o: Obj): boolean {
  return refOf(o).group === 'apiextensions.k8s.io' && o.kind === 'CustomResourceDefinition';
}

function crdGroupKind(o: Obj): string | undefined {
  if (!isCrd(o) || !isObject(o.spec) || !isObject(o.spec.names)) return undefined;
  const { group } = o.spec;
  const { kind } = o.spec.names;
  return typeof group === 'string' && typeof kind === 'string' ? `${group}/${kind}` : undefined;
}

// ---- the Application ----

interface Retry {
  readonly limit: number;
  readonly durationSeconds: number;
  readonly factor: number;
  readonly maxSeconds: number;
}

interface Policy {
  readonly automated: boolean;
  readonly prune: boolean;
  readonly selfHeal: boolean;
  readonly allowEmpty: boolean;
  readonly syncOptions: readonly string[];
  readonly retry?: Retry;
}

function obj(v: Json | undefined): JsonObject {
  return isObject(v) ? v : {};
}

function appName(app: Obj): string {
  // The instance name is the Application's name when it lives in the controller's namespace (openshift-gitops for
  // meshfed's Applications): argoproj/argo-cd@v3.4.0:pkg/apis/application/v1alpha1/types.go InstanceName.
  return String(metadata(app).name ?? '');
}

/**
 * Go's time.ParseDuration subset Argo CD accepts for backoff values; a bare integer is seconds
 * (argoproj/argo-cd@v3.4.0:pkg/apis/application/v1alpha1/types.go:1521-1532).
 */
function parseSeconds(text: Json | undefined, fallback: number): number {
  if (text === undefined || text === null || text === '') return fallback;
  const s = String(text);
  if (/^-?\d+$/.test(s)) return Number.parseInt(s, 10);
  const unit: Record<string, number> = { ns: 1e-9, us: 1e-6, µs: 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600 };
  const parts = [...s.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)];
  if (!parts.length || parts.map((p) => p[0]).join('') !== s) throw new ArgoComparisonError(`unable to parse ${s} as a duration`);
  return parts.reduce((sum, p) => sum + Number(p[1]) * unit[p[2]], 0);
}

function policyOf(app: Obj, version: ArgoVersion): Policy {
  const sp = obj(obj(app.spec).syncPolicy);
  const auto = isObject(sp.automated) ? sp.automated : undefined;
  // 3.x added `automated.enabled` (argoproj/argo-cd@v3.4.0:pkg/apis/application/v1alpha1/types.go:1499-1504).
  const automated = auto !== undefined && (version === '2.13' || auto.enabled !== false);
  const r = isObject(sp.retry) ? sp.retry : undefined;
  const backoff = obj(r?.backoff);
  // Defaults 5 s, factor 2, at most 3 min: argoproj/argo-cd@v3.4.0:pkg/apis/application/v1alpha1/application_defaults.go:6-8
  // (the same at v2.13.0).
  const retry: Retry | undefined = r && {
    limit: Number(r.limit ?? 0),
    durationSeconds: parseSeconds(backoff.duration, 5),
    factor: backoff.factor === undefined ? 2 : Number(backoff.factor),
    maxSeconds: parseSeconds(backoff.maxDuration, 180),
  };
  return {
    automated,
    prune: auto?.prune === true,
    selfHeal: auto?.selfHeal === true,
    allowEmpty: auto?.allowEmpty === true,
    syncOptions: Array.isArray(sp.syncOptions) ? sp.syncOptions.map(String) : [],
    retry,
  };
}

/** `NextRetryAt`: duration × factor^retries, capped at maxDuration (argoproj/argo-cd@v3.4.0:pkg/apis/application/v1alpha1/types.go:1535-1563). */
function backoffSeconds(r: Retry, retries: number): number {
  const wait = r.durationSeconds * Math.pow(r.factor, retries);
  return r.maxSeconds > 0 ? Math.min(r.maxSeconds, wait) : wait;
}

// ---- the sync operation ----

/** A resource of the comparison: a target, its live object, or a live object no target names. */
interface Resource {
  readonly target?: Obj;
  readonly live?: Obj;
}

interface OperationSpec {
  readonly prune: boolean;
  readonly pruneLast: boolean;
  readonly serverSideApply: boolean;
  /** App-wide `SkipDryRunOnMissingResource=true` (3.4 only). */
  readonly skipDryRunOnMissing: boolean;
  /** App-wide `Prune=<value>` (3.4 only). */
  readonly defaultPrune?: string;
  readonly propagation: Propagation;
  readonly skipHooks: boolean;
  /** A selective sync (self-heal): only these resource keys. */
  readonly only?: ReadonlySet<string>;
  readonly hooks: readonly Obj[];
  /** Every target object, hooks included (a CRD among them lets its custom resources skip the dry run). */
  readonly targets: readonly Obj[];
}

interface OperationContext {
  readonly cluster: Cluster;
  readonly health: ArgoHealthOf;
  readonly version: ArgoVersion;
  readonly spec: OperationSpec;
  /** The comparison's resources, recomputed from the live state at every step (as the controller does). */
  readonly resources: () => Resource[];
  readonly selfReferenced: (r: Resource) => boolean;
  readonly startedAt: number;
  readonly log: (stage: string, action: EngineStep['action'], ref?: Ref, detail?: string) => void;
}

class Task {
  waveOverride?: number;
  skipDryRun = false;
  status?: ResultCode;
  state?: OperationPhase;
  message = '';

  constructor(
    public phase: SyncPhase,
    readonly target: Obj | undefined,
    public live: Obj | undefined,
  ) {}

  get obj(): Obj {
    return this.target ?? this.live!;
  }
  get ref(): Ref {
    return refOf(this.obj);
  }
  get kind(): string {
    return this.ref.kind;
  }
  wave(): number {
    return this.waveOverride ?? waveOf(this.obj);
  }
  stage(): string {
    return `${this.phase} wave ${this.wave()}`;
  }
  isPrune(): boolean {
    return this.target === undefined;
  }
  isHook(): boolean {
    return isHook(this.obj);
  }
  pending(): boolean {
    return this.state === undefined;
  }
  running(): boolean {
    return this.state === 'Running';
  }
  completed(): boolean {
    return this.state === 'Failed' || this.state === 'Error' || this.state === 'Succeeded';
  }
  successful(): boolean {
    return this.state === 'Succeeded';
  }
  pruned(): boolean {
    return this.status === 'Pruned';
  }
  resultKey(): string {
    return `${refKey(this.ref)}:${this.phase}`;
  }
  // argoproj/argo-cd@v3.4.0:gitops-engine/pkg/sync/sync_task.go:121-148.
  private hasPolicy(p: DeletePolicy): boolean {
    return this.isHook() && deletePolicies(this.obj).includes(p);
  }
  deleteBeforeCreation(): boolean {
    return this.live !== undefined && this.pending() && this.hasPolicy('BeforeHookCreation');
  }
  deleteOnSuccess(): boolean {
    return this.live !== undefined && this.hasPolicy('HookSucceeded');
  }
  deleteOnFailure(): boolean {
    return this.live !== undefined && this.hasPolicy('HookFailed');
  }
}

/** Tasks sorted: phase, wave, kind, name (argoproj/argo-cd@v3.4.0:gitops-engine/pkg/sync/sync_tasks.go:85-110). */
function compareTasks(a: Task, b: Task): number {
  const order = [
    PHASE_ORDER[a.phase] - PHASE_ORDER[b.phase],
    a.wave() - b.wave(),
    (KIND_ORDER.get(a.kind) ?? 0) - (KIND_ORDER.get(b.kind) ?? 0),
    compareStrings(a.ref.name, b.ref.name),
    // Upstream's sort is not stable and stops at the name; these keys only make the twin deterministic.
    compareStrings(a.ref.namespace, b.ref.namespace),
    compareStrings(a.ref.group, b.ref.group),
  ];
  return order.find((d) => d !== 0) ?? 0;
}

/**
 * A dependency (a Namespace, a CRD) sorted after the first task that needs it moves in front of that task and
 * takes its phase and wave: argoproj/argo-cd@v3.4.0:gitops-engine/pkg/sync/sync_tasks.go:112-177.
 */
function adjustDeps(tasks: Task[], isDep: (o: Obj) => string | undefined, refersTo: (o: Obj) => string | undefined): void {
  const first = new Map<string, number>();
  for (let i = 0; i < tasks.length; i++) {
    const t = tasks[i];
    if (!t.target) continue;
    const dep = isDep(t.target);
    if (dep !== undefined) {
      const index = first.get(dep);
      if (index === undefined) continue;
      t.waveOverride = tasks[index].wave();
      t.phase = tasks[index].phase;
      for (let j = i; j > index; j--) tasks[j] = tasks[j - 1];
      tasks[index] = t;
      for (const [k, v] of first) if (v >= index) first.set(k, v + 1);
    } else {
      const ref = refersTo(t.target);
      if (ref !== undefined && !first.has(ref)) first.set(ref, i);
    }
  }
}

/**
 * Prune tasks take the reverse order of their waves (sync_context.go:1077-1105, argo-cd v2.11+), PruneLast ones (app-wide
 * or on the live object) come after the last wave of the Sync phase (sync_context.go:1107-1124); then the tasks are sorted.
 */
function orderTasks(tasks: Task[], pruneLast: boolean): void {
  const pruneWaves = new Map<number, Task[]>();
  for (const t of tasks) if (t.isPrune()) pruneWaves.set(t.wave(), [...(pruneWaves.get(t.wave()) ?? []), t]);
  const waves = [...pruneWaves.keys()].sort((a, b) => a - b);
  for (let i = 0; i < Math.floor(waves.length / 2); i++) {
    const [start, end] = [waves[i], waves[waves.length - 1 - i]];
    for (const t of pruneWaves.get(start)!) t.waveOverride = end;
    for (const t of pruneWaves.get(end)!) t.waveOverride = start;
  }
  const lastWave = Math.max(0, ...tasks.filter((t) => t.phase === 'Sync').map((t) => t.wave())) + 1;
  for (const t of tasks)
    if (t.isPrune() && (pruneLast || hasOption(t.live, ARGO_SYNC_OPTIONS, 'PruneLast=true'))) t.waveOverride = lastWave;
  sortTasks(tasks);
}

/** One step of a sync as Argo CD orders it (`plannedSync`). */
export interface PlannedTask {
  readonly phase: SyncPhase;
  readonly wave: number;
  readonly ref: Ref;
  /** `create`/`update`/`unchanged` (a target against the object before), `prune`, `prune-skipped` (`Prune=false`), `hook`. */
  readonly action: 'create' | 'update' | 'unchanged' | 'prune' | 'prune-skipped' | 'hook';
  readonly object: Obj;
}

/**
 * The tasks of a sync from `before` (what the Application applied so far) to `targets` (what it declares now), in the
 * order the sync runs them — the same phases, waves, kind order, dependency moves and prune order as a sync of the twin
 * (getSyncTasks, argoproj/argo-cd@v3.4.0:gitops-engine/pkg/sync/sync_context.go:939-1137), without a cluster: what a
 * change record lists. `equal` decides `unchanged`.
 */
export function plannedSync(
  targets: readonly Obj[],
  before: readonly Obj[],
  opts: { pruneLast: boolean; equal: (a: Obj, b: Obj) => boolean },
): PlannedTask[] {
  const previous = new Map(before.filter((o) => !isHook(o)).map((o) => [keyOf(o), o]));
  const declared = new Set(targets.map(keyOf));
  const tasks: Task[] = [];
  for (const o of targets) for (const p of syncPhases(o)) tasks.push(new Task(p, o, isHook(o) ? undefined : previous.get(keyOf(o))));
  for (const [k, o] of previous) if (!declared.has(k)) tasks.push(new Task('Sync', undefined, o));
  orderTasks(tasks, opts.pruneLast);
  return tasks.map((t) => ({
    phase: t.phase,
    wave: t.wave(),
    ref: t.ref,
    object: t.obj,
    action: t.isHook()
      ? 'hook'
      : t.isPrune()
        ? optionValue(t.live, ARGO_SYNC_OPTIONS, 'Prune') === 'false'
          ? 'prune-skipped'
          : 'prune'
        : !t.live
          ? 'create'
          : opts.equal(t.live, t.target!)
            ? 'unchanged'
            : 'update',
  }));
}

function sortTasks(tasks: Task[]): void {
  tasks.sort(compareTasks);
  adjustDeps(
    tasks,
    (o) => (o.kind === 'Namespace' && refOf(o).group === '' ? refOf(o).name : undefined),
    (o) => refOf(o).namespace || undefined,
  );
  adjustDeps(tasks, crdGroupKind, (o) => `${refOf(o).group}/${refOf(o).kind}`);
}

/** The app's operation state: one `syncContext` (argoproj/argo-cd@v3.4.0:gitops-engine/pkg/sync/sync_context.go). */
class SyncOperation {
  phase: OperationPhase = 'Running';
  message = '';
  /** The tasks the last step looked at (for reports: what blocks, what failed). */
  tasks: Task[] = [];
  /** Where a Failed operation failed: the stage and the first task that failed. */
  failure?: { stage: string; task?: Task };
  private validated = false;
  private readonly results = new Map<string, { ref: Ref; status?: ResultCode; state?: OperationPhase; message: string }>();
  private readonly v34: boolean;

  constructor(private readonly c: OperationContext) {
    this.v34 = c.version === '3.4';
  }

  private started(): boolean {
    return this.results.size > 0;
  }

  /** Every resource the operation applied or pruned, with its result. */
  outcomes(): { ref: Ref; status?: ResultCode }[] {
    return [...this.results.values()];
  }

  private setPhase(phase: OperationPhase, message: string): void {
    this.phase = phase;
    this.message = message;
  }

  private setResult(t: Task, status: ResultCode | undefined, state: OperationPhase | undefined, message: string): void {
    t.status = status;
    t.state = state;
    if (message) t.message = message;
    this.results.set(t.resultKey(), { ref: t.ref, status, state, message: t.message });
  }

  /** `getSyncTasks`: argoproj/argo-cd@v3.4.0:gitops-engine/pkg/sync/sync_context.go:939-1137. */
  private syncTasks(): { tasks: Task[]; ok: boolean } {
    const { spec } = this.c;
    const resources = this.c.resources();
    const tasks: Task[] = [];
    for (const r of resources) {
      const o = r.target ?? r.live!;
      // WithResourcesFilter (argoproj/argo-cd@v3.4.0:controller/sync.go:330-336): a selective sync, and only objects
      // whose tracking id names them.
      if (spec.only && !spec.only.has(keyOf(o))) continue;
      if (!this.c.selfReferenced(r)) continue;
      // A live hook is never a task of its own: sync_context.go:950-953 ("this creates garbage tasks").
      if (isHook(o)) continue;
      for (const p of syncPhases(o)) tasks.push(new Task(p, r.target, r.live));
    }
    if (!spec.skipHooks)
      for (const h of spec.hooks)
        for (const p of syncPhases(h)) {
          const target = structuredClone(h);
          const meta = metadata(target);
          // sync_context.go:970-981: a generateName hook gets `<revision[:7]>-<phase>-<operation start>`; the twin has
          // no Git revision and uses "twin" (inference: the name only has to be unique per operation).
          if (!meta.name) meta.name = `${String(meta.generateName ?? '')}twin-${p}-${this.c.startedAt}`.toLowerCase();
          // sync_context.go:982-984 (3.x): Argo CD keeps its hooks until it has read their outcome.
          if (this.v34) {
            const f = Array.isArray(meta.finalizers) ? meta.finalizers.map(String) : [];
            if (!f.includes(HOOK_FINALIZER)) meta.finalizers = [...f, HOOK_FINALIZER];
          }
          tasks.push(new Task(p, target, undefined));
        }
    for (const t of tasks) if (t.target && !t.live) t.live = liveObj(resources, t.target);

    // Discovery (sync_context.go:1028-1074): a kind the API server does not serve fails the operation before anything
    // is applied, unless the dry run may be skipped for it. This is the twin's dry run: Argo CD's own dry run is a
    // client-side `kubectl apply --dry-run` (sync_context.go:1369-1378), which cannot see namespaces, immutable fields or
    // anything else the API server decides, so those fail later, at the wave that applies the object.
    let ok = true;
    const served = [...servedTypes(this.c.cluster.operators).values()];
    for (const t of tasks) {
      const missing = undiscovered(served, t);
      if (missing === undefined) continue;
      const skip =
        (this.v34 && spec.skipDryRunOnMissing) ||
        (t.target !== undefined && hasOption(t.target, ARGO_SYNC_OPTIONS, 'SkipDryRunOnMissingResource=true')) ||
        spec.targets.some((o) => crdGroupKind(o) === `${t.ref.group}/${t.kind}`);
      if (skip) t.skipDryRun = true;
      else {
        this.setResult(t, 'SyncFailed', undefined, missing);
        ok = false;
      }
    }

    orderTasks(tasks, spec.pruneLast);
    for (const t of tasks) {
      const r = this.results.get(t.resultKey());
      if (r) [t.status, t.state, t.message] = [r.status, r.state, r.message];
    }
    return { tasks, ok };
  }

  /** A hook's outcome from its health: `getOperationPhase`, sync_context.go:351-375. */
  private hookPhase(live: Obj): [OperationPhase, string] {
    const h = this.c.health(live);
    if (!h) return ['Succeeded', `${refOf(live).name} created`];
    if (h.status === 'Unknown' || h.status === 'Degraded') return ['Failed', h.message];
    if (h.status === 'Progressing' || h.status === 'Suspended') return ['Running', h.message];
    if (h.status === 'Healthy') return ['Succeeded', h.message];
    return ['Succeeded', `${refOf(live).name} created`];
  }

  /** One `Sync()` call: argoproj/argo-cd@v3.4.0:gitops-engine/pkg/sync/sync_context.go:478-705. */
  step(): void {
    const started = this.started();
    const { tasks: all, ok } = this.syncTasks();
    this.tasks = all;
    if (!ok) {
      const invalid = all.filter((x) => x.status === 'SyncFailed');
      for (const t of invalid) this.c.log('dry run', 'fail', t.ref, t.message);
      this.failure = { stage: started ? invalid[0].stage() : 'dry run', task: invalid[0] };
      this.setPhase('Failed', 'one or more synchronization tasks are not valid');
      return;
    }
    if (!started && !this.validated) {
      this.c.log('dry run', 'wait', undefined, `${all.length} task(s) validated`);
      this.validated = true;
    }

    // The health of running tasks (sync_context.go:525-558): Healthy or no health → done, Degraded → failed,
    // anything else keeps them running.
    for (const t of all.filter((x) => x.running() && x.live)) {
      if (t.isHook()) {
        const [state, message] = this.hookPhase(t.live!);
        this.setResult(t, t.status, state, message);
      } else {
        const h = this.c.health(t.live!);
        if (!h) this.setResult(t, t.status, 'Succeeded', t.message);
        else if (h.status === 'Healthy') this.setResult(t, t.status, 'Succeeded', h.message);
        else if (h.status === 'Degraded') this.setResult(t, t.status, 'Failed', h.message);
      }
    }

    // A wave waits while any of its tasks runs, when the operation has more than one wave (or for hooks):
    // sync_context.go:560-582.
    const multiStep = all.length > 0 && (all[0].wave() !== all[all.length - 1].wave() || all[0].phase !== all[all.length - 1].phase);
    const running = all.filter((t) => (multiStep || t.isHook()) && t.running());
    if (running.length) {
      // 3.x: a running task whose object is gone fails instead of waiting forever (sync_context.go:564-578).
      if (this.v34)
        for (const t of running.filter((x) => !x.live && !this.c.cluster.get(x.ref)))
          this.setResult(
            t,
            'SyncFailed',
            'Error',
            `Resource ${t.ref.group}/${t.kind}/${t.ref.name} is missing, it might have been deleted`,
          );
      this.setRunning(running, false);
      return;
    }
    const pendingDeletion = all.filter((t) => t.pruned() && t.live && metadata(t.live).deletionTimestamp !== undefined);
    if (pendingDeletion.length) {
      this.setRunning(pendingDeletion, true);
      return;
    }
    if (this.v34) for (const t of all.filter((x) => x.isHook() && x.completed())) this.removeHookFinalizer(t);
    const deleteOnSuccess = all.filter((t) => t.isHook() && t.live && !t.running() && t.deleteOnSuccess());
    const deleteOnFailure = all.filter((t) => t.isHook() && t.live && !t.running() && t.deleteOnFailure());
    const syncFail = all.filter((t) => t.phase === 'SyncFail');
    let tasks = all.filter((t) => t.phase !== 'SyncFail');
    const syncFailed = tasks.filter((t) => t.status === 'SyncFailed');

    const unsuccessful = tasks.find((t) => t.completed() && !t.successful());
    if (unsuccessful) {
      this.failure = { stage: unsuccessful.stage(), task: unsuccessful };
      this.deleteHooks(deleteOnFailure);
      this.executeSyncFailPhase(syncFail, syncFailed, 'one or more synchronization tasks completed unsuccessfully');
      return;
    }
    tasks = tasks.filter((t) => t.pending());
    if (!tasks.length) {
      this.deleteHooks(deleteOnSuccess);
      this.setPhase('Succeeded', 'successfully synced (no more tasks)');
      return;
    }
    const { phase, wave } = { phase: tasks[0].phase, wave: tasks[0].wave() };
    const current = tasks.filter((t) => t.phase === phase && t.wave() === wave);
    const remaining = tasks.filter((t) => !current.includes(t));
    this.setPhase('Running', 'one or more tasks are running');
    const state = this.runTasks(current);
    if (state === 'failed') {
      const failedNow = current.filter((t) => t.status === 'SyncFailed');
      this.failure = { stage: failedNow[0].stage(), task: failedNow[0] };
      const runningHooks = current.filter((t) => t.running());
      // 3.x waits for the wave's running hooks before failing (sync_context.go:669-687); 2.13 fails at once
      // (argoproj/gitops-engine@bd7681ae3f8b:pkg/sync/sync_context.go:538-541).
      if (this.v34 && runningHooks.length) {
        if (syncFail.length && !this.executeSyncFailPhase(syncFail, failedNow, 'one or more objects failed to apply'))
          runningHooks.push(...syncFail);
        this.setRunning(runningHooks, false);
      } else if (this.executeSyncFailPhase(syncFail, failedNow, 'one or more objects failed to apply')) this.deleteHooks(deleteOnFailure);
    } else if (state === 'successful') {
      // The last wave of plain resources succeeds without waiting for their health (sync_context.go:688-699).
      if (!remaining.length && !current.some((t) => t.isHook())) {
        this.deleteHooks(deleteOnSuccess);
        this.setPhase('Succeeded', 'successfully synced (all tasks run)');
      } else this.setRunning(current, false);
    } else
      this.setRunning(
        current.filter((t) => t.deleteBeforeCreation() || (t.isPrune() && t.pending())),
        true,
      );
  }

  /** sync_context.go:427-476. */
  private setRunning(tasks: Task[], pendingDeletion: boolean): void {
    if (!tasks.length) return this.setPhase('Running', '');
    const hooks = tasks.filter((t) => t.isHook());
    let reason = hooks.length ? 'completion of hook' : 'healthy state of';
    const taskType = tasks.length === hooks.length ? 'hooks' : 'resources';
    if (pendingDeletion) reason = hooks.length ? 'deletion of hook' : 'deletion of';
    let first = hooks[0] ?? tasks[0];
    let more = tasks.length - 1;
    if (this.v34) {
      const confirm = tasks.filter((t) => t.isPrune() && this.requiresConfirmation(t.live));
      if (confirm.length) [reason, first, more] = ['pruning confirmation of', confirm[0], confirm.length - 1];
    }
    const msg = `waiting for ${reason} ${first.ref.group}/${first.kind}/${first.ref.name}`;
    this.setPhase('Running', more > 0 ? `${msg} and ${more} more ${taskType}` : msg);
  }

  /** sync_context.go:891-936: SyncFail hooks run before the operation is marked Failed. Returns true when it is. */
  private executeSyncFailPhase(syncFail: Task[], failed: Task[], message: string): boolean {
    const reasons = (ts: Task[], m: string) => {
      const msgs = [...new Set(ts.map((t) => t.message))].sort(compareStrings);
      return msgs.length ? `${m}, reason: ${msgs.join(',')}` : m;
    };
    let msg = reasons(failed, message);
    if (!syncFail.length) {
      this.setPhase('Failed', msg);
      return true;
    }
    if (syncFail.every((t) => t.completed())) {
      const failedHooks = syncFail.filter((t) => t.status === 'SyncFailed');
      if (failedHooks.length) msg = `${msg}\n${reasons(failedHooks, 'one or more SyncFail hooks failed')}`;
      this.setPhase('Failed', msg);
      return true;
    }
    const pending = syncFail.filter((t) => !t.completed() && !t.running());
    this.runTasks(pending);
    this.setRunning(pending, false);
    return false;
  }

  private requiresConfirmation(live: Obj | undefined): boolean {
    return (optionValue(live, ARGO_SYNC_OPTIONS, 'Prune') ?? this.c.spec.defaultPrune) === 'confirm';
  }

  /** `runTasks` (wet run): sync_context.go:1565-1685. Prunes, then hook deletions, then applies in task order. */
  private runTasks(tasks: Task[]): RunState {
    const { spec, cluster } = this.c;
    const prunes = tasks.filter((t) => t.isPrune());
    const creates = tasks.filter((t) => !t.isPrune());
    if (this.v34) for (const t of tasks.filter((x) => x.isHook() && x.pending() && x.live)) this.removeHookFinalizer(t);
    // Prune=confirm waits for a user's confirmation (3.x, sync_context.go:1598-1605); the twin has no user.
    if (this.v34 && prunes.some((t) => this.requiresConfirmation(t.live))) return 'pending';
    let state: RunState = 'successful';
    for (const t of prunes) {
      const [code, message] = this.pruneObject(t.live!);
      if (code === 'SyncFailed') state = 'failed';
      this.setResult(t, code, code === 'SyncFailed' ? 'Failed' : 'Succeeded', message);
      this.c.log(t.stage(), code === 'PruneSkipped' ? 'prune-skipped' : code === 'Pruned' ? 'prune' : 'fail', t.ref, message);
    }
    if (state !== 'successful') return state;
    for (const t of creates.filter((x) => x.deleteBeforeCreation())) {
      if (cluster.delete(refOf(t.live!), ACTOR, spec.propagation)) {
        this.c.log(t.stage(), 'hook-delete', t.ref, 'BeforeHookCreation');
        state = 'pending';
      } else t.live = undefined;
    }
    if (state !== 'successful') return state;
    // Every task of the wave is applied even when one fails (processCreateTasks runs them all, sync_context.go:1684-1718).
    for (const t of creates) {
      const [code, message] = this.applyObject(t);
      if (code === 'SyncFailed') state = 'failed';
      // A successful apply leaves the task Running until its health says otherwise (sync_context.go:1549-1554).
      this.setResult(t, code, code === 'SyncFailed' ? 'Failed' : 'Running', message);
      this.c.log(t.stage(), code === 'SyncFailed' ? 'fail' : t.isHook() ? 'hook' : 'apply', t.ref, message);
    }
    return state;
  }

  /** `applyObject`: server-side apply when the app or the object asks for it (sync_context.go:1261-1277, 1369-1433). */
  private applyObject(t: Task): [ResultCode, string] {
    const o = t.target!;
    const ssa =
      !hasOption(o, ARGO_SYNC_OPTIONS, 'ServerSideApply=false') &&
      (this.c.spec.serverSideApply || hasOption(o, ARGO_SYNC_OPTIONS, 'ServerSideApply=true'));
    const r = this.c.cluster.apply(o, { manager: ssa ? ARGO_SSA_MANAGER : CSA_MANAGER });
    if (!r.ok) return ['SyncFailed', r.reason];
    return ['Synced', `${t.kind.toLowerCase()}/${t.ref.name} ${r.created ? 'created' : r.changed ? 'configured' : 'unchanged'}`];
  }

  /** `pruneObject`: sync_context.go:1435-1453 (3.4) / argoproj/gitops-engine@bd7681ae3f8b:pkg/sync/sync_context.go:999-1019. */
  private pruneObject(live: Obj): [ResultCode, string] {
    if (!this.c.spec.prune) return ['PruneSkipped', 'ignored (requires pruning)'];
    // `Prune=false` on the object, or (3.x only: sync_context.go:335-344, controller/sync.go:350) app-wide.
    const value = optionValue(live, ARGO_SYNC_OPTIONS, 'Prune') ?? (this.v34 ? this.c.spec.defaultPrune : undefined);
    if (value === 'false') return ['PruneSkipped', 'ignored (no prune)'];
    if (metadata(live).deletionTimestamp === undefined) this.c.cluster.delete(refOf(live), ACTOR, this.c.spec.propagation);
    return ['Pruned', 'pruned'];
  }

  private deleteHooks(tasks: Task[]): void {
    for (const t of tasks) {
      if (this.c.cluster.delete(refOf(t.live!), ACTOR, this.c.spec.propagation))
        this.c.log(t.stage(), 'hook-delete', t.ref, deletePolicies(t.obj).join(','));
    }
  }

  /** sync_context.go:834-889. */
  private removeHookFinalizer(t: Task): void {
    const live = t.live && this.c.cluster.get(refOf(t.live));
    const f = live && metadata(live).finalizers;
    if (live && Array.isArray(f) && f.includes(HOOK_FINALIZER)) this.c.cluster.removeFinalizer(refOf(live), ACTOR, HOOK_FINALIZER);
  }
}

/** `sc.liveObj`: the live object of a target among the comparison's resources (sync_context.go:1219-1231). */
function liveObj(resources: Resource[], target: Obj): Obj | undefined {
  const t = refOf(target);
  for (const r of resources) {
    const o = r.live ?? r.target!;
    const k = refOf(o);
    if (k.group === t.group && k.kind === t.kind && (k.namespace === '' || k.namespace === t.namespace) && k.name === t.name) return r.live;
  }
  return undefined;
}

/**
 * Why discovery cannot find a task's kind, undefined when it can: `ServerResourceForGroupVersionKind`
 * (argoproj/argo-cd@v3.4.0:gitops-engine/pkg/utils/kube/kube.go:183-201). A group/version the server does not
 * serve at all answers 404, which the controller rewrites for the user (util/argo/argo.go:45-55 AugmentSyncMsg).
 * A live object to prune is looked up in whatever version the server serves (the controller reads it from its cache).
 */
function undiscovered(served: ResourceType[], t: Task): string | undefined {
  const [group, version] = splitApiVersion(String(t.obj.apiVersion ?? ''));
  const kind = t.kind;
  const type = served.find((s) => s.group === group && s.kind === kind);
  if (type && (t.isPrune() || type.versions.includes(version))) return undefined;
  const gvServed = served.some((s) => s.group === group && s.versions.includes(version));
  if (gvServed) return `${kind}${group ? `.${group}` : ''} "" not found`;
  const where = `${t.ref.namespace}/${t.ref.name}`;
  return type
    ? `The Kubernetes API could not find version "${version}" of ${group}/${kind} for requested resource ${where}. ` +
        `Version "${type.versions[0]}" of ${group}/${kind} is installed on the destination cluster.`
    : `The Kubernetes API could not find ${group}/${kind} for requested resource ${where}. ` +
        `Make sure the "${kind}" CRD is installed on the destination cluster.`;
}

/** True when `live` holds every field `target` sets, with the same value (maps key by key, anything else whole). */
function covers(live: Json | undefined, target: Json, root = false): boolean {
  if (isObject(target)) {
    if (!isObject(live)) return false;
    return Object.entries(target).every(([k, v]) => (root && k === 'status') || covers(live[k], v));
  }
  return JSON.stringify(live) === JSON.stringify(target);
}

interface Desired {
  readonly name: string;
  readonly targets: Obj[];
  readonly hooks: Obj[];
  readonly warnings: string[];
}

/**
 * Argo CD: `sync` an Application at a new revision, `compare` it, `selfHeal` it, `deleteApplication`.
 * The cluster's controllers run while Argo CD waits (the cluster's virtual clock).
 */
/**
 * Kinds Argo CD never watches: the core exclusions (argo-cd@v3.4.0 util/settings/resources_filter.go:7-11) and, of
 * the default install's `resource.exclusions` (manifests/base/config/argocd-cm.yaml:64-73, from v3.0), Endpoints —
 * which the control plane writes and which copy a Service's labels, tracking label included. The same list also
 * excludes EndpointSlice, which meshfed renders for egress through Kubernetes Gateway API: docs/gitops.md
 * ("Prerequisites") asks for it to be managed and the 03 pre-flight checks it, so the twin models that setting.
 */
function excluded(group: string, kind: string): boolean {
  if (group === 'events.k8s.io' || group === 'metrics.k8s.io' || (group === '' && kind === 'Event')) return true;
  if (group === 'coordination.k8s.io' && kind === 'Lease') return true;
  return group === '' && kind === 'Endpoints';
}

export class ArgoCd {
  readonly version: ArgoVersion;
  readonly tracking: 'annotation' | 'label';
  readonly horizonSeconds: number;
  /** Per Application, whether its last sync succeeded: self-heal only follows a successful sync. */
  private readonly lastSyncSucceeded = new Map<string, boolean>();

  constructor(
    readonly cluster: Cluster,
    private readonly health: ArgoHealthOf,
    opts: ArgoOptions = {},
  ) {
    this.version = opts.version ?? '2.13';
    // The tracking method defaults to labels in 2.x and to annotations in 3.x: argoproj/argo-cd@v2.13.0:
    // util/settings/settings.go:792-798 (empty → label, util/argo/resource_tracking.go IsOldTrackingMethod) and
    // argoproj/argo-cd@v3.4.0:util/settings/settings.go:852-862.
    this.tracking = opts.tracking ?? (this.version === '2.13' ? 'label' : 'annotation');
    this.horizonSeconds = opts.horizonSeconds ?? DEFAULT_HORIZON_SECONDS;
  }

  /**
   * One sync of `app` at a new revision: an automated sync (with `syncPolicy.automated`) or, without it, the
   * manual `argocd app sync` (prune only with `overrides.prune`). `ok` when the operation Succeeded and the
   * Application became Healthy within the horizon.
   */
  sync(app: Obj, repo: FileTree, overrides: SyncOverrides = {}): EngineResult {
    const start = this.cluster.now;
    const deadline = start + this.horizonSeconds;
    const steps: EngineStep[] = [];
    const log = (stage: string, action: EngineStep['action'], object?: Ref, detail?: string) =>
      steps.push({ t: this.cluster.now - start, stage, action, ...(object ? { object } : {}), ...(detail ? { detail } : {}) });
    const done = (failure?: EngineFailure, logged = false): EngineResult => {
      if (failure && !logged) log(failure.stage, 'fail', failure.object, failure.reason);
      this.lastSyncSucceeded.set(appName(app), !failure || failure.stage === 'app health');
      return { engine: 'argocd', ok: !failure, steps, ...(failure ? { failure } : {}), seconds: this.cluster.now - start };
    };

    let desired: Desired;
    let policy: Policy;
    try {
      policy = policyOf(app, this.version);
      desired = this.desired(app, repo);
    } catch (e) {
      if (e instanceof ArgoComparisonError || e instanceof KustomizeError)
        return done({ stage: 'compare', reason: `ComparisonError: ${e.message}`, kind: 'failed' });
      throw e;
    }
    for (const w of desired.warnings) log('compare', 'wait', undefined, w);

    let retry: Retry = { limit: 0, durationSeconds: 5, factor: 2, maxSeconds: 180 };
    if (policy.automated) {
      // argoproj/argo-cd@v3.4.0:controller/appcontroller.go:2180-2300 autoSync.
      const cmp = this.compareDesired(desired);
      if (cmp.sync !== 'OutOfSync') {
        log('compare', 'wait', undefined, `Skipping auto-sync: application status is ${cmp.sync}`);
        return this.awaitHealth(desired, deadline, log, done);
      }
      const changed = cmp.resources.filter((r) => r.status !== 'Synced');
      if (!policy.prune && changed.every((r) => r.requiresPruning)) {
        log('compare', 'wait', undefined, 'Skipping auto-sync: need to prune extra resources only but automated prune is disabled');
        return this.awaitHealth(desired, deadline, log, done);
      }
      if (policy.prune && !policy.allowEmpty && cmp.resources.every((r) => r.requiresPruning))
        return done({ stage: 'compare', reason: 'Skipping sync attempt: auto-sync will wipe out all resources', kind: 'failed' });
      // Automated syncs retry 5 times unless the Application says otherwise (appcontroller.go:2241-2245; the same at v2.13.0).
      retry = policy.retry ?? { ...retry, limit: 5 };
    } else if (policy.retry) retry = policy.retry; // A manual sync takes the Application's retry (server/application/application.go:2066-2120).

    const spec = this.operationSpec(desired, policy, policy.automated ? policy.prune : overrides.prune === true);
    const run = this.operate(desired, spec, retry, deadline, log);
    if (run.outcome === 'Succeeded') return this.awaitHealth(desired, deadline, log, done);
    return done(this.failureOf(run.op, run.outcome, run.retries), run.outcome === 'Failed');
  }

  /** The comparison Argo CD shows for `app` against the live state: sync status, per-resource status, health. */
  compare(app: Obj, repo: FileTree): ArgoAppStatus {
    return this.compareDesired(this.desired(app, repo));
  }

  /**
   * Self-heal after the operators ran: when the app is OutOfSync, a selective sync (no hooks) of the resources
   * that are not Synced (argoproj/argo-cd@v3.4.0:controller/appcontroller.go:2259-2285, controller/sync.go:328).
   * Returns what it applied or pruned; nothing when `selfHeal` is off or the last sync failed.
   */
  selfHeal(app: Obj, repo: FileTree): Ref[] {
    const policy = policyOf(app, this.version);
    if (!policy.automated || !policy.selfHeal) return [];
    // After a failed sync of this revision auto-sync stops, self-heal included (appcontroller.go:2252-2258).
    if (this.lastSyncSucceeded.get(appName(app)) === false) return [];
    const desired = this.desired(app, repo);
    const cmp = this.compareDesired(desired);
    if (cmp.sync !== 'OutOfSync') return [];
    const only = new Set(cmp.resources.filter((r) => r.status !== 'Synced').map((r) => refKey(r.ref)));
    const spec = { ...this.operationSpec(desired, policy, policy.prune), skipHooks: true, only };
    const run = this.operate(
      desired,
      spec,
      policy.retry ?? { limit: 5, durationSeconds: 5, factor: 2, maxSeconds: 180 },
      this.cluster.now + this.horizonSeconds,
      () => {},
    );
    return run.op
      .outcomes()
      .filter((o) => o.status === 'Synced' || o.status === 'Pruned')
      .map((o) => o.ref);
  }

  /**
   * Deleting the Application. Cascade (the CLI's `--cascade` default and the UI's default, both foreground:
   * argoproj/argo-cd@v3.4.0:cmd/argocd/commands/app.go:1788-1789, ui/src/app/applications/components/utils.tsx:177)
   * deletes every managed object, highest wave first, waiting for each wave to be gone
   * (controller/appcontroller.go:1200-1320, sort_delete.go:24-40). Without cascade the resources finalizer is
   * removed (server/application/application.go:1170-1183) and nothing is deleted.
   */
  deleteApplication(app: Obj, cascade: boolean): { deleted: Ref[]; steps: EngineStep[] } {
    const start = this.cluster.now;
    const steps: EngineStep[] = [];
    const deleted: Ref[] = [];
    if (!cascade) {
      steps.push({ t: 0, stage: 'delete', action: 'wait', detail: 'non-cascading delete: every object stays, no longer managed' });
      return { deleted, steps };
    }
    const name = appName(app);
    const deadline = start + this.horizonSeconds;
    for (;;) {
      const managed = this.managedObjects(name);
      const terminating = managed.find((o) => metadata(o).deletionTimestamp !== undefined);
      const candidates = managed.filter((o) => this.shouldBeDeleted(app, o));
      if (!terminating && !candidates.length) break;
      if (!terminating) {
        const top = Math.max(...candidates.map(waveOf));
        for (const o of candidates.filter((x) => waveOf(x) === top)) {
          this.cluster.delete(refOf(o), ACTOR, 'Foreground');
          deleted.push(refOf(o));
          steps.push({ t: this.cluster.now - start, stage: `delete wave ${top}`, action: 'delete', object: refOf(o) });
        }
        if (!this.managedObjects(name).some((o) => this.shouldBeDeleted(app, o))) break;
      }
      if (this.cluster.now >= deadline) {
        const waiting = terminating ?? candidates[0];
        steps.push({
          t: this.cluster.now - start,
          stage: 'delete',
          action: 'wait',
          object: refOf(waiting),
          detail: 'still terminating at the horizon',
        });
        break;
      }
      this.cluster.advance(TICK_SECONDS);
    }
    return { deleted, steps };
  }

  /** `shouldBeDeleted`: argoproj/argo-cd@v3.4.0:controller/appcontroller.go:1170-1179 (v2.13.0: 1101-1105, per object only). */
  private shouldBeDeleted(app: Obj, o: Obj): boolean {
    const perObject = optionValue(o, ARGO_SYNC_OPTIONS, 'Delete');
    const appWide = policyOf(app, this.version)
      .syncOptions.find((s) => s.startsWith('Delete='))
      ?.slice('Delete='.length);
    const value = this.version === '3.4' ? (perObject ?? appWide) : perObject;
    const self = o.kind === 'Application' && refOf(o).group === 'argoproj.io' && refKey(refOf(o)) === refKey(refOf(app));
    return !isCrd(o) && !self && value !== 'false' && !hasOption(o, 'helm.sh/resource-policy', 'keep');
  }

  // ---- the comparison ----

  /**
   * The target objects: `kustomize build` of each source path, tracked (the repo server sets the tracking label or
   * annotation on everything but CRDs: argoproj/argo-cd@v3.4.0:reposerver/repository/repository.go:1747-1752),
   * deduplicated (the last one wins, with a RepeatedResourceWarning: controller/state.go:414-451), hooks apart
   * (gitops-engine/pkg/sync/reconcile.go:13-27).
   */
  private desired(app: Obj, repo: FileTree): Desired {
    const name = appName(app);
    const spec = obj(app.spec);
    const destNs = String(obj(spec.destination).namespace ?? '');
    const sources = Array.isArray(spec.sources) && spec.sources.length ? spec.sources : isObject(spec.source) ? [spec.source] : [];
    if (!sources.length) throw new ArgoComparisonError(`Application ${name}: spec.source or spec.sources is required`);
    const raw: Obj[] = [];
    for (const s of sources.filter(isObject)) {
      if (s.chart !== undefined) throw new ArgoComparisonError(`Application ${name}: Helm chart sources are not modelled by the twin`);
      // A source with only `ref` lends its files to the others and yields no objects.
      if (typeof s.path !== 'string') {
        if (s.ref !== undefined) continue;
        throw new ArgoComparisonError(`Application ${name}: a source without path`);
      }
      if (!repo.isDir(s.path)) throw new ArgoComparisonError(`${s.path}: app path does not exist`);
      raw.push(...buildKustomization(repo, s.path));
    }
    const types = servedTypes(this.cluster.operators);
    const byKey = new Map<string, Obj[]>();
    for (const r of raw) {
      const o = structuredClone(r);
      const meta = (o.metadata = obj(o.metadata));
      const ref = refOf(o);
      // An unknown kind counts as namespaced (kube IsNamespacedOrUnknown).
      const namespaced = types.get(`${ref.group}/${ref.kind}`)?.namespaced ?? true;
      // Tracking id namespace: the object's, else the destination's; cluster-scoped objects carry the destination's
      // (util/argo/resource_tracking.go:109-123, controller/state.go:453-476).
      const trackingNs = (namespaced ? ref.namespace : '') || destNs;
      if (!isCrd(o)) {
        if (this.tracking === 'label') meta.labels = { ...labels(o), [ARGO_INSTANCE_LABEL]: name };
        // `<app>:<group>/<kind>:<namespace>/<name>`: util/argo/resource_tracking.go:214-217.
        else meta.annotations = { ...annotations(o), [ARGO_TRACKING_ID]: `${name}:${ref.group}/${ref.kind}:${trackingNs}/${ref.name}` };
      }
      if (!namespaced) delete meta.namespace;
      else if (!ref.namespace && destNs) meta.namespace = destNs;
      byKey.set(keyOf(o), [...(byKey.get(keyOf(o)) ?? []), o]);
    }
    const warnings: string[] = [];
    const all: Obj[] = [];
    for (const [k, list] of byKey) {
      if (list.length > 1)
        warnings.push(`RepeatedResourceWarning: Resource ${k} appeared ${list.length} times among application resources.`);
      all.push(list[list.length - 1]);
    }
    const kept = all.filter((o) => !isIgnored(o));
    return { name, targets: kept.filter((o) => !isHook(o)), hooks: kept.filter(isHook), warnings };
  }

  /** The app an object is tracked by ('' when none): util/argo/resource_tracking.go:69-94. */
  private trackedBy(o: Obj): string {
    if (this.tracking === 'label') return labels(o)[ARGO_INSTANCE_LABEL] ?? '';
    return parseTrackingId(annotations(o)[ARGO_TRACKING_ID])?.app ?? '';
  }

  /**
   * Live objects the app manages: tracked by it and without ownerReferences (gitops-engine/pkg/cache/cluster.go:1466-1472),
   * among the kinds the API server serves (the cache watches what discovery lists and stops when an API goes:
   * gitops-engine/pkg/cache/cluster.go:646-700).
   */
  private managedObjects(name: string): Obj[] {
    return this.cluster.list((o) => this.visible(o) && this.trackedBy(o) === name && ownerReferences(o).length === 0);
  }

  private visible(o: Obj): boolean {
    const r = refOf(o);
    return this.cluster.typeOf(r.group, r.kind) !== undefined && !excluded(r.group, r.kind);
  }

  /**
   * The comparison's resources: targets with their live objects (found by key even when the tracking is missing,
   * gitops-engine/pkg/cache/cluster.go:1473-1506), then every managed live object no target names
   * (gitops-engine/pkg/sync/reconcile.go:71-117).
   */
  private resources(d: Desired): Resource[] {
    const live = new Map(this.managedObjects(d.name).map((o) => [keyOf(o), o]));
    for (const t of [...d.targets, ...d.hooks]) {
      const k = keyOf(t);
      const found = refOf(t).name ? this.cluster.get(refOf(t)) : undefined;
      if (!live.has(k) && found && this.visible(found)) live.set(k, found);
    }
    const out: Resource[] = [];
    for (const t of d.targets) {
      out.push({ target: t, live: live.get(keyOf(t)) });
      live.delete(keyOf(t));
    }
    for (const k of [...live.keys()].sort(compareStrings)) out.push({ live: live.get(k) });
    return out;
  }

  /** `isSelfReferencedObj`: argoproj/argo-cd@v3.4.0:controller/state.go:1208-1265 (label tracking cannot tell: true). */
  private selfReferenced(r: Resource, name: string): boolean {
    if (!r.live || this.tracking === 'label') return true;
    const id = r.target ? { app: name, ...refOf(r.target) } : parseTrackingId(annotations(r.live)[ARGO_TRACKING_ID]);
    if (!id) return true;
    const l = refOf(r.live);
    return (l.namespace === id.namespace || l.namespace === '') && l.name === id.name && l.group === id.group && l.kind === id.kind;
  }

  /** argoproj/argo-cd@v3.4.0:controller/state.go:870-950 (sync status) and controller/health.go:20-105 (health). */
  private compareDesired(d: Desired): ArgoAppStatus {
    const resources = this.resources(d);
    const statuses: ArgoAppStatus['resources'][number][] = [];
    let outOfSync = false;
    for (const r of resources) {
      const o = r.target ?? r.live!;
      // Hooks, skipped and ignored objects, and objects whose tracking id names another object have no status.
      if (isHook(o) || isIgnored(o) || (r.target && isSkip(r.target)) || !this.selfReferenced(r, d.name)) continue;
      const modified = !r.target || !r.live || !covers(r.live, r.target, true);
      const needsPruning = !r.target && !!r.live;
      // An extraneous object marked IgnoreExtraneous does not make the app OutOfSync (state.go:936-942).
      if (modified && (!needsPruning || !hasOption(o, ARGO_COMPARE_OPTIONS, 'IgnoreExtraneous'))) outOfSync = true;
      statuses.push({ ref: refOf(o), status: modified ? 'OutOfSync' : 'Synced', requiresPruning: needsPruning });
    }
    return { sync: outOfSync ? 'OutOfSync' : 'Synced', resources: statuses, health: this.appHealth(resources) };
  }

  /**
   * The Application's health: the worst of its resources', hooks and resources without health aside
   * (argoproj/argo-cd@v3.4.0:controller/health.go:20-105). A missing resource does not count (3.x, :75-78; 2.13
   * counted it for kinds with a health check, which the twin does not distinguish).
   */
  private appHealth(resources: Resource[]): ArgoAppStatus['health'] {
    let worst: ArgoAppStatus['health'] = { status: 'Healthy', message: '' };
    let containsResources = false;
    let containsLive = false;
    for (const r of resources) {
      if (r.target && isSkip(r.target)) continue;
      if (r.live && (isHook(r.live) || isIgnored(r.live))) continue;
      containsResources = true;
      if (!r.live) continue;
      containsLive = true;
      if (annotations(r.live)[IGNORE_HEALTHCHECK] === 'true') continue;
      const h = this.health(r.live);
      if (!h) continue;
      const ref = refOf(r.live);
      if (ref.group === 'argoproj.io' && ref.kind === 'Application' && (h.status === 'Missing' || h.status === 'Unknown')) continue;
      if (HEALTH_ORDER.indexOf(h.status) > HEALTH_ORDER.indexOf(worst.status))
        worst = { status: h.status, message: h.message, object: ref };
    }
    if (containsResources && !containsLive && HEALTH_ORDER.indexOf('Missing') > HEALTH_ORDER.indexOf(worst.status))
      worst = { status: 'Missing', message: 'no resource exists' };
    return worst;
  }

  // ---- operations ----

  /** The sync options of an operation: argoproj/argo-cd@v3.4.0:controller/sync.go:236-355. */
  private operationSpec(d: Desired, policy: Policy, prune: boolean): OperationSpec {
    const has = (o: string) => policy.syncOptions.includes(o);
    const propagation: Propagation = has('PrunePropagationPolicy=background')
      ? 'Background'
      : has('PrunePropagationPolicy=orphan')
        ? 'Orphan'
        : 'Foreground';
    const defaultPrune = policy.syncOptions.find((s) => s.startsWith('Prune='))?.slice('Prune='.length);
    return {
      prune,
      pruneLast: has('PruneLast=true'),
      serverSideApply: has('ServerSideApply=true'),
      skipDryRunOnMissing: has('SkipDryRunOnMissingResource=true'),
      ...(defaultPrune !== undefined ? { defaultPrune } : {}),
      propagation,
      skipHooks: false,
      hooks: d.hooks,
      targets: [...d.targets, ...d.hooks],
    };
  }

  /**
   * Run an operation to its end, retrying a failed one with backoff (a retry starts over: the results are cleared,
   * argoproj/argo-cd@v3.4.0:controller/appcontroller.go:1466-1496, 1537-1558). `hangs` when still running at the deadline.
   */
  private operate(
    d: Desired,
    spec: OperationSpec,
    retry: Retry,
    deadline: number,
    log: OperationContext['log'],
  ): { outcome: 'Succeeded' | 'Failed' | 'hangs'; op: SyncOperation; retries: number } {
    for (let retries = 0; ; retries++) {
      const op = new SyncOperation({
        cluster: this.cluster,
        health: this.health,
        version: this.version,
        spec,
        resources: () => this.resources(d),
        selfReferenced: (r) => this.selfReferenced(r, d.name),
        startedAt: this.cluster.now,
        log,
      });
      let said = '';
      for (;;) {
        op.step();
        if (op.phase !== 'Running') break;
        if (op.message && op.message !== said) {
          const waiting = op.tasks.find((t) => t.running());
          log(waiting?.stage() ?? 'sync', 'wait', waiting?.ref, op.message);
          said = op.message;
        }
        if (this.cluster.now >= deadline) return { outcome: 'hangs', op, retries };
        this.cluster.advance(TICK_SECONDS);
      }
      if (op.phase === 'Succeeded') return { outcome: 'Succeeded', op, retries };
      log(op.failure?.stage ?? 'sync', 'fail', op.failure?.task?.ref, op.message);
      if (!(retries < retry.limit || retry.limit < 0)) return { outcome: 'Failed', op, retries };
      const wait = backoffSeconds(retry, retries);
      if (this.cluster.now + wait > deadline) return { outcome: 'Failed', op, retries };
      log('retry', 'wait', undefined, `Retrying attempt #${retries + 1} in ${wait}s`);
      this.cluster.advance(wait);
    }
  }

  private failureOf(op: SyncOperation, outcome: 'Failed' | 'hangs', retries: number): EngineFailure {
    if (outcome === 'Failed') {
      const t = op.failure?.task;
      // The operation's message names apply errors; a task that failed on its health (a Degraded resource, a failed
      // hook) only has its own message.
      const detail = t && t.message && !op.message.includes(t.message) ? `: ${t.message}` : '';
      const suffix = retries > 0 ? ` (retried ${retries} times)` : '';
      return {
        stage: op.failure?.stage ?? 'sync',
        ...(t ? { object: t.ref } : {}),
        reason: `${op.message}${detail}${suffix}`,
        kind: 'failed',
      };
    }
    const t =
      op.tasks.find((x) => x.running()) ??
      op.tasks.find((x) => x.pruned() && x.live && metadata(x.live).deletionTimestamp !== undefined) ??
      op.tasks.find((x) => x.pending());
    const h = t?.live && this.health(t.live);
    const reason = h && h.message ? `${op.message}: ${h.status}: ${h.message}` : op.message;
    return { stage: t?.stage() ?? 'sync', ...(t ? { object: t.ref } : {}), reason, kind: 'hangs' };
  }

  /** After the operation: wait for the Application to be Healthy (the last wave's health is not part of the operation). */
  private awaitHealth(d: Desired, deadline: number, log: OperationContext['log'], done: (f?: EngineFailure) => EngineResult): EngineResult {
    let said = '';
    for (;;) {
      const h = this.appHealth(this.resources(d));
      if (h.status === 'Healthy') return done();
      if (h.message !== said) {
        log('app health', 'wait', h.object, `${h.status}: ${h.message}`);
        said = h.message;
      }
      if (this.cluster.now >= deadline)
        return done({
          stage: 'app health',
          ...(h.object ? { object: h.object } : {}),
          reason: `application is ${h.status}: ${h.message}`,
          kind: h.status === 'Degraded' || h.status === 'Unknown' ? 'failed' : 'hangs',
        });
      this.cluster.advance(TICK_SECONDS);
    }
  }
}

/** `<app>:<group>/<kind>:<namespace>/<name>` (util/argo/resource_tracking.go:219-242), undefined when malformed. */
function parseTrackingId(value: string | undefined): (Ref & { app: string }) | undefined {
  if (!value) return undefined;
  const parts = value.split(':');
  if (parts.length < 3) return undefined;
  const [app, gk] = parts;
  const nn = parts.slice(2).join(':');
  const g = gk.split('/');
  const n = nn.split('/');
  if (g.length !== 2 || n.length !== 2) return undefined;
  return { app, group: g[0], kind: g[1], namespace: n[0], name: n[1] };
}
