import { PhaseState } from './state';
import { uniqSorted } from '../model/names';
import { Mesh } from '../model/types';
import { hasSmcp } from '../plan/namespaces';

/** One identity the mesh's control planes run pods as, and what runs as it (for messages). */
export interface OwnIdentity {
  /** `<trust domain>/ns/<namespace>/sa/<service account>`. */
  readonly id: string;
  readonly what: string;
}

/**
 * The identities of the pods the operators run for the mesh at a phase, which no dump lists: they are callers too, and
 * trust domain aliases let a principal written for a peer match them (MF002, MF027). The rehearsal twin runs these
 * pods (lib/twin/controllers) and judges every one that runs a proxy; the check must see the same ones.
 * - The federation gateways of every ServiceMeshPeer, while the SMCP is declared (they stay until it goes:
 *   lib/plan/phase-04-remove-federation.ts): `<gateway>-service-account` (maistra/istio-operator@8143614c
 *   resources/helm/v2.5/gateways/istio-ingress/templates/serviceaccount.yaml:11, istio-egress the same). The SMCP's
 *   other gateways are callers of their own in MF027.
 * - Each Gateway API Gateway meshfed declares (east-west, egress): istiod deploys its pods as `<name>-<class>`
 *   (istio/istio@1.27.3 pilot/pkg/config/kube/gateway/deploymentcontroller.go:493,525 and conversion.go:1598-1603;
 *   maistra/istio@maistra-2.6 the same, deploymentcontroller.go:332,342, conversion.go:1905-1906), the
 *   gateway.istio.io/service-account annotation unset.
 * Neither istiod is one: both opt out of injection and run no proxy (the chart above, deployment.yaml:41,59,80-81;
 * istio-ecosystem/sail-operator@8cde773e resources/v1.27.3/charts/istiod/templates/deployment.yaml:46,62,93-94), so
 * they hold no workload certificate a policy could match.
 */
export function controlPlaneIdentities(mesh: Mesh, state: PhaseState): OwnIdentity[] {
  if (mesh.virtual) return [];
  const td = mesh.trustDomain;
  const id = (namespace: string, sa: string) => `${td}/ns/${namespace}/sa/${sa}`;
  const cp = mesh.controlPlane;
  const out: OwnIdentity[] = [];
  if (hasSmcp(mesh) && state.has('ServiceMeshControlPlane', cp.name, cp.namespace))
    for (const gateway of uniqSorted(mesh.inventory.peers.flatMap((p) => [p.ingressGateway, p.egressGateway])))
      out.push({ id: id(cp.namespace, `${gateway}-service-account`), what: `the federation gateway ${cp.namespace}/${gateway}` });
  for (const g of [...state.of('eastWestGateway'), ...state.of('egressGateway')]) {
    const namespace = g.ref.namespace ?? '';
    out.push({ id: id(namespace, `${g.ref.name}-istio`), what: `the Gateway ${namespace}/${g.ref.name}'s pods` });
  }
  const seen = new Set<string>();
  return out.filter((o) => !seen.has(o.id) && seen.add(o.id));
}
