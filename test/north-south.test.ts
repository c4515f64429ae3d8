/**
 * North-south continuity (SMCP-managed gateways and OpenShift Routes): on the production-SMCP example,
 * gateway injection takes each SMCP gateway over in 06, Routes become plain objects in Git with IOR off,
 * and the 07 Job hands the Services and Routes over before it deletes the SMCP. MF019 guards every state.
 */
import * as fs from 'fs';
import * as path from 'path';

import { parseDocument } from 'yaml';

import { analyse, broken } from './support/analyse';
import { copyTree } from './support/fixtures';
import { crdProblems, kustomize } from './support/kube';
import { synthTo } from './support/synth';
import { runChecks } from '../lib/check';
import { handoverScript } from '../lib/constructs/gateway-takeover';
import { FederationModel } from '../lib/model/types';
import { Plan, Resource } from '../lib/plan/types';

const PRODUCTION = path.join(__dirname, '..', 'examples', 'production-smcp', 'clusters');

let model: FederationModel;
let plan: Plan;
beforeAll(() => ({ model, plan } = analyse(PRODUCTION)));
const adds = (phase: number) => plan.byCluster.east[phase].adds;
const of = <T extends Resource['type']>(phase: number, type: T) =>
  adds(phase).filter((r): r is Extract<Resource, { type: T }> => r.type === type);

describe('gateway injection takes the SMCP gateways over (06)', () => {
  test('one Deployment per SMCP gateway, injected by OSSM 3, with the labels its Service selects and the SMCP pods carry', () => {
    const deployments = of(6, 'gatewayDeployment');
    expect(deployments.map((d) => `${d.ref.namespace}/${d.ref.name}`)).toEqual([
      'istio-system/istio-ingressgateway-ossm3',
      'istio-system/istio-egressgateway-ossm3',
      'internal-gw/internal-ingressgateway-ossm3',
    ]);
    const ingress = deployments[0];
    expect(ingress.podLabels).toEqual({
      app: 'istio-ingressgateway',
      istio: 'ingressgateway',
      team: 'edge',
      'istio.io/rev': 'default-v1-27-3',
      'meshfed.dev/gateway': 'istio-ingressgateway',
      'sidecar.istio.io/inject': 'true',
    });
    // Its own selector: the SMCP's Deployment selects the Service's labels, which these pods carry too.
    expect(ingress.selectorLabels).toEqual({ 'meshfed.dev/gateway': 'istio-ingressgateway' });
    expect(ingress.ports.map((p) => p.containerPort)).toEqual([8080, 8443, 15021]);
    // Replicas, resources and anti-affinity from the SMCP's Deployment; the internal gateway's replicas from its SMCP runtime.
    expect(ingress).toMatchObject({ replicas: 2, pod: { resources: { requests: { cpu: '100m' } }, affinity: { podAntiAffinity: {} } } });
    expect(deployments[2].replicas).toBe(2);
    expect(of(6, 'gatewaySecretsRole').map((r) => r.ref.name)).toEqual([
      'istio-ingressgateway-ossm3',
      'istio-egressgateway-ossm3',
      'internal-ingressgateway-ossm3',
    ]);
  });
  test('the 2.6 injector stays out: the control-plane namespace is adopted with maistra.io/ignore-namespace, members are relabelled', () => {
    const ns = of(6, 'adopted').find((r) => r.ref.kind === 'Namespace');
    expect(ns).toMatchObject({ ref: { name: 'istio-system' }, body: { metadata: { labels: { 'maistra.io/ignore-namespace': 'true' } } } });
    const patched = plan.byCluster.east[6].patches.filter((p) => p.target.kind === 'Namespace').map((p) => p.target.name);
    expect(patched).toEqual(expect.arrayContaining(['client', 'internal-gw']));
  });
  test('the built 06 overlay is valid and the rendered Deployment uses the gateway template', () => {
    const { dist } = synthTo(PRODUCTION);
    const objs = kustomize(path.join(dist, 'east', '06-migrate-workloads'));
    expect(objs.flatMap(crdProblems)).toEqual([]);
    const d = objs.find((o) => o.kind === 'Deployment' && o.metadata.name === 'istio-ingressgateway-ossm3')!;
    expect(d.spec.template.metadata.annotations).toEqual({ 'inject.istio.io/templates': 'gateway' });
    expect(d.spec.template.spec.containers[0]).toMatchObject({ name: 'istio-proxy', image: 'auto' });
    expect(d.spec.template.spec.containers[0].resources).toEqual({
      limits: { cpu: '2', memory: '1Gi' },
      requests: { cpu: '100m', memory: '128Mi' },
    });
  });
});

