import { Diagnostics } from '../diagnostics';
import { Gate, PhaseId, phaseIndex, Plan } from './types';
import { inputPath } from '../model/names';
import { FederationModel, Mesh } from '../model/types';

const at = phaseIndex;

/** The rules every phase pointer must satisfy, as readers of plan.json see them. */
export const ORDERING_RULES = [
  'Within a cluster, phases are applied in order: a cluster at phase N has applied 0..N.',
  '03-import waits for every exporter it imports from to be at 02-export or later, with a known east-west address.',
  '04-remove-federation waits for every peer that imports services from the cluster to be at 03-import or later ' +
    '(whose restart Job gives its clients the network the new path needs).',
  "06-migrate-workloads waits for the cluster's own 05-install-ossm3, and moves clients to " +
    'OSSM 3 only once the services they call are reachable through the new path (their ' +
    'exporters at 02-export or later).',
];

/** Gates of phases 0..`phase` of `cluster` that the current pointers do not meet. */
export function unmetGates(plan: Plan, cluster: string, phase: PhaseId): Gate[] {
  const phases = plan.byCluster[cluster].slice(0, at(phase) + 1);
  return phases.flatMap((p) => p.waitsFor.filter((g) => at(plan.pointers[g.cluster]) < at(g.phase)));
}

/** Why `cluster` cannot be at `phase` (empty when it can). */
export function blockersOf(plan: Plan, cluster: string, phase: PhaseId): string[] {
  const p = plan.byCluster[cluster][at(phase)];
  const gates = unmetGates(plan, cluster, phase).map(
    (g) => `${g.cluster} must be at ${g.phase} or later (it is at ${plan.pointers[g.cluster]}): ${cluster} ${g.reason}`,
  );
  return [...new Set([...p.blockedBy, ...gates])];
}

/** A cluster's cluster.yaml where this run's input keeps it (a cluster known only by a bundle: its usual place). */
function settingsFile(mesh: Mesh | undefined, cluster: string): string {
  return mesh ? inputPath(mesh, 'cluster.yaml') : `clusters/${cluster}/cluster.yaml`;
}

/**
 * A rollback from this phase or a later one is written only when the user confirms it (--confirm-rollback).
 * From 03-import on, clients use the new path, and each rollback takes away or brings back what carries
 * live traffic: 03→02 removes the imports clients now use, 04→03 applies the federation sets again, 05→04
 * removes the OSSM 3 control plane, 06→05 moves workloads back to OSSM 2 (only once they restart), 07→06
 * re-creates the OSSM 2 control plane. A one-step rollback before 03 changes nothing clients use yet.
 */
export const CONFIRM_ROLLBACK_FROM: PhaseId = '03-import';

/** Changes the user confirmed for this run, and how to describe a rollback (for the refusal of an unconfirmed one). */
export interface PointerConfirmations {
  /** Clusters whose rollback from CONFIRM_ROLLBACK_FROM or later is confirmed (synth --confirm-rollback). */
  readonly rollbacks?: readonly string[];
  /**
   * What rolling `phase` back does on `cluster`: the runbook's rollback text (lib/write/runbook/rollback.ts),
   * handed in by the pipeline, since the plan layer does not import the writers.
   */
  readonly describeRollback?: (cluster: string, phase: PhaseId) => string;
}

