import { Construct } from 'constructs';

import { CROSS_NETWORK_PORT } from './gateway-listener';
import { GatewayV1Alpha3, GatewayV1Alpha3SpecServersTlsMode } from '../../imports/istio-networking.istio.io';
import { ExposedServicesFields } from '../plan/types';

export interface ExposedServicesProps extends ExposedServicesFields {
  readonly name: string;
  readonly namespace: string;
}

/** Istio Gateway that exposes the listed hosts, AUTO_PASSTHROUGH on 15443, on the east-west gateway pods. */
export class ExposedServices extends Construct {
  constructor(scope: Construct, id: string, props: ExposedServicesProps) {
    super(scope, id);
    new GatewayV1Alpha3(this, 'Resource', {
      metadata: { name: props.name, namespace: props.namespace },
      spec: {
        selector: props.selector,
        servers: [
          {
            port: { number: CROSS_NETWORK_PORT, name: 'tls', protocol: 'TLS' },
            tls: { mode: GatewayV1Alpha3SpecServersTlsMode.AUTO_UNDERSCORE_PASSTHROUGH },
            hosts: [...props.hosts].sort(),
          },
        ],
      },
    });
  }
}
