import { Mesh } from '../model/types';

/** The label OSSM 2.6 (Istio 1.20) puts on the pods of a Gateway API Gateway it deploys. */
export const OSSM2_GATEWAY_LABEL = 'istio.io/gateway-name';
/**
 * The only gateway-name label Istio ≥ 1.24 puts on the pods of a Gateway it deploys
 * (istio/istio@1.27.3 manifests/charts/istio-control/istio-discovery/files/kube-gateway.yaml:57-66); it
 * keeps the old one only on Deployments that already select it (pilot/pkg/config/kube/gateway/
 * deploymentcontroller.go:905-912, "in 1.24 we removed old label istio.io/gateway-name").
 */
export const GATEWAY_NAME_LABEL = 'gateway.networking.k8s.io/gateway-name';

/**
 * The pod selector of an Istio Gateway (expose-services, the egress passthrough Gateway) that runs on the
 * pods of the Kubernetes Gateway `name`. A migration selects with the label OSSM 2.6 sets until 07, where
 * it switches to the label Istio ≥ 1.24 sets (after 06 the old label survives only through the 1.27
 * compatibility path for the Deployment OSSM 2.6 created); greenfield gateways are deployed by OSSM 3.
 */
export function gatewayPodSelector(mesh: Mesh, name: string, final = false): Record<string, string> {
  return { [mesh.settings.mode === 'greenfield' || final ? GATEWAY_NAME_LABEL : OSSM2_GATEWAY_LABEL]: name };
}
