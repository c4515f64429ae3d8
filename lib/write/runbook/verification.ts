import { ictl, kc } from './format';
import { ModelIndex } from '../../model/model-index';
import { Import, Mesh } from '../../model/types';
import { isolatedNamespaces, MESH_MTLS_NAME, rendersNetworkPolicies, smcpPosture } from '../../plan/control-plane';
import { usesEgress } from '../../plan/egress';
import { EXPOSE_GATEWAY_NAME, remoteGatewayName } from '../../plan/names';
import { migratedNamespaces } from '../../plan/revision';
import { MigrationPhase } from '../../plan/types';

/** Traffic checks shown per cluster and phase. */
const MAX_CHECKS = 6;

/** A workload of the importer to run checks from: a verify probe's, else the first Deployment of a member namespace. */
export function clientOf(mesh: Mesh): { namespace: string; deployment: string; container: string } | undefined {
  const probe = mesh.settings.verify[0];
  if (probe)
    return { namespace: probe.from.namespace, deployment: probe.from.deployment, container: probe.from.container ?? probe.from.deployment };
  const members = new Set(mesh.memberNamespaces);
  const w = mesh.inventory.workloads.find((x) => x.kind === 'Deployment' && members.has(x.namespace));
  return w ? { namespace: w.namespace, deployment: w.name, container: w.name } : undefined;
}

/** The verify probes when the cluster has some, else one request per imported hostname on its first port. */
export function trafficChecks(mesh: Mesh, imports: Import[]): string[] {
  const client = clientOf(mesh);
  if (!client || imports.length === 0) return [];
  const out: string[] = [];
  const curl = (ns: string, dep: string, container: string, url: string) =>
    `${kc(mesh.cluster)} exec -n ${ns} deploy/${dep} -c ${container} -- curl -sS -o /dev/null -w '%{http_code}\\n' ${url}`;
  if (mesh.settings.verify.length) {
    for (const p of mesh.settings.verify) out.push(curl(p.from.namespace, p.from.deployment, p.from.container ?? p.from.deployment, p.url));
  } else {
    for (const i of imports.slice(0, MAX_CHECKS))
      out.push(
        curl(client.namespace, client.deployment, client.container, `http://${i.hostname}:${i.export.service.ports[0]?.number ?? 80}/`),
      );
    if (imports.length > MAX_CHECKS)
      out.push(`# … and ${imports.length - MAX_CHECKS} more imported hostnames (dist/plan.json, or spec.verify for automated checks)`);
  }
  const hosts = [...new Set(imports.map((i) => i.hostname))];
  const pattern =
    hosts.length <= MAX_CHECKS
      ? hosts.map((h) => h.replace(/\./g, '\\.')).join('|')
      : `\\.(${[...new Set(imports.map((i) => i.hostname.split('.').slice(2).join('.')))]
          .sort()
          .slice(0, MAX_CHECKS)
          .map((h) => h.replace(/\./g, '\\.'))
          .join('|')})$`;
  out.push(`${ictl(mesh)} proxy-config endpoints deploy/${client.deployment} -n ${client.namespace} | grep -E '${pattern}'`);
  return out;
}

/** What a phase's verification commands know: the cluster, its SMCP, its mesh, the model's index and what the cluster imports. */
interface Verifying {
  readonly c: string;
  readonly cp: Mesh['controlPlane'];
  readonly mesh: Mesh;
  readonly ctx: ModelIndex;
  readonly imports: Import[];
}

/** 00 and 01: the SMCP is ready (01 restarts istiod; 00 changes nothing) and its peers connected. */
const smcpAndPeers =
  (ready: string) =>
  ({ c, cp, mesh, ctx, imports }: Verifying): string[] => [
    `${kc(c)} get smcp ${cp.name} -n ${cp.namespace}   # ${ready}`,
    ...ctx.linksOf(c).map((l) => `${kc(c)} get servicemeshpeer ${l.peer.name} -n ${cp.namespace} -o jsonpath='{.status.discoveryStatus}'`),
    ...trafficChecks(mesh, imports),
  ];

