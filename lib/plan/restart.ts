import { ref } from './api-versions';
import { gatewayOnlyNamespaces } from './north-south';
import { injectionDisabledNamespaces, migratedNamespaces, revisionLabels } from './revision';
import { Contribute, NamespaceRelabel, ObjectRef, PhaseId, phaseIndex, PhasePlan, Resource, WorkloadRef } from './types';
import { Diagnostics } from '../diagnostics';
import { valueAt } from '../json';
import { Workload } from '../load/inventory-types';
import { ModelIndex } from '../model/model-index';
import { dnsLabel, shortHash } from '../model/names';
import { Mesh } from '../model/types';
import { byKey } from '../sort';
import { settingsOf } from './smcp-settings';

/** Pod-template annotation of the 06 restart: the revision the workloads move to. */
export const REVISION_RESTART_ANNOTATION = 'meshfed.dev/restarted-for-revision';
/** Pod-template annotation of the 03 restart on importers: the network their proxies now carry. */
export const NETWORK_RESTART_ANNOTATION = 'meshfed.dev/restarted-for-network';

/** The dumped workloads of these namespaces, in code-unit order. */
export function workloadsIn(mesh: Mesh, namespaces: readonly string[]): WorkloadRef[] {
  const wanted = new Set(namespaces);
  return mesh.inventory.workloads
    .filter((w) => wanted.has(w.namespace))
    .map((w) => ({ kind: w.kind, namespace: w.namespace, name: w.name }))
    .sort(
      byKey(
        (w) => w.namespace,
        (w) => w.kind,
        (w) => w.name,
      ),
    );
}

/**
 * How long a restart Job waits for each restarted workload's rollout unless spec.workloadRestart.rolloutTimeoutSeconds
 * says otherwise (the schema's default, schema/cluster-settings.schema.json): each `kubectl rollout status` gets its own
 * timeout (kubernetes/kubectl@v0.32.9 pkg/cmd/rollout/rollout_status.go:199-230).
 */
export const ROLLOUT_TIMEOUT_SECONDS = 600;
/**
 * A restart Job's activeDeadlineSeconds: a margin, the patches (30 s each), and one rollout wait per round of
 * `maxConcurrent` workloads — at most that many roll at once, one starts only when an earlier one is done, and each
 * wait gets only what is left of the timeout since that workload's patch, so the last finishes within
 * ceil(workloads / maxConcurrent) timeouts — plus one timeout for the wait for `waitFor` (the OSSM 3 istiod) first; after a
 * failed one the script waits for no other (lib/job-steps.ts), so it prints what it left undone within it. The verify
 * Job of the same phase waits at most this long for it (lib/plan/verify.ts); the Flux timeout and the runbooks'
 * durations read it too (lib/write/durations.ts).
 */
export function restartDeadlineSeconds(
  workloads: number,
  maxConcurrent?: number,
  rolloutTimeoutSeconds = ROLLOUT_TIMEOUT_SECONDS,
  waitFor = false,
): number {
  const rounds = maxConcurrent === undefined ? 1 : Math.ceil(Math.max(workloads, 1) / Math.max(maxConcurrent, 1));
  return 300 + 30 * workloads + (rounds + (waitFor ? 1 : 0)) * rolloutTimeoutSeconds;
}

export interface RestartSpec {
  /** Name of the ServiceAccount, the Roles and RoleBindings, and the prefix of the Job's name. */
  readonly name: string;
  /** Where the Job and its ServiceAccount run. */
  readonly namespace: string;
  readonly annotation: string;
  readonly value: string;
  readonly workloads: WorkloadRef[];
  /** What the Job's name hashes besides the image (Jobs are immutable: a new set must run again). */
  readonly identity: Record<string, unknown>;
  /** Namespaces the Job relabels before restarting (06), with a ClusterRole limited to them. */
  readonly relabel?: NamespaceRelabel;
  /** The Deployment to wait for first, with a read-only Role on it. */
  readonly waitFor?: WorkloadRef;
}

