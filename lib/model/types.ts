import { RootCert } from '../load/cert';
import { ConfigMapObj, ControlPlane, ExportSet, ImportSet, Ossm2Inventory, Peer, ServiceObj } from '../load/inventory-types';
import { ClusterSettings } from '../load/settings';
import { SourceObject } from '../load/yaml-source';

/** One mesh = one cluster folder. */
export interface Mesh {
  readonly cluster: string;
  /** Described by a peer bundle: modelled for its links with local clusters, never rendered. */
  readonly virtual: boolean;
  readonly settings: ClusterSettings;
  readonly inventory: Ossm2Inventory;
  readonly rootCert: RootCert;
  readonly controlPlane: ControlPlane;
  readonly trustDomain: string;
  /** This cluster's own network (settings spec.network). */
  readonly network: string;
  /** Member namespaces (sorted), without the control-plane namespace. */
  readonly memberNamespaces: string[];
  readonly ossm3: {
    readonly version: string;
    readonly namespace: string;
    readonly cniNamespace: string;
    readonly istioName: string;
    readonly revision: string;
  };
  readonly eastWest: {
    readonly namespace: string;
    readonly name: string;
    /** Where peers reach the gateway (IPs or DNS names); empty while unknown. */
    readonly addresses: string[];
    /** The port peers connect to: 15443, or the node port with type NodePort (undefined while unknown). */
    readonly port?: number;
    readonly serviceType: 'LoadBalancer' | 'NodePort' | 'ClusterIP';
    readonly annotations: Record<string, string>;
  };
  readonly platform: 'openshift' | 'kubernetes';
  /** The local egress gateway cross-mesh traffic leaves through (spec.egressGateway), when enabled. */
  readonly egress?: {
    readonly name: string;
    readonly namespace: string;
    /** `<name>-istio.<namespace>.svc.cluster.local`: the address of the istio-remote Gateways. */
    readonly host: string;
  };
  /** Where istio-remote Gateways and imported ServiceEntries/WorkloadEntries live. */
  readonly importNamespace: string;
  readonly importExportTo: string[];
  /** spec.workloadRestart.image: the hook Jobs' image ('' when not set; required once a Job is rendered). */
  readonly restartImage: string;
}

/** A ServiceMeshPeer seen from the mesh that holds it: `local` peers with `remote`. */
export interface PeerLink {
  readonly local: string;
  readonly remote: string;
  readonly peer: Peer;
  /** The network Maistra gives the remote federation ingress endpoints: `network-<SMP name>`. */
  readonly federationNetwork: string;
  /** The network name this mesh gives the remote east-west gateway (istio-remote Gateway label, WorkloadEntry network). */
  readonly remoteNetwork: string;
  readonly exportSet?: ExportSet;
  readonly importSet?: ImportSet;
  readonly caConfigMap?: ConfigMapObj;
}

export interface PortSpec {
  readonly name: string;
  readonly number: number;
  readonly targetPort?: number;
  /** Istio protocol; undefined when Istio sniffs it. */
  readonly protocol?: string;
}

/** An export candidate: a Service (or a MESH_INTERNAL ServiceEntry host) the exporting istiod sees. */
export interface LocalService {
  readonly kind: 'Service' | 'ServiceEntry';
  readonly name: string;
  readonly namespace: string;
  /** The service's own FQDN (`<name>.<ns>.svc.cluster.local`, or the ServiceEntry host). */
  readonly hostname: string;
  readonly labels: Record<string, string>;
  readonly ports: PortSpec[];
  /** Pod labels the service selects (Service selector / ServiceEntry workloadSelector). */
  readonly podSelector: Record<string, string>;
  /** Service accounts of the workloads behind it (sorted); empty when none is in the dumps. */
  readonly serviceAccounts: string[];
  readonly source: SourceObject;
}

/** A service as one mesh exports it to one peer (ESS rule matched). */
export interface Export {
  readonly exporter: string;
  readonly importer: string;
  readonly link: PeerLink;
  readonly service: LocalService;
  readonly exportedName: string;
  readonly exportedNamespace: string;
  /** `<name>.<ns>.svc.<SMP>-exports.local`. */
  readonly exportedHostname: string;
  readonly ruleIndex: number;
}

/** An exported service as the importing mesh imports it (ISS rule matched). */
export interface Import {
  readonly importer: string;
  readonly exporter: string;
  /** The importer's link (its ServiceMeshPeer for the exporter). */
  readonly link: PeerLink;
  readonly export: Export;
  readonly name: string;
  readonly namespace: string;
  /** The hostname clients in the importing mesh use. */
  readonly hostname: string;
  readonly importAsLocal: boolean;
  /** `region[/zone[/subzone]]` from the ISS spec.locality, when valid. */
  readonly locality?: string;
  readonly ruleIndex: number;
  /** For importAsLocal (and the global hostname scheme): the importer's own Service with the same name and namespace, if any. */
  readonly localService?: ServiceObj;
}

export interface FederationModel {
  /** Sorted by cluster name. */
  readonly meshes: Mesh[];
  readonly links: PeerLink[];
  readonly exports: Export[];
  readonly imports: Import[];
}
