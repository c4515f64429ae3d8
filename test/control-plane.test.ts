/**
 * The real control plane (issue: carry over everything the SMCP does): the SMCP → Istio mapping table,
 * the objects that replace settings, and the rules that guard them (MF015–MF018), on the production-SMCP
 * example and on renderers broken on purpose.
 */
import * as fs from 'fs';
import * as path from 'path';

import { parseDocument, stringify } from 'yaml';

import { analyse, broken } from './support/analyse';
import { copyTree, EXAMPLE_CLUSTERS } from './support/fixtures';
import { crdProblems } from './support/kube';
import { runChecks } from '../lib/check';
import { Diagnostics } from '../lib/diagnostics';
import { JsonObject } from '../lib/json';
import { loadClusters } from '../lib/load/clusters';
import { buildModel } from '../lib/model/federation';
import { FederationModel } from '../lib/model/types';
import { istioValues } from '../lib/plan/istio-values';
import { buildPlan } from '../lib/plan/plan';
import { SAIL_VALUES, undeclaredPaths, valuesTree } from '../lib/plan/sail-values';
import { accountSettings, at, SETTING_RULES } from '../lib/plan/smcp-settings';
import { Plan, Resource } from '../lib/plan/types';

const PRODUCTION = path.join(__dirname, '..', 'examples', 'production-smcp', 'clusters');

/** Edit east's SMCP dump (spec and status.appliedSpec alike) in a copy of the production example. */
function productionWith(edit: (spec: JsonObject) => void, extra?: unknown[]): string {
  const dir = copyTree(PRODUCTION);
  const file = path.join(dir, 'east', 'ossm2', 'smcp.yaml');
  const smcp = parseDocument(fs.readFileSync(file, 'utf8')).toJS() as { spec: JsonObject; status: { appliedSpec: JsonObject } };
  edit(smcp.spec);
  edit(smcp.status.appliedSpec);
  fs.writeFileSync(file, stringify(smcp));
  if (extra) fs.writeFileSync(path.join(dir, 'east', 'ossm2', 'extra.yaml'), extra.map((o) => stringify(o)).join('---\n'));
  return dir;
}

const account = (spec: JsonObject) => accountSettings(spec, 'status.appliedSpec', new Set());
const fateOf = (spec: JsonObject, p: string) => account(spec).fates.find((f) => f.path === p);

