import { isObject, Json, JsonObject, mergeJson, valueAt } from '../json';
import { SAIL_VALUES_RELEASE, undeclaredPaths } from './sail-values';
import { compareStrings } from '../sort';

/*
 * Every SMCP (maistra.io/v2) setting and what becomes of it in OSSM 3, as one table: carried to a
 * field of the Sail `Istio` (spec.values…), replaced by an object meshfed renders, set by meshfed itself
 * (the federation), dropped with the reason, or lost (dropped, and something stops working: `meshfed
 * check` MF017 reports it). docs/control-plane.md is generated from this table (npm run docs).
 *
 * Sources, cited per row in `why`: maistra/istio-operator@8143614c (maistra-2.5 conversion code,
 * pkg/apis/maistra/conversion/) with the 2.6 charts and profiles (@50c4306e resources/smcp-templates/v2.6/), and
 * openshift-service-mesh/sail-operator@882cdca2 api/v1/values_types.gen.go. Where Red Hat's published
 * table (openshift/openshift-docs@01dcfea8 modules/ossm-migrating-reference-smcp-configurations.adoc)
 * is wrong, test/control-plane.test.ts "corrects Red Hat's published table where it is wrong" says so.
 */

export type FateKind = 'carried' | 'object' | 'meshfed' | 'dropped' | 'lost';

export interface SettingRule {
  /** Path under the SMCP's spec; `*` stands for one map key. */
  readonly path: string;
  readonly fate: FateKind;
  /** carried: the spec.values path(s); object: the object; meshfed: where meshfed sets it. */
  readonly target?: string;
  /** Why: the source, the conversion, or what is lost. */
  readonly why: string;
  /** carried: the values fragment for a value (default: the value at `target`). */
  readonly to?: (value: Json, keys: string[]) => JsonObject | undefined;
  /** The setting is switched off (nothing runs that could be lost): dropped instead. */
  readonly off?: (value: Json) => boolean;
  /** carried: merged after every other row, so it wins where another row sets the same target. @default false */
  readonly wins?: true;
}

const disabled = (v: Json): boolean => v === false || (typeof v === 'object' && v !== null && !Array.isArray(v) && v.enabled === false);

/** `a.b.c` = v as a nested object. */
export function at(path: string, value: Json): JsonObject {
  return path
    .split('.')
    .reverse()
    .reduce<Json>((acc, key) => ({ [key]: acc }), value) as JsonObject;
}

const list = (v: Json): string => (Array.isArray(v) ? v.map(String).join(',') : String(v));
const levels = (v: Json): string =>
  Object.entries((v ?? {}) as Record<string, Json>)
    .sort(([a], [b]) => compareStrings(a, b))
    .map(([k, l]) => `${k}:${String(l)}`)
    .join(',');
/** Maistra writes TLSv1_2, Istio's MeshConfig TLSV1_2; 1.0/1.1 are below every Istio minimum. */
const tlsVersion = (v: Json): string | undefined => {
  const m = /^TLSv1_([23])$/.exec(String(v));
  return m ? `TLSV1_${m[1]}` : String(v) === 'TLS_AUTO' ? 'TLS_AUTO' : undefined;
};

const IMAGE =
  'image fields are never carried: Sail pins its own digests only when none is set (sail-operator release-3.0 pkg/istiovalues/digests.go:23-58).';
const PULL = (path: string): SettingRule[] => [
  {
    path: `${path}.imagePullPolicy`,
    fate: 'carried',
    target: 'global.imagePullPolicy',
    why: 'one pull policy for every OSSM 3 component.',
  },
  { path: `${path}.imagePullSecrets`, fate: 'carried', target: 'global.imagePullSecrets', why: 'one list for every OSSM 3 component.' },
  ...['imageName', 'imageRegistry', 'imageTag'].map((k): SettingRule => ({ path: `${path}.${k}`, fate: 'dropped', why: IMAGE })),
];
const RESOURCES_NOTE = 'carried as is (sizes are never shrunk to the OSSM 3 defaults nor grown to them).';

