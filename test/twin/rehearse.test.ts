/**
 * The rehearsal twin on the production example: every move of both clusters passes with both engines, and
 * each live defect the reviews found — put back into the render on purpose — makes the move that exposes it
 * fail. The renders are made once; each broken case edits the files of the render before it is replayed.
 */
import * as fs from 'fs';
import * as path from 'path';

import { MigrationPhase, PHASES } from '../../lib/phases';
import { rehearseRender } from '../../lib/pipeline/rehearse';
import { filesAtPointers, render, RenderResult } from '../../lib/pipeline/render';
import { readDumps } from '../../lib/twin/live';
import { Engine, RehearsalFinding, rehearseCluster, Scenario } from '../../lib/twin/rehearse';
import { memoryTree } from '../../lib/twin/tree';
import { defaultWorld } from '../../lib/twin/world';
import { copyTree } from '../support/fixtures';

const PROD = path.join(__dirname, '..', '..', 'examples', 'production-smcp', 'clusters');

let result: RenderResult;
beforeAll(() => {
  result = render(PROD, { skipPointerRules: true });
});

/** Rehearse `cluster` of the production example with its files edited by `edit`, judging only `judge`. */
function rehearse(opts: {
  cluster?: string;
  engines: Engine[];
  judge: MigrationPhase[];
  scenarios?: Exclude<Scenario, 'forward'>[];
  edit?: (files: Map<string, string>) => void;
  /** Another clusters/ folder and its render (the production example by default). */
  from?: { dir: string; result: RenderResult };
}): RehearsalFinding[] {
  const cluster = opts.cluster ?? 'east';
  const last = Math.max(...opts.judge.map((p) => PHASES.indexOf(p)));
  const renders = new Map(
    PHASES.slice(0, last + 1).map((p) => {
      const files = filesAtPointers(opts.from?.result ?? result, { [cluster]: p })!;
      opts.edit?.(files);
      return [p, memoryTree(files)] as const;
    }),
  );
  return rehearseCluster(
    {
      cluster,
      dumps: readDumps(path.join(opts.from?.dir ?? PROD, cluster, 'ossm2')),
      renders,
      engines: opts.engines,
      judge: opts.judge,
      scenarios: opts.scenarios ?? [],
    },
    defaultWorld(),
  ).findings;
}

/** Replace `from` by `to` in one file of the render; fails the test when `from` is not there (the case would prove nothing). */
function replace(file: string, from: string | RegExp, to: string): (files: Map<string, string>) => void {
  return (files) => {
    const text = files.get(file);
    if (text === undefined) throw new Error(`${file} is not in the render`);
    const next = text.replace(from, to);
    if (next === text) throw new Error(`${String(from)} is not in ${file}`);
    files.set(file, next);
  };
}

/** Drop the YAML document of the object `name` from one file of the render (fails when it is not there). */
function dropObject(file: string, name: string): (files: Map<string, string>) => void {
  return (files) => {
    const docs = (files.get(file) ?? '').split('\n---\n');
    const kept = docs.filter((d) => !d.includes(`\n  name: ${name}\n`));
    if (kept.length === docs.length) throw new Error(`${name} is not in ${file}`);
    files.set(file, kept.join('\n---\n'));
  };
}

const summary = (fs: RehearsalFinding[]) =>
  fs.map((f) => `${f.engine} ${f.scenario} ${f.move}: ${f.stage ?? ''} ${f.object ?? ''}: ${f.why}`);

describe('the production example', () => {
  test.each(['argocd', 'flux'] as Engine[])(
    'every move of both clusters passes under %s: forward, rollback, deletion, failed reconcile',
    (engine) => {
      const report = rehearseRender(result, { engines: [engine], moves: 'all' });
      expect(report.moves.length).toBeGreaterThanOrEqual(2 * 7 * 3);
      expect(summary(report.findings)).toEqual([]);
    },
  );
});

