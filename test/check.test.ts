/**
 * meshfed check: every rule with one input that triggers it and one that does not. Rules that guard the
 * renderer (pitfalls) are triggered by changing a correct plan the way a regression would.
 */
import * as fs from 'fs';
import * as path from 'path';
import { stripVTControlCharacters } from 'util';

import { parseAllDocuments, parseDocument, stringify } from 'yaml';

import { authorize, authzPolicyOf } from '../lib/authz';
import { runChecks } from '../lib/check';
import { analyse } from './support/analyse';
import { copyTree, EXAMPLE_CLUSTERS, importsVisibleTo, writeClusters } from './support/fixtures';
import { crdProblems } from './support/kube';
import { captureConsole, runCli, synthTo, desiredState } from './support/synth';
import { threeMeshSpecs } from './support/three-mesh';
import { Finding } from '../lib/check/finding';
import { runCheck } from '../lib/cli/check';
import { Diagnostics } from '../lib/diagnostics';
import { loadClusters } from '../lib/load/clusters';
import { buildModel } from '../lib/model/federation';
import { istioValues } from '../lib/plan/istio-values';
import { buildPlan } from '../lib/plan/plan';
import { Plan, Resource } from '../lib/plan/types';
import { CheckRuleId } from '../lib/rules';
import { byKey } from '../lib/sort';

const rules = (fs: Finding[]) => [...new Set(fs.map((f) => f.rule))].sort();

/** Append objects to a cluster's ossm2 dumps. */
function addDump(dir: string, cluster: string, objects: unknown[]): void {
  fs.writeFileSync(path.join(dir, cluster, 'ossm2', 'extra.yaml'), objects.map((o) => stringify(o)).join('---\n'));
}

test('the bundled example is clean', () => {
  expect(analyse(EXAMPLE_CLUSTERS).findings).toEqual([]);
  const res = runCli(['--clusters', EXAMPLE_CLUSTERS, '--out', path.join(fs.mkdtempSync('/tmp/meshfed-'), 'dist')]);
  expect(res.stderr).not.toMatch(/MF0\d\d/);
});

describe('MF001 continuity', () => {
  test('triggers when a service cannot be carried to the new path, naming the first state that loses it', () => {
    const specs = threeMeshSpecs();
    specs[0] = {
      ...specs[0],
      extraObjects: [
        {
          apiVersion: 'networking.istio.io/v1beta1',
          kind: 'ServiceEntry',
          metadata: { name: 'legacy', namespace: 'red-bookinfo', labels: { 'export-service': 'true' } },
          spec: {
            hosts: ['legacy.db'],
            location: 'MESH_INTERNAL',
            ports: [{ number: 5432, name: 'tcp' }],
            resolution: 'STATIC',
            endpoints: [{ address: '10.0.0.5' }],
          },
        },
      ],
    };
    const f = analyse(writeClusters(specs)).findings.filter((x) => x.rule === 'MF001');
    expect(f).toHaveLength(1);
    expect(f[0]).toMatchObject({ severity: 'error', cluster: 'blue', phase: '03-import' });
    expect(f[0].problem).toContain('With blue at 03-import and red at 04-remove-federation');
  });
  test('does not trigger on a complete three-mesh federation', () => {
    expect(analyse(writeClusters(threeMeshSpecs())).findings.filter((x) => x.rule === 'MF001')).toEqual([]);
  });
  test('triggers when the plan leaves out an exporter ServiceEntry (a renderer regression)', () => {
    const { model, plan } = analyse(EXAMPLE_CLUSTERS);
    const west = plan.byCluster.west[2] as { adds: Resource[] };
    west.adds = west.adds.filter((r) => r.type !== 'exporterServiceEntry');
    const f = runChecks(model, plan).filter((x) => x.rule === 'MF001');
    expect(f.map((x) => x.problem)).toEqual([
      expect.stringContaining('west has no ServiceEntry giving httpbin.a.svc.west-mesh-imports.local to a/httpbin'),
    ]);
  });
});

describe('MF001 sidecar-less exports', () => {
  // istio/istio@1.27.3 pilot/pkg/xds/endpoints/ep_filters.go:105-108: a cross-network endpoint without Istio mTLS is dropped.
  test("triggers when the exported service's namespace is labelled istio-injection: disabled", () => {
    const dir = copyTree(EXAMPLE_CLUSTERS);
    const file = path.join(dir, 'west', 'ossm2', 'namespaces.yaml');
    const text = fs.readFileSync(file, 'utf8');
    const labelled = text.replace(
      '      istio-injection: enabled\n      kubernetes.io/metadata.name: a\n',
      '      istio-injection: disabled\n      kubernetes.io/metadata.name: a\n',
    );
    expect(labelled).not.toEqual(text);
    fs.writeFileSync(file, labelled);
    const f = analyse(dir).findings.filter((x) => x.rule === 'MF001');
    expect(f).toHaveLength(1);
    expect(f[0]).toMatchObject({ severity: 'error', cluster: 'west', phase: '03-import' });
    expect(f[0].problem).toContain(
      'west exports a/httpbin to east, but its pods have no OSSM 2 sidecar: Deployment/httpbin (namespace a has the label ' +
        "istio-injection: disabled, which Maistra's injector webhook skips)",
    );
    expect(f[0].problem).toContain('clients in east get no endpoint for it once the federation goes');
    expect(f[0].fix).toContain('Inject a sidecar into the pods of a/httpbin in west before 03-import');
  });
  test('does not trigger on the bundled example, whose exported pods have sidecars', () => {
    expect(analyse(EXAMPLE_CLUSTERS).findings.filter((x) => x.rule === 'MF001')).toEqual([]);
  });
});

