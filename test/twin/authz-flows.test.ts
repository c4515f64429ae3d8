/**
 * The twin judges the caller → server flows that AuthorizationPolicies decide (lib/twin/authz-flows.ts) at every tick
 * of every forward sync, rollback and deletion of the production example, with a dumped "only through the internal
 * gateway" policy on client/curl. Each case breaks the render on purpose and sees the move that exposes it caught.
 */
import * as fs from 'fs';
import * as path from 'path';

import { parse } from 'yaml';

import { MigrationPhase, PHASES } from '../../lib/phases';
import { filesAtPointers, render, RenderResult } from '../../lib/pipeline/render';
import { judgeAuthz } from '../../lib/twin/authz-flows';
import { readDumps } from '../../lib/twin/live';
import { Obj } from '../../lib/twin/objects';
import { Engine, RehearsalFinding, rehearseCluster, Scenario } from '../../lib/twin/rehearse';
import { memoryTree } from '../../lib/twin/tree';
import { defaultWorld } from '../../lib/twin/world';
import { copyTree, EXAMPLE_CLUSTERS, importsVisibleTo } from '../support/fixtures';

const PROD = path.join(__dirname, '..', '..', 'examples', 'production-smcp', 'clusters');
const GW = 'east.local/ns/internal-gw/sa/internal-ingressgateway-service-account';

/** The "only via the gateway" pattern: client/curl admits the internal ingress gateway's identity only. */
const onlyViaGateway: Obj = {
  apiVersion: 'security.istio.io/v1',
  kind: 'AuthorizationPolicy',
  metadata: { name: 'only-internal-gw', namespace: 'client', uid: 'ap-1', resourceVersion: '1' },
  spec: { selector: { matchLabels: { app: 'curl' } }, rules: [{ from: [{ source: { principals: [GW] } }] }] },
};

let result: RenderResult;
beforeAll(() => {
  result = render(PROD, { skipPointerRules: true });
});

/**
 * Rehearse a cluster of the production example (east, with onlyViaGateway among its dumps) or of `from`, its files edited
 * by `edit` per phase.
 */
function rehearse(opts: {
  from?: { dir: string; result: RenderResult };
  /** Another cluster, and the objects added to its dumps (default: east, onlyViaGateway). */
  cluster?: { name: string; extraDumps: Obj[] };
  engines: Engine[];
  judge: MigrationPhase[];
  scenarios?: Exclude<Scenario, 'forward'>[];
  edit?: (files: Map<string, string>, phase: MigrationPhase) => void;
}): RehearsalFinding[] {
  const { name: cluster, extraDumps } = opts.cluster ?? { name: 'east', extraDumps: [onlyViaGateway] };
  const last = Math.max(...opts.judge.map((p) => PHASES.indexOf(p)));
  const renders = new Map(
    PHASES.slice(0, last + 1).map((p) => {
      const files = filesAtPointers(opts.from?.result ?? result, { [cluster]: p })!;
      opts.edit?.(files, p);
      return [p, memoryTree(files)] as const;
    }),
  );
  return rehearseCluster(
    {
      cluster,
      dumps: [...readDumps(path.join(opts.from?.dir ?? PROD, cluster, 'ossm2')), ...extraDumps],
      renders,
      engines: opts.engines,
      judge: opts.judge,
      scenarios: opts.scenarios ?? [],
    },
    defaultWorld(),
  ).findings;
}

/** Add YAML documents to a phase of the render, as a file of its own listed in its kustomization. */
function addToPhase(files: Map<string, string>, phase: MigrationPhase, docs: unknown[]): void {
  const k = `east/${phase}/kustomization.yaml`;
  const text = files.get(k);
  if (text === undefined || !text.includes('\nresources:\n')) throw new Error(`${k} is not in the render`);
  files.set(k, text.replace('\nresources:\n', '\nresources:\n- on-purpose.yaml\n'));
  files.set(`east/${phase}/on-purpose.yaml`, docs.map((d) => JSON.stringify(d)).join('\n---\n') + '\n');
}

