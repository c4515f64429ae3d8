import { JobStep } from '../../lib/job-steps';
import { Cluster } from '../../lib/twin/cluster';
import { evictionBlockers, findCondition, jobFailure, KubeControllers, rolloutStatus } from '../../lib/twin/controllers/kube';
import { Obj, refOf } from '../../lib/twin/objects';

const ns = (name: string) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
const sa = (name: string, namespace = 'app') => ({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace } });

function cluster(opts: { rbac?: boolean; nodes?: number } = {}): Cluster {
  const c = new Cluster({ ossm2: true, ossm3: false }, [new KubeControllers({ rbac: opts.rbac ?? false, nodes: opts.nodes })]);
  c.apply(ns('app'), { manager: 'test' });
  c.apply(ns('istio-system'), { manager: 'test' });
  return c;
}

function deployment(
  name: string,
  opts: { sa?: string; replicas?: number; annotation?: string; labels?: Record<string, string> } = {},
): Obj {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: 'app' },
    spec: {
      replicas: opts.replicas ?? 2,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name, ...(opts.labels ?? {}) }, annotations: opts.annotation ? { restart: opts.annotation } : {} },
        spec: { serviceAccountName: opts.sa ?? name, containers: [{ name: 'main', ports: [{ name: 'http', containerPort: 8080 }] }] },
      },
    },
  };
}

const get = (c: Cluster, o: Obj) => c.get(refOf(o)) as any;
const pods = (c: Cluster, prefix: string) =>
  c.list((o) => o.kind === 'Pod' && String((o.metadata as any).name).startsWith(prefix)) as any[];

describe('Deployment controller', () => {
  test('creates real pods from the template, Ready one tick later, with the status Argo CD and kstatus read', () => {
    const c = cluster();
    c.apply(sa('web'), { manager: 'test' });
    const d = deployment('web', { labels: { tier: 'front' } });
    c.apply(d, { manager: 'argocd' });
    c.tick();
    const created = pods(c, 'web-');
    expect(created).toHaveLength(2);
    expect(created[0].metadata.labels).toMatchObject({ app: 'web', tier: 'front' });
    expect(created[0].metadata.ownerReferences[0]).toMatchObject({ kind: 'Deployment', name: 'web', controller: true });
    expect(created[0].spec.serviceAccountName).toBe('web');
    expect(get(c, d).status).toMatchObject({ observedGeneration: 1, replicas: 2, readyReplicas: 0 });
    expect(findCondition(get(c, d), 'Available')?.status).toBe('False');
    c.tick();
    c.tick();
    expect(get(c, d).status).toMatchObject({ replicas: 2, updatedReplicas: 2, readyReplicas: 2, availableReplicas: 2 });
    expect(findCondition(get(c, d), 'Available')).toMatchObject({ status: 'True', reason: 'MinimumReplicasAvailable' });
    expect(findCondition(get(c, d), 'Progressing')).toMatchObject({ status: 'True', reason: 'NewReplicaSetAvailable' });
    expect(rolloutStatus(c, { resource: 'deployments', name: 'web', namespace: 'app' })).toMatchObject({ done: true });
  });

  test('a missing ServiceAccount: FailedCreate with the admission message, then ProgressDeadlineExceeded after 600 s', () => {
    const c = cluster();
    const d = deployment('gw', { sa: 'gw-sa', replicas: 1 });
    c.apply(d, { manager: 'argocd' });
    c.tick();
    expect(pods(c, 'gw-')).toHaveLength(0);
    const failure = findCondition(get(c, d), 'ReplicaFailure');
    expect(failure).toMatchObject({ status: 'True', reason: 'FailedCreate' });
    expect(failure?.message).toMatch(
      /^pods "gw-[a-z0-9]+-[a-z0-9]+" is forbidden: error looking up service account app\/gw-sa: serviceaccount "gw-sa" not found$/,
    );
    c.advance(590);
    expect(findCondition(get(c, d), 'Progressing')?.status).toBe('True');
    c.advance(20);
    expect(findCondition(get(c, d), 'Progressing')).toMatchObject({ status: 'False', reason: 'ProgressDeadlineExceeded' });
    expect(rolloutStatus(c, { resource: 'deployments', name: 'gw', namespace: 'app' }).error).toBe(
      'error: deployment "gw" exceeded its progress deadline',
    );
    // The ServiceAccount arrives (a later wave): pods start and the failure clears.
    c.apply(sa('gw-sa'), { manager: 'argocd' });
    c.advance(15);
    expect(findCondition(get(c, d), 'ReplicaFailure')).toBeUndefined();
    expect(get(c, d).status.readyReplicas).toBe(1);
  });

  test('a pod-template change rolls the pods (RollingUpdate) and rollout status waits for it', () => {
    const c = cluster();
    c.apply(sa('web'), { manager: 'test' });
    c.apply(deployment('web', { replicas: 4 }), { manager: 'argocd' });
    c.advance(15);
    const before = pods(c, 'web-').map((p) => p.metadata.name);
    c.apply(deployment('web', { replicas: 4, annotation: 'now' }), { manager: 'argocd' });
    expect(rolloutStatus(c, { resource: 'deployments', name: 'web', namespace: 'app' }).message).toMatch(/spec update to be observed/);
    c.tick();
    // maxSurge 25% of 4 = 1 new pod, maxUnavailable 25% = 1 old pod gone.
    expect(pods(c, 'web-')).toHaveLength(4);
    expect(rolloutStatus(c, { resource: 'deployments', name: 'web', namespace: 'app' }).done).toBe(false);
    c.advance(60);
    const after = pods(c, 'web-').map((p) => p.metadata.name);
    expect(after).toHaveLength(4);
    expect(after.filter((n) => before.includes(n))).toEqual([]);
    expect(rolloutStatus(c, { resource: 'deployments', name: 'web', namespace: 'app' }).done).toBe(true);
  });
});