describe('the SMCP → Istio mapping table', () => {
  test('has one rule per path', () => {
    const paths = SETTING_RULES.map((r) => r.path);
    expect(paths.filter((p, i) => paths.indexOf(p) !== i)).toEqual([]);
  });
  test("corrects Red Hat's published table where it is wrong", () => {
    // security.dataPlane.mtls → meshMTLS.enabled does not exist: a PeerAuthentication instead.
    expect(fateOf({ security: { dataPlane: { mtls: true } } }, 'security.dataPlane.mtls')).toMatchObject({ fate: 'object' });
    expect(JSON.stringify(account({ security: { dataPlane: { mtls: true } } }).values)).not.toContain('meshMTLS');
    // spec.meshConfig.* is spec.values.meshConfig.*.
    const providers = [{ name: 'otel', opentelemetry: { service: 'otel.o.svc.cluster.local', port: 4317 } }];
    expect(account({ meshConfig: { extensionProviders: providers } }).values.meshConfig).toMatchObject({ extensionProviders: providers });
    // componentLevels is a map in 2.6 and one string in OSSM 3, not global.logging.levels.
    expect(account({ general: { logging: { componentLevels: { default: 'info', ads: 'debug' } } } }).values.global).toMatchObject({
      logging: { level: 'ads:debug,default:info' },
    });
    // The proxy's log level is global.proxy.logLevel, not global.logging.level.
    expect(account({ proxy: { logging: { level: 'debug' } } }).values.global).toMatchObject({ proxy: { logLevel: 'debug' } });
    // controlPlane.mtls was controlPlaneSecurityEnabled, not auto mTLS.
    expect(fateOf({ security: { controlPlane: { mtls: true } } }, 'security.controlPlane.mtls')).toMatchObject({ fate: 'dropped' });
    // cert-manager: caAddress and ENABLE_CA_SERVER=false, not meshConfig.ca.
    expect(
      account({ security: { certificateAuthority: { 'cert-manager': { address: 'cert-manager-istio-csr.cert-manager.svc:443' } } } })
        .values,
    ).toMatchObject({
      global: { caAddress: 'cert-manager-istio-csr.cert-manager.svc:443' },
      pilot: { env: { ENABLE_CA_SERVER: 'false' } },
    });
    // tracing.sampling is 0–10000 in 2.6, a percentage in OSSM 3.
    expect(account({ tracing: { sampling: 10000, type: 'None' } }).values.pilot).toEqual({ traceSampling: 100 });
    // Lists become comma-separated strings; the boolean autoInject becomes the string policy.
    expect(
      account({ proxy: { networking: { trafficControl: { inbound: { excludedPorts: [15090, 9090] } } } } }).values.global,
    ).toMatchObject({
      proxy: { excludeInboundPorts: '15090,9090' },
    });
  });
  test('never carries an image field, and names what it does not know', () => {
    const a = account({
      runtime: {
        components: { pilot: { container: { imageName: 'pilot-rhel8', imageTag: '2.6.0', imageRegistry: 'registry.redhat.io/x' } } },
      },
      proxy: { runtime: { container: { imageName: 'proxyv2-rhel8' } } },
      frobnicate: { level: 3 },
    });
    expect(JSON.stringify(a.values)).not.toMatch(/image|hub|tag/i);
    expect(a.fates.filter((f) => f.fate === 'unknown').map((f) => f.path)).toEqual(['frobnicate.level']);
  });
  test('counts the chart and profile defaults a spec-only dump leaves out', () => {
    const a = accountSettings({}, 'spec', new Set());
    expect(a.fates.filter((f) => f.source === 'default' && f.fate === 'lost').map((f) => f.path)).toEqual(
      expect.arrayContaining([
        'addons.kiali',
        'addons.prometheus',
        'addons.grafana',
        'tracing.type',
        'gateways.ingress',
        'gateways.openshiftRoute',
      ]),
    );
    expect(a.values).toMatchObject({ global: { proxy: { autoInject: 'disabled' }, defaultPodDisruptionBudget: { enabled: false } } });
  });
  test('the rendered Istio of the production example is valid, its values unpruned; a wrong target is caught', () => {
    const { plan } = analyse(PRODUCTION);
    const istio = plan.byCluster.east[5].adds.find((r) => r.type === 'istio')!;
    const obj = {
      apiVersion: 'sailoperator.io/v1',
      kind: 'Istio',
      metadata: { name: 'default' },
      spec: { namespace: 'istio-system', version: 'v1.27.3', values: istioValues(istio as never) },
    };
    expect(crdProblems(obj)).toEqual([]);
    const wrong = JSON.parse(JSON.stringify(obj));
    wrong.spec.values.meshConfig.meshMTLS.enabled = true; // Red Hat's published mapping
    expect(crdProblems(wrong)).toEqual([expect.stringContaining('/spec/values/meshConfig/meshMTLS/enabled is not in the schema')]);
  });
});