describe('Routes become explicit, IOR goes off (06)', () => {
  test('the routeConfig and IOR Routes are adopted under their names, same host and port, without Maistra labels', () => {
    const routes = of(6, 'adopted').filter((r) => r.ref.kind === 'Route');
    expect(routes.map((r) => `${r.ref.namespace}/${r.ref.name}`)).toEqual([
      'istio-system/istio-ingressgateway',
      'istio-system/client-bookinfo-gateway-6cb0b89a9686da22',
      'internal-gw/internal-ingressgateway',
    ]);
    const ior = routes[1].body as { metadata: Record<string, unknown>; spec: Record<string, unknown> };
    expect(ior.metadata.labels).toEqual({});
    // Kept through rollbacks and Application deletion: only the keep annotations.
    expect(ior.metadata.annotations).toEqual({
      'argocd.argoproj.io/sync-options': 'Prune=false,Delete=false',
      'argocd.argoproj.io/compare-options': 'IgnoreExtraneous',
      'kustomize.toolkit.fluxcd.io/prune': 'disabled',
    });
    expect(ior.spec).toMatchObject({
      host: 'bookinfo.apps.east.example.com',
      port: { targetPort: 'http2' },
      to: { name: 'istio-ingressgateway' },
    });
    expect(JSON.stringify(routes[0].body)).not.toMatch(/maistra\.io|ownerReferences|managed-by/);
  });
  test('the SMCP patch turns IOR off and keeps GitOps from pruning the SMCP', () => {
    const smcp = plan.byCluster.east[6].patches.filter((p) => p.type === 'merge' && p.target.kind === 'ServiceMeshControlPlane');
    const merged = Object.assign(
      {},
      ...smcp.map((p) => (p.type === 'merge' ? { ...(p.patch.spec as object), ...(p.patch.metadata as object) } : {})),
    );
    expect(merged).toMatchObject({
      gateways: { openshiftRoute: { enabled: false } },
      annotations: {
        'argocd.argoproj.io/sync-options': 'Prune=false,Delete=false',
        'argocd.argoproj.io/compare-options': 'IgnoreExtraneous',
        'kustomize.toolkit.fluxcd.io/prune': 'disabled',
      },
    });
  });
});

