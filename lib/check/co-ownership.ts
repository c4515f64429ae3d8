import { CheckContext } from './context';
import { Finding } from './finding';
import { writtenPhases } from './pitfalls';
import { isObject, pointerKey } from '../json';
import { gitOpsOwner } from '../load/strip';
import { SourceObject } from '../load/yaml-source';
import { Mesh } from '../model/types';
import { ObjectRef, Patch, Resource } from '../plan/types';
import { compareStrings } from '../sort';

/**
 * The kinds the loader already names when another delivery tracks them (MF024: what 00 adopts from the control plane);
 * this rule covers everything else meshfed changes later.
 */
const ADOPTED_AT_00 = new Set([
  'ServiceMeshControlPlane',
  'ServiceMeshMemberRoll',
  'ServiceMeshMember',
  'ServiceMeshPeer',
  'ExportedServiceSet',
  'ImportedServiceSet',
  'ConfigMap',
  'Namespace',
]);

const key = (kind: string, namespace: string | undefined, name: string) => `${kind}/${namespace ?? ''}/${name}`;

/** Every dumped object of a mesh that the loader kept with its source, by kind, namespace and name. */
function dumpedObjects(mesh: Mesh): Map<string, SourceObject> {
  const out = new Map<string, SourceObject>();
  const visit = (v: unknown) => {
    if (Array.isArray(v)) v.forEach(visit);
    else if (v && typeof v === 'object' && 'source' in v && (v as { source: unknown }).source instanceof SourceObject) {
      const s = (v as { source: SourceObject }).source;
      out.set(key(s.kind, s.namespace, s.name), s);
    }
  };
  for (const v of Object.values(mesh.inventory)) visit(v);
  return out;
}

/** What meshfed does to a dumped object from a phase: patch or adopt it (its owner reverts that), or restart it. */
interface Touch {
  readonly ref: ObjectRef;
  readonly how: string;
  readonly kind: 'patch' | 'adopt' | 'restart';
  /** The fields meshfed writes, as JSON pointers. */
  readonly fields: string[];
}

/** The JSON pointers a patch writes: `/spec/rules` for a merge patch's `spec.rules`, each op's path for a JSON patch. */
function patchFields(p: Patch): string[] {
  if (p.type === 'json6902') return [...new Set(p.ops.map((o) => o.path))].sort(compareStrings);
  return Object.entries(p.patch)
    .flatMap(([k, v]) => (isObject(v) ? Object.keys(v).map((k2) => `/${pointerKey(k)}/${pointerKey(k2)}`) : [`/${pointerKey(k)}`]))
    .sort(compareStrings);
}

/** What a phase does to dumped objects: patches, adoptions, and the workloads its restart Jobs patch. */
function touched(adds: readonly Resource[], patches: readonly Patch[]): Touch[] {
  return [
    ...patches.map((p) => ({ ref: p.target, how: `patches it (${p.why})`, kind: 'patch' as const, fields: patchFields(p) })),
    ...adds
      .filter((a) => a.type === 'adopted')
      .map((a) => ({ ref: a.ref, how: 'adopts it (its whole desired state is then in Git)', kind: 'adopt' as const, fields: ['/spec'] })),
    ...adds
      .filter((a): a is Extract<Resource, { type: 'restartJob' }> => a.type === 'restartJob')
      .flatMap((j) =>
        j.workloads.map((w) => ({
          ref: { apiVersion: 'apps/v1', kind: w.kind, namespace: w.namespace, name: w.name },
          how: `restarts it: Job ${j.ref.name} patches its pod template annotation ${j.annotation}`,
          kind: 'restart' as const,
          fields: [`/spec/template/metadata/annotations/${pointerKey(j.annotation)}`],
        })),
      ),
  ];
}

