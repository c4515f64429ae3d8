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
  test("the new pods run as the SMCP gateway's ServiceAccount (its SPIFFE identity); 06 renders no ServiceAccount or budget", () => {
    expect(of(6, 'gatewayDeployment').map((d) => `${d.serviceAccount.namespace}/${d.serviceAccount.name}`)).toEqual([
      'istio-system/istio-ingressgateway-service-account',
      'istio-system/istio-egressgateway-service-account',
      'internal-gw/internal-ingressgateway-service-account',
    ]);
    expect(
      of(6, 'roleBinding')
        .filter((r) => r.ref.name.endsWith('-ossm3'))
        .map((r) => r.serviceAccount.name),
    ).toEqual(['istio-ingressgateway-service-account', 'istio-egressgateway-service-account', 'internal-ingressgateway-service-account']);
    expect(adds(6).filter((r) => r.ref.kind === 'ServiceAccount' && r.ref.name.endsWith('-ossm3'))).toEqual([]);
    expect(adds(6).filter((r) => r.ref.kind === 'PodDisruptionBudget')).toEqual([]);
  });
  test("the SMCP gateway's own volumes: the chart's secretVolumes when the dump shows none, the dumped ones, the SMCP's volumes", () => {
    // The example's Deployment dump is abridged (no volumes): the chart's defaults, which every 2.6 gateway pod mounts.
    expect(of(6, 'gatewayDeployment')[0].volumes).toEqual([
      {
        volume: { name: 'ingressgateway-certs', secret: { secretName: 'istio-ingressgateway-certs', optional: true } },
        mount: { name: 'ingressgateway-certs', mountPath: '/etc/istio/ingressgateway-certs', readOnly: true },
      },
      {
        volume: { name: 'ingressgateway-ca-certs', secret: { secretName: 'istio-ingressgateway-ca-certs', optional: true } },
        mount: { name: 'ingressgateway-ca-certs', mountPath: '/etc/istio/ingressgateway-ca-certs', readOnly: true },
      },
    ]);
    expect(of(6, 'gatewayDeployment')[1].volumes!.map((v) => v.volume.name)).toEqual(['egressgateway-certs', 'egressgateway-ca-certs']);
    const dir = copyTree(PRODUCTION);
    // A full dump of the ingress gateway's Deployment: the proxy's own volumes stay the injector's, the others are carried.
    const gateways = path.join(dir, 'east', 'ossm2', 'gateways.yaml');
    const text = fs.readFileSync(gateways, 'utf8');
    const full = text.replace(
      '        serviceAccountName: istio-ingressgateway-service-account\n',
      [
        '        serviceAccountName: istio-ingressgateway-service-account',
        '        volumes:',
        '        - name: istio-envoy',
        '          emptyDir: {}',
        '        - name: config-volume',
        '          configMap: {name: istio-basic, optional: true}',
        '        - name: edge-tls',
        '          secret: {secretName: edge-tls, defaultMode: 420}',
        '        - name: extra',
        '          configMap: {name: extra}',
        '',
      ].join('\n'),
    );
    const mounts = full.replace(
      '          resources:\n            limits:\n              cpu: "2"',
      [
        '          volumeMounts:',
        '          - {name: istio-envoy, mountPath: /etc/istio/proxy}',
        '          - {name: edge-tls, mountPath: /etc/istio/edge-tls, readOnly: true}',
        '          resources:',
        '            limits:',
        '              cpu: "2"',
      ].join('\n'),
    );
    expect(mounts).not.toBe(full);
    fs.writeFileSync(gateways, mounts);
    // The SMCP's volumes for the internal gateway (spec and appliedSpec): its Secrets replace the chart's.
    const smcpFile = path.join(dir, 'east', 'ossm2', 'smcp.yaml');
    const smcp = fs
      .readFileSync(smcpFile, 'utf8')
      .replace(
        /(\n( +)internal-ingressgateway:\n)/g,
        '$1$2  volumes:\n$2  - volume: {secret: {secretName: internal-tls}}\n$2    volumeMount: {name: internal-tls, mountPath: /etc/internal-tls}\n',
      );
    fs.writeFileSync(smcpFile, smcp);
    const again = analyse(dir).plan.byCluster.east[6].adds.filter((r) => r.type === 'gatewayDeployment');
    expect(again[0].volumes).toEqual([
      {
        volume: { name: 'edge-tls', secret: { secretName: 'edge-tls', defaultMode: 420 } },
        mount: { name: 'edge-tls', mountPath: '/etc/istio/edge-tls', readOnly: true },
      },
      { volume: { name: 'extra', configMap: { name: 'extra' } } },
    ]);
    expect(again[2].volumes).toEqual([
      {
        volume: { name: 'internal-tls', secret: { secretName: 'internal-tls', optional: true } },
        mount: { name: 'internal-tls', mountPath: '/etc/internal-tls', readOnly: true },
      },
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
    expect(d.spec.template.spec.serviceAccountName).toBe('istio-ingressgateway-service-account');
    expect(d.spec.template.spec.volumes.map((v: { name: string }) => v.name)).toEqual(['ingressgateway-certs', 'ingressgateway-ca-certs']);
    expect(d.spec.template.spec.containers[0].volumeMounts).toEqual([
      { name: 'ingressgateway-certs', mountPath: '/etc/istio/ingressgateway-certs', readOnly: true },
      { name: 'ingressgateway-ca-certs', mountPath: '/etc/istio/ingressgateway-ca-certs', readOnly: true },
    ]);
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

describe('the 07 hand-over keeps the gateway identity and one disruption budget', () => {
  test("the gateways' ServiceAccounts are adopted and stripped like the Services, and must still be there at the end", () => {
    const accounts = of(7, 'adopted').filter((r) => r.ref.kind === 'ServiceAccount');
    expect(accounts.map((r) => `${r.ref.namespace}/${r.ref.name}`)).toEqual([
      'istio-system/istio-ingressgateway-service-account',
      'istio-system/istio-egressgateway-service-account',
      'internal-gw/internal-ingressgateway-service-account',
    ]);
    expect(accounts[0].body).toEqual({
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: {
        name: 'istio-ingressgateway-service-account',
        namespace: 'istio-system',
        labels: {},
        annotations: {
          'argocd.argoproj.io/sync-options': 'Prune=false,Delete=false',
          'argocd.argoproj.io/compare-options': 'IgnoreExtraneous',
          'kustomize.toolkit.fluxcd.io/prune': 'disabled',
        },
      },
    });
    const script = handoverScript(of(7, 'handoverJob')[0]);
    const strip = script.indexOf(
      'kubectl label serviceaccount istio-ingressgateway-service-account -n istio-system app.kubernetes.io/managed-by- maistra.io/owner-',
    );
    expect(strip).toBeGreaterThan(0);
    expect(strip).toBeLessThan(script.indexOf('kubectl delete servicemeshcontrolplane basic'));
    expect(script.indexOf('kubectl get serviceaccount internal-ingressgateway-service-account -n internal-gw -o name')).toBeGreaterThan(
      script.indexOf('kubectl delete servicemeshcontrolplane basic'),
    );
    expect(of(7, 'handoverRole').find((r) => r.ref.namespace === 'internal-gw')).toMatchObject({
      serviceAccounts: ['internal-ingressgateway-service-account'],
      disruptionBudgets: [],
    });
    // The example's SMCP renders no budgets: none is handed over.
    expect(adds(7).filter((r) => r.ref.kind === 'PodDisruptionBudget')).toEqual([]);
  });
  test("with the SMCP's budgets on, 07 hands its budget of each gateway over instead of adding a second one", () => {
    const dir = copyTree(PRODUCTION);
    const file = path.join(dir, 'east', 'ossm2', 'smcp.yaml');
    const text = fs.readFileSync(file, 'utf8');
    const on = text.replace(/(podDisruption:\n\s+enabled: )false/, '$1true');
    expect(on).not.toBe(text);
    fs.writeFileSync(file, on);
    const p = analyse(dir).plan;
    expect(p.byCluster.east[6].adds.filter((r) => r.ref.kind === 'PodDisruptionBudget')).toEqual([]);
    const budgets = p.byCluster.east[7].adds.filter(
      (r): r is Extract<Resource, { type: 'adopted' }> => r.type === 'adopted' && r.ref.kind === 'PodDisruptionBudget',
    );
    expect(budgets.map((r) => `${r.ref.namespace}/${r.ref.name}`)).toEqual([
      'istio-system/istio-ingressgateway',
      'istio-system/istio-egressgateway',
      'internal-gw/internal-ingressgateway',
    ]);
    expect(budgets[0].body.spec).toEqual({
      minAvailable: 1,
      selector: { matchLabels: { app: 'istio-ingressgateway', istio: 'ingressgateway' } },
    });
    const job = p.byCluster.east[7].adds.find((r) => r.type === 'handoverJob')!;
    expect(handoverScript(job as Extract<Resource, { type: 'handoverJob' }>)).toContain(
      'kubectl label poddisruptionbudget istio-ingressgateway -n istio-system app.kubernetes.io/managed-by-',
    );
  });
});

const mf019 = (m: FederationModel, p: Plan) => runChecks(m, p, ['MF019']).map((f) => `${f.phase}: ${f.problem}`);

/** The production example with an AuthorizationPolicy admitting only the ingress gateway and a DestinationRule pinning the egress gateway. */
function withIdentityPolicies(): string {
  const dir = copyTree(PRODUCTION);
  fs.writeFileSync(
    path.join(dir, 'east', 'ossm2', 'identity-policies.yaml'),
    [
      'apiVersion: v1',
      'kind: List',
      'items:',
      '- apiVersion: security.istio.io/v1',
      '  kind: AuthorizationPolicy',
      '  metadata: {name: only-via-ingress, namespace: client}',
      '  spec:',
      '    action: ALLOW',
      '    rules:',
      '    - from:',
      '      - source:',
      '          principals: [cluster.local/ns/istio-system/sa/istio-ingressgateway-service-account, east.local/ns/istio-system/sa/*]',
      '- apiVersion: networking.istio.io/v1',
      '  kind: DestinationRule',
      '  metadata: {name: egress-gateway, namespace: client}',
      '  spec:',
      '    host: istio-egressgateway.istio-system.svc.cluster.local',
      '    trafficPolicy:',
      '      tls:',
      '        mode: ISTIO_MUTUAL',
      '        subjectAltNames: [spiffe://east.local/ns/istio-system/sa/istio-egressgateway-service-account]',
      '',
    ].join('\n'),
  );
  return dir;
}

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
  test('a `when: source.principal` condition tells the identities apart as principals do (istio@1.27.3 model.go:85-118)', () => {
    const dir = withIdentityPolicies();
    const file = path.join(dir, 'east', 'ossm2', 'identity-policies.yaml');
    const text = fs.readFileSync(file, 'utf8');
    const next = text.replace(
      '    - from:\n      - source:\n          principals: [',
      '    - when:\n      - key: source.principal\n        values: [',
    );
    expect(next).not.toBe(text);
    fs.writeFileSync(file, next);
    const a = analyse(dir);
    const renamed = broken(a.plan, 'east', 6, (adds) =>
      adds.map((r): Resource => (r.type === 'gatewayDeployment' ? { ...r, serviceAccount: { ...r.serviceAccount, name: r.ref.name } } : r)),
    );
    expect(runChecks(a.model, renamed, ['MF019']).map((f) => f.problem)).toContainEqual(
      expect.stringContaining(
        'AuthorizationPolicy client/only-via-ingress (when source.principal values: ' +
          'cluster.local/ns/istio-system/sa/istio-ingressgateway-service-account) tells apart',
      ),
    );
  });
  test("triggers when the new pods run as a new identity that a dumped policy tells apart, or the SMCP's ServiceAccount is pruned", () => {
    const a = analyse(withIdentityPolicies());
    expect(mf019(a.model, a.plan)).toEqual([]);
    // What meshfed rendered before: a ServiceAccount of their own (`<gateway>-ossm3`) for the new pods.
    const renamed = broken(a.plan, 'east', 6, (adds) =>
      adds.flatMap((r): Resource[] =>
        r.type === 'gatewayDeployment'
          ? [
              { type: 'serviceAccount', ref: { ...r.serviceAccount, name: r.ref.name } },
              { ...r, serviceAccount: { ...r.serviceAccount, name: r.ref.name } },
            ]
          : [r],
      ),
    );
    const found = runChecks(a.model, renamed, ['MF019']);
    expect(found.map((f) => `${f.phase}: ${f.problem}`)).toEqual([
      '06-migrate-workloads: the pods of istio-egressgateway-ossm3 run as ServiceAccount istio-egressgateway-ossm3, not ' +
        "istio-egressgateway-service-account as istio-system/istio-egressgateway's pods do: a new identity, which DestinationRule " +
        'client/egress-gateway (subjectAltNames: spiffe://east.local/ns/istio-system/sa/istio-egressgateway-service-account) tells ' +
        'apart, so requests the new pods serve are rejected (a share of them while both run, all once the SMCP is gone).',
      '06-migrate-workloads: the pods of istio-ingressgateway-ossm3 run as ServiceAccount istio-ingressgateway-ossm3, not ' +
        "istio-ingressgateway-service-account as istio-system/istio-ingressgateway's pods do: a new identity, which AuthorizationPolicy " +
        'client/only-via-ingress (principals: cluster.local/ns/istio-system/sa/istio-ingressgateway-service-account) tells apart, so ' +
        'requests the new pods serve are rejected (a share of them while both run, all once the SMCP is gone).',
    ]);
    // The policy's own line, for the user to find it.
    expect(found[1].location).toMatchObject({ file: expect.stringMatching(/identity-policies\.yaml$/), line: 12 });
    expect(found[0].location).toMatchObject({ line: 21, field: 'spec.trafficPolicy.tls.subjectAltNames[0]' });
    const notHanded = broken(a.plan, 'east', 7, (adds) =>
      adds.map((r) => (r.type === 'handoverJob' ? { ...r, targets: r.targets.map((t) => ({ ...t, serviceAccount: 'nothing' })) } : r)),
    );
    expect(mf019(a.model, notHanded)).toEqual(
      [
        ['internal-gw', 'internal-ingressgateway'],
        ['istio-system', 'istio-egressgateway'],
        ['istio-system', 'istio-ingressgateway'],
      ].map(
        ([ns, g]) =>
          `07-finalize: ServiceAccount ${ns}/${g}-service-account, the identity of ${g}-ossm3's pods, is pruned with the SMCP ` +
          "(it still carries the operator's labels): the pods' tokens stop being valid and no new pod can start.",
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

test('the 06 restart ClusterRole may patch only the Namespaces it relabels, never one Git labels (the control plane’s)', () => {
  const roles = of(6, 'namespaceRelabelRole');
  expect(roles.length).toBeGreaterThan(0);
  for (const r of roles) expect(r.namespaces).not.toContain('istio-system');
  // Git adopts istio-system with maistra.io/ignore-namespace in the same phase, before the Job runs.
  const ns = adds(6).find((r) => r.type === 'adopted' && r.ref.kind === 'Namespace' && r.ref.name === 'istio-system');
  expect(ns?.type === 'adopted' && (ns.body.metadata as any).labels['maistra.io/ignore-namespace']).toBe('true');
});
