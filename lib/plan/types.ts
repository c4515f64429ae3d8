import type { Diagnostics } from '../diagnostics';
import { JsonObject } from '../json';
import type { ModelIndex } from '../model/model-index';
import type { Mesh } from '../model/types';
import { PortSpec } from '../model/types';
import { MigrationPhase, PhaseId } from '../phases';
import type { SettingFate } from './smcp-settings';

export { GREENFIELD_PHASES, PHASES, phaseIndex } from '../phases';
export type { MigrationPhase, PhaseId } from '../phases';

export interface ObjectRef {
  readonly apiVersion: string;
  readonly kind: string;
  readonly name: string;
  readonly namespace?: string;
}

/** The API group of an apiVersion (`core` for v1). */
export function apiGroup(apiVersion: string): string {
  const slash = apiVersion.indexOf('/');
  return slash < 0 ? 'core' : apiVersion.slice(0, slash);
}

/** Identity of an object within a cluster's desired state: group, kind, namespace, name. */
export function refKey(r: ObjectRef): string {
  return `${apiGroup(r.apiVersion)}/${r.kind}/${r.namespace ?? ''}/${r.name}`;
}

/** The object whose file a resource is written to: itself, or the object the plan groups it with. */
export function fileAnchor(r: Resource): ObjectRef {
  return 'fileOf' in r && r.fileOf ? r.fileOf : r.ref;
}

/**
 * Stable, unique file name for an object inside a phase folder: one folder per namespace ("cluster" for
 * cluster-scoped objects), then `<kind>.<group>_<name>.yaml`. Used for the JSON patches (one file per
 * target, as kustomize needs a `target` for each); objects and merge patches go to namespaceFile.
 */
export function objectPath(r: ObjectRef, suffix = ''): string {
  return `${r.namespace ?? 'cluster'}/${r.kind.toLowerCase()}.${apiGroup(r.apiVersion)}_${r.name}${suffix}.yaml`;
}

/**
 * The file a folder's objects of one namespace are written to: `<namespace>.yaml`, `_cluster.yaml` for
 * cluster-scoped objects. Namespaces are DNS labels, so `_cluster` and `kustomization_` (the one name
 * that would clash with the folder's kustomization.yaml) never collide with one. A few files of a few
 * hundred objects each instead of one per object: creating a small file costs as much as writing tens of
 * kilobytes (docs/benchmarks.md); a one-object change stays a hunk in one file.
 */
export function namespaceFile(namespace: string | undefined): string {
  if (namespace === undefined) return '_cluster.yaml';
  return namespace === 'kustomization' ? 'kustomization_.yaml' : `${namespace}.yaml`;
}

export function refId(r: ObjectRef): string {
  return `${r.kind}/${r.namespace ? `${r.namespace}/` : ''}${r.name} (${r.apiVersion})`;
}

/*
 * The fields of each planned object are declared once, here: the plan's Resource member is
 * `{ type, ref, <plan-only fields> } & <Kind>Fields`, and the construct's props extend the same
 * `<Kind>Fields` (plus the name and namespace it takes from `ref`). lib/constructs/phase-chart.ts hands
 * every field to the construct, so a field added to `<Kind>Fields` reaches the construct or fails to
 * compile there. Plan-only fields (which clusters an entry stands for, which file it is written to) are
 * read by the planners, the checks and the writer, never by constructs.
 */

export interface AdoptedFields {
  /** The dumped object without server-side noise (lib/load/strip.ts). */
  readonly body: JsonObject;
}

export interface NamespaceFields {
  /** @default - none */
  readonly labels?: Record<string, string>;
  /**
   * The annotations a declared Namespace already has (a greenfield inventory's, e.g. openshift.io/display-name),
   * rendered as they are: the keep annotations are added to them. @default - none
   */
  readonly annotations?: Record<string, string>;
  /**
   * The namespace existed before meshfed (dumped, or the control plane's): GitOps must never prune or
   * delete it (lib/plan/namespaces.ts). @default false
   */
  readonly keep?: boolean;
}

