/**
 * MF026: the pods meshfed's restart Jobs (03 on an importer, 06 everywhere) cannot restart are named, each
 * with what the operator runs and by when.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import { loadAll } from 'js-yaml';
import { stringify } from 'yaml';

import { analyse } from './support/analyse';
import { copyTree, EXAMPLE_CLUSTERS } from './support/fixtures';
import { runCli, synthTo } from './support/synth';
import { runChecks } from '../lib/check';
import { restartScript } from '../lib/constructs/restart-job';
import { render } from '../lib/pipeline/render';

const meta = (kind: string, name: string, extra: Record<string, unknown> = {}) => ({
  kind,
  metadata: { name, namespace: 'client', ...extra },
});
const owner = { ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name: 'x', uid: 'u' }] };
// Injected by OSSM 2 (the pod opts in): the restart Jobs must restart it (lib/plan/restart.ts ossm2Sidecar).
const template = {
  metadata: { labels: { app: 'db' }, annotations: { 'sidecar.istio.io/inject': 'true' } },
  spec: { containers: [{ name: 'db', image: 'db' }] },
};

/** The bundled example with east's member namespace `client` holding every kind the Jobs skip. */
function withUnrestartable(): string {
  const dir = copyTree(EXAMPLE_CLUSTERS);
  const objects = [
    { apiVersion: 'apps.openshift.io/v1', ...meta('DeploymentConfig', 'legacy'), spec: { replicas: 1, template } },
    { apiVersion: 'argoproj.io/v1alpha1', ...meta('Rollout', 'canary'), spec: { template } },
    { apiVersion: 'batch/v1', ...meta('CronJob', 'nightly'), spec: { schedule: '0 1 * * *', jobTemplate: { spec: { template } } } },
    { apiVersion: 'batch/v1', ...meta('Job', 'migrate'), spec: { template } },
    { apiVersion: 'batch/v1', ...meta('Job', 'nightly-123', owner), spec: { template } },
    { apiVersion: 'v1', ...meta('Pod', 'debug'), spec: template.spec },
    { apiVersion: 'v1', ...meta('Pod', 'curl-5d8f-abcde', owner), spec: template.spec },
    {
      apiVersion: 'apps/v1',
      ...meta('StatefulSet', 'db'),
      spec: { replicas: 3, selector: { matchLabels: { app: 'db' } }, template, updateStrategy: { type: 'OnDelete' } },
    },
    {
      apiVersion: 'apps/v1',
      ...meta('StatefulSet', 'cache'),
      spec: {
        replicas: 3,
        selector: { matchLabels: { app: 'db' } },
        template,
        updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 2 } },
      },
    },
  ];
  fs.writeFileSync(path.join(dir, 'east', 'ossm2', 'restarts-client.yaml'), objects.map((o) => stringify(o)).join('---\n'));
  return dir;
}

