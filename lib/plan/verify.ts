import { API, ref } from './api-versions';
import { restartDeadlineSeconds, restartJobsIn } from './restart';
import { AwaitedJob, Contribute, Contribution, ObjectRef, PhaseId, phaseIndex, PHASES, Resource, VerifyProbeSpec } from './types';
import { ModelIndex } from '../model/model-index';
import { dnsLabel, shortHash, uniqSorted } from '../model/names';
import { Mesh } from '../model/types';
import { byKey } from '../sort';

export const VERIFY_NAME = 'meshfed-verify';
/** Verification runs after every phase from 03-import on: from then on, cross-mesh traffic can use the new path. */
export const FIRST_VERIFIED_PHASE: PhaseId = '03-import';

function probes(mesh: Mesh): VerifyProbeSpec[] {
  return mesh.settings.verify.map((p) => ({
    namespace: p.from.namespace,
    deployment: p.from.deployment,
    container: p.from.container ?? p.from.deployment,
    url: p.url,
  }));
}

/**
 * The last migration phase with a verify Job. 07 only removes OSSM 2, and it removes the verify RBAC: its
 * Role grants pods/exec on every pod of the probe namespaces (resourceNames cannot narrow pods/exec to
 * pods with generated names), which must not outlive the migration. The runbook's
 * 07 verification runs the same probes by hand.
 */
const LAST_VERIFIED_PHASE: PhaseId = '06-migrate-workloads';

export function isVerified(mesh: Mesh, phase: PhaseId): boolean {
  if (mesh.settings.verify.length === 0) return false;
  if (phase === 'multicluster') return true;
  return phaseIndex(phase) >= phaseIndex(FIRST_VERIFIED_PHASE) && phaseIndex(phase) <= phaseIndex(LAST_VERIFIED_PHASE);
}

/** The Role (and binding) in a restart Job's namespace that lets the verify Job read it. */
export const VERIFY_JOBS_NAME = 'meshfed-verify-jobs';

/** The restart Jobs the verify Job of `phase` waits for, each with its deadline. */
function awaited(ctx: ModelIndex, mesh: Mesh, phase: PhaseId): AwaitedJob[] {
  return restartJobsIn(ctx, mesh, phase)
    .map((j) => ({
      name: j.ref.name,
      namespace: j.ref.namespace!,
      deadlineSeconds: restartDeadlineSeconds(j.workloads.length, j.maxConcurrent, j.rolloutTimeoutSeconds, j.waitFor !== undefined),
    }))
    .sort(
      byKey(
        (j) => j.namespace,
        (j) => j.name,
      ),
    );
}

/**
 * What the verify Job may read of the restart Jobs, one Role per namespace: the RBAC is added once (03, or the
 * greenfield overlay) and serves every verified phase, so it names each restart Job of those phases — 03's and,
 * before it exists, 06's. Reading a Job that is not there yet grants nothing else.
 */
function waitRbac(ctx: ModelIndex, mesh: Mesh, sa: ObjectRef, phases: readonly PhaseId[]): Resource[] {
  const jobs = uniqSorted(phases.flatMap((p) => awaited(ctx, mesh, p)).map((j) => `${j.namespace}/${j.name}`));
  return uniqSorted(jobs.map((j) => j.split('/')[0])).flatMap((ns): Resource[] => [
    {
      type: 'verifyJobsRole',
      ref: ref('rbac.authorization.k8s.io/v1', 'Role', VERIFY_JOBS_NAME, ns),
      jobs: jobs.filter((j) => j.startsWith(`${ns}/`)).map((j) => j.slice(ns.length + 1)),
    },
    { type: 'roleBinding', ref: ref('rbac.authorization.k8s.io/v1', 'RoleBinding', VERIFY_JOBS_NAME, ns), serviceAccount: sa },
  ]);
}

