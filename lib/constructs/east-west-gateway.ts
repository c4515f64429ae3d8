import { Construct } from 'constructs';

import { AUTO_PASSTHROUGH_OPTION, CROSS_NETWORK_PORT, NETWORK_LABEL } from './gateway-listener';
import { Gateway, GatewaySpecListenersTlsMode } from '../../imports/gwapi-gateways-gateway.networking.k8s.io';
import { EastWestGatewayFields } from '../plan/types';

/** A hostname that matches no real service: the listener exists, but exposes nothing by itself. */
export const BLOCK_ALL_HOSTNAME = 'fake-hostname-to-block-all-by-default';

export interface EastWestGatewayProps extends EastWestGatewayFields {
  readonly name: string;
  readonly namespace: string;
}

/**
 * The exporter's east-west gateway as a Kubernetes Gateway: Istio's deployment controller creates its
 * Deployment and `<name>-istio` Service. Its only listener is auto-passthrough TLS on 15443 for a
 * hostname that matches nothing; the Istio Gateway `expose-services` lists what is really exposed
 * (a Gateway API listener takes one hostname).
 *
 * Service annotations (e.g. the AWS load balancer type) go on the Gateway's metadata, which both control
 * planes copy onto the generated Service: OSSM 2.6's kube-gateway template copies the Gateway's
 * annotations and knows no spec.infrastructure (maistra/istio-operator@08c043ffe1 resources/helm/v2.6/
 * istio-control/istio-discovery/files/kube-gateway.yaml), and Istio 1.27 copies them while
 * spec.infrastructure is unset (PILOT_ENABLE_GATEWAY_API_COPY_LABELS_ANNOTATIONS, default true,
 * istio/istio@1.27.3 pilot/pkg/features/experimental.go:137). In spec.infrastructure they would be ignored
 * until 06 and then change the Service (and its load balancer) under the importers.
 */
export class EastWestGateway extends Construct {
  constructor(scope: Construct, id: string, props: EastWestGatewayProps) {
    super(scope, id);
    const type = props.serviceType ?? 'LoadBalancer';
    const annotations = { ...(props.annotations ?? {}), ...(type === 'LoadBalancer' ? {} : { 'networking.istio.io/service-type': type }) };
    new Gateway(this, 'Resource', {
      metadata: {
        name: props.name,
        namespace: props.namespace,
        labels: { [NETWORK_LABEL]: props.network },
        annotations: Object.keys(annotations).length ? annotations : undefined,
      },
      spec: {
        gatewayClassName: 'istio',
        listeners: [
          {
            name: 'cross-network',
            hostname: BLOCK_ALL_HOSTNAME,
            port: CROSS_NETWORK_PORT,
            protocol: 'TLS',
            tls: { mode: GatewaySpecListenersTlsMode.PASSTHROUGH, options: AUTO_PASSTHROUGH_OPTION },
          },
        ],
      },
    });
  }
}
