import { Diagnostics } from '../diagnostics';
import { groupBy } from '../group';
import { computeExports } from './exports';
import { computeImports } from './imports';
import { memberNamespaces } from './members';
import { CLUSTER_DOMAIN, exportCandidates } from './services';
import { Export, FederationModel, Import, Mesh, PeerLink } from './types';
import { LoadedCluster } from '../load/clusters';
import { ConfigMapObj, Peer } from '../load/inventory-types';
import { ClusterSettings } from '../load/settings';
import { byKey, compareStrings } from '../sort';
import { revisionName, inputPath } from './names';

function egressGateway(s: ClusterSettings): Mesh['egress'] {
  if (!s.egressGateway.enabled) return undefined;
  const { name, namespace } = s.egressGateway;
  return { name, namespace, host: `${name}-istio.${namespace}.svc.${CLUSTER_DOMAIN}` };
}

function buildMesh(c: LoadedCluster, diags: Diagnostics): Mesh {
  const cp = c.inventory.controlPlane;
  const s = c.settings;
  const members = memberNamespaces(c.inventory, diags);
  const ossm3Namespace = s.ossm3.namespace ?? cp.namespace;
  return {
    cluster: c.name,
    virtual: c.virtual === true,
    settings: s,
    inventory: c.inventory,
    rootCert: c.rootCert,
    controlPlane: cp,
    trustDomain: cp.trustDomain,
    network: s.network,
    memberNamespaces: members,
    ossm3: {
      version: s.ossm3.version,
      namespace: ossm3Namespace,
      cniNamespace: s.ossm3.cniNamespace,
      istioName: 'default',
      revision: revisionName('default', s.ossm3.version),
    },
    eastWest: {
      namespace: s.eastWestGateway.namespace,
      name: s.eastWestGateway.name,
      addresses: [s.eastWestGateway.address ?? []].flat(),
      port: s.eastWestGateway.service.type === 'NodePort' ? s.eastWestGateway.service.nodePort : 15443,
      serviceType: s.eastWestGateway.service.type,
      annotations: s.eastWestGateway.service.annotations ?? {},
    },
    platform: s.platform,
    egress: egressGateway(s),
    importNamespace: s.importedServices.namespace ?? cp.namespace,
    importExportTo: s.importedServices.exportTo ?? defaultImportExportTo(c, members),
    restartImage: s.workloadRestart.image ?? '',
  };
}

/**
 * Where imported services are visible by default: Maistra's federation registry made them Public, visible to every
 * namespace of the mesh (maistra/istio@maistra-2.5 pilot/pkg/serviceregistry/federation/controller.go:379) — the
 * members and the control plane's namespace, where the SMCP's own gateways run and route to them. A mesh without an
 * SMCP (greenfield) has only its members.
 */
function defaultImportExportTo(c: LoadedCluster, members: string[]): string[] {
  const smcp = c.settings.mode !== 'greenfield' || c.inventory.declaredControlPlane === true;
  const namespaces = smcp ? [...new Set([...members, c.inventory.controlPlane.namespace])].sort(compareStrings) : members;
  return namespaces.length ? namespaces : ['.'];
}

/**
 * Which of two meshes sharing a trust domain is the odd one: the one whose peer expects it under another
 * trust domain (a ServiceMeshPeer of the other mesh names a trust domain no mesh has).
 */
function oddOne(a: Mesh, b: Mesh, known: Set<string>): { odd: Mesh; expected?: { peer: string; trustDomain: string } } {
  for (const [odd, other] of [
    [a, b],
    [b, a],
  ]) {
    const p = other.inventory.peers.find((x) => !known.has(x.trustDomain));
    if (p) return { odd, expected: { peer: `${other.cluster}'s ServiceMeshPeer ${p.name}`, trustDomain: p.trustDomain } };
  }
  return { odd: b };
}

