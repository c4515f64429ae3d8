import { Diagnostics } from '../diagnostics';
import { exposurePolicies, planPolicies } from './authz';
import { planControlPlaneObjects, planObservability, smcpAccount } from './control-plane';
import { planGreenfield } from './greenfield';
import { planExplicitRoutes, planGatewayTakeover, planHandover, smcpPruneGuard } from './north-south';
import { planFederation } from './phase-00-federation';
import { planPrepare } from './phase-01-prepare';
import { planExport } from './phase-02-export';
import { importBlockers, planImport, planNetworkRestart } from './phase-03-import';
import { planRemoveFederation } from './phase-04-remove-federation';
import { planInstallOssm3 } from './phase-05-install-ossm3';
import { planMigrateWorkloads } from './phase-06-migrate-workloads';
import { planFinalize, planGatewaySelectors } from './phase-07-finalize';
import { requireJobImage } from './restart';
import { migratedNamespaces } from './revision';
import { assertShardsFinal, planImportShards, requireDistinctImportNames } from './shards';
import { Gate, GREENFIELD_PHASES, MigrationPhase, PhaseId, PhasePlan, PHASES, Plan } from './types';
import { planVerify } from './verify';
import { ModelIndex } from '../model/model-index';
import { Mesh as MeshT, FederationModel, Mesh } from '../model/types';

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

function empty(cluster: string, phase: PhaseId): PhasePlan {
  return { cluster, phase, adds: [], shards: [], patches: [], deletes: [], waitsFor: [], blockedBy: [] };
}

/** For each cluster and phase: the objects to add, patch and delete, and the gates between clusters. */
export function buildPlan(model: FederationModel, diags: Diagnostics): Plan {
  const ctx = ModelIndex.of(model);
  const greenfield = model.meshes.filter((m) => m.settings.mode === 'greenfield');
  if (greenfield.length) return buildGreenfieldPlan(ctx, model, greenfield, diags);
  const byCluster: Record<string, PhasePlan[]> = {};
  for (const mesh of model.meshes) {
    const c = mesh.cluster;
    const exp = planExport(ctx, mesh, diags);
    const rm = planRemoveFederation(mesh);
    const mig = planMigrateWorkloads(ctx, mesh);
    const policies = planPolicies(ctx, mesh);
    const imp = planImport(ctx, mesh, diags);
    const networkRestart = planNetworkRestart(ctx, mesh);
    const routes = planExplicitRoutes(mesh);
    const content: Record<MigrationPhase, { adds: PhasePlan['adds']; patches: PhasePlan['patches']; deletes: PhasePlan['deletes'] }> = {
      '00-federation': { ...empty(c, '00-federation'), adds: [...planFederation(ctx, mesh), ...policies.adopt] },
      '01-prepare': { ...empty(c, '01-prepare'), adds: planControlPlaneObjects(mesh), patches: planPrepare(ctx, mesh) },
      '02-export': {
        ...empty(c, '02-export'),
        adds: [...exp.adds, ...exposurePolicies(ctx, mesh, diags)],
        patches: [...exp.patches, ...policies.add],
      },
      '03-import': { ...empty(c, '03-import'), adds: [...imp.adds, ...networkRestart], patches: imp.patches },
      '04-remove-federation': { ...empty(c, '04-remove-federation'), deletes: rm.deletes, patches: [...rm.patches, ...policies.drop] },
      '05-install-ossm3': {
        ...empty(c, '05-install-ossm3'),
        adds: [...planInstallOssm3(ctx, mesh, diags), ...planObservability(mesh)],
      },
      '06-migrate-workloads': {
        ...empty(c, '06-migrate-workloads'),
        adds: [...mig.adds, ...planGatewayTakeover(mesh, migratedNamespaces(ctx, mesh)), ...routes.adds],
        patches: [...mig.patches, ...routes.patches, ...smcpPruneGuard(mesh)],
      },
      '07-finalize': {
        ...empty(c, '07-finalize'),
        adds: planHandover(mesh),
        deletes: planFinalize(ctx, mesh),
        patches: planGatewaySelectors(ctx, mesh),
      },
    };
    // 07 removes the one-off restart Job and its RBAC with the rest of OSSM 2.
    content['07-finalize'].deletes.push(...[...networkRestart, ...mig.adds].map((r) => r.ref));
    // A phase builds on the previous one, so once a phase is blocked every later phase is too.
    const blockers = importBlockers(ctx, mesh);
    let blocked: string[] = [];
    byCluster[c] = PHASES.map((phase) => {
      if (phase === '03-import') blocked = blockers;
      const verify = planVerify(mesh, phase);
      const base = content[phase];
      return {
        ...base,
        adds: [...base.adds, ...verify.adds],
        shards: phase === '03-import' ? planImportShards(base.adds) : [],
        deletes: [...base.deletes, ...verify.deletes],
        cluster: c,
        phase,
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
function buildGreenfieldPlan(ctx: ModelIndex, model: FederationModel, greenfield: MeshT[], diags: Diagnostics): Plan {
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
  const byCluster = Object.fromEntries(model.meshes.map((m) => [m.cluster, [planGreenfield(ctx, m, diags)]]));
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