export const SETTING_RULES: readonly SettingRule[] = [
  // --- cluster
  { path: 'cluster.name', fate: 'carried', target: 'global.multiCluster.clusterName', why: '2.6 istiod CLUSTER_ID.' },
  {
    path: 'cluster.network',
    fate: 'meshfed',
    target: 'global.network',
    why: 'spec.network in cluster.yaml names the network (01 sets it on the SMCP).',
  },
  { path: 'cluster.multiCluster.enabled', fate: 'carried', target: 'global.multiCluster.enabled', why: 'same Helm value.' },
  {
    path: 'cluster.multiCluster.meshNetworks',
    fate: 'carried',
    target: 'global.meshNetworks',
    why: 'fromCIDR becomes fromCidr; gateways[].service has no OSSM 3 field and is dropped (Red Hat: unsupported).',
    to: (v) => ({ global: { meshNetworks: meshNetworks(v) } }),
  },
  {
    path: 'cluster.meshExpansion',
    fate: 'lost',
    why: 'mesh expansion (ILB gateway and its VirtualServices) has no OSSM 3 equivalent (Red Hat: unsupported).',
  },
  // --- general
  {
    path: 'general.logging.componentLevels',
    fate: 'carried',
    target: 'global.logging.level',
    why: 'the map becomes the string "scope:level,…" (maistra conversion/logging.go:14-54); Red Hat\'s `global.logging.levels` does not exist.',
    to: (v) => ({ global: { logging: { level: levels(v) } } }),
  },
  { path: 'general.logging.logAsJSON', fate: 'carried', target: 'global.logAsJson', why: 'same Helm value.' },
  { path: 'general.validationMessages', fate: 'carried', target: 'global.istiod.enableAnalysis', why: 'same Helm value.' },
  // --- meshConfig, mode, profiles, version
  {
    path: 'meshConfig.discoverySelectors',
    fate: 'carried',
    target: 'meshConfig.discoverySelectors',
    why: 'same field; a selector on maistra.io/member-of is an error (the label is removed at 07).',
  },
  {
    path: 'meshConfig.extensionProviders',
    fate: 'carried',
    target: 'meshConfig.extensionProviders',
    why: 'copied verbatim: Telemetry objects name these providers.',
  },
  {
    path: 'mode',
    fate: 'meshfed',
    target: 'istio.io/rev namespace labels',
    why: 'members are labelled istio.io/rev in 06; OSSM 3 has no SMMR.',
  },
  {
    path: 'profiles',
    fate: 'dropped',
    why: 'Maistra templates, unrelated to Istio.spec.profile; their effect is read from status.appliedSpec.',
  },
  { path: 'version', fate: 'meshfed', target: 'Istio.spec.version', why: 'spec.ossm3.version in cluster.yaml.' },
  // --- techPreview: raw Helm values under the rendered ones
  {
    path: 'techPreview.meshConfig.trustDomainAliases',
    fate: 'meshfed',
    target: 'meshConfig.trustDomainAliases',
    why: 'merged with every peer trust domain.',
  },
  {
    path: 'techPreview.meshConfig.*',
    fate: 'carried',
    target: 'meshConfig.*',
    why: 'upstream meshConfig keys map one to one; a key the Sail Istio does not declare is not carried (MF017).',
    to: (v, k) => at(`meshConfig.${k[0]}`, v),
  },
  {
    path: 'techPreview.global.*',
    fate: 'carried',
    target: 'global.*',
    why: 'upstream global keys map one to one; a key the Sail Istio does not declare is not carried (MF017).',
    to: (v, k) => at(`global.${k[0]}`, v),
  },
  {
    path: 'techPreview.pilot.*',
    fate: 'carried',
    target: 'pilot.*',
    why: 'upstream pilot keys map one to one; a key the Sail Istio does not declare is not carried (MF017).',
    to: (v, k) => at(`pilot.${k[0]}`, v),
  },
  {
    path: 'techPreview.gatewayAPI',
    fate: 'meshfed',
    target: 'OSSM 3 Gateway API controllers',
    why: 'OSSM 3 runs them always; 01 turns them on where 2.6 needs them.',
  },
  {
    path: 'techPreview.sidecarInjectorWebhook.objectSelector',
    fate: 'dropped',
    why: 'Maistra-only switch; OSSM 3 always uses the object selector.',
  },
  {
    path: 'techPreview.rateLimiting',
    fate: 'lost',
    why: 'the Maistra rate-limit service (chart rls) has no OSSM 3 equivalent: rate limits stop.',
  },
  { path: 'techPreview.wasmExtensions', fate: 'lost', why: 'the Maistra WASM cacher is gone in OSSM 3 (use WasmPlugin).' },
  // --- proxy
  {
    path: 'proxy.accessLogging.file.name',
    fate: 'meshfed',
    target: 'meshConfig.accessLogFile',
    why: 'carried with the federation settings.',
  },
  {
    path: 'proxy.accessLogging.file.encoding',
    fate: 'carried',
    target: 'meshConfig.accessLogEncoding',
    why: 'Red Hat writes spec.meshConfig…; the field is under spec.values.',
  },
  { path: 'proxy.accessLogging.file.format', fate: 'carried', target: 'meshConfig.accessLogFormat', why: 'same.' },
  { path: 'proxy.accessLogging.envoyService.enabled', fate: 'carried', target: 'meshConfig.enableEnvoyAccessLogService', why: 'same.' },
  ...['address', 'tcpKeepalive', 'tlsSettings'].map((k): SettingRule => ({
    path: `proxy.accessLogging.envoyService.${k}`,
    fate: 'carried',
    target: `meshConfig.defaultConfig.envoyAccessLogService.${k}`,
    why: 'same.',
  })),
  { path: 'proxy.adminPort', fate: 'carried', target: 'meshConfig.defaultConfig.proxyAdminPort', why: 'same.' },
  { path: 'proxy.concurrency', fate: 'carried', target: 'meshConfig.defaultConfig.concurrency', why: 'same.' },
  {
    path: 'proxy.envoyMetricsService.enabled',
    fate: 'dropped',
    why: "no enable flag in OSSM 3 (Red Hat's enableEnvoyAccessLogService is the access-log service); the address below is what turns it on.",
  },
  ...['address', 'tcpKeepalive', 'tlsSettings'].map((k): SettingRule => ({
    path: `proxy.envoyMetricsService.${k}`,
    fate: 'carried',
    target: `meshConfig.defaultConfig.envoyMetricsService.${k}`,
    why: 'same.',
  })),
  {
    path: 'proxy.injection.autoInject',
    fate: 'carried',
    target: 'global.proxy.autoInject',
    why:
      'true → "enabled", false → "disabled": 2.6 injects only pods that opt in; with "disabled" OSSM 3 keeps that in the ' +
      'namespaces 06 labels (istio/istio@1.27.9 pkg/kube/inject/inject.go:223-271 honours the pod annotation and label).',
    to: (v) => ({ global: { proxy: { autoInject: v === true ? 'enabled' : 'disabled' } } }),
  },
  ...['alwaysInjectSelector', 'neverInjectSelector', 'injectedAnnotations'].map((k): SettingRule => ({
    path: `proxy.injection.${k}`,
    fate: 'carried',
    target: `sidecarInjectorWebhook.${k}`,
    why: 'same Helm value.',
  })),
  {
    path: 'proxy.logging.level',
    fate: 'carried',
    target: 'global.proxy.logLevel',
    why: "Red Hat's global.logging.level is istiod's; the proxy's is global.proxy.logLevel (maistra v2/logging.go:17-21).",
  },
  {
    path: 'proxy.logging.componentLevels',
    fate: 'carried',
    target: 'global.proxy.componentLogLevel',
    why: 'the map becomes "component:level,…".',
    to: (v) => ({ global: { proxy: { componentLogLevel: levels(v) } } }),
  },
  { path: 'proxy.networking.clusterDomain', fate: 'carried', target: 'global.proxy.clusterDomain', why: 'same.' },
  { path: 'proxy.networking.connectionTimeout', fate: 'carried', target: 'meshConfig.connectTimeout', why: 'same.' },
  { path: 'proxy.networking.dns.refreshRate', fate: 'carried', target: 'meshConfig.dnsRefreshRate', why: 'same.' },
  {
    path: 'proxy.networking.dns.searchSuffixes',
    fate: 'carried',
    target: 'global.podDNSSearchNamespaces',
    why: 'same list.',
  },
  {
    path: 'proxy.networking.initialization',
    fate: 'meshfed',
    target: 'IstioCNI',
    why: 'OSSM 3 always uses the CNI plugin: 05 renders IstioCNI.',
  },
  { path: 'proxy.networking.maxConnectionAge', fate: 'carried', target: 'pilot.keepaliveMaxServerConnectionAge', why: 'same.' },
  {
    path: 'proxy.networking.protocol.autoDetect',
    fate: 'dropped',
    why: 'OSSM 3 always sniffs (upstream removed the flags, istio/istio#46217): MF018 lists unnamed Service ports whose behaviour changes.',
  },
  { path: 'proxy.networking.protocol.timeout', fate: 'carried', target: 'meshConfig.protocolDetectionTimeout', why: 'same.' },
  ...(
    [
      ['inbound.excludedPorts', 'global.proxy.excludeInboundPorts'],
      ['inbound.includedPorts', 'global.proxy.includeInboundPorts'],
      ['outbound.excludedIPRanges', 'global.proxy.excludeIPRanges'],
      ['outbound.excludedPorts', 'global.proxy.excludeOutboundPorts'],
      ['outbound.includedIPRanges', 'global.proxy.includeIPRanges'],
    ] as const
  ).map(([k, target]): SettingRule => ({
    path: `proxy.networking.trafficControl.${k}`,
    fate: 'carried',
    target,
    why: 'the list becomes a comma-separated string.',
    to: (v) => at(target, list(v)),
  })),
  {
    path: 'proxy.networking.trafficControl.inbound.interceptionMode',
    fate: 'carried',
    target: 'meshConfig.defaultConfig.interceptionMode',
    why: 'same.',
  },
  {
    path: 'proxy.networking.trafficControl.outbound.policy',
    fate: 'carried',
    target: 'meshConfig.outboundTrafficPolicy.mode',
    why: 'REGISTRY_ONLY must survive (MF015).',
  },
  {
    path: 'proxy.runtime.container.env',
    fate: 'carried',
    target: 'meshConfig.defaultConfig.proxyMetadata',
    why: 'Sail has no global.proxy.env; proxyMetadata is the environment of every proxy.',
  },
  ...PULL('proxy.runtime.container'),
  { path: 'proxy.runtime.container.resources', fate: 'carried', target: 'global.proxy.resources', why: RESOURCES_NOTE },
  ...PULL('proxy.networking.initialization.initContainer.runtime'),
  { path: 'proxy.runtime.readiness.failureThreshold', fate: 'carried', target: 'global.proxy.readinessFailureThreshold', why: 'same.' },
  {
    path: 'proxy.runtime.readiness.initialDelaySeconds',
    fate: 'carried',
    target: 'global.proxy.readinessInitialDelaySeconds',
    why: 'same.',
  },
  { path: 'proxy.runtime.readiness.periodSeconds', fate: 'carried', target: 'global.proxy.readinessPeriodSeconds', why: 'same.' },
  { path: 'proxy.runtime.readiness.statusPort', fate: 'carried', target: 'global.proxy.statusPort', why: 'same.' },
  {
    path: 'proxy.runtime.readiness.rewriteApplicationProbes',
    fate: 'carried',
    target: 'sidecarInjectorWebhook.rewriteAppHTTPProbe',
    why: 'same.',
  },
  // --- istiod runtime (only pilot has an OSSM 3 target)
  { path: 'runtime.components.pilot.container.env', fate: 'carried', target: 'pilot.env', why: 'merged under the env meshfed sets.' },
  ...PULL('runtime.components.pilot.container'),
  { path: 'runtime.components.pilot.container.resources', fate: 'carried', target: 'pilot.resources', why: RESOURCES_NOTE },
  { path: 'runtime.components.pilot.deployment.autoScaling.enabled', fate: 'carried', target: 'pilot.autoscaleEnabled', why: 'same.' },
  { path: 'runtime.components.pilot.deployment.autoScaling.maxReplicas', fate: 'carried', target: 'pilot.autoscaleMax', why: 'same.' },
  { path: 'runtime.components.pilot.deployment.autoScaling.minReplicas', fate: 'carried', target: 'pilot.autoscaleMin', why: 'same.' },
  {
    path: 'runtime.components.pilot.deployment.autoScaling.targetCPUUtilizationPercentage',
    fate: 'carried',
    target: 'pilot.cpu.targetAverageUtilization',
    why: 'same.',
  },
  { path: 'runtime.components.pilot.deployment.replicas', fate: 'carried', target: 'pilot.replicaCount', why: 'same.' },
  {
    path: 'runtime.components.pilot.deployment.strategy.rollingUpdate.maxSurge',
    fate: 'carried',
    target: 'pilot.rollingMaxSurge',
    why: 'same.',
  },
  {
    path: 'runtime.components.pilot.deployment.strategy.rollingUpdate.maxUnavailable',
    fate: 'carried',
    target: 'pilot.rollingMaxUnavailable',
    why: 'same.',
  },
  { path: 'runtime.components.pilot.deployment.strategy.type', fate: 'dropped', why: 'always RollingUpdate in OSSM 3.' },
  { path: 'runtime.components.pilot.pod.affinity', fate: 'carried', target: 'pilot.affinity', why: 'same.' },
  { path: 'runtime.components.pilot.pod.metadata.annotations', fate: 'carried', target: 'pilot.podAnnotations', why: 'same.' },
  { path: 'runtime.components.pilot.pod.metadata.labels', fate: 'carried', target: 'pilot.podLabels', why: 'same.' },
  { path: 'runtime.components.pilot.pod.nodeSelector', fate: 'carried', target: 'pilot.nodeSelector', why: 'same.' },
  {
    path: 'runtime.components.pilot.pod.priorityClassName',
    fate: 'carried',
    target: 'global.priorityClassName',
    why:
      'Sail has no pilot.priorityClassName (sail-operator@release-1.27 api/v1/values_types.gen.go:379, PilotConfig :483); ' +
      'the istiod chart reads global.priorityClassName (istio/istio@1.27.3 istio-discovery/templates/deployment.yaml:88-89). ' +
      'It wins over runtime.defaults.pod.priorityClassName: istiod is the one pod the Istio runs.',
    wins: true,
  },
  { path: 'runtime.components.pilot.pod.tolerations', fate: 'carried', target: 'pilot.tolerations', why: 'same.' },
  {
    path: 'runtime.components.*',
    fate: 'dropped',
    why: 'the runtime of an addon or Maistra-only component, deleted with it (MF016 reports enabled addons).',
  },
  ...PULL('runtime.defaults.container'),
  { path: 'runtime.defaults.container.resources', fate: 'carried', target: 'global.defaultResources', why: RESOURCES_NOTE },
  {
    path: 'runtime.defaults.deployment.podDisruption.enabled',
    fate: 'carried',
    target: 'global.defaultPodDisruptionBudget.enabled',
    why: 'the 2.6 small profile has it off; OSSM 3 defaults to on, which blocks node drains with one istiod.',
  },
  ...['maxUnavailable', 'minAvailable'].map((k): SettingRule => ({
    path: `runtime.defaults.deployment.podDisruption.${k}`,
    fate: 'dropped',
    why: 'no OSSM 3 field (Red Hat: unsupported).',
  })),
  { path: 'runtime.defaults.pod.nodeSelector', fate: 'carried', target: 'global.defaultNodeSelector', why: 'same.' },
  { path: 'runtime.defaults.pod.priorityClassName', fate: 'carried', target: 'global.priorityClassName', why: 'same.' },
  { path: 'runtime.defaults.pod.tolerations', fate: 'carried', target: 'global.defaultTolerations', why: 'same.' },
  // --- security
  {
    path: 'security.certificateAuthority.type',
    fate: 'meshfed',
    target: 'cacerts / istio-ca-secret',
    why: 'Istiod CA: OSSM 3 in the SMCP namespace reuses cacerts or istio-ca-secret (sail-operator docs cluster-wide/README.md:99-104).',
  },
  {
    path: 'security.certificateAuthority.istiod',
    fate: 'meshfed',
    target: 'cacerts / istio-ca-secret',
    why: 'the CA key material stays in its Secret, which meshfed never reads.',
  },
  ...(
    [
      ['ttl', 'CITADEL_SELF_SIGNED_CA_CERT_TTL'],
      ['checkPeriod', 'CITADEL_SELF_SIGNED_ROOT_CERT_CHECK_INTERVAL'],
      ['gracePeriod', 'CITADEL_SELF_SIGNED_ROOT_CERT_GRACE_PERIOD_PERCENTILE'],
      ['enableJitter', 'CITADEL_ENABLE_JITTER_FOR_ROOT_CERT_ROTATOR'],
    ] as const
  ).map(([k, env]): SettingRule => ({
    path: `security.certificateAuthority.istiod.selfSigned.${k}`,
    fate: 'carried',
    target: `pilot.env.${env}`,
    why: 'the istiod env 2.6 set (maistra conversion/security.go); istio/istio@1.27.9 pilot/pkg/bootstrap/istio_ca.go:87-111 reads it.',
    to: (v) => ({ pilot: { env: { [env]: String(v) } } }),
  })),
  ...(
    [
      ['workloadCertTTLDefault', 'DEFAULT_WORKLOAD_CERT_TTL'],
      ['workloadCertTTLMax', 'MAX_WORKLOAD_CERT_TTL'],
    ] as const
  ).map(([k, env]): SettingRule => ({
    path: `security.certificateAuthority.istiod.${k}`,
    fate: 'carried',
    target: `pilot.env.${env}`,
    why: 'istio/istio@1.27.9 pilot/pkg/bootstrap/istio_ca.go:87-95.',
    to: (v) => ({ pilot: { env: { [env]: String(v) } } }),
  })),
  {
    path: 'security.certificateAuthority.istiod.privateKey.rootCADir',
    fate: 'dropped',
    why: 'OSSM 3 reads the cacerts Secret mounted at its own path.',
  },
  {
    path: 'security.certificateAuthority.custom.address',
    fate: 'carried',
    target: 'global.caAddress',
    why: '2.6 used global.caAddress (maistra security.go:131-141).',
  },
  {
    path: 'security.certificateAuthority.cert-manager.address',
    fate: 'carried',
    target: 'global.caAddress, pilot.env.ENABLE_CA_SERVER',
    why:
      "Red Hat's meshConfig.ca contradicts its own cert-manager procedure (sail-operator docs cert-manager/README.md:184-187): " +
      'caAddress and ENABLE_CA_SERVER=false.',
    to: (v) => ({ global: { caAddress: v }, pilot: { env: { ENABLE_CA_SERVER: 'false' } } }),
  },
  ...['pilotSecretName', 'rootCAConfigMapName'].map((k): SettingRule => ({
    path: `security.certificateAuthority.cert-manager.${k}`,
    fate: 'dropped',
    why: 'no OSSM 3 field; istio-csr names them.',
  })),
  {
    path: 'security.controlPlane.certProvider',
    fate: 'carried',
    target: 'global.pilotCertProvider',
    why: 'lower-cased.',
    to: (v) => ({ global: { pilotCertProvider: String(v).toLowerCase() } }),
  },
  {
    path: 'security.controlPlane.mtls',
    fate: 'dropped',
    why: 'it was global.controlPlaneSecurityEnabled (maistra security.go:252-256), not auto mTLS; OSSM 3 always secures the control plane.',
  },
  {
    path: 'security.controlPlane.tls.minProtocolVersion',
    fate: 'carried',
    target: 'meshConfig.tlsDefaults.minProtocolVersion, meshConfig.meshMTLS.minProtocolVersion',
    why: 'TLSv1_2 → TLSV1_2; both the non-mesh and the mesh (ISTIO_MUTUAL) minimum, never lower.',
    to: (v) => {
      const t = tlsVersion(v);
      return t ? { meshConfig: { tlsDefaults: { minProtocolVersion: t }, meshMTLS: { minProtocolVersion: t } } } : undefined;
    },
  },
  ...['cipherSuites', 'ecdhCurves'].map((k): SettingRule => ({
    path: `security.controlPlane.tls.${k}`,
    fate: 'carried',
    target: `meshConfig.tlsDefaults.${k}`,
    why: 'same list.',
  })),
  { path: 'security.controlPlane.tls.maxProtocolVersion', fate: 'dropped', why: 'no OSSM 3 field.' },
  { path: 'security.dataPlane.automtls', fate: 'carried', target: 'meshConfig.enableAutoMtls', why: 'same.' },
  {
    path: 'security.dataPlane.mtls',
    fate: 'object',
    target: 'PeerAuthentication meshfed-mesh-mtls (+ DestinationRules)',
    why:
      "Red Hat's meshMTLS.enabled does not exist (Sail MeshConfigTLSConfig has only min version, curves, ciphers): " +
      'the mode becomes a PeerAuthentication.',
  },
  { path: 'security.identity.type', fate: 'dropped', why: 'OSSM 3 always uses projected (third-party) tokens.' },
  { path: 'security.identity.thirdParty.audience', fate: 'carried', target: 'global.sds.token.aud', why: 'same.' },
  { path: 'security.identity.thirdParty.issuer', fate: 'dropped', why: 'no OSSM 3 field (Red Hat: unsupported).' },
  { path: 'security.jwksResolverCA', fate: 'carried', target: 'pilot.jwksResolverExtraRootCA', why: 'same.' },
  { path: 'security.trust.domain', fate: 'meshfed', target: 'meshConfig.trustDomain', why: "the federation's trust domain." },
  {
    path: 'security.trust.additionalDomains',
    fate: 'meshfed',
    target: 'meshConfig.trustDomainAliases',
    why: 'merged with every peer trust domain.',
  },
  {
    path: 'security.manageNetworkPolicy',
    fate: 'object',
    target: 'NetworkPolicies meshfed-*',
    why: '01 sets it false (the federation needs it); meshfed renders the isolation Maistra gave (spec.networkPolicies.render).',
  },
  // --- tracing, telemetry, policy, addons
  {
    path: 'tracing.sampling',
    fate: 'carried',
    target: 'pilot.traceSampling',
    why: '0–10000 in 2.6 (100% = 10000), a percentage in OSSM 3: divided by 100 (maistra conversion/tracing.go).',
    to: (v) => ({ pilot: { traceSampling: Number(v) / 100 } }),
  },
  {
    path: 'tracing.type',
    fate: 'lost',
    why: 'the Jaeger addon is deleted with the SMCP: move to Tempo with an extension provider and a Telemetry before 07 (MF016).',
    off: (v) => v === 'None',
  },
  { path: 'telemetry', fate: 'dropped', why: 'OSSM 3 has only istiod telemetry (Telemetry API).' },
  { path: 'policy', fate: 'dropped', why: 'Mixer policy was removed; istiod is the only option.' },
  { path: 'addons.*', fate: 'lost', why: 'an addon owned by the SMCP, deleted with it: MF016 says what replaces it.', off: disabled },
  { path: 'gateways.enabled', fate: 'dropped', why: 'the master switch; every gateway it enables is accounted for on its own line.' },
  {
    path: 'gateways.ingress',
    fate: 'lost',
    why: 'the default ingress gateway, its Service and Route are deleted at 07 (MF016).',
    off: disabled,
  },
  { path: 'gateways.egress', fate: 'lost', why: 'the default egress gateway is deleted at 07 (MF016).', off: disabled },
  {
    path: 'gateways.openshiftRoute',
    fate: 'lost',
    why: 'IOR: its Routes outlive the SMCP but point at a deleted Service (MF016).',
    off: disabled,
  },
  { path: 'gateways.additionalIngress.*', fate: 'lost', why: 'an SMCP ingress gateway, deleted at 07 (MF016).', off: disabled },
  { path: 'gateways.additionalEgress.*', fate: 'lost', why: 'an SMCP egress gateway, deleted at 07 (MF016).', off: disabled },
  { path: 'gateways.*', fate: 'dropped', why: 'gateway defaults; OSSM 3 gateways are Deployments you own (gateway injection).' },
];

