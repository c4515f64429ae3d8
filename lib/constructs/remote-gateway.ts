import { isIP } from 'net';

import { Construct } from 'constructs';

import { AUTO_PASSTHROUGH_OPTION, CROSS_NETWORK_PORT, NETWORK_LABEL } from './gateway-listener';
import { GatewayV1Beta1, GatewayV1Beta1SpecListenersTlsMode } from '../../imports/gwapi-gateways-gateway.networking.k8s.io';

export interface RemoteGatewayProps {
  readonly name: string;
  readonly namespace: string;
  /** The network name the importer gives the exporter's gateway; WorkloadEntries name the same network. */
  readonly network: string;
  /** The exporter's east-west gateway addresses: IPs, or DNS names (then `type: Hostname`). */
  readonly addresses: string[];
  /** Where the gateway listens for peers: 15443, or its node port (NodePort Services). @default 15443 */
  readonly port?: number;
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
            port: props.port ?? CROSS_NETWORK_PORT,
            protocol: 'TLS',
            tls: { mode: GatewayV1Beta1SpecListenersTlsMode.PASSTHROUGH, options: AUTO_PASSTHROUGH_OPTION },
          },
        ],
      },
    });
  }
}
