import { Patch, PhaseId, Plan, refKey, Resource } from '../plan/types';

type ByType = { [T in Resource['type']]?: Extract<Resource, { type: T }>[] };

/**
 * A family of memoized values the rules derive from a `PhaseState`: one `V` per key `K`, where the key is an
 * object the rule already holds (a `PeerLink`, a planned `Resource`, a `Mesh`) or a string (a namespace, a
 * network). Declare each family once, at module level, with `memoFamily`: the family object is the key, so two
 * families never share values even when their keys are equal (as cdk8s-core keys a chart by a module-level
 * symbol, cdk8s-team/cdk8s-core@6e6c8be src/chart.ts:6, not by a string that could collide). The rules ask
 * hundreds of thousands of times at scale; a key object costs nothing, a key string built per question cost
 * more than the answers (docs/benchmarks.md).
 */
export class MemoFamily<K extends object | string, V> {
  /** The values per owner: a `PhaseState`, or the object set it shares with the phases that change no object. */
  private readonly stores = new WeakMap<object, Map<K, { readonly value: V }>>();

  /** @param withPatches the values also depend on the patches applied so far, not only on the objects. */
  constructor(readonly withPatches: boolean) {}

  /** The value for `key` in `owner`'s store, computed on the first question (called by `PhaseState.memo`). */
  valueIn(owner: object, key: K, compute: () => V): V {
    let store = this.stores.get(owner);
    if (!store) this.stores.set(owner, (store = new Map()));
    let hit = store.get(key);
    if (!hit) store.set(key, (hit = { value: compute() }));
    return hit.value;
  }
}

/**
 * A new memo family (see `MemoFamily`). `withPatches`: the values depend on the patches applied so far too, so
 * each phase computes its own; without it they depend on the objects only and are shared with the phases
 * that change no object.
 */
export function memoFamily<K extends object | string, V>(options: { withPatches?: boolean } = {}): MemoFamily<K, V> {
  return new MemoFamily<K, V>(options.withPatches ?? false);
}

/** The objects of a state and the indexes derived from them; shared by consecutive phases that change no object. */
class ObjectSet {
  readonly keys: Set<string>;
  readonly byType: ByType = {};
  constructor(readonly resources: Resource[]) {
    this.keys = new Set(resources.map((r) => `${r.ref.kind}/${r.ref.namespace ?? ''}/${r.ref.name}`));
    for (const r of resources) ((this.byType[r.type] ??= []) as Resource[]).push(r);
  }
}

/**
 * What is in a cluster's desired state at a phase, computed from the plan (adds minus deletes, and the
 * patches applied so far) — never from rendered YAML. Indexed for the lookups the rules make.
 */
export class PhaseState {
  private readonly objects: ObjectSet;
  /** Every patch applied up to this phase, in order. */
  readonly patches: Patch[];

  constructor(
    readonly plan: Plan,
    readonly cluster: string,
    readonly phase: PhaseId,
    previous?: PhaseState,
  ) {
    const p = plan.byCluster[cluster][plan.phases.indexOf(phase)];
    if (previous && p.adds.length === 0 && p.deletes.length === 0) {
      this.objects = previous.objects;
    } else {
      const deleted = new Set(p.deletes.map(refKey));
      const base = previous ? previous.objects.resources.filter((r) => !deleted.has(refKey(r.ref))) : [];
      this.objects = new ObjectSet([...base, ...p.adds]);
    }
    this.patches = this.collectPatches(previous);
  }

  private collectPatches(previous?: PhaseState): Patch[] {
    const own = this.plan.byCluster[this.cluster][this.plan.phases.indexOf(this.phase)].patches;
    return previous ? [...previous.patches, ...own] : [...own];
  }

  get resources(): Resource[] {
    return this.objects.resources;
  }

  has(kind: string, name: string, namespace?: string): boolean {
    return this.objects.keys.has(`${kind}/${namespace ?? ''}/${name}`);
  }

  of<T extends Resource['type']>(type: T): Extract<Resource, { type: T }>[] {
    return (this.objects.byType[type] ?? []) as Extract<Resource, { type: T }>[];
  }

  /** `family`'s value for `key` in this state, computed once (once per object set when the family is objects-only). */
  memo<K extends object | string, V>(family: MemoFamily<K, V>, key: K, compute: () => V): V {
    return family.valueIn(family.withPatches ? this : this.objects, key, compute);
  }
}

/** PhaseStates per (cluster, phase), each built from the previous phase's. */
export class States {
  private readonly cache = new Map<string, PhaseState>();
  constructor(readonly plan: Plan) {}
  get(cluster: string, phase: PhaseId): PhaseState {
    const k = `${cluster}@${phase}`;
    let s = this.cache.get(k);
    if (!s) {
      const index = this.plan.phases.indexOf(phase);
      const previous = index > 0 ? this.get(cluster, this.plan.phases[index - 1]) : undefined;
      this.cache.set(k, (s = new PhaseState(this.plan, cluster, phase, previous)));
    }
    return s;
  }
}
