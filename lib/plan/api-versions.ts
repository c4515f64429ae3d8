import { ObjectRef } from './types';

/** apiVersions meshfed writes, chosen per phase for the control plane that serves them then (docs/output.md, "apiVersions"). */
export const API = {
  namespace: 'v1',
  smcp: 'maistra.io/v2',
  smmr: 'maistra.io/v1',
  smm: 'maistra.io/v1',
  peer: 'federation.maistra.io/v1',
  /** Served by OSSM 2.6 (Istio 1.20) and OSSM 3 (Istio 1.27) alike. */
  istioGateway: 'networking.istio.io/v1alpha3',
  serviceEntry: 'networking.istio.io/v1beta1',
  workloadEntry: 'networking.istio.io/v1beta1',
  /** The east-west gateway, as the guide writes it (Gateway API v1 is served by OCP 4.19+). */
  k8sGateway: 'gateway.networking.k8s.io/v1',
  /** Istio 1.20 (OSSM 2.6) watches Gateway API at v1beta1; the istio-remote gateway is read by it in 03. */
  k8sGatewayV1Beta1: 'gateway.networking.k8s.io/v1beta1',
  sail: 'sailoperator.io/v1',
  /** Experimental channel (Gateway API v1.3.0); only on upstream Kubernetes (spec.platform: kubernetes). */
  tlsRoute: 'gateway.networking.k8s.io/v1alpha2',
  virtualService: 'networking.istio.io/v1beta1',
  endpointSlice: 'discovery.k8s.io/v1',
} as const;

export function ref(apiVersion: string, kind: string, name: string, namespace?: string): ObjectRef {
  return namespace === undefined ? { apiVersion, kind, name } : { apiVersion, kind, name, namespace };
}
