import { Cluster } from '../../lib/twin/cluster';
import { evictionBlockers, findCondition, KubeControllers } from '../../lib/twin/controllers/kube';
import { MaistraOperator, MaistraOptions } from '../../lib/twin/controllers/maistra';
import { Obj, Ref, refOf } from '../../lib/twin/objects';

const ns = (name: string, labels: Record<string, string> = {}) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } });

function smcp(spec: Record<string, any> = {}): Obj {
  return {
    apiVersion: 'maistra.io/v2',
    kind: 'ServiceMeshControlPlane',
    metadata: { name: 'basic', namespace: 'istio-system' },
    spec: {
      version: 'v2.6',
      mode: 'ClusterWide',
      gateways: {
        openshiftRoute: { enabled: true },
        additionalIngress: {
          'internal-ingressgateway': { enabled: true, namespace: 'internal-gw', runtime: { deployment: { replicas: 2 } } },
        },
      },
      ...spec,
    },
  };
}

function cluster(opts: MaistraOptions = {}): Cluster {
  const c = new Cluster({ ossm2: true, ossm3: false }, [new KubeControllers({ rbac: false }), new MaistraOperator(opts)]);
  for (const n of [ns('istio-system'), ns('client', { 'istio-injection': 'enabled' }), ns('internal-gw', { 'istio-injection': 'enabled' })])
    c.apply(n, { manager: 'test' });
  return c;
}

const ref = (kind: string, namespace: string, name: string, group = ''): Ref => ({ group, kind, namespace, name });
const SMCP = ref('ServiceMeshControlPlane', 'istio-system', 'basic', 'maistra.io');
const SMMR = ref('ServiceMeshMemberRoll', 'istio-system', 'default', 'maistra.io');
const live = (c: Cluster, r: Ref) => c.get(r) as any;
const cond = (c: Cluster, type: string) => findCondition(c.get(SMCP), type);

/** Apply the SMCP and run the operator until it reports the generation reconciled (or the horizon). */
function settle(c: Cluster, seconds = 300): void {
  for (let t = 0; t < seconds; t += 5) {
    c.tick();
    const s = live(c, SMCP);
    if (s && s.status?.observedGeneration === s.metadata.generation && cond(c, 'Ready')?.status === 'True') return;
  }
}

