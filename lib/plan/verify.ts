import { API, ref } from './api-versions';
import { Contribute, Contribution, ObjectRef, PhaseId, phaseIndex, PHASES, Resource, VerifyProbeSpec } from './types';
import { dnsLabel, shortHash, uniqSorted } from '../model/names';
import { Mesh } from '../model/types';

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

/** The verify ServiceAccount, Roles and RoleBindings (added in 03). */
function verifyRbac(mesh: Mesh): Resource[] {
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
  ];
}

/** The verify Job of a phase; its name carries a hash of what it checks, so changed probes run again. */
export function verifyJobRef(mesh: Mesh, phase: PhaseId): ObjectRef {
  const hash = shortHash(JSON.stringify({ phase, probes: probes(mesh), image: mesh.restartImage }));
  return ref('batch/v1', 'Job', dnsLabel(VERIFY_NAME, phase.slice(0, 2), hash), mesh.ossm3.namespace);
}

/**
 * The phase's verification: in 03 the ServiceAccount and one Role per client namespace (exec into the
 * named Deployments only), then in every phase a Job that runs the probes; from 04 on the previous
 * phase's Job is deleted, so only the current one runs.
 */
export function planVerify(mesh: Mesh, phase: PhaseId): { adds: Resource[]; deletes: ObjectRef[] } {
  if (phase === '07-finalize' && mesh.settings.verify.length > 0) {
    // The last verify (06) ran: its Job and the RBAC go.
    return { adds: [], deletes: [verifyJobRef(mesh, LAST_VERIFIED_PHASE), ...verifyRbac(mesh).map((r) => r.ref)] };
  }
  if (!isVerified(mesh, phase)) return { adds: [], deletes: [] };
  const sa = ref(API.namespace, 'ServiceAccount', VERIFY_NAME, mesh.ossm3.namespace);
  const adds: Resource[] = phase === FIRST_VERIFIED_PHASE || phase === 'multicluster' ? verifyRbac(mesh) : [];
  adds.push({
    type: 'verifyJob',
    ref: verifyJobRef(mesh, phase),
    serviceAccount: sa,
    image: mesh.restartImage,
    phase,
    probes: probes(mesh),
  });
  const deletes = phase === FIRST_VERIFIED_PHASE || phase === 'multicluster' ? [] : [verifyJobRef(mesh, PHASES[phaseIndex(phase) - 1])];
  return { adds, deletes };
}

/** Every migration phase's verification (planVerify). */
export const contribute: Contribute = (_ctx, mesh) => {
  const out: Contribution = {};
  for (const phase of PHASES) out[phase] = planVerify(mesh, phase);
  return out;
};
