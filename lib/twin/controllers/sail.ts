/**
 * The OSSM 3 operator (Sail) as far as GitOps can observe it: `Istio` → its active `IstioRevision` → the istiod
 * Deployment of that revision; `IstioCNI` → the istio-cni-node DaemonSet; the status conditions each writes
 * (Reconciled, Ready, DependenciesHealthy, InUse) and the pruning of inactive revisions.
 *
 * Source: istio-ecosystem/sail-operator@8cde773e (branch release-1.27), controllers/istio/istio_controller.go,
 * controllers/istiorevision/istiorevision_controller.go, controllers/istiocni/istiocni_controller.go,
 * pkg/revision/*.go, pkg/istiovalues/overrides.go, api/v1/*_types.go, and the charts in resources/v1.27.3/charts.
 * The charts are reduced to the objects the rest of the twin reads (ServiceAccount, Deployment/DaemonSet,
 * Service); profiles and the platform's default values are not applied.
 */
import { Json, JsonObject } from '../../load/yaml-source';
import { Cluster, Controller } from '../cluster';
import { isObject, splitApiVersion } from '../kustomize';
import { labels, metadata, Obj, ownerReferences, Ref, refOf, valueAt } from '../objects';
import { ConditionInput, controllerRef, findCondition, isTerminating, putCondition, putStatus, readConditions } from './kube';
import { InjectedFailure } from './maistra';

/** pkg/constants/constants.go:19, :47 (`sailoperator.io/sail-operator`). */
export const SAIL_FINALIZER = 'sailoperator.io/sail-operator';
export const SAIL_MANAGER = 'sail-operator';
/** The CRDs' defaults (api/v1/istio_types.go:43, :61, :83; istiocni_types.go:34, :47). */
const DEFAULT_VERSION = 'v1.27.9';

export interface SailOptions {
  /** Failure injection: why reconciling this Istio, IstioRevision or IstioCNI fails (undefined: it succeeds). */
  readonly failReconcileOf?: (obj: Obj) => InjectedFailure | undefined;
  /** The platform the operator runs on (OpenShift: revisions depend on IstioCNI unless pilot.cni.enabled is false). */
  readonly platform?: 'openshift' | 'kubernetes';
}

const obj = (v: Json | undefined): JsonObject => (isObject(v) ? v : {});
const isSail = (kind: string) => (o: Obj) => o.kind === kind && splitApiVersion(String(o.apiVersion))[0] === 'sailoperator.io';
const sailRef = (kind: string, name: string): Ref => ({ group: 'sailoperator.io', kind, namespace: '', name });

/**
 * The active revision's name (istio_controller.go:176-190): the Istio's name for InPlace (the default), or
 * `<name>-<version with dots as dashes>` for RevisionBased.
 */
export function activeRevisionName(istio: Obj): string {
  const name = String(metadata(istio).name);
  const version = String(valueAt(istio, ['spec', 'version']) ?? DEFAULT_VERSION);
  return valueAt(istio, ['spec', 'updateStrategy', 'type']) === 'RevisionBased' ? `${name}-${version.replace(/\./g, '-')}` : name;
}

/** pkg/istiovalues/overrides.go:19-39: the revision ("" for `default`) and global.istioNamespace are forced. */
function revisionValues(istio: Obj, revision: string): JsonObject {
  const values = structuredClone(obj(valueAt(istio, ['spec', 'values'])));
  values.revision = revision === 'default' ? '' : revision;
  values.global = { ...obj(values.global), istioNamespace: String(valueAt(istio, ['spec', 'namespace']) ?? 'istio-system') };
  delete values.defaultRevision;
  return values;
}

function failure(opts: SailOptions, o: Obj): string | undefined {
  const f = opts.failReconcileOf?.(o);
  return f === undefined ? undefined : typeof f === 'string' ? f : `${f.reason}: ${f.message}`;
}

/** pkg/validation/namespace.go:30-42 ValidateTargetNamespace. */
function namespaceError(cluster: Cluster, namespace: string): string | undefined {
  const ns = cluster.get({ group: '', kind: 'Namespace', namespace: '', name: namespace });
  if (!ns) return `namespace "${namespace}" doesn't exist`;
  if (isTerminating(ns)) return `namespace "${namespace}" is being deleted`;
  return undefined;
}

