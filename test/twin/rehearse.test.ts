/**
 * The rehearsal twin on the production example: every move of both clusters passes with both engines, and
 * each live defect the reviews found — put back into the render on purpose — makes the move that exposes it
 * fail. The renders are made once; each broken case edits the files of the render before it is replayed.
 */
import * as path from 'path';

import { MigrationPhase, PHASES } from '../../lib/phases';
import { rehearseRender } from '../../lib/pipeline/rehearse';
import { filesAtPointers, render, RenderResult } from '../../lib/pipeline/render';
import { readDumps } from '../../lib/twin/live';
import { Engine, RehearsalFinding, rehearseCluster, Scenario } from '../../lib/twin/rehearse';
import { memoryTree } from '../../lib/twin/tree';
import { defaultWorld } from '../../lib/twin/world';

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
}): RehearsalFinding[] {
  const cluster = opts.cluster ?? 'east';
  const last = Math.max(...opts.judge.map((p) => PHASES.indexOf(p)));
  const renders = new Map(
    PHASES.slice(0, last + 1).map((p) => {
      const files = filesAtPointers(result, { [cluster]: p })!;
      opts.edit?.(files);
      return [p, memoryTree(files)] as const;
    }),
  );
  return rehearseCluster(
    {
      cluster,
      dumps: readDumps(path.join(PROD, cluster, 'ossm2')),
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
    const edit = replace(
      'east/06-migrate-workloads/istio-system.yaml',
      /(kind: ServiceAccount\nmetadata:\n {2}annotations:\n(?: {4}.*\n)*? {4}argocd\.argoproj\.io\/sync-wave: )'-1'(\n {2}name: istio-ingressgateway-ossm3\n)/,
      "$1'2'$2",
    );
    const f = rehearse({ engines: ['argocd'], judge: ['06-migrate-workloads'], edit });
    expect(f.find((x) => x.move === '05-install-ossm3 → 06-migrate-workloads' && x.scenario === 'forward')?.why).toMatch(
      /never completes|fails/,
    );
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

  test('no ServiceMeshMember in a ClusterWide gateway namespace: 06 takes it out of the mesh and the SMCP fails under Flux', () => {
    const edit = replace(
      'east/05-install-ossm3/internal-gw.yaml',
      /---\napiVersion: maistra\.io\/v1\nkind: ServiceMeshMember\n(?:.*\n)*?(?=---|$)/,
      '',
    );
    const f = rehearse({ engines: ['flux'], judge: ['06-migrate-workloads'], edit });
    expect(summary(f)).toContainEqual(expect.stringMatching(/forward 05-install-ossm3 → 06-migrate-workloads: .*ServiceMeshControlPlane/));
  });
});