/**
 * The hand-off for an object another delivery tracks: to meshfed alone, in two commits, both synced before meshfed's
 * delivery first applies the object (`declaredFrom`). Each step cited:
 * - Argo CD: no shared ownership. Each application stamps its own tracking id on what it applies
 *   (argoproj/argo-cd@37ee0097 controller/state.go:796) and reports another application's object as a
 *   SharedResourceWarning (:858-864), so two applications declaring one object re-stamp it on every sync, and one with
 *   FailOnSharedResource=true fails (docs/user-guide/sync-options.md:400-411); ignoreDifferences does not cover the
 *   tracking id. Prune=false is read from the LIVE object (argoproj/gitops-engine@5baed56 pkg/sync/sync_context.go:1224),
 *   so the annotation must reach the cluster (commit, sync) before the object leaves the source (second commit, sync);
 *   in one commit the application prunes it. `argocd.argoproj.io/compare-options: IgnoreExtraneous`
 *   (docs/user-guide/compare-options.md:10-34) keeps it from showing OutOfSync until meshfed's sync re-stamps it.
 * - Flux: the label `kustomize.toolkit.fluxcd.io/prune: disabled`, which garbage collection reads from the in-cluster
 *   object (fluxcd/kustomize-controller@186fb3b internal/controller/kustomization_controller.go:1410-1414 deleteObjects
 *   Exclusions; fluxcd/pkg@e2cfd1a ssa/manager_delete.go:87), so the same two commits. Not
 *   `kustomize.toolkit.fluxcd.io/reconcile: disabled`: Flux skips applying an object whose desired OR live metadata
 *   carries it (kustomization_controller.go:860-862 ExclusionSelector; ssa/manager_apply.go:550-551), so once on the
 *   live object it would stop meshfed's own Kustomization too when Flux delivers meshfed's phases.
 */
function handOff(owner: string, label: string, declaredFrom: string): string {
  const before = `Hand it over before you sync ${declaredFrom}, where meshfed's delivery first applies it`;
  if (owner.startsWith('Flux')) {
    const [ns, name] = (/Kustomization (\S+)/.exec(owner)?.[1] ?? 'flux-system/<name>').split('/');
    const reconcile = `flux reconcile kustomization ${name} -n ${ns} --with-source`;
    return (
      `${before}, in two commits (Flux's garbage collection reads prune: disabled from the in-cluster object: fluxcd/pkg ` +
      `ssa/manager_delete.go:87): 1. in ${owner}'s source, label ${label} kustomize.toolkit.fluxcd.io/prune: disabled; ` +
      `commit and run ${reconcile}; 2. then remove it from that source; commit and reconcile again: Flux drops it from its ` +
      'inventory and leaves it in place. Do not use kustomize.toolkit.fluxcd.io/reconcile: disabled: Flux skips an object ' +
      "whose live metadata carries it (fluxcd/pkg ssa/manager_apply.go:550-551), meshfed's own Kustomization included"
    );
  }
  const app = /application (\S+)/.exec(owner)?.[1] ?? 'that application';
  return (
    `${before} (two Argo CD applications declaring one object re-stamp its tracking id on every sync: argo-cd ` +
    `controller/state.go:796, :858-864), in two commits (Argo CD reads Prune=false from the live object: gitops-engine ` +
    `pkg/sync/sync_context.go:1224): 1. in ${app}'s source, annotate ${label} argocd.argoproj.io/sync-options: Prune=false ` +
    `and argocd.argoproj.io/compare-options: IgnoreExtraneous; commit and sync ${app}; 2. then remove it from ${app}'s ` +
    `source; commit and sync ${app} again: it stays in place ("ignored (no prune)") for meshfed's application to take over`
  );
}

/** One co-owned object meshfed changes: where, by whom it is tracked, how and from which phase. */
export interface CoOwned {
  readonly mesh: Mesh;
  readonly source: SourceObject;
  readonly owner: string;
  readonly phase: string;
  /** The first phase whose rendered output declares the object (an adoption, 00 for MF002's policies); else `phase`. */
  readonly declaredFrom: string;
  readonly touch: Touch;
}

