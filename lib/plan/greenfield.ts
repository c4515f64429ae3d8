import { API, ref } from './api-versions';
import { planControlPlaneObjects, planObservability } from './control-plane';
import { preexisting } from './namespaces';
import { planFlowPolicies } from './network-policies';
import { handedOverServices, planExplicitRoutes, planGatewayTakeover } from './north-south';
import { Diagnostics } from '../diagnostics';
import { exposurePolicies } from './authz';
import { planInstallRestart, requireJobImage } from './restart';
import { migratedNamespaces, revisionLabels } from './revision';
import { planImportShards } from './shards';
import { PhasePlan, Resource } from './types';
import { planVerify } from './verify';
import { JsonObject } from '../json';
import { ModelIndex } from '../model/model-index';
import { Import, Mesh } from '../model/types';

/**
 * With a declared control plane (clusters/<c>/control-plane.yaml, what `meshfed graduate` writes): the
 * objects a migration adds to carry SMCP settings, as 07-finalize has them — the mesh-wide mTLS policy and
 * NetworkPolicies, the addon replacements, the gateways OSSM 3 injects with their Routes and the Services
 * handed over to Git. The hand-over Job and its RBAC are migration machinery, not state: left out.
 */
function declaredControlPlaneObjects(mesh: Mesh, migrated: string[]): Resource[] {
  return [
    ...planControlPlaneObjects(mesh),
    ...planObservability(mesh),
    ...planFlowPolicies(mesh),
    ...planGatewayTakeover(mesh, migrated),
    ...planExplicitRoutes(mesh).adds,
    ...handedOverServices(mesh),
  ];
}

/**
 * The imports a greenfield overlay carries: those from exporters whose east-west gateway can be reached.
 * Each cluster's overlay must be applicable before its peers' addresses exist, so the others are left out
 * with a warning (MF023) that says what to set (`blockers`, lib/plan/phase-03-import.ts importBlockers);
 * synth again once they are set.
 */
export function reachableImports(ctx: ModelIndex, mesh: Mesh, blockers: readonly string[], diags: Diagnostics): Import[] {
  const pending = new Set(ctx.unreachableExporters(mesh.cluster).map((e) => e.cluster));
  if (pending.size && !mesh.virtual) {
    for (const reason of blockers) {
      diags.warn(
        'MF023',
        mesh.settings.source.at(),
        `${mesh.cluster}'s imports from ${[...pending].sort().join(', ')} are left out of its multicluster overlay for now: ${reason}`,
      );
    }
  }
  return ctx.importsInto(mesh.cluster).filter((i) => !pending.has(i.exporter));
}

/** The objects a migration's phase planners make for a greenfield cluster (lib/plan/plan.ts greenfieldOverlay). */
export interface PlannedAsMigration {
  /** 05-install-ossm3: IstioCNI and Istio, with their namespaces and cacerts. */
  readonly ossm3: Resource[];
  /** 02-export: the east-west gateway, its namespace and the exporter ServiceEntries. */
  readonly eastWest: Resource[];
  /** 03-import, for the reachable imports only: istio-remote Gateways, imported services, the egress gateway. */
  readonly imports: Resource[];
}

/**
 * The greenfield overlay `multicluster` (spec.mode: greenfield): the end state of a migration without
 * the way there — member Namespaces labelled for the OSSM 3 revision, IstioCNI and Istio (trust domain,
 * peers' trust domains and roots, network), the east-west gateway exposing exactly the importers'
 * hostnames, istio-remote Gateways and imported services, the egress gateway if enabled, and a restart
 * Job so existing workloads get sidecars.
 */
export function planGreenfield(ctx: ModelIndex, mesh: Mesh, diags: Diagnostics, planned: PlannedAsMigration): PhasePlan {
  const onRevision = new Set(migratedNamespaces(ctx, mesh));
  const parts: Resource[] = [
    ...planned.ossm3,
    ...planned.eastWest,
    ...planned.imports,
    ...exposurePolicies(ctx, mesh, diags),
    // Workloads that already run on the revision (a graduated migration) are not restarted.
    ...planInstallRestart(ctx, mesh),
    ...planVerify(ctx, mesh, 'multicluster').adds,
    ...(mesh.inventory.declaredControlPlane ? declaredControlPlaneObjects(mesh, [...onRevision]) : []),
  ];
  // Namespaces: one object each, with the revision label where workloads or gateways run.
  const namespaces = new Map<string, Record<string, string>>();
  const metadata = (n: { rendered: JsonObject }) =>
    (n.rendered.metadata ?? {}) as { labels?: Record<string, string>; annotations?: Record<string, string> };
  const known = new Map(mesh.inventory.namespaces.map((n) => [n.name, metadata(n).labels ?? {}]));
  // The inventory's annotations (openshift.io/display-name, description, requester…), as 00 adopts a dumped
  // Namespace: a graduated mesh must keep every annotation 07-finalize declares, or the next apply removes it
  // from the live Namespace (https://kubernetes.io/docs/reference/using-api/server-side-apply/#field-management).
  const annotations = new Map(mesh.inventory.namespaces.map((n) => [n.name, metadata(n).annotations ?? {}]));
  for (const n of [...mesh.memberNamespaces, ...onRevision]) namespaces.set(n, known.get(n) ?? {});
  for (const r of parts) if (r.type === 'namespace') namespaces.set(r.ref.name, { ...r.labels, ...(namespaces.get(r.ref.name) ?? {}) });
  const nsResources: Resource[] = [...namespaces.keys()].sort().map((name) => {
    const { 'istio-injection': _, ...labels } = namespaces.get(name)!;
    return {
      type: 'namespace',
      ref: ref(API.namespace, 'Namespace', name),
      // A graduated mesh's namespaces keep the labels 06 gave them (07-finalize, byte for byte).
      labels: onRevision.has(name)
        ? { ...labels, ...(mesh.inventory.declaredControlPlane ? revisionLabels(mesh) : { 'istio.io/rev': mesh.ossm3.revision }) }
        : labels,
      ...(Object.keys(annotations.get(name) ?? {}).length ? { annotations: annotations.get(name) } : {}),
      // The inventory's namespaces run (or will run) workloads meshfed does not own.
      ...(preexisting(mesh, name) ? { keep: true } : {}),
    };
  });
  const plan: PhasePlan = {
    cluster: mesh.cluster,
    phase: 'multicluster',
    adds: [...nsResources, ...parts.filter((r) => r.type !== 'namespace')],
    shards: planImportShards(planned.imports),
    // MultiTenant SMMR patches do not apply: a greenfield mesh has no SMCP (and its model is ClusterWide).
    patches: [],
    deletes: [],
    waitsFor: [],
    blockedBy: [],
  };
  requireJobImage(mesh, [plan], diags);
  return plan;
}
