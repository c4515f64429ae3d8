import { JsonObject, mergeJson } from '../json';
import { IstioFields } from './types';

/**
 * The Istio's spec.values: the SMCP settings carried to OSSM 3, with meshfed's federation values merged
 * over them (env and proxyMetadata key by key). The construct renders exactly this; checks read it.
 */
export function istioValues(f: IstioFields): JsonObject {
  const own: JsonObject = {
    meshConfig: {
      ...(f.accessLogFile !== undefined ? { accessLogFile: f.accessLogFile } : {}),
      defaultConfig: {
        proxyMetadata: { ...(f.dnsCapture ? { ISTIO_META_DNS_CAPTURE: 'true' } : {}), PROXY_CONFIG_XDS_AGENT: 'true' },
      },
      ...(f.caCertificates.length
        ? { caCertificates: f.caCertificates.map((c) => ({ pem: c.pem, ...(c.trustDomains ? { trustDomains: c.trustDomains } : {}) })) }
        : {}),
      trustDomain: f.trustDomain,
      ...(f.trustDomainAliases.length ? { trustDomainAliases: f.trustDomainAliases } : {}),
      ...(f.discoveryNamespaces ? { discoverySelectors: discoverySelectors(f.discoveryNamespaces) } : {}),
    },
    pilot: { env: f.pilotEnv },
    global: { network: f.network },
  };
  return mergeJson(f.carried, own);
}

/**
 * The API server labels every Namespace with its own name, an immutable `kubernetes.io/metadata.name` (KEP-2161,
 * stable since Kubernetes 1.22: kubernetes/website content/en/docs/reference/command-line-tools-reference/
 * feature-gates/namespace-default-label-name.md), so
 * a selector on it scopes an istiod to exactly these namespaces without a label of meshfed's own. Sail's guides
 * scope each of several control planes with discoverySelectors on "any label or combination of labels"
 * (openshift-service-mesh/sail-operator@fd6516dc docs/ossm/ossm2-migration/multi-tenancy/README.md:114).
 */
export function discoverySelectors(namespaces: readonly string[]): JsonObject[] {
  return [{ matchExpressions: [{ key: NAMESPACE_NAME_LABEL, operator: 'In', values: [...namespaces] }] }];
}

/** The label the API server sets on every Namespace: its name. */
export const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';