/** Maistra meshNetworks → Istio's: endpoints fromCIDR → fromCidr, gateways without service. */
function meshNetworks(v: Json): Json {
  const out: JsonObject = {};
  for (const [name, net] of Object.entries((v ?? {}) as Record<string, JsonObject>)) {
    const endpoints = ((net.endpoints ?? []) as JsonObject[]).map((e) => {
      const { fromCIDR, ...rest } = e;
      return fromCIDR === undefined ? rest : { ...rest, fromCidr: fromCIDR };
    });
    const gateways = ((net.gateways ?? []) as JsonObject[]).map((g) => {
      const { service: _service, ...rest } = g;
      return rest;
    });
    out[name] = { ...(endpoints.length ? { endpoints } : {}), ...(gateways.length ? { gateways } : {}) };
  }
  return out;
}

/** Each rule's path split once (the walk asks every rule about every node of every SMCP). */
const partsMemo = new Map<string, string[]>();
function partsOf(rulePath: string): string[] {
  let parts = partsMemo.get(rulePath);
  if (!parts) partsMemo.set(rulePath, (parts = rulePath.split('.')));
  return parts;
}

function matches(rule: string, path: string[]): string[] | undefined {
  const parts = partsOf(rule);
  if (parts.length !== path.length) return undefined;
  const keys: string[] = [];
  for (let i = 0; i < parts.length; i++) {
    if (parts[i] === '*') keys.push(path[i]);
    else if (parts[i] !== path[i]) return undefined;
  }
  return keys;
}