describe('each defect, put back on purpose, fails the move that exposes it', () => {
  test('a takeover ServiceAccount in a later wave than its Deployment: 06 never completes under Argo CD', () => {
    // The takeover pods run as the SMCP gateway's ServiceAccount now; put back a ServiceAccount of their own, in wave 2.
    const account = [
      'apiVersion: v1',
      'kind: ServiceAccount',
      'metadata:',
      '  annotations:',
      '    argocd.argoproj.io/sync-options: Delete=false',
      "    argocd.argoproj.io/sync-wave: '2'",
      '  name: istio-ingressgateway-ossm3',
      '  namespace: istio-system',
      '---',
      '',
    ].join('\n');
    const runAs = replace(
      'east/06-migrate-workloads/istio-system.yaml',
      /serviceAccountName: istio-ingressgateway-service-account\n/,
      'serviceAccountName: istio-ingressgateway-ossm3\n',
    );
    const edit = (files: Map<string, string>) => {
      runAs(files);
      files.set('east/06-migrate-workloads/istio-system.yaml', account + files.get('east/06-migrate-workloads/istio-system.yaml')!);
    };
    const f = rehearse({ engines: ['argocd'], judge: ['06-migrate-workloads'], edit });
    expect(f.find((x) => x.move === '05-install-ossm3 → 06-migrate-workloads' && x.scenario === 'forward')?.why).toMatch(
      /never completes|fails/,
    );
  });

  test('a phase whose kustomization does not build: the move fails at the build, and the rehearsal says so', () => {
    // A patch that matches nothing (kustomize: "no resource matches strategic merge patch"): Argo CD's repo server and
    // Flux's kustomize-controller stop there. The judges that read the phase's objects must not throw on it.
    const edit = (files: Map<string, string>) => {
      replace('east/01-prepare/kustomization.yaml', 'patches:\n', 'patches:\n- path: patches/stray.yaml\n')(files);
      files.set(
        'east/01-prepare/patches/stray.yaml',
        'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: stray\n  namespace: istio-system\ndata: {}\n',
      );
    };
    for (const engine of ['argocd', 'flux'] as Engine[]) {
      const f = rehearse({ engines: [engine], judge: ['01-prepare'], edit });
      expect(f.filter((x) => x.scenario === 'forward').map((x) => x.why)).toContainEqual(
        expect.stringMatching(
          /^the sync (fails|never completes): .*no resource matches strategic merge patch ConfigMap istio-system\/stray/,
        ),
      );
    }
  });

  test('PeerAuthentication v1 in 01 (OSSM 2.6 serves v1beta1 only): the dry run fails the whole 01 sync', () => {
    const edit = replace(
      'east/01-prepare/istio-system.yaml',
      'apiVersion: security.istio.io/v1beta1\nkind: PeerAuthentication',
      'apiVersion: security.istio.io/v1\nkind: PeerAuthentication',
    );
    const f = rehearse({ engines: ['argocd'], judge: ['01-prepare'], edit });
    expect(f.map((x) => `${x.stage}: ${x.why}`)).toContainEqual(expect.stringMatching(/^dry run: .*PeerAuthentication/));
  });

  test('the hand-over Job waiting for a ClusterWide member roll: 07 fails', () => {
    const wait =
      '{"op":"wait-absent","resource":"servicemeshmemberroll","name":"default","namespace":"istio-system","timeoutSeconds":600},';
    const steps = replace('east/07-finalize/istio-system.yaml', /(meshfed\.dev\/steps: '\[)(\{"op":"rollout-status")/, `$1${wait}$2`);
    // ...and the Role that let it read the roll (without it `kubectl get` fails and the loop ends at once).
    const role = replace(
      'east/07-finalize/istio-system.yaml',
      /(kind: Role\nmetadata:\n(?: {2}.*\n)*? {2}name: meshfed-handover\n {2}namespace: istio-system\nrules:\n)/,
      '$1- apiGroups:\n  - maistra.io\n  resourceNames:\n  - default\n  resources:\n  - servicemeshmemberrolls\n  verbs:\n  - get\n',
    );
    const edit = (files: Map<string, string>) => {
      steps(files);
      role(files);
    };
    const f = rehearse({ engines: ['argocd'], judge: ['07-finalize'], edit });
    expect(summary(f)).toContainEqual(expect.stringMatching(/forward 06-migrate-workloads → 07-finalize: .*meshfed-handover/));
  });

  test('the hand-over Role deleting a member without list and watch: kubectl delete --wait is Forbidden, 07 fails', () => {
    const edit = replace(
      'east/07-finalize/internal-gw.yaml',
      /(resources:\n {2}- servicemeshmembers\n {2}verbs:\n {2}- get\n) {2}- list\n {2}- watch\n/,
      '$1',
    );
    const f = rehearse({ engines: ['argocd'], judge: ['07-finalize'], edit });
    expect(summary(f)).toContainEqual(
      expect.stringMatching(/forward 06-migrate-workloads → 07-finalize: .*meshfed-handover.*(list|watch)/),
    );
  });

  test('a handed-over Service without the keep annotations: the rollback from 07 prunes it under Flux', () => {
    const edit = (files: Map<string, string>) =>
      replace(
        'east/07-finalize/internal-gw.yaml',
        /\n {4}argocd\.argoproj\.io\/compare-options: IgnoreExtraneous\n {4}argocd\.argoproj\.io\/sync-options: Prune=false,Delete=false/,
        '\n    argocd.argoproj.io/sync-options: Delete=false',
      )(files);
    const dropFlux = (files: Map<string, string>) => {
      edit(files);
      const file = 'east/07-finalize/internal-gw.yaml';
      files.set(file, files.get(file)!.replace(/\n {4}kustomize\.toolkit\.fluxcd\.io\/prune: disabled/, ''));
    };
    const f = rehearse({ engines: ['flux'], judge: ['07-finalize'], scenarios: ['rollback'], edit: dropFlux });
    expect(summary(f)).toContainEqual(
      expect.stringMatching(/rollback 07-finalize → 06-migrate-workloads: .*Service internal-gw\/internal-ingressgateway/),
    );
  });

  test('an object without Delete=false: deleting the Application deletes it', () => {
    const edit = replace(
      'east/00-federation/istio-system.yaml',
      /(kind: ServiceMeshControlPlane\nmetadata:\n {2}annotations:\n(?: {4}.*\n)*? {4}argocd\.argoproj\.io\/sync-options: )PruneLast=true,Delete=false/,
      '$1PruneLast=true',
    );
    const f = rehearse({ engines: ['argocd'], judge: ['00-federation'], scenarios: ['delete'], edit });
    expect(summary(f)).toContainEqual(expect.stringMatching(/delete delete at 00-federation: .*deletes \d+ object\(s\) that run/));
  });

  test('the SMCP health check behind its generation gate: a failed reconcile hangs Argo CD', () => {
    // The Lua that read the failure reasons only once observedGeneration matched.
    const gate = [
      'if obj.status == nil or (obj.metadata.generation ~= nil and obj.status.observedGeneration ~= obj.metadata.generation) then',
      '  return { status = "Progressing", message = "Waiting for the controller to reconcile this generation" }',
      'end',
    ];
    const edit = replace(
      'argocd/argocd-cm-health.patch.yaml',
      'resource.customizations.health.maistra.io_ServiceMeshControlPlane: |\n',
      `resource.customizations.health.maistra.io_ServiceMeshControlPlane: |\n${gate.map((l) => `    ${l}\n`).join('')}`,
    );
    const f = rehearse({ engines: ['argocd'], judge: ['01-prepare'], scenarios: ['failed-reconcile'], edit });
    expect(summary(f)).toContainEqual(expect.stringMatching(/failed-reconcile 00-federation → 01-prepare: .*never ends/));
  });

  test('no istio-remote clause in the Gateway check: OSSM 2.6 writes no status, 03 never completes under Argo CD', () => {
    const edit = replace(
      'argocd/argocd-cm-health.patch.yaml',
      /\n {2}resource\.customizations\.health\.gateway\.networking\.k8s\.io_Gateway: [^\n]*(\n {4}[^\n]*)*/,
      '',
    );
    const f = rehearse({ engines: ['argocd'], judge: ['03-import'], edit });
    expect(summary(f)).toContainEqual(expect.stringMatching(/forward 02-export → 03-import: .*Gateway istio-system\/remote-gateway/));
  });

  test("the hand-over Job leaving the gateway's ServiceAccount to Maistra: the SMCP deletion prunes it and 07 fails", () => {
    const edit = replace(
      'east/07-finalize/istio-system.yaml',
      /\{"op":"strip-owner","resource":"serviceaccount","name":"istio-ingressgateway-service-account"[^}]*\},/,
      '',
    );
    const f = rehearse({ engines: ['flux'], judge: ['07-finalize'], edit });
    expect(summary(f)).toContainEqual(
      // The Job's last step finds the ServiceAccount gone (require-present), after the SMCP's deletion pruned it.
      expect.stringMatching(/forward 06-migrate-workloads → 07-finalize: .*Job istio-system\/meshfed-handover-.*Job Failed/),
    );
  });

  test('a PodDisruptionBudget of its own on the takeover pods beside the SMCP budget: drains stall from 06 (none without it)', () => {
    // east with the SMCP's budgets on (spec and appliedSpec): Maistra renders a budget per gateway selecting its labels.
    const dir = copyTree(PROD);
    const file = path.join(dir, 'east', 'ossm2', 'smcp.yaml');
    const text = fs.readFileSync(file, 'utf8');
    const on = text
      .replace(/(podDisruption:\n\s+enabled: )false/, '$1true')
      .replace(
        '\n  runtime:\n    components:\n',
        '\n  runtime:\n    defaults:\n      deployment:\n        podDisruption:\n          enabled: true\n    components:\n',
      );
    expect(on.match(/enabled: true\n/g)!.length).toBeGreaterThan(text.match(/enabled: true\n/g)!.length + 1);
    fs.writeFileSync(file, on);
    const from = { dir, result: render(dir, { skipPointerRules: true }) };
    const judge: MigrationPhase[] = ['06-migrate-workloads', '07-finalize'];
    expect(summary(rehearse({ engines: ['flux'], judge, from }))).toEqual([]);
    // What meshfed rendered before: a budget of its own on its pods in 06, which carry the labels the SMCP's budget selects.
    const budget = [
      'apiVersion: policy/v1',
      'kind: PodDisruptionBudget',
      'metadata:',
      '  annotations:',
      '    argocd.argoproj.io/sync-options: Delete=false',
      "    argocd.argoproj.io/sync-wave: '0'",
      '  name: istio-ingressgateway-ossm3',
      '  namespace: istio-system',
      'spec:',
      '  minAvailable: 1',
      '  selector:',
      '    matchLabels:',
      '      meshfed.dev/gateway: istio-ingressgateway',
      '---',
      '',
    ].join('\n');
    const edit = (files: Map<string, string>) => {
      for (const phase of judge) {
        const f = `east/${phase}/istio-system.yaml`;
        files.set(f, budget + files.get(f)!);
      }
    };
    expect(summary(rehearse({ engines: ['flux'], judge: ['06-migrate-workloads'], from, edit }))).toContainEqual(
      expect.stringMatching(
        /forward 05-install-ossm3 → 06-migrate-workloads: .*istio-ingressgateway-ossm3-.* is covered by PodDisruptionBudget istio-system\/istio-ingressgateway and PodDisruptionBudget istio-system\/istio-ingressgateway-ossm3/,
      ),
    );
  });

  test('no ServiceMeshMember in a ClusterWide gateway namespace: 06 takes it out of the mesh and the SMCP fails under Flux', () => {
    const edit = replace(
      'east/05-install-ossm3/internal-gw.yaml',
      /---\napiVersion: maistra\.io\/v1\nkind: ServiceMeshMember\n(?:.*\n)*?(?=---|$)/,
      '',
    );
    const f = rehearse({ engines: ['flux'], judge: ['06-migrate-workloads'], edit });
    expect(summary(f)).toContainEqual(expect.stringMatching(/forward 05-install-ossm3 → 06-migrate-workloads: .*ServiceMeshControlPlane/));
  });

  test('a verify Job that does not wait for the restart: under Flux both start at once and 06 verifies the old pods', () => {
    const edit = replace('east/06-migrate-workloads/istio-system.yaml', /\{"op":"wait-job"[^}]*\},/g, '');
    const f = rehearse({ engines: ['flux'], judge: ['06-migrate-workloads'], scenarios: [], edit });
    expect(summary(f)).toContainEqual(
      expect.stringMatching(
        /flux forward 05-install-ossm3 → 06-migrate-workloads: hook Job istio-system\/meshfed-verify-06-\w+: .*completed at \d+ s, before Job istio-system\/meshfed-restart-workloads-\w+ .*from before the restart/,
      ),
    );
  });

  test('no NetworkPolicy for the SMCP gateway in a member namespace: from 01 the router cannot reach it', () => {
    const edit = dropObject('east/01-prepare/internal-gw.yaml', 'meshfed-gateway-internal-ingressgateway');
    const f = rehearse({ engines: ['argocd'], judge: ['01-prepare'], edit });
    expect(summary(f)).toEqual(
      ['host', 'pod'].map((n) =>
        expect.stringMatching(
          new RegExp(
            // Maistra's own policy for the gateway goes once the operator reconciles the SMCP patch (wave -2).
            `^argocd forward 00-federation → 01-prepare: Sync wave -1 NetworkPolicy internal-gw/meshfed-mesh: ` +
              `a flow that worked before the move is denied: the OpenShift router \\(${n} network\\) → Route internal-gw/internal-ingressgateway, ` +
              'port 8080: pod internal-gw/internal-ingressgateway-\\S+ is isolated by NetworkPolicy internal-gw/meshfed-mesh and none admits it ' +
              '\\(it was admitted before this move\\)\\.$',
          ),
        ),
      ),
    );
  });

  test('no NetworkPolicy for user-workload monitoring: the PodMonitors 05 adds are denied', () => {
    const edit = dropObject('east/05-install-ossm3/client.yaml', 'meshfed-user-workload-monitoring');
    const f = rehearse({ engines: ['flux'], judge: ['05-install-ossm3'], edit });
    expect(summary(f)).toEqual([
      expect.stringMatching(
        /^flux forward 04-remove-federation → 05-install-ossm3: .* NetworkPolicy client\/meshfed-mesh: a flow the move adds is denied: user-workload monitoring → PodMonitor client\/istio-proxies-monitor, port 15020: pod client\/curl-.* is isolated by NetworkPolicy client\/meshfed-mesh and none admits it \(this move adds the flow\)\.$/,
      ),
    ]);
  });
});

