import { States } from '../check/state';
import { HookTiming, hookTiming } from '../constructs/job-timing';
import { ObjectRef, PhaseId } from '../plan/types';
import { byKey } from '../sort';

/**
 * How long a phase may take, from the deadlines of its hook Jobs (lib/constructs/job-timing.ts): what the Flux
 * phase Kustomization's timeout must cover and what the runbooks tell the operator to expect.
 */

/**
 * What the runbooks allow for a phase's sync waves before its hook Jobs run (control planes reconciling, gateways
 * rolling). Nothing bounds them: Argo CD has no sync timeout by default (argo-cd@v3.4.0
 * docs/operator-manual/argocd-cmd-params-cm.yaml, `controller.sync.timeout.seconds: "0"`). A judgement, not a limit.
 */
export const SYNC_WAVES_SECONDS = 600;
/** The Flux phase Kustomization's timeout is never shorter: a phase without Jobs still waits for control planes. */
export const FLUX_MIN_TIMEOUT_SECONDS = 1800;
/** Past the longest Job deadline: applying the phase and starting the Jobs. */
const FLUX_MARGIN_SECONDS = 300;

export interface PhaseJob extends HookTiming {
  readonly ref: ObjectRef;
}

export interface PhaseDurations {
  /** The hook Jobs of the phase's desired state, by wave then name. */
  readonly jobs: PhaseJob[];
  /**
   * Argo CD: the sync waves, then the PostSync waves one after the other, each until its longest Job's deadline
   * (argo-cd@v3.4.0 gitops-engine/pkg/sync/sync_context.go:560-582: a wave waits for the running hooks).
   */
  readonly argocdSeconds: number;
  /**
   * Flux: the phase Kustomization's `timeout`. Every Job of the apply starts at once and the health check waits for
   * all of them (fluxcd/kustomize-controller@186fb3b internal/controller/kustomization_controller.go:1059-1072), so
   * it outlasts the longest deadline: Flux reports the Job's own failure, not a timeout. Whole minutes.
   */
  readonly fluxTimeoutSeconds: number;
}

/** The durations of `cluster` at `phase`, from the phase's desired state (`states`, built from the plan). */
export function phaseDurations(states: States, cluster: string, phase: PhaseId): PhaseDurations {
  const jobs = states
    .get(cluster, phase)
    .resources.flatMap((r): PhaseJob[] => {
      const t = hookTiming(r);
      return t ? [{ ref: r.ref, ...t }] : [];
    })
    .sort(
      (a, b) =>
        a.wave - b.wave ||
        byKey<PhaseJob>(
          (j) => j.ref.namespace ?? '',
          (j) => j.ref.name,
        )(a, b),
    );
  const waves = [...new Set(jobs.map((j) => j.wave))];
  const hooks = waves.reduce((sum, w) => sum + Math.max(...jobs.filter((j) => j.wave === w).map((j) => j.deadlineSeconds)), 0);
  const longest = Math.max(0, ...jobs.map((j) => j.deadlineSeconds));
  return {
    jobs,
    argocdSeconds: SYNC_WAVES_SECONDS + hooks,
    fluxTimeoutSeconds: Math.max(FLUX_MIN_TIMEOUT_SECONDS, Math.ceil((longest + FLUX_MARGIN_SECONDS) / 60) * 60),
  };
}

/** Seconds as whole minutes, rounded up: `39 min`. */
export function minutes(seconds: number): string {
  return `${Math.ceil(seconds / 60)} min`;
}
