/**
 * GitOps delivery: phase pointers and their gates, Argo CD and Flux objects, hook Jobs with least
 * privilege, no Secrets, and the runbook — for the bundled example and the three-mesh federation.
 */
import * as fs from 'fs';
import * as path from 'path';

import { parseAllDocuments } from 'yaml';

import { copyTree, EXAMPLE_CLUSTERS, writeClusters } from './support/fixtures';
import { crdProblems, kustomize, Obj } from './support/kube';
import { captureConsole, readTree, runCli, synthTo, desiredState } from './support/synth';
import { threeMeshSpecs } from './support/three-mesh';
import { runPlan } from '../lib/cli/plan';
import { filesAtPointers, render, RenderResult } from '../lib/pipeline/render';
import { PHASES } from '../lib/plan/types';
import { parseDuration } from '../lib/twin/flux';
import { buildKustomization, parseAll } from '../lib/twin/kustomize';
import { memoryTree } from '../lib/twin/tree';

function setPhase(dir: string, cluster: string, phase: string): void {
  const f = path.join(dir, cluster, 'cluster.yaml');
  const text = fs.readFileSync(f, 'utf8');
  fs.writeFileSync(
    f,
    /^\s+phase: .*$/m.test(text)
      ? text.replace(/^(\s+)phase: .*$/m, `$1phase: ${phase}`)
      : text.replace(/^spec:\n/m, `spec:\n  phase: ${phase}\n`),
  );
}

function docs(file: string): Obj[] {
  return parseAllDocuments(fs.readFileSync(file, 'utf8')).map((d) => d.toJS() as Obj);
}

