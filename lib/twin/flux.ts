/**
 * Flux's kustomize-controller (with the little of source-controller it needs) reconciling the
 * Kustomizations of a render on a simulated `Cluster`, the way fluxcd/kustomize-controller v1.7–v1.9
 * does it (sources read at fluxcd/kustomize-controller@186fb3b, fluxcd/pkg@e2cfd1a, fluxcd/cli-utils@967855f;
 * "kc:" below is kustomize-controller@186fb3b:internal/controller/kustomization_controller.go, "ssa/" is
 * fluxcd/pkg@e2cfd1a:ssa/).
 *
 * The controller runs inside the cluster's clock: it is one of the cluster's controllers, stepped every
 * tick (5 s, the health check poll interval, kc:1062), so operators, Jobs and every Kustomization progress
 * side by side as they do under Flux (all Kustomizations of a source reconcile concurrently; kc's manager
 * runs 4 at once, the twin any number). Each reconciliation is a generator that yields while it waits
 * (staged apply, health checks, force-recreation, termination), so a Kustomization in a health check keeps
 * its later revision waiting exactly as a controller-runtime worker does.
 *
 * A pointer move is `reconcile(repo, deliveryDir)`: a new commit of the GitOps repository. The durable
 * state (inventory, last applied revision, conditions) lives on the Kustomization objects' status, as in
 * Flux, so a `Flux` over a cluster that another `Flux` reconciled resumes from it (like a controller restart:
 * health checks in flight are lost). To rehearse a revision arriving while a health check runs, keep the
 * same `Flux` (and cluster) between the two `reconcile` calls and give the first a short horizon.
 *
 * Not modelled (a Kustomization using them fails with a message saying so): post-build substitution,
 * SOPS decryption, targetNamespace/namePrefix/nameSuffix/patches/images/components/commonMetadata,
 * kubeConfig and impersonation, drift-ignore rules, dependsOn readyExpr. Also not modelled: the
 * source-controller's fetch delay (a commit is an artifact at once), interval jitter, the controller's
 * exponential back-off on finalizer errors (retryInterval is used), custom stage kinds.
 */
import { loadAll } from 'js-yaml';

import { Cluster, TICK_SECONDS } from './cluster';
import { buildKustomization, isObject, KustomizeError, splitApiVersion } from './kustomize';
import {
  annotations,
  FLUX_NAME_LABEL,
  FLUX_NAMESPACE_LABEL,
  FLUX_PRUNE,
  FLUX_SSA,
  keyOf,
  label,
  labels,
  metadata,
  Obj,
  Ref,
  refKey,
  refOf,
} from './objects';
import { FileTree, normalize } from './tree';
import { EngineFailure, EngineResult, EngineStep, FluxHealth, FluxStatus, HealthCheckExpr } from './types';
import { Json, JsonObject } from '../load/yaml-source';
import { compareStrings } from '../sort';

/** The field manager of every apply (kustomize-controller@186fb3b:main.go:62 controllerName; kc:458-461). */
export const FLUX_FIELD_MANAGER = 'kustomize-controller';
/** Who writes the Kustomization's status and finalizer (main.go:373 `gotk-<controllerName>`). */
const STATUS_MANAGER = 'gotk-kustomize-controller';
const SOURCE_CONTROLLER = 'source-controller';
/** The manual steps the render's comments give (`kubectl apply -k dist/flux/<c>`, then the bootstrap file). */
const KUBECTL = 'kubectl';
/** Flux's own installation (flux install / OLM): its namespace exists before any Kustomization. */
const FLUX_INSTALL = 'flux-install';

const GROUP = 'kustomize.toolkit.fluxcd.io';
const SOURCE_GROUP = 'source.toolkit.fluxcd.io';
/** api/v1/kustomization_types.go:29 KustomizationFinalizer. */
const FINALIZER = 'finalizers.fluxcd.io';
/** main.go:115 `--requeue-dependency` default. */
const DEPENDENCY_REQUEUE_SECONDS = 30;
/** ssa/manager_apply.go:111-118 DefaultApplyOptions: the staged apply waits 60 s for CRDs/Namespaces/classes. */
const STAGE_WAIT_SECONDS = 60;
/** api/v1/kustomization_types.go:383-392 GetTimeout: never under 30 s. */
const MIN_TIMEOUT_SECONDS = 30;
/** Six virtual hours: a move that is not Ready by then is reported (twin-design.md "Scenarios and verdicts"). */
const DEFAULT_HORIZON_SECONDS = 6 * 3600;

export interface FluxOptions {
  /** How long `reconcile` and `deleteKustomization` wait for Flux to settle. @default 21600 (6 virtual hours) */
  readonly horizonSeconds?: number;
  /**
   * The feature gate `CancelHealthCheckOnNewRevision` (opt-in, off by default in v1.7.0–v1.9.x:
   * kustomize-controller@v1.7.0:internal/features/features.go:63-70, 95-97; @186fb3b:features.go:50-57, 94-96).
   * @default false
   */
  readonly cancelHealthCheckOnNewRevision?: boolean;
}

/** How Flux judges one live object: kstatus plus the Kustomization's healthCheckExprs (health.ts fluxHealth). */
export type FluxHealthOf = (obj: Obj, exprs: readonly HealthCheckExpr[]) => FluxHealth;

type DeletionPolicy = 'MirrorPrune' | 'Delete' | 'WaitForTermination' | 'Orphan';

interface KsSpec {
  readonly path: string;
  readonly prune: boolean;
  readonly wait: boolean;
  readonly suspend: boolean;
  readonly force: boolean;
  readonly interval: number;
  readonly retryInterval: number;
  readonly timeout: number;
  readonly deletionPolicy: DeletionPolicy;
  readonly sourceRef: Ref;
  readonly dependsOn: readonly { readonly namespace: string; readonly name: string }[];
  readonly healthChecks: readonly Ref[];
  readonly healthCheckExprs: readonly HealthCheckExpr[];
}

/** One inventory entry: an object's identity and the version it was applied in (kc:480-490, internal/inventory). */
interface Entry {
  readonly ref: Ref;
  readonly version: string;
}

type Action = 'Created' | 'Configured' | 'Unchanged' | 'Skipped';

interface Change extends Entry {
  readonly action: Action;
}

/** Where a running reconciliation is: a health check can be cancelled, the other waits cannot. */
type Phase = 'apply' | 'health' | 'finalize';

interface Outcome {
  readonly ok: boolean;
  readonly revision: number;
  readonly stage?: string;
  readonly reason?: string;
  readonly object?: Ref;
  readonly kind?: EngineFailure['kind'];
}

interface Queued {
  readonly why: 'created' | 'generation' | 'revision' | 'timer';
  readonly at: number;
  /** Set when the trigger arrived during a health check: it waits for that check (kc's worker is busy). */
  readonly behind?: string;
}

interface Run {
  readonly gen: Generator<Phase, void, void>;
  phase: Phase;
}

interface KsState {
  seenGeneration?: number;
  seenRevision?: number;
  queued?: Queued;
  nextRun?: number;
  /** After a failed finalizer, when it runs again. */
  finalizeAfter?: number;
  run?: Run;
  last?: Outcome;
}

interface Block {
  readonly ks: Ref;
  readonly seconds: number;
  readonly behind: string;
}

export class Flux {
  private readonly states = new Map<string, KsState>();
  /** Per GitRepository key, the revision of its artifact. */
  private readonly artifacts = new Map<string, number>();
  private repo: FileTree | undefined;
  private revision: number | undefined;
  private steps: { at: number; step: Omit<EngineStep, 't'> }[] = [];
  private deleted: { at: number; by: string; ref: Ref }[] = [];
  private blocks: Block[] = [];
  private lastChange = 0;
  private seenEvents = 0;
  private readonly horizon: number;
  private readonly cancelOnNewRevision: boolean;

