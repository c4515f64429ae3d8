import { Construct } from 'constructs';

import { BLOCK_ALL_HOSTNAME } from './east-west-gateway';
import { CROSS_NETWORK_PORT } from './gateway-listener';
import { Gateway, GatewaySpecListenersTlsMode } from '../../imports/gwapi-gateways-gateway.networking.k8s.io';
import { GatewayV1Alpha3, GatewayV1Alpha3SpecServersTlsMode } from '../../imports/istio-networking.istio.io';
import { EgressGatewayFields, EgressPassthroughGatewayFields } from '../plan/types';

/** The listener TLSRoutes attach to (kubernetes). */
export const EGRESS_LISTENER = 'tls';

export interface EgressGatewayProps extends EgressGatewayFields {
  readonly name: string;
  readonly namespace: string;
}

/**
 * The importer's egress gateway as a Kubernetes Gateway (class `istio`, ClusterIP Service
 * `<name>-istio`): sidecars reach every peer through it, and it forwards their mTLS by SNI.
 */
export class EgressGateway extends Construct {
  constructor(scope: Construct, id: string, props: EgressGatewayProps) {
    super(scope, id);
    new Gateway(this, 'Resource', {
      metadata: { name: props.name, namespace: props.namespace, annotations: { 'networking.istio.io/service-type': 'ClusterIP' } },
      spec: {
        gatewayClassName: 'istio',
        listeners: [
          {
            name: EGRESS_LISTENER,
            hostname: props.platform === 'openshift' ? BLOCK_ALL_HOSTNAME : undefined,
            port: CROSS_NETWORK_PORT,
            protocol: 'TLS',
            tls: { mode: GatewaySpecListenersTlsMode.PASSTHROUGH },
          },
        ],
      },
    });
  }
}

export interface EgressPassthroughGatewayProps extends EgressPassthroughGatewayFields {
  readonly name: string;
  readonly namespace: string;
}

/** openshift: Istio Gateway, TLS PASSTHROUGH on 15443 on the egress gateway pods, for exactly the imported hosts. */
export class EgressPassthroughGateway extends Construct {
  constructor(scope: Construct, id: string, props: EgressPassthroughGatewayProps) {
    super(scope, id);
    new GatewayV1Alpha3(this, 'Resource', {
      metadata: { name: props.name, namespace: props.namespace },
      spec: {
        selector: props.selector,
        servers: [
          {
            port: { number: CROSS_NETWORK_PORT, name: 'tls', protocol: 'TLS' },
            tls: { mode: GatewayV1Alpha3SpecServersTlsMode.PASSTHROUGH },
            hosts: [...props.sniHosts].sort(),
          },
        ],
      },
    });
  }
}
