/** Hook Jobs and their RBAC, rendered alone; the restart script run against a stub kubectl. */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import { Testing } from 'cdk8s';

import { JobClusterRoleBinding, JobRoleBinding } from '../../lib/constructs/job-rbac';
import { restartDeadlineSeconds, RestartJob, RestartRole, restartScript } from '../../lib/constructs/restart-job';
import { verifyDeadlineSeconds, VerifyJob, VerifyJobsRole, VerifyRole, verifyScript } from '../../lib/constructs/verify-job';

const sa = { apiVersion: 'v1', kind: 'ServiceAccount', name: 'meshfed-restart-workloads', namespace: 'istio-system' };
const workloads = [
  { kind: 'Deployment' as const, namespace: 'a', name: 'httpbin' },
  { kind: 'StatefulSet' as const, namespace: 'a', name: 'db' },
];

test('the restart Role allows get, patch and watching the rollout, on exactly the named workloads', () => {
  const chart = Testing.chart();
  new RestartRole(chart, 'r', { name: 'meshfed-restart-workloads', namespace: 'a', workloads });
  expect(Testing.synth(chart)[0].rules).toEqual([
    { apiGroups: ['apps'], resources: ['deployments'], verbs: ['get', 'list', 'patch', 'watch'], resourceNames: ['httpbin'] },
    { apiGroups: ['apps'], resources: ['statefulsets'], verbs: ['get', 'list', 'patch', 'watch'], resourceNames: ['db'] },
  ]);
});

