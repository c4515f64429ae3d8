import { dump } from 'js-yaml';

import { Json } from '../../lib/load/yaml-source';
import { ArgoCd, ArgoOptions, HOOK_FINALIZER, plannedSync } from '../../lib/twin/argocd';
import { Cluster, Controller } from '../../lib/twin/cluster';
import { labels, metadata, Obj, Ref, refOf } from '../../lib/twin/objects';
import { FileTree, memoryTree } from '../../lib/twin/tree';
import { ArgoHealthOf, EngineResult } from '../../lib/twin/types';

// ---- objects ----

const WAVE = 'argocd.argoproj.io/sync-wave';
const OPTS = 'argocd.argoproj.io/sync-options';
const HOOK = 'argocd.argoproj.io/hook';
const POLICY = 'argocd.argoproj.io/hook-delete-policy';

type Ann = Record<string, string>;
const ns = (name: string, annotations: Ann = {}): Obj => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, annotations } });
const cm = (name: string, annotations: Ann = {}, data: Record<string, string> = { k: 'v' }, namespace = 'app'): Obj => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, namespace, annotations },
  data,
});
const sa = (name: string, annotations: Ann = {}): Obj => ({
  apiVersion: 'v1',
  kind: 'ServiceAccount',
  metadata: { name, namespace: 'app', annotations },
});
const deploy = (name: string, serviceAccount: string, annotations: Ann = {}, progressDeadlineSeconds?: number): Obj => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name, namespace: 'app', annotations },
  spec: {
    selector: { matchLabels: { app: name } },
    ...(progressDeadlineSeconds !== undefined ? { progressDeadlineSeconds } : {}),
    template: {
      metadata: { labels: { app: name } },
      spec: { serviceAccountName: serviceAccount, containers: [{ name: 'c', image: 'i' }] },
    },
  },
});
/** A hook Job; `outcome` tells the fake Job controller how it ends. */
const job = (name: string, hook: string, annotations: Ann = {}, outcome: 'succeed' | 'fail' | 'hang' = 'succeed'): Obj => ({
  apiVersion: 'batch/v1',
  kind: 'Job',
  metadata: { name, namespace: 'app', annotations: { [HOOK]: hook, 'test/outcome': outcome, ...annotations } },
  spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'i' }] } } },
});
const svc = (name: string, annotations: Ann = {}): Obj => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name, namespace: 'app', annotations },
  spec: { ports: [{ port: 80 }] },
});
const peerAuth = (version: string, annotations: Ann = {}): Obj => ({
  apiVersion: `security.istio.io/${version}`,
  kind: 'PeerAuthentication',
  metadata: { name: 'default', namespace: 'app', annotations },
  spec: { mtls: { mode: 'STRICT' } },
});

const ref = (o: Obj): Ref => refOf(o);

// ---- the repository and the Application ----

/** A repository whose folders are kustomizations listing one multi-document file. */
function repo(folders: Record<string, Obj[]>): FileTree {
  const files = new Map<string, string>();
  for (const [dir, objects] of Object.entries(folders)) {
    files.set(
      `${dir}/kustomization.yaml`,
      dump({ apiVersion: 'kustomize.config.k8s.io/v1beta1', kind: 'Kustomization', resources: ['objects.yaml'] }),
    );
    files.set(`${dir}/objects.yaml`, objects.map((o) => dump(o)).join('---\n'));
  }
  return memoryTree(files);
}

interface AppSpec {
  path?: string;
  sources?: string[];
  syncOptions?: string[];
  automated?: Record<string, boolean> | false;
  retry?: Record<string, unknown>;
}
function app(spec: AppSpec = {}): Obj {
  const automated = spec.automated === undefined ? { prune: true, selfHeal: true } : spec.automated;
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Application',
    metadata: { name: 'meshfed-east', namespace: 'openshift-gitops' },
    spec: {
      destination: { name: 'east' },
      project: 'default',
      ...(spec.sources
        ? { sources: spec.sources.map((path) => ({ repoURL: 'r', path })) }
        : { source: { repoURL: 'r', path: spec.path ?? 'p' } }),
      syncPolicy: {
        ...(automated ? { automated } : {}),
        ...(spec.retry ? { retry: spec.retry } : {}),
        syncOptions: spec.syncOptions ?? ['ServerSideApply=true'],
      },
    },
  } as Obj;
}

// ---- fake controllers and health (the real ones are in lib/twin/controllers/ and lib/twin/health.ts) ----

const READY_AFTER = 20;

