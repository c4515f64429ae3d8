import { CheckContext, checkContext } from './context';
import { checkContinuity } from './continuity';
import { checkDrift } from './drift';
import { checkExposure } from './exposure';
import { Finding } from './finding';
import { checkIdentity } from './identity';
import { checkLiveContinuity } from './live';
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
import { RULE_IDS, RuleId, RULES } from './rules';
import { checkPeerRoots } from './trust';
import { checkUserConfig } from './user-config';
import { FederationModel } from '../model/types';
import { Plan } from '../plan/types';
import { byKey } from '../sort';

/** The check function of every rule: a rule in lib/check/rules.ts without one does not compile. */
const CHECKS: Record<RuleId, (c: CheckContext) => Finding[]> = {
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
  MF011: checkSailScope,
  MF012: checkDnsCapture,
  MF013: checkDrift,
  MF014: checkLiveContinuity,
  MF015: checkNoRegression,
  MF016: checkPremigration,
  MF017: checkLostSettings,
  MF018: checkProtocolSniffing,
  MF019: checkNorthSouth,
  MF022: checkPeerRoots,
};

/**
 * Every rule (or the given ones), on the model and the plan (never on rendered YAML), sorted by cluster,
 * rule, then text. Findings about clusters described only by peer bundles belong to their own
 * administrators and are left out.
 */
export function runChecks(model: FederationModel, plan: Plan, rules: readonly RuleId[] = RULE_IDS): Finding[] {
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
  const acknowledged = new Map(model.meshes.map((m) => [m.cluster, new Set(m.settings.acknowledge)]));
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
