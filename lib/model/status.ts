import { FederationModel, PeerLink } from './types';
import { StatusEntry } from '../load/inventory-types';
import { byKey, compareStrings } from '../sort';

/**
 * ExportedServiceSet status.exportedServices as Maistra writes it: only exported services, sorted by
 * the local service's namespace, then name.
 */
export function exportSetStatus(model: FederationModel, link: PeerLink): StatusEntry[] {
  return model.exports
    .filter((e) => e.link === link)
    .map((e) => ({
      exportedName: e.exportedHostname,
      localService: { hostname: e.service.hostname, name: e.service.name, namespace: e.service.namespace },
    }))
    .sort(
      byKey(
        (e) => e.localService.namespace,
        (e) => e.localService.name,
      ),
    );
}

/**
 * ImportedServiceSet status.importedServices as Maistra writes it: every service the peer exports to
 * this mesh, sorted by exported name; ones no rule imports have an empty localService.
 */
export function importSetStatus(model: FederationModel, link: PeerLink): StatusEntry[] {
  const offered = model.exports.filter((e) => e.exporter === link.remote && e.importer === link.local);
  return offered
    .map((e) => {
      const i = model.imports.find((x) => x.export === e);
      return {
        exportedName: e.exportedHostname,
        localService: i ? { hostname: i.hostname, name: i.name, namespace: i.namespace } : { hostname: '', name: '', namespace: '' },
      };
    })
    .sort((a, b) => compareStrings(a.exportedName, b.exportedName));
}
