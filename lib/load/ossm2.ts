import * as fs from 'fs';
import * as path from 'path';

import { Diagnostics } from '../diagnostics';
import { FieldReader } from './access';
import { describeCopies, describeFileCopies } from './duplicates';
import * as T from './inventory-types';
import { apiGroup, kindNearMiss, ReadKindName } from './kinds';
import { gitOpsOwner, stripServerFields } from './strip';
import { Json, JsonObject } from '../json';
import { networkPolicyOf } from '../netpol';
import { readYamlObjects, SourceObject } from './yaml-source';

const WORKLOAD_KINDS = new Set(['Deployment', 'StatefulSet', 'DaemonSet']);
const CLUSTER_SCOPED = new Set(['Namespace']);

/** What every parsed namespaced object carries: where it was read, its body as meshfed re-renders it, name and namespace. */
function dumped(o: SourceObject): { source: SourceObject; rendered: JsonObject; name: string; namespace: string } {
  return { source: o, rendered: stripServerFields(o.value), name: o.name, namespace: o.namespace ?? '' };
}

const group = apiGroup;

/** Read every *.yaml / *.yml / *.json file of an ossm2/ folder (sorted, so reports are stable). */
export function readOssm2Folder(dir: string, diags: Diagnostics): SourceObject[] {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) {
    diags.error(
      { file: dir },
      'the ossm2/ folder is missing.',
      'Dump what runs today into it with the `oc get … -o yaml` commands in docs/input.md.',
    );
    return [];
  }
  const files = fs
    .readdirSync(dir)
    .filter((f) => /\.(ya?ml|json)$/.test(f))
    .sort();
  return files.flatMap((f) => readYamlObjects(path.join(dir, f), diags, { dump: true }));
}

