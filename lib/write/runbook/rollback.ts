import { kc, list, refName, uniq } from './format';
import { JsonObject } from '../../json';
import { HAND_OVER_LABELS_WHY } from '../../plan/names';
import { keptByGitOps } from '../../plan/namespaces';
import { MigrationPhase, PHASES, PhasePlan, Resource } from '../../plan/types';

/** Hooks: Jobs, and RBAC only a hook Job uses (HookRbacFields): Argo CD deletes them itself; not worth a line. */
const isHook = (a: Resource) => a.ref.kind === 'Job' || ('hook' in a && a.hook === true);

/** The Namespaces a phase adopts with maistra.io/ignore-namespace=true (06: SMCP gateways' namespaces, lib/plan/north-south.ts). */
function ignoredNamespaces(p: PhasePlan): string[] {
  return p.adds
    .filter((a) => a.type === 'adopted' && a.ref.kind === 'Namespace')
    .filter((a) => {
      const labels = ((a.type === 'adopted' ? a.body.metadata : undefined) as JsonObject | undefined)?.labels as Record<string, string>;
      return labels?.['maistra.io/ignore-namespace'] === 'true';
    })
    .map((a) => a.ref.name);
}

/** `kubectl delete <kinds> <name> -n <ns>` per namespace and name of hook RBAC. */
function hookRbacDeletes(cluster: string, rbac: Resource[]): string {
  const groups = new Map<string, Set<string>>();
  for (const r of rbac) {
    const key = `${r.ref.name} -n ${r.ref.namespace ?? ''}`;
    groups.set(key, (groups.get(key) ?? new Set()).add(r.ref.kind === 'ServiceAccount' ? 'sa' : r.ref.kind.toLowerCase()));
  }
  return [...groups].map(([key, kinds]) => `\`${kc(cluster)} delete ${[...kinds].join(',')} ${key} --ignore-not-found\``).join(', ');
}

/**
 * What rolling `phase` back does, for one cluster's phase plan `p`. The runbooks shorten long lists ("and N more");
 * `all` lists every object (the change record of `meshfed report`, which a change board signs).
 */
export function rollback(phase: MigrationPhase, p: PhasePlan, all = false): string {
  const max = all ? Infinity : 8;
  if (phase === '00-federation') {
    const app = `meshfed-${p.cluster}`;
    // The root Application (dist/argocd/root.yaml) and the Flux delivery apply the cluster's delivery object again with
    // the next commit or interval: they go first. Deleting either keeps what it applied (Delete=false on every object,
    // deletionPolicy: Orphan; lib/write/sync-waves.ts, lib/constructs/flux-sync.ts).
    return (
      `Rolling back means taking the delivery away. Argo CD: if you applied the root Application, stop it from ` +
      `re-creating \`${app}\` first (\`argocd app set meshfed --sync-policy none\`; no cluster's move is delivered until ` +
      `\`argocd app set meshfed --sync-policy automated\`), then delete \`${app}\`: every ` +
      'object it applied says `Delete=false` and it has no resources finalizer, so the mesh keeps running unmanaged. ' +
      `Flux: delete \`${app}-delivery\` first (it would apply \`${app}\` again), then \`${app}\`: both set ` +
      '`deletionPolicy: Orphan`, so everything they applied stays; the import Kustomizations (from 03) garbage-collect ' +
      'their imports. Namespaces that existed before meshfed are never pruned or deleted by either tool.'
    );
  }
  const prev = PHASES[PHASES.indexOf(phase) - 1];
  const parts = [`Set \`spec.phase: ${prev}\`, synth, commit.`];
  // Hooks go by their hook policy; what carries the keep annotations (Namespaces that existed before meshfed, the
  // Services and Routes taken from the operator, meshfed's members) is never pruned.
  const adds = p.adds.filter((a) => !isHook(a));
  const pruned = adds.filter((a) => !keptByGitOps(a));
  const kept = adds.filter(keptByGitOps);
  if (pruned.length)
    parts.push(
      `Prune deletes what this phase added: ${list(
        pruned.map((a) => refName(a.ref)),
        max,
      )}.`,
    );
  if (kept.length)
    parts.push(
      `Kept as they are (Argo CD \`Prune=false\`, Flux \`prune: disabled\`: neither deletes them): ${list(
        kept.map((a) => refName(a.ref)),
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
  // A kept Namespace is no longer applied, so the label 06 gave it stays; OSSM 2.4+ would inject there otherwise
  // (maistra/istio-operator pkg/controller/servicemesh/controlplane/namespace_labels.go; the 2.6 injector's webhook
  // selects `maistra.io/ignore-namespace DoesNotExist`).
  const ignored = phase === '06-migrate-workloads' ? ignoredNamespaces(p) : [];
  if (ignored.length)
    parts.push(
      `${ignored.map((n) => `\`${n}\``).join(', ')} keep${ignored.length === 1 ? 's' : ''} \`maistra.io/ignore-namespace=true\`: ` +
        'OSSM 2 injects no pod there until it is removed. If you stay at 05 for long and run OSSM 2-injected pods there, ' +
        `remove it: ${ignored.map((n) => `\`${kc(p.cluster)} label namespace ${n} maistra.io/ignore-namespace-\``).join(', ')} ` +
        '(06 sets it again).',
    );
  // Argo CD never prunes a hook (a live hook is no sync task: argo-cd@v3.4.0 gitops-engine/pkg/sync/sync_context.go,
  // "this creates garbage tasks"), and HookSucceeded deleted the hook RBAC only if the sync succeeded.
  const hookRbac = p.adds.filter((a) => isHook(a) && a.ref.kind !== 'Job');
  if (hookRbac.length)
    parts.push(
      `Argo CD prunes no hook: if the sync failed, the Job's RBAC is still there — delete it: ${hookRbacDeletes(p.cluster, hookRbac)}.`,
    );
  if (phase === '07-finalize') parts.push('This re-creates the OSSM 2 control plane from scratch; only roll back if you must.');
  // 06's hand-over labels and wave come back onto the Gateway: 1.27 copies them into its pods' template (gatewayRolls).
  const handedBack = p.patches.filter((x) => x.why === HAND_OVER_LABELS_WHY).map((x) => `\`${x.target.namespace}/${x.target.name}\``);
  if (handedBack.length)
    parts.push(
      `The pods of Gateway ${handedBack.join(', ')} roll again (06's hand-over labels come back, and Istio 1.27 copies a Gateway's ` +
        'labels into its pod template): their open connections, cross-cluster ones through an east-west gateway, close as each drains.',
    );
  return parts.join(' ');
}
