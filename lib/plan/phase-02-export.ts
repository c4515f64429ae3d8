import { API, ref } from './api-versions';
import { gatewayPodSelector } from './gateway-pods';
import { EXPOSE_GATEWAY_NAME } from './names';
import { gatewayNamespace, memberRollPatch } from './namespaces';
import { Diagnostics } from '../diagnostics';
import { Contribute, Patch, Resource } from './types';
import { GLOBAL_SUFFIX, joinsLocalPods } from '../model/imports';
import { ModelIndex } from '../model/model-index';
import { hostSlug, uniqSorted } from '../model/names';
import { Import, Mesh } from '../model/types';
import { byKey } from '../sort';

/** Hostnames importers use for this exporter's services, sorted: exactly what its gateway exposes. */
export function exposedHosts(ctx: ModelIndex, mesh: Mesh): string[] {
  return uniqSorted(ctx.importsFrom(mesh.cluster).map((i) => i.hostname));
}

/**
 * One ServiceEntry per (workload namespace, importer hostname) where the hostname is not the service's
 * own FQDN, so the east-west gateway can route that SNI host to the pods. Named after the exported name
 * of the first importer (by cluster) that uses the hostname, as the guide does.
 */
function exporterServiceEntries(imports: Import[], gatewayNs: string, diags: Diagnostics, globalNames = false): Resource[] {
  const firstImport = new Map<string, Import>();
  for (const i of [...imports].sort(byKey((i) => i.importer))) {
    const svc = i.export.service;
    if (i.hostname === svc.hostname) continue;
    if (Object.keys(svc.podSelector).length === 0) {
      diags.warn(
        'MF001',
        svc.source.at(),
        `${i.importer} imports this service as ${i.hostname}, but it selects no pods (no selector / ` +
          `workloadSelector), so ${i.exporter} cannot give that hostname to its endpoints: after ` +
          `04-remove-federation ${i.importer} can no longer reach it.`,
        `Give the service a selector, or import it under its own name (importAsLocal with alias ${svc.name}.${svc.namespace}).`,
      );
      continue;
    }
    const key = `${svc.namespace}/${i.hostname}`;
    if (!firstImport.has(key)) firstImport.set(key, i);
  }
  return [...firstImport.values()].map((i) => {
    const svc = i.export.service;
    return {
      type: 'exporterServiceEntry' as const,
      // Named after the exported name as the guide does; a shared global name is its own best name.
      ref: ref(
        API.serviceEntry,
        'ServiceEntry',
        hostSlug(globalNames && i.hostname.endsWith(`.${GLOBAL_SUFFIX}`) ? i.hostname : i.export.exportedHostname),
        svc.namespace,
      ),
      host: i.hostname,
      ports: svc.ports,
      podSelector: svc.podSelector,
      exportTo: uniqSorted([svc.namespace, gatewayNs]),
    };
  });
}

/**
 * 02-export: on clusters whose services are imported somewhere, the east-west gateway (a Kubernetes
 * Gateway the deployment controller turns into a Deployment+Service, listening on a hostname that
 * matches nothing) and an Istio Gateway exposing exactly the importers' hostnames, plus the
 * ServiceEntries that give those hostnames to the pods.
 */
export function planExport(ctx: ModelIndex, mesh: Mesh, diags: Diagnostics): { adds: Resource[]; patches: Patch[] } {
  if (!ctx.isExporter(mesh.cluster)) return { adds: [], patches: [] };
  const ew = mesh.eastWest;
  const shared = sharedHere(ctx, mesh);
  const adds: Resource[] = [
    ...gatewayNamespace(mesh, ew.namespace),
    {
      type: 'eastWestGateway',
      ref: ref(API.k8sGateway, 'Gateway', ew.name, ew.namespace),
      network: mesh.network,
      serviceType: ew.serviceType,
      annotations: ew.annotations,
    },
    {
      type: 'exposedServices',
      ref: ref(API.istioGateway, 'Gateway', EXPOSE_GATEWAY_NAME, ew.namespace),
      selector: gatewayPodSelector(mesh, ew.name),
      hosts: exposedHosts(ctx, mesh),
    },
    ...exporterServiceEntries(ctx.importsFrom(mesh.cluster), ew.namespace, diags, mesh.settings.hostnameScheme === 'global').filter(
      (r) => r.type !== 'exporterServiceEntry' || !shared.has(`${r.ref.namespace}/${r.host}`),
    ),
  ];
  const roll = memberRollPatch(
    ctx,
    mesh,
    [ew.namespace],
    'the OSSM 2 istiod only sees member namespaces: it must see the east-west Gateway to deploy it',
    diags,
  );
  return { adds, patches: roll ? [roll] : [] };
}

/**
 * `namespace/host` of shared hostnames this cluster also imports into a local Service's namespace: its
 * import ServiceEntry already gives the host to the local pods, so the exporter ServiceEntry would be a
 * second one for the same host and namespace.
 */
function sharedHere(ctx: ModelIndex, mesh: Mesh): Set<string> {
  return new Set(
    ctx
      .importsInto(mesh.cluster)
      .filter(joinsLocalPods)
      .map((i) => `${i.localService!.namespace}/${i.hostname}`),
  );
}

export const contribute: Contribute = (ctx, mesh, diags) => ({ '02-export': planExport(ctx, mesh, diags) });