/** Deployments: Ready READY_AFTER s after creation once their ServiceAccount exists; past `progressDeadlineSeconds` without it, Degraded. */
const deployments: Controller = {
  name: 'fake-deployments',
  reconcile(c) {
    for (const d of c.list((o) => o.kind === 'Deployment')) {
      const m = metadata(d);
      const spec = d.spec as any;
      const account = String(spec.template.spec.serviceAccountName);
      const exists = c.get({ group: '', kind: 'ServiceAccount', namespace: String(m.namespace), name: account }) !== undefined;
      const age = c.now - Number(m.creationTimestamp);
      const status: Record<string, Json> =
        exists && age >= READY_AFTER
          ? { readyReplicas: 1 }
          : !exists && spec.progressDeadlineSeconds !== undefined && age > spec.progressDeadlineSeconds
            ? { degraded: `ReplicaSet "${String(m.name)}" has timed out progressing` }
            : { waiting: exists ? 'pods starting' : `pods "${String(m.name)}-" is forbidden: serviceaccount "${account}" not found` };
      if (JSON.stringify(d.status) !== JSON.stringify(status)) c.update(refOf(d), 'fake-deployments', (o) => void (o.status = status));
    }
  },
};

/** Jobs: running for 10 s, then succeeded or failed as their `test/outcome` annotation says (`hang`: forever running). */
const jobs: Controller = {
  name: 'fake-jobs',
  reconcile(c) {
    for (const j of c.list((o) => o.kind === 'Job')) {
      const m = metadata(j);
      const outcome = (m.annotations as Ann)['test/outcome'];
      const age = c.now - Number(m.creationTimestamp);
      const status: Record<string, Json> =
        age < 10 || outcome === 'hang' ? { active: 1 } : outcome === 'fail' ? { failed: 1 } : { succeeded: 1 };
      if (JSON.stringify(j.status) !== JSON.stringify(status)) c.update(refOf(j), 'fake-jobs', (o) => void (o.status = status));
    }
  },
};

const health: ArgoHealthOf = (o) => {
  const s = (o.status ?? {}) as any;
  if (o.kind === 'Deployment')
    return s.readyReplicas
      ? { status: 'Healthy', message: '' }
      : s.degraded
        ? { status: 'Degraded', message: s.degraded }
        : { status: 'Progressing', message: s.waiting ?? 'Waiting for rollout to finish' };
  if (o.kind === 'Job')
    return s.succeeded
      ? { status: 'Healthy', message: 'Job completed' }
      : s.failed
        ? { status: 'Degraded', message: 'Job has reached the specified backoff limit' }
        : { status: 'Progressing', message: 'Job is running' };
  return undefined;
};

function setup(opts: ArgoOptions = {}, extra: Controller[] = [], installed = { ossm2: true, ossm3: false }) {
  const cluster = new Cluster(installed, [deployments, jobs, ...extra]);
  cluster.apply(ns('app'), { manager: 'test' });
  return { cluster, argo: new ArgoCd(cluster, health, opts) };
}

const key = (r: Ref) => `${r.kind}/${r.name}`;
/** The objects a result applied, pruned or ran as hooks, in order. */
const acted = (r: EngineResult, ...actions: string[]) =>
  r.steps.filter((s) => actions.includes(s.action) && s.object).map((s) => key(s.object!));
const at = (r: EngineResult, action: string, name: string) => r.steps.find((s) => s.action === action && s.object?.name === name)!.t;

// ---- tests ----

