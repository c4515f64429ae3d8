/**
 * MF027 through AuthorizationPolicies (lib/check/authz-flows.ts, judged by lib/authz.ts): the caller → server flows
 * that work at 00 keep working in every gate-allowed phase, and no identity gains access it did not have at 00 unless
 * the user named it. Each test breaks the rendered policies (or the input) on purpose and sees it caught.
 */
import * as fs from 'fs';
import * as path from 'path';

import { stringify } from 'yaml';

import { analyse } from './support/analyse';
import { copyTree, EXAMPLE_CLUSTERS } from './support/fixtures';
import { runChecks } from '../lib/check';
import { authzMeshAt, authzPoliciesAt } from '../lib/check/authz-flows';
import { States } from '../lib/check/state';
import { FederationModel } from '../lib/model/types';
import { Patch, Plan } from '../lib/plan/types';

const GW = 'west.local/ns/istio-system/sa/federation-ingress-service-account';
const PRODUCTION = path.join(__dirname, '..', 'examples', 'production-smcp', 'clusters');

/** An ALLOW policy on west's a/httpbin that admits only the federation gateway: MF002 adopts and patches it. */
const callers = {
  apiVersion: 'security.istio.io/v1',
  kind: 'AuthorizationPolicy',
  metadata: { name: 'httpbin-callers', namespace: 'a' },
  spec: { action: 'ALLOW', selector: { matchLabels: { app: 'httpbin' } }, rules: [{ from: [{ source: { principals: [GW] } }] }] },
};

function withDump(base: string, cluster: string, objects: unknown[], settings?: (text: string) => string): string {
  const dir = copyTree(base);
  fs.writeFileSync(path.join(dir, cluster, 'ossm2', 'extra-authz.yaml'), objects.map((o) => stringify(o)).join('---\n'));
  if (settings)
    for (const c of fs.readdirSync(dir)) {
      const file = path.join(dir, c, 'cluster.yaml');
      if (fs.existsSync(file)) fs.writeFileSync(file, settings(fs.readFileSync(file, 'utf8')));
    }
  return dir;
}

const mf027 = (m: FederationModel, p: Plan) => runChecks(m, p, ['MF027']).map((f) => `${f.cluster} ${f.phase}: ${f.problem} | ${f.fix}`);

/** A copy of the plan with `fn` applied to the patches of one cluster's phase: a renderer broken on purpose. */
function brokenPatches(plan: Plan, cluster: string, phase: string, fn: (patches: Patch[]) => Patch[]): Plan {
  const copy = JSON.parse(JSON.stringify(plan)) as Plan;
  const pp = copy.byCluster[cluster][copy.phases.indexOf(phase as Plan['phases'][number])] as { patches: Patch[] };
  pp.patches = fn(pp.patches);
  return copy;
}

/** west names east's exact caller (spec.exposure.callers), as docs/input.md advises once a policy is adopted. */
const exactCallers = (t: string) =>
  t.replace(/(name: west\n(?:.*\n)*?spec:\n)/, '$1  exposure:\n    callers:\n      east: [east.local/ns/client/sa/curl]\n');

