import { CheckContext } from './context';
import { Finding } from './finding';
import { ExportSet, ImportSet, StatusEntry } from '../load/inventory-types';
import { Mesh } from '../model/types';

/** What a set's live status entry is, as the user names it in spec.intendedRemovals. */
function removalKeys(e: StatusEntry): string[] {
  return [e.exportedName, e.localService.hostname].filter(Boolean);
}

function lostImportProblem(mesh: Mesh, set: ImportSet, lost: StatusEntry[], linked: boolean): string {
  const them = lost.length > 1 ? 'them' : 'it';
  const what = lost.map((e) => `${e.exportedName} as ${e.localService.hostname}`).join(', ');
  const why = linked ? 'its rules no longer match them' : `no ServiceMeshPeer named ${set.name} pairs with it`;
  return (
    `ImportedServiceSet ${set.namespace}/${set.name} imports ${what} today (its status), but this render ` +
    `imports ${them} no more (${why}): once GitOps prunes, ${mesh.cluster}'s clients lose ${them}.`
  );
}

function lostExportProblem(set: ExportSet, lost: StatusEntry[], linked: boolean): string {
  const what = lost.map((e) => `${e.localService.namespace}/${e.localService.name} as ${e.exportedName}`).join(', ');
  const why = linked ? 'its rules match no such Service in the dumps' : `no ServiceMeshPeer named ${set.name} pairs with it`;
  return (
    `ExportedServiceSet ${set.namespace}/${set.name} exports ${what} today (its status), but this render ` +
    `exports ${lost.length > 1 ? 'them' : 'it'} no more (${why}): the peer loses ${lost.length > 1 ? 'them' : 'it'} when GitOps prunes.`
  );
}

const FIX =
  'If this is a mistake (a renamed set, a missing dump file, a changed Service), fix the input; if the removal is ' +
  'intended, list the names in spec.intendedRemovals of this cluster.yaml.';

/**
 * MF014: continuity against what runs. The dumped ExportedServiceSet/ImportedServiceSet status lists what
 * each set exports and imports on the live mesh today; a render that no longer delivers one of them
 * removes it from every state GitOps applies (from 00 on), so it is an error unless the cluster's
 * spec.intendedRemovals names it.
 */
export function checkLiveContinuity({ model, ctx }: CheckContext): Finding[] {
  const out: Finding[] = [];
  for (const mesh of model.meshes.filter((m) => !m.virtual)) {
    const intended = new Set(mesh.settings.intendedRemovals);
    const keep = (e: StatusEntry) => !removalKeys(e).some((k) => intended.has(k));
    const links = ctx.linksOf(mesh.cluster);
    for (const set of mesh.inventory.importSets) {
      const link = links.find((l) => l.importSet === set);
      const imported = new Set(
        ctx
          .importsInto(mesh.cluster)
          .filter((i) => i.link === link)
          .map((i) => `${i.export.exportedHostname}>${i.hostname}`),
      );
      const lost = (set.status ?? [])
        .filter((e) => e.localService.hostname && !imported.has(`${e.exportedName}>${e.localService.hostname}`))
        .filter(keep);
      if (lost.length === 0) continue;
      out.push({
        rule: 'MF014',
        severity: 'error',
        cluster: mesh.cluster,
        location: set.source.at(['status']),
        problem: lostImportProblem(mesh, set, lost, link !== undefined),
        fix: FIX,
      });
    }
    for (const set of mesh.inventory.exportSets) {
      const link = links.find((l) => l.exportSet === set);
      const exported = new Set(model.exports.filter((e) => e.link === link).map((e) => e.exportedHostname));
      const lost = (set.status ?? []).filter((e) => !exported.has(e.exportedName)).filter(keep);
      if (lost.length === 0) continue;
      out.push({
        rule: 'MF014',
        severity: 'error',
        cluster: mesh.cluster,
        location: set.source.at(['status']),
        problem: lostExportProblem(set, lost, link !== undefined),
        fix: FIX,
      });
    }
  }
  return out;
}
