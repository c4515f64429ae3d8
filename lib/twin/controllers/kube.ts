/**
 * Kubernetes' own controllers, as far as the GitOps engines and meshfed's hook Jobs can observe them:
 *
 * - the ServiceAccount controller (a `default` ServiceAccount in every namespace);
 * - Deployment, StatefulSet and DaemonSet controllers creating real `Pod` objects (node-independent),
 *   refused by ServiceAccount admission when the pod's ServiceAccount is missing, Ready one tick after they
 *   are created, with the status fields Argo CD's health and kstatus read;
 * - the endpoints controller (Services → Endpoints of the selected pods);
 * - the disruption controller's PodDisruptionBudget status, and the eviction rule for pods under two budgets;
 * - the Job controller, running the steps of a Job's `meshfed.dev/steps` annotation (never its shell).
 *
 * Deliberate simplifications (the twin's clock ticks every 5 s): a Deployment's pods are owned by the
 * Deployment itself (no ReplicaSet objects: Argo CD and kstatus read the Deployment's status), pods start and
 * terminate within a tick (no grace period), and a DaemonSet runs on a fixed number of nodes.
 *
 * Sources. kubernetes/kubectl@dee3483a is cited by line. kubernetes/kubernetes is too large to fetch here; its
 * files were read through the code index (pkg/controller/deployment/progress.go @008b3652, the ServiceAccount
 * admission plugin, the Job controller's constants, the eviction REST handler) and are cited by function, not
 * by line. Messages marked "(inference)" were not read in Kubernetes' own source.
 */
import { createHash } from 'crypto';

import { JOB_STEPS_ANNOTATION, JobInstruction, JobStep, WorkloadTarget } from '../../job-steps';
import { Json, JsonObject } from '../../load/yaml-source';
import { selectorMatches } from '../../netpol';
import { compareStrings } from '../../sort';
import { Cluster, Controller } from '../cluster';
import { isObject, splitApiVersion } from '../kustomize';
import { annotations, keyOf, labels, metadata, Obj, ownerReferences, Ref, refOf, valueAt } from '../objects';

// ---------------------------------------------------------------------------------------------------------
// Shared helpers (also used by the operators' controllers)
// ---------------------------------------------------------------------------------------------------------

export type ConditionStatus = 'True' | 'False' | 'Unknown';

export interface ConditionInput {
  readonly type: string;
  readonly status: ConditionStatus;
  readonly reason?: string;
  readonly message?: string;
}

export function readConditions(o: Obj | undefined): JsonObject[] {
  const c = o && isObject(o.status) ? o.status.conditions : undefined;
  return Array.isArray(c) ? c.filter(isObject) : [];
}

export function findCondition(o: Obj | undefined, type: string): JsonObject | undefined {
  return readConditions(o).find((c) => c.type === type);
}

/**
 * How a condition's `lastUpdateTime` moves (Deployment conditions carry one): `plain` conditions have none,
 * `changed` ones move it when reason, message or status change, `touch` moves it on this write (progress).
 */
export type UpdateTime = 'plain' | 'changed' | 'touch';

/**
 * Set one condition in a conditions list (a copy): `lastTransitionTime` moves only when the status changes,
 * as every Kubernetes controller's SetCondition does. Times are the twin's virtual seconds.
 */
export function putCondition(list: readonly JsonObject[], c: ConditionInput, now: number, update: UpdateTime = 'plain'): JsonObject[] {
  const before = list.find((x) => x.type === c.type);
  const next: JsonObject = { type: c.type, status: c.status };
  if (c.reason !== undefined) next.reason = c.reason;
  if (c.message !== undefined) next.message = c.message;
  next.lastTransitionTime = before && before.status === c.status ? (before.lastTransitionTime ?? now) : now;
  if (update !== 'plain') {
    const same = before && before.status === c.status && before.reason === c.reason && before.message === c.message;
    next.lastUpdateTime = update === 'touch' || !same || !before ? now : (before.lastUpdateTime ?? now);
  }
  const out = list.filter((x) => x.type !== c.type);
  out.push(next);
  return out;
}

export function dropCondition(list: readonly JsonObject[], type: string): JsonObject[] {
  return list.filter((x) => x.type !== type);
}

/**
 * A label selector (`matchLabels` + `matchExpressions`) read from a live object, as metav1.LabelSelectorAsSelector
 * evaluates it: the one matcher every layer shares (lib/netpol.ts), on its values as strings.
 */
export function matchesSelector(selector: Json | undefined, l: Readonly<Record<string, string>>): boolean {
  if (!isObject(selector)) return false;
  const ml = isObject(selector.matchLabels) ? selector.matchLabels : {};
  const exprs = Array.isArray(selector.matchExpressions) ? selector.matchExpressions.filter(isObject) : [];
  return selectorMatches(
    {
      matchLabels: Object.fromEntries(Object.entries(ml).map(([k, v]) => [k, String(v)])),
      matchExpressions: exprs.map((e) => ({
        key: String(e.key),
        operator: String(e.operator),
        values: Array.isArray(e.values) ? e.values.map(String) : [],
      })),
    },
    l,
  );
}

/** A Service's (or Gateway's) plain `key: value` selector; an empty one selects nothing. */
export function matchesMap(selector: Json | undefined, l: Readonly<Record<string, string>>): boolean {
  if (!isObject(selector) || Object.keys(selector).length === 0) return false;
  return Object.entries(selector).every(([k, v]) => l[k] === String(v));
}

/** The owner reference a controller writes on what it creates. */
export function controllerRef(owner: Obj): JsonObject {
  return {
    apiVersion: String(owner.apiVersion),
    kind: String(owner.kind),
    name: String(metadata(owner).name),
    uid: String(metadata(owner).uid),
    controller: true,
    blockOwnerDeletion: true,
  };
}

export function isTerminating(o: Obj): boolean {
  return metadata(o).deletionTimestamp !== undefined;
}

export function isPodReady(p: Obj): boolean {
  return !isTerminating(p) && findCondition(p, 'Ready')?.status === 'True';
}

/** Write an object's status, skipping the write (and its clone and event) when nothing changed. */
export function putStatus(cluster: Cluster, o: Obj, actor: string, status: JsonObject): void {
  const live = cluster.get(refOf(o));
  // The controllers build a status in the same key order every time, so plain JSON compares it.
  if (!live || JSON.stringify(live.status) === JSON.stringify(status)) return;
  cluster.update(refOf(o), actor, (x) => void (x.status = status));
}

/** JSON with sorted keys: the same object always hashes the same. */
export function stableJson(v: Json | undefined): string {
  if (Array.isArray(v)) return `[${v.map(stableJson).join(',')}]`;
  if (isObject(v)) {
    const keys = Object.keys(v).sort(compareStrings);
    return `{${keys.map((k) => `${JSON.stringify(k)}:${stableJson(v[k])}`).join(',')}}`;
  }
  return JSON.stringify(v ?? null);
}

/** kubernetes pkg/util/hash + apimachinery rand.SafeEncodeString: a pod-template hash made of "safe" letters. */
export function templateHash(template: Json | undefined): string {
  const hex = createHash('sha256').update(stableJson(template)).digest('hex');
  const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
  let n = BigInt(`0x${hex.slice(0, 15)}`);
  let out = '';
  for (let i = 0; i < 10; i++) {
    out += alphabet[Number(n % BigInt(alphabet.length))];
    n /= BigInt(alphabet.length);
  }
  return out;
}

function num(v: Json | undefined, fallback: number): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : fallback;
}

function str(v: Json | undefined): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/** An int-or-percent against a total (kubernetes apimachinery intstr.GetScaledValueFromIntOrPercent). */
function scaled(v: Json | undefined, total: number, fallback: string, roundUp: boolean): number {
  const value = v === undefined || v === null ? fallback : v;
  if (typeof value === 'number') return value;
  const m = /^(\d+)%$/.exec(String(value));
  if (!m) return Number.parseInt(String(value), 10) || 0;
  const x = (Number(m[1]) * total) / 100;
  return roundUp ? Math.ceil(x) : Math.floor(x);
}

/** A pod template's ServiceAccount (`default` when unset: ServiceAccount admission sets it). */
function podServiceAccount(podSpec: Json | undefined): string {
  const s = isObject(podSpec) ? podSpec : {};
  return str(s.serviceAccountName) ?? str(s.serviceAccount) ?? 'default';
}

function saRef(namespace: string, name: string): Ref {
  return { group: '', kind: 'ServiceAccount', namespace, name };
}

/**
 * ServiceAccount admission: a pod whose ServiceAccount does not exist is refused with this message
 * (kubernetes/kubernetes plugin/pkg/admission/serviceaccount/admission.go, Admit: "error looking up service
 * account %s/%s: %w" around the NotFound error, wrapped in admission.NewForbidden).
 */
export function serviceAccountRefusal(cluster: Cluster, pod: string, namespace: string, sa: string): string | undefined {
  if (cluster.get(saRef(namespace, sa))) return undefined;
  return `pods "${pod}" is forbidden: error looking up service account ${namespace}/${sa}: serviceaccount "${sa}" not found`;
}

// ---------------------------------------------------------------------------------------------------------
// Pods
// ---------------------------------------------------------------------------------------------------------

const KCM = 'kube-controller-manager';

interface PodPlan {
  readonly name: string;
  readonly namespace: string;
  readonly template: JsonObject;
  readonly owner: Obj;
  readonly extraLabels: Record<string, string>;
  readonly nodeName?: string;
}

class PodFactory {
  private ips = 0;

  /** Create a pod from a template; the refusal message when admission refuses it. */
  create(cluster: Cluster, plan: PodPlan): string | undefined {
    const meta = isObject(plan.template.metadata) ? plan.template.metadata : {};
    const spec = structuredClone(isObject(plan.template.spec) ? plan.template.spec : {}) as JsonObject;
    const sa = podServiceAccount(spec);
    const refused = serviceAccountRefusal(cluster, plan.name, plan.namespace, sa);
    if (refused) return refused;
    spec.serviceAccountName = sa;
    if (plan.nodeName) spec.nodeName = plan.nodeName;
    const pod: Obj = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: plan.name,
        namespace: plan.namespace,
        labels: { ...(isObject(meta.labels) ? (meta.labels as Record<string, string>) : {}), ...plan.extraLabels },
        ...(isObject(meta.annotations) ? { annotations: structuredClone(meta.annotations) } : {}),
        ownerReferences: [controllerRef(plan.owner)],
      },
      spec,
    };
    const res = cluster.create(pod, KCM);
    if (!res.ok) return res.reason;
    const n = ++this.ips;
    cluster.update(refOf(pod), 'kubelet', (o) => {
      o.status = { phase: 'Pending', podIP: `10.128.${Math.floor(n / 250)}.${(n % 250) + 2}`, conditions: [] };
    });
    return undefined;
  }
}

