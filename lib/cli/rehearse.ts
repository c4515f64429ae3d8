import * as fs from 'fs';

import { inputErrorExit, parseCommand } from './args';
import { rehearseRender } from '../pipeline/rehearse';
import { render } from '../pipeline/render';
import { Engine, RehearsalFinding, RehearsalReport } from '../twin/rehearse';
import { diskTree } from '../twin/tree';
import { treeDiff } from '../write/atomic';

const USAGE = `usage: meshfed rehearse [--dist DIR] [--clusters DIR] [--cluster NAME] [--engine argocd|flux|both] [--json]

Replays every pointer move of every cluster — 00 to 07 one phase at a time, the rollback the runbook
allows after each, deleting the Application or Kustomization, a failed reconcile of the SMCP — on the
rehearsal twin: Argo CD and Flux syncing the rendered files wave by wave, the Kubernetes API server and
controllers, the OSSM 2 and OSSM 3 operators, starting from the cluster as its dumps show it. Exit 1 when
any move fails, hangs, loses what runs or changes an address peers use (docs/gitops.md, "The rehearsal twin").

  --dist DIR       the rendered output to rehearse (default: dist, or $MESHFED_OUT, when it exists and
                   --clusters is not given; otherwise what the input renders now)
  --clusters DIR   the input (default: clusters, or $MESHFED_CLUSTERS): dumps, pointers, Applications
  --cluster NAME   only this cluster (repeatable)
  --engine E       argocd, flux or both (default: both)
  --json           the report on stdout as JSON`;

function move(f: RehearsalFinding): string {
  return `${f.cluster} ${f.engine} ${f.scenario} ${f.move}`;
}

/** The report as the terminal shows it: one line per failing move, then what is wrong and what to do. */
export function formatRehearsal(report: RehearsalReport): string[] {
  const lines: string[] = [];
  for (const f of report.findings)
    lines.push(`rehearsal: [${move(f)}]${f.stage ? ` ${f.stage}` : ''}${f.object ? `, ${f.object}` : ''}: ${f.why} Fix: ${f.fix}`);
  return lines;
}

export function runRehearse(argv: string[], env: NodeJS.ProcessEnv = process.env): number {
  const parsed = parseCommand<{ dist?: string; clusters?: string; cluster?: string[]; engine?: string; json?: boolean }>(
    argv,
    {
      dist: { type: 'string' },
      clusters: { type: 'string' },
      cluster: { type: 'string', multiple: true },
      engine: { type: 'string', default: 'both' },
      json: { type: 'boolean' },
    },
    USAGE,
    (v) =>
      ['argocd', 'flux', 'both'].includes(v.engine ?? 'both') ? undefined : `--engine must be argocd, flux or both, not "${v.engine}"`,
  );
  if ('exit' in parsed) return parsed.exit;
  const v = parsed.values;
  const clustersDir = v.clusters ?? env.MESHFED_CLUSTERS ?? 'clusters';
  // An explicit --clusters names another input than the one dist/ was rendered from: rehearse what it renders.
  const distDir = v.dist ?? env.MESHFED_OUT ?? (v.clusters === undefined ? 'dist' : undefined);
  try {
    const result = render(clustersDir, { skipPointerRules: true });
    const onDisk = distDir !== undefined && fs.existsSync(distDir);
    if (v.dist && !onDisk) {
      console.error(`meshfed: --dist ${distDir} does not exist.`);
      return 2;
    }
    if (onDisk && distDir) {
      const stale = treeDiff(distDir, result.files);
      const n = stale.added.length + stale.changed.length + stale.removed.length;
      if (n)
        console.error(
          `meshfed: ${distDir}/ is not what ${clustersDir}/ renders (${n} file(s) differ): rehearsing ${distDir}/ as committed ` +
            '(its Applications and Kustomizations for each pointer come from the input). Run meshfed synth to rehearse the new render.',
        );
    }
    const engines: Engine[] = v.engine === 'argocd' ? ['argocd'] : v.engine === 'flux' ? ['flux'] : ['argocd', 'flux'];
    const report = rehearseRender(result, {
      clusters: v.cluster,
      engines,
      moves: 'all',
      dist: onDisk && distDir ? diskTree(distDir) : undefined,
    });
    if (v.json) console.log(JSON.stringify(report, null, 2));
    for (const l of formatRehearsal(report)) console.error(l);
    const failed = new Set(report.findings.map(move)).size;
    console.error(
      `meshfed rehearse: ${report.moves.length} move(s) rehearsed on ${engines.join(' and ')}` +
        (failed ? `, ${failed} with findings (above).` : ', every one passes.'),
    );
    return failed ? 1 : 0;
  } catch (e) {
    return inputErrorExit(e);
  }
}
