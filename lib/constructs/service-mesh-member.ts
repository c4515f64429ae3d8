import { Construct } from 'constructs';

import { ServiceMeshMember as ServiceMeshMemberObject } from '../../imports/maistra-smm-maistra.io';
import { ServiceMeshMemberFields } from '../plan/types';

export interface ServiceMeshMemberProps extends ServiceMeshMemberFields {
  readonly namespace: string;
}

/** `ServiceMeshMember default` in a namespace: that namespace is a member of the SMCP's mesh, whatever its labels. */
export class ServiceMeshMember extends Construct {
  constructor(scope: Construct, id: string, props: ServiceMeshMemberProps) {
    super(scope, id);
    new ServiceMeshMemberObject(this, 'Resource', {
      metadata: { name: 'default', namespace: props.namespace },
      spec: { controlPlaneRef: { name: props.controlPlane.name, namespace: props.controlPlane.namespace } },
    });
  }
}
