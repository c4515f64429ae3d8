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

/** Refuse pointers that break an ordering rule; each error names the cluster and phase that must come first. */
/** A cluster's cluster.yaml where this run's input keeps it (a cluster known only by a bundle: its usual place). */
function settingsFile(mesh: Mesh | undefined, cluster: string): string {
  return mesh ? inputPath(mesh, 'cluster.yaml') : `clusters/${cluster}/cluster.yaml`;
}

export function checkPointers(plan: Plan, model: FederationModel, diags: Diagnostics, previous: Record<string, string> = {}): void {
  const local = new Map(model.meshes.filter((m) => !m.virtual).map((m) => [m.cluster, m]));
  for (const mesh of local.values()) {
    const phase = plan.pointers[mesh.cluster];
    const where = mesh.settings.source.at(['spec', 'phase']);
    const p = plan.byCluster[mesh.cluster][at(phase)];
    if (p.blockedBy.length) {
      diags.error(where, `${mesh.cluster} cannot be at ${phase}: this phase is not written yet. ${p.blockedBy.join(' ')}`);
      continue;
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

/** For `meshfed plan`: each cluster's current phase, the next one, and what blocks it. */
export function nextSteps(plan: Plan): { cluster: string; current: PhaseId; next?: PhaseId; blockedBy: string[] }[] {
  return plan.local.map((cluster) => {
    const current = plan.pointers[cluster];
    const next = plan.phases[at(current) + 1] as PhaseId | undefined;
    return { cluster, current, next, blockedBy: next ? blockersOf(plan, cluster, next) : [] };
  });
}
