import pc from 'picocolors';

import { inputErrorExit, parseCommand } from './args';
import { warningLines } from './warnings';
import { analyse, check } from '../pipeline/render';

const USAGE = `usage: meshfed check [--clusters DIR] [--format text|json] [--json] [--verbose]

Static analysis of the federation and of every phase: what would break traffic or widen access,
before anything is applied. Rules: docs/rules.md. Exit code 1 when any finding is an error.

  --clusters DIR   input folder (default: clusters, or $MESHFED_CLUSTERS)
  --format FORMAT  text (default) or json
  --json           the same as --format json
  --verbose        print every warning and finding; without it a rule that fires more than once in
                   a cluster prints one line (how often, the first locations; --json lists every one)`;

/** The `check` command; returns the exit code (0 no errors, 1 errors, 2 usage). */
export function runCheck(argv: string[], env: NodeJS.ProcessEnv = process.env): number {
  const parsed = parseCommand<{ clusters?: string; format: string; json?: boolean; verbose?: boolean }>(
    argv,
    { clusters: { type: 'string' }, format: { type: 'string', default: 'text' }, json: { type: 'boolean' }, verbose: { type: 'boolean' } },
    USAGE,
    (v) => (v.format === 'text' || v.format === 'json' ? undefined : `--format must be text or json, not "${v.format}"`),
  );
  if ('exit' in parsed) return parsed.exit;
  const values = parsed.values;
  try {
    const analysis = analyse(values.clusters ?? env.MESHFED_CLUSTERS ?? 'clusters');
    const diags = analysis.diagnostics;
    const findings = check(analysis);
    if (values.format === 'json' || values.json) {
      console.log(
        JSON.stringify(
          { findings: findings.map((f) => ({ ...f, location: f.location ?? null, phase: f.phase ?? null })), warnings: diags.warnings },
          null,
          2,
        ),
      );
    } else {
      const warnings = diags.shownWarnings;
      const shown = findings.filter((f) => !f.acknowledged);
      for (const l of warningLines(warnings, shown, { verbose: Boolean(values.verbose), listed: '--json lists them' }))
        console.log((l.startsWith('error ') ? pc.red : pc.yellow)(l));
      const errors = findings.filter((f) => f.severity === 'error').length;
      const acked = findings.length - shown.length + diags.warnings.length - warnings.length;
      console.log(
        `meshfed check: ${errors} error(s), ${shown.length - errors + warnings.length} warning(s)` +
          `${acked ? `, ${acked} acknowledged (spec.acknowledge)` : ''}`,
      );
    }
    return findings.some((f) => f.severity === 'error') ? 1 : 0;
  } catch (e) {
    return inputErrorExit(e);
  }
}