describe('ServiceMeshControlPlane reconcile', () => {
  test('installs istiod and the gateways, owned by the SMCP in its namespace, and reports Reconciled and Ready', () => {
    const c = cluster();
    c.apply(smcp(), { manager: 'argocd' });
    c.tick();
    c.tick();
    expect(cond(c, 'Reconciled')).toMatchObject({ status: 'False', reason: 'ResourceCreated', message: 'Installing mesh generation 1' });
    settle(c);
    expect(live(c, SMCP).status.observedGeneration).toBe(1);
    expect(cond(c, 'Reconciled')).toMatchObject({ status: 'True', reason: 'InstallSuccessful' });
    expect(cond(c, 'Ready')).toMatchObject({
      status: 'True',
      reason: 'ComponentsReady',
      message: 'All component deployments are Available',
    });
    const uid = live(c, SMCP).metadata.uid;
    const gw = live(c, ref('Deployment', 'istio-system', 'istio-ingressgateway', 'apps'));
    expect(gw.metadata.ownerReferences).toEqual([
      { apiVersion: 'maistra.io/v2', kind: 'ServiceMeshControlPlane', name: 'basic', uid, controller: true, blockOwnerDeletion: true },
    ]);
    expect(gw.metadata.labels).toMatchObject({
      'app.kubernetes.io/instance': 'istio-system',
      'app.kubernetes.io/managed-by': 'maistra-istio-operator',
      'app.kubernetes.io/component': 'istio-ingress',
      'maistra.io/owner': 'istio-system',
      'maistra.io/owner-name': 'basic',
      app: 'istio-ingressgateway',
      istio: 'ingressgateway',
    });
    expect(gw.spec.template.spec.serviceAccountName).toBe('istio-ingressgateway-service-account');
    expect(live(c, ref('ServiceAccount', 'istio-system', 'istio-ingressgateway-service-account'))).toBeDefined();
    expect(live(c, ref('Service', 'istio-system', 'istio-ingressgateway')).spec.clusterIP).toMatch(/^172\.30\./);
    expect(live(c, ref('Deployment', 'istio-system', 'istiod-basic', 'apps')).spec.template.spec.serviceAccountName).toBe('istiod-basic');
    expect(live(c, ref('Route', 'istio-system', 'istio-ingressgateway', 'route.openshift.io')).spec.to.name).toBe('istio-ingressgateway');
    // An additional gateway in another namespace: rendered there, labelled, but without an owner reference.
    const internal = live(c, ref('Deployment', 'internal-gw', 'internal-ingressgateway', 'apps'));
    expect(internal.metadata.ownerReferences).toBeUndefined();
    expect(internal.metadata.labels).toMatchObject({
      'maistra.io/owner-name': 'basic',
      app: 'internal-ingressgateway',
      istio: 'ingressgateway',
    });
    expect(internal.status.readyReplicas).toBe(2);
    for (const np of ['istio-mesh-basic', 'istio-expose-route-basic', 'istio-istiod-basic', 'istio-ingressgateway'])
      expect(live(c, ref('NetworkPolicy', 'istio-system', np, 'networking.k8s.io'))).toBeDefined();
    expect(live(c, ref('NetworkPolicy', 'internal-gw', 'internal-ingressgateway', 'networking.k8s.io'))).toBeDefined();
    // The egress chart has no NetworkPolicy template.
    expect(live(c, ref('NetworkPolicy', 'istio-system', 'istio-egressgateway', 'networking.k8s.io'))).toBeUndefined();
    expect(live(c, ref('Namespace', '', 'istio-system')).metadata.labels['maistra.io/member-of']).toBe('istio-system');
    expect(live(c, ref('Namespace', '', 'client')).metadata.labels['maistra.io/member-of']).toBe('istio-system');
  });

  test('a reconcile failure of a new spec leaves observedGeneration behind with Reconciled=False and Ready=False', () => {
    const c = cluster({
      failReconcileOf: (o) => ((o.spec as any).tracing?.type === 'Broken' ? 'Error processing component istio-discovery: boom' : undefined),
    });
    c.apply(smcp(), { manager: 'argocd' });
    settle(c);
    c.apply(smcp({ tracing: { type: 'Broken' } }), { manager: 'argocd' });
    c.advance(300);
    const s = live(c, SMCP);
    expect(s.metadata.generation).toBe(2);
    expect(s.status.observedGeneration).toBe(1);
    expect(cond(c, 'Reconciled')).toMatchObject({
      status: 'False',
      reason: 'ReconcileError',
      message: 'Error processing component istio-discovery: boom',
    });
    expect(cond(c, 'Ready')).toMatchObject({ status: 'False', reason: 'ReconcileError' });
    // Fixing the spec reconciles again.
    c.apply(smcp({ tracing: { type: 'None' } }), { manager: 'argocd' });
    settle(c);
    expect(live(c, SMCP).status.observedGeneration).toBe(3);
    expect(cond(c, 'Reconciled')).toMatchObject({
      status: 'True',
      reason: 'UpdateSuccessful',
      message: 'Successfully updated from version 2.6.13-1 to version 2.6.13-3',
    });
  });

  test('manageNetworkPolicy: false prunes the NetworkPolicies Maistra rendered, and only those', () => {
    const c = cluster();
    c.apply(smcp(), { manager: 'argocd' });
    settle(c);
    const userNp = {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: 'mine', namespace: 'istio-system' },
      spec: { podSelector: {} },
    };
    c.apply(userNp, { manager: 'argocd' });
    c.apply(smcp({ security: { manageNetworkPolicy: false } }), { manager: 'argocd' });
    settle(c);
    expect(live(c, SMCP).status.observedGeneration).toBe(2);
    const nps = c.list((o) => o.kind === 'NetworkPolicy').map((o) => `${(o.metadata as any).namespace}/${(o.metadata as any).name}`);
    expect(nps).toEqual(['istio-system/mine']);
    expect(live(c, ref('Deployment', 'internal-gw', 'internal-ingressgateway', 'apps'))).toBeDefined();
  });

  test('labels: a merge patch from the last-applied configuration restores only what that configuration lacks', () => {
    const c = cluster();
    c.apply(smcp(), { manager: 'argocd' });
    settle(c);
    const svc = ref('Service', 'istio-system', 'istio-ingressgateway');
    // Another client drops the instance label: the next render's patch (last-applied → render) does not mention it.
    c.update(svc, 'someone', (o) => void delete (o.metadata as any).labels['app.kubernetes.io/instance']);
    c.apply(smcp({ tracing: { type: 'None' } }), { manager: 'argocd' });
    settle(c);
    expect(live(c, svc).metadata.labels['app.kubernetes.io/instance']).toBeUndefined();
    expect(live(c, svc).metadata.labels['app.kubernetes.io/version']).toBe('2.6.13-2');
    // A client-side apply (Argo CD's default) writes its own configuration into the annotation and its tracking
    // label: the next render diffs from that configuration, so Maistra sets its own value again (a flap).
    c.update(svc, 'argocd', (o) => {
      const meta = o.metadata as any;
      meta.labels['app.kubernetes.io/instance'] = 'east';
      const argo = {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'istio-ingressgateway', namespace: 'istio-system', labels: { 'app.kubernetes.io/instance': 'east' } },
      };
      meta.annotations['kubectl.kubernetes.io/last-applied-configuration'] = JSON.stringify(argo);
    });
    c.apply(smcp({ tracing: { type: 'Jaeger' } }), { manager: 'argocd' });
    settle(c);
    expect(live(c, svc).metadata.labels['app.kubernetes.io/instance']).toBe('istio-system');
  });

  test('adoption: an existing object gets the SMCP owner reference and labels; later renders remove what they stop setting', () => {
    const c = cluster();
    c.apply(ns('istio-system'), { manager: 'test' });
    const svc = ref('Service', 'istio-system', 'istio-ingressgateway');
    c.apply(
      {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'istio-ingressgateway', namespace: 'istio-system', labels: { team: 'edge' } },
        spec: { ports: [{ port: 80 }] },
      },
      { manager: 'argocd' },
    );
    const ip = live(c, svc).spec.clusterIP;
    const annotated = (a: Record<string, string>) =>
      smcp({ gateways: { openshiftRoute: { enabled: false }, ingress: { service: { metadata: { annotations: a } } } } });
    c.apply(annotated({ 'lb/one': 'x' }), { manager: 'argocd' });
    settle(c);
    const adopted = live(c, svc);
    expect(adopted.metadata.ownerReferences?.[0]).toMatchObject({ kind: 'ServiceMeshControlPlane', name: 'basic', controller: true });
    expect(adopted.metadata.labels).toMatchObject({ team: 'edge', 'maistra.io/owner': 'istio-system' });
    expect(adopted.metadata.annotations).toMatchObject({
      'lb/one': 'x',
      'kubectl.kubernetes.io/last-applied-configuration': expect.any(String),
    });
    expect(adopted.spec.clusterIP).toBe(ip);
    // The next render no longer sets the annotation: the three-way patch from the last-applied configuration removes it.
    c.apply(annotated({ 'lb/two': 'y' }), { manager: 'argocd' });
    settle(c);
    expect(live(c, svc).metadata.annotations['lb/one']).toBeUndefined();
    expect(live(c, svc).metadata.annotations['lb/two']).toBe('y');
    expect(live(c, svc).metadata.labels.team).toBe('edge');
  });

  test('the ingress Route cannot be patched without a host: every reconcile deletes and re-creates it', () => {
    const c = cluster();
    c.apply(smcp(), { manager: 'argocd' });
    settle(c);
    const route = ref('Route', 'istio-system', 'istio-ingressgateway', 'route.openshift.io');
    const uid = live(c, route).metadata.uid;
    c.apply(smcp({ tracing: { type: 'None' } }), { manager: 'argocd' });
    settle(c);
    expect(live(c, route).metadata.uid).not.toBe(uid);
  });

  test('a gateway in a namespace the member roll does not include fails validation', () => {
    const c = cluster();
    c.apply(ns('internal-gw'), { manager: 'test' });
    c.update(ref('Namespace', '', 'internal-gw'), 'test', (o) => void ((o.metadata as any).labels = {}));
    c.apply(smcp(), { manager: 'argocd' });
    c.advance(60);
    expect(cond(c, 'Reconciled')).toMatchObject({
      status: 'False',
      reason: 'ReconcileError',
      message: 'Error validating generated manifests: error: namespace of manifest internal-gw/internal-ingressgateway not in mesh',
    });
    expect(live(c, SMCP).status.observedGeneration).toBeUndefined();
  });

  test('Ready turns False when a gateway cannot run (its pods are gone and its ServiceAccount is missing)', () => {
    const c = cluster();
    c.apply(smcp(), { manager: 'argocd' });
    settle(c);
    c.delete(ref('ServiceAccount', 'internal-gw', 'internal-ingressgateway-service-account'), 'someone');
    for (const p of c.list((o) => o.kind === 'Pod' && (o.metadata as any).namespace === 'internal-gw')) c.delete(refOf(p), 'someone');
    c.advance(10);
    expect(cond(c, 'Ready')).toMatchObject({
      status: 'False',
      reason: 'ComponentsNotReady',
      message: 'The following components are not fully available: [istio-ingress]',
    });
  });
});