  /** Registers the controller on `cluster`: from now on every tick of its clock runs Flux too. */
  constructor(
    private readonly cluster: Cluster,
    private readonly health: FluxHealthOf,
    opts: FluxOptions = {},
  ) {
    this.horizon = opts.horizonSeconds ?? DEFAULT_HORIZON_SECONDS;
    this.cancelOnNewRevision = opts.cancelHealthCheckOnNewRevision ?? false;
    cluster.controllers.push({ name: FLUX_FIELD_MANAGER, reconcile: () => this.tick() });
  }

  /**
   * A new commit of the GitOps repository `repo` (the repository root: Kustomization paths are relative to it),
   * whose `deliveryDir` (e.g. `dist/flux/east`) holds the cluster's GitRepository and Kustomizations. The first
   * time, the objects are applied by hand as the render's comments say (`kubectl apply -k <deliveryDir>`, then
   * `<deliveryDir>/../bootstrap-<cluster>.yaml`, the delivery Kustomization that applies `deliveryDir` with
   * prune from then on); without a bootstrap file, by hand at every call. Then Flux runs until every
   * Kustomization of `deliveryDir` (and the delivery) has applied this revision and is Ready, or until
   * nothing can change any more (no object changed for two full attempts, timeout plus retry interval, of the
   * slowest Kustomization), or the horizon. `horizonSeconds` overrides the option for this call: a short one
   * leaves a health check running, so that the next call (a fix or a rollback pushed meanwhile) meets it.
   * The same tree again is an empty commit: every object is re-applied, as at each interval, so steps with
   * `configured` then show drift that an operator and Flux fight over.
   */
  reconcile(repo: FileTree, deliveryDir: string, horizonSeconds = this.horizon): EngineResult {
    const t0 = this.cluster.now;
    this.begin(t0);
    this.repo = repo;
    this.revision = (this.revision ?? this.lastRevisionOnCluster()) + 1;
    const dir = normalize(deliveryDir);
    let desired: Obj[];
    try {
      desired = buildKustomization(repo, dir);
    } catch (e) {
      if (!(e instanceof KustomizeError)) throw e;
      return this.result(t0, { stage: 'delivery build', reason: e.message, kind: 'failed' });
    }
    const delivery = readBootstrap(repo, dir);
    if (!delivery || !this.cluster.get(refOf(delivery))) {
      const refused = this.applyByHand([...desired, ...(delivery ? [delivery] : [])]);
      if (refused) return this.result(t0, refused);
    }
    const tracked = [...desired.filter(isKustomization), ...(delivery ? [delivery] : [])];
    const quiet = quietSeconds(tracked);
    for (;;) {
      const unsettled = tracked.filter((k) => !this.settled(k));
      const terminating = this.cluster.list(
        (o) => isKustomization(o) && metadata(o).deletionTimestamp !== undefined && asList(metadata(o).finalizers).includes(FINALIZER),
      );
      if (!unsettled.length && !terminating.length) return this.result(t0);
      const elapsed = this.cluster.now - t0;
      if (elapsed >= horizonSeconds || this.cluster.now - Math.max(this.lastChange, t0) >= quiet)
        return this.result(t0, this.blocking([...unsettled, ...terminating], delivery));
      this.cluster.tick();
    }
  }

  /**
   * `kubectl delete kustomization <name>`: Flux's finalizer deletes what the deletion policy says
   * (kc:1154-1266), then the object goes. Returns what the finalizer deleted and the steps.
   */
  deleteKustomization(name: string, namespace?: string): { deleted: Ref[]; steps: EngineStep[] } {
    const t0 = this.cluster.now;
    this.begin(t0);
    const k = this.cluster.list(
      (o) => isKustomization(o) && refOf(o).name === name && (namespace === undefined || refOf(o).namespace === namespace),
    )[0];
    if (!k) return { deleted: [], steps: [] };
    const ref = refOf(k);
    this.cluster.delete(ref, KUBECTL);
    while (this.cluster.get(ref) && this.cluster.now - t0 < this.horizon) this.cluster.tick();
    const by = refKey(ref);
    return { deleted: this.deleted.filter((d) => d.by === by).map((d) => d.ref), steps: this.stepsSince(t0) };
  }

  // ---- the controller loop -------------------------------------------------------------------------

  private tick(): void {
    this.noteChanges();
    if (this.repo && this.revision !== undefined) this.sourceController(this.revision);
    // Every Kustomization as the tick starts: those a revision triggers together start from the same specs, as
    // concurrent workers do (the delivery's new phase spec reaches the phase Kustomization as a later event).
    const kss = this.cluster.list(isKustomization);
    const live = new Set(kss.map(keyOf));
    for (const key of [...this.states.keys()]) if (!live.has(key)) this.states.delete(key);
    for (const k of kss) if (this.cluster.get(refOf(k))) this.stepKustomization(k);
  }

  /**
   * When an object last changed (the store's own events: created, updated, deleted…), other than by Flux's
   * and source-controller's status writes; messages controllers log without changing anything do not count.
   */
  private noteChanges(): void {
    const events = this.cluster.events;
    for (; this.seenEvents < events.length; this.seenEvents++) {
      const e = events[this.seenEvents];
      const change =
        e.message === 'created' || e.message === 'updated' || e.message.startsWith('deleted') || e.message.startsWith('deletion requested');
      if (change && e.actor !== STATUS_MANAGER && e.actor !== SOURCE_CONTROLLER) this.lastChange = e.t;
    }
  }

  /** source-controller: every GitRepository serves the newest commit as its artifact, Ready at once. */
  private sourceController(revision: number): void {
    for (const g of this.cluster.list((o) => refOf(o).group === SOURCE_GROUP && refOf(o).kind === 'GitRepository')) {
      const ref = refOf(g);
      const generation = metadata(g).generation ?? 1;
      const status = isObject(g.status) ? g.status : {};
      const artifact = isObject(status.artifact) ? status.artifact : {};
      if (artifact.revision !== revisionName(revision) || status.observedGeneration !== generation) {
        this.cluster.update(ref, SOURCE_CONTROLLER, (o) => {
          o.status = {
            observedGeneration: generation,
            artifact: { revision: revisionName(revision) },
            conditions: [condition('Ready', 'True', 'Succeeded', `stored artifact for revision '${revisionName(revision)}'`)],
          };
        });
      }
      this.artifacts.set(refKey(ref), revision);
    }
  }

  private stepKustomization(k: Obj): void {
    const ref = refOf(k);
    const key = refKey(ref);
    let s = this.states.get(key);
    if (!s) this.states.set(key, (s = {}));
    const meta = metadata(k);
    if (meta.deletionTimestamp !== undefined) {
      // kc:169-172: an object under deletion is only finalized, after the reconciliation in flight.
      if (!s.run && asList(meta.finalizers).includes(FINALIZER) && (s.finalizeAfter === undefined || this.cluster.now >= s.finalizeAfter))
        s.run = { gen: this.finalize(ref, s), phase: 'finalize' };
      s.queued = undefined;
    } else {
      const generation = Number(meta.generation ?? 1);
      // kustomization_manager.go:139-157: a new object or a spec change (GenerationChangedPredicate) enqueues it.
      if (s.seenGeneration !== generation) {
        this.enqueue(ref, s, s.seenGeneration === undefined ? 'created' : 'generation');
        s.seenGeneration = generation;
      }
      // kustomization_manager.go:159-174: a new artifact revision of its source enqueues it.
      const revision = this.artifacts.get(refKey(sourceRefOf(k)));
      if (revision !== undefined && s.seenRevision !== revision) {
        this.enqueue(ref, s, 'revision');
        s.seenRevision = revision;
      }
      if (!s.run && s.nextRun !== undefined && this.cluster.now >= s.nextRun) this.enqueue(ref, s, 'timer');
    }
    for (;;) {
      if (!s.run && s.queued) this.start(ref, s, k);
      if (!s.run) break;
      const next = s.run.gen.next();
      if (!next.done) {
        s.run.phase = next.value;
        break;
      }
      s.run = undefined;
    }
  }

