/**
 * The removal guard: what a new render takes away from what GitOps applies now. A cluster's desired state
 * at its pointer is the fold of its phases' adds minus deletes (dist/plan.json lists both, import folders
 * included); when a re-render shrinks it without the pointer moving, prune deletes the difference on
 * merge — a typo, a forgotten dump file or a re-dump after a namespace left the mesh. Hook Jobs are left
 * out: they are named by content and deleted by their hook policy, never pruned.
 */

interface PhaseEntry {
  readonly phase: string;
  readonly written?: boolean;
  readonly adds: string[];
  readonly deletes: string[];
}

/** The part of dist/plan.json the guard reads. */
export interface PlanJsonView {
  readonly phases?: string[];
  readonly clusters?: Record<string, { readonly current: string; readonly phases: PhaseEntry[] }>;
}

export interface ClusterChange {
  readonly cluster: string;
  readonly from?: string;
  readonly to?: string;
  /** Objects in the previous desired state that the new one lacks ("Kind/ns/name (group)"). */
  readonly removed: string[];
  readonly added: number;
  /** Why this change needs --allow-removals (empty: it does not). */
  readonly needsConfirmation: string[];
}

/** "Kind/ns/name (group/version)" → "Kind/ns/name (group)": a new API version of one object is not a removal. */
function identity(refId: string): string {
  const m = /^(.*) \((.*)\)$/.exec(refId);
  if (!m) return refId;
  const group = m[2].includes('/') ? m[2].split('/')[0] : 'core';
  return `${m[1]} (${group})`;
}

function desiredState(phases: PhaseEntry[], pointer: string): Set<string> {
  const state = new Set<string>();
  for (const p of phases) {
    for (const d of p.deletes) state.delete(identity(d));
    for (const a of p.adds) if (!a.startsWith('Job/')) state.add(identity(a));
    if (p.phase === pointer) break;
  }
  return state;
}

/** Per cluster of the previous render: what the new one removes, and whether that needs confirmation. */
export function compareRenders(previous: PlanJsonView, next: PlanJsonView): ClusterChange[] {
  const out: ClusterChange[] = [];
  const order = next.phases ?? previous.phases ?? [];
  const index = (p: string | undefined) => (p === undefined ? -1 : order.indexOf(p));
  for (const [cluster, prev] of Object.entries(previous.clusters ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const now = next.clusters?.[cluster];
    const before = desiredState(prev.phases, prev.current);
    const after = now ? desiredState(now.phases, now.current) : new Set<string>();
    const removed = [...before].filter((k) => !after.has(k)).sort();
    const added = [...after].filter((k) => !before.has(k)).length;
    const needs: string[] = [];
    if (!now) needs.push(`${cluster} is no longer rendered: GitOps would prune everything it applied`);
    else if (now.current === prev.current && removed.length)
      needs.push(`${cluster} stays at ${now.current} but loses ${removed.length} object(s)`);
    else if (Math.abs(index(now.current) - index(prev.current)) > 1) {
      needs.push(`${cluster} moves from ${prev.current} to ${now.current}, more than one phase at once`);
    }
    out.push({ cluster, from: prev.current, to: now?.current, removed, added, needsConfirmation: needs });
  }
  return out;
}

/** The lines synth prints: a summary per moved cluster, and the objects a refused change would remove. */
export function describeChanges(changes: ClusterChange[]): string[] {
  const lines: string[] = [];
  for (const c of changes) {
    if (c.from !== c.to && c.to !== undefined) {
      lines.push(`meshfed: ${c.cluster}: ${c.from} -> ${c.to}: applies ${c.added} new object(s), prune deletes ${c.removed.length}.`);
    }
    for (const why of c.needsConfirmation) {
      lines.push(`meshfed: ${why}:`);
      for (const r of c.removed.slice(0, 20)) lines.push(`  - ${r}`);
      if (c.removed.length > 20) lines.push(`  … and ${c.removed.length - 20} more`);
    }
  }
  return lines;
}