/** Per namespace of the workloads, a Role on exactly them and its RoleBinding to the Job's ServiceAccount. */
function workloadRoles(spec: RestartSpec, sa: ObjectRef): Resource[] {
  const namespaces = [...new Set(spec.workloads.map((w) => w.namespace))].sort();
  return namespaces.flatMap((ns): Resource[] => [
    {
      type: 'restartRole',
      ref: ref('rbac.authorization.k8s.io/v1', 'Role', spec.name, ns),
      workloads: spec.workloads.filter((w) => w.namespace === ns),
    },
    { type: 'roleBinding', ref: ref('rbac.authorization.k8s.io/v1', 'RoleBinding', spec.name, ns), serviceAccount: sa },
  ]);
}

/**
 * A restart: a ServiceAccount, per namespace a Role that allows `get`, `list`, `watch` and `patch` on exactly
 * the named workloads and its RoleBinding, and the Job that patches their pod-template annotation (content-named).
 */
export function restartResources(mesh: Mesh, spec: RestartSpec): Resource[] {
  if (spec.workloads.length === 0 && !spec.relabel?.ignoreOnly?.length) return [];
  const rolloutTimeoutSeconds = mesh.settings.workloadRestart.rolloutTimeoutSeconds;
  const identity = {
    workloads: spec.workloads,
    maxConcurrent: mesh.settings.workloadRestart.maxConcurrent,
    // Left out at the default, so a Job rendered before the setting existed keeps its name (and does not run again).
    ...(rolloutTimeoutSeconds === ROLLOUT_TIMEOUT_SECONDS ? {} : { rolloutTimeoutSeconds }),
    ...spec.identity,
    image: mesh.restartImage,
    ...(spec.relabel ? { relabel: spec.relabel } : {}),
  };
  const jobName = dnsLabel(spec.name, shortHash(JSON.stringify(identity)));
  const sa = ref('v1', 'ServiceAccount', spec.name, spec.namespace);
  return [
    { type: 'serviceAccount', ref: sa },
    ...workloadRoles(spec, sa),
    ...(spec.waitFor
      ? ([
          {
            type: 'restartRole',
            ref: ref('rbac.authorization.k8s.io/v1', 'Role', `${spec.name}-wait`, spec.waitFor.namespace),
            workloads: [spec.waitFor],
            readOnly: true,
          },
          {
            type: 'roleBinding',
            ref: ref('rbac.authorization.k8s.io/v1', 'RoleBinding', `${spec.name}-wait`, spec.waitFor.namespace),
            serviceAccount: sa,
          },
        ] as Resource[])
      : []),
    ...(spec.relabel
      ? ([
          {
            type: 'namespaceRelabelRole',
            ref: ref('rbac.authorization.k8s.io/v1', 'ClusterRole', spec.name),
            namespaces: [...spec.relabel.namespaces, ...(spec.relabel.ignoreOnly ?? [])].sort(),
          },
          { type: 'clusterRoleBinding', ref: ref('rbac.authorization.k8s.io/v1', 'ClusterRoleBinding', spec.name), serviceAccount: sa },
        ] as Resource[])
      : []),
    {
      type: 'restartJob',
      ref: ref('batch/v1', 'Job', jobName, spec.namespace),
      serviceAccount: sa,
      image: mesh.restartImage,
      annotation: spec.annotation,
      value: spec.value,
      workloads: spec.workloads,
      maxConcurrent: mesh.settings.workloadRestart.maxConcurrent,
      rolloutTimeoutSeconds,
      ...(spec.relabel ? { relabel: spec.relabel } : {}),
      ...(spec.waitFor ? { waitFor: spec.waitFor } : {}),
    },
  ];
}