/** What to run after a phase's sync to see that it did what it should, per phase. */
const VERIFY: Record<MigrationPhase, (v: Verifying) => string[]> = {
  '00-federation': smcpAndPeers('READY, as before: adopting changes nothing'),
  '01-prepare': smcpAndPeers('READY again after the istiod restart'),
  '02-export': ({ c, mesh, ctx }) =>
    ctx.isExporter(c)
      ? [
          `${kc(c)} get gateway ${mesh.eastWest.name} -n ${mesh.eastWest.namespace}   # PROGRAMMED True`,
          `${kc(c)} get svc ${mesh.eastWest.name}-istio -n ${mesh.eastWest.namespace}   # EXTERNAL-IP: set it as spec.eastWestGateway.address`,
          `${kc(c)} get gateway.networking.istio.io ${EXPOSE_GATEWAY_NAME} -n ${mesh.eastWest.namespace} -o jsonpath='{.spec.servers[0].hosts}'`,
        ]
      : [],
  '03-import': ({ c, mesh, ctx, imports }) => [
    ...(usesEgress(ctx, mesh)
      ? [`${kc(c)} get gateway ${mesh.egress!.name} -n ${mesh.egress!.namespace}   # egress gateway, PROGRAMMED True`]
      : []),
    ...ctx
      .exportersFor(c)
      .map((e) => `${kc(c)} get gateway ${remoteGatewayName(e)} -n ${mesh.importNamespace}   # istio-remote, PROGRAMMED True`),
    ...trafficChecks(mesh, imports),
  ],
  // 04 removes only the sets: the peers, their CA ConfigMaps and the federation gateways stay until 07 (phase-text.ts WHAT).
  '04-remove-federation': ({ c, cp, mesh, ctx, imports }) => {
    const peers = ctx.linksOf(c).map((l) => l.peer);
    const gateways = [...new Set(peers.flatMap((p) => [p.ingressGateway, p.egressGateway]))];
    return [
      `${kc(c)} get exportedserviceset,importedserviceset -n ${cp.namespace}   # No resources found: the sets are gone`,
      ...(peers.length
        ? [
            `${kc(c)} get servicemeshpeer ${peers.map((p) => p.name).join(' ')} -n ${cp.namespace}   # still there, idle, until 07`,
            `${kc(c)} get svc ${gateways.join(' ')} -n ${cp.namespace}   # the federation gateways stay until 07, with the same address`,
          ]
        : []),
      ...trafficChecks(mesh, imports),
    ];
  },
  '05-install-ossm3': ({ c, mesh }) => [
    `${kc(c)} get istio,istiocni   # READY True`,
    `${kc(c)} get pods -n ${mesh.ossm3.namespace} -l istio.io/rev=${mesh.ossm3.revision}`,
  ],
  '06-migrate-workloads': ({ c, mesh, ctx, imports }) => [
    `${ictl(mesh)} proxy-status | grep ${mesh.ossm3.revision}`,
    ...migratedNamespaces(ctx, mesh).map((ns) => `${kc(c)} get ns ${ns} -L istio.io/rev,istio-injection`),
    ...trafficChecks(mesh, imports),
  ],
  '07-finalize': ({ c, cp, mesh, imports }) => [
    `${kc(c)} get smcp -A   # No resources found`,
    `${kc(c)} get all,cm,secret,sa,netpol,role,rolebinding,route,hpa,pdb -A -l maistra.io/owner-name=${cp.name}   # No resources found`,
    `${kc(c)} get peerauthentication,destinationrule,envoyfilter,gateway.networking.istio.io,serviceentry -A ` +
      `-l maistra.io/owner-name=${cp.name}   # No resources found`,
    `${kc(c)} get clusterrole,clusterrolebinding,mutatingwebhookconfiguration,validatingwebhookconfiguration ` +
      `-l maistra.io/owner-name=${cp.name}   # No resources found`,
    // The roll goes by garbage collection after the SMCP (or by prune), the members after it (prune, the hand-over
    // Job, or the roll's controller): each carries the operator's finalizer, which only the running OSSM 2 operator
    // removes once it has cleaned up (maistra/istio-operator pkg/controller/servicemesh/memberroll/controller.go
    // finalizeObject, and the member controller's). Without the operator they stay Terminating for good and hold
    // their namespaces and the maistra.io CRDs.
    `${kc(c)} get smmr,smm -A   # No resources found (Terminating: wait, the OSSM 2 operator removes their finalizers): ` +
      `only then remove the OSSM 2 operator`,
    `${kc(c)} get peerauthentication ${MESH_MTLS_NAME} -n ${mesh.ossm3.namespace} -o jsonpath='{.spec.mtls.mode}'   ` +
      `# ${smcpPosture(mesh).mtls}, as the SMCP had it`,
    ...(rendersNetworkPolicies(mesh)
      ? isolatedNamespaces(mesh).map((ns) => `${kc(c)} get netpol meshfed-mesh -n ${ns}   # the isolation Maistra gave, kept`)
      : []),
    ...trafficChecks(mesh, imports),
  ],
};

/** The commands that verify `phase` on `mesh`'s cluster after the sync. */
export function verification(phase: MigrationPhase, mesh: Mesh, ctx: ModelIndex): string[] {
  const c = mesh.cluster;
  return VERIFY[phase]({ c, cp: mesh.controlPlane, mesh, ctx, imports: ctx.importsInto(c) });
}
