import { JsonObject } from '../json';
import { NetworkPolicy } from '../netpol';
import { SourceObject } from './yaml-source';

/** Typed values read from one cluster's ossm2/ dumps. `rendered` is the object without server-side noise. */

export interface Dumped {
  readonly source: SourceObject;
  readonly rendered: JsonObject;
}

export type ControlPlaneMode = 'MultiTenant' | 'ClusterWide';

export interface ControlPlane extends Dumped {
  readonly name: string;
  readonly namespace: string;
  readonly apiVersion: string;
  /** spec.version, e.g. "v2.6". */
  readonly version: string;
  readonly mode: ControlPlaneMode;
  /** spec.security.trust.domain (default cluster.local). */
  readonly trustDomain: string;
  /** spec.techPreview.meshConfig.trustDomainAliases as they are today. */
  readonly trustDomainAliases: string[];
  /** Keys of spec.gateways.additionalIngress / additionalEgress. */
  readonly additionalIngress: string[];
  readonly additionalEgress: string[];
  /** spec.proxy.accessLogging.file.name, carried to OSSM 3 meshConfig.accessLogFile. */
  readonly accessLogFile?: string;
  /** spec.runtime.components.pilot.container.env. */
  readonly pilotEnv: Record<string, string>;
  /**
   * The settings the SMCP runs with: status.appliedSpec (spec with its profiles merged, maistra/
   * istio-operator maistra-2.5 pkg/controller/versions/strategy_v2_5.go:391,546-547) when the dump has
   * it, spec otherwise. Chart defaults are in neither (lib/plan/smcp-settings.ts adds them).
   */
  readonly effective: JsonObject;
  readonly effectiveFrom: 'status.appliedSpec' | 'spec';
}

export interface LabelSelectorRequirement {
  readonly key: string;
  readonly operator: string;
  readonly values: string[];
}

export interface LabelSelector {
  readonly matchLabels: Record<string, string>;
  readonly matchExpressions: LabelSelectorRequirement[];
}

export interface MemberRoll extends Dumped {
  readonly name: string;
  readonly namespace: string;
  readonly members: string[];
  readonly memberSelectors: LabelSelector[];
  /** status.configuredMembers: the member namespaces that exist and Maistra configured, when dumped. */
  readonly configuredMembers?: string[];
}

export interface Member extends Dumped {
  readonly namespace: string;
  readonly controlPlaneName: string;
  readonly controlPlaneNamespace: string;
}

export interface Peer extends Dumped {
  readonly name: string;
  readonly namespace: string;
  readonly addresses: string[];
  readonly discoveryPort: number;
  readonly servicePort: number;
  readonly ingressGateway: string;
  readonly egressGateway: string;
  readonly trustDomain: string;
  readonly clientID?: string;
  /** ConfigMap holding the peer's root (spec.security.certificateChain.name, default <peer>-ca-root-cert). */
  readonly caConfigMap: string;
}

/** A NameSelector-style mapping: match on namespace/name ("" or "*" = any), then apply the alias. */
export interface NameMapping {
  readonly namespace: string;
  readonly name: string;
  readonly alias?: { readonly namespace: string; readonly name: string };
}

export interface ExportRule {
  readonly index: number;
  readonly type: string;
  readonly nameSelector?: NameMapping;
  readonly labelSelector?: { readonly namespace: string; readonly selector: LabelSelector; readonly aliases: NameMapping[] };
}

export interface ImportRule {
  readonly index: number;
  readonly type: string;
  readonly nameSelector?: NameMapping;
  readonly importAsLocal: boolean;
  readonly domainSuffix?: string;
}

export interface StatusEntry {
  readonly exportedName: string;
  readonly localService: { readonly hostname: string; readonly name: string; readonly namespace: string };
}

export interface ExportSet extends Dumped {
  readonly name: string;
  readonly namespace: string;
  readonly rules: ExportRule[];
  /** status.exportedServices as the live mesh reported it, when the dump carries it. */
  readonly status?: StatusEntry[];
}

