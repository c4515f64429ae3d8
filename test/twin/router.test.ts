import { Cluster } from '../../lib/twin/cluster';
import { LoadBalancerController, LoadBalancerOptions, OpenShiftRouter, RouterOptions } from '../../lib/twin/controllers/router';
import { argoHealthWith } from '../../lib/twin/health';
import { Obj, Ref } from '../../lib/twin/objects';

const argo = argoHealthWith(new Map());
const ns = (name: string): Obj => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
const routeRef = (namespace: string, name: string): Ref => ({ group: 'route.openshift.io', kind: 'Route', namespace, name });
const live = (c: Cluster, r: Ref) => c.get(r) as any;

function route(namespace: string, name: string, spec: Record<string, any> = {}, annotations: Record<string, string> = {}): Obj {
  return {
    apiVersion: 'route.openshift.io/v1',
    kind: 'Route',
    metadata: { name, namespace, annotations },
    spec: { to: { kind: 'Service', name: 'svc' }, ...spec },
  };
}

function cluster(router: RouterOptions = {}, lb?: LoadBalancerOptions): Cluster {
  const c = new Cluster({ ossm2: false, ossm3: false }, [new OpenShiftRouter(router), new LoadBalancerController(lb)]);
  for (const n of ['a', 'b']) c.apply(ns(n), { manager: 'test' });
  return c;
}

const admitted = (c: Cluster, r: Ref) => live(c, r).status.ingress[0].conditions.find((x: any) => x.type === 'Admitted');

describe('OpenShift router', () => {
  test('admits a Route: routerName default, Admitted=True, its host, the canonical hostname of the apps domain', () => {
    const c = cluster();
    // A generated host tells the apps domain (openshift.io/host.generated).
    c.apply(route('a', 'web', { host: 'web-a.apps.east.example.com' }, { 'openshift.io/host.generated': 'true' }), { manager: 'argocd' });
    c.apply(route('b', 'api', { host: 'api.example.org', wildcardPolicy: 'None' }), { manager: 'argocd' });
    c.tick();
    const r = live(c, routeRef('b', 'api'));
    expect(r.status.ingress).toEqual([
      {
        host: 'api.example.org',
        routerName: 'default',
        conditions: [{ type: 'Admitted', status: 'True', lastTransitionTime: 5 }],
        wildcardPolicy: 'None',
        routerCanonicalHostname: 'router-default.apps.east.example.com',
      },
    ]);
    expect(argo(r)).toEqual({ status: 'Healthy', message: 'Route is healthy' });
    // Nothing changed: the entry is not rewritten.
    const version = r.metadata.resourceVersion;
    c.advance(20);
    expect(live(c, routeRef('b', 'api')).metadata.resourceVersion).toBe(version);
  });

  test('a Route without a host gets <name>-<namespace>.<apps domain> from the API server, then is admitted', () => {
    const c = cluster({ appsDomain: 'apps.west.example.com' });
    c.apply(route('a', 'my.app'), { manager: 'argocd' });
    c.tick();
    const r = live(c, routeRef('a', 'my.app'));
    expect(r.spec.host).toBe('my-app-a.apps.west.example.com');
    expect(r.metadata.annotations['openshift.io/host.generated']).toBe('true');
    expect(admitted(c, routeRef('a', 'my.app'))?.status).toBe('True');
  });

  test('HostAlreadyClaimed: the oldest Route holds a host for its namespace; the other is admitted once it goes', () => {
    const c = cluster();
    c.apply(route('a', 'first', { host: 'shop.example.com' }), { manager: 'argocd' });
    c.tick();
    c.apply(route('b', 'second', { host: 'shop.example.com' }), { manager: 'argocd' });
    // Another path does not help: the host belongs to namespace a.
    c.apply(route('b', 'sub', { host: 'shop.example.com', path: '/sub' }), { manager: 'argocd' });
    c.tick();
    expect(admitted(c, routeRef('b', 'sub'))).toMatchObject({ status: 'False', reason: 'HostAlreadyClaimed' });
    expect(admitted(c, routeRef('a', 'first'))?.status).toBe('True');
    expect(admitted(c, routeRef('b', 'second'))).toMatchObject({
      status: 'False',
      reason: 'HostAlreadyClaimed',
      message: 'a route in another namespace holds shop.example.com and is older than second',
    });
    expect(argo(live(c, routeRef('b', 'second')))).toEqual({ status: 'Degraded', message: 'Route is degraded' });
    c.delete(routeRef('a', 'first'), 'argocd');
    c.tick();
    expect(admitted(c, routeRef('b', 'second'))).toMatchObject({ status: 'True' });
    expect(admitted(c, routeRef('b', 'second'))?.reason).toBeUndefined();
    expect(admitted(c, routeRef('b', 'sub'))?.status).toBe('True');
  });

  test('same namespace: different paths share a host, the same path goes to the older Route', () => {
    const c = cluster();
    c.apply(route('a', 'root', { host: 'shop.example.com' }), { manager: 'argocd' });
    c.tick();
    c.apply(route('a', 'cart', { host: 'shop.example.com', path: '/cart' }), { manager: 'argocd' });
    c.apply(route('a', 'again', { host: 'shop.example.com' }), { manager: 'argocd' });
    c.tick();
    expect(admitted(c, routeRef('a', 'cart'))?.status).toBe('True');
    expect(admitted(c, routeRef('a', 'again'))).toMatchObject({
      status: 'False',
      reason: 'HostAlreadyClaimed',
      message: 'route root already exposes shop.example.com and is older',
    });
  });

  test('wildcard routes are refused by the default IngressController; invalid hosts are refused', () => {
    const c = cluster();
    c.apply(route('a', 'wild', { host: 'wildcard.example.com', wildcardPolicy: 'Subdomain' }), { manager: 'istiod-ior' });
    c.apply(route('b', 'bad', { host: 'Bad_Host.example.com' }), { manager: 'argocd' });
    c.tick();
    expect(admitted(c, routeRef('a', 'wild'))).toMatchObject({
      status: 'False',
      reason: 'RouteNotAdmitted',
      message: 'wildcard routes are not allowed',
    });
    expect(admitted(c, routeRef('b', 'bad'))).toMatchObject({ status: 'False', reason: 'InvalidHost' });
  });
});