describe('phase pointers', () => {
  test("Applications and Kustomizations point at each cluster's spec.phase, and those folders exist", () => {
    const dir = copyTree(EXAMPLE_CLUSTERS);
    setPhase(dir, 'west', '02-export');
    setPhase(dir, 'east', '03-import');
    const { dist } = synthTo(dir);
    // From 03-import on, east's imported services come from dist/east/imports/west: a second source of
    // the same Application (one sync, waves and hooks across both), a second Flux Kustomization.
    const east = docs(path.join(dist, 'argocd', 'application-east.yaml'))[0];
    expect(east.spec.source).toBeUndefined();
    expect(east.spec.sources).toEqual([
      { repoURL: 'https://git.example.com/platform/mesh-gitops.git', targetRevision: 'HEAD', path: 'dist/east/03-import' },
      { repoURL: 'https://git.example.com/platform/mesh-gitops.git', targetRevision: 'HEAD', path: 'dist/east/imports/west' },
    ]);
    expect(east.metadata.labels!['meshfed.dev/phase']).toBe('03-import');
    const west = docs(path.join(dist, 'argocd', 'application-west.yaml'))[0];
    expect(west.spec.source.path).toBe('dist/west/02-export');
    expect(west.spec.sources).toBeUndefined();
    for (const p of [east.spec.sources[0].path, east.spec.sources[1].path, west.spec.source.path])
      expect(fs.existsSync(path.join(dist, p.replace(/^dist\//, ''), 'kustomization.yaml'))).toBe(true);
    expect(docs(path.join(dist, 'flux', 'west', 'kustomization-meshfed-west.yaml'))[0].spec.path).toBe('./dist/west/02-export');
    expect(docs(path.join(dist, 'flux', 'east', 'kustomization-meshfed-east.yaml'))[0].spec.path).toBe('./dist/east/03-import');
    const imports = docs(path.join(dist, 'flux', 'east', 'kustomization-meshfed-east-imports-west.yaml'))[0];
    expect(imports.metadata).toMatchObject({
      name: 'meshfed-east-imports-west',
      namespace: 'flux-system',
      labels: { 'meshfed.dev/cluster': 'east', 'meshfed.dev/imports-from': 'west' },
    });
    expect(imports.spec).toMatchObject({
      path: './dist/east/imports/west',
      prune: true,
      wait: true,
      sourceRef: { kind: 'GitRepository', name: 'meshfed' },
    });
    expect(imports.spec.dependsOn).toBeUndefined();
    // Deleting a phase Kustomization must not delete the mesh; the import Kustomizations garbage-collect (03 -> 02 rollback).
    expect(docs(path.join(dist, 'flux', 'east', 'kustomization-meshfed-east.yaml'))[0].spec.deletionPolicy).toBe('Orphan');
    expect(imports.spec.deletionPolicy).toBeUndefined();
    expect(
      kustomize(path.join(dist, 'flux', 'east'))
        .map((o) => o.metadata.name)
        .sort(),
    ).toEqual(['meshfed', 'meshfed-east', 'meshfed-east-imports-west']);
    expect([...kustomize(path.join(dist, 'argocd')), ...kustomize(path.join(dist, 'flux', 'east'))].flatMap(crdProblems)).toEqual([]);
  });

  const refusals: [string, Record<string, string>, string[]][] = [
    [
      'an importer at 03 before its exporter is at 02',
      { west: '01-prepare', east: '03-import' },
      [
        'clusters/east/cluster.yaml:7, ClusterSettings east, field spec.phase',
        'east cannot be at 03-import yet: west must be at 02-export or later first',
        'west is at 01-prepare',
      ],
    ],
    [
      'an exporter removing the federation before its importer is at 03',
      { west: '04-remove-federation', east: '02-export' },
      ['field spec.phase: west cannot be at 04-remove-federation yet: east must be at 03-import or later first'],
    ],
    [
      'clients on OSSM 3 before the services they call are reachable (exporter at 01)',
      { west: '01-prepare', east: '06-migrate-workloads' },
      ['east cannot be at 06-migrate-workloads yet: west must be at 02-export or later first'],
    ],
  ];
  test.each(refusals)('synth refuses %s, naming what must come first; dist/ unchanged', (_n, pointers, expected) => {
    const dir = copyTree(EXAMPLE_CLUSTERS);
    const out = path.join(fs.mkdtempSync('/tmp/meshfed-gate-'), 'dist');
    expect(runCli(['--clusters', dir, '--out', out]).code).toBe(0);
    const before = readTree(out);
    for (const [c, p] of Object.entries(pointers)) setPhase(dir, c, p);
    const cwd = process.cwd();
    process.chdir(path.dirname(dir));
    try {
      const res = runCli(['--clusters', path.basename(dir), '--out', out]);
      expect(res.code).toBe(1);
      for (const e of expected) expect(res.stderr.replace(new RegExp(path.basename(dir), 'g'), 'clusters')).toContain(e);
    } finally {
      process.chdir(cwd);
    }
    expect(readTree(out)).toEqual(before);
  });

  test('a pointer at a phase that is not written yet is refused with what to set', () => {
    const dir = copyTree(EXAMPLE_CLUSTERS);
    fs.writeFileSync(
      path.join(dir, 'west', 'cluster.yaml'),
      fs.readFileSync(path.join(dir, 'west', 'cluster.yaml'), 'utf8').replace(/\n\s+address: 198.51.100.20/, ''),
    );
    setPhase(dir, 'west', '02-export');
    setPhase(dir, 'east', '03-import');
    const res = runCli(['--clusters', dir, '--out', path.join(fs.mkdtempSync('/tmp/meshfed-'), 'dist')]);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain("east cannot be at 03-import: this phase is not written yet. west's east-west gateway address is unknown");
  });

  test('meshfed plan: table and --json say what blocks each next phase, and which phase dist/ holds', () => {
    const dir = copyTree(EXAMPLE_CLUSTERS);
    setPhase(dir, 'west', '01-prepare');
    setPhase(dir, 'east', '01-prepare');
    const { dist } = synthTo(dir);
    setPhase(dir, 'west', '02-export');
    setPhase(dir, 'east', '02-export');
    // In process, printing to a stream that is not a terminal (no colour: checked below).
    const meshfed = (args: string[]) => {
      const { value: code, out } = captureConsole(() =>
        runPlan(['--clusters', dir, '--out', dist, ...args], {}, { isTTY: false } as never),
      );
      expect(code).toBe(0);
      return out.map((l) => `${l}\n`).join('');
    };
    const json = JSON.parse(meshfed(['--json']));
    expect(json.clusters).toEqual([
      { cluster: 'east', current: '02-export', next: '03-import', blockedBy: [], rendered: '01-prepare' },
      { cluster: 'west', current: '02-export', next: '03-import', blockedBy: [], rendered: '01-prepare' },
    ]);
    setPhase(dir, 'east', '03-import');
    const table = meshfed([]);
    const lines = table.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^CLUSTER\s+CURRENT\s+IN DIST\s+NEXT\s+BLOCKED BY$/);
    // The pointer moved in cluster.yaml, dist/ still holds 01-prepare: synth before committing.
    expect(table).toMatch(/east\s+03-import\s+01-prepare: synth\s+04-remove-federation\s+ready/);
    expect(table).toMatch(/west\s+02-export\s+01-prepare: synth\s+03-import\s+ready/);
    expect(table).not.toMatch(/\u001b\[/);
  });
});

describe.each([
  ['bundled example', () => EXAMPLE_CLUSTERS],
  ['three meshes', () => writeClusters(threeMeshSpecs())],
])('delivery objects — %s', (name, clusters) => {
  let dist: string;
  let gitopsObjs: string[];
  beforeAll(() => {
    const dir = copyTree(clusters());
    if (name === 'three meshes') fs.copyFileSync(path.join(EXAMPLE_CLUSTERS, 'gitops.yaml'), path.join(dir, 'gitops.yaml'));
    ({ dist } = synthTo(dir));
    gitopsObjs = [...readTree(dist).keys()].filter(
      (f) => /^(argocd|flux)\/.*\.yaml$/.test(f) && !f.endsWith('kustomization.yaml') && !f.includes('.patch.'),
    );
  });

  test('Argo CD and Flux objects are valid against their CRD schemas', () => {
    const objs = gitopsObjs.flatMap((f) => docs(path.join(dist, f)));
    expect(new Set(objs.map((o) => o.kind))).toEqual(new Set(['Application', 'GitRepository', 'Kustomization']));
    expect(objs.flatMap(crdProblems)).toEqual([]);
  });

  test('dist/argocd and each dist/flux/<cluster> build with kubectl kustomize', () => {
    expect(kustomize(path.join(dist, 'argocd')).every((o) => o.kind === 'Application')).toBe(true);
    const entries = fs.readdirSync(path.join(dist, 'flux'));
    for (const c of entries.filter((e) => fs.statSync(path.join(dist, 'flux', e)).isDirectory()))
      expect(
        kustomize(path.join(dist, 'flux', c))
          .map((o) => o.kind)
          .sort(),
      ).toEqual(['GitRepository', 'Kustomization']);
    // The one Kustomization applied by hand: Flux then applies dist/flux/<cluster> itself, with prune, never deleting the mesh.
    for (const b of entries.filter((e) => e.startsWith('bootstrap-'))) {
      const [k] = docs(path.join(dist, 'flux', b));
      // No wait: it would health-check the phase Kustomization, which is not Ready while a phase runs its Jobs.
      expect(k.spec).toMatchObject({
        path: `./dist/flux/${b.replace(/^bootstrap-|\.yaml$/g, '')}`,
        prune: true,
        wait: false,
        deletionPolicy: 'Orphan',
      });
      expect(crdProblems(k)).toEqual([]);
    }
  });

  test('Applications: automated prune and self-heal, PruneLast, server-side apply, Delete=false, no finalizer', () => {
    const applications = gitopsObjs.filter((x) => x.startsWith('argocd/application-'));
    expect(applications.length).toBeGreaterThan(0);
    for (const f of applications) {
      const app = docs(path.join(dist, f))[0];
      expect(app.metadata).not.toHaveProperty('finalizers');
      // For the root Application, which manages it: deleting the root keeps the cluster's delivery.
      expect(app.metadata.annotations).toEqual({ 'argocd.argoproj.io/sync-options': 'Delete=false' });
      expect(app.spec.syncPolicy.automated).toEqual({ prune: true, selfHeal: true });
      expect(app.spec.syncPolicy.syncOptions).toEqual(['Delete=false', 'PruneLast=true', 'ServerSideApply=true']);
    }
  });

  test('the root Application applies dist/argocd with every commit: no prune, no self-heal, Delete=false', () => {
    const [root] = docs(path.join(dist, 'argocd', 'root.yaml'));
    expect(root.metadata).toMatchObject({ name: 'meshfed', namespace: 'openshift-gitops' });
    expect(root.metadata).not.toHaveProperty('finalizers');
    expect(root.spec.source).toEqual({
      repoURL: 'https://git.example.com/platform/mesh-gitops.git',
      targetRevision: 'HEAD',
      path: 'dist/argocd',
    });
    expect(root.spec.syncPolicy.automated).toEqual({ prune: false, selfHeal: false });
    expect(root.spec.syncPolicy.syncOptions).toEqual(['Delete=false', 'RespectIgnoreDifferences=true']);
    expect(root.spec.ignoreDifferences).toEqual([
      { group: 'argoproj.io', kind: 'Application', jsonPointers: ['/operation', '/metadata/annotations/argocd.argoproj.io~1refresh'] },
    ]);
    // What the root syncs is the build of dist/argocd: the clusters' Applications, never itself.
    const built = kustomize(path.join(dist, 'argocd')).map((o) => `${o.kind}/${o.metadata.name}`);
    const clusters = gitopsObjs
      .filter((x) => x.startsWith('argocd/application-'))
      .map((f) => f.replace(/^argocd\/application-|\.yaml$/g, ''));
    expect(built.sort()).toEqual(clusters.map((c) => `Application/meshfed-${c}`).sort());
  });

  test('no Secret is ever rendered', () => {
    const rendered = [...readTree(dist)].filter(([f]) => f.endsWith('.yaml'));
    expect(rendered.length).toBeGreaterThan(0);
    for (const [f, content] of rendered) {
      expect(`${f}: ${/^kind: Secret$/m.test(content)}`).toBe(`${f}: false`);
      expect(content).not.toContain('PRIVATE KEY');
    }
  });
});

describe('Flux waits as long as the Jobs of a phase may run (production example, east at each phase)', () => {
  let result: RenderResult;
  beforeAll(() => (result = render(path.join(__dirname, '..', 'examples', 'production-smcp', 'clusters'), { skipPointerRules: true })));
  test.each(PHASES)('%s: the phase Kustomization times out only after every Job deadline, and never below 30 minutes', (phase) => {
    const files = filesAtPointers(result, { east: phase })!;
    const [ks] = parseAll(files.get('flux/east/kustomization-meshfed-east.yaml')!, 'kustomization-meshfed-east.yaml') as Obj[];
    const timeout = parseDuration(ks.spec.timeout)!;
    expect(timeout % 60).toBe(0);
    expect(timeout).toBeGreaterThanOrEqual(1800);
    const jobs = buildKustomization(memoryTree(files), `east/${phase}`).filter((o) => o.kind === 'Job') as Obj[];
    if (['03-import', '06-migrate-workloads', '07-finalize'].includes(phase)) expect(jobs.length).toBeGreaterThan(0);
    // Applying and starting the Jobs take their time too: five minutes past the longest deadline.
    for (const j of jobs) expect(`${j.metadata.name}: ${timeout >= j.spec.activeDeadlineSeconds + 300}`).toBe(`${j.metadata.name}: true`);
  });

  test('07: the hand-over RBAC is PostSync hooks a wave before the Job, deleted by Argo CD once the sync succeeded', () => {
    const objs = buildKustomization(memoryTree(filesAtPointers(result, { east: '07-finalize' })!), 'east/07-finalize') as Obj[];
    const handover = objs.filter((o) => String(o.metadata.name).startsWith('meshfed-handover'));
    const job = handover.find((o) => o.kind === 'Job')!;
    const rbac = handover.filter((o) => o.kind !== 'Job');
    expect(rbac.map((o) => `${o.kind}/${o.metadata.namespace}`).sort()).toEqual([
      'Role/internal-gw',
      'Role/istio-system',
      'RoleBinding/internal-gw',
      'RoleBinding/istio-system',
      'ServiceAccount/istio-system',
    ]);
    const wave = (o: Obj) => Number(o.metadata.annotations?.['argocd.argoproj.io/sync-wave'] ?? 0);
    expect(job.metadata.annotations?.['argocd.argoproj.io/hook']).toBe('PostSync');
    for (const o of rbac) {
      expect(o.metadata.annotations).toMatchObject({
        'argocd.argoproj.io/hook': 'PostSync',
        'argocd.argoproj.io/hook-delete-policy': 'BeforeHookCreation,HookSucceeded',
      });
      expect(`${o.kind}/${o.metadata.namespace}: ${wave(o) < wave(job)}`).toBe(`${o.kind}/${o.metadata.namespace}: true`);
    }
  });
});

describe('hooks, waves and least privilege (bundled example, all phases)', () => {
  let dist: string;
  let state: Map<string, Obj[]>;
  beforeAll(() => {
    ({ dist } = synthTo(EXAMPLE_CLUSTERS));
    state = new Map(['east', 'west'].flatMap((c) => PHASES.map((p) => [`${c}/${p}`, desiredState(dist, c, p)] as [string, Obj[]])));
  });
  const jobs = (c: string, p: string) => state.get(`${c}/${p}`)!.filter((o) => o.kind === 'Job');

  test('the restart Job exists only in 06, as an Argo CD PostSync hook that Flux re-runs by name', () => {
    for (const c of ['east', 'west']) {
      for (const p of PHASES) {
        const restart = jobs(c, p).filter((j) => j.metadata.name.startsWith('meshfed-restart-workloads'));
        expect(`${c}/${p}: ${restart.length}`).toBe(`${c}/${p}: ${p === '06-migrate-workloads' ? 1 : 0}`);
        for (const j of restart) {
          expect(j.metadata.annotations).toMatchObject({
            'argocd.argoproj.io/hook': 'PostSync',
            'argocd.argoproj.io/hook-delete-policy': 'BeforeHookCreation,HookSucceeded',
            'kustomize.toolkit.fluxcd.io/force': 'enabled',
          });
        }
      }
    }
  });

  test('verify Jobs: only where probes are set, one per phase from 03 to 06, after the restart; 07 removes them and their RBAC', () => {
    for (const p of PHASES) {
      const verify = jobs('east', p).filter((j) => j.metadata.name.startsWith('meshfed-verify'));
      expect(`${p}: ${verify.length}`).toBe(`${p}: ${PHASES.indexOf(p) >= 3 && PHASES.indexOf(p) <= 6 ? 1 : 0}`);
      for (const v of verify) {
        expect(v.metadata.name).toContain(`-${p.slice(0, 2)}-`);
        expect(Number(v.metadata.annotations!['argocd.argoproj.io/sync-wave'])).toBeGreaterThan(0);
        expect(v.spec.template.spec.containers[0].command[2]).toContain(
          "probe 'client' 'curl' 'curl' 'http://httpbin.a.svc.west-mesh-imports.local:8000/headers'",
        );
      }
      expect(jobs('west', p).filter((j) => j.metadata.name.startsWith('meshfed-verify'))).toEqual([]);
    }
    // The verify Role grants pods/exec in the probe namespaces: it must not outlive the migration.
    const final = desiredState(dist, 'east', '07-finalize').filter((o) => o.metadata.name === 'meshfed-verify');
    expect(final).toEqual([]);
    expect(
      desiredState(dist, 'east', '06-migrate-workloads')
        .filter((o) => o.metadata.name === 'meshfed-verify')
        .map((o) => o.kind)
        .sort(),
    ).toEqual(['Role', 'RoleBinding', 'ServiceAccount']);
  });

  test('each verify Job first waits for the restart Jobs of its phase, which its ServiceAccount may only get (Flux starts them together)', () => {
    const steps = (j: Obj) => JSON.parse(j.metadata.annotations!['meshfed.dev/steps']) as { op: string; name?: string }[];
    const restarts = (p: string) =>
      jobs('east', p)
        .filter((j) => j.metadata.name.startsWith('meshfed-restart'))
        .map((j) => j.metadata.name)
        .sort();
    for (const p of ['03-import', '04-remove-federation', '05-install-ossm3', '06-migrate-workloads']) {
      const [verify] = jobs('east', p).filter((j) => j.metadata.name.startsWith('meshfed-verify'));
      const waits = steps(verify).filter((x) => x.op === 'wait-job');
      expect(`${p}: ${waits.map((w) => w.name).join(',')}`).toBe(`${p}: ${restarts(p).join(',')}`);
      expect(steps(verify).findIndex((x) => x.op === 'probe')).toBeGreaterThan(steps(verify).findIndex((x) => x.op === 'wait-job'));
      expect(verify.spec.activeDeadlineSeconds).toBeGreaterThan(
        Math.max(
          ...jobs('east', p)
            .filter((j) => j.metadata.name.startsWith('meshfed-restart'))
            .map((j) => j.spec.activeDeadlineSeconds),
        ),
      );
    }
    expect(restarts('06-migrate-workloads')).toHaveLength(2);
    const role = desiredState(dist, 'east', '06-migrate-workloads').find(
      (o) => o.kind === 'Role' && o.metadata.name === 'meshfed-verify-jobs',
    )!;
    expect(role.rules).toEqual([
      { apiGroups: ['batch'], resources: ['jobs'], verbs: ['get'], resourceNames: restarts('06-migrate-workloads') },
    ]);
    const binding = desiredState(dist, 'east', '03-import').find(
      (o) => o.kind === 'RoleBinding' && o.metadata.name === 'meshfed-verify-jobs',
    )!;
    expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: 'meshfed-verify', namespace: 'istio-system' }]);
    expect(desiredState(dist, 'east', '07-finalize').filter((o) => o.metadata.name === 'meshfed-verify-jobs')).toEqual([]);
  });

  test('RBAC is namespaced and minimal; the one ClusterRole may only get and patch the migrated Namespaces', () => {
    const all = [...state.values()].flat();
    const clusterRoles = all.filter((o) => o.kind === 'ClusterRole');
    for (const cr of clusterRoles) {
      expect(cr.metadata.name).toBe('meshfed-restart-workloads');
      expect(cr.rules).toEqual([{ apiGroups: [''], resources: ['namespaces'], verbs: ['get', 'patch'], resourceNames: expect.any(Array) }]);
      expect(cr.rules[0].resourceNames.length).toBeGreaterThan(0);
    }
    expect(all.filter((o) => o.kind === 'ClusterRoleBinding').every((b) => b.roleRef.name === 'meshfed-restart-workloads')).toBe(true);
    for (const r of all.filter((o) => o.kind === 'Role')) {
      for (const rule of r.rules) {
        expect(rule.verbs.every((v: string) => ['patch', 'get', 'list', 'watch', 'create'].includes(v))).toBe(true);
        if (rule.verbs.includes('patch') || rule.verbs.includes('watch')) expect(rule.resourceNames.length).toBeGreaterThan(0);
        if (rule.verbs.includes('create')) expect(rule.resources).toEqual(['pods/exec']);
      }
    }
    for (const j of all.filter((o) => o.kind === 'Job')) {
      // Every hook Job ends: a PostSync hook must not stay Running forever.
      expect(j.spec.activeDeadlineSeconds).toBeGreaterThan(0);
      const spec = j.spec.template.spec;
      expect(spec.securityContext.runAsNonRoot).toBe(true);
      expect(spec.containers[0].securityContext).toEqual({ allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
    }
  });

  test('07 removes the restart Job and its RBAC', () => {
    const s = state.get('west/07-finalize')!;
    expect(s.filter((o) => o.metadata.name.startsWith('meshfed-restart'))).toEqual([]);
  });

  test('sync waves: Namespaces, then control planes, then gateways, then entries; Sail kinds skip dry-run', () => {
    const wave = (o: Obj) => Number(o.metadata.annotations?.['argocd.argoproj.io/sync-wave']);
    const s = [...state.get('west/05-install-ossm3')!, ...state.get('east/05-install-ossm3')!];
    const of = (kind: string) => s.filter((o) => o.kind === kind).map(wave);
    expect(Math.max(...of('Namespace'))).toBeLessThan(Math.min(...of('Istio'), ...of('ServiceMeshControlPlane')));
    expect(Math.max(...of('Istio'))).toBeLessThan(Math.min(...of('Gateway')));
    expect(Math.max(...of('Gateway'))).toBeLessThan(Math.min(...of('ServiceEntry'), ...of('WorkloadEntry')));
    for (const o of s.filter((x) => x.apiVersion.startsWith('sailoperator.io/')))
      expect(o.metadata.annotations!['argocd.argoproj.io/sync-options']).toBe('SkipDryRunOnMissingResource=true,Delete=false');
  });

  test('deleting an Application deletes nothing: every object that is not a hook says Delete=false', () => {
    const all = [...state.values()].flat();
    expect(all.length).toBeGreaterThan(50);
    const without = all.filter(
      (o) =>
        !o.metadata.annotations?.['argocd.argoproj.io/hook'] &&
        !o.metadata.annotations?.['argocd.argoproj.io/sync-options']?.includes('Delete=false'),
    );
    expect(without.map((o) => `${o.kind} ${o.metadata.namespace ?? ''}/${o.metadata.name}`)).toEqual([]);
  });

  test('spec.argocd.automated: false renders an Application without automated sync', () => {
    const dir = copyTree(EXAMPLE_CLUSTERS);
    const f = path.join(dir, 'east', 'cluster.yaml');
    fs.writeFileSync(f, fs.readFileSync(f, 'utf8') + '  argocd:\n    automated: false\n');
    const { dist: d } = synthTo(dir);
    expect(docs(path.join(d, 'argocd', 'application-east.yaml'))[0].spec.syncPolicy.automated).toBeUndefined();
    expect(docs(path.join(d, 'argocd', 'application-west.yaml'))[0].spec.syncPolicy.automated).toEqual({ prune: true, selfHeal: true });
  });

  test('07 prunes members, then the member roll, then the SMCP (reverse waves, SMCP PruneLast, no app-wide PruneLast)', () => {
    const wave = (o: Obj) => Number(o.metadata.annotations?.['argocd.argoproj.io/sync-wave']);
    const all = [...state.values()].flat();
    const smcp = all.find((o) => o.kind === 'ServiceMeshControlPlane')!;
    expect(smcp.metadata.annotations!['argocd.argoproj.io/sync-options']).toBe('PruneLast=true,Delete=false');
    for (const roll of all.filter((o) => o.kind === 'ServiceMeshMemberRoll')) expect(wave(roll)).toBeGreaterThan(wave(smcp));
    for (const m of all.filter((o) => o.kind === 'ServiceMeshMember'))
      expect(wave(m)).toBeGreaterThan(wave(all.find((o) => o.kind === 'ServiceMeshMemberRoll') ?? smcp));
    const dir = copyTree(EXAMPLE_CLUSTERS);
    for (const [c, p] of [
      ['west', '07-finalize'],
      ['east', '07-finalize'],
    ] as const)
      setPhase(dir, c, p);
    const { dist: d } = synthTo(dir);
    expect(docs(path.join(d, 'argocd', 'application-east.yaml'))[0].spec.syncPolicy.syncOptions).toEqual([
      'Delete=false',
      'ServerSideApply=true',
    ]);
  });

  test('the health checks cover Istio, IstioCNI, the SMCP, child Applications and Gateways (istio-remote)', () => {
    const cm = docs(path.join(dist, 'argocd', 'argocd-cm-health.patch.yaml'))[0];
    expect(Object.keys(cm.data).sort()).toEqual([
      'resource.customizations.health.argoproj.io_Application',
      'resource.customizations.health.gateway.networking.k8s.io_Gateway',
      'resource.customizations.health.maistra.io_ServiceMeshControlPlane',
      'resource.customizations.health.sailoperator.io_Istio',
      'resource.customizations.health.sailoperator.io_IstioCNI',
    ]);
    expect(cm.data['resource.customizations.health.sailoperator.io_Istio']).toContain('c.type == "Ready"');
  });
});

describe('cacerts and gitops.yaml', () => {
  test('OSSM 3 in another namespace: an ExternalSecret when a store is named, copy instructions otherwise', () => {
    const specs = threeMeshSpecs();
    specs[0] = {
      ...specs[0],
      settings: {
        ...specs[0].settings,
        ossm3: {
          version: 'v1.27.3',
          namespace: 'istio-system',
          cacerts: { externalSecret: { storeRef: { name: 'vault' }, key: 'mesh/red/cacerts' } },
        },
      },
    };
    specs[1] = { ...specs[1], settings: { ...specs[1].settings, ossm3: { version: 'v1.27.3', namespace: 'istio-system' } } };
    const { dist } = synthTo(writeClusters(specs));
    const red = desiredState(dist, 'red', '05-install-ossm3');
    const es = red.find((o) => o.kind === 'ExternalSecret')!;
    expect(es.metadata).toMatchObject({ name: 'cacerts', namespace: 'istio-system' });
    expect(es.spec.dataFrom).toEqual([{ extract: { key: 'mesh/red/cacerts' } }]);
    expect(crdProblems(es)).toEqual([]);
    expect(desiredState(dist, 'green', '05-install-ossm3').some((o) => o.kind === 'ExternalSecret')).toBe(false);
    const runbook = fs.readFileSync(path.join(dist, 'README.md'), 'utf8');
    expect(runbook).toContain('kubectl --context green get secret cacerts -n green-mesh-system -o json');
    expect(runbook).toContain('.metadata.namespace="istio-system"');
  });

  test('without clusters/gitops.yaml, dist/argocd and dist/flux are not written and synth says so once', () => {
    const dir = copyTree(EXAMPLE_CLUSTERS);
    fs.rmSync(path.join(dir, 'gitops.yaml'));
    const out = path.join(fs.mkdtempSync('/tmp/meshfed-'), 'dist');
    const res = runCli(['--clusters', dir, '--out', out]);
    expect(res.code).toBe(0);
    expect(res.stderr.match(/gitops\.yaml: dist\/argocd and dist\/flux are not written/g)).toHaveLength(1);
    expect(fs.existsSync(path.join(out, 'argocd'))).toBe(false);
    expect(fs.existsSync(path.join(out, 'flux'))).toBe(false);
  });
});

describe('runbook (dist/README.md)', () => {
  let dist: string;
  let result: RenderResult;
  let md: string;
  beforeAll(() => {
    ({ dist, result } = synthTo(EXAMPLE_CLUSTERS));
    md = fs.readFileSync(path.join(dist, 'README.md'), 'utf8');
  });

  test('a Mermaid diagram with each mesh, each east-west gateway and each import labelled with its hostname', () => {
    const block = /```mermaid\n([\s\S]*?)```/.exec(md)![1];
    expect(block).toContain('subgraph east["east · east.local · network-east-mesh"]');
    expect(block).toContain('subgraph west["west · west.local · network-west-mesh"]');
    expect(block).toContain('west_ew[["east-west gateway istio-ingress/eastwestgateway<br/>198.51.100.20:15443"]]');
    expect(block).toContain('east_clients -- "httpbin.a.svc.west-mesh-imports.local" --> west_ew');
    expect(block).toContain('east_clients -- "httpbin.b.svc.cluster.local" --> west_ew');
  });

  test('every phase has its section with every cluster, gate, verification, rollback', () => {
    for (const p of PHASES) {
      const section = md.split(`## ${p} — `)[1].split('\n## ')[0];
      for (const c of result.plan.clusters) expect(section).toMatch(new RegExp(`^\\| ${c} \\| \\d+: `, 'm'));
      expect(section).toContain('**Gate.**');
      expect(section).toContain('**Rollback.**');
      expect(section).toMatch(/- east: /);
    }
  });

  test('commands use the real names', () => {
    expect(md).toContain(
      'kubectl --context east exec -n client deploy/curl -c curl -- curl -sS -o /dev/null -w ' +
        "'%{http_code}\\n' http://httpbin.b.svc.cluster.local:8000/headers",
    );
    expect(md).toContain('kubectl --context east get gateway remote-gateway-network-west-mesh -n istio-system');
    expect(md).toContain('kubectl --context west get svc eastwestgateway-istio -n istio-ingress');
    expect(md).toContain('kubectl --context west get servicemeshpeer east-mesh -n istio-system');
    expect(md).toContain('istioctl --context east -i istio-system proxy-config endpoints deploy/curl -n client');
    expect(md).toContain('Prune deletes what this phase added: `Gateway istio-system/remote-gateway-network-west-mesh`');
  });
});

describe('namespaces that existed before meshfed are never pruned or deleted', () => {
  const KEEP = { 'argocd.argoproj.io/sync-options': 'Prune=false,Delete=false', 'kustomize.toolkit.fluxcd.io/prune': 'disabled' };
  test('adopted member Namespaces carry the Argo CD and Flux keep annotations', () => {
    const { dist } = synthTo(EXAMPLE_CLUSTERS);
    const client = desiredState(dist, 'east', '00-federation').find((o) => o.kind === 'Namespace' && o.metadata.name === 'client')!;
    expect(client.metadata.annotations).toMatchObject(KEEP);
  });
  test('an east-west gateway in the SMCP namespace: istio-system is rendered with the keep annotations and no rollback prunes it', () => {
    const dir = copyTree(EXAMPLE_CLUSTERS);
    const f = path.join(dir, 'west', 'cluster.yaml');
    fs.writeFileSync(f, fs.readFileSync(f, 'utf8').replace('    namespace: istio-ingress\n', '    namespace: istio-system\n'));
    const { dist, result } = synthTo(dir);
    const ns = desiredState(dist, 'west', '02-export').find((o) => o.kind === 'Namespace' && o.metadata.name === 'istio-system')!;
    expect(ns.metadata.annotations).toMatchObject(KEEP);
    const runbook = result.files.get('README.md')!;
    const section = runbook.slice(runbook.indexOf('## 02-export'), runbook.indexOf('## 03-import'));
    expect(section).toContain('Prune deletes');
    expect(section).not.toMatch(/Prune deletes what this phase added: [^.]*Namespace istio-system/);
    expect(section).toMatch(/Kept as they are [^:]*: [^.]*`Namespace istio-system`/);
  });
  test('a Namespace meshfed creates (the east-west gateway in istio-ingress) is not kept', () => {
    const { dist } = synthTo(EXAMPLE_CLUSTERS);
    const ns = desiredState(dist, 'west', '02-export').find((o) => o.kind === 'Namespace' && o.metadata.name === 'istio-ingress')!;
    expect(ns.metadata.annotations?.['kustomize.toolkit.fluxcd.io/prune']).toBeUndefined();
  });
  test('a Namespace another GitOps delivery tracks is adopted without its markers, with a warning naming the owner', () => {
    const dir = copyTree(EXAMPLE_CLUSTERS);
    const f = path.join(dir, 'east', 'ossm2', 'namespaces.yaml');
    fs.writeFileSync(
      f,
      fs
        .readFileSync(f, 'utf8')
        .replace(
          '      openshift.io/sa.scc.mcs: s0:c27,c4\n',
          '      openshift.io/sa.scc.mcs: s0:c27,c4\n      argocd.argoproj.io/tracking-id: team-apps:/Namespace:/client\n',
        ),
    );
    const res = runCli(['--clusters', dir, '--out', path.join(fs.mkdtempSync('/tmp/meshfed-'), 'dist')]);
    expect(res.code).toBe(0);
    expect(res.stderr).toContain('Namespace client is tracked by Argo CD application team-apps (argocd.argoproj.io/tracking-id)');
    const { dist } = synthTo(dir);
    const client = desiredState(dist, 'east', '00-federation').find((o) => o.kind === 'Namespace' && o.metadata.name === 'client')!;
    expect(client.metadata.annotations).not.toHaveProperty('argocd.argoproj.io/tracking-id');
  });
});
