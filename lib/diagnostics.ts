/**
 * Diagnostics: every problem meshfed reports names the file, the object and the field (and line where
 * known), says what goes wrong and what to do. Errors stop the synth; warnings do not, and each names its
 * rule (docs/rules.md), so a cluster's spec.acknowledge and synth --strict treat it like a finding.
 */
import type { RuleId } from './rules';

export interface SourceLocation {
  /** Path of the input file, relative to the working directory. */
  readonly file: string;
  /** 1-based line, when known. */
  readonly line?: number;
  /** `Kind namespace/name` of the object, when the problem is inside one. */
  readonly object?: string;
  /** Dotted field path inside the object, e.g. `spec.eastWestGateway.address`. */
  readonly field?: string;
}

export type Severity = 'error' | 'warning';

interface DiagnosticBase {
  readonly location?: SourceLocation;
  /** What is wrong (one or two sentences). */
  readonly message: string;
  /** What to do about it. */
  readonly hint?: string;
}

export interface ErrorDiagnostic extends DiagnosticBase {
  readonly severity: 'error';
}

/** A warning: always of a rule, so spec.acknowledge and --strict can name it. */
export interface WarningDiagnostic extends DiagnosticBase {
  readonly severity: 'warning';
  readonly rule: RuleId;
  /** The cluster whose folder holds the file it names (set by lib/check acknowledgeWarnings). */
  readonly cluster?: string;
  /** That cluster's spec.acknowledge lists the rule: kept in plan.json, not printed. @default false */
  readonly acknowledged?: boolean;
}

export type Diagnostic = ErrorDiagnostic | WarningDiagnostic;

export function formatLocation(loc: SourceLocation): string {
  const where = loc.line ? `${loc.file}:${loc.line}` : loc.file;
  const parts = [where];
  if (loc.object) parts.push(loc.object);
  if (loc.field) parts.push(`field ${loc.field}`);
  return parts.join(', ');
}

/**
 * One line per diagnostic. A warning reads like a finding (lib/check/finding.ts formatFinding):
 * `warning MF023 [west] clusters/west/cluster.yaml:15, …: message hint`.
 */
export function formatDiagnostic(d: Diagnostic): string {
  const hint = d.hint ? ` ${d.hint}` : '';
  if (d.severity === 'warning') {
    const where = [d.cluster ? `[${d.cluster}]` : undefined, d.location ? formatLocation(d.location) : undefined].filter(Boolean);
    return `warning ${d.rule}${where.length ? ` ${where.join(' ')}` : ''}: ${d.message}${hint}`;
  }
  const head = d.location ? `${formatLocation(d.location)}: ` : '';
  return `error: ${head}${d.message}${hint}`;
}

/** Thrown when input is wrong; carries every error found, so users fix them in one pass. */
export class InputError extends Error {
  constructor(public readonly diagnostics: readonly Diagnostic[]) {
    super(diagnostics.map(formatDiagnostic).join('\n'));
    this.name = 'InputError';
  }
}

/** Collects diagnostics while a stage runs; `throwIfErrors` ends the stage when any error was found. */
export class Diagnostics {
  private readonly items: Diagnostic[] = [];

  error(location: SourceLocation | undefined, message: string, hint?: string): void {
    this.items.push({ severity: 'error', location, message, hint });
  }

  /** A warning of `rule` (lib/rules.ts): its docs/rules.md section says what it reports. */
  warn(rule: RuleId, location: SourceLocation | undefined, message: string, hint?: string): void {
    this.items.push({ severity: 'warning', rule, location, message, hint });
  }

  get errors(): ErrorDiagnostic[] {
    return this.items.filter((d) => d.severity === 'error');
  }

  /** Every warning, acknowledged ones included (plan.json keeps them). */
  get warnings(): WarningDiagnostic[] {
    return this.items.filter((d) => d.severity === 'warning');
  }

  /** The warnings to print and to count for --strict: those no cluster acknowledged. */
  get shownWarnings(): WarningDiagnostic[] {
    return this.warnings.filter((w) => !w.acknowledged);
  }

  /** Give each warning its cluster and acknowledgement (lib/check/index.ts acknowledgeWarnings decides them). */
  attribute(of: (w: WarningDiagnostic) => { cluster?: string; acknowledged: boolean }): void {
    this.items.forEach((d, i) => {
      if (d.severity !== 'warning') return;
      const { cluster, acknowledged } = of(d);
      this.items[i] = { ...d, ...(cluster ? { cluster } : {}), ...(acknowledged ? { acknowledged: true } : {}) };
    });
  }

  get all(): readonly Diagnostic[] {
    return this.items;
  }

  throwIfErrors(): void {
    if (this.errors.length > 0) throw new InputError(this.errors);
  }
}