/** Create or update an object the operator's Helm charts own; its owner reference is the CR (controller: true). */
function install(cluster: Cluster, o: Obj, owner: Obj): string | undefined {
  const meta = metadata(o);
  meta.ownerReferences = [controllerRef(owner)];
  o.metadata = meta;
  const res = cluster.apply(o, { manager: SAIL_MANAGER });
  return res.ok ? undefined : res.reason;
}

type Conditions = JsonObject[];

function set(conds: Conditions, c: ConditionInput, now: number): Conditions {
  return putCondition(conds, c, now);
}

/** The state: the reason of the first condition that is not True, else Healthy (istiorevision_controller.go:382-389). */
function deriveState(conds: Conditions, types: string[]): string {
  for (const t of types) {
    const c = conds.find((x) => x.type === t);
    if (!c || c.status !== 'True') return String(c?.reason ?? 'Unknown');
  }
  return 'Healthy';
}

export class SailOperator implements Controller {
  readonly name = 'sail';

  constructor(private readonly opts: SailOptions = {}) {}

  reconcile(cluster: Cluster): void {
    // The operator's controllers run only while OLM keeps it installed.
    if (!cluster.operators.ossm3) return;
    for (const cni of cluster.list(isSail('IstioCNI'))) this.istioCni(cluster, cni);
    for (const rev of cluster.list(isSail('IstioRevision'))) this.istioRevision(cluster, rev);
    for (const istio of cluster.list(isSail('Istio'))) this.istio(cluster, istio);
  }

  /** reconciler.go:80-92 (pkg/reconciler): a finalizer first; on deletion, finalize (uninstall) and remove it. */
  private finalizer(cluster: Cluster, o: Obj, uninstall: () => void): boolean {
    const finalizers = Array.isArray(metadata(o).finalizers) ? (metadata(o).finalizers as string[]) : [];
    if (isTerminating(o)) {
      if (finalizers.includes(SAIL_FINALIZER)) {
        uninstall();
        cluster.removeFinalizer(refOf(o), SAIL_MANAGER, SAIL_FINALIZER);
      }
      return false;
    }
    if (!finalizers.includes(SAIL_FINALIZER)) {
      cluster.update(refOf(o), SAIL_MANAGER, (x) => void (metadata(x).finalizers = [...finalizers, SAIL_FINALIZER]));
      return false;
    }
    return true;
  }

  private uninstall(cluster: Cluster, owner: Obj): void {
    const uid = String(metadata(owner).uid);
    for (const o of cluster.list((x) => ownerReferences(x).some((r) => r.uid === uid && r.controller)))
      cluster.delete(refOf(o), SAIL_MANAGER);
  }

  /** controllers/istiocni/istiocni_controller.go:100-160 (validate, install), :269-348 (status). */
  private istioCni(cluster: Cluster, cni: Obj): void {
    if (!this.finalizer(cluster, cni, () => this.uninstall(cluster, cni))) return;
    const namespace = String(valueAt(cni, ['spec', 'namespace']) ?? 'istio-cni');
    const err = failure(this.opts, cni) ?? namespaceError(cluster, namespace) ?? this.installCni(cluster, cni, namespace);
    const now = cluster.now;
    let conds = readConditions(cni);
    conds = set(
      conds,
      err
        ? { type: 'Reconciled', status: 'False', reason: 'ReconcileError', message: `error reconciling resource: ${err}` }
        : { type: 'Reconciled', status: 'True' },
      now,
    );
    const ds = cluster.get({ group: 'apps', kind: 'DaemonSet', namespace, name: 'istio-cni-node' });
    const n = (k: string) => Number(valueAt(ds, ['status', k]) ?? 0);
    const notReady = (message: string): ConditionInput => ({ type: 'Ready', status: 'False', reason: 'DaemonSetNotReady', message });
    conds = set(
      conds,
      !ds
        ? notReady('istio-cni-node DaemonSet not found')
        : n('currentNumberScheduled') === 0
          ? notReady('no istio-cni-node pods are currently scheduled')
          : n('numberReady') < n('currentNumberScheduled')
            ? notReady('not all istio-cni-node pods are ready')
            : { type: 'Ready', status: 'True' },
      now,
    );
    this.writeStatus(cluster, cni, { conditions: conds, state: deriveState(conds, ['Reconciled', 'Ready']) });
  }