/** A hook Job needs an image the user pinned (spec.workloadRestart.image): there is no default every cluster can pull. */
export function requireJobImage(mesh: Mesh, phases: PhasePlan[], diags: Diagnostics): void {
  if (mesh.restartImage || mesh.virtual) return;
  const job = phases.find((p) => p.adds.some((r) => r.type === 'restartJob' || r.type === 'verifyJob'));
  if (!job) return;
  diags.error(
    mesh.settings.source.at(['spec']),
    `${mesh.cluster}'s ${job.phase} runs a hook Job (workload restart or traffic verification), but spec.workloadRestart.image is not set.`,
    'Set spec.workloadRestart.image to an image with /bin/sh and kubectl that this cluster can pull, pinned by digest or release tag ' +
      '(for example the OpenShift CLI image of the cluster version).',
  );
}

export const NETWORK_RESTART_NAME = 'meshfed-restart-for-network';

/** `sidecar.istio.io/inject` values that opt a pod in (http://yaml.org/type/bool.html, as the injector reads them). */
const OPT_IN = new Set(['y', 'yes', 'true', 'on']);

/**
 * Whether OSSM 2 injected the workload's pods with a sidecar, and why — Maistra 2.6's injectRequired
 * (maistra/istio@c24a29f2 pkg/kube/inject/inject.go:190-300): never with hostNetwork; the pod's
 * `sidecar.istio.io/inject` label (else annotation) decides when set (an opt-in value injects, any other value does
 * not); else the SMCP's never/alwaysInjectSelector, else its policy: spec.proxy.injection.autoInject true is
 * "enabled" (every pod), false — the v2.x base profile's default (maistra/istio-operator@8143614c
 * resources/smcp-templates/v2.5/base:26) — "disabled" (only opt-ins) (pkg/apis/maistra/conversion/proxy.go:178-190).
 * A workload the selectors may match counts as injected: a needless restart is safe, a missing one is not.
 */
export function ossm2Sidecar(mesh: Mesh, w: Workload): { injected: boolean; why: string } {
  if (w.hostNetwork) return { injected: false, why: 'it runs with hostNetwork, which OSSM 2 never injects' };
  const excluded = ossm2NamespaceExcluded(mesh, w.namespace);
  if (excluded) return { injected: false, why: `it has no sidecar: ${excluded}` };
  const value = w.sidecarInject;
  const where = w.podLabels[SIDECAR_INJECT] !== undefined ? 'label' : 'annotation';
  if (value !== '')
    return OPT_IN.has(value.toLowerCase())
      ? { injected: true, why: `its pod template opts in (${where} ${SIDECAR_INJECT}: "${value}")` }
      : { injected: false, why: `its pod template opts out (${where} ${SIDECAR_INJECT}: "${value}")` };
  const injection = valueAt(settingsOf(mesh.inventory.controlPlane), ['proxy', 'injection']);
  const selectors = ['neverInjectSelector', 'alwaysInjectSelector'].filter((k) => {
    const v = valueAt(injection, [k]);
    return Array.isArray(v) && v.length > 0;
  });
  if (selectors.length)
    return { injected: true, why: `the SMCP's spec.proxy.injection.${selectors[0]} may inject it (counted as injected)` };
  return valueAt(injection, ['autoInject']) === true
    ? { injected: true, why: "the SMCP's spec.proxy.injection.autoInject is true" }
    : { injected: false, why: `it has no sidecar: the SMCP injects only pods that opt in (${SIDECAR_INJECT}: "true")` };
}

const SIDECAR_INJECT = 'sidecar.istio.io/inject';

/**
 * Why Maistra's injector never sees the pods of a dumped namespace, or undefined: its webhook's namespaceSelector
 * requires `istio-injection NotIn [disabled]`, `istio-env DoesNotExist` and `maistra.io/ignore-namespace DoesNotExist`
 * (maistra/istio-operator@8143614c resources/helm/v2.5/istio-control/istio-discovery/templates/mutatingwebhook.yaml:38-51),
 * so no pod there got an OSSM 2 sidecar, opt-in or not. (Its `maistra.io/member-of In [cp]` is not read: the member
 * roll, which sets that label, is what makes the namespace a member here.)
 */
