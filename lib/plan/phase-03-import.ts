import { Diagnostics } from '../diagnostics';
import { groupBy } from '../group';
import { API, ref } from './api-versions';
import { EGRESS_PORT, planEgress } from './egress';
import { remoteGatewayName, TLS_MODE_LABEL } from './names';
import { Contribute, Patch, Resource } from './types';
import { ServiceObj } from '../load/inventory-types';
import { joinsLocalPods } from '../model/imports';
import { selectorSelects } from '../model/match';
import { ModelIndex } from '../model/model-index';
import { dnsLabel, hostSlug, spiffeId, uniqSorted } from '../model/names';
import { serviceFqdn } from '../model/services';
import { Import, Mesh } from '../model/types';
import { byKey } from '../sort';

/** `kubectl get svc` arguments for an exporter's east-west gateway Service. */
function gatewayService(e: Mesh): string {
  return `${e.eastWest.name}-istio -n ${e.eastWest.namespace}`;
}

/** What an exporter's operator applies before its east-west gateway exists. */
function gatewayPhase(e: Mesh): string {
  return e.settings.mode === 'greenfield' ? `${e.cluster}'s multicluster overlay` : `${e.cluster}'s 02-export`;
}

/** Where an importer's operator reads the exporter's east-west address once its gateway runs. */
function addressSource(e: Mesh): string {
  if (e.eastWest.serviceType === 'NodePort') return 'the addresses of the nodes peers reach';
  return (
    `the address of Service ${e.eastWest.name}-istio in namespace ${e.eastWest.namespace} ` +
    // Load balancers publish an IP or a hostname (AWS ELB/NLB): print whichever the Service has.
    `(kubectl get svc ${gatewayService(e)} -o jsonpath='{.status.loadBalancer.ingress[0].ip}{.status.loadBalancer.ingress[0].hostname}')`
  );
}

// These texts reach dist/ (plan.json, the runbook): they name the file by its place in a clusters/ folder,
// not by the path this run was given, so dist/ is the same wherever the input was checked out.
function unknownAddress(e: Mesh): string {
  return (
    `${e.cluster}'s east-west gateway address is unknown: apply ${gatewayPhase(e)}, then set spec.eastWestGateway.address ` +
    `in clusters/${e.cluster}/cluster.yaml to ${addressSource(e)} and synth again.`
  );
}

function unknownNodePort(e: Mesh): string {
  return (
    `${e.cluster}'s east-west gateway node port is unknown: apply ${gatewayPhase(e)}, then set ` +
    `spec.eastWestGateway.service.nodePort in clusters/${e.cluster}/cluster.yaml (kubectl get ` +
    `svc ${gatewayService(e)} -o jsonpath='{.spec.ports[?(@.port==15443)].nodePort}') and synth again.`
  );
}

/** What to set before an importer's 03-import can be written (empty when nothing is missing). */
export function importBlockers(ctx: ModelIndex, mesh: Mesh): string[] {
  return ctx
    .unreachableExporters(mesh.cluster)
    .flatMap((e) => [
      ...(e.eastWest.addresses.length ? [] : [unknownAddress(e)]),
      ...(e.eastWest.port !== undefined ? [] : [unknownNodePort(e)]),
    ]);
}

/** The SPIFFE identities of the pods behind these imports, on their exporters: the ServiceEntry's SANs. */
function exporterIdentities(ctx: ModelIndex, group: Import[]): string[] {
  return uniqSorted(
    group.flatMap((i) =>
      i.export.service.serviceAccounts.map((sa) => spiffeId(ctx.mesh(i.exporter).trustDomain, i.export.service.namespace, sa)),
    ),
  );
}

/**
 * A shared neutral hostname (greenfield, hostnameScheme: global) the importer also serves itself: one
 * ServiceEntry in the local Service's namespace selecting the local pods (ports with their targetPort)
 * and WorkloadEntries with the same labels, one per exporter, as the reference documents do for
 * `<name>.mesh.global`: clients fail over between local and remote endpoints of one host.
 */
function sharedHostResources(ctx: ModelIndex, mesh: Mesh, host: string, local: ServiceObj, group: Import[]): Resource[] {
  const name = hostSlug(host);
  const seRef = ref(API.serviceEntry, 'ServiceEntry', name, local.namespace);
  const localTarget = new Map(local.ports.map((p) => [p.port, typeof p.targetPort === 'number' ? p.targetPort : undefined]));
  const out: Resource[] = [
    {
      type: 'importServiceEntry',
      ref: seRef,
      host,
      ports: group[0].export.service.ports.map(({ name: n, number, protocol }) => ({
        name: n,
        number,
        protocol,
        targetPort: localTarget.get(number),
      })),
      subjectAltNames: exporterIdentities(ctx, group),
      exportTo: mesh.importExportTo,
      exporters: uniqSorted(group.map((i) => i.exporter)),
      selector: local.selector,
      localPods: true,
    },
  ];
  for (const i of group) {
    out.push({
      type: 'importWorkloadEntry',
      ref: ref(API.workloadEntry, 'WorkloadEntry', dnsLabel(name, i.link.peer.name), local.namespace),
      fileOf: seRef,
      exporter: i.exporter,
      labels: { ...local.selector, [TLS_MODE_LABEL]: 'istio' },
      network: i.link.remoteNetwork,
      locality: i.locality,
    });
  }
  return out;
}

