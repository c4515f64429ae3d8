import { Diagnostic, formatLocation, InputError, SourceLocation, WarningDiagnostic } from '../diagnostics';
import { RuleId, Severity } from '../rules';

export type { RuleId } from '../rules';

/** One result of `meshfed check`: what goes wrong in the mesh, and what to do. */
export interface Finding {
  readonly rule: RuleId;
  readonly severity: Severity;
  readonly cluster: string;
  readonly location?: SourceLocation;
  /** Phase the finding is about, when it is about one. */
  readonly phase?: string;
  /** One sentence: what goes wrong in the mesh. */
  readonly problem: string;
  /** One sentence: what to do. */
  readonly fix: string;
  /** A warning the cluster's spec.acknowledge lists: kept in plan.json, not printed. @default false */
  readonly acknowledged?: boolean;
}

export function formatFinding(f: Finding): string {
  const where = f.location ? formatLocation(f.location) : `cluster ${f.cluster}`;
  return `${f.severity} ${f.rule} [${f.cluster}${f.phase ? ` @ ${f.phase}` : ''}] ${where}: ${f.problem} ${f.fix}`;
}

/**
 * Error findings stop a run like input errors: thrown as one InputError, after the warnings no cluster
 * acknowledged (they often say why).
 */
export function throwIfErrorFindings(findings: readonly Finding[], warnings: readonly WarningDiagnostic[]): void {
  const errors = findings.filter((f) => f.severity === 'error');
  if (errors.length) throw new InputError([...warnings.filter((w) => !w.acknowledged), ...errors.map(findingDiagnostic)]);
}

/** A finding as a diagnostic (an error finding stops synth like an input error). */
export function findingDiagnostic(f: Finding): Diagnostic {
  const message = `${f.rule} [${f.cluster}${f.phase ? ` @ ${f.phase}` : ''}]: ${f.problem}`;
  return f.severity === 'error'
    ? { severity: 'error', location: f.location, message, hint: f.fix }
    : { severity: 'warning', rule: f.rule, cluster: f.cluster, location: f.location, message: f.problem, hint: f.fix };
}
