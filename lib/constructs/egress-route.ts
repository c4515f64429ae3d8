import { Construct } from 'constructs';

import { EGRESS_LISTENER } from './egress-gateway';
import { CROSS_NETWORK_PORT } from './gateway-listener';
import { TlsRoute } from '../../imports/gwapi-tlsroutes-gateway.networking.k8s.io';
import { VirtualServiceV1Beta1 } from '../../imports/istio-networking.istio.io';
import { EgressRouteFields } from '../plan/types';

export interface EgressRouteProps extends EgressRouteFields {
  readonly name: string;
  readonly namespace: string;
}

/** Service names (kubernetes) or ServiceEntry hosts (openshift) of the route's backends, sorted. */
function backendNames(props: EgressRouteProps): string[] {
  return props.backends.map((b) => b.host ?? b.name).sort();
}

/** kubernetes: TLSRoute from the egress gateway's TLS listener to the peers' headless Services. */
export class EgressTlsRoute extends Construct {
  constructor(scope: Construct, id: string, props: EgressRouteProps) {
    super(scope, id);
    new TlsRoute(this, 'Resource', {
      metadata: { name: props.name, namespace: props.namespace },
      spec: {
        parentRefs: [{ name: props.gatewayName, kind: 'Gateway', sectionName: EGRESS_LISTENER }],
        hostnames: [`*.${props.host}`],
        rules: [{ backendRefs: backendNames(props).map((name) => ({ name, port: CROSS_NETWORK_PORT })) }],
      },
    });
  }
}

/** openshift: VirtualService routing the host's SNI on the egress gateway to the peers' ServiceEntries, evenly. */
export class EgressVirtualService extends Construct {
  constructor(scope: Construct, id: string, props: EgressRouteProps) {
    super(scope, id);
    const sni = `*.${props.host}`;
    const backends = backendNames(props);
    const share = Math.floor(100 / backends.length);
    new VirtualServiceV1Beta1(this, 'Resource', {
      metadata: { name: props.name, namespace: props.namespace },
      spec: {
        exportTo: ['.'],
        gateways: [props.gatewayName],
        hosts: [sni],
        tls: [
          {
            match: [{ port: CROSS_NETWORK_PORT, sniHosts: [sni] }],
            route: backends.map((host, i) => ({
              destination: { host, port: { number: CROSS_NETWORK_PORT } },
              // Weights must add up to 100; the first backend takes the remainder.
              weight: backends.length > 1 ? share + (i === 0 ? 100 - share * backends.length : 0) : undefined,
            })),
          },
        ],
      },
    });
  }
}
