import { PreviousPlanJson } from './plan-json';
import { fluxImportsName } from '../plan/delivery';
import { apiGroup } from '../plan/types';
import { byKey, compareStrings } from '../sort';

/**
 * The removal guard: what a new render takes away from what GitOps applies now. A cluster's desired state
 * at its pointer is the fold of its phases' adds minus deletes (dist/plan.json lists both, import folders
 * included); when a re-render shrinks it without the pointer moving, prune deletes the difference on
 * merge — a typo, a forgotten dump file or a re-dump after a namespace left the mesh. Hook Jobs are left
 * out: they are named by content and deleted by their hook policy, never pruned.
 */

type PhaseEntry = NonNullable<NonNullable<NonNullable<PreviousPlanJson['clusters']>[string]>['phases']>[number];

export interface ClusterChange {
  readonly cluster: string;
  readonly from?: string;
  readonly to?: string;
  /** Objects in the previous desired state that the new one lacks ("Kind/ns/name (group)"). */
  readonly removed: string[];
  readonly added: number;
  /**
   * Imported services that stay but change import folder, per (from, to) folder pair; `services` is
   * undefined when the previous plan.json (meshfed before 2026-12-02) did not list them.
   */
  readonly moved: { readonly from: string; readonly to: string; readonly services?: number }[];
  /** Why this change needs --allow-removals (empty: it does not), each with what it lists. */
  readonly needsConfirmation: { readonly why: string; readonly items: readonly string[] }[];
}

