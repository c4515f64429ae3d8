import { Cluster } from '../../lib/twin/cluster';
import { findCondition, KubeControllers } from '../../lib/twin/controllers/kube';
import { SailOperator, SailOptions } from '../../lib/twin/controllers/sail';
import { Obj, Ref } from '../../lib/twin/objects';

const ns = (name: string, labels: Record<string, string> = {}) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } });
const sail = (kind: string, name: string, spec: Record<string, any>): Obj => ({
  apiVersion: 'sailoperator.io/v1',
  kind,
  metadata: { name },
  spec,
});
const ref = (kind: string, name: string, namespace = '', group = 'sailoperator.io'): Ref => ({ group, kind, namespace, name });
const istio = (version: string, extra: Record<string, any> = {}) =>
  sail('Istio', 'default', {
    version,
    namespace: 'istio-system',
    updateStrategy: { type: 'RevisionBased', inactiveRevisionDeletionGracePeriodSeconds: 30 },
    ...extra,
  });
const cni = sail('IstioCNI', 'default', { version: 'v1.27.3', namespace: 'istio-cni' });

function cluster(opts: SailOptions = {}): Cluster {
  const c = new Cluster({ ossm2: true, ossm3: true }, [new KubeControllers({ rbac: false }), new SailOperator(opts)]);
  for (const n of ['istio-system', 'istio-cni', 'app']) c.apply(ns(n), { manager: 'test' });
  return c;
}
const live = (c: Cluster, r: Ref) => c.get(r) as any;

describe('IstioCNI', () => {
  test('installs the istio-cni-node DaemonSet owned by the IstioCNI and turns Ready/Healthy once its pods run', () => {
    const c = cluster();
    c.apply(cni, { manager: 'argocd' });
    c.advance(20);
    const ds = live(c, ref('DaemonSet', 'istio-cni-node', 'istio-cni', 'apps'));
    expect(ds.metadata.ownerReferences[0]).toMatchObject({ kind: 'IstioCNI', name: 'default', controller: true });
    const status = live(c, ref('IstioCNI', 'default')).status;
    expect(status.state).toBe('Healthy');
    expect(findCondition(live(c, ref('IstioCNI', 'default')), 'Ready')?.status).toBe('True');
  });

  test('a missing target namespace is a reconcile error', () => {
    const c = cluster();
    c.apply(sail('IstioCNI', 'default', { version: 'v1.27.3', namespace: 'nope' }), { manager: 'argocd' });
    c.advance(10);
    expect(findCondition(live(c, ref('IstioCNI', 'default')), 'Reconciled')).toMatchObject({
      status: 'False',
      reason: 'ReconcileError',
      message: 'error reconciling resource: namespace "nope" doesn\'t exist',
    });
  });
});

