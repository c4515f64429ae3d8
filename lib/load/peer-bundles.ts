import * as fs from 'fs';
import * as path from 'path';

import { Diagnostics } from '../diagnostics';
import { Json, JsonObject } from '../json';
import { parseRootCert } from './cert';
import { LoadedCluster } from './clusters';
import { parseInventory } from './ossm2';
import { ClusterSettings, settingsFrom, WrittenSpec } from './settings';
import { readYamlObjects, SourceObject } from './yaml-source';
import { MigrationPhase, PHASES } from '../phases';
import { byKey } from '../sort';

interface BundleSpec {
  for: string;
  peerName: string;
  trustDomain: string;
  controlPlaneNamespace: string;
  network: string;
  /** One of PHASES (readBundles refuses others). */
  phase: MigrationPhase;
  rootCert: string;
  eastWestGateway: { addresses: string[]; port?: number };
  importExportTo: string[];
  exports: {
    service: { name: string; namespace: string };
    exportedName: string;
    exportedNamespace: string;
    ports: { name: string; number: number; protocol?: string }[];
    serviceAccounts: string[];
  }[];
  imports: { exportedHostname: string; hostname: string; importAsLocal: boolean }[];
}

const REQUIRED: (keyof BundleSpec)[] = [
  'for',
  'peerName',
  'trustDomain',
  'controlPlaneNamespace',
  'network',
  'phase',
  'rootCert',
  'eastWestGateway',
  'importExportTo',
  'exports',
  'imports',
];

/** Read every clusters/<cluster>/peers/*.yaml written by a peer's meshfed (dist/<peer>/export-for-<cluster>.yaml). */
function readBundles(clustersDir: string, local: LoadedCluster[], diags: Diagnostics): Bundle[] {
  const out: Bundle[] = [];
  for (const c of local) {
    const dir = path.join(clustersDir, c.name, 'peers');
    if (!fs.existsSync(dir)) continue;
    for (const f of fs
      .readdirSync(dir)
      .filter((x) => /\.ya?ml$/.test(x))
      .sort()) {
      for (const src of readYamlObjects(path.join(dir, f), diags)) {
        if (src.apiVersion !== 'meshfed.dev/v1alpha1' || src.kind !== 'PeerBundle') {
          diags.error(
            src.at(['kind']),
            "expected a meshfed.dev/v1alpha1 PeerBundle (dist/<peer>/export-for-<cluster>.yaml of the peer's meshfed).",
          );
          continue;
        }
        const spec = src.value.spec as unknown as BundleSpec | undefined;
        const missing = REQUIRED.filter((k) => spec?.[k] === undefined);
        if (!spec || missing.length) {
          diags.error(src.at(['spec']), `incomplete bundle: missing ${missing.join(', ')}.`, "Copy the file again from the peer's dist/.");
          continue;
        }
        if (spec.for !== c.name) {
          diags.error(src.at(['spec', 'for']), `this bundle is for ${spec.for}, not ${c.name}.`, `Put it in clusters/${spec.for}/peers/.`);
          continue;
        }
        if (!(PHASES as readonly string[]).includes(spec.phase)) {
          diags.error(src.at(['spec', 'phase']), `unknown phase "${spec.phase}".`);
          continue;
        }
        out.push({ src, writer: src.name, spec });
      }
    }
  }
  return out;
}

function obj(file: string, value: JsonObject): SourceObject {
  return new SourceObject(file, value);
}

/** "<name>.<ns>.<suffix>" → its parts. */
function splitHost(h: string): { name: string; namespace: string; suffix: string } {
  const [name, namespace, ...rest] = h.split('.');
  return { name, namespace, suffix: rest.join('.') };
}

interface Bundle {
  readonly src: SourceObject;
  readonly writer: string;
  readonly spec: BundleSpec;
}

/** The OSSM 3 version a virtual cluster is modelled with: nothing is rendered for it, so any valid one. */
const VIRTUAL_OSSM3_VERSION = 'v1.27.3';
/** Fields every bundle of one writer must agree on (they describe the writer, not the link). */
const WRITER_FIELDS = ['trustDomain', 'controlPlaneNamespace', 'network', 'rootCert', 'phase'] as const;

