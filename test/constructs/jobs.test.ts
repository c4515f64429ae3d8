/** Hook Jobs and their RBAC, rendered alone; the restart script run against a stub kubectl. */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import { Testing } from 'cdk8s';

import { JobClusterRoleBinding, JobRoleBinding } from '../../lib/constructs/job-rbac';
import { restartDeadlineSeconds, RestartJob, RestartRole, restartScript } from '../../lib/constructs/restart-job';
import { VerifyJob, VerifyRole, verifyScript } from '../../lib/constructs/verify-job';

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
