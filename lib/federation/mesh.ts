/**
 * The end state of a federation declared in code: a {@link Mesh} per cluster under a Federation, its
 * {@link MeshPeer}s, {@link ExportedServiceSet}s and {@link ImportedServiceSet}s. They declare what a greenfield
 * clusters folder holds (cluster.yaml with spec.mode greenfield, control-plane.yaml, federation/, inventory/,
 * root-cert.pem; docs/input.md) and hand it to the same loader (lib/load/declared.ts), so they render the same
 * objects, with the same checks; errors name the construct path.
 *
 * The federation objects keep their Maistra shapes (federation.maistra.io/v1, the CRDs of OSSM 2.6:
 * maistra/istio-operator@maistra-2.6:resources/helm/v2.6/istio-init/files/servicemeshpeers.federation.maistra.io.crd.yaml,
 * exportedservicesets.federation.maistra.io.crd.yaml, importedservicesets.federation.maistra.io.crd.yaml), which
 * meshfed renders as plain Istio multi-cluster objects.
 */
import { Construct } from 'constructs';

import { JsonObject } from '../json';
import { DeclaredCluster, DeclaredObject } from '../load/declared';
import { ClusterSettingsFile } from '../load/settings-types';

/**
 * A cluster's settings: the spec of its cluster.yaml (schema/cluster-settings.schema.json, docs/input.md) but
 * `mode` (a declared mesh is greenfield) and `phase` (it has none).
 */
export type MeshSettings = Omit<ClusterSettingsFile['spec'], 'mode' | 'phase'>;

/** The settings an OSSM 2 control plane ran with, which OSSM 3 carries over: what `meshfed graduate` records. */
export interface ControlPlaneRecord {
  /** The ServiceMeshControlPlane's name. */
  readonly name: string;
  /** Its namespace. */
  readonly namespace: string;
  /** Its effective spec (maistra.io/v2), defaults included; its security.trust.domain is the mesh's trust domain. */
  readonly spec: { readonly [key: string]: unknown };
}

/** A cluster's mesh. */
export interface MeshProps {
  /**
   * The cluster's name: its output folder dist/<cluster>/.
   * @default the construct id
   */
  readonly cluster?: string;
  /** Its settings (cluster.yaml's spec): trust domain, network, OSSM 3 version and namespace, gateways … */
  readonly settings: MeshSettings;
  /**
   * The mesh's PUBLIC root CA: PEM text, or the path of a file holding it (checked as root-cert.pem is: no private
   * key, a self-signed CA).
   */
  readonly rootCert: string;
  /**
   * A folder of what runs on the cluster (Namespaces, ServiceAccounts, Services, workloads, ServiceEntries as
   * `kubectl get -o yaml` prints them), read as a clusters folder's inventory/ is.
   * @default none: the cluster runs nothing meshfed needs to know about
   */
  readonly inventory?: string;
  /**
   * The settings the OSSM 2 control plane ran with (control-plane.yaml), for a mesh that graduated from one.
   * @default none: the OSSM 3 control plane's own defaults
   */
  readonly controlPlane?: ControlPlaneRecord;
}

/** The metadata of a federation object. */
export interface FederationObjectMetadata {
  /**
   * Its name; a peer's is the remote mesh's name, and an export or import set is named as the peer it belongs to.
   * @default the construct id
   */
  readonly name?: string;
  /**
   * Its namespace.
   * @default the mesh's OSSM 3 namespace (settings.ossm3.namespace, istio-system)
   */
  readonly namespace?: string;
  /**
   * Labels.
   * @default none
   */
  readonly labels?: { readonly [key: string]: string };
  /**
   * Annotations.
   * @default none
   */
  readonly annotations?: { readonly [key: string]: string };
}

/** Where a peer is reached (ServiceMeshPeer spec.remote). */
export interface PeerRemote {
  /** The remote mesh's ingress addresses: DNS names or IPs. */
  readonly addresses: string[];
  /**
   * The port serving discovery.
   * @default 8188
   */
  readonly discoveryPort?: number;
  /**
   * The port serving service requests.
   * @default 15443
   */
  readonly servicePort?: number;
}

/** A gateway named by a peer. */
export interface GatewayReference {
  /** The gateway's name. */
  readonly name: string;
}

/** The gateways of a peer (ServiceMeshPeer spec.gateways). */
export interface PeerGateways {
  /** Through which the remote mesh's requests come in. */
  readonly ingress: GatewayReference;
  /** Through which requests to the remote mesh go out. */
  readonly egress: GatewayReference;
}

/** How a peer is trusted (ServiceMeshPeer spec.security). */
export interface PeerSecurity {
  /** The remote mesh's trust domain. */
  readonly trustDomain: string;
  /**
   * The remote mesh's discovery client identity.
   * @default none
   */
  readonly clientID?: string;
  /**
   * The ConfigMap holding the remote's root-cert.pem.
   * @default a ConfigMap named <peer>-ca-root-cert
   */
  readonly certificateChain?: { readonly kind: string; readonly name: string; readonly apiGroup?: string };
}

