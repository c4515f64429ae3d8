/** Hook Jobs and their RBAC, rendered alone. */
import { Testing } from 'cdk8s';

import { JobRoleBinding } from '../../lib/constructs/job-rbac';
import { RestartJob, RestartRole, restartScript } from '../../lib/constructs/restart-job';
import { VerifyJob, VerifyRole, verifyScript } from '../../lib/constructs/verify-job';

const sa = { apiVersion: 'v1', kind: 'ServiceAccount', name: 'meshfed-restart-workloads', namespace: 'istio-system' };
const workloads = [
  { kind: 'Deployment' as const, namespace: 'a', name: 'httpbin' },
  { kind: 'StatefulSet' as const, namespace: 'a', name: 'db' },
];

test('the restart Role allows only patch, on exactly the named workloads', () => {
  const chart = Testing.chart();
  new RestartRole(chart, 'r', { name: 'meshfed-restart-workloads', namespace: 'a', workloads });
  expect(Testing.synth(chart)[0].rules).toEqual([
    { apiGroups: ['apps'], resources: ['deployments'], verbs: ['patch'], resourceNames: ['httpbin'] },
    { apiGroups: ['apps'], resources: ['statefulsets'], verbs: ['patch'], resourceNames: ['db'] },
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
  expect(restartScript('meshfed.dev/restarted-for-revision', 'default-v1-27-3', workloads)).toContain(
    'kubectl patch statefulsets db -n a --type merge',
  );
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
  expect(verifyScript('03-import', probes)).toContain(`probe 'client' 'curl' 'curl' 'http://x/'\\''q'\\''' || failed=1`);
});

test('a RoleBinding binds the Role of its own name to the ServiceAccount', () => {
  const chart = Testing.chart();
  new JobRoleBinding(chart, 'b', { name: 'meshfed-verify', namespace: 'client', serviceAccount: { ...sa, name: 'meshfed-verify' } });
  const b = Testing.synth(chart)[0];
  expect(b.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'meshfed-verify' });
  expect(b.subjects).toEqual([{ kind: 'ServiceAccount', name: 'meshfed-verify', namespace: 'istio-system' }]);
});
