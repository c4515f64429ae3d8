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

/** cluster.yaml of a graduated cluster: its settings, greenfield, its trust domain and OSSM 3 namespace, no restart on install. */
function clusterSettings(mesh: Mesh): JsonObject {
  const value = JSON.parse(JSON.stringify(mesh.settings.source.value)) as { spec: JsonObject };
  const spec = value.spec;
  delete spec.phase;
  spec.mode = 'greenfield';
  spec.trustDomain = mesh.trustDomain;
  spec.ossm3 = { ...((spec.ossm3 as JsonObject | undefined) ?? {}), namespace: mesh.ossm3.namespace };
  // The workloads run on the revision already: installing the graduated overlay restarts nothing.
  spec.workloadRestart = { ...((spec.workloadRestart as JsonObject | undefined) ?? {}), onInstall: false };
  return value as unknown as JsonObject;
}

/** One cluster of a graduated federation: what its greenfield declaration holds. */
export interface GraduatedCluster {
  /** cluster.yaml. */
  readonly settings: JsonObject;
  /** control-plane.yaml: the SMCP's effective spec. */
  readonly controlPlane: JsonObject;
  /** federation/: its ServiceMeshPeers, ExportedServiceSets and ImportedServiceSets. */
  readonly federation: JsonObject[];
  /** inventory/: every other dumped object it keeps. */
  readonly inventory: JsonObject[];
  /** root-cert.pem. */
  readonly rootCert: string;
}

/**
 * Where the migration ended (every cluster at 07-finalize), per cluster as greenfield declarations: its settings
 * (mode: greenfield, its trust domain and OSSM 3 namespace, no restart on install), the settings the SMCP ran with
 * (complete, which OSSM 3 carries), its ServiceMeshPeers and export and import sets, every other dumped object
 * (Namespaces with the labels 07 gave them) and its public root.
 */
export function graduatedClusters(model: FederationModel, plan: Plan): Map<string, GraduatedCluster> {
  const out = new Map<string, GraduatedCluster>();
  for (const mesh of model.meshes.filter((m) => !m.virtual)) {
    const c = mesh.cluster;
    const cp = mesh.controlPlane;
    const controlPlane = {
      apiVersion: 'maistra.io/v2',
      kind: 'ServiceMeshControlPlane',
      metadata: { name: cp.name, namespace: cp.namespace },
      spec: settingsOf(cp),
    };
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
    out.set(c, {
      settings: clusterSettings(mesh),
      controlPlane,
      federation: federation.map((o) => stripServerFields(o.value)),
      inventory: rendered,
      rootCert: mesh.rootCert.pem,
    });
  }
  return out;
}

/** A folder of a clusters folder as one YAML file of objects, under a header comment. */
function objectsFile(header: string, parts: JsonObject[]): string {
  return `${toYaml({}, header).replace(/\{\}\n$/, '')}${parts.map((p) => toYaml(p)).join('---\n')}`;
}

/**
 * clusters/ rewritten as greenfield declarations of where the migration ended (graduatedClusters): per cluster
 * cluster.yaml, control-plane.yaml, federation/, inventory/ and root-cert.pem. Rendered, it gives the objects
 * of 07-finalize and its import folders byte for byte, without the migration's Jobs. Paths are relative to
 * the new clusters folder.
 */
export function graduate(model: FederationModel, plan: Plan): Map<string, string> {
  const files = new Map<string, string>();
  for (const [c, g] of graduatedClusters(model, plan)) {
    files.set(
      `${c}/cluster.yaml`,
      toYaml(g.settings, HEADER(c, `Cluster ${c}, graduated: a greenfield declaration of the end state of its migration.`)),
    );
    files.set(
      `${c}/control-plane.yaml`,
      toYaml(
        g.controlPlane,
        HEADER(
          c,
          `The settings ${c}'s SMCP ran with (its effective spec and the defaults it did not show): ` +
            'OSSM 3 carries them.\nNot applied to any cluster.',
        ),
      ),
    );
    files.set(
      `${c}/federation/federation.yaml`,
      objectsFile(
        HEADER(c, `What ${c} shares and with whom: its ServiceMeshPeers, ExportedServiceSets and ImportedServiceSets.`),
        g.federation,
      ),
    );
    files.set(`${c}/inventory/inventory.yaml`, inventoryFile(c, g.inventory));
    files.set(`${c}/root-cert.pem`, g.rootCert);
  }
  return files;
}

/** inventory/inventory.yaml of a graduated cluster. */
export function inventoryFile(cluster: string, objects: JsonObject[]): string {
  return objectsFile(HEADER(cluster, `What runs on ${cluster}: namespaces, workloads, Services and their mesh configuration.`), objects);
}