/** Turn the dumped objects of one cluster into typed values; reports every problem it finds. */
/** `greenfield`: the federation is declared, not dumped: ServiceMeshPeers need no federation gateway names. */
export function parseInventory(
  objects: SourceObject[],
  diags: Diagnostics,
  opts: { greenfield?: boolean } = {},
): T.Ossm2Inventory | undefined {
  checkIdentity(objects, diags);
  checkKinds(objects, diags);
  const byKind = (g: string, kind: ReadKindName) => objects.filter((o) => group(o.apiVersion) === g && o.kind === kind);

  const smcps = byKind('maistra.io', 'ServiceMeshControlPlane');
  if (smcps.length === 0) {
    diags.error(
      undefined,
      'no ServiceMeshControlPlane found in ossm2/.',
      'Add it: `oc get smcp -n <namespace> -o yaml > ossm2/smcp.yaml`.',
    );
    return undefined;
  }
  if (smcps.length > 1) {
    for (const s of smcps.slice(1))
      diags.error(
        s.at(),
        `a second ServiceMeshControlPlane (the first is ${smcps[0].label} in ${smcps[0].file}).`,
        'meshfed handles one mesh per cluster folder: keep the control plane that federates and remove the other dump.',
      );
    return undefined;
  }
  const controlPlane = parseControlPlane(smcps[0], diags);
  if (!controlPlane) return undefined;

  const smmrs = byKind('maistra.io', 'ServiceMeshMemberRoll');
  for (const s of smmrs) {
    if (s.namespace !== controlPlane.namespace || s.name !== 'default') {
      diags.warn(
        'MF021',
        s.at(),
        `ignored: Maistra only reads the ServiceMeshMemberRoll named "default" in the control-plane namespace ${controlPlane.namespace}.`,
      );
    }
  }
  const smmrSrc = smmrs.find((s) => s.namespace === controlPlane.namespace && s.name === 'default');

  const inv: T.Ossm2Inventory = {
    controlPlane,
    memberRoll: smmrSrc ? parseMemberRoll(smmrSrc, diags) : undefined,
    members: byKind('maistra.io', 'ServiceMeshMember').map((o) => parseMember(o, diags)),
    peers: byKind('federation.maistra.io', 'ServiceMeshPeer').map((o) => parsePeer(o, diags, opts.greenfield === true)),
    exportSets: byKind('federation.maistra.io', 'ExportedServiceSet').map((o) => parseExportSet(o, diags)),
    importSets: byKind('federation.maistra.io', 'ImportedServiceSet').map((o) => parseImportSet(o, diags)),
    configMaps: byKind('', 'ConfigMap').map((o) => {
      const r = new FieldReader(o, diags);
      return { ...dumped(o), data: r.stringMap(['data']) };
    }),
    namespaces: byKind('', 'Namespace').map((o) => {
      const r = new FieldReader(o, diags);
      const rendered = stripServerFields(o.value);
      delete rendered.spec; // spec.finalizers is set by the API server
      return { source: o, rendered, name: o.name, labels: r.stringMap(['metadata', 'labels']) };
    }),
    services: byKind('', 'Service').map((o) => parseService(o, diags)),
    serviceAccounts: byKind('', 'ServiceAccount').map((o) => ({ name: o.name, namespace: o.namespace ?? '' })),
    workloads: objects.filter((o) => group(o.apiVersion) === 'apps' && WORKLOAD_KINDS.has(o.kind)).map((o) => parseWorkload(o, diags)),
    unmanagedWorkloads: unmanagedWorkloads(byKind),
    serviceEntries: byKind('networking.istio.io', 'ServiceEntry').map((o) => parseServiceEntry(o, diags)),
    authorizationPolicies: byKind('security.istio.io', 'AuthorizationPolicy').map((o) => parseAuthorizationPolicy(o, diags)),
    virtualServices: byKind('networking.istio.io', 'VirtualService').map((o) => parseVirtualService(o, diags)),
    destinationRules: byKind('networking.istio.io', 'DestinationRule').map((o) => parseDestinationRule(o, diags)),
    routes: byKind('route.openshift.io', 'Route').map((o) => {
      const r = new FieldReader(o, diags);
      return {
        ...dumped(o),
        labels: r.stringMap(['metadata', 'labels']),
        service: r.string(['spec', 'to', 'name']) ?? '',
        host: r.string(['spec', 'host']),
      };
    }),
    networkPolicies: userNetworkPolicies(byKind('networking.k8s.io', 'NetworkPolicy')),
    istioGateways: byKind('networking.istio.io', 'Gateway').map((o) => ({
      source: o,
      name: o.name,
      namespace: o.namespace ?? '',
      selector: new FieldReader(o, diags).stringMap(['spec', 'selector']),
    })),
    objects,
  };
  warnOtherOwners(inv, diags);
  // Federation resources outside the control-plane namespace are not read by istiod (informers watch that namespace only).
  for (const list of [inv.peers, inv.exportSets, inv.importSets]) {
    for (const o of list as Array<{ namespace: string; source: SourceObject }>) {
      if (o.namespace !== controlPlane.namespace) {
        diags.error(
          o.source.at(['metadata', 'namespace']),
          `${o.source.kind} is in namespace ${o.namespace}, but Maistra only reads federation ` +
            `resources in the control-plane namespace ${controlPlane.namespace}.`,
          'Dump the objects from the control-plane namespace, or remove this one: it has no effect on the mesh.',
        );
      }
    }
  }
  return inv;
}

/**
 * Objects meshfed adopts (00) that another GitOps delivery already tracks: both would claim them, flip
 * their tracking markers on every sync (Argo CD rewrites its label or annotation each time:
 * argoproj/argo-cd@37ee009 docs/operator-manual/upgrading/2.14-3.0.md:241-256), and whichever drops one
 * from its Git prunes it. meshfed re-renders them without the other tool's markers; the warning says who
 * to hand them over from.
 */
function warnOtherOwners(inv: T.Ossm2Inventory, diags: Diagnostics): void {
  const adopted = [
    inv.controlPlane,
    ...(inv.memberRoll ? [inv.memberRoll] : []),
    ...inv.members,
    ...inv.peers,
    ...inv.exportSets,
    ...inv.importSets,
    ...inv.configMaps,
    ...inv.namespaces,
  ];
  for (const o of adopted) {
    const owner = gitOpsOwner(o.source.value);
    if (!owner) continue;
    diags.warn(
      'MF024',
      o.source.at(['metadata']),
      `${o.source.label} is tracked by ${owner}; meshfed adopts it in 00-federation, and two deliveries owning one object ` +
        'fight over it (and the one that drops it prunes it).',
      "Hand it over: remove it from that application (with its prune disabled for it) before syncing meshfed's 00, see docs/gitops.md.",
    );
  }
}