/**
 * Imports that join a local Kubernetes Service (importAsLocal, and the importer has a Service with that
 * name and namespace): WorkloadEntries in the Service's namespace carrying its selector labels, so the
 * Service itself aggregates local pods and the remote gateway endpoint (Istio selects WorkloadEntries
 * with Service selectors); clients then fail over between them. Otherwise a ServiceEntry in the import
 * namespace selects address-less WorkloadEntries, one per exporter.
 */
/**
 * importAsLocal into a Service the importer runs: WorkloadEntries in the Service's namespace carrying its
 * selector labels, so the Service itself aggregates local pods and the remote gateway endpoint.
 */
function joinedLocalServiceResources(ctx: ModelIndex, mesh: Mesh, local: ServiceObj, group: Import[], diags: Diagnostics): Resource[] {
  const out: Resource[] = [];
  for (const imp of group) {
    const svc = imp.export.service;
    const sameNs = svc.namespace === local.namespace;
    if (!sameNs) {
      // Rendering it would give the local Service an endpoint every client handshake fails on.
      diags.error(
        imp.link.importSet!.source.at(['spec', 'importRules', imp.ruleIndex]),
        `${imp.hostname} joins ${mesh.cluster}'s own Service ${local.namespace}/${local.name}, but ` +
          `${imp.exporter}'s pods run in namespace ${svc.namespace}: a Kubernetes Service can only ` +
          `vouch for identities in its own namespace, so clients would reject ` +
          `${spiffeId(ctx.mesh(imp.exporter).trustDomain, svc.namespace, svc.serviceAccounts[0] ?? 'default')}.`,
        `Export the service from a namespace named ${local.namespace}, import it without importAsLocal, or stop importing it.`,
      );
      continue;
    }
    const ports = namedTargetPorts(mesh, local, imp, diags);
    out.push({
      type: 'importWorkloadEntry',
      ref: ref(API.workloadEntry, 'WorkloadEntry', dnsLabel(local.name, imp.link.peer.name), local.namespace),
      exporter: imp.exporter,
      labels: { ...local.selector, [TLS_MODE_LABEL]: 'istio' },
      network: imp.link.remoteNetwork,
      locality: imp.locality,
      serviceAccount: sameNs && svc.serviceAccounts.length === 1 ? svc.serviceAccounts[0] : undefined,
      ...(Object.keys(ports).length ? { ports } : {}),
    });
    if (sameNs && svc.serviceAccounts.length > 1) {
      diags.warn(
        'MF025',
        svc.source.at(),
        `${imp.exporter}'s pods behind ${svc.namespace}/${svc.name} run as several service accounts ` +
          `(${svc.serviceAccounts.join(', ')}); a WorkloadEntry names one, so ${mesh.cluster}'s ` +
          `clients admit ${imp.exporter}'s identities only through the local pods' service accounts.`,
        'Run the exported pods under one service account.',
      );
    }
    const localPorts = new Set(local.ports.map((p) => p.port));
    const missing = svc.ports.filter((p) => !localPorts.has(p.number));
    if (missing.length) {
      diags.warn(
        'MF010',
        local.source.at(['spec', 'ports']),
        `${mesh.cluster}'s Service ${local.namespace}/${local.name} lacks port(s) ` +
          `${missing.map((p) => p.number).join(', ')} that ${imp.exporter} exports; remote endpoints ` +
          `are only reached on ports both declare.`,
        'Declare the same ports on both sides.',
      );
    }
  }
  return out;
}

/**
 * The `ports` of a WorkloadEntry a local Service selects: for each Service port whose targetPort is a name, that name and
 * a number. istiod resolves a named targetPort through the WorkloadEntry's ports and skips the endpoint when the name is
 * missing (istio/istio@1.27.3 pilot/pkg/serviceregistry/kube/controller/controller.go:807-816 with util.go:101-113;
 * maistra/istio@maistra-2.6 the same at controller.go:765-777): without it the remote endpoint, and the failover to it,
 * silently disappear. The number is the port the exporter's pods listen on (its Service's targetPort, resolved on its
 * workloads), else the one the local pods declare under that name; cross-network, istiod sends the traffic to the
 * remote gateway, so the number only has to be a real port. Neither known: an error.
 */