/**
 * The kubelet, coarsely: a pending pod created before this tick starts and is Ready (no probes, no image
 * pulls). Job pods are started here too; what they then do is the Job controller's.
 */
function startPods(cluster: Cluster, pods: Obj[]): void {
  for (const p of pods) {
    if (isTerminating(p) || valueAt(p, ['status', 'phase']) !== 'Pending') continue;
    if (num(metadata(p).creationTimestamp, cluster.now) >= cluster.now) continue;
    cluster.update(refOf(p), 'kubelet', (o) => {
      const status = isObject(o.status) ? o.status : {};
      let conds = putCondition([], { type: 'PodScheduled', status: 'True' }, cluster.now);
      conds = putCondition(conds, { type: 'Initialized', status: 'True' }, cluster.now);
      conds = putCondition(conds, { type: 'ContainersReady', status: 'True' }, cluster.now);
      conds = putCondition(conds, { type: 'Ready', status: 'True' }, cluster.now);
      const containers = Array.isArray(valueAt(o, ['spec', 'containers'])) ? (valueAt(o, ['spec', 'containers']) as JsonObject[]) : [];
      o.status = {
        ...status,
        phase: 'Running',
        startTime: cluster.now,
        conditions: conds,
        containerStatuses: containers.map((c) => ({
          name: String(c.name ?? ''),
          ready: true,
          state: { running: { startedAt: cluster.now } },
        })),
      };
    });
  }
}

function ownedBy(pods: Obj[], owner: Obj): Obj[] {
  const uid = String(metadata(owner).uid);
  return pods.filter((p) => !isTerminating(p) && ownerReferences(p).some((r) => r.uid === uid && r.controller));
}

// ---------------------------------------------------------------------------------------------------------
// Workloads
// ---------------------------------------------------------------------------------------------------------

/** Deployment condition reasons and messages: kubernetes pkg/controller/deployment/util/deployment_util.go, progress.go. */
const DEPLOY = {
  available: 'MinimumReplicasAvailable',
  unavailable: 'MinimumReplicasUnavailable',
  newRS: 'NewReplicaSetCreated',
  updated: 'ReplicaSetUpdated',
  complete: 'NewReplicaSetAvailable',
  timedOut: 'ProgressDeadlineExceeded',
  failedCreate: 'FailedCreate',
} as const;

interface WorkloadMemory {
  hash: string;
  /** The pod-template hash per generation (a template change is a spec change, so it bumps the generation). */
  templates?: { generation: number; hash: string };
  suffix: number;
  /** The last pod-creation refusal logged (an event per change, not per tick). */
  failure?: string;
}

class Workloads {
  private readonly memory = new Map<string, WorkloadMemory>();

  constructor(
    private readonly pods: PodFactory,
    private readonly nodes: number,
  ) {}

  reconcile(cluster: Cluster, all: Obj[]): void {
    const pods = all.filter((o) => o.kind === 'Pod');
    for (const w of all) {
      if (isTerminating(w) || splitApiVersion(String(w.apiVersion))[0] !== 'apps') continue;
      if (w.kind === 'Deployment') this.deployment(cluster, w, ownedBy(pods, w));
      else if (w.kind === 'StatefulSet') this.statefulSet(cluster, w, ownedBy(pods, w));
      else if (w.kind === 'DaemonSet') this.daemonSet(cluster, w, ownedBy(pods, w));
    }
  }

  private nextName(w: Obj, prefix: string): string {
    const m = this.memo(w);
    m.suffix += 1;
    return `${prefix}-${m.suffix.toString(36).padStart(5, 'x')}`;
  }

