import { Mesh } from '../model/types';
import { PlanContext } from './context';
import { trustDomainAliases } from './phase-01-prepare';
import { API, ref } from './refs';
import { Resource } from './types';

/**
 * 05-install-ossm3: IstioCNI and a RevisionBased Istio next to the SMCP: same trust domain and aliases,
 * every peer's root in caCertificates with ISTIO_MULTIROOT_MESH, the cluster's network. Exporters also
 * get PILOT_ENABLE_ALPHA_GATEWAY_API: Istio ≥ 1.25 refuses a Gateway API listener with protocol TLS
 * without it, and the east-west Gateway has one; the new istiod takes that Gateway over in 06.
 */
export function planInstallOssm3(ctx: PlanContext, mesh: Mesh): Resource[] {
  const out: Resource[] = [];
  const known = new Set([...mesh.inventory.namespaces.map((n) => n.name), mesh.controlPlane.namespace]);
  if (!known.has(mesh.ossm3.cniNamespace)) out.push({ type: 'namespace', ref: ref(API.namespace, 'Namespace', mesh.ossm3.cniNamespace), labels: {} });
  if (!known.has(mesh.ossm3.namespace)) out.push({ type: 'namespace', ref: ref(API.namespace, 'Namespace', mesh.ossm3.namespace), labels: {} });
  const pilotEnv: Record<string, string> = { ISTIO_MULTIROOT_MESH: 'true' };
  if (ctx.isExporter(mesh.cluster)) pilotEnv.PILOT_ENABLE_ALPHA_GATEWAY_API = 'true';
  const peers = ctx.linksOf(mesh.cluster).map((l) => ctx.mesh(l.remote)).sort((a, b) => (a.cluster < b.cluster ? -1 : 1));
  out.push(
    { type: 'istioCni', ref: ref(API.sail, 'IstioCNI', 'default'), version: mesh.ossm3.version, namespace: mesh.ossm3.cniNamespace },
    {
      type: 'istio',
      ref: ref(API.sail, 'Istio', mesh.ossm3.istioName),
      version: mesh.ossm3.version,
      namespace: mesh.ossm3.namespace,
      trustDomain: mesh.trustDomain,
      trustDomainAliases: trustDomainAliases(ctx, mesh),
      caCertificates: peers.map((p) => ({ cluster: p.cluster, pem: p.rootCert.pem })),
      network: mesh.network,
      accessLogFile: mesh.controlPlane.accessLogFile,
      pilotEnv,
    },
  );
  return out;
}