  /**
   * A trigger for a Kustomization. While its worker is busy the request waits (controller-runtime runs one
   * reconciliation per object at a time); with CancelHealthCheckOnNewRevision a revision or spec change
   * cancels a running health check instead (kustomization_manager.go:144-157 wraps the reconciler and its
   * watches; fluxcd/pkg@e2cfd1a:runtime/controller/reconciler.go:72-93, 115-150; kc:278-294, 1060-1068).
   */
  private enqueue(ref: Ref, s: KsState, why: Queued['why']): void {
    const now = this.cluster.now;
    if (s.run?.phase === 'health' && why !== 'timer' && this.cancelOnNewRevision) {
      s.run.gen.return();
      s.run = undefined;
      const message = `New reconciliation triggered by ${why === 'revision' ? 'a new source revision' : 'a spec change'}`;
      this.patchStatus(ref, (st) => setCondition(st, 'Ready', 'False', 'HealthCheckCanceled', message));
      this.log({ stage: `${ref.name}: health check`, action: 'wait', object: ref, detail: `health checks canceled: ${message}` });
    }
    if (s.queued) return;
    const behind = s.run?.phase === 'health' && why !== 'timer' ? 'the running health check' : undefined;
    s.queued = { why, at: now, behind };
  }

  private start(ref: Ref, s: KsState, k: Obj): void {
    const q = s.queued!;
    s.queued = undefined;
    if (q.behind && this.cluster.now > q.at) {
      const seconds = this.cluster.now - q.at;
      this.blocks.push({ ks: ref, seconds, behind: q.behind });
      this.log({
        stage: `${ref.name}: queue`,
        action: 'wait',
        object: ref,
        detail: `the ${q.why === 'revision' ? 'new revision' : 'new spec'} waited ${seconds} s behind ${q.behind}`,
      });
    }
    s.run = { gen: this.reconcileOne(ref, s, k), phase: 'apply' };
  }

  // ---- one reconciliation (kc:129-549) --------------------------------------------------------------

  /** `k` is the object as the tick found it: a run reads its spec at its start, like a worker from its cache. */
  private *reconcileOne(ref: Ref, s: KsState, k: Obj): Generator<Phase, void, void> {
    const revision = this.revision!;
    const fail = (
      stage: string,
      reasonCode: string,
      message: string,
      retry: number | undefined,
      object?: Ref,
      kind?: EngineFailure['kind'],
    ) => this.fail(ref, s, { stage, reasonCode, message, retry, object, kind: kind ?? 'failed', revision });
    // kc:174-181: the finalizer first, then the object is requeued (here: the same run goes on).
    this.cluster.update(ref, STATUS_MANAGER, (o) => {
      const finalizers = asList(metadata(o).finalizers);
      if (!finalizers.includes(FINALIZER)) metadata(o).finalizers = [...finalizers, FINALIZER];
    });
    const parsed = parseSpec(k);
    if (typeof parsed === 'string') return void fail('spec', 'TwinUnsupported', parsed, undefined);
    const spec = parsed;
    // kc:183-187: a suspended Kustomization applies nothing, collects nothing and is not requeued.
    if (spec.suspend) return void (s.nextRun = undefined);
    // kc:212-221: the source must exist; retried at retryInterval.
    const source = this.cluster.get(spec.sourceRef);
    if (!source || !this.repo) {
      const r = spec.sourceRef;
      return void fail('source', 'ArtifactFailed', `Source '${r.kind}/${r.namespace}/${r.name}' not found`, spec.retryInterval, r, 'hangs');
    }
    // kc:244-263, 551-630: every dependency Ready at this generation and, on the same source, at this revision.
    for (const dep of spec.dependsOn) {
      const why = this.dependencyNotReady(dep, spec);
      if (why) return void fail('dependencies', 'DependencyNotReady', why, DEPENDENCY_REQUEUE_SECONDS, undefined, 'hangs');
    }
    this.patchStatus(ref, (st) => {
      setCondition(st, 'Ready', 'Unknown', 'Progressing', 'Reconciliation in progress');
      setCondition(st, 'Reconciling', 'True', 'Progressing', `Fetching manifests for revision ${revisionName(revision)}`);
    });
    // kc:370-381: the path must exist in the artifact.
    if (!this.repo.isDir(spec.path))
      return void fail('build', 'ArtifactFailed', `kustomization path not found: ${spec.path || '.'}`, spec.retryInterval);
    this.patchStatus(ref, (st) => void (st.lastAttemptedRevision = revisionName(revision)));
    let objects: Obj[];
    try {
      objects = buildKustomization(this.repo, spec.path);
    } catch (e) {
      if (!(e instanceof KustomizeError)) throw e;
      return void fail('build', 'BuildFailed', e.message, spec.retryInterval);
    }
    // kc:462 SetOwnerLabels (ssa/manager.go:66-78).
    objects = objects.map((o) => withOwnerLabels(o, ref));
    const applied = yield* this.applyStaged(ref, spec, objects);
    if (applied.error) {
      // kc:473-478: a failed apply keeps the old inventory and collects nothing.
      return void fail(applied.stage!, 'ReconciliationFailed', applied.error, spec.retryInterval, applied.object);
    }
    // kc:480-498: the new inventory is what was applied (skipped objects included); stale = old − new.
    const self = this.cluster.get(ref);
    if (!self) return;
    const before = inventoryOf(self);
    const after = applied.changes.map((c) => ({ ref: c.ref, version: c.version }));
    const keep = new Set(after.map((e) => refKey(e.ref)));
    const stale = before.filter((e) => !keep.has(refKey(e.ref)));
    this.patchStatus(ref, (st) => void (st.inventory = inventoryStatus(after)));
    // kc:500-509, 1095-1125: garbage collection when prune is on; deletes that fail stay in the inventory.
    if (spec.prune && stale.length) {
      const gc = this.deleteObjects(ref, stale, 'garbage collection');
      if (gc.error) {
        this.patchStatus(ref, (st) => void (st.inventory = inventoryStatus([...after, ...gc.survivors])));
        return void fail('garbage collection', 'PruneFailed', gc.error, spec.retryInterval);
      }
    }
    // kc:997-1087: health of what was applied (wait) or of spec.healthChecks, within spec.timeout.
    const toCheck = (spec.wait ? applied.changes.filter((c) => c.action !== 'Skipped').map((c) => c.ref) : spec.healthChecks).filter(
      (r) => !(r.group === GROUP && r.kind === 'Kustomization' && r.name === ref.name && r.namespace === ref.namespace),
    );
    if (toCheck.length) {
      this.patchStatus(ref, (st) => {
        const message = `Running health checks for revision ${revisionName(revision)} with a timeout of ${goDuration(spec.timeout)}`;
        setCondition(st, 'Reconciling', 'True', 'Progressing', message);
        setCondition(st, 'Healthy', 'Unknown', 'Progressing', message);
      });
      this.log({
        stage: `${ref.name}: health check`,
        action: 'wait',
        object: ref,
        detail: `${toCheck.length} objects, timeout ${goDuration(spec.timeout)}`,
      });
      const started = this.cluster.now;
      // kc:1061-1066 with FailFast (main.go:273-276: on unless DisableFailFastBehavior) and the Jobs with a TTL (kc:522).
      const waited = yield* this.waitForSet(toCheck, spec.timeout, spec.healthCheckExprs, true, jobsWithTtl(objects), 'health');
      if (waited.invalid) return void fail('health check', 'InvalidCELExpression', `TerminalError: ${waited.invalid}`, undefined);
      if (waited.error) {
        const message = `health check failed after ${goDuration(this.cluster.now - started)}: ${waited.error}`;
        this.patchStatus(ref, (st) => setCondition(st, 'Healthy', 'False', 'HealthCheckFailed', message));
        return void fail('health check', 'HealthCheckFailed', withDetail(message, waited.detail), spec.retryInterval, waited.object);
      }
      this.log({
        stage: `${ref.name}: health check`,
        action: 'wait',
        object: ref,
        detail: `healthy after ${this.cluster.now - started} s`,
      });
    }
    // kc:533-548 and finalizeStatus kc:1294-1316: Ready at this revision, observedGeneration caught up.
    this.patchStatus(ref, (st, o) => {
      st.lastAppliedRevision = revisionName(revision);
      setCondition(st, 'Ready', 'True', 'ReconciliationSucceeded', `Applied revision: ${revisionName(revision)}`);
      if (toCheck.length) setCondition(st, 'Healthy', 'True', 'Succeeded', 'Health check passed');
      else removeCondition(st, 'Healthy');
      removeCondition(st, 'Reconciling');
      removeCondition(st, 'Stalled');
      st.observedGeneration = Number(metadata(o).generation ?? 1);
    });
    s.last = { ok: true, revision };
    // kc:308-309: the next drift correction at spec.interval (jitter not modelled).
    s.nextRun = this.cluster.now + spec.interval;
  }