describe('PodDisruptionBudgets', () => {
  test('rendered only when the SMCP enables them; a second budget on the gateway pods blocks their eviction', () => {
    const c = cluster();
    c.apply(smcp(), { manager: 'argocd' });
    settle(c);
    expect(c.list((o) => o.kind === 'PodDisruptionBudget')).toEqual([]);
    c.apply(smcp({ runtime: { defaults: { deployment: { podDisruption: { enabled: true } } } } }), { manager: 'argocd' });
    settle(c);
    const pdbs = c.list((o) => o.kind === 'PodDisruptionBudget').map((o) => `${(o.metadata as any).namespace}/${(o.metadata as any).name}`);
    expect(pdbs).toEqual(
      expect.arrayContaining(['istio-system/istio-ingressgateway', 'istio-system/istiod-basic', 'internal-gw/internal-ingressgateway']),
    );
    expect(evictionBlockers(c)).toEqual([]);
    c.apply(
      {
        apiVersion: 'policy/v1',
        kind: 'PodDisruptionBudget',
        metadata: { name: 'istio-ingressgateway-ossm3', namespace: 'istio-system' },
        spec: { minAvailable: 1, selector: { matchLabels: { istio: 'ingressgateway' } } },
      },
      { manager: 'argocd' },
    );
    const blocked = evictionBlockers(c).filter((b) => b.pod.name.startsWith('istio-ingressgateway-'));
    expect(blocked).toHaveLength(1);
    expect(blocked[0].pdbs.map((r) => r.name)).toEqual(['istio-ingressgateway', 'istio-ingressgateway-ossm3']);
  });
});

