import { ModelIndex } from '../model/model-index';
import { FederationModel, Import, Mesh } from '../model/types';
import { isolatedNamespaces, MESH_MTLS_NAME, rendersNetworkPolicies, smcpPosture } from '../plan/control-plane';
import { usesEgress, usesEgressTlsRoutes } from '../plan/egress';
import { EXPOSE_GATEWAY_NAME, remoteGatewayName } from '../plan/names';
import { smcpGateways, TAKEOVER_SUFFIX, takenOver } from '../plan/north-south';
import { nextSteps, ORDERING_RULES } from '../plan/pointers';
import { migratedNamespaces } from '../plan/revision';
import { MigrationPhase, ObjectRef, PHASES, PhasePlan, Plan, Resource } from '../plan/types';
import { byKey } from '../sort';

/**
 * dist/README.md: the runbook for the operator on call, generated from the model and the plan so every
 * name in it is real. Commands use `kubectl --context <cluster>`: name your kube contexts after the
 * cluster folders (or substitute).
 */

const TITLES: Record<MigrationPhase, string> = {
  '00-federation': 'Adopt the running OSSM 2 federation',
  '01-prepare': 'Prepare the OSSM 2.6 control planes',
  '02-export': 'Export services through east-west gateways',
  '03-import': 'Import services through istio-remote gateways',
  '04-remove-federation': 'Remove the OSSM 2 federation',
  '05-install-ossm3': 'Install the OSSM 3 control planes',
  '06-migrate-workloads': 'Move workloads and gateways to OSSM 3',
  '07-finalize': 'Remove the OSSM 2 control planes',
};

const WHAT: Record<MigrationPhase, string> = {
  '00-federation':
    'GitOps adopts what runs today: the ServiceMeshControlPlane, member roll, ServiceMeshPeers, ' +
    "export/import sets, the peers' CA ConfigMaps and the member Namespaces. Nothing changes in " +
    'the mesh.',
  '01-prepare':
    "Each SMCP trusts its peers' trust domains (trustDomainAliases), discovers istio-remote " +
    'Gateways (PILOT_MULTI_NETWORK_DISCOVER_GATEWAY_API), names its network (cluster.network) ' +
    'and stops managing NetworkPolicies so the new east-west gateways are reachable; GitOps takes ' +
    "over the mesh-wide mTLS policy and Maistra's NetworkPolicies in the same sync (docs/control-plane.md). " +
    'istiod restarts.',
  '02-export':
    'Exporters get an east-west gateway (a Kubernetes Gateway the deployment controller turns ' +
    'into a Deployment and a LoadBalancer Service) that exposes exactly the hostnames importers ' +
    'use, and ServiceEntries that give those hostnames to the pods. The federation keeps ' +
    'carrying traffic.',
  '03-import':
    'Importers get one istio-remote Gateway per exporter and a ServiceEntry + WorkloadEntry per ' +
    'imported service, and a PostSync Job restarts their member workloads: OSSM 2 gives a proxy its ' +
    'network only when it is injected after 01, and istiod sends no address-less WorkloadEntry to a ' +
    'proxy without one (istio/istio#58612). Clients start using the new path (end-to-end mTLS).',
  '04-remove-federation':
    'The ImportedServiceSets and ExportedServiceSets go, and the federation ingress/egress gateways ' +
    'are removed from the SMCPs. Traffic uses only the new path. The ServiceMeshPeers and their CA ' +
    'ConfigMaps stay until 07: Maistra gives OSSM 2 proxies the peer roots only while they exist.',
  '05-install-ossm3':
    'IstioCNI and a RevisionBased Istio start next to the SMCP, with the same trust domain, the ' +
    "peers' roots in caCertificates, and the cluster's network. No workload moves yet.",
  '06-migrate-workloads':
    "Member namespaces (and the east-west gateway's) are labelled for the new revision and " +
    'their workloads restarted, so sidecars and gateways are injected by OSSM 3; the OSSM 2 ' +
    'istiod stops reconciling Gateway API objects. North-south: each SMCP gateway gets an OSSM 3 ' +
    'Deployment beside it behind the same Service, its Routes move to Git and IOR goes off (docs/north-south.md).',
  '07-finalize':
    'The ServiceMeshPeers and their CA ConfigMaps, the SMCP, the member roll and the restart Jobs go; ' +
    'the Istio Gateways on the east-west (and egress) gateway pods select them by the label OSSM 3 ' +
    'sets. Where the SMCP ran gateways, a Job first takes their Services and Routes from the operator, ' +
    'then deletes the SMCP itself. OSSM 3 runs alone.',
};

