import { Diagnostics } from '../diagnostics';
import { API, ref } from './api-versions';
import { smcpAccount } from './control-plane';
import { usesEgress } from './egress';
import { hasSmcp } from './namespaces';
import { discoveryNamespaces } from './revision';
import { trustDomainAliases } from './trust';
import { Contribute, Resource } from './types';
import { ModelIndex } from '../model/model-index';
import { Mesh } from '../model/types';
import { byKey } from '../sort';

/**
 * OSSM 3 reuses the SMCP's `cacerts` Secret when both control planes share a namespace. Otherwise the
 * Secret must be copied (the runbook says how), or an ExternalSecret renders it from a store. meshfed
 * never renders a Secret.
 */
function cacerts(mesh: Mesh, diags: Diagnostics): Resource[] {
  const es = mesh.settings.ossm3.cacerts?.externalSecret;
  const shared = hasSmcp(mesh) && mesh.ossm3.namespace === mesh.controlPlane.namespace;
  if (shared) {
    if (es)
      diags.warn(
        'MF021',
        mesh.settings.source.at(['spec', 'ossm3', 'cacerts']),
        `ignored: OSSM 3 runs in ${mesh.ossm3.namespace} like the SMCP and reuses its cacerts Secret.`,
      );
    return [];
  }
  if (!es) return [];
  return [
    {
      type: 'cacertsExternalSecret',
      ref: ref('external-secrets.io/v1', 'ExternalSecret', 'cacerts', mesh.ossm3.namespace),
      storeName: es.storeRef.name,
      storeKind: es.storeRef.kind,
      key: es.key,
    },
  ];
}

/**
 * 05-install-ossm3: IstioCNI and a RevisionBased Istio next to the SMCP: same trust domain and aliases,
 * every peer's root in caCertificates with ISTIO_MULTIROOT_MESH, the cluster's network. Exporters (and
 * importers with an egress gateway) also get PILOT_ENABLE_ALPHA_GATEWAY_API: Istio ≥ 1.25 refuses a
 * Gateway API listener with protocol TLS without it, and the east-west (egress) Gateway has one; the
 * flag also makes istiod watch TLSRoutes. The new istiod takes those Gateways over in 06.
 */
export function planInstallOssm3(ctx: ModelIndex, mesh: Mesh, diags: Diagnostics): Resource[] {
  const out: Resource[] = [];
  out.push(...cacerts(mesh, diags));
  // A greenfield cluster has no SMCP namespace: the OSSM 3 namespace is created unless the inventory has it.
  const known = new Set([...mesh.inventory.namespaces.map((n) => n.name), ...(hasSmcp(mesh) ? [mesh.controlPlane.namespace] : [])]);
  if (!known.has(mesh.ossm3.cniNamespace))
    out.push({ type: 'namespace', ref: ref(API.namespace, 'Namespace', mesh.ossm3.cniNamespace), labels: {} });
  if (!known.has(mesh.ossm3.namespace))
    out.push({ type: 'namespace', ref: ref(API.namespace, 'Namespace', mesh.ossm3.namespace), labels: {} });
  const pilotEnv: Record<string, string> = { ISTIO_MULTIROOT_MESH: 'true' };
  if (ctx.isExporter(mesh.cluster) || usesEgress(ctx, mesh)) pilotEnv.PILOT_ENABLE_ALPHA_GATEWAY_API = 'true';
  const scoped = mesh.settings.ossm3.trust === 'trustDomains';
  if (scoped) {
    for (const i of ctx.importsInto(mesh.cluster).filter((x) => x.localService)) {
      diags.error(
        mesh.settings.source.at(['spec', 'ossm3', 'trust']),
        `trust: trustDomains cannot carry ${i.hostname}: it joins the local Service ` +
          `${i.localService!.namespace}/${i.localService!.name}, whose WorkloadEntry identity is only ` +
          `accepted through trustDomainAliases.`,
        'Use trust: aliases, or import that service without importAsLocal.',
      );
    }
  }
  const discovery = discoveryNamespaces(ctx, mesh);
  if (discovery) refuseUnscopable(mesh, diags);
  const peers = ctx
    .linksOf(mesh.cluster)
    .map((l) => ctx.mesh(l.remote))
    .sort(byKey((m) => m.cluster));
  out.push(
    { type: 'istioCni', ref: ref(API.sail, 'IstioCNI', 'default'), version: mesh.ossm3.version, namespace: mesh.ossm3.cniNamespace },
    {
      type: 'istio',
      ref: ref(API.sail, 'Istio', mesh.ossm3.istioName),
      version: mesh.ossm3.version,
      namespace: mesh.ossm3.namespace,
      trustDomain: mesh.trustDomain,
      // trustDomains mode: keep only the SMCP's own aliases; scope each peer root to the peer's trust domain.
      trustDomainAliases: scoped ? mesh.controlPlane.trustDomainAliases : trustDomainAliases(ctx, mesh),
      caCertificates: peers.map((p) => ({ cluster: p.cluster, pem: p.rootCert.pem, ...(scoped ? { trustDomains: [p.trustDomain] } : {}) })),
      network: mesh.network,
      accessLogFile: mesh.controlPlane.accessLogFile,
      pilotEnv,
      dnsCapture: true,
      ...(discovery ? { discoveryNamespaces: discovery } : {}),
      carried: hasSmcp(mesh) ? smcpAccount(mesh).values : {},
    },
  );
  return out;
}

/**
 * A MultiTenant member roll OSSM 3 cannot follow: `members: ["*"]` makes every namespace of the cluster that no other
 * tenant claims a member, a set no discoverySelectors can name; without them the OSSM 3 istiod would discover the
 * whole cluster and fight the other tenants' istiods over istio-ca-root-cert (lib/plan/revision.ts discoveryNamespaces).
 */
function refuseUnscopable(mesh: Mesh, diags: Diagnostics): void {
  const roll = mesh.inventory.memberRoll;
  const i = roll?.members.indexOf('*') ?? -1;
  if (!roll || i < 0) return;
  const cp = mesh.controlPlane;
  diags.error(
    roll.source.at(['spec', 'members', i]),
    `ServiceMeshControlPlane ${cp.namespace}/${cp.name} is MultiTenant and its ServiceMeshMemberRoll ${roll.namespace}/${roll.name} ` +
      'lists "*": OSSM 3 cannot scope its istiod to "every namespace no other tenant claims" (meshConfig.discoverySelectors ' +
      "name namespaces by label), and an unscoped istiod discovers the whole cluster and overwrites the other tenants' " +
      'istio-ca-root-cert ConfigMaps.',
    `List the member namespaces in spec.members of ${roll.name} (or select them with spec.memberSelectors), apply it, dump it ` +
      `again (oc get smmr ${roll.name} -n ${roll.namespace} -o yaml) and synth; or, if this is the cluster's only control plane, ` +
      'make the SMCP ClusterWide first.',
  );
}

export const contribute: Contribute = (ctx, mesh, diags) => ({ '05-install-ossm3': { adds: planInstallOssm3(ctx, mesh, diags) } });
