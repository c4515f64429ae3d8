import { isIP } from 'net';

import { gatewayPodSelector } from './gateway-pods';
import { Diagnostics } from '../diagnostics';
import { API, ref } from './api-versions';
import { gatewayNamespace, memberRollPatch } from './namespaces';
import { Patch, Resource } from './types';
import { ModelIndex } from '../model/model-index';
import { dnsLabel, hostSlug, uniqSorted, inputPath } from '../model/names';
import { Import, Mesh } from '../model/types';

/** The egress gateway's listener port: sidecars reach it there, with the SNI they would send a peer. */
export const EGRESS_PORT = 15443;

/** Name of a peer's east-west gateway as the egress gateway's upstream (the reference documents' `ingress-<cluster>`). */
export function egressBackendName(exporter: Mesh): string {
  return dnsLabel('ingress', exporter.cluster);
}

/** Host of that upstream's ServiceEntry (openshift); never resolved by DNS, only routed to. */
export function egressBackendHost(exporter: Mesh): string {
  return `ingress.${exporter.cluster}.global`;
}

/** An importer whose egress gateway routes with TLSRoute (alpha Gateway API). */
export function usesEgressTlsRoutes(ctx: ModelIndex, mesh: Mesh): boolean {
  return mesh.egress !== undefined && mesh.platform === 'kubernetes' && ctx.importsInto(mesh.cluster).length > 0;
}

/** An importer with an egress gateway (a Gateway API listener with protocol TLS, like the east-west one). */
export function usesEgress(ctx: ModelIndex, mesh: Mesh): boolean {
  return mesh.egress !== undefined && ctx.importsInto(mesh.cluster).length > 0;
}

export function egressPassthroughName(mesh: Mesh): string {
  return dnsLabel(mesh.egress!.name, 'passthrough');
}

/**
 * 03-import on an importer with spec.egressGateway: the egress gateway (ClusterIP), one upstream per
 * exporting peer at its east-west address, and one route per imported hostname matching the SNI the
 * sidecars send (`outbound_.<port>_._.<host>`, hence `*.<host>`). kubernetes: TLSRoute to a headless
 * Service whose EndpointSlices hold the peer's addresses (TLSRoute cannot point at a ServiceEntry);
 * openshift (no experimental Gateway API CRDs on 4.19+): Istio Gateway + VirtualService to a
 * ServiceEntry. Traffic stays end-to-end mTLS: the egress gateway only forwards TLS by SNI.
 */
export function planEgress(ctx: ModelIndex, mesh: Mesh, diags: Diagnostics, imports: Import[]): { adds: Resource[]; patches: Patch[] } {
  const egress = mesh.egress;
  if (!egress || imports.length === 0) return { adds: [], patches: [] };
  const ns = egress.namespace;
  if (ns === mesh.controlPlane.namespace || ns === mesh.ossm3.namespace) {
    diags.error(
      mesh.settings.source.at(['spec', 'egressGateway', 'namespace']),
      `the egress gateway cannot live in the control-plane namespace ${ns}: 06-migrate-workloads moves its namespace to the OSSM 3 revision.`,
      'Use a namespace of its own (default istio-egress).',
    );
  }
  const kube = mesh.platform === 'kubernetes';
  const out: Resource[] = [];
  const patches: Patch[] = [];
  // The namespace is created here unless it exists as a member, or 02 created it for the east-west gateway.
  const ewHere = ctx.isExporter(mesh.cluster) && mesh.eastWest.namespace === ns;
  if (!ewHere) out.push(...gatewayNamespace(mesh, ns));
  const roll = ewHere
    ? undefined
    : memberRollPatch(
        ctx,
        mesh,
        [ns],
        'the OSSM 2 istiod only sees member namespaces: it must see the egress Gateway and its routes to deploy and program it',
      );
  if (roll) patches.push(roll);
  const gw = ref(API.k8sGateway, 'Gateway', egress.name, ns);
  out.push({ type: 'egressGateway', ref: gw, platform: mesh.platform });
  for (const e of ctx.exportersOf(imports)) {
    const name = egressBackendName(e);
    const port = e.eastWest.port ?? EGRESS_PORT;
    if (!kube) {
      out.push({
        type: 'egressBackend',
        ref: ref(API.serviceEntry, 'ServiceEntry', name, ns),
        exporter: e.cluster,
        host: egressBackendHost(e),
        addresses: e.eastWest.addresses,
        port,
      });
      continue;
    }
    const svc = ref('v1', 'Service', name, ns);
    out.push({ type: 'egressBackend', ref: svc, exporter: e.cluster, addresses: e.eastWest.addresses, port });
    const names = e.eastWest.addresses.filter((a) => !isIP(a));
    if (names.length) {
      diags.error(
        mesh.settings.source.at(['spec', 'platform']),
        `${mesh.cluster}'s egress gateway routes to ${e.cluster} with a TLSRoute, whose backend is ` +
          `a headless Service; its EndpointSlice takes IP addresses only, but ${e.cluster}'s ` +
          `east-west gateway is reached at ${names.join(', ')}.`,
        `Set spec.eastWestGateway.address in ${inputPath(e, 'cluster.yaml')} to IP addresses, or ` +
          `use spec.platform: openshift here (Istio Gateway + VirtualService + ServiceEntry, which ` +
          `upstream Kubernetes runs as well).`,
      );
      continue;
    }
    for (const family of [4, 6] as const) {
      const addresses = e.eastWest.addresses.filter((a) => isIP(a) === family);
      if (!addresses.length) continue;
      out.push({
        type: 'egressEndpointSlice',
        ref: ref(API.endpointSlice, 'EndpointSlice', family === 4 ? name : dnsLabel(name, 'ipv6'), ns),
        fileOf: svc,
        service: name,
        addressType: family === 4 ? 'IPv4' : 'IPv6',
        addresses,
        port,
      });
    }
  }
  const byHost = new Map<string, string[]>();
  for (const i of imports) byHost.set(i.hostname, [...(byHost.get(i.hostname) ?? []), i.exporter]);
  const hosts = [...byHost.keys()].sort();
  const gatewayName = kube ? egress.name : egressPassthroughName(mesh);
  if (!kube)
    out.push({
      type: 'egressPassthroughGateway',
      ref: ref(API.istioGateway, 'Gateway', gatewayName, ns),
      selector: gatewayPodSelector(mesh, egress.name),
      sniHosts: hosts.map((h) => `*.${h}`),
    });
  for (const host of hosts) {
    const backends = uniqSorted(byHost.get(host)!).map((c) => {
      const e = ctx.mesh(c);
      return { exporter: c, name: egressBackendName(e), host: kube ? undefined : egressBackendHost(e) };
    });
    out.push({
      type: 'egressRoute',
      ref: ref(kube ? API.tlsRoute : API.virtualService, kube ? 'TLSRoute' : 'VirtualService', hostSlug(host), ns),
      host,
      gatewayName,
      backends,
    });
  }
  return { adds: out, patches };
}