function statefulSet(strategy: Record<string, any>, annotation = 'a'): Obj {
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name: 'db', namespace: 'app' },
    spec: {
      replicas: 3,
      selector: { matchLabels: { app: 'db' } },
      updateStrategy: strategy,
      template: { metadata: { labels: { app: 'db' }, annotations: { v: annotation } }, spec: { serviceAccountName: 'db' } },
    },
  };
}

describe('StatefulSet and DaemonSet controllers', () => {
  test('OnDelete: a template change replaces no pod, and kubectl rollout status errors', () => {
    const c = cluster();
    c.apply(sa('db'), { manager: 'test' });
    c.apply(statefulSet({ type: 'OnDelete' }), { manager: 'argocd' });
    c.advance(60);
    expect(pods(c, 'db-').map((p) => p.metadata.name)).toEqual(['db-0', 'db-1', 'db-2']);
    const revision = pods(c, 'db-0')[0].metadata.labels['controller-revision-hash'];
    c.apply(statefulSet({ type: 'OnDelete' }, 'b'), { manager: 'argocd' });
    c.advance(60);
    expect(pods(c, 'db-').every((p) => p.metadata.labels['controller-revision-hash'] === revision)).toBe(true);
    expect(get(c, statefulSet({})).status.updatedReplicas).toBe(0);
    expect(rolloutStatus(c, { resource: 'statefulsets', name: 'db', namespace: 'app' }).error).toBe(
      'error: rollout status is only available for RollingUpdate strategy type',
    );
    // Deleting a pod by hand is what replaces it.
    c.delete(refOf(pods(c, 'db-1')[0]), 'admin');
    c.advance(10);
    expect(pods(c, 'db-1')[0].metadata.labels['controller-revision-hash']).not.toBe(revision);
  });

  test('RollingUpdate with a partition leaves the pods below it on the old revision', () => {
    const c = cluster();
    c.apply(sa('db'), { manager: 'test' });
    const strategy = { type: 'RollingUpdate', rollingUpdate: { partition: 2 } };
    c.apply(statefulSet(strategy), { manager: 'argocd' });
    c.advance(60);
    const old = pods(c, 'db-0')[0].metadata.labels['controller-revision-hash'];
    c.apply(statefulSet(strategy, 'b'), { manager: 'argocd' });
    c.advance(120);
    const rev = (n: string) => pods(c, n)[0].metadata.labels['controller-revision-hash'];
    expect([rev('db-0'), rev('db-1')]).toEqual([old, old]);
    expect(rev('db-2')).not.toBe(old);
    expect(rolloutStatus(c, { resource: 'statefulsets', name: 'db', namespace: 'app' })).toMatchObject({
      done: true,
      message: 'partitioned roll out complete: 1 new pods have been updated...',
    });
  });

  test('a DaemonSet runs one pod per node and rolls them one at a time', () => {
    const c = cluster({ nodes: 3 });
    c.apply(sa('cni'), { manager: 'test' });
    const ds = (v: string) => ({
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name: 'cni', namespace: 'app' },
      spec: {
        selector: { matchLabels: { app: 'cni' } },
        template: { metadata: { labels: { app: 'cni' }, annotations: { v } }, spec: { serviceAccountName: 'cni' } },
      },
    });
    c.apply(ds('a'), { manager: 'argocd' });
    c.advance(15);
    expect(get(c, ds('a')).status).toMatchObject({ desiredNumberScheduled: 3, numberReady: 3, updatedNumberScheduled: 3 });
    c.apply(ds('b'), { manager: 'argocd' });
    c.tick();
    expect(get(c, ds('a')).status.numberReady).toBe(2);
    c.advance(60);
    expect(rolloutStatus(c, { resource: 'daemonsets', name: 'cni', namespace: 'app' }).done).toBe(true);
  });
});

