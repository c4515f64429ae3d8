import { API, ref } from './api-versions';
import { smcpRef } from './names';
import { migratedNamespaces, revisionLabels } from './revision';
import { pointerKey } from '../json';
import { Contribute, Patch } from './types';
import { ModelIndex } from '../model/model-index';
import { Mesh } from '../model/types';

/**
 * 06-migrate-workloads: label the namespaces for the new revision (istio.io/rev, maistra.io/ignore-namespace,
 * no istio-injection), and stop the OSSM 2 istiod from reconciling Gateway API objects so the new one owns
 * the east-west and istio-remote Gateways. The Job that restarts their workloads so sidecars are injected by
 * OSSM 3 is lib/plan/restart.ts's; the gateways 06 takes over are lib/plan/north-south.ts's.
 */
function planMigrateWorkloads(ctx: ModelIndex, mesh: Mesh): Patch[] {
  const patches: Patch[] = [];
  const labelsOf = (ns: string): Record<string, string> => mesh.inventory.namespaces.find((n) => n.name === ns)?.labels ?? {};
  for (const ns of migratedNamespaces(ctx, mesh)) {
    const target = ref(API.namespace, 'Namespace', ns);
    patches.push({
      type: 'merge',
      target,
      why: `move namespace ${ns} to revision ${mesh.ossm3.revision}`,
      patch: { metadata: { labels: revisionLabels(mesh) } },
    });
    if ('istio-injection' in labelsOf(ns)) {
      patches.push({
        type: 'json6902',
        target,
        why: 'istio-injection would override istio.io/rev',
        ops: [{ op: 'remove', path: `/metadata/labels/${pointerKey('istio-injection')}` }],
      });
    }
  }
  if (ctx.linksOf(mesh.cluster).length > 0) {
    patches.push({
      type: 'merge',
      target: smcpRef(mesh),
      why: 'let the OSSM 3 istiod alone reconcile Gateway API objects (east-west and istio-remote Gateways)',
      patch: { spec: { runtime: { components: { pilot: { container: { env: { PILOT_ENABLE_GATEWAY_API: 'false' } } } } } } },
    });
  }
  return patches;
}

export const contribute: Contribute = (ctx, mesh) => ({ '06-migrate-workloads': { patches: planMigrateWorkloads(ctx, mesh) } });
