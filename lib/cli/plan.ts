import * as fs from 'fs';
import * as path from 'path';

import pc from 'picocolors';

import { formatDiagnostic } from '../diagnostics';
import { inputErrorExit, parseCommand } from './args';
import { renderTable } from './table';
import { analyse, pointerErrors } from '../pipeline/render';
import { nextSteps } from '../plan/pointers';

const USAGE = `usage: meshfed plan [--clusters DIR] [--out DIR] [--json]

For every cluster: the phase GitOps applies now (spec.phase), the next phase, and what must happen
before the cluster can move on. Reads clusters/ only; writes nothing.

  --clusters DIR   input folder (default: clusters, or $MESHFED_CLUSTERS)
  --out DIR        the rendered folder whose plan.json says which phase dist/ holds (default: dist, or $MESHFED_OUT)
  --json           machine-readable output`;

/** The phase each cluster's rendered dist/ holds (its plan.json), to show a pointer moved but not synthesized. */
function renderedPhases(outDir: string): Record<string, string> {
  try {
    const doc = JSON.parse(fs.readFileSync(path.join(outDir, 'plan.json'), 'utf8')) as { clusters?: Record<string, { current?: string }> };
    return Object.fromEntries(Object.entries(doc.clusters ?? {}).map(([c, v]) => [c, String(v.current ?? '')]));
  } catch {
    return {};
  }
}

/** The `plan` command; returns the exit code (0 ok, 1 input or ordering error, 2 usage error). */
export function runPlan(argv: string[], env: NodeJS.ProcessEnv = process.env, out: NodeJS.WriteStream = process.stdout): number {
  const parsed = parseCommand<{ clusters?: string; out?: string; json?: boolean }>(
    argv,
    { clusters: { type: 'string' }, out: { type: 'string' }, json: { type: 'boolean' } },
    USAGE,
  );
  if ('exit' in parsed) return parsed.exit;
  const values = parsed.values;
  const clustersDir = values.clusters ?? env.MESHFED_CLUSTERS ?? 'clusters';
  try {
    const analysis = analyse(clustersDir, { skipPointerRules: true });
    const plan = analysis.plan;
    const pointerDiags = { errors: pointerErrors(analysis) };
    const steps = nextSteps(plan);
    const rendered = renderedPhases(values.out ?? env.MESHFED_OUT ?? 'dist');
    const inDist = (cluster: string) => rendered[cluster] ?? null;
    if (values.json) {
      console.log(
        JSON.stringify(
          {
            clusters: steps.map((s) => ({ ...s, next: s.next ?? null, rendered: inDist(s.cluster) })),
            errors: pointerDiags.errors.map(formatDiagnostic),
          },
          null,
          2,
        ),
      );
    } else {
      const color = pc.isColorSupported && out.isTTY !== false;
      const c = color ? pc : pc.createColors(false);
      const rows = steps.map((s) => [
        c.bold(s.cluster),
        c.cyan(s.current),
        inDist(s.cluster) === s.current ? c.dim('same') : c.yellow(inDist(s.cluster) ? `${inDist(s.cluster)}: synth` : 'none: synth'),
        s.next ? (s.blockedBy.length ? c.yellow(s.next) : c.green(s.next)) : c.dim('done'),
        s.next
          ? s.blockedBy.length
            ? s.blockedBy.map((b) => `- ${b}`).join('\n')
            : 'ready: set spec.phase, synth, commit'
          : s.current === 'multicluster'
            ? 'greenfield: one overlay, nothing further'
            : 'migration complete',
      ]);
      const width = out.columns && out.columns > 40 ? out.columns : 100;
      for (const line of renderTable(
        ['CLUSTER', 'CURRENT', 'IN DIST', 'NEXT', 'BLOCKED BY'].map((h) => c.dim(h)),
        rows,
        width,
      ))
        console.log(line);
      for (const e of pointerDiags.errors) console.error(formatDiagnostic(e));
    }
    return pointerDiags.errors.length ? 1 : 0;
  } catch (e) {
    return inputErrorExit(e);
  }
}