describe('the 07 hand-over', () => {
  test('Services are adopted without the operator labels and owner references; the Job checks, strips, then deletes the SMCP', () => {
    const services = of(7, 'adopted').filter((r) => r.ref.kind === 'Service');
    expect(services.map((r) => r.ref.name)).toEqual(['istio-ingressgateway', 'istio-egressgateway', 'internal-ingressgateway']);
    expect(JSON.stringify(services.map((s) => s.body))).not.toMatch(/maistra\.io\/owner|ownerReferences|managed-by/);
    const job = of(7, 'handoverJob')[0];
    const script = handoverScript(job);
    const order = [
      'kubectl rollout status deployments/istio-ingressgateway-ossm3',
      'kubectl get endpoints istio-ingressgateway',
      'kubectl label service istio-ingressgateway -n istio-system app.kubernetes.io/managed-by- maistra.io/owner- maistra.io/owner-name-',
      'kubectl label route istio-ingressgateway -n istio-system',
      'kubectl delete servicemeshcontrolplane basic -n istio-system',
      'kubectl get service istio-ingressgateway -n istio-system -o name',
    ].map((s) => script.indexOf(s));
    expect(order.every((i) => i >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    // The end state is checked, not kubectl's exit code: a label still there stops the Job before the deletion.
    expect(
      script.indexOf('labels.maistra\\.io/owner-name}\')" ] || { echo "meshfed: service istio-system/istio-ingressgateway still has label'),
    ).toBeGreaterThan(order[2]);
    expect(script.indexOf('still has label')).toBeLessThan(order[4]);
    // east's SMCP is ClusterWide: Maistra owns its member roll, which only the SMCP's deletion removes (garbage
    // collection) and Argo CD never prunes (owner references): waiting for it first would fail every time.
    // A roll the user made (MultiTenant) is pruned by 07 and waited for.
    expect(job.waitForMemberRoll).toBe(false);
    expect(script).not.toContain('servicemeshmemberroll');
    expect(handoverScript({ ...job, waitForMemberRoll: true })).toContain('kubectl get servicemeshmemberroll default -n istio-system');
    // Only what it touches, by name.
    const roles = of(7, 'handoverRole');
    expect(roles.find((r) => r.ref.namespace === 'istio-system')).toMatchObject({
      deployments: ['istio-ingressgateway-ossm3', 'istio-egressgateway-ossm3'],
      services: ['istio-ingressgateway', 'istio-egressgateway'],
      routes: ['istio-ingressgateway'],
      smcp: 'basic',
      memberRoll: false,
    });
  });
});

const mf019 = (m: FederationModel, p: Plan) => runChecks(m, p, ['MF019']).map((f) => `${f.phase}: ${f.problem}`);

describe('MF019 north-south continuity', () => {
  test('does not trigger on the production example', () => expect(mf019(model, plan)).toEqual([]));
  test('triggers when the renderer drops a gateway Deployment: nothing serves once the SMCP is gone', () =>
    expect(
      mf019(
        model,
        broken(plan, 'east', 6, (a) => a.filter((r) => r.ref.name !== 'istio-egressgateway-ossm3')),
      ),
    ).toEqual([
      '07-finalize: Service istio-system/istio-egressgateway has no gateway pods: neither the SMCP nor a meshfed gateway Deployment runs its pods.',
    ]));
  test('triggers when the hand-over Job is missing: the Services and Routes are pruned with the SMCP', () =>
    expect(
      mf019(
        model,
        broken(plan, 'east', 7, (a) => a.filter((r) => r.type !== 'handoverJob')),
      ),
    ).toEqual([
      expect.stringContaining('07-finalize: Service internal-gw/internal-ingressgateway is pruned with the SMCP'),
      expect.stringContaining('07-finalize: Service istio-system/istio-egressgateway is pruned with the SMCP'),
      expect.stringContaining('07-finalize: Service istio-system/istio-ingressgateway is pruned with the SMCP'),
    ]));
  test('triggers when the new pods lose a label a user Gateway selects, or when both injectors would act', () => {
    const noTeam = broken(plan, 'east', 6, (a) =>
      a.map((r) => {
        if (r.type !== 'gatewayDeployment' || r.ref.name !== 'istio-ingressgateway-ossm3') return r;
        const { team: _team, ...labels } = r.podLabels;
        return { ...r, podLabels: labels };
      }),
    );
    expect(mf019(model, noTeam)).toEqual([
      '06-migrate-workloads: Gateway client/edge-gateway selects {"team":"edge"}, which some of ' +
        "istio-system/istio-ingressgateway's pods lack: they serve none of its hosts.",
    ]);
    const noIgnore = broken(plan, 'east', 6, (a) => a.filter((r) => !(r.type === 'adopted' && r.ref.kind === 'Namespace')));
    expect(mf019(model, noIgnore)).toEqual(
      ['istio-egressgateway', 'istio-ingressgateway'].map(
        (g) =>
          `06-migrate-workloads: the pods of ${g}-ossm3 would be injected by the 2.6 injector too ` +
          '(namespace istio-system lacks maistra.io/ignore-namespace): they fail to start.',
      ),
    );
  });
  test('triggers on an additional SMCP gateway whose Service is not dumped (nothing to take over)', () => {
    const dir = copyTree(PRODUCTION);
    const file = path.join(dir, 'east', 'ossm2', 'gateways.yaml');
    const doc = parseDocument(fs.readFileSync(file, 'utf8'));
    const items = (doc.toJS() as { items: { kind: string; metadata: { name: string } }[] }).items.filter(
      (o) => !(o.kind === 'Service' && o.metadata.name === 'internal-ingressgateway'),
    );
    fs.writeFileSync(file, JSON.stringify({ apiVersion: 'v1', kind: 'List', items }));
    const found = analyse(dir).findings.filter(
      (f) => f.rule === 'MF019' || (f.rule === 'MF016' && f.problem.includes('internal-ingressgateway')),
    );
    expect(found.map((f) => `${f.rule} ${f.severity} ${f.phase}: ${f.problem}`)).toEqual([
      expect.stringMatching(
        /^MF016 warning 07-finalize: the SMCP runs gateway internal-ingressgateway; 07 deletes its Deployment, Service/,
      ),
      expect.stringMatching(/^MF019 error 07-finalize: Service internal-gw\/internal-ingressgateway is pruned with the SMCP/),
    ]);
    expect(found[1].fix).toBe('Dump its Service (oc get svc internal-ingressgateway -n internal-gw -o yaml) so meshfed can take it over.');
    // MF016 says both ways out, and where the SMCP change goes (the dump 00-federation renders, not the cluster).
    expect(found[0].fix).toContain(
      'meshfed takes an SMCP gateway over in 06 once the dumps hold its Service: dump it (oc get svc,deploy,route -n internal-gw -o yaml',
    );
    expect(found[0].fix).toContain(
      `in ${dir}/east/ossm2/smcp.yaml, set spec.gateways.additionalIngress.internal-ingressgateway.enabled: false in ` +
        'ServiceMeshControlPlane istio-system/basic (under spec, not status)',
    );
  });
});
