/**
 * spec.workloadRestart.maxConcurrent in the twin: the Job controller runs a restart step with at most maxConcurrent
 * rollouts in flight (as the script does), and the RestartWatch catches any moment more workloads roll at once than
 * the running restart Jobs allow — here broken on purpose by two restart Jobs running side by side.
 */
import { JobStep } from '../../lib/job-steps';
import { Cluster } from '../../lib/twin/cluster';
import { findCondition, KubeControllers } from '../../lib/twin/controllers/kube';
import { Obj, refOf } from '../../lib/twin/objects';
import { describeBreach, RestartWatch } from '../../lib/twin/restart-watch';

const ns = (name: string) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
const sa = (name: string, namespace = 'app') => ({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace } });

function deployment(name: string): Obj {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: 'app' },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { serviceAccountName: name, containers: [{ name: 'main' }] } },
    },
  };
}

function restartJob(name: string, workloads: string[], maxConcurrent: number | undefined, timeoutSeconds = 600): Obj {
  const steps: JobStep[] = [
    {
      op: 'restart',
      workloads: workloads.map((w) => ({ resource: 'deployments', name: w, namespace: 'app' })),
      annotation: 'meshfed.dev/restarted-for-network',
      value: 'net',
      fieldManager: 'meshfed-restart',
      timeoutSeconds,
      ...(maxConcurrent === undefined ? {} : { maxConcurrent }),
    },
  ];
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name, namespace: 'istio-system', annotations: { 'meshfed.dev/steps': JSON.stringify(steps) } },
    spec: {
      backoffLimit: 0,
      template: { spec: { serviceAccountName: 'runner', restartPolicy: 'Never', containers: [{ name: 'job' }] } },
    },
  };
}

const NAMES = ['a', 'b', 'c', 'd', 'e', 'f'];

/** A cluster with Deployments a–f rolled out, and a RestartWatch begun. */
function setUp(): { c: Cluster; watch: RestartWatch } {
  const c = new Cluster({ ossm2: true, ossm3: false }, [new KubeControllers({ rbac: false })]);
  for (const n of ['app', 'istio-system']) c.apply(ns(n), { manager: 'test' });
  c.apply(sa('runner', 'istio-system'), { manager: 'test' });
  for (const n of NAMES) {
    c.apply(sa(n), { manager: 'test' });
    c.apply(deployment(n), { manager: 'argocd' });
  }
  c.advance(60);
  const watch = new RestartWatch();
  c.controllers.push(watch);
  watch.begin(c);
  return { c, watch };
}

const restarted = (c: Cluster, name: string) =>
  (c.get(refOf(deployment(name))) as any).spec.template.metadata.annotations?.['meshfed.dev/restarted-for-network'];
const condition = (c: Cluster, job: Obj, type: string) => findCondition(c.get(refOf(job)), type)?.status;

describe('restart Jobs roll at most spec.workloadRestart.maxConcurrent workloads at once', () => {
  test('one Job with maxConcurrent 2 restarts all six, never more than two rolling, each rollout waited for', () => {
    const { c, watch } = setUp();
    const job = restartJob('restart', NAMES, 2);
    c.apply(job, { manager: 'argocd' });
    c.advance(300);
    expect(condition(c, job, 'Complete')).toBe('True');
    expect(NAMES.map((n) => restarted(c, n))).toEqual(NAMES.map(() => 'net'));
    expect(watch.end(c)).toBeUndefined();
    expect(watch.peak).toBe(2);
  });

  test('without a limit (a Job rendered before maxConcurrent) all six roll at once: the watch sees them', () => {
    const { c, watch } = setUp();
    c.apply(restartJob('restart', NAMES, undefined), { manager: 'argocd' });
    c.advance(300);
    expect(watch.end(c)).toBeUndefined();
    expect(watch.peak).toBe(6);
  });

  test('broken on purpose: two restart Jobs side by side, each within 2, roll more than 2 at once and the watch says so', () => {
    const { c, watch } = setUp();
    c.apply(restartJob('restart-one', ['a', 'b', 'c'], 2), { manager: 'kustomize-controller' });
    c.apply(restartJob('restart-two', ['d', 'e', 'f'], 2), { manager: 'kustomize-controller' });
    c.advance(300);
    const breach = watch.end(c)!;
    expect(breach).toBeDefined();
    expect(breach.limit).toBe(2);
    expect(breach.rolling.length).toBeGreaterThan(2);
    expect(breach.jobs).toEqual(['istio-system/restart-one', 'istio-system/restart-two']);
    expect(describeBreach(breach)).toMatch(
      /^[3-4] workloads were rolling at once \d+ s into the sync \(app\/deployments\/a, .*\), but the restart Jobs allow at most 2 \(spec\.workloadRestart\.maxConcurrent\)\.$/,
    );
  });

  test('a failed rollout stops the Job from patching more: the rest are named, the Job fails', () => {
    const { c } = setUp();
    // b cannot create pods once its ServiceAccount is gone: its rollout never finishes.
    c.delete(refOf(sa('b')), 'test');
    const job = restartJob('restart', NAMES, 1, 120);
    c.apply(job, { manager: 'argocd' });
    c.advance(400);
    expect(condition(c, job, 'Failed')).toBe('True');
    expect(NAMES.map((n) => restarted(c, n) ?? '-')).toEqual(['net', 'net', '-', '-', '-', '-']);
    const events = c.events.map((e) => e.message).join('\n');
    expect(events).toContain(
      'not restarted, after a rollout failed: app/deployments/c app/deployments/d app/deployments/e app/deployments/f',
    );
  });

  test('after a failed rollout no other is waited for: the Job names what it did not restart and fails at once', () => {
    const { c } = setUp();
    // b and c cannot create pods: b's wait times out (120 s); c, still in flight then, is not waited for another 120 s.
    for (const n of ['b', 'c']) c.delete(refOf(sa(n)), 'test');
    const job = restartJob('restart', NAMES, 3, 120);
    c.apply(job, { manager: 'argocd' });
    c.advance(200);
    expect(condition(c, job, 'Failed')).toBe('True');
    const events = c.events.map((e) => e.message).join('\n');
    expect(events).toContain(
      'not restarted, after a rollout failed: app/deployments/e app/deployments/f; ' +
        'restarted, rollout not waited for after a rollout failed: app/deployments/c app/deployments/d',
    );
  });
});
