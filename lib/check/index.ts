import { checkContinuity } from './continuity';
import { checkDrift } from './drift';
import { checkExposure } from './exposure';
import { Finding } from './finding';
import { checkIdentity } from './identity';
import { checkPitfalls } from './pitfalls';
import { checkUserConfig } from './user-config';
import { FederationModel } from '../model/types';
import { Plan } from '../plan/types';
import { byKey } from '../sort';

/**
 * Every rule, on the model and the plan (never on rendered YAML), sorted by cluster, rule, then text.
 * Findings about clusters described only by peer bundles belong to their own administrators and are
 * left out.
 */
export function runChecks(model: FederationModel, plan: Plan): Finding[] {
  const findings = [
    ...checkContinuity(model, plan),
    ...checkIdentity(model),
    ...checkExposure(model),
    ...checkUserConfig(model),
    ...checkPitfalls(model, plan),
    ...checkDrift(model),
  ];
  return findings
    .filter((f) => plan.local.includes(f.cluster))
    .sort(
      byKey(
        (f) => f.cluster,
        (f) => f.rule,
        (f) => f.problem,
      ),
    );
}
