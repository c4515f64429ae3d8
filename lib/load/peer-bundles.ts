import * as fs from 'fs';
import * as path from 'path';

import { LineCounter } from 'yaml';

import { Diagnostics } from '../diagnostics';
import { parseRootCert } from './cert';
import { LoadedCluster } from './clusters';
import { parseInventory } from './ossm2';
import { ClusterSettings } from './settings';
import { Json, JsonObject, readYamlObjects, SourceObject } from './yaml-source';
import { PhaseId, PHASES } from '../phases';
import { byKey } from '../sort';

interface BundleSpec {
  for: string;
  peerName: string;
  trustDomain: string;
  controlPlaneNamespace: string;
  network: string;
  phase: PhaseId;
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
function readBundles(
  clustersDir: string,
  local: LoadedCluster[],
  diags: Diagnostics,
): { src: SourceObject; writer: string; spec: BundleSpec }[] {
  const out: { src: SourceObject; writer: string; spec: BundleSpec }[] = [];
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
  return new SourceObject(file, value, undefined, new LineCounter());
}

/** "<name>.<ns>.<suffix>" → its parts. */
function splitHost(h: string): { name: string; namespace: string; suffix: string } {
  const [name, namespace, ...rest] = h.split('.');
  return { name, namespace, suffix: rest.join('.') };
}

/**
 * The clusters that peers administered elsewhere describe in their bundles, as virtual clusters: an
 * inventory whose ServiceMeshPeers, export and import sets, Services and workloads make meshfed's
 * model compute exactly what the peer's model computed for these links. Nothing is rendered for them.
 */
export function loadPeerBundles(clustersDir: string, local: LoadedCluster[], diags: Diagnostics): LoadedCluster[] {
  const bundles = readBundles(clustersDir, local, diags);
  const byWriter = new Map<string, typeof bundles>();
  for (const b of bundles) byWriter.set(b.writer, [...(byWriter.get(b.writer) ?? []), b]);
  const out: LoadedCluster[] = [];
  for (const [writer, list] of [...byWriter].sort(byKey(([writer]) => writer))) {
    const first = list[0];
    if (local.some((c) => c.name === writer)) {
      diags.error(
        first.src.at(['metadata', 'name']),
        `${writer} is both a cluster folder and a peer bundle.`,
        `Render ${writer} from its folder or from its bundle, not both: remove one.`,
      );
      continue;
    }
    const s = first.spec;
    for (const b of list.slice(1)) {
      for (const k of ['trustDomain', 'controlPlaneNamespace', 'network', 'rootCert', 'phase'] as const) {
        if (JSON.stringify(b.spec[k]) !== JSON.stringify(s[k]))
          diags.error(
            b.src.at(['spec', k]),
            `differs from ${writer}'s bundle in ${first.src.file}.`,
            `Copy both bundles from the same render of ${writer}.`,
          );
      }
    }
    const file = first.src.file;
    const cp = s.controlPlaneNamespace;
    const objects: SourceObject[] = [
      obj(file, {
        apiVersion: 'maistra.io/v2',
        kind: 'ServiceMeshControlPlane',
        metadata: { name: 'basic', namespace: cp },
        spec: { version: 'v2.6', mode: 'ClusterWide', security: { trust: { domain: s.trustDomain } } },
      }),
    ];
    const namespaces = new Set<string>();
    const services = new Map<string, JsonObject[]>();
    for (const b of list) {
      const peer = local.find((c) => c.name === b.spec.for)!;
      const p = b.spec.peerName;
      objects.push(
        obj(file, {
          apiVersion: 'federation.maistra.io/v1',
          kind: 'ServiceMeshPeer',
          metadata: { name: p, namespace: cp },
          spec: {
            remote: { addresses: [] },
            gateways: { ingress: { name: `ingress-${p}` }, egress: { name: `egress-${p}` } },
            security: {
              trustDomain: peer.inventory.controlPlane.trustDomain,
              certificateChain: { kind: 'ConfigMap', name: `${p}-ca-root-cert` },
            },
          },
        }),
        obj(file, {
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: { name: `${p}-ca-root-cert`, namespace: cp },
          data: { 'root-cert.pem': peer.rootCert.pem },
        }),
        obj(file, {
          apiVersion: 'federation.maistra.io/v1',
          kind: 'ExportedServiceSet',
          metadata: { name: p, namespace: cp },
          spec: {
            exportRules: b.spec.exports.map((e) => ({
              type: 'NameSelector',
              nameSelector: {
                namespace: e.service.namespace,
                name: e.service.name,
                alias: { namespace: e.exportedNamespace, name: e.exportedName },
              },
            })),
          },
        }),
        obj(file, {
          apiVersion: 'federation.maistra.io/v1',
          kind: 'ImportedServiceSet',
          metadata: { name: p, namespace: cp },
          spec: {
            importRules: b.spec.imports.map((i): Json => {
              const exported = splitHost(i.exportedHostname);
              const local = splitHost(i.hostname);
              const sel = { namespace: exported.namespace, name: exported.name, alias: { namespace: local.namespace, name: local.name } };
              return i.importAsLocal
                ? { type: 'NameSelector', importAsLocal: true, nameSelector: sel }
                : { type: 'NameSelector', nameSelector: sel, domainSuffix: local.suffix };
            }),
          },
        }),
      );
      for (const e of b.spec.exports) {
        namespaces.add(e.service.namespace);
        const key = `${e.service.namespace}/${e.service.name}`;
        if (services.has(key)) continue;
        const selector = { 'meshfed.dev/service': e.service.name };
        services.set(key, [
          {
            apiVersion: 'v1',
            kind: 'Service',
            metadata: { name: e.service.name, namespace: e.service.namespace },
            spec: {
              selector,
              ports: e.ports.map((pt) => ({
                name: pt.name,
                port: pt.number,
                protocol: pt.protocol === 'UDP' ? 'UDP' : 'TCP',
                ...(pt.protocol && pt.protocol !== 'UDP' ? { appProtocol: pt.protocol.toLowerCase() } : {}),
              })),
            },
          },
          ...e.serviceAccounts.map((sa): JsonObject => ({
            apiVersion: 'apps/v1',
            kind: 'Deployment',
            metadata: { name: `${e.service.name}-${sa}`, namespace: e.service.namespace },
            spec: { template: { metadata: { labels: selector }, spec: { serviceAccountName: sa } } },
          })),
        ]);
      }
    }
    for (const n of s.importExportTo) if (n !== '*' && n !== '.') namespaces.add(n);
    for (const n of [...namespaces].sort()) objects.push(obj(file, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: n } }));
    for (const list2 of services.values()) for (const o of list2) objects.push(obj(file, o));
    const inventory = parseInventory(objects, diags);
    const rootCert = parseRootCert(file, s.rootCert, diags);
    if (!inventory || !rootCert) continue;
    const port = s.eastWestGateway.port;
    const settings: ClusterSettings = {
      name: writer,
      mode: 'migration',
      hostnameScheme: 'maistra',
      network: s.network,
      phase: s.phase,
      ossm3: { version: 'v1.27.3' },
      argocd: {},
      verify: [],
      exposure: {},
      eastWestGateway: { address: s.eastWestGateway.addresses, service: port === 15443 ? {} : { type: 'NodePort', nodePort: port } },
      remoteNetworks: {},
      platform: 'openshift',
      egressGateway: {},
      importedServices: { exportTo: s.importExportTo },
      workloadRestart: {},
      source: first.src,
    };
    out.push({ name: writer, dir: path.dirname(file), settings, inventory, rootCert, virtual: true });
  }
  return out;
}