describe('waves', () => {
  test('run in ascending order, each once the previous wave is healthy', () => {
    const { cluster, argo } = setup();
    const objects = [
      cm('late', { [WAVE]: '2' }),
      deploy('d', 'sa', { [WAVE]: '1' }),
      sa('sa', { [WAVE]: '-1' }),
      cm('early', { [WAVE]: '-1' }),
    ];
    const r = argo.sync(app(), repo({ p: objects }));
    expect(r).toMatchObject({ ok: true });
    expect(acted(r, 'apply')).toEqual(['ServiceAccount/sa', 'ConfigMap/early', 'Deployment/d', 'ConfigMap/late']);
    // Wave 2 starts only after the Deployment of wave 1 became Ready.
    expect(at(r, 'apply', 'late') - at(r, 'apply', 'd')).toBeGreaterThanOrEqual(READY_AFTER);
    expect(cluster.get(ref(cm('late')))).toBeDefined();
  });

  test('a Deployment in an earlier wave than its ServiceAccount never gets healthy: the sync hangs', () => {
    const { cluster, argo } = setup({ horizonSeconds: 3600 });
    const r = argo.sync(app(), repo({ p: [deploy('gw', 'gw-sa'), sa('gw-sa', { [WAVE]: '2' })] }));
    expect(r.failure).toMatchObject({ kind: 'hangs', stage: 'Sync wave 0', object: { kind: 'Deployment', name: 'gw' } });
    expect(r.failure!.reason).toMatch(/waiting for healthy state of apps\/Deployment\/gw.*serviceaccount "gw-sa" not found/);
    expect(cluster.get(ref(sa('gw-sa')))).toBeUndefined();
    expect(r.seconds).toBeGreaterThanOrEqual(3600);
  });

  test('with a progress deadline the Deployment turns Degraded: the sync fails, is retried, and fails again', () => {
    const { argo } = setup();
    const retry = { limit: 2, backoff: { duration: '10s', factor: 2, maxDuration: '3m' } };
    const r = argo.sync(app({ retry }), repo({ p: [deploy('gw', 'gw-sa', {}, 60), sa('gw-sa', { [WAVE]: '2' })] }));
    expect(r.failure).toMatchObject({ kind: 'failed', stage: 'Sync wave 0', object: { name: 'gw' } });
    expect(r.failure!.reason).toMatch(/completed unsuccessfully: ReplicaSet "gw" has timed out progressing \(retried 2 times\)/);
    expect(r.steps.filter((s) => s.stage === 'retry').map((s) => s.detail)).toEqual([
      'Retrying attempt #1 in 10s',
      'Retrying attempt #2 in 20s',
    ]);
  });

  test('the same objects with the ServiceAccount first complete; inside one wave the kind order puts it first', () => {
    for (const saWave of ['-1', '0']) {
      const { argo } = setup();
      const r = argo.sync(app(), repo({ p: [deploy('gw', 'gw-sa'), sa('gw-sa', { [WAVE]: saWave })] }));
      expect(r).toMatchObject({ ok: true });
      expect(acted(r, 'apply')).toEqual(['ServiceAccount/gw-sa', 'Deployment/gw']);
    }
  });

  test('a Namespace in a later wave is applied in the wave of the first object in it', () => {
    const { cluster, argo } = setup();
    const r = argo.sync(app(), repo({ p: [ns('late', { [WAVE]: '3' }), cm('c', { [WAVE]: '0' }, {}, 'late')] }));
    expect(r).toMatchObject({ ok: true });
    expect(r.steps.filter((s) => s.action === 'apply').map((s) => `${s.stage} ${key(s.object!)}`)).toEqual([
      'Sync wave 0 Namespace/late',
      'Sync wave 0 ConfigMap/c',
    ]);
    expect(cluster.get({ group: '', kind: 'ConfigMap', namespace: 'late', name: 'c' })).toBeDefined();
  });

  test('the last wave is not waited on, the Application health is: a Deployment that never gets Ready hangs there', () => {
    const { argo } = setup({ horizonSeconds: 600 });
    const r = argo.sync(app(), repo({ p: [deploy('d', 'missing')] }));
    expect(r.steps.some((s) => s.stage === 'app health')).toBe(true);
    expect(r.failure).toMatchObject({ kind: 'hangs', stage: 'app health', object: { name: 'd' } });
    expect(r.failure!.reason).toMatch(/application is Progressing: .*serviceaccount "missing" not found/);
  });

  test('a running resource deleted under the sync fails it in 3.4; 2.13 keeps waiting', () => {
    // Someone deletes the Deployment 30 s in, while wave 0 waits for it.
    const vandal: Controller = {
      name: 'vandal',
      reconcile: (c) => void (c.now >= 30 && c.delete({ group: 'apps', kind: 'Deployment', namespace: 'app', name: 'd' }, 'vandal')),
    };
    const objects = [deploy('d', 'missing'), cm('after', { [WAVE]: '1' })];
    const v34 = setup({ version: '3.4', horizonSeconds: 3600 }, [vandal]).argo.sync(app({ retry: { limit: 0 } }), repo({ p: objects }));
    expect(v34.failure).toMatchObject({ kind: 'failed', object: { name: 'd' } });
    expect(v34.failure!.reason).toMatch(/Resource apps\/Deployment\/d is missing, it might have been deleted/);
    const v213 = setup({ version: '2.13', horizonSeconds: 3600 }, [vandal]).argo.sync(app({ retry: { limit: 0 } }), repo({ p: objects }));
    expect(v213.failure).toMatchObject({ kind: 'hangs', object: { name: 'd' } });
  });
});