/** istioctl against a cluster's OSSM 3 control plane (its namespace is not always istio-system). */
export function ictl(mesh: Mesh): string {
  return `istioctl --context ${mesh.cluster} -i ${mesh.ossm3.namespace}`;
}

export function kc(cluster: string): string {
  return `kubectl --context ${cluster}`;
}

export function refName(r: ObjectRef): string {
  return `${r.kind} ${r.namespace ? `${r.namespace}/` : ''}${r.name}`;
}

export function list(items: string[], max = 12): string {
  if (items.length === 0) return 'nothing';
  const shown = items
    .slice(0, max)
    .map((i) => `\`${i}\``)
    .join(', ');
  return items.length > max ? `${shown} and ${items.length - max} more` : shown;
}

/** Above this many imports the diagram and tables show one line per importer → exporter pair. */
const MAX_ARROWS = 60;
/** Traffic checks shown per cluster and phase. */
const MAX_CHECKS = 6;

function importPairs(model: FederationModel): { importer: string; exporter: string; count: number; hostnames: string[] }[] {
  const pairs = new Map<string, { importer: string; exporter: string; count: number; hostnames: string[] }>();
  for (const i of model.imports) {
    const key = `${i.importer}/${i.exporter}`;
    const p = pairs.get(key) ?? { importer: i.importer, exporter: i.exporter, count: 0, hostnames: [] };
    p.count++;
    p.hostnames.push(i.hostname);
    pairs.set(key, p);
  }
  return [...pairs.values()]
    .map((p) => ({ ...p, hostnames: p.hostnames.sort() }))
    .sort(
      byKey(
        (p) => p.importer,
        (p) => p.exporter,
      ),
    );
}

function uniq(items: string[]): string[] {
  return [...new Set(items)];
}

function mermaidId(s: string): string {
  return s.replace(/[^A-Za-z0-9_]/g, '_');
}

/** Meshes as subgraphs, east-west gateways as nodes, each import as an arrow labelled with its hostname. */
export function diagram(model: FederationModel, ctx: ModelIndex): string[] {
  const lines = ['```mermaid', 'flowchart LR'];
  for (const m of model.meshes) {
    lines.push(`  subgraph ${mermaidId(m.cluster)}["${m.cluster} · ${m.trustDomain} · ${m.network}"]`);
    lines.push(`    ${mermaidId(m.cluster)}_clients(["clients: ${m.memberNamespaces.join(', ') || 'none'}"])`);
    if (ctx.isExporter(m.cluster))
      lines.push(
        `    ${mermaidId(m.cluster)}_ew[["east-west gateway ${m.eastWest.namespace}/${m.eastWest.name}<br/>` +
          `${m.eastWest.addresses.join(', ') || 'address unknown'}:${m.eastWest.port ?? 'node port unknown'}"]]`,
      );
    lines.push('  end');
  }
  if (model.imports.length <= MAX_ARROWS) {
    for (const i of [...model.imports].sort(byKey((i) => i.importer + i.hostname))) {
      lines.push(`  ${mermaidId(i.importer)}_clients -- "${i.hostname}" --> ${mermaidId(i.exporter)}_ew`);
    }
  } else {
    // Too many imports for one arrow each (GitHub's Mermaid refuses more than 500 edges): one per pair.
    for (const pair of importPairs(model))
      lines.push(
        `  ${mermaidId(pair.importer)}_clients -- "${pair.count} services, e.g. ${pair.hostnames[0]}" --> ${mermaidId(pair.exporter)}_ew`,
      );
  }
  lines.push('```');
  return lines;
}