describe('carried settings are fields of the Sail Istio', () => {
  test('the committed field tree is the Istio schema the tests validate against', () => {
    const schema = JSON.parse(fs.readFileSync(path.join(__dirname, 'schemas', 'sailoperator.io_v1_Istio.json'), 'utf8'));
    expect(SAIL_VALUES).toEqual(valuesTree(schema.properties.spec.properties.values));
  });
  test('every target of the table is declared (pilot.priorityClassName is not: global.priorityClassName is)', () => {
    const targets = SETTING_RULES.filter((r) => r.fate === 'carried' && !r.path.includes('*')).flatMap((r) =>
      r.target!.split(', ').map((t) => `${r.path} → ${t}`),
    );
    expect(targets.filter((t) => undeclaredPaths(at(t.split(' → ')[1], 'x')).length)).toEqual([]);
    const pod = (v: string) => ({ pod: { priorityClassName: v } });
    const a = account({ runtime: { components: { pilot: pod('system-cluster-critical') }, defaults: pod('low') } });
    expect(a.values.global).toEqual({ priorityClassName: 'system-cluster-critical' });
    expect(a.values.pilot).toBeUndefined();
  });
  test('techPreview keys the Sail Istio does not declare are left out and named; the declared ones are carried', () => {
    const a = account({
      techPreview: {
        global: { bogusKey: 1, logAsJson: true },
        meshConfig: { notAMeshKey: 'x', defaultConfig: { holdApplicationUntilProxyStarts: true, notAProxyKey: 1 } },
        pilot: { priorityClassName: 'system-cluster-critical', enableProtocolSniffingForOutbound: true, autoscaleMin: 2 },
      },
    });
    expect(a.values.global).toEqual({ logAsJson: true });
    expect(a.values.meshConfig).toMatchObject({ defaultConfig: { holdApplicationUntilProxyStarts: true } });
    expect(JSON.stringify(a.values.meshConfig)).not.toMatch(/notA/);
    expect(a.values.pilot).toEqual({ autoscaleMin: 2 });
    expect(a.fates.filter((f) => f.undeclared).map((f) => `${f.path} ${f.fate}: ${f.undeclared!.join()}`)).toEqual([
      'techPreview.global.bogusKey unknown: global.bogusKey',
      'techPreview.meshConfig.defaultConfig carried: meshConfig.defaultConfig.notAProxyKey',
      'techPreview.meshConfig.notAMeshKey unknown: meshConfig.notAMeshKey',
      'techPreview.pilot.enableProtocolSniffingForOutbound unknown: pilot.enableProtocolSniffingForOutbound',
      'techPreview.pilot.priorityClassName unknown: pilot.priorityClassName',
    ]);
  });
});

describe('objects instead of settings', () => {
  let plan: Plan;
  beforeAll(() => ({ plan } = analyse(PRODUCTION)));
  const adds = (c: string, i: number) => plan.byCluster[c][i].adds;
  test('STRICT mTLS: a PeerAuthentication and the two DestinationRules the SMCP rendered, from 01, never deleted', () => {
    const own = adds('east', 1).filter((r) => r.type === 'meshPeerAuthentication' || r.type === 'meshDestinationRule');
    expect(own).toEqual([
      expect.objectContaining({
        type: 'meshPeerAuthentication',
        mode: 'STRICT',
        ref: expect.objectContaining({ namespace: 'istio-system' }),
      }),
      expect.objectContaining({ type: 'meshDestinationRule', host: '*.cluster.local', tlsMode: 'ISTIO_MUTUAL' }),
      expect.objectContaining({ type: 'meshDestinationRule', host: 'kubernetes.default.svc.cluster.local', tlsMode: 'DISABLE' }),
    ]);
    expect(
      plan.byCluster.east.flatMap((p) => p.deletes).filter((d) => own.some((o) => o.ref.name === d.name && o.ref.kind === d.kind)),
    ).toEqual([]);
    expect(adds('west', 1).filter((r) => r.type === 'meshPeerAuthentication')).toEqual([expect.objectContaining({ mode: 'PERMISSIVE' })]);
  });
  test('NetworkPolicies in the control-plane namespace and every member; none with spec.networkPolicies.render: false', () => {
    const nps = adds('east', 1).filter((r) => r.type === 'networkPolicy');
    expect([...new Set(nps.map((r) => r.ref.namespace))]).toEqual(['client', 'internal-gw', 'istio-system']);
    expect(nps.find((r) => r.ref.name === 'meshfed-mesh' && r.ref.namespace === 'client')).toMatchObject({
      from: { namespaces: ['client', 'internal-gw', 'istio-ingress', 'istio-system'] },
    });
    const dir = copyTree(PRODUCTION);
    const f = path.join(dir, 'east', 'cluster.yaml');
    const doc = parseDocument(fs.readFileSync(f, 'utf8'));
    doc.setIn(['spec', 'networkPolicies'], { render: false });
    fs.writeFileSync(f, doc.toString());
    expect(analyse(dir).plan.byCluster.east[1].adds.filter((r) => r.type === 'networkPolicy')).toEqual([]);
  });
});