/** Objects need a name, namespaced kinds a namespace, and no object may appear twice. */
function checkIdentity(objects: SourceObject[], diags: Diagnostics): void {
  const seen = new Map<string, SourceObject>();
  const dups = new Map<string, [SourceObject, SourceObject][]>();
  for (const o of objects) {
    if (!o.kind || !o.apiVersion) {
      diags.error(o.at(), 'object without apiVersion/kind.', 'Dump objects with `oc get … -o yaml`, which prints both.');
      continue;
    }
    if (!o.name) {
      diags.error(o.at(['metadata']), 'object without metadata.name.');
      continue;
    }
    if (!CLUSTER_SCOPED.has(o.kind) && !o.namespace && isUsedKind(o)) {
      diags.error(
        o.at(['metadata']),
        'metadata.namespace is missing.',
        'Dump with `oc get … -n <namespace> -o yaml`, which prints the namespace.',
      );
      continue;
    }
    const key = `${group(o.apiVersion)}/${o.kind}/${o.namespace ?? ''}/${o.name}`;
    const first = seen.get(key);
    if (!first) {
      seen.set(key, o);
      continue;
    }
    const pair = `${first.file}\n${o.file}`;
    const list = dups.get(pair) ?? [];
    list.push([first, o]);
    dups.set(pair, list);
  }
  // A whole file dumped twice is one mistake: one error naming both files, not one per object.
  const perFile = new Map<string, number>();
  for (const o of objects) perFile.set(o.file, (perFile.get(o.file) ?? 0) + 1);
  for (const [pair, list] of dups) {
    const [a, b] = pair.split('\n');
    if (list.length > 1 && list.length === perFile.get(b)) {
      diags.error(
        { file: b },
        `this file duplicates ${a}: all ${list.length} of its objects are defined there too. ${describeFileCopies(a, list)}`,
        'Remove one of the two files (two overlapping `oc get` commands dumped the same objects): the older, as a rule.',
      );
      continue;
    }
    for (const [firstObj, o] of list)
      diags.error(
        o.at(),
        `${o.label} is defined twice: first at ${firstObj.file}:${firstObj.lineOf() ?? 1}. ${describeCopies(firstObj, o)}`,
        'Keep one copy (dumps of overlapping `oc get` commands repeat objects): the newer, unless the older holds what should run.',
      );
  }
}

/**
 * A kind that is a slip for one meshfed reads (`kind: servicemeshpeer`, `ServiceMeshPeers`) would be
 * ignored without a word, and a later error would blame what it left missing (a peer the settings name
 * in spec.remoteNetworks): an error here instead. Kinds meshfed does not read (a Secret, a Role dumped
 * with the rest) stay ignored.
 */
function checkKinds(objects: SourceObject[], diags: Diagnostics): void {
  for (const o of objects) {
    if (!o.kind || !o.apiVersion) continue; // checkIdentity reported it
    const meant = kindNearMiss(o.kind, group(o.apiVersion));
    if (!meant) continue;
    if (meant.kind === o.kind) {
      diags.error(
        o.at(['apiVersion']),
        `apiVersion ${o.apiVersion} has no ${o.kind}: meshfed reads ${o.kind} of ${meant.group} only and would ignore this object.`,
        `Write apiVersion: ${meant.group}/<version>, as \`oc get … -o yaml\` prints it.`,
      );
      continue;
    }
    const apiVersion = meant.group === group(o.apiVersion) ? '' : ` with apiVersion: ${meant.group ? `${meant.group}/<version>` : 'v1'}`;
    diags.error(
      o.at(['kind']),
      `unknown kind ${o.kind} (did you mean ${meant.kind}?): meshfed would ignore this object.`,
      `Write kind: ${meant.kind}${apiVersion} (kinds are case-sensitive), as \`oc get … -o yaml\` prints it.`,
    );
  }
}

