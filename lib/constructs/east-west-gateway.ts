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
 */
export class EastWestGateway extends Construct {
  constructor(scope: Construct, id: string, props: EastWestGatewayProps) {
    super(scope, id);
    const type = props.serviceType ?? 'LoadBalancer';
    const annotations = props.annotations && Object.keys(props.annotations).length ? props.annotations : undefined;
    new Gateway(this, 'Resource', {
      metadata: {
        name: props.name,
        namespace: props.namespace,
        labels: { [NETWORK_LABEL]: props.network },
        annotations: type === 'LoadBalancer' ? undefined : { 'networking.istio.io/service-type': type },
      },
      spec: {
        gatewayClassName: 'istio',
        infrastructure: annotations ? { annotations } : undefined,
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