/** The rule for a path: an exact rule before a wildcard one. */
export function ruleFor(path: string[]): { rule: SettingRule; keys: string[] } | undefined {
  let best: { rule: SettingRule; keys: string[] } | undefined;
  for (const rule of SETTING_RULES) {
    const keys = matches(rule.path, path);
    if (keys && (!best || keys.length < best.keys.length)) best = { rule, keys };
  }
  return best;
}

/**
 * What an SMCP runs with when a field is absent. Profile values (maistra/istio-operator v2.6
 * smcp-templates base and small) are in status.appliedSpec but not in spec; chart values
 * (resources/helm/v2.6/global.yaml) are in neither.
 */
const PROFILE_DEFAULTS: JsonObject = {
  addons: { prometheus: { enabled: true }, grafana: { enabled: true }, kiali: { enabled: true } },
  tracing: { type: 'Jaeger' },
  // openshiftRoute: the 2.5+ webhook writes false into spec on create; absent means created earlier, on.
  gateways: { enabled: true, ingress: { enabled: true }, egress: { enabled: true }, openshiftRoute: { enabled: true } },
  proxy: { injection: { autoInject: false } },
  runtime: { defaults: { deployment: { podDisruption: { enabled: false } } } },
};
const CHART_DEFAULTS: JsonObject = {
  security: { dataPlane: { mtls: false, automtls: true }, manageNetworkPolicy: true },
  proxy: { networking: { trafficControl: { outbound: { policy: 'ALLOW_ANY' } } } },
};