describe("the users' own NetworkPolicies, restored from the dumps", () => {
  /**
   * The production example's render over dumps with a user's egress policy on east's curl pods, to `namespaceSelector`
   * (the checks never see it: the twin alone must).
   */
  function withUserPolicy(namespaceSelector: string): { dir: string; result: RenderResult } {
    const dir = copyTree(PROD);
    const file = path.join(dir, 'east', 'ossm2', 'workloads.yaml');
    const policy =
      '- apiVersion: networking.k8s.io/v1\n  kind: NetworkPolicy\n  metadata:\n    name: to-mesh\n    namespace: client\n' +
      '  spec:\n    podSelector:\n      matchLabels:\n        app: curl\n    policyTypes: [Egress]\n' +
      `    egress:\n    - to:\n      - namespaceSelector: ${namespaceSelector}\n`;
    const text = fs.readFileSync(file, 'utf8');
    if (!/^items:\n/m.test(text)) throw new Error('workloads.yaml is not a List');
    fs.writeFileSync(file, text.replace(/^items:\n/m, `items:\n${policy}`));
    return { dir, result };
  }

  const judge: MigrationPhase[] = ['06-migrate-workloads', '07-finalize'];

  test('an egress policy to maistra.io/member-of: curl loses client at 06 (out of the roll), internal-gw at 07 (the SMCP goes)', () => {
    const f = rehearse({ engines: ['argocd'], judge, from: withUserPolicy("{matchLabels: {'maistra.io/member-of': istio-system}}") });
    const denied = (move: string, svc: string, pod: string, port: number) =>
      expect.stringMatching(
        new RegExp(
          `^argocd forward ${move}: PostSync wave 0 NetworkPolicy client/to-mesh: a flow that worked before the move is denied: ` +
            `the mesh pods client/curl → Service ${svc}, port ${port}: pod ${pod}-\\S+ is isolated by NetworkPolicy client/to-mesh ` +
            'and none admits it \\(it was admitted before this move\\)\\.$',
        ),
      );
    expect(summary(f)).toEqual([
      denied('05-install-ossm3 → 06-migrate-workloads', 'client/curl', 'client/curl', 80),
      denied(
        '06-migrate-workloads → 07-finalize',
        'internal-gw/internal-ingressgateway',
        'internal-gw/internal-ingressgateway-ossm3',
        15021,
      ),
    ]);
  });

  test('the same policy on kubernetes.io/metadata.name: every move passes', () => {
    const from = withUserPolicy(
      '{matchExpressions: [{key: kubernetes.io/metadata.name, operator: In, values: [client, internal-gw, istio-system]}]}',
    );
    expect(summary(rehearse({ engines: ['argocd'], judge, from }))).toEqual([]);
  });
});

