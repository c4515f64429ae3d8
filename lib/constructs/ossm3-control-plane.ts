import { ApiObject } from 'cdk8s';
import { Construct } from 'constructs';

import { Istio, IstioSpec, IstioSpecUpdateStrategyType, IstioSpecVersion } from '../../imports/sail-istio-sailoperator.io';
import { IstioCni, IstioCniSpecVersion } from '../../imports/sail-istiocni-sailoperator.io';
import { istioValues } from '../plan/istio-values';
import { IstioCniFields, IstioFields } from '../plan/types';

export type IstioCniControlPlaneProps = IstioCniFields;

/** Sail's IstioCNI (cluster-scoped; must be named `default`). */
export class IstioCniControlPlane extends Construct {
  constructor(scope: Construct, id: string, props: IstioCniControlPlaneProps) {
    super(scope, id);
    new IstioCni(this, 'Resource', {
      metadata: { name: 'default' },
      spec: { version: props.version as IstioCniSpecVersion, namespace: props.namespace },
    });
  }
}

export interface IstioControlPlaneProps extends IstioFields {
  readonly name: string;
}

/**
 * Sail's Istio (cluster-scoped), RevisionBased so it runs beside the SMCP: the same trust domain, the
 * peers' roots trusted through ISTIO_MULTIROOT_MESH + PROXY_CONFIG_XDS_AGENT, DNS capture for the
 * imported hostnames cluster DNS does not know.
 */
export class IstioControlPlane extends Construct {
  constructor(scope: Construct, id: string, props: IstioControlPlaneProps) {
    super(scope, id);
    // A plain ApiObject: the generated Istio class converts spec.values through its typed toJson, which
    // drops keys it has no property for and quantities given as strings. The tests validate the result
    // against the Sail CRD (OpenAPI, CEL, and fields the API server would prune).
    const spec: Pick<IstioSpec, 'namespace' | 'version' | 'updateStrategy'> = {
      namespace: props.namespace,
      version: props.version as IstioSpecVersion,
      updateStrategy: { type: IstioSpecUpdateStrategyType.REVISION_BASED },
    };
    new ApiObject(this, 'Resource', { ...Istio.GVK, metadata: { name: props.name }, spec: { ...spec, values: istioValues(props) } });
  }
}