describe('MF027: the callers MF002 adds by default match the operators’ own pods through the aliases', () => {
  // Without spec.exposure.callers, MF002 admits east's callers by namespace: east.local/ns/istio-system/sa/* among them
  // (east's imports are visible there). Through the alias east.local that is west.local/ns/istio-system/sa/* too: every
  // pod with a proxy the operators run in west's control plane namespace (lib/check/own-identities.ts). The rehearsal
  // twin, which runs those pods, finds the same (test/twin/authz-flows.test.ts).
  const { model, plan } = analyse(withDump(EXAMPLE_CLUSTERS, 'west', [callers]));

  test('the federation egress gateway gains access from 02: an error; neither istiod does (they run no proxy)', () => {
    const found = mf027(model, plan);
    expect(found.map((f) => f.split(' reaches ')[0])).toEqual([
      'west 02-export: west.local/ns/istio-system/sa/federation-egress-service-account (the federation gateway istio-system/federation-egress)',
    ]);
    // The fix names the three ways out: the exact callers, the importer's exportTo, or a narrower policy.
    expect(found[0]).toContain(
      '| Name the exact callers in clusters/west/cluster.yaml spec.exposure.callers.<importing cluster> (docs/input.md), leave ' +
        "namespace istio-system out of the importing cluster's spec.importedServices.exportTo if nothing there calls west, or narrow " +
        'AuthorizationPolicy a/httpbin-callers so west.local/ns/istio-system/sa/federation-egress-service-account stays out.',
    );
  });

  test('a dumped control plane workload counts when its pods run a proxy: a hand-injected one yes, istiod and Grafana no', () => {
    const deployment = (name: string, annotations: Record<string, string>, containers: string[]) => ({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name, namespace: 'istio-system' },
      spec: {
        selector: { matchLabels: { app: name } },
        template: {
          metadata: { labels: { app: name }, annotations },
          spec: { serviceAccountName: name, containers: containers.map((c) => ({ name: c })) },
        },
      },
    });
    const off = { 'sidecar.istio.io/inject': 'false' };
    const dumped = analyse(
      withDump(EXAMPLE_CLUSTERS, 'west', [
        callers,
        deployment('istiod-basic', off, ['discovery']),
        deployment('grafana', off, ['grafana']),
        deployment('proxied', off, ['app', 'istio-proxy']),
      ]),
    );
    expect(mf027(dumped.model, dumped.plan).map((f) => f.split(' reaches ')[0])).toEqual([
      'west 02-export: west.local/ns/istio-system/sa/federation-egress-service-account (the federation gateway istio-system/federation-egress)',
      'west 02-export: west.local/ns/istio-system/sa/proxied',
    ]);
  });

  test('MF002 names them among the own identities the added callers match', () => {
    const local = runChecks(model, plan, ['MF002']).filter((f) => f.problem.startsWith('the callers meshfed adds'));
    expect(local.map((f) => f.problem)).toEqual([
      expect.stringContaining('so west.local/ns/istio-system/sa/federation-egress-service-account are admitted by it too from 02-export.'),
    ]);
  });
});

describe('MF027 caller → server flows through AuthorizationPolicies', () => {
  const dir = withDump(EXAMPLE_CLUSTERS, 'west', [callers], exactCallers);
  const { model, plan } = analyse(dir);
  const west = model.meshes.find((m) => m.cluster === 'west')!;

  test("the policies at each phase: the dump, MF002's patches (02 adds east's named caller, 04 drops the gateway), the aliases from 01", () => {
    const states = new States(plan);
    const principals = (phase: Parameters<States['get']>[1]) =>
      authzPoliciesAt(west, states.get('west', phase))
        .find((p) => p.name === 'httpbin-callers')!
        .spec.rules!.flatMap((r) => (r.from ?? []).flatMap((f) => f.source?.principals ?? []));
    expect(principals('00-federation')).toEqual([GW]);
    expect(principals('02-export')).toEqual(['east.local/ns/client/sa/curl', GW]);
    expect(principals('04-remove-federation')).toEqual(['east.local/ns/client/sa/curl']);
    expect(authzMeshAt(west, states.get('west', '00-federation')).trustDomainAliases).toEqual([]);
    expect(authzMeshAt(west, states.get('west', '01-prepare')).trustDomainAliases).toEqual(['east.local']);
    expect(authzMeshAt(west, states.get('west', '06-migrate-workloads'))).toMatchObject({
      flavour: 'istio',
      trustDomainAliases: ['east.local'],
    });
  });

  test('does not trigger on the bundled example with the policy and the exact caller: every flow that works at 00 works in every phase', () => {
    expect(mf027(model, plan)).toEqual([]);
  });

  test("triggers when the 02 patch that admits east's real callers is dropped: they are denied from 02", () => {
    const found = mf027(
      model,
      brokenPatches(plan, 'west', '02-export', (ps) => ps.filter((p) => p.target.kind !== 'AuthorizationPolicy')),
    );
    expect(found).toEqual([
      "west 02-export: east's callers of its imports → Deployment a/httpbin: east.local/ns/client/sa/curl is denied (ALLOW " +
        'a/httpbin-callers applies to it and none matches it) (it is allowed at 00-federation). | admit east.local/ns/client/sa/curl in ' +
        'AuthorizationPolicy a/httpbin-callers from this phase on; if meshfed renders or patches that policy, report this as a meshfed bug.',
    ]);
  });

  test("triggers when a rendered principal is widened: west's own b/httpbin gains access to a/httpbin through the trust domain alias", () => {
    const widen = (ps: Patch[]) =>
      ps.map((p) =>
        p.target.kind === 'AuthorizationPolicy' && p.type === 'merge'
          ? {
              ...p,
              patch: JSON.parse(
                JSON.stringify(p.patch).replace('"east.local/ns/client/sa/curl"', '"east.local/ns/client/sa/curl","east.local/ns/b/sa/*"'),
              ),
            }
          : p,
      );
    const found = mf027(model, brokenPatches(plan, 'west', '02-export', widen));
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(
      /^west 02-export: west\.local\/ns\/b\/sa\/httpbin reaches Deployment a\/httpbin from 02-export \(ALLOW a\/httpbin-callers matches it\), though it is denied at 00-federation: an identity gains access \(the trust domain aliases east\.local make Istio match every aliased trust domain\)\./,
    );
  });
});