/** The bundles of one writer describe one cluster: refused when it also has a folder or the bundles disagree. */
function validWriter(writer: string, bundles: Bundle[], local: LoadedCluster[], diags: Diagnostics): boolean {
  const first = bundles[0];
  if (local.some((c) => c.name === writer)) {
    diags.error(
      first.src.at(['metadata', 'name']),
      `${writer} is both a cluster folder and a peer bundle.`,
      `Render ${writer} from its folder or from its bundle, not both: remove one.`,
    );
    return false;
  }
  let ok = true;
  for (const bundle of bundles.slice(1)) {
    for (const k of WRITER_FIELDS) {
      if (JSON.stringify(bundle.spec[k]) === JSON.stringify(first.spec[k])) continue;
      diags.error(
        bundle.src.at(['spec', k]),
        `differs from ${writer}'s bundle in ${first.src.file}.`,
        `Copy both bundles from the same render of ${writer}.`,
      );
      ok = false;
    }
  }
  return ok;
}

/** The writer's ServiceMeshPeer for the local cluster, with the CA ConfigMap holding that cluster's root. */
function peerFor(file: string, cp: string, peerName: string, peer: LoadedCluster): SourceObject[] {
  return [
    obj(file, {
      apiVersion: 'federation.maistra.io/v1',
      kind: 'ServiceMeshPeer',
      metadata: { name: peerName, namespace: cp },
      spec: {
        remote: { addresses: [] },
        gateways: { ingress: { name: `ingress-${peerName}` }, egress: { name: `egress-${peerName}` } },
        security: {
          trustDomain: peer.inventory.controlPlane.trustDomain,
          certificateChain: { kind: 'ConfigMap', name: `${peerName}-ca-root-cert` },
        },
      },
    }),
    obj(file, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: `${peerName}-ca-root-cert`, namespace: cp },
      data: { 'root-cert.pem': peer.rootCert.pem },
    }),
  ];
}

/** One NameSelector rule per exported service, aliased to the exported name the writer used. */
function exportSetFor(file: string, cp: string, bundle: Bundle): SourceObject {
  return obj(file, {
    apiVersion: 'federation.maistra.io/v1',
    kind: 'ExportedServiceSet',
    metadata: { name: bundle.spec.peerName, namespace: cp },
    spec: {
      exportRules: bundle.spec.exports.map((e) => ({
        type: 'NameSelector',
        nameSelector: {
          namespace: e.service.namespace,
          name: e.service.name,
          alias: { namespace: e.exportedNamespace, name: e.exportedName },
        },
      })),
    },
  });
}

/** One NameSelector rule per imported service, giving it the hostname the writer uses. */
function importSetFor(file: string, cp: string, bundle: Bundle): SourceObject {
  return obj(file, {
    apiVersion: 'federation.maistra.io/v1',
    kind: 'ImportedServiceSet',
    metadata: { name: bundle.spec.peerName, namespace: cp },
    spec: {
      importRules: bundle.spec.imports.map((imp): Json => {
        const exported = splitHost(imp.exportedHostname);
        const local = splitHost(imp.hostname);
        const nameSelector = {
          namespace: exported.namespace,
          name: exported.name,
          alias: { namespace: local.namespace, name: local.name },
        };
        return imp.importAsLocal
          ? { type: 'NameSelector', importAsLocal: true, nameSelector }
          : { type: 'NameSelector', nameSelector, domainSuffix: local.suffix };
      }),
    },
  });
}

