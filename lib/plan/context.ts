import { Export, FederationModel, Import, Mesh, PeerLink } from '../model/types';

/** Read-only views of the model that the phase planners share. */
export class PlanContext {
  private readonly meshes: Map<string, Mesh>;

  constructor(public readonly model: FederationModel) {
    this.meshes = new Map(model.meshes.map((m) => [m.cluster, m]));
  }

  mesh(cluster: string): Mesh {
    const m = this.meshes.get(cluster);
    if (!m) throw new Error(`internal: unknown cluster ${cluster}`);
    return m;
  }

  /** ServiceMeshPeers held by `cluster`, sorted by peer name. */
  linksOf(cluster: string): PeerLink[] {
    return this.model.links.filter((l) => l.local === cluster).sort((a, b) => (a.peer.name < b.peer.name ? -1 : 1));
  }

  /** Services `cluster` imports (it is the client side). */
  importsInto(cluster: string): Import[] {
    return this.model.imports.filter((i) => i.importer === cluster);
  }

  /** Imports of services `cluster` exports (it is the server side). */
  importsFrom(cluster: string): Import[] {
    return this.model.imports.filter((i) => i.exporter === cluster);
  }

  exportsOf(cluster: string): Export[] {
    return this.model.exports.filter((e) => e.exporter === cluster);
  }

  /** A cluster runs an east-west gateway once someone imports one of its services. */
  isExporter(cluster: string): boolean {
    return this.importsFrom(cluster).length > 0;
  }

  /** Exporters `cluster` imports from, sorted. */
  exportersFor(cluster: string): Mesh[] {
    return [...new Set(this.importsInto(cluster).map((i) => i.exporter))].sort().map((c) => this.mesh(c));
  }
}
