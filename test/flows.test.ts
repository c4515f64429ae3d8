/**
 * The flows a production SMCP carries besides the federation (lib/check/flows.ts, MF027) and the NetworkPolicies
 * that keep them (lib/plan/network-policies.ts): SMCP gateways in member namespaces, user-workload monitoring, the
 * addon consoles, the standalone Kiali and its monitoring binding.
 */
import * as fs from 'fs';
import * as path from 'path';

import { parseDocument } from 'yaml';

import { analyse, broken } from './support/analyse';
import { copyTree } from './support/fixtures';
import { runChecks } from '../lib/check';
import { flowsAt, judgeFlow, policiesAt } from '../lib/check/flows';
import { States } from '../lib/check/state';
import { FederationModel } from '../lib/model/types';
import { Plan, Resource } from '../lib/plan/types';

const PRODUCTION = path.join(__dirname, '..', 'examples', 'production-smcp', 'clusters');
const { model, plan } = analyse(PRODUCTION);
const east = model.meshes.find((m) => m.cluster === 'east')!;
const mf026 = (m: FederationModel, p: Plan) => runChecks(m, p, ['MF027']).map((f) => `${f.phase}: ${f.problem}`);
const without = (phase: number, drop: (r: Resource) => boolean) => broken(plan, 'east', phase, (adds) => adds.filter((r) => !drop(r)));

describe('the flows of the production example', () => {
  const states = new States(plan);
  const at = (phase: Parameters<States['get']>[1]) => {
    const state = states.get('east', phase);
    const policies = policiesAt(east, state);
    return flowsAt(east, state).map(
      (f) => `${f.key} ${judgeFlow(east, state, f, policies) ? 'denied' : 'allowed'} (${f.pods.length} pod sets)`,
    );
  };

  test('at 00: the router to every SMCP ingress gateway and addon console, the API server to istiod, Prometheus to the proxies', () => {
    expect(at('00-federation')).toEqual([
      'the OpenShift router (pod network)|gateway istio-system/istio-ingressgateway allowed (1 pod sets)',
      'the OpenShift router (host network)|gateway istio-system/istio-ingressgateway allowed (1 pod sets)',
      'the OpenShift router (pod network)|gateway internal-gw/internal-ingressgateway allowed (1 pod sets)',
      'the OpenShift router (host network)|gateway internal-gw/internal-ingressgateway allowed (1 pod sets)',
      'api-server|istiod basic allowed (1 pod sets)',
      'smcp-prometheus|proxies client allowed (1 pod sets)',
      'smcp-prometheus|proxies internal-gw allowed (1 pod sets)',
      'smcp-prometheus|proxies istio-system allowed (2 pod sets)',
      'the OpenShift router (pod network)|console kiali allowed (1 pod sets)',
      'the OpenShift router (host network)|console kiali allowed (1 pod sets)',
      'the OpenShift router (pod network)|console grafana allowed (1 pod sets)',
      'the OpenShift router (host network)|console grafana allowed (1 pod sets)',
      'the OpenShift router (pod network)|console prometheus allowed (1 pod sets)',
      'the OpenShift router (host network)|console prometheus allowed (1 pod sets)',
      'the OpenShift router (pod network)|console jaeger allowed (1 pod sets)',
      'the OpenShift router (host network)|console jaeger allowed (1 pod sets)',
    ]);
  });

  test('at 06: old and taken-over gateway pods, both istiods, user-workload monitoring, both Kialis — all admitted', () => {
    const flows = at('06-migrate-workloads');
    expect(flows).toEqual(
      expect.arrayContaining([
        'the OpenShift router (host network)|gateway internal-gw/internal-ingressgateway allowed (2 pod sets)',
        'api-server|istiod default-v1-27-3 allowed (1 pod sets)',
        'uwm|istiod default-v1-27-3 allowed (1 pod sets)',
        'uwm|proxies client allowed (1 pod sets)',
        'uwm|proxies internal-gw allowed (2 pod sets)',
        'the OpenShift router (pod network)|console kiali allowed (1 pod sets)',
        'the OpenShift router (pod network)|console kiali-ossm3 allowed (1 pod sets)',
      ]),
    );
    expect(flows.filter((f) => f.includes('denied'))).toEqual([]);
  });
});

