import { PhaseId, PHASES, Plan, Resource } from '../plan/types';
import { refKey } from '../write/files';

/**
 * What is in a cluster's desired state at a phase, computed from the plan (adds minus deletes, and the
 * patches applied so far) — never from rendered YAML.
 */
export class PhaseState {
  readonly resources: Resource[];
  private readonly keys: Set<string>;

  constructor(
    readonly plan: Plan,
    readonly cluster: string,
    readonly phase: PhaseId,
  ) {
    const upTo = plan.byCluster[cluster].slice(0, PHASES.indexOf(phase) + 1);
    const deleted = new Set(upTo.flatMap((p) => p.deletes.map(refKey)));
    this.resources = upTo.flatMap((p) => p.adds).filter((r) => !deleted.has(refKey(r.ref)));
    this.keys = new Set(this.resources.map((r) => refKey(r.ref)));
  }

  has(kind: string, name: string, namespace?: string): boolean {
    return [...this.keys].some((k) => k.endsWith(`/${kind}/${namespace ?? ''}/${name}`));
  }

  of<T extends Resource['type']>(type: T): Extract<Resource, { type: T }>[] {
    return this.resources.filter((r): r is Extract<Resource, { type: T }> => r.type === type);
  }

  /** Every patch applied up to this phase, in order. */
  get patches() {
    return this.plan.byCluster[this.cluster].slice(0, PHASES.indexOf(this.phase) + 1).flatMap((p) => p.patches);
  }

  at(phase: PhaseId): number {
    return PHASES.indexOf(phase);
  }

  get index(): number {
    return PHASES.indexOf(this.phase);
  }
}

/** A memo of PhaseState per (cluster, phase). */
export class States {
  private readonly cache = new Map<string, PhaseState>();
  constructor(readonly plan: Plan) {}
  get(cluster: string, phase: PhaseId): PhaseState {
    const k = `${cluster}@${phase}`;
    let s = this.cache.get(k);
    if (!s) this.cache.set(k, (s = new PhaseState(this.plan, cluster, phase)));
    return s;
  }
}