export interface EastWestGatewayFields {
  /** The exporter's own network. */
  readonly network: string;
  /** @default LoadBalancer */
  readonly serviceType?: 'LoadBalancer' | 'NodePort' | 'ClusterIP';
  /** Annotations for the generated Service. @default - none */
  readonly annotations?: Record<string, string>;
}

export interface ExposedServicesFields {
  /** The east-west gateway's pods (lib/plan/gateway-pods.ts: the label depends on who deployed them). */
  readonly selector: Record<string, string>;
  /** Exactly the hostnames importers use; nothing else is exposed. */
  readonly hosts: string[];
}

export interface ExporterServiceEntryFields {
  /** The hostname an importer uses, which is not the service's own FQDN. */
  readonly host: string;
  readonly ports: PortSpec[];
  /** The service's pod selector. */
  readonly podSelector: Record<string, string>;
  /**
   * The workload's namespace and the east-west gateway's: the gateway must see the entry to route the
   * hostname (AUTO_PASSTHROUGH), and nobody else needs it.
   */
  readonly exportTo: string[];
}

export interface RemoteGatewayFields {
  /** The network name the importer gives the exporter's gateway; WorkloadEntries name the same network. */
  readonly network: string;
  /** The exporter's east-west gateway addresses: IPs, or DNS names (then `type: Hostname`). */
  readonly addresses: string[];
  /** Where the exporter's gateway listens for peers: 15443, or its node port. */
  readonly port: number;
}

export interface EgressGatewayFields {
  /**
   * kubernetes: TLSRoutes attach to a TLS Passthrough listener. openshift: the listener matches no
   * hostname and an Istio Gateway on the same pods carries the routes (no TLSRoute on OCP 4.19+).
   */
  readonly platform: 'openshift' | 'kubernetes';
}

export interface EgressPassthroughGatewayFields {
  /** The egress gateway's pods (lib/plan/gateway-pods.ts). */
  readonly selector: Record<string, string>;
  /** `*.<imported host>` for every imported hostname: the SNI sidecars send. */
  readonly sniHosts: string[];
}

export interface EgressBackendFields {
  /** openshift (a ServiceEntry): a name only the egress gateway's routes use; never resolved by DNS. */
  readonly host?: string;
  /** IPs or DNS names of the peer's east-west gateway (kubernetes: carried by the EndpointSlices). */
  readonly addresses: string[];
  /** Where the peer's east-west gateway listens: 15443, or its node port. */
  readonly port: number;
}

export interface EgressEndpointSliceFields {
  /** The headless Service these endpoints belong to. */
  readonly service: string;
  readonly addressType: 'IPv4' | 'IPv6';
  readonly addresses: string[];
  readonly port: number;
}

export interface EgressRouteFields {
  /** The imported hostname; sidecars send SNI `outbound_.<port>_._.<host>`, matched as `*.<host>`. */
  readonly host: string;
  /** The Gateway the route attaches to (kubernetes: the egress Gateway; openshift: its passthrough Istio Gateway). */
  readonly gatewayName: string;
  /** The backends of the peers exporting the host: a Service `name` (kubernetes) or a ServiceEntry `host` (openshift). */
  readonly backends: { readonly exporter: string; readonly name: string; readonly host?: string }[];
}

export interface ImportServiceEntryFields {
  /** The hostname clients in the importing mesh use. */
  readonly host: string;
  /** The exporter's port names, numbers and protocols (no targetPort: the gateway routes by SNI). */
  readonly ports: PortSpec[];
  /** The exporter's real SPIFFE identities: mTLS is end to end now. */
  readonly subjectAltNames: string[];
  readonly exportTo: string[];
  /** Labels of the WorkloadEntries that carry its endpoints. */
  readonly selector: Record<string, string>;
  /** The selector also matches the importer's own pods (shared hostname): ports keep the local targetPort. @default false */
  readonly localPods?: boolean;
}

export interface ImportWorkloadEntryFields {
  /** Selector labels plus `security.istio.io/tlsMode: istio` (without it the endpoint is dropped cross-network). */
  readonly labels: Record<string, string>;
  /** Equals the istio-remote Gateway's network label: istiod puts that gateway's address here. */
  readonly network: string;
  /** `region/zone/subzone` from the ImportedServiceSet. @default - none */
  readonly locality?: string;
  /** Identity the endpoint presents, when a Kubernetes Service selects this entry. @default - none */
  readonly serviceAccount?: string;
  /**
   * When a Kubernetes Service with a named targetPort selects this entry: that name → the port number. istiod skips a
   * WorkloadEntry whose ports lack the name. @default - none
   */
  readonly ports?: Record<string, number>;
}

