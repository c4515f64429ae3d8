import { Finding, formatFinding } from '../check/finding';
import { formatDiagnostic, formatLocation, SourceLocation, WarningDiagnostic } from '../diagnostics';

/** How many locations a summary line names before its count. */
export const SUMMARY_EXAMPLES = 3;

/** One warning or finding as the terminal shows it: its whole line, and the parts a summary line is made of. */
interface Shown {
  readonly group: string;
  readonly line: string;
  readonly head: string;
  readonly location?: SourceLocation;
  readonly text: string;
}

function shownWarning(w: WarningDiagnostic): Shown {
  return {
    group: `warning ${w.rule} ${w.cluster ?? ''}`,
    line: formatDiagnostic(w),
    head: `warning ${w.rule}${w.cluster ? ` [${w.cluster}]` : ''}`,
    location: w.location,
    text: `${w.message}${w.hint ? ` ${w.hint}` : ''}`,
  };
}

function shownFinding(f: Finding): Shown {
  return {
    group: `${f.severity} ${f.rule} ${f.cluster}`,
    line: formatFinding(f),
    head: `${f.severity} ${f.rule} [${f.cluster}${f.phase ? ` @ ${f.phase}` : ''}]`,
    location: f.location,
    text: `${f.problem} ${f.fix}`,
  };
}

/**
 * The lines the terminal shows for warnings and findings. `verbose`: one line each. Otherwise at most one line per
 * rule and cluster: a rule that fires once shows its line; one that fires n times shows n, its first locations and
 * the first one's text, and says where the others are (2,000 MF010 lines of one federation help nobody, and
 * printing them cost seconds). Errors are never summarised. `--json` and dist/plan.json carry every one.
 */
export function warningLines(
  warnings: readonly WarningDiagnostic[],
  findings: readonly Finding[],
  opts: { readonly verbose: boolean; /** Where every one is listed, besides --verbose. */ readonly listed: string },
): string[] {
  const shown = [...warnings.map(shownWarning), ...findings.map(shownFinding)];
  if (opts.verbose) return shown.map((s) => s.line);
  const groups = new Map<string, Shown[]>();
  for (const s of shown) {
    const key = s.group.startsWith('error ') ? `${s.group} ${groups.size}` : s.group;
    const group = groups.get(key);
    if (group) group.push(s);
    else groups.set(key, [s]);
  }
  return [...groups.values()].map((g) => (g.length === 1 ? g[0].line : summaryLine(g, opts.listed)));
}

function summaryLine(g: readonly Shown[], listed: string): string {
  const where = g
    .slice(0, SUMMARY_EXAMPLES)
    .map((s) => (s.location ? formatLocation(s.location) : undefined))
    .filter((l) => l !== undefined);
  const more = g.length - where.length;
  return (
    `${g[0].head} ${g.length} times${where.length ? `, at ${where.join('; ')}${more ? ` and ${more} more` : ''}` : ''}: ` +
    `${g[0].text} (the first of ${g.length}; --verbose prints every one, ${listed})`
  );
}
