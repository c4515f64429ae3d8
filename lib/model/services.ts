import { selectorSelects } from './match';
import { uniqSorted } from './names';
import { istioProtocol } from './protocol';
import { LocalService, Mesh, PortSpec } from './types';
import { ServiceObj, ServicePort, Workload } from '../load/inventory-types';
import { byKey } from '../sort';

export const CLUSTER_DOMAIN = 'cluster.local';

/** A named targetPort resolves through the container ports of the selected workloads. */
function portSpec(p: ServicePort, workloads: Workload[]): PortSpec {
  const protocol = istioProtocol(p.port, p.name, p.protocol, p.appProtocol);
  const target =
    typeof p.targetPort === 'string'
      ? workloads.map((w) => w.containerPorts[p.targetPort as string]).find((n) => n !== undefined)
      : p.targetPort;
  return {
    name: p.name || `${(protocol ?? 'tcp').toLowerCase()}-${p.port}`,
    number: p.port,
    targetPort: target,
    protocol,
  };
}

function selectedWorkloads(mesh: Pick<Mesh, 'inventory'>, namespace: string, selector: Record<string, string>): Workload[] {
  return mesh.inventory.workloads.filter((w) => w.namespace === namespace && selectorSelects(selector, w.podLabels));
}

/**
 * Istio's exportTo rule (Maistra's `checkServiceExportTo`): is an object in `namespace` visible to
 * `viewer`? An empty list is the mesh-wide default.
 */
export function visibleTo(exportTo: string[], namespace: string, viewer: string): boolean {
  if (exportTo.length === 0) return true;
  return exportTo.includes('*') || exportTo.includes(viewer) || (exportTo.includes('.') && namespace === viewer);
}

/** A Service's `networking.istio.io/exportTo` annotation as a list (empty when not set). */
export function annotatedExportTo(annotations: Record<string, string>): string[] {
  return (annotations['networking.istio.io/exportTo'] ?? '')
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);
}

/** A Kubernetes Service's own hostname. */
export function serviceFqdn(s: { readonly name: string; readonly namespace: string }): string {
  return `${s.name}.${s.namespace}.svc.${CLUSTER_DOMAIN}`;
}

export function serviceToLocal(mesh: Pick<Mesh, 'inventory'>, s: ServiceObj): LocalService {
  const workloads = selectedWorkloads(mesh, s.namespace, s.selector);
  return {
    kind: 'Service',
    name: s.name,
    namespace: s.namespace,
    hostname: serviceFqdn(s),
    labels: s.labels,
    ports: s.ports.map((p) => portSpec(p, workloads)),
    podSelector: s.selector,
    serviceAccounts: uniqSorted(workloads.map((w) => w.serviceAccount)),
    source: s.source,
  };
}

/**
 * Everything the exporting istiod could export: Services in member namespaces and the control-plane
 * namespace (not ExternalName, visible to the control-plane namespace through the
 * `networking.istio.io/exportTo` annotation), plus one candidate per host of MESH_INTERNAL ServiceEntries.
 * Sorted by namespace, then name.
 */
export function exportCandidates(mesh: Pick<Mesh, 'inventory' | 'controlPlane' | 'memberNamespaces'>): LocalService[] {
  const cpNs = mesh.controlPlane.namespace;
  const visibleNs = new Set([...mesh.memberNamespaces, cpNs]);
  const out: LocalService[] = [];
  for (const s of mesh.inventory.services) {
    if (!visibleNs.has(s.namespace) || s.type === 'ExternalName') continue;
    if (!visibleTo(annotatedExportTo(s.annotations), s.namespace, cpNs)) continue;
    out.push(serviceToLocal(mesh, s));
  }
  for (const se of mesh.inventory.serviceEntries) {
    if (!visibleNs.has(se.namespace) || se.location !== 'MESH_INTERNAL') continue;
    if (!visibleTo(se.exportTo, se.namespace, cpNs)) continue;
    const selector = se.workloadSelector ?? {};
    const workloads = selectedWorkloads(mesh, se.namespace, selector);
    for (const host of se.hosts) {
      out.push({
        kind: 'ServiceEntry',
        name: host,
        namespace: se.namespace,
        hostname: host,
        labels:
          se.source.metadata.labels && typeof se.source.metadata.labels === 'object'
            ? (se.source.metadata.labels as Record<string, string>)
            : {},
        ports: se.ports.map((p) => portSpec(p, workloads)),
        podSelector: selector,
        serviceAccounts: uniqSorted(workloads.map((w) => w.serviceAccount)),
        source: se.source,
      });
    }
  }
  return out.sort(
    byKey(
      (s) => s.namespace,
      (s) => s.name,
    ),
  );
}