describe('MF027: the callers MF002 adds match the mesh’s own identities through the aliases', () => {
  // east makes its imports visible to namespace b too: MF002 admits east.local/ns/b/sa/* on west, which west's own
  // b/httpbin (west.local/ns/b/sa/httpbin) also is, through the alias east.local.
  const exportToB = (t: string) =>
    t.includes('name: east')
      ? t.replace('  phase: 00-federation\n', '  phase: 00-federation\n  importedServices:\n    exportTo: [client, b]\n')
      : t;

  test('an own identity that gains access is an error naming it, the policy and the fix', () => {
    const { model, plan } = analyse(withDump(EXAMPLE_CLUSTERS, 'west', [callers], exportToB));
    const found = mf027(model, plan);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(/^west 02-export: west\.local\/ns\/b\/sa\/httpbin reaches Deployment a\/httpbin from 02-export/);
    expect(found[0]).toMatch(/Name the exact callers in clusters\/west\/cluster\.yaml spec\.exposure\.callers\.<importing cluster>/);
  });

  test('naming that caller in spec.exposure.callers declares it: no error', () => {
    const named = (t: string) =>
      exportToB(t).replace(
        /(name: west\n(?:.*\n)*?spec:\n)/,
        '$1  exposure:\n    callers:\n      east: [east.local/ns/client/sa/curl, east.local/ns/b/sa/httpbin]\n',
      );
    const { model, plan } = analyse(withDump(EXAMPLE_CLUSTERS, 'west', [callers], named));
    expect(model.meshes.find((m) => m.cluster === 'west')!.settings.exposure.callers).toEqual({
      east: ['east.local/ns/client/sa/curl', 'east.local/ns/b/sa/httpbin'],
    });
    expect(mf027(model, plan)).toEqual([]);
  });
});

describe('MF027: gateways to backends keep their identity', () => {
  // An ALLOW on east's client/curl that admits only the internal ingress gateway (the "only via the gateway" pattern).
  const viaGateway = {
    apiVersion: 'security.istio.io/v1',
    kind: 'AuthorizationPolicy',
    metadata: { name: 'only-internal-gw', namespace: 'client' },
    spec: {
      selector: { matchLabels: { app: 'curl' } },
      rules: [{ from: [{ source: { principals: ['cluster.local/ns/internal-gw/sa/internal-ingressgateway-service-account'] } }] }],
    },
  };
  const { model, plan } = analyse(withDump(PRODUCTION, 'east', [viaGateway]));

  test('does not trigger on the production example: the taken-over pods run as the SMCP gateway’s ServiceAccount', () => {
    expect(mf027(model, plan)).toEqual([]);
  });

  test('triggers when the 06 takeover Deployment runs as a new ServiceAccount: the gateway is denied from 06', () => {
    const copy = JSON.parse(JSON.stringify(plan)) as Plan;
    const adds = copy.byCluster.east[copy.phases.indexOf('06-migrate-workloads')].adds as {
      type: string;
      ref: { name: string };
      serviceAccount?: { name: string };
    }[];
    const d = adds.find((r) => r.type === 'gatewayDeployment' && r.ref.name === 'internal-ingressgateway-ossm3')!;
    d.serviceAccount = { ...d.serviceAccount!, name: 'internal-ingressgateway-ossm3' };
    expect(mf027(model, copy)).toEqual([
      expect.stringMatching(
        /^east 06-migrate-workloads: the gateway internal-gw\/internal-ingressgateway → Deployment client\/curl: east\.local\/ns\/internal-gw\/sa\/internal-ingressgateway-ossm3 is denied \(ALLOW client\/only-internal-gw applies to it and none matches it\) \(it is allowed at 00-federation\)\./,
      ),
    ]);
  });
});