const mf015 = (model: FederationModel, plan: Plan) => runChecks(model, plan, ['MF015']).map((f) => `${f.phase}: ${f.problem}`);
const withCarried = (adds: Resource[], fn: (c: JsonObject) => JsonObject) =>
  adds.map((r) => (r.type === 'istio' ? { ...r, carried: fn(JSON.parse(JSON.stringify(r.carried))) } : r));

describe('addon replacements (spec.observability)', () => {
  test('05 renders the monitors for every mesh namespace and a Kiali on the OSSM 3 revision; nothing without the setting', () => {
    const { plan } = analyse(PRODUCTION);
    const east = plan.byCluster.east[5].adds.filter((r) => ['istiodServiceMonitor', 'proxiesPodMonitor', 'kiali'].includes(r.type));
    expect(east.map((r) => `${r.ref.kind} ${r.ref.namespace}/${r.ref.name}`)).toEqual([
      'ServiceMonitor istio-system/istiod-monitor',
      'PodMonitor client/istio-proxies-monitor',
      'PodMonitor internal-gw/istio-proxies-monitor',
      'PodMonitor istio-system/istio-proxies-monitor',
      'Kiali istio-system/kiali-ossm3',
    ]);
    expect(plan.byCluster.west[5].adds.filter((r) => r.type === 'kiali' || r.type.endsWith('Monitor'))).toEqual([]);
  });
});

describe('MF015 nothing regresses', () => {
  let model: FederationModel;
  let plan: Plan;
  beforeAll(() => ({ model, plan } = analyse(PRODUCTION)));
  test('does not trigger on the production example', () => expect(mf015(model, plan)).toEqual([]));
  test('triggers when the renderer drops the PeerAuthentication (the SMCP keeps STRICT until 07, the Istio has none)', () =>
    expect(
      mf015(
        model,
        broken(plan, 'east', 1, (a) => a.filter((r) => r.type !== 'meshPeerAuthentication')),
      ),
    ).toEqual([expect.stringMatching(/^05-install-ossm3: the Istio default: mesh-wide mTLS is PERMISSIVE instead of STRICT/)]));
  test('triggers when the renderer drops the NetworkPolicies, the outbound policy, a provider or istiod capacity', () => {
    expect(
      mf015(
        model,
        broken(plan, 'east', 1, (a) => a.filter((r) => r.type !== 'networkPolicy')),
      ),
    ).toEqual([expect.stringContaining('01-prepare: namespace(s) client, internal-gw, istio-system lose the NetworkPolicy isolation')]);
    const dropped = (fn: (c: JsonObject) => JsonObject) =>
      mf015(
        model,
        broken(plan, 'east', 5, (a) => withCarried(a, fn)),
      );
    expect(
      dropped((c) => ({ ...c, meshConfig: { ...(c.meshConfig as JsonObject), outboundTrafficPolicy: { mode: 'ALLOW_ANY' } } })),
    ).toEqual([expect.stringContaining('outbound traffic is ALLOW_ANY instead of REGISTRY_ONLY')]);
    expect(dropped((c) => ({ ...c, meshConfig: { ...(c.meshConfig as JsonObject), extensionProviders: [] } }))).toEqual([
      expect.stringContaining('extension provider(s) otel are not defined'),
    ]);
    expect(dropped((c) => ({ ...c, pilot: { ...(c.pilot as JsonObject), replicaCount: 1, resources: {} } }))).toEqual([
      expect.stringContaining('istiod requests 0.5 CPU instead of at least 1'),
      expect.stringContaining('istiod runs 1 replica(s) instead of 2'),
    ]);
  });
  test('does not trigger for any SMCP posture (property over random settings, seeded)', () => {
    let seed = 20261201;
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const pick = <T>(xs: T[]): T => xs[Math.floor(rand() * xs.length)];
    for (let i = 0; i < 25; i++) {
      const effective: JsonObject = {
        security: { dataPlane: { mtls: pick([true, false]), automtls: pick([true, false]) }, manageNetworkPolicy: pick([true, false]) },
        proxy: { networking: { trafficControl: { outbound: { policy: pick(['ALLOW_ANY', 'REGISTRY_ONLY']) } } } },
        meshConfig: {
          extensionProviders: Array.from({ length: Math.floor(rand() * 3) }, (_, k) => ({
            name: `p${k}`,
            zipkin: { service: `z${k}.o.svc`, port: 9411 },
          })),
        },
        runtime: {
          components: {
            pilot: {
              deployment: pick<JsonObject>([
                { replicas: 1 + Math.floor(rand() * 4) },
                { autoScaling: { enabled: true, minReplicas: 2, maxReplicas: 5 } },
              ]),
              container: { resources: { requests: { cpu: pick(['10m', '750m', '2']), memory: pick(['128Mi', '3Gi']) } } },
            },
          },
        },
      };
      const meshes = model.meshes.map((m) => (m.cluster === 'east' ? { ...m, controlPlane: { ...m.controlPlane, effective } } : m));
      const m2 = { ...model, meshes };
      const p2 = buildPlan(m2, new Diagnostics());
      expect({ i, effective, found: mf015(m2, p2) }).toEqual({ i, effective, found: [] });
    }
  });
});

