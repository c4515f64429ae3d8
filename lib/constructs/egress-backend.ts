import { isIP } from 'net';

import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';

import { CROSS_NETWORK_PORT } from './gateway-listener';
import {
  ServiceEntryV1Beta1,
  ServiceEntryV1Beta1SpecLocation,
  ServiceEntryV1Beta1SpecResolution,
} from '../../imports/istio-networking.istio.io';
import { EgressBackendFields, EgressEndpointSliceFields } from '../plan/types';

const PORT_NAME = 'tls';

export interface EgressBackendProps extends EgressBackendFields {
  readonly name: string;
  readonly namespace: string;
}

/**
 * kubernetes: a peer's east-west gateway as a headless Service without selector (its endpoints are
 * EndpointSlices): a TLSRoute backend. Gateways cannot use passthrough clusters, so istiod programs
 * the egress gateway with the EndpointSlice addresses (EDS).
 */
export class EgressBackendService extends Construct {
  constructor(scope: Construct, id: string, props: EgressBackendProps) {
    super(scope, id);
    new k8s.KubeService(this, 'Resource', {
      metadata: { name: props.name, namespace: props.namespace },
      spec: {
        clusterIp: 'None',
        ports: [{ name: PORT_NAME, port: CROSS_NETWORK_PORT, targetPort: k8s.IntOrString.fromNumber(props.port), protocol: 'TCP' }],
      },
    });
  }
}

export interface EgressEndpointSliceProps extends EgressEndpointSliceFields {
  readonly name: string;
  readonly namespace: string;
}

/** kubernetes: the peer's east-west gateway addresses, one endpoint each. */
export class EgressEndpointSlice extends Construct {
  constructor(scope: Construct, id: string, props: EgressEndpointSliceProps) {
    super(scope, id);
    new k8s.KubeEndpointSlice(this, 'Resource', {
      metadata: { name: props.name, namespace: props.namespace, labels: { 'kubernetes.io/service-name': props.service } },
      addressType: props.addressType,
      endpoints: [...props.addresses].sort().map((a) => ({ addresses: [a] })),
      ports: [{ name: PORT_NAME, port: props.port, protocol: 'TCP' }],
    });
  }
}

/**
 * openshift: a peer's east-west gateway as a ServiceEntry visible only in the egress namespace. Its
 * endpoints carry no network: Istio treats them as directly reachable from the egress gateway (an
 * endpoint on the peer's network would be replaced by that network's gateway, which is this egress).
 */
export class EgressBackendServiceEntry extends Construct {
  constructor(scope: Construct, id: string, props: EgressBackendProps) {
    super(scope, id);
    if (!props.host) throw new Error(`meshfed bug: egress backend ServiceEntry ${props.namespace}/${props.name} has no host`);
    const dns = props.addresses.some((a) => !isIP(a));
    new ServiceEntryV1Beta1(this, 'Resource', {
      metadata: { name: props.name, namespace: props.namespace },
      spec: {
        exportTo: ['.'],
        hosts: [props.host],
        location: ServiceEntryV1Beta1SpecLocation.MESH_UNDERSCORE_INTERNAL,
        ports: [{ number: CROSS_NETWORK_PORT, name: PORT_NAME, protocol: 'TLS' }],
        resolution: dns ? ServiceEntryV1Beta1SpecResolution.DNS : ServiceEntryV1Beta1SpecResolution.STATIC,
        endpoints: [...props.addresses]
          .sort()
          .map((address) => (props.port === CROSS_NETWORK_PORT ? { address } : { address, ports: { [PORT_NAME]: props.port } })),
      },
    });
  }
}
