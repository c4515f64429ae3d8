import { load } from 'js-yaml';

import { render } from '../../lib/pipeline/render';
import { Cluster } from '../../lib/twin/cluster';
import { IstiodController, maistraPilotEnv } from '../../lib/twin/controllers/istiod';
import { findCondition, KubeControllers } from '../../lib/twin/controllers/kube';
import { MaistraOperator } from '../../lib/twin/controllers/maistra';
import { LoadBalancerController, LoadBalancerOptions } from '../../lib/twin/controllers/router';
import { SailOperator } from '../../lib/twin/controllers/sail';
import { argoHealthFrom, argoHealthWith, fluxHealth } from '../../lib/twin/health';
import { buildKustomization } from '../../lib/twin/kustomize';
import { liveCluster, readDumps } from '../../lib/twin/live';
import { Obj, Ref } from '../../lib/twin/objects';
import { memoryTree } from '../../lib/twin/tree';

const argo = argoHealthWith(new Map());
const ns = (name: string, labels: Record<string, string> = {}): Obj => ({
  apiVersion: 'v1',
  kind: 'Namespace',
  metadata: { name, labels },
});
const ref = (kind: string, namespace: string, name: string, group = ''): Ref => ({ group, kind, namespace, name });
const GW = ref('Gateway', 'istio-ingress', 'eastwestgateway', 'gateway.networking.k8s.io');
const live = (c: Cluster, r: Ref) => c.get(r) as any;
const SMCP = ref('ServiceMeshControlPlane', 'istio-system', 'basic', 'maistra.io');

/** meshfed's east-west Gateway (02-export), as rendered. */
function eastWest(extra: { labels?: Record<string, string>; annotations?: Record<string, string> } = {}): Obj {
  return {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'Gateway',
    metadata: {
      name: 'eastwestgateway',
      namespace: 'istio-ingress',
      labels: { 'topology.istio.io/network': 'network-west-mesh', ...extra.labels },
      annotations: { 'argocd.argoproj.io/sync-wave': '0', ...extra.annotations },
    },
    spec: {
      gatewayClassName: 'istio',
      listeners: [
        {
          name: 'cross-network',
          hostname: 'fake-hostname-to-block-all-by-default',
          port: 15443,
          protocol: 'TLS',
          tls: { mode: 'Passthrough', options: { 'gateway.istio.io/listener-protocol': 'auto-passthrough' } },
        },
      ],
    },
  };
}

/** meshfed's istio-remote Gateway (03-import). */
const remote: Obj = {
  apiVersion: 'gateway.networking.k8s.io/v1beta1',
  kind: 'Gateway',
  metadata: {
    name: 'remote-gateway-network-west-mesh',
    namespace: 'istio-system',
    labels: { 'topology.istio.io/network': 'west-network' },
  },
  spec: {
    addresses: [{ value: '198.51.100.20' }],
    gatewayClassName: 'istio-remote',
    listeners: [
      {
        name: 'cross-network',
        port: 15443,
        protocol: 'TLS',
        tls: { mode: 'Passthrough', options: { 'gateway.istio.io/listener-protocol': 'auto-passthrough' } },
      },
    ],
  },
};
const REMOTE = ref('Gateway', 'istio-system', 'remote-gateway-network-west-mesh', 'gateway.networking.k8s.io');

function smcp(spec: Record<string, any> = {}): Obj {
  return {
    apiVersion: 'maistra.io/v2',
    kind: 'ServiceMeshControlPlane',
    metadata: { name: 'basic', namespace: 'istio-system' },
    spec: { version: 'v2.6', mode: 'ClusterWide', gateways: { enabled: false }, ...spec },
  };
}

function istio(env: Record<string, string> = {}): Obj {
  return {
    apiVersion: 'sailoperator.io/v1',
    kind: 'Istio',
    metadata: { name: 'default' },
    spec: { version: 'v1.27.3', namespace: 'istio-system', updateStrategy: { type: 'RevisionBased' }, values: { pilot: { env } } },
  };
}