/** The settings an SMCP runs with: its effective spec over the defaults the dump does not show. */
export function withDefaults(effective: JsonObject, from: 'status.appliedSpec' | 'spec'): JsonObject {
  return mergeJson(from === 'spec' ? mergeJson(CHART_DEFAULTS, PROFILE_DEFAULTS) : CHART_DEFAULTS, effective);
}

const settingsMemo = new WeakMap<object, JsonObject>();

/** What a control plane runs with (its effective spec over the defaults), computed once per control plane. */
export function settingsOf(cp: { readonly effective: JsonObject; readonly effectiveFrom: 'status.appliedSpec' | 'spec' }): JsonObject {
  let s = settingsMemo.get(cp);
  if (!s) settingsMemo.set(cp, (s = withDefaults(cp.effective, cp.effectiveFrom)));
  return s;
}

export interface SettingFate {
  /** Path under the SMCP's spec. */
  readonly path: string;
  readonly value: Json;
  /** input: in the dump; default: what the SMCP runs with because the field is absent. */
  readonly source: 'input' | 'default';
  readonly fate: FateKind | 'unknown';
  readonly target?: string;
  readonly why: string;
  /**
   * The spec.values paths the setting would become that the Sail Istio CRD does not declare (lib/plan/sail-values.ts):
   * left out of the Istio. The fate is `unknown` when nothing of the setting is left to carry.
   */
  readonly undeclared?: string[];
}