describe('MF001 live-mesh behaviour', () => {
  const mf001 = (model: Parameters<typeof runChecks>[0], plan: Plan) => runChecks(model, plan, ['MF001']).map((f) => f.problem);
  const copyPlan = (p: Plan): Plan => JSON.parse(JSON.stringify(p));

  test('triggers when an importer does not restart its clients for the network before an exporter removes the federation', () => {
    const { model, plan } = analyse(EXAMPLE_CLUSTERS);
    expect(mf001(model, plan)).toEqual([]);
    const broken = copyPlan(plan);
    const east03 = broken.byCluster.east[3] as { adds: Resource[] };
    east03.adds = east03.adds.filter((r) => !(r.type === 'restartJob' && r.annotation === 'meshfed.dev/restarted-for-network'));
    expect(mf001(model, broken)).toEqual([
      expect.stringContaining(
        "east's clients in client (Deployment/curl) were injected before 01-prepare set the network and were not restarted",
      ),
      expect.stringContaining(
        "east's clients in client (Deployment/curl) were injected before 01-prepare set the network and were not restarted",
      ),
    ]);
  });

  test('triggers when 04 deletes a ServiceMeshPeer that OSSM 2 proxies still take the peer root from', () => {
    const { model, plan } = analyse(EXAMPLE_CLUSTERS);
    const broken = copyPlan(plan);
    const west04 = broken.byCluster.west[4] as { deletes: { apiVersion: string; kind: string; name: string; namespace?: string }[] };
    west04.deletes = [
      ...west04.deletes,
      { apiVersion: 'federation.maistra.io/v1', kind: 'ServiceMeshPeer', name: 'east-mesh', namespace: 'istio-system' },
    ];
    expect(mf001(model, broken)).toEqual([
      expect.stringContaining("west's OSSM 2 proxies lose east's root: ServiceMeshPeer east-mesh is deleted (server side)"),
      expect.stringContaining("west's OSSM 2 proxies lose east's root: ServiceMeshPeer east-mesh is deleted (server side)"),
    ]);
  });

  test('triggers when a MultiTenant exporter is not given the Gateway API controllers in 01', () => {
    const { model, plan } = analyse(
      writeClusters(
        threeMeshSpecs().map((s) => ({
          ...s,
          mode: 'MultiTenant' as const,
          members: [...new Set((s.services ?? []).map((x) => x.namespace))],
        })),
      ),
    );
    expect(mf001(model, plan)).toEqual([]);
    const broken = copyPlan(plan);
    const red01 = broken.byCluster.red[1] as { patches: { type: string; patch?: { spec: { techPreview: Record<string, unknown> } } }[] };
    for (const p of red01.patches) if (p.type === 'merge' && p.patch?.spec.techPreview) delete p.patch.spec.techPreview.gatewayAPI;
    expect(mf001(model, broken).every((p) => p.includes("red's MultiTenant SMCP runs no Gateway API deployment controller"))).toBe(true);
    expect(mf001(model, broken).length).toBeGreaterThan(0);
  });

  test('triggers when the gateway selector is not switched to the OSSM 3 pod label in 07', () => {
    const { model, plan } = analyse(EXAMPLE_CLUSTERS);
    const broken = copyPlan(plan);
    (broken.byCluster.west[7] as { patches: unknown[] }).patches = [];
    expect(mf001(model, broken)).toEqual([
      expect.stringContaining(
        'west\'s Gateway expose-services selects {"istio.io/gateway-name":"eastwestgateway"}, but the eastwestgateway pods carry ' +
          '{"gateway.networking.k8s.io/gateway-name":"eastwestgateway"}',
      ),
      expect.stringContaining('west\'s Gateway expose-services selects {"istio.io/gateway-name":"eastwestgateway"}'),
    ]);
  });

  describe('importAsLocal into a local Service with a named targetPort', () => {
    /** blue's own bookinfo/reviews targets a named port; green's reviews (joined into it) has the given ports. */
    const named = (targetPort: string, greenPorts?: { name: string; port: number; targetPort?: number }[]) => {
      const specs = threeMeshSpecs();
      const reviews = (ports?: { name: string; port: number; targetPort?: number | string }[]) => ({
        namespace: 'bookinfo',
        name: 'reviews',
        serviceAccount: 'bookinfo-reviews',
        ...(ports ? { ports } : {}),
      });
      specs[1] = { ...specs[1], services: [reviews(greenPorts)] };
      specs[2] = { ...specs[2], services: [reviews([{ name: 'http', port: 8000, targetPort }]), ...specs[2].services!.slice(1)] };
      return writeClusters(specs);
    };
    test('its WorkloadEntry names the port, so istiod keeps the remote endpoint; MF001 catches one that does not', () => {
      const { model, plan } = analyse(named('http'));
      const we = plan.byCluster.blue[3].adds.find((r) => r.type === 'importWorkloadEntry' && r.ref.name === 'reviews-green-mesh');
      // green's pods listen on 8080 (its Service's targetPort).
      expect(we).toMatchObject({ ports: { http: 8080 } });
      expect(mf001(model, plan)).toEqual([]);
      const broken = copyPlan(plan);
      const blue03 = broken.byCluster.blue[3] as { adds: Resource[] };
      blue03.adds = blue03.adds.map((r) => (r.type === 'importWorkloadEntry' ? { ...r, ports: undefined } : r));
      const problems = mf001(model, broken);
      expect(problems.length).toBeGreaterThan(0);
      expect(problems[0]).toContain(
        'blue\'s WorkloadEntry joining its Service bookinfo/reviews has no port "http", the Service\'s named targetPort for port 8000: ' +
          'istiod skips the endpoint, so reviews.bookinfo.svc.cluster.local from green has none',
      );
    });
    test('refused when neither the exporter nor the dumped local pods give the port a number', () => {
      const diags = new Diagnostics();
      buildPlan(buildModel(loadClusters(named('web', [{ name: 'http', port: 8000 }]), diags), diags), diags);
      expect(diags.errors.map((e) => `${path.basename(e.location?.file ?? '')} ${e.location?.field}: ${e.message} | ${e.hint}`)).toEqual([
        expect.stringMatching(
          /^workloads.yaml .*targetPort.*: blue's Service bookinfo\/reviews port 8000 targets the named port "web", and reviews.bookinfo.svc.cluster.local from green joins it \(importAsLocal\): its WorkloadEntry needs ports.web, or istiod skips the remote endpoint .* \| Dump the workloads behind bookinfo\/reviews .* or give port 8000 a numeric targetPort./,
        ),
      ]);
      // The local pods declare it: their number.
      const { plan } = analyse(named('http', [{ name: 'http', port: 8000 }]));
      const we = plan.byCluster.blue[3].adds.find((r) => r.type === 'importWorkloadEntry' && r.ref.name === 'reviews-green-mesh');
      expect(we).toMatchObject({ ports: { http: 8080 } });
    });
  });

  test('triggers when an importAsLocal WorkloadEntry stands for an identity in another namespace', () => {
    const specs = threeMeshSpecs();
    // green runs reviews in green-bookinfo and exports it as bookinfo/reviews; blue joins it to its own bookinfo/reviews.
    specs[1] = {
      ...specs[1],
      services: [{ namespace: 'green-bookinfo', name: 'reviews', serviceAccount: 'bookinfo-reviews' }],
      exportSets: [
        {
          name: 'blue-mesh',
          exportRules: [
            { type: 'NameSelector', nameSelector: { namespace: 'green-bookinfo', name: 'reviews', alias: { namespace: 'bookinfo' } } },
          ],
        },
      ],
    };
    const dir = writeClusters(specs);
    const res = runCli(['--clusters', dir, '--out', path.join(fs.mkdtempSync('/tmp/meshfed-'), 'dist')]);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain(
      "green's pods run in namespace green-bookinfo: a Kubernetes Service can only vouch for identities in its own namespace",
    );
    // A renderer that joins it anyway is caught by MF001.
    const { model, plan } = analyse(dir);
    const broken = copyPlan(plan);
    const blue03 = broken.byCluster.blue[3] as { adds: Resource[] };
    blue03.adds = [
      ...blue03.adds,
      {
        type: 'importWorkloadEntry',
        ref: { apiVersion: 'networking.istio.io/v1beta1', kind: 'WorkloadEntry', name: 'reviews-green-mesh', namespace: 'bookinfo' },
        exporter: 'green',
        labels: { app: 'reviews', 'security.istio.io/tlsMode': 'istio' },
        network: 'green-ew',
      },
    ];
    expect(
      mf001(model, broken).some((p) =>
        p.includes("blue's clients would reject green's identity spiffe://green-mesh.local/ns/green-bookinfo/sa/bookinfo-reviews"),
      ),
    ).toBe(true);
  });
});

/**
 * east's imports visible to namespace client only (test/support/fixtures.ts importsVisibleTo says why); the tests below
 * are about the shape of MF002's patches.
 */
const clientOnly = (dir: string) => importsVisibleTo(dir, 'east', ['client']);