/** Meshes are told apart by trust domain: two meshes with one trust domain cannot be federated. */
function indexByTrustDomain(meshes: Mesh[], diags: Diagnostics): Map<string, Mesh> {
  const byTd = new Map<string, Mesh>();
  const known = new Set(meshes.map((m) => m.trustDomain));
  for (const m of meshes) {
    const other = byTd.get(m.trustDomain);
    if (other) {
      // Point at the mesh that changed (or whose folder holds another cluster's dumps), not its correct twin.
      const { odd, expected } = oddOne(other, m, known);
      const twin = odd === m ? other : m;
      diags.error(
        odd.controlPlane.source.at(['spec', 'security', 'trust', 'domain']),
        `clusters ${twin.cluster} and ${odd.cluster} both use trust domain "${m.trustDomain}"` +
          (expected ? `; ${expected.peer} expects ${odd.cluster} as "${expected.trustDomain}".` : '.'),
        expected
          ? `Set ${odd.cluster}'s spec.security.trust.domain to ${expected.trustDomain}, or check that ` +
              `${inputPath(odd, 'ossm2/')} holds ${odd.cluster}'s own dumps.`
          : 'Each federated mesh needs its own trust domain (Maistra requires it and meshfed finds ' +
              'peers by it): check that each cluster folder holds its own dumps.',
      );
    } else byTd.set(m.trustDomain, m);
  }
  return byTd;
}

/** The cluster's own network must not be a federation network, and remoteNetworks keys must name local peers. */
function checkNetworkSettings(mesh: Mesh, diags: Diagnostics): void {
  const peers = mesh.inventory.peers;
  if (peers.some((p) => `network-${p.name}` === mesh.network)) {
    diags.error(
      mesh.settings.source.at(['spec', 'network']),
      `network "${mesh.network}" is also the name Maistra gives the federation network of a peer (network-<ServiceMeshPeer>).`,
      'Choose another network name for this cluster.',
    );
  }
  const names = peers.map((p) => p.name).sort();
  for (const key of Object.keys(mesh.settings.remoteNetworks)) {
    if (names.includes(key)) continue;
    diags.error(
      mesh.settings.source.at(['spec', 'remoteNetworks', key]),
      `there is no ServiceMeshPeer named "${key}" in ${mesh.cluster}'s ossm2/.`,
      `Keys are local ServiceMeshPeer names: ${names.join(', ') || '(none)'}.`,
    );
  }
}

/** The mesh a ServiceMeshPeer points at (by trust domain), or undefined with an error. */
function remoteMeshOf(mesh: Mesh, peer: Peer, byTd: Map<string, Mesh>, seen: Map<string, Peer>, diags: Diagnostics): Mesh | undefined {
  const remote = byTd.get(peer.trustDomain);
  const at = peer.source.at(['spec', 'security', 'trustDomain']);
  if (!remote) {
    diags.error(
      at,
      `no cluster in the clusters folder has trust domain "${peer.trustDomain}".`,
      `Add the peer's folder (its SMCP spec.security.trust.domain must be ${peer.trustDomain}), or ` +
        `fix the trust domain. Known: ${[...byTd.keys()].sort().join(', ')}.`,
    );
    return undefined;
  }
  if (remote === mesh) {
    diags.error(at, `this peer has the mesh's own trust domain "${peer.trustDomain}".`, "Set the peer mesh's trust domain.");
    return undefined;
  }
  const dup = seen.get(remote.cluster);
  if (dup) {
    // A trust domain copied from another ServiceMeshPeer: point at the one whose name does not name the
    // mesh it now resolves to (peers are usually named after their mesh), and list the meshes no peer names.
    const names = (p: Peer) => p.name.includes(remote.cluster);
    const wrong = names(peer) && !names(dup) ? dup : peer;
    const right = wrong === peer ? dup : peer;
    const named = new Set(mesh.inventory.peers.map((p) => p.trustDomain));
    const unnamed = [...byTd.values()].filter((m) => m !== mesh && !named.has(m.trustDomain)).map((m) => `${m.cluster} (${m.trustDomain})`);
    diags.error(
      wrong.source.at(['spec', 'security', 'trustDomain']),
      `ServiceMeshPeers ${right.name} and ${wrong.name} both name trust domain "${peer.trustDomain}" (${remote.cluster}).`,
      `If ${wrong.name} is meant for another mesh, set its spec.security.trustDomain to that mesh's` +
        (unnamed.length ? ` (no ServiceMeshPeer names ${unnamed.join(', ')})` : '') +
        '; otherwise keep one ServiceMeshPeer per peer mesh.',
    );
    return undefined;
  }
  seen.set(remote.cluster, peer);
  return remote;
}