function isUsedKind(o: SourceObject): boolean {
  const g = group(o.apiVersion);
  return (
    g === 'maistra.io' ||
    g === 'federation.maistra.io' ||
    g === '' ||
    g === 'apps' ||
    g === 'networking.istio.io' ||
    g === 'security.istio.io' ||
    g === 'route.openshift.io'
  );
}

function parseVersion(v: string): [number, number] | undefined {
  const m = /^v?(\d+)\.(\d+)/.exec(v);
  return m ? [Number(m[1]), Number(m[2])] : undefined;
}

function parseControlPlane(o: SourceObject, diags: Diagnostics): T.ControlPlane | undefined {
  const r = new FieldReader(o, diags);
  if (o.apiVersion !== 'maistra.io/v2') {
    r.error(
      ['apiVersion'],
      `is ${o.apiVersion}; meshfed reads the maistra.io/v2 form.`,
      'Dump it again with `oc get smcp.v2.maistra.io <name> -n <namespace> -o yaml`.',
    );
    return undefined;
  }
  const version = r.string(['spec', 'version']);
  const parsed = version ? parseVersion(version) : undefined;
  if (!version || !parsed) {
    r.error(
      ['spec', 'version'],
      'the control plane version is missing or unreadable.',
      'meshfed migrates OSSM 2.6 control planes: set spec.version: v2.6 (after upgrading the control plane).',
    );
    return undefined;
  }
  if (parsed[0] < 2 || (parsed[0] === 2 && parsed[1] < 6)) {
    r.error(
      ['spec', 'version'],
      `control plane version ${version} is older than v2.6.`,
      'Upgrade the control plane to v2.6 first: the migration relies on 2.6 features (Gateway API ' +
        'discovery of istio-remote gateways, trustDomainAliases).',
    );
    return undefined;
  }
  const mode = r.string(['spec', 'mode']) ?? 'MultiTenant';
  if (mode !== 'MultiTenant' && mode !== 'ClusterWide') {
    r.error(['spec', 'mode'], `unknown mode "${mode}".`, 'Use MultiTenant or ClusterWide.');
    return undefined;
  }
  const aliases = [
    ...r.array(['spec', 'techPreview', 'meshConfig', 'trustDomainAliases']),
    ...r.array(['spec', 'security', 'trust', 'additionalDomains']),
  ].filter((a, i, all): a is string => typeof a === 'string' && all.indexOf(a) === i);
  const applied = r.object(['status', 'appliedSpec']);
  return {
    ...dumped(o),
    apiVersion: o.apiVersion,
    version,
    mode,
    trustDomain: r.string(['spec', 'security', 'trust', 'domain']) || 'cluster.local',
    trustDomainAliases: aliases,
    additionalIngress: Object.keys(r.object(['spec', 'gateways', 'additionalIngress']) ?? {}),
    additionalEgress: Object.keys(r.object(['spec', 'gateways', 'additionalEgress']) ?? {}),
    accessLogFile: r.string(['spec', 'proxy', 'accessLogging', 'file', 'name']),
    pilotEnv: r.stringMap(['spec', 'runtime', 'components', 'pilot', 'container', 'env']),
    effective: applied ?? r.object(['spec']) ?? {},
    effectiveFrom: applied ? 'status.appliedSpec' : 'spec',
  };
}

function parseLabelSelector(r: FieldReader, path: (string | number)[]): T.LabelSelector {
  return {
    matchLabels: r.stringMap([...path, 'matchLabels']),
    matchExpressions: r.array([...path, 'matchExpressions']).map((_, i) => ({
      key: r.string([...path, 'matchExpressions', i, 'key']) ?? '',
      operator: r.string([...path, 'matchExpressions', i, 'operator']) ?? '',
      values: r.array([...path, 'matchExpressions', i, 'values']).map(String),
    })),
  };
}

function parseMemberRoll(o: SourceObject, diags: Diagnostics): T.MemberRoll {
  const r = new FieldReader(o, diags);
  return {
    ...dumped(o),
    members: r.array(['spec', 'members']).map(String),
    memberSelectors: r.array(['spec', 'memberSelectors']).map((_, i) => parseLabelSelector(r, ['spec', 'memberSelectors', i])),
    configuredMembers: Array.isArray(r.raw(['status', 'configuredMembers']))
      ? r.array(['status', 'configuredMembers']).map(String)
      : undefined,
  };
}