describe('prune', () => {
  test('Prune=false is skipped and counts as success; IgnoreExtraneous keeps the app Synced', () => {
    const { cluster, argo } = setup();
    const keep = cm('keep', { [OPTS]: 'Prune=false' });
    const quiet = cm('quiet', { [OPTS]: 'Prune=false', 'argocd.argoproj.io/compare-options': 'IgnoreExtraneous' });
    expect(argo.sync(app(), repo({ p: [keep, quiet, cm('gone'), cm('stays')] }))).toMatchObject({ ok: true });
    const next = repo({ p: [cm('stays')] });
    const r = argo.sync(app(), next);
    expect(r).toMatchObject({ ok: true });
    expect(acted(r, 'prune')).toEqual(['ConfigMap/gone']);
    expect(r.steps.filter((s) => s.action === 'prune-skipped').map((s) => `${s.object!.name}: ${s.detail}`)).toEqual([
      'keep: ignored (no prune)',
      'quiet: ignored (no prune)',
    ]);
    expect(cluster.get(ref(keep))).toBeDefined();
    expect(cluster.get(ref(cm('gone')))).toBeUndefined();
    // keep has no IgnoreExtraneous: the app stays OutOfSync; quiet alone would not.
    const status = argo.compare(app(), next);
    expect(status.sync).toBe('OutOfSync');
    expect(status.resources.filter((x) => x.requiresPruning).map((x) => x.ref.name)).toEqual(['keep', 'quiet']);
    cluster.delete(ref(keep), 'test');
    expect(argo.compare(app(), next).sync).toBe('Synced');
  });

  test('automated prune off: nothing is pruned', () => {
    const { cluster, argo } = setup();
    const auto = { prune: false, selfHeal: true };
    argo.sync(app({ automated: auto }), repo({ p: [cm('a'), cm('b')] }));
    const r = argo.sync(app({ automated: auto }), repo({ p: [cm('a', {}, { k: 'changed' })] }));
    expect(r).toMatchObject({ ok: true });
    expect(r.steps.find((s) => s.object?.name === 'b')).toMatchObject({ action: 'prune-skipped', detail: 'ignored (requires pruning)' });
    expect(cluster.get(ref(cm('b')))).toBeDefined();
  });

  test('app-wide Prune=false is honoured from 3.x only', () => {
    for (const [version, pruned] of [
      ['3.4', false],
      ['2.13', true],
    ] as const) {
      const { cluster, argo } = setup({ version });
      const a = app({ syncOptions: ['ServerSideApply=true', 'Prune=false'] });
      argo.sync(a, repo({ p: [cm('a'), cm('b')] }));
      argo.sync(a, repo({ p: [cm('a')] }));
      expect(cluster.get(ref(cm('b'))) === undefined).toBe(pruned);
    }
  });

  test('an object with ownerReferences is never pruned, even when tracked', () => {
    const { cluster, argo } = setup({ version: '3.4' });
    const owner = cm('owner');
    argo.sync(app(), repo({ p: [owner, cm('owned'), cm('plain')] }));
    const uid = String(metadata(cluster.get(ref(owner))!).uid);
    cluster.update(ref(cm('owned')), 'operator', (o) => {
      metadata(o).ownerReferences = [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid }];
    });
    const r = argo.sync(app(), repo({ p: [owner] }));
    expect(acted(r, 'prune')).toEqual(['ConfigMap/plain']);
    expect(cluster.get(ref(cm('owned')))).toBeDefined();
  });

  test('an object whose kind is no longer served is invisible: neither pruned nor failing the sync', () => {
    const { cluster, argo } = setup();
    const smmr: Obj = { apiVersion: 'maistra.io/v1', kind: 'ServiceMeshMemberRoll', metadata: { name: 'default', namespace: 'app' } };
    argo.sync(app(), repo({ p: [cm('c'), smmr] }));
    cluster.setInstalled({ ossm2: false, ossm3: true });
    expect(argo.sync(app(), repo({ p: [cm('c', {}, { k: 'changed' })] }))).toMatchObject({ ok: true });
    expect(cluster.get(ref(smmr))).toBeDefined();
  });

  test('prunes run in reverse wave order, PruneLast after every wave', () => {
    const { argo } = setup();
    const before = [
      cm('w1', { [WAVE]: '1' }),
      cm('w2', { [WAVE]: '2' }),
      cm('w3', { [WAVE]: '3' }),
      cm('last', { [WAVE]: '1', [OPTS]: 'PruneLast=true' }),
    ];
    const stays = cm('stays', { [WAVE]: '5' });
    argo.sync(app(), repo({ p: [...before, stays] }));
    const r = argo.sync(app(), repo({ p: [cm('stays', { [WAVE]: '5' }, { k: 'changed' })] }));
    expect(r).toMatchObject({ ok: true });
    expect(acted(r, 'prune', 'apply')).toEqual(['ConfigMap/w3', 'ConfigMap/w2', 'ConfigMap/w1', 'ConfigMap/stays', 'ConfigMap/last']);
    expect(r.steps.find((s) => s.object?.name === 'last')!.stage).toBe('Sync wave 6');
  });

  test('app-wide PruneLast prunes after the last wave', () => {
    const { argo } = setup();
    const a = app({ syncOptions: ['ServerSideApply=true', 'PruneLast=true'] });
    argo.sync(a, repo({ p: [cm('w1', { [WAVE]: '1' }), cm('stays', { [WAVE]: '5' })] }));
    const r = argo.sync(a, repo({ p: [cm('stays', { [WAVE]: '5' }, { k: 'changed' })] }));
    expect(acted(r, 'prune', 'apply')).toEqual(['ConfigMap/stays', 'ConfigMap/w1']);
  });
});