/** Why the network name given to a peer's east-west gateway cannot be used (undefined when it can). */
function remoteNetworkProblem(mesh: Mesh, remoteNetwork: string, used: Map<string, string>): string | undefined {
  if (remoteNetwork === mesh.network) {
    return "is this cluster's own network: local clients would be routed to the local service through the remote gateway";
  }
  if (mesh.inventory.peers.some((p) => `network-${p.name}` === remoteNetwork)) {
    return (
      `is a federation network name (network-<ServiceMeshPeer>): the istio-remote gateway would ` +
      `overwrite the federation ingress address and break traffic before the new entries exist`
    );
  }
  return used.has(remoteNetwork) ? `is already used for peer ${used.get(remoteNetwork)}` : undefined;
}

/**
 * The peer's CA ConfigMap in the dumps, with a warning when it is missing. Whether it holds the peer's
 * root-cert.pem is MF022's question (lib/check/trust.ts): how bad a mismatch is depends on the phase.
 */
function caConfigMapOf(mesh: Mesh, peer: Peer, diags: Diagnostics): ConfigMapObj | undefined {
  const cp = mesh.controlPlane.namespace;
  const cm = mesh.inventory.configMaps.find((c) => c.namespace === cp && c.name === peer.caConfigMap);
  // Declared federation (greenfield): OSSM 3 takes the peer's root from its root-cert.pem, no ConfigMap is involved.
  if (!cm && mesh.settings.mode === 'greenfield') return undefined;
  if (!cm) {
    diags.warn(
      'MF020',
      peer.source.at(['spec', 'security', 'certificateChain']),
      `ConfigMap ${cp}/${peer.caConfigMap} with the peer's root is not in ossm2/; it is not adopted in 00-federation.`,
      `Add it: \`oc get cm ${peer.caConfigMap} -n ${cp} -o yaml\`.`,
    );
  }
  return cm;
}

/**
 * A ServiceMeshPeer's federation gateways must be gateways the SMCP defines: Maistra serves a peer through
 * the additionalIngress/additionalEgress gateway it names, and meshfed removes exactly those in 04.
 */
function checkPeerGateways(mesh: Mesh, peer: Peer, diags: Diagnostics): void {
  if (mesh.virtual || mesh.settings.mode === 'greenfield') return;
  const cp = mesh.controlPlane;
  for (const [kind, name, defined] of [
    ['ingress', peer.ingressGateway, cp.additionalIngress],
    ['egress', peer.egressGateway, cp.additionalEgress],
  ] as const) {
    if (!name || defined.includes(name)) continue;
    const map = kind === 'ingress' ? 'additionalIngress' : 'additionalEgress';
    diags.error(
      peer.source.at(['spec', 'gateways', kind, 'name']),
      `federation ${kind} gateway "${name}" is not a gateway of SMCP ${cp.namespace}/${cp.name} ` +
        `(spec.gateways.${map} has ${defined.join(', ') || 'none'}).`,
      `Dump the SMCP and the ServiceMeshPeer from the same cluster, or fix the gateway name: Maistra cannot serve this peer as dumped.`,
    );
  }
}

