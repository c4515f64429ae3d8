/**
 * lib/twin/flux.ts: kustomize-controller over small hand-written renders in memory. Each test breaks or
 * varies one input and checks what Flux does about it (order, labels, garbage collection, waits, deletion).
 */
import { dump } from 'js-yaml';

import { Cluster } from '../../lib/twin/cluster';
import { Flux, FluxOptions, goDuration, parseDuration } from '../../lib/twin/flux';
import { FLUX_NAME_LABEL, FLUX_NAMESPACE_LABEL, Obj, Ref, refOf } from '../../lib/twin/objects';
import { memoryTree } from '../../lib/twin/tree';
import { FluxHealth, FluxStatus, HealthCheckExpr } from '../../lib/twin/types';

const NS = 'flux-system';

const ns = (name: string, annotations: Record<string, string> = {}) => ({
  apiVersion: 'v1',
  kind: 'Namespace',
  metadata: { name, annotations },
});
const cm = (name: string, namespace = 'a', extra: { annotations?: Record<string, string>; data?: Record<string, string> } = {}) => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, namespace, ...(extra.annotations ? { annotations: extra.annotations } : {}) },
  data: extra.data ?? { k: name },
});
const deploy = (name: string, namespace = 'a') => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name, namespace },
  spec: { selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } } } },
});

function ks(name: string, path: string, spec: Record<string, unknown> = {}): Obj {
  return {
    apiVersion: 'kustomize.toolkit.fluxcd.io/v1',
    kind: 'Kustomization',
    metadata: { name, namespace: NS },
    spec: {
      interval: '5m',
      retryInterval: '1m',
      path: `./${path}`,
      prune: true,
      sourceRef: { kind: 'GitRepository', name: 'meshfed' },
      ...spec,
    },
  } as Obj;
}

const gitRepository = {
  apiVersion: 'source.toolkit.fluxcd.io/v1',
  kind: 'GitRepository',
  metadata: { name: 'meshfed', namespace: NS },
  spec: { interval: '5m', url: 'https://git.example.com/mesh.git', ref: { branch: 'main' } },
};

/**
 * A GitOps repository as meshfed lays it out: `dist/flux/east/` with the GitRepository and the
 * Kustomizations, each folder under `dist/east/`, and optionally the delivery `dist/flux/bootstrap-east.yaml`.
 */
function repo(kustomizations: Obj[], folders: Record<string, object[]>, bootstrap?: Obj) {
  const files = new Map<string, string>();
  const names = kustomizations.map((k) => `${String((k.metadata as any).name)}.yaml`);
  files.set('dist/flux/east/kustomization.yaml', dump({ resources: ['gitrepository.yaml', ...names] }));
  files.set('dist/flux/east/gitrepository.yaml', dump(gitRepository));
  kustomizations.forEach((k, i) => files.set(`dist/flux/east/${names[i]}`, dump(k)));
  for (const [dir, objects] of Object.entries(folders)) {
    files.set(`dist/east/${dir}/kustomization.yaml`, dump({ resources: ['objects.yaml'] }));
    files.set(`dist/east/${dir}/objects.yaml`, objects.map((o) => dump(o)).join('---\n'));
  }
  if (bootstrap) files.set('dist/flux/bootstrap-east.yaml', dump(bootstrap));
  return memoryTree(files);
}

/** Health by `Kind/name`, InProgress or Failed where a test says so; Kustomizations by their conditions (kstatus). */
class FakeHealth {
  readonly statuses = new Map<string, FluxStatus>();
  readonly exprs: (readonly HealthCheckExpr[])[] = [];
  readonly of = (o: Obj, exprs: readonly HealthCheckExpr[]): FluxHealth => {
    this.exprs.push(exprs);
    const r = refOf(o);
    if (r.kind === 'Kustomization') {
      const st = (o.status ?? {}) as any;
      const ready = (st.conditions ?? []).find((c: any) => c.type === 'Ready');
      const current = ready?.status === 'True' && st.observedGeneration === (o.metadata as any).generation;
      return { status: current ? 'Current' : 'InProgress', message: ready?.message ?? '' };
    }
    const status = this.statuses.get(`${r.kind}/${r.name}`) ?? 'Current';
    return { status, message: status === 'Current' ? '' : `${r.name} is ${status}` };
  };
}