export interface IstioCniFields {
  readonly version: string;
  readonly namespace: string;
}

export interface IstioFields {
  readonly version: string;
  readonly namespace: string;
  readonly trustDomain: string;
  readonly trustDomainAliases: string[];
  /** Peers' roots: PEM text, the cluster it comes from, and (trust mode trustDomains) the trust domains it is scoped to. */
  readonly caCertificates: { readonly cluster: string; readonly pem: string; readonly trustDomains?: string[] }[];
  readonly network: string;
  /** @default - not set */
  readonly accessLogFile?: string;
  readonly pilotEnv: Record<string, string>;
  /** Proxies resolve hostnames cluster DNS does not know (imported names) through istiod (ISTIO_META_DNS_CAPTURE). */
  readonly dnsCapture: boolean;
  /**
   * A MultiTenant SMCP's istiod: the namespaces it discovers, by name (meshConfig.discoverySelectors on
   * kubernetes.io/metadata.name; lib/plan/revision.ts discoveryNamespaces). @default - every namespace
   */
  readonly discoveryNamespaces?: string[];
  /**
   * The SMCP's settings carried to spec.values (lib/plan/smcp-settings.ts); meshfed's own values above
   * are merged over them (lib/plan/istio-values.ts).
   */
  readonly carried: JsonObject;
}

export interface GatewayPortSpec {
  readonly name?: string;
  readonly containerPort: number;
  readonly protocol: string;
}

export interface GatewayDeploymentFields {
  readonly serviceAccount: ObjectRef;
  /** The labels the SMCP gateway's Service selects, meshfed's own, the revision and the inject label. */
  readonly podLabels: Record<string, string>;
  /** This Deployment's selector: a label only its pods carry (the SMCP's Deployment selects the Service's labels too). */
  readonly selectorLabels: Record<string, string>;
  readonly ports: GatewayPortSpec[];
  /** @default - the autoscaler decides */
  readonly replicas?: number;
  /** resources (of istio-proxy), affinity, tolerations, nodeSelector, priorityClassName. */
  readonly pod: JsonObject;
  /**
   * The SMCP gateway's own volumes (its secretVolumes, configVolumes and `volumes:`: file-mounted certificates)
   * and where istio-proxy mounts them. @default - none
   */
  readonly volumes?: GatewayVolume[];
}

/** A volume of the SMCP gateway that meshfed's gateway pods mount too: the pod volume and its istio-proxy mount. */
export interface GatewayVolume {
  /** The pod `volumes[]` entry (a Secret or ConfigMap source), as the SMCP's pods have it. */
  readonly volume: JsonObject;
  /** The istio-proxy `volumeMounts[]` entry, when the container mounts it. */
  readonly mount?: JsonObject;
}

export interface GatewayAutoscalerFields {
  readonly min: number;
  readonly max: number;
  /** Target average CPU utilization, percent. */
  readonly cpu: number;
}

export interface HandoverTarget {
  readonly namespace: string;
  readonly deployment: string;
  readonly service: string;
  readonly routes: string[];
  /** The SMCP gateway's ServiceAccount, which meshfed's gateway pods run as (their SPIFFE identity). */
  readonly serviceAccount: string;
  /** The SMCP's PodDisruptionBudget of the gateway, when the SMCP renders one. @default - none */
  readonly disruptionBudget?: string;
}

/**
 * RBAC that only one hook Job uses and that must not outlive it (the 07 hand-over's: it may patch the gateway
 * Services and delete the SMCP): an Argo CD PostSync hook a wave before the Jobs, which Argo CD deletes with the
 * Job once the sync succeeded (hook-delete-policy HookSucceeded). Flux has no hooks: there it stays until a render
 * no longer declares it (the graduated overlay does not).
 */
export interface HookRbacFields {
  /** @default false */
  readonly hook?: boolean;
}

