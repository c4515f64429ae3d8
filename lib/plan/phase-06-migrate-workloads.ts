import { API, ref } from './api-versions';
import { smcpRef } from './names';
import { gatewayOnlyNamespaces } from './north-south';
import { REVISION_RESTART_ANNOTATION, restartResources, workloadsIn } from './restart';
import { migratedNamespaces, revisionLabels } from './revision';
import { pointerKey } from '../json';
import { Patch, Resource } from './types';
import { ModelIndex } from '../model/model-index';
import { Mesh } from '../model/types';

export const RESTART_NAME = 'meshfed-restart-workloads';

/**
 * 06-migrate-workloads: label the namespaces for the new revision (istio.io/rev, maistra.io/ignore-namespace,
 * no istio-injection), restart their workloads so sidecars are injected by OSSM 3, and stop the OSSM 2
 * istiod from reconciling Gateway API objects so the new one owns the east-west and istio-remote Gateways.
 */
export function planMigrateWorkloads(ctx: ModelIndex, mesh: Mesh): { adds: Resource[]; patches: Patch[] } {
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
  const ignoreOnly = gatewayOnlyNamespaces(mesh, migratedNamespaces(ctx, mesh));
  const adds = restartResources(mesh, {
    name: RESTART_NAME,
    namespace: mesh.ossm3.namespace,
    annotation: REVISION_RESTART_ANNOTATION,
    value: mesh.ossm3.revision,
    workloads: workloadsIn(mesh, mesh.memberNamespaces),
    identity: { revision: mesh.ossm3.revision },
    // Greenfield installs the control plane in the same apply: pods restarted before the revision's webhook
    // exists would come back without a sidecar (gitops-live review S3).
    ...(mesh.settings.mode === 'greenfield'
      ? { waitFor: { kind: 'Deployment' as const, namespace: mesh.ossm3.namespace, name: `istiod-${mesh.ossm3.revision}` } }
      : {}),
    relabel: {
      namespaces: migratedNamespaces(ctx, mesh),
      set: revisionLabels(mesh),
      remove: ['istio-injection'],
      // The SMCP gateways' namespaces: meshfed's gateway pods carry the revision label themselves, and must
      // be injected by OSSM 3 only (the 2.6 injector would inject them too; sail-operator gateway-migration.md).
      // Left out when empty, so the Job's name (a hash of what it does) stays as it was.
      ...(ignoreOnly.length ? { ignoreOnly } : {}),
    },
  });
  return { adds, patches };
}