export function ossm2NamespaceExcluded(mesh: Mesh, namespace: string): string | undefined {
  const labels = mesh.inventory.namespaces.find((n) => n.name === namespace)?.labels ?? {};
  const label =
    labels['istio-injection'] === 'disabled'
      ? 'istio-injection: disabled'
      : ['istio-env', 'maistra.io/ignore-namespace'].find((k) => k in labels);
  return label === undefined ? undefined : `namespace ${namespace} has the label ${label}, which Maistra's injector webhook skips`;
}

/**
 * Whether OSSM 3 injects the workload's new pods, and why — 1.27's injectRequired (istio/istio@1.27.3
 * pkg/kube/inject/inject.go:199-315) with the SMCP's policy carried (lib/plan/smcp-settings.ts): never with hostNetwork;
 * the label (else annotation) decides only when it is exactly "true" or "false" — any other value ("yes", "on",
 * "True", which Maistra accepts) falls back to the selectors and the policy.
 */
export function ossm3Sidecar(mesh: Mesh, w: Workload): { injected: boolean; why: string } {
  if (w.hostNetwork) return { injected: false, why: 'it runs with hostNetwork, which OSSM 3 never injects' };
  if (injectionDisabledNamespaces(mesh, [w.namespace]).length)
    return { injected: false, why: `namespace ${w.namespace} keeps istio-injection: disabled, which OSSM 3's injector skips too` };
  if (w.sidecarInject === 'true' || w.sidecarInject === 'false')
    return { injected: w.sidecarInject === 'true', why: `its pod template says ${SIDECAR_INJECT}: "${w.sidecarInject}"` };
  const injection = valueAt(settingsOf(mesh.inventory.controlPlane), ['proxy', 'injection']);
  const selectors = ['neverInjectSelector', 'alwaysInjectSelector'].some((k) => {
    const v = valueAt(injection, [k]);
    return Array.isArray(v) && v.length > 0;
  });
  if (selectors) return { injected: true, why: 'the carried never/alwaysInjectSelector may inject it (counted as injected)' };
  const enabled = valueAt(injection, ['autoInject']) === true;
  const value = w.sidecarInject ? ` (OSSM 3 reads ${SIDECAR_INJECT}: "${w.sidecarInject}" as unset)` : '';
  return enabled
    ? { injected: true, why: `the carried autoInject policy is "enabled"${value}` }
    : { injected: false, why: `the carried autoInject policy is "disabled"${value}` };
}

/**
 * The member namespaces where imported hosts are visible: an imported ServiceEntry's exportTo ("*" every namespace,
 * "." its own: istio/istio@1.20.8 pilot/pkg/model/push_context.go:972-988 IsServiceVisible), and every namespace when
 * a service is imported into a local Service (importAsLocal: its WorkloadEntries join a Kubernetes Service, visible
 * everywhere unless that Service narrows it). meshfed check MF001 looks for network-less clients in the same namespaces.
 */
export function importVisibleNamespaces(ctx: ModelIndex, mesh: Mesh): string[] {
  const members = mesh.memberNamespaces;
  const local = ctx.importsInto(mesh.cluster).some((i) => i.localService);
  const exportTo = mesh.importExportTo;
  if (local || exportTo.includes('*')) return [...members];
  const visible = new Set(exportTo.map((n) => (n === '.' ? mesh.importNamespace : n)));
  return members.filter((n) => visible.has(n));
}

/** A member workload and whether the 03 restart restarts it: why, or why not. */
export interface NetworkRestartDecision {
  readonly workload: WorkloadRef;
  readonly restart: boolean;
  /**
   * restart, or why not: no OSSM 2 sidecar, no import visible in its namespace, the user's skipNetworkRestart, a paused
   * Deployment (which MF026 names: it needs the restart and the Job cannot give it one).
   */
  readonly reason: 'restart' | 'no-sidecar' | 'no-import-visible' | 'skipped' | 'paused';
  readonly why: string;
}