  private installCni(cluster: Cluster, cni: Obj, namespace: string): string | undefined {
    // resources/v1.27.3/charts/cni/templates/serviceaccount.yaml, daemonset.yaml (`istio-cni-node`, SA `istio-cni`).
    const podLabels = { 'k8s-app': 'istio-cni-node', 'sidecar.istio.io/inject': 'false', 'app.kubernetes.io/name': 'istio-cni' };
    return (
      install(cluster, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'istio-cni', namespace } }, cni) ??
      install(
        cluster,
        {
          apiVersion: 'apps/v1',
          kind: 'DaemonSet',
          metadata: { name: 'istio-cni-node', namespace, labels: { 'k8s-app': 'istio-cni-node' } },
          spec: {
            selector: { matchLabels: { 'k8s-app': 'istio-cni-node' } },
            template: { metadata: { labels: podLabels }, spec: { serviceAccountName: 'istio-cni', containers: [{ name: 'install-cni' }] } },
          },
        },
        cni,
      )
    );
  }

  /** controllers/istiorevision/istiorevision_controller.go:115-186 (validate, install), :345-612 (status). */
  private istioRevision(cluster: Cluster, rev: Obj): void {
    const namespace = String(valueAt(rev, ['spec', 'namespace']) ?? '');
    const values = obj(valueAt(rev, ['spec', 'values']));
    const revision = String(values.revision ?? '');
    const suffix = revision ? `-${revision}` : '';
    const deployment: Ref = { group: 'apps', kind: 'Deployment', namespace, name: `istiod${suffix}` };
    if (!this.finalizer(cluster, rev, () => this.uninstall(cluster, rev))) return;
    const err =
      failure(this.opts, rev) ??
      this.validateRevision(cluster, rev, namespace, values) ??
      this.installIstiod(cluster, rev, namespace, revision);
    const now = cluster.now;
    let conds = readConditions(rev);
    conds = set(
      conds,
      err
        ? { type: 'Reconciled', status: 'False', reason: 'ReconcileError', message: `error reconciling resource: ${err}` }
        : { type: 'Reconciled', status: 'True' },
      now,
    );
    const istiod = cluster.get(deployment);
    const n = (k: string) => Number(valueAt(istiod, ['status', k]) ?? 0);
    const notReady = (message: string): ConditionInput => ({ type: 'Ready', status: 'False', reason: 'IstiodNotReady', message });
    conds = set(
      conds,
      !istiod
        ? notReady('istiod Deployment not found')
        : n('replicas') === 0
          ? notReady('istiod Deployment is scaled to zero replicas')
          : n('readyReplicas') < n('replicas')
            ? notReady('not all istiod pods are ready')
            : { type: 'Ready', status: 'True' },
      now,
    );
    conds = set(conds, this.dependencies(cluster, values), now);
    const inUse = this.referenced(cluster, String(metadata(rev).name));
    conds = set(
      conds,
      inUse
        ? { type: 'InUse', status: 'True', reason: 'ReferencedByWorkloads', message: 'Referenced by at least one pod or namespace' }
        : { type: 'InUse', status: 'False', reason: 'NotReferencedByAnything', message: 'Not referenced by any pod or namespace' },
      now,
    );
    this.writeStatus(cluster, rev, { conditions: conds, state: deriveState(conds, ['Reconciled', 'Ready', 'DependenciesHealthy']) });
  }

  private validateRevision(cluster: Cluster, rev: Obj, namespace: string, values: JsonObject): string | undefined {
    const name = String(metadata(rev).name);
    if (!valueAt(rev, ['spec', 'version'])) return 'spec.version not set';
    if (!namespace) return 'spec.namespace not set';
    const nsErr = namespaceError(cluster, namespace);
    if (nsErr) return nsErr;
    const revision = values.revision;
    if (name === 'default' && typeof revision === 'string' && revision !== '')
      return 'spec.values.revision must be "" when IstioRevision name is default';
    if (name !== 'default' && revision !== name) return 'spec.values.revision does not match IstioRevision name';
    if (valueAt(values, ['global', 'istioNamespace']) !== namespace)
      return 'spec.values.global.istioNamespace does not match spec.namespace';
    if (cluster.get(sailRef('IstioRevisionTag', name))) return 'an IstioRevisionTag exists with this name';
    return undefined;
  }

  /** resources/v1.27.3/charts/istiod/templates/serviceaccount.yaml:11-18, deployment.yaml:6-85, service.yaml:6-19. */
  private installIstiod(cluster: Cluster, rev: Obj, namespace: string, revision: string): string | undefined {
    const name = `istiod${revision ? `-${revision}` : ''}`;
    const revLabel = revision || 'default';
    const selector: Record<string, string> = revision ? { app: 'istiod', 'istio.io/rev': revLabel } : { istio: 'pilot' };
    const replicas = valueAt(rev, ['spec', 'values', 'pilot', 'replicaCount']);
    const common = {
      app: 'istiod',
      'istio.io/rev': revLabel,
      'operator.istio.io/component': 'Pilot',
      istio: 'pilot',
      'app.kubernetes.io/name': 'istiod',
    };
    return (
      install(
        cluster,
        {
          apiVersion: 'v1',
          kind: 'ServiceAccount',
          metadata: { name, namespace, labels: { app: 'istiod', 'app.kubernetes.io/name': 'istiod' } },
        },
        rev,
      ) ??
      install(
        cluster,
        {
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          metadata: { name, namespace, labels: common },
          spec: {
            replicas: typeof replicas === 'number' ? replicas : 1,
            selector: { matchLabels: selector },
            template: {
              metadata: {
                labels: {
                  app: 'istiod',
                  'istio.io/rev': revLabel,
                  'sidecar.istio.io/inject': 'false',
                  'operator.istio.io/component': 'Pilot',
                  istio: revision ? 'istiod' : 'pilot',
                  'istio.io/dataplane-mode': 'none',
                  'app.kubernetes.io/name': 'istiod',
                },
              },
              spec: { serviceAccountName: name, containers: [{ name: 'discovery' }] },
            },
          },
        },
        rev,
      ) ??
      install(
        cluster,
        {
          apiVersion: 'v1',
          kind: 'Service',
          metadata: { name, namespace, labels: common },
          spec: {
            ports: [
              { port: 15010, name: 'grpc-xds', protocol: 'TCP' },
              { port: 15012, name: 'https-dns', protocol: 'TCP' },
              { port: 443, name: 'https-webhook', targetPort: 15017, protocol: 'TCP' },
              { port: 15014, name: 'http-monitoring', protocol: 'TCP' },
            ],
            selector: { app: 'istiod', 'istio.io/rev': revLabel },
          },
        },
        rev,
      )
    );
  }

  /** istiorevision_controller.go:459-524 with pkg/revision/dependency.go:27-46: OpenShift revisions need a healthy IstioCNI `default`. */
  private dependencies(cluster: Cluster, values: JsonObject): ConditionInput {
    const cniEnabled = valueAt(values, ['pilot', 'cni', 'enabled']);
    const needsCni = (this.opts.platform ?? 'openshift') === 'openshift' ? cniEnabled !== false : cniEnabled === true;
    if (needsCni) {
      const cni = cluster.get(sailRef('IstioCNI', 'default'));
      if (!cni)
        return { type: 'DependenciesHealthy', status: 'False', reason: 'IstioCNINotFound', message: 'IstioCNI resource does not exist' };
      if (valueAt(cni, ['status', 'state']) !== 'Healthy')
        return {
          type: 'DependenciesHealthy',
          status: 'False',
          reason: 'IstioCNINotHealthy',
          message: 'IstioCNI resource status indicates that the component is not healthy',
        };
    }
    return { type: 'DependenciesHealthy', status: 'True' };
  }

  /**
   * istiorevision_controller.go:548-612 with pkg/revision/references.go:22-47: a namespace labelled
   * `istio-injection=enabled` (revision `default`) or `istio.io/rev=<rev>`, or a running pod injected by the
   * revision (annotation `istio.io/rev`) or asking for it by label in an unlabelled namespace.
   */
  private referenced(cluster: Cluster, rev: string): boolean {
    const nsRev = (l: Record<string, string>) => (l['istio-injection'] === 'enabled' ? 'default' : (l['istio.io/rev'] ?? ''));
    const namespaces = new Map(
      cluster.list((o) => o.kind === 'Namespace' && o.apiVersion === 'v1').map((n) => [String(metadata(n).name), labels(n)]),
    );
    if ([...namespaces.values()].some((l) => nsRev(l) === rev)) return true;
    return cluster
      .list((o) => o.kind === 'Pod' && valueAt(o, ['status', 'phase']) !== 'Succeeded')
      .some((p) => {
        const ann = obj(metadata(p).annotations);
        if (ann['istio.io/rev'] === rev) return true;
        const ns = namespaces.get(String(metadata(p).namespace));
        const l = labels(p);
        if (!ns || nsRev(ns) !== '' || l['sidecar.istio.io/inject'] === 'false') return false;
        return (l['istio.io/rev'] ?? (l['sidecar.istio.io/inject'] === 'true' ? 'default' : '')) === rev;
      });
  }

  /**
   * controllers/istio/istio_controller.go:86-190 (create/update the active IstioRevision owned by the Istio,
   * prune inactive ones after the grace period), :222-299 (status copied from the active revision).
   */
  private istio(cluster: Cluster, istio: Obj): void {
    if (isTerminating(istio)) return;
    const now = cluster.now;
    const active = activeRevisionName(istio);
    const version = String(valueAt(istio, ['spec', 'version']) ?? DEFAULT_VERSION);
    const namespace = String(valueAt(istio, ['spec', 'namespace']) ?? 'istio-system');
    const err = failure(this.opts, istio);
    if (!err) {
      const ref = sailRef('IstioRevision', active);
      const values = revisionValues(istio, active);
      const existing = cluster.get(ref);
      // pkg/revision/reconcile.go:29-68: create with the owner reference, or update version and values.
      if (!existing) {
        const rev: Obj = {
          apiVersion: 'sailoperator.io/v1',
          kind: 'IstioRevision',
          metadata: { name: active },
          spec: { version, namespace, values },
        };
        install(cluster, rev, istio);
      } else {
        cluster.update(ref, SAIL_MANAGER, (o) => void (o.spec = { ...obj(o.spec), version, values }));
      }
      this.pruneInactive(cluster, istio, active);
    }
    let conds = readConditions(istio);
    const rev = cluster.get(sailRef('IstioRevision', active));
    let state: string;
    if (err) {
      conds = set(conds, { type: 'Reconciled', status: 'False', reason: 'ReconcileError', message: err }, now);
      conds = set(
        conds,
        { type: 'Ready', status: 'Unknown', reason: 'ReconcileError', message: 'cannot determine readiness due to reconciliation error' },
        now,
      );
      state = 'ReconcileError';
    } else if (!rev) {
      for (const type of ['Reconciled', 'Ready'])
        conds = set(conds, { type, status: 'False', reason: 'ActiveRevisionNotFound', message: 'active IstioRevision not found' }, now);
      state = 'ActiveRevisionNotFound';
    } else {
      for (const type of ['Reconciled', 'Ready', 'DependenciesHealthy']) {
        const c = findCondition(rev, type);
        if (c)
          conds = set(
            conds,
            {
              type,
              status: c.status as ConditionInput['status'],
              reason: c.reason as string | undefined,
              message: c.message as string | undefined,
            },
            now,
          );
      }
      state = String(valueAt(rev, ['status', 'state']) ?? 'Unknown');
    }
    const owned = this.owned(cluster, istio);
    this.writeStatus(cluster, istio, {
      conditions: conds,
      state,
      ...(err ? {} : { activeRevisionName: active }),
      revisions: {
        total: owned.length,
        ready: owned.filter((r) => findCondition(r, 'Ready')?.status === 'True').length,
        inUse: owned.filter((r) => findCondition(r, 'InUse')?.status === 'True').length,
      },
    });
  }

  private owned(cluster: Cluster, istio: Obj): Obj[] {
    const uid = String(metadata(istio).uid);
    return cluster.list((o) => isSail('IstioRevision')(o) && ownerReferences(o).some((r) => r.uid === uid));
  }

  /** pkg/revision/prune.go:32-80: an inactive revision goes once not in use for the grace period (api/v1/istio_types.go:31, 30 s). */
  private pruneInactive(cluster: Cluster, istio: Obj, active: string): void {
    const grace = Math.max(0, Number(valueAt(istio, ['spec', 'updateStrategy', 'inactiveRevisionDeletionGracePeriodSeconds']) ?? 30));
    for (const rev of this.owned(cluster, istio)) {
      if (metadata(rev).name === active || isTerminating(rev)) continue;
      const inUse = findCondition(rev, 'InUse');
      if (!inUse || inUse.status === 'True') continue;
      if (Number(inUse.lastTransitionTime ?? cluster.now) + grace < cluster.now) cluster.delete(refOf(rev), SAIL_MANAGER);
    }
  }

  private writeStatus(cluster: Cluster, o: Obj, status: JsonObject): void {
    const live = cluster.get(refOf(o));
    if (live)
      putStatus(cluster, live, SAIL_MANAGER, {
        ...obj(live.status),
        observedGeneration: Number(metadata(live).generation ?? 1),
        ...status,
      });
  }
}
