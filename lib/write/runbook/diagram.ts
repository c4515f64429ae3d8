import { ModelIndex } from '../../model/model-index';
import { FederationModel } from '../../model/types';
import { byKey } from '../../sort';

/** Above this many imports the diagram and tables show one line per importer → exporter pair. */
export const MAX_ARROWS = 60;

/** Imports per importer → exporter pair, with their sorted hostnames, for large federations. */
export function importPairs(model: FederationModel): { importer: string; exporter: string; count: number; hostnames: string[] }[] {
  const pairs = new Map<string, { importer: string; exporter: string; count: number; hostnames: string[] }>();
  for (const i of model.imports) {
    const key = `${i.importer}/${i.exporter}`;
    const p = pairs.get(key) ?? { importer: i.importer, exporter: i.exporter, count: 0, hostnames: [] };
    p.count++;
    p.hostnames.push(i.hostname);
    pairs.set(key, p);
  }
  return [...pairs.values()]
    .map((p) => ({ ...p, hostnames: p.hostnames.sort() }))
    .sort(
      byKey(
        (p) => p.importer,
        (p) => p.exporter,
      ),
    );
}

function mermaidId(s: string): string {
  return s.replace(/[^A-Za-z0-9_]/g, '_');
}

/** Meshes as subgraphs, east-west gateways as nodes, each import as an arrow labelled with its hostname. */
export function diagram(model: FederationModel, ctx: ModelIndex): string[] {
  const lines = ['```mermaid', 'flowchart LR'];
  for (const m of model.meshes) {
    lines.push(`  subgraph ${mermaidId(m.cluster)}["${m.cluster} · ${m.trustDomain} · ${m.network}"]`);
    lines.push(`    ${mermaidId(m.cluster)}_clients(["clients: ${m.memberNamespaces.join(', ') || 'none'}"])`);
    if (ctx.isExporter(m.cluster))
      lines.push(
        `    ${mermaidId(m.cluster)}_ew[["east-west gateway ${m.eastWest.namespace}/${m.eastWest.name}<br/>` +
          `${m.eastWest.addresses.join(', ') || 'address unknown'}:${m.eastWest.port ?? 'node port unknown'}"]]`,
      );
    lines.push('  end');
  }
  if (model.imports.length <= MAX_ARROWS) {
    for (const i of [...model.imports].sort(byKey((i) => i.importer + i.hostname))) {
      lines.push(`  ${mermaidId(i.importer)}_clients -- "${i.hostname}" --> ${mermaidId(i.exporter)}_ew`);
    }
  } else {
    // Too many imports for one arrow each (GitHub's Mermaid refuses more than 500 edges): one per pair.
    for (const pair of importPairs(model))
      lines.push(
        `  ${mermaidId(pair.importer)}_clients -- "${pair.count} services, e.g. ${pair.hostnames[0]}" --> ${mermaidId(pair.exporter)}_ew`,
      );
  }
  lines.push('```');
  return lines;
}