  private dependencyNotReady(dep: { namespace: string; name: string }, spec: KsSpec): string | undefined {
    const d = this.cluster.get({ group: GROUP, kind: 'Kustomization', namespace: dep.namespace, name: dep.name });
    const id = `${dep.namespace}/${dep.name}`;
    if (!d) return `dependency '${id}' not found`;
    const st = isObject(d.status) ? d.status : {};
    const conditions = Array.isArray(st.conditions) ? st.conditions.filter(isObject) : [];
    if (!conditions.length || st.observedGeneration !== (metadata(d).generation ?? 1)) return `dependency '${id}' is not ready`;
    if (!conditions.some((c) => c.type === 'Ready' && c.status === 'True')) return `dependency '${id}' is not ready`;
    if (refKey(sourceRefOf(d)) === refKey(spec.sourceRef) && st.lastAppliedRevision !== revisionName(this.revision!))
      return `dependency '${id}' revision is not up to date`;
    return undefined;
  }

  private fail(ref: Ref, s: KsState, f: FailArgs): void {
    this.patchStatus(ref, (st) => {
      setCondition(st, 'Ready', 'False', f.reasonCode, f.message);
      // finalizeStatus kc:1309-1316: a failed run keeps Reconciling, now with retry.
      const rc = conditionsOf(st).find((c) => c.type === 'Reconciling');
      if (rc) rc.reason = 'ProgressingWithRetry';
      if (f.reasonCode === 'TwinUnsupported' || f.reasonCode === 'InvalidCELExpression')
        setCondition(st, 'Stalled', 'True', f.reasonCode, f.message);
    });
    s.last = { ok: false, revision: f.revision, stage: `${ref.name}: ${f.stage}`, reason: f.message, object: f.object, kind: f.kind };
    s.nextRun = f.retry === undefined ? undefined : this.cluster.now + f.retry;
    this.log({ stage: `${ref.name}: ${f.stage}`, action: 'fail', object: f.object ?? ref, detail: f.message });
    this.cluster.log(FLUX_FIELD_MANAGER, f.message, ref);
  }

  // ---- staged server-side apply (ssa/manager_apply.go) ---------------------------------------------

  /**
   * ssa/manager_apply.go:347-420 ApplyAllStaged: CRDs, Namespaces and ClusterRoles first, waited for; then
   * `*Class` kinds, waited for; then everything else. A stage that fails stops the apply.
   */
  private *applyStaged(ks: Ref, spec: KsSpec, objects: Obj[]): Generator<Phase, StagedResult, void> {
    const stages: { name: string; objects: Obj[]; wait: boolean }[] = [
      { name: 'apply stage 1 (CRDs, Namespaces, ClusterRoles)', objects: objects.filter(isClusterDefinition), wait: true },
      { name: 'apply stage 2 (classes)', objects: objects.filter((o) => !isClusterDefinition(o) && isClassDefinition(o)), wait: true },
      { name: 'apply stage 3 (resources)', objects: objects.filter((o) => !isClusterDefinition(o) && !isClassDefinition(o)), wait: false },
    ];
    const changes: Change[] = [];
    for (const stage of stages) {
      if (!stage.objects.length) continue;
      const r = yield* this.applyAll(ks, spec, stage.objects, stage.name);
      changes.push(...r.changes);
      if (r.error) return { changes, error: r.error, object: r.object, stage: stage.name };
      if (stage.wait) {
        const waited = yield* this.waitForSet(
          r.changes.map((c) => c.ref),
          STAGE_WAIT_SECONDS,
          spec.healthCheckExprs,
          false,
          new Set(),
          'apply',
        );
        if (waited.error || waited.invalid)
          return { changes, error: waited.error ?? waited.invalid, object: waited.object, stage: stage.name };
      }
    }
    return { changes };
  }

  /**
   * ssa/manager_apply.go:204-339 ApplyAll: sorted (ssa/sort.go), each object skipped, or dry-run (an immutable
   * field with force: delete, wait until gone, dry-run again), and only when every dry run passed, applied.
   */
  private *applyAll(ks: Ref, spec: KsSpec, objects: Obj[], stage: string): Generator<Phase, StagedResult, void> {
    const changes: Change[] = [];
    const toApply: Obj[] = [];
    const where = `${ks.name}: ${stage}`;
    for (const o of [...objects].sort(compareObjects)) {
      const ref = refOf(o);
      const version = splitApiVersion(String(o.apiVersion))[1];
      const existing = this.cluster.get(ref);
      const skip = skipReason(o, existing);
      if (skip) {
        const source = existing ?? o;
        changes.push({ ref, version: splitApiVersion(String(source.apiVersion))[1], action: 'Skipped' });
        this.log({ stage: where, action: 'apply', object: ref, detail: `skipped: ${skip}` });
        continue;
      }
      let dry = this.cluster.apply(o, { manager: FLUX_FIELD_MANAGER, dryRun: true });
      if (!dry.ok && existing && isImmutableError(dry.reason) && (spec.force || forced(o) || forced(existing))) {
        // ssa/manager_apply.go:258-280 and :519-533: recreate an object whose immutable fields changed.
        this.cluster.delete(ref, FLUX_FIELD_MANAGER, 'Background');
        this.log({ stage: where, action: 'delete', object: ref, detail: `immutable field changed (${dry.reason}): recreating it (force)` });
        while (this.cluster.get(ref)) yield 'apply';
        dry = this.cluster.apply(o, { manager: FLUX_FIELD_MANAGER, dryRun: true });
      }
      // ssa/errors/errors.go DryRunErr.Error: `Kind/ns/name dry-run failed (Reason): message` (the twin's answers carry no Reason).
      if (!dry.ok) return { changes, error: `${fmtRef(ref)} dry-run failed: ${dry.reason}`, object: ref };
      changes.push({ ref, version, action: 'Unchanged' });
      toApply.push(o);
    }
    for (const o of toApply) {
      const ref = refOf(o);
      const existing = this.cluster.get(ref);
      // ssa/manager_apply.go:473-517 cleanupMetadata, with kc:894-945's managers, unless `ssa: Merge`.
      if (existing && !anyInMetadata(o, { [FLUX_SSA]: 'Merge' }) && !anyInMetadata(existing, { [FLUX_SSA]: 'Merge' }))
        for (const m of [KUBECTL, 'before-first-apply']) this.cluster.transferFields(ref, m, FLUX_FIELD_MANAGER);
      const r = this.cluster.apply(o, { manager: FLUX_FIELD_MANAGER });
      if (!r.ok) return { changes, error: `${fmtRef(ref)} apply failed: ${r.reason}`, object: ref };
      const action: Action = r.created ? 'Created' : r.changed ? 'Configured' : 'Unchanged';
      const i = changes.findIndex((c) => refKey(c.ref) === refKey(ref));
      changes[i] = { ...changes[i], action };
      if (action !== 'Unchanged') this.log({ stage: where, action: 'apply', object: ref, detail: action.toLowerCase() });
    }
    return { changes };
  }