function parseMember(o: SourceObject, diags: Diagnostics): T.Member {
  const r = new FieldReader(o, diags);
  return {
    source: o,
    rendered: stripServerFields(o.value),
    namespace: o.namespace ?? '',
    controlPlaneName: r.string(['spec', 'controlPlaneRef', 'name']) ?? '',
    controlPlaneNamespace: r.string(['spec', 'controlPlaneRef', 'namespace']) ?? '',
  };
}

function parsePeer(o: SourceObject, diags: Diagnostics, greenfield: boolean): T.Peer {
  const r = new FieldReader(o, diags);
  const trustDomain = r.string(['spec', 'security', 'trustDomain']) ?? '';
  if (!trustDomain) {
    r.error(
      ['spec', 'security', 'trustDomain'],
      'the peer trust domain is missing.',
      "meshfed finds the peer's cluster by its trust domain: set it to the peer SMCP's spec.security.trust.domain.",
    );
  }
  const certKind = r.string(['spec', 'security', 'certificateChain', 'kind']) ?? '';
  if (certKind !== '' && certKind !== 'ConfigMap') {
    r.error(
      ['spec', 'security', 'certificateChain', 'kind'],
      `certificateChain kind "${certKind}" is not supported by Maistra.`,
      'Use kind: ConfigMap.',
    );
  }
  const ingress = r.string(['spec', 'gateways', 'ingress', 'name']) ?? (greenfield ? `ingress-${o.name}` : '');
  const egress = r.string(['spec', 'gateways', 'egress', 'name']) ?? (greenfield ? `egress-${o.name}` : '');
  if (!ingress) r.error(['spec', 'gateways', 'ingress', 'name'], 'the federation ingress gateway name is missing.');
  if (!egress) r.error(['spec', 'gateways', 'egress', 'name'], 'the federation egress gateway name is missing.');
  return {
    ...dumped(o),
    addresses: r.array(['spec', 'remote', 'addresses']).map(String),
    discoveryPort: r.number(['spec', 'remote', 'discoveryPort']) ?? 8188,
    servicePort: r.number(['spec', 'remote', 'servicePort']) ?? 15443,
    ingressGateway: ingress,
    egressGateway: egress,
    trustDomain,
    clientID: r.string(['spec', 'security', 'clientID']),
    caConfigMap: r.string(['spec', 'security', 'certificateChain', 'name']) || `${o.name}-ca-root-cert`,
  };
}

function parseNameMapping(r: FieldReader, path: (string | number)[]): T.NameMapping {
  const alias = r.object([...path, 'alias']);
  return {
    namespace: r.string([...path, 'namespace']) ?? '',
    name: r.string([...path, 'name']) ?? '',
    alias: alias
      ? { namespace: r.string([...path, 'alias', 'namespace']) ?? '', name: r.string([...path, 'alias', 'name']) ?? '' }
      : undefined,
  };
}

function parseStatus(r: FieldReader, key: string): T.StatusEntry[] | undefined {
  const raw = r.raw(['status', key]);
  if (!Array.isArray(raw)) return undefined;
  return raw.map((_, i) => ({
    exportedName: r.string(['status', key, i, 'exportedName']) ?? '',
    localService: {
      hostname: r.string(['status', key, i, 'localService', 'hostname']) ?? '',
      name: r.string(['status', key, i, 'localService', 'name']) ?? '',
      namespace: r.string(['status', key, i, 'localService', 'namespace']) ?? '',
    },
  }));
}

