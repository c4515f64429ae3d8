/**
 * How many workloads meshfed's restart Jobs have rolling at once, watched at every tick of a sync: the restart Jobs
 * promise at most `maxConcurrent` (spec.workloadRestart.maxConcurrent, in each Job's restart step), across every
 * restart Job of the cluster — two Jobs running side by side (Flux starts a phase's Jobs together) count together.
 * It reads only what runs: the Jobs' `meshfed.dev/steps` and the workloads' live templates and rollout status.
 */
import { Cluster, Controller } from './cluster';
import { findCondition, rolloutStatus } from './controllers/kube';
import { annotations, Obj, refOf } from './objects';
import { JOB_STEPS_ANNOTATION, JobStep, WorkloadTarget } from '../job-steps';
import { valueAt } from '../json';
import { compareStrings } from '../sort';

type RestartStep = Extract<JobStep, { op: 'restart' }>;

/** A moment more workloads rolled at once than the restart Jobs allow. */
export interface ConcurrencyBreach {
  /** Seconds after the sync started. */
  readonly at: number;
  readonly limit: number;
  /** `<namespace>/<resource>/<name>` of each workload rolling then. */
  readonly rolling: string[];
  /** The restart Jobs running then. */
  readonly jobs: string[];
}

const KIND: Record<WorkloadTarget['resource'], string> = {
  deployments: 'Deployment',
  statefulsets: 'StatefulSet',
  daemonsets: 'DaemonSet',
};

function restartSteps(job: Obj): RestartStep[] {
  const text = annotations(job)[JOB_STEPS_ANNOTATION];
  if (!text) return [];
  try {
    const steps = JSON.parse(text) as JobStep[];
    return Array.isArray(steps) ? steps.filter((s): s is RestartStep => s?.op === 'restart') : [];
  } catch {
    return [];
  }
}

/**
 * The workloads the running restart Jobs have rolling now: their template carries the Job's annotation value and
 * `kubectl rollout status` would still wait (an OnDelete workload replaces nothing, so it is not rolling). The limit
 * is the smallest maxConcurrent the running Jobs declare (none: no limit).
 */
export function restartsInFlight(cluster: Cluster): { limit?: number; rolling: string[]; jobs: string[] } {
  const rolling = new Set<string>();
  const jobs: string[] = [];
  let limit: number | undefined;
  for (const job of cluster.list((o) => o.kind === 'Job')) {
    const ended = ['Complete', 'Failed'].some((t) => findCondition(job, t)?.status === 'True');
    const steps = restartSteps(job);
    if (ended || steps.length === 0) continue;
    jobs.push(`${refOf(job).namespace}/${refOf(job).name}`);
    for (const step of steps) {
      if (step.maxConcurrent !== undefined) limit = Math.min(limit ?? step.maxConcurrent, step.maxConcurrent);
      for (const t of step.workloads) {
        const live = cluster.get({ group: 'apps', kind: KIND[t.resource], namespace: t.namespace, name: t.name });
        if (valueAt(live, ['spec', 'template', 'metadata', 'annotations', step.annotation]) !== step.value) continue;
        const s = rolloutStatus(cluster, t);
        if (!s.done && !s.error) rolling.add(`${t.namespace}/${t.resource}/${t.name}`);
      }
    }
  }
  return { limit, rolling: [...rolling].sort(compareStrings), jobs: jobs.sort(compareStrings) };
}

/** Watches a sync: the first moment more workloads roll at once than the restart Jobs allow. */
export class RestartWatch implements Controller {
  readonly name = 'restart-watch';
  private start = 0;
  private seenEvents = -1;
  private breach: ConcurrencyBreach | undefined;
  /** The most workloads seen rolling at once since begin. */
  peak = 0;

  begin(cluster: Cluster): void {
    this.start = cluster.now;
    this.seenEvents = -1;
    this.breach = undefined;
    this.peak = 0;
  }

  reconcile(cluster: Cluster): void {
    if (cluster.events.length === this.seenEvents) return;
    this.seenEvents = cluster.events.length;
    const now = restartsInFlight(cluster);
    this.peak = Math.max(this.peak, now.rolling.length);
    if (!this.breach && now.limit !== undefined && now.rolling.length > now.limit)
      this.breach = { at: cluster.now - this.start, limit: now.limit, rolling: now.rolling, jobs: now.jobs };
  }

  end(cluster: Cluster): ConcurrencyBreach | undefined {
    this.reconcile(cluster);
    return this.breach;
  }
}

/** The sentence of a finding. */
export function describeBreach(b: ConcurrencyBreach): string {
  return (
    `${b.rolling.length} workloads were rolling at once ${b.at} s into the sync (${b.rolling.join(', ')}; restart Jobs ` +
    `${b.jobs.join(', ')}), but the restart Jobs allow at most ${b.limit} (spec.workloadRestart.maxConcurrent).`
  );
}