/** An exported service as a Service with the same ports, and one Deployment per service account (its identities). */
function serviceObjects(e: BundleSpec['exports'][number]): JsonObject[] {
  const selector = { 'meshfed.dev/service': e.service.name };
  const service: JsonObject = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: e.service.name, namespace: e.service.namespace },
    spec: {
      selector,
      ports: e.ports.map((port) => ({
        name: port.name,
        port: port.number,
        protocol: port.protocol === 'UDP' ? 'UDP' : 'TCP',
        ...(port.protocol && port.protocol !== 'UDP' ? { appProtocol: port.protocol.toLowerCase() } : {}),
      })),
    },
  };
  const deployments = e.serviceAccounts.map((sa): JsonObject => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: `${e.service.name}-${sa}`, namespace: e.service.namespace },
    spec: { template: { metadata: { labels: selector }, spec: { serviceAccountName: sa } } },
  }));
  return [service, ...deployments];
}

/** The writer's settings as far as the model reads them; every other field is the schema's default. */
function virtualSettings(first: Bundle): ClusterSettings {
  const s = first.spec;
  const port = s.eastWestGateway.port;
  const spec: WrittenSpec = {
    network: s.network,
    phase: s.phase,
    ossm3: { version: VIRTUAL_OSSM3_VERSION },
    eastWestGateway: { address: s.eastWestGateway.addresses, service: port === 15443 ? {} : { type: 'NodePort', nodePort: port } },
    importedServices: { exportTo: s.importExportTo },
  };
  return settingsFrom(spec, first.src);
}

/** The virtual inventory of one writer: its control plane, its links to the local clusters, its exported services. */
function virtualObjects(bundles: Bundle[], local: LoadedCluster[]): SourceObject[] {
  const first = bundles[0];
  const file = first.src.file;
  const cp = first.spec.controlPlaneNamespace;
  const objects: SourceObject[] = [
    obj(file, {
      apiVersion: 'maistra.io/v2',
      kind: 'ServiceMeshControlPlane',
      metadata: { name: 'basic', namespace: cp },
      spec: { version: 'v2.6', mode: 'ClusterWide', security: { trust: { domain: first.spec.trustDomain } } },
    }),
  ];
  const namespaces = new Set<string>();
  const services = new Map<string, JsonObject[]>();
  for (const bundle of bundles) {
    const peer = local.find((c) => c.name === bundle.spec.for)!;
    objects.push(...peerFor(file, cp, bundle.spec.peerName, peer), exportSetFor(file, cp, bundle), importSetFor(file, cp, bundle));
    for (const e of bundle.spec.exports) {
      namespaces.add(e.service.namespace);
      const key = `${e.service.namespace}/${e.service.name}`;
      if (!services.has(key)) services.set(key, serviceObjects(e));
    }
  }
  for (const n of first.spec.importExportTo) if (n !== '*' && n !== '.') namespaces.add(n);
  for (const n of [...namespaces].sort()) objects.push(obj(file, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: n } }));
  for (const list of services.values()) for (const o of list) objects.push(obj(file, o));
  return objects;
}

/**
 * The clusters that peers administered elsewhere describe in their bundles, as virtual clusters: an
 * inventory whose ServiceMeshPeers, export and import sets, Services and workloads make meshfed's
 * model compute exactly what the peer's model computed for these links. Nothing is rendered for them.
 */
export function loadPeerBundles(clustersDir: string, local: LoadedCluster[], diags: Diagnostics): LoadedCluster[] {
  const byWriter = new Map<string, Bundle[]>();
  for (const bundle of readBundles(clustersDir, local, diags))
    byWriter.set(bundle.writer, [...(byWriter.get(bundle.writer) ?? []), bundle]);
  const out: LoadedCluster[] = [];
  for (const [writer, bundles] of [...byWriter].sort(byKey(([name]) => name))) {
    if (!validWriter(writer, bundles, local, diags)) continue;
    const first = bundles[0];
    const inventory = parseInventory(virtualObjects(bundles, local), diags);
    const rootCert = parseRootCert(first.src.file, first.spec.rootCert, diags);
    if (!inventory || !rootCert) continue;
    out.push({
      name: writer,
      dir: path.dirname(first.src.file),
      settings: virtualSettings(first),
      inventory,
      rootCert,
      virtual: true,
    });
  }
  return out;
}