describe('endpoints and disruption budgets', () => {
  test('a Service lists its selected pods: ready ones as addresses with a targetRef, and goes with the Service', () => {
    const c = cluster();
    c.apply(sa('web'), { manager: 'test' });
    c.apply(deployment('web', { replicas: 1 }), { manager: 'argocd' });
    const svc = {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web', namespace: 'app' },
      spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] },
    };
    c.apply(svc, { manager: 'argocd' });
    expect(get(c, svc).spec.clusterIP).toMatch(/^172\.30\./);
    c.tick();
    const ep = () => c.get({ group: '', kind: 'Endpoints', namespace: 'app', name: 'web' }) as any;
    expect(ep().subsets[0].notReadyAddresses[0].targetRef.name).toMatch(/^web-/);
    c.tick();
    expect(ep().subsets[0].addresses[0].targetRef.name).toMatch(/^web-/);
    expect(ep().subsets[0].ports).toEqual([{ name: 'http', port: 8080, protocol: 'TCP' }]);
    c.delete(refOf(svc), 'argocd');
    c.tick();
    expect(ep()).toBeUndefined();
  });

  test('a pod covered by two PodDisruptionBudgets cannot be evicted; one budget is fine', () => {
    const c = cluster();
    c.apply(sa('gw'), { manager: 'test' });
    c.apply(deployment('gw', { replicas: 1, labels: { istio: 'ingressgateway' } }), { manager: 'argocd' });
    const pdb = (name: string, matchLabels: Record<string, string>) => ({
      apiVersion: 'policy/v1',
      kind: 'PodDisruptionBudget',
      metadata: { name, namespace: 'app' },
      spec: { minAvailable: 1, selector: { matchLabels } },
    });
    c.apply(pdb('gw', { app: 'gw' }), { manager: 'maistra' });
    c.advance(10);
    expect(evictionBlockers(c)).toEqual([]);
    expect(get(c, pdb('gw', {})).status).toMatchObject({ expectedPods: 1, currentHealthy: 1, desiredHealthy: 1, disruptionsAllowed: 0 });
    c.apply(pdb('gw-ossm3', { istio: 'ingressgateway' }), { manager: 'argocd' });
    const blockers = evictionBlockers(c);
    expect(blockers).toHaveLength(1);
    expect(blockers[0].pdbs.map((r) => r.name)).toEqual(['gw', 'gw-ossm3']);
  });
});

