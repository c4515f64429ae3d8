import { CheckContext } from './context';
import { Finding } from './finding';
import { HostRef } from '../load/inventory-types';
import { SourceObject } from '../load/yaml-source';

/** A VirtualService/DestinationRule host as the proxy resolves it: short names are namespace-local. */
function fqdn(host: string, namespace: string): string {
  if (host.includes('*')) return host;
  const parts = host.split('.');
  if (parts.length === 1) return `${host}.${namespace}.svc.cluster.local`;
  if (parts.length === 2) return `${host}.svc.cluster.local`;
  return host;
}

const FEDERATION_HOST = /\.svc\.[a-z0-9-]+-(imports|exports)\.local$/;

/**
 * MF004: user configuration that names imported hosts (VirtualServices, DestinationRules,
 * ServiceEntries in the dumps) must still resolve in every phase, and failover rules must work.
 */
export function checkUserConfig({ model }: CheckContext): Finding[] {
  const out: Finding[] = [];
  for (const mesh of model.meshes) {
    const imported = new Map(model.imports.filter((i) => i.importer === mesh.cluster).map((i) => [i.hostname, i]));
    const finding = (
      src: SourceObject,
      path: (string | number)[],
      problem: string,
      fix: string,
      severity: 'error' | 'warning' = 'warning',
    ) => out.push({ rule: 'MF004', severity, cluster: mesh.cluster, location: src.at(path), problem, fix });
    const unresolved = (src: SourceObject, ns: string, refs: HostRef[]) => {
      for (const r of refs) {
        const h = fqdn(r.host, ns);
        if (!FEDERATION_HOST.test(h) || imported.has(h)) continue;
        const exported = h.endsWith('-exports.local');
        finding(
          src,
          r.path,
          exported
            ? `${h} is a federation export name: it exists only while the federation runs and stops resolving at 04-remove-federation.`
            : `${h} looks like a federation import, but ${mesh.cluster} imports no service under that name, so it resolves in no phase.`,
          exported
            ? 'Name the service by its own hostname (or the hostname importers use).'
            : `Use one of ${mesh.cluster}'s imported hostnames (dist/plan.json) or fix the ImportedServiceSet.`,
          exported ? 'error' : 'warning',
        );
      }
    };
    for (const vs of mesh.inventory.virtualServices) unresolved(vs.source, vs.namespace, [...vs.hosts, ...vs.destinations]);
    for (const dr of mesh.inventory.destinationRules) {
      unresolved(dr.source, dr.namespace, [{ host: dr.host, path: ['spec', 'host'] }]);
      const h = fqdn(dr.host, dr.namespace);
      const imp = imported.get(h);
      if (dr.localityFailover && !dr.hasOutlierDetection) {
        finding(
          dr.source,
          ['spec', 'trafficPolicy'],
          `locality failover on ${h} does nothing without outlierDetection: Istio never marks the ` +
            `local endpoints unhealthy, so traffic never fails over.`,
          'Add spec.trafficPolicy.outlierDetection (e.g. consecutive5xxErrors, interval, baseEjectionTime).',
        );
      }
      if (imp && dr.localityFailover && !imp.locality) {
        finding(
          dr.source,
          ['spec', 'trafficPolicy', 'loadBalancer', 'localityLbSetting'],
          `failover on ${h} needs a locality on the remote endpoints, but ${imp.link.importSet!.name} ` +
            `sets none, so the WorkloadEntries for ${imp.exporter} have no region to fail over to.`,
          `Set spec.locality on ImportedServiceSet ${imp.link.importSet!.name}, or use failoverPriority: [topology.istio.io/network].`,
        );
      }
      if (imp && dr.subsets.some((s) => Object.keys(s.labels).length > 0)) {
        finding(
          dr.source,
          ['spec', 'subsets'],
          `subsets of ${h} select endpoint labels, but the remote endpoints from ${imp.exporter} ` +
            `carry only their selector and tlsMode labels, so the subsets never include them.`,
          'Route to the imported host without label subsets, or add the subset labels to the exporter side and the WorkloadEntries.',
        );
      }
    }
    for (const se of mesh.inventory.serviceEntries) {
      se.hosts.forEach((h, j) => {
        if (imported.has(h))
          finding(
            se.source,
            ['spec', 'hosts', j],
            `${h} is also defined by meshfed's imported ServiceEntry from 03-import on; two definitions ` +
              `of one host in a mesh make the endpoints a proxy gets unpredictable.`,
            'Remove this ServiceEntry once 03-import is applied, or rename the host.',
          );
      });
    }
  }
  return out;
}