describe('MF016 premigration', () => {
  test('triggers on enabled addons and Jaeger tracing (not on gateways and IOR meshfed takes over); errors at 07', () => {
    const f = analyse(PRODUCTION).findings.filter((x) => x.rule === 'MF016' && x.cluster === 'east');
    expect(f.map((x) => `${x.severity} ${x.location?.field}`).sort()).toEqual([
      'warning status.appliedSpec.addons.grafana',
      'warning status.appliedSpec.addons.kiali',
      'warning status.appliedSpec.addons.prometheus',
      'warning status.appliedSpec.tracing.type',
    ]);
    const dir = copyTree(PRODUCTION);
    const cf = path.join(dir, 'east', 'cluster.yaml');
    const doc = parseDocument(fs.readFileSync(cf, 'utf8'));
    doc.setIn(['spec', 'phase'], '07-finalize');
    fs.writeFileSync(cf, doc.toString());
    // The pointer alone breaks gates; the findings are what matters here.
    const diags = new Diagnostics();
    const model = buildModel(loadClusters(dir, diags), diags);
    const found = runChecks(model, buildPlan(model, new Diagnostics()), ['MF016']).filter((x) => x.cluster === 'east');
    // Kiali and Prometheus stay warnings: east renders their replacements (spec.observability).
    expect(found.map((x) => `${x.severity} ${x.location?.field}`).sort()).toEqual([
      'error status.appliedSpec.addons.grafana',
      'error status.appliedSpec.tracing.type',
      'warning status.appliedSpec.addons.kiali',
      'warning status.appliedSpec.addons.prometheus',
    ]);
  });
  test('triggers on a ServiceEntry the OSSM 3 CRDs reject', () => {
    const se = {
      apiVersion: 'networking.istio.io/v1beta1',
      kind: 'ServiceEntry',
      metadata: { name: 'no-ports', namespace: 'client' },
      spec: { hosts: ['legacy.example.com'], location: 'MESH_EXTERNAL', resolution: 'DNS' },
    };
    const f = analyse(productionWith(() => undefined, [se])).findings.filter((x) => x.rule === 'MF016' && x.severity === 'error');
    expect(f.map((x) => x.problem)).toEqual([expect.stringContaining('ServiceEntry client/no-ports has no ports')]);
  });
  test('does not trigger on the bundled example (addons, tracing, gateways and IOR off; appliedSpec dumped)', () =>
    expect(analyse(EXAMPLE_CLUSTERS).findings.filter((x) => x.rule === 'MF016')).toEqual([]));
  test('triggers with a fix that says which file and phase carry the change, and what the sync does', () => {
    const dir = copyTree(PRODUCTION);
    const file = path.join(dir, 'east', 'ossm2', 'smcp.yaml');
    const fix = (addon: string) => analyse(dir).findings.find((x) => x.rule === 'MF016' && x.location?.field?.endsWith(addon))!.fix;
    const change = (setting: string) =>
      'Change it in Git, not on the cluster (GitOps owns the SMCP since 00-federation and reverts an oc edit): ' +
      `in ${file}, set ${setting} in ServiceMeshControlPlane istio-system/basic (under spec, not status), then synth and commit. ` +
      "00-federation renders that spec, and every later phase builds on it, so the next sync of east's current phase " +
      '(00-federation; no pointer move) applies it: ';
    const redump = `Then dump the SMCP again with its status into ${file} (oc get smcp basic -n istio-system -o yaml)`;
    expect(fix('addons.kiali')).toBe(
      'Once the replacement works (05) and before 07, turn the addon off. ' +
        change('spec.addons.kiali.enabled: false') +
        "the OSSM 2 operator's next reconcile prunes its Kiali CR istio-system/kiali (the Kiali operator then removes that console). " +
        `${redump}, so status.appliedSpec shows it off.`,
    );
    expect(fix('tracing.type')).toContain(
      change('spec.tracing.type: None') + "the OSSM 2 operator's next reconcile prunes its Jaeger CR istio-system/jaeger",
    );
    expect(fix('addons.grafana')).toContain(change('spec.addons.grafana.enabled: false'));
    expect(fix('addons.prometheus')).toContain(change('spec.addons.prometheus.enabled: false'));
    // The dump's spec already turns Grafana off, its status not yet: what remains is the sync and a new dump.
    const doc = parseDocument(fs.readFileSync(file, 'utf8'));
    doc.setIn(['spec', 'addons', 'grafana', 'enabled'], false);
    fs.writeFileSync(file, doc.toString());
    expect(fix('addons.grafana')).toContain(
      `${file} already sets spec.addons.grafana.enabled: false in ServiceMeshControlPlane istio-system/basic, which 00-federation ` +
        "renders: once GitOps has synced east's current phase (00-federation) and the OSSM 2 operator's next reconcile prunes its " +
        `grafana Deployment and Route in istio-system, dump the SMCP again with its status into ${file}`,
    );
  });
});

