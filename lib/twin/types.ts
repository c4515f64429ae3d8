/**
 * The contracts between the twin's parts: health assessment, the engines' results, and what a rehearsal
 * reports. Engines (argocd.ts, flux.ts) drive a `Cluster`; health.ts judges objects; rehearse.ts runs
 * scenarios and turns results into failures a user can act on.
 */
import { Obj, Ref } from './objects';

/** Argo CD's health statuses (gitops-engine pkg/health/health.go HealthStatusCode). */
export type ArgoHealthStatus = 'Healthy' | 'Progressing' | 'Degraded' | 'Suspended' | 'Missing' | 'Unknown';

export interface ArgoHealth {
  readonly status: ArgoHealthStatus;
  readonly message: string;
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