/** A peer mesh (a ServiceMeshPeer, federation.maistra.io/v1). */
export interface MeshPeerProps {
  /**
   * Its name and namespace.
   * @default the construct id, in the mesh's OSSM 3 namespace
   */
  readonly metadata?: FederationObjectMetadata;
  /**
   * Where the remote mesh is reached.
   * @default none: a greenfield peer is reached through its east-west gateway
   */
  readonly remote?: PeerRemote;
  /**
   * The federation gateways.
   * @default none: a greenfield mesh has none
   */
  readonly gateways?: PeerGateways;
  /** How the remote mesh is trusted. */
  readonly security: PeerSecurity;
}

/** A namespace and name; "" or "*" matches any. */
export interface ServiceName {
  /**
   * The namespace.
   * @default any
   */
  readonly namespace?: string;
  /**
   * The name.
   * @default any
   */
  readonly name?: string;
}

/** A name matcher, with the name a match is exported or imported as. */
export interface NameSelector extends ServiceName {
  /**
   * The namespace and name a matching service gets.
   * @default its own
   */
  readonly alias?: ServiceName;
}

/** A label selector requirement. */
export interface LabelSelectorRequirement {
  /** The label key. */
  readonly key: string;
  /** In, NotIn, Exists or DoesNotExist. */
  readonly operator: string;
  /**
   * The values (In, NotIn).
   * @default none
   */
  readonly values?: string[];
}

/** Services selected by their labels in a namespace, and the names they are exported as. */
export interface LabelSelectorRule {
  /**
   * The namespace.
   * @default every namespace of the mesh
   */
  readonly namespace?: string;
  /** The Services' label selector; an empty one selects every Service. */
  readonly selector: {
    readonly matchLabels?: { readonly [key: string]: string };
    readonly matchExpressions?: LabelSelectorRequirement[];
  };
  /**
   * Names to export matches as, the first that matches applies.
   * @default none: the services' own names
   */
  readonly aliases?: NameSelector[];
}

/** One export rule; the first rule that matches a service applies. */
export type ExportRule =
  | { readonly type: 'NameSelector'; readonly nameSelector: NameSelector }
  | { readonly type: 'LabelSelector'; readonly labelSelector: LabelSelectorRule };

/** What a mesh exports to one peer (an ExportedServiceSet, named as the peer). */
export interface ExportedServiceSetProps {
  /**
   * Its name (the peer's) and namespace.
   * @default the MeshPeer's name and namespace it is constructed under; under a Mesh: the construct id, in the mesh's OSSM 3 namespace
   */
  readonly metadata?: FederationObjectMetadata;
  /** The rules, in order. */
  readonly exportRules: ExportRule[];
}

/** One import rule (Maistra supports NameSelector only); the first rule that matches a service applies. */
export interface ImportRule {
  /** The rule's type. */
  readonly type: 'NameSelector';
  /** The services it matches, and the names they are imported as. */
  readonly nameSelector: NameSelector;
  /**
   * Import the service as a local one (<name>.<namespace>.svc.cluster.local).
   * @default false
   */
  readonly importAsLocal?: boolean;
  /**
   * The domain suffix of the imported names.
   * @default the set's domainSuffix
   */
  readonly domainSuffix?: string;
}

/** What a mesh imports from one peer (an ImportedServiceSet, named as the peer). */
export interface ImportedServiceSetProps {
  /**
   * Its name (the peer's) and namespace.
   * @default the MeshPeer's name and namespace it is constructed under; under a Mesh: the construct id, in the mesh's OSSM 3 namespace
   */
  readonly metadata?: FederationObjectMetadata;
  /** The rules, in order. */
  readonly importRules: ImportRule[];
  /**
   * The domain suffix of the imported names.
   * @default <name>.<namespace>.svc.<peer>-imports.local
   */
  readonly domainSuffix?: string;
  /**
   * Where the imported services run.
   * @default none
   */
  readonly locality?: { readonly region?: string; readonly zone?: string; readonly subzone?: string };
}

const MESH = Symbol.for('meshfed.Mesh');

/**
 * One cluster's mesh, declared in code under a Federation: what clusters/<cluster>/ of a greenfield federation
 * holds. Its peers and export and import sets are constructed under it.
 *
 * ```ts
 * const fed = new Federation(app, 'federation', { out: 'dist' });
 * const east = new Mesh(fed, 'east', {
 *   settings: { trustDomain: 'east.local', network: 'east-network', ossm3: { version: 'v1.27.3' } },
 *   rootCert: 'east/root-cert.pem',
 *   inventory: 'east/inventory',
 * });
 * const west = new MeshPeer(east, 'west-mesh', { security: { trustDomain: 'west.local' } });
 * new ImportedServiceSet(west, 'imports', { importRules: [{ type: 'NameSelector', nameSelector: { namespace: 'httpbin', name: 'httpbin' } }] });
 * ```
 */
export class Mesh extends Construct {
  /** Return whether `x` is a Mesh (across copies of meshfed). */
  public static isMesh(x: unknown): x is Mesh {
    return typeof x === 'object' && x !== null && MESH in x;
  }