test('the restart Job is a restricted PostSync hook outside the mesh that patches the revision annotation', () => {
  const chart = Testing.chart();
  new RestartJob(chart, 'j', {
    name: 'meshfed-restart-workloads-1234abcd',
    namespace: 'istio-system',
    serviceAccount: sa,
    image: 'example.com/cli:1',
    annotation: 'meshfed.dev/restarted-for-revision',
    value: 'default-v1-27-3',
    workloads,
  });
  const job = Testing.synth(chart)[0];
  expect(job.metadata.annotations).toMatchObject({ 'argocd.argoproj.io/hook': 'PostSync', 'argocd.argoproj.io/sync-wave': '0' });
  const pod = job.spec.template.spec;
  expect(pod.serviceAccountName).toBe('meshfed-restart-workloads');
  expect(pod.securityContext).toEqual({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
  expect(pod.containers[0].securityContext).toEqual({ allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
  expect(job.spec.template.metadata.annotations).toEqual({ 'sidecar.istio.io/inject': 'false' });
  expect(pod.containers[0].command[2]).toBe(restartScript('meshfed.dev/restarted-for-revision', 'default-v1-27-3', workloads));
  expect(job.spec.activeDeadlineSeconds).toBe(restartDeadlineSeconds(2));
});

test('the verify Role can exec into pods and read only the named Deployments', () => {
  const chart = Testing.chart();
  new VerifyRole(chart, 'r', { name: 'meshfed-verify', namespace: 'client', deployments: ['sleep', 'curl'] });
  expect(Testing.synth(chart)[0].rules[0]).toEqual({
    apiGroups: ['apps'],
    resources: ['deployments'],
    verbs: ['get'],
    resourceNames: ['curl', 'sleep'],
  });
});

test('the verify Job runs after the restart (wave 1), fails once, quotes its probe arguments', () => {
  const probes = [{ namespace: 'client', deployment: 'curl', container: 'curl', url: "http://x/'q'" }];
  const chart = Testing.chart();
  new VerifyJob(chart, 'v', {
    name: 'meshfed-verify-03',
    namespace: 'istio-system',
    serviceAccount: { ...sa, name: 'meshfed-verify' },
    image: 'example.com/cli:1',
    phase: '03-import',
    probes,
  });
  const job = Testing.synth(chart)[0];
  expect(job.metadata.annotations['argocd.argoproj.io/sync-wave']).toBe('1');
  expect(job.spec.backoffLimit).toBe(1);
  expect(verifyScript('03-import', probes)).toContain(`probe 'client' 'curl' 'curl' 'http://x/'\\''q'\\''' 30 10 || failed=1`);
});

test("the verify Job waits for its phase's restart Jobs first, and its deadline covers that wait", () => {
  const probes = [{ namespace: 'client', deployment: 'curl', container: 'curl', url: 'http://x/' }];
  const after = [
    { name: 'meshfed-restart-for-network-1', namespace: 'istio-system', deadlineSeconds: 930 },
    { name: 'meshfed-restart-workloads-2', namespace: 'istio-system', deadlineSeconds: 1200 },
  ];
  const chart = Testing.chart();
  new VerifyJob(chart, 'v', {
    name: 'meshfed-verify-06',
    namespace: 'istio-system',
    serviceAccount: { ...sa, name: 'meshfed-verify' },
    image: 'example.com/cli:1',
    phase: '06-migrate-workloads',
    probes,
    after,
  });
  const job = Testing.synth(chart)[0];
  const steps = JSON.parse(job.metadata.annotations['meshfed.dev/steps']);
  expect(steps.map((x: { op: string }) => x.op)).toEqual(['echo', 'wait-job', 'wait-job', 'probe']);
  expect(steps[2]).toEqual({ op: 'wait-job', name: 'meshfed-restart-workloads-2', namespace: 'istio-system', timeoutSeconds: 1260 });
  // The restarts run at the same time as the verify under Flux: the longest of them, then the probes.
  expect(job.spec.activeDeadlineSeconds).toBe(1200 + 60 + verifyDeadlineSeconds(1));
  expect(verifyDeadlineSeconds(1)).toBe(720);
});

test('the verify Jobs Role may only get the named Jobs', () => {
  const chart = Testing.chart();
  new VerifyJobsRole(chart, 'r', { name: 'meshfed-verify-jobs', namespace: 'istio-system', jobs: ['b', 'a'] });
  expect(Testing.synth(chart)[0].rules).toEqual([{ apiGroups: ['batch'], resources: ['jobs'], verbs: ['get'], resourceNames: ['a', 'b'] }]);
});

/** Run the verify script waiting for Job `restart`, with stub `kubectl` (its `get job` answers `answers` in turn) and `sleep`. */
function runVerifyWait(answers: string[], timeoutSeconds = 990): { code: number; out: string; calls: string[] } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshfed-kubectl-'));
  const log = path.join(dir, 'calls');
  const n = path.join(dir, 'n');
  fs.writeFileSync(n, '0');
  // Each answer: `out:<stdout>` (exit 0) or `err:<stderr>` (exit 1); the last one repeats.
  fs.writeFileSync(path.join(dir, 'answers'), answers.join('\n') + '\n');
  const stub = [
    '#!/bin/sh',
    `echo "$*" >> ${log}`,
    'case "$1 $2" in',
    '  "get job")',
    `    i=$(cat ${n}); echo $((i + 1)) > ${n}`,
    `    a=$(sed -n "$((i + 1))p" ${path.join(dir, 'answers')}); [ -n "$a" ] || a=$(tail -n 1 ${path.join(dir, 'answers')})`,
    '    case "$a" in out:*) printf "%s" "${a#out:}"; exit 0 ;; err:*) printf "%s" "${a#err:}" >&2; exit 1 ;; esac ;;',
    '  "exec -n") printf 200; exit 0 ;;',
    'esac',
  ].join('\n');
  fs.writeFileSync(path.join(dir, 'kubectl'), stub, { mode: 0o755 });
  fs.writeFileSync(path.join(dir, 'sleep'), '#!/bin/sh\nexit 0\n', { mode: 0o755 });
  const probes = [{ namespace: 'client', deployment: 'curl', container: 'curl', url: 'http://x/' }];
  const script = verifyScript('06-migrate-workloads', probes, [
    { name: 'restart', namespace: 'istio-system', deadlineSeconds: timeoutSeconds - 60 },
  ]);
  const res = spawnSync('/bin/sh', ['-c', script], { env: { ...process.env, PATH: `${dir}:${process.env.PATH}` }, encoding: 'utf8' });
  return { code: res.status ?? -1, out: res.stdout + res.stderr, calls: fs.readFileSync(log, 'utf8').trim().split('\n') };
}

describe('the verify script waits for the restart Job before it probes', () => {
  test('running, then not found for a while, then complete: it probes only then', () => {
    const r = runVerifyWait([
      'out:',
      'err:Error from server (NotFound): jobs.batch "restart" not found',
      'out:SuccessCriteriaMet Complete',
    ]);
    expect(r.code).toBe(0);
    expect(r.out).toContain('meshfed: job istio-system/restart completed');
    expect(r.calls.map((c) => c.split(' ').slice(0, 2).join(' '))).toEqual(['get job', 'get job', 'get job', 'exec -n']);
    expect(r.calls[0]).toBe('get job restart -n istio-system -o jsonpath={.status.conditions[?(@.status=="True")].type}');
  });
  test('a failed restart fails it at once, before any probe', () => {
    const r = runVerifyWait(['out:FailureTarget Failed']);
    expect(r.code).toBe(1);
    expect(r.out).toContain('meshfed: job istio-system/restart failed (kubectl logs job/restart -n istio-system); stopping here');
    expect(r.calls.some((c) => c.startsWith('exec'))).toBe(false);
  });
  test('a Job it may not read fails it at once; one that never completes, after the timeout with progress each minute', () => {
    const denied = runVerifyWait(['err:Error from server (Forbidden): jobs.batch "restart" is forbidden']);
    expect(denied.code).toBe(1);
    expect(denied.out).toContain('meshfed: cannot read job istio-system/restart: Error from server (Forbidden)');
    expect(denied.calls).toHaveLength(1);
    const stuck = runVerifyWait(['out:'], 125);
    expect(stuck.code).toBe(1);
    expect(stuck.out).toContain('meshfed: waiting for job istio-system/restart to complete (60s)');
    expect(stuck.out).toContain('meshfed: job istio-system/restart has not completed after 125s');
    expect(stuck.calls).toHaveLength(25);
  });
});

test('a RoleBinding binds the Role of its own name to the ServiceAccount', () => {
  const chart = Testing.chart();
  new JobRoleBinding(chart, 'b', { name: 'meshfed-verify', namespace: 'client', serviceAccount: { ...sa, name: 'meshfed-verify' } });
  const b = Testing.synth(chart)[0];
  expect(b.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'meshfed-verify' });
  expect(b.subjects).toEqual([{ kind: 'ServiceAccount', name: 'meshfed-verify', namespace: 'istio-system' }]);
});

test('a ClusterRoleBinding binds the ClusterRole of its own name, or the one it names (Kiali: cluster-monitoring-view)', () => {
  const chart = Testing.chart();
  new JobClusterRoleBinding(chart, 'own', { name: 'meshfed-relabel', serviceAccount: sa });
  new JobClusterRoleBinding(chart, 'named', {
    name: 'kiali-ossm3-istio-system-monitoring',
    clusterRole: 'cluster-monitoring-view',
    serviceAccount: sa,
  });
  const [own, named] = Testing.synth(chart);
  expect(own.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'meshfed-relabel' });
  expect(named.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-monitoring-view' });
  expect(named.metadata).toEqual({ name: 'kiali-ossm3-istio-system-monitoring' });
});

/** Run the restart script with a stub `kubectl` that knows only `present` workloads and logs every call. */
function runRestart(present: string[], rollout = 0): { code: number; out: string; calls: string[] } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshfed-kubectl-'));
  const log = path.join(dir, 'calls');
  const stub = [
    '#!/bin/sh',
    `echo "$*" >> ${log}`,
    'case "$1" in',
    `  get) for p in ${present.join(' ')}; do [ "$2/$3" = "$p" ] && { echo "$2/$3"; exit 0; }; done`,
    `       echo "Error from server (NotFound): $2 \\"$3\\" not found" >&2; exit 1 ;;`,
    '  patch) exit 0 ;;',
    `  rollout) exit ${rollout} ;;`,
    'esac',
  ].join('\n');
  fs.writeFileSync(path.join(dir, 'kubectl'), stub, { mode: 0o755 });
  const res = spawnSync('/bin/sh', ['-c', restartScript('meshfed.dev/restarted-for-revision', 'rev-1', workloads)], {
    env: { ...process.env, PATH: `${dir}:${process.env.PATH}` },
    encoding: 'utf8',
  });
  return {
    code: res.status ?? -1,
    out: res.stdout + res.stderr,
    calls: fs.existsSync(log) ? fs.readFileSync(log, 'utf8').trim().split('\n') : [],
  };
}

test('the restart script skips a workload that no longer exists, says so, and waits for the others', () => {
  const r = runRestart(['deployments/httpbin']);
  expect(r.code).toBe(0);
  expect(r.out).toContain('meshfed: skipped (no longer exist): a/statefulsets/db');
  expect(r.calls.filter((c) => c.startsWith('patch'))).toEqual([
    'patch deployments httpbin -n a --type merge --field-manager=meshfed-restart -p ' +
      '{"spec":{"template":{"metadata":{"annotations":{"meshfed.dev/restarted-for-revision":"rev-1"}}}}}',
  ]);
  expect(r.calls.filter((c) => c.startsWith('rollout'))).toEqual(['rollout status deployments/httpbin -n a --timeout=600s']);
});

test('the restart script patches an OnDelete workload without waiting for it, and says what a partition leaves', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshfed-kubectl-'));
  const log = path.join(dir, 'calls');
  // A stub that knows every workload; asked for a strategy, db is OnDelete, web has partition 2, logs RollingUpdate.
  const stub = [
    '#!/bin/sh',
    `echo "$*" >> ${log}`,
    'case "$1 $*" in',
    '  get*jsonpath*) case "$2" in',
    '    statefulsets/db) echo "OnDelete/" ;;',
    '    statefulsets/web) echo "RollingUpdate/2" ;;',
    '    *) echo "RollingUpdate/" ;;',
    '  esac ;;',
    '  get*) echo "$2/$3" ;;',
    'esac',
    'exit 0',
  ].join('\n');
  fs.writeFileSync(path.join(dir, 'kubectl'), stub, { mode: 0o755 });
  const sts = ['db', 'web', 'logs'].map((name) => ({ kind: 'StatefulSet' as const, namespace: 'a', name }));
  const res = spawnSync('/bin/sh', ['-c', restartScript('meshfed.dev/restarted-for-network', 'net-1', sts)], {
    env: { ...process.env, PATH: `${dir}:${process.env.PATH}` },
    encoding: 'utf8',
  });
  expect(res.status).toBe(0);
  expect(res.stdout).toContain(
    'meshfed: not restarted: a/statefulsets/db uses updateStrategy OnDelete: delete its pods (meshfed check MF026)',
  );
  expect(res.stdout).toContain(
    'meshfed: partly restarted: a/statefulsets/web has partition 2: the pods below it keep their proxies (MF026)',
  );
  const calls = fs.readFileSync(log, 'utf8').trim().split('\n');
  expect(calls.filter((c) => c.startsWith('patch')).length).toBe(3);
  expect(calls.filter((c) => c.startsWith('rollout'))).toEqual([
    'rollout status statefulsets/web -n a --timeout=600s',
    'rollout status statefulsets/logs -n a --timeout=600s',
  ]);
});