/**
 * Which member workloads the 03 restart restarts, each with its reason. 01's SMCP change sets spec.cluster.network;
 * of what 01 changes, only the network is read at injection time (ISTIO_META_NETWORK: istio/istio@1.20.8
 * manifests/charts/istio-control/istio-discovery/files/injection-template.yaml:304-307) — the trust domain aliases,
 * istiod's env and the NetworkPolicies reach proxies over xDS or not at all. A proxy without a network gets no
 * address-less WorkloadEntry (pilot/pkg/xds/endpoints/endpoint_builder.go:504-507), and those are exactly the
 * imported endpoints; every other endpoint is "same network" to it (pilot/pkg/model/context.go:752,
 * pkg/util/identifier IsSameOrEmpty). So a pod needs the restart only when it has an OSSM 2 sidecar and imported
 * hosts are visible in its namespace; spec.workloadRestart.skipNetworkRestart leaves more out (MF026 names each).
 */
export function networkRestartDecisions(ctx: ModelIndex, mesh: Mesh, diags?: Diagnostics): NetworkRestartDecision[] {
  const skipped = new Set(networkRestartSkips(mesh, diags).map(workloadKey));
  const visible = new Set(importVisibleNamespaces(ctx, mesh));
  const dumped = new Map(mesh.inventory.workloads.map((w) => [workloadKey(w), w]));
  return workloadsIn(mesh, mesh.memberNamespaces).map((ref) => {
    const sidecar = ossm2Sidecar(mesh, dumped.get(workloadKey(ref))!);
    if (!sidecar.injected) return { workload: ref, restart: false, reason: 'no-sidecar', why: sidecar.why };
    if (!visible.has(ref.namespace))
      return {
        workload: ref,
        restart: false,
        reason: 'no-import-visible',
        why: `no imported host is visible in ${ref.namespace} (spec.importedServices.exportTo: ${mesh.importExportTo.join(', ')})`,
      };
    if (skipped.has(workloadKey(ref)))
      return { workload: ref, restart: false, reason: 'skipped', why: 'spec.workloadRestart.skipNetworkRestart lists it' };
    const why = `${sidecar.why} and imported hosts are visible in ${ref.namespace}: its proxy must carry network ${mesh.network}`;
    return pausedDecision(dumped.get(workloadKey(ref))!, why) ?? { workload: { ...ref, why }, restart: true, reason: 'restart', why };
  });
}

/**
 * On a migrating importer, 03 also restarts the member workloads whose proxies must learn the network
 * (networkRestartDecisions): OSSM 2 injects ISTIO_META_NETWORK only into pods created after 01 set
 * spec.cluster.network (istio/istio@1.20.8 manifests/charts/istio-control/istio-discovery/files/injection-template.yaml:304-307),
 * and istiod drops every address-less WorkloadEntry for a proxy without a network (1.20.8
 * pilot/pkg/xds/endpoints/endpoint_builder.go:504-507, 1.27.3 :514-517; istio/istio#58612, fixed only in 1.30).
 * Without the restart, clients injected before 01 would get no endpoint for any import once 04 removes the
 * federation path. A PostSync hook: it runs once 03 synced, long after 01's SMCP change reconciled, and before
 * any 04 that affects these clients (every exporter's 04 waits for this cluster's 03).
 */
export function planNetworkRestart(ctx: ModelIndex, mesh: Mesh, diags?: Diagnostics): Resource[] {
  if (mesh.settings.mode === 'greenfield' || ctx.importsInto(mesh.cluster).length === 0) return [];
  return restartResources(mesh, {
    name: NETWORK_RESTART_NAME,
    namespace: mesh.controlPlane.namespace,
    annotation: NETWORK_RESTART_ANNOTATION,
    value: mesh.network,
    workloads: networkRestartDecisions(ctx, mesh, diags)
      .filter((d) => d.restart)
      .map((d) => d.workload),
    identity: { network: mesh.network },
  });
}

/** `<namespace>/<Kind>/<name>`: how spec.workloadRestart.skipNetworkRestart names a workload. */
export function workloadKey(w: WorkloadRef): string {
  return `${w.namespace}/${w.kind}/${w.name}`;
}

/**
 * The member workloads spec.workloadRestart.skipNetworkRestart leaves out of the 03 restart (meshfed check MF026
 * names each). An entry that names no dumped member workload is an error: the user meant one that would be restarted.
 */