function cluster(opts: { lb?: LoadBalancerOptions; ossm3?: boolean; namespaces?: Obj[] } = {}): { c: Cluster; istiod: IstiodController } {
  const istiod = new IstiodController();
  const c = new Cluster({ ossm2: true, ossm3: opts.ossm3 ?? false }, [
    new KubeControllers({ rbac: false }),
    new MaistraOperator(),
    new SailOperator(),
    istiod,
    new LoadBalancerController(opts.lb),
  ]);
  for (const n of opts.namespaces ?? [ns('istio-system'), ns('istio-ingress')]) c.apply(n, { manager: 'test' });
  return { c, istiod };
}

/** Run until the SMCP's generation is reconciled (its istiod is then running). */
function settleSmcp(c: Cluster): void {
  for (let t = 0; t < 600; t += 5) {
    c.tick();
    const s = live(c, SMCP);
    if (s?.status?.observedGeneration === s?.metadata.generation && findCondition(s, 'Reconciled')?.status === 'True') return;
  }
  throw new Error('the SMCP did not reconcile');
}

const cond = (o: any, type: string) => (o.status?.conditions ?? []).find((c: any) => c.type === type);
const listenerCond = (o: any, type: string) => (o.status?.listeners?.[0]?.conditions ?? []).find((c: any) => c.type === type);

