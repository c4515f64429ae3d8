import { Construct } from 'constructs';

import { serviceEntryPorts } from './service-entry-ports';
import {
  ServiceEntryV1Beta1,
  ServiceEntryV1Beta1SpecLocation,
  ServiceEntryV1Beta1SpecResolution,
  WorkloadEntryV1Beta1,
} from '../../imports/istio-networking.istio.io';
import { PortSpec } from '../model/types';

export interface ImportedServiceEntryProps {
  readonly name: string;
  readonly namespace: string;
  /** The hostname clients in the importing mesh use. */
  readonly host: string;
  /** The exporter's port names, numbers and protocols (no targetPort: the gateway routes by SNI). */
  readonly ports: PortSpec[];
  /** The exporter's real SPIFFE identities: mTLS is end to end now. */
  readonly subjectAltNames: string[];
  readonly exportTo: string[];
  /** Labels of the WorkloadEntries that carry its endpoints. */
  readonly selector: Record<string, string>;
  /** The selector also matches the importer's own pods: keep their targetPort. @default false */
  readonly localPods?: boolean;
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

export interface ImportedWorkloadEntryProps {
  readonly name: string;
  readonly namespace: string;
  /** Selector labels plus `security.istio.io/tlsMode: istio` (without it the endpoint is dropped cross-network). */
  readonly labels: Record<string, string>;
  /** Equals the istio-remote Gateway's network label: istiod puts that gateway's address here. */
  readonly network: string;
  /** `region/zone/subzone` from the ImportedServiceSet. @default - none */
  readonly locality?: string;
  /** Identity the endpoint presents, when a Kubernetes Service selects this entry. @default - none */
  readonly serviceAccount?: string;
}

/** An address-less WorkloadEntry: the remote service's endpoints, reached through the remote gateway. */
export class ImportedWorkloadEntry extends Construct {
  constructor(scope: Construct, id: string, props: ImportedWorkloadEntryProps) {
    super(scope, id);
    new WorkloadEntryV1Beta1(this, 'Resource', {
      metadata: { name: props.name, namespace: props.namespace, labels: props.labels },
      spec: { network: props.network, locality: props.locality, serviceAccount: props.serviceAccount },
    });
  }
}
