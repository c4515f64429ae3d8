import { Diagnostic } from '../diagnostics';
import { ORDERING_RULES, nextSteps } from '../plan/pointers';
import { Plan, refId } from '../plan/types';

/** dist/plan.json: clusters, phases, what each phase adds/patches/deletes, and which phases wait on which clusters. */
export function planJson(plan: Plan, warnings: readonly Diagnostic[]): string {
  const clusters: Record<string, unknown> = {};
  const steps = new Map(nextSteps(plan).map((s) => [s.cluster, s]));
  for (const c of plan.clusters) {
    const step = steps.get(c)!;
    clusters[c] = {
      current: step.current,
      next: step.next ?? null,
      nextBlockedBy: step.blockedBy,
      phases: plan.byCluster[c].map((p) => ({
      phase: p.phase,
      written: p.blockedBy.length === 0,
      blockedBy: p.blockedBy,
      waitsFor: p.waitsFor,
      adds: p.adds.map((r) => refId(r.ref)),
      patches: p.patches.map((x) => ({ target: refId(x.target), type: x.type, why: x.why })),
      deletes: p.deletes.map(refId),
      })),
    };
  }
  const doc = {
    generatedBy: 'meshfed',
    phases: plan.phases,
    rules: ORDERING_RULES,
    clusters,
    warnings: warnings.map((w) => ({ location: w.location ?? null, message: w.message, hint: w.hint ?? null })),
  };
  return JSON.stringify(doc, null, 2) + '\n';
}