const summary = (fs: RehearsalFinding[]) =>
  fs.map((f) => `${f.engine} ${f.scenario} ${f.move}: ${f.stage ?? ''} ${f.object ?? ''}: ${f.why}`);

/** Prepend YAML documents to one file of the render (fails when the file is not there). */
function prepend(files: Map<string, string>, file: string, docs: unknown[]): void {
  const text = files.get(file);
  if (text === undefined) throw new Error(`${file} is not in the render`);
  files.set(file, docs.map((d) => `${JSON.stringify(d)}\n---\n`).join('') + text);
}

describe('flows through AuthorizationPolicies in the twin', () => {
  test('the live judgement: the internal gateway reaches client/curl, the other identities do not', () => {
    const cluster = defaultWorld().live([...readDumps(path.join(PROD, 'east', 'ossm2')), onlyViaGateway]);
    const { flows, reach } = judgeAuthz(cluster);
    const gw = [...flows.values()].find((f) => f.key.startsWith('Service internal-gw/internal-ingressgateway → '))!;
    expect(gw).toEqual({ key: 'Service internal-gw/internal-ingressgateway → Service client/curl' });
    expect(reach.get(`${GW} → Service client/curl`)?.verdict.outcome).toBe('allowed');
    expect(reach.get('east.local/ns/istio-system/sa/istio-ingressgateway-service-account → Service client/curl')?.verdict.outcome).toBe(
      'denied',
    );
  });

  test('every move from 05 to 07 keeps the gateway → curl flow: the taken-over pods run as the same ServiceAccount', () => {
    expect(summary(rehearse({ engines: ['flux'], judge: ['06-migrate-workloads', '07-finalize'] }))).toEqual([]);
  });

  test('a takeover Deployment running as a new ServiceAccount: the flow is denied from 06', () => {
    const edit = (files: Map<string, string>, p: MigrationPhase) => {
      const file = 'east/06-migrate-workloads/internal-gw.yaml';
      if (p !== '06-migrate-workloads') return;
      const text = files.get(file)!;
      const next = text.replace(
        /serviceAccountName: internal-ingressgateway-service-account\n/,
        'serviceAccountName: internal-ingressgateway-ossm3\n',
      );
      if (next === text) throw new Error('the takeover Deployment is not where the test expects it');
      files.set(file, next);
      prepend(files, file, [
        {
          apiVersion: 'v1',
          kind: 'ServiceAccount',
          metadata: {
            name: 'internal-ingressgateway-ossm3',
            namespace: 'internal-gw',
            annotations: { 'argocd.argoproj.io/sync-wave': '-5' },
          },
        },
      ]);
    };
    const f = summary(rehearse({ engines: ['flux'], judge: ['06-migrate-workloads'], edit }));
    expect(f).toContainEqual(
      expect.stringMatching(
        /^flux forward 05-install-ossm3 → 06-migrate-workloads: .* AuthorizationPolicy client\/only-internal-gw: a flow that worked is denied: Service internal-gw\/internal-ingressgateway → Service client\/curl: east\.local\/ns\/internal-gw\/sa\/internal-ingressgateway-ossm3 is denied at pod client\/curl-\S+ \(ALLOW client\/only-internal-gw applies to it and none matches it\); it was allowed before this move\.$/,
      ),
    );
  });

  test('a policy that widens a principal: the identities it lets in are named at the move that adds it', () => {
    const widen = {
      apiVersion: 'security.istio.io/v1',
      kind: 'AuthorizationPolicy',
      metadata: { name: 'from-istio-system', namespace: 'client' },
      spec: {
        selector: { matchLabels: { app: 'curl' } },
        rules: [{ from: [{ source: { principals: ['cluster.local/ns/istio-system/sa/*'] } }] }],
      },
    };
    const edit = (files: Map<string, string>, p: MigrationPhase) => {
      if (p === '02-export') addToPhase(files, p, [widen]);
    };
    const f = summary(rehearse({ engines: ['argocd'], judge: ['02-export'], edit }));
    expect(f).toContainEqual(
      expect.stringMatching(
        /^argocd forward 01-prepare → 02-export: .* AuthorizationPolicy client\/from-istio-system: an identity gains access: east\.local\/ns\/istio-system\/sa\/istio-ingressgateway-service-account reaches Service client\/curl \(ALLOW client\/from-istio-system matches it\), though it was denied before this move: an identity gains access\.$/,
      ),
    );
  });
});