  private create(cluster: Cluster, w: Obj, name: string, extra: Record<string, string>, nodeName?: string): string | undefined {
    const template = isObject(valueAt(w, ['spec', 'template'])) ? (valueAt(w, ['spec', 'template']) as JsonObject) : {};
    const refused = this.pods.create(cluster, {
      name,
      namespace: String(metadata(w).namespace),
      template,
      owner: w,
      extraLabels: extra,
      nodeName,
    });
    const m = this.memo(w);
    if (refused && refused.replace(/"[^"]*" is forbidden/, '') !== m.failure)
      cluster.log(KCM, `FailedCreate: Error creating: ${refused}`, refOf(w));
    m.failure = refused?.replace(/"[^"]*" is forbidden/, '');
    return refused;
  }

  private templateHashOf(w: Obj): string {
    const m = this.memo(w);
    const generation = num(metadata(w).generation, 1);
    if (m.templates?.generation !== generation) m.templates = { generation, hash: templateHash(valueAt(w, ['spec', 'template'])) };
    return m.templates.hash;
  }

  private memo(w: Obj): WorkloadMemory {
    const key = String(metadata(w).uid);
    const m = this.memory.get(key) ?? { hash: '', suffix: 0 };
    this.memory.set(key, m);
    return m;
  }

  /**
   * RollingUpdate as kubernetes pkg/controller/deployment/rolling.go does it per sync: scale the new pods up
   * within replicas + maxSurge, then remove old pods while at least replicas - maxUnavailable stay available
   * (unhealthy old pods first). Recreate removes every old pod before creating new ones (recreate.go).
   */
  private deployment(cluster: Cluster, d: Obj, pods: Obj[]): void {
    const spec = isObject(d.spec) ? d.spec : {};
    const replicas = num(spec.replicas, 1);
    const hash = this.templateHashOf(d);
    const name = String(metadata(d).name);
    const strategy = str(valueAt(spec, ['strategy', 'type'])) ?? 'RollingUpdate';
    const surge = scaled(valueAt(spec, ['strategy', 'rollingUpdate', 'maxSurge']), replicas, '25%', true);
    let unavailable = scaled(valueAt(spec, ['strategy', 'rollingUpdate', 'maxUnavailable']), replicas, '25%', false);
    // deployment_util.go ResolveFenceposts: both zero would never progress, so maxUnavailable becomes 1.
    if (surge === 0 && unavailable === 0) unavailable = 1;
    if (strategy === 'Recreate') unavailable = replicas;
    const memo = this.memo(d);
    const newRS = memo.hash !== hash;
    memo.hash = hash;

    const isNew = (p: Obj) => labels(p)['pod-template-hash'] === hash;
    let current = pods.filter(isNew);
    let old = pods.filter((p) => !isNew(p));
    let failure: string | undefined;
    // Scale the new pods.
    if (current.length > replicas) {
      for (const p of current.slice(replicas)) cluster.delete(refOf(p), KCM);
      current = current.slice(0, replicas);
    }
    const maxTotal = strategy === 'Recreate' ? (old.length ? 0 : replicas) : replicas + surge;
    let toCreate = Math.min(replicas - current.length, maxTotal - current.length - old.length);
    while (toCreate-- > 0) {
      const refused = this.create(cluster, d, this.nextName(d, `${name}-${hash}`), { 'pod-template-hash': hash });
      if (refused) {
        failure = refused;
        break;
      }
    }
    // Scale the old pods down.
    const minAvailable = replicas - unavailable;
    let available = current.filter(isPodReady).length + old.filter(isPodReady).length;
    for (const p of [...old].sort((a, b) => Number(isPodReady(a)) - Number(isPodReady(b)))) {
      if (isPodReady(p)) {
        if (strategy !== 'Recreate' && available - 1 < minAvailable) break;
        available -= 1;
      }
      cluster.delete(refOf(p), KCM);
      old = old.filter((x) => x !== p);
    }
    this.deploymentStatus(cluster, d, name, hash, newRS, replicas, unavailable, failure);
  }

  private deploymentStatus(
    cluster: Cluster,
    d: Obj,
    name: string,
    hash: string,
    newRS: boolean,
    replicas: number,
    maxUnavailable: number,
    failure: string | undefined,
  ): void {
    const pods = ownedBy(
      cluster.list((o) => o.kind === 'Pod' && metadata(o).namespace === metadata(d).namespace),
      d,
    );
    const updated = pods.filter((p) => labels(p)['pod-template-hash'] === hash);
    const ready = pods.filter(isPodReady).length;
    const before = isObject(d.status) ? d.status : {};
    const status: JsonObject = {
      observedGeneration: num(metadata(d).generation, 1),
      replicas: pods.length,
      updatedReplicas: updated.length,
      readyReplicas: ready,
      availableReplicas: ready,
      unavailableReplicas: Math.max(0, replicas - ready),
    };
    const now = cluster.now;
    let conds = readConditions(d);
    conds =
      ready >= replicas - maxUnavailable
        ? putCondition(
            conds,
            { type: 'Available', status: 'True', reason: DEPLOY.available, message: 'Deployment has minimum availability.' },
            now,
            'changed',
          )
        : putCondition(
            conds,
            { type: 'Available', status: 'False', reason: DEPLOY.unavailable, message: 'Deployment does not have minimum availability.' },
            now,
            'changed',
          );
    conds = progressing(conds, d, before, status, { rs: `${name}-${hash}`, newRS, replicas, now });
    // The ReplicaSet's ReplicaFailure condition, copied to the Deployment (progress.go getReplicaFailures;
    // replica_set_utils.go sets it from the pod creation error and removes it after a clean sync).
    conds = failure
      ? putCondition(conds, { type: 'ReplicaFailure', status: 'True', reason: DEPLOY.failedCreate, message: failure }, now, 'changed')
      : dropCondition(conds, 'ReplicaFailure');
    status.conditions = conds;
    putStatus(cluster, d, KCM, status);
  }

  /**
   * StatefulSet (kubernetes pkg/controller/statefulset/stateful_set_control.go; inference from its documented
   * behaviour, not read here): pods `<name>-<ordinal>`,
   * created in order and one at a time under OrderedReady; RollingUpdate replaces the highest ordinal not yet
   * updated and at or above the partition, one at a time once all pods are Ready; OnDelete replaces nothing.
   * A missing pod is created from the current template (the twin keeps no ControllerRevision history).
   */
  private statefulSet(cluster: Cluster, s: Obj, pods: Obj[]): void {
    const spec = isObject(s.spec) ? s.spec : {};
    const name = String(metadata(s).name);
    const replicas = num(spec.replicas, 1);
    const revision = `${name}-${this.templateHashOf(s)}`;
    const strategy = str(valueAt(spec, ['updateStrategy', 'type'])) ?? 'RollingUpdate';
    const partition = num(valueAt(spec, ['updateStrategy', 'rollingUpdate', 'partition']), 0);
    const parallel = spec.podManagementPolicy === 'Parallel';
    const byName = new Map(pods.map((p) => [String(metadata(p).name), p]));
    let failure: string | undefined;
    for (let i = 0; i < replicas; i++) {
      const podName = `${name}-${i}`;
      const pod = byName.get(podName);
      if (pod) {
        if (!parallel && !isPodReady(pod)) break;
        continue;
      }
      failure = this.create(cluster, s, podName, {
        'controller-revision-hash': revision,
        'statefulset.kubernetes.io/pod-name': podName,
        'apps.kubernetes.io/pod-index': String(i),
      });
      if (failure || !parallel) break;
    }
    const extra = pods.filter((p) => ordinal(p, name) >= replicas).sort((a, b) => ordinal(b, name) - ordinal(a, name));
    for (const p of parallel ? extra : extra.slice(0, 1)) cluster.delete(refOf(p), KCM);
    const inRange = pods.filter((p) => ordinal(p, name) < replicas);
    if (strategy === 'RollingUpdate' && inRange.length === replicas && inRange.every(isPodReady)) {
      const stale = inRange
        .filter((p) => ordinal(p, name) >= partition && labels(p)['controller-revision-hash'] !== revision)
        .sort((a, b) => ordinal(b, name) - ordinal(a, name))[0];
      if (stale) cluster.delete(refOf(stale), KCM);
    }
    const now = ownedBy(
      cluster.list((o) => o.kind === 'Pod' && metadata(o).namespace === metadata(s).namespace),
      s,
    );
    const before = isObject(s.status) ? s.status : {};
    const updated = now.filter((p) => labels(p)['controller-revision-hash'] === revision).length;
    const ready = now.filter(isPodReady).length;
    let currentRevision = str(before.currentRevision) ?? revision;
    if (updated === replicas && ready === replicas) currentRevision = revision;
    const status: JsonObject = {
      observedGeneration: num(metadata(s).generation, 1),
      replicas: now.length,
      readyReplicas: ready,
      availableReplicas: ready,
      currentReplicas: now.filter((p) => labels(p)['controller-revision-hash'] === currentRevision).length,
      updatedReplicas: updated,
      currentRevision,
      updateRevision: revision,
      collisionCount: 0,
    };
    putStatus(cluster, s, KCM, status);
  }

  /**
   * DaemonSet (kubernetes pkg/controller/daemon/update.go; inference, not read here): one pod per node; RollingUpdate deletes at most
   * maxUnavailable (default 1) outdated pods at a time and the next sync creates their replacements; OnDelete
   * replaces nothing.
   */
  private daemonSet(cluster: Cluster, ds: Obj, pods: Obj[]): void {
    const spec = isObject(ds.spec) ? ds.spec : {};
    const name = String(metadata(ds).name);
    const hash = this.templateHashOf(ds);
    const strategy = str(valueAt(spec, ['updateStrategy', 'type'])) ?? 'RollingUpdate';
    const maxUnavailable = scaled(valueAt(spec, ['updateStrategy', 'rollingUpdate', 'maxUnavailable']), this.nodes, '1', true) || 1;
    const generation = String(num(metadata(ds).generation, 1));
    const nodes = Array.from({ length: this.nodes }, (_, i) => `node-${i + 1}`);
    const onNode = (n: string) => pods.find((p) => valueAt(p, ['spec', 'nodeName']) === n);
    let unavailable = nodes.filter((n) => !onNode(n) || !isPodReady(onNode(n)!)).length;
    if (strategy === 'RollingUpdate') {
      for (const n of nodes) {
        const p = onNode(n);
        if (!p || labels(p)['controller-revision-hash'] === hash || unavailable >= maxUnavailable) continue;
        cluster.delete(refOf(p), KCM);
        unavailable += 1;
      }
    }
    for (const n of nodes) {
      if (onNode(n) && cluster.get(refOf(onNode(n)!))) continue;
      const refused = this.create(
        cluster,
        ds,
        this.nextName(ds, name),
        { 'controller-revision-hash': hash, 'pod-template-generation': generation },
        n,
      );
      if (refused) break;
    }
    const now = ownedBy(
      cluster.list((o) => o.kind === 'Pod' && metadata(o).namespace === metadata(ds).namespace),
      ds,
    );
    const ready = now.filter(isPodReady).length;
    const status: JsonObject = {
      observedGeneration: num(metadata(ds).generation, 1),
      desiredNumberScheduled: this.nodes,
      currentNumberScheduled: now.length,
      numberMisscheduled: 0,
      numberReady: ready,
      numberAvailable: ready,
      numberUnavailable: Math.max(0, this.nodes - ready),
      updatedNumberScheduled: now.filter((p) => labels(p)['controller-revision-hash'] === hash).length,
    };
    putStatus(cluster, ds, KCM, status);
  }
}

function ordinal(p: Obj, set: string): number {
  const n = String(metadata(p).name).slice(set.length + 1);
  return /^\d+$/.test(n) ? Number(n) : Number.MAX_SAFE_INTEGER;
}

interface ProgressInput {
  readonly rs: string;
  readonly newRS: boolean;
  readonly replicas: number;
  readonly now: number;
}

/**
 * The Progressing condition (kubernetes pkg/controller/deployment/progress.go syncRolloutStatus and
 * util.DeploymentComplete / DeploymentProgressing / DeploymentTimedOut): progress refreshes it, a rollout
 * that makes none for `progressDeadlineSeconds` (apps/v1 default 600) turns it False ProgressDeadlineExceeded.
 */
function progressing(conds: JsonObject[], d: Obj, before: JsonObject, after: JsonObject, p: ProgressInput): JsonObject[] {
  const deadline = num(valueAt(d, ['spec', 'progressDeadlineSeconds']), 600);
  const current = conds.find((c) => c.type === 'Progressing');
  if (p.newRS) {
    // sync.go getNewReplicaSet: creating the new ReplicaSet is progress (reason NewReplicaSetCreated; message: inference).
    return putCondition(
      conds,
      { type: 'Progressing', status: 'True', reason: DEPLOY.newRS, message: `Created new replica set "${p.rs}"` },
      p.now,
      'touch',
    );
  }
  const n = (s: JsonObject, k: string) => num(s[k], 0);
  const complete =
    n(after, 'updatedReplicas') === p.replicas && n(after, 'replicas') === p.replicas && n(after, 'availableReplicas') === p.replicas;
  if (current && current.reason === DEPLOY.complete && n(after, 'replicas') === n(after, 'updatedReplicas')) return conds;
  if (complete) {
    return putCondition(
      conds,
      { type: 'Progressing', status: 'True', reason: DEPLOY.complete, message: `ReplicaSet "${p.rs}" has successfully progressed.` },
      p.now,
      'touch',
    );
  }
  const oldBefore = n(before, 'replicas') - n(before, 'updatedReplicas');
  const oldAfter = n(after, 'replicas') - n(after, 'updatedReplicas');
  const moved =
    n(after, 'updatedReplicas') > n(before, 'updatedReplicas') ||
    oldAfter < oldBefore ||
    n(after, 'readyReplicas') > n(before, 'readyReplicas') ||
    n(after, 'availableReplicas') > n(before, 'availableReplicas');
  if (moved) {
    return putCondition(
      conds,
      { type: 'Progressing', status: 'True', reason: DEPLOY.updated, message: `ReplicaSet "${p.rs}" is progressing.` },
      p.now,
      'touch',
    );
  }
  if (current && current.reason !== DEPLOY.timedOut && num(current.lastUpdateTime, p.now) + deadline < p.now) {
    return putCondition(
      conds,
      { type: 'Progressing', status: 'False', reason: DEPLOY.timedOut, message: `ReplicaSet "${p.rs}" has timed out progressing.` },
      p.now,
      'touch',
    );
  }
  return conds;
}

// ---------------------------------------------------------------------------------------------------------
// kubectl rollout status
// ---------------------------------------------------------------------------------------------------------

export interface RolloutState {
  readonly done: boolean;
  readonly message: string;
  /** kubectl exits non-zero at once: OnDelete strategy, progress deadline exceeded, object missing. */
  readonly error?: string;
}

const WORKLOAD_KIND: Record<WorkloadTarget['resource'], string> = {
  deployments: 'Deployment',
  statefulsets: 'StatefulSet',
  daemonsets: 'DaemonSet',
};

/**
 * What `kubectl rollout status` reports for a workload (kubernetes/kubectl@dee3483a
 * pkg/polymorphichelpers/rollout_status.go:75-91 Deployment, :104-117 DaemonSet, :127-150 StatefulSet). A
 * StatefulSet or DaemonSet whose strategy is not RollingUpdate is an immediate error ("rollout status is only
 * available for RollingUpdate strategy type").
 */
export function rolloutStatus(cluster: Cluster, t: WorkloadTarget): RolloutState {
  const waiting = (what: string, detail: string): RolloutState => ({
    done: false,
    message: `Waiting for ${what} "${t.name}" rollout to finish: ${detail}`,
  });
  const w = cluster.get({ group: 'apps', kind: WORKLOAD_KIND[t.resource], namespace: t.namespace, name: t.name });
  const kindLower = WORKLOAD_KIND[t.resource].toLowerCase();
  if (!w) return { done: false, message: '', error: `Error from server (NotFound): ${t.resource}.apps "${t.name}" not found` };
  const spec = isObject(w.spec) ? w.spec : {};
  const st = isObject(w.status) ? w.status : {};
  const gen = num(metadata(w).generation, 1);
  const observed = num(st.observedGeneration, 0);
  const n = (k: string) => num(st[k], 0);
  if (t.resource === 'deployments') {
    if (gen > observed) return { done: false, message: 'Waiting for deployment spec update to be observed...' };
    const cond = findCondition(w, 'Progressing');
    if (cond?.reason === DEPLOY.timedOut)
      return { done: false, message: '', error: `error: deployment "${t.name}" exceeded its progress deadline` };
    const replicas = num(spec.replicas, 1);
    if (n('updatedReplicas') < replicas)
      return waiting('deployment', `${n('updatedReplicas')} out of ${replicas} new replicas have been updated...`);
    if (n('replicas') > n('updatedReplicas'))
      return waiting('deployment', `${n('replicas') - n('updatedReplicas')} old replicas are pending termination...`);
    if (n('availableReplicas') < n('updatedReplicas'))
      return waiting('deployment', `${n('availableReplicas')} of ${n('updatedReplicas')} updated replicas are available...`);
    return { done: true, message: `deployment "${t.name}" successfully rolled out` };
  }
  const strategy = str(valueAt(spec, ['updateStrategy', 'type'])) ?? 'RollingUpdate';
  if (strategy !== 'RollingUpdate')
    return { done: true, message: '', error: 'error: rollout status is only available for RollingUpdate strategy type' };
  if (t.resource === 'daemonsets') {
    if (gen > observed) return { done: false, message: 'Waiting for daemon set spec update to be observed...' };
    if (n('updatedNumberScheduled') < n('desiredNumberScheduled'))
      return waiting('daemon set', `${n('updatedNumberScheduled')} out of ${n('desiredNumberScheduled')} new pods have been updated...`);
    if (n('numberAvailable') < n('desiredNumberScheduled'))
      return waiting('daemon set', `${n('numberAvailable')} of ${n('desiredNumberScheduled')} updated pods are available...`);
    return { done: true, message: `daemon set "${t.name}" successfully rolled out` };
  }
  if (observed === 0 || gen > observed) return { done: false, message: `Waiting for ${kindLower} spec update to be observed...` };
  const replicas = num(spec.replicas, 1);
  if (n('readyReplicas') < replicas) return { done: false, message: `Waiting for ${replicas - n('readyReplicas')} pods to be ready...` };
  // apps/v1 defaulting gives every RollingUpdate StatefulSet a rollingUpdate.partition (0), so kubectl always
  // takes the partitioned branch: pods below the partition are never waited for.
  const partition = num(valueAt(spec, ['updateStrategy', 'rollingUpdate', 'partition']), 0);
  if (n('updatedReplicas') < replicas - partition)
    return {
      done: false,
      message: `Waiting for partitioned roll out to finish: ${n('updatedReplicas')} out of ${replicas - partition} new pods have been updated...`,
    };
  return { done: true, message: `partitioned roll out complete: ${n('updatedReplicas')} new pods have been updated...` };
}

// ---------------------------------------------------------------------------------------------------------
// Services → Endpoints, ServiceAccounts, PodDisruptionBudgets
// ---------------------------------------------------------------------------------------------------------

/**
 * The endpoints controller (kubernetes pkg/controller/endpoint/endpoints_controller.go syncService): for each
 * Service with a selector, an Endpoints object of the same name listing the selected pods, ready ones under
 * `addresses`, the others under `notReadyAddresses`, each with a targetRef to its pod; the Service's labels
 * are copied. The Endpoints of a deleted Service are deleted.
 */
class EndpointsController {
  private readonly managed = new Set<string>();