describe('MF026 workload restarts', () => {
  test('does not trigger on the bundled example (Deployments only)', () => {
    const a = analyse(EXAMPLE_CLUSTERS);
    expect(runChecks(a.model, a.plan, ['MF026'])).toEqual([]);
  });

  test('triggers on every kind the restart Jobs skip, at each phase whose Job misses it, with the command', () => {
    const a = analyse(withUnrestartable());
    const found = runChecks(a.model, a.plan, ['MF026']);
    const at = (phase: string) =>
      found
        .filter((f) => f.phase === phase)
        .map((f) => f.location!.object)
        .sort();
    // Owned Jobs and pods are their owners' (the CronJob's, a controller's): not named.
    const named = [
      'CronJob client/nightly',
      'DeploymentConfig client/legacy',
      'Job client/migrate',
      'Pod client/debug',
      'Rollout client/canary',
      'StatefulSet client/cache',
      'StatefulSet client/db',
    ];
    expect(at('03-import')).toEqual(named);
    expect(at('06-migrate-workloads')).toEqual(named);
    expect(found.every((f) => f.severity === 'warning' && f.cluster === 'east')).toBe(true);
    const text = (object: string, phase: string) => {
      const f = found.find((x) => x.location!.object === object && x.phase === phase)!;
      return `${f.problem} ${f.fix}`;
    };
    expect(text('DeploymentConfig client/legacy', '03-import')).toBe(
      "DeploymentConfig client/legacy is not restarted by meshfed's 03-import Job (it patches Deployments, StatefulSets and " +
        'DaemonSets): its pods keep a proxy without the mesh network, which gets no endpoint for any import once an exporter ' +
        "removes the federation path (04). After 03-import syncs, before any exporter's 04-remove-federation, run " +
        '`oc rollout latest dc/legacy -n client` and wait for `oc rollout status dc/legacy -n client`.',
    );
    expect(text('Rollout client/canary', '06-migrate-workloads')).toContain(
      'its pods keep its OSSM 2 sidecar, which loses its control plane at 07. After 06-migrate-workloads syncs, before ' +
        '07-finalize, run `kubectl argo rollouts restart canary -n client`',
    );
    expect(text('StatefulSet client/db', '03-import')).toContain(
      "uses updateStrategy OnDelete: meshfed's 03-import Job patches its pod template, but no pod is replaced until it is deleted",
    );
    expect(text('StatefulSet client/cache', '03-import')).toContain(
      "has updateStrategy.rollingUpdate.partition 2: meshfed's 03-import Job sees its rollout done with the pods below ordinal 2 " +
        'not restarted',
    );
    expect(text('StatefulSet client/cache', '03-import')).toContain('delete pods 0 to 1 one at a time');
    expect(text('Pod client/debug', '06-migrate-workloads')).toContain('has no owner');
    expect(text('CronJob client/nightly', '03-import')).toContain('wait for the Jobs it started before to finish, or delete them');
    // A namespace no restart covers (west's) is not reported, and the finding points at the object's line.
    expect(found.find((f) => f.location!.object === 'StatefulSet client/db')!.location).toMatchObject({
      file: expect.stringMatching(/restarts-client\.yaml$/),
      field: 'spec.updateStrategy',
    });
  });
});

/** The bundled example with east's cluster.yaml leaving workloads out of the 03 restart, at `phase`. */
function skipping(entries: string[], phase = '00-federation'): string {
  const dir = copyTree(EXAMPLE_CLUSTERS);
  const file = path.join(dir, 'east', 'cluster.yaml');
  const text = fs.readFileSync(file, 'utf8');
  const next = text
    .replace(/\n(\s+)workloadRestart:\n/, `\n$1workloadRestart:\n$1  skipNetworkRestart: [${entries.join(', ')}]\n`)
    .replace('phase: 00-federation', `phase: ${phase}`);
  expect(next).toContain('skipNetworkRestart');
  fs.writeFileSync(file, next);
  return dir;
}