function setup(opts: FluxOptions = {}) {
  const cluster = new Cluster({ ossm2: true, ossm3: false });
  cluster.apply(ns('a'), { manager: 'live' });
  const health = new FakeHealth();
  const flux = new Flux(cluster, health.of, { horizonSeconds: 3600, ...opts });
  const get = (o: object) => cluster.get(refOf(o as Obj)) as any;
  return { cluster, health, flux, get };
}

/** Names of the objects kustomize-controller created, in order. */
function created(cluster: Cluster): string[] {
  return cluster.events.filter((e) => e.actor === 'kustomize-controller' && e.message === 'created').map((e) => e.ref!);
}

const kref = (name: string): Ref => ({ group: 'kustomize.toolkit.fluxcd.io', kind: 'Kustomization', namespace: NS, name });

describe('staged server-side apply', () => {
  test('CRDs, Namespaces and ClusterRoles first, then classes, then the rest in kind order', () => {
    const { cluster, flux } = setup();
    const objects = [
      deploy('d', 'new'),
      { apiVersion: 'admissionregistration.k8s.io/v1', kind: 'MutatingWebhookConfiguration', metadata: { name: 'hook' } },
      { apiVersion: 'route.openshift.io/v1', kind: 'Route', metadata: { name: 'r', namespace: 'new' } },
      cm('c', 'new'),
      { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'GatewayClass', metadata: { name: 'gc' } },
      { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'sa', namespace: 'new' } },
      { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'cr' } },
      ns('new'),
      { apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name: 'x.example.com' } },
    ];
    const r = flux.reconcile(repo([ks('phase', 'dist/east/00')], { '00': objects }), 'dist/flux/east');
    expect(r).toMatchObject({ engine: 'flux', ok: true });
    expect(created(cluster).filter((x) => !x.startsWith('GitRepository') && !x.startsWith('Kustomization'))).toEqual([
      'CustomResourceDefinition x.example.com',
      'Namespace new',
      'ClusterRole cr',
      'GatewayClass gc',
      'ServiceAccount new/sa',
      'ConfigMap new/c',
      'Deployment new/d',
      'Route new/r',
      'MutatingWebhookConfiguration hook',
    ]);
  });

  test('a dry-run failure stops its stage before anything of it is applied; earlier stages stay applied', () => {
    const { cluster, flux, get } = setup();
    const pa = { apiVersion: 'security.istio.io/v1', kind: 'PeerAuthentication', metadata: { name: 'default', namespace: 'new' } };
    const r = flux.reconcile(
      repo([ks('phase', 'dist/east/00', { retryInterval: '1m', timeout: '1m' })], { '00': [ns('new'), cm('c', 'new'), pa] }),
      'dist/flux/east',
    );
    expect(r.ok).toBe(false);
    expect(r.failure).toMatchObject({
      kind: 'failed',
      stage: 'phase: apply stage 3 (resources)',
      object: refOf(pa as Obj),
      reason: expect.stringMatching(/^PeerAuthentication\/new\/default dry-run failed: no matches for kind "PeerAuthentication"/),
    });
    expect(get(ns('new'))).toBeDefined();
    expect(get(cm('c', 'new'))).toBeUndefined();
    // Nothing can change: Flux stops retrying well before the horizon.
    expect(r.seconds).toBeLessThan(3600);
    expect((cluster.get(kref('phase')) as any).status.inventory).toBeUndefined();
  });

  test('every applied object carries the owner labels of its Kustomization', () => {
    const { flux, get } = setup();
    flux.reconcile(repo([ks('phase', 'dist/east/00')], { '00': [cm('c')] }), 'dist/flux/east');
    expect(get(cm('c')).metadata.labels).toEqual({ [FLUX_NAME_LABEL]: 'phase', [FLUX_NAMESPACE_LABEL]: NS });
    expect(get(cm('c')).status).toBeUndefined();
  });

  test('ssa: IfNotPresent leaves an existing object alone (no owner labels); ssa: Ignore is never applied', () => {
    const { cluster, flux, get } = setup();
    cluster.apply(cm('adopted', 'a', { data: { k: 'live' } }), { manager: 'operator' });
    const ifNotPresent = { annotations: { 'kustomize.toolkit.fluxcd.io/ssa': 'IfNotPresent' }, data: { k: 'render' } };
    const r = flux.reconcile(
      repo([ks('phase', 'dist/east/00')], {
        '00': [
          cm('adopted', 'a', ifNotPresent),
          cm('fresh', 'a', ifNotPresent),
          cm('ignored', 'a', { annotations: { 'kustomize.toolkit.fluxcd.io/ssa': 'ignore' } }),
        ],
      }),
      'dist/flux/east',
    );
    expect(r.ok).toBe(true);
    expect(get(cm('adopted')).data).toEqual({ k: 'live' });
    expect(get(cm('adopted')).metadata.labels).toBeUndefined();
    expect(get(cm('fresh')).data).toEqual({ k: 'render' });
    expect(get(cm('ignored'))).toBeUndefined();
    expect(r.steps).toContainEqual(expect.objectContaining({ action: 'apply', detail: expect.stringMatching(/^skipped: .*IfNotPresent/) }));
    // Removed from the render: the adopted one lacks the owner labels and stays; the one Flux created goes
    // (IfNotPresent is no exclusion from garbage collection).
    flux.reconcile(repo([ks('phase', 'dist/east/01')], { '01': [cm('other')] }), 'dist/flux/east');
    expect(get(cm('adopted'))).toBeDefined();
    expect(get(cm('fresh'))).toBeUndefined();
  });
});