describe('plannedSync: the order a change record lists is the order the sync runs', () => {
  const equal = (a: Obj, b: Obj) => JSON.stringify(a) === JSON.stringify(b);
  const planned = (targets: Obj[], before: Obj[], pruneLast = false) =>
    plannedSync(targets, before, { pruneLast, equal })
      .filter((t) => t.action !== 'prune-skipped')
      .map((t) => `${t.ref.kind}/${t.ref.name}`);

  test('waves, kinds, a Namespace moved to the wave of its first object, prunes in reverse wave order and PruneLast', () => {
    const before = [
      cm('w1', { [WAVE]: '1' }),
      cm('w2', { [WAVE]: '2' }),
      cm('w3', { [WAVE]: '3' }),
      cm('last', { [WAVE]: '1', [OPTS]: 'PruneLast=true' }),
      cm('stays', { [WAVE]: '5' }),
    ];
    const after = [
      cm('stays', { [WAVE]: '5' }, { k: 'changed' }),
      deploy('gw', 'gw-sa'),
      sa('gw-sa', { [WAVE]: '0' }),
      ns('late', { [WAVE]: '3' }),
      cm('c', { [WAVE]: '0' }, {}, 'late'),
    ];
    const { argo } = setup();
    argo.sync(app(), repo({ p: before }));
    const r = argo.sync(app(), repo({ p: after }));
    expect(r).toMatchObject({ ok: true });
    expect(planned(after, before)).toEqual(acted(r, 'prune', 'apply'));
    const kinds = plannedSync(after, before, { pruneLast: false, equal }).map((t) => `${t.action} ${t.ref.name}`);
    expect(kinds).toContain('update stays');
    expect(kinds).toContain('create gw');
    expect(kinds).toContain('prune w3');
  });

  test('app-wide PruneLast, and Prune=false left in place', () => {
    const a = app({ syncOptions: ['ServerSideApply=true', 'PruneLast=true'] });
    const before = [cm('w1', { [WAVE]: '1' }), cm('stays', { [WAVE]: '5' }), cm('keep', { [OPTS]: 'Prune=false' })];
    const after = [cm('stays', { [WAVE]: '5' }, { k: 'changed' })];
    const { argo } = setup();
    argo.sync(a, repo({ p: before }));
    const r = argo.sync(a, repo({ p: after }));
    expect(planned(after, before, true)).toEqual(acted(r, 'prune', 'apply'));
    expect(plannedSync(after, before, { pruneLast: true, equal }).find((t) => t.ref.name === 'keep')?.action).toBe('prune-skipped');
  });
});

describe('dry run', () => {
  test('a version the cluster does not serve fails the sync before anything is applied', () => {
    const { cluster, argo } = setup();
    const r = argo.sync(app(), repo({ p: [cm('first', { [WAVE]: '-5' }), peerAuth('v1')] }));
    expect(r.failure).toMatchObject({ kind: 'failed', stage: 'dry run', object: { kind: 'PeerAuthentication' } });
    // security.istio.io/v1 is served (AuthorizationPolicy), without PeerAuthentication.
    expect(r.failure!.reason).toBe(
      'one or more synchronization tasks are not valid: PeerAuthentication.security.istio.io "" not found (retried 5 times)',
    );
    expect(cluster.get(ref(cm('first')))).toBeUndefined();
    const ok = setup().argo.sync(app(), repo({ p: [cm('first', { [WAVE]: '-5' }), peerAuth('v1beta1')] }));
    expect(ok).toMatchObject({ ok: true });
  });

  test('a group/version not served at all gets the message Argo CD shows for it', () => {
    const istio: Obj = { apiVersion: 'sailoperator.io/v1', kind: 'Istio', metadata: { name: 'default' }, spec: {} };
    const r = setup().argo.sync(app({ retry: { limit: 0 } }), repo({ p: [cm('c'), istio] }));
    expect(r.failure).toMatchObject({ kind: 'failed', stage: 'dry run', object: { kind: 'Istio', name: 'default' } });
    expect(r.failure!.reason).toBe(
      'one or more synchronization tasks are not valid: The Kubernetes API could not find sailoperator.io/Istio for requested resource ' +
        '/default. Make sure the "Istio" CRD is installed on the destination cluster.',
    );
    const v2 = { ...peerAuth('v2') };
    expect(setup().argo.sync(app({ retry: { limit: 0 } }), repo({ p: [v2] })).failure!.reason).toMatch(
      /could not find version "v2" of security.istio.io\/PeerAuthentication for requested resource app\/default. Version "v1beta1"/,
    );
  });

  test('SkipDryRunOnMissingResource: earlier waves run; the object fails at its own wave unless its CRD arrived', () => {
    const skip = { [OPTS]: 'SkipDryRunOnMissingResource=true', [WAVE]: '1' };
    const objects = [cm('install-ossm3'), peerAuth('v1', skip)];
    const { cluster, argo } = setup();
    const r = argo.sync(app({ retry: { limit: 0 } }), repo({ p: objects }));
    expect(r.failure).toMatchObject({ kind: 'failed', stage: 'Sync wave 1', object: { kind: 'PeerAuthentication' } });
    expect(r.failure!.reason).toMatch(/one or more objects failed to apply, reason: no matches for kind "PeerAuthentication"/);
    expect(cluster.get(ref(cm('install-ossm3')))).toBeDefined();
    // An operator installed by wave 0 serves the version by the time wave 1 runs.
    const olm: Controller = {
      name: 'olm',
      reconcile: (c) => void (c.get(ref(cm('install-ossm3'))) && c.setInstalled({ ossm2: true, ossm3: true })),
    };
    expect(setup({}, [olm]).argo.sync(app({ retry: { limit: 0 } }), repo({ p: objects }))).toMatchObject({ ok: true });
  });

  test('a kind that stops being served mid-sync fails the sync at the wave that needs it', () => {
    // Wave 0 removes the OSSM 2 operator (its CRDs go); the member roll of wave 1 is no longer served.
    const uninstall: Controller = {
      name: 'olm',
      reconcile: (c) => void (c.get(ref(cm('remove-ossm2'))) && c.setInstalled({ ossm2: false, ossm3: true })),
    };
    const smmr: Obj = {
      apiVersion: 'maistra.io/v1',
      kind: 'ServiceMeshMemberRoll',
      metadata: { name: 'default', namespace: 'app', annotations: { [WAVE]: '1' } },
    };
    const r = setup({}, [uninstall]).argo.sync(app({ retry: { limit: 0 } }), repo({ p: [cm('remove-ossm2'), smmr] }));
    expect(r.failure).toMatchObject({ kind: 'failed', stage: 'Sync wave 1', object: { kind: 'ServiceMeshMemberRoll' } });
    expect(r.failure!.reason).toMatch(
      /^one or more synchronization tasks are not valid: The Kubernetes API could not find maistra.io\/ServiceMeshMemberRoll/,
    );
  });

  test('app-wide SkipDryRunOnMissingResource is honoured from 3.x only', () => {
    const a = app({ retry: { limit: 0 }, syncOptions: ['ServerSideApply=true', 'SkipDryRunOnMissingResource=true'] });
    const objects = [cm('c'), peerAuth('v1', { [WAVE]: '1' })];
    expect(setup({ version: '3.4' }).argo.sync(a, repo({ p: objects })).failure).toMatchObject({ stage: 'Sync wave 1' });
    expect(setup({ version: '2.13' }).argo.sync(a, repo({ p: objects })).failure).toMatchObject({ stage: 'dry run' });
  });
});

