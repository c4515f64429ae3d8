import { GitOpsSettings } from '../load/gitops';
import { FederationModel } from '../model/types';
import { PhaseId, Plan } from './types';

/** What GitOps applies to one cluster now. */
export interface ClusterDelivery {
  readonly cluster: string;
  readonly phase: PhaseId;
  /** Path of the phase folder inside the GitOps repository. */
  readonly path: string;
  readonly argocd: { readonly project: string; readonly destination: { readonly name?: string; readonly server?: string } };
}

export function deliveries(model: FederationModel, plan: Plan, gitops: GitOpsSettings): ClusterDelivery[] {
  return model.meshes.filter((m) => !m.virtual).map((m) => {
    const phase = plan.pointers[m.cluster];
    const d = m.settings.argocd.destination;
    return {
      cluster: m.cluster,
      phase,
      path: `${gitops.path}/${m.cluster}/${phase}`,
      argocd: { project: m.settings.argocd.project ?? 'default', destination: d?.server ? { server: d.server } : { name: d?.name ?? m.cluster } },
    };
  });
}