describe('MF002 gateway identity in AuthorizationPolicies', () => {
  const policy = (principals: string[], action = 'ALLOW', key = 'principals') => ({
    apiVersion: 'security.istio.io/v1',
    kind: 'AuthorizationPolicy',
    metadata: { name: 'httpbin-callers', namespace: 'a', uid: 'x', resourceVersion: '1' },
    spec: { action, selector: { matchLabels: { app: 'httpbin' } }, rules: [{ from: [{ source: { [key]: principals } }] }] },
  });
  const GW = 'west.local/ns/istio-system/sa/federation-ingress-service-account';

  test('triggers on an ALLOW policy that admits the federation ingress gateway, and renders the change', () => {
    const dir = clientOnly(copyTree(EXAMPLE_CLUSTERS));
    addDump(dir, 'west', [policy([GW, 'west.local/ns/a/sa/tester'])]);
    const f = analyse(dir).findings;
    expect(rules(f)).toEqual(['MF002']);
    expect(f[0].location).toMatchObject({
      object: 'AuthorizationPolicy a/httpbin-callers',
      field: 'spec.rules[0].from[0].source.principals[0]',
      line: expect.any(Number),
    });
    const { dist } = synthTo(dir);
    const p = (phase: string) => desiredState(dist, 'west', phase).find((o) => o.kind === 'AuthorizationPolicy')!;
    expect(p('00-federation').spec.rules[0].from[0].source.principals).toEqual([GW, 'west.local/ns/a/sa/tester']);
    expect(p('02-export').spec.rules[0].from[0].source.principals).toEqual(['east.local/ns/client/sa/*', 'west.local/ns/a/sa/tester', GW]);
    expect(p('04-remove-federation').spec.rules[0].from[0].source.principals).toEqual([
      'east.local/ns/client/sa/*',
      'west.local/ns/a/sa/tester',
    ]);
    expect(p('00-federation').metadata).not.toHaveProperty('uid');
    expect(crdProblems(p('02-export'))).toEqual([]);
  });
  test('a DENY with notPrincipals exempts the real callers too; unknown callers are flagged', () => {
    const dir = importsVisibleTo(copyTree(EXAMPLE_CLUSTERS), 'east', ['*']);
    addDump(dir, 'west', [policy([GW], 'DENY', 'notPrincipals')]);
    const f = analyse(dir).findings.filter((x) => x.rule === 'MF002');
    expect(f[0].problem).toContain('it would deny them');
    expect(f[0].fix).toContain('east export their imports to every namespace, so the whole trust domain is matched');
  });
  describe("the callers meshfed adds match the exporter's own identities through trust domain aliases", () => {
    /** west also runs a workload in namespace client, the namespace east's clients call from. */
    const withLocalClient = (callers?: string) => {
      const dir = copyTree(EXAMPLE_CLUSTERS);
      addDump(dir, 'west', [
        policy([GW]),
        { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'client' } },
        {
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          metadata: { name: 'batch', namespace: 'client' },
          spec: {
            selector: { matchLabels: { app: 'batch' } },
            template: { metadata: { labels: { app: 'batch' } }, spec: { serviceAccountName: 'batch', containers: [{ name: 'b' }] } },
          },
        },
      ]);
      if (callers) {
        const west = path.join(dir, 'west', 'cluster.yaml');
        fs.writeFileSync(west, fs.readFileSync(west, 'utf8').replace(/^spec:\n/m, `spec:\n  exposure:\n    callers:\n${callers}`));
      }
      return dir;
    };
    const patched = (plan: Plan) =>
      (plan.byCluster.west[2].patches.find((p) => p.type === 'merge' && p.target.kind === 'AuthorizationPolicy') as any).patch.spec.rules[0]
        .from[0].source.principals;
    test('says which local identities gain access, and how to name the exact callers', () => {
      const { findings, plan } = analyse(withLocalClient());
      expect(patched(plan)).toEqual(['east.local/ns/client/sa/*', 'east.local/ns/istio-system/sa/*', GW]);
      expect(findings.filter((f) => f.rule === 'MF002').map((f) => `${f.problem} | ${f.fix}`)).toEqual([
        expect.stringContaining('ALLOW policy a/httpbin-callers names the federation ingress gateway'),
        expect.stringMatching(
          /^the callers meshfed adds to ALLOW policy a\/httpbin-callers \(east.local\/ns\/client\/sa\/\*, east.local\/ns\/istio-system\/sa\/\*\) also match west's own identities: .* so west.local\/ns\/client\/sa\/batch, west.local\/ns\/istio-system\/sa\/federation-egress-service-account are admitted by it too from 02-export. \| Name the exact callers in clusters\/west\/cluster.yaml: spec.exposure.callers.<importing cluster>/,
        ),
      ]);
    });
    test('spec.exposure.callers replaces the namespace wildcard with the named principals: no local identity matches', () => {
      const { findings, plan } = analyse(withLocalClient('      east: [east.local/ns/client/sa/curl]\n'));
      expect(patched(plan)).toEqual(['east.local/ns/client/sa/curl', GW]);
      expect(findings.filter((f) => f.rule === 'MF002').map((f) => f.problem)).toEqual([
        expect.stringContaining('ALLOW policy a/httpbin-callers names the federation ingress gateway'),
      ]);
    });
    test('spec.exposure.callers naming no importer, or an identity of another trust domain, is refused', () => {
      const diags = new Diagnostics();
      const dir = withLocalClient('      nobody: [east.local/ns/client/sa/curl]\n      east: [west.local/ns/client/sa/batch]\n');
      buildPlan(buildModel(loadClusters(dir, diags), diags), diags);
      expect(diags.errors.map((e) => `${e.location?.field}: ${e.message} | ${e.hint}`)).toEqual([
        "spec.exposure.callers.nobody: spec.exposure.callers names nobody, which imports nothing from west: no policy's federation " +
          'gateway stands for it. | Use the name of a cluster that imports from west (east), or remove the entry.',
        'spec.exposure.callers.east[0]: spec.exposure.callers.east lists "west.local/ns/client/sa/batch", which is not an identity ' +
          "of east's trust domain east.local. | Write it as east.local/ns/<namespace>/sa/<service account>.",
      ]);
    });
  });
  const render = (policies: unknown[]) => {
    const dir = clientOnly(copyTree(EXAMPLE_CLUSTERS));
    addDump(dir, 'west', policies);
    const { dist } = synthTo(dir);
    const p = (phase: string) => desiredState(dist, 'west', phase).find((o) => o.kind === 'AuthorizationPolicy')!;
    return { findings: analyse(dir).findings, p };
  };
  test('triggers on the cluster.local alias of the gateway identity (Istio reads it as the local trust domain)', () => {
    const { findings, p } = render([policy(['cluster.local/ns/istio-system/sa/federation-ingress-service-account'])]);
    expect(rules(findings)).toEqual(['MF002']);
    expect(findings[0].fix).toContain('dist/west/02-export/patches/a.yaml');
    expect(p('02-export').spec.rules[0].from[0].source.principals).toEqual([
      'cluster.local/ns/istio-system/sa/federation-ingress-service-account',
      'east.local/ns/client/sa/*',
    ]);
    expect(p('04-remove-federation').spec.rules[0].from[0].source.principals).toEqual(['east.local/ns/client/sa/*']);
  });
  test('triggers on an Istio wildcard that matches the gateway, and keeps the wildcard in 04', () => {
    const { findings, p } = render([policy(['*/ns/istio-system/sa/federation-ingress-service-account'])]);
    expect(rules(findings)).toEqual(['MF002']);
    expect(p('04-remove-federation').spec.rules[0].from[0].source.principals).toEqual([
      '*/ns/istio-system/sa/federation-ingress-service-account',
      'east.local/ns/client/sa/*',
    ]);
  });
  test('triggers on namespaces naming the control-plane namespace: the callers get a from entry of their own', () => {
    const { findings, p } = render([
      {
        ...policy([]),
        spec: {
          action: 'ALLOW',
          selector: { matchLabels: { app: 'httpbin' } },
          rules: [{ from: [{ source: { namespaces: ['istio-system'] } }] }],
        },
      },
    ]);
    expect(rules(findings)).toEqual(['MF002']);
    expect(p('02-export').spec.rules[0].from).toEqual([
      { source: { namespaces: ['istio-system'] } },
      { source: { principals: ['east.local/ns/client/sa/*'] } },
    ]);
    expect(crdProblems(p('02-export'))).toEqual([]);
  });
  test('triggers on a DENY that exempts the control-plane namespace: the callers are exempted too, by principal', () => {
    const { findings, p } = render([
      {
        ...policy([]),
        spec: {
          action: 'DENY',
          selector: { matchLabels: { app: 'httpbin' } },
          rules: [{ from: [{ source: { notNamespaces: ['istio-system', 'a'] } }] }],
        },
      },
    ]);
    expect(findings[0].problem).toContain(
      'DENY policy a/httpbin-callers exempts the federation ingress gateway (namespace not istio-system)',
    );
    expect(p('02-export').spec.rules[0].from).toEqual([
      { source: { notNamespaces: ['istio-system', 'a'], notPrincipals: ['east.local/ns/client/sa/*'] } },
    ]);
  });
  describe('`when` conditions on the source identity (istio/istio@1.27.3 model.go:85-118: the same match as from)', () => {
    const withWhen = (action: string, rules: unknown[]) => ({
      ...policy([]),
      spec: { action, selector: { matchLabels: { app: 'httpbin' } }, rules },
    });
    const CALLERS = ['east.local/ns/client/sa/*'];
    const meshAt = { rootNamespace: 'istio-system', trustDomain: 'west.local', trustDomainAliases: ['east.local'] };
    const judge = (o: any, principal: string) =>
      authorize([authzPolicyOf(o)!], { namespace: 'a', labels: { app: 'httpbin' } }, { principal }, meshAt).outcome;
    test('source.principal values naming the gateway: MF002 warns, the callers join the same values in 02, the gateway goes in 04', () => {
      const { findings, p } = render([withWhen('ALLOW', [{ when: [{ key: 'source.principal', values: [GW] }] }])]);
      expect(rules(findings)).toEqual(['MF002']);
      expect(findings[0].location).toMatchObject({ field: 'spec.rules[0].when[0].values[0]' });
      expect(findings[0].problem).toContain(`names the federation ingress gateway (when source.principal ${GW})`);
      expect(p('02-export').spec.rules).toEqual([{ when: [{ key: 'source.principal', values: [...CALLERS, GW] }] }]);
      expect(p('04-remove-federation').spec.rules).toEqual([{ when: [{ key: 'source.principal', values: CALLERS }] }]);
      expect(crdProblems(p('02-export'))).toEqual([]);
      expect(judge(p('00-federation'), 'east.local/ns/client/sa/curl')).toBe('denied');
      expect(judge(p('02-export'), 'east.local/ns/client/sa/curl')).toBe('allowed');
      expect(judge(p('04-remove-federation'), 'east.local/ns/client/sa/curl')).toBe('allowed');
    });
    test('a DENY exempting the control-plane namespace by source.namespace notValues exempts the callers by source.principal', () => {
      const { findings, p } = render([withWhen('DENY', [{ when: [{ key: 'source.namespace', notValues: ['a', 'istio-system'] }] }])]);
      expect(findings[0].problem).toContain('exempts the federation ingress gateway (when source.namespace not istio-system)');
      expect(p('02-export').spec.rules).toEqual([
        {
          when: [
            { key: 'source.namespace', notValues: ['a', 'istio-system'] },
            { key: 'source.principal', notValues: CALLERS },
          ],
        },
      ]);
      expect(judge(p('00-federation'), 'east.local/ns/client/sa/curl')).toBe('denied');
      expect(judge(p('02-export'), 'east.local/ns/client/sa/curl')).toBe('allowed');
      expect(judge(p('02-export'), 'east.local/ns/other/sa/x')).toBe('denied');
      expect(crdProblems(p('02-export'))).toEqual([]);
    });
    test('source.namespace values naming the control-plane namespace: a copy of the rule matches the callers by principal', () => {
      const rule = { to: [{ operation: { ports: ['8000'] } }], when: [{ key: 'source.namespace', values: ['istio-system'] }] };
      const { findings, p } = render([withWhen('ALLOW', [rule])]);
      expect(rules(findings)).toEqual(['MF002']);
      expect(p('02-export').spec.rules).toEqual([rule, { ...rule, when: [{ key: 'source.principal', values: CALLERS }] }]);
      expect(judge(p('02-export'), 'east.local/ns/client/sa/curl')).toBe('partial'); // the port is not known here
      expect(judge(p('02-export'), 'east.local/ns/other/sa/x')).toBe('denied');
    });
  });
  test('does not trigger on */ns/istio-system/sa/*, which Istio reads as a suffix match on a literal "*"', () => {
    expect(render([policy(['*/ns/istio-system/sa/*'])]).findings).toEqual([]);
  });
  test('does not trigger on policies that do not name the gateway', () => {
    const dir = copyTree(EXAMPLE_CLUSTERS);
    addDump(dir, 'west', [policy(['west.local/ns/a/sa/tester'])]);
    expect(analyse(dir).findings).toEqual([]);
  });
});