export interface SettingsAccount {
  readonly fates: SettingFate[];
  /** The carried settings as an Istio spec.values fragment. */
  readonly values: JsonObject;
}

const hasDeeperRule = (path: string[]): boolean =>
  SETTING_RULES.some((r) => {
    const parts = partsOf(r.path);
    return parts.length > path.length && path.every((k, i) => parts[i] === '*' || parts[i] === k);
  });

/**
 * Every setting of the SMCP (defaults included) with its fate, and the values the carried ones give.
 * `federationGateways` are the additionalIngress/Egress names the federation uses: meshfed replaces them.
 */
export function accountSettings(
  effective: JsonObject,
  from: 'status.appliedSpec' | 'spec',
  federationGateways: ReadonlySet<string>,
): SettingsAccount {
  const merged = withDefaults(effective, from);
  const fates: SettingFate[] = [];
  const walk = (node: Json, path: string[]) => {
    const found = ruleFor(path);
    if (isObject(node) && (hasDeeperRule(path) || !found)) {
      for (const k of Object.keys(node).sort(compareStrings)) walk(node[k], [...path, k]);
      return;
    }
    const joined = path.join('.');
    const source: SettingFate['source'] = valueAt(effective, joined) === undefined ? 'default' : 'input';
    if (!found) {
      fates.push({
        path: joined,
        value: node,
        source,
        fate: 'unknown',
        why: 'meshfed has no rule for this setting: check its OSSM 3 equivalent by hand.',
      });
      return;
    }
    const { rule, keys } = found;
    const base = { path: joined, value: node, source };
    if (/^gateways\.additional(Ingress|Egress)\./.test(joined) && federationGateways.has(path[2])) {
      fates.push({
        ...base,
        fate: 'meshfed',
        target: 'east-west / istio-remote gateways',
        why: 'a federation gateway: 02 and 03 replace it.',
      });
    } else if (rule.off?.(node)) {
      fates.push({ ...base, fate: 'dropped', why: 'switched off: nothing runs that 07 could delete.' });
    } else if (rule.fate === 'carried') {
      const { fate, kept } = carry(base, rule, keys);
      fates.push(fate);
      if (kept) (rule.wins ? winning : carried).push(kept);
    } else {
      fates.push({ ...base, fate: rule.fate, target: rule.target, why: rule.why });
    }
  };
  const carried: JsonObject[] = [];
  const winning: JsonObject[] = [];
  walk(merged, []);
  return { fates, values: [...carried, ...winning].reduce(mergeJson, {}) };
}