describe('MF027 flows through NetworkPolicies', () => {
  test('does not trigger on the production example', () => expect(mf026(model, plan)).toEqual([]));

  test('triggers without the policy for an SMCP gateway in a member namespace: the router loses it from 01', () => {
    const found = mf026(
      model,
      without(1, (r) => r.ref.name === 'meshfed-gateway-internal-ingressgateway'),
    );
    expect(found).toEqual(
      ['host', 'pod'].map(
        (n) =>
          `01-prepare: the OpenShift router (${n} network) → the gateway internal-gw/internal-ingressgateway, port 8080: the SMCP's pods of ` +
          'internal-gw/internal-ingressgateway are isolated by NetworkPolicy internal-gw/meshfed-mesh ' +
          'and none admits it (it works at 00-federation).',
      ),
    );
    const finding = runChecks(
      model,
      without(1, (r) => r.ref.name === 'meshfed-gateway-internal-ingressgateway'),
      ['MF027'],
    )[0];
    expect(finding).toMatchObject({ severity: 'error', cluster: 'east' });
    expect(finding.fix).toContain("as Maistra's NetworkPolicy internal-ingressgateway did");
  });

  test('triggers without the user-workload monitoring policy: the PodMonitors of 05 scrape nothing (the open gateway pods excepted)', () => {
    const found = mf026(
      model,
      without(5, (r) => r.ref.name === 'meshfed-user-workload-monitoring'),
    );
    expect(found).toEqual([
      "05-install-ossm3: user-workload monitoring → the proxies' metrics in client (PodMonitor client/istio-proxies-monitor), port 15020: " +
        'the pods of Deployment client/curl are isolated by NetworkPolicy client/meshfed-mesh ' +
        'and none admits it (a flow meshfed adds after 00-federation).',
    ]);
  });

  test('triggers without the addon policies: the router loses the consoles from 01, and the standalone Kiali from 05', () => {
    expect(
      mf026(
        model,
        without(1, (r) => r.ref.name === 'meshfed-addon-kiali'),
      ),
    ).toEqual(
      ['host', 'pod'].map(
        (n) =>
          `01-prepare: the OpenShift router (${n} network) → the kiali console (its Route), port 20001: the SMCP's kiali pods are isolated by ` +
          'NetworkPolicy istio-system/meshfed-mesh and none admits it (it works at 00-federation).',
      ),
    );
    // The standalone Kiali's pods carry app: kiali too: either policy admits them until 07 deletes the addon's.
    expect(
      mf026(
        model,
        without(5, (r) => r.ref.name === 'meshfed-kiali-ossm3'),
      ),
    ).toEqual(
      ['host', 'pod'].map(
        (n) =>
          `07-finalize: the OpenShift router (${n} network) → the kiali-ossm3 console (its Route), port 20001: the pods of Kiali ` +
          'istio-system/kiali-ossm3 are isolated by NetworkPolicy istio-system/meshfed-mesh, ' +
          'NetworkPolicy istio-system/meshfed-user-workload-monitoring and none admits it (a flow meshfed adds after 00-federation).',
      ),
    );
    const neither = broken(
      without(1, (r) => r.ref.name === 'meshfed-addon-kiali'),
      'east',
      5,
      (adds) => adds.filter((r) => r.ref.name !== 'meshfed-kiali-ossm3'),
    );
    expect(mf026(model, neither).filter((f) => f.startsWith('05'))).toEqual(
      ['host', 'pod'].map(
        (n) =>
          `05-install-ossm3: the OpenShift router (${n} network) → the kiali-ossm3 console (its Route), port 20001: the pods of Kiali ` +
          'istio-system/kiali-ossm3 are isolated by NetworkPolicy istio-system/meshfed-mesh, ' +
          'NetworkPolicy istio-system/meshfed-user-workload-monitoring ' +
          'and none admits it (a flow meshfed adds after 00-federation).',
      ),
    );
  });

  test('triggers without the standalone Kiali’s cluster-monitoring-view binding: Thanos refuses its token from 05', () => {
    expect(
      mf026(
        model,
        without(5, (r) => r.ref.name === 'kiali-ossm3-istio-system-monitoring'),
      ),
    ).toEqual([
      "05-install-ossm3: the standalone Kiali istio-system/kiali-ossm3 → the cluster's Thanos querier: it reads metrics with its own " +
        'token, and no ClusterRoleBinding gives its ServiceAccount cluster-monitoring-view (its graphs and health stay empty).',
    ]);
  });

  test('triggers when a meshfed policy stops admitting istiod: the API server loses the webhooks', () => {
    const closed = broken(plan, 'east', 1, (adds) =>
      adds.map((r) =>
        r.type === 'networkPolicy' && r.ref.name === 'meshfed-istiod' ? { ...r, from: { namespaces: ['istio-system'] } } : r,
      ),
    );
    expect(mf026(model, closed)).toEqual([
      expect.stringMatching(
        /^01-prepare: the API server → istiod-basic's webhooks, port 15017: the pods of the SMCP's istiod-basic are isolated/,
      ),
      expect.stringMatching(
        /^05-install-ossm3: the API server → istiod-default-v1-27-3's webhooks, port 15017: .* \(a flow meshfed adds after 00-federation\)\.$/,
      ),
    ]);
  });

  test('does not trigger when the cluster manages its own NetworkPolicies (spec.networkPolicies.render: false)', () => {
    const mesh = { ...east, settings: { ...east.settings, networkPolicies: { ...east.settings.networkPolicies, render: false } } };
    const m = { ...model, meshes: model.meshes.map((x) => (x === east ? mesh : x)) };
    const p = without(1, (r) => r.type === 'networkPolicy');
    expect(
      mf026(
        m,
        broken(p, 'east', 5, (adds) => adds.filter((r) => r.type !== 'networkPolicy')),
      ),
    ).toEqual([]);
  });
});

