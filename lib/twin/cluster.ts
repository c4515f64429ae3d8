/**
 * The simulated API server: an object store with the behaviour GitOps engines and operators rely on.
 *
 * - Identity by group, kind, namespace and name (any served version reads and writes the same object).
 * - Server-side apply per field manager (kubernetes structured-merge-diff): a manager's applied
 *   configuration is merged into the live object; a field the manager applied before and no longer applies
 *   is removed. Maps merge key by key, lists are atomic (meshfed's objects carry no associative lists that
 *   two managers share).
 * - Admission: the version must be served, a namespaced object needs its Namespace (and not a terminating
 *   one), immutable fields keep their value, `metadata.generation` counts spec changes; every Namespace carries
 *   its `kubernetes.io/metadata.name` label.
 * - Deletion: finalizers hold an object in `deletionTimestamp` until controllers remove them; dependents
 *   (ownerReferences) are garbage-collected in the background, or first under foreground propagation, or
 *   orphaned (kubernetes pkg/controller/garbagecollector).
 * - A virtual clock: `advance(seconds)` runs every controller once per tick.
 */
import { Installed, ResourceType, servedTypes } from './api';
import { isObject, splitApiVersion } from './kustomize';
import { keyOf, label, metadata, Obj, ownerReferences, Ref, refKey, refOf } from './objects';
import { Json, JsonObject } from '../load/yaml-source';
import { compareStrings } from '../sort';

export interface Controller {
  readonly name: string;
  reconcile(cluster: Cluster): void;
}

export interface ClusterEvent {
  /** Virtual seconds since the scenario started. */
  readonly t: number;
  /** Who acted: a field manager, a controller, `garbage-collector`. */
  readonly actor: string;
  readonly message: string;
  readonly ref?: string;
}

export type ApplyResult =
  { readonly ok: true; readonly created: boolean; readonly changed: boolean } | { readonly ok: false; readonly reason: string };

export interface ApplyOptions {
  /** The field manager (Argo CD: `argocd-controller`; Flux: `kustomize-controller`; a Job: its --field-manager). */
  readonly manager: string;
  /** Admission only: nothing is stored. */
  readonly dryRun?: boolean;
}

export type Propagation = 'Background' | 'Foreground' | 'Orphan';

interface Stored {
  obj: Obj;
  /** Per field manager, the configuration it last applied. */
  readonly applied: Map<string, Obj>;
}

/** Seconds per controller tick. */
export const TICK_SECONDS = 5;
/** The longest step of a quiet cluster. */
const MAX_QUIET_STEP_SECONDS = 300;

export class Cluster {
  now = 0;
  readonly events: ClusterEvent[] = [];
  private readonly store = new Map<string, Stored>();
  /** The store's keys in order, kept until a key is added or removed (controllers list many times per tick). */
  private sortedKeys: string[] | undefined;
  private types: Map<string, ResourceType>;
  private uids = 0;
  private versions = 0;
  private serviceIPs = 0;
  /** Allocators that never hand out a value twice, whatever was deleted since (see next()). */
  private readonly allocated = new Map<string, number>();
  /** Lengthen the step of quiet ticks (see tick()). */
  coarse = false;
  /** Ticks in a row that changed nothing (tick() lengthens its step while it grows). */
  private quietTicks = 0;

  constructor(
    private installed: Installed,
    public controllers: Controller[] = [],
  ) {
    this.types = servedTypes(installed);
  }

  /**
   * A copy of this cluster's state (objects, field managers, clock, counters) with its own controllers: the
   * rehearsal forks the state after a forward move to try a rollback or a deletion from it.
   */
  clone(controllers: Controller[]): Cluster {
    const c = new Cluster(this.installed, controllers);
    c.now = this.now;
    c.uids = this.uids;
    c.versions = this.versions;
    c.serviceIPs = this.serviceIPs;
    c.coarse = this.coarse;
    for (const [k, v] of this.allocated) c.allocated.set(k, v);
    for (const [k, s] of this.store) c.store.set(k, { obj: structuredClone(s.obj), applied: new Map(structuredClone([...s.applied])) });
    return c;
  }