describe('ClusterWide member roll', () => {
  test('owned by the SMCP; re-created by the next reconcile after deletion; gone only after the SMCP', () => {
    const c = cluster();
    c.apply(smcp(), { manager: 'argocd' });
    settle(c);
    const roll = live(c, SMMR);
    expect(roll.metadata.ownerReferences[0]).toMatchObject({ kind: 'ServiceMeshControlPlane', name: 'basic', controller: true });
    expect(roll.metadata.finalizers).toEqual(['maistra.io/istio-operator']);
    expect(roll.status).toMatchObject({ configuredMembers: ['client', 'internal-gw'] });
    expect(findCondition(roll, 'Ready')).toMatchObject({ status: 'True', reason: 'Configured' });
    // Deleted (the member-roll finalizer runs), it is back once the SMCP reconciles a new generation.
    c.delete(SMMR, 'argocd');
    c.advance(10);
    expect(live(c, SMMR)).toBeUndefined();
    expect(live(c, ref('Namespace', '', 'client')).metadata.labels['maistra.io/member-of']).toBeUndefined();
    c.apply(smcp({ tracing: { type: 'None' } }), { manager: 'argocd' });
    settle(c);
    expect(live(c, SMMR)).toBeDefined();
    // Deleting the SMCP: while its finalizer runs the roll is still there; then garbage collection removes it.
    c.delete(SMCP, 'argocd');
    expect(live(c, SMCP).metadata.deletionTimestamp).toBeDefined();
    c.tick();
    expect(live(c, SMCP)).toBeDefined();
    expect(live(c, SMMR)).toBeDefined();
    c.advance(15);
    expect(live(c, SMCP)).toBeUndefined();
    expect(live(c, SMMR)).toBeUndefined();
  });

  test('the roll creates a member in each namespace it selects and deletes its own once the namespace stops matching', () => {
    const c = cluster();
    c.apply(smcp(), { manager: 'argocd' });
    settle(c);
    const member = (n: string) => live(c, ref('ServiceMeshMember', n, 'default', 'maistra.io'));
    expect(member('client').metadata.annotations).toEqual({ 'maistra.io/created-by': 'servicemeshmemberroll-controller' });
    expect(member('internal-gw')).toBeDefined();
    // meshfed's own member takes over the one the roll made (server-side apply; conflicts are forced, as Argo CD and Flux do).
    c.apply(
      {
        apiVersion: 'maistra.io/v1',
        kind: 'ServiceMeshMember',
        metadata: { name: 'default', namespace: 'internal-gw', annotations: { 'maistra.io/created-by': 'meshfed' } },
        spec: { controlPlaneRef: { name: 'basic', namespace: 'istio-system' } },
      },
      { manager: 'argocd' },
    );
    for (const n of ['client', 'internal-gw']) c.apply(ns(n), { manager: 'test' });
    c.apply(smcp({ tracing: { type: 'None' } }), { manager: 'argocd' });
    settle(c);
    expect(member('client')).toBeUndefined();
    expect(member('internal-gw').metadata.annotations['maistra.io/created-by']).toBe('meshfed');
    expect(live(c, SMMR).status.configuredMembers).toEqual(['internal-gw']);
  });

  test('deleting the SMCP prunes what it rendered in every namespace and its namespace label; the operator must be installed', () => {
    const c = cluster();
    c.apply(smcp(), { manager: 'argocd' });
    settle(c);
    c.setInstalled({ ossm2: false, ossm3: true });
    c.delete(SMCP, 'argocd');
    c.advance(30);
    // Without the operator the finalizer never runs.
    expect(live(c, SMCP)).toBeDefined();
    c.setInstalled({ ossm2: true, ossm3: true });
    c.advance(30);
    expect(live(c, SMCP)).toBeUndefined();
    expect(c.list((o) => (o.metadata as any).labels?.['maistra.io/owner-name'] === 'basic')).toEqual([]);
    expect(live(c, ref('Deployment', 'internal-gw', 'internal-ingressgateway', 'apps'))).toBeUndefined();
    expect(live(c, ref('Namespace', '', 'istio-system')).metadata.labels['maistra.io/member-of']).toBeUndefined();
  });
});

