/**
 * The cluster as it runs at pointer 00, before GitOps: every object of the dumps (`clusters/<c>/ossm2/*.yaml`)
 * as it was dumped — status, generation and finalizers included, owner references re-pointed at the restored
 * owners — in the namespaces they need, plus what the operators keep running that a dump leaves out (the
 * ServiceAccounts, Deployments and policies an SMCP implies, the ClusterWide member roll, the pods of every
 * workload, Endpoints), by letting the controllers run until nothing changes.
 */
import { Installed } from './api';
import { Cluster, TICK_SECONDS } from './cluster';
import { KialiOperator } from './controllers/addons';
import { IstiodController, IstiodOptions } from './controllers/istiod';
import { KubeControllers, KubeOptions } from './controllers/kube';
import { MaistraOperator, MaistraOptions } from './controllers/maistra';
import { LoadBalancerController, LoadBalancerOptions, OpenShiftRouter, RouterOptions } from './controllers/router';
import { SailOperator, SailOptions } from './controllers/sail';
import { isObject, splitApiVersion } from './kustomize';
import { metadata, Obj, ownerReferences, refOf, valueAt } from './objects';
import { Diagnostics } from '../diagnostics';
import { readOssm2Folder } from '../load/ossm2';
import { compareStrings } from '../sort';

/** The field manager the restored objects are attributed to (their real managers are not in a dump). */
export const DUMP_MANAGER = 'before-gitops';

/**
 * Every object of every dump of a folder (not recursive), read as lib/load reads an ossm2/ folder (its one YAML
 * reader: YAML 1.2 core schema, `kind: List` documents flattened into their items), for a twin run without a
 * render; a rehearsal of a render gets the objects load already read (lib/pipeline/rehearse.ts). A file that
 * cannot be read contributes nothing (load has reported it).
 */
export function readDumps(dir: string): Obj[] {
  return readOssm2Folder(dir, new Diagnostics()).map((o) => o.value);
}

export interface LiveOptions {
  readonly kube?: KubeOptions;
  /** Failure injection for the scenarios (a reconcile of a new SMCP spec that fails). */
  readonly maistra?: MaistraOptions;
  readonly sail?: SailOptions;
  readonly istiod?: IstiodOptions;
  readonly router?: RouterOptions;
  readonly loadBalancers?: LoadBalancerOptions;
  /** How long the controllers may run to settle (virtual seconds, default 600). */
  readonly settleSeconds?: number;
}

/**
 * The live cluster at 00: the dumped objects restored, the controllers (kube, maistra, sail, istiod, router, load
 * balancers) registered, the Maistra operator's missing objects created, and the controllers run until a tick
 * changes nothing. What could not be restored (a kind no installed CRD serves, an owner that is not in the dump)
 * is in `cluster.events`.
 */
export function liveCluster(dumps: readonly Obj[], installed: Installed, options: LiveOptions = {}): Cluster {
  const maistra = new MaistraOperator(options.maistra);
  const cluster = new Cluster(installed, [
    new KubeControllers(options.kube),
    maistra,
    new SailOperator(options.sail),
    new IstiodController(options.istiod),
    new OpenShiftRouter(options.router),
    new LoadBalancerController(options.loadBalancers),
    new KialiOperator(),
  ]);
  restore(cluster, dumps);
  if (installed.ossm2) maistra.materialize(cluster);
  settle(cluster, options.settleSeconds ?? 600);
  return cluster;
}