/** A carried setting: its fate, and its values fragment without the fields the Sail Istio does not declare (undefined: none left). */
function carry(
  base: Pick<SettingFate, 'path' | 'value' | 'source'>,
  rule: SettingRule,
  keys: string[],
): { fate: SettingFate; kept?: JsonObject } {
  const fragment = rule.to ? rule.to(base.value, keys) : at(rule.target!, base.value);
  const undeclared = fragment ? undeclaredPaths(fragment) : [];
  const pruned = fragment && undeclared.length ? withoutPaths(fragment, undeclared) : fragment;
  const kept = pruned && Object.keys(pruned).length ? pruned : undefined;
  if (!undeclared.length) return { fate: { ...base, fate: rule.fate, target: rule.target, why: rule.why }, kept };
  const why = `${undeclaredWhy(undeclared)} ${rule.why}`;
  return { fate: { ...base, fate: kept ? rule.fate : 'unknown', target: rule.target, why, undeclared }, kept };
}

function undeclaredWhy(paths: string[]): string {
  return `the Sail Istio (${SAIL_VALUES_RELEASE}) declares no spec.values.${paths.join(', spec.values.')}: not carried.`;
}

/** `values` without the given dotted paths (as undeclaredPaths names them), and without the objects left empty. */
function withoutPaths(values: JsonObject, paths: string[]): JsonObject | undefined {
  const drop = new Set(paths);
  const prune = (v: Json, prefix: string): Json | undefined => {
    if (drop.has(prefix)) return undefined;
    if (Array.isArray(v)) return v.map((x, i) => prune(x, `${prefix}[${i}]`) ?? {});
    if (!isObject(v)) return v;
    const out: JsonObject = {};
    for (const [k, x] of Object.entries(v)) {
      const kept = prune(x, prefix ? `${prefix}.${k}` : k);
      if (kept !== undefined) out[k] = kept;
    }
    return Object.keys(out).length || !Object.keys(v).length ? out : undefined;
  };
  const out = prune(values, '');
  return isObject(out ?? null) ? (out as JsonObject) : undefined;
}