describe('spec.workloadRestart.skipNetworkRestart: a per-workload opt-out of the 03 restart', () => {
  test('leaves the workload out of the 03 Job (not the 06 one); MF026 names it at its line; MF001 takes the user at their word', () => {
    const dir = skipping(['client/Deployment/curl']);
    const a = analyse(dir);
    const jobs = (phase: number) => a.plan.byCluster.east[phase].adds.filter((r) => r.type === 'restartJob');
    // curl was east's only member workload: no 03 Job at all; 06 still moves it to OSSM 3.
    expect(jobs(3)).toEqual([]);
    expect(jobs(6).flatMap((j) => (j.type === 'restartJob' ? j.workloads.map((w) => w.name) : []))).toEqual(['curl']);
    const found = a.findings.filter((f) => f.rule === 'MF026');
    expect(found.map((f) => `${f.phase}: ${f.problem} ${f.fix}`)).toEqual([
      "03-import: Deployment client/curl is left out of meshfed's 03-import restart (spec.workloadRestart.skipNetworkRestart): its " +
        'pods keep a proxy without the mesh network, which gets no endpoint for any import once an exporter removes the ' +
        'federation path (04). Leave it out only if it calls no imported service; otherwise take it off the list, or restart it ' +
        "yourself after 03-import syncs, before any exporter's 04-remove-federation (`oc rollout restart deployment/curl -n client`).",
    ]);
    expect(found[0].location).toMatchObject({ field: 'spec.workloadRestart.skipNetworkRestart[0]' });
    expect(a.findings.filter((f) => f.severity === 'error')).toEqual([]);
  });

  test('an entry that names no dumped member workload is refused, with the form to use; nothing is written', () => {
    const dir = skipping(['client/StatefulSet/curl']);
    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'meshfed-')), 'dist');
    const res = runCli(['--clusters', dir, '--out', out]);
    expect(res.code).not.toBe(0);
    expect(res.stderr).toContain('cluster.yaml');
    expect(res.stderr).toMatch(
      /client\/StatefulSet\/curl is no Deployment, StatefulSet or DaemonSet of east's member namespaces in the dumps.*client\/Deployment\/curl/s,
    );
    expect(fs.existsSync(out)).toBe(false);
  });

  test('the runbooks name every workload a restart Job restarts, and those left out', () => {
    const { dist } = synthTo(skipping([], '02-export'));
    const readme = fs.readFileSync(path.join(dist, 'README.md'), 'utf8');
    expect(readme).toMatch(
      /- \*\*west\*\*: The PostSync Job `meshfed-restart-workloads-[0-9a-f]+` restarts 2 workload\(s\), at most 5 at a time, each waited for \(up to 600 s; `spec\.workloadRestart\.maxConcurrent`, `rolloutTimeoutSeconds`\): `a\/Deployment\/httpbin` — its pod template opts in \(annotation sidecar\.istio\.io\/inject: "true"\): only a new pod gets OSSM 3's sidecar \(revision default-v1-27-3\); `b\/Deployment\/httpbin` — /,
    );
    const east = fs.readFileSync(path.join(dist, 'east', 'RUNBOOK.md'), 'utf8');
    expect(east).toMatch(
      /\*\*Restarts\.\*\* The PostSync Job `meshfed-restart-for-network-[0-9a-f]+` restarts 1 workload\(s\), at most 5 at a time, each waited for .*: `client\/Deployment\/curl` — its pod template opts in \(annotation sidecar\.istio\.io\/inject: "true"\) and imported hosts are visible in client: its proxy must carry network network-east-mesh\./,
    );
    const skipped = fs.readFileSync(
      path.join(synthTo(skipping(['client/Deployment/curl'], '02-export')).dist, 'east', 'RUNBOOK.md'),
      'utf8',
    );
    expect(skipped).toContain('Left out on purpose (`spec.workloadRestart.skipNetworkRestart`): `client/Deployment/curl`');
    expect(skipped).not.toContain('meshfed-restart-for-network-');
  });
});

/**
 * The 03 restart restarts only the member workloads whose OSSM 2 proxy must learn the network — those with a
 * sidecar in a namespace where imported hosts are visible — each with why; the runbook names those it leaves out.
 */
function withSidecarVariety(edit: (dir: string) => void = () => {}, more: [string, Record<string, string>][] = []): string {
  const dir = copyTree(EXAMPLE_CLUSTERS);
  const deploy = (name: string, tmeta: Record<string, unknown>, spec: Record<string, unknown> = {}, kind = 'Deployment') => ({
    apiVersion: 'apps/v1',
    ...meta(kind, name),
    spec: {
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { ...tmeta, labels: { app: name, ...((tmeta.labels as object) ?? {}) } },
        spec: { ...spec, containers: [{ name }] },
      },
    },
  });
  const objects = [
    deploy('web', { annotations: { 'sidecar.istio.io/inject': 'true' } }),
    deploy('db', {}),
    deploy('batch', { labels: { 'sidecar.istio.io/inject': 'false' }, annotations: { 'sidecar.istio.io/inject': 'true' } }),
    deploy('agent', { annotations: { 'sidecar.istio.io/inject': 'true' } }, { hostNetwork: true }, 'DaemonSet'),
    ...more.map(([name, annotations]) => deploy(name, { annotations })),
  ];
  fs.writeFileSync(path.join(dir, 'east', 'ossm2', 'p7-client.yaml'), objects.map((o) => stringify(o)).join('---\n'));
  edit(dir);
  return dir;
}

const networkJob = (a: ReturnType<typeof analyse>) =>
  a.plan.byCluster.east[3].adds.flatMap((r) => (r.type === 'restartJob' ? r.workloads.map((w) => `${w.kind}/${w.name}`) : []));
