import { isIP } from 'net';

import { CheckContext } from './context';
import { Finding } from './finding';
import { HostRef } from '../load/inventory-types';
import { SourceObject } from '../load/yaml-source';
import { FederationModel, Mesh } from '../model/types';
import { FIRST_VERIFIED_PHASE } from '../plan/verify';
import { compareStrings } from '../sort';

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
  return [...out, ...checkVerifyHosts(model)];
}

const CLUSTER_DOMAIN = 'cluster.local';

/**
 * The names a pod's resolver tries for `host`: a pod's resolv.conf searches `<namespace>.svc.cluster.local
 * svc.cluster.local cluster.local` (ndots:5), so `web` from namespace `a`, `web.a` and `web.a.svc` all
 * reach web.a.svc.cluster.local
 * (https://kubernetes.io/docs/concepts/services-networking/dns-pod-service/#namespaces-of-services).
 * The sidecar's DNS proxy answers the same queries for the hosts it knows, imported hostnames included.
 */
function expansions(host: string, namespace: string): string[] {
  return [host, `${host}.${namespace}.svc.${CLUSTER_DOMAIN}`, `${host}.svc.${CLUSTER_DOMAIN}`, `${host}.${CLUSTER_DOMAIN}`];
}

/**
 * The full names a verify probe in `mesh` can reach through the mesh: the hostnames the mesh imports,
 * every Service in its dumps (`<svc>.<ns>.svc.cluster.local`) and the hosts of its ServiceEntries
 * (`*.x` stands for one or more labels before `.x`).
 */
function reachableHosts(model: FederationModel, mesh: Mesh): { exact: Set<string>; wildcards: string[] } {
  const exact = new Set(model.imports.filter((i) => i.importer === mesh.cluster).map((i) => i.hostname));
  for (const s of mesh.inventory.services) exact.add(`${s.name}.${s.namespace}.svc.${CLUSTER_DOMAIN}`);
  const wildcards: string[] = [];
  for (const h of mesh.inventory.serviceEntries.flatMap((se) => se.hosts)) {
    if (h.startsWith('*.')) wildcards.push(h.slice(1));
    else if (h !== '*') exact.add(h);
  }
  return { exact, wildcards };
}

/** Each full name with the short forms a client in `namespace` may write for it (for "did you mean"). */
function spellings(full: Iterable<string>, namespace: string): Set<string> {
  const out = new Set<string>();
  for (const f of full) {
    out.add(f);
    const m = /^(.+)\.svc\.cluster\.local$/.exec(f);
    if (!m) continue;
    out.add(`${m[1]}.svc`).add(m[1]);
    if (m[1].endsWith(`.${namespace}`)) out.add(m[1].slice(0, -namespace.length - 1));
  }
  return out;
}

/**
 * Names only a cluster resolves: one label (left to the search path), `*.local`, `*.svc`, `*.mesh.global`
 * (the global hostname scheme), or `<svc>.<namespace>` for a namespace of the mesh or of a name it reaches.
 */
function clusterOnly(host: string, mesh: Mesh, reachable: Set<string>): boolean {
  const labels = host.split('.');
  if (labels.length === 1 || /\.(local|svc|mesh\.global)$/.test(host)) return true;
  if (labels.length !== 2) return false;
  const namespaces = new Set([
    ...mesh.memberNamespaces,
    mesh.controlPlane.namespace,
    ...mesh.inventory.namespaces.map((n) => n.name),
    ...[...reachable].map((h) => /^[^.]+\.([^.]+)\.svc\.cluster\.local$/.exec(h)?.[1]).filter((n) => n !== undefined),
  ]);
  return namespaces.has(labels[1]);
}

/** Levenshtein distance (insertions, deletions, substitutions). */
function distance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) next.push(Math.min(row[j] + 1, next[j - 1] + 1, row[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1)));
    row = next;
  }
  return row[b.length];
}