test('the restart script fails when a rollout does not finish', () => {
  expect(runRestart(['deployments/httpbin', 'statefulsets/db'], 1).code).toBe(1);
});

test('06: the script relabels the namespaces first and refuses to restart while istio-injection survives', () => {
  const relabel = { namespaces: ['a'], set: { 'istio.io/rev': 'rev-1' }, remove: ['istio-injection'] };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshfed-kubectl-'));
  const log = path.join(dir, 'calls');
  // A stub whose `label` leaves istio-injection in place (another manager owns it) and whose get of the label returns it.
  const stub = ['#!/bin/sh', `echo "$*" >> ${log}`, 'case "$1 $2" in', '  "get namespace") echo enabled ;;', 'esac', 'exit 0'].join('\n');
  fs.writeFileSync(path.join(dir, 'kubectl'), stub, { mode: 0o755 });
  const res = spawnSync('/bin/sh', ['-c', restartScript('meshfed.dev/restarted-for-revision', 'rev-1', workloads, relabel)], {
    env: { ...process.env, PATH: `${dir}:${process.env.PATH}` },
    encoding: 'utf8',
  });
  expect(res.status).toBe(1);
  expect(res.stdout).toContain(
    'namespace a still has label istio-injection: its pods would restart without an OSSM 3 sidecar; nothing restarted',
  );
  const calls = fs.readFileSync(log, 'utf8');
  expect(calls).toContain('label namespace a istio-injection- istio.io/rev=rev-1 --overwrite --field-manager=meshfed-restart');
  expect(calls).not.toContain('patch');
});

test('a restart Job whose steps would exceed the API server’s 256 KiB of annotations is refused at render, naming it', () => {
  const many = (n: number) =>
    Array.from({ length: n }, (_, i) => ({
      kind: 'Deployment' as const,
      namespace: 'payments-team-a',
      name: `service-${String(i).padStart(5, '0')}-api`,
    }));
  const job = (n: number) => () =>
    new RestartJob(Testing.chart(), 'j', {
      name: 'meshfed-restart-workloads-1234abcd',
      namespace: 'istio-system',
      serviceAccount: sa,
      image: 'example.com/cli:1',
      annotation: 'meshfed.dev/restarted-for-revision',
      value: 'default-v1-27-3',
      workloads: many(n),
    });
  expect(job(2000)).not.toThrow();
  expect(job(5000)).toThrow(
    /Job istio-system\/meshfed-restart-workloads-1234abcd would carry \d+ steps in \d+ bytes of annotations; the API server refuses more than 262144/,
  );
});