const revisionJob = (a: ReturnType<typeof analyse>) =>
  a.plan.byCluster.east[6].adds.flatMap((r) => (r.type === 'restartJob' ? r.workloads.map((w) => `${w.kind}/${w.name}`) : []));

describe('the 03 restart restarts only the proxies that must learn the network', () => {
  test('a workload without an OSSM 2 sidecar (no opt-in, opted out, hostNetwork) is left out of 03 and 06; MF001 agrees', () => {
    const a = analyse(withSidecarVariety());
    expect(networkJob(a)).toEqual(['Deployment/curl', 'Deployment/web']);
    expect(revisionJob(a)).toEqual(['Deployment/curl', 'Deployment/web']);
    const why = a.plan.byCluster.east[3].adds.flatMap((r) => (r.type === 'restartJob' ? r.workloads.map((w) => w.why) : []));
    expect(why[1]).toBe(
      'its pod template opts in (annotation sidecar.istio.io/inject: "true") and imported hosts are visible in client: ' +
        'its proxy must carry network network-east-mesh',
    );
    expect(runChecks(a.model, a.plan, ['MF001'])).toEqual([]);
  });

  test('the runbooks name why each workload is restarted in 03 and 06, and why the others are not', () => {
    const readme = fs.readFileSync(path.join(synthTo(withSidecarVariety()).dist, 'README.md'), 'utf8');
    expect(readme).toContain(
      'Not restarted in 06, no sidecar before or after: `client/DaemonSet/agent` — it runs with hostNetwork, which OSSM 2 never ' +
        'injects, and OSSM 3 would not inject it either; ',
    );
    expect(readme).toMatch(
      /`client\/Deployment\/web` — its pod template opts in \(annotation sidecar\.istio\.io\/inject: "true"\): only a new pod gets OSSM 3's sidecar \(revision default-v1-27-3\)/,
    );
    const { dist } = synthTo(withSidecarVariety((dir) => setPhase(dir, '02-export')));
    const east = fs.readFileSync(path.join(dist, 'east', 'RUNBOOK.md'), 'utf8');
    expect(east).toContain('restarts 2 workload(s), at most 5 at a time, each waited for');
    expect(east).toContain(
      'Not restarted in 03, their proxies need no network: `client/DaemonSet/agent` — it runs with hostNetwork, which OSSM 2 ' +
        'never injects; `client/Deployment/batch` — its pod template opts out (label sidecar.istio.io/inject: "false"); ' +
        '`client/Deployment/db` — it has no sidecar: the SMCP injects only pods that opt in (sidecar.istio.io/inject: "true").',
    );
  });

  test("with the SMCP's autoInject on, every pod that does not opt out has a sidecar and is restarted", () => {
    const a = analyse(
      withSidecarVariety(
        (dir) => {
          const smcp = path.join(dir, 'east', 'ossm2', 'smcp.yaml');
          fs.writeFileSync(smcp, fs.readFileSync(smcp, 'utf8').replace('autoInject: false', 'autoInject: true'));
        },
        [['odd', { 'sidecar.istio.io/inject': 'enabled' }]],
      ),
    );
    expect(networkJob(a)).toEqual(['Deployment/curl', 'Deployment/db', 'Deployment/web']);
    // "enabled" is no opt-in for Maistra (no sidecar today) but unset for OSSM 3, whose "enabled" policy injects it: 06 restarts it.
    expect(revisionJob(a)).toEqual(['Deployment/curl', 'Deployment/db', 'Deployment/odd', 'Deployment/web']);
    const odd = a.plan.byCluster.east[6].adds.flatMap((r) => (r.type === 'restartJob' ? r.workloads.filter((w) => w.name === 'odd') : []));
    expect(odd[0].why).toBe(
      'it has no OSSM 2 sidecar, but OSSM 3 injects its new pods: the carried autoInject policy is "enabled" ' +
        '(OSSM 3 reads sidecar.istio.io/inject: "enabled" as unset)',
    );
  });

  test('MF026: an opt-in Maistra accepts and OSSM 3 does not ("yes") is named at 06, where its pods would lose the sidecar', () => {
    const a = analyse(withSidecarVariety(undefined, [['legacy', { 'sidecar.istio.io/inject': 'yes' }]]));
    expect(networkJob(a)).toContain('Deployment/legacy');
    expect(revisionJob(a)).toContain('Deployment/legacy');
    const found = runChecks(a.model, a.plan, ['MF026']).filter((f) => f.location?.object === 'Deployment client/legacy');
    expect(found.map((f) => `${f.phase}: ${f.problem} ${f.fix}`)).toEqual([
      '06-migrate-workloads: Deployment client/legacy opts in with the pod annotation sidecar.istio.io/inject: "yes", which Maistra ' +
        'accepts and OSSM 3 reads as unset (only "true" counts): meshfed\'s 06-migrate-workloads Job restarts it and its pods come ' +
        'back without a sidecar, outside the mesh (STRICT peers refuse them, imported hosts stop resolving). Set the pod ' +
        'template\'s annotation sidecar.istio.io/inject to "true" before 06-migrate-workloads (Maistra injects it the same way).',
    ]);
    expect(found[0].location).toMatchObject({ field: 'spec.template.metadata' });
  });

  test("a namespace Maistra's injector skips (istio-injection: disabled) has no OSSM 2 sidecars and keeps the label, out of the mesh", () => {
    const disabled = (dir: string) => {
      const file = path.join(dir, 'east', 'ossm2', 'namespaces.yaml');
      const text = fs.readFileSync(file, 'utf8');
      const edited = text.replace(/istio-injection: enabled(\n\s+kubernetes\.io\/metadata\.name: client)/, 'istio-injection: disabled$1');
      expect(edited).not.toBe(text);
      fs.writeFileSync(file, edited);
    };
    const a = analyse(withSidecarVariety(disabled));
    // No sidecar, opt-in or not (maistra/istio-operator@8143614c mutatingwebhook.yaml:38-51): no network to learn at 03.
    expect(networkJob(a)).toEqual([]);
    // 06 keeps the label, which every 1.27 injector webhook skips too: nothing to restart, nobody enters the mesh.
    expect(revisionJob(a)).toEqual([]);
    const client = a.plan.byCluster.east[6].patches.filter((p) => p.target.kind === 'Namespace' && p.target.name === 'client');
    expect(client.map((p) => p.type)).toEqual(['merge']);
    expect(runChecks(a.model, a.plan, ['MF026']).filter((f) => /for the first time/.test(f.problem))).toEqual([]);
    const { dist } = synthTo(withSidecarVariety(disabled));
    const readme = fs.readFileSync(path.join(dist, 'README.md'), 'utf8');
    expect(readme).toContain(
      'Not restarted in 06, no sidecar before or after: `client/DaemonSet/agent` — it runs with hostNetwork, which OSSM 2 ' +
        'never injects, and OSSM 3 would not inject it either; `client/Deployment/batch` — it has no sidecar: namespace client ' +
        "has the label istio-injection: disabled, which Maistra's injector webhook skips, and OSSM 3 would not inject it either;",
    );
  });

  test("the 06 Job's relabel leaves a kept namespace's istio-injection: disabled alone (and does not fail on it)", () => {
    const relabel = { namespaces: ['a', 'b'], set: { 'istio.io/rev': 'rev' }, remove: ['istio-injection'], keepInjectionDisabled: ['b'] };
    const script = restartScript('x', 'rev', [], relabel);
    expect(script).toContain('kubectl label namespace a istio-injection- istio.io/rev=rev --overwrite');
    expect(script).toContain('kubectl label namespace b istio.io/rev=rev --overwrite');
    expect(script).not.toMatch(/namespace b istio-injection-|get namespace b .*istio-injection/);
  });

  test('MF026: a workload that runs without a sidecar on OSSM 2 and gets one from OSSM 3 is named at 06', () => {
    const a = analyse(
      withSidecarVariety(
        (dir) => {
          const smcp = path.join(dir, 'east', 'ossm2', 'smcp.yaml');
          fs.writeFileSync(smcp, fs.readFileSync(smcp, 'utf8').replace('autoInject: false', 'autoInject: true'));
        },
        [['odd', { 'sidecar.istio.io/inject': 'enabled' }]],
      ),
    );
    const found = runChecks(a.model, a.plan, ['MF026']).filter((f) => /for the first time/.test(f.problem));
    expect(found.map((f) => `${f.phase}: ${f.problem} ${f.fix}`)).toEqual([
      '06-migrate-workloads: Deployment client/odd runs without a sidecar on OSSM 2 (its pod template opts out (annotation ' +
        'sidecar.istio.io/inject: "enabled")), but OSSM 3 injects it (the carried autoInject policy is "enabled" (OSSM 3 reads ' +
        'sidecar.istio.io/inject: "enabled" as unset)): meshfed\'s 06-migrate-workloads Job restarts it into the mesh for the first ' +
        'time. From then on every AuthorizationPolicy that selects it enforces (callers it does not allow get 403), and a STRICT ' +
        "PeerAuthentication refuses callers without a sidecar. To keep it out of the mesh as on OSSM 2, set its pod template's " +
        'label sidecar.istio.io/inject: "false" before 06-migrate-workloads (both injectors honour it); to bring it in, review ' +
        'the policies that select it first, then acknowledge (spec.acknowledge).',
    ]);
  });

  test('a paused Deployment is left out of 03 and 06 (it would never roll out) and MF026 names it at both', () => {
    const paused = (dir: string) => {
      const file = path.join(dir, 'east', 'ossm2', 'p7-client.yaml');
      fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace(/(name: web\n(?:.*\n)*?spec:\n)/, '$1  paused: true\n'));
    };
    const a = analyse(withSidecarVariety(paused));
    expect(networkJob(a)).toEqual(['Deployment/curl']);
    expect(revisionJob(a)).toEqual(['Deployment/curl']);
    const found = runChecks(a.model, a.plan, ['MF026']).filter((f) => f.location?.object === 'Deployment client/web');
    expect(found.map((f) => f.phase)).toEqual(['03-import', '06-migrate-workloads']);
    expect(found[1].problem + ' ' + found[1].fix).toBe(
      'Deployment client/web is paused (spec.paused: true): a pod-template change rolls out no pod until it is resumed, so ' +
        "meshfed's 06-migrate-workloads Job leaves it out (its rollout wait would time out and fail the phase); its pods keep its " +
        'OSSM 2 sidecar, which loses its control plane at 07. Resume it (`oc rollout resume deployment/web -n client`) and dump ' +
        'again before 06-migrate-workloads, so the Job restarts it; or, after 06-migrate-workloads syncs, before 07-finalize, ' +
        'resume it and run `oc rollout restart deployment/web -n client`.',
    );
    expect(found[0].location).toMatchObject({ field: 'spec.paused' });
    // Left without the network at 03, it loses the imports at an exporter's 04: MF001 agrees (an error).
    expect(runChecks(a.model, a.plan, ['MF001']).map((f) => f.problem)).toEqual([
      expect.stringContaining('(Deployment/web) were injected before 01-prepare set the network and were not restarted'),
      expect.stringContaining('(Deployment/web) were injected before 01-prepare set the network and were not restarted'),
    ]);
    // Where no import is visible (03 restarts nothing), the runbook of 06 names it.
    const noImports = (dir: string) => {
      paused(dir);
      const file = path.join(dir, 'east', 'cluster.yaml');
      fs.writeFileSync(
        file,
        fs.readFileSync(file, 'utf8').replace('\n  verify:\n', '\n  importedServices:\n    exportTo: ["."]\n  verify:\n'),
      );
    };
    const readme = fs.readFileSync(path.join(synthTo(withSidecarVariety(noImports)).dist, 'README.md'), 'utf8');
    expect(readme).toContain('Left out, paused (a restart would never roll out; MF026): `client/Deployment/web` — it is paused');
  });

  test('imports exported only to the import namespace ("."): no member sees them, so 03 restarts nothing', () => {
    const a = analyse(
      withSidecarVariety((dir) => {
        const file = path.join(dir, 'east', 'cluster.yaml');
        fs.writeFileSync(
          file,
          fs.readFileSync(file, 'utf8').replace('\n  verify:\n', '\n  importedServices:\n    exportTo: ["."]\n  verify:\n'),
        );
      }),
    );
    expect(networkJob(a)).toEqual([]);
    expect(runChecks(a.model, a.plan, ['MF001'])).toEqual([]);
  });
});