describe('MF003 exposure widening', () => {
  test('triggers for a service exported to some peers only, and enforcement renders valid ALLOW policies', () => {
    const f = analyse(writeClusters(threeMeshSpecs())).findings.filter((x) => x.rule === 'MF003');
    expect(f.map((x) => x.problem)).toEqual([
      'bookinfo/details is imported by red only (through the federation), but from 02-export on green can reach it too ' +
        'through the east-west gateway (blue trusts them).',
      'bookinfo/reviews is imported by blue only (through the federation), but from 02-export on red can reach it too ' +
        'through the east-west gateway (green trusts them).',
    ]);
    const specs = threeMeshSpecs();
    specs[2] = {
      ...specs[2],
      settings: { ...specs[2].settings, exposure: { enforce: true }, ossm3: { version: 'v1.27.3', trust: 'trustDomains' } },
    };
    specs[1] = { ...specs[1], settings: { ...specs[1].settings } };
    const dir = writeClusters(
      specs.map((s) => (s.name === 'blue' ? { ...s, importSets: s.importSets!.filter((i) => i.name !== 'green-mesh') } : s)),
    );
    const enforced = analyse(dir).findings.filter((x) => x.rule === 'MF003' && x.cluster === 'blue');
    expect(enforced[0].fix).toContain('OSSM 3 pools every caCertificates root into one bundle, so a peer CA can mint identities');
    const { dist } = synthTo(dir);
    const ap = desiredState(dist, 'blue', '02-export').find((o) => o.kind === 'AuthorizationPolicy')!;
    expect(ap.spec).toEqual({
      action: 'ALLOW',
      selector: { matchLabels: { app: 'details' } },
      rules: [{ from: [{ source: { principals: ['blue-mesh.local/*', 'red-mesh.local/*'] } }] }],
    });
    expect(crdProblems(ap)).toEqual([]);
    const istio = desiredState(dist, 'blue', '05-install-ossm3').find((o) => o.kind === 'Istio')!;
    expect(istio.spec.values.meshConfig.trustDomainAliases).toBeUndefined();
    expect(istio.spec.values.meshConfig.caCertificates.map((c: { trustDomains: string[] }) => c.trustDomains)).toEqual([
      ['green-mesh.local'],
      ['red-mesh.local'],
    ]);
  });
  test('trust: trustDomains refuses an import that joins a local Service (its identity needs aliases)', () => {
    const specs = threeMeshSpecs();
    specs[2] = { ...specs[2], settings: { ...specs[2].settings, ossm3: { version: 'v1.27.3', trust: 'trustDomains' } } };
    const res = runCli(['--clusters', writeClusters(specs), '--out', path.join(fs.mkdtempSync('/tmp/meshfed-'), 'dist')]);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('trust: trustDomains cannot carry reviews.bookinfo.svc.cluster.local');
  });
  test('enforcement never widens: no policy next to a user ALLOW on the same pods (a warning names it), and a rendered one is an error', () => {
    const specs = threeMeshSpecs();
    specs[2] = { ...specs[2], settings: { ...specs[2].settings, exposure: { enforce: true } } };
    const userAllow = {
      apiVersion: 'security.istio.io/v1',
      kind: 'AuthorizationPolicy',
      metadata: { name: 'details-callers', namespace: 'bookinfo' },
      spec: {
        action: 'ALLOW',
        selector: { matchLabels: { app: 'details' } },
        rules: [{ from: [{ source: { principals: ['red-mesh.local/ns/bookinfo/sa/productpage'] } }] }],
      },
    };
    specs[2] = { ...specs[2], extraObjects: [userAllow] };
    const dir = writeClusters(specs);
    const res = runCli(['--clusters', dir, '--out', path.join(fs.mkdtempSync('/tmp/meshfed-'), 'dist')]);
    expect(res.code).toBe(0);
    expect(res.stderr).toContain('not enforced on bookinfo/details: ALLOW bookinfo/details-callers already applies to its pods');
    const { model, plan } = analyse(dir);
    expect(plan.byCluster.blue[2].adds.filter((r) => r.type === 'exposurePolicy')).toEqual([]);
    const broken = JSON.parse(JSON.stringify(plan)) as Plan;
    (broken.byCluster.blue[2] as { adds: Resource[] }).adds.push({
      type: 'exposurePolicy',
      ref: { apiVersion: 'security.istio.io/v1', kind: 'AuthorizationPolicy', name: 'meshfed-exposure-details', namespace: 'bookinfo' },
      selector: { app: 'details' },
      principals: ['blue-mesh.local/*', 'red-mesh.local/*'],
    });
    const errors = runChecks(model, broken, ['MF003']).filter((f) => f.severity === 'error');
    expect(errors.map((f) => f.problem)).toEqual([expect.stringContaining('Istio ORs ALLOW policies, so it widens access')]);
  });
  test('does not trigger when every peer imports the service', () => {
    expect(analyse(EXAMPLE_CLUSTERS).findings.filter((x) => x.rule === 'MF003')).toEqual([]);
  });
});

