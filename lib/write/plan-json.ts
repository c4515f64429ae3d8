import { Finding } from '../check/finding';
import { SourceLocation, WarningDiagnostic } from '../diagnostics';
import { EastWestAddress } from '../plan/address-change';
import { deliveredShards } from '../plan/delivery';
import { ORDERING_RULES, nextSteps } from '../plan/pointers';
import { fileAnchor, Plan, refId } from '../plan/types';
import { compareStrings } from '../sort';
import { FolderRenderer, MESHFED_ONLY } from './overlays';

/** One phase of a cluster in dist/plan.json. */
export interface PlanJsonPhase {
  readonly phase: string;
  readonly written: boolean;
  readonly blockedBy: string[];
  readonly waitsFor: { readonly cluster: string; readonly phase: string; readonly reason: string }[];
  /** "Kind/ns/name (apiVersion)" of every object the phase adds (import folders included). */
  readonly adds: string[];
  /**
   * Which of the adds are delivered in dist/<cluster>/imports/<name>/ (from this phase on) instead of the phase
   * folder. `services`: the object each imported service's objects are filed with (its ServiceEntry), so the next
   * synth sees a service move between folders (lib/write/removal-guard.ts). Absent in plan.json of meshfed before
   * 2026-12-02.
   */
  readonly imports: { readonly folder: string; readonly exporter: string; readonly objects: number; readonly services?: string[] }[];
  /** Every import folder GitOps applies with this phase: the phase folder plus these is the cluster's desired state. */
  readonly deliveredImports: string[];
  readonly patches: { readonly target: string; readonly type: string; readonly why: string }[];
  readonly deletes: string[];
}

export interface PlanJsonCluster {
  /** The phase GitOps applies now (spec.phase). */
  readonly current: string;
  readonly next: string | null;
  readonly nextBlockedBy: string[];
  readonly phases: PlanJsonPhase[];
  /** Every SMCP setting (defaults included) and its fate: docs/control-plane.md. */
  readonly settings: unknown[];
}

/**
 * dist/plan.json: clusters, phases, what each phase adds/patches/deletes, and which phases wait on which
 * clusters. One type for its writer (planJson), its readers (the removal guard, synth's previous pointers)
 * and the tests. A reader of a previous render treats every field as possibly absent (an older meshfed).
 */
export interface PlanJson {
  readonly generatedBy: 'meshfed';
  readonly phases: readonly string[];
  readonly rules: readonly string[];
  readonly clusters: Record<string, PlanJsonCluster>;
  /**
   * Per exporter a cluster here imports from (peer bundles' included): the east-west address its importers'
   * istio-remote Gateways use, so the next synth sees it change under importers (lib/plan/address-change.ts).
   */
  readonly eastWestAddresses: Record<string, EastWestAddress>;
  readonly warnings: unknown[];
  readonly findings: unknown[];
}

/**
 * A previous render's plan.json as synth reads it back: what every meshfed version wrote (each phase's adds and
 * deletes, each cluster's pointer); `written` and `imports` are newer and may be missing.
 */
export interface PreviousPlanJson {
  readonly phases?: readonly string[];
  /** Absent in plan.json of a meshfed older than this field (2026-12-06): no address change is seen against it. */
  readonly eastWestAddresses?: Record<string, EastWestAddress>;
  readonly clusters?: Record<
    string,
    {
      readonly current: string;
      readonly phases: (Pick<PlanJsonPhase, 'phase' | 'adds' | 'deletes'> & {
        readonly written?: boolean;
        readonly imports?: { readonly folder: string; readonly exporter?: string; readonly services?: string[] }[];
      })[];
    }
  >;
}

/** One cluster of plan.json: where its pointer is, what comes next, and each phase. */
function clusterJson(
  plan: Plan,
  c: string,
  step: ReturnType<typeof nextSteps>[number],
  app: Pick<FolderRenderer, 'appended' | 'deletes'>,
): PlanJsonCluster {
  return {
    current: step.current,
    next: step.next ?? null,
    nextBlockedBy: step.blockedBy,
    phases: plan.byCluster[c].map((p) => ({
      phase: p.phase,
      written: p.blockedBy.length === 0,
      blockedBy: p.blockedBy,
      waitsFor: p.waitsFor,
      adds: [...p.adds.map((r) => r.ref), ...app.appended({ cluster: c, phase: p.phase })].map(refId),
      imports: p.shards.map((s) => ({
        folder: `imports/${s.name}`,
        exporter: s.exporter,
        objects: s.resources.length,
        services: [...new Set(s.resources.map((r) => refId(fileAnchor(r))))].sort(compareStrings),
      })),
      deliveredImports: deliveredShards(plan, c, p.phase).map((s) => `imports/${s.name}`),
      patches: p.patches.map((x) => ({ target: refId(x.target), type: x.type, why: x.why })),
      deletes: [...p.deletes, ...app.deletes({ cluster: c, phase: p.phase })].map(refId),
    })),
    settings: (plan.settings[c] ?? []).map((f) => ({ ...f, target: f.target ?? null })),
  };
}

/**
 * `relative` maps input file paths to paths relative to the clusters folder, so plan.json does not
 * depend on where the input was checked out.
 */
export function planJson(
  plan: Plan,
  warnings: readonly WarningDiagnostic[],
  findings: readonly Finding[] = [],
  relative: (file: string) => string = (f) => f,
  clustersDir?: string,
  eastWest: Record<string, EastWestAddress> = {},
  app: Pick<FolderRenderer, 'appended' | 'deletes'> = MESHFED_ONLY,
): string {
  const loc = (l?: SourceLocation) => (l ? { ...l, file: relative(l.file) } : null);
  // Messages name input files as the run was given them (`examples/x/clusters/east/…`, `/tmp/…`): in plan.json,
  // relative to the clusters folder like the locations, so the file does not depend on where the input is.
  const prefix = clustersDir === undefined ? undefined : `${clustersDir.split('\\').join('/').replace(/\/+$/, '')}/`;
  const text = (t: string) => (prefix ? t.split(prefix).join('') : t);
  const steps = new Map(nextSteps(plan).map((s) => [s.cluster, s]));
  const clusters: Record<string, PlanJsonCluster> = {};
  for (const c of plan.local) clusters[c] = clusterJson(plan, c, steps.get(c)!, app);
  const doc: PlanJson = {
    generatedBy: 'meshfed',
    phases: plan.phases,
    rules: ORDERING_RULES,
    clusters,
    eastWestAddresses: eastWest,
    // Acknowledged ones too, marked (as findings are): spec.acknowledge only stops them being printed.
    warnings: warnings.map((w) => ({
      rule: w.rule,
      cluster: w.cluster ?? null,
      location: loc(w.location),
      message: text(w.message),
      hint: w.hint === undefined ? null : text(w.hint),
      ...(w.acknowledged ? { acknowledged: true } : {}),
    })),
    findings: findings.map((f) => ({
      ...f,
      problem: text(f.problem),
      fix: text(f.fix),
      location: loc(f.location),
      phase: f.phase ?? null,
    })),
  };
  return JSON.stringify(doc, null, 2) + '\n';
}