describe('OSSM 2.6 istiod (Maistra, Istio 1.20)', () => {
  test('ClusterWide: deploys <gateway>-istio as 2.6 names and labels it, and writes Accepted/Programmed with the LoadBalancer address', () => {
    const { c, istiod } = cluster();
    c.apply(smcp(), { manager: 'argocd' });
    settleSmcp(c);
    c.apply(eastWest(), { manager: 'argocd' });
    // Before any istiod acts: the Gateway API CRD's default status.
    expect(cond(live(c, GW), 'Programmed')).toMatchObject({ status: 'Unknown', reason: 'Pending', message: 'Waiting for controller' });
    expect(istiod.reconcilers(c, c.get(GW)!)).toEqual({ status: ['maistra:istio-system/basic'], deploy: ['maistra:istio-system/basic'] });
    c.advance(20);
    const gw = live(c, GW);
    const uid = gw.metadata.uid;
    expect(gw.metadata.annotations['gateway.istio.io/controller-version']).toBe('5');
    const sa = live(c, ref('ServiceAccount', 'istio-ingress', 'eastwestgateway-istio'));
    // 2.6's template gives the ServiceAccount no owner: it outlives the Gateway.
    expect(sa.metadata.ownerReferences).toBeUndefined();
    expect(sa.metadata.labels).toEqual({ 'gateway.istio.io/managed': 'istio.io-gateway-controller' });
    const d = live(c, ref('Deployment', 'istio-ingress', 'eastwestgateway-istio', 'apps'));
    expect(d.metadata.ownerReferences).toEqual([
      { apiVersion: 'gateway.networking.k8s.io/v1beta1', kind: 'Gateway', name: 'eastwestgateway', uid },
    ]);
    expect(d.spec.selector).toEqual({ matchLabels: { 'istio.io/gateway-name': 'eastwestgateway' } });
    expect(d.spec.template.metadata.labels).toMatchObject({
      'istio.io/gateway-name': 'eastwestgateway',
      'topology.istio.io/network': 'network-west-mesh',
      'maistra-control-plane': 'istio-system',
    });
    expect(d.spec.template.metadata.labels['gateway.networking.k8s.io/gateway-name']).toBeUndefined();
    expect(d.spec.template.metadata.annotations).toMatchObject({ 'istio.io/rev': 'basic', 'argocd.argoproj.io/sync-wave': '0' });
    expect(d.status.readyReplicas).toBe(1);
    const svc = live(c, ref('Service', 'istio-ingress', 'eastwestgateway-istio'));
    expect(svc.spec).toMatchObject({
      type: 'LoadBalancer',
      selector: { 'istio.io/gateway-name': 'eastwestgateway' },
      ports: [
        { name: 'status-port', port: 15021, protocol: 'TCP', appProtocol: 'tcp' },
        { name: 'cross-network', port: 15443, protocol: 'TCP', appProtocol: 'tls' },
      ],
    });
    const ip = svc.status.loadBalancer.ingress[0].ip;
    expect(cond(gw, 'Accepted')).toMatchObject({ status: 'True', reason: 'Accepted', observedGeneration: 1 });
    expect(cond(gw, 'Programmed')).toMatchObject({
      status: 'True',
      message: 'Resource programmed, assigned to service(s) eastwestgateway-istio.istio-ingress.svc.cluster.local:15443',
    });
    expect(gw.status.addresses).toEqual([{ type: 'IPAddress', value: ip }]);
    // 1.20 takes a TLS listener as is: accepted without the alpha flag.
    expect(gw.status.listeners[0]).toMatchObject({ name: 'cross-network', attachedRoutes: 0, supportedKinds: [{ kind: 'TLSRoute' }] });
    expect(listenerCond(gw, 'Accepted')).toMatchObject({ status: 'True', reason: 'Accepted' });
    expect(listenerCond(gw, 'Conflicted')).toMatchObject({ status: 'False', reason: 'NoConflicts' });
    expect(argo(gw)).toEqual({ status: 'Healthy', message: 'Gateway is healthy' });
  });

  test('Service type from networking.istio.io/service-type: a ClusterIP gateway reports its Service hostname', () => {
    const { c } = cluster();
    c.apply(smcp(), { manager: 'argocd' });
    settleSmcp(c);
    c.apply(eastWest({ annotations: { 'networking.istio.io/service-type': 'ClusterIP' } }), { manager: 'argocd' });
    c.advance(20);
    expect(live(c, ref('Service', 'istio-ingress', 'eastwestgateway-istio')).spec.type).toBe('ClusterIP');
    const gw = live(c, GW);
    expect(gw.status.addresses).toEqual([{ type: 'Hostname', value: 'eastwestgateway-istio.istio-ingress.svc.cluster.local' }]);
    expect(cond(gw, 'Programmed')?.status).toBe('True');
  });

  test('a LoadBalancer that never gets an address: Programmed=False AddressNotAssigned, no address, Argo CD waits', () => {
    const { c } = cluster({ lb: { addressOf: () => undefined } });
    c.apply(smcp(), { manager: 'argocd' });
    settleSmcp(c);
    c.apply(eastWest(), { manager: 'argocd' });
    c.advance(60);
    const gw = live(c, GW);
    const message =
      'Assigned to service(s) eastwestgateway-istio.istio-ingress.svc.cluster.local:15443, but failed to assign to all requested addresses: ' +
      'address pending for hostname "eastwestgateway-istio.istio-ingress.svc.cluster.local"';
    expect(cond(gw, 'Programmed')).toMatchObject({ status: 'False', reason: 'AddressNotAssigned', message });
    expect(gw.status.addresses).toBeUndefined();
    expect(argo(gw)).toEqual({ status: 'Progressing', message });
  });

  test('MultiTenant: the chart turns Gateway API off unless techPreview.gatewayAPI.enabled; then only member namespaces count', () => {
    const { c, istiod } = cluster({ namespaces: [ns('istio-system'), ns('istio-ingress'), ns('app')] });
    const roll = { apiVersion: 'maistra.io/v1', kind: 'ServiceMeshMemberRoll', metadata: { name: 'default', namespace: 'istio-system' } };
    c.apply({ ...roll, spec: { members: ['app'] } }, { manager: 'argocd' });
    c.apply(smcp({ mode: 'MultiTenant' }), { manager: 'argocd' });
    settleSmcp(c);
    c.apply(eastWest(), { manager: 'argocd' });
    c.advance(30);
    // No istiod reconciles it: the CRD default stays and nothing is deployed.
    expect(istiod.reconcilers(c, c.get(GW)!)).toEqual({ status: [], deploy: [] });
    expect(cond(live(c, GW), 'Programmed')).toMatchObject({ status: 'Unknown', reason: 'Pending' });
    expect(live(c, ref('Deployment', 'istio-ingress', 'eastwestgateway-istio', 'apps'))).toBeUndefined();
    // meshfed's 01 patch for a MultiTenant exporter: gatewayAPI on — still nothing while istio-ingress is no member.
    c.apply(smcp({ mode: 'MultiTenant', techPreview: { gatewayAPI: { enabled: true } } }), { manager: 'argocd' });
    settleSmcp(c);
    c.advance(30);
    expect(live(c, ref('Deployment', 'istio-ingress', 'eastwestgateway-istio', 'apps'))).toBeUndefined();
    // 02 adds istio-ingress to the member roll.
    c.apply({ ...roll, spec: { members: ['app', 'istio-ingress'] } }, { manager: 'argocd' });
    c.advance(30);
    expect(istiod.reconcilers(c, c.get(GW)!).deploy).toEqual(['maistra:istio-system/basic']);
    expect(live(c, ref('Deployment', 'istio-ingress', 'eastwestgateway-istio', 'apps'))).toBeDefined();
    expect(cond(live(c, GW), 'Programmed')?.status).toBe('True');
  });

  test('the SMCP env takes effect once its generation is reconciled: 06 turns PILOT_ENABLE_GATEWAY_API off', () => {
    expect(maistraPilotEnv({ mode: 'MultiTenant' })).toEqual({
      PILOT_ENABLE_GATEWAY_API: 'false',
      PILOT_ENABLE_GATEWAY_API_STATUS: 'false',
      PILOT_ENABLE_GATEWAY_API_DEPLOYMENT_CONTROLLER: 'false',
    });
    expect(
      maistraPilotEnv({
        mode: 'ClusterWide',
        runtime: { components: { pilot: { container: { env: { PILOT_ENABLE_GATEWAY_API: 'false' } } } } },
      }),
    ).toEqual({
      PILOT_ENABLE_GATEWAY_API: 'false',
    });
    const { c, istiod } = cluster();
    c.apply(smcp(), { manager: 'argocd' });
    settleSmcp(c);
    c.apply(smcp({ runtime: { components: { pilot: { container: { env: { PILOT_ENABLE_GATEWAY_API: 'false' } } } } } }), {
      manager: 'argocd',
    });
    c.apply(eastWest(), { manager: 'argocd' });
    // The running istiod still has the previous generation's env.
    expect(istiod.reconcilers(c, c.get(GW)!).status).toEqual(['maistra:istio-system/basic']);
    settleSmcp(c);
    expect(istiod.reconcilers(c, c.get(GW)!)).toEqual({ status: [], deploy: [] });
  });

  test('maistra.io/ignore: "true" and another revision label keep the 2.6 istiod away', () => {
    const { c, istiod } = cluster();
    c.apply(smcp(), { manager: 'argocd' });
    settleSmcp(c);
    c.apply(eastWest({ labels: { 'maistra.io/ignore': 'true' } }), { manager: 'argocd' });
    expect(istiod.reconcilers(c, c.get(GW)!)).toEqual({ status: [], deploy: [] });
    c.apply(eastWest({ labels: { 'istio.io/rev': 'default-v1-27-3' } }), { manager: 'argocd' });
    // Its config store drops an object labelled for another revision; its deployment controller does not look.
    expect(istiod.reconcilers(c, c.get(GW)!)).toEqual({ status: [], deploy: ['maistra:istio-system/basic'] });
  });

  test('istio-remote: 1.20 writes no status at all, so Argo CD waits for ever', () => {
    const { c, istiod } = cluster();
    c.apply(smcp({ runtime: { components: { pilot: { container: { env: { PILOT_MULTI_NETWORK_DISCOVER_GATEWAY_API: 'true' } } } } } }), {
      manager: 'argocd',
    });
    settleSmcp(c);
    c.apply(remote, { manager: 'argocd' });
    c.advance(120);
    const gw = live(c, REMOTE);
    expect(istiod.reconcilers(c, gw).status).toEqual(['maistra:istio-system/basic']);
    expect(gw.status.conditions.map((x: any) => [x.type, x.status, x.reason])).toEqual([
      ['Accepted', 'Unknown', 'Pending'],
      ['Programmed', 'Unknown', 'Pending'],
    ]);
    expect(argo(gw)).toEqual({ status: 'Progressing', message: 'Waiting for controller' });
    expect(live(c, ref('Deployment', 'istio-system', 'remote-gateway-network-west-mesh-istio-remote', 'apps'))).toBeUndefined();
  });
});