describe('garbage collection', () => {
  const first = [
    cm('plain'),
    cm('keep', 'a', { annotations: { 'kustomize.toolkit.fluxcd.io/prune': 'disabled' } }),
    cm('relabelled'),
    cm('owned'),
    cm('stays'),
  ];

  function afterTwoMoves(prune: boolean) {
    const s = setup();
    s.flux.reconcile(repo([ks('phase', 'dist/east/00', { prune })], { '00': first, '01': [cm('stays')] }), 'dist/flux/east');
    // Someone else takes the owner labels off; an operator makes a Deployment the owner of another.
    s.cluster.update(refOf(cm('relabelled') as Obj), 'someone', (o) => void delete (o.metadata as any).labels);
    s.cluster.apply(deploy('owner'), { manager: 'operator' });
    const uid = s.get(deploy('owner')).metadata.uid;
    s.cluster.update(refOf(cm('owned') as Obj), 'operator', (o) => {
      (o.metadata as any).ownerReferences = [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'owner', uid }];
    });
    const r = s.flux.reconcile(repo([ks('phase', 'dist/east/01', { prune })], { '00': first, '01': [cm('stays')] }), 'dist/flux/east');
    return { ...s, r };
  }

  test('deletes what is no longer built unless it lost the owner labels or has prune: disabled; ownerReferences do not protect', () => {
    const { r, get } = afterTwoMoves(true);
    expect(r.ok).toBe(true);
    expect(get(cm('plain'))).toBeUndefined();
    expect(get(cm('owned'))).toBeUndefined();
    expect(get(cm('keep'))).toBeDefined();
    expect(get(cm('relabelled'))).toBeDefined();
    expect(get(cm('stays'))).toBeDefined();
    expect(r.steps.filter((s) => s.action === 'prune').map((s) => s.object!.name)).toEqual(['plain', 'owned']);
    expect(r.steps.filter((s) => s.action === 'prune-skipped').map((s) => [s.object!.name, s.detail])).toEqual([
      ['relabelled', 'it carries no owner labels'],
      ['keep', 'kustomize.toolkit.fluxcd.io/prune: disabled'],
    ]);
  });

  test('prune: false collects nothing', () => {
    const { r, get } = afterTwoMoves(false);
    expect(r.ok).toBe(true);
    for (const c of first) expect(get(c)).toBeDefined();
  });

  test('an inventory entry whose kind is no longer served cannot be collected: the prune fails and the entry stays', () => {
    const { cluster, flux } = setup();
    const smm = { apiVersion: 'maistra.io/v1', kind: 'ServiceMeshMember', metadata: { name: 'default', namespace: 'a' } };
    flux.reconcile(repo([ks('phase', 'dist/east/00')], { '00': [smm, cm('c')], '01': [cm('c')] }), 'dist/flux/east');
    cluster.setInstalled({ ossm2: false, ossm3: true });
    const r = flux.reconcile(repo([ks('phase', 'dist/east/01')], { '00': [cm('c')], '01': [cm('c')] }), 'dist/flux/east');
    expect(r.failure).toMatchObject({
      stage: 'phase: garbage collection',
      reason: expect.stringMatching(/ServiceMeshMember\/a\/default query failed/),
    });
    const ids = (cluster.get(kref('phase')) as any).status.inventory.entries.map((e: any) => e.id);
    expect(ids).toContain('a_default_maistra.io_ServiceMeshMember');
  });

  test('two Kustomizations claiming one object: the later apply takes the owner labels, the first then skips it', () => {
    const { flux, get } = setup();
    const both = { '00-a': [cm('shared'), cm('only-a')], '00-b': [cm('shared')], '01-a': [cm('only-a')], '01-b': [] as object[] };
    flux.reconcile(repo([ks('a', 'dist/east/00-a'), ks('b', 'dist/east/00-b')], both), 'dist/flux/east');
    // Kustomizations reconcile in key order within a tick: b applies after a.
    expect(get(cm('shared')).metadata.labels[FLUX_NAME_LABEL]).toBe('b');
    const r = flux.reconcile(repo([ks('a', 'dist/east/01-a'), ks('b', 'dist/east/00-b')], both), 'dist/flux/east');
    expect(r.ok).toBe(true);
    expect(get(cm('shared'))).toBeDefined();
    expect(r.steps).toContainEqual(
      expect.objectContaining({
        stage: 'a: garbage collection',
        action: 'prune-skipped',
        detail: `it carries the owner labels of Kustomization ${NS}/b`,
      }),
    );
    // b, whose labels it carries, collects it.
    flux.reconcile(repo([ks('a', 'dist/east/01-a'), ks('b', 'dist/east/01-b')], { ...both, '01-b': [cm('other-b')] }), 'dist/flux/east');
    expect(get(cm('shared'))).toBeUndefined();
  });
});