/** A workload of the importer to run checks from: a verify probe's, else the first Deployment of a member namespace. */
function clientOf(mesh: Mesh): { namespace: string; deployment: string; container: string } | undefined {
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

/** The field managers of a namespace's istio-injection label, with what to expect. */
function injectionManagers(cluster: string, ns: string, expect: string): string {
  return (
    `${kc(cluster)} get ns ${ns} --show-managed-fields -o json | jq -r '.metadata.managedFields[] | ` +
    `select(.fieldsV1."f:metadata"."f:labels"."f:istio-injection") | .manager'   # ${expect}`
  );
}

function preflight(phase: MigrationPhase, mesh: Mesh, ctx: ModelIndex): string[] {
  const c = mesh.cluster;
  const cp = mesh.controlPlane;
  switch (phase) {
    case '00-federation':
      return [
        `${kc(c)} get smcp ${cp.name} -n ${cp.namespace}   # READY`,
        `${kc(c)} get servicemeshpeer -n ${cp.namespace} -o ` +
          `custom-columns=NAME:.metadata.name,ACTIVE:.status.discoveryStatus.active[*].watch.connected`,
        `${kc(c)} get smcp ${cp.name} -n ${cp.namespace} --show-managed-fields -o ` +
          `jsonpath='{.metadata.managedFields[*].manager}'   # fields set by kubectl apply become ` +
          `GitOps-owned; others (oc create, operators) are not removed when dropped`,
        ...mesh.memberNamespaces.map((ns) => injectionManagers(c, ns, 'who owns istio-injection (06 removes it itself)')),
        `kubectl get cm argocd-cm -n <argocd namespace> -o jsonpath='{.data}' | grep -c 'sailoperator.io_Istio'   ` +
          `# Argo CD: the health checks of dist/argocd are installed (else no wave waits for a control plane)`,
      ];
    case '01-prepare':
      return [`${kc(c)} get smcp ${cp.name} -n ${cp.namespace} -o jsonpath='{.spec.version}'   # v2.6`];
    case '02-export':
      return ctx.isExporter(c)
        ? [
            `${kc(c)} get crd gateways.gateway.networking.k8s.io   # Gateway API CRDs (built into OpenShift 4.19+)`,
            `${kc(c)} get deploy -n ${cp.namespace} -l app=istiod -o jsonpath='{..env[?(@.name=="PILOT_ENABLE_GATEWAY_API")].value}'   ` +
              `# not "false": the OSSM 2 istiod deploys the east-west gateway and writes its status (Argo CD >= 3.1 waits for Programmed)`,
            `${kc(c)} get smcp ${cp.name} -n ${cp.namespace} -o jsonpath='{.spec.cluster.network}'   # ${mesh.network}`,
          ]
        : [];
    case '03-import':
      return [
        ...(usesEgressTlsRoutes(ctx, mesh)
          ? [
              `${kc(c)} get crd tlsroutes.gateway.networking.k8s.io   # experimental Gateway API channel: the egress gateway routes with TLSRoutes`,
            ]
          : []),
        ...ctx
          .exportersFor(c)
          .map((e) =>
            e.eastWest.serviceType === 'NodePort'
              ? `${kc(e.cluster)} get svc ${e.eastWest.name}-istio -n ${e.eastWest.namespace} -o ` +
                `jsonpath='{.spec.ports[?(@.port==15443)].nodePort}'   # must be ` +
                `${e.eastWest.port ?? 'set in clusters/' + e.cluster + '/cluster.yaml'}; nodes ` +
                `${e.eastWest.addresses.join(', ')} reachable from ${c}`
              : `${kc(e.cluster)} get svc ${e.eastWest.name}-istio -n ${e.eastWest.namespace} -o ` +
                `jsonpath='{.status.loadBalancer.ingress[0]}'   # must be ` +
                `${e.eastWest.addresses.join(', ') || 'set in clusters/' + e.cluster + '/cluster.yaml'}`,
          ),
      ];
    case '04-remove-federation':
      return [
        `# the previous phase's verification passed on every cluster that imports from ${c} (see "Gate")`,
        ...ctx
          .importersOf(c)
          .map(
            (p) =>
              `${kc(p)} get deploy,sts,ds -A -o jsonpath='{range .items[*]}{.metadata.namespace}/{.metadata.name} ` +
              `{.spec.template.metadata.annotations.meshfed\\.dev/restarted-for-network}{"\\n"}{end}'   # ` +
              `${p}'s clients restarted for network ${ctx.mesh(p).network} (03)`,
          ),
      ];
    case '05-install-ossm3': {
      const secret =
        mesh.ossm3.namespace === cp.namespace
          ? [`${kc(c)} get secret cacerts -n ${cp.namespace}   # reused by OSSM 3 (same namespace as the SMCP)`]
          : mesh.settings.ossm3.cacerts
            ? [
                `${kc(c)} get clustersecretstore,secretstore -A | grep ` +
                  `${mesh.settings.ossm3.cacerts.externalSecret.storeRef.name}   # the ExternalSecret cacerts ` +
                  `is rendered from it`,
              ]
            : [
                `# OSSM 3 runs in ${mesh.ossm3.namespace}, the SMCP in ${cp.namespace}: copy the CA Secret ` +
                  `before syncing (meshfed never renders Secrets):`,
                `${kc(c)} get secret cacerts -n ${cp.namespace} -o json | jq ` +
                  `'del(.metadata.uid,.metadata.resourceVersion,.metadata.creationTimestamp,.metadata.managedFields,.metadata.ownerReferences)` +
                  ` | .metadata.namespace="${mesh.ossm3.namespace}"' | ${kc(c)} apply -f -`,
              ];
      return [`${kc(c)} get crd istios.sailoperator.io istiocnis.sailoperator.io   # the OSSM 3 operator is installed`, ...secret];
    }
    case '06-migrate-workloads':
      return [
        `${kc(c)} get istio ${mesh.ossm3.istioName} -o jsonpath='{.status.activeRevisionName}'   # ${mesh.ossm3.revision}`,
        `${kc(c)} get istiorevision ${mesh.ossm3.revision}`,
        // Server-side apply removes istio-injection only where GitOps alone manages it (gitops-live review B3).
        ...migratedNamespaces(ctx, mesh).map((ns) => injectionManagers(c, ns, 'only the GitOps manager, or nothing')),
        ...(smcpGateways(mesh).length
          ? [
              `${kc(c)} get route -A -l maistra.io/generated-by=ior -o name   # every one is in ossm2/ (the others stay, unmanaged)`,
              ...smcpGateways(mesh).map(
                (g) =>
                  `${kc(c)} get endpoints ${g.name} -n ${g.namespace}   # the SMCP's ${g.name} pods serve; 06 adds ${g.name}${TAKEOVER_SUFFIX}`,
              ),
            ]
          : []),
      ];
    case '07-finalize':
      return [
        `${ictl(mesh)} proxy-status   # every proxy is served by istiod-${mesh.ossm3.revision}`,
        // Argo CD skips hooks on partial and self-heal syncs: the 06 restart must really have run.
        `${kc(c)} get deploy,sts,ds -A -o jsonpath='{range .items[*]}{.metadata.namespace}/{.metadata.name} ` +
          `{.spec.template.metadata.annotations.meshfed\\.dev/restarted-for-revision}{"\\n"}{end}'   ` +
          `# ${mesh.ossm3.revision} on every migrated workload`,
        `${kc(c)} get csv -A | grep servicemeshoperator   ` +
          '# Succeeded: the OSSM 2 operator must run while the SMCP is deleted (its finalizer prunes cluster-wide)',
        ...takenOver(mesh).map(
          (g) =>
            `${ictl(mesh)} proxy-status -n ${g.namespace} | grep ${g.name}${TAKEOVER_SUFFIX}   ` +
            `# the new gateway pods are served by istiod-${mesh.ossm3.revision}; the 07 Job hands ${g.name} over`,
        ),
      ];
  }
}

function verification(phase: MigrationPhase, mesh: Mesh, ctx: ModelIndex): string[] {
  const c = mesh.cluster;
  const cp = mesh.controlPlane;
  const imports = ctx.importsInto(c);
  switch (phase) {
    case '00-federation':
    case '01-prepare':
      return [
        `${kc(c)} get smcp ${cp.name} -n ${cp.namespace}   # READY again after the istiod restart`,
        ...ctx
          .linksOf(c)
          .map((l) => `${kc(c)} get servicemeshpeer ${l.peer.name} -n ${cp.namespace} -o jsonpath='{.status.discoveryStatus}'`),
        ...trafficChecks(mesh, imports),
      ];
    case '02-export':
      return ctx.isExporter(c)
        ? [
            `${kc(c)} get gateway ${mesh.eastWest.name} -n ${mesh.eastWest.namespace}   # PROGRAMMED True`,
            `${kc(c)} get svc ${mesh.eastWest.name}-istio -n ${mesh.eastWest.namespace}   # EXTERNAL-IP: set it as spec.eastWestGateway.address`,
            `${kc(c)} get gateway.networking.istio.io ${EXPOSE_GATEWAY_NAME} -n ${mesh.eastWest.namespace} -o jsonpath='{.spec.servers[0].hosts}'`,
          ]
        : [];
    case '03-import':
      return [
        ...(usesEgress(ctx, mesh)
          ? [`${kc(c)} get gateway ${mesh.egress!.name} -n ${mesh.egress!.namespace}   # egress gateway, PROGRAMMED True`]
          : []),
        ...ctx
          .exportersFor(c)
          .map((e) => `${kc(c)} get gateway ${remoteGatewayName(e)} -n ${mesh.importNamespace}   # istio-remote, PROGRAMMED True`),
        ...trafficChecks(mesh, imports),
      ];
    case '04-remove-federation':
      return [
        `${kc(c)} get servicemeshpeer,exportedserviceset,importedserviceset -n ${cp.namespace}   # No resources found`,
        ...trafficChecks(mesh, imports),
      ];
    case '05-install-ossm3':
      return [
        `${kc(c)} get istio,istiocni   # READY True`,
        `${kc(c)} get pods -n ${mesh.ossm3.namespace} -l istio.io/rev=${mesh.ossm3.revision}`,
      ];
    case '06-migrate-workloads':
      return [
        `${ictl(mesh)} proxy-status | grep ${mesh.ossm3.revision}`,
        ...migratedNamespaces(ctx, mesh).map((ns) => `${kc(c)} get ns ${ns} -L istio.io/rev,istio-injection`),
        ...trafficChecks(mesh, imports),
      ];
    case '07-finalize':
      return [
        `${kc(c)} get smcp -A   # No resources found`,
        `${kc(c)} get all,cm,secret,sa,netpol,role,rolebinding,route,hpa,pdb -A -l maistra.io/owner-name=${cp.name}   # No resources found`,
        `${kc(c)} get peerauthentication,destinationrule,envoyfilter,gateway.networking.istio.io,serviceentry -A ` +
          `-l maistra.io/owner-name=${cp.name}   # No resources found`,
        `${kc(c)} get clusterrole,clusterrolebinding,mutatingwebhookconfiguration,validatingwebhookconfiguration ` +
          `-l maistra.io/owner-name=${cp.name}   # No resources found: only then remove the OSSM 2 operator`,
        `${kc(c)} get peerauthentication ${MESH_MTLS_NAME} -n ${mesh.ossm3.namespace} -o jsonpath='{.spec.mtls.mode}'   ` +
          `# ${smcpPosture(mesh).mtls}, as the SMCP had it`,
        ...(rendersNetworkPolicies(mesh)
          ? isolatedNamespaces(mesh).map((ns) => `${kc(c)} get netpol meshfed-mesh -n ${ns}   # the isolation Maistra gave, kept`)
          : []),
        ...trafficChecks(mesh, imports),
      ];
  }
}

function rollback(phase: MigrationPhase, p: PhasePlan): string {
  if (phase === '00-federation')
    return (
      'Rolling back means taking the delivery away. Argo CD: delete the Application; it has no resources ' +
      'finalizer, so the mesh keeps running unmanaged. Flux: the Kustomization has a finalizer, but ' +
      "meshfed's phase Kustomization sets `deletionPolicy: Orphan`, so deleting it leaves everything it " +
      'applied; the import Kustomizations (from 03) garbage-collect their imports. Namespaces that existed ' +
      'before meshfed are never pruned or deleted by either tool.'
    );
  const prev = PHASES[PHASES.indexOf(phase) - 1];
  const parts = [`Set \`spec.phase: ${prev}\`, synth, commit.`];
  // Jobs are hooks (deleted by their hook policy); Namespaces that existed before meshfed are never pruned.
  const kept = (a: Resource) => (a.type === 'namespace' && a.keep === true) || (a.type === 'adopted' && a.ref.kind === 'Namespace');
  const pruned = p.adds.filter((a) => a.ref.kind !== 'Job' && !kept(a));
  if (pruned.length)
    parts.push(
      `Prune deletes what this phase added: ${list(
        pruned.map((a) => refName(a.ref)),
        8,
      )}.`,
    );
  if (p.deletes.length) parts.push(`What it deleted is created again: ${list(p.deletes.map(refName), 8)}.`);
  if (p.patches.length) parts.push(`Its patches are reverted (${list(uniq(p.patches.map((x) => refName(x.target))), 6)}).`);
  if (phase === '04-remove-federation')
    parts.push(
      'The federation comes back: peers reconnect and the federation gateways are redeployed; until they are, only the new path carries traffic.',
    );
  if (phase === '06-migrate-workloads')
    parts.push('Workloads keep their OSSM 3 sidecars until they restart: restart them after the rollback (`kubectl rollout restart`).');
  if (phase === '06-migrate-workloads' && p.adds.some((r) => r.type === 'gatewayDeployment'))
    parts.push("The SMCP's gateway pods never stopped and serve alone again; IOR comes back on (the Routes it made keep their names).");
  if (phase === '07-finalize') parts.push('This re-creates the OSSM 2 control plane from scratch; only roll back if you must.');
  return parts.join(' ');
}

const CAVEATS: Partial<Record<MigrationPhase, string[]>> = {
  '01-prepare': [
    'With trustDomainAliases, an AuthorizationPolicy that admits `<peer td>/ns/foo/sa/bar` also ' +
      'admits `<own td>/ns/foo/sa/bar`: meshes are indistinguishable by identity where namespace ' +
      'and service account names coincide.',
  ],
  '02-export': [
    'An exposed hostname is reachable by every mesh that can reach the east-west gateway and is ' +
      'trusted, not only by the peers it was exported to: restrict with AuthorizationPolicies if ' +
      'that matters.',
  ],
  '03-import': [
    'A client pod created outside the restart Job (after the dumps) and before 01 reconciled has no ' +
      'network and gets no endpoint for the imports: restart it (`kubectl rollout restart`); ' +
      '`proxy-config endpoints` shows the symptom.',
    'On the new path exported services see the real client identity ' +
      "(`<td>/ns/<client-ns>/sa/<sa>`), no longer the federation ingress gateway's: review " +
      'AuthorizationPolicies that admitted the gateway before 04 removes it.',
  ],
  '06-migrate-workloads': [
    'Workloads that the restart Job does not know (created after the dumps) keep their OSSM 2 ' +
      'sidecar until restarted: `istioctl proxy-status` shows them.',
  ],
};

function phaseSection(phase: MigrationPhase, plan: Plan, model: FederationModel, ctx: ModelIndex): string[] {
  const out = [`## ${phase} — ${TITLES[phase]}`, '', WHAT[phase], ''];
  out.push('| cluster | adds | patches | deletes | written |', '| --- | --- | --- | --- | --- |');
  for (const c of plan.local) {
    const p = plan.byCluster[c][PHASES.indexOf(phase)];
    const patched = uniq(p.patches.map((x) => refName(x.target)));
    const adds = `${p.adds.length}: ${list(
      p.adds.map((a) => refName(a.ref)),
      6,
    )}`;
    const deletes = `${p.deletes.length}: ${list(p.deletes.map(refName), 4)}`;
    const written = p.blockedBy.length ? 'no — ' + p.blockedBy.join(' ') : 'yes';
    out.push(`| ${c} | ${adds} | ${patched.length}: ${list(patched, 4)} | ${deletes} | ${written} |`);
  }
  out.push('');
  const gates = plan.local.flatMap((c) =>
    plan.byCluster[c][PHASES.indexOf(phase)].waitsFor.map(
      (g) => `- **${c}** waits for **${g.cluster}** at \`${g.phase}\` or later: ${c} ${g.reason}.`,
    ),
  );
  out.push(
    '**Gate.** ' + (gates.length ? 'Synth refuses a `spec.phase` that breaks these:' : "Only the cluster's own previous phase."),
    ...gates,
    '',
  );
  for (const [title, fn] of [
    ['Pre-flight', preflight],
    ['Verify', verification],
  ] as const) {
    const blocks = model.meshes
      .filter((m) => !m.virtual)
      .map((m) => ({ c: m.cluster, cmds: fn(phase, m, ctx) }))
      .filter((b) => b.cmds.length);
    if (blocks.length === 0) continue;
    out.push(`**${title}.**`, '', '```sh');
    for (const b of blocks) out.push(`# ${b.c}`, ...b.cmds);
    out.push('```', '');
  }
  const probes = model.meshes.filter((m) => m.settings.verify.length && PHASES.indexOf(phase) >= PHASES.indexOf('03-import'));
  if (probes.length)
    out.push(
      `The verify Job (Argo CD PostSync hook) runs the probes of ` +
        `${probes.map((m) => m.cluster).join(', ')} after the sync: "Healthy" means traffic ` +
        `verified.`,
      '',
    );
  out.push('**Rollback.**', '');
  for (const c of plan.local) out.push(`- ${c}: ${rollback(phase, plan.byCluster[c][PHASES.indexOf(phase)])}`);
  out.push('');
  const caveats = CAVEATS[phase] ?? [];
  if (caveats.length) out.push('**Caveats.**', '', ...caveats.map((x) => `- ${x}`), '');
  return out;
}

const short = (v: unknown) => {
  const j = JSON.stringify(v);
  return j.length > 48 ? `${j.slice(0, 45)}…` : j;
};

/**
 * What becomes of each cluster's SMCP settings (docs/control-plane.md): the carried, replaced and lost
 * ones; the dropped ones (switched off, images, Maistra-only) are in plan.json.
 */
function controlPlaneSection(plan: Plan): string[] {
  const out: string[] = [];
  for (const c of plan.local) {
    const fates = (plan.settings[c] ?? []).filter((f) => f.fate !== 'dropped');
    if (fates.length === 0) continue;
    if (out.length === 0)
      out.push(
        '## The control plane',
        '',
        'Every SMCP setting and its fate (docs/control-plane.md); `default` = not in the dump, what the SMCP ' +
          'runs with anyway. The dropped ones are in `dist/plan.json`.',
        '',
      );
    out.push(`**${c}**`, '', '| setting | value | fate | OSSM 3 |', '| --- | --- | --- | --- |');
    for (const f of fates)
      out.push(
        `| \`${f.path}\`${f.source === 'default' ? ' (default)' : ''} | \`${short(f.value).replace(/\|/g, '\\|')}\` | ` +
          `${f.fate} | ${f.target ?? f.why.replace(/\|/g, '\\|')} |`,
      );
    out.push('');
  }
  return out;
}

export function renderRunbook(model: FederationModel, plan: Plan): string {
  const ctx = ModelIndex.of(model);
  const out: string[] = [
    '# Federation migration runbook',
    '',
    '_Generated by meshfed from `clusters/`; do not edit. Commands use `kubectl --context <cluster>`._',
    '',
  ];
  out.push('## Where each cluster is', '', '| cluster | current phase | next phase | blocked by |', '| --- | --- | --- | --- |');
  for (const s of nextSteps(plan))
    out.push(
      `| ${s.cluster} | \`${s.current}\` | ${s.next ? `\`${s.next}\`` : 'done'} | ` +
        `${s.blockedBy.length ? s.blockedBy.join('<br/>') : s.next ? 'ready' : '—'} |`,
    );
  out.push(
    '',
    'To move a cluster on: set `spec.phase` in `clusters/<cluster>/cluster.yaml`, run `npm run ' +
      'synth`, review `git diff dist/`, merge. `npm run plan` prints this table.',
    '',
  );
  out.push('## The federation', '', ...diagram(model, ctx), '');
  if (model.imports.length <= MAX_ARROWS) {
    out.push('| importer | hostname | exporter service | exporter |', '| --- | --- | --- | --- |');
    for (const i of model.imports)
      out.push(`| ${i.importer} | \`${i.hostname}\` | \`${i.export.service.namespace}/${i.export.service.name}\` | ${i.exporter} |`);
  } else {
    out.push(
      `${model.imports.length} imports; every hostname is listed in \`dist/plan.json\` and in the importers' \`imports/<exporter>/\` folders.`,
      '',
      '| importer | exporter | services | e.g. |',
      '| --- | --- | --- | --- |',
    );
    for (const p of importPairs(model)) out.push(`| ${p.importer} | ${p.exporter} | ${p.count} | \`${p.hostnames[0]}\` |`);
  }
  out.push('', '## Ordering rules', '', ...ORDERING_RULES.map((r) => `- ${r}`), '');
  out.push(...controlPlaneSection(plan));
  for (const phase of PHASES) out.push(...phaseSection(phase, plan, model, ctx));
  return out.join('\n').replace(/\n{3,}/g, '\n\n') + '\n';
}