  // ---- health (ssa/manager_wait.go) ----------------------------------------------------------------

  /**
   * ssa/manager_wait.go:86-204 WaitForSetWithContext: poll until every object is Current; stop early when
   * only Current and Failed are left, or (FailFast) at the first Failed; else time out. A Job with a TTL
   * that is gone counts as Current (:118-122, :166-175).
   */
  private *waitForSet(
    refs: readonly Ref[],
    timeout: number,
    exprs: readonly HealthCheckExpr[],
    failFast: boolean,
    ttlJobs: ReadonlySet<string>,
    phase: Phase,
  ): Generator<Phase, WaitResult, void> {
    const start = this.cluster.now;
    for (;;) {
      const statuses: { ref: Ref; h: FluxHealth }[] = [];
      for (const ref of refs) {
        const h = this.statusOf(ref, exprs);
        if (typeof h === 'string') return { invalid: h };
        const effective: FluxStatus = h.status === 'NotFound' && ttlJobs.has(refKey(ref)) ? 'Current' : h.status;
        statuses.push({ ref, h: { ...h, status: effective } });
      }
      if (statuses.every((x) => x.h.status === 'Current')) return {};
      const failed = statuses.filter((x) => x.h.status === 'Failed');
      const terminal = statuses.every((x) => x.h.status === 'Current' || x.h.status === 'Failed');
      if ((failFast && failed.length) || terminal) return waitError('failed early due to stalled resources', failed);
      if (this.cluster.now - start >= timeout)
        return waitError(
          'timeout waiting for',
          statuses.filter((x) => x.h.status !== 'Current'),
        );
      yield phase;
    }
  }

  /** kstatus of a live object (NotFound when absent); a string when the health checks themselves are invalid. */
  private statusOf(ref: Ref, exprs: readonly HealthCheckExpr[]): FluxHealth | string {
    const live = this.cluster.get(ref);
    if (!live) return { status: 'NotFound', message: 'Resource not found' };
    try {
      return this.health(live, exprs);
    } catch (e) {
      // kc:189-198: invalid healthCheckExprs are a terminal error (the twin learns it at the first evaluation).
      return (e as Error).message;
    }
  }

  // ---- deletion (ssa/manager_delete.go) ------------------------------------------------------------

  /**
   * kc:1399-1417 deleteObjects → ssa/manager_delete.go:63-120 DeleteAll: in reverse apply order, each object
   * that still carries this Kustomization's owner labels and none of the exclusions is deleted (background
   * propagation). ownerReferences play no part. An object whose kind is no longer served cannot be read:
   * that delete fails and the entry is kept (kc:1127-1152; inference: the client's RESTMapper answers a
   * no-match error, and ssa/manager_delete.go:68-75 only passes over NotFound).
   */
  private deleteObjects(ks: Ref, entries: readonly Entry[], stage: string): { error?: string; survivors: Entry[]; deleted: Entry[] } {
    const errors: string[] = [];
    const survivors: Entry[] = [];
    const deleted: Entry[] = [];
    const where = `${ks.name}: ${stage}`;
    const sorted = [...entries].sort((a, b) => compareRefs(b.ref, a.ref));
    for (const e of sorted) {
      const type = this.cluster.typeOf(e.ref.group, e.ref.kind);
      if (!type || !type.versions.includes(e.version)) {
        const gv = e.ref.group ? `${e.ref.group}/${e.version}` : e.version;
        errors.push(`${fmtRef(e.ref)} query failed: no matches for kind "${e.ref.kind}" in version "${gv}"`);
        survivors.push(e);
        continue;
      }
      const live = this.cluster.get(e.ref);
      if (!live) {
        deleted.push(e);
        continue;
      }
      const l = labels(live);
      if (l[FLUX_NAME_LABEL] !== ks.name || l[FLUX_NAMESPACE_LABEL] !== ks.namespace) {
        const owner = l[FLUX_NAME_LABEL]
          ? `it carries the owner labels of Kustomization ${l[FLUX_NAMESPACE_LABEL]}/${l[FLUX_NAME_LABEL]}`
          : 'it carries no owner labels';
        this.log({ stage: where, action: 'prune-skipped', object: e.ref, detail: owner });
        continue;
      }
      const excluded = exclusion(live);
      if (excluded) {
        this.log({ stage: where, action: 'prune-skipped', object: e.ref, detail: excluded });
        continue;
      }
      this.cluster.delete(e.ref, FLUX_FIELD_MANAGER, 'Background');
      this.deleted.push({ at: this.cluster.now, by: refKey(ks), ref: e.ref });
      this.log({ stage: where, action: 'prune', object: e.ref });
      deleted.push(e);
    }
    return { error: errors.length ? `delete failed, errors: ${errors.join(';')};` : undefined, survivors, deleted };
  }

  /**
   * kc:1154-1266: the finalizer. The inventory is deleted unless the Kustomization is suspended, has no
   * inventory, or its deletionPolicy keeps it (MirrorPrune follows spec.prune; Delete and WaitForTermination
   * delete; Orphan keeps). WaitForTermination then waits up to the timeout; a timeout is only logged.
   */
  private *finalize(ref: Ref, s: KsState): Generator<Phase, void, void> {
    const k = this.cluster.get(ref)!;
    const spec = isObject(k.spec) ? k.spec : {};
    const policy = (typeof spec.deletionPolicy === 'string' && spec.deletionPolicy ? spec.deletionPolicy : 'MirrorPrune') as DeletionPolicy;
    const inventory = inventoryOf(k);
    const shouldDelete =
      spec.suspend !== true &&
      inventory.length > 0 &&
      (policy === 'MirrorPrune' ? spec.prune === true : policy === 'Delete' || policy === 'WaitForTermination');
    const stage = `finalizer (deletionPolicy ${policy})`;
    if (shouldDelete) {
      const r = this.deleteObjects(ref, inventory, stage);
      if (r.error) {
        this.log({
          stage: `${ref.name}: ${stage}`,
          action: 'fail',
          object: ref,
          detail: `pruning for deleted resource failed: ${r.error}`,
        });
        // kc:1224-1229 returns the error: controller-runtime retries with back-off (the twin: at retryInterval).
        s.finalizeAfter = this.cluster.now + durationOr(spec.retryInterval, durationOr(spec.interval, 60));
        return;
      }
      if (policy === 'WaitForTermination' && r.deleted.length) {
        const timeout = timeoutOf(spec);
        const start = this.cluster.now;
        while (r.deleted.some((e) => this.cluster.get(e.ref)) && this.cluster.now - start < timeout) yield 'finalize';
        const left = r.deleted.filter((e) => this.cluster.get(e.ref));
        if (left.length)
          this.log({
            stage: `${ref.name}: ${stage}`,
            action: 'fail',
            object: left[0].ref,
            detail: 'failed to wait for resources termination',
          });
      }
    } else {
      const why = spec.suspend === true ? 'suspended' : inventory.length === 0 ? 'no inventory' : `deletionPolicy ${policy}`;
      this.log({ stage: `${ref.name}: ${stage}`, action: 'delete', object: ref, detail: `keeps its ${inventory.length} objects (${why})` });
    }
    this.cluster.removeFinalizer(ref, STATUS_MANAGER, FINALIZER);
    this.log({ stage: `${ref.name}: ${stage}`, action: 'delete', object: ref, detail: 'finalizer removed' });
  }