describe('MF004 user configuration naming imported hosts', () => {
  const vs = (name: string, ns: string, host: string) => ({
    apiVersion: 'networking.istio.io/v1beta1',
    kind: 'VirtualService',
    metadata: { name, namespace: ns },
    spec: { hosts: ['web'], http: [{ route: [{ destination: { host } }] }] },
  });
  const dr = (host: string, extra: Record<string, unknown>) => ({
    apiVersion: 'networking.istio.io/v1beta1',
    kind: 'DestinationRule',
    metadata: { name: 'dr', namespace: 'client' },
    spec: { host, ...extra },
  });
  test('triggers on hosts that do not resolve, export names, failover without outlier detection or locality, subsets', () => {
    const dir = copyTree(EXAMPLE_CLUSTERS);
    addDump(dir, 'east', [
      vs('to-nowhere', 'client', 'nothing.a.svc.west-mesh-imports.local'),
      dr('httpbin.b.svc.cluster.local', {
        subsets: [{ name: 'v2', labels: { version: 'v2' } }],
        trafficPolicy: { loadBalancer: { localityLbSetting: { enabled: true, failover: [{ from: 'us-east', to: 'us-west' }] } } },
      }),
    ]);
    addDump(dir, 'west', [vs('old-name', 'a', 'httpbin.a.svc.east-mesh-exports.local')]);
    const f = analyse(dir).findings.filter((x) => x.rule === 'MF004');
    const text = f.map((x) => `${x.severity} ${x.cluster} ${x.location!.field}: ${x.problem}`);
    expect(text).toHaveLength(5);
    expect(text).toEqual(
      expect.arrayContaining([
        expect.stringContaining(
          'warning east spec.trafficPolicy: locality failover on httpbin.b.svc.cluster.local does nothing without outlierDetection',
        ),
        expect.stringContaining(
          'warning east spec.trafficPolicy.loadBalancer.localityLbSetting: failover on httpbin.b.svc.cluster.local needs a locality',
        ),
        expect.stringContaining('warning east spec.subsets: subsets of httpbin.b.svc.cluster.local select endpoint labels'),
        expect.stringContaining(
          'warning east spec.http[0].route[0].destination.host: nothing.a.svc.west-mesh-imports.local looks like a federation import',
        ),
        expect.stringContaining(
          'error west spec.http[0].route[0].destination.host: httpbin.a.svc.east-mesh-exports.local is a federation export name',
        ),
      ]),
    );
  });
  /** east of the example with these probes (from client/curl, or the namespace given) in place of its own. */
  const probing = (...urls: (string | [string, string])[]) => {
    const dir = copyTree(EXAMPLE_CLUSTERS);
    const file = path.join(dir, 'east', 'cluster.yaml');
    const doc = parseDocument(fs.readFileSync(file, 'utf8'));
    const probe = (u: string | [string, string]) => ({
      from: { namespace: typeof u === 'string' ? 'client' : u[1], deployment: 'curl' },
      url: typeof u === 'string' ? u : u[0],
    });
    doc.setIn(['spec', 'verify'], doc.createNode(urls.map(probe)));
    fs.writeFileSync(file, doc.toString());
    return dir;
  };
  test('spec.verify: a host east cannot resolve is an error naming the nearest one; a host outside the cluster a warning', () => {
    const dir = probing(
      'http://httpbin.a.svc.west-mesh-import.local:8000/headers',
      'http://httpbn.b:8000/headers',
      ['http://curl:8080/', 'a'],
      'http://httpbin.a.svc.east-mesh-exports.local:8000/',
      'https://api.example.com/status',
    );
    const f = analyse(dir)
      .findings.filter((x) => x.rule === 'MF004')
      .sort(byKey((x) => x.location!.field!));
    const where = (x: Finding) => `${path.relative(dir, x.location!.file)}:${x.location!.line} ${x.location!.field}`;
    const text = f.map((x) => `${x.severity} ${x.cluster} @ ${x.phase} ${where(x)}: ${x.problem} ${x.fix}`);
    expect(text).toEqual([
      expect.stringMatching(
        /^error east @ 03-import east\/cluster.yaml:\d+ spec.verify\[0\].url: httpbin.a.svc.west-mesh-import.local \(in http:\/\/httpbin.a.svc.west-mesh-import.local:8000\/headers\) is neither a hostname east imports .* Did you mean httpbin.a.svc.west-mesh-imports.local\? /,
      ),
      expect.stringMatching(/^error east @ 03-import .* spec.verify\[1\].url: httpbn.b .* Did you mean httpbin.b\? /),
      // A short name resolves in the client's own namespace only.
      expect.stringMatching(
        /^error east .* spec.verify\[2\].url: curl .* as a client in namespace a resolves it, .* Did you mean curl.client\? /,
      ),
      expect.stringMatching(
        /^error east .* spec.verify\[3\].url: httpbin.a.svc.east-mesh-exports.local .* Did you mean httpbin.a.svc.west-mesh-imports.local\? /,
      ),
      expect.stringMatching(
        /^warning east .* spec.verify\[4\].url: api.example.com .* checks the way out of it .* If api.example.com is right, add spec.acknowledge: \[MF004\]/,
      ),
    ]);
    const lines = fs.readFileSync(path.join(dir, 'east', 'cluster.yaml'), 'utf8').split('\n');
    expect(lines[f[0].location!.line! - 1]).toContain('url: http://httpbin.a.svc.west-mesh-import.local:8000/headers');
  });
  test('spec.verify: imported hostnames, every name of a Service and ServiceEntry hosts do not trigger', () => {
    const dir = probing(
      'http://httpbin.a.svc.west-mesh-imports.local:8000/headers',
      'http://httpbin.b.svc.cluster.local:8000/headers', // imported as local
      'http://httpbin.b:8000/headers',
      'http://curl:8080/',
      'http://curl.client:8080/',
      'http://curl.client.svc:8080/',
      'http://curl.client.svc.cluster.local:8080/',
      ['http://curl.client.svc.cluster.local:8080/', 'istio-system'],
      'http://CURL.Client.svc.cluster.local.:8080/',
      'http://db.example.internal:5432/',
      'http://eu.api.partner.example/',
    );
    addDump(dir, 'east', [
      {
        apiVersion: 'networking.istio.io/v1',
        kind: 'ServiceEntry',
        metadata: { name: 'external', namespace: 'client' },
        spec: { hosts: ['db.example.internal', '*.partner.example'], location: 'MESH_EXTERNAL', ports: [{ number: 5432, name: 'tcp' }] },
      },
    ]);
    expect(analyse(dir).findings.filter((x) => x.rule === 'MF004')).toEqual([]);
  });
  test('does not trigger on an imported host with outlier detection and no subsets', () => {
    const dir = copyTree(EXAMPLE_CLUSTERS);
    addDump(dir, 'east', [
      vs('ok', 'client', 'httpbin.a.svc.west-mesh-imports.local'),
      dr('httpbin.a.svc.west-mesh-imports.local', { trafficPolicy: { outlierDetection: { consecutive5xxErrors: 3 } } }),
    ]);
    expect(analyse(dir).findings).toEqual([]);
  });
});