/** The gate of a cluster's next phase in one line. */
function gateLine(blockedBy: string[], gates: string[]): string {
  if (blockedBy.length) return `blocked: ${blockedBy.join('; ')}`;
  return gates.length ? `${gates.join(', ')} (synth refuses the pointer otherwise).` : "only this cluster's own previous phase.";
}

/** What says "stop, do not go on" after a phase's sync, whatever the phase. */
const ABORT = [
  'the Application (or Kustomization) is not Synced and Healthy within 15 minutes;',
  'a meshfed Job (restart, verify, hand-over) failed: `kubectl logs job/<name>` says which step;',
  'any verification command above does not print what its comment expects;',
  'client error rates rise (your dashboards), or `istioctl proxy-status` shows proxies STALE or NOT SENT.',
];

/**
 * dist/<cluster>/RUNBOOK.md: one cluster at 3 a.m. — where it is, the next step with every command
 * concrete, its gate in one line, what to verify, when to abort, and a rollback decision table. The
 * federation-wide dist/README.md stays the overview.
 */
export function renderClusterRunbook(model: FederationModel, plan: Plan, cluster: string): string {
  const ctx = ModelIndex.of(model);
  const mesh = ctx.mesh(cluster);
  const step = nextSteps(plan).find((s) => s.cluster === cluster)!;
  const current = step.current as MigrationPhase;
  const next = step.next as MigrationPhase | undefined;
  const out: string[] = [
    `# ${cluster} — runbook`,
    '',
    '_Generated by meshfed; the whole federation, its diagram and every phase: [../README.md](../README.md)._',
    '',
    `**Where it is.** \`spec.phase: ${current}\` (${TITLES[current]}); GitOps applies \`dist/${cluster}/${current}\`.`,
    '',
  ];
  if (!next) {
    out.push('**Next.** Nothing: the migration is complete. OSSM 3 runs alone.', '');
    out.push('**Verify.**', '', '```sh', ...verification(current, mesh, ctx), '```', '');
    return out.join('\n').replace(/\n{3,}/g, '\n\n') + '\n';
  }
  const p = plan.byCluster[cluster][PHASES.indexOf(next)];
  const gates = p.waitsFor.map((g) => `${g.cluster} at \`${g.phase}\` or later`);
  out.push(
    `**Next.** \`${next}\` — ${TITLES[next]}. ${WHAT[next]}`,
    '',
    `**Gate.** ${gateLine(step.blockedBy, gates)}`,
    '',
    '**Pre-flight** (all must hold before you merge):',
    '',
    '```sh',
    ...preflight(next, mesh, ctx),
    '```',
    '',
    '**Move.**',
    '',
    '```sh',
    `# in clusters/${cluster}/cluster.yaml: spec.phase: ${next}`,
    'npm run synth && git diff --stat dist/',
    `git add clusters/${cluster} dist && git commit -m "${cluster}: ${next}"   # then merge; GitOps syncs it`,
    '```',
    '',
    '**Verify** (after the sync is Healthy):',
    '',
    '```sh',
    ...verification(next, mesh, ctx),
    '```',
    '',
    '**Abort** — stop and roll back when:',
    '',
    ...ABORT.map((a) => `- ${a}`),
    '',
    '**Rollback decision table.**',
    '',
    '| what you see | do |',
    '| --- | --- |',
    `| the sync failed, nothing new runs | fix the cause named in the sync status; sync again |`,
    `| a Job failed, the rest synced | read its log; re-run it by syncing again (its name changes only with what it does) |`,
    `| verification or traffic fails | ${rollback(next, p).replace(/\|/g, '\\|')} |`,
    `| a peer cluster is affected | roll this cluster back first, then check the peer's own runbook (\`../<peer>/RUNBOOK.md\`) |`,
    '',
  );
  return out.join('\n').replace(/\n{3,}/g, '\n\n') + '\n';
}