  // ---- reporting -----------------------------------------------------------------------------------

  private begin(t0: number): void {
    this.steps = [];
    this.deleted = [];
    this.blocks = [];
    this.noteChanges();
    this.lastChange = t0;
  }

  private log(step: Omit<EngineStep, 't'>): void {
    this.steps.push({ at: this.cluster.now, step });
  }

  private stepsSince(t0: number): EngineStep[] {
    return this.steps.map(({ at, step }) => ({ t: at - t0, ...step }));
  }

  private patchStatus(ref: Ref, mutate: (status: JsonObject, obj: Obj) => void): void {
    this.cluster.update(ref, STATUS_MANAGER, (o) => {
      const st = isObject(o.status) ? o.status : {};
      mutate(st, o);
      o.status = st;
    });
  }

  /** Done: this revision applied, Ready, the spec the delivery folder declares (the delivery may not have applied it yet). */
  private settled(desired: Obj): boolean {
    const ref = refOf(desired);
    const live = this.cluster.get(ref);
    if (!live || metadata(live).deletionTimestamp !== undefined) return false;
    if (!contains(live.spec, desired.spec)) return false;
    const s = this.states.get(refKey(ref));
    if (s?.run || s?.queued) return false;
    if (isObject(live.spec) && live.spec.suspend === true) return true;
    const st = isObject(live.status) ? live.status : {};
    return (
      st.lastAppliedRevision === revisionName(this.revision!) &&
      st.observedGeneration === (metadata(live).generation ?? 1) &&
      conditionsOf(st).some((c) => c.type === 'Ready' && c.status === 'True')
    );
  }

  /** What keeps the move from completing: a Kustomization's failure, else one still running or waiting. */
  private blocking(unsettled: readonly Obj[], delivery: Obj | undefined): EngineFailure {
    // A phase's own failure explains more than the delivery's, which only waits for the phase to be Ready.
    const rank = (k: Obj): number => {
      const last = this.states.get(keyOf(k))?.last;
      const failed = last && !last.ok && last.revision === this.revision;
      return (failed && last.kind === 'failed' ? 0 : failed ? 2 : 4) + (delivery && keyOf(k) === keyOf(delivery) ? 1 : 0);
    };
    const k = [...unsettled].sort((a, b) => rank(a) - rank(b) || compareStrings(keyOf(a), keyOf(b)))[0];
    const ref = refOf(k);
    const s = this.states.get(refKey(ref));
    const live = this.cluster.get(ref);
    if (s?.last && !s.last.ok && s.last.revision === this.revision)
      return { stage: s.last.stage!, object: s.last.object, reason: s.last.reason!, kind: s.last.kind ?? 'failed' };
    if (!live) return { stage: `${ref.name}: delivery`, object: ref, reason: `${label(ref)} was never created`, kind: 'hangs' };
    if (metadata(live).deletionTimestamp !== undefined)
      return { stage: `${ref.name}: finalizer`, object: ref, reason: `${label(ref)} is still terminating`, kind: 'hangs' };
    if (s?.run)
      return {
        stage: `${ref.name}: ${s.run.phase === 'health' ? 'health check' : s.run.phase}`,
        object: ref,
        reason: `still running (${s.run.phase})`,
        kind: 'hangs',
      };
    if (!contains(live.spec, k.spec))
      return {
        stage: `${ref.name}: delivery`,
        object: ref,
        reason: `the delivery never applied this revision's spec of ${label(ref)}`,
        kind: 'hangs',
      };
    return {
      stage: `${ref.name}: reconcile`,
      object: ref,
      reason: `${label(ref)} did not reconcile ${revisionName(this.revision!)}`,
      kind: 'hangs',
    };
  }

  private result(t0: number, failure?: EngineFailure): EngineResult {
    const blocked = this.blocks[0];
    let f = failure;
    if (blocked) {
      const why =
        `the new revision waited ${blocked.seconds} s behind ${blocked.behind} of Kustomization ` +
        `${blocked.ks.namespace}/${blocked.ks.name}: kustomize-controller reconciles a new revision only after a running health ` +
        `check ends (CancelHealthCheckOnNewRevision is off, the default in v1.7-v1.9)`;
      f = f
        ? { ...f, reason: `${f.reason} (and ${why})` }
        : { stage: `${blocked.ks.name}: health check`, object: blocked.ks, reason: why, kind: 'failed' };
    }
    return { engine: 'flux', ok: !f, steps: this.stepsSince(t0), failure: f, seconds: this.cluster.now - t0 };
  }

  // ---- by hand -------------------------------------------------------------------------------------

  /** `kubectl apply -k <deliveryDir>` and `kubectl apply -f bootstrap-<c>.yaml`, into Flux's existing namespaces. */
  private applyByHand(objects: readonly Obj[]): EngineFailure | undefined {
    for (const ns of [...new Set(objects.map((o) => refOf(o).namespace).filter(Boolean))].sort(compareStrings)) {
      if (!this.cluster.get({ group: '', kind: 'Namespace', namespace: '', name: ns }))
        this.cluster.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } }, { manager: FLUX_INSTALL });
    }
    for (const o of objects) {
      const r = this.cluster.apply(o, { manager: KUBECTL });
      if (!r.ok) return { stage: 'bootstrap (kubectl apply)', object: refOf(o), reason: r.reason, kind: 'failed' };
      if (r.changed)
        this.log({ stage: 'bootstrap (kubectl apply)', action: 'apply', object: refOf(o), detail: r.created ? 'created' : 'configured' });
    }
    return undefined;
  }

  private lastRevisionOnCluster(): number {
    let max = 0;
    for (const g of this.cluster.list((o) => refOf(o).group === SOURCE_GROUP && refOf(o).kind === 'GitRepository')) {
      const rev = valueOf(g, ['status', 'artifact', 'revision']);
      const m = typeof rev === 'string' ? /^rev-(\d+)$/.exec(rev) : null;
      if (m) max = Math.max(max, Number(m[1]));
    }
    return max;
  }
}

interface FailArgs {
  readonly stage: string;
  /** The Ready condition's reason (kc: ArtifactFailed, BuildFailed, ReconciliationFailed, PruneFailed, HealthCheckFailed…). */
  readonly reasonCode: string;
  readonly message: string;
  /** Seconds until the next attempt; undefined for a terminal error (only a spec change retries). */
  readonly retry: number | undefined;
  readonly object?: Ref;
  readonly kind: EngineFailure['kind'];
  readonly revision: number;
}

interface StagedResult {
  readonly changes: Change[];
  readonly error?: string;
  readonly object?: Ref;
  readonly stage?: string;
}

interface WaitResult {
  readonly error?: string;
  readonly invalid?: string;
  readonly object?: Ref;
  /** The health messages of the objects named in `error`. */
  readonly detail?: string;
}

// ---- objects and their metadata ---------------------------------------------------------------------

