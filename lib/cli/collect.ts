import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import { parseCommand } from './args';
import { DUMPS, dumpCommand, ROOT_CERT_GET } from '../load/kinds';
import { compareStrings } from '../sort';
import { listFiles } from '../write/atomic';
import { COLLECT_MARKER, collectConflicts, collectRecord, readCollectRecord, sha256 } from '../write/out-dir';

const USAGE = `usage: meshfed collect <cluster> [--clusters DIR] [--namespace NS] [--context CTX] [--cli oc|kubectl] [--dry-run] [--json]

Dumps everything meshfed and its checks read from one cluster into DIR/<cluster>/ossm2/ (and its
public root into DIR/<cluster>/root-cert.pem), with read-only get commands: the SMCP, the member roll
and members, the federation, the control plane's ConfigMaps, gateway Services, Deployments and Routes,
the member namespaces' workloads, Services, Routes, DestinationRules, VirtualServices, Istio Gateways and
AuthorizationPolicies, every ServiceEntry and Telemetry. Member namespaces come from the member roll's
status and the ServiceMeshMembers. Secrets are never read. The dumps are written only once every get
has succeeded, and replace only files an earlier collect wrote and nobody changed since (recorded in
DIR/<cluster>/ossm2/.meshfed); a file of yours of the same name stops it (exit 1, nothing written).

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
  // The same script, dumping into a scratch folder: the cluster's folder changes only once every get has
  // succeeded, and then only where collect may write (lib/write/out-dir.ts).
  const staging = fs.mkdtempSync(path.join(os.tmpdir(), 'meshfed-collect-'));
  let code: number;
  let files: string[] = [];
  try {
    const staged = collectScript({
      cluster,
      clustersDir: staging,
      namespace: v.namespace,
      context: v.context ?? cluster,
      cli: v.cli ?? 'oc',
    });
    // The script's progress goes to stderr (naming the cluster's folder, not the scratch one); with --json its stdout is not ours to print.
    const res = spawnSync('/bin/sh', ['-c', staged], { stdio: ['inherit', v.json ? 'ignore' : 'inherit', 'pipe'], env, encoding: 'utf8' });
    process.stderr.write((res.stderr ?? '').split(staging).join(clustersDir));
    code = res.status ?? 1;
    if (code !== 0) {
      console.error(
        `meshfed: collect ${cluster} failed (exit ${res.status ?? res.signal}); nothing was written. Fix the cause and run it again.`,
      );
    } else {
      const written = install(dir, path.join(staging, cluster));
      if (written) files = written.map((rel) => path.join(dir, rel));
      else code = 1;
    }
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
  if (v.json) console.log(JSON.stringify({ cluster, dir, script, exitCode: code, files }, null, 2));
  return code;
}

/**
 * Move a collect's dumps (`from`, laid out as the cluster's folder) into the cluster's folder `dir` and
 * record them, or refuse, writing nothing, when that would replace a file collect did not write or one
 * edited since. Returns the files written (relative to `dir`), or undefined after a refusal.
 */
function install(dir: string, from: string): string[] | undefined {
  const incoming = new Map(listFiles(from).map((rel) => [rel, fs.readFileSync(path.join(from, rel))]));
  const conflicts = collectConflicts(dir, incoming);
  const show = (rels: string[]) => rels.map((r) => path.join(dir, r)).join(', ');
  if (conflicts.length) {
    console.error(
      `meshfed: refused: collect would replace ${conflicts.length} file(s) it did not write, or that changed since it wrote them: ` +
        `${show(conflicts)}. collect replaces only its own dumps (listed in ${path.join(dir, COLLECT_MARKER)}). Move these files ` +
        `out of ${dir}/ (or delete them, if they are an older dump of this cluster) and run collect again; nothing was written.`,
    );
    return undefined;
  }
  // Files an earlier collect wrote and this one did not (a namespace that left the mesh) stay, and stay recorded.
  const record = new Map(
    [...readCollectRecord(dir)].filter(
      ([rel, hash]) => fs.existsSync(path.join(dir, rel)) && sha256(fs.readFileSync(path.join(dir, rel))) === hash,
    ),
  );
  const stale = [...record.keys()].filter((rel) => !incoming.has(rel)).sort(compareStrings);
  for (const [rel, bytes] of incoming) {
    const target = path.join(dir, rel);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    if (!fs.existsSync(target) || !fs.readFileSync(target).equals(bytes)) fs.writeFileSync(target, bytes);
    record.set(rel, sha256(bytes));
  }
  fs.writeFileSync(path.join(dir, COLLECT_MARKER), collectRecord(record));
  if (stale.length)
    console.error(
      `meshfed: left as they were: ${show(stale)}, written by an earlier collect but not dumped now; delete them if ` +
        'their namespaces left the mesh.',
    );
  return [...incoming.keys()].sort(compareStrings);
}