  /**
   * The next value of an allocator (`floor`: the highest value in use). Clouds do not hand a deleted load
   * balancer's address to the next one; the twin does not either, so a re-created Service is seen to move.
   */
  next(allocator: string, floor = 0): number {
    const n = Math.max(this.allocated.get(allocator) ?? 0, floor) + 1;
    this.allocated.set(allocator, n);
    return n;
  }

  /** Install or remove operators (their CRDs start or stop being served). */
  setInstalled(installed: Installed): void {
    this.installed = installed;
    this.types = servedTypes(installed);
  }

  get operators(): Installed {
    return this.installed;
  }

  typeOf(group: string, kind: string): ResourceType | undefined {
    return this.types.get(`${group}/${kind}`);
  }

  get(ref: Ref): Obj | undefined {
    return this.store.get(refKey(ref))?.obj;
  }

  /** Every stored object, in key order (deterministic), optionally filtered. */
  list(filter: (o: Obj) => boolean = () => true): Obj[] {
    this.sortedKeys ??= [...this.store.keys()].sort(compareStrings);
    return this.sortedKeys.map((k) => this.store.get(k)!.obj).filter(filter);
  }

  byUid(uid: string): Obj | undefined {
    for (const s of this.store.values()) if (metadata(s.obj).uid === uid) return s.obj;
    return undefined;
  }

  log(actor: string, message: string, ref?: Ref): void {
    this.events.push({ t: this.now, actor, message, ref: ref && label(ref) });
  }

