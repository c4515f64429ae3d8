import { PlanContext } from './context';
import { smcpRef, usesEgress } from './phase-01-prepare';
import { pointerKey } from './phase-04-remove-federation';
import { API, ref } from './refs';
import { Patch, Resource } from './types';
import { dnsLabel, shortHash } from '../model/names';
import { Mesh } from '../model/types';
import { byKey } from '../sort';

export const RESTART_NAME = 'meshfed-restart-workloads';

/** Namespaces that move to the new revision: the members, the east-west gateway's on exporters, the egress gateway's on importers using one. */
export function migratedNamespaces(ctx: PlanContext, mesh: Mesh): string[] {
  const out = new Set(mesh.memberNamespaces);
  if (ctx.isExporter(mesh.cluster)) out.add(mesh.eastWest.namespace);
  if (usesEgress(ctx, mesh)) out.add(mesh.egress!.namespace);
  return [...out].sort();
}

/**
 * 06-migrate-workloads: label the namespaces for the new revision (istio.io/rev, maistra.io/ignore-namespace,
 * no istio-injection), restart their workloads so sidecars are injected by OSSM 3, and stop the OSSM 2
 * istiod from reconciling Gateway API objects so the new one owns the east-west and istio-remote Gateways.
 */
export function planMigrateWorkloads(ctx: PlanContext, mesh: Mesh): { adds: Resource[]; patches: Patch[] } {
  const patches: Patch[] = [];
  const labelsOf = (ns: string): Record<string, string> => mesh.inventory.namespaces.find((n) => n.name === ns)?.labels ?? {};
  for (const ns of migratedNamespaces(ctx, mesh)) {
    const target = ref(API.namespace, 'Namespace', ns);
    patches.push({
      type: 'merge',
      target,
      why: `move namespace ${ns} to revision ${mesh.ossm3.revision}`,
      patch: { metadata: { labels: { 'istio.io/rev': mesh.ossm3.revision, 'maistra.io/ignore-namespace': 'true' } } },
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
  const members = new Set(mesh.memberNamespaces);
  const workloads = mesh.inventory.workloads
    .filter((w) => members.has(w.namespace))
    .map((w) => ({ kind: w.kind, namespace: w.namespace, name: w.name }))
    .sort(
      byKey(
        (w) => w.namespace,
        (w) => w.kind,
        (w) => w.name,
      ),
    );
  if (workloads.length === 0) return { adds: [], patches };
  // The Job's name carries a hash of what it restarts: Jobs are immutable, and a new set must run again.
  const jobName = dnsLabel(RESTART_NAME, shortHash(JSON.stringify({ workloads, revision: mesh.ossm3.revision, image: mesh.restartImage })));
  const sa = ref('v1', 'ServiceAccount', RESTART_NAME, mesh.ossm3.namespace);
  const namespaces = [...new Set(workloads.map((w) => w.namespace))].sort();
  const adds: Resource[] = [
    { type: 'serviceAccount', ref: sa },
    ...namespaces.flatMap((ns): Resource[] => [
      {
        type: 'restartRole',
        ref: ref('rbac.authorization.k8s.io/v1', 'Role', RESTART_NAME, ns),
        workloads: workloads.filter((w) => w.namespace === ns),
      },
      { type: 'roleBinding', ref: ref('rbac.authorization.k8s.io/v1', 'RoleBinding', RESTART_NAME, ns), serviceAccount: sa },
    ]),
    {
      type: 'restartJob',
      ref: ref('batch/v1', 'Job', jobName, mesh.ossm3.namespace),
      serviceAccount: sa,
      image: mesh.restartImage,
      revision: mesh.ossm3.revision,
      workloads,
    },
  ];
  return { adds, patches };
}
