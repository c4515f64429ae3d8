import { MigrationPhase } from '../../plan/types';

// What the runbooks say about each phase: its title, what it does, and its caveats.

export const TITLES: Record<MigrationPhase, string> = {
  '00-federation': 'Adopt the running OSSM 2 federation',
  '01-prepare': 'Prepare the OSSM 2.6 control planes',
  '02-export': 'Export services through east-west gateways',
  '03-import': 'Import services through istio-remote gateways',
  '04-remove-federation': 'Remove the OSSM 2 federation',
  '05-install-ossm3': 'Install the OSSM 3 control planes',
  '06-migrate-workloads': 'Move workloads and gateways to OSSM 3',
  '07-finalize': 'Remove the OSSM 2 control planes',
};

export const WHAT: Record<MigrationPhase, string> = {
  '00-federation':
    'GitOps adopts what runs today: the ServiceMeshControlPlane, the member roll where one was dumped (a ClusterWide ' +
    "SMCP's own roll stays the operator's), ServiceMeshPeers, export/import sets, the peers' CA ConfigMaps and the " +
    'member Namespaces. Nothing changes in the mesh.',
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
    'The ImportedServiceSets and ExportedServiceSets go: traffic uses only the new path. The ' +
    'ServiceMeshPeers, their CA ConfigMaps and the federation gateways stay, idle, until 07: Maistra gives ' +
    'OSSM 2 proxies the peer roots only while they exist, and a rollback finds the federation where it was.',
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

export const CAVEATS: Partial<Record<MigrationPhase, string[]>> = {
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
