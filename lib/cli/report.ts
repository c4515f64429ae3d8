import * as fs from 'fs';

import { inputErrorExit, parseCommand } from './args';
import { render } from '../pipeline/render';
import { buildChangeRecord, ReportError } from '../pipeline/report';
import { diskTree } from '../twin/tree';
import { renderReportHtml, renderReportMarkdown } from '../write/report';

const USAGE = `usage: meshfed report <cluster> [--from PHASE] [--to PHASE] [--clusters DIR] [--dist DIR] [--format md|html] [--out FILE]
                      [--skip-rehearsal]

The change record of moving one cluster's pointer, for the change board and the pull request: every object
the sync creates, changes, prunes (and what its hook Jobs delete or patch) in the order the engine runs them,
the diff of the two desired states as kubectl kustomize builds them, the workloads that restart and the expected
disruption, AuthorizationPolicy and NetworkPolicy changes (who gains or loses access), the gates and peers it
waits for, pre-flight and verification commands with their expected output, the exact rollback, and the
rehearsal twin's verdict on the move and its rollback. Reads only; writes --out if given.

  --from PHASE     the phase the cluster runs now (default: what dist/plan.json delivers; 03 or 03-import)
  --to PHASE       the phase it moves to (default: spec.phase in cluster.yaml; if dist/ delivers it already, the next)
  --clusters DIR   input folder (default: clusters, or $MESHFED_CLUSTERS)
  --dist DIR       the committed output: the --from side is built from it, and the twin rehearses it
                   (default: dist, or $MESHFED_OUT; none when --clusters is given)
  --format F       md (default: deterministic, no dates) or html (one self-contained page with the timeline)
  --out FILE       write the record there instead of stdout
  --skip-rehearsal do not replay the move on the twin (the verdict then says "not rehearsed")`;

interface Values {
  from?: string;
  to?: string;
  clusters?: string;
  dist?: string;
  format?: string;
  out?: string;
  'skip-rehearsal'?: boolean;
}

/** The `report` command; returns the exit code (0 written, 1 input error, 2 usage error). */
export function runReport(argv: string[], env: NodeJS.ProcessEnv = process.env): number {
  const parsed = parseCommand<Values>(
    argv,
    {
      from: { type: 'string' },
      to: { type: 'string' },
      clusters: { type: 'string' },
      dist: { type: 'string' },
      format: { type: 'string', default: 'md' },
      out: { type: 'string' },
      'skip-rehearsal': { type: 'boolean' },
    },
    USAGE,
    (v) => (['md', 'html'].includes(v.format ?? 'md') ? undefined : `--format must be md or html, not "${v.format}"`),
    true,
  );
  if ('exit' in parsed) return parsed.exit;
  const v = parsed.values;
  if (parsed.positionals.length !== 1) {
    console.error(
      `meshfed: report takes one cluster name${parsed.positionals.length ? `, not ${parsed.positionals.join(' ')}` : ''}\n${USAGE}`,
    );
    return 2;
  }
  const clustersDir = v.clusters ?? env.MESHFED_CLUSTERS ?? 'clusters';
  // An explicit --clusters names another input than the one dist/ was rendered from (as meshfed rehearse reads it).
  const distDir = v.dist ?? env.MESHFED_OUT ?? (v.clusters === undefined ? 'dist' : undefined);
  if (v.dist && !fs.existsSync(v.dist)) {
    console.error(`meshfed: --dist ${v.dist} does not exist.`);
    return 2;
  }
  try {
    const result = render(clustersDir, { skipPointerRules: true });
    const record = buildChangeRecord(result, clustersDir, {
      cluster: parsed.positionals[0],
      from: v.from,
      to: v.to,
      dist: distDir !== undefined && fs.existsSync(distDir) ? diskTree(distDir) : undefined,
      rehearse: !v['skip-rehearsal'],
    });
    const text = v.format === 'html' ? renderReportHtml(record) : renderReportMarkdown(record);
    if (v.out) fs.writeFileSync(v.out, text);
    else process.stdout.write(text);
    if (v.out)
      console.error(
        `meshfed report: ${record.cluster} ${record.from} → ${record.to} written to ${v.out} (rehearsal: ${record.verdict.status}).`,
      );
    return 0;
  } catch (e) {
    if (e instanceof ReportError) {
      console.error(`meshfed: ${e.message}`);
      return 2;
    }
    return inputErrorExit(e);
  }
}