describe('cloud load balancers', () => {
  const svc = (name: string, type: string, extra: Record<string, any> = {}): Obj => ({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: 'a' },
    spec: { type, ports: [{ port: 443 }], selector: { app: name }, ...extra },
  });
  const ref = (name: string): Ref => ({ group: '', kind: 'Service', namespace: 'a', name });

  test('a LoadBalancer Service gets an ingress (its loadBalancerIP, else the next address); Argo CD health follows', () => {
    const c = cluster();
    c.apply(svc('one', 'LoadBalancer'), { manager: 'argocd' });
    c.apply(svc('two', 'LoadBalancer', { loadBalancerIP: '198.51.100.20' }), { manager: 'argocd' });
    c.apply(svc('three', 'ClusterIP'), { manager: 'argocd' });
    expect(argo(live(c, ref('one')))?.status).toBe('Progressing');
    c.tick();
    expect(live(c, ref('one')).status.loadBalancer.ingress).toEqual([{ ip: '203.0.113.1' }]);
    expect(live(c, ref('two')).status.loadBalancer.ingress).toEqual([{ ip: '198.51.100.20' }]);
    expect(live(c, ref('three')).status).toBeUndefined();
    expect(argo(live(c, ref('one')))?.status).toBe('Healthy');
    c.apply(svc('four', 'LoadBalancer'), { manager: 'argocd' });
    c.tick();
    expect(live(c, ref('four')).status.loadBalancer.ingress).toEqual([{ ip: '203.0.113.2' }]);
    // No longer a LoadBalancer: the address goes.
    c.apply(svc('one', 'ClusterIP'), { manager: 'argocd' });
    c.tick();
    expect(live(c, ref('one')).status.loadBalancer).toEqual({});
  });

  test('a platform without load balancers leaves the Service pending', () => {
    const c = cluster({}, { addressOf: () => undefined });
    c.apply(svc('one', 'LoadBalancer'), { manager: 'argocd' });
    c.advance(60);
    expect(live(c, ref('one')).status).toBeUndefined();
    expect(argo(live(c, ref('one')))?.status).toBe('Progressing');
  });
});
