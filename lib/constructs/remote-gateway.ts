import { isIP } from 'net';
import { Construct } from 'constructs';
import { GatewayV1Beta1, GatewayV1Beta1SpecListenersTlsMode } from '../../imports/gwapi-gateways-gateway.networking.k8s.io';
import { AUTO_PASSTHROUGH_OPTION, CROSS_NETWORK_PORT, NETWORK_LABEL } from './gateway-listener';

export interface RemoteGatewayProps {
  readonly name: string;
  readonly namespace: string;
  /** The network name the importer gives the exporter's gateway; WorkloadEntries name the same network. */
  readonly network: string;
  /** The exporter's east-west gateway address: an IP, or a DNS name (then `type: Hostname`). */
  readonly address: string;
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
        addresses: [isIP(props.address) ? { value: props.address } : { type: 'Hostname', value: props.address }],
        listeners: [
          {
            name: 'cross-network',
            port: CROSS_NETWORK_PORT,
            protocol: 'TLS',
            tls: { mode: GatewayV1Beta1SpecListenersTlsMode.PASSTHROUGH, options: AUTO_PASSTHROUGH_OPTION },
          },
        ],
      },
    });
  }
}