function parseExportSet(o: SourceObject, diags: Diagnostics): T.ExportSet {
  const r = new FieldReader(o, diags);
  const rules = r.array(['spec', 'exportRules']).map((_, i): T.ExportRule => {
    const p = ['spec', 'exportRules', i];
    const ls = r.object([...p, 'labelSelector']);
    return {
      index: i,
      type: r.string([...p, 'type']) ?? '',
      nameSelector: r.object([...p, 'nameSelector']) ? parseNameMapping(r, [...p, 'nameSelector']) : undefined,
      labelSelector: ls
        ? {
            namespace: r.string([...p, 'labelSelector', 'namespace']) ?? '',
            selector: parseLabelSelector(r, [...p, 'labelSelector', 'selector']),
            aliases: r.array([...p, 'labelSelector', 'aliases']).map((_, j) => parseNameMapping(r, [...p, 'labelSelector', 'aliases', j])),
          }
        : undefined,
    };
  });
  return {
    ...dumped(o),
    rules,
    status: parseStatus(r, 'exportedServices'),
  };
}

function parseImportSet(o: SourceObject, diags: Diagnostics): T.ImportSet {
  const r = new FieldReader(o, diags);
  const rules = r.array(['spec', 'importRules']).map((_, i): T.ImportRule => {
    const p = ['spec', 'importRules', i];
    return {
      index: i,
      type: r.string([...p, 'type']) ?? '',
      nameSelector: r.object([...p, 'nameSelector']) ? parseNameMapping(r, [...p, 'nameSelector']) : undefined,
      importAsLocal: r.bool([...p, 'importAsLocal']) ?? false,
      domainSuffix: r.string([...p, 'domainSuffix']) || undefined,
    };
  });
  const loc = r.object(['spec', 'locality']);
  return {
    ...dumped(o),
    rules,
    domainSuffix: r.string(['spec', 'domainSuffix']) || undefined,
    locality: loc
      ? {
          region: r.string(['spec', 'locality', 'region']) || undefined,
          zone: r.string(['spec', 'locality', 'zone']) || undefined,
          subzone: r.string(['spec', 'locality', 'subzone']) || undefined,
        }
      : undefined,
    status: parseStatus(r, 'importedServices'),
  };
}

function parsePorts(r: FieldReader, path: (string | number)[], numberKey: 'port' | 'number'): T.ServicePort[] {
  return r.array(path).map((_, i) => {
    const tp = r.raw([...path, i, 'targetPort']) as Json | undefined;
    return {
      name: r.string([...path, i, 'name']),
      port: r.number([...path, i, numberKey]) ?? 0,
      targetPort: typeof tp === 'number' || typeof tp === 'string' ? tp : undefined,
      protocol: r.string([...path, i, 'protocol']) ?? 'TCP',
      appProtocol: r.string([...path, i, 'appProtocol']),
    };
  });
}

function parseService(o: SourceObject, diags: Diagnostics): T.ServiceObj {
  const r = new FieldReader(o, diags);
  return {
    source: o,
    name: o.name,
    namespace: o.namespace ?? '',
    labels: r.stringMap(['metadata', 'labels']),
    annotations: r.stringMap(['metadata', 'annotations']),
    selector: r.stringMap(['spec', 'selector']),
    type: r.string(['spec', 'type']) ?? 'ClusterIP',
    ports: parsePorts(r, ['spec', 'ports'], 'port'),
  };
}

/**
 * The dumped objects whose pods the restart Jobs cannot restart: DeploymentConfigs, Rollouts, CronJobs, and
 * Jobs and Pods without an owner (a Job of a CronJob is its CronJob's; a pod with an owner is its controller's).
 */
/** The dumped NetworkPolicies but Maistra's own (T.Ossm2Inventory.networkPolicies). */
function userNetworkPolicies(objects: SourceObject[]): T.Ossm2Inventory['networkPolicies'] {
  return objects
    .filter((o) => {
      const l = o.metadata.labels;
      const labels = l && typeof l === 'object' && !Array.isArray(l) ? l : {};
      return !('maistra.io/owner' in labels) && !('maistra.io/member-of' in labels);
    })
    .map((o) => networkPolicyOf(o.value)!);
}

