import { contribute as authorizationPolicies } from './authz';
import { contribute as controlPlane, smcpAccount } from './control-plane';
import { planGreenfield, reachableImports } from './greenfield';
import { contribute as networkPolicies } from './network-policies';
import { contribute as northSouth } from './north-south';
import { contribute as adoptFederation } from './phase-00-federation';
import { contribute as prepare } from './phase-01-prepare';
import { contribute as exportServices, planExport } from './phase-02-export';
import { importBlockers, contribute as importServices, planImport } from './phase-03-import';
import { contribute as removeFederation } from './phase-04-remove-federation';
import { contribute as installOssm3, planInstallOssm3 } from './phase-05-install-ossm3';
import { contribute as migrateWorkloads } from './phase-06-migrate-workloads';
import { contribute as finalize } from './phase-07-finalize';
import { contribute as restarts, requireJobImage } from './restart';
import { assertShardsFinal, planImportShards, requireDistinctImportNames } from './shards';
import { Contribute, Gate, GREENFIELD_PHASES, MigrationPhase, ObjectRef, Patch, PhaseId, PhasePlan, PHASES, Plan, Resource } from './types';
import { contribute as verification } from './verify';
import { Diagnostics } from '../diagnostics';
import { ModelIndex } from '../model/model-index';
import { FederationModel, Mesh } from '../model/types';

/**
 * The features a migration is made of: one module each, exporting one `contribute` (lib/plan/types.ts
 * Contribute) that says what it adds, patches and deletes in which phase. A phase's adds, patches and
 * deletes are the features' contributions concatenated in this order, and the features run in this
 * order, so their warnings are reported in it. The order is part of the output (plan.json lists each
 * phase's adds and patches in it): change it only on purpose. The phase files come in phase order; a
 * feature that spans phases comes where its objects go:
 * - authorizationPolicies after 04 and before 05: in 00 its adopted policies follow the federation's
 *   objects, in 02 its policies and patches follow the east-west gateway's, in 04 its patches follow the
 *   federation's removal; its MF003 warnings come before 05's warnings and errors.
 * - controlPlane after 05: in 05 the addon replacements follow the Istio (in 01 its objects are the only adds).
 * - restarts after 07-finalize: in 03 its Job follows the imports; in 07 its deletes follow OSSM 2's.
 * - northSouth after restarts: in 06 the gateway takeover follows the restart Job, its patches 06's own.
 * - verification last: in each verified phase the verify objects follow what they verify.
 */
const FEATURES: readonly Contribute[] = [
  adoptFederation, // 00 (phase-00-federation.ts)
  prepare, // 01 (phase-01-prepare.ts)
  exportServices, // 02 (phase-02-export.ts)
  importServices, // 03 (phase-03-import.ts)
  removeFederation, // 04 (phase-04-remove-federation.ts)
  authorizationPolicies, // 00, 02, 04 (authz.ts: MF002, MF003)
  installOssm3, // 05 (phase-05-install-ossm3.ts)
  controlPlane, // 01, 05 (control-plane.ts)
  networkPolicies, // 01, 05 (network-policies.ts: what Maistra's NetworkPolicies admitted, MF027)
  migrateWorkloads, // 06 (phase-06-migrate-workloads.ts)
  finalize, // 07 (phase-07-finalize.ts)
  restarts, // 03, 06, 07 (restart.ts)
  northSouth, // 06, 07 (north-south.ts)
  verification, // 03 to 07 (verify.ts)
];

interface PhaseContent {
  adds: Resource[];
  patches: Patch[];
  deletes: ObjectRef[];
}

/** Each phase's adds, patches and deletes for one cluster: the FEATURES' contributions, in FEATURES order. */
function foldFeatures(ctx: ModelIndex, mesh: Mesh, diags: Diagnostics): Map<MigrationPhase, PhaseContent> {
  const out = new Map<MigrationPhase, PhaseContent>(PHASES.map((p) => [p, { adds: [], patches: [], deletes: [] }]));
  for (const contribute of FEATURES) {
    const contribution = contribute(ctx, mesh, diags);
    for (const phase of PHASES) {
      const part = contribution[phase];
      if (!part) continue;
      const into = out.get(phase)!;
      // concat, not push(...): a federation of thousands of services adds more objects than a call takes arguments.
      if (part.adds) into.adds = into.adds.concat(part.adds);
      if (part.patches) into.patches = into.patches.concat(part.patches);
      if (part.deletes) into.deletes = into.deletes.concat(part.deletes);
    }
  }
  return out;
}

/**
 * Ordering rules between clusters. Within a cluster, phases are applied in order.
 * - 03-import waits for every exporter it imports from to be at 02-export (its gateway exists and has
 *   an address).
 * - 04-remove-federation waits for every peer that imports from it to be at 03-import: removing the
 *   cluster's ServiceMeshPeers and federation gateways ends the old path for them, so the new one must
 *   be in place (its own imports are covered by its own 03-import).
 * - 06-migrate-workloads moves clients to OSSM 3; the services they call must be reachable through
 *   the new path, which 03 (and its gate) already ensures; the rule is listed for readers of plan.json.
 */