/** The pitfall rules guard the renderer: each is triggered by changing a correct plan the way a regression would. */
const PITFALLS: CheckRuleId[] = ['MF005', 'MF006', 'MF007', 'MF008', 'MF009', 'MF010', 'MF011', 'MF012'];
let example: ReturnType<typeof analyse>;
beforeAll(() => (example = analyse(EXAMPLE_CLUSTERS)));
const freshPlan = (): Plan => JSON.parse(JSON.stringify(example.plan));
const pitfalls = (p: Plan) => rules(runChecks(example.model, p, PITFALLS));
const mutate = (p: Plan, cluster: string, phase: number, fn: (r: Resource) => Resource) => {
  const pp = p.byCluster[cluster][phase] as { adds: Resource[] };
  pp.adds = pp.adds.map(fn);
  return p;
};

describe('MF005 network names', () => {
  test('triggers on a WorkloadEntry on the local network', () =>
    expect(
      pitfalls(mutate(freshPlan(), 'east', 3, (r) => (r.type === 'importWorkloadEntry' ? { ...r, network: 'network-east-mesh' } : r))),
    ).toEqual(['MF005']));
  test('does not trigger on the correct plan', () => expect(pitfalls(example.plan)).toEqual([]));
});

describe('MF006 tlsMode label', () => {
  test('triggers on a WorkloadEntry without the tlsMode label', () =>
    expect(
      pitfalls(
        mutate(freshPlan(), 'east', 3, (r) =>
          r.type === 'importWorkloadEntry' ? { ...r, labels: { app: (r.labels as Record<string, string>).app } } : r,
        ),
      ),
    ).toEqual(['MF006']));
  test('does not trigger on the correct plan', () => expect(rules(runChecks(example.model, example.plan, ['MF006']))).toEqual([]));
});

describe('MF007 served API versions', () => {
  test('triggers on networking.istio.io/v1 before OSSM 3 is installed', () =>
    expect(
      pitfalls(
        mutate(freshPlan(), 'east', 3, (r) =>
          r.type === 'importServiceEntry' ? { ...r, ref: { ...r.ref, apiVersion: 'networking.istio.io/v1' } } : r,
        ),
      ),
    ).toEqual(['MF007']));
  test('does not trigger on networking.istio.io/v1 once OSSM 3 is installed', () =>
    expect(
      pitfalls(
        mutate(freshPlan(), 'east', 5, (r) =>
          r.type === 'importServiceEntry' ? { ...r, ref: { ...r.ref, apiVersion: 'networking.istio.io/v1' } } : r,
        ),
      ),
    ).toEqual([]));
  test('triggers on PeerAuthentication security.istio.io/v1 in 01 (OSSM 2.6 serves it as v1beta1 only), per kind', () => {
    const v1 = mutate(freshPlan(), 'east', 1, (r) =>
      r.type === 'meshPeerAuthentication' ? { ...r, ref: { ...r.ref, apiVersion: 'security.istio.io/v1' } } : r,
    );
    expect(pitfalls(v1)).toEqual(['MF007']);
    // The same group serves AuthorizationPolicy as v1: the table is per kind.
    expect(pitfalls(freshPlan())).toEqual([]);
  });
});

describe('MF008 Gateway API TLS listener', () => {
  test('triggers on an exporter whose OSSM 3 istiod lacks the alpha Gateway API flag', () =>
    expect(
      pitfalls(mutate(freshPlan(), 'west', 5, (r) => (r.type === 'istio' ? { ...r, pilotEnv: { ISTIO_MULTIROOT_MESH: 'true' } } : r))),
    ).toEqual(['MF008']));
  test('does not trigger on an importer without a gateway that lacks the flag', () =>
    expect(
      pitfalls(mutate(freshPlan(), 'east', 5, (r) => (r.type === 'istio' ? { ...r, pilotEnv: { ISTIO_MULTIROOT_MESH: 'true' } } : r))),
    ).toEqual([]));
});

