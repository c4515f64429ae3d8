import { Construct } from 'constructs';

import { AuthorizationPolicy, AuthorizationPolicySpecAction } from '../../imports/istio-security.istio.io';
import { ExposurePolicyFields } from '../plan/types';

export interface ExposurePolicyProps extends ExposurePolicyFields {
  readonly name: string;
  readonly namespace: string;
}

/**
 * An ALLOW policy on an exported service admitting only its own mesh and the meshes it was exported
 * to (opt-in: spec.exposure.enforce). With trustDomainAliases it cannot tell aliased meshes apart
 * (docs/rules.md, MF003).
 */
export class ExposurePolicy extends Construct {
  constructor(scope: Construct, id: string, props: ExposurePolicyProps) {
    super(scope, id);
    new AuthorizationPolicy(this, 'Resource', {
      metadata: { name: props.name, namespace: props.namespace },
      spec: {
        action: AuthorizationPolicySpecAction.ALLOW,
        selector: { matchLabels: props.selector },
        rules: [{ from: [{ source: { principals: [...props.principals].sort() } }] }],
      },
    });
  }
}