function isKustomization(o: Obj): boolean {
  const r = refOf(o);
  return r.group === GROUP && r.kind === 'Kustomization';
}

/** `rev-N`: the artifact revision of the Nth commit the twin has seen. */
function revisionName(n: number): string {
  return `rev-${n}`;
}

function asList(v: Json | undefined): Json[] {
  return Array.isArray(v) ? v : [];
}

function valueOf(o: Json | undefined, path: readonly string[]): Json | undefined {
  let v = o;
  for (const p of path) v = isObject(v) ? v[p] : undefined;
  return v;
}

/** ssa/utils/meta.go:61-71 AnyInMetadata: a label or annotation with one of the values, case-insensitively. */
function anyInMetadata(o: Obj, selector: Readonly<Record<string, string>>): string | undefined {
  const l = labels(o);
  const a = annotations(o);
  for (const [key, value] of Object.entries(selector)) {
    for (const v of [l[key], a[key]])
      if (typeof v === 'string' && v !== '' && v.toLowerCase() === value.toLowerCase()) return `${key}: ${v}`;
  }
  return undefined;
}

/**
 * ssa/manager_apply.go:535-561 shouldSkipApply with kc:858-866's selectors: `reconcile: disabled` or
 * `ssa: Ignore` on the desired or the live object; `ssa: IfNotPresent` on the desired one when it exists.
 */
function skipReason(desired: Obj, existing: Obj | undefined): string | undefined {
  const exclusion = { [`${GROUP}/reconcile`]: 'disabled', [FLUX_SSA]: 'Ignore' };
  const excluded = anyInMetadata(desired, exclusion) ?? (existing && anyInMetadata(existing, exclusion));
  if (excluded) return excluded;
  const ifNotPresent = anyInMetadata(desired, { [FLUX_SSA]: 'IfNotPresent' });
  return existing && ifNotPresent ? `${ifNotPresent} and the object exists` : undefined;
}

/** kc:1407-1415: what garbage collection and the finalizer never delete. */
function exclusion(live: Obj): string | undefined {
  return anyInMetadata(live, { [FLUX_PRUNE]: 'disabled', [`${GROUP}/reconcile`]: 'disabled', [FLUX_SSA]: 'Ignore' });
}

/** kc:867-869 ForceSelector. */
function forced(o: Obj): boolean {
  return anyInMetadata(o, { [`${GROUP}/force`]: 'enabled' }) !== undefined;
}

/**
 * fluxcd/pkg@e2cfd1a:ssa/errors/immutable.go:32-48 treats Invalid (422) and Conflict answers as immutable
 * errors; of the twin's admission answers, the immutable-field one is that (inference: the twin's other
 * refusals are NotFound or Forbidden answers in Kubernetes).
 */
function isImmutableError(reason: string): boolean {
  return reason.includes('field is immutable');
}

/** ssa/manager.go:66-78 SetOwnerLabels. */
function withOwnerLabels(o: Obj, ks: Ref): Obj {
  const copy = structuredClone(o);
  const meta = isObject(copy.metadata) ? copy.metadata : (copy.metadata = {});
  meta.labels = { ...(isObject(meta.labels) ? meta.labels : {}), [FLUX_NAME_LABEL]: ks.name, [FLUX_NAMESPACE_LABEL]: ks.namespace };
  return copy;
}

/** ssa/utils/is.go:28-50 IsClusterDefinition: CRDs, Namespaces, ClusterRoles. */
function isClusterDefinition(o: Obj): boolean {
  const kind = String(o.kind ?? '').toLowerCase();
  const apiVersion = String(o.apiVersion ?? '');
  return (
    (kind === 'customresourcedefinition' && apiVersion.startsWith('apiextensions.k8s.io/')) ||
    (kind === 'namespace' && apiVersion === 'v1') ||
    (kind === 'clusterrole' && apiVersion.startsWith('rbac.authorization.k8s.io/'))
  );
}

/** ssa/utils/is.go:52-56 IsClassDefinition. */
function isClassDefinition(o: Obj): boolean {
  return String(o.kind ?? '').endsWith('Class');
}

/** fluxcd/pkg@e2cfd1a:ssa/sort.go:36-66 ReconcileOrder. */
const KIND_FIRST = [
  'CustomResourceDefinition',
  'Namespace',
  'ClusterRole',
  'ClusterClass',
  'RuntimeClass',
  'PriorityClass',
  'StorageClass',
  'VolumeSnapshotClass',
  'IngressClass',
  'GatewayClass',
  'ClusterRoleBinding',
  'ResourceQuota',
  'ServiceAccount',
  'Role',
  'RoleBinding',
  'ConfigMap',
  'Secret',
  'Service',
  'LimitRange',
  'Deployment',
  'StatefulSet',
  'CronJob',
  'PodDisruptionBudget',
];
const KIND_LAST = ['MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration'];

/** ssa/sort.go:102-121: listed kinds first (negative), unlisted 0, the webhooks last. */
function kindIndex(kind: string): number {
  const first = KIND_FIRST.indexOf(kind);
  if (first >= 0) return first - KIND_FIRST.length;
  const last = KIND_LAST.indexOf(kind);
  return last >= 0 ? last + 1 : 0;
}

/** ssa/sort.go:90-137: kind order, then group, kind, namespace, name. */
function compareRefs(a: Ref, b: Ref): number {
  return (
    kindIndex(a.kind) - kindIndex(b.kind) ||
    compareStrings(a.group, b.group) ||
    compareStrings(a.kind, b.kind) ||
    compareStrings(a.namespace, b.namespace) ||
    compareStrings(a.name, b.name)
  );
}

function compareObjects(a: Obj, b: Obj): number {
  return compareRefs(refOf(a), refOf(b));
}

/** fluxcd/pkg@e2cfd1a:ssa/utils/fmt.go:30-38 FmtObjMetadata: `Kind/namespace/name`. */
function fmtRef(r: Ref): string {
  return `${r.kind}/${r.namespace ? `${r.namespace}/` : ''}${r.name}`;
}

/** ssa/manager_wait.go:176-196: each listed object as `Kind/ns/name status: 'Status'`. */
function waitError(prefix: string, bad: readonly { ref: Ref; h: FluxHealth }[]): WaitResult {
  const list = bad.map((x) => `${fmtRef(x.ref)} status: '${x.h.status}'`).join(', ');
  const detail = bad
    .filter((x) => x.h.message)
    .map((x) => `${label(x.ref)}: ${x.h.message}`)
    .join('; ');
  return { error: `${prefix}: [${list}]`, object: bad[0]?.ref, detail: detail || undefined };
}

function withDetail(message: string, detail: string | undefined): string {
  return detail ? `${message} (${detail})` : message;
}

/** fluxcd/pkg@e2cfd1a:ssa/utils/job.go:28-41 ExtractJobsWithTTL. */
function jobsWithTtl(objects: readonly Obj[]): Set<string> {
  return new Set(
    objects
      .filter(
        (o) =>
          o.kind === 'Job' &&
          String(o.apiVersion ?? '').startsWith('batch/') &&
          valueOf(o, ['spec', 'ttlSecondsAfterFinished']) !== undefined,
      )
      .map(keyOf),
  );
}

// ---- status ----------------------------------------------------------------------------------------

function condition(type: string, status: string, reason: string, message: string): JsonObject {
  return { type, status, reason, message };
}

function conditionsOf(st: JsonObject): JsonObject[] {
  return Array.isArray(st.conditions) ? st.conditions.filter(isObject) : [];
}

function setCondition(st: JsonObject, type: string, status: string, reason: string, message: string): void {
  st.conditions = [...conditionsOf(st).filter((c) => c.type !== type), condition(type, status, reason, message)].sort((a, b) =>
    compareStrings(String(a.type), String(b.type)),
  );
}

