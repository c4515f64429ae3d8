import { JsonObject } from '../load/yaml-source';
import { PortSpec } from '../model/types';
import { PhaseId } from '../phases';

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
  return apiVersion.includes('/') ? apiVersion.split('/')[0] : 'core';
}

/** Identity of an object within a cluster's desired state: group, kind, namespace, name. */
export function refKey(r: ObjectRef): string {
  return `${apiGroup(r.apiVersion)}/${r.kind}/${r.namespace ?? ''}/${r.name}`;
}

/** The object whose file a resource is written to: itself, or the object the plan groups it with. */
export function fileAnchor(r: Resource): ObjectRef {
  return 'fileOf' in r && r.fileOf ? r.fileOf : r.ref;
}

export function refId(r: ObjectRef): string {
  return `${r.kind}/${r.namespace ? `${r.namespace}/` : ''}${r.name} (${r.apiVersion})`;
}

/**
 * An object a phase adds. Each variant carries the domain values its construct needs; the YAML shape
 * is decided in lib/constructs.
 */
export type Resource =
  /** An object that runs today, re-rendered from the dumps so GitOps adopts it. */
  | { readonly type: 'adopted'; readonly ref: ObjectRef; readonly body: JsonObject }
  | { readonly type: 'namespace'; readonly ref: ObjectRef; readonly labels: Record<string, string> }
  | {
      readonly type: 'eastWestGateway';
      readonly ref: ObjectRef;
      readonly network: string;
      readonly serviceType: 'LoadBalancer' | 'NodePort' | 'ClusterIP';
      readonly annotations: Record<string, string>;
    }
  | { readonly type: 'exposedServices'; readonly ref: ObjectRef; readonly gatewayName: string; readonly hosts: string[] }
  | {
      readonly type: 'exporterServiceEntry';
      readonly ref: ObjectRef;
      readonly host: string;
      readonly ports: PortSpec[];
      readonly podSelector: Record<string, string>;
    }
  /** `port` is where the exporter's gateway listens for peers: 15443, or its node port. */
  | {
      readonly type: 'remoteGateway';
      readonly ref: ObjectRef;
      readonly network: string;
      readonly addresses: string[];
      readonly port: number;
    }
  /** The importer's local egress gateway (ClusterIP); its listener depends on the platform's routing objects. */
  | { readonly type: 'egressGateway'; readonly ref: ObjectRef; readonly platform: 'openshift' | 'kubernetes' }
  /** openshift: Istio Gateway on the egress gateway pods, TLS PASSTHROUGH on 15443 for the imported hosts' SNI. */
  | { readonly type: 'egressPassthroughGateway'; readonly ref: ObjectRef; readonly gatewayName: string; readonly sniHosts: string[] }
  /**
   * One peer's east-west gateway as the egress gateway's upstream: a headless Service (kubernetes, its
   * endpoints in EndpointSlices) or a ServiceEntry (openshift). `port` is where the peer listens.
   */
  | {
      readonly type: 'egressBackend';
      readonly ref: ObjectRef;
      readonly exporter: string;
      readonly host?: string;
      readonly addresses: string[];
      readonly port: number;
    }
  | {
      readonly type: 'egressEndpointSlice';
      readonly ref: ObjectRef;
      readonly fileOf: ObjectRef;
      readonly service: string;
      readonly addressType: 'IPv4' | 'IPv6';
      readonly addresses: string[];
      readonly port: number;
    }
  /**
   * Routes one imported hostname's SNI (`*.<host>`) from the egress gateway to the backends of the
   * peers exporting it: a TLSRoute (kubernetes) or a VirtualService (openshift).
   */
  | {
      readonly type: 'egressRoute';
      readonly ref: ObjectRef;
      readonly host: string;
      readonly gatewayName: string;
      readonly backends: { readonly exporter: string; readonly name: string; readonly host?: string }[];
    }
  | {
      readonly type: 'importServiceEntry';
      readonly ref: ObjectRef;
      readonly host: string;
      readonly ports: PortSpec[];
      readonly subjectAltNames: string[];
      readonly exportTo: string[];
      /** The clusters whose services this entry stands for (sorted). */
      readonly exporters: string[];
      readonly selector: Record<string, string>;
      /** Also selects the importer's own pods (shared hostname): ports keep the local targetPort. */
      readonly localPods?: boolean;
    }
  | {
      readonly type: 'importWorkloadEntry';
      readonly ref: ObjectRef;
      /** Written into this object's file (its ServiceEntry): one imported service, one file. */
      readonly fileOf?: ObjectRef;
      /** The cluster whose east-west gateway this entry stands for. */
      readonly exporter: string;
      readonly labels: Record<string, string>;
      readonly network: string;
      readonly locality?: string;
      readonly serviceAccount?: string;
    }
  | { readonly type: 'istioCni'; readonly ref: ObjectRef; readonly version: string; readonly namespace: string }
  | {
      readonly type: 'istio';
      readonly ref: ObjectRef;
      readonly version: string;
      readonly namespace: string;
      readonly trustDomain: string;
      readonly trustDomainAliases: string[];
      /** Peers' roots: PEM text, the cluster it comes from, and (trust mode trustDomains) the trust domain it is scoped to. */
      readonly caCertificates: { readonly cluster: string; readonly pem: string; readonly trustDomains?: string[] }[];
      readonly network: string;
      readonly accessLogFile?: string;
      readonly pilotEnv: Record<string, string>;
      /** Proxies resolve hostnames cluster DNS does not know (imported names) through istiod. */
      readonly dnsCapture: boolean;
    }
  | { readonly type: 'serviceAccount'; readonly ref: ObjectRef }
  /** Binds the Role of the same name in its namespace to a ServiceAccount. */
  | { readonly type: 'roleBinding'; readonly ref: ObjectRef; readonly serviceAccount: ObjectRef }
  /** Allows only `patch` on the named workloads of one namespace. */
  | { readonly type: 'restartRole'; readonly ref: ObjectRef; readonly workloads: WorkloadRef[] }
  | {
      readonly type: 'restartJob';
      readonly ref: ObjectRef;
      readonly serviceAccount: ObjectRef;
      readonly image: string;
      readonly revision: string;
      readonly workloads: WorkloadRef[];
    }
  /** Allows `kubectl exec` into the named Deployments of one namespace. */
  | { readonly type: 'verifyRole'; readonly ref: ObjectRef; readonly deployments: string[] }
  | {
      readonly type: 'verifyJob';
      readonly ref: ObjectRef;
      readonly serviceAccount: ObjectRef;
      readonly image: string;
      readonly phase: PhaseId;
      readonly probes: VerifyProbeSpec[];
    }
  | { readonly type: 'exposurePolicy'; readonly ref: ObjectRef; readonly selector: Record<string, string>; readonly principals: string[] }
  | {
      readonly type: 'cacertsExternalSecret';
      readonly ref: ObjectRef;
      readonly storeName: string;
      readonly storeKind: 'SecretStore' | 'ClusterSecretStore';
      readonly key: string;
    };

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
  /** `<exporter>`, or `<exporter>.<i>-of-<n>` when that exporter's imports are split further. */
  readonly name: string;
  readonly exporter: string;
  readonly resources: Resource[];
}

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
}
