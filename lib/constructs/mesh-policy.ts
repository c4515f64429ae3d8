import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';

import { DestinationRuleV1Beta1, DestinationRuleV1Beta1SpecTrafficPolicyTlsMode } from '../../imports/istio-networking.istio.io';
import { PeerAuthenticationV1Beta1, PeerAuthenticationV1Beta1SpecMtlsMode } from '../../imports/istio-security.istio.io';
import { MeshDestinationRuleFields, MeshPeerAuthenticationFields, NetworkPolicyFields } from '../plan/types';

export interface MeshPeerAuthenticationProps extends MeshPeerAuthenticationFields {
  readonly name: string;
  readonly namespace: string;
}

/**
 * A mesh-wide PeerAuthentication (no selector, in the root namespace), as v1beta1: the version OSSM 2.6 serves
 * (lib/plan/control-plane.ts PEER_AUTHENTICATION_API).
 */
export class MeshPeerAuthentication extends Construct {
  constructor(scope: Construct, id: string, props: MeshPeerAuthenticationProps) {
    super(scope, id);
    const mode = props.mode === 'STRICT' ? PeerAuthenticationV1Beta1SpecMtlsMode.STRICT : PeerAuthenticationV1Beta1SpecMtlsMode.PERMISSIVE;
    new PeerAuthenticationV1Beta1(this, 'Resource', {
      metadata: { name: props.name, namespace: props.namespace },
      spec: { mtls: { mode } },
    });
  }
}

export interface MeshDestinationRuleProps extends MeshDestinationRuleFields {
  readonly name: string;
  readonly namespace: string;
}

/** A root-namespace DestinationRule setting the client TLS mode for a host pattern. */
export class MeshDestinationRule extends Construct {
  constructor(scope: Construct, id: string, props: MeshDestinationRuleProps) {
    super(scope, id);
    new DestinationRuleV1Beta1(this, 'Resource', {
      metadata: { name: props.name, namespace: props.namespace },
      spec: {
        host: props.host,
        trafficPolicy: {
          tls: {
            mode:
              props.tlsMode === 'ISTIO_MUTUAL'
                ? DestinationRuleV1Beta1SpecTrafficPolicyTlsMode.ISTIO_UNDERSCORE_MUTUAL
                : DestinationRuleV1Beta1SpecTrafficPolicyTlsMode.DISABLE,
          },
        },
      },
    });
  }
}

export interface MeshNetworkPolicyProps extends NetworkPolicyFields {
  readonly name: string;
  readonly namespace: string;
}

/** An ingress-only NetworkPolicy: the selected pods accept connections from `from` only. */
export class MeshNetworkPolicy extends Construct {
  constructor(scope: Construct, id: string, props: MeshNetworkPolicyProps) {
    super(scope, id);
    const exist = props.podLabelsExist ?? [];
    const from: k8s.NetworkPolicyPeer[] | undefined =
      props.from === 'anywhere'
        ? undefined
        : 'namespaces' in props.from
          ? [
              {
                namespaceSelector: {
                  matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'In', values: props.from.namespaces }],
                },
              },
            ]
          : [{ namespaceSelector: { matchLabels: props.from.namespaceLabels } }];
    new k8s.KubeNetworkPolicy(this, 'Resource', {
      metadata: { name: props.name, namespace: props.namespace },
      spec: {
        podSelector: {
          ...(Object.keys(props.podLabels).length ? { matchLabels: props.podLabels } : {}),
          ...(exist.length ? { matchExpressions: exist.map((key) => ({ key, operator: 'Exists' })) } : {}),
        },
        ingress: [from ? { from } : {}],
        policyTypes: ['Ingress'],
      },
    });
  }
}
