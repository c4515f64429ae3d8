/**
 * Diagnostics: every problem meshfed reports names the file, the object and the field (and line where
 * known), says what goes wrong and what to do. Errors stop the synth; warnings do not.
 */

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

export interface Diagnostic {
  readonly severity: Severity;
  readonly location?: SourceLocation;
  /** What is wrong (one or two sentences). */
  readonly message: string;
  /** What to do about it. */
  readonly hint?: string;
}

export function formatLocation(loc: SourceLocation): string {
  const where = loc.line ? `${loc.file}:${loc.line}` : loc.file;
  const parts = [where];
  if (loc.object) parts.push(loc.object);
  if (loc.field) parts.push(`field ${loc.field}`);
  return parts.join(', ');
}

export function formatDiagnostic(d: Diagnostic): string {
  const head = d.location ? `${formatLocation(d.location)}: ` : '';
  const hint = d.hint ? ` ${d.hint}` : '';
  return `${d.severity}: ${head}${d.message}${hint}`;
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

  warn(location: SourceLocation | undefined, message: string, hint?: string): void {
    this.items.push({ severity: 'warning', location, message, hint });
  }

  get errors(): Diagnostic[] {
    return this.items.filter((d) => d.severity === 'error');
  }

  get warnings(): Diagnostic[] {
    return this.items.filter((d) => d.severity === 'warning');
  }

  get all(): readonly Diagnostic[] {
    return this.items;
  }

  throwIfErrors(): void {
    if (this.errors.length > 0) throw new InputError(this.errors);
  }
}