describe('hooks', () => {
  test('PreSync hooks run before the Sync phase, PostSync hooks after it', () => {
    const { argo } = setup();
    const r = argo.sync(app(), repo({ p: [job('post', 'PostSync'), cm('c'), job('pre', 'PreSync')] }));
    expect(r).toMatchObject({ ok: true });
    expect(acted(r, 'hook', 'apply')).toEqual(['Job/pre', 'ConfigMap/c', 'Job/post']);
    expect(at(r, 'apply', 'c')).toBeGreaterThanOrEqual(10);
  });

  test('BeforeHookCreation (the default) deletes the previous run and runs the hook again', () => {
    const { cluster, argo } = setup();
    argo.sync(app(), repo({ p: [job('restart', 'PostSync'), cm('c')] }));
    const first = metadata(cluster.get(ref(job('restart', 'PostSync')))!).uid;
    const r = argo.sync(app(), repo({ p: [job('restart', 'PostSync'), cm('c', {}, { k: 'changed' })] }));
    expect(r).toMatchObject({ ok: true });
    expect(acted(r, 'hook-delete', 'hook')).toEqual(['Job/restart', 'Job/restart']);
    const second = cluster.get(ref(job('restart', 'PostSync')))!;
    expect(metadata(second).uid).not.toBe(first);
    expect(second.status).toEqual({ succeeded: 1 });
  });

  test('HookSucceeded deletes the hook once the sync succeeded; in 3.4 the hook finalizer is gone first', () => {
    for (const version of ['2.13', '3.4'] as const) {
      const seen: unknown[] = [];
      const spy: Controller = {
        name: 'spy',
        reconcile: (c) => void seen.push(...c.list((o) => o.kind === 'Job').map((o) => metadata(o).finalizers)),
      };
      const { cluster, argo } = setup({ version }, [spy]);
      const r = argo.sync(app(), repo({ p: [cm('c'), job('verify', 'PostSync', { [POLICY]: 'HookSucceeded' })] }));
      expect(r).toMatchObject({ ok: true });
      expect(cluster.get(ref(job('verify', 'PostSync')))).toBeUndefined();
      expect(seen[0]).toEqual(version === '3.4' ? [HOOK_FINALIZER] : undefined);
    }
  });

  test('a failed hook fails the sync; HookFailed deletes it, without it it stays', () => {
    for (const [policy, stays] of [
      ['HookFailed', false],
      ['BeforeHookCreation,HookSucceeded', true],
    ] as const) {
      const { cluster, argo } = setup({ version: '3.4' });
      const r = argo.sync(app({ retry: { limit: 0 } }), repo({ p: [cm('c'), job('verify', 'PostSync', { [POLICY]: policy }, 'fail')] }));
      expect(r.failure).toMatchObject({ kind: 'failed', stage: 'PostSync wave 0', object: { kind: 'Job', name: 'verify' } });
      expect(r.failure!.reason).toBe(
        'one or more synchronization tasks completed unsuccessfully: Job has reached the specified backoff limit',
      );
      const live = cluster.get(ref(job('verify', 'PostSync', {}, 'fail')));
      expect(live !== undefined).toBe(stays);
      if (live) expect(metadata(live).finalizers).toEqual([]);
    }
  });

  test('RBAC as PostSync hooks a wave before its Job (the 07 hand-over): created first, deleted with the Job on success, kept on failure', () => {
    const rbac = { [HOOK]: 'PostSync', [WAVE]: '-1', [POLICY]: 'BeforeHookCreation,HookSucceeded' };
    for (const [outcome, stays] of [
      ['succeed', false],
      ['fail', true],
    ] as const) {
      const { cluster, argo } = setup({ version: '3.4' });
      const handover = job('handover', 'PostSync', { [POLICY]: 'BeforeHookCreation,HookSucceeded' }, outcome);
      const r = argo.sync(app({ retry: { limit: 0 } }), repo({ p: [cm('c'), sa('handover', rbac), handover] }));
      expect(r.ok).toBe(outcome === 'succeed');
      expect(acted(r, 'hook', 'apply')).toEqual(['ConfigMap/c', 'ServiceAccount/handover', 'Job/handover']);
      expect(cluster.get(ref(sa('handover'))) !== undefined).toBe(stays);
    }
  });

  test('a failing hook is retried up to the limit, with backoff, and re-created each time', () => {
    const { argo } = setup();
    const retry = { limit: 2, backoff: { duration: '30', factor: 3 } };
    // Hooks alone never make an app OutOfSync: a plain object comes with them.
    const r = argo.sync(app({ retry }), repo({ p: [cm('c'), job('verify', 'PostSync', {}, 'fail')] }));
    expect(r.failure).toMatchObject({ kind: 'failed' });
    expect(r.failure!.reason).toMatch(/\(retried 2 times\)$/);
    expect(acted(r, 'hook')).toEqual(['Job/verify', 'Job/verify', 'Job/verify']);
    expect(r.steps.filter((s) => s.stage === 'retry').map((s) => s.detail)).toEqual([
      'Retrying attempt #1 in 30s',
      'Retrying attempt #2 in 90s',
    ]);
    const starts = r.steps.filter((s) => s.action === 'hook').map((s) => s.t);
    expect(starts[2] - starts[1]).toBeGreaterThanOrEqual(90);
  });

  test('a hook that never ends hangs the sync', () => {
    const r = setup({ horizonSeconds: 900 }).argo.sync(app(), repo({ p: [cm('c'), job('wait', 'PostSync', {}, 'hang')] }));
    expect(r.failure).toMatchObject({ kind: 'hangs', stage: 'PostSync wave 0', object: { name: 'wait' } });
    expect(r.failure!.reason).toMatch(/^waiting for completion of hook batch\/Job\/wait: Progressing: Job is running$/);
  });

  test('a revision that changes nothing is not synced: hooks do not run again', () => {
    const { argo } = setup();
    const files = repo({ p: [cm('c'), job('restart', 'PostSync')] });
    expect(acted(argo.sync(app(), files), 'hook')).toEqual(['Job/restart']);
    const again = argo.sync(app(), files);
    expect(again).toMatchObject({ ok: true });
    expect(acted(again, 'hook')).toEqual([]);
    expect(again.steps[0].detail).toBe('Skipping auto-sync: application status is Synced');
  });
});