describe('OSSM 3 istiod (Sail, Istio 1.27)', () => {
  function sail(env: Record<string, string> = {}, istioIngress: Record<string, string> = {}): { c: Cluster; istiod: IstiodController } {
    const w = cluster({ ossm3: true, namespaces: [ns('istio-system'), ns('istio-ingress', istioIngress)] });
    w.c.apply(istio(env), { manager: 'argocd' });
    w.c.advance(30);
    return w;
  }

  test('IsMine: the namespace istio.io/rev names the revision, else nothing reconciles the Gateway', () => {
    const { c, istiod } = sail();
    c.apply(eastWest(), { manager: 'argocd' });
    c.advance(20);
    expect(istiod.reconcilers(c, c.get(GW)!)).toEqual({ status: [], deploy: [] });
    expect(cond(live(c, GW), 'Accepted')?.status).toBe('Unknown');
    expect(live(c, ref('Deployment', 'istio-ingress', 'eastwestgateway-istio', 'apps'))).toBeUndefined();
    c.apply(ns('istio-ingress', { 'istio.io/rev': 'default-v1-27-3' }), { manager: 'argocd' });
    c.advance(20);
    expect(istiod.reconcilers(c, c.get(GW)!)).toEqual({ status: ['sail:default-v1-27-3'], deploy: ['sail:default-v1-27-3'] });
    const d = live(c, ref('Deployment', 'istio-ingress', 'eastwestgateway-istio', 'apps'));
    expect(d.spec.selector).toEqual({ matchLabels: { 'gateway.networking.k8s.io/gateway-name': 'eastwestgateway' } });
    expect(d.spec.template.metadata.labels['istio.io/gateway-name']).toBeUndefined();
    expect(d.spec.template.metadata.annotations['istio.io/rev']).toBe('default-v1-27-3');
    const sa = live(c, ref('ServiceAccount', 'istio-ingress', 'eastwestgateway-istio'));
    expect(sa.metadata.ownerReferences[0]).toMatchObject({ kind: 'Gateway', name: 'eastwestgateway' });
    expect(live(c, ref('Service', 'istio-ingress', 'eastwestgateway-istio')).spec.ipFamilyPolicy).toBe('PreferDualStack');
  });

  test('a TLS listener without PILOT_ENABLE_ALPHA_GATEWAY_API: Accepted=False UnsupportedProtocol, Argo CD Degraded', () => {
    const { c } = sail({}, { 'istio.io/rev': 'default-v1-27-3' });
    c.apply(eastWest(), { manager: 'argocd' });
    c.advance(30);
    const gw = live(c, GW);
    const message = 'protocol "TLS" is supported, but only when PILOT_ENABLE_ALPHA_GATEWAY_API=true is configured';
    expect(listenerCond(gw, 'Accepted')).toMatchObject({ status: 'False', reason: 'UnsupportedProtocol', message });
    // The Gateway itself is accepted and programmed: the Service still serves the port.
    expect(cond(gw, 'Programmed')?.status).toBe('True');
    expect(argo(gw)).toEqual({ status: 'Degraded', message: `Listener: ${message}` });
  });

  test('with PILOT_ENABLE_ALPHA_GATEWAY_API=true (meshfed sets it in 05 for exporters) the listener is accepted', () => {
    const { c } = sail({ PILOT_ENABLE_ALPHA_GATEWAY_API: 'true' }, { 'istio.io/rev': 'default-v1-27-3' });
    c.apply(eastWest(), { manager: 'argocd' });
    c.advance(30);
    const gw = live(c, GW);
    expect(listenerCond(gw, 'Accepted')).toMatchObject({ status: 'True', reason: 'Accepted' });
    expect(argo(gw)).toEqual({ status: 'Healthy', message: 'Gateway is healthy' });
  });

  test('istio-remote: Accepted and Programmed "This Gateway is remote", the spec addresses, no listeners', () => {
    const { c } = sail({}, {});
    c.apply(ns('istio-system', { 'istio.io/rev': 'default-v1-27-3' }), { manager: 'argocd' });
    c.apply(remote, { manager: 'argocd' });
    c.advance(10);
    const gw = live(c, REMOTE);
    expect(cond(gw, 'Programmed')).toMatchObject({
      status: 'True',
      reason: 'Programmed',
      message: 'This Gateway is remote; Istio will not program it',
    });
    expect(cond(gw, 'Accepted')).toMatchObject({ status: 'True', message: 'Resource accepted' });
    expect(gw.status.addresses).toEqual([{ type: 'IPAddress', value: '198.51.100.20' }]);
    expect(gw.status.listeners).toBeUndefined();
    expect(argo(gw)?.status).toBe('Healthy');
    // PILOT_MULTI_NETWORK_DISCOVER_GATEWAY_API=false removes the class: the Gateway is no 1.27 istiod's.
    const off = sail({ PILOT_MULTI_NETWORK_DISCOVER_GATEWAY_API: 'false' });
    off.c.apply(ns('istio-system', { 'istio.io/rev': 'default-v1-27-3' }), { manager: 'argocd' });
    off.c.apply(remote, { manager: 'argocd' });
    off.c.advance(10);
    expect(cond(live(off.c, REMOTE), 'Programmed')?.status).toBe('Unknown');
  });

  test('06 takeover: 1.27 applies over the 2.6 objects (managed label) keeping the old selector; a foreign Service is left alone', () => {
    const { c } = cluster({ ossm3: true });
    c.apply(smcp(), { manager: 'argocd' });
    settleSmcp(c);
    c.apply(eastWest(), { manager: 'argocd' });
    c.advance(20);
    // 06: the SMCP stops Gateway API, the namespace moves to the revision.
    c.apply(smcp({ runtime: { components: { pilot: { container: { env: { PILOT_ENABLE_GATEWAY_API: 'false' } } } } } }), {
      manager: 'argocd',
    });
    settleSmcp(c);
    c.apply(istio({ PILOT_ENABLE_ALPHA_GATEWAY_API: 'true' }), { manager: 'argocd' });
    c.apply(ns('istio-ingress', { 'istio.io/rev': 'default-v1-27-3' }), { manager: 'argocd' });
    c.advance(40);
    const d = live(c, ref('Deployment', 'istio-ingress', 'eastwestgateway-istio', 'apps'));
    expect(d.spec.selector).toEqual({ matchLabels: { 'istio.io/gateway-name': 'eastwestgateway' } });
    expect(d.spec.template.metadata.labels).toMatchObject({
      'istio.io/gateway-name': 'eastwestgateway',
      'gateway.networking.k8s.io/gateway-name': 'eastwestgateway',
    });
    expect(d.spec.template.metadata.annotations['istio.io/rev']).toBe('default-v1-27-3');
    // The same field manager: what only 2.6 applied is gone.
    expect(d.metadata.labels['maistra-version']).toBeUndefined();
    expect(live(c, ref('Service', 'istio-ingress', 'eastwestgateway-istio')).spec.selector).toEqual({
      'gateway.networking.k8s.io/gateway-name': 'eastwestgateway',
    });
    expect(cond(live(c, GW), 'Programmed')?.status).toBe('True');

    // canManage: an object without gateway.istio.io/managed is never overwritten.
    const { c: c2 } = sail({}, { 'istio.io/rev': 'default-v1-27-3' });
    const foreign = {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'eastwestgateway-istio', namespace: 'istio-ingress' },
      spec: { selector: { app: 'mine' }, ports: [{ name: 'https', port: 443 }] },
    };
    c2.apply(foreign, { manager: 'someone' });
    c2.apply(eastWest(), { manager: 'argocd' });
    c2.advance(20);
    const svc = live(c2, ref('Service', 'istio-ingress', 'eastwestgateway-istio'));
    expect(svc.spec.selector).toEqual({ app: 'mine' });
    expect(svc.metadata.labels).toBeUndefined();
    // The Deployment is still rendered; its pods are behind no Service of the Gateway's.
    expect(live(c2, ref('Deployment', 'istio-ingress', 'eastwestgateway-istio', 'apps'))).toBeDefined();
    expect(cond(live(c2, GW), 'Programmed')?.status).toBe('False');
  });
});