describe('MF009 exporter ServiceEntry visibility', () => {
  const withDefault = (value: string[]) => {
    const dir = copyTree(EXAMPLE_CLUSTERS);
    const f = path.join(dir, 'west', 'ossm2', 'smcp.yaml');
    fs.writeFileSync(
      f,
      fs
        .readFileSync(f, 'utf8')
        .replace('  tracing:\n', `  techPreview:\n    meshConfig:\n      defaultServiceExportTo: ${JSON.stringify(value)}\n  tracing:\n`),
    );
    return rules(analyse(dir).findings);
  };
  test('triggers on a mesh default exportTo that hides exporter ServiceEntries from the gateway', () =>
    expect(withDefault(['.'])).toEqual(['MF009']));
  test('does not trigger on a default of "*"', () => expect(withDefault(['*'])).toEqual([]));
  test('triggers on an exporter ServiceEntry rendered without the gateway namespace in exportTo (a renderer regression)', () =>
    expect(pitfalls(mutate(freshPlan(), 'west', 2, (r) => (r.type === 'exporterServiceEntry' ? { ...r, exportTo: ['a'] } : r)))).toEqual([
      'MF009',
    ]));
});

describe('MF010 multi-port exports', () => {
  test('triggers on a multi-port export', () => {
    const dir = copyTree(EXAMPLE_CLUSTERS);
    const f = path.join(dir, 'west', 'ossm2', 'workloads.yaml');
    const docs = parseAllDocuments(fs.readFileSync(f, 'utf8'))[0].toJS() as {
      items: Array<{ kind: string; metadata: { namespace: string }; spec: { ports: unknown[] } }>;
    };
    docs.items
      .find((o) => o.kind === 'Service' && o.metadata.namespace === 'b')!
      .spec.ports.push({ name: 'grpc', port: 9000, targetPort: 9090 });
    fs.writeFileSync(f, stringify(docs));
    const found = analyse(dir).findings.filter((x) => x.rule === 'MF010');
    expect(found.map((x) => x.problem)).toEqual([expect.stringContaining('b/httpbin exports 2 ports')]);
  });
  test('does not trigger on single-port exports (the example)', () =>
    expect(rules(runChecks(example.model, example.plan, ['MF010']))).toEqual([]));
});

describe('MF011 Sail kinds are cluster-scoped', () => {
  test('triggers on a namespaced IstioCNI', () =>
    expect(
      pitfalls(mutate(freshPlan(), 'east', 5, (r) => (r.type === 'istioCni' ? { ...r, ref: { ...r.ref, namespace: 'istio-cni' } } : r))),
    ).toEqual(['MF011']));
  test('does not trigger on the correct plan', () => expect(rules(runChecks(example.model, example.plan, ['MF011']))).toEqual([]));
});

describe('MF011 a MultiTenant SMCP gets an istiod scoped to its namespaces', () => {
  /** The three-mesh federation with every SMCP MultiTenant, and a namespace of another tenant in red's dumps. */
  const multiTenant = () => {
    const specs = threeMeshSpecs().map((s) => ({
      ...s,
      mode: 'MultiTenant' as const,
      members: [...new Set((s.services ?? []).map((x) => x.namespace))],
    }));
    const dir = writeClusters(specs);
    addDump(dir, 'red', [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'tenant-b-app', labels: { team: 'b' } } }]);
    return analyse(dir);
  };
  const mt = multiTenant();
  const istioOf = (plan: Plan, cluster: string) => plan.byCluster[cluster][5].adds.find((r) => r.type === 'istio')!;
  const scope = (plan: Plan, cluster: string) => istioValues(istioOf(plan, cluster) as never).meshConfig;
  const mf011 = (plan: Plan) => runChecks(mt.model, plan, ['MF011']).map((f) => `${f.cluster} ${f.phase}: ${f.problem} | ${f.fix}`);

  test("05 renders discoverySelectors naming exactly the mesh's namespaces; the Istio validates; ClusterWide gets none", () => {
    // red's control plane (and import) namespace, its member, and the namespace of the east-west gateway it exports through.
    expect(scope(mt.plan, 'red')).toMatchObject({
      discoverySelectors: [
        {
          matchExpressions: [
            { key: 'kubernetes.io/metadata.name', operator: 'In', values: ['istio-ingress', 'red-bookinfo', 'red-mesh-system'] },
          ],
        },
      ],
    });
    const istio = istioOf(mt.plan, 'red') as Extract<Resource, { type: 'istio' }>;
    const obj = {
      apiVersion: 'sailoperator.io/v1',
      kind: 'Istio',
      metadata: { name: istio.ref.name },
      spec: { namespace: istio.namespace, version: istio.version, values: istioValues(istio) },
    };
    expect(crdProblems(obj)).toEqual([]);
    expect(mt.findings.filter((f) => f.rule === 'MF011')).toEqual([]);
    expect(scope(example.plan, 'east')).not.toHaveProperty('discoverySelectors');
  });
  test('triggers when the Istio is not scoped, misses a mesh namespace or discovers another tenant', () => {
    const plan = (fn: (r: Extract<Resource, { type: 'istio' }>) => Resource) =>
      mutate(JSON.parse(JSON.stringify(mt.plan)), 'red', 5, (r) => (r.type === 'istio' ? fn(r) : r));
    expect(mf011(plan(({ discoveryNamespaces: _, ...r }) => r))).toEqual([
      expect.stringMatching(
        /^red 05-install-ossm3: the Istio default has no meshConfig.discoverySelectors, but ServiceMeshControlPlane red-mesh-system\/basic is MultiTenant: .*istio-ca-root-cert.* \| Scope it to the mesh's namespaces \(meshfed renders meshConfig.discoverySelectors on kubernetes.io\/metadata.name In \[istio-ingress, red-bookinfo, red-mesh-system\]\)/,
      ),
    ]);
    expect(mf011(plan((r) => ({ ...r, discoveryNamespaces: ['istio-ingress', 'red-mesh-system', 'tenant-b-app'] })))).toEqual([
      expect.stringMatching(
        /^red 05-install-ossm3: the Istio default's discoverySelectors do not select namespace red-bookinfo, which is in/,
      ),
      expect.stringMatching(/^red 05-install-ossm3: the Istio default's discoverySelectors select namespace tenant-b-app, which is not in/),
    ]);
    // A selector that selects everything (as a carried one might): the CNI's namespace and the other tenant's are not the mesh's.
    expect(mf011(plan((r) => ({ ...r, discoveryNamespaces: undefined, carried: { meshConfig: { discoverySelectors: [{}] } } })))).toEqual([
      expect.stringMatching(
        /discoverySelectors select namespace istio-cni, which is not in ServiceMeshControlPlane red-mesh-system\/basic's mesh/,
      ),
      expect.stringMatching(
        /discoverySelectors select namespace tenant-b-app, which is not in ServiceMeshControlPlane red-mesh-system\/basic's mesh/,
      ),
    ]);
  });
  test('refuses a MultiTenant member roll listing "*", naming the SMCP and the fix', () => {
    const specs = threeMeshSpecs().map((s) => ({ ...s, mode: 'MultiTenant' as const }));
    specs[0] = {
      ...specs[0],
      extraObjects: [
        {
          apiVersion: 'maistra.io/v1',
          kind: 'ServiceMeshMemberRoll',
          metadata: { name: 'default', namespace: 'red-mesh-system' },
          spec: { members: ['*'] },
        },
      ],
    };
    const diags = new Diagnostics();
    buildPlan(buildModel(loadClusters(writeClusters(specs), diags), diags), diags);
    expect(diags.errors.map((e) => `${path.basename(e.location?.file ?? '')}:${e.location?.line}: ${e.message} | ${e.hint}`)).toEqual([
      expect.stringMatching(
        /^workloads.yaml:\d+: ServiceMeshControlPlane red-mesh-system\/basic is MultiTenant and its ServiceMeshMemberRoll red-mesh-system\/default lists "\*": OSSM 3 cannot scope .* \| List the member namespaces in spec.members of default/,
      ),
    ]);
  });
});

