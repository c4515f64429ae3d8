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
    },
    pilot: { env: f.pilotEnv },
    global: { network: f.network },
  };
  return mergeJson(f.carried, own);
}
