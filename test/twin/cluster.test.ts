import { Cluster } from '../../lib/twin/cluster';
import { refOf } from '../../lib/twin/objects';

const ns = (name: string) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
const cm = (data: Record<string, string>, labels: Record<string, string> = {}) => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name: 'c', namespace: 'a', labels },
  data,
});

function cluster(ossm2 = true, ossm3 = false): Cluster {
  const c = new Cluster({ ossm2, ossm3 });
  expect(c.apply(ns('a'), { manager: 'test' })).toMatchObject({ ok: true, created: true });
  return c;
}

describe('server-side apply', () => {
  test('a field the manager stops applying is removed; one another manager set stays', () => {
    const c = cluster();
    c.apply(cm({ x: '1', y: '2' }), { manager: 'argocd' });
    c.update(refOf(cm({})), 'operator', (o) => void ((o.metadata as any).labels = { owner: 'op' }));
    c.apply(cm({ x: '1' }), { manager: 'argocd' });
    const live = c.get(refOf(cm({}))) as any;
    expect(live.data).toEqual({ x: '1' });
    expect(live.metadata.labels).toEqual({ owner: 'op' });
  });
  test('a label both managers set survives when one of them drops it', () => {
    const c = cluster();
    c.apply(cm({}, { a: '1' }), { manager: 'argocd' });
    c.apply(cm({}, { a: '1' }), { manager: 'job' });
    c.apply(cm({}, {}), { manager: 'argocd' });
    expect((c.get(refOf(cm({}))) as any).metadata.labels).toEqual({ a: '1' });
  });
  test('generation counts spec changes only', () => {
    const c = cluster();
    const d = (replicas: number, l: string) => ({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'd', namespace: 'a', labels: { l } },
      spec: { replicas, selector: { matchLabels: { app: 'd' } } },
    });
    c.apply(d(1, 'x'), { manager: 'm' });
    c.apply(d(1, 'y'), { manager: 'm' });
    expect((c.get(refOf(d(1, 'x'))) as any).metadata.generation).toBe(1);
    c.apply(d(2, 'y'), { manager: 'm' });
    expect((c.get(refOf(d(1, 'x'))) as any).metadata.generation).toBe(2);
  });
});

describe('namespace name label', () => {
  test('every Namespace carries kubernetes.io/metadata.name, whoever applies or updates it', () => {
    const c = cluster();
    const labels = () => (c.get(refOf(ns('b'))) as any)?.metadata.labels;
    c.apply({ ...ns('b'), metadata: { name: 'b', labels: { team: 'x' } } }, { manager: 'argocd' });
    expect(labels()).toEqual({ team: 'x', 'kubernetes.io/metadata.name': 'b' });
    c.apply(ns('b'), { manager: 'argocd' });
    expect(labels()).toEqual({ 'kubernetes.io/metadata.name': 'b' });
    c.update(refOf(ns('b')), 'job', (o) => void ((o.metadata as any).labels = {}));
    expect(labels()).toEqual({ 'kubernetes.io/metadata.name': 'b' });
  });
});

describe('admission', () => {
  test('annotations over 256 KiB in all are refused (ValidateAnnotationsSize); exactly the limit is admitted', () => {
    const c = cluster();
    const withNote = (bytes: number) => ({ ...cm({}), metadata: { name: 'c', namespace: 'a', annotations: { k: 'x'.repeat(bytes - 1) } } });
    expect(c.apply(withNote(256 * 1024), { manager: 'm' })).toMatchObject({ ok: true });
    expect(c.apply(withNote(256 * 1024 + 1), { manager: 'm' })).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/metadata\.annotations: Too long: must have at most 262144 bytes/),
    });
  });
  test('a version the installed CRDs do not serve is refused (PeerAuthentication v1 on OSSM 2.6)', () => {
    const c = cluster(true, false);
    const pa = (v: string) => ({
      apiVersion: `security.istio.io/${v}`,
      kind: 'PeerAuthentication',
      metadata: { name: 'p', namespace: 'a' },
    });
    expect(c.apply(pa('v1'), { manager: 'm', dryRun: true })).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/no matches for kind/),
    });
    expect(c.apply(pa('v1beta1'), { manager: 'm' })).toMatchObject({ ok: true });
    c.setInstalled({ ossm2: true, ossm3: true });
    expect(c.apply(pa('v1'), { manager: 'm' })).toMatchObject({ ok: true, created: false });
  });
  test('a Service clusterIP cannot change; a missing namespace refuses', () => {
    const c = cluster();
    const svc = (ip: string, namespace = 'a') => ({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 's', namespace },
      spec: { clusterIP: ip },
    });
    expect(c.apply(svc('10.0.0.1'), { manager: 'm' })).toMatchObject({ ok: true });
    expect(c.apply(svc('10.0.0.2'), { manager: 'm' })).toMatchObject({ ok: false, reason: expect.stringMatching(/immutable/) });
    expect(c.apply(svc('10.0.0.1', 'nope'), { manager: 'm' })).toMatchObject({ ok: false, reason: 'namespaces "nope" not found' });
  });
});

describe('deletion', () => {
  const owner = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'owner', namespace: 'a', finalizers: ['x'] } };
  function withDependent(): Cluster {
    const c = cluster();
    c.apply(owner, { manager: 'm' });
    const uid = (c.get(refOf(owner)) as any).metadata.uid;
    c.create(
      {
        ...cm({}),
        metadata: { name: 'dep', namespace: 'a', ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid }] },
      },
      'op',
    );
    return c;
  }
  test('finalizers hold the object; dependents go once the owner is gone', () => {
    const c = withDependent();
    c.delete(refOf(owner), 'm');
    c.tick();
    expect(c.get(refOf(owner))).toBeDefined();
    expect(c.list((o) => (o.metadata as any).name === 'dep')).toHaveLength(1);
    c.removeFinalizer(refOf(owner), 'op', 'x');
    c.tick();
    expect(c.get(refOf(owner))).toBeUndefined();
    expect(c.list((o) => (o.metadata as any).name === 'dep')).toHaveLength(0);
  });
  test('orphan propagation frees the dependents', () => {
    const c = withDependent();
    c.delete(refOf(owner), 'm', 'Orphan');
    c.removeFinalizer(refOf(owner), 'op', 'x');
    c.tick();
    expect(c.list((o) => (o.metadata as any).name === 'dep')).toHaveLength(1);
  });
});