describe('MF002 agrees with the evaluator on which own identities the added callers match', () => {
  test('`<peer td>/*` (a peer whose imports every namespace sees) is not alias-expanded: no own identity matches it', () => {
    const everywhere = (t: string) =>
      t.includes('name: east')
        ? t.replace('  phase: 00-federation\n', '  phase: 00-federation\n  importedServices:\n    exportTo: ["*"]\n')
        : t;
    const { findings } = analyse(withDump(EXAMPLE_CLUSTERS, 'west', [callers], everywhere));
    const mf002 = findings.filter((f) => f.rule === 'MF002').map((f) => f.problem);
    expect(mf002).toEqual([expect.stringContaining('ALLOW policy a/httpbin-callers names the federation ingress gateway')]);
    expect(findings.filter((f) => f.rule === 'MF027')).toEqual([]);
  });
});

describe('MF027: `when` conditions on the source identity and TCP flows (istio/istio@1.27.3 model.go:85-118, 344-354)', () => {
  /** A DENY that isolates a/httpbin to callers of its own namespace and the control plane's, through `when`. */
  const isolate = {
    apiVersion: 'security.istio.io/v1',
    kind: 'AuthorizationPolicy',
    metadata: { name: 'isolate', namespace: 'a' },
    spec: {
      action: 'DENY',
      selector: { matchLabels: { app: 'httpbin' } },
      rules: [{ when: [{ key: 'source.namespace', notValues: ['a', 'istio-system'] }] }],
    },
  };

  test("MF002 exempts east's callers in 02 (no MF027); dropping that patch denies them from 02, and MF027 says so", () => {
    const { model, plan } = analyse(withDump(EXAMPLE_CLUSTERS, 'west', [isolate]));
    expect(mf027(model, plan)).toEqual([]);
    const found = mf027(
      model,
      brokenPatches(plan, 'west', '02-export', (ps) => ps.filter((p) => p.target.kind !== 'AuthorizationPolicy')),
    );
    expect(found).toEqual([
      expect.stringMatching(
        /^west 02-export: east's callers of its imports → Deployment a\/httpbin: east\.local\/ns\/client\/sa\/curl is denied \(DENY a\/isolate matches it\) \(it is allowed at 00-federation\)\./,
      ),
    ]);
  });

  /** A DENY of DELETE from east's clients: on an HTTP port some requests, on a TCP port every connection. */
  const noDelete = {
    apiVersion: 'security.istio.io/v1',
    kind: 'AuthorizationPolicy',
    metadata: { name: 'no-delete', namespace: 'a' },
    spec: {
      action: 'DENY',
      selector: { matchLabels: { app: 'httpbin' } },
      rules: [{ from: [{ source: { principals: ['east.local/ns/client/sa/*'] } }], to: [{ operation: { methods: ['DELETE'] } }] }],
    },
  };
  const withPortName = (name: string) => {
    const dir = withDump(EXAMPLE_CLUSTERS, 'west', [noDelete]);
    const file = path.join(dir, 'west', 'ossm2', 'workloads.yaml');
    fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('- name: http\n      port: 8000', `- name: ${name}\n      port: 8000`));
    return dir;
  };

  test('on a TCP port the DENY ignores its methods and denies every connection of the real callers: MF027 from 02', () => {
    const { model, plan } = analyse(withPortName('tcp'));
    expect(mf027(model, plan)).toEqual([
      expect.stringMatching(
        /^west 02-export: east's callers of its imports → Deployment a\/httpbin: east\.local\/ns\/client\/sa\/curl is denied \(DENY a\/no-delete matches it\)/,
      ),
    ]);
  });

  test('on an HTTP port only DELETE requests are denied: no MF027', () => {
    const { model, plan } = analyse(withPortName('http'));
    expect(mf027(model, plan)).toEqual([]);
  });
});