/** Every dumped object meshfed changes after 00 that another delivery tracks, once, at the first phase that changes it. */
export function coOwnedObjects(c: CheckContext): CoOwned[] {
  const out: CoOwned[] = [];
  for (const mesh of c.model.meshes) {
    const dumped = dumpedObjects(mesh);
    const seen = new Set<string>();
    const written = writtenPhases(c).filter((x) => x.mesh === mesh);
    const declaredFrom = (k: string, phase: string) =>
      written.find((w) => w.phasePlan.adds.some((a) => a.type === 'adopted' && key(a.ref.kind, a.ref.namespace, a.ref.name) === k))
        ?.phasePlan.phase ?? phase;
    for (const w of written) {
      const { phase, adds, patches } = w.phasePlan;
      if (phase === '00-federation') continue;
      for (const t of touched(adds, patches)) {
        const k = key(t.ref.kind, t.ref.namespace, t.ref.name);
        if (seen.has(k) || ADOPTED_AT_00.has(t.ref.kind)) continue;
        const src = dumped.get(k);
        const owner = src && gitOpsOwner(src.value);
        if (!src || !owner) continue;
        seen.add(k);
        out.push({ mesh, source: src, owner, phase, declaredFrom: declaredFrom(k, phase), touch: t });
      }
    }
  }
  return out;
}

/**
 * MF029 co-ownership: an object meshfed patches, adopts or restarts after 00 that another Argo CD application or Flux
 * Kustomization tracks (its tracking annotation or label is in the dump). A patch or an adoption is refused (an error)
 * until it is handed over: that delivery's next sync reverts meshfed's fields where it self-heals (argo-cd
 * docs/user-guide/auto_sync.md, "Automatic Self-Healing"; Flux corrects drift of every field it applies with
 * server-side apply: fluxcd/pkg ssa), and deletes the object if it prunes what it no longer declares: an ALLOW
 * policy losing the federation callers meshfed added, a gateway Service changing hands. `spec.acknowledge: [MF029]`
 * with `spec.acknowledgeReasons.MF029` says the hand-off is done: the finding is then an acknowledged warning and the
 * runbook prints the reason. A restart only writes a pod template annotation the other delivery does not declare, which
 * it keeps: Argo CD's three-way diff and apply only remove fields of its own last-applied state
 * (argoproj/gitops-engine@5baed56 pkg/diff/diff.go:689-700 ThreeWayDiff), server-side apply only fields its manager
 * owns (Flux, Argo CD ServerSideApply=true): a warning, so the owners know their workload restarts.
 */
export function checkCoOwnership(c: CheckContext): Finding[] {
  return coOwnedObjects(c).map(({ mesh, source: src, owner, phase, declaredFrom, touch: t }) => {
    const acknowledged = mesh.settings.acknowledge.includes('MF029');
    const restart = t.kind === 'restart';
    return {
      rule: 'MF029',
      severity: restart || acknowledged ? 'warning' : 'error',
      cluster: mesh.cluster,
      location: src.at(['metadata']),
      phase,
      problem: restart
        ? `${src.label} is tracked by ${owner}, and meshfed ${t.how} from ${phase}: its pods restart under that delivery's ` +
          'feet (it keeps the annotation: it does not declare it).'
        : `${src.label} is tracked by ${owner}, and meshfed ${t.how} from ${phase}: that delivery's next sync reverts ` +
          "meshfed's change where it self-heals, and deletes the object if it prunes what it no longer declares.",
      fix: restart
        ? `Tell ${owner.replace(/ \(.*\)$/, '')}'s owners, or list it in spec.workloadRestart.skipNetworkRestart ` +
          `(${t.ref.namespace}/${t.ref.kind}/${t.ref.name}: MF026 then names what it loses); acknowledge MF029 if they know.`
        : `${handOff(owner, src.label, declaredFrom)}. Then acknowledge in clusters/${mesh.cluster}/cluster.yaml: ` +
          'spec.acknowledge: [MF029] and spec.acknowledgeReasons.MF029: "<what was handed over, and how>" (the runbook prints it).',
    };
  });
}