describe('flows on the rollback and deletion forks', () => {
  /** A DENY on client/curl that 02 adds and keeps on rollback (Argo CD Prune=false, Flux prune: disabled). */
  const keptDeny = {
    apiVersion: 'security.istio.io/v1',
    kind: 'AuthorizationPolicy',
    metadata: {
      name: 'deny-gateway',
      namespace: 'client',
      annotations: { 'argocd.argoproj.io/sync-options': 'Prune=false', 'kustomize.toolkit.fluxcd.io/prune': 'disabled' },
    },
    spec: { action: 'DENY', selector: { matchLabels: { app: 'curl' } }, rules: [{ from: [{ source: { namespaces: ['internal-gw'] } }] }] },
  };

  test('a rollback that leaves a policy denying a flow of the phase it returns to is caught (the rollback is judged, not only the move)', () => {
    const edit = (files: Map<string, string>, p: MigrationPhase) => {
      if (p === '02-export') addToPhase(files, p, [keptDeny]);
    };
    const f = summary(rehearse({ engines: ['flux'], judge: ['02-export'], scenarios: ['rollback'], edit })).filter((x) =>
      x.startsWith('flux rollback'),
    );
    expect(f).toEqual([
      expect.stringMatching(
        /^flux rollback 02-export → 01-prepare: .* AuthorizationPolicy client\/deny-gateway: a flow that worked is denied \(judged against 01-prepare, the phase the rollback returns to\): Service internal-gw\/internal-ingressgateway → Service client\/curl: east\.local\/ns\/internal-gw\/sa\/internal-ingressgateway-service-account is denied at pod client\/curl-\S+ \(DENY client\/deny-gateway matches it\); it was allowed before this move\.$/,
      ),
    ]);
  });

  test('an SMCP whose gateway labels disagree with its dumped Service: the rollback from 07 re-creates pods the router cannot reach', () => {
    // The production example before its SMCP declared the internal gateway's labels: Maistra re-creates the gateway
    // from the SMCP spec (app: <name>, istio: ingressgateway: maistra/istio-operator@8143614c
    // pkg/controller/versions/strategy_v2_5.go:695-704, conversion/gateways.go:153-154), which meshfed's NetworkPolicy
    // (from the dumped Service's selector, istio: internal-ingressgateway) does not admit.
    const dir = copyTree(PROD);
    const file = path.join(dir, 'east', 'ossm2', 'smcp.yaml');
    const text = fs.readFileSync(file, 'utf8');
    const without = text.replace(/\n( +)service:\n\1 {2}metadata:\n\1 {4}labels:\n\1 {6}istio: internal-ingressgateway/g, '');
    expect(without.length).toBeLessThan(text.length);
    fs.writeFileSync(file, without);
    const from = { dir, result: render(dir, { skipPointerRules: true }) };
    const f = summary(rehearse({ from, engines: ['flux'], judge: ['07-finalize'], scenarios: ['rollback'] }));
    expect(f).toContainEqual(
      expect.stringMatching(
        /^flux rollback 07-finalize → 06-migrate-workloads: .* NetworkPolicy internal-gw\/meshfed-mesh.*: a flow that works before is denied \(it works at 06-migrate-workloads, the phase the rollback returns to\): the OpenShift router \(pod network\) → Route internal-gw\/internal-ingressgateway/,
      ),
    );
  });

  test('every rollback and deletion of the production example keeps the flows (none without a defect)', () => {
    expect(summary(rehearse({ engines: ['argocd'], judge: ['01-prepare', '02-export'], scenarios: ['rollback', 'delete'] }))).toEqual([]);
  });

  test('deleting the Application with a policy that lacks Delete=false: the router loses the gateway at the deletion', () => {
    const edit = (files: Map<string, string>) => {
      const file = 'east/01-prepare/internal-gw.yaml';
      const text = files.get(file);
      if (text === undefined) return;
      const docs = text.split('\n---\n');
      const i = docs.findIndex((d) => d.includes('\n  name: meshfed-gateway-internal-ingressgateway\n'));
      if (i < 0) throw new Error('the gateway NetworkPolicy is not in the render');
      const o = parse(docs[i]) as { metadata: { annotations: Record<string, string> } };
      o.metadata.annotations['argocd.argoproj.io/sync-options'] = 'Prune=false';
      docs[i] = JSON.stringify(o);
      files.set(file, docs.join('\n---\n'));
    };
    const f = summary(rehearse({ engines: ['argocd'], judge: ['01-prepare'], scenarios: ['delete'], edit }));
    expect(f).toContainEqual(
      expect.stringMatching(
        /^argocd delete delete at 01-prepare: delete NetworkPolicy internal-gw\/meshfed-mesh: a flow that worked before the move is denied: the OpenShift router \(pod network\) → Route internal-gw\/internal-ingressgateway/,
      ),
    );
  });
});