  /** Why the API server would refuse `obj` (undefined when it admits it). */
  admit(obj: Obj): string | undefined {
    const [group, version] = splitApiVersion(String(obj.apiVersion ?? ''));
    const ref = refOf(obj);
    const type = this.typeOf(group, ref.kind);
    if (!type || !type.versions.includes(version))
      return `no matches for kind "${ref.kind}" in version "${String(obj.apiVersion)}" (the CRD is not installed or does not serve that version)`;
    if (!ref.name) return 'metadata.name is required';
    if (type.namespaced && !ref.namespace) return `${ref.kind} is namespaced: metadata.namespace is required`;
    if (!type.namespaced && ref.namespace) return undefined; // The API server ignores it (kubectl warns); Sail kinds are MF011's concern.
    if (type.namespaced) {
      const nsObj = this.get({ group: '', kind: 'Namespace', namespace: '', name: ref.namespace });
      if (!nsObj) return `namespaces "${ref.namespace}" not found`;
      if (metadata(nsObj).deletionTimestamp !== undefined)
        return `unable to create new content in namespace ${ref.namespace} because it is being terminated`;
    }
    // kubernetes@008b3652 staging/src/k8s.io/apimachinery/pkg/api/validation/objectmeta.go ValidateAnnotationsSize.
    const notes = metadata(obj).annotations;
    const bytes = isObject(notes)
      ? Object.entries(notes).reduce((n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(String(v)), 0)
      : 0;
    if (bytes > 256 * 1024) return `metadata.annotations: Too long: must have at most ${256 * 1024} bytes`;
    const live = this.get(ref);
    for (const path of type.immutable ?? []) {
      const before = at(live, path);
      const after = at(obj, path);
      if (live && before !== undefined && after !== undefined && JSON.stringify(before) !== JSON.stringify(after))
        return `${path.join('.')}: Invalid value: ${JSON.stringify(after)}: field is immutable`;
    }
    return undefined;
  }

  /** Server-side apply of `obj` by `manager`. */
  apply(obj: Obj, opts: ApplyOptions): ApplyResult {
    const refused = this.admit(obj);
    if (refused) return { ok: false, reason: refused };
    const ref = refOf(obj);
    const stored = this.store.get(refKey(ref));
    if (stored && metadata(stored.obj).deletionTimestamp !== undefined && !opts.dryRun) {
      // Applying to a terminating object succeeds but cannot resurrect it (it is gone once its finalizers are).
    }
    if (opts.dryRun) return { ok: true, created: !stored, changed: true };
    const applied = clean(obj);
    if (!stored) {
      const live = structuredClone(applied);
      const meta = metadata(live);
      meta.uid = `uid-${++this.uids}`;
      meta.generation = 1;
      meta.resourceVersion = String(++this.versions);
      meta.creationTimestamp = this.now;
      this.allocateClusterIP(live);
      labelNamespaceName(live);
      // A CRD's status default: returned for an object stored without a status (apiextensions defaulting on read).
      const statusDefault = this.typeOf(ref.group, ref.kind)?.statusDefault;
      if (statusDefault && live.status === undefined) live.status = structuredClone(statusDefault);
      this.store.set(refKey(ref), { obj: live, applied: new Map([[opts.manager, applied]]) });
      this.sortedKeys = undefined;
      this.log(opts.manager, 'created', ref);
      return { ok: true, created: true, changed: true };
    }
    const previous = stored.applied.get(opts.manager);
    let next = structuredClone(stored.obj);
    if (previous) next = removeDropped(next, previous, applied, otherManagers(stored, opts.manager)) as Obj;
    next = merge(next, applied) as Obj;
    labelNamespaceName(next);
    stored.applied.set(opts.manager, applied);
    return { ok: true, created: false, changed: this.replace(ref, next, opts.manager) };
  }

  /**
   * The Service IP allocator: a created Service without `spec.clusterIP` gets one (not ExternalName ones;
   * "None" stays headless), which no field manager owns, so an apply that omits it keeps it (kubernetes
   * pkg/registry/core/service/storage/alloc.go allocClusterIPs). Deterministic: 172.30.200.x upwards.
   */
  private allocateClusterIP(live: Obj): void {
    const spec = live.spec;
    if (live.kind !== 'Service' || splitApiVersion(String(live.apiVersion))[0] !== '' || !isObject(spec)) return;
    if (spec.type === 'ExternalName' || spec.clusterIP !== undefined) return;
    const n = ++this.serviceIPs;
    spec.clusterIP = `172.30.${200 + Math.floor(n / 250)}.${(n % 250) + 1}`;
    spec.clusterIPs = [spec.clusterIP];
  }

  /**
   * A controller's (or a Job's) imperative change: `mutate` edits a copy of the live object. Status
   * writes, labels an operator re-asserts, a Job's `kubectl patch`. Returns false when there is no object.
   */
  update(ref: Ref, actor: string, mutate: (o: Obj) => void): boolean {
    const stored = this.store.get(refKey(ref));
    if (!stored) return false;
    const next = structuredClone(stored.obj);
    mutate(next);
    labelNamespaceName(next);
    // Like an Update with a field manager: the fields it changed are now (also) its own, so a later apply
    // by another manager that stops declaring them does not remove them.
    const owned = changedFields(stored.obj, next);
    if (owned !== undefined) stored.applied.set(actor, merge(stored.applied.get(actor), owned) as Obj);
    this.replace(ref, next, actor);
    return true;
  }

  /**
   * Hand every field `from` applied to `to`, the object unchanged: a later apply by `to` that stops declaring
   * them removes them. kustomize-controller does this to `kubectl` and `before-first-apply` before it applies
   * (fluxcd/pkg@e2cfd1a:ssa/patch.go:114-164 PatchReplaceFieldsManagers merges their managedFields into its own).
   */
  transferFields(ref: Ref, from: string, to: string): boolean {
    const stored = this.store.get(refKey(ref));
    const fields = stored?.applied.get(from);
    if (!stored || !fields) return false;
    stored.applied.set(to, merge(stored.applied.get(to), fields) as Obj);
    stored.applied.delete(from);
    return true;
  }

  /** Create an object as a controller does (no field manager history); refused like any write. */
  create(obj: Obj, actor: string): ApplyResult {
    if (this.store.has(keyOf(obj))) return { ok: false, reason: `${label(refOf(obj))} already exists` };
    return this.apply(obj, { manager: actor });
  }

  private replace(ref: Ref, next: Obj, actor: string): boolean {
    const stored = this.store.get(refKey(ref))!;
    const before = stored.obj;
    if (JSON.stringify(before) === JSON.stringify(next)) return false;
    const meta = metadata(next);
    if (JSON.stringify(before.spec) !== JSON.stringify(next.spec)) meta.generation = Number(metadata(before).generation ?? 1) + 1;
    meta.resourceVersion = String(++this.versions);
    stored.obj = next;
    this.log(actor, 'updated', ref);
    return true;
  }

  /**
   * Delete: immediately when the object has no finalizers, else mark it terminating. Dependents are handled
   * by `collectGarbage` (Background), first (Foreground) or freed of the owner reference (Orphan).
   */
  delete(ref: Ref, actor: string, propagation: Propagation = 'Background'): boolean {
    const stored = this.store.get(refKey(ref));
    if (!stored) return false;
    const uid = String(metadata(stored.obj).uid);
    if (propagation === 'Orphan')
      for (const d of this.dependents(uid)) this.update(refOf(d), 'garbage-collector', (o) => dropOwner(o, uid));
    if (propagation === 'Foreground') for (const d of this.dependents(uid)) this.delete(refOf(d), 'garbage-collector', 'Foreground');
    const finalizers = metadata(stored.obj).finalizers;
    if (Array.isArray(finalizers) && finalizers.length) {
      if (metadata(stored.obj).deletionTimestamp === undefined) {
        this.update(ref, actor, (o) => void (metadata(o).deletionTimestamp = this.now));
        this.log(actor, `deletion requested (finalizers: ${finalizers.join(', ')})`, ref);
      }
      return true;
    }
    this.store.delete(refKey(ref));
    this.sortedKeys = undefined;
    this.log(actor, 'deleted', ref);
    return true;
  }

  /** Remove one finalizer; the object goes when none is left and it is terminating. */
  removeFinalizer(ref: Ref, actor: string, finalizer: string): void {
    this.update(ref, actor, (o) => {
      const f = metadata(o).finalizers;
      if (Array.isArray(f)) metadata(o).finalizers = f.filter((x) => x !== finalizer);
    });
    const o = this.get(ref);
    const f = o && metadata(o).finalizers;
    if (o && metadata(o).deletionTimestamp !== undefined && (!Array.isArray(f) || f.length === 0)) {
      this.store.delete(refKey(ref));
      this.sortedKeys = undefined;
      this.log(actor, 'deleted (last finalizer removed)', ref);
    }
  }

  /** Objects whose ownerReferences name `uid`. */
  dependents(uid: string): Obj[] {
    return this.list((o) => ownerReferences(o).some((r) => r.uid === uid));
  }

  /** The garbage collector: an object all of whose owners are gone is deleted (kubernetes garbagecollector.go attemptToDeleteItem). */
  collectGarbage(): void {
    for (let changed = true; changed;) {
      changed = false;
      for (const o of this.list()) {
        const owners = ownerReferences(o);
        // An orphan already terminating waits for its finalizers; deleting it again would loop forever.
        if (metadata(o).deletionTimestamp !== undefined) continue;
        if (owners.length && owners.every((r) => !this.byUid(r.uid))) {
          this.delete(refOf(o), 'garbage-collector');
          changed = true;
        }
      }
    }
  }

  /** Run the controllers for `seconds` of virtual time (at least one tick). */
  advance(seconds: number): void {
    const end = this.now + Math.max(seconds, TICK_SECONDS);
    while (this.now < end) this.tick();
  }

  /**
   * One step of every controller. While ticks change nothing (only timers can: deadlines, retries, intervals),
   * the clock takes longer steps — 10 s, 20 s, … up to 5 minutes — and falls back to 5 s on the first change,
   * so a wait of virtual hours costs tens of ticks. Deadlines are then met up to one step late, which no
   * verdict depends on. Only when `coarse` is set (the rehearsal sets it; the unit tests time deadlines exactly).
   */
  tick(): void {
    const step =
      this.coarse && this.quietTicks >= 2 ? Math.min(MAX_QUIET_STEP_SECONDS, TICK_SECONDS * 2 ** (this.quietTicks - 1)) : TICK_SECONDS;
    const before = this.events.length;
    this.now += step;
    for (const c of this.controllers) c.reconcile(this);
    this.collectGarbage();
    this.quietTicks = this.events.length === before ? this.quietTicks + 1 : 0;
  }
}

function otherManagers(stored: Stored, manager: string): Obj[] {
  return [...stored.applied].filter(([m]) => m !== manager).map(([, o]) => o);
}

/** What a manager applies: no server-set metadata, no status. */
function clean(obj: Obj): Obj {
  const o = structuredClone(obj);
  delete o.status;
  const meta = metadata(o);
  for (const k of ['uid', 'resourceVersion', 'generation', 'creationTimestamp', 'managedFields', 'deletionTimestamp']) delete meta[k];
  return o;
}

function at(o: Json | undefined, path: readonly string[]): Json | undefined {
  let v = o;
  for (const p of path) {
    if (!isObject(v)) return undefined;
    v = v[p];
  }
  return v;
}

/** Apply: maps merge key by key, anything else replaces. */
function merge(live: Json | undefined, applied: Json): Json {
  if (!isObject(applied) || !isObject(live)) return structuredClone(applied);
  const out: JsonObject = { ...live };
  for (const [k, v] of Object.entries(applied)) out[k] = merge(live[k], v);
  return out;
}

/** Remove the fields `previous` set that `next` no longer sets, unless another manager still applies them. */
function removeDropped(live: Json, previous: Json, next: Json | undefined, others: (Json | undefined)[]): Json | undefined {
  if (!isObject(previous) || !isObject(live)) return next === undefined && !others.some((o) => o !== undefined) ? undefined : live;
  const out: JsonObject = { ...live };
  for (const [k, v] of Object.entries(previous)) {
    const n = isObject(next) ? next[k] : undefined;
    const o = others.map((x) => (isObject(x) ? x[k] : undefined));
    if (n === undefined && o.every((x) => x === undefined)) delete out[k];
    else if (isObject(v) && isObject(out[k])) {
      const r = removeDropped(out[k], v, n, o);
      if (r === undefined) delete out[k];
      else out[k] = r;
    }
  }
  return out;
}

/** The fields whose value differs in `after` (with their new values), undefined when none does. */
function changedFields(before: Json | undefined, after: Json | undefined): Json | undefined {
  if (isObject(before) && isObject(after)) {
    const out: JsonObject = {};
    for (const [k, v] of Object.entries(after)) {
      if (k === 'status') continue;
      const c = changedFields(before[k], v);
      if (c !== undefined) out[k] = c;
    }
    return Object.keys(out).length ? out : undefined;
  }
  return after !== undefined && JSON.stringify(before) !== JSON.stringify(after) ? after : undefined;
}

function dropOwner(o: Obj, uid: string): void {
  const meta = metadata(o);
  const refs = ownerReferences(o).filter((r) => r.uid !== uid);
  if (refs.length) meta.ownerReferences = refs as never;
  else delete meta.ownerReferences;
}

/**
 * The API server sets an immutable `kubernetes.io/metadata.name` label, the Namespace's name, on every Namespace it
 * creates or updates (KEP-2161, stable since Kubernetes 1.22: kubernetes/website content/en/docs/reference/
 * command-line-tools-reference/feature-gates/namespace-default-label-name.md). NetworkPolicies and an istiod's
 * discoverySelectors select namespaces by it.
 */
function labelNamespaceName(o: Obj): void {
  if (o.kind !== 'Namespace' || splitApiVersion(String(o.apiVersion))[0] !== '') return;
  const meta = metadata(o);
  meta.labels = { ...(isObject(meta.labels) ? meta.labels : {}), 'kubernetes.io/metadata.name': String(meta.name) };
}
