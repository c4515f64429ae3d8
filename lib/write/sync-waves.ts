import { JsonObject } from '../json';

export const SYNC_WAVE = 'argocd.argoproj.io/sync-wave';

/**
 * Argo CD sync waves inside a phase: Namespaces, then the cacerts ExternalSecret and the mesh's own
 * NetworkPolicies / mTLS objects, then control planes (which Argo CD waits for until Ready, with the health
 * checks in dist/argocd/), then identities, then the peers' CA ConfigMaps, gateways, workloads, and last the
 * entries that route through them. Jobs are PostSync hooks with their own waves. Flux ignores these
 * annotations (it applies everything, then waits for health).
 *
 * Every kind meshfed renders or adopts has an entry: a kind without one is a bug (withSyncWave throws), not
 * wave 0 by default — a workload in an earlier wave than its ServiceAccount never gets pods, Argo CD waits
 * for it to be healthy before the next wave (gitops-engine pkg/sync/sync_context.go) and the phase never
 * completes. test/twin/rehearse.test.ts replays every wave.
 */
export const WAVES: Readonly<Record<string, number>> = {
  Namespace: -4,
  ExternalSecret: -3,
  // What the SMCP enforced through operator-owned objects, in place before 01's patch lets the operator drop them.
  NetworkPolicy: -3,
  PeerAuthentication: -3,
  DestinationRule: -3,
  // SMCP < SMMR < SMM: Argo CD ≥ 2.11 prunes in reverse wave order (07: members, then the roll, then
  // the SMCP, which is also PruneLast), so Maistra never recreates an orphan SMMR for members still there.
  ServiceMeshControlPlane: -2,
  ServiceMeshMemberRoll: -1,
  ServiceMeshMember: 0,
  IstioCNI: -2,
  Istio: -2,
  // Identities and their grants before anything that runs as them (a pod needs its ServiceAccount:
  // kubernetes plugin/pkg/admission/serviceaccount/admission.go). Hook Jobs run after every wave anyway.
  ServiceAccount: -1,
  Role: -1,
  RoleBinding: -1,
  ClusterRole: -1,
  ClusterRoleBinding: -1,
  ConfigMap: -1,
  Gateway: 0,
  Service: 0,
  EndpointSlice: 0,
  Route: 0,
  Deployment: 0,
  HorizontalPodAutoscaler: 0,
  PodDisruptionBudget: 0,
  AuthorizationPolicy: 0,
  TLSRoute: 1,
  VirtualService: 1,
  ServiceMeshPeer: 1,
  ExportedServiceSet: 1,
  ImportedServiceSet: 1,
  ServiceEntry: 1,
  WorkloadEntry: 1,
  // Addon replacements (05), after the Istio they observe.
  ServiceMonitor: 1,
  PodMonitor: 1,
  Kiali: 1,
};

/** Sail, ESO, Kiali and monitoring CRDs come from operators (OLM), not from this application: skip dry-run while they are missing. */
const OPERATOR_KINDS = new Set(['Istio', 'IstioCNI', 'ExternalSecret', 'Kiali', 'ServiceMonitor', 'PodMonitor']);

export const SYNC_OPTIONS = 'argocd.argoproj.io/sync-options';

/** `a=1,b=2` with each of `add` whose key is not set yet appended (what the object says first wins). */
export function withSyncOptions(existing: string | undefined, add: readonly string[]): string {
  const options = existing ? existing.split(',').map((o) => o.trim()) : [];
  const keys = new Set(options.map((o) => o.split('=')[0]));
  for (const o of add) if (!keys.has(o.split('=')[0])) options.push(o);
  return options.join(',');
}

/**
 * A copy of `obj` with its sync wave and sync options annotated, unless it is a hook. Every object gets
 * `Delete=false`: deleting the Application with the CLI's or the UI's defaults (cascade, argo-cd@v3.4.0
 * cmd/argocd/commands/app.go:1788, ui/src/app/applications/components/utils.tsx:177) deletes every managed
 * object whose sync options lack it (controller/appcontroller.go:1170-1179) — the SMCP, the control plane,
 * the imports; the app-wide option only exists from v3.4. Prune (a phase that no longer declares an object)
 * is not affected: Git still removes what a move removes.
 */
export function withSyncWave(obj: JsonObject): JsonObject {
  const meta = (obj.metadata ?? {}) as JsonObject;
  const annotations = { ...((meta.annotations as Record<string, string> | undefined) ?? {}) };
  if (annotations['argocd.argoproj.io/hook']) return obj;
  const wave = WAVES[obj.kind as string];
  if (wave === undefined) throw new Error(`no Argo CD sync wave for kind ${String(obj.kind)}: add it to WAVES in lib/write/sync-waves.ts`);
  // A construct may place one object apart from its kind (a ServiceMeshMember the SMCP needs before it reconciles).
  annotations[SYNC_WAVE] ??= String(wave);
  const options: string[] = [];
  if (OPERATOR_KINDS.has(obj.kind as string)) options.push('SkipDryRunOnMissingResource=true');
  // Deleted last of everything in 07 (the Application drops its app-wide PruneLast there): its finalizer
  // prunes cluster-wide and needs the OSSM 2 operator, which the 07 pre-flight checks.
  if (obj.kind === 'ServiceMeshControlPlane') options.push('PruneLast=true');
  options.push('Delete=false');
  annotations[SYNC_OPTIONS] = withSyncOptions(annotations[SYNC_OPTIONS], options);
  return { ...obj, metadata: { ...meta, annotations } };
}