describe('the operators’ own pods are identities too (what MF027 judges through lib/check/own-identities.ts)', () => {
  test('a principal `<peer td>/ns/istio-system/sa/*` added at 02: west’s federation egress gateway gains access', () => {
    // The bundled example with an adopted policy, east's imports visible to client only (a clean render), and the
    // namespace wildcard for east's control plane put back into MF002's 02 patch: the alias east.local makes it
    // west.local/ns/istio-system/sa/* too, which the pods Maistra runs there are.
    const dir = importsVisibleTo(copyTree(EXAMPLE_CLUSTERS), 'east', ['client']);
    const gateway = 'west.local/ns/istio-system/sa/federation-ingress-service-account';
    fs.writeFileSync(
      path.join(dir, 'west', 'ossm2', 'policies.yaml'),
      [
        'apiVersion: security.istio.io/v1',
        'kind: AuthorizationPolicy',
        'metadata: {name: httpbin-callers, namespace: a}',
        'spec:',
        '  action: ALLOW',
        '  selector: {matchLabels: {app: httpbin}}',
        `  rules: [{from: [{source: {principals: [${gateway}]}}]}]`,
        '',
      ].join('\n'),
    );
    const patch = 'west/02-export/patches/a.yaml';
    const findings = rehearse({
      from: { dir, result: render(dir, { skipPointerRules: true }) },
      cluster: { name: 'west', extraDumps: [] },
      engines: ['argocd'],
      judge: ['02-export'],
      edit: (files) => {
        const text = files.get(patch);
        if (text === undefined) return; // the phases before 02
        const widened = text.replace(
          '- east.local/ns/client/sa/*\n',
          '- east.local/ns/client/sa/*\n        - east.local/ns/istio-system/sa/*\n',
        );
        expect(widened).not.toBe(text);
        files.set(patch, widened);
      },
    });
    const gained = findings
      .filter((f) => f.scenario === 'forward' && /an identity gains access/.test(f.why))
      .map((f) => /(\S+) reaches Service a\/httpbin/.exec(f.why)?.[1] ?? f.why);
    // istiod-basic runs there too, but no proxy (its pods opt out of injection): no identity to gain access with.
    expect([...new Set(gained)].sort()).toEqual(['west.local/ns/istio-system/sa/federation-egress-service-account']);
  });
});