export interface Locality {
  readonly region?: string;
  readonly zone?: string;
  readonly subzone?: string;
}

export interface ImportSet extends Dumped {
  readonly name: string;
  readonly namespace: string;
  readonly rules: ImportRule[];
  readonly domainSuffix?: string;
  readonly locality?: Locality;
  readonly status?: StatusEntry[];
}

export interface ConfigMapObj extends Dumped {
  readonly name: string;
  readonly namespace: string;
  readonly data: Record<string, string>;
}

export interface NamespaceObj extends Dumped {
  readonly name: string;
  readonly labels: Record<string, string>;
}

export interface ServicePort {
  readonly name?: string;
  readonly port: number;
  readonly targetPort?: number | string;
  readonly protocol: string;
  readonly appProtocol?: string;
}

export interface ServiceObj {
  readonly source: SourceObject;
  readonly name: string;
  readonly namespace: string;
  readonly labels: Record<string, string>;
  readonly annotations: Record<string, string>;
  readonly selector: Record<string, string>;
  readonly type: string;
  readonly ports: ServicePort[];
}

export interface Workload {
  readonly source: SourceObject;
  readonly kind: 'Deployment' | 'StatefulSet' | 'DaemonSet';
  readonly name: string;
  readonly namespace: string;
  readonly podLabels: Record<string, string>;
  readonly serviceAccount: string;
  /** Named container ports, to resolve a Service's named targetPort. */
  readonly containerPorts: Record<string, number>;
  /** A StatefulSet's or DaemonSet's spec.updateStrategy.type (`RollingUpdate` when unset; a Deployment's is not read). */
  readonly updateStrategy: string;
  /** A StatefulSet's spec.updateStrategy.rollingUpdate.partition (0 when unset). */
  readonly partition: number;
  /** A Deployment's spec.paused: a template change makes no new ReplicaSet until it is resumed. */
  readonly paused: boolean;
  /**
   * The pod template's `sidecar.istio.io/inject`: the label when present, else the annotation ('' when neither), as
   * Maistra's injector reads it (maistra/istio@c24a29f2 (maistra-2.6) pkg/kube/inject/inject.go:213-217).
   */
  readonly sidecarInject: string;
  /** spec.template.spec.hostNetwork: such pods are never injected (same file, :197-199). */
  readonly hostNetwork: boolean;
  /** The pod template runs a container named istio-proxy itself: a gateway (its pods opt out of injection), or a sidecar added by hand. */
  readonly proxyContainer: boolean;
}

/**
 * Pods meshfed's restart Jobs do not restart (they patch Deployments, StatefulSets and DaemonSets): a
 * DeploymentConfig's, an Argo Rollout's, a CronJob's or a Job's without an owner, a pod without an owner (MF026).
 */
export interface UnmanagedWorkload {
  readonly source: SourceObject;
  readonly kind: 'DeploymentConfig' | 'Rollout' | 'CronJob' | 'Job' | 'Pod';
  readonly name: string;
  readonly namespace: string;
}

/** A MESH_INTERNAL ServiceEntry: Maistra exports these too (one candidate per host). */
export interface ServiceEntryObj {
  readonly source: SourceObject;
  readonly name: string;
  readonly namespace: string;
  readonly hosts: string[];
  readonly location: string;
  readonly ports: ServicePort[];
  readonly workloadSelector?: Record<string, string>;
  readonly exportTo: string[];
}

/** An AuthorizationPolicy as far as the checks need it. */
export interface AuthorizationPolicyObj {
  readonly source: SourceObject;
  readonly name: string;
  readonly namespace: string;
  readonly action: string;
  readonly selector?: Record<string, string>;
  /**
   * principals / notPrincipals and namespaces / notNamespaces of every rule's `from` sources, and the values /
   * notValues of its `when` conditions on `source.principal` / `source.namespace` (Istio matches them alike), with
   * their field paths (`spec.rules[i].from[j]…` or `spec.rules[i].when[k]…`; `field` says which kind of value it is).
   */
  readonly principals: {
    readonly value: string;
    readonly negated: boolean;
    readonly field: 'principal' | 'namespace';
    readonly path: (string | number)[];
  }[];
}