function restore(cluster: Cluster, dumps: readonly Obj[]): void {
  const namespaces = dumps.filter((o) => o.kind === 'Namespace' && splitApiVersion(String(o.apiVersion))[0] === '');
  const rest = dumps.filter((o) => !namespaces.includes(o));
  const needed = new Set(rest.map((o) => String(metadata(o).namespace ?? '')).filter((n) => n !== ''));
  for (const name of [...needed].sort(compareStrings)) {
    if (namespaces.some((n) => metadata(n).name === name)) continue;
    // The API server labels every namespace with its name (NamespaceDefaultLabelName, Kubernetes 1.21+).
    cluster.create(
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { 'kubernetes.io/metadata.name': name } } },
      DUMP_MANAGER,
    );
  }
  // What the dumps imply without holding it: `oc get` of a mesh's objects does not list ServiceAccounts, yet every
  // dumped workload runs as one (its pods exist), and every namespace has `default` (kubernetes
  // pkg/controller/serviceaccount/serviceaccounts_controller.go creates it). Restored as they must be running.
  const accounts = new Set<string>();
  for (const ns of [...needed, ...namespaces.map((n) => String(metadata(n).name))]) accounts.add(`${ns}/default`);
  for (const w of rest.filter((o) => ['Deployment', 'StatefulSet', 'DaemonSet'].includes(String(o.kind)))) {
    const spec = valueAt(w, ['spec', 'template', 'spec']);
    const sa = isObject(spec) ? (spec.serviceAccountName ?? spec.serviceAccount) : undefined;
    accounts.add(`${String(metadata(w).namespace ?? '')}/${typeof sa === 'string' && sa ? sa : 'default'}`);
  }
  const dumpedAccounts = new Set(
    rest.filter((o) => o.kind === 'ServiceAccount').map((o) => `${String(metadata(o).namespace ?? '')}/${String(metadata(o).name)}`),
  );
  const uids = new Map<string, string>();
  const restored: [Obj, Obj][] = [];
  for (const dumped of [...namespaces, ...rest]) {
    const o = servedCopy(cluster, dumped);
    if (!o) continue;
    const res = cluster.create(o, DUMP_MANAGER);
    if (!res.ok) {
      cluster.log(DUMP_MANAGER, `not restored: ${res.reason}`, refOf(dumped));
      continue;
    }
    const live = cluster.get(refOf(o))!;
    const dumpedUid = metadata(dumped).uid;
    if (typeof dumpedUid === 'string') uids.set(dumpedUid, String(metadata(live).uid));
    restored.push([dumped, live]);
  }
  for (const key of [...accounts].sort(compareStrings)) {
    if (dumpedAccounts.has(key)) continue;
    const [namespace, name] = key.split('/');
    if (!namespace) continue;
    cluster.create({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace } }, DUMP_MANAGER);
  }
  for (const [dumped, live] of restored) {
    const owners = ownerReferences(dumped).flatMap((r) => {
      const uid = uids.get(r.uid) ?? ownerByName(cluster, r, String(metadata(dumped).namespace ?? ''));
      if (uid) return [{ ...r, uid }];
      cluster.log(DUMP_MANAGER, `owner reference to ${r.kind} ${r.name} dropped: the owner is not in the dump`, refOf(dumped));
      return [];
    });
    cluster.update(refOf(live), DUMP_MANAGER, (x) => {
      const meta = metadata(x);
      if (owners.length) meta.ownerReferences = owners as never;
      if (typeof metadata(dumped).generation === 'number') meta.generation = metadata(dumped).generation;
      x.metadata = meta;
      if (dumped.status !== undefined) x.status = structuredClone(dumped.status);
    });
  }
}

/** The object with an apiVersion the installed CRDs serve; undefined (and an event) when the kind is not served. */
function servedCopy(cluster: Cluster, dumped: Obj): Obj | undefined {
  const [group, version] = splitApiVersion(String(dumped.apiVersion ?? ''));
  const type = cluster.typeOf(group, String(dumped.kind));
  if (!type) {
    cluster.log(
      DUMP_MANAGER,
      `not restored: ${String(dumped.kind)} (${String(dumped.apiVersion)}) is not served with the installed operators`,
      refOf(dumped),
    );
    return undefined;
  }
  const o = structuredClone(dumped);
  delete o.status;
  delete metadata(o).ownerReferences;
  if (!type.versions.includes(version)) {
    // One stored object is served in every version its CRD serves; a dump in a version the installed CRDs lack
    // was taken from a cluster with other CRDs, which the caller's `installed` should say.
    o.apiVersion = `${group ? `${group}/` : ''}${type.versions[0]}`;
    cluster.log(
      DUMP_MANAGER,
      `dumped as ${String(dumped.apiVersion)}, which the installed CRDs do not serve: restored as ${o.apiVersion}`,
      refOf(dumped),
    );
  }
  return o;
}

function ownerByName(cluster: Cluster, r: { apiVersion: string; kind: string; name: string }, namespace: string): string | undefined {
  const group = splitApiVersion(r.apiVersion)[0];
  const type = cluster.typeOf(group, r.kind);
  const owner = cluster.get({ group, kind: r.kind, namespace: type?.namespaced ? namespace : '', name: r.name });
  return owner ? String(metadata(owner).uid) : undefined;
}

/** Run the controllers until a tick changes nothing (or the budget ends, which is logged). */
function settle(cluster: Cluster, seconds: number): void {
  for (let t = 0; t < seconds; t += TICK_SECONDS) {
    const before = cluster.events.length;
    cluster.tick();
    if (cluster.events.length === before) return;
  }
  const last = cluster.events[cluster.events.length - 1];
  cluster.log(
    DUMP_MANAGER,
    `the controllers did not settle within ${seconds} s (last: ${last ? `${last.actor} ${last.message} ${last.ref ?? ''}` : 'none'})`,
  );
}