function unmanagedWorkloads(byKind: (g: string, kind: ReadKindName) => SourceObject[]): T.UnmanagedWorkload[] {
  const owned = (o: SourceObject) => {
    const refs = (o.value.metadata as JsonObject | undefined)?.ownerReferences;
    return Array.isArray(refs) && refs.length > 0;
  };
  return [
    ...byKind('apps.openshift.io', 'DeploymentConfig'),
    ...byKind('argoproj.io', 'Rollout'),
    ...byKind('batch', 'CronJob'),
    ...byKind('batch', 'Job').filter((o) => !owned(o)),
    ...byKind('', 'Pod').filter((o) => !owned(o)),
  ].map((o) => ({ source: o, kind: o.kind as T.UnmanagedWorkload['kind'], name: o.name, namespace: o.namespace ?? '' }));
}

/** The pod label (or annotation) that opts a pod in or out of sidecar injection. */
const SIDECAR_INJECT = 'sidecar.istio.io/inject';

function parseWorkload(o: SourceObject, diags: Diagnostics): T.Workload {
  const r = new FieldReader(o, diags);
  return {
    updateStrategy: o.kind === 'Deployment' ? 'RollingUpdate' : (r.string(['spec', 'updateStrategy', 'type']) ?? 'RollingUpdate'),
    partition: o.kind === 'StatefulSet' ? (r.number(['spec', 'updateStrategy', 'rollingUpdate', 'partition']) ?? 0) : 0,
    paused: o.kind === 'Deployment' && r.bool(['spec', 'paused']) === true,
    source: o,
    kind: o.kind as T.Workload['kind'],
    name: o.name,
    namespace: o.namespace ?? '',
    podLabels: r.stringMap(['spec', 'template', 'metadata', 'labels']),
    sidecarInject:
      r.stringMap(['spec', 'template', 'metadata', 'labels'])[SIDECAR_INJECT] ??
      r.stringMap(['spec', 'template', 'metadata', 'annotations'])[SIDECAR_INJECT] ??
      '',
    hostNetwork: r.bool(['spec', 'template', 'spec', 'hostNetwork']) === true,
    proxyContainer: r
      .array(['spec', 'template', 'spec', 'containers'])
      .some((_, i) => r.string(['spec', 'template', 'spec', 'containers', i, 'name']) === 'istio-proxy'),
    serviceAccount:
      r.string(['spec', 'template', 'spec', 'serviceAccountName']) || r.string(['spec', 'template', 'spec', 'serviceAccount']) || 'default',
    containerPorts: Object.fromEntries(
      r.array(['spec', 'template', 'spec', 'containers']).flatMap((_, i) =>
        r.array(['spec', 'template', 'spec', 'containers', i, 'ports']).flatMap((_p, j) => {
          const name = r.string(['spec', 'template', 'spec', 'containers', i, 'ports', j, 'name']);
          const port = r.number(['spec', 'template', 'spec', 'containers', i, 'ports', j, 'containerPort']);
          return name && port ? [[name, port] as [string, number]] : [];
        }),
      ),
    ),
  };
}

function parseServiceEntry(o: SourceObject, diags: Diagnostics): T.ServiceEntryObj {
  const r = new FieldReader(o, diags);
  const ws = r.object(['spec', 'workloadSelector']);
  return {
    source: o,
    name: o.name,
    namespace: o.namespace ?? '',
    hosts: r.array(['spec', 'hosts']).map(String),
    location: r.string(['spec', 'location']) ?? 'MESH_EXTERNAL',
    ports: parsePorts(r, ['spec', 'ports'], 'number'),
    workloadSelector: ws ? r.stringMap(['spec', 'workloadSelector', 'labels']) : undefined,
    exportTo: r.array(['spec', 'exportTo']).map(String),
  };
}