describe('tracking and self-heal', () => {
  /** An operator that rewrites `app.kubernetes.io/instance` on the Services it owns, as Maistra does. */
  const relabel: Controller = {
    name: 'maistra',
    reconcile(c) {
      for (const s of c.list((o) => o.kind === 'Service' && labels(o)['app.kubernetes.io/instance'] !== 'istio-system'))
        c.update(refOf(s), 'maistra', (o) => void (metadata(o).labels = { ...labels(o), 'app.kubernetes.io/instance': 'istio-system' }));
    },
  };

  test('label tracking: an operator rewriting the instance label makes self-heal flap and hides the object from prune', () => {
    const { cluster, argo } = setup({ tracking: 'label' }, [relabel]);
    const files = repo({ p: [svc('gw'), cm('c')] });
    expect(argo.sync(app(), files)).toMatchObject({ ok: true });
    cluster.advance(10);
    expect(argo.compare(app(), files).sync).toBe('OutOfSync');
    expect(argo.selfHeal(app(), files).map(key)).toEqual(['Service/gw']);
    cluster.advance(10);
    expect(argo.selfHeal(app(), files).map(key)).toEqual(['Service/gw']);
    // Tracked by another instance once the operator ran: removing it from Git does not prune it.
    cluster.advance(10);
    argo.sync(app(), repo({ p: [cm('c')] }));
    expect(cluster.get(ref(svc('gw')))).toBeDefined();
  });

  test('annotation tracking: the same operator does not make it flap, and prune removes the object', () => {
    const { cluster, argo } = setup({ tracking: 'annotation' }, [relabel]);
    const files = repo({ p: [svc('gw'), cm('c')] });
    expect(argo.sync(app(), files)).toMatchObject({ ok: true });
    expect(metadata(cluster.get(ref(svc('gw')))!).annotations).toMatchObject({
      'argocd.argoproj.io/tracking-id': 'meshfed-east:/Service:app/gw',
    });
    cluster.advance(10);
    expect(argo.selfHeal(app(), files)).toEqual([]);
    argo.sync(app(), repo({ p: [cm('c')] }));
    expect(cluster.get(ref(svc('gw')))).toBeUndefined();
  });

  test('self-heal re-applies a drifted field; nothing when selfHeal is off', () => {
    const { cluster, argo } = setup();
    const files = repo({ p: [cm('c')] });
    argo.sync(app(), files);
    cluster.update(ref(cm('c')), 'someone', (o) => void (o.data = { k: 'drift' }));
    expect(argo.selfHeal(app({ automated: { prune: true, selfHeal: false } }), files)).toEqual([]);
    expect(argo.selfHeal(app(), files).map(key)).toEqual(['ConfigMap/c']);
    expect(cluster.get(ref(cm('c')))!.data).toEqual({ k: 'v' });
  });

  test('after a failed sync there is no self-heal', () => {
    const { cluster, argo } = setup();
    const files = repo({ p: [cm('c'), job('verify', 'PostSync', {}, 'fail')] });
    expect(argo.sync(app({ retry: { limit: 0 } }), files).ok).toBe(false);
    cluster.update(ref(cm('c')), 'someone', (o) => void (o.data = { k: 'drift' }));
    expect(argo.selfHeal(app(), files)).toEqual([]);
  });

  test('the versions default to label (2.13) and annotation (3.4) tracking', () => {
    expect(setup({ version: '2.13' }).argo.tracking).toBe('label');
    expect(setup({ version: '3.4' }).argo.tracking).toBe('annotation');
  });
});

