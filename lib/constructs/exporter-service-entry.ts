import { Construct } from 'constructs';

import { serviceEntryPorts } from './service-entry-ports';
import {
  ServiceEntryV1Beta1,
  ServiceEntryV1Beta1SpecLocation,
  ServiceEntryV1Beta1SpecResolution,
} from '../../imports/istio-networking.istio.io';
import { ExporterServiceEntryFields } from '../plan/types';

export interface ExporterServiceEntryProps extends ExporterServiceEntryFields {
  readonly name: string;
  /** The workload's namespace: a ServiceEntry selects workloads in its own namespace only. */
  readonly namespace: string;
}

/** On the exporter: gives an importer's hostname to the service's pods, so the gateway can route its SNI. */
export class ExporterServiceEntry extends Construct {
  constructor(scope: Construct, id: string, props: ExporterServiceEntryProps) {
    super(scope, id);
    new ServiceEntryV1Beta1(this, 'Resource', {
      metadata: { name: props.name, namespace: props.namespace },
      spec: {
        exportTo: props.exportTo,
        hosts: [props.host],
        location: ServiceEntryV1Beta1SpecLocation.MESH_UNDERSCORE_INTERNAL,
        ports: serviceEntryPorts(props.ports, true),
        resolution: ServiceEntryV1Beta1SpecResolution.STATIC,
        workloadSelector: { labels: props.podSelector },
      },
    });
  }
}