function gates(ctx: ModelIndex, mesh: Mesh, phase: PhaseId): Gate[] {
  switch (phase) {
    case '03-import':
      return ctx.exportersFor(mesh.cluster).map((e) => ({
        cluster: e.cluster,
        phase: '02-export',
        reason: `imports services from ${e.cluster} through its east-west gateway`,
      }));
    case '04-remove-federation':
      return ctx.importersOf(mesh.cluster).map((p) => ({
        cluster: p,
        phase: '03-import',
        reason:
          `ends the federation path ${p} uses for its services: ${p} must reach them through the new path first ` +
          `(its 03-import also restarts its clients, so their proxies carry the network the new path needs)`,
      }));
    case '06-migrate-workloads':
      return ctx.exportersFor(mesh.cluster).map((e) => ({
        cluster: e.cluster,
        phase: '02-export',
        reason: `clients call ${e.cluster}'s services, which must be reachable through its east-west gateway`,
      }));
    default:
      return [];
  }
}

/** For each cluster and phase: the objects to add, patch and delete, and the gates between clusters. */
export function buildPlan(model: FederationModel, diags: Diagnostics): Plan {
  const ctx = ModelIndex.of(model);
  const greenfield = model.meshes.filter((m) => m.settings.mode === 'greenfield');
  if (greenfield.length) return buildGreenfieldPlan(ctx, model, greenfield, diags);
  const byCluster: Record<string, PhasePlan[]> = {};
  for (const mesh of model.meshes) {
    const c = mesh.cluster;
    const content = foldFeatures(ctx, mesh, diags);
    // A phase builds on the previous one, so once a phase is blocked every later phase is too.
    const blockers = importBlockers(ctx, mesh);
    let blocked: string[] = [];
    byCluster[c] = PHASES.map((phase): PhasePlan => {
      if (phase === '03-import') blocked = blockers;
      const { adds, patches, deletes } = content.get(phase)!;
      return {
        cluster: c,
        phase,
        adds,
        // 03's imported services are delivered in dist/<cluster>/imports/ (lib/plan/shards.ts).
        shards: phase === '03-import' ? planImportShards(adds) : [],
        patches,
        deletes,
        waitsFor: gates(ctx, mesh, phase),
        blockedBy: blocked,
      };
    });
    assertShardsFinal(byCluster[c]);
    requireDistinctImportNames(mesh, byCluster[c], diags);
    requireJobImage(mesh, byCluster[c], diags);
  }
  const pointers = Object.fromEntries(model.meshes.map((m) => [m.cluster, m.settings.phase]));
  return {
    clusters: model.meshes.map((m) => m.cluster),
    local: model.meshes.filter((m) => !m.virtual).map((m) => m.cluster),
    phases: PHASES,
    pointers,
    byCluster,
    settings: Object.fromEntries(model.meshes.filter((m) => !m.virtual).map((m) => [m.cluster, smcpAccount(m).fates])),
  };
}

/** Greenfield federations (spec.mode: greenfield): one overlay per cluster, no gates. Modes do not mix. */
function buildGreenfieldPlan(ctx: ModelIndex, model: FederationModel, greenfield: Mesh[], diags: Diagnostics): Plan {
  for (const m of model.meshes.filter((x) => x.settings.mode !== 'greenfield')) {
    diags.error(
      m.settings.source.at(m.virtual ? [] : ['spec']),
      `${m.cluster} is ${m.virtual ? 'a peer bundle' : 'a migration cluster'}, but ` +
        `${greenfield.map((g) => g.cluster).join(', ')} ${greenfield.length > 1 ? 'are' : 'is'} ` +
        `greenfield: one clusters/ folder renders one kind of federation.`,
      'Render migrations and greenfield federations from separate clusters/ folders (peer bundles are for migrations).',
    );
  }
  diags.throwIfErrors();
  const byCluster = Object.fromEntries(model.meshes.map((m) => [m.cluster, [greenfieldOverlay(ctx, m, diags)]]));
  for (const m of model.meshes) requireDistinctImportNames(m, byCluster[m.cluster], diags);
  const pointers = Object.fromEntries(model.meshes.map((m) => [m.cluster, 'multicluster' as PhaseId]));
  return {
    clusters: model.meshes.map((m) => m.cluster),
    local: model.meshes.filter((m) => !m.virtual).map((m) => m.cluster),
    phases: GREENFIELD_PHASES,
    pointers,
    byCluster,
    settings: {},
  };
}

/**
 * A greenfield cluster's one overlay: what a migration's 05, 02 and 03 planners make for it (03 only for
 * the imports whose exporters can be reached), and the rest of the end state (lib/plan/greenfield.ts).
 */
function greenfieldOverlay(ctx: ModelIndex, mesh: Mesh, diags: Diagnostics): PhasePlan {
  const imports = planImport(ctx, mesh, diags, reachableImports(ctx, mesh, importBlockers(ctx, mesh), diags)).adds;
  return planGreenfield(ctx, mesh, diags, {
    ossm3: planInstallOssm3(ctx, mesh, diags),
    eastWest: planExport(ctx, mesh, diags).adds,
    imports,
  });
}