export interface HandoverRoleFields extends HookRbacFields {
  /** Read and watch only: meshfed's gateway Deployments. */
  readonly deployments: string[];
  /** Get and patch only (labels, owner references): the gateway Services (and read their Endpoints). */
  readonly services: string[];
  readonly routes: string[];
  /** Get and patch only (labels, owner references): the gateways' ServiceAccounts. */
  readonly serviceAccounts: string[];
  /** Get and patch only (labels, owner references): the SMCP's PodDisruptionBudgets of the gateways. */
  readonly disruptionBudgets: string[];
  /** In the control plane's namespace: get and delete the SMCP. @default - none */
  readonly smcp?: string;
  /** Read `ServiceMeshMemberRoll default` (when the Job waits for it: HandoverJobFields.waitForMemberRoll). @default false */
  readonly memberRoll?: boolean;
  /** Delete `ServiceMeshMember default` in this namespace (HandoverJobFields.members). @default false */
  readonly member?: boolean;
}

export interface ServiceMeshMemberFields {
  /** The SMCP the namespace stays a member of (a ServiceMeshMember is always named `default`). */
  readonly controlPlane: { readonly name: string; readonly namespace: string };
}

export interface HandoverJobFields {
  readonly serviceAccount: ObjectRef;
  readonly image: string;
  readonly smcp: { readonly name: string; readonly namespace: string };
  readonly targets: HandoverTarget[];
  /**
   * Wait for `ServiceMeshMemberRoll default` to be gone before the SMCP goes (07 prunes a roll the user made).
   * False for a ClusterWide SMCP: Maistra makes that roll itself, owned by the SMCP, and only the SMCP's
   * deletion removes it (garbage collection); Argo CD never prunes an object with owner references.
   */
  readonly waitForMemberRoll: boolean;
  /**
   * Namespaces whose ServiceMeshMember (kept through every rollback: lib/plan/north-south.ts gatewayMemberships)
   * the Job deletes once the SMCP is gone.
   */
  readonly members: readonly string[];
}

export interface KialiFields {
  /** The OSSM 3 revision whose istiod, ConfigMaps and injector Kiali reads. */
  readonly revision: string;
  /** On OpenShift: OAuth login and the monitoring stack's Thanos querier. */
  readonly openshift: boolean;
}

export interface MeshPeerAuthenticationFields {
  /** The mode the SMCP's own PeerAuthentication had: STRICT with security.dataPlane.mtls, else PERMISSIVE. */
  readonly mode: 'STRICT' | 'PERMISSIVE';
}

export interface MeshDestinationRuleFields {
  readonly host: string;
  readonly tlsMode: 'ISTIO_MUTUAL' | 'DISABLE';
}

export interface NetworkPolicyFields {
  /** Pods the policy isolates: labels that must match, and label keys that must exist. */
  readonly podLabels: Record<string, string>;
  readonly podLabelsExist?: string[];
  /** Who may connect: anyone, the named namespaces, or namespaces with these labels. */
  readonly from: 'anywhere' | { readonly namespaces: string[] } | { readonly namespaceLabels: Record<string, string> };
}

export interface RoleBindingFields extends HookRbacFields {
  /** Bound to the Role of the binding's own name, in its namespace. */
  readonly serviceAccount: ObjectRef;
}

export interface RestartRoleFields {
  readonly workloads: WorkloadRef[];
  /** Only read and watch them (no patch): the control plane the Job waits for. @default false */
  readonly readOnly?: boolean;
}

/**
 * Namespace labels the restart Job sets (and removes) itself before restarting anything: server-side
 * apply removes istio-injection only where GitOps alone manages the label (Argo CD before 3.1 takes over no
 * client-side manager, 3.1 only kubectl-client-side-apply: argoproj/argo-cd@37ee009
 * gitops-engine/pkg/sync/sync_context.go:1325-1347), and with both istio-injection and istio.io/rev the
 * OSSM 3 injector skips the namespace (istio-ecosystem/sail-operator@8cde773
 * resources/v1.27.3/charts/istiod/templates/mutatingwebhook.yaml:63-76).
 */