describe('MF017 lost settings', () => {
  test('triggers on a Telemetry naming an undefined provider, member-of discovery, lost and unknown settings', () => {
    const telemetry = {
      apiVersion: 'telemetry.istio.io/v1',
      kind: 'Telemetry',
      metadata: { name: 'legacy', namespace: 'client' },
      spec: { tracing: [{ providers: [{ name: 'zipkin-old' }] }] },
    };
    const np = {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: 'from-mesh', namespace: 'client' },
      spec: { podSelector: {}, ingress: [{ from: [{ namespaceSelector: { matchLabels: { 'maistra.io/member-of': 'istio-system' } } }] }] },
    };
    const dir = productionWith(
      (s) => {
        (s.meshConfig as JsonObject).discoverySelectors = [{ matchLabels: { 'maistra.io/member-of': 'istio-system' } }];
        s.techPreview = { rateLimiting: { rls: { enabled: true } }, frobnicate: true };
      },
      [telemetry, np],
    );
    const f = analyse(dir).findings.filter((x) => x.rule === 'MF017');
    expect(f.map((x) => `${x.severity}: ${x.problem}`)).toEqual([
      expect.stringMatching(/^error: NetworkPolicy client\/from-mesh selects on maistra.io\/member-of, which 07 removes/),
      expect.stringMatching(/^error: Telemetry client\/legacy names provider zipkin-old, which the OSSM 3 Istio does not define/),
      expect.stringMatching(/^error: meshConfig.discoverySelectors selects on maistra.io\/member-of/),
      expect.stringMatching(/^warning: spec.techPreview.frobnicate is not a setting meshfed knows/),
      expect.stringMatching(/^warning: spec.techPreview.rateLimiting: the Maistra rate-limit service/),
    ]);
  });
  test('does not trigger on the production example (its Telemetry names the carried otel provider)', () =>
    expect(analyse(PRODUCTION).findings.filter((x) => x.rule === 'MF017')).toEqual([]));
  test('triggers on a setting whose target the Sail Istio does not declare, naming the SMCP field, the value and the fix', () => {
    const dir = productionWith((s) => {
      s.techPreview = { pilot: { priorityClassName: 'system-cluster-critical' }, global: { bogusKey: 'x' } };
    });
    const { findings, plan } = analyse(dir);
    const f = findings.filter((x) => x.rule === 'MF017');
    expect(f.map((x) => `${x.severity}: ${x.problem} | ${x.fix}`)).toEqual([
      expect.stringMatching(
        /^warning: spec.techPreview.global.bogusKey would become spec.values.global.bogusKey of the Istio, which the Sail Istio \(Sail operator release-1.27 CRD\) does not declare: meshfed leaves it out .* \| Find the OSSM 3 field/,
      ),
      expect.stringMatching(
        /^warning: spec.techPreview.pilot.priorityClassName would become spec.values.pilot.priorityClassName .* \| spec.values.global.priorityClassName is the Sail field for spec.values.pilot.priorityClassName: set it there/,
      ),
    ]);
    expect(f[0].location?.file).toMatch(/east\/ossm2\/smcp.yaml$/);
    const istio = plan.byCluster.east[5].adds.find((r) => r.type === 'istio')!;
    expect(JSON.stringify(istioValues(istio as never))).not.toMatch(/bogusKey|"pilot":\{[^}]*priorityClassName/);
  });
  test('triggers (error) when the renderer puts an undeclared field into the Istio', () => {
    const { model, plan } = analyse(PRODUCTION);
    const bad = broken(plan, 'east', 5, (adds) =>
      adds.map((r) =>
        r.type === 'istio' ? { ...r, carried: { ...r.carried, pilot: { priorityClassName: 'system-cluster-critical' } } } : r,
      ),
    );
    expect(
      runChecks(model, bad)
        .filter((x) => x.rule === 'MF017')
        .map((x) => `${x.severity} ${x.phase}: ${x.problem}`),
    ).toEqual([
      expect.stringMatching(/^error 05-install-ossm3: the Istio default sets spec.values.pilot.priorityClassName, which the Sail Istio/),
    ]);
  });
});

describe('MF018 protocol sniffing', () => {
  test('triggers on a member Service port without a protocol name', () => {
    const svc = {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'db', namespace: 'client' },
      spec: {
        selector: { app: 'db' },
        ports: [
          { name: 'db', port: 5432, protocol: 'TCP' },
          { name: 'tcp-admin', port: 5433, protocol: 'TCP' },
        ],
      },
    };
    const f = analyse(productionWith(() => undefined, [svc])).findings.filter((x) => x.rule === 'MF018');
    expect(f.map((x) => x.problem)).toEqual([expect.stringMatching(/^Service client\/db port\(s\) db name no protocol/)]);
  });
  test('does not trigger on the bundled example (named ports)', () =>
    expect(analyse(EXAMPLE_CLUSTERS).findings.filter((x) => x.rule === 'MF018')).toEqual([]));
});
