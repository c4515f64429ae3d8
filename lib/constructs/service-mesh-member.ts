import { Construct } from 'constructs';

import { ServiceMeshMember as ServiceMeshMemberObject } from '../../imports/maistra-smm-maistra.io';
import { KEEP_ANNOTATIONS } from '../plan/namespaces';
import { ServiceMeshMemberFields } from '../plan/types';

export interface ServiceMeshMemberProps extends ServiceMeshMemberFields {
  readonly namespace: string;
}

/**
 * `ServiceMeshMember default` in a namespace: that namespace is a member of the SMCP's mesh, whatever its labels.
 * Synced before the SMCP (wave -3, the SMCP's is -2): an SMCP applied again (a rollback from 07) must find its
 * gateway namespaces in the mesh on its first reconcile, or Maistra refuses it and Argo CD's wave never ends.
 */
export class ServiceMeshMember extends Construct {
  constructor(scope: Construct, id: string, props: ServiceMeshMemberProps) {
    super(scope, id);
    new ServiceMeshMemberObject(this, 'Resource', {
      metadata: {
        name: 'default',
        namespace: props.namespace,
        annotations: { ...KEEP_ANNOTATIONS, 'argocd.argoproj.io/sync-wave': '-3', 'maistra.io/created-by': 'meshfed' },
      },
      spec: { controlPlaneRef: { name: props.controlPlane.name, namespace: props.controlPlane.namespace } },
    });
  }
}