describe('health checks', () => {
  test('wait: a Deployment that never becomes Current times out with Flux message', () => {
    const { flux, health } = setup();
    health.statuses.set('Deployment/d', 'InProgress');
    const r = flux.reconcile(
      repo([ks('phase', 'dist/east/00', { wait: true, timeout: '2m' })], { '00': [deploy('d'), cm('c')] }),
      'dist/flux/east',
    );
    expect(r.ok).toBe(false);
    expect(r.failure).toMatchObject({
      kind: 'failed',
      stage: 'phase: health check',
      object: refOf(deploy('d') as Obj),
      reason:
        "health check failed after 2m0s: timeout waiting for: [Deployment/a/d status: 'InProgress'] (Deployment a/d: d is InProgress)",
    });
  });

  test('wait: Failed fails at once (fail-fast), long before the timeout, while others are still in progress', () => {
    const { flux, health } = setup();
    health.statuses.set('Deployment/d', 'Failed');
    health.statuses.set('Deployment/slow', 'InProgress');
    const objects = [deploy('d'), deploy('slow'), cm('c')];
    const r = flux.reconcile(repo([ks('phase', 'dist/east/00', { wait: true, timeout: '30m' })], { '00': objects }), 'dist/flux/east');
    expect(r.failure?.reason).toMatch(
      /^health check failed after 0s: failed early due to stalled resources: \[Deployment\/a\/d status: 'Failed'\]/,
    );
    const fails = r.steps.filter((s) => s.action === 'fail');
    expect(fails[0].t).toBeLessThan(60);
  });

  test('wait: the move completes once the objects become Current, advancing the virtual clock', () => {
    const { cluster, flux, health } = setup();
    health.statuses.set('Deployment/d', 'InProgress');
    cluster.controllers.unshift({ name: 'rollout', reconcile: (c) => void (c.now >= 40 && health.statuses.delete('Deployment/d')) });
    const r = flux.reconcile(repo([ks('phase', 'dist/east/00', { wait: true, timeout: '5m' })], { '00': [deploy('d')] }), 'dist/flux/east');
    expect(r).toMatchObject({ ok: true });
    expect(r.seconds).toBeGreaterThanOrEqual(40);
    expect(r.seconds).toBeLessThan(60);
    expect((cluster.get(kref('phase')) as any).status.conditions).toContainEqual(
      expect.objectContaining({ type: 'Ready', status: 'True', message: 'Applied revision: rev-1' }),
    );
  });

  test('without wait, only spec.healthChecks are checked, with the healthCheckExprs', () => {
    const { flux, health } = setup();
    health.statuses.set('Deployment/unchecked', 'InProgress');
    health.statuses.set('Deployment/checked', 'InProgress');
    const exprs = [{ apiVersion: 'maistra.io/v2', kind: 'ServiceMeshControlPlane', current: 'true' }];
    const spec = { timeout: '1m', healthChecks: [{ kind: 'Deployment', name: 'checked', namespace: 'a' }], healthCheckExprs: exprs };
    const r = flux.reconcile(
      repo([ks('phase', 'dist/east/00', spec)], { '00': [deploy('unchecked'), deploy('checked')] }),
      'dist/flux/east',
    );
    expect(r.failure?.reason).toMatch(/timeout waiting for: \[Deployment\/a\/checked status: 'InProgress'\]/);
    expect(health.exprs).toContainEqual(exprs);
  });
});