/** "Kind/ns/name (group/version)" → "Kind/ns/name (group)": a new API version of one object is not a removal. */
function identity(refId: string): string {
  const m = /^(.*) \((.*)\)$/.exec(refId);
  if (!m) return refId;
  return `${m[1]} (${apiGroup(m[2])})`;
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

/** The import folders delivered at the pointer: which folder has each imported service (by its ServiceEntry), and each folder's exporter. */
function importFolders(phases: PhaseEntry[], pointer: string): { services: Map<string, string>; folders: Map<string, PhaseImport> } {
  const services = new Map<string, string>();
  const folders = new Map<string, PhaseImport>();
  for (const p of phases) {
    for (const i of p.imports ?? []) {
      folders.set(i.folder, i);
      for (const s of i.services ?? []) services.set(identity(s), i.folder);
    }
    if (p.phase === pointer) break;
  }
  return { services, folders };
}

type PhaseImport = NonNullable<PhaseEntry['imports']>[number];

/**
 * Services that change import folder. Each folder is one source of the Argo CD Application (nothing is
 * deleted) but its own Flux Kustomization: the folder that loses a service prunes it — only while the
 * object still carries that Kustomization's owner labels (fluxcd/kustomize-controller@186fb3b
 * internal/controller/kustomization_controller.go:1409; fluxcd/pkg@e2cfd1a ssa/manager_delete.go:77-84)
 * — and the one that gains it applies it, in whichever order they reconcile, so the service can be gone
 * in between. A previous plan.json without service lists (meshfed before 2026-12-02, whose split renamed
 * folders) is compared by folder: when an exporter's folders are not the same ones, its services may
 * have moved from any of the old to any of the new.
 */
function movedImports(before: ReturnType<typeof importFolders>, after: ReturnType<typeof importFolders>): ClusterChange['moved'] {
  const pairs = new Map<string, { from: string; to: string; services?: number }>();
  for (const [svc, from] of before.services) {
    const to = after.services.get(svc);
    if (to === undefined || to === from) continue;
    const key = `${from}>${to}`;
    const pair = pairs.get(key) ?? { from, to, services: 0 };
    pair.services!++;
    pairs.set(key, pair);
  }
  const of = (folders: Map<string, PhaseImport>, exporter: string | undefined) =>
    [...folders.keys()].filter((f) => folders.get(f)!.exporter === exporter).sort();
  for (const [folder, i] of before.folders) {
    if (i.services) continue;
    const was = of(before.folders, i.exporter);
    const is = of(after.folders, i.exporter);
    if (is.length === 0 || was.join() === is.join()) continue;
    for (const to of is) if (to !== folder) pairs.set(`${folder}>${to}`, { from: folder, to });
  }
  return [...pairs.values()].sort(
    byKey(
      (m) => m.from,
      (m) => m.to,
    ),
  );
}

/** The Flux Kustomization of a cluster's import folder (`imports/<shard>`). */
function kustomizationOf(cluster: string, folder: string): string {
  return fluxImportsName(cluster, folder.replace(/^imports\//, ''));
}

/** Per cluster of the previous render: what the new one removes, and whether that needs confirmation. */
export function compareRenders(previous: PreviousPlanJson, next: PreviousPlanJson): ClusterChange[] {
  const out: ClusterChange[] = [];
  for (const [cluster, prev] of Object.entries(previous.clusters ?? {}).sort(([a], [b]) => compareStrings(a, b))) {
    const now = next.clusters?.[cluster];
    const before = desiredState(prev.phases, prev.current);
    const after = now ? desiredState(now.phases, now.current) : new Set<string>();
    const removed = [...before].filter((k) => !after.has(k)).sort();
    const added = [...after].filter((k) => !before.has(k)).length;
    const moved = now ? movedImports(importFolders(prev.phases, prev.current), importFolders(now.phases, now.current)) : [];
    const needs: ClusterChange['needsConfirmation'] = [];
    if (moved.length) {
      const n = moved.every((m) => m.services !== undefined) ? `${moved.reduce((k, m) => k + m.services!, 0)} service(s)` : 'Services';
      const from = [...new Set(moved.map((m) => kustomizationOf(cluster, m.from)))].join(' ');
      const to = [...new Set(moved.map((m) => kustomizationOf(cluster, m.to)))].join(', ');
      needs.push({
        why:
          `${n} ${cluster} imports move to another import folder: Argo CD keeps them (one Application); ` +
          `Flux may delete them until the folder that gains them is applied. With Flux, first run ` +
          `\`flux suspend kustomization ${from}\`, then synth with --allow-removals and commit; resume them once ${to} ` +
          `${moved.length > 1 ? 'are' : 'is'} Ready (docs/gitops.md, "Import folders that split")`,
        items: moved.map((m) => `${m.services === undefined ? 'services' : `${m.services} service(s)`}: ${m.from} -> ${m.to}`),
      });
    }
    if (!now) needs.push({ why: `${cluster} is no longer rendered: GitOps would prune everything it applied`, items: removed });
    else if (now.current === prev.current && removed.length)
      needs.push({ why: `${cluster} stays at ${now.current} but loses ${removed.length} object(s)`, items: removed });
    // A pointer that moves more than one phase is not a removal to confirm but a skipped phase: a pointer
    // error (lib/plan/pointers.ts checkPointers), refused before this compares anything.
    out.push({ cluster, from: prev.current, to: now?.current, removed, added, moved, needsConfirmation: needs });
  }
  return out;
}

/**
 * The clusters of the previous render when none of them is rendered now and none rendered now was then:
 * the output folder holds another federation's render (the bundled example's dist/ after a user replaced
 * clusters/ in the template), not an earlier state of this one. Undefined otherwise.
 */
export function otherFederation(previous: PreviousPlanJson, next: PreviousPlanJson): string[] | undefined {
  const was = Object.keys(previous.clusters ?? {}).sort(compareStrings);
  const now = Object.keys(next.clusters ?? {});
  return was.length && now.length && !now.some((c) => Object.hasOwn(previous.clusters!, c)) ? was : undefined;
}

/** The lines synth prints: a summary per moved cluster, and the objects a refused change would remove. */
export function describeChanges(changes: ClusterChange[]): string[] {
  const lines: string[] = [];
  for (const c of changes) {
    if (c.from !== c.to && c.to !== undefined) {
      lines.push(`meshfed: ${c.cluster}: ${c.from} -> ${c.to}: applies ${c.added} new object(s), prune deletes ${c.removed.length}.`);
    }
    for (const { why, items } of c.needsConfirmation) {
      lines.push(`meshfed: ${why}:`);
      for (const r of items.slice(0, 20)) lines.push(`  - ${r}`);
      if (items.length > 20) lines.push(`  … and ${items.length - 20} more`);
    }
  }
  return lines;
}
