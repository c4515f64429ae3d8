import { serviceEntryProtocol } from '../model/protocol';
import { PortSpec } from '../model/types';

/** ServiceEntry ports from a service's ports; `withTargetPort` for the exporter side only. */
export function serviceEntryPorts(ports: PortSpec[], withTargetPort: boolean) {
  return ports.map((p) => ({
    number: p.number,
    name: p.name,
    protocol: serviceEntryProtocol(p.protocol),
    targetPort: withTargetPort && p.targetPort !== undefined && p.targetPort !== p.number ? p.targetPort : undefined,
  }));
}
