import { States } from './state';
import { ModelIndex } from '../model/model-index';
import { FederationModel } from '../model/types';
import { Plan } from '../plan/types';

/** What every rule reads: the model, the plan, the model's index (ModelIndex) and the per-phase states, built once per run. */
export interface CheckContext {
  readonly model: FederationModel;
  readonly plan: Plan;
  readonly ctx: ModelIndex;
  readonly states: States;
}

export function checkContext(model: FederationModel, plan: Plan): CheckContext {
  return { model, plan, ctx: ModelIndex.of(model), states: new States(plan) };
}