function namedTargetPorts(mesh: Mesh, local: ServiceObj, imp: Import, diags: Diagnostics): Record<string, number> {
  const out: Record<string, number> = {};
  const remote = new Map(imp.export.service.ports.map((p) => [p.number, p.targetPort]));
  const workloads = mesh.inventory.workloads.filter((w) => w.namespace === local.namespace && selectorSelects(local.selector, w.podLabels));
  local.ports.forEach((p, i) => {
    if (typeof p.targetPort !== 'string' || out[p.targetPort] !== undefined) return;
    const name = p.targetPort;
    const n = remote.get(p.port) ?? workloads.map((w) => w.containerPorts[name]).find((x) => x !== undefined);
    if (n !== undefined) out[name] = n;
    else
      diags.error(
        local.source.at(['spec', 'ports', i, 'targetPort']),
        `${mesh.cluster}'s Service ${local.namespace}/${local.name} port ${p.port} targets the named port "${name}", and ${imp.hostname} ` +
          `from ${imp.exporter} joins it (importAsLocal): its WorkloadEntry needs ports.${name}, or istiod skips the remote endpoint ` +
          `and failover to ${imp.exporter} silently stops. No dumped workload behind the Service declares "${name}", and ` +
          `${imp.exporter}'s Service does not give a number for port ${p.port}.`,
        `Dump the workloads behind ${local.namespace}/${local.name} (oc get deploy,sts,ds -n ${local.namespace} -o yaml), or give ` +
          `port ${p.port} a numeric targetPort.`,
      );
  });
  return out;
}

/** The common case: a ServiceEntry in the import namespace selecting address-less WorkloadEntries, one per exporter. */
function importedServiceResources(ctx: ModelIndex, mesh: Mesh, host: string, group: Import[]): Resource[] {
  const name = hostSlug(host);
  const seRef = ref(API.serviceEntry, 'ServiceEntry', name, mesh.importNamespace);
  return [
    {
      type: 'importServiceEntry',
      ref: seRef,
      host,
      ports: group[0].export.service.ports.map(({ name: portName, number, protocol }) => ({ name: portName, number, protocol })),
      subjectAltNames: exporterIdentities(ctx, group),
      exportTo: mesh.importExportTo,
      exporters: uniqSorted(group.map((imp) => imp.exporter)),
      selector: { app: name },
    },
    ...group.map((imp): Resource => ({
      type: 'importWorkloadEntry',
      ref: ref(API.workloadEntry, 'WorkloadEntry', dnsLabel(name, imp.link.peer.name), mesh.importNamespace),
      fileOf: seRef,
      exporter: imp.exporter,
      labels: { app: name, [TLS_MODE_LABEL]: 'istio' },
      network: imp.link.remoteNetwork,
      locality: imp.locality,
    })),
  ];
}

/** Per imported hostname (sorted), the objects that carry it: shared host, joined local Service, or a ServiceEntry of its own. */
function importResources(ctx: ModelIndex, mesh: Mesh, imports: Import[], diags: Diagnostics): Resource[] {
  const byHost = groupBy(imports, (imp) => imp.hostname);
  return [...byHost.keys()].sort().flatMap((host) => {
    const group = byHost.get(host)!.sort(byKey((imp) => imp.exporter));
    const local = group[0].localService;
    if (local && joinsLocalPods(group[0])) return sharedHostResources(ctx, mesh, host, local, group);
    if (local && host === serviceFqdn(local)) return joinedLocalServiceResources(ctx, mesh, local, group, diags);
    return importedServiceResources(ctx, mesh, host, group);
  });
}

/**
 * 03-import: on importing clusters, one istio-remote Gateway per exporting peer (on the network name
 * this cluster gives that peer, never its own nor network-<peer>), and per imported service a
 * ServiceEntry + address-less WorkloadEntry whose address istiod fills from that Gateway. With an
 * egress gateway, the istio-remote Gateways point at it and it routes to the peers (egress.ts).
 */
export function planImport(
  ctx: ModelIndex,
  mesh: Mesh,
  diags: Diagnostics,
  imports = ctx.importsInto(mesh.cluster),
): { adds: Resource[]; patches: Patch[] } {
  if (imports.length === 0) return { adds: [], patches: [] };
  const egress = planEgress(ctx, mesh, diags, imports);
  const gateways: Resource[] = ctx.exportersOf(imports).map((e) => {
    const link = ctx.linksOf(mesh.cluster).find((l) => l.remote === e.cluster)!;
    // With an egress gateway, sidecars send every peer's traffic to it; it forwards by SNI.
    const via = mesh.egress
      ? { addresses: [mesh.egress.host], port: EGRESS_PORT }
      : { addresses: e.eastWest.addresses, port: e.eastWest.port ?? 15443 };
    return {
      type: 'remoteGateway',
      ref: ref(API.k8sGatewayV1Beta1, 'Gateway', remoteGatewayName(e), mesh.importNamespace),
      network: link.remoteNetwork,
      ...via,
    };
  });
  return { adds: [...egress.adds, ...gateways, ...importResources(ctx, mesh, imports, diags)], patches: egress.patches };
}

export const contribute: Contribute = (ctx, mesh, diags) => ({ '03-import': planImport(ctx, mesh, diags) });
