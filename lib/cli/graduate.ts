import * as fs from 'fs';
import * as path from 'path';

import { inputErrorExit, parseCommand } from './args';
import { throwIfErrorFindings } from '../check/finding';
import { analyse, check } from '../pipeline/render';
import { writeTreeAtomically } from '../write/atomic';
import { graduate } from '../write/graduate';
import { outDirRefusal } from '../write/out-dir';

const USAGE = `usage: meshfed graduate --to DIR [--clusters DIR] [--json]

Once every cluster is at 07-finalize: writes DIR/<cluster>/ as greenfield declarations of the end
state — cluster.yaml (mode: greenfield, nothing restarted on install), control-plane.yaml (the settings
the SMCP ran with, which OSSM 3 carries), federation/ (peers, export and import sets), inventory/ (what
runs), root-cert.pem — and DIR/gitops.yaml. \`meshfed synth --clusters DIR\` renders from them the objects
of 07-finalize and its import folders, byte for byte, in one overlay per cluster (multicluster). Add
services there from now on (docs/gitops.md, "After 07-finalize"). DIR must not exist or be empty
(exit 2 otherwise), and be neither the input folder nor the current folder; nothing else is written.

  --to DIR         where the graduated clusters folder goes (required)
  --clusters DIR   the migration's clusters folder (default: clusters, or $MESHFED_CLUSTERS)
  --json           print the files written as JSON`;

/** The `graduate` command; returns the exit code (0 ok, 1 input error, 2 usage error or a --to folder it may not write). */
export function runGraduate(argv: string[], env: NodeJS.ProcessEnv = process.env): number {
  const parsed = parseCommand<{ to?: string; clusters?: string; json?: boolean }>(
    argv,
    { to: { type: 'string' }, clusters: { type: 'string' }, json: { type: 'boolean' } },
    USAGE,
    (v) => (v.to ? undefined : '--to DIR is required'),
  );
  if ('exit' in parsed) return parsed.exit;
  const clustersDir = parsed.values.clusters ?? env.MESHFED_CLUSTERS ?? 'clusters';
  const to = parsed.values.to!;
  const refusal = outDirRefusal('graduate', to, { option: '--to', input: clustersDir });
  if (refusal) {
    console.error(`meshfed: ${refusal}`);
    return 2;
  }
  try {
    const analysis = analyse(clustersDir, { skipPointerRules: true });
    const { model, plan } = analysis;
    const notThere = plan.local.filter((c) => plan.pointers[c] !== '07-finalize');
    if (notThere.length) {
      console.error(
        `meshfed: graduate needs every cluster at 07-finalize; ${notThere.map((c) => `${c} is at ${plan.pointers[c]}`).join(', ')}. ` +
          'Finish the migration first (meshfed plan).',
      );
      return 1;
    }
    // What synth would refuse, graduate refuses too: the end state it declares must be one that renders.
    throwIfErrorFindings(check(analysis), analysis.diagnostics.warnings);
    const files = graduate(model, plan);
    const gitops = path.join(clustersDir, 'gitops.yaml');
    if (fs.existsSync(gitops)) files.set('gitops.yaml', fs.readFileSync(gitops, 'utf8'));
    writeTreeAtomically(to, files);
    if (parsed.values.json) console.log(JSON.stringify({ to, files: [...files.keys()].sort() }, null, 2));
    console.error(
      `meshfed: ${plan.local.length} cluster(s) graduated into ${to}/ (${files.size} files). Render them with ` +
        `meshfed synth --clusters ${to}, compare, then replace ${clustersDir}/ with ${to}/ in one commit.`,
    );
    return 0;
  } catch (e) {
    return inputErrorExit(e);
  }
}