/** The verified phases the RBAC of `phase` (03 or the greenfield overlay) serves. */
function servedPhases(phase: PhaseId): PhaseId[] {
  if (phase === 'multicluster') return ['multicluster'];
  return PHASES.filter((p) => phaseIndex(p) >= phaseIndex(FIRST_VERIFIED_PHASE) && phaseIndex(p) <= phaseIndex(LAST_VERIFIED_PHASE));
}

/** The verify ServiceAccount, Roles and RoleBindings (added in 03, or with the greenfield overlay). */
function verifyRbac(ctx: ModelIndex, mesh: Mesh, phase: PhaseId): Resource[] {
  const sa = ref(API.namespace, 'ServiceAccount', VERIFY_NAME, mesh.ossm3.namespace);
  const ps = probes(mesh);
  return [
    { type: 'serviceAccount', ref: sa },
    ...uniqSorted(ps.map((p) => p.namespace)).flatMap((ns): Resource[] => [
      {
        type: 'verifyRole',
        ref: ref('rbac.authorization.k8s.io/v1', 'Role', VERIFY_NAME, ns),
        deployments: uniqSorted(ps.filter((p) => p.namespace === ns).map((p) => p.deployment)),
      },
      { type: 'roleBinding', ref: ref('rbac.authorization.k8s.io/v1', 'RoleBinding', VERIFY_NAME, ns), serviceAccount: sa },
    ]),
    ...waitRbac(ctx, mesh, sa, servedPhases(phase)),
  ];
}

/**
 * The verify Job of a phase; its name carries a hash of what it does (the Jobs it waits for too), so changed
 * probes run again.
 */
export function verifyJobRef(ctx: ModelIndex, mesh: Mesh, phase: PhaseId): ObjectRef {
  const after = awaited(ctx, mesh, phase).map((j) => `${j.namespace}/${j.name}`);
  const hash = shortHash(JSON.stringify({ phase, probes: probes(mesh), image: mesh.restartImage, ...(after.length ? { after } : {}) }));
  return ref('batch/v1', 'Job', dnsLabel(VERIFY_NAME, phase.slice(0, 2), hash), mesh.ossm3.namespace);
}

/**
 * The phase's verification: in 03 the ServiceAccount, one Role per client namespace (exec into the
 * named Deployments only) and one per restart Job namespace (read those Jobs), then in every phase a Job
 * that waits for the phase's restart Jobs and runs the probes; from 04 on the previous phase's Job is
 * deleted, so only the current one runs.
 */
export function planVerify(ctx: ModelIndex, mesh: Mesh, phase: PhaseId): { adds: Resource[]; deletes: ObjectRef[] } {
  if (phase === '07-finalize' && mesh.settings.verify.length > 0) {
    // The last verify (06) ran: its Job and the RBAC go.
    return {
      adds: [],
      deletes: [verifyJobRef(ctx, mesh, LAST_VERIFIED_PHASE), ...verifyRbac(ctx, mesh, FIRST_VERIFIED_PHASE).map((r) => r.ref)],
    };
  }
  if (!isVerified(mesh, phase)) return { adds: [], deletes: [] };
  const sa = ref(API.namespace, 'ServiceAccount', VERIFY_NAME, mesh.ossm3.namespace);
  const first = phase === FIRST_VERIFIED_PHASE || phase === 'multicluster';
  const adds: Resource[] = first ? verifyRbac(ctx, mesh, phase) : [];
  const after = awaited(ctx, mesh, phase);
  adds.push({
    type: 'verifyJob',
    ref: verifyJobRef(ctx, mesh, phase),
    serviceAccount: sa,
    image: mesh.restartImage,
    phase,
    probes: probes(mesh),
    ...(after.length ? { after } : {}),
  });
  const deletes = first ? [] : [verifyJobRef(ctx, mesh, PHASES[phaseIndex(phase) - 1])];
  return { adds, deletes };
}

/** Every migration phase's verification (planVerify). */
export const contribute: Contribute = (ctx, mesh) => {
  const out: Contribution = {};
  for (const phase of PHASES) out[phase] = planVerify(ctx, mesh, phase);
  return out;
};
