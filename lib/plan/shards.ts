import { fluxImportsName } from './delivery';
import { fileAnchor, ImportShard, PhasePlan, refId, refKey, Resource } from './types';
import { Diagnostics } from '../diagnostics';
import { groupBy } from '../group';
import { shortHash } from '../model/names';
import { Mesh } from '../model/types';
import { compareStrings } from '../sort';

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
  /** The bits a folder split reads, from a hash of the group's file key: `0`/`1` characters, first bit first. */
  bits?: string;
}

/** 32 bits of a hash of `key`, as `0`/`1` characters: where its service goes however its exporter's folders split. */
function hashBits(key: string): string {
  return parseInt(shortHash(key), 16).toString(2).padStart(32, '0');
}

/** The folder of the groups whose hash bits start with `path`: the exporter's name, plus the path without its trailing zeros. */
function shardName(exporter: string, path: string): string {
  const suffix = path.replace(/0+$/, '');
  return suffix ? `${exporter}.${suffix}` : exporter;
}

/**
 * Split `groups` (all with hash bits starting with `path`) until no folder holds more than
 * MAX_SHARD_OBJECTS objects: the half whose next bit is 0 keeps the folder's name, the other half gets
 * a new one, so no folder is ever renamed and a split moves services out of one folder only.
 */
function splitShards(exporter: string, groups: Group[], path: string, out: ImportShard[]): void {
  const count = groups.reduce((n, g) => n + g.resources.length, 0);
  if (count <= MAX_SHARD_OBJECTS || path.length === 32) {
    out.push({ name: shardName(exporter, path), exporter, resources: groups.flatMap((g) => g.resources) });
    return;
  }
  const next = groupBy(groups, (g) => (g.bits ??= hashBits(g.key))[path.length]);
  for (const bit of ['0', '1']) if (next.get(bit)?.length) splitShards(exporter, next.get(bit)!, path + bit, out);
}

/**
 * Where the imported services among a phase's objects are delivered: one folder per exporting cluster
 * (`imports/<exporter>/`), so a phase folder stays small however many services are shared and kustomize
 * builds every folder quickly. An imported service's objects (its ServiceEntry, WorkloadEntries and
 * egress route) go to the folder of the first of its exporters in name order. A folder that would hold
 * more than MAX_SHARD_OBJECTS objects is split in two by the next bit of a hash of each service's file
 * (splitShards): `<exporter>` keeps the services whose bit is 0, `<exporter>.1` gets the others, and
 * so on (`<exporter>.01`, `<exporter>.11` …). A service keeps its folder until the folder it is in
 * splits; a folder is never renamed.
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
  const byExporter = groupBy([...groups.values()], (g) => g.exporter);
  const shards: ImportShard[] = [];
  for (const exporter of [...byExporter.keys()].sort()) splitShards(exporter, byExporter.get(exporter)!, '', shards);
  return shards.sort((a, b) => compareStrings(a.name, b.name));
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

/**
 * Each import folder of a cluster gets a Flux Kustomization named after it (fluxImportsName), and a
 * cluster name may look like another's split folder as a DNS label (`west-1` and `west.1`): refused,
 * since one Kustomization would replace the other and prune its imports.
 */
export function requireDistinctImportNames(mesh: Mesh, phases: readonly PhasePlan[], diags: Diagnostics): void {
  const seen = new Map<string, string>();
  // Only one phase has shards (03-import, or greenfield's one), so each folder name comes once.
  for (const s of phases.flatMap((p) => p.shards)) {
    const name = fluxImportsName(mesh.cluster, s.name);
    const other = seen.get(name);
    if (other !== undefined)
      diags.error(
        mesh.settings.source.at(['metadata', 'name']),
        `${mesh.cluster}'s import folders imports/${other} and imports/${s.name} would both be applied by the Flux Kustomization ${name}.`,
        "Rename one of the clusters (metadata.name in its cluster.yaml): a cluster's name and another's split " +
          'import folder must not meet as DNS labels.',
      );
    seen.set(name, s.name);
  }
}
