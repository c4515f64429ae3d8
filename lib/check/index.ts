import * as path from 'path';

import { checkAuthzFlows } from './authz-flows';
import { checkCoOwnership } from './co-ownership';
import { CheckContext, checkContext } from './context';
import { checkContinuity } from './continuity';
import { checkDiscoveryScope } from './discovery';
import { checkDrift } from './drift';
import { checkExposure } from './exposure';
import { Finding } from './finding';
import { checkFlows } from './flows';
import { checkIdentity } from './identity';
import { checkLiveContinuity } from './live-continuity';
import { checkNorthSouth } from './north-south';
import {
  checkAlphaGatewayApi,
  checkDefaultExportTo,
  checkDnsCapture,
  checkMultiPort,
  checkNetworks,
  checkSailScope,
  checkServedVersions,
  checkTlsMode,
} from './pitfalls';
import { checkLostSettings, checkPremigration, checkProtocolSniffing } from './premigration';
import { checkNoRegression } from './regression';
import { checkRestarts } from './restarts';
import { CHECK_RULE_IDS, CheckRuleId, RULES } from '../rules';
import { checkPeerRoots } from './trust';
import { checkUserConfig } from './user-config';
import { checkGatewayVisibility } from './visibility';
import { Diagnostics } from '../diagnostics';
import { declaredPaths } from '../load/declared';
import { FederationModel } from '../model/types';
import { Plan } from '../plan/types';
import { byKey } from '../sort';

/** The check function of every rule not marked `input`: a rule in lib/rules.ts without one does not compile. */
const CHECKS: Record<CheckRuleId, (c: CheckContext) => Finding[]> = {
  MF001: checkContinuity,
  MF002: checkIdentity,
  MF003: checkExposure,
  MF004: checkUserConfig,
  MF005: checkNetworks,
  MF006: checkTlsMode,
  MF007: checkServedVersions,
  MF008: checkAlphaGatewayApi,
  MF009: checkDefaultExportTo,
  MF010: checkMultiPort,
  MF011: (c) => [...checkSailScope(c), ...checkDiscoveryScope(c)],
  MF012: checkDnsCapture,
  MF013: checkDrift,
  MF014: checkLiveContinuity,
  MF015: checkNoRegression,
  MF016: checkPremigration,
  MF017: checkLostSettings,
  MF018: checkProtocolSniffing,
  MF019: checkNorthSouth,
  MF022: checkPeerRoots,
  MF026: checkRestarts,
  MF027: (c) => [...checkFlows(c), ...checkAuthzFlows(c)],
  MF028: checkGatewayVisibility,
  MF029: checkCoOwnership,
};

/**
 * Every rule (or the given ones), on the model and the plan (never on rendered YAML), sorted by cluster,
 * rule, then text. Findings about clusters described only by peer bundles belong to their own
 * administrators and are left out.
 */
export function runChecks(model: FederationModel, plan: Plan, rules: readonly CheckRuleId[] = CHECK_RULE_IDS): Finding[] {
  const context = checkContext(model, plan);
  const findings = rules.flatMap((id) => {
    const found = CHECKS[id](context);
    for (const f of found) {
      if (f.rule !== id || !(RULES[id].severities as readonly string[]).includes(f.severity)) {
        throw new Error(`meshfed bug: the check of ${id} reported a ${f.severity} ${f.rule} finding`);
      }
    }
    return found;
  });
  const acknowledged = acknowledgedRules(model);
  return (
    findings
      .filter((f) => plan.local.includes(f.cluster))
      // Only warnings can be acknowledged: an error still stops synth.
      .map((f) => (f.severity === 'warning' && acknowledged.get(f.cluster)?.has(f.rule) ? { ...f, acknowledged: true } : f))
      .sort(
        byKey(
          (f) => f.cluster,
          (f) => f.rule,
          (f) => f.problem,
        ),
      )
  );
}

/** Per cluster, the rules its spec.acknowledge lists. */
function acknowledgedRules(model: FederationModel): Map<string, Set<string>> {
  return new Map(model.meshes.map((m) => [m.cluster, new Set(m.settings.acknowledge)]));
}

/**
 * The warnings synth gave while reading the input, acknowledged as findings are: a warning belongs to the
 * cluster whose folder holds the file it names (clusters/<cluster>/…; a peer bundle's to the cluster whose
 * peers/ holds it), and is acknowledged when that cluster's spec.acknowledge lists its rule. A warning
 * outside every cluster folder belongs to none and is always shown.
 */
export function acknowledgeWarnings(model: FederationModel, diags: Diagnostics): void {
  const acknowledged = acknowledgedRules(model);
  const folders = model.meshes
    .filter((m) => !m.virtual)
    // A Mesh declared in code owns its construct path and its inventory folder.
    .flatMap((m) =>
      path.basename(m.settings.source.file) === 'cluster.yaml'
        ? [{ cluster: m.cluster, dir: path.dirname(m.settings.source.file) }]
        : declaredPaths(m.settings.source).map((dir) => ({ cluster: m.cluster, dir })),
    );
  diags.attribute((w) => {
    const file = w.location?.file;
    const owner = file === undefined ? undefined : folders.find((f) => isInside(f.dir, file));
    return { cluster: owner?.cluster, acknowledged: owner !== undefined && acknowledged.get(owner.cluster)!.has(w.rule) };
  });
}

function isInside(dir: string, file: string): boolean {
  const rel = path.relative(dir, file);
  return rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel);
}
