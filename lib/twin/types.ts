/**
 * The contracts between the twin's parts: health assessment, the engines' results, and what a rehearsal
 * reports. Engines (argocd.ts, flux.ts) drive a `Cluster`; health.ts judges objects; rehearse.ts runs
 * scenarios and turns results into failures a user can act on.
 */
import { Obj, Ref } from './objects';

/**
 * Argo CD's health statuses (gitops-engine pkg/health/health.go HealthStatusCode). '' is what Argo CD records when a
 * Lua check returns nil or a table that is not `{status = "…", message = "…"}` (argo-cd@v3.4.0:util/lua/lua.go:144-162):
 * a sync never counts it as healthy nor degraded (a non-hook task waits for ever: gitops-engine/pkg/sync/
 * sync_context.go:543-553), a hook with it succeeds (sync_context.go:359-371), the app's health ignores it.
 */
export type ArgoHealthStatus = 'Healthy' | 'Progressing' | 'Degraded' | 'Suspended' | 'Missing' | 'Unknown' | '';

export interface ArgoHealth {
  readonly status: ArgoHealthStatus;
  readonly message: string;
  /**
   * The assessment itself failed (a Lua runtime error, an unsupported version of a built-in kind): Argo CD shows
   * Unknown with the error (health.go:78-86, 92-98), a sync leaves a non-hook task running — it neither succeeds nor
   * fails (sync_context.go:540-541) — and a hook's task ends in error (sync_context.go:532-534).
   */
  readonly error?: boolean;
}

/** How Argo CD judges one live object: undefined when Argo CD has no health for its kind (it counts as healthy). */
export type ArgoHealthOf = (obj: Obj) => ArgoHealth | undefined;

/** kstatus (fluxcd/cli-utils pkg/kstatus/status/status.go) as Flux's health checks use it. */
export type FluxStatus = 'Current' | 'InProgress' | 'Failed' | 'Terminating' | 'NotFound' | 'Unknown';

export interface FluxHealth {
  readonly status: FluxStatus;
  readonly message: string;
}

/** One entry of a Flux Kustomization's `spec.healthCheckExprs`. */
export interface HealthCheckExpr {
  readonly apiVersion: string;
  readonly kind: string;
  readonly current: string;
  readonly inProgress?: string;
  readonly failed?: string;
}

/** A step of an engine's run, in order, for the report and for explaining a failure. */
export interface EngineStep {
  /** Virtual seconds since the move started. */
  readonly t: number;
  /** `PreSync wave -2`, `Sync wave 0`, `PostSync wave 1`, `prune`, `apply stage 1`, `health check`, `garbage collection`… */
  readonly stage: string;
  readonly action: 'apply' | 'prune' | 'prune-skipped' | 'hook' | 'hook-delete' | 'wait' | 'delete' | 'fail';
  readonly object?: Ref;
  readonly detail?: string;
}

export interface EngineFailure {
  /** Where it stopped (an EngineStep stage). */
  readonly stage: string;
  readonly object?: Ref;
  /** What the engine would show (its own message where it has one). */
  readonly reason: string;
  /** `failed`: the engine reports an error; `hangs`: it never finishes within the horizon. */
  readonly kind: 'failed' | 'hangs';
}

export interface EngineResult {
  readonly engine: 'argocd' | 'flux';
  readonly ok: boolean;
  readonly steps: EngineStep[];
  readonly failure?: EngineFailure;
  /** Virtual seconds the run took. */
  readonly seconds: number;
}