describe('Istio and IstioRevision', () => {
  test('RevisionBased: the revision <name>-<version dashed>, its istiod Deployment, Ready once istiod runs and CNI is healthy', () => {
    const c = cluster();
    c.apply(istio('v1.27.3'), { manager: 'argocd' });
    c.advance(30);
    const rev = live(c, ref('IstioRevision', 'default-v1-27-3'));
    expect(rev.metadata.ownerReferences[0]).toMatchObject({ kind: 'Istio', name: 'default', controller: true });
    expect(rev.spec).toMatchObject({
      version: 'v1.27.3',
      namespace: 'istio-system',
      values: { revision: 'default-v1-27-3', global: { istioNamespace: 'istio-system' } },
    });
    expect(live(c, ref('Deployment', 'istiod-default-v1-27-3', 'istio-system', 'apps')).spec.template.spec.serviceAccountName).toBe(
      'istiod-default-v1-27-3',
    );
    // Without IstioCNI on OpenShift the revision's dependencies are not healthy.
    const i = () => live(c, ref('Istio', 'default'));
    expect(findCondition(i(), 'Ready')?.status).toBe('True');
    expect(findCondition(i(), 'DependenciesHealthy')).toMatchObject({ status: 'False', reason: 'IstioCNINotFound' });
    expect(i().status).toMatchObject({ state: 'IstioCNINotFound', activeRevisionName: 'default-v1-27-3' });
    c.apply(cni, { manager: 'argocd' });
    c.advance(30);
    expect(i().status.state).toBe('Healthy');
    expect(findCondition(i(), 'Reconciled')?.status).toBe('True');
  });

  test('InPlace `default`: revision `default`, values.revision "", Deployment istiod', () => {
    const c = cluster();
    c.apply(sail('Istio', 'default', { version: 'v1.27.3', namespace: 'istio-system' }), { manager: 'argocd' });
    c.advance(20);
    expect(live(c, ref('IstioRevision', 'default')).spec.values.revision).toBe('');
    expect(live(c, ref('Deployment', 'istiod', 'istio-system', 'apps'))).toBeDefined();
  });

  test('a version change makes a new revision; the old one is pruned once nothing uses it for the grace period', () => {
    const c = cluster();
    c.apply(cni, { manager: 'argocd' });
    c.apply(istio('v1.27.3'), { manager: 'argocd' });
    c.advance(30);
    c.apply({ ...ns('app'), metadata: { name: 'app', labels: { 'istio.io/rev': 'default-v1-27-3' } } }, { manager: 'argocd' });
    c.apply(istio('v1.27.5'), { manager: 'argocd' });
    c.advance(120);
    expect(live(c, ref('IstioRevision', 'default-v1-27-5'))).toBeDefined();
    expect(findCondition(live(c, ref('IstioRevision', 'default-v1-27-3')), 'InUse')?.status).toBe('True');
    expect(live(c, ref('Istio', 'default')).status.revisions).toEqual({ total: 2, ready: 2, inUse: 1 });
    c.apply({ ...ns('app'), metadata: { name: 'app', labels: { 'istio.io/rev': 'default-v1-27-5' } } }, { manager: 'argocd' });
    c.advance(20);
    expect(live(c, ref('IstioRevision', 'default-v1-27-3'))).toBeDefined();
    c.advance(30);
    expect(live(c, ref('IstioRevision', 'default-v1-27-3'))).toBeUndefined();
    expect(live(c, ref('Deployment', 'istiod-default-v1-27-3', 'istio-system', 'apps'))).toBeUndefined();
  });

  test('failure injection: Reconciled False, Ready Unknown; without the operator nothing happens', () => {
    const c = cluster({ failReconcileOf: (o) => (o.kind === 'Istio' ? 'failed to resolve Istio version for "default": boom' : undefined) });
    c.apply(istio('v1.27.3'), { manager: 'argocd' });
    c.advance(10);
    const i = live(c, ref('Istio', 'default'));
    expect(findCondition(i, 'Reconciled')).toMatchObject({
      status: 'False',
      reason: 'ReconcileError',
      message: 'failed to resolve Istio version for "default": boom',
    });
    expect(findCondition(i, 'Ready')).toMatchObject({
      status: 'Unknown',
      message: 'cannot determine readiness due to reconciliation error',
    });
    expect(live(c, ref('IstioRevision', 'default-v1-27-3'))).toBeUndefined();
    // The operator uninstalled (its CRDs stay stored): nothing reconciles the Istio.
    const idle = cluster();
    idle.apply(istio('v1.27.3'), { manager: 'argocd' });
    idle.setInstalled({ ossm2: true, ossm3: false });
    idle.advance(30);
    expect(live(idle, ref('IstioRevision', 'default-v1-27-3'))).toBeUndefined();
    expect(live(idle, ref('Istio', 'default')).status).toBeUndefined();
  });

  test('deleting the Istio removes its revisions (finalizer: uninstall) and their istiod', () => {
    const c = cluster();
    c.apply(istio('v1.27.3'), { manager: 'argocd' });
    c.advance(20);
    expect(live(c, ref('IstioRevision', 'default-v1-27-3')).metadata.finalizers).toEqual(['sailoperator.io/sail-operator']);
    c.delete(ref('Istio', 'default'), 'argocd');
    c.advance(10);
    expect(live(c, ref('IstioRevision', 'default-v1-27-3'))).toBeUndefined();
    expect(live(c, ref('Deployment', 'istiod-default-v1-27-3', 'istio-system', 'apps'))).toBeUndefined();
  });
});
