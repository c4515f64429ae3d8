import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';

import { KEEP_ANNOTATIONS } from '../plan/namespaces';
import { NamespaceFields } from '../plan/types';

export interface MeshNamespaceProps extends NamespaceFields {
  readonly name: string;
}

/** A Namespace meshfed creates (east-west gateway, IstioCNI, OSSM 3 control plane) or declares (a greenfield inventory's). */
export class MeshNamespace extends Construct {
  constructor(scope: Construct, id: string, props: MeshNamespaceProps) {
    super(scope, id);
    const labels = props.labels && Object.keys(props.labels).length ? props.labels : undefined;
    // As a dumped Namespace is adopted (keptNamespaceBody): its own annotations, then the keep annotations.
    const annotations = { ...props.annotations, ...(props.keep ? KEEP_ANNOTATIONS : {}) };
    new k8s.KubeNamespace(this, 'Resource', {
      metadata: { name: props.name, labels, annotations: Object.keys(annotations).length ? annotations : undefined },
    });
  }
}
