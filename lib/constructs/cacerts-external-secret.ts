import { Construct } from 'constructs';

import {
  ExternalSecret,
  ExternalSecretSpecSecretStoreRefKind,
  ExternalSecretSpecTargetCreationPolicy,
} from '../../imports/eso-externalsecret-external-secrets.io';
import { CacertsExternalSecretFields } from '../plan/types';

export interface CacertsExternalSecretProps extends CacertsExternalSecretFields {
  readonly namespace: string;
}

/** The OSSM 3 control plane's `cacerts` Secret, materialised by External Secrets from a store: no key in Git. */
export class CacertsExternalSecret extends Construct {
  constructor(scope: Construct, id: string, props: CacertsExternalSecretProps) {
    super(scope, id);
    new ExternalSecret(this, 'Resource', {
      metadata: { name: 'cacerts', namespace: props.namespace },
      spec: {
        refreshInterval: '1h',
        secretStoreRef: { name: props.storeName, kind: props.storeKind as ExternalSecretSpecSecretStoreRefKind },
        target: { name: 'cacerts', creationPolicy: ExternalSecretSpecTargetCreationPolicy.OWNER },
        dataFrom: [{ extract: { key: props.key } }],
      },
    });
  }
}
