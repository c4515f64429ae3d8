import { restartDeadlineSeconds } from '../plan/restart';
import { AwaitedJob, Resource } from '../plan/types';

/**
 * When meshfed's hook Jobs run and how long they may take: the Argo CD PostSync wave and the
 * `activeDeadlineSeconds` each Job is rendered with. The Job constructs read them here, and so do the
 * writers that size what waits for the Jobs (the Flux phase Kustomization's timeout, the runbook's
 * expected durations), so the three never disagree.
 */

/** PostSync waves: RBAC that is a hook first (lib/constructs/job-rbac.ts), then the restart and the hand-over, then the verify Job. */
export const RBAC_HOOK_WAVE = -1;
export const RESTART_WAVE = 0;
export const HANDOVER_WAVE = 0;
export const VERIFY_WAVE = 1;

/** Tries of one verify probe; each at most 10 s of curl and 10 s of pause. */
export const PROBE_TRIES = 30;
/** Time for an awaited Job's pod to start and for the Job controller to write its final condition, past its deadline. */
export const WAIT_MARGIN_SECONDS = 60;

/**
 * The verify Job's deadline: the wait for the awaited Jobs (they run at the same time under Flux, which applies
 * them together, so the longest deadline bounds it), then the probes one after another.
 */
export function verifyDeadlineSeconds(probes: number, after: readonly AwaitedJob[] = []): number {
  const wait = after.length ? Math.max(...after.map((j) => j.deadlineSeconds)) + WAIT_MARGIN_SECONDS : 0;
  return wait + 120 + probes * PROBE_TRIES * 20;
}

/** How long the hand-over Job waits for each step (gateway rollout, members gone, SMCP finalizer). */
export const HANDOVER_STEP_TIMEOUT_SECONDS = 600;
/** The hand-over Job's deadline: three steps that wait, and a margin. */
export const HANDOVER_DEADLINE_SECONDS = 300 + 3 * HANDOVER_STEP_TIMEOUT_SECONDS;

export interface HookTiming {
  readonly wave: number;
  readonly deadlineSeconds: number;
}

/** The wave and deadline of a planned hook Job; undefined for anything else. */
export function hookTiming(r: Resource): HookTiming | undefined {
  switch (r.type) {
    case 'restartJob':
      return {
        wave: RESTART_WAVE,
        deadlineSeconds: restartDeadlineSeconds(r.workloads.length, r.maxConcurrent, r.rolloutTimeoutSeconds, r.waitFor !== undefined),
      };
    case 'verifyJob':
      return { wave: VERIFY_WAVE, deadlineSeconds: verifyDeadlineSeconds(r.probes.length, r.after) };
    case 'handoverJob':
      return { wave: HANDOVER_WAVE, deadlineSeconds: HANDOVER_DEADLINE_SECONDS };
    default:
      return undefined;
  }
}