describe('a failed SMCP reconcile under Flux', () => {
  // No healthCheckExprs can report it: kustomize-controller reads an object whose observedGeneration lags its
  // generation as InProgress before evaluating `failed` (fluxcd/pkg runtime/cel/status_evaluator.go), and Maistra
  // moves observedGeneration only after a successful reconcile. The runbook says what the operator sees instead.
  const SEEN = "timeout waiting for: [ServiceMeshControlPlane/istio-system/basic status: 'InProgress']";

  test('the move fails only at the Kustomization timeout, with the message the runbook quotes', () => {
    const renders = new Map(
      (['00-federation', '01-prepare'] as MigrationPhase[]).map((p) => [p, memoryTree(filesAtPointers(result, { east: p })!)] as const),
    );
    const report = rehearseCluster(
      {
        cluster: 'east',
        dumps: readDumps(path.join(PROD, 'east', 'ossm2')),
        renders,
        engines: ['flux'],
        judge: ['01-prepare'],
        scenarios: ['failed-reconcile'],
      },
      defaultWorld(),
    );
    const failed = report.moves.find((m) => m.scenario === 'failed-reconcile' && m.move === '00-federation → 01-prepare');
    expect(failed).toMatchObject({ ok: false, failure: expect.stringContaining(SEEN) });
    expect(failed!.failure).toMatch(/^health check failed after 3\dm\d+s: /);
    expect(failed!.seconds).toBeGreaterThanOrEqual(1800);
    const runbook = filesAtPointers(result, { east: '00-federation' })!.get('east/RUNBOOK.md')!;
    expect(runbook).toContain(`\`health check failed after …: ${SEEN}\``);
    expect(runbook).toContain('with a timeout of …` for 30 min');
    expect(runbook).toContain("`kubectl --context east get smcp basic -n istio-system -o jsonpath='{.status.conditions}'`");
  });
});