function job(name: string, steps: JobStep[] | undefined, opts: { deadline?: number; backoffLimit?: number; sa?: string } = {}): Obj {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name, namespace: 'istio-system', annotations: steps ? { 'meshfed.dev/steps': JSON.stringify(steps) } : {} },
    spec: {
      ...(opts.deadline ? { activeDeadlineSeconds: opts.deadline } : {}),
      backoffLimit: opts.backoffLimit ?? 0,
      template: { spec: { serviceAccountName: opts.sa ?? 'runner', restartPolicy: 'Never', containers: [{ name: 'job' }] } },
    },
  };
}
const condition = (c: Cluster, o: Obj, type: string) => findCondition(get(c, o), type);
const smmr = { apiVersion: 'maistra.io/v1', kind: 'ServiceMeshMemberRoll', metadata: { name: 'default', namespace: 'istio-system' } };

describe('Job controller running meshfed.dev/steps', () => {
  test('a Job without steps completes after its pod starts', () => {
    const c = cluster();
    c.apply(sa('runner', 'istio-system'), { manager: 'test' });
    const j = job('noop', undefined);
    c.apply(j, { manager: 'argocd' });
    c.tick();
    expect(condition(c, j, 'Complete')).toBeUndefined();
    c.tick();
    expect(condition(c, j, 'Complete')).toMatchObject({ status: 'True', reason: 'CompletionsReached' });
    expect(get(c, j).status.succeeded).toBe(1);
  });

  test('without its ServiceAccount the pod never starts; the deadline fails the Job', () => {
    const c = cluster();
    const j = job('verify', [], { deadline: 60 });
    c.apply(j, { manager: 'argocd' });
    c.advance(55);
    expect(get(c, j).status.active ?? 0).toBe(0);
    expect(condition(c, j, 'Failed')).toBeUndefined();
    c.advance(10);
    expect(condition(c, j, 'Failed')).toMatchObject({
      reason: 'DeadlineExceeded',
      message: 'Job was active longer than specified deadline',
    });
    expect(c.events.some((e) => /FailedCreate: .*serviceaccount "runner" not found/.test(e.message))).toBe(true);
  });

  test('a wait-absent that never completes fails at the Job deadline, naming the step', () => {
    const c = cluster();
    c.apply(sa('runner', 'istio-system'), { manager: 'test' });
    c.apply(smmr, { manager: 'maistra' });
    const steps: JobStep[] = [
      { op: 'wait-absent', resource: 'servicemeshmemberroll', name: 'default', namespace: 'istio-system', timeoutSeconds: 600 },
    ];
    const j = job('handover', steps, { deadline: 300 });
    c.apply(j, { manager: 'argocd' });
    c.advance(295);
    expect(condition(c, j, 'Failed')).toBeUndefined();
    c.advance(10);
    expect(condition(c, j, 'Failed')).toMatchObject({ reason: 'DeadlineExceeded' });
    expect(jobFailure(c, refOf(j))).toMatch(
      /DeadlineExceeded: .*step 1\/1 \(wait-absent servicemeshmemberroll istio-system\/default\) was still waiting after \d+ s .*activeDeadlineSeconds \(300 s\)/,
    );
  });

  test('a step timeout fails the pod; pods are retried with backoff until backoffLimit', () => {
    const c = cluster();
    c.apply(sa('runner', 'istio-system'), { manager: 'test' });
    c.apply(smmr, { manager: 'maistra' });
    const steps: JobStep[] = [
      { op: 'wait-absent', resource: 'servicemeshmemberroll', name: 'default', namespace: 'istio-system', timeoutSeconds: 30 },
    ];
    const j = job('handover', steps, { backoffLimit: 1 });
    c.apply(j, { manager: 'argocd' });
    c.advance(45);
    expect(get(c, j).status.failed).toBe(1);
    expect(condition(c, j, 'Failed')).toBeUndefined();
    c.advance(60);
    expect(condition(c, j, 'Failed')).toMatchObject({
      reason: 'BackoffLimitExceeded',
      message: 'Job has reached the specified backoff limit',
    });
    expect(jobFailure(c, refOf(j))).toMatch(/servicemeshmemberroll istio-system\/default is still there after 30 s/);
  });

  test('wait-absent passes once the object is gone', () => {
    const c = cluster();
    c.apply(sa('runner', 'istio-system'), { manager: 'test' });
    c.apply(smmr, { manager: 'maistra' });
    const j = job('handover', [
      { op: 'wait-absent', resource: 'servicemeshmemberroll', name: 'default', namespace: 'istio-system', timeoutSeconds: 600 },
    ]);
    c.apply(j, { manager: 'argocd' });
    c.advance(30);
    c.delete(refOf(smmr), 'gc');
    c.advance(10);
    expect(condition(c, j, 'Complete')?.status).toBe('True');
  });

  test('restart patches the template annotation and waits; an OnDelete StatefulSet is patched, not waited for', () => {
    const c = cluster();
    c.apply(sa('runner', 'istio-system'), { manager: 'test' });
    c.apply(sa('web'), { manager: 'test' });
    c.apply(sa('db'), { manager: 'test' });
    c.apply(deployment('web', { replicas: 1 }), { manager: 'argocd' });
    c.apply(statefulSet({ type: 'OnDelete' }), { manager: 'argocd' });
    c.advance(60);
    const restart = (workloads: Extract<JobStep, { op: 'restart' }>['workloads']): JobStep[] => [
      {
        op: 'restart',
        workloads,
        annotation: 'meshfed.dev/restartedAt',
        value: '03',
        fieldManager: 'meshfed-restart',
        timeoutSeconds: 600,
      },
    ];
    const ok = job(
      'restart-ok',
      restart([
        { resource: 'deployments', name: 'web', namespace: 'app' },
        { resource: 'deployments', name: 'gone', namespace: 'app' },
      ]),
    );
    c.apply(ok, { manager: 'argocd' });
    c.advance(60);
    expect(condition(c, ok, 'Complete')?.status).toBe('True');
    expect(get(c, deployment('web')).spec.template.metadata.annotations['meshfed.dev/restartedAt']).toBe('03');
    // kubectl rollout status refuses OnDelete; the script reads the strategy first and says the pods were not restarted
    // (meshfed check MF026 names the workload beforehand) instead of failing the Job and the sync.
    const onDelete = job('restart-on-delete', restart([{ resource: 'statefulsets', name: 'db', namespace: 'app' }]));
    c.apply(onDelete, { manager: 'argocd' });
    c.advance(60);
    expect(condition(c, onDelete, 'Complete')?.status).toBe('True');
    expect(get(c, statefulSet({ type: 'OnDelete' })).spec.template.metadata.annotations['meshfed.dev/restartedAt']).toBe('03');
  });

  test('strip-owner removes the operator labels and owner references; delete waits for finalizers', () => {
    const c = cluster();
    c.apply(sa('runner', 'istio-system'), { manager: 'test' });
    const svc = {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: {
        name: 'istio-ingressgateway',
        namespace: 'istio-system',
        labels: { 'maistra.io/owner': 'istio-system', 'app.kubernetes.io/managed-by': 'maistra-istio-operator', app: 'gw' },
        ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'o', uid: 'x' }],
      },
    };
    c.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'o', namespace: 'istio-system', finalizers: ['hold'] } }, 'test');
    const uid = (c.get({ group: '', kind: 'ConfigMap', namespace: 'istio-system', name: 'o' }) as any).metadata.uid;
    (svc.metadata.ownerReferences[0] as any).uid = uid;
    c.create(svc, 'maistra');
    const steps: JobStep[] = [
      {
        op: 'strip-owner',
        resource: 'service',
        name: 'istio-ingressgateway',
        namespace: 'istio-system',
        labels: ['maistra.io/owner', 'app.kubernetes.io/managed-by'],
      },
      { op: 'delete', resource: 'configmap', name: 'o', namespace: 'istio-system', timeoutSeconds: 30 },
    ];
    const j = job('handover', steps);
    c.apply(j, { manager: 'argocd' });
    c.advance(60);
    const live = get(c, svc);
    expect(live.metadata.labels).toEqual({ app: 'gw' });
    expect(live.metadata.ownerReferences).toBeUndefined();
    expect(condition(c, j, 'Failed')?.reason).toBe('BackoffLimitExceeded');
    expect(jobFailure(c, refOf(j))).toMatch(
      /step 2\/2 \(delete configmap istio-system\/o\): error: timed out waiting for the condition on configmaps\/o/,
    );
  });

  test('probe: passes for a Service host once the Deployment has a Ready pod; an unknown host fails after its tries', () => {
    const c = cluster();
    c.apply(sa('runner', 'istio-system'), { manager: 'test' });
    c.apply(sa('curl'), { manager: 'test' });
    c.apply(deployment('curl', { replicas: 1 }), { manager: 'argocd' });
    c.apply(
      { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'app' }, spec: { ports: [{ port: 80 }] } },
      { manager: 'argocd' },
    );
    const probe = (url: string): JobStep => ({
      op: 'probe',
      namespace: 'app',
      deployment: 'curl',
      container: 'curl',
      url,
      tries: 3,
      intervalSeconds: 10,
    });
    const good = job('verify-good', [probe('http://web.app.svc.cluster.local:80/')]);
    const bad = job('verify-bad', [probe('http://nowhere.example.com/'), probe('http://web.app:80/')]);
    c.apply(good, { manager: 'argocd' });
    c.apply(bad, { manager: 'argocd' });
    c.advance(90);
    expect(condition(c, good, 'Complete')?.status).toBe('True');
    expect(condition(c, bad, 'Failed')?.status).toBe('True');
    expect(jobFailure(c, refOf(bad))).toMatch(
      /probes failed: app\/curl -> http:\/\/nowhere.example.com\/: curl: \(6\) Could not resolve host: nowhere.example.com$/,
    );
    // A ServiceEntry makes the host known.
    c.apply(
      {
        apiVersion: 'networking.istio.io/v1beta1',
        kind: 'ServiceEntry',
        metadata: { name: 'ext', namespace: 'app' },
        spec: { hosts: ['*.example.com'] },
      },
      { manager: 'argocd' },
    );
    const again = job('verify-again', [probe('http://nowhere.example.com/')]);
    c.apply(again, { manager: 'argocd' });
    c.advance(30);
    expect(condition(c, again, 'Complete')?.status).toBe('True');
  });

  test("relabel-namespaces sets and removes labels with the Job's field manager", () => {
    const c = cluster();
    c.apply(sa('runner', 'istio-system'), { manager: 'test' });
    c.apply({ ...ns('app'), metadata: { name: 'app', labels: { 'istio-injection': 'enabled' } } }, { manager: 'argocd' });
    const j = job('relabel', [
      {
        op: 'relabel-namespaces',
        namespaces: ['app'],
        set: { 'istio.io/rev': 'default-v1-27-3' },
        remove: ['istio-injection'],
        ignoreOnly: ['istio-system'],
        fieldManager: 'meshfed-restart',
      },
    ]);
    c.apply(j, { manager: 'argocd' });
    c.advance(15);
    expect(condition(c, j, 'Complete')?.status).toBe('True');
    const label = (n: string) => (c.get({ group: '', kind: 'Namespace', namespace: '', name: n }) as any).metadata.labels;
    // kubernetes.io/metadata.name: the API server's, on every Namespace.
    expect(label('app')).toEqual({ 'istio.io/rev': 'default-v1-27-3', 'kubernetes.io/metadata.name': 'app' });
    expect(label('istio-system')).toEqual({ 'maistra.io/ignore-namespace': 'true', 'kubernetes.io/metadata.name': 'istio-system' });
  });

  test('RBAC: a step its Role does not allow fails with the API server Forbidden message', () => {
    const c = cluster({ rbac: true });
    c.apply(sa('runner', 'istio-system'), { manager: 'test' });
    c.apply(sa('web'), { manager: 'test' });
    c.apply(deployment('web', { replicas: 1 }), { manager: 'argocd' });
    const role = (verbs: string[]) => ({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name: 'restart', namespace: 'app' },
      rules: [{ apiGroups: ['apps'], resources: ['deployments'], resourceNames: ['web'], verbs }],
    });
    c.apply(role(['get', 'list', 'watch']), { manager: 'argocd' });
    c.apply(
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'RoleBinding',
        metadata: { name: 'restart', namespace: 'app' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'restart' },
        subjects: [{ kind: 'ServiceAccount', name: 'runner', namespace: 'istio-system' }],
      },
      { manager: 'argocd' },
    );
    const steps: JobStep[] = [
      {
        op: 'restart',
        workloads: [{ resource: 'deployments', name: 'web', namespace: 'app' }],
        annotation: 'r',
        value: '1',
        fieldManager: 'm',
        timeoutSeconds: 600,
      },
    ];
    const denied = job('restart-denied', steps);
    c.apply(denied, { manager: 'argocd' });
    c.advance(20);
    expect(jobFailure(c, refOf(denied))).toMatch(
      /Error from server \(Forbidden\): deployments.apps "web" is forbidden: User "system:serviceaccount:istio-system:runner" cannot patch resource "deployments" in API group "apps" in the namespace "app"/,
    );
    // As the script does, a refused patch is a failure that still lists what was not restarted (lib/job-steps.ts).
    expect(jobFailure(c, refOf(denied))).toMatch(
      /meshfed: cannot patch app\/deployments\/web: .*; not restarted, after a rollout failed: app\/deployments\/web$/,
    );
    c.apply(role(['get', 'list', 'patch', 'watch']), { manager: 'argocd' });
    const allowed = job('restart-allowed', steps);
    c.apply(allowed, { manager: 'argocd' });
    c.advance(60);
    expect(condition(c, allowed, 'Complete')?.status).toBe('True');
  });

  describe('wait-job: a verify Job started with the restart (as Flux starts them) waits for it', () => {
    const restartSteps = (target: { resource: 'deployments' | 'statefulsets'; name: string }): JobStep[] => [
      {
        op: 'restart',
        workloads: [{ ...target, namespace: 'app' }],
        annotation: 'meshfed.dev/restarted-for-revision',
        value: 'rev',
        fieldManager: 'meshfed-restart',
        timeoutSeconds: 600,
      },
    ];
    const waitFor = (name: string, timeoutSeconds = 990): JobStep => ({ op: 'wait-job', name, namespace: 'istio-system', timeoutSeconds });
    const setup = (opts: { rbac?: boolean } = {}) => {
      const c = cluster(opts);
      c.apply(sa('runner', 'istio-system'), { manager: 'test' });
      c.apply(sa('web'), { manager: 'test' });
      c.apply(sa('db'), { manager: 'test' });
      c.apply(deployment('web', { replicas: 2 }), { manager: 'argocd' });
      c.apply(statefulSet({ type: 'OnDelete' }), { manager: 'argocd' });
      c.advance(60);
      return c;
    };

    test('it completes only after the restart completed', () => {
      const c = setup();
      const restart = job('restart', restartSteps({ resource: 'deployments', name: 'web' }));
      const verify = job('verify', [waitFor('restart')]);
      c.apply(restart, { manager: 'kustomize-controller' });
      c.apply(verify, { manager: 'kustomize-controller' });
      c.tick();
      c.tick();
      // The restart is rolling the pods: the verify is still waiting.
      expect(condition(c, restart, 'Complete')).toBeUndefined();
      expect(condition(c, verify, 'Complete')).toBeUndefined();
      c.advance(120);
      expect(condition(c, restart, 'Complete')?.status).toBe('True');
      expect(condition(c, verify, 'Complete')?.status).toBe('True');
      expect(get(c, verify).status.completionTime).toBeGreaterThanOrEqual(get(c, restart).status.completionTime);
    });

    test('a failed restart fails it at once, long before its timeout', () => {
      const c = setup();
      // A step that cannot succeed (OnDelete workloads no longer fail the restart: they are said, not waited for).
      const restart = job('restart', [
        { op: 'require-present', resource: 'service', name: 'gone', namespace: 'app', message: 'no Service gone' },
      ]);
      const verify = job('verify', [waitFor('restart')]);
      c.apply(restart, { manager: 'kustomize-controller' });
      c.apply(verify, { manager: 'kustomize-controller' });
      c.advance(120);
      expect(condition(c, restart, 'Failed')?.status).toBe('True');
      expect(condition(c, verify, 'Failed')?.status).toBe('True');
      expect(jobFailure(c, refOf(verify))).toMatch(
        /step 1\/1 \(wait-job job istio-system\/restart\): meshfed: job istio-system\/restart failed \(kubectl logs job\/restart -n istio-system\)/,
      );
    });

    test('a Job that is not there keeps it waiting until its timeout', () => {
      const c = setup();
      const verify = job('verify', [waitFor('never', 60)]);
      c.apply(verify, { manager: 'kustomize-controller' });
      c.advance(50);
      expect(condition(c, verify, 'Failed')).toBeUndefined();
      c.advance(30);
      expect(jobFailure(c, refOf(verify))).toMatch(/meshfed: job istio-system\/never has not completed after 60s/);
    });

    test('RBAC: it needs get on that Job by name, nothing more', () => {
      const c = setup({ rbac: true });
      const done = job('done', []);
      c.apply(done, { manager: 'kustomize-controller' });
      c.advance(10);
      const denied = job('verify-denied', [waitFor('done')]);
      c.apply(denied, { manager: 'kustomize-controller' });
      c.advance(20);
      expect(jobFailure(c, refOf(denied))).toMatch(
        /meshfed: cannot read job istio-system\/done: Error from server \(Forbidden\): jobs.batch "done" is forbidden: User "system:serviceaccount:istio-system:runner" cannot get resource "jobs" in API group "batch" in the namespace "istio-system"/,
      );
      c.apply(
        {
          apiVersion: 'rbac.authorization.k8s.io/v1',
          kind: 'Role',
          metadata: { name: 'meshfed-verify-jobs', namespace: 'istio-system' },
          rules: [{ apiGroups: ['batch'], resources: ['jobs'], resourceNames: ['done'], verbs: ['get'] }],
        },
        { manager: 'argocd' },
      );
      c.apply(
        {
          apiVersion: 'rbac.authorization.k8s.io/v1',
          kind: 'RoleBinding',
          metadata: { name: 'meshfed-verify-jobs', namespace: 'istio-system' },
          roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'meshfed-verify-jobs' },
          subjects: [{ kind: 'ServiceAccount', name: 'runner', namespace: 'istio-system' }],
        },
        { manager: 'argocd' },
      );
      const allowed = job('verify-allowed', [waitFor('done')]);
      c.apply(allowed, { manager: 'kustomize-controller' });
      c.advance(20);
      expect(condition(c, allowed, 'Complete')?.status).toBe('True');
    });
  });
});