describe('Jobs with a TTL', () => {
  test('a Job with ttlSecondsAfterFinished that is gone counts as Current; without a TTL it is NotFound', () => {
    const job = (ttl: boolean) => ({
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'hook', namespace: 'a' },
      spec: { ...(ttl ? { ttlSecondsAfterFinished: 0 } : {}), template: { spec: { containers: [{ name: 'c', image: 'x' }] } } },
    });
    for (const ttl of [true, false]) {
      const { cluster, flux, health } = setup();
      health.statuses.set('Job/hook', 'InProgress');
      // The TTL controller deletes the finished Job.
      cluster.controllers.unshift({
        name: 'ttl',
        reconcile: (c) => void (c.now >= 20 && c.delete(refOf(job(ttl) as Obj), 'ttl-controller')),
      });
      const r = flux.reconcile(repo([ks('phase', 'dist/east/00', { wait: true, timeout: '1m' })], { '00': [job(ttl)] }), 'dist/flux/east');
      expect(r.ok).toBe(ttl);
      if (!ttl) expect(r.failure?.reason).toMatch(/Job\/a\/hook status: 'NotFound'/);
    }
  });
});

describe('dependsOn', () => {
  test('a Kustomization waits until the one it depends on is Ready at this revision', () => {
    const { cluster, flux, health } = setup();
    health.statuses.set('Deployment/infra', 'InProgress');
    cluster.controllers.unshift({ name: 'rollout', reconcile: (c) => void (c.now >= 60 && health.statuses.delete('Deployment/infra')) });
    const kss = [ks('apps', 'dist/east/apps', { dependsOn: [{ name: 'infra' }] }), ks('infra', 'dist/east/infra', { wait: true })];
    const r = flux.reconcile(repo(kss, { apps: [cm('app')], infra: [deploy('infra')] }), 'dist/flux/east');
    expect(r.ok).toBe(true);
    const at = (name: string) => cluster.events.find((e) => e.message === 'created' && e.ref === name)!.t;
    expect(at('ConfigMap a/app')).toBeGreaterThanOrEqual(60);
    expect(at('Deployment a/infra')).toBeLessThan(10);
    expect(r.steps).toContainEqual(
      expect.objectContaining({ stage: 'apps: dependencies', detail: `dependency '${NS}/infra' is not ready` }),
    );
  });
});

describe('suspend', () => {
  test('a suspended Kustomization applies nothing and collects nothing, and does not hold the move', () => {
    const { cluster, flux, get } = setup();
    flux.reconcile(repo([ks('phase', 'dist/east/00')], { '00': [cm('one')], '01': [cm('two')] }), 'dist/flux/east');
    const r = flux.reconcile(
      repo([ks('phase', 'dist/east/01', { suspend: true })], { '00': [cm('one')], '01': [cm('two')] }),
      'dist/flux/east',
    );
    expect(r.ok).toBe(true);
    // Flux keeps running (intervals, retries): still nothing.
    cluster.advance(900);
    expect(get(cm('one'))).toBeDefined();
    expect(get(cm('two'))).toBeUndefined();
  });
});