export interface NamespaceRelabel {
  readonly namespaces: string[];
  readonly set: Record<string, string>;
  readonly remove: string[];
  /**
   * Namespaces that only get maistra.io/ignore-namespace (the namespaces of SMCP gateways meshfed takes
   * over that are not migrated otherwise): the 2.6 injector stays out, nothing else changes. @default - none
   */
  readonly ignoreOnly?: string[];
  /**
   * Of `namespaces`, those that keep `istio-injection: disabled` (lib/plan/revision.ts injectionDisabledNamespaces):
   * they get `set`, and nothing is removed. @default - none
   */
  readonly keepInjectionDisabled?: string[];
}

export interface NamespaceRelabelRoleFields {
  /** The only Namespaces it may get and patch. */
  readonly namespaces: string[];
}

export interface ClusterRoleBindingFields {
  readonly serviceAccount: ObjectRef;
  /** The ClusterRole it binds. @default the binding's own name */
  readonly clusterRole?: string;
}

export interface RestartJobFields {
  /** @default - no relabelling */
  readonly relabel?: NamespaceRelabel;
  /** A Deployment to wait for before restarting anything (greenfield: the revision's istiod). @default - none */
  readonly waitFor?: WorkloadRef;
  readonly serviceAccount: ObjectRef;
  /** An image with kubectl. */
  readonly image: string;
  /** The pod-template annotation the Job sets on each workload (lib/plan/restart.ts). */
  readonly annotation: string;
  /** Its value (the revision, or the network): a re-run with the same value changes nothing. */
  readonly value: string;
  readonly workloads: WorkloadRef[];
  /** How many rollouts may be in flight at once (spec.workloadRestart.maxConcurrent). @default - no limit */
  readonly maxConcurrent?: number;
  /** How long each rollout is waited for (spec.workloadRestart.rolloutTimeoutSeconds). @default 600 */
  readonly rolloutTimeoutSeconds?: number;
}

export interface VerifyRoleFields {
  /** The client Deployments the probes exec into. */
  readonly deployments: string[];
}

/** A Job the verify Job waits for before it probes (a workload restart of its phase). */
export interface AwaitedJob {
  readonly name: string;
  readonly namespace: string;
  /** Its activeDeadlineSeconds: by then it has completed or failed. */
  readonly deadlineSeconds: number;
}

export interface VerifyJobFields {
  readonly serviceAccount: ObjectRef;
  readonly image: string;
  readonly phase: PhaseId;
  readonly probes: VerifyProbeSpec[];
  /**
   * The phase's restart Jobs, which the probes wait for: Flux starts every Job of an apply at once
   * (fluxcd/pkg@e2cfd1a ssa/manager_apply.go:347-392), so without the wait the probes would test the pods from
   * before the restart. Under Argo CD the restart has completed a wave earlier and the wait returns at once.
   * @default - none
   */
  readonly after?: readonly AwaitedJob[];
}

export interface VerifyJobsRoleFields {
  /** The Jobs the verify Job may read (`get`), in the Role's namespace. */
  readonly jobs: string[];
}

export interface ExposurePolicyFields {
  /** Pod labels of the exported service. */
  readonly selector: Record<string, string>;
  /** Principals admitted: the exporting mesh and the meshes the service was exported to. */
  readonly principals: string[];
}

export interface CacertsExternalSecretFields {
  readonly storeName: string;
  readonly storeKind: 'SecretStore' | 'ClusterSecretStore';
  /** Remote key whose properties become root-cert.pem, ca-cert.pem, ca-key.pem, cert-chain.pem. */
  readonly key: string;
}

type Planned<T extends string, F> = { readonly type: T; readonly ref: ObjectRef } & F;

/**
 * An object a phase adds. Each variant carries the domain values its construct needs; the YAML shape
 * is decided in lib/constructs.
 */
