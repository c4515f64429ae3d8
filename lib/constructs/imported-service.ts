import { Construct } from 'constructs';

import { serviceEntryPorts } from './service-entry-ports';
import {
  ServiceEntryV1Beta1,
  ServiceEntryV1Beta1SpecLocation,
  ServiceEntryV1Beta1SpecResolution,
  WorkloadEntryV1Beta1,
} from '../../imports/istio-networking.istio.io';
import { ImportServiceEntryFields, ImportWorkloadEntryFields } from '../plan/types';

export interface ImportedServiceEntryProps extends ImportServiceEntryFields {
  readonly name: string;
  readonly namespace: string;
}

/** On the importer: the imported hostname, with the remote identity it must present. */
export class ImportedServiceEntry extends Construct {
  constructor(scope: Construct, id: string, props: ImportedServiceEntryProps) {
    super(scope, id);
    new ServiceEntryV1Beta1(this, 'Resource', {
      metadata: { name: props.name, namespace: props.namespace },
      spec: {
        exportTo: props.exportTo,
        hosts: [props.host],
        location: ServiceEntryV1Beta1SpecLocation.MESH_UNDERSCORE_INTERNAL,
        ports: serviceEntryPorts(props.ports, props.localPods === true),
        resolution: ServiceEntryV1Beta1SpecResolution.STATIC,
        subjectAltNames: props.subjectAltNames.length ? props.subjectAltNames : undefined,
        workloadSelector: { labels: props.selector },
      },
    });
  }
}

export interface ImportedWorkloadEntryProps extends ImportWorkloadEntryFields {
  readonly name: string;
  readonly namespace: string;
}

/** An address-less WorkloadEntry: the remote service's endpoints, reached through the remote gateway. */
export class ImportedWorkloadEntry extends Construct {
  constructor(scope: Construct, id: string, props: ImportedWorkloadEntryProps) {
    super(scope, id);
    new WorkloadEntryV1Beta1(this, 'Resource', {
      metadata: { name: props.name, namespace: props.namespace, labels: props.labels },
      spec: { network: props.network, locality: props.locality, serviceAccount: props.serviceAccount, ports: props.ports },
    });
  }
}
