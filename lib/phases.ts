/**
 * The phase ids: a leaf module (it imports nothing), so settings, model and plan can all name phases
 * without an import cycle. lib/plan/types.ts re-exports them.
 */
export const PHASES = [
  '00-federation',
  '01-prepare',
  '02-export',
  '03-import',
  '04-remove-federation',
  '05-install-ossm3',
  '06-migrate-workloads',
  '07-finalize',
] as const;
/** A greenfield cluster (spec.mode: greenfield) has one overlay instead of the eight phases. */
export const GREENFIELD_PHASES = ['multicluster'] as const;
/** A phase of a migrating cluster (`spec.phase` in its cluster.yaml; docs/output.md lists what each does). */
export type MigrationPhase = (typeof PHASES)[number];
/** A phase of a cluster: one of the eight of a migration, or the one overlay of a greenfield cluster. */
export type PhaseId = MigrationPhase | (typeof GREENFIELD_PHASES)[number];

/** Position of a phase in its cluster's sequence (the greenfield overlay is the only, first one). */
export function phaseIndex(phase: PhaseId): number {
  return phase === 'multicluster' ? 0 : PHASES.indexOf(phase);
}