/** The links of one mesh: one per ServiceMeshPeer that names another mesh, on a usable network name. */
function linksOfMesh(mesh: Mesh, byTd: Map<string, Mesh>, diags: Diagnostics): PeerLink[] {
  const inv = mesh.inventory;
  checkNetworkSettings(mesh, diags);
  const seenRemote = new Map<string, Peer>();
  const usedNetworks = new Map<string, string>();
  const links: PeerLink[] = [];
  for (const peer of [...inv.peers].sort(byKey((p) => p.name))) {
    checkPeerGateways(mesh, peer, diags);
    if (!peer.trustDomain) continue;
    const remote = remoteMeshOf(mesh, peer, byTd, seenRemote, diags);
    if (!remote) continue;
    const remoteNetwork = mesh.settings.remoteNetworks[peer.name] ?? `${remote.cluster}-network`;
    const why = remoteNetworkProblem(mesh, remoteNetwork, usedNetworks);
    if (why) {
      const explicit = mesh.settings.remoteNetworks[peer.name] !== undefined;
      if (!explicit && remoteNetwork === mesh.network) {
        // The own network took the peer's default name (<peer cluster>-network): the own name is the mistake.
        diags.error(
          mesh.settings.source.at(['spec', 'network']),
          `${mesh.cluster}'s own network "${mesh.network}" is the name meshfed gives peer ${peer.name}'s network ` +
            `(${remote.cluster}-network, ${remote.cluster}'s east-west gateway): local clients would be routed to the local ` +
            'service through the remote gateway.',
          `Set spec.network in ${inputPath(mesh, 'cluster.yaml')} to this cluster's own name (e.g. ${mesh.cluster}-network), ` +
            `or name the peer's network with spec.remoteNetworks.${peer.name}.`,
        );
        continue;
      }
      diags.error(
        mesh.settings.source.at(explicit ? ['spec', 'remoteNetworks', peer.name] : ['spec', 'network']),
        `the network name "${remoteNetwork}" for peer ${peer.name} (${remote.cluster}) ${why}.`,
        `Set spec.remoteNetworks.${peer.name} in ${inputPath(mesh, 'cluster.yaml')} to a unique name, e.g. ${remote.cluster}-ew-network.`,
      );
      continue;
    }
    usedNetworks.set(remoteNetwork, peer.name);
    links.push({
      local: mesh.cluster,
      remote: remote.cluster,
      peer,
      federationNetwork: `network-${peer.name}`,
      remoteNetwork,
      exportSet: inv.exportSets.find((e) => e.name === peer.name),
      importSet: inv.importSets.find((i) => i.name === peer.name),
      caConfigMap: caConfigMapOf(mesh, peer, diags),
    });
  }
  for (const set of [...inv.exportSets, ...inv.importSets]) {
    if (inv.peers.some((p) => p.name === set.name)) continue;
    diags.warn(
      'MF021',
      set.source.at(['metadata', 'name']),
      `no ServiceMeshPeer named "${set.name}": Maistra pairs sets with peers by name, so this one does nothing (and is not migrated).`,
      'Rename it after the ServiceMeshPeer it is meant for, or remove it.',
    );
  }
  return links;
}

/**
 * The east-west gateway is a new Service with its own address and port; a peer's ServiceMeshPeer lists
 * the old federation ingress gateway's (spec.remote.addresses, servicePort). Setting one for the other
 * points every importer at the wrong gateway. Both are compared: with type NodePort both gateways are
 * reached on the same node IPs, each on its own node port (a node port belongs to one Service), so the
 * same address on another port is the expected case, not a mistake. An unknown node port says nothing
 * (03-import waits for it).
 */
function checkOldIngressAddresses(meshes: Mesh[], links: PeerLink[], diags: Diagnostics): void {
  const byCluster = new Map(meshes.map((m) => [m.cluster, m]));
  for (const link of links) {
    const exporter = byCluster.get(link.remote)!;
    const ew = exporter.eastWest;
    if (exporter.virtual || ew.port !== link.peer.servicePort) continue;
    for (const address of ew.addresses.filter((a) => link.peer.addresses.includes(a))) {
      diags.warn(
        'MF023',
        exporter.settings.source.at(['spec', 'eastWestGateway', 'address']),
        `${address} port ${ew.port} is the address and port of ${exporter.cluster}'s federation ingress gateway (ServiceMeshPeer ` +
          `${link.peer.name} in ${link.local} lists them: spec.remote.addresses, servicePort), not of its east-west gateway, ` +
          `which is a new Service (${ew.name}-istio).`,
        `Set the address of Service ${ew.name}-istio in namespace ${ew.namespace} once 02-export is applied` +
          (ew.serviceType === 'NodePort' ? ', and its node port in spec.eastWestGateway.service.nodePort.' : '.'),
      );
    }
  }
}

function buildLinks(meshes: Mesh[], byTd: Map<string, Mesh>, diags: Diagnostics): PeerLink[] {
  const links = meshes.flatMap((mesh) => linksOfMesh(mesh, byTd, diags));
  checkOldIngressAddresses(meshes, links, diags);
  for (const link of links) {
    if (links.some((r) => r.local === link.remote && r.remote === link.local)) continue;
    diags.warn(
      'MF021',
      link.peer.source.at(),
      `${link.remote} has no ServiceMeshPeer for ${link.local}: the peering is one-sided, so nothing is exchanged over it.`,
      `Add ${link.remote}'s ServiceMeshPeer to clusters/${link.remote}/ossm2/.`,
    );
  }
  return links;
}