describe('the production example', () => {
  test('east at 00 has its dumped Routes admitted; west 02-export Gateway on top gets the status the 2.6 istiod writes', () => {
    const east = liveCluster(readDumps('examples/production-smcp/clusters/east/ossm2'), { ossm2: true, ossm3: false });
    const routes = east.list((o) => o.kind === 'Route') as any[];
    expect(routes.length).toBeGreaterThan(0);
    for (const r of routes) {
      expect(r.status.ingress).toEqual([expect.objectContaining({ routerName: 'default', host: r.spec.host })]);
      expect(argo(r)).toEqual({ status: 'Healthy', message: 'Route is healthy' });
    }
    expect(routes[0].status.ingress[0].routerCanonicalHostname).toBe('router-default.apps.east.example.com');

    const { files } = render('examples/production-smcp/clusters');
    const tree = memoryTree(files);
    const target = buildKustomization(tree, 'west/02-export');
    // The west cluster.yaml's address of Service eastwestgateway-istio.
    const west = liveCluster(
      readDumps('examples/production-smcp/clusters/west/ossm2'),
      { ossm2: true, ossm3: false },
      {
        loadBalancers: {
          addressOf: (svc, next) => ((svc.metadata as any).name === 'eastwestgateway-istio' ? { ip: '198.51.100.20' } : next()),
        },
      },
    );
    for (const o of target.filter((x) => x.kind === 'Namespace' || (x.kind === 'Gateway' && String(x.apiVersion).startsWith('gateway.'))))
      expect(west.apply(o, { manager: 'argocd-controller' })).toMatchObject({ ok: true });
    west.advance(60);
    const gw = live(west, GW);
    expect(cond(gw, 'Programmed')).toMatchObject({ status: 'True', reason: 'Programmed' });
    expect(gw.status.addresses).toEqual([{ type: 'IPAddress', value: '198.51.100.20' }]);
    // What Argo CD (with the render's health patch) and Flux (meshfed's healthCheckExprs) conclude.
    expect(argoHealthFrom(tree)(gw)).toEqual({ status: 'Healthy', message: 'Gateway is healthy' });
    const flux = load(files.get('flux/west/kustomization-meshfed-west.yaml')!) as any;
    const exprs = flux.spec.healthCheckExprs.filter((e: any) => e.kind === 'Gateway');
    expect(exprs).toHaveLength(1);
    expect(fluxHealth(gw, exprs).status).toBe('Current');
  });
});
