import { API, ref } from './api-versions';
import { deployedGateways, smcpRef } from './names';
import { injectionDisabledNamespaces, migratedNamespaces, revisionLabels } from './revision';
import { pointerKey } from '../json';
import { Contribute, ObjectRef, Patch } from './types';
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
  const keep = new Set(injectionDisabledNamespaces(mesh, migratedNamespaces(ctx, mesh)));
  for (const ns of migratedNamespaces(ctx, mesh)) {
    const target = ref(API.namespace, 'Namespace', ns);
    patches.push({
      type: 'merge',
      target,
      why: `move namespace ${ns} to revision ${mesh.ossm3.revision}`,
      patch: { metadata: { labels: revisionLabels(mesh) } },
    });
    // `istio-injection: disabled` stays: no injector, OSSM 2's or 3's, injects there (injectionDisabledNamespaces).
    if ('istio-injection' in labelsOf(ns) && !keep.has(ns)) {
      patches.push({
        type: 'json6902',
        target,
        why: 'istio-injection would override istio.io/rev',
        ops: [{ op: 'remove', path: `/metadata/labels/${pointerKey('istio-injection')}` }],
      });
    }
  }
  patches.push(...deployedGateways(ctx, mesh).map((gw) => handOver(mesh, gw)));
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

/** The Namespaces' sync wave (lib/write/sync-waves.ts WAVES.Namespace): the Gateways' labels land with them. */
const HANDOVER_WAVE = '-4';

/**
 * Red Hat's Gateway API migration: label the Gateway itself `istio.io/rev: <revision>` and `maistra.io/ignore: "true"`
 * (openshift-service-mesh/sail-operator@fd6516dc docs/ossm/ossm2-migration/gateway-migration.md:102-110; OSSM's own
 * federation migration test labels the east-west Gateway so: maistra/maistra-test-tool@037d62f0
 * pkg/tests/tasks/migration/federation_test.go:469-471). The namespace relabel alone hands the Gateway to 1.27 (IsMine
 * reads the namespace's `istio.io/rev` when the Gateway has none: istio/istio@1.27.3 pkg/revisions/tag_watcher.go:112-136)
 * while the 2.6 istiod still deploys it until the SMCP patch below has rolled it (two wave steps later): both deployment
 * controllers would write its Deployment. With `maistra.io/ignore` the 2.6 istiod drops it at once, with the Gateway's
 * own `istio.io/rev` 1.27 takes it whatever its namespace says, and the patch lands in the Namespaces' wave (after
 * them: Argo CD orders Namespaces first within a wave; Flux stages Namespaces before the rest), so the new pods are
 * created once the namespace carries `maistra.io/ignore-namespace` and only OSSM 3 injects them.
 */
function handOver(mesh: Mesh, gateway: ObjectRef): Patch {
  return {
    type: 'merge',
    target: gateway,
    why: `hand the Gateway to revision ${mesh.ossm3.revision} and make the OSSM 2 istiod ignore it (Red Hat's Gateway API migration)`,
    patch: {
      metadata: {
        labels: { 'istio.io/rev': mesh.ossm3.revision, 'maistra.io/ignore': 'true' },
        annotations: { 'argocd.argoproj.io/sync-wave': HANDOVER_WAVE },
      },
    },
  };
}

export const contribute: Contribute = (ctx, mesh) => ({ '06-migrate-workloads': { patches: planMigrateWorkloads(ctx, mesh) } });
