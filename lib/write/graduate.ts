import { toYaml } from './yaml';
import { JsonObject, mergeJson } from '../json';
import { stripServerFields } from '../load/strip';
import { FederationModel, Mesh } from '../model/types';
import { handedOverBody, takenOver } from '../plan/north-south';
import { settingsOf } from '../plan/smcp-settings';
import { Plan } from '../plan/types';

/** Kinds that exist only while OSSM 2 runs: never part of a graduated declaration. */
const OSSM2_ONLY = new Set(['ServiceMeshControlPlane', 'ServiceMeshMemberRoll', 'ServiceMeshMember']);
const FEDERATION = new Set(['ServiceMeshPeer', 'ExportedServiceSet', 'ImportedServiceSet']);

const HEADER = (cluster: string, what: string) =>
  `${what}\nWritten by meshfed graduate from clusters/${cluster}/ at 07-finalize; yours to edit from now on (docs/gitops.md).`;

/** A Namespace's labels at 07-finalize: as dumped, with every phase's merge patches and label removals applied. */
function finalLabels(plan: Plan, cluster: string, name: string, dumped: Record<string, string>): Record<string, string> {
  let labels: Record<string, string | null> = { ...dumped };
  for (const p of plan.byCluster[cluster]) {
    for (const patch of p.patches) {
      if (patch.target.kind !== 'Namespace' || patch.target.name !== name) continue;
      if (patch.type === 'merge') {
        const add = ((patch.patch.metadata as JsonObject | undefined)?.labels ?? {}) as Record<string, string | null>;
        labels = mergeJson(labels as JsonObject, add as JsonObject) as Record<string, string | null>;
      } else {
        for (const op of patch.ops) {
          const m = /^\/metadata\/labels\/(.+)$/.exec(op.path);
          if (op.op === 'remove' && m) delete labels[m[1].replace(/~1/g, '/').replace(/~0/g, '~')];
        }
      }
    }
  }
  return Object.fromEntries(Object.entries(labels).filter((e): e is [string, string] => typeof e[1] === 'string'));
}

function clusterYaml(mesh: Mesh): string {
  const value = JSON.parse(JSON.stringify(mesh.settings.source.value)) as { spec: JsonObject };
  const spec = value.spec;
  delete spec.phase;
  spec.mode = 'greenfield';
  spec.trustDomain = mesh.trustDomain;
  spec.ossm3 = { ...((spec.ossm3 as JsonObject | undefined) ?? {}), namespace: mesh.ossm3.namespace };
  // The workloads run on the revision already: installing the graduated overlay restarts nothing.
  spec.workloadRestart = { ...((spec.workloadRestart as JsonObject | undefined) ?? {}), onInstall: false };
  return toYaml(
    value,
    HEADER(mesh.cluster, `Cluster ${mesh.cluster}, graduated: a greenfield declaration of the end state of its migration.`),
  );
}

/**
 * clusters/ rewritten as greenfield declarations of where the migration ended (every cluster at
 * 07-finalize): per cluster its settings (mode: greenfield, its trust domain and OSSM 3 namespace, no
 * restart on install), control-plane.yaml (the settings the SMCP ran with, complete, which OSSM 3
 * carries), federation/ (its ServiceMeshPeers and export and import sets, as declarations), inventory/
 * (every other dumped object, Namespaces with the labels 07 gave them) and its public root. Rendered, it
 * gives the objects of 07-finalize and its import folders byte for byte, without the migration's Jobs.
 * Paths are relative to the new clusters folder.
 */
export function graduate(model: FederationModel, plan: Plan): Map<string, string> {
  const files = new Map<string, string>();
  for (const mesh of model.meshes.filter((m) => !m.virtual)) {
    const c = mesh.cluster;
    files.set(`${c}/cluster.yaml`, clusterYaml(mesh));
    const cp = mesh.controlPlane;
    const full = settingsOf(cp);
    files.set(
      `${c}/control-plane.yaml`,
      toYaml(
        { apiVersion: 'maistra.io/v2', kind: 'ServiceMeshControlPlane', metadata: { name: cp.name, namespace: cp.namespace }, spec: full },
        HEADER(
          c,
          `The settings ${c}'s SMCP ran with (its effective spec and the defaults it did not show): ` +
            'OSSM 3 carries them.\nNot applied to any cluster.',
        ),
      ),
    );
    const objects = mesh.inventory.objects.filter((o) => !OSSM2_ONLY.has(o.kind) && o.kind !== 'ConfigMap' && o.kind !== 'List');
    const federation = objects.filter((o) => FEDERATION.has(o.kind) && o.apiVersion.startsWith('federation.maistra.io/'));
    // The members and the control-plane namespace, and what runs in them: a graduated mesh's members are its inventory's namespaces.
    // Gateway namespaces (taken over in 06) keep their Services, Deployments and Routes, not their Namespace.
    const keep = new Set([cp.namespace, ...mesh.memberNamespaces]);
    const gatewayNs = new Set(takenOver(mesh).map((g) => g.namespace));
    const inventory = objects.filter(
      (o) =>
        !federation.includes(o) &&
        !o.apiVersion.startsWith('maistra.io/') &&
        (o.kind === 'Namespace' ? keep.has(o.name) : o.namespace === undefined || keep.has(o.namespace) || gatewayNs.has(o.namespace)),
    );
    const doc = (parts: JsonObject[]) => parts.map((p) => toYaml(p)).join('---\n');
    files.set(
      `${c}/federation/federation.yaml`,
      `${toYaml({}, HEADER(c, `What ${c} shares and with whom: its ServiceMeshPeers, ExportedServiceSets and ImportedServiceSets.`)).replace(/\{\}\n$/, '')}` +
        doc(federation.map((o) => stripServerFields(o.value))),
    );
    // The SMCP gateways' Services were handed over to Git in 07: plain objects, no operator labels. Their old
    // Deployments stay listed (the OSSM 3 gateway Deployments take the pods' labels and sizing from them),
    // and the IOR Routes keep maistra.io/generated-by: it marks them as the gateway's, rendered without it.
    const gatewayObjects = new Set(takenOver(mesh).flatMap((g) => [g.service?.source, g.deployment?.source]));
    const rendered = inventory.map((o) => {
      const body = gatewayObjects.has(o) ? handedOverBody(stripServerFields(o.value)) : stripServerFields(o.value);
      if (o.kind !== 'Namespace') return body;
      const meta = body.metadata as JsonObject;
      delete body.spec; // spec.finalizers is the API server's
      return { ...body, metadata: { ...meta, labels: finalLabels(plan, c, o.name, (meta.labels ?? {}) as Record<string, string>) } };
    });
    files.set(
      `${c}/inventory/inventory.yaml`,
      `${toYaml({}, HEADER(c, `What runs on ${c}: namespaces, workloads, Services and their mesh configuration.`)).replace(/\{\}\n$/, '')}` +
        doc(rendered),
    );
    files.set(`${c}/root-cert.pem`, mesh.rootCert.pem);
  }
  return files;
}