describe('the policies and the binding meshfed renders', () => {
  const names = (phase: number, type: Resource['type']) =>
    plan.byCluster.east[phase].adds.filter((r) => r.type === type).map((r) => `${r.ref.namespace ?? ''}/${r.ref.name}`);

  test('01: the internal gateway open as Maistra had it, and each addon console', () => {
    expect(names(1, 'networkPolicy').filter((n) => !/meshfed-(mesh|expose-route|istiod|gateways|gateway-api)/.test(n))).toEqual([
      'internal-gw/meshfed-gateway-internal-ingressgateway',
      'istio-system/meshfed-addon-kiali',
      'istio-system/meshfed-addon-grafana',
      'istio-system/meshfed-addon-prometheus',
      'istio-system/meshfed-addon-jaeger-all-in-one',
      'istio-system/meshfed-addon-jaeger-query',
    ]);
    const gw = plan.byCluster.east[1].adds.find((r) => r.ref.name === 'meshfed-gateway-internal-ingressgateway');
    expect(gw).toMatchObject({ podLabels: { app: 'internal-ingressgateway' }, from: 'anywhere' });
  });

  test('07: the addon policies go with the addons (kept, they would open any later pod with those labels)', () => {
    expect(plan.byCluster.east[7].deletes.filter((r) => r.kind === 'NetworkPolicy').map((r) => `${r.namespace}/${r.name}`)).toEqual([
      'istio-system/meshfed-addon-kiali',
      'istio-system/meshfed-addon-grafana',
      'istio-system/meshfed-addon-prometheus',
      'istio-system/meshfed-addon-jaeger-all-in-one',
      'istio-system/meshfed-addon-jaeger-query',
    ]);
  });

  test('05: user-workload monitoring wherever a monitor is, the standalone Kiali, and its cluster-monitoring-view binding', () => {
    expect(names(5, 'networkPolicy')).toEqual([
      'client/meshfed-user-workload-monitoring',
      'internal-gw/meshfed-user-workload-monitoring',
      'istio-system/meshfed-user-workload-monitoring',
      'istio-system/meshfed-kiali-ossm3',
    ]);
    expect(plan.byCluster.east[5].adds.filter((r) => r.type === 'clusterRoleBinding')).toEqual([
      {
        type: 'clusterRoleBinding',
        ref: { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', name: 'kiali-ossm3-istio-system-monitoring' },
        clusterRole: 'cluster-monitoring-view',
        serviceAccount: { apiVersion: 'v1', kind: 'ServiceAccount', name: 'kiali-ossm3-service-account', namespace: 'istio-system' },
      },
    ]);
  });
});

describe('MF028 imports visible to the gateways that route to them', () => {
  /** The production example with the bookinfo VirtualService (on the SMCP ingress gateway) routed to an imported host. */
  function routedToImport(exportTo?: string[]): string {
    const dir = copyTree(PRODUCTION);
    const file = path.join(dir, 'east', 'ossm2', 'gateway-config.yaml');
    const text = fs.readFileSync(file, 'utf8');
    const next = text.replace('host: curl.client.svc.cluster.local', 'host: httpbin.a.svc.west-mesh-imports.local');
    if (next === text) throw new Error('the bookinfo route is not in gateway-config.yaml');
    fs.writeFileSync(file, next);
    if (exportTo) {
      const settings = path.join(dir, 'east', 'cluster.yaml');
      const doc = parseDocument(fs.readFileSync(settings, 'utf8'));
      doc.setIn(['spec', 'importedServices', 'exportTo'], exportTo);
      fs.writeFileSync(settings, doc.toString());
    }
    return dir;
  }
  const mf027 = (dir: string) => analyse(dir).findings.filter((f) => f.rule === 'MF028');

  test('triggers when the imports are visible only to the members: the SMCP gateway in istio-system loses the host at 04', () => {
    const found = mf027(routedToImport(['client', 'internal-gw']));
    expect(found.map((f) => `${f.severity} ${f.phase}: ${f.problem}`)).toEqual([
      'error 04-remove-federation: VirtualService client/bookinfo routes the Gateway client/bookinfo-gateway (the SMCP gateway pods in ' +
        'istio-system) to the imported host httpbin.a.svc.west-mesh-imports.local, but ServiceEntry ' +
        'istio-system/httpbin-a-svc-west-mesh-imports-local is visible only to ["client","internal-gw"]: the gateway has no route for it ' +
        'once the federation is gone.',
    ]);
    expect(found[0].fix).toBe(
      'Add "istio-system" to spec.importedServices.exportTo in this cluster\'s cluster.yaml (or leave it unset: the default includes it).',
    );
    expect(found[0].location?.file).toMatch(/gateway-config\.yaml$/);
  });

  test('does not trigger with the default exportTo: the members and the control plane namespace, as Maistra made imports visible', () => {
    const dir = routedToImport();
    expect(mf027(dir)).toEqual([]);
    const { model: m } = analyse(dir);
    expect(m.meshes.find((x) => x.cluster === 'east')!.importExportTo).toEqual(['client', 'internal-gw', 'istio-system']);
  });
});

describe("MF027 and the users' own NetworkPolicies", () => {
  const MEMBER_OF = "{matchLabels: {'maistra.io/member-of': istio-system}}";
  const BY_NAME = '{matchExpressions: [{key: kubernetes.io/metadata.name, operator: In, values: [a, b, istio-system]}]}';
  /**
   * The production example with a user's NetworkPolicy on west's httpbin pods (dumped with the workloads): in namespace
   * a for ingress from `namespaceSelector`, in namespace b for egress to it; `render: false`: west manages its own.
   */
  function withUserPolicy(namespaceSelector: string, opts: { egress?: boolean; render?: false } = {}): string {
    const dir = copyTree(PRODUCTION);
    const file = path.join(dir, 'west', 'ossm2', 'workloads.yaml');
    const policy = [
      '- apiVersion: networking.k8s.io/v1',
      '  kind: NetworkPolicy',
      '  metadata:',
      `    name: ${opts.egress ? 'to-mesh' : 'allow-mesh'}`,
      `    namespace: ${opts.egress ? 'b' : 'a'}`,
      '  spec:',
      '    podSelector:',
      '      matchLabels:',
      '        app: httpbin',
      `    policyTypes: [${opts.egress ? 'Egress' : 'Ingress'}]`,
      `    ${opts.egress ? 'egress' : 'ingress'}:`,
      `    - ${opts.egress ? 'to' : 'from'}:`,
      `      - namespaceSelector: ${namespaceSelector}`,
      '',
    ].join('\n');
    const text = fs.readFileSync(file, 'utf8');
    if (!/^items:\n/m.test(text)) throw new Error('workloads.yaml is not a List');
    fs.writeFileSync(file, text.replace(/^items:\n/m, `items:\n${policy}`));
    if (opts.render === false) fs.appendFileSync(path.join(dir, 'west', 'cluster.yaml'), '  networkPolicies:\n    render: false\n');
    return dir;
  }
  const mf027 = (dir: string) => analyse(dir).findings.filter((f) => f.rule === 'MF027');

  test('loads the dumped policy as a user policy of the mesh', () => {
    const { model: m } = analyse(withUserPolicy(MEMBER_OF));
    expect(m.meshes.find((x) => x.cluster === 'west')!.inventory.networkPolicies.map((p) => `${p.namespace}/${p.name}`)).toEqual([
      'a/allow-mesh',
    ]);
  });

  test('triggers on ingress from maistra.io/member-of: the mesh clients lose the server when 06 takes a out of the roll (render: false)', () => {
    const found = mf027(withUserPolicy(MEMBER_OF, { render: false }));
    expect(found.map((f) => `${f.severity} ${f.cluster} ${f.phase}: ${f.problem}`)).toEqual([
      'error west 06-migrate-workloads: the mesh client Deployment a/httpbin → Service a/httpbin, port 8080: the pods of Deployment a/httpbin ' +
        'are isolated by your NetworkPolicy a/allow-mesh and none admits it: at 06-migrate-workloads namespace a has ' +
        'maistra.io/member-of=istio-system removed (the namespace leaves the member roll, and Maistra removes member-of) ' +
        '(it works at 00-federation).',
    ]);
    expect(found[0].fix).toBe(
      'before 06-migrate-workloads, let NetworkPolicy a/allow-mesh select peers on labels every phase keeps: add a namespaceSelector on ' +
        'kubernetes.io/metadata.name (operator In, values a, b, istio-system), or on istio.io/rev: default-v1-27-3 (06 sets it on the ' +
        'migrated namespaces), beside the maistra.io/member-of one. meshfed does not change your NetworkPolicies.',
    );
  });

  test('does not trigger on the same policy written on kubernetes.io/metadata.name', () => {
    expect(mf027(withUserPolicy(BY_NAME, { render: false }))).toEqual([]);
  });

  test("does not trigger while meshfed renders the isolation: meshfed-mesh admits the mesh's namespaces by name (policies add up)", () => {
    expect(mf027(withUserPolicy(MEMBER_OF))).toEqual([]);
  });

  test('triggers on an egress policy to maistra.io/member-of, which no policy of meshfed widens', () => {
    const found = mf027(withUserPolicy(MEMBER_OF, { egress: true }));
    expect(found.map((f) => `${f.phase}: ${f.problem}`)).toEqual([
      '06-migrate-workloads: the mesh client Deployment b/httpbin → Service a/httpbin, port 8080: its pods are isolated by your NetworkPolicy ' +
        'b/to-mesh and none admits it: at 06-migrate-workloads namespace a has maistra.io/member-of=istio-system removed (the namespace leaves ' +
        'the member roll, and Maistra removes member-of) (it works at 00-federation).',
      '06-migrate-workloads: the mesh client Deployment b/httpbin → Service b/httpbin, port 8080: its pods are isolated by your NetworkPolicy ' +
        'b/to-mesh and none admits it: at 06-migrate-workloads namespace b has maistra.io/member-of=istio-system removed (the namespace leaves ' +
        'the member roll, and Maistra removes member-of) (it works at 00-federation).',
    ]);
    expect(mf027(withUserPolicy(BY_NAME, { egress: true }))).toEqual([]);
  });
});