describe('IOR', () => {
  const gateway = (
    name: string,
    hosts: string[],
    selector: Record<string, string> = { istio: 'ingressgateway' },
    labels: Record<string, string> = {},
  ) => ({
    apiVersion: 'networking.istio.io/v1beta1',
    kind: 'Gateway',
    metadata: { name, namespace: 'client', labels },
    spec: { selector, servers: [{ hosts, port: { name: 'http', number: 80, protocol: 'HTTP' } }] },
  });
  const iorRoutes = (c: Cluster) =>
    c.list((o) => o.kind === 'Route' && (o.metadata as any).labels?.['maistra.io/generated-by'] === 'ior') as any[];

  test("one Route per Gateway host, named as Maistra names it, in the selected gateway Service's namespace", () => {
    const c = cluster();
    c.apply(smcp(), { manager: 'argocd' });
    c.apply(
      gateway('bookinfo-gateway', ['bookinfo.apps.east.example.com'], undefined, {
        'app.kubernetes.io/instance': 'east',
        'argocd.argoproj.io/x': 'y',
      }),
      {
        manager: 'argocd',
      },
    );
    c.apply(gateway('egress', ['api.example.com'], { istio: 'egressgateway' }), { manager: 'argocd' });
    settle(c);
    c.advance(10);
    const routes = iorRoutes(c);
    expect(routes.map((r) => `${r.metadata.namespace}/${r.metadata.name}`)).toEqual([
      'istio-system/client-bookinfo-gateway-6cb0b89a9686da22',
    ]);
    expect(routes[0].metadata.labels).toMatchObject({
      'maistra.io/gateway-name': 'bookinfo-gateway',
      'maistra.io/gateway-namespace': 'client',
      'app.kubernetes.io/instance': 'east',
    });
    expect(routes[0].metadata.labels['argocd.argoproj.io/x']).toBeUndefined();
    expect(routes[0].metadata.ownerReferences).toBeUndefined();
    expect(routes[0].spec).toMatchObject({
      host: 'bookinfo.apps.east.example.com',
      port: { targetPort: 'http2' },
      to: { name: 'istio-ingressgateway' },
    });
    // A Gateway change rewrites its Routes; deleting it deletes them.
    c.apply(gateway('bookinfo-gateway', ['*.apps.east.example.com']), { manager: 'argocd' });
    c.tick();
    expect(iorRoutes(c).map((r) => r.spec.host)).toEqual(['wildcard.apps.east.example.com']);
    c.delete(refOf(gateway('bookinfo-gateway', [])), 'argocd');
    c.tick();
    expect(iorRoutes(c)).toEqual([]);
  });

  test('turning IOR off leaves its Routes (no owner), and the SMCP deletion does not prune them', () => {
    const c = cluster();
    c.apply(smcp(), { manager: 'argocd' });
    c.apply(gateway('bookinfo-gateway', ['bookinfo.apps.east.example.com']), { manager: 'argocd' });
    settle(c);
    c.advance(10);
    expect(iorRoutes(c)).toHaveLength(1);
    c.apply(smcp({ gateways: { openshiftRoute: { enabled: false } } }), { manager: 'argocd' });
    settle(c);
    c.apply(gateway('bookinfo-gateway', ['other.example.com']), { manager: 'argocd' });
    c.advance(10);
    expect(iorRoutes(c).map((r) => r.spec.host)).toEqual(['bookinfo.apps.east.example.com']);
    c.delete(SMCP, 'argocd');
    c.advance(30);
    expect(iorRoutes(c)).toHaveLength(1);
  });
});