export function networkRestartSkips(mesh: Mesh, diags?: Diagnostics): WorkloadRef[] {
  const listed = mesh.settings.workloadRestart.skipNetworkRestart;
  const known = new Map(workloadsIn(mesh, mesh.memberNamespaces).map((w) => [workloadKey(w), w]));
  listed.forEach((entry, i) => {
    if (!known.has(entry))
      diags?.error(
        mesh.settings.source.at(['spec', 'workloadRestart', 'skipNetworkRestart', i]),
        `${entry} is no Deployment, StatefulSet or DaemonSet of ${mesh.cluster}'s member namespaces in the dumps, so the 03 restart ` +
          'cannot leave it out (it would restart it).',
        `Write it as <namespace>/<Kind>/<name> as the dumps have it${known.size ? ` (e.g. ${[...known.keys()][0]})` : ''}, ` +
          'or dump the workload.',
      );
  });
  return listed.flatMap((e) => known.get(e) ?? []);
}

export const RESTART_NAME = 'meshfed-restart-workloads';

/**
 * Which member workloads the 06 restart restarts, each with its reason: every one with an OSSM 2 sidecar, which only
 * a new pod trades for OSSM 3's (the injector, proxy image and revision are written at injection), and every one
 * OSSM 3 would inject (ossm3Sidecar). One neither injects runs without a proxy before and after: nothing needs it
 * restarted. A greenfield mesh (no OSSM 2) restarts every workload, so they get sidecars.
 */
export function revisionRestartDecisions(mesh: Mesh): NetworkRestartDecision[] {
  const dumped = new Map(mesh.inventory.workloads.map((w) => [workloadKey(w), w]));
  return workloadsIn(mesh, mesh.memberNamespaces).map((ref) => {
    const w = dumped.get(workloadKey(ref))!;
    if (mesh.settings.mode === 'greenfield') return pausedDecision(w, '') ?? { workload: ref, restart: true, reason: 'restart', why: '' };
    const [before, after] = [ossm2Sidecar(mesh, w), ossm3Sidecar(mesh, w)];
    if (!before.injected && !after.injected)
      return { workload: ref, restart: false, reason: 'no-sidecar', why: `${before.why}, and OSSM 3 would not inject it either` };
    const why = before.injected
      ? `${before.why}: only a new pod gets OSSM 3's sidecar (revision ${mesh.ossm3.revision})`
      : `it has no OSSM 2 sidecar, but OSSM 3 injects its new pods: ${after.why}`;
    return pausedDecision(w, why) ?? { workload: { ...ref, why }, restart: true, reason: 'restart', why };
  });
}

/**
 * A paused Deployment the Job would restart is left out: a paused Deployment gets no new ReplicaSet for a template
 * change ("changes to the PodTemplateSpec of the paused Deployment will not trigger new rollouts as long as it is paused":
 * https://kubernetes.io/docs/concepts/workloads/controllers/deployment/#pausing-and-resuming-a-deployment), and
 * `kubectl rollout status` has no paused case (kubernetes/kubectl@v0.32.9 pkg/polymorphichelpers/rollout_status.go:59-91:
 * it waits while updated replicas are fewer than spec.replicas), so the Job would wait out the rollout timeout and fail.
 * MF026 names it, with `needs` (why it needs the restart).
 */
function pausedDecision(w: Workload, needs: string): NetworkRestartDecision | undefined {
  if (!w.paused) return undefined;
  const ref = { kind: w.kind, namespace: w.namespace, name: w.name };
  const why = `it is paused (spec.paused: true), so a restart would never roll out${needs ? `, though ${needs}` : ''}`;
  return { workload: ref, restart: false, reason: 'paused', why };
}

/**
 * 06-migrate-workloads (and a greenfield overlay): the Job that relabels the migrated namespaces for the
 * revision and restarts the member workloads with a sidecar (revisionRestartDecisions), so OSSM 3 injects them.
 */
