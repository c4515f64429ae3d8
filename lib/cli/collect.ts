import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

import { parseCommand } from './args';
import { DUMPS, dumpCommand, ROOT_CERT_GET } from '../load/kinds';

const USAGE = `usage: meshfed collect <cluster> [--clusters DIR] [--namespace NS] [--context CTX] [--cli oc|kubectl] [--dry-run] [--json]

Dumps everything meshfed and its checks read from one cluster into DIR/<cluster>/ossm2/ (and its
public root into DIR/<cluster>/root-cert.pem), with read-only get commands: the SMCP, the member roll
and members, the federation, the control plane's ConfigMaps, gateway Services, Deployments and Routes,
the member namespaces' workloads, Services, Routes, DestinationRules, VirtualServices, Istio Gateways and
AuthorizationPolicies, every ServiceEntry and Telemetry. Member namespaces come from the member roll's
status and the ServiceMeshMembers. Secrets are never read.

  --clusters DIR   input folder (default: clusters, or $MESHFED_CLUSTERS)
  --namespace NS   the SMCP's namespace (default: the namespace of the first SMCP the cluster lists)
  --context CTX    kube context (default: the cluster's name)
  --cli oc|kubectl the client to run (default: oc)
  --dry-run        print the script instead of running it
  --json           print the result as JSON: the cluster, its folder, the script, and (when run) the exit
                   code and the files written`;

const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** The POSIX shell script that dumps one cluster (every command a `get`). */
export function collectScript(o: { cluster: string; clustersDir: string; namespace?: string; context: string; cli: string }): string {
  const dir = path.join(o.clustersDir, o.cluster);
  const dumps = DUMPS.map((d) => dumpCommand(d, 'k'));
  // The member namespaces are listed right after the members are dumped (and before any dump that needs them).
  const afterMembers = DUMPS.findIndex((d) => d.kinds.includes('ServiceMeshMemberRoll')) + 1;
  return (
    [
      'set -eu',
      `k() { ${o.cli} --context ${q(o.context)} "$@"; }`,
      `D=${q(path.join(dir, 'ossm2'))}`,
      'mkdir -p "$D"',
      o.namespace ? `CP=${q(o.namespace)}` : `CP=$(k get smcp -A -o jsonpath='{.items[0].metadata.namespace}')`,
      '[ -n "$CP" ] || { echo "meshfed: no ServiceMeshControlPlane on this cluster" >&2; exit 1; }',
      ...dumps.slice(0, afterMembers),
      // Members: the roll's status (what Maistra configured), and the namespaces with a ServiceMeshMember.
      `MEMBERS=$( { k get smmr -n "$CP" -o jsonpath='{.items[*].status.configuredMembers[*]}'; echo; ` +
        `k get smm -A -o jsonpath='{.items[*].metadata.namespace}'; echo; } | tr ' ' '\\n' | ` +
        `grep -v -e '^$' -e "^$CP\\$" | LC_ALL=C sort -u | xargs)`,
      ...dumps.slice(afterMembers),
      `k ${ROOT_CERT_GET} > ${q(path.join(dir, 'root-cert.pem'))}`,
      `echo "meshfed: ${o.cluster}: control plane $CP, members: \${MEMBERS:-none}; dumps in $D" >&2`,
    ].join('\n') + '\n'
  );
}

/** The `collect` command: print (--dry-run) or run the dump script. */
export function runCollect(argv: string[], env: NodeJS.ProcessEnv = process.env): number {
  const parsed = parseCommand<{
    clusters?: string;
    namespace?: string;
    context?: string;
    cli?: string;
    'dry-run'?: boolean;
    json?: boolean;
  }>(
    argv,
    {
      clusters: { type: 'string' },
      namespace: { type: 'string' },
      context: { type: 'string' },
      cli: { type: 'string' },
      'dry-run': { type: 'boolean' },
      json: { type: 'boolean' },
    },
    USAGE,
    (v) => (v.cli === undefined || v.cli === 'oc' || v.cli === 'kubectl' ? undefined : `--cli must be oc or kubectl, not "${v.cli}"`),
    true,
  );
  if ('exit' in parsed) return parsed.exit;
  const [cluster, ...extra] = parsed.positionals;
  if (!cluster || extra.length || !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(cluster)) {
    console.error(`meshfed: name exactly one cluster (a DNS label: its folder under clusters/)\n${USAGE}`);
    return 2;
  }
  const v = parsed.values;
  const clustersDir = v.clusters ?? env.MESHFED_CLUSTERS ?? 'clusters';
  const script = collectScript({
    cluster,
    clustersDir,
    namespace: v.namespace,
    context: v.context ?? cluster,
    cli: v.cli ?? 'oc',
  });
  const dir = path.join(clustersDir, cluster);
  if (v['dry-run']) {
    if (v.json) console.log(JSON.stringify({ cluster, dir, script }, null, 2));
    else process.stdout.write(script);
    return 0;
  }
  // The script's progress goes to stderr; with --json its stdout is not ours to print.
  const res = spawnSync('/bin/sh', ['-c', script], { stdio: ['inherit', v.json ? 'ignore' : 'inherit', 'inherit'], env });
  const code = res.status ?? 1;
  if (code !== 0) console.error(`meshfed: collect ${cluster} failed (exit ${res.status ?? res.signal}); fix the cause and run it again.`);
  if (v.json) {
    const files = fs.existsSync(path.join(dir, 'ossm2'))
      ? fs
          .readdirSync(path.join(dir, 'ossm2'))
          .sort()
          .map((f) => path.join(dir, 'ossm2', f))
      : [];
    console.log(JSON.stringify({ cluster, dir, script, exitCode: code, files }, null, 2));
  }
  return code;
}
