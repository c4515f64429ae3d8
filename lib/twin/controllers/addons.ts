/**
 * The operators meshfed's 05 replacements need, installed before 05 (its pre-flight checks them): the Kiali
 * operator reconciling a Kiali CR. The twin does not model what Kiali runs; it models the status Argo CD's
 * bundled Kiali health check reads (argo-cd@v3.4.0 resource_customizations/kiali.io/Kiali/health.lua: Healthy on
 * a `Successful=True` condition), written the way the Kiali operator's Ansible reconciler reports a finished
 * run (kiali/kiali-operator roles/default: conditions Running, then Successful; inference from its status
 * shape, not read line by line). Monitoring CRs (ServiceMonitor, PodMonitor) have no status to model.
 */
import { Cluster, Controller } from '../cluster';
import { Obj, refOf } from '../objects';
import { putCondition, readConditions } from './kube';

export const KIALI_OPERATOR_MANAGER = 'kiali-operator';

export class KialiOperator implements Controller {
  readonly name = KIALI_OPERATOR_MANAGER;

  reconcile(cluster: Cluster): void {
    if (!cluster.typeOf('kiali.io', 'Kiali')) return;
    for (const kiali of cluster.list((o) => o.kind === 'Kiali' && refOf(o).group === 'kiali.io')) this.reconcileKiali(cluster, kiali);
  }

  private reconcileKiali(cluster: Cluster, kiali: Obj): void {
    const generation = Number((kiali.metadata as { generation?: number }).generation ?? 1);
    const status = (kiali.status ?? {}) as { observedGeneration?: number };
    if (status.observedGeneration === generation) return;
    cluster.update(refOf(kiali), KIALI_OPERATOR_MANAGER, (o) => {
      const conditions = putCondition(
        readConditions(o),
        { type: 'Successful', status: 'True', reason: 'Successful', message: 'Reconciled' },
        cluster.now,
      );
      o.status = { ...((o.status ?? {}) as object), observedGeneration: generation, conditions };
    });
  }
}
