import { spawnSync } from 'child_process';

import { inputErrorExit, parseCommand } from './args';
import { render } from '../pipeline/render';
import { commandLine, compareLive, planVerify, QueryAnswer } from '../pipeline/verify';

const USAGE = `usage: meshfed verify <cluster> --context CTX [--phase PHASE] [--clusters DIR] [--cli oc|kubectl] [--dry-run] [--json]

Read-only comparison of a live cluster with the phase its pointer (spec.phase) says, to run before and after
a move: every object the phase declares is there and as declared (server-side apply keeps declared fields),
the SMCP reconciled and Ready, Istio and IstioCNI Ready, Gateways Programmed and the east-west gateway at
the addresses peers use, workloads carrying the annotation the phase's restart hook sets (network,
revision), and, for each imported host, a HEALTHY endpoint on the client proxy (istioctl proxy-config
endpoints). Only get and proxy-config, never a Secret. Exit 1 on any mismatch, naming it and the fix.

  --context CTX    kube context of the cluster (required)
  --phase PHASE    compare with this phase instead of the pointer's (e.g. the one still running while the
                   pointer's move waits for its merge): 03 or 03-import
  --clusters DIR   input folder (default: clusters, or $MESHFED_CLUSTERS)
  --cli oc|kubectl the client to run (default: oc); istioctl for the endpoints
  --dry-run        print the commands instead of running them
  --json           the checks and mismatches as JSON`;

interface Values {
  context?: string;
  phase?: string;
  clusters?: string;
  cli?: string;
  'dry-run'?: boolean;
  json?: boolean;
}

/** The `verify` command: 0 when the cluster runs its phase, 1 on a mismatch or an input error, 2 on a usage error. */
export function runVerify(argv: string[], env: NodeJS.ProcessEnv = process.env): number {
  const parsed = parseCommand<Values>(
    argv,
    {
      context: { type: 'string' },
      phase: { type: 'string' },
      clusters: { type: 'string' },
      cli: { type: 'string' },
      'dry-run': { type: 'boolean' },
      json: { type: 'boolean' },
    },
    USAGE,
    (v) =>
      v.cli !== undefined && v.cli !== 'oc' && v.cli !== 'kubectl'
        ? `--cli must be oc or kubectl, not "${v.cli}"`
        : v.context
          ? undefined
          : '--context is required: the kube context of the cluster to read',
    true,
  );
  if ('exit' in parsed) return parsed.exit;
  const v = parsed.values;
  const [cluster, ...extra] = parsed.positionals;
  if (!cluster || extra.length) {
    console.error(`meshfed: name exactly one cluster (its folder under clusters/)\n${USAGE}`);
    return 2;
  }
  const cli = v.cli ?? 'oc';
  try {
    const result = render(v.clusters ?? env.MESHFED_CLUSTERS ?? 'clusters', { skipPointerRules: true });
    if (!result.plan.local.includes(cluster)) {
      console.error(`meshfed: no cluster "${cluster}": one of ${result.plan.local.join(', ')}.`);
      return 2;
    }
    const written = result.plan.byCluster[cluster].filter((p) => p.blockedBy.length === 0).map((p) => p.phase);
    const phase = v.phase === undefined ? undefined : written.find((p) => p === v.phase || p.slice(0, 2) === v.phase);
    if (v.phase !== undefined && !phase) {
      console.error(`meshfed: --phase ${v.phase} is not a written phase of ${cluster}: one of ${written.join(', ')}.`);
      return 2;
    }
    const plan = planVerify(result, cluster, v.context!, phase);
    if (v['dry-run']) {
      const lines = plan.queries.map((q) => commandLine(q, cli));
      if (v.json) console.log(JSON.stringify({ cluster, phase: plan.phase, commands: lines }, null, 2));
      else for (const l of lines) console.log(l);
      return 0;
    }
    const answers = new Map<string, QueryAnswer>();
    for (const q of plan.queries) {
      const res = spawnSync(q.tool === 'kube' ? cli : 'istioctl', [...q.args], { encoding: 'utf8', env, maxBuffer: 256 * 1024 * 1024 });
      answers.set(q.id, { code: res.status ?? 1, stdout: res.stdout ?? '', stderr: res.stderr ?? String(res.error ?? '') });
    }
    const { checks, mismatches } = compareLive(plan, answers);
    if (v.json) console.log(JSON.stringify({ cluster, phase: plan.phase, checks, mismatches }, null, 2));
    else
      for (const m of mismatches)
        console.error(`meshfed verify: ${cluster} (${plan.phase}): ${m.what}: expected ${m.expected}, found ${m.found}. Fix: ${m.fix}`);
    console.error(
      `meshfed verify: ${cluster} at ${plan.phase}: ${checks} check(s), ` +
        (mismatches.length ? `${mismatches.length} mismatch(es) (above).` : 'the cluster runs its phase.'),
    );
    return mismatches.length ? 1 : 0;
  } catch (e) {
    return inputErrorExit(e);
  }
}