describe('sources', () => {
  test('every source is built; an object in two sources is kept once, the last one wins', () => {
    const { cluster, argo } = setup();
    const files = repo({ a: [cm('shared', {}, { from: 'a' }), cm('only-a')], b: [cm('shared', {}, { from: 'b' })] });
    const r = argo.sync(app({ sources: ['a', 'b'] }), files);
    expect(r).toMatchObject({ ok: true });
    expect(r.steps[0].detail).toMatch(/RepeatedResourceWarning: Resource \/ConfigMap\/app\/shared appeared 2 times/);
    expect(cluster.get(ref(cm('shared')))!.data).toEqual({ from: 'b' });
    expect(cluster.get(ref(cm('only-a')))).toBeDefined();
  });

  test('a path that does not build fails the comparison', () => {
    const r = setup().argo.sync(app({ path: 'nowhere' }), repo({ p: [cm('c')] }));
    expect(r.failure).toMatchObject({ kind: 'failed', stage: 'compare', reason: 'ComparisonError: nowhere: app path does not exist' });
  });
});

describe('deleting the Application', () => {
  const objects = () => [ns('kept', { [OPTS]: 'Delete=false', [WAVE]: '-1' }), cm('w0'), cm('w2', { [WAVE]: '2' }), cm('w0b')];

  test('cascade deletes every managed object, highest wave first, except Delete=false', () => {
    const { cluster, argo } = setup();
    argo.sync(app(), repo({ p: objects() }));
    const { deleted } = argo.deleteApplication(app(), true);
    expect(deleted.map(key)).toEqual(['ConfigMap/w2', 'ConfigMap/w0', 'ConfigMap/w0b']);
    expect(cluster.get(ref(ns('kept')))).toBeDefined();
    expect(cluster.get(ref(cm('w0')))).toBeUndefined();
  });

  test('a wave is deleted only once the previous one is gone', () => {
    const finalizer: Controller = { name: 'holder', reconcile: () => undefined };
    const { cluster, argo } = setup({}, [finalizer]);
    argo.sync(app(), repo({ p: objects() }));
    cluster.update(ref(cm('w2')), 'holder', (o) => void (metadata(o).finalizers = ['test/hold']));
    cluster.advance(5);
    const release: Controller = {
      name: 'release',
      reconcile: (c) => void (c.now >= 60 && c.get(ref(cm('w2'))) && c.removeFinalizer(ref(cm('w2')), 'holder', 'test/hold')),
    };
    cluster.controllers.push(release);
    const { steps } = argo.deleteApplication(app(), true);
    const t = (name: string) => steps.find((s) => s.object?.name === name)!.t;
    expect(t('w0') - t('w2')).toBeGreaterThan(0);
    expect(cluster.now).toBeGreaterThanOrEqual(60);
  });

  test('app-wide Delete=false is honoured from 3.x only; non-cascading deletes nothing', () => {
    for (const [version, kept] of [
      ['3.4', true],
      ['2.13', false],
    ] as const) {
      const { cluster, argo } = setup({ version });
      const a = app({ syncOptions: ['ServerSideApply=true', 'Delete=false'] });
      argo.sync(a, repo({ p: objects() }));
      argo.deleteApplication(a, true);
      expect(cluster.get(ref(cm('w0'))) !== undefined).toBe(kept);
    }
    const { cluster, argo } = setup();
    argo.sync(app(), repo({ p: objects() }));
    expect(argo.deleteApplication(app(), false).deleted).toEqual([]);
    expect(cluster.get(ref(cm('w2')))).toBeDefined();
  });
});
