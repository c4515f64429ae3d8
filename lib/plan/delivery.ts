import { ImportShard, PhaseId, phaseIndex, Plan } from './types';
import { GitOpsSettings } from '../load/gitops';
import { dnsLabel } from '../model/names';
import { FederationModel } from '../model/types';

/** What GitOps applies to one cluster now. */
export interface ClusterDelivery {
  readonly cluster: string;
  readonly phase: PhaseId;
  /** Path of the phase folder inside the GitOps repository. */
  readonly path: string;
  /** The import shards (lib/plan/shards.ts) of this and earlier phases, delivered next to the phase folder. */
  readonly imports: { readonly name: string; readonly exporter: string; readonly path: string }[];
  readonly argocd: {
    readonly project: string;
    readonly destination: { readonly name?: string; readonly server?: string };
    readonly automated: boolean;
  };
}

/** Name of the Flux Kustomization that applies one import folder (`imports/<shard>`) of a cluster. */
export function fluxImportsName(cluster: string, shard: string): string {
  return dnsLabel('meshfed', cluster, 'imports', shard);
}

/** The import shards GitOps applies with a cluster's phase: those of this and earlier written phases. */
export function deliveredShards(plan: Plan, cluster: string, phase: PhaseId): ImportShard[] {
  return plan.byCluster[cluster]
    .filter((p) => phaseIndex(p.phase) <= phaseIndex(phase) && p.blockedBy.length === 0)
    .flatMap((p) => p.shards);
}

export function deliveries(model: FederationModel, plan: Plan, gitops: GitOpsSettings): ClusterDelivery[] {
  return model.meshes
    .filter((m) => !m.virtual)
    .map((m) => {
      const phase = plan.pointers[m.cluster];
      const d = m.settings.argocd.destination;
      return {
        cluster: m.cluster,
        phase,
        path: `${gitops.path}/${m.cluster}/${phase}`,
        imports: deliveredShards(plan, m.cluster, phase).map((s) => ({
          name: s.name,
          exporter: s.exporter,
          path: `${gitops.path}/${m.cluster}/imports/${s.name}`,
        })),
        argocd: {
          project: m.settings.argocd.project,
          destination: d?.server ? { server: d.server } : { name: d?.name ?? m.cluster },
          automated: m.settings.argocd.automated,
        },
      };
    });
}