/** Exposed hostnames must map to one service per exporter, and must not shadow another local Service. */
function checkExposures(meshes: Mesh[], imports: Import[], diags: Diagnostics): void {
  const byExporter = groupBy(imports, (i) => i.exporter);
  for (const m of meshes) {
    const byHost = new Map<string, Import>();
    const local = new Map(m.inventory.services.map((s) => [`${s.name}.${s.namespace}.svc.cluster.local`, s]));
    for (const i of byExporter.get(m.cluster) ?? []) {
      const prev = byHost.get(i.hostname);
      const svc = i.export.service;
      if (prev && (prev.export.service.namespace !== svc.namespace || prev.export.service.name !== svc.name)) {
        diags.error(
          i.link.importSet!.source.at(['spec', 'importRules', i.ruleIndex]),
          `${i.importer} imports ${svc.namespace}/${svc.name} of ${m.cluster} as ${i.hostname}, but ` +
            `${prev.importer} uses that hostname for ${prev.export.service.namespace}/${prev.export.service.name}.`,
          `After the migration ${m.cluster}'s east-west gateway routes by hostname alone: give the imports distinct names.`,
        );
      }
      byHost.set(i.hostname, prev ?? i);
      const same = local.get(i.hostname);
      const shadow = same && !(same.name === svc.name && same.namespace === svc.namespace) ? same : undefined;
      if (shadow) {
        diags.error(
          i.link.importSet!.source.at(['spec', 'importRules', i.ruleIndex]),
          `${i.importer} imports ${svc.namespace}/${svc.name} of ${m.cluster} as ${i.hostname}, which ` +
            `is another Service (${shadow.namespace}/${shadow.name}) in ${m.cluster}.`,
          `${m.cluster}'s gateway would route that hostname to its own ` +
            `${shadow.namespace}/${shadow.name}: use an alias that does not name an existing Service of ` +
            `the exporter.`,
        );
      }
    }
  }
}

/** The federation graph: meshes, peerings, exports and imports, exactly as Maistra computes them. */
export function buildModel(clusters: LoadedCluster[], diags: Diagnostics): FederationModel {
  const meshes = clusters.map((c) => buildMesh(c, diags)).sort(byKey((m) => m.cluster));
  const byTd = indexByTrustDomain(meshes, diags);
  diags.throwIfErrors(); // peers are found by trust domain: nothing below makes sense until they are unique
  const links = buildLinks(meshes, byTd, diags);
  diags.throwIfErrors();
  const byCluster = new Map(meshes.map((m) => [m.cluster, m]));
  const candidates = new Map(meshes.map((m) => [m.cluster, exportCandidates(m)]));
  const exports: Export[] = [];
  for (const l of links) exports.push(...computeExports(l, candidates.get(l.local)!, diags));
  // What each exporter offers each importer, and which links have a reverse: indexed once (1,560 links at 40 meshes).
  const offers = groupBy(exports, (e) => `${e.exporter}>${e.importer}`);
  const linked = new Set(links.map((l) => `${l.local}>${l.remote}`));
  const imports: Import[] = [];
  for (const l of links) {
    const offered = offers.get(`${l.remote}>${l.local}`) ?? [];
    if (!linked.has(`${l.remote}>${l.local}`)) continue;
    imports.push(
      ...computeImports(l, offered, byCluster.get(l.local)!.inventory.services, diags, byCluster.get(l.local)!.settings.hostnameScheme),
    );
  }
  checkExposures(meshes, imports, diags);
  for (const i of imports) {
    if (i.export.service.serviceAccounts.length === 0) {
      diags.warn(
        'MF025',
        i.export.service.source.at(i.export.service.kind === 'Service' ? ['spec', 'selector'] : ['spec', 'workloadSelector']),
        `no Deployment, StatefulSet or DaemonSet in ${i.exporter}'s ossm2/ runs the pods of this ` +
          `service, so its SPIFFE identity is unknown; ${i.importer}'s ServiceEntry for ${i.hostname} ` +
          `gets no subjectAltNames (any workload of ${i.exporter} would be accepted).`,
        `Add the workload to clusters/${i.exporter}/ossm2/.`,
      );
    }
  }
  diags.throwIfErrors();
  return { meshes, links, exports, imports };
}
