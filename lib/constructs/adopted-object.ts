import { ApiObject } from 'cdk8s';
import { Construct } from 'constructs';

import { AdoptedFields } from '../plan/types';

export type AdoptedObjectProps = AdoptedFields;

/**
 * An object that runs today, rendered as it is so GitOps adopts it. Generic on purpose: the dump is the
 * source of truth and a typed class would silently drop fields its schema does not list.
 */
export class AdoptedObject extends Construct {
  public readonly apiObject: ApiObject;

  constructor(scope: Construct, id: string, props: AdoptedObjectProps) {
    super(scope, id);
    const { apiVersion, kind, metadata, ...rest } = props.body;
    this.apiObject = new ApiObject(this, 'Resource', {
      ...(rest as Record<string, unknown>),
      apiVersion: apiVersion as string,
      kind: kind as string,
      metadata: metadata as Record<string, unknown>,
    });
  }
}