describe('MF012 DNS capture', () => {
  test('triggers on OSSM 3 proxies without DNS capture on an importer', () =>
    expect(pitfalls(mutate(freshPlan(), 'east', 5, (r) => (r.type === 'istio' ? { ...r, dnsCapture: false } : r)))).toEqual(['MF012']));
  test('does not trigger on an exporter that imports nothing', () =>
    expect(pitfalls(mutate(freshPlan(), 'west', 5, (r) => (r.type === 'istio' ? { ...r, dnsCapture: false } : r)))).toEqual([]));
});

describe('MF013 input drift', () => {
  test('triggers when the live status disagrees with the model', () => {
    const dir = copyTree(EXAMPLE_CLUSTERS);
    const f = path.join(dir, 'east', 'ossm2', 'federation.yaml');
    fs.writeFileSync(
      f,
      fs
        .readFileSync(f, 'utf8')
        .replace(
          'hostname: httpbin.b.svc.cluster.local\n        name: httpbin\n        namespace: b',
          'hostname: ""\n        name: ""\n        namespace: ""',
        ),
    );
    const found = analyse(dir).findings.filter((x) => x.rule === 'MF013');
    expect(found).toHaveLength(1);
    expect(found[0].problem).toContain(
      'live only: httpbin.b.svc.east-mesh-exports.local → (not imported); model only: ' +
        'httpbin.b.svc.east-mesh-exports.local → httpbin.b.svc.cluster.local',
    );
    expect(found[0].location).toMatchObject({ field: 'status' });
  });
  test('does not trigger when status agrees (the example) or is absent', () => {
    expect(analyse(EXAMPLE_CLUSTERS).findings).toEqual([]);
    expect(analyse(writeClusters(threeMeshSpecs())).findings.filter((x) => x.rule === 'MF013')).toEqual([]);
  });
});

describe('MF014 live continuity', () => {
  const renameImportSet = (dir: string) => {
    const f = path.join(dir, 'east', 'ossm2', 'federation.yaml');
    const text = fs.readFileSync(f, 'utf8');
    // The ImportedServiceSet (not the peer) renamed by mistake: it no longer pairs with ServiceMeshPeer west-mesh.
    const i = text.indexOf('kind: ImportedServiceSet');
    const j = text.indexOf('name: west-mesh', i);
    fs.writeFileSync(f, text.slice(0, j) + 'name: west-mesh-old' + text.slice(j + 'name: west-mesh'.length));
  };
  test('triggers when a renamed ImportedServiceSet drops what the live mesh imports', () => {
    const dir = copyTree(EXAMPLE_CLUSTERS);
    renameImportSet(dir);
    const found = analyse(dir).findings.filter((x) => x.rule === 'MF014');
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ severity: 'error', cluster: 'east', location: { field: 'status' } });
    expect(found[0].problem).toContain('imports httpbin.a.svc.east-mesh-exports.local as httpbin.a.svc.west-mesh-imports.local');
    expect(found[0].problem).toContain('no ServiceMeshPeer named west-mesh-old pairs with it');
    const res = runCli(['--clusters', dir, '--out', path.join(fs.mkdtempSync('/tmp/meshfed-'), 'dist')]);
    expect(res.code).toBe(1);
  });
  test('does not trigger when the removal is intended (spec.intendedRemovals), nor on the example', () => {
    expect(analyse(EXAMPLE_CLUSTERS).findings.filter((x) => x.rule === 'MF014')).toEqual([]);
    const dir = copyTree(EXAMPLE_CLUSTERS);
    renameImportSet(dir);
    const f = path.join(dir, 'east', 'cluster.yaml');
    fs.writeFileSync(
      f,
      fs.readFileSync(f, 'utf8') + '  intendedRemovals: [httpbin.a.svc.west-mesh-imports.local, httpbin.b.svc.cluster.local]\n',
    );
    expect(analyse(dir).findings.filter((x) => x.rule === 'MF014')).toEqual([]);
  });
  test('triggers on the exporter side when an exported Service is missing from the dumps', () => {
    const dir = copyTree(EXAMPLE_CLUSTERS);
    const f = path.join(dir, 'west', 'ossm2', 'workloads.yaml');
    const docs = parseAllDocuments(fs.readFileSync(f, 'utf8'))[0].toJS() as {
      items: Array<{ kind: string; metadata: { namespace: string } }>;
    };
    docs.items = docs.items.filter((o) => !(o.kind === 'Service' && o.metadata.namespace === 'a'));
    fs.writeFileSync(f, stringify(docs));
    const found = analyse(dir).findings.filter((x) => x.rule === 'MF014' && x.cluster === 'west');
    expect(found.map((x) => x.problem)).toEqual([
      expect.stringContaining('exports a/httpbin as httpbin.a.svc.east-mesh-exports.local today'),
    ]);
  });
});

describe('meshfed check command', () => {
  /** `meshfed check …` in process, what it prints captured (colour codes, when the terminal would get them, taken out). */
  const check = (args: string[]) => {
    const { value: status, out } = captureConsole(() => runCheck(args, {}));
    return { status, stdout: stripVTControlCharacters(out.join('\n')) };
  };
  test('--format json lists findings with rule, severity, cluster, location, problem and fix; exit 1 on errors', () => {
    const ok = JSON.parse(check(['--clusters', writeClusters(threeMeshSpecs()), '--format', 'json']).stdout);
    expect(ok.findings[0]).toEqual({
      rule: expect.stringMatching(/^MF0\d\d$/),
      severity: 'warning',
      cluster: expect.any(String),
      location: expect.objectContaining({ file: expect.any(String) }),
      phase: expect.any(String),
      problem: expect.any(String),
      fix: expect.any(String),
    });
    const dir = copyTree(EXAMPLE_CLUSTERS);
    addDump(dir, 'west', [
      {
        apiVersion: 'networking.istio.io/v1beta1',
        kind: 'VirtualService',
        metadata: { name: 'v', namespace: 'a' },
        spec: { hosts: ['x'], http: [{ route: [{ destination: { host: 'httpbin.a.svc.east-mesh-exports.local' } }] }] },
      },
    ]);
    const viaJson = check(['--clusters', dir, '--json']);
    expect(viaJson.status).toBe(1);
    expect((JSON.parse(viaJson.stdout) as { findings: { rule: string }[] }).findings.map((f) => f.rule)).toContain('MF004');
    const bad = check(['--clusters', dir]);
    expect(bad.status).toBe(1);
    expect(bad.stdout).toMatch(/^error MF004 \[west\] .*clusters-copy|^error MF004 \[west\] /m);
    expect(bad.stdout).toContain('meshfed check: 1 error(s), 0 warning(s)');
  });
});
