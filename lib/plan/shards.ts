import { fileAnchor, ImportShard, PhasePlan, refId, refKey, Resource } from './types';
import { shortHash } from '../model/names';

/**
 * Most objects one imports folder holds. `kubectl kustomize` (kustomize v5.5) takes time quadratic in
 * the objects of one build; Argo CD's repo server and Flux run the same code on every refresh. Measured
 * on the project's machine with one file per namespace (docs/benchmarks.md): 600 objects 0.53 s, 800
 * 0.94 s, 1,000 1.51 s. 700 keeps every import folder's build under a second, hash buckets' spread included.
 */
export const MAX_SHARD_OBJECTS = 700;

/** The exporters an imported object stands for; undefined for objects that are not per imported service. */
function exportersOf(r: Resource): readonly string[] | undefined {
  switch (r.type) {
    case 'importServiceEntry':
      return r.exporters;
    case 'importWorkloadEntry':
      return [r.exporter];
    case 'egressRoute':
      return r.backends.map((b) => b.exporter);
    default:
      return undefined;
  }
}

interface Group {
  readonly key: string;
  exporter: string;
  readonly resources: Resource[];
}

/**
 * Where the imported services among a phase's objects are delivered: one folder per exporting cluster
 * (`imports/<exporter>/`), so a phase folder stays small however many services are shared and kustomize
 * builds every folder quickly. An imported service's objects (its ServiceEntry, WorkloadEntries and
 * egress route) go to the folder of the first of its exporters in name order. An exporter with more than
 * MAX_SHARD_OBJECTS objects is split into 2, 4, 8 … folders `<exporter>.<i>-of-<n>` by a hash of each
 * service's file, so a service keeps its folder until the count crosses a power of two.
 */
export function planImportShards(adds: readonly Resource[]): ImportShard[] {
  const groups = new Map<string, Group>();
  for (const r of adds) {
    const exporters = exportersOf(r);
    if (!exporters?.length) continue;
    const key = refKey(fileAnchor(r));
    const g = groups.get(key) ?? { key, exporter: exporters[0], resources: [] };
    for (const e of exporters) if (e < g.exporter) g.exporter = e;
    g.resources.push(r);
    groups.set(key, g);
  }
  const byExporter = new Map<string, Group[]>();
  for (const g of groups.values()) byExporter.set(g.exporter, [...(byExporter.get(g.exporter) ?? []), g]);
  const shards: ImportShard[] = [];
  for (const exporter of [...byExporter.keys()].sort()) {
    const gs = byExporter.get(exporter)!;
    const count = gs.reduce((n, g) => n + g.resources.length, 0);
    let parts = 1;
    while (count / parts > MAX_SHARD_OBJECTS) parts *= 2;
    const buckets: Resource[][] = Array.from({ length: parts }, () => []);
    for (const g of gs) buckets[parts === 1 ? 0 : parseInt(shortHash(g.key), 16) % parts].push(...g.resources);
    buckets.forEach((resources, i) => {
      if (resources.length) shards.push({ name: parts === 1 ? exporter : `${exporter}.${i + 1}-of-${parts}`, exporter, resources });
    });
  }
  return shards;
}

/**
 * Import shards are delivered unchanged from their phase on, so no later phase may patch or delete
 * their objects. A planner bug, not an input error: thrown.
 */
export function assertShardsFinal(phases: readonly PhasePlan[]): void {
  phases.forEach((p, i) => {
    const keys = new Set(p.shards.flatMap((s) => s.resources.map((r) => refKey(r.ref))));
    if (!keys.size) return;
    for (const later of phases.slice(i + 1)) {
      for (const t of [...later.patches.map((x) => x.target), ...later.deletes]) {
        if (keys.has(refKey(t)))
          throw new Error(
            `meshfed bug: ${later.phase} of ${later.cluster} changes ${refId(t)}, which ${p.phase} delivers in dist/${p.cluster}/imports/.`,
          );
      }
    }
  });
}
