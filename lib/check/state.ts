import { Patch, PhaseId, Plan, refKey, Resource } from '../plan/types';

type ByType = { [T in Resource['type']]?: Extract<Resource, { type: T }>[] };

/** The objects of a state and the indexes derived from them; shared by consecutive phases that change no object. */
class ObjectSet {
  readonly keys: Set<string>;
  readonly byType: ByType = {};
  readonly memo = new Map<string, unknown>();
  readonly families = new Map<string, Map<object | string, unknown>>();
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
  private readonly memo = new Map<string, unknown>();
  private readonly families = new Map<string, Map<object | string, unknown>>();
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

  /** Memoize a value derived from the objects only (shared with phases that change no object). */
  cached<T>(key: string, compute: () => T): T {
    const m = this.objects.memo;
    if (!m.has(key)) m.set(key, compute());
    return m.get(key) as T;
  }

  /** Memoize a value that also depends on the patches applied so far. */
  cachedWithPatches<T>(key: string, compute: () => T): T {
    if (!this.memo.has(key)) this.memo.set(key, compute());
    return this.memo.get(key) as T;
  }

  /**
   * Like `cached`, and `cachedWithPatches` when `withPatches`, for a family of values: `name` a constant,
   * `key` an object or a string the caller already has. The rules ask hundreds of thousands of times at
   * scale; building a key string per question cost more than the answers.
   */
  cachedIn<T>(name: string, key: object | string, compute: () => T, withPatches = false): T {
    const families = withPatches ? this.families : this.objects.families;
    let m = families.get(name);
    if (!m) families.set(name, (m = new Map()));
    if (!m.has(key)) m.set(key, compute());
    return m.get(key) as T;
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
