import { list, refName, uniq } from './format';
import { MigrationPhase, PHASES, PhasePlan, Resource } from '../../plan/types';

/**
 * What rolling `phase` back does, for one cluster's phase plan `p`. The runbooks shorten long lists ("and N more");
 * `all` lists every object (the change record of `meshfed report`, which a change board signs).
 */
export function rollback(phase: MigrationPhase, p: PhasePlan, all = false): string {
  const max = all ? Infinity : 8;
  if (phase === '00-federation')
    return (
      'Rolling back means taking the delivery away. Argo CD: delete the Application; it has no resources ' +
      'finalizer, so the mesh keeps running unmanaged. Flux: the Kustomization has a finalizer, but ' +
      "meshfed's phase Kustomization sets `deletionPolicy: Orphan`, so deleting it leaves everything it " +
      'applied; the import Kustomizations (from 03) garbage-collect their imports. Namespaces that existed ' +
      'before meshfed are never pruned or deleted by either tool.'
    );
  const prev = PHASES[PHASES.indexOf(phase) - 1];
  const parts = [`Set \`spec.phase: ${prev}\`, synth, commit.`];
  // Jobs are hooks (deleted by their hook policy); Namespaces that existed before meshfed are never pruned.
  const kept = (a: Resource) => (a.type === 'namespace' && a.keep === true) || (a.type === 'adopted' && a.ref.kind === 'Namespace');
  const pruned = p.adds.filter((a) => a.ref.kind !== 'Job' && !kept(a));
  if (pruned.length)
    parts.push(
      `Prune deletes what this phase added: ${list(
        pruned.map((a) => refName(a.ref)),
        max,
      )}.`,
    );
  if (p.deletes.length) parts.push(`What it deleted is created again: ${list(p.deletes.map(refName), max)}.`);
  if (p.patches.length)
    parts.push(`Its patches are reverted (${list(uniq(p.patches.map((x) => refName(x.target))), all ? Infinity : 6)}).`);
  if (phase === '04-remove-federation')
    parts.push(
      'The federation comes back: the sets are applied again on gateways and peers that never left (same addresses); ' +
        'until Maistra has imported again, only the new path carries traffic.',
    );
  if (phase === '06-migrate-workloads')
    parts.push('Workloads keep their OSSM 3 sidecars until they restart: restart them after the rollback (`kubectl rollout restart`).');
  if (phase === '06-migrate-workloads' && p.adds.some((r) => r.type === 'gatewayDeployment'))
    parts.push("The SMCP's gateway pods never stopped and serve alone again; IOR comes back on (the Routes it made keep their names).");
  if (phase === '07-finalize') parts.push('This re-creates the OSSM 2 control plane from scratch; only roll back if you must.');
  return parts.join(' ');
}