function parseAuthorizationPolicy(o: SourceObject, diags: Diagnostics): T.AuthorizationPolicyObj {
  const r = new FieldReader(o, diags);
  const principals: T.AuthorizationPolicyObj['principals'] = [];
  r.array(['spec', 'rules']).forEach((_, i) =>
    r.array(['spec', 'rules', i, 'from']).forEach((_f, j) => {
      for (const [key, negated] of [
        ['principals', false],
        ['notPrincipals', true],
        ['namespaces', false],
        ['notNamespaces', true],
      ] as const) {
        const p = ['spec', 'rules', i, 'from', j, 'source', key];
        const field = key === 'principals' || key === 'notPrincipals' ? 'principal' : 'namespace';
        r.array(p).forEach((v, k) => principals.push({ value: String(v), negated, field, path: [...p, k] }));
      }
    }),
  );
  // `when` conditions on the source identity: Istio reads them with the same generators as the `from` fields above
  // (istio/istio@1.27.3 pilot/pkg/security/authz/model/model.go:85-118; maistra/istio@maistra-2.6 the same, :81-113).
  r.array(['spec', 'rules']).forEach((_, i) =>
    r.array(['spec', 'rules', i, 'when']).forEach((_w, k) => {
      const key = r.string(['spec', 'rules', i, 'when', k, 'key']);
      if (key !== 'source.principal' && key !== 'source.namespace') return;
      const field = key === 'source.principal' ? 'principal' : 'namespace';
      for (const [list, negated] of [
        ['values', false],
        ['notValues', true],
      ] as const) {
        const p = ['spec', 'rules', i, 'when', k, list];
        r.array(p).forEach((v, n) => principals.push({ value: String(v), negated, field, path: [...p, n] }));
      }
    }),
  );
  const sel = r.object(['spec', 'selector']);
  return {
    source: o,
    name: o.name,
    namespace: o.namespace ?? '',
    action: r.string(['spec', 'action']) ?? 'ALLOW',
    selector: sel ? r.stringMap(['spec', 'selector', 'matchLabels']) : undefined,
    principals,
  };
}

function parseVirtualService(o: SourceObject, diags: Diagnostics): T.VirtualServiceObj {
  const r = new FieldReader(o, diags);
  const destinations: T.HostRef[] = [];
  for (const proto of ['http', 'tcp', 'tls']) {
    r.array(['spec', proto]).forEach((_, i) => {
      r.array(['spec', proto, i, 'route']).forEach((_r, j) => {
        const p = ['spec', proto, i, 'route', j, 'destination', 'host'];
        const h = r.string(p);
        if (h) destinations.push({ host: h, path: p });
      });
      const m = ['spec', proto, i, 'mirror', 'host'];
      const mh = r.string(m);
      if (mh) destinations.push({ host: mh, path: m });
    });
  }
  return {
    source: o,
    name: o.name,
    namespace: o.namespace ?? '',
    hosts: r.array(['spec', 'hosts']).map((h, i) => ({ host: String(h), path: ['spec', 'hosts', i] })),
    destinations,
    gateways: r.array(['spec', 'gateways']).map(String),
  };
}

function parseDestinationRule(o: SourceObject, diags: Diagnostics): T.DestinationRuleObj {
  const r = new FieldReader(o, diags);
  const lb = ['spec', 'trafficPolicy', 'loadBalancer', 'localityLbSetting'];
  return {
    source: o,
    name: o.name,
    namespace: o.namespace ?? '',
    host: r.string(['spec', 'host']) ?? '',
    subsets: r
      .array(['spec', 'subsets'])
      .map((_, i) => ({ name: r.string(['spec', 'subsets', i, 'name']) ?? '', labels: r.stringMap(['spec', 'subsets', i, 'labels']) })),
    hasOutlierDetection: r.object(['spec', 'trafficPolicy', 'outlierDetection']) !== undefined,
    localityFailover: r.array([...lb, 'failover']).length > 0 || r.array([...lb, 'failoverPriority']).length > 0,
    subjectAltNames: subjectAltNames(r),
  };
}

/** Every tls.subjectAltNames value of a DestinationRule: its traffic policy, port-level settings and subsets. */
function subjectAltNames(r: FieldReader): T.HostRef[] {
  const policies: (string | number)[][] = [];
  const policy = (at: (string | number)[]) => {
    policies.push(at);
    r.array([...at, 'portLevelSettings']).forEach((_, i) => policies.push([...at, 'portLevelSettings', i]));
  };
  policy(['spec', 'trafficPolicy']);
  r.array(['spec', 'subsets']).forEach((_, i) => policy(['spec', 'subsets', i, 'trafficPolicy']));
  return policies.flatMap((at) =>
    r.array([...at, 'tls', 'subjectAltNames']).map((v, i) => ({ host: String(v), path: [...at, 'tls', 'subjectAltNames', i] })),
  );
}
