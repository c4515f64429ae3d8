import { CheckContext } from './context';
import { Finding } from './finding';
import { writtenPhases } from './pitfalls';
import { gitOpsOwner } from '../load/strip';
import { SourceObject } from '../load/yaml-source';
import { Mesh } from '../model/types';
import { ObjectRef, Resource } from '../plan/types';

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

/** What a phase does to dumped objects: patches, adoptions, and the workloads its restart Jobs patch. */
function touched(adds: readonly Resource[], patches: readonly { target: ObjectRef; why: string }[]): { ref: ObjectRef; how: string }[] {
  return [
    ...patches.map((p) => ({ ref: p.target, how: `patches it (${p.why})` })),
    ...adds.filter((a) => a.type === 'adopted').map((a) => ({ ref: a.ref, how: 'adopts it (its whole desired state is then in Git)' })),
    ...adds
      .filter((a): a is Extract<Resource, { type: 'restartJob' }> => a.type === 'restartJob')
      .flatMap((j) =>
        j.workloads.map((w) => ({
          ref: { apiVersion: 'apps/v1', kind: w.kind, namespace: w.namespace, name: w.name },
          how: `restarts it: Job ${j.ref.name} patches its pod template annotation ${j.annotation}`,
        })),
      ),
  ];
}

/**
 * MF029 co-ownership: an object meshfed patches, adopts or restarts after 00 that another Argo CD application or Flux
 * Kustomization tracks (its tracking annotation or label is in the dump). That delivery's next sync reverts meshfed's
 * change where it self-heals (argo-cd docs/user-guide/auto_sync.md, "Automatic Self-Healing"; Flux corrects drift of
 * every field it applies with server-side apply: fluxcd/pkg ssa), and prunes the object if it drops it: an ALLOW policy
 * losing the federation callers meshfed added, a workload restarted twice, a gateway Service changing hands.
 * Warned once per object, at the first phase that changes it.
 */
export function checkCoOwnership(c: CheckContext): Finding[] {
  const out: Finding[] = [];
  for (const mesh of c.model.meshes) {
    const dumped = dumpedObjects(mesh);
    const seen = new Set<string>();
    for (const w of writtenPhases(c).filter((x) => x.mesh === mesh)) {
      const { phase, adds, patches } = w.phasePlan;
      if (phase === '00-federation') continue;
      for (const t of touched(adds, patches)) {
        const k = key(t.ref.kind, t.ref.namespace, t.ref.name);
        if (seen.has(k) || ADOPTED_AT_00.has(t.ref.kind)) continue;
        const src = dumped.get(k);
        const owner = src && gitOpsOwner(src.value);
        if (!src || !owner) continue;
        seen.add(k);
        out.push({
          rule: 'MF029',
          severity: 'warning',
          cluster: mesh.cluster,
          location: src.at(['metadata']),
          phase,
          problem:
            `${src.label} is tracked by ${owner}, and meshfed ${t.how} from ${phase}: that delivery's next sync reverts ` +
            "meshfed's change where it self-heals, and deletes the object if it prunes what it no longer declares.",
          fix:
            `Before ${phase}, make one owner: carry meshfed's change in that application's own source (the render of ` +
            `${phase} shows it), or take the object out of it with its prune disabled for it; then acknowledge MF029 for it.`,
        });
      }
    }
  }
  return out;
}
