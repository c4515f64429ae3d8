import { Finding } from '../check/finding';
import { SourceLocation, WarningDiagnostic } from '../diagnostics';
import { deliveredShards } from '../plan/delivery';
import { ORDERING_RULES, nextSteps } from '../plan/pointers';
import { fileAnchor, Plan, refId } from '../plan/types';
import { compareStrings } from '../sort';

/** dist/plan.json: clusters, phases, what each phase adds/patches/deletes, and which phases wait on which clusters. */
/**
 * `relative` maps input file paths to paths relative to the clusters folder, so plan.json does not
 * depend on where the input was checked out.
 */
export function planJson(
  plan: Plan,
  warnings: readonly WarningDiagnostic[],
  findings: readonly Finding[] = [],
  relative: (file: string) => string = (f) => f,
): string {
  const loc = (l?: SourceLocation) => (l ? { ...l, file: relative(l.file) } : null);
  const clusters: Record<string, unknown> = {};
  const steps = new Map(nextSteps(plan).map((s) => [s.cluster, s]));
  for (const c of plan.local) {
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
        // Which of the adds are delivered in dist/<cluster>/imports/<name>/ (from this phase on) instead of the phase folder.
        // `services`: the object each imported service's objects are filed with (its ServiceEntry), so the
        // next synth sees a service move between folders (lib/plan/removals.ts).
        imports: p.shards.map((s) => ({
          folder: `imports/${s.name}`,
          exporter: s.exporter,
          objects: s.resources.length,
          services: [...new Set(s.resources.map((r) => refId(fileAnchor(r))))].sort(compareStrings),
        })),
        // Every import folder GitOps applies with this phase (this one's and earlier ones'): the phase folder
        // plus these is the cluster's complete desired state at this phase (lib/plan/delivery.ts).
        deliveredImports: deliveredShards(plan, c, p.phase).map((s) => `imports/${s.name}`),
        patches: p.patches.map((x) => ({ target: refId(x.target), type: x.type, why: x.why })),
        deletes: p.deletes.map(refId),
      })),
      // Every SMCP setting (defaults included) and its fate: docs/control-plane.md.
      settings: (plan.settings[c] ?? []).map((f) => ({ ...f, target: f.target ?? null })),
    };
  }
  const doc = {
    generatedBy: 'meshfed',
    phases: plan.phases,
    rules: ORDERING_RULES,
    clusters,
    // Acknowledged ones too, marked (as findings are): spec.acknowledge only stops them being printed.
    warnings: warnings.map((w) => ({
      rule: w.rule,
      cluster: w.cluster ?? null,
      location: loc(w.location),
      message: w.message,
      hint: w.hint ?? null,
      ...(w.acknowledged ? { acknowledged: true } : {}),
    })),
    findings: findings.map((f) => ({ ...f, location: loc(f.location), phase: f.phase ?? null })),
  };
  return JSON.stringify(doc, null, 2) + '\n';
}