describe('deletion', () => {
  function deleted(policy: string, spec: Record<string, unknown> = {}) {
    const s = setup();
    s.flux.reconcile(
      repo([ks('phase', 'dist/east/00', { deletionPolicy: policy, ...spec })], { '00': [cm('c'), cm('d')] }),
      'dist/flux/east',
    );
    return { ...s, out: s.flux.deleteKustomization('phase') };
  }
  test('Orphan keeps every object; the Kustomization goes', () => {
    const { out, get, cluster } = deleted('Orphan');
    expect(out.deleted).toEqual([]);
    expect(get(cm('c'))).toBeDefined();
    expect(cluster.get(kref('phase'))).toBeUndefined();
    expect(out.steps).toContainEqual(expect.objectContaining({ action: 'delete', detail: 'keeps its 2 objects (deletionPolicy Orphan)' }));
  });
  test('Delete deletes the inventory, whatever spec.prune says', () => {
    const { out, get } = deleted('Delete', { prune: false });
    expect(out.deleted.map((r) => r.name).sort()).toEqual(['c', 'd']);
    expect(get(cm('c'))).toBeUndefined();
  });
  test('MirrorPrune follows spec.prune', () => {
    expect(deleted('MirrorPrune', { prune: true }).out.deleted).toHaveLength(2);
    expect(deleted('MirrorPrune', { prune: false }).out.deleted).toHaveLength(0);
  });
  test('WaitForTermination waits for the deleted objects to go, at most the timeout, then lets the Kustomization go', () => {
    const held = { ...cm('held'), metadata: { name: 'held', namespace: 'a', finalizers: ['example.com/hold'] } };
    const run = (policy: string) => {
      const s = setup();
      s.flux.reconcile(repo([ks('phase', 'dist/east/00', { deletionPolicy: policy, timeout: '2m' })], { '00': [held] }), 'dist/flux/east');
      const out = s.flux.deleteKustomization('phase');
      return { ...s, out, took: out.steps.find((x) => x.detail === 'finalizer removed')!.t };
    };
    const waited = run('WaitForTermination');
    expect(waited.took).toBeGreaterThanOrEqual(120);
    expect(waited.out.steps).toContainEqual(
      expect.objectContaining({ action: 'fail', detail: 'failed to wait for resources termination' }),
    );
    expect(waited.get(held).metadata.deletionTimestamp).toBeDefined();
    expect(run('Delete').took).toBeLessThan(10);
  });
  test('a suspended Kustomization deletes nothing', () => {
    const s = setup();
    const tree = (suspend: boolean) => repo([ks('phase', 'dist/east/00', { deletionPolicy: 'Delete', suspend })], { '00': [cm('c')] });
    s.flux.reconcile(tree(false), 'dist/flux/east');
    s.flux.reconcile(tree(true), 'dist/flux/east');
    expect(s.flux.deleteKustomization('phase').deleted).toEqual([]);
    expect(s.get(cm('c'))).toBeDefined();
  });
});

