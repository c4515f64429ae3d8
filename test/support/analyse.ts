import { runChecks } from '../../lib/check';
import { Diagnostics } from '../../lib/diagnostics';
import { loadClusters } from '../../lib/load/clusters';
import { buildModel } from '../../lib/model/federation';
import { buildPlan } from '../../lib/plan/plan';
import { Plan, Resource } from '../../lib/plan/types';

/** Model, plan and every finding of a clusters/ folder, without writing anything. */
export function analyse(dir: string) {
  const diags = new Diagnostics();
  const model = buildModel(loadClusters(dir, diags), diags);
  const plan = buildPlan(model, diags);
  return { model, plan, findings: runChecks(model, plan) };
}

/** A copy of the plan with `fn` applied to the adds of one cluster's phase: a renderer broken on purpose. */
export function broken(plan: Plan, cluster: string, phase: number, fn: (adds: Resource[]) => Resource[]): Plan {
  const copy = JSON.parse(JSON.stringify(plan)) as Plan;
  const pp = copy.byCluster[cluster][phase] as { adds: Resource[] };
  pp.adds = fn(pp.adds);
  return copy;
}
