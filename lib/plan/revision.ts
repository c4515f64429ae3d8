import { usesEgress } from './egress';
import { ModelIndex } from '../model/model-index';
import { Mesh } from '../model/types';
import { compareStrings } from '../sort';

/** The labels 06 gives a namespace it moves to the revision: OSSM 3 injects it, OSSM 2's injector stays out. */
export function revisionLabels(mesh: Mesh): Record<string, string> {
  return { 'istio.io/rev': mesh.ossm3.revision, 'maistra.io/ignore-namespace': 'true' };
}

/** Namespaces that move to the new revision: the members, the east-west gateway's on exporters, the egress gateway's on importers using one. */
export function migratedNamespaces(ctx: ModelIndex, mesh: Mesh): string[] {
  const out = new Set(mesh.memberNamespaces);
  if (ctx.isExporter(mesh.cluster)) out.add(mesh.eastWest.namespace);
  if (usesEgress(ctx, mesh)) out.add(mesh.egress!.namespace);
  return [...out].sort();
}

/**
 * The migrated namespaces that keep `istio-injection: disabled` through 06 (a migration only). Maistra's injector
 * skipped them (maistra/istio-operator@8143614c resources/helm/v2.5/istio-control/istio-discovery/templates/
 * mutatingwebhook.yaml:38-51: `istio-injection NotIn [disabled]`), so none of their pods has a sidecar; every 1.27
 * injector webhook skips them too (istio/istio@1.27.3 manifests/charts/istio-control/istio-discovery/templates/
 * mutatingwebhook.yaml:65-161: rev.namespace, rev.object, object and auto need `istio-injection DoesNotExist`,
 * namespace needs `In [enabled]`). Keeping the label keeps their pods out of the mesh as on OSSM 2; removing it would
 * give every pod that opts in a sidecar for the first time, and its AuthorizationPolicies would start to enforce.
 */
export function injectionDisabledNamespaces(mesh: Mesh, namespaces: readonly string[]): string[] {
  if (mesh.settings.mode === 'greenfield') return [];
  const disabled = new Set(mesh.inventory.namespaces.filter((n) => n.labels['istio-injection'] === 'disabled').map((n) => n.name));
  return namespaces.filter((n) => disabled.has(n));
}

/**
 * The namespaces a MultiTenant SMCP's OSSM 3 istiod discovers (undefined for ClusterWide: it discovers every
 * namespace, as the 2.6 istiod did; Maistra allows no other SMCP beside a ClusterWide one and no discoverySelectors
 * on a MultiTenant one, maistra/istio-operator@8143614c pkg/controller/versions/util.go:90-107). A MultiTenant 2.6
 * istiod watches its members only; an OSSM 3 istiod without discoverySelectors watches the whole cluster and writes
 * its root into `istio-ca-root-cert` of every namespace it discovers, over another tenant's (istio/istio@1.27.3
 * pilot/pkg/serviceregistry/kube/controller/namespacecontroller.go:74-81,157-180: the namespaces and ConfigMaps it
 * reconciles pass the discovery filter; since 1.22 the filter also scopes Istio config, the
 * ENABLE_ENHANCED_RESOURCE_SCOPING flag of istio@1.20.8 pilot/pkg/features/pilot.go:625 being always on,
 * istio@1.22.0 istioctl/pkg/precheck/precheck.go:152). Sail: "when managing multiple controlplanes on a single
 * cluster, you must narrow the scope of each controlplane by setting discoverySelectors", with no two control planes
 * discovering the same namespace (openshift-service-mesh/sail-operator@fd6516dc docs/ossm/ossm2-migration/
 * multi-tenancy/README.md:114; istio-ecosystem/sail-operator@release-1.27 docs/deployment-models/multiple-mesh.md:20-27).
 * So: the control plane's namespace, the OSSM 3 one, every member, and every namespace meshfed puts mesh objects in
 * (east-west and egress gateways, imports).
 */
export function discoveryNamespaces(ctx: ModelIndex, mesh: Mesh): string[] | undefined {
  if (mesh.controlPlane.mode !== 'MultiTenant' || mesh.settings.mode === 'greenfield') return undefined;
  const out = new Set([mesh.controlPlane.namespace, mesh.ossm3.namespace, ...migratedNamespaces(ctx, mesh)]);
  if (ctx.importsInto(mesh.cluster).length) out.add(mesh.importNamespace);
  return [...out].sort(compareStrings);
}