/** Hosts a VirtualService or DestinationRule names, with their field paths. */
export interface HostRef {
  readonly host: string;
  readonly path: (string | number)[];
}

export interface VirtualServiceObj {
  readonly source: SourceObject;
  readonly name: string;
  readonly namespace: string;
  readonly hosts: HostRef[];
  /** route/mirror destination hosts. */
  readonly destinations: HostRef[];
  /** spec.gateways: `<namespace>/<name>` or `<name>` (in the VirtualService's namespace); `mesh` for the sidecars. */
  readonly gateways: string[];
}

export interface DestinationRuleObj {
  readonly source: SourceObject;
  readonly name: string;
  readonly namespace: string;
  readonly host: string;
  readonly subsets: { readonly name: string; readonly labels: Record<string, string> }[];
  readonly hasOutlierDetection: boolean;
  /** localityLbSetting failover / failoverPriority is configured. */
  readonly localityFailover: boolean;
  /** The identities it requires of the servers (tls.subjectAltNames, every traffic policy), with their field paths. */
  readonly subjectAltNames: HostRef[];
}

/** An OpenShift Route: the gateway's own (routeConfig), one IOR generated, or the user's. */
export interface RouteObj extends Dumped {
  readonly name: string;
  readonly namespace: string;
  readonly labels: Record<string, string>;
  /** spec.to.name: the Service it sends to. */
  readonly service: string;
  readonly host?: string;
}

/** An Istio (networking.istio.io) Gateway: which gateway pods it configures. */
export interface IstioGatewayObj {
  readonly source: SourceObject;
  readonly name: string;
  readonly namespace: string;
  readonly selector: Record<string, string>;
}

export interface Ossm2Inventory {
  readonly controlPlane: ControlPlane;
  readonly memberRoll?: MemberRoll;
  readonly members: Member[];
  readonly peers: Peer[];
  readonly exportSets: ExportSet[];
  readonly importSets: ImportSet[];
  readonly configMaps: ConfigMapObj[];
  readonly namespaces: NamespaceObj[];
  readonly services: ServiceObj[];
  readonly serviceAccounts: { readonly name: string; readonly namespace: string }[];
  readonly workloads: Workload[];
  /** What the restart Jobs cannot restart (MF026). */
  readonly unmanagedWorkloads: UnmanagedWorkload[];
  readonly serviceEntries: ServiceEntryObj[];
  readonly authorizationPolicies: AuthorizationPolicyObj[];
  readonly virtualServices: VirtualServiceObj[];
  readonly destinationRules: DestinationRuleObj[];
  readonly routes: RouteObj[];
  readonly istioGateways: IstioGatewayObj[];
  /**
   * The users' NetworkPolicies (networking.k8s.io/v1) of the control-plane and member namespaces: every dumped one but
   * Maistra's (labelled maistra.io/owner in the control-plane namespace, maistra.io/member-of on the copies in the
   * members: maistra/istio-operator@8143614c pkg/controller/servicemesh/member/ovs_networkpolicy.go:44, 63, 90), which MF027
   * models from the SMCP. Empty when the dumps predate them.
   */
  readonly networkPolicies: NetworkPolicy[];
  /** Every object read, including kinds meshfed does not use (kept for checks). */
  readonly objects: SourceObject[];
  /**
   * Greenfield: the control plane's settings are declared (clusters/<c>/control-plane.yaml, what
   * `meshfed graduate` writes), so the objects that carry SMCP settings are rendered as after 07.
   */
  readonly declaredControlPlane?: boolean;
}