  reconcile(cluster: Cluster, all: Obj[]): void {
    const pods = all.filter((o) => o.kind === 'Pod' && splitApiVersion(String(o.apiVersion))[0] === '' && !isTerminating(o));
    const services = all.filter((o) => o.kind === 'Service' && splitApiVersion(String(o.apiVersion))[0] === '');
    const seen = new Set<string>();
    for (const svc of services) {
      const selector = valueAt(svc, ['spec', 'selector']);
      if (!isObject(selector) || Object.keys(selector).length === 0 || isTerminating(svc)) continue;
      const ns = String(metadata(svc).namespace);
      const selected = pods.filter((p) => metadata(p).namespace === ns && matchesMap(selector, labels(p)));
      const address = (p: Obj) => ({
        ip: String(valueAt(p, ['status', 'podIP']) ?? ''),
        targetRef: { kind: 'Pod', name: String(metadata(p).name), namespace: ns, uid: String(metadata(p).uid) },
      });
      const ready = selected.filter(isPodReady).map(address);
      const notReady = selected.filter((p) => !isPodReady(p)).map(address);
      const portsOf = Array.isArray(valueAt(svc, ['spec', 'ports'])) ? (valueAt(svc, ['spec', 'ports']) as Json[]).filter(isObject) : [];
      const ports = portsOf.map((p) => ({
        ...(p.name !== undefined ? { name: p.name } : {}),
        port:
          typeof p.targetPort === 'number'
            ? p.targetPort
            : typeof p.targetPort === 'string'
              ? namedPort(selected, p.targetPort, p.port)
              : p.port,
        protocol: p.protocol ?? 'TCP',
      }));
      const subsets =
        ready.length || notReady.length
          ? [{ ...(ready.length ? { addresses: ready } : {}), ...(notReady.length ? { notReadyAddresses: notReady } : {}), ports }]
          : [];
      const ep: Obj = {
        apiVersion: 'v1',
        kind: 'Endpoints',
        metadata: {
          name: String(metadata(svc).name),
          namespace: ns,
          ...(Object.keys(labels(svc)).length ? { labels: { ...labels(svc) } } : {}),
        },
        subsets: subsets as Json,
      };
      seen.add(keyOf(ep));
      const live = cluster.get(refOf(ep));
      if (
        live &&
        JSON.stringify(live.subsets) === JSON.stringify(ep.subsets) &&
        JSON.stringify(labels(live)) === JSON.stringify(labels(ep))
      )
        continue;
      if (live)
        cluster.update(
          refOf(ep),
          'endpoint-controller',
          (o) => void Object.assign(o, { subsets: ep.subsets, metadata: { ...metadata(o), labels: labels(ep) } }),
        );
      else cluster.create(ep, 'endpoint-controller');
      this.managed.add(keyOf(ep));
    }
    for (const k of [...this.managed]) {
      if (seen.has(k)) continue;
      const [, , namespace, name] = k.split('/');
      cluster.delete({ group: '', kind: 'Endpoints', namespace, name }, 'endpoint-controller');
      this.managed.delete(k);
    }
  }
}

function namedPort(pods: Obj[], name: string, fallback: Json | undefined): Json {
  for (const p of pods) {
    const containers = valueAt(p, ['spec', 'containers']);
    for (const c of Array.isArray(containers) ? containers.filter(isObject) : []) {
      const ports = Array.isArray(c.ports) ? c.ports.filter(isObject) : [];
      const hit = ports.find((x) => x.name === name);
      if (hit) return hit.containerPort ?? fallback ?? null;
    }
  }
  return fallback ?? null;
}

/** kubernetes pkg/controller/serviceaccount/serviceaccounts_controller.go: every active namespace gets `default`. */
function ensureDefaultServiceAccounts(cluster: Cluster, all: Obj[]): void {
  for (const ns of all.filter((o) => o.kind === 'Namespace' && !isTerminating(o))) {
    const ref = saRef(String(metadata(ns).name), 'default');
    if (!cluster.get(ref))
      cluster.create({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default', namespace: ref.namespace } }, KCM);
  }
}

/**
 * PodDisruptionBudget status as the disruption controller writes it (kubernetes pkg/controller/disruption/
 * disruption.go updatePdbStatus): expectedPods, currentHealthy, desiredHealthy (minAvailable, or expected
 * minus maxUnavailable), disruptionsAllowed, the DisruptionAllowed condition, observedGeneration — kstatus
 * holds a budget InProgress until currentHealthy reaches desiredHealthy.
 */
function syncBudgets(cluster: Cluster, all: Obj[]): void {
  const pods = all.filter((o) => o.kind === 'Pod' && !isTerminating(o));
  for (const pdb of all.filter((o) => o.kind === 'PodDisruptionBudget' && !isTerminating(o))) {
    const ns = metadata(pdb).namespace;
    const covered = pods.filter((p) => metadata(p).namespace === ns && matchesSelector(valueAt(pdb, ['spec', 'selector']), labels(p)));
    const expected = covered.length;
    const healthy = covered.filter(isPodReady).length;
    const minAvailable = valueAt(pdb, ['spec', 'minAvailable']);
    const maxUnavailable = valueAt(pdb, ['spec', 'maxUnavailable']);
    const desired =
      minAvailable !== undefined
        ? scaled(minAvailable, expected, '0', true)
        : maxUnavailable !== undefined
          ? Math.max(0, expected - scaled(maxUnavailable, expected, '0', true))
          : expected;
    const allowed = Math.max(0, healthy - desired);
    const conds = putCondition(
      readConditions(pdb),
      allowed > 0
        ? { type: 'DisruptionAllowed', status: 'True', reason: 'SufficientPods', message: '' }
        : { type: 'DisruptionAllowed', status: 'False', reason: 'InsufficientPods', message: '' },
      cluster.now,
    );
    const status: JsonObject = {
      observedGeneration: num(metadata(pdb).generation, 1),
      expectedPods: expected,
      currentHealthy: healthy,
      desiredHealthy: desired,
      disruptionsAllowed: allowed,
      conditions: conds,
    };
    putStatus(cluster, pdb, 'disruption-controller', status);
  }
}

export interface EvictionBlocker {
  readonly pod: Ref;
  readonly pdbs: Ref[];
}

/**
 * Pods the eviction API refuses outright because more than one PodDisruptionBudget selects them
 * (kubernetes/kubernetes pkg/registry/core/pod/storage/eviction.go, getPodDisruptionBudgets: "This pod has more
 * than one PodDisruptionBudget, which the eviction subresource does not support."): a node drain stalls on them.
 */
export function evictionBlockers(cluster: Cluster): EvictionBlocker[] {
  const pdbs = cluster.list((o) => o.kind === 'PodDisruptionBudget' && splitApiVersion(String(o.apiVersion))[0] === 'policy');
  const out: EvictionBlocker[] = [];
  for (const pod of cluster.list((o) => o.kind === 'Pod' && !isTerminating(o))) {
    const covering = pdbs.filter(
      (b) => metadata(b).namespace === metadata(pod).namespace && matchesSelector(valueAt(b, ['spec', 'selector']), labels(pod)),
    );
    if (covering.length > 1) out.push({ pod: refOf(pod), pdbs: covering.map(refOf) });
  }
  return out;
}

export const EVICTION_MULTIPLE_PDBS = 'This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.';

// ---------------------------------------------------------------------------------------------------------
// RBAC (only for what meshfed's Jobs do)
// ---------------------------------------------------------------------------------------------------------

export interface Access {
  readonly verb: string;
  readonly group: string;
  /** Plural resource, with a subresource after a slash (`pods/exec`). */
  readonly resource: string;
  /** '' for cluster-scoped resources. */
  readonly namespace: string;
  readonly name?: string;
}

/** Built-in ClusterRoles the twin does not hold as objects (kubernetes plugin/pkg/auth/authorizer/rbac/bootstrappolicy). */
const BUILTIN_CLUSTER_ROLES: Record<string, (a: Access) => boolean> = {
  'cluster-admin': () => true,
  admin: (a) => a.namespace !== '' && !a.group.startsWith('rbac.'),
  edit: (a) => a.namespace !== '' && !a.group.startsWith('rbac.'),
  view: (a) => ['get', 'list', 'watch'].includes(a.verb) && a.namespace !== '',
};

function ruleAllows(rule: JsonObject, a: Access): boolean {
  const has = (k: string, v: string) => Array.isArray(rule[k]) && ((rule[k] as Json[]).includes('*') || (rule[k] as Json[]).includes(v));
  if (!has('apiGroups', a.group) || !has('resources', a.resource) || !has('verbs', a.verb)) return false;
  const names = Array.isArray(rule.resourceNames) ? rule.resourceNames : [];
  return names.length === 0 || (a.name !== undefined && names.includes(a.name));
}

/**
 * Whether ServiceAccount `namespace/sa` may do `a` under the cluster's Roles, ClusterRoles and bindings
 * (kubernetes plugin/pkg/auth/authorizer/rbac/rbac.go: RoleBindings of the object's namespace and all
 * ClusterRoleBindings; a rule matches group, resource, verb and, when it names any, the object's name).
 */
export function isAllowed(cluster: Cluster, namespace: string, sa: string, a: Access, all: Obj[] = cluster.list()): boolean {
  const isSubject = (b: Obj) =>
    Array.isArray(b.subjects) &&
    b.subjects
      .filter(isObject)
      .some((s) => s.kind === 'ServiceAccount' && s.name === sa && (s.namespace ?? metadata(b).namespace) === namespace);
  const rbac = (k: string) => all.filter((o) => o.kind === k && splitApiVersion(String(o.apiVersion))[0] === 'rbac.authorization.k8s.io');
  const roleAllows = (roleRef: Json | undefined, ns: string) => {
    if (!isObject(roleRef)) return false;
    const kind = String(roleRef.kind);
    const name = String(roleRef.name);
    const role = cluster.get({ group: 'rbac.authorization.k8s.io', kind, namespace: kind === 'Role' ? ns : '', name });
    if (!role) return kind === 'ClusterRole' && (BUILTIN_CLUSTER_ROLES[name]?.(a) ?? false);
    return Array.isArray(role.rules) && role.rules.filter(isObject).some((r) => ruleAllows(r, a));
  };
  if (
    a.namespace &&
    rbac('RoleBinding').some((b) => metadata(b).namespace === a.namespace && isSubject(b) && roleAllows(b.roleRef, a.namespace))
  )
    return true;
  return rbac('ClusterRoleBinding').some((b) => isSubject(b) && roleAllows(b.roleRef, ''));
}

/** The API server's Forbidden message (k8s.io/apiserver pkg/endpoints/handlers/responsewriters/errors.go forbiddenMessage; format: inference). */
function forbidden(namespace: string, sa: string, a: Access): string {
  const what = a.group ? `${a.resource.split('/')[0]}.${a.group}` : a.resource.split('/')[0];
  const where = a.namespace ? `in the namespace "${a.namespace}"` : 'at the cluster scope';
  return (
    `Error from server (Forbidden): ${what}${a.name === undefined ? '' : ` "${a.name}"`} is forbidden: ` +
    `User "system:serviceaccount:${namespace}:${sa}" ` +
    `cannot ${a.verb} resource "${a.resource}" in API group "${a.group}" ${where}`
  );
}

// ---------------------------------------------------------------------------------------------------------
// Jobs running meshfed.dev/steps
// ---------------------------------------------------------------------------------------------------------

/**
 * Job condition reasons and messages (kubernetes pkg/controller/job/job_controller.go; batch/v1 types.go). The
 * SuccessCriteriaMet/FailureTarget conditions written before Complete/Failed (Kubernetes 1.31+) are taken from
 * job status dumps and e2e expectations, not from the controller's source (inference).
 */
const JOB = {
  backoff: { reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' },
  deadline: { reason: 'DeadlineExceeded', message: 'Job was active longer than specified deadline' },
  complete: { reason: 'CompletionsReached', message: 'Reached expected number of succeeded pods' },
  /** job_controller.go DefaultJobPodFailureBackOff (10 s, doubled per failure) and MaxJobPodFailureBackOff (10 min). */
  backoffBase: 10,
  backoffMax: 600,
} as const;

type StepOutcome =
  { readonly state: 'done' } | { readonly state: 'wait'; readonly note: string } | { readonly state: 'fail'; readonly message: string };

interface StepRun {
  index: number;
  startedAt: number;
  /**
   * restart: the next workload to patch, the rollouts in flight with the time of their patch (oldest first: the one
   * waited for), which rollouts failed and which workloads a failure left unpatched.
   */
  next?: number;
  inFlight?: { readonly w: WorkloadTarget; readonly patchedAt: number }[];
  rolloutFailures?: string[];
  notStarted?: string[];
  notWaited?: string[];
  /** probe: tries made and when the next is due. */
  tries?: number;
  nextTryAt?: number;
  /** delete: the DELETE was sent. */
  deleted?: boolean;
  /** What the step waits for, from its last check. */
  note?: string;
  /** Probes that never passed (the Job fails at the end when any did). */
  failedProbes: string[];
}

/** A one-line name for a step, for messages ("step 2/4 wait-absent servicemeshmemberroll istio-system/default"). */
export function describeStep(step: JobStep): string {
  switch (step.op) {
    case 'rollout-status':
      return `rollout-status ${step.target.resource}/${step.target.name} -n ${step.target.namespace}`;
    case 'relabel-namespaces':
      return `relabel-namespaces ${step.namespaces.join(',')}`;
    case 'restart':
      return `restart ${step.workloads.map((w) => `${w.namespace}/${w.resource}/${w.name}`).join(' ')}`;
    case 'require-endpoint':
      return `require-endpoint ${step.namespace}/${step.service} of ${step.deployment}`;
    case 'probe':
      return `probe ${step.namespace}/${step.deployment} -> ${step.url}`;
    case 'wait-job':
      return `wait-job job ${step.namespace}/${step.name}`;
    default:
      return `${step.op} ${step.resource} ${step.namespace}/${step.name}`;
  }
}

/** Resolve a kubectl resource argument (`servicemeshmemberroll`, `routes.route.openshift.io`, `svc`) to a served type. */
export function resolveResource(
  cluster: Cluster,
  resource: string,
): { group: string; kind: string; plural: string; namespaced: boolean } | string {
  const [head, ...rest] = resource.toLowerCase().split('.');
  const group = rest.join('.');
  const short: Record<string, string> = {
    svc: 'service',
    ns: 'namespace',
    sa: 'serviceaccount',
    cm: 'configmap',
    ep: 'endpoints',
    deploy: 'deployment',
  };
  const want = short[head] ?? head;
  const candidates: { group: string; kind: string; plural: string; namespaced: boolean }[] = [];
  for (const g of [
    '',
    'apps',
    'batch',
    'policy',
    'route.openshift.io',
    'networking.k8s.io',
    'rbac.authorization.k8s.io',
    'maistra.io',
    'federation.maistra.io',
    'networking.istio.io',
    'security.istio.io',
    'telemetry.istio.io',
    'sailoperator.io',
    'gateway.networking.k8s.io',
    'apiextensions.k8s.io',
    'admissionregistration.k8s.io',
    'autoscaling',
    'discovery.k8s.io',
  ]) {
    if (group && g !== group) continue;
    for (const kind of KNOWN_KINDS) {
      const t = cluster.typeOf(g, kind);
      if (!t) continue;
      const plural = pluralOf(kind);
      if (kind.toLowerCase() === want || plural === want) candidates.push({ group: g, kind, plural, namespaced: t.namespaced });
    }
  }
  if (candidates.length === 0) return `error: the server doesn't have a resource type "${resource}"`;
  // kubectl prefers the core and built-in groups over CRDs of the same name (discovery order).
  return candidates[0];
}

const KNOWN_KINDS = [
  'Namespace',
  'ConfigMap',
  'Secret',
  'ServiceAccount',
  'Service',
  'Endpoints',
  'Pod',
  'Deployment',
  'StatefulSet',
  'DaemonSet',
  'ReplicaSet',
  'Job',
  'CronJob',
  'PodDisruptionBudget',
  'HorizontalPodAutoscaler',
  'NetworkPolicy',
  'Role',
  'RoleBinding',
  'ClusterRole',
  'ClusterRoleBinding',
  'Route',
  'ServiceMeshControlPlane',
  'ServiceMeshMemberRoll',
  'ServiceMeshMember',
  'ServiceMeshPeer',
  'ExportedServiceSet',
  'ImportedServiceSet',
  'Gateway',
  'VirtualService',
  'DestinationRule',
  'ServiceEntry',
  'WorkloadEntry',
  'Sidecar',
  'EnvoyFilter',
  'PeerAuthentication',
  'AuthorizationPolicy',
  'RequestAuthentication',
  'Telemetry',
  'Istio',
  'IstioCNI',
  'IstioRevision',
  'IstioRevisionTag',
  'HTTPRoute',
  'GatewayClass',
  'EndpointSlice',
  'CustomResourceDefinition',
  'MutatingWebhookConfiguration',
  'ValidatingWebhookConfiguration',
];

/** The plural resource name the API serves for a kind (lower case; -y → -ies, -ss → -sses). */
export function pluralOf(kind: string): string {
  const k = kind.toLowerCase();
  if (k === 'endpoints') return k;
  if (k.endsWith('y')) return `${k.slice(0, -1)}ies`;
  if (k.endsWith('ss') || k.endsWith('s')) return `${k}es`;
  return `${k}s`;
}

interface JobContext {
  readonly cluster: Cluster;
  readonly job: Obj;
  readonly pod: Obj;
  readonly sa: string;
  readonly namespace: string;
  readonly rbac: boolean;
}

class JobController {
  private readonly runs = new Map<string, StepRun>();
  private suffix = 0;

  constructor(
    private readonly pods: PodFactory,
    private readonly rbac: boolean,
  ) {}

  reconcile(cluster: Cluster, all: Obj[]): void {
    for (const job of all.filter((o) => o.kind === 'Job' && splitApiVersion(String(o.apiVersion))[0] === 'batch')) {
      if (isTerminating(job) || valueAt(job, ['spec', 'suspend']) === true) continue;
      if (readConditions(job).some((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True')) continue;
      this.sync(
        cluster,
        job,
        ownedBy(
          all.filter((o) => o.kind === 'Pod'),
          job,
        ),
      );
    }
  }

  private sync(cluster: Cluster, job: Obj, pods: Obj[]): void {
    const ref = refOf(job);
    const now = cluster.now;
    const status: JsonObject = { ...(isObject(job.status) ? job.status : {}) };
    if (status.startTime === undefined) status.startTime = now;
    const failed = num(status.failed, 0);
    const deadline = valueAt(job, ['spec', 'activeDeadlineSeconds']);
    const active = pods.filter((p) => ['Pending', 'Running'].includes(String(valueAt(p, ['status', 'phase']))));
    if (typeof deadline === 'number' && now - num(status.startTime, now) >= deadline) {
      for (const p of active) {
        this.terminate(
          cluster,
          p,
          'DeadlineExceeded',
          this.waitingOn(cluster, job, p, `the Job's activeDeadlineSeconds (${deadline} s) ran out`),
        );
      }
      return this.finish(cluster, ref, status, 'Failed', JOB.deadline, failed + active.length, active.length);
    }
    for (const p of active.filter((x) => valueAt(x, ['status', 'phase']) === 'Running')) this.step(cluster, job, p);
    const after = ownedBy(
      cluster.list((o) => o.kind === 'Pod' && metadata(o).namespace === ref.namespace),
      job,
    );
    const phase = (p: Obj) => String(valueAt(p, ['status', 'phase']));
    const succeeded = after.filter((p) => phase(p) === 'Succeeded').length;
    const nowFailed = after.filter((p) => phase(p) === 'Failed').length;
    const running = after.filter((p) => ['Pending', 'Running'].includes(phase(p)));
    status.failed = nowFailed;
    status.succeeded = succeeded;
    status.active = running.length;
    if (succeeded > 0) return this.finish(cluster, ref, status, 'Complete', JOB.complete, nowFailed, 0);
    const limit = num(valueAt(job, ['spec', 'backoffLimit']), 6);
    if (nowFailed > limit) return this.finish(cluster, ref, status, 'Failed', JOB.backoff, nowFailed, 0);
    if (running.length === 0) {
      const lastFailure = Math.max(0, ...after.filter((p) => phase(p) === 'Failed').map(finishedAt));
      const delay = nowFailed ? Math.min(JOB.backoffMax, JOB.backoffBase * 2 ** (nowFailed - 1)) : 0;
      if (!nowFailed || now >= lastFailure + delay) {
        const name = `${ref.name}-${(++this.suffix).toString(36).padStart(5, 'x')}`;
        const jobLabels = {
          'batch.kubernetes.io/job-name': ref.name,
          'job-name': ref.name,
          'batch.kubernetes.io/controller-uid': String(metadata(job).uid),
        };
        const template = isObject(valueAt(job, ['spec', 'template'])) ? (valueAt(job, ['spec', 'template']) as JsonObject) : {};
        const refused = this.pods.create(cluster, { name, namespace: ref.namespace, template, owner: job, extraLabels: jobLabels });
        if (refused) cluster.log('job-controller', `FailedCreate: Error creating: ${refused}`, ref);
        else status.active = 1;
      }
    }
    putStatus(cluster, job, 'job-controller', status);
  }

  private finish(
    cluster: Cluster,
    ref: Ref,
    status: JsonObject,
    type: 'Complete' | 'Failed',
    why: { reason: string; message: string },
    failed: number,
    killed: number,
  ): void {
    const now = cluster.now;
    const target = type === 'Complete' ? 'SuccessCriteriaMet' : 'FailureTarget';
    let conds = putCondition(readConditions({ status } as Obj), { type: target, status: 'True', ...why }, now);
    conds = putCondition(conds, { type, status: 'True', ...why }, now);
    const next: JsonObject = { ...status, conditions: conds, active: 0, failed, ready: 0 };
    if (type === 'Complete') next.completionTime = now;
    cluster.update(ref, 'job-controller', (o) => void (o.status = next));
    const msg = `${type === 'Complete' ? 'Completed' : why.reason}: ${why.message}${killed ? ` (${killed} running pod(s) terminated)` : ''}`;
    cluster.log('job-controller', msg, ref);
  }

  private terminate(cluster: Cluster, pod: Obj, reason: string, message: string, exitCode = 1): void {
    this.runs.delete(String(metadata(pod).uid));
    cluster.update(refOf(pod), 'kubelet', (o) => {
      const status = isObject(o.status) ? o.status : {};
      o.status = {
        ...status,
        phase: exitCode === 0 ? 'Succeeded' : 'Failed',
        conditions: putCondition(readConditions(o), { type: 'Ready', status: 'False', reason: 'PodCompleted' }, cluster.now),
        containerStatuses: [{ name: 'job', ready: false, state: { terminated: { exitCode, reason, message, finishedAt: cluster.now } } }],
      };
    });
    if (exitCode !== 0) cluster.log('job', `pod ${String(metadata(pod).name)} failed: ${message}`, refOf(pod));
  }

  /** What the running pod was doing when the Job's deadline ended it. */
  private waitingOn(cluster: Cluster, job: Obj, pod: Obj, why: string): string {
    const run = this.runs.get(String(metadata(pod).uid));
    const steps = parseSteps(job);
    if (!run || typeof steps === 'string' || run.index >= steps.length) return why;
    const step = steps[run.index];
    const note = run.note ? ` (${run.note})` : '';
    const waited = cluster.now - run.startedAt;
    return `step ${run.index + 1}/${steps.length} (${describeStep(step)}) was still waiting after ${waited} s${note} when ${why}`;
  }

  /** Run the pod's steps from where it is, as far as they go this tick. */
  private step(cluster: Cluster, job: Obj, pod: Obj): void {
    const uid = String(metadata(pod).uid);
    const steps = parseSteps(job);
    if (typeof steps === 'string') return this.terminate(cluster, pod, 'Error', steps);
    const run = this.runs.get(uid) ?? { index: 0, startedAt: cluster.now, failedProbes: [] };
    this.runs.set(uid, run);
    const ctx: JobContext = {
      cluster,
      job,
      pod,
      sa: podServiceAccount(pod.spec),
      namespace: String(metadata(job).namespace),
      rbac: this.rbac,
    };
    for (let guard = 0; guard < 1000 && run.index < steps.length; guard++) {
      const step = steps[run.index];
      const outcome = runStep(ctx, step, run);
      if (outcome.state === 'wait') {
        run.note = outcome.note;
        return;
      }
      if (outcome.state === 'fail') {
        const where = `step ${run.index + 1}/${steps.length} (${describeStep(step)})`;
        return this.terminate(cluster, pod, 'Error', `${where}: ${outcome.message}`);
      }
      run.index += 1;
      run.startedAt = cluster.now;
      delete run.next;
      delete run.inFlight;
      delete run.rolloutFailures;
      delete run.notStarted;
      delete run.notWaited;
      delete run.tries;
      delete run.nextTryAt;
      delete run.deleted;
      delete run.note;
    }
    if (run.failedProbes.length) return this.terminate(cluster, pod, 'Error', `probes failed: ${run.failedProbes.join('; ')}`);
    this.terminate(cluster, pod, 'Completed', 'all steps done', 0);
  }
}

/** When a pod's container terminated (virtual seconds; 0 while it runs). */
function finishedAt(p: Obj): number {
  const statuses = valueAt(p, ['status', 'containerStatuses']);
  return Array.isArray(statuses) && isObject(statuses[0]) ? num(valueAt(statuses[0], ['state', 'terminated', 'finishedAt']), 0) : 0;
}

const STEP_OPS = new Set<string>([
  'rollout-status',
  'relabel-namespaces',
  'restart',
  'require-endpoint',
  'wait-absent',
  'strip-owner',
  'delete',
  'require-present',
  'wait-job',
  'probe',
] satisfies JobStep['op'][]);

/** The Job's steps; a string says why they cannot be read (the pod then fails, as a broken script would). */
export function parseSteps(job: Obj): JobStep[] | string {
  const raw = annotations(job)[JOB_STEPS_ANNOTATION];
  if (raw === undefined) return [];
  try {
    const v = JSON.parse(raw) as unknown;
    if (!Array.isArray(v) || !v.every((s) => s && typeof s === 'object' && typeof (s as { op?: unknown }).op === 'string'))
      return `${JOB_STEPS_ANNOTATION} is not a JSON array of steps`;
    const unknown = (v as { op: string }[]).find((s) => !STEP_OPS.has(s.op) && s.op !== 'echo');
    if (unknown) return `${JOB_STEPS_ANNOTATION} has a step the twin does not know: ${unknown.op}`;
    // `echo` only prints (renderJobScript): nothing to run.
    return (v as JobInstruction[]).filter((s): s is JobStep => s.op !== 'echo');
  } catch (e) {
    return `${JOB_STEPS_ANNOTATION} is not valid JSON: ${(e as Error).message}`;
  }
}

function check(ctx: JobContext, a: Access): string | undefined {
  if (!ctx.rbac || isAllowed(ctx.cluster, ctx.namespace, ctx.sa, a)) return undefined;
  return forbidden(ctx.namespace, ctx.sa, a);
}

function runStep(ctx: JobContext, step: JobStep, run: StepRun): StepOutcome {
  const { cluster } = ctx;
  const elapsed = cluster.now - run.startedAt;
  switch (step.op) {
    case 'rollout-status': {
      const denied = rolloutAccess(ctx, step.target);
      if (denied) return { state: 'fail', message: denied };
      return rolloutWait(cluster, step.target, elapsed, step.timeoutSeconds);
    }
    case 'relabel-namespaces':
      return relabel(ctx, step);
    case 'restart':
      return restart(ctx, step, run);
    case 'require-endpoint': {
      // A Forbidden `kubectl get endpoints` prints nothing, so the script reports the missing endpoint.
      const denied = check(ctx, { verb: 'get', group: '', resource: 'endpoints', namespace: step.namespace, name: step.service });
      const ep = denied ? undefined : cluster.get({ group: '', kind: 'Endpoints', namespace: step.namespace, name: step.service });
      const names = (Array.isArray(ep?.subsets) ? ep.subsets.filter(isObject) : []).flatMap((s) =>
        (Array.isArray(s.addresses) ? s.addresses.filter(isObject) : []).map((a) => String(valueAt(a, ['targetRef', 'name']) ?? '')),
      );
      if (names.some((n) => n.startsWith(`${step.deployment}-`))) return { state: 'done' };
      return {
        state: 'fail',
        message: `Service ${step.namespace}/${step.service} has no ready endpoint of ${step.deployment}; nothing handed over`,
      };
    }
    case 'wait-absent': {
      const t = resolveResource(cluster, step.resource);
      if (typeof t === 'string') return { state: 'fail', message: t };
      const denied = check(ctx, {
        verb: 'get',
        group: t.group,
        resource: t.plural,
        namespace: t.namespaced ? step.namespace : '',
        name: step.name,
      });
      if (denied) {
        // The script loops `while kubectl get …`: a Forbidden answer ends the loop as if the object were gone.
        cluster.log(`job/${String(metadata(ctx.job).name)}`, `wait-absent passed on a Forbidden answer: ${denied}`, refOf(ctx.job));
        return { state: 'done' };
      }
      if (!cluster.get({ group: t.group, kind: t.kind, namespace: t.namespaced ? step.namespace : '', name: step.name }))
        return { state: 'done' };
      if (elapsed >= step.timeoutSeconds)
        return { state: 'fail', message: `${step.resource} ${step.namespace}/${step.name} is still there after ${step.timeoutSeconds} s` };
      return { state: 'wait', note: `${step.resource} ${step.namespace}/${step.name} still exists` };
    }
    case 'strip-owner':
      return strip(ctx, step);
    case 'delete': {
      const t = resolveResource(cluster, step.resource);
      if (typeof t === 'string') return { state: 'fail', message: t };
      const ref = { group: t.group, kind: t.kind, namespace: t.namespaced ? step.namespace : '', name: step.name };
      if (!run.deleted) {
        const denied = check(ctx, { verb: 'delete', group: t.group, resource: t.plural, namespace: ref.namespace, name: step.name });
        if (denied) return { state: 'fail', message: denied };
        run.deleted = true;
        if (cluster.get(ref) && !isTerminating(cluster.get(ref)!)) cluster.delete(ref, `job/${metadata(ctx.job).name}`);
      }
      if (!cluster.get(ref)) return { state: 'done' };
      // `--wait` gets the object and, while it is still there (a finalizer runs), lists and watches it by name:
      // kubernetes/kubectl@v0.32.9 pkg/cmd/wait/delete.go:45, 80-93. Without those verbs the wait fails Forbidden.
      for (const verb of ['get', 'list', 'watch']) {
        const denied = check(ctx, { verb, group: t.group, resource: t.plural, namespace: ref.namespace, name: step.name });
        if (denied) return { state: 'fail', message: denied };
      }
      if (elapsed >= step.timeoutSeconds)
        return { state: 'fail', message: `error: timed out waiting for the condition on ${t.plural}/${step.name}` };
      return { state: 'wait', note: `${t.kind} ${step.namespace}/${step.name} is terminating` };
    }
    case 'require-present': {
      const t = resolveResource(cluster, step.resource);
      if (typeof t === 'string') return { state: 'fail', message: t };
      const denied = check(ctx, {
        verb: 'get',
        group: t.group,
        resource: t.plural,
        namespace: t.namespaced ? step.namespace : '',
        name: step.name,
      });
      if (denied) return { state: 'fail', message: denied };
      return cluster.get({ group: t.group, kind: t.kind, namespace: t.namespaced ? step.namespace : '', name: step.name })
        ? { state: 'done' }
        : { state: 'fail', message: step.message };
    }
    case 'wait-job':
      return waitJob(ctx, step, elapsed);
    case 'probe':
      return probe(ctx, step, run);
  }
}

/**
 * The script's loop over `kubectl get job` (lib/job-steps.ts): done once the Job is Complete, failed at once when it
 * Failed or cannot be read (Forbidden), waiting while it runs or is not found, failed after the timeout.
 */
function waitJob(ctx: JobContext, step: Extract<JobStep, { op: 'wait-job' }>, elapsed: number): StepOutcome {
  const job = `job ${step.namespace}/${step.name}`;
  const denied = check(ctx, { verb: 'get', group: 'batch', resource: 'jobs', namespace: step.namespace, name: step.name });
  if (denied) return { state: 'fail', message: `meshfed: cannot read ${job}: ${denied}` };
  const live = ctx.cluster.get({ group: 'batch', kind: 'Job', namespace: step.namespace, name: step.name });
  const done = (type: string) => live !== undefined && readConditions(live).some((c) => c.type === type && c.status === 'True');
  if (done('Complete')) return { state: 'done' };
  if (done('Failed'))
    return { state: 'fail', message: `meshfed: ${job} failed (kubectl logs job/${step.name} -n ${step.namespace}); stopping here` };
  if (elapsed >= step.timeoutSeconds) return { state: 'fail', message: `meshfed: ${job} has not completed after ${step.timeoutSeconds}s` };
  return { state: 'wait', note: live ? `${job} is running` : `${job} not found` };
}

function rolloutAccess(ctx: JobContext, t: WorkloadTarget): string | undefined {
  for (const verb of ['get', 'list', 'watch']) {
    const denied = check(ctx, { verb, group: 'apps', resource: t.resource, namespace: t.namespace, name: t.name });
    if (denied) return denied;
  }
  return undefined;
}

/** A StatefulSet or DaemonSet that replaces pods only when they are deleted. */
function onDelete(cluster: Cluster, t: WorkloadTarget): boolean {
  if (t.resource === 'deployments') return false;
  const w = cluster.get({ group: 'apps', kind: WORKLOAD_KIND[t.resource], namespace: t.namespace, name: t.name });
  return str(valueAt(w?.spec, ['updateStrategy', 'type'])) === 'OnDelete';
}

function rolloutWait(cluster: Cluster, t: WorkloadTarget, elapsed: number, timeout: number): StepOutcome {
  const s = rolloutStatus(cluster, t);
  if (s.error) return { state: 'fail', message: s.error };
  if (s.done) return { state: 'done' };
  if (elapsed >= timeout) return { state: 'fail', message: `error: timed out waiting for the condition (${s.message})` };
  return { state: 'wait', note: s.message };
}

function relabel(ctx: JobContext, step: Extract<JobStep, { op: 'relabel-namespaces' }>): StepOutcome {
  const { cluster } = ctx;
  const nsRef = (name: string): Ref => ({ group: '', kind: 'Namespace', namespace: '', name });
  const write = (name: string, mutate: (l: Record<string, string>) => void): string | undefined => {
    for (const verb of ['get', 'patch']) {
      const denied = check(ctx, { verb, group: '', resource: 'namespaces', namespace: '', name });
      if (denied) return denied;
    }
    if (!cluster.get(nsRef(name))) return `Error from server (NotFound): namespaces "${name}" not found`;
    cluster.update(nsRef(name), step.fieldManager, (o) => {
      const meta = metadata(o);
      const l = { ...(isObject(meta.labels) ? (meta.labels as Record<string, string>) : {}) };
      mutate(l);
      meta.labels = l;
      o.metadata = meta;
    });
    return undefined;
  };
  for (const ns of step.ignoreOnly) {
    const err = write(ns, (l) => void (l['maistra.io/ignore-namespace'] = 'true'));
    if (err) return { state: 'fail', message: err };
  }
  for (const ns of step.namespaces) {
    const err = write(ns, (l) => {
      for (const k of step.remove) delete l[k];
      Object.assign(l, step.set);
    });
    if (err) return { state: 'fail', message: err };
    const live = labels(cluster.get(nsRef(ns))!);
    const left = step.remove.find((k) => live[k] !== undefined);
    if (left)
      return {
        state: 'fail',
        message: `namespace ${ns} still has label ${left}: its pods would restart without an OSSM 3 sidecar; nothing restarted`,
      };
  }
  return { state: 'done' };
}

/**
 * The script's wait for the oldest rollout in flight: its `--timeout` is what is left of the timeout since the
 * workload's patch (lib/job-steps.ts settle), so the wait fails once the rollout has taken longer than that from its patch.
 */
function awaitOldest(ctx: JobContext, w: WorkloadTarget, patchedAt: number, timeoutSeconds: number): StepOutcome {
  const { cluster } = ctx;
  const denied = rolloutAccess(ctx, w);
  if (denied) return { state: 'fail', message: denied };
  // The script reads the strategy first and does not wait for an OnDelete workload (lib/job-steps.ts).
  if (onDelete(cluster, w)) return { state: 'done' };
  return rolloutWait(cluster, w, cluster.now - patchedAt, timeoutSeconds);
}

/**
 * The script's read and patch of one workload: the reason it cannot read or patch it, '' once patched, or undefined
 * when it no longer exists (skipped).
 */
function patchWorkload(ctx: JobContext, step: Extract<JobStep, { op: 'restart' }>, w: WorkloadTarget): string | undefined {
  const { cluster } = ctx;
  const ref = { group: 'apps', kind: WORKLOAD_KIND[w.resource], namespace: w.namespace, name: w.name };
  const id = `${w.namespace}/${w.resource}/${w.name}`;
  const denied = check(ctx, { verb: 'get', group: 'apps', resource: w.resource, namespace: w.namespace, name: w.name });
  if (denied) return `meshfed: cannot read ${id}: ${denied}`;
  if (!cluster.get(ref)) return undefined;
  const noPatch = check(ctx, { verb: 'patch', group: 'apps', resource: w.resource, namespace: w.namespace, name: w.name });
  if (noPatch) return `meshfed: cannot patch ${id}: ${noPatch}`;
  cluster.update(ref, step.fieldManager, (o) => {
    const tmeta = valueAt(o, ['spec', 'template', 'metadata']);
    const meta: JsonObject = isObject(tmeta) ? tmeta : {};
    meta.annotations = { ...(isObject(meta.annotations) ? meta.annotations : {}), [step.annotation]: step.value };
    const spec = isObject(o.spec) ? o.spec : {};
    spec.template = { ...(isObject(spec.template) ? spec.template : {}), metadata: meta };
    o.spec = spec;
  });
  return '';
}

/**
 * The script's restart (lib/job-steps.ts restartFunctions): before each patch, wait for the oldest rollout in flight
 * until fewer than maxConcurrent are; patch (skipping a missing workload); at the end wait for every rollout. After a
 * failed rollout nothing more is patched and no other rollout is waited for (the rest are named).
 */
function restart(ctx: JobContext, step: Extract<JobStep, { op: 'restart' }>, run: StepRun): StepOutcome {
  const { cluster } = ctx;
  const limit = step.maxConcurrent ?? step.workloads.length + 1;
  if (run.next === undefined) {
    run.next = 0;
    run.inFlight = [];
    run.rolloutFailures = [];
    run.notStarted = [];
    run.notWaited = [];
  }
  const inFlight = run.inFlight!;
  for (;;) {
    const more = run.next < step.workloads.length;
    // The script's settle: before a patch while maxConcurrent are in flight (no patch follows a failure), and at the end.
    if (inFlight.length > 0 && (!more || (run.rolloutFailures!.length === 0 && inFlight.length >= limit))) {
      const { w, patchedAt } = inFlight[0];
      // After a failed rollout the script waits for none of the rest: it names them (--watch=false).
      if (run.rolloutFailures!.length) {
        run.notWaited!.push(`${w.namespace}/${w.resource}/${w.name}`);
        inFlight.shift();
        continue;
      }
      const outcome = awaitOldest(ctx, w, patchedAt, step.timeoutSeconds);
      if (outcome.state === 'wait') return outcome;
      if (outcome.state === 'fail') run.rolloutFailures!.push(`${w.namespace}/${w.resource}/${w.name}: ${outcome.message}`);
      inFlight.shift();
      continue;
    }
    if (!more) break;
    const w = step.workloads[run.next];
    run.next += 1;
    if (run.rolloutFailures!.length) {
      run.notStarted!.push(`${w.namespace}/${w.resource}/${w.name}`);
      continue;
    }
    // A workload the script cannot read or patch fails the step as a failed rollout does: nothing more is patched,
    // and the lists are printed (lib/job-steps.ts restart).
    const refused = patchWorkload(ctx, step, w);
    if (refused) {
      run.rolloutFailures!.push(refused);
      run.notStarted!.push(`${w.namespace}/${w.resource}/${w.name}`);
      continue;
    }
    if (refused === undefined) continue;
    inFlight.push({ w, patchedAt: cluster.now });
  }
  const failures = run.rolloutFailures!;
  if (!failures.length) return { state: 'done' };
  const notStarted = run.notStarted!.length ? `; not restarted, after a rollout failed: ${run.notStarted!.join(' ')}` : '';
  const notWaited = run.notWaited!.length ? `; restarted, rollout not waited for after a rollout failed: ${run.notWaited!.join(' ')}` : '';
  return { state: 'fail', message: failures.join('; ') + notStarted + notWaited };
}

/** Remove the owner labels and references, then check the labels are gone (a missing object passes, as the script's checks do). */
function strip(ctx: JobContext, step: Extract<JobStep, { op: 'strip-owner' }>): StepOutcome {
  const { cluster } = ctx;
  const t = resolveResource(cluster, step.resource);
  if (typeof t === 'string') return { state: 'fail', message: t };
  const ref = { group: t.group, kind: t.kind, namespace: t.namespaced ? step.namespace : '', name: step.name };
  const may = (verb: string) => !check(ctx, { verb, group: t.group, resource: t.plural, namespace: ref.namespace, name: step.name });
  const live = may('get') ? cluster.get(ref) : undefined;
  if (!live) return { state: 'done' };
  if (may('patch')) {
    cluster.update(ref, `job/${metadata(ctx.job).name}`, (o) => {
      const meta = metadata(o);
      const l = { ...(isObject(meta.labels) ? (meta.labels as Record<string, string>) : {}) };
      for (const k of step.labels) delete l[k];
      meta.labels = l;
      delete meta.ownerReferences;
      o.metadata = meta;
    });
  } else if (ownerReferences(live).length) {
    return {
      state: 'fail',
      message: check(ctx, { verb: 'patch', group: t.group, resource: t.plural, namespace: ref.namespace, name: step.name })!,
    };
  }
  const after = labels(cluster.get(ref)!);
  const left = step.labels.find((k) => after[k] !== undefined);
  if (left)
    return {
      state: 'fail',
      message: `${step.resource} ${step.namespace}/${step.name} still has label ${left}: the SMCP deletion would prune it; nothing deleted`,
    };
  return { state: 'done' };
}

/**
 * A coarse model of `kubectl exec deploy/<d> -- curl <url>`: a try passes when the Deployment has a Ready
 * pod and the URL's host names a Service that exists (`name`, `name.ns`, `name.ns.svc[.cluster.local]`) or is
 * a host of a ServiceEntry. No packets, policies or proxies are simulated. Each try takes `intervalSeconds`.
 */
function probe(ctx: JobContext, step: Extract<JobStep, { op: 'probe' }>, run: StepRun): StepOutcome {
  const { cluster } = ctx;
  if (run.nextTryAt !== undefined && cluster.now < run.nextTryAt) return { state: 'wait', note: `probe ${step.url}` };
  const accesses: Access[] = [
    { verb: 'get', group: 'apps', resource: 'deployments', namespace: step.namespace, name: step.deployment },
    { verb: 'list', group: '', resource: 'pods', namespace: step.namespace },
    { verb: 'create', group: '', resource: 'pods/exec', namespace: step.namespace },
  ];
  const why = accesses.map((a) => check(ctx, a)).find((x) => x !== undefined) ?? probeFailure(cluster, step);
  if (!why) return { state: 'done' };
  run.tries = (run.tries ?? 0) + 1;
  if (run.tries >= step.tries) {
    run.failedProbes.push(`${step.namespace}/${step.deployment} -> ${step.url}: ${why}`);
    return { state: 'done' };
  }
  run.nextTryAt = cluster.now + Math.max(1, step.intervalSeconds);
  return { state: 'wait', note: why };
}

function probeFailure(cluster: Cluster, step: Extract<JobStep, { op: 'probe' }>): string | undefined {
  const d = cluster.get({ group: 'apps', kind: 'Deployment', namespace: step.namespace, name: step.deployment });
  if (!d) return `deployments.apps "${step.deployment}" not found`;
  const pods = ownedBy(
    cluster.list((o) => o.kind === 'Pod' && metadata(o).namespace === step.namespace),
    d,
  );
  if (!pods.some(isPodReady)) return `deployment ${step.deployment} has no Ready pod`;
  let host: string;
  try {
    host = new URL(step.url).hostname;
  } catch {
    return `invalid URL ${step.url}`;
  }
  if (hostResolves(cluster, host, step.namespace)) return undefined;
  return `curl: (6) Could not resolve host: ${host}`;
}

function hostResolves(cluster: Cluster, host: string, from: string): boolean {
  const parts = host.split('.');
  const service = (name: string, ns: string) => !!cluster.get({ group: '', kind: 'Service', namespace: ns, name });
  const suffix = parts.slice(2).join('.');
  if (parts.length === 1 && service(parts[0], from)) return true;
  if (parts.length >= 2 && ['', 'svc', 'svc.cluster.local'].includes(suffix) && service(parts[0], parts[1])) return true;
  return cluster
    .list((o) => o.kind === 'ServiceEntry' && splitApiVersion(String(o.apiVersion))[0] === 'networking.istio.io')
    .some((se) => {
      const hosts = valueAt(se, ['spec', 'hosts']);
      return (
        Array.isArray(hosts) && hosts.some((h) => h === host || (typeof h === 'string' && h.startsWith('*.') && host.endsWith(h.slice(1))))
      );
    });
}

/**
 * Why a Job failed, from its condition and its last failed pod's termination message (which names the step
 * and what it waited for); undefined while it has not failed.
 */
export function jobFailure(cluster: Cluster, job: Ref): string | undefined {
  const j = cluster.get(job);
  const failed = j && readConditions(j).find((c) => c.type === 'Failed' && c.status === 'True');
  if (!j || !failed) return undefined;
  const pods = ownedBy(
    cluster.list((o) => o.kind === 'Pod' && metadata(o).namespace === job.namespace),
    j,
  ).filter((p) => valueAt(p, ['status', 'phase']) === 'Failed');
  pods.sort((a, b) => finishedAt(a) - finishedAt(b));
  const last = pods[pods.length - 1];
  const statuses = last ? valueAt(last, ['status', 'containerStatuses']) : undefined;
  const term = Array.isArray(statuses) && isObject(statuses[0]) ? valueAt(statuses[0], ['state', 'terminated', 'message']) : undefined;
  return `${String(failed.reason)}: ${String(failed.message)}${term ? ` — ${String(term)}` : ''}`;
}

// ---------------------------------------------------------------------------------------------------------
// The controller the Cluster runs
// ---------------------------------------------------------------------------------------------------------

export interface KubeOptions {
  /** Nodes each DaemonSet schedules a pod on (default 1). */
  readonly nodes?: number;
  /** Check each Job step against the Job's RBAC (default true). */
  readonly rbac?: boolean;
}

/** Kubernetes' controllers, in the order one tick runs them. */
export class KubeControllers implements Controller {
  readonly name = 'kube';
  private readonly pods = new PodFactory();
  private readonly workloads: Workloads;
  private readonly endpoints = new EndpointsController();
  private readonly jobs: JobController;

  constructor(opts: KubeOptions = {}) {
    this.workloads = new Workloads(this.pods, opts.nodes ?? 1);
    this.jobs = new JobController(this.pods, opts.rbac ?? true);
  }

  reconcile(cluster: Cluster): void {
    ensureDefaultServiceAccounts(cluster, cluster.list());
    startPods(
      cluster,
      cluster.list((o) => o.kind === 'Pod'),
    );
    this.workloads.reconcile(cluster, cluster.list());
    this.endpoints.reconcile(cluster, cluster.list());
    syncBudgets(cluster, cluster.list());
    this.jobs.reconcile(cluster, cluster.list());
  }
}