function setPhase(dir: string, phase: string): void {
  const file = path.join(dir, 'east', 'cluster.yaml');
  fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('phase: 00-federation', `phase: ${phase}`));
}

describe('spec.workloadRestart.maxConcurrent: the deadlines, the Flux timeout and the runbook count the rounds', () => {
  /** East with curl and seven more injected Deployments in client, at `phase`, restarting `limit` at a time. */
  function eight(phase: string, limit?: number, timeout?: number): string {
    const dir = copyTree(EXAMPLE_CLUSTERS);
    const objects = ['w1', 'w2', 'w3', 'w4', 'w5', 'w6', 'w7'].map((name) => ({
      apiVersion: 'apps/v1',
      ...meta('Deployment', name),
      spec: {
        selector: { matchLabels: { app: name } },
        template: {
          metadata: { labels: { app: name }, annotations: { 'sidecar.istio.io/inject': 'true' } },
          spec: { containers: [{ name }] },
        },
      },
    }));
    fs.writeFileSync(path.join(dir, 'east', 'ossm2', 'more-client.yaml'), objects.map((o) => stringify(o)).join('---\n'));
    const file = path.join(dir, 'east', 'cluster.yaml');
    let text = fs.readFileSync(file, 'utf8').replace('phase: 00-federation', `phase: ${phase}`);
    if (limit !== undefined) text = text.replace(/\n(\s+)workloadRestart:\n/, `\n$1workloadRestart:\n$1  maxConcurrent: ${limit}\n`);
    if (timeout !== undefined)
      text = text.replace(/\n(\s+)workloadRestart:\n/, `\n$1workloadRestart:\n$1  rolloutTimeoutSeconds: ${timeout}\n`);
    fs.writeFileSync(file, text);
    const west = path.join(dir, 'west', 'cluster.yaml');
    fs.writeFileSync(west, fs.readFileSync(west, 'utf8').replace('phase: 00-federation', 'phase: 02-export'));
    return dir;
  }

  /** At 03-import (Flux's timeout is the current phase's), and the runbook of 03 from 02-export. */
  function rendered(limit?: number, timeout?: number) {
    const { dist } = synthTo(eight('03-import', limit, timeout));
    const before = synthTo(eight('02-export', limit, timeout)).dist;
    const docs = (f: string) => loadAll(fs.readFileSync(path.join(dist, f), 'utf8')) as any[];
    const jobs = docs('east/03-import/istio-system.yaml').filter((o) => o?.kind === 'Job');
    const restart = jobs.find((j) => j.metadata.name.startsWith('meshfed-restart-for-network-'));
    const verify = jobs.find((j) => j.metadata.name.startsWith('meshfed-verify-03-'));
    const steps = (j: any) => JSON.parse(j.metadata.annotations['meshfed.dev/steps']);
    const flux = docs('flux/east/kustomization-meshfed-east.yaml').find((o) => o?.kind === 'Kustomization' && o.spec?.timeout);
    return {
      deadline: restart.spec.activeDeadlineSeconds as number,
      maxConcurrent: steps(restart)[0].maxConcurrent as number,
      rolloutTimeout: steps(restart)[0].timeoutSeconds as number,
      script: restart.spec.template.spec.containers[0].command[2] as string,
      name: restart.metadata.name as string,
      verifyWaits: steps(verify).find((s: any) => s.op === 'wait-job').timeoutSeconds as number,
      fluxTimeout: Number(/^(\d+)m$/.exec(flux.spec.timeout)![1]) * 60,
      runbook: fs.readFileSync(path.join(before, 'east', 'RUNBOOK.md'), 'utf8'),
    };
  }

  test('8 workloads, 2 at a time: four rounds of the 600 s rollout wait; the default 5: two rounds', () => {
    const two = rendered(2);
    expect(two.maxConcurrent).toBe(2);
    expect(two.deadline).toBe(300 + 30 * 8 + 4 * 600);
    expect(two.verifyWaits).toBeGreaterThanOrEqual(two.deadline);
    expect(two.fluxTimeout).toBeGreaterThan(two.verifyWaits);
    const five = rendered();
    expect(five.maxConcurrent).toBe(5);
    expect(five.deadline).toBe(300 + 30 * 8 + 2 * 600);
    expect(two.runbook).toContain('restarts 8 workload(s), at most 2 at a time, each waited for (up to 600 s;');
  });

  test('spec.workloadRestart.rolloutTimeoutSeconds: the script, the deadline, the verify wait, Flux and the runbook use it', () => {
    const slow = rendered(2, 1500);
    expect(slow.rolloutTimeout).toBe(1500);
    expect(slow.script).toContain('settle 1 1500\n');
    expect(slow.script).not.toMatch(/ 600$/m);
    expect(slow.deadline).toBe(300 + 30 * 8 + 4 * 1500);
    expect(slow.verifyWaits).toBeGreaterThanOrEqual(slow.deadline);
    expect(slow.fluxTimeout).toBeGreaterThan(slow.verifyWaits);
    expect(slow.runbook).toContain('restarts 8 workload(s), at most 2 at a time, each waited for (up to 1500 s;');
    // At the default the Job keeps the name it had before the setting existed (it must not run again).
    const asBefore = rendered(2);
    expect(rendered(2, 600).name).toBe(asBefore.name);
    expect(slow.name).not.toBe(asBefore.name);
  });
});