export type Resource =
  /** An object that runs today, re-rendered from the dumps so GitOps adopts it. */
  | Planned<'adopted', AdoptedFields>
  | Planned<'namespace', NamespaceFields>
  | Planned<'eastWestGateway', EastWestGatewayFields>
  | Planned<'exposedServices', ExposedServicesFields>
  | Planned<'exporterServiceEntry', ExporterServiceEntryFields>
  | Planned<'remoteGateway', RemoteGatewayFields>
  /** The importer's local egress gateway (ClusterIP); its listener depends on the platform's routing objects. */
  | Planned<'egressGateway', EgressGatewayFields>
  /** openshift: Istio Gateway on the egress gateway pods, TLS PASSTHROUGH on 15443 for the imported hosts' SNI. */
  | Planned<'egressPassthroughGateway', EgressPassthroughGatewayFields>
  /**
   * One peer's east-west gateway as the egress gateway's upstream: a headless Service (kubernetes, its
   * endpoints in EndpointSlices) or a ServiceEntry (openshift).
   */
  | Planned<'egressBackend', EgressBackendFields & { readonly exporter: string }>
  | Planned<'egressEndpointSlice', EgressEndpointSliceFields & { readonly fileOf: ObjectRef }>
  /**
   * Routes one imported hostname's SNI (`*.<host>`) from the egress gateway to the backends of the
   * peers exporting it: a TLSRoute (kubernetes) or a VirtualService (openshift).
   */
  | Planned<'egressRoute', EgressRouteFields>
  /** `exporters`: the clusters whose services this entry stands for (sorted). */
  | Planned<'importServiceEntry', ImportServiceEntryFields & { readonly exporters: string[] }>
  /**
   * `exporter`: the cluster whose east-west gateway this entry stands for; `fileOf`: written into that
   * object's file (its ServiceEntry), so one imported service is one file.
   */
  | Planned<'importWorkloadEntry', ImportWorkloadEntryFields & { readonly exporter: string; readonly fileOf?: ObjectRef }>
  | Planned<'istioCni', IstioCniFields>
  | Planned<'istio', IstioFields>
  | Planned<'serviceAccount', HookRbacFields>
  | Planned<'serviceMeshMember', ServiceMeshMemberFields>
  | Planned<'roleBinding', RoleBindingFields>
  /** Allows `get`, `list`, `watch` and `patch` on the named workloads of one namespace (`readOnly`: no `patch`). */
  | Planned<'restartRole', RestartRoleFields>
  | Planned<'restartJob', RestartJobFields>
  /** A ClusterRole that allows only `get` and `patch` on the named Namespaces (the 06 relabel). */
  | Planned<'namespaceRelabelRole', NamespaceRelabelRoleFields>
  | Planned<'clusterRoleBinding', ClusterRoleBindingFields>
  /** Allows `kubectl exec` into the named Deployments of one namespace. */
  | Planned<'verifyRole', VerifyRoleFields>
  | Planned<'verifyJob', VerifyJobFields>
  /** Allows the verify Job to read the named restart Jobs of one namespace (to wait for them). */
  | Planned<'verifyJobsRole', VerifyJobsRoleFields>
  | Planned<'exposurePolicy', ExposurePolicyFields>
  /** The mesh-wide mTLS mode the SMCP set, owned by GitOps from 01 (no operator labels). */
  | Planned<'meshPeerAuthentication', MeshPeerAuthenticationFields>
  /** The DestinationRules an SMCP with security.dataPlane.mtls rendered. */
  | Planned<'meshDestinationRule', MeshDestinationRuleFields>
  /** The isolation Maistra's NetworkPolicies gave, once 01 stops the operator managing them. */
  | Planned<'networkPolicy', NetworkPolicyFields>
  /** Replaces the Prometheus addon for istiod (user-workload monitoring, spec.observability.monitors). */
  | Planned<'istiodServiceMonitor', object>
  /** Replaces the Prometheus addon for the proxies of one namespace. */
  | Planned<'proxiesPodMonitor', object>
  /** Replaces the Kiali addon: a standalone Kiali CR for the OSSM 3 istiod (spec.observability.kiali). */
  | Planned<'kiali', KialiFields>
  /** An SMCP gateway taken over by gateway injection (06), serving beside it from the same Service. */
  | Planned<'gatewayDeployment', GatewayDeploymentFields>
  /** Lets the gateway's proxies read the Secrets of their namespace (SDS). */
  | Planned<'gatewaySecretsRole', object>
  | Planned<'gatewayAutoscaler', GatewayAutoscalerFields>
  /** What the 07 hand-over Job may touch: named Deployments (read), Services and Routes (patch), the SMCP (delete). */
  | Planned<'handoverRole', HandoverRoleFields>
  | Planned<'handoverJob', HandoverJobFields>
  | Planned<'cacertsExternalSecret', CacertsExternalSecretFields>;