export function planRevisionRestart(ctx: ModelIndex, mesh: Mesh): Resource[] {
  // Git adopts each dumped one with the label in this phase's first wave (north-south.ts planGatewayTakeover): the
  // Job labels only those Git cannot, so its ClusterRole gets no patch on a Namespace Git already labels (the
  // control plane's, whose PSA, revision and member labels that patch right would otherwise reach).
  const keep = injectionDisabledNamespaces(mesh, migratedNamespaces(ctx, mesh));
  const ignoreOnly = gatewayOnlyNamespaces(mesh, migratedNamespaces(ctx, mesh)).filter(
    (ns) => !mesh.inventory.namespaces.some((n) => n.name === ns),
  );
  return restartResources(mesh, {
    name: RESTART_NAME,
    namespace: mesh.ossm3.namespace,
    annotation: REVISION_RESTART_ANNOTATION,
    value: mesh.ossm3.revision,
    workloads: revisionRestartDecisions(mesh)
      .filter((d) => d.restart)
      .map((d) => d.workload),
    identity: { revision: mesh.ossm3.revision },
    // Greenfield installs the control plane in the same apply: pods restarted before the revision's webhook
    // exists would come back without a sidecar (Flux stages only CRDs, ClusterRoles and Namespaces before the
    // rest of one apply: fluxcd/pkg@e2cfd1a ssa/manager_apply.go:347-388).
    ...(mesh.settings.mode === 'greenfield'
      ? { waitFor: { kind: 'Deployment' as const, namespace: mesh.ossm3.namespace, name: `istiod-${mesh.ossm3.revision}` } }
      : {}),
    relabel: {
      namespaces: migratedNamespaces(ctx, mesh),
      set: revisionLabels(mesh),
      remove: ['istio-injection'],
      // Left out when empty, so the Job's name stays as it was.
      ...(keep.length ? { keepInjectionDisabled: keep } : {}),
      // The SMCP gateways' namespaces: meshfed's gateway pods carry the revision label themselves, and must
      // be injected by OSSM 3 only (the 2.6 injector would inject them too; sail-operator gateway-migration.md).
      // Left out when empty, so the Job's name (a hash of what it does) stays as it was.
      ...(ignoreOnly.length ? { ignoreOnly } : {}),
    },
  });
}

/** A greenfield overlay's restart on install: none when the workloads already run on the revision (a graduated migration). */
export function planInstallRestart(ctx: ModelIndex, mesh: Mesh): Resource[] {
  return mesh.settings.workloadRestart.onInstall ? planRevisionRestart(ctx, mesh) : [];
}

export type RestartJobResource = Extract<Resource, { type: 'restartJob' }>;

/**
 * The restart Jobs in a phase's desired state, as `contribute` below places them: 03's from 03 to 06, 06's in 06
 * (07 deletes both); a greenfield overlay's on install.
 */
export function restartJobsIn(ctx: ModelIndex, mesh: Mesh, phase: PhaseId): RestartJobResource[] {
  const jobs = (rs: Resource[]) => rs.filter((r): r is RestartJobResource => r.type === 'restartJob');
  if (phase === 'multicluster') return jobs(planInstallRestart(ctx, mesh));
  const i = phaseIndex(phase);
  return [
    ...(i >= phaseIndex('03-import') && i < phaseIndex('07-finalize') ? jobs(planNetworkRestart(ctx, mesh)) : []),
    ...(phase === '06-migrate-workloads' ? jobs(planRevisionRestart(ctx, mesh)) : []),
  ];
}

/**
 * The workload restarts: 03 restarts a migrating importer's workloads so their proxies carry its network,
 * 06 moves every workload to the revision; 07 removes both Jobs and their RBAC with the rest of OSSM 2.
 * restartJobsIn says the same per phase: change both together.
 */
export const contribute: Contribute = (ctx, mesh, diags) => {
  const network = planNetworkRestart(ctx, mesh, diags);
  const revision = planRevisionRestart(ctx, mesh);
  return {
    '03-import': { adds: network },
    '06-migrate-workloads': { adds: revision },
    '07-finalize': { deletes: [...network, ...revision].map((r) => r.ref) },
  };
};