describe('the delivery Kustomization', () => {
  const delivery = ks('delivery', 'dist/flux/east', { wait: true, timeout: '5m', deletionPolicy: 'Orphan' });

  test('applies the phase spec; a Kustomization dropped from the delivery folder is pruned and its finalizer runs', () => {
    const { cluster, flux, get } = setup();
    const imports = ks('imports', 'dist/east/imports');
    const folders = { '00': [cm('phase-00')], '01': [cm('phase-01')], imports: [cm('imported')] };
    const first = flux.reconcile(repo([ks('phase', 'dist/east/00'), imports], folders, delivery), 'dist/flux/east');
    expect(first.ok).toBe(true);
    expect(first.steps.filter((s) => s.stage === 'bootstrap (kubectl apply)').map((s) => s.object!.name)).toEqual([
      'meshfed',
      'phase',
      'imports',
      'delivery',
    ]);
    expect(get(cm('imported'))).toBeDefined();
    const r = flux.reconcile(repo([ks('phase', 'dist/east/01')], folders, delivery), 'dist/flux/east');
    expect(r.ok).toBe(true);
    expect(cluster.get(kref('imports'))).toBeUndefined();
    expect(get(cm('imported'))).toBeUndefined();
    expect(get(cm('phase-00'))).toBeUndefined();
    expect(get(cm('phase-01'))).toBeDefined();
    expect((cluster.get(kref('phase')) as any).metadata.labels[FLUX_NAME_LABEL]).toBe('delivery');
  });

  test("a phase that runs for 20 minutes: a delivery that waits fails its health check every few minutes; meshfed's (no wait) stays Ready", () => {
    const run = (wait: boolean) => {
      const { cluster, flux, health } = setup();
      health.statuses.set('Deployment/slow', 'InProgress');
      const bootstrap = ks('delivery', 'dist/flux/east', { wait, timeout: '5m', deletionPolicy: 'Orphan' });
      const phase = ks('phase', 'dist/east/00', { wait: true, timeout: '60m' });
      const r = flux.reconcile(repo([phase], { '00': [deploy('slow')] }, bootstrap), 'dist/flux/east', 1200);
      const ready = ((cluster.get(kref('delivery')) as any).status.conditions as any[]).find((c) => c.type === 'Ready');
      return { failures: r.steps.filter((x) => x.stage === 'delivery: health check' && x.action === 'fail'), ready };
    };
    const waiting = run(true);
    expect(waiting.failures.length).toBeGreaterThanOrEqual(2);
    expect(waiting.failures[0].detail).toMatch(/^health check failed after 5m0s: timeout waiting for: \[Kustomization\/flux-system\/phase/);
    const meshfed = run(false);
    expect(meshfed.failures).toEqual([]);
    expect(meshfed.ready).toMatchObject({ status: 'True', reason: 'ReconciliationSucceeded' });
  });

  test('fields kubectl applied at bootstrap are taken over, so a field the render drops is removed', () => {
    const { cluster, flux } = setup();
    const checks = { healthChecks: [{ kind: 'ConfigMap', apiVersion: 'v1', name: 'c', namespace: 'a' }] };
    flux.reconcile(repo([ks('phase', 'dist/east/00', checks)], { '00': [cm('c')] }, delivery), 'dist/flux/east');
    expect((cluster.get(kref('phase')) as any).spec.healthChecks).toHaveLength(1);
    flux.reconcile(repo([ks('phase', 'dist/east/00')], { '00': [cm('c')] }, delivery), 'dist/flux/east');
    expect((cluster.get(kref('phase')) as any).spec.healthChecks).toBeUndefined();
  });
});

describe('a new revision while a health check runs', () => {
  function stuckThenFixed(cancelHealthCheckOnNewRevision: boolean) {
    const { cluster, flux, health, get } = setup({ cancelHealthCheckOnNewRevision });
    health.statuses.set('Deployment/stuck', 'InProgress');
    const spec = { wait: true, timeout: '10m' };
    // Two minutes in, the fix is pushed.
    const first = flux.reconcile(repo([ks('phase', 'dist/east/00', spec)], { '00': [deploy('stuck')] }), 'dist/flux/east', 120);
    const second = flux.reconcile(repo([ks('phase', 'dist/east/00', spec)], { '00': [cm('fixed')] }), 'dist/flux/east');
    return { cluster, first, second, get };
  }

  test('the first move hangs in its health check at the horizon', () => {
    const { first } = stuckThenFixed(false);
    expect(first.failure).toMatchObject({ kind: 'hangs', stage: 'phase: health check' });
  });

  test('CancelHealthCheckOnNewRevision off (the default): the fix waits for the running check to time out', () => {
    const { second, get } = stuckThenFixed(false);
    expect(second.ok).toBe(false);
    expect(second.failure?.reason).toMatch(
      /^the new revision waited \d+ s behind the running health check of Kustomization flux-system\/phase/,
    );
    const waited = Number(/waited (\d+) s/.exec(second.failure!.reason)![1]);
    expect(waited).toBeGreaterThanOrEqual(600 - 125);
    expect(get(cm('fixed'))).toBeDefined();
    expect(get(deploy('stuck'))).toBeUndefined();
  });

  test('CancelHealthCheckOnNewRevision on: the check is cancelled and the fix applies at once', () => {
    const { second, get } = stuckThenFixed(true);
    expect(second).toMatchObject({ ok: true });
    expect(second.seconds).toBeLessThan(30);
    expect(get(cm('fixed'))).toBeDefined();
  });
});

describe('a rollback after a move whose health check fails', () => {
  function rollback(cancelHealthCheckOnNewRevision: boolean) {
    const { flux, health, get } = setup({ cancelHealthCheckOnNewRevision });
    health.statuses.set('Deployment/stuck', 'InProgress');
    const delivery = ks('delivery', 'dist/flux/east', { wait: true, timeout: '5m', deletionPolicy: 'Orphan' });
    const folders = { '00': [cm('phase-00')], '01': [deploy('stuck')] };
    const at = (path: string) => repo([ks('phase', path, { wait: true, timeout: '10m' })], folders, delivery);
    expect(flux.reconcile(at('dist/east/00'), 'dist/flux/east').ok).toBe(true);
    const forward = flux.reconcile(at('dist/east/01'), 'dist/flux/east');
    const back = flux.reconcile(at('dist/east/00'), 'dist/flux/east');
    return { forward, back, get };
  }

  test('the failing move fails on its timeout; the rollback first waits for a health check of the failed spec', () => {
    const { forward, back, get } = rollback(false);
    expect(forward.failure).toMatchObject({
      kind: 'failed',
      reason: expect.stringMatching(/^health check failed after 10m0s: timeout waiting for/),
    });
    expect(back.ok).toBe(false);
    const waited = Number(
      /waited (\d+) s behind the running health check of Kustomization flux-system\/phase/.exec(back.failure!.reason)?.[1],
    );
    expect(waited).toBeGreaterThanOrEqual(500);
    // It does roll back in the end.
    expect(get(cm('phase-00'))).toBeDefined();
    expect(get(deploy('stuck'))).toBeUndefined();
  });

  test('with CancelHealthCheckOnNewRevision the rollback is not held up', () => {
    const { back, get } = rollback(true);
    expect(back).toMatchObject({ ok: true });
    expect(back.seconds).toBeLessThan(60);
    expect(get(cm('phase-00'))).toBeDefined();
  });
});

describe('force', () => {
  const job = (image: string, annotations: Record<string, string> = {}) => ({
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: 'hook', namespace: 'a', annotations },
    spec: { template: { spec: { containers: [{ name: 'c', image }] } } },
  });
  test('an immutable field change fails the apply, unless force: enabled recreates the object', () => {
    const force = { 'kustomize.toolkit.fluxcd.io/force': 'enabled' };
    for (const [annotations, ok] of [
      [{}, false],
      [force, true],
    ] as const) {
      const { flux, get } = setup();
      flux.reconcile(repo([ks('phase', 'dist/east/00', { timeout: '1m' })], { '00': [job('one', annotations)] }), 'dist/flux/east');
      const uid = get(job('one')).metadata.uid;
      const r = flux.reconcile(
        repo([ks('phase', 'dist/east/00', { timeout: '1m' })], { '00': [job('two', annotations)] }),
        'dist/flux/east',
      );
      expect(r.ok).toBe(ok);
      if (ok) expect(get(job('two')).metadata.uid).not.toBe(uid);
      else expect(r.failure?.reason).toMatch(/^Job\/a\/hook dry-run failed: spec\.template: Invalid value: .*field is immutable/);
    }
  });
});

describe('what the twin refuses', () => {
  test('a spec field it does not model fails the Kustomization with a message, not silently', () => {
    const { flux } = setup();
    const r = flux.reconcile(repo([ks('phase', 'dist/east/00', { targetNamespace: 'a' })], { '00': [cm('c')] }), 'dist/flux/east');
    expect(r.failure).toMatchObject({
      kind: 'failed',
      reason: 'the twin does not model spec.targetNamespace of Kustomization flux-system/phase',
    });
  });
});

test('Go durations', () => {
  expect(parseDuration('1h2m3s')).toBe(3723);
  expect(parseDuration('30m')).toBe(1800);
  expect(parseDuration('5x')).toBeUndefined();
  expect(goDuration(1800)).toBe('30m0s');
  expect(goDuration(45)).toBe('45s');
  expect(goDuration(3600)).toBe('1h0m0s');
});