/** The fields a construct receives: everything but the discriminant and the ref (its name and namespace go separately). */
export function fieldsOf<R extends Resource>(r: R): Omit<R, 'type' | 'ref'> {
  const { type: _type, ref: _ref, ...fields } = r;
  return fields;
}

export interface VerifyProbeSpec {
  readonly namespace: string;
  readonly deployment: string;
  readonly container: string;
  readonly url: string;
}

export interface WorkloadRef {
  readonly kind: 'Deployment' | 'StatefulSet' | 'DaemonSet';
  readonly namespace: string;
  readonly name: string;
  /** Why a restart Job restarts it (the runbook and `meshfed report` say it). */
  readonly why?: string;
}

export type JsonPatchOp =
  { readonly op: 'remove'; readonly path: string } | { readonly op: 'add' | 'replace'; readonly path: string; readonly value: unknown };

export type Patch =
  /** Strategic-merge patch; on custom resources this is a JSON merge patch (maps merge, lists are replaced whole). */
  | { readonly type: 'merge'; readonly target: ObjectRef; readonly patch: JsonObject; readonly why: string }
  | { readonly type: 'json6902'; readonly target: ObjectRef; readonly ops: JsonPatchOp[]; readonly why: string };

/** Another cluster must be at `phase` (or later) before this phase may be applied. */
export interface Gate {
  readonly cluster: string;
  readonly phase: PhaseId;
  readonly reason: string;
}

/**
 * Imported services a phase adds, delivered in their own folder `dist/<cluster>/imports/<name>/` next
 * to the phase folder (lib/plan/shards.ts): every object in `resources` is also in the phase's `adds`.
 */
export interface ImportShard {
  /** `<exporter>`, or `<exporter>.<bits>` for the folders its imports split into (lib/plan/shards.ts). */
  readonly name: string;
  readonly exporter: string;
  readonly resources: Resource[];
}

/** What one feature gives one phase of a cluster: objects to add, patches, deletes, each in its own order. */
export interface PhaseContribution {
  readonly adds?: readonly Resource[];
  readonly patches?: readonly Patch[];
  readonly deletes?: readonly ObjectRef[];
}

/**
 * One feature's share of a migrating cluster's phases. lib/plan/plan.ts folds the contributions of its
 * FEATURES list, in the list's order, into each PhasePlan's adds, patches and deletes; the gates
 * (waitsFor), blockedBy and the import shards are the plan's own.
 */
export type Contribution = Partial<Record<MigrationPhase, PhaseContribution>>;

/** The one signature of a feature (`export const contribute: Contribute` in its module). Warnings and errors go to diags. */
export type Contribute = (ctx: ModelIndex, mesh: Mesh, diags: Diagnostics) => Contribution;

export interface PhasePlan {
  readonly cluster: string;
  readonly phase: PhaseId;
  /** Every object the phase adds, including those delivered in import shards. */
  readonly adds: Resource[];
  /** The imports among `adds`, which live in dist/<cluster>/imports/ instead of the phase folder. */
  readonly shards: ImportShard[];
  readonly patches: Patch[];
  readonly deletes: ObjectRef[];
  readonly waitsFor: Gate[];
  /** When set, the phase needs something unknown and is not written; each entry says what to set. */
  readonly blockedBy: string[];
}

export interface Plan {
  /** Every modelled cluster, including those described by peer bundles. */
  readonly clusters: string[];
  /** The clusters rendered here (cluster folders, not peer bundles). */
  readonly local: string[];
  readonly phases: readonly PhaseId[];
  /** The phase GitOps applies to each cluster now (settings spec.phase). */
  readonly pointers: Record<string, PhaseId>;
  /** phases[cluster] is in PHASES order. */
  readonly byCluster: Record<string, PhasePlan[]>;
  /** Each local migrating cluster's SMCP settings and their fate (lib/plan/smcp-settings.ts); none for greenfield. */
  readonly settings: Record<string, SettingFate[]>;
}
