import { isIP } from 'net';

import { Construct } from 'constructs';

import { AUTO_PASSTHROUGH_OPTION, NETWORK_LABEL } from './gateway-listener';
import { GatewayV1Beta1, GatewayV1Beta1SpecListenersTlsMode } from '../../imports/gwapi-gateways-gateway.networking.k8s.io';
import { RemoteGatewayFields } from '../plan/types';

export interface RemoteGatewayProps extends RemoteGatewayFields {
  readonly name: string;
  readonly namespace: string;
}

/**
 * An `istio-remote` Gateway: istiod reads its address and network and fills in the address of every
 * address-less WorkloadEntry on that network. Nothing is deployed for it.
 */
export class RemoteGateway extends Construct {
  constructor(scope: Construct, id: string, props: RemoteGatewayProps) {
    super(scope, id);
    new GatewayV1Beta1(this, 'Resource', {
      metadata: { name: props.name, namespace: props.namespace, labels: { [NETWORK_LABEL]: props.network } },
      spec: {
        gatewayClassName: 'istio-remote',
        addresses: props.addresses.map((a) => (isIP(a) ? { value: a } : { type: 'Hostname', value: a })),
        listeners: [
          {
            // istiod takes the network gateway's port from this listener (auto-passthrough option set).
            name: 'cross-network',
            port: props.port,
            protocol: 'TLS',
            tls: { mode: GatewayV1Beta1SpecListenersTlsMode.PASSTHROUGH, options: AUTO_PASSTHROUGH_OPTION },
          },
        ],
      },
    });
  }
}