/** The known name closest to `host` (ties: the first in compareStrings order), and whether it is close enough to be a typo of it. */
function nearest(host: string, known: Iterable<string>): { name: string; close: boolean } | undefined {
  let best: { name: string; d: number } | undefined;
  for (const name of [...known].sort(compareStrings)) {
    const d = distance(host, name);
    if (!best || d < best.d) best = { name, d };
  }
  return best && { name: best.name, close: best.d <= Math.max(2, Math.floor(host.length / 4)) };
}

/**
 * MF004 for spec.verify: a probe whose URL names a host the cluster cannot reach through the mesh fails
 * in every verify Job, and with it the sync of every phase from 03-import on. A name only a cluster
 * resolves that none of the mesh's hosts answers is a slip: error. Any other host (an IP, a DNS name
 * outside the cluster) may be a real destination outside the mesh, reached through passthrough or an
 * egress gateway the dumps do not show, which a probe may rightly check after the proxies change:
 * warning, which spec.acknowledge accepts.
 */
export function checkVerifyHosts(model: FederationModel): Finding[] {
  const out: Finding[] = [];
  for (const mesh of model.meshes) {
    const phase = mesh.settings.mode === 'greenfield' ? 'multicluster' : FIRST_VERIFIED_PHASE;
    const { exact, wildcards } = reachableHosts(model, mesh);
    const reaches = (name: string) => exact.has(name) || wildcards.some((w) => name.endsWith(w) && name.length > w.length);
    mesh.settings.verify.forEach((probe, i) => {
      const location = mesh.settings.source.at(['spec', 'verify', i, 'url']);
      const finding = (severity: 'error' | 'warning', problem: string, fix: string) =>
        out.push({ rule: 'MF004', severity, cluster: mesh.cluster, location, phase, problem, fix });
      let host: string;
      try {
        // The WHATWG URL parser: the host lower-cased, without user or port (an IPv6 literal keeps its brackets).
        host = new URL(probe.url).hostname.replace(/\.$/, '');
      } catch {
        finding(
          'error',
          `${probe.url} is not a URL, so the probe fails in every verify Job.`,
          'Write it as http://<host>[:<port>]/<path>.',
        );
        return;
      }
      const ns = probe.from.namespace;
      if (expansions(host, ns).some(reaches)) return;
      const internal = !isIP(host.replace(/^\[|\]$/g, '')) && clusterOnly(host, mesh, exact);
      // A short name resolves in the client's own namespace only: name the Service's namespace.
      const elsewhere = [...exact].sort(compareStrings).find((h) => h.startsWith(`${host}.`) && h.endsWith('.svc.cluster.local'));
      const guess = elsewhere
        ? { name: elsewhere.slice(0, -'.svc.cluster.local'.length), close: true }
        : nearest(host, spellings(exact, ns));
      const hint = guess?.close ? `Did you mean ${guess.name}? ` : internal && guess ? `The nearest host it knows is ${guess.name}. ` : '';
      finding(
        internal ? 'error' : 'warning',
        unknownVerifyHost(mesh, probe.url, host, ns, internal),
        hint +
          (internal
            ? `Name a host ${mesh.cluster} imports (dist/plan.json), a Service in its dumps (<svc>.<namespace>[.svc[.cluster.local]], ` +
              `or <svc> in ${ns}) or a ServiceEntry host; a Service in a namespace not dumped: add its dump to ossm2/.`
            : `If ${host} is right, add spec.acknowledge: [MF004] to clusters/${mesh.cluster}/cluster.yaml.`),
      );
    });
  }
  return out;
}

function unknownVerifyHost(mesh: Mesh, url: string, host: string, namespace: string, internal: boolean): string {
  const what =
    `${host} (in ${url}) is neither a hostname ${mesh.cluster} imports nor a Service or ServiceEntry host of ` +
    `${mesh.cluster}, as a client in namespace ${namespace} resolves it`;
  const from = mesh.settings.mode === 'greenfield' ? 'multicluster' : `${FIRST_VERIFIED_PHASE} on`;
  return internal
    ? `${what}, so the probe fails in every verify Job (${from}), and with it the sync of the phase.`
    : `${what}: a probe to a host outside the mesh checks the way out of it (passthrough or an egress gateway), ` +
        'not cross-mesh traffic, and fails the phase if that way is closed.';
}