  /** The cluster's name. */
  public readonly cluster: string;
  private readonly props: MeshProps;

  constructor(scope: Construct, id: string, props: MeshProps) {
    super(scope, id);
    if (!(Symbol.for('meshfed.Federation') in scope))
      throw new Error(`meshfed: Mesh ${this.node.path} must be constructed under a Federation (its scope).`);
    Object.defineProperty(this, MESH, { value: true });
    this.props = props;
    this.cluster = props.cluster ?? id;
  }

  /** @internal What the Federation renders: the folder this Mesh stands for. */
  public _declare(): DeclaredCluster {
    const path = this.node.path;
    const { settings, rootCert, inventory, controlPlane } = this.props;
    const objects = this.node.findAll().filter(FederationObject.isFederationObject);
    return {
      name: this.cluster,
      path,
      settings: {
        path,
        value: plain({
          apiVersion: 'meshfed.dev/v1alpha1',
          kind: 'ClusterSettings',
          metadata: { name: this.cluster },
          spec: { ...settings, mode: 'greenfield' }, // a declared mesh is greenfield, whatever a JavaScript caller passes
        }),
      },
      ...(controlPlane && {
        controlPlane: {
          path: `${path} (controlPlane)`,
          value: plain({
            apiVersion: 'maistra.io/v2',
            kind: 'ServiceMeshControlPlane',
            metadata: { name: controlPlane.name, namespace: controlPlane.namespace },
            spec: controlPlane.spec,
          }),
        },
      }),
      federation: objects.map((o) => o._declare()),
      ...(inventory !== undefined && { inventory }),
      rootCert: rootCert.includes('-----BEGIN') ? { pem: rootCert } : { file: rootCert },
    };
  }
}

const FEDERATION_OBJECT = Symbol.for('meshfed.FederationObject');

/**
 * A ServiceMeshPeer, ExportedServiceSet or ImportedServiceSet of the Mesh it is constructed under. An export or
 * import set constructed under a MeshPeer is that peer's: named as it, in its namespace.
 */
export abstract class FederationObject<P extends { readonly metadata?: FederationObjectMetadata }> extends Construct {
  /** Return whether `x` is a federation object (across copies of meshfed). */
  public static isFederationObject(x: unknown): x is FederationObject<{ metadata?: FederationObjectMetadata }> {
    return typeof x === 'object' && x !== null && FEDERATION_OBJECT in x;
  }

  /** The object's name. */
  public readonly name: string;
  /** Its namespace. @default the mesh's OSSM 3 namespace */
  public readonly namespace?: string;

  /** @internal */
  constructor(
    scope: Construct,
    id: string,
    private readonly kind: string,
    private readonly props: P,
    peerScope: boolean,
  ) {
    super(scope, id);
    const peer = peerScope && scope instanceof MeshPeer ? scope : undefined;
    if (!Mesh.isMesh(scope) && !peer)
      throw new Error(
        `meshfed: ${kind} ${this.node.path} must be constructed under a Mesh${peerScope ? ' or a MeshPeer' : ''} (its scope).`,
      );
    Object.defineProperty(this, FEDERATION_OBJECT, { value: true });
    this.name = props.metadata?.name ?? peer?.name ?? id;
    this.namespace = props.metadata?.namespace ?? peer?.namespace;
  }

  /** @internal */
  public _declare(): DeclaredObject {
    const { metadata, ...spec } = this.props;
    return {
      path: this.node.path,
      value: plain({
        apiVersion: 'federation.maistra.io/v1',
        kind: this.kind,
        metadata: { name: this.name, namespace: this.namespace, ...metadata },
        spec,
      }),
    };
  }
}

/** A peer mesh: a ServiceMeshPeer (federation.maistra.io/v1) of the Mesh it is constructed under. */
export class MeshPeer extends FederationObject<MeshPeerProps> {
  constructor(scope: Mesh, id: string, props: MeshPeerProps) {
    super(scope, id, 'ServiceMeshPeer', props, false);
  }
}

/**
 * What a mesh exports to a peer: an ExportedServiceSet (federation.maistra.io/v1), named as the MeshPeer it is
 * constructed under (or constructed under the Mesh, named as a peer).
 */
export class ExportedServiceSet extends FederationObject<ExportedServiceSetProps> {
  constructor(scope: MeshPeer | Mesh, id: string, props: ExportedServiceSetProps) {
    super(scope, id, 'ExportedServiceSet', props, true);
  }
}

/**
 * What a mesh imports from a peer: an ImportedServiceSet (federation.maistra.io/v1), named as the MeshPeer it is
 * constructed under (or constructed under the Mesh, named as a peer).
 */
export class ImportedServiceSet extends FederationObject<ImportedServiceSetProps> {
  constructor(scope: MeshPeer | Mesh, id: string, props: ImportedServiceSetProps) {
    super(scope, id, 'ImportedServiceSet', props, true);
  }
}

/** A value as JSON (what YAML would have read): undefined fields dropped. */
function plain(value: unknown): JsonObject {
  return JSON.parse(JSON.stringify(value)) as JsonObject;
}