/** Refuse pointers that break an ordering rule; each error names the cluster and phase that must come first. */
export function checkPointers(
  plan: Plan,
  model: FederationModel,
  diags: Diagnostics,
  previous: Record<string, string> = {},
  confirmed: PointerConfirmations = {},
): void {
  const local = new Map(model.meshes.filter((m) => !m.virtual).map((m) => [m.cluster, m]));
  for (const mesh of local.values()) {
    const phase = plan.pointers[mesh.cluster];
    const where = mesh.settings.source.at(['spec', 'phase']);
    const p = plan.byCluster[mesh.cluster][at(phase)];
    if (p.blockedBy.length) {
      diags.error(where, `${mesh.cluster} cannot be at ${phase}: this phase is not written yet. ${p.blockedBy.join(' ')}`);
      continue;
    }
    const was = previous[mesh.cluster] as PhaseId | undefined;
    if (was !== undefined && plan.phases.includes(was) && Math.abs(at(phase) - at(was)) > 1) {
      // Reported beside any unmet gate below: one run names every problem with the pointer.
      const skip = skippedPhases(plan, mesh, was, phase);
      diags.error(where, skip.message, skip.hint);
    }
    if (was !== undefined && plan.phases.includes(was) && at(was) - at(phase) === 1 && at(was) >= at(CONFIRM_ROLLBACK_FROM)) {
      if (!confirmed.rollbacks?.includes(mesh.cluster)) {
        const refusal = unconfirmedRollback(mesh, was, phase, confirmed.describeRollback?.(mesh.cluster, was));
        diags.error(where, refusal.message, refusal.hint);
      }
    }
    for (const g of unmetGates(plan, mesh.cluster, phase)) {
      // A rollback of the cluster waited on (its pointer went back since the last render): name it, and
      // say which cluster must roll back first.
      const was = previous[g.cluster];
      const other = local.get(g.cluster);
      if (other && was && at(was as PhaseId) > at(plan.pointers[g.cluster]) && previous[mesh.cluster] === phase) {
        diags.error(
          other.settings.source.at(['spec', 'phase']),
          `${g.cluster} cannot roll back from ${was} to ${plan.pointers[g.cluster]} yet: ${mesh.cluster} (at ${phase}) needs ` +
            `${g.cluster} at ${g.phase} or later (${mesh.cluster} ${g.reason}).`,
          `Roll ${mesh.cluster} back first (spec.phase in ${inputPath(mesh, 'cluster.yaml')}, to a phase before ${phase}), ` +
            `synth and let it sync, then roll ${g.cluster} back.`,
        );
        continue;
      }
      diags.error(
        where,
        `${mesh.cluster} cannot be at ${phase} yet: ${g.cluster} must be at ${g.phase} or later ` +
          `first (${mesh.cluster} ${g.reason}); ${g.cluster} is at ${plan.pointers[g.cluster]}.`,
        `Move ${g.cluster} on first (spec.phase in ${settingsFile(local.get(g.cluster), g.cluster)}), ` +
          `or keep ${mesh.cluster} at an earlier phase.`,
      );
    }
  }
}

/**
 * A pointer that moved more than one phase since the last render (the previous plan.json): the first
 * rule of ORDERING_RULES. Each phase folder is a cluster's whole desired state at that phase, so a jump
 * applies (or, backwards, undoes) the phases in between in one sync, without the sync, health checks and
 * verify Jobs of each in between; the way on is one phase at a time (the runbook's rollback is too).
 */
function skippedPhases(plan: Plan, mesh: Mesh, was: PhaseId, phase: PhaseId): { message: string; hint: string } {
  const forward = at(phase) > at(was);
  const between = forward ? plan.phases.slice(at(was) + 1, at(phase)) : plan.phases.slice(at(phase) + 1, at(was)).reverse();
  const step = between[0];
  const names = between.length === 1 ? between[0] : `${between.slice(0, -1).join(', ')} and ${between[between.length - 1]}`;
  const file = inputPath(mesh, 'cluster.yaml');
  const head =
    `${mesh.cluster}'s pointer skips a phase: spec.phase is ${phase}, the last synth rendered ${mesh.cluster} at ${was}, ` +
    `and ${names} ${between.length === 1 ? 'comes' : 'come'} between.`;
  return forward
    ? {
        message: `${head} GitOps would apply ${names} and ${phase} in one sync, with no synced, healthy, verified ${step} in between.`,
        hint: `Set spec.phase: ${step} (the next phase) in ${file}, synth, commit, let GitOps sync it, then move on.`,
      }
    : {
        message: `${head} GitOps would undo ${was} and ${names} in one sync, with no synced state in between to check or stop at.`,
        hint: `Set spec.phase: ${step} (the phase before ${was}) in ${file}, synth, commit, let GitOps sync it, then roll back further.`,
      };
}

/** The refusal of a rollback from CONFIRM_ROLLBACK_FROM or later that the user has not confirmed. */
function unconfirmedRollback(mesh: Mesh, was: PhaseId, phase: PhaseId, does: string | undefined): { message: string; hint: string } {
  const c = mesh.cluster;
  return {
    message:
      `${c} rolls back from ${was} to ${phase}: a rollback from ${CONFIRM_ROLLBACK_FROM} on changes what carries live traffic, ` +
      `so it is written only when you confirm it.` +
      (does ? ` What it does (the runbook's rollback of ${was}): ${does}` : ''),
    hint:
      `If that is what you want, run synth again with --confirm-rollback ${c} (CI: MESHFED_CONFIRM_ROLLBACK=${c}); ` +
      `otherwise set spec.phase: ${was} again in ${inputPath(mesh, 'cluster.yaml')}.`,
  };
}

/** For `meshfed plan`: each cluster's current phase, the next one, and what blocks it. */
export function nextSteps(plan: Plan): { cluster: string; current: PhaseId; next?: PhaseId; blockedBy: string[] }[] {
  return plan.local.map((cluster) => {
    const current = plan.pointers[cluster];
    const next = plan.phases[at(current) + 1] as PhaseId | undefined;
    return { cluster, current, next, blockedBy: next ? blockersOf(plan, cluster, next) : [] };
  });
}
