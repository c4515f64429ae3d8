import { States } from './state';
import { FederationModel } from '../model/types';
import { PlanContext } from '../plan/context';
import { Plan } from '../plan/types';

/** What every rule reads: the model, the plan, the planners' indexes and the per-phase states, built once per run. */
export interface CheckContext {
  readonly model: FederationModel;
  readonly plan: Plan;
  readonly ctx: PlanContext;
  readonly states: States;
}

export function checkContext(model: FederationModel, plan: Plan): CheckContext {
  return { model, plan, ctx: PlanContext.of(model), states: new States(plan) };
}
