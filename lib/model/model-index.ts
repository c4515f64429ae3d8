import { groupBy } from '../group';
import { Export, FederationModel, Import, Mesh, PeerLink } from './types';
import { byKey } from '../sort';

/**
 * The model indexed by cluster: who links to whom, who imports what from whom. Read-only views the
 * planners, the checks, the runbooks and the bundles share (it needs nothing but the model, so it lives here).
 */
export class ModelIndex {
  private readonly meshes: Map<string, Mesh>;
  private readonly links: Map<string, PeerLink[]>;
  private readonly into: Map<string, Import[]>;
  private readonly from: Map<string, Import[]>;
  private readonly exports: Map<string, Export[]>;

  private static readonly shared = new WeakMap<FederationModel, ModelIndex>();

  /** The index of a model, built once: the planners, the checks, the runbooks and the bundles share its indexes. */
  static of(model: FederationModel): ModelIndex {
    let ctx = ModelIndex.shared.get(model);
    if (!ctx) ModelIndex.shared.set(model, (ctx = new ModelIndex(model)));
    return ctx;
  }

  constructor(public readonly model: FederationModel) {
    this.meshes = new Map(model.meshes.map((m) => [m.cluster, m]));
    // Indexed once: the planners, checks and runbook ask these per cluster and phase.
    this.links = groupBy(model.links, (l) => l.local);
    for (const list of this.links.values()) list.sort(byKey((l) => l.peer.name));
    this.into = groupBy(model.imports, (i) => i.importer);
    this.from = groupBy(model.imports, (i) => i.exporter);
    this.exports = groupBy(model.exports, (e) => e.exporter);
  }

  mesh(cluster: string): Mesh {
    const m = this.meshes.get(cluster);
    if (!m) throw new Error(`internal: unknown cluster ${cluster}`);
    return m;
  }

  /** ServiceMeshPeers held by `cluster`, sorted by peer name. */
  linksOf(cluster: string): PeerLink[] {
    return this.links.get(cluster) ?? [];
  }

  /** Services `cluster` imports (it is the client side). */
  importsInto(cluster: string): Import[] {
    return this.into.get(cluster) ?? [];
  }

  /** Imports of services `cluster` exports (it is the server side). */
  importsFrom(cluster: string): Import[] {
    return this.from.get(cluster) ?? [];
  }

  exportsOf(cluster: string): Export[] {
    return this.exports.get(cluster) ?? [];
  }

  /** A cluster runs an east-west gateway once someone imports one of its services. */
  isExporter(cluster: string): boolean {
    return this.importsFrom(cluster).length > 0;
  }

  /** Clusters that import services from `cluster`, sorted. */
  importersOf(cluster: string): string[] {
    return [...new Set(this.importsFrom(cluster).map((i) => i.importer))].sort();
  }

  /** Exporters `cluster` imports from, sorted. */
  exportersFor(cluster: string): Mesh[] {
    return this.exportersOf(this.importsInto(cluster));
  }

  /** The exporters of these imports, sorted by cluster. */
  exportersOf(imports: Import[]): Mesh[] {
    return [...new Set(imports.map((i) => i.exporter))].sort().map((c) => this.mesh(c));
  }

  /**
   * Exporters `cluster` imports from whose east-west gateway cannot be reached yet (no address, or no
   * node port): a migration blocks the importer's 03-import on them, a greenfield overlay leaves their
   * imports out.
   */
  unreachableExporters(cluster: string): Mesh[] {
    return this.exportersFor(cluster).filter((e) => e.eastWest.addresses.length === 0 || e.eastWest.port === undefined);
  }
}