describe("07's hand-over label removal rolls the Gateway API gateways' pods once more: the runbooks say so", () => {
  test('the 07 section and its rollback name the east-west Gateway whose pods roll, with the disruption', () => {
    const readme = fs.readFileSync(path.join(synthTo(copyTree(EXAMPLE_CLUSTERS)).dist, 'README.md'), 'utf8');
    const finalize = readme.slice(readme.lastIndexOf('07-finalize'));
    expect(finalize).toContain(
      '- **west**: The pods of Gateway `istio-ingress/eastwestgateway` roll once more when its labels change (07 drops ' +
        "06's hand-over labels `istio.io/rev` and `maistra.io/ignore` and its sync wave; Istio 1.27 copies a Gateway's labels and " +
        'annotations into its pod template',
    );
    expect(finalize).toContain('are closed when it drains; clients reconnect.');
    expect(finalize).toMatch(
      /- west: Set `spec\.phase: 06-migrate-workloads`.* The pods of Gateway `istio-ingress\/eastwestgateway` roll again \(06's hand-over labels come back/,
    );
    // east runs no Gateway API gateway: nothing rolls there.
    expect(finalize).not.toMatch(/- \*\*east\*\*: The pods of Gateway/);
  });
});

describe('a restart Job that first waits for the OSSM 3 istiod (greenfield) has one more rollout timeout in its deadline', () => {
  test('every such Job: 300 + 30·W + (ceil(W/N) + 1)·T; one without the wait: no extra T', () => {
    const { files } = render(path.join(__dirname, '..', 'examples', 'greenfield', 'clusters'));
    const jobs = [...files]
      .filter(([f]) => f.endsWith('.yaml'))
      .flatMap(([, t]) => loadAll(t) as any[])
      .filter((o) => o?.kind === 'Job' && o.metadata.name.startsWith('meshfed-restart-'));
    const withWait = jobs.filter((j) => JSON.parse(j.metadata.annotations['meshfed.dev/steps'])[0]?.op === 'rollout-status');
    expect(withWait.length).toBeGreaterThan(0);
    for (const j of jobs) {
      const steps = JSON.parse(j.metadata.annotations['meshfed.dev/steps']);
      const r = steps.find((s: any) => s.op === 'restart');
      const w = r.workloads.length;
      const rounds = r.maxConcurrent === undefined ? 1 : Math.ceil(Math.max(w, 1) / r.maxConcurrent);
      const waits = steps[0].op === 'rollout-status' ? 1 : 0;
      expect(`${j.metadata.name}: ${j.spec.activeDeadlineSeconds}`).toBe(
        `${j.metadata.name}: ${300 + 30 * w + (rounds + waits) * r.timeoutSeconds}`,
      );
    }
  });
});