function removeCondition(st: JsonObject, type: string): void {
  st.conditions = conditionsOf(st).filter((c) => c.type !== type);
}

/** status.inventory as Flux writes it: `<namespace>_<name>_<group>_<kind>` and the version (cli-utils ObjMetadata.String). */
function inventoryStatus(entries: readonly Entry[]): JsonObject {
  return {
    entries: [...entries]
      .sort((a, b) => compareRefs(a.ref, b.ref))
      .map((e) => ({ id: `${e.ref.namespace}_${e.ref.name}_${e.ref.group}_${e.ref.kind}`, v: e.version })),
  };
}

function inventoryOf(k: Obj): Entry[] {
  const entries = valueOf(k, ['status', 'inventory', 'entries']);
  if (!Array.isArray(entries)) return [];
  return entries.filter(isObject).map((e) => {
    const [namespace, name, group, kind] = String(e.id).split('_');
    return { ref: { group, kind, namespace, name }, version: String(e.v) };
  });
}

// ---- the Kustomization spec -------------------------------------------------------------------------

/** The spec fields the twin models; any other one with a value is refused (the module comment lists them). */
const MODELLED_FIELDS = new Set([
  'interval',
  'retryInterval',
  'timeout',
  'path',
  'prune',
  'wait',
  'suspend',
  'force',
  'deletionPolicy',
  'sourceRef',
  'dependsOn',
  'healthChecks',
  'healthCheckExprs',
]);

function sourceRefOf(k: Obj): Ref {
  const r = valueOf(k, ['spec', 'sourceRef']);
  const ref = isObject(r) ? r : {};
  return {
    group: SOURCE_GROUP,
    kind: String(ref.kind ?? 'GitRepository'),
    namespace: String(ref.namespace ?? refOf(k).namespace),
    name: String(ref.name ?? ''),
  };
}

/** A Kustomization's spec with Flux's defaults, or why the twin cannot reconcile it. */
function parseSpec(k: Obj): KsSpec | string {
  const spec = isObject(k.spec) ? k.spec : {};
  for (const [key, value] of Object.entries(spec)) {
    const empty = value === null || value === false || value === '' || (Array.isArray(value) && !value.length);
    if (!MODELLED_FIELDS.has(key) && !empty) return `the twin does not model spec.${key} of ${label(refOf(k))}`;
  }
  const interval = parseDuration(spec.interval);
  if (interval === undefined) return `spec.interval of ${label(refOf(k))} is not a duration`;
  const retryInterval = spec.retryInterval === undefined ? interval : parseDuration(spec.retryInterval);
  if (retryInterval === undefined) return `spec.retryInterval of ${label(refOf(k))} is not a duration`;
  const deletionPolicy = String(spec.deletionPolicy || 'MirrorPrune');
  if (!['MirrorPrune', 'Delete', 'WaitForTermination', 'Orphan'].includes(deletionPolicy))
    return `spec.deletionPolicy ${deletionPolicy} of ${label(refOf(k))} is not one of MirrorPrune, Delete, WaitForTermination, Orphan`;
  const dependsOn: { namespace: string; name: string }[] = [];
  for (const d of Array.isArray(spec.dependsOn) ? spec.dependsOn.filter(isObject) : []) {
    if (d.readyExpr) return `the twin does not model spec.dependsOn[].readyExpr of ${label(refOf(k))}`;
    dependsOn.push({ namespace: String(d.namespace ?? refOf(k).namespace), name: String(d.name ?? '') });
  }
  // inventory.ReferenceToObjMetadataSet (internal/inventory/inventory.go:161-180): apps/v1 when unset.
  const healthChecks = (Array.isArray(spec.healthChecks) ? spec.healthChecks.filter(isObject) : []).map((h) => ({
    group: splitApiVersion(String(h.apiVersion ?? 'apps/v1'))[0],
    kind: String(h.kind ?? ''),
    namespace: String(h.namespace ?? ''),
    name: String(h.name ?? ''),
  }));
  return {
    path: normalize(String(spec.path ?? '')),
    prune: spec.prune === true,
    wait: spec.wait === true,
    suspend: spec.suspend === true,
    force: spec.force === true,
    interval,
    retryInterval,
    timeout: timeoutOf(spec),
    deletionPolicy: deletionPolicy as DeletionPolicy,
    sourceRef: sourceRefOf(k),
    dependsOn,
    healthChecks,
    healthCheckExprs: (Array.isArray(spec.healthCheckExprs) ? spec.healthCheckExprs.filter(isObject) : []) as unknown as HealthCheckExpr[],
  };
}

/** api/v1/kustomization_types.go:383-392 GetTimeout: spec.timeout, else interval − 30 s; at least 30 s. */
function timeoutOf(spec: JsonObject): number {
  const interval = parseDuration(spec.interval) ?? 0;
  const timeout = spec.timeout === undefined ? interval - 30 : (parseDuration(spec.timeout) ?? interval - 30);
  return Math.max(timeout, MIN_TIMEOUT_SECONDS);
}

function durationOr(v: Json | undefined, fallback: number): number {
  return parseDuration(v) ?? fallback;
}

/** A Go duration (`1h30m`, `5m`, `90s`, `1m0s`, `500ms`) in seconds. */
export function parseDuration(v: Json | undefined): number | undefined {
  if (typeof v !== 'string' || !/^(\d+(\.\d+)?(h|ms|m|s))+$/.test(v)) return undefined;
  let total = 0;
  for (const [, n, , unit] of v.matchAll(/(\d+(\.\d+)?)(h|ms|m|s)/g))
    total += Number(n) * (unit === 'h' ? 3600 : unit === 'm' ? 60 : unit === 's' ? 1 : 0.001);
  return total;
}

/** Seconds as Go prints a duration: `30m0s`, `1h0m0s`, `45s`. */
export function goDuration(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  if (h) return `${h}h${m}m${s}s`;
  if (m) return `${m}m${s}s`;
  return `${s}s`;
}

/**
 * How long nothing may change before retries are known to be futile: two full attempts (timeout and
 * retry interval) of the slowest Kustomization the move waits for.
 */
function quietSeconds(tracked: readonly Obj[]): number {
  let longest = DEPENDENCY_REQUEUE_SECONDS;
  for (const k of tracked) {
    const spec = isObject(k.spec) ? k.spec : {};
    const interval = parseDuration(spec.interval) ?? 0;
    longest = Math.max(longest, timeoutOf(spec) + durationOr(spec.retryInterval, interval));
  }
  return 2 * longest + 2 * TICK_SECONDS;
}

/** Every field `desired` sets has that value in `live` (maps compared key by key, the rest as a whole). */
function contains(live: Json | undefined, desired: Json | undefined): boolean {
  if (desired === undefined) return true;
  if (isObject(desired)) return isObject(live) && Object.entries(desired).every(([k, v]) => contains(live[k], v));
  return JSON.stringify(live) === JSON.stringify(desired);
}

/** The delivery Kustomization meshfed writes beside `dir` (lib/write/gitops.ts renderFlux: `flux/bootstrap-<c>.yaml`). */
function readBootstrap(repo: FileTree, dir: string): Obj | undefined {
  const slash = dir.lastIndexOf('/');
  const file = `${slash < 0 ? '' : `${dir.slice(0, slash)}/`}bootstrap-${dir.slice(slash + 1)}.yaml`;
  const text = repo.read(file);
  if (text === undefined) return undefined;
  const docs = (loadAll(text) as Json[]).filter(isObject);
  return docs.find((d) => isKustomization(d) && normalize(String(valueOf(d, ['spec', 'path']) ?? '')) === dir);
}
