/**
 * meshfed collect: the read-only dump commands, run against a stub `oc` on PATH that answers from the
 * bundled example's dumps; what it collects synthesizes like the original.
 */
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import { copyTree, EXAMPLE_CLUSTERS } from './support/fixtures';
import { captureConsole, readTree } from './support/synth';
import { runCollect } from '../lib/cli/collect';
import { DUMPS, READ_KINDS } from '../lib/load/kinds';
import { render } from '../lib/pipeline/render';

const ROOT = path.join(__dirname, '..');
const EAST = path.join(EXAMPLE_CLUSTERS, 'east');
const EMPTY = 'apiVersion: v1\nkind: List\nitems: []\n';

/** A stub oc: logs its arguments, answers `get` from the bundled east dumps. */
function stubOc(dir: string): string {
  const bin = path.join(dir, 'bin');
  fs.mkdirSync(bin);
  const answers = path.join(dir, 'answers');
  fs.mkdirSync(answers);
  for (const f of ['smcp', 'federation', 'namespaces', 'workloads'])
    fs.copyFileSync(path.join(EAST, 'ossm2', `${f}.yaml`), path.join(answers, `${f}.yaml`));
  fs.writeFileSync(path.join(answers, 'empty.yaml'), EMPTY);
  fs.copyFileSync(path.join(EAST, 'root-cert.pem'), path.join(answers, 'root.pem'));
  fs.writeFileSync(
    path.join(bin, 'oc'),
    `#!/bin/sh
echo "$*" >> ${dir}/calls.log
A=${answers}
case "$*" in
  *"get smcp -A -o jsonpath"*) printf istio-system ;;
  *"get smcp -n istio-system -o yaml"*) cat $A/smcp.yaml ;;
  *"get smmr -n istio-system -o jsonpath"*) printf '' ;;
  *"get smm -A -o jsonpath"*) printf client ;;
  *"get servicemeshpeer"*) cat $A/federation.yaml ;;
  *"get namespace istio-system client"*) cat $A/namespaces.yaml ;;
  *"get rollouts.argoproj.io"*) echo 'error: the server doesn'"'"'t have a resource type "rollouts"' >&2; exit 1 ;;
  *"get pod,job,cronjob "*|*"get deploymentconfig "*) cat $A/empty.yaml ;;
  *"-n client -o yaml"*) cat $A/workloads.yaml ;;
  *"istio-ca-root-cert"*) cat $A/root.pem ;;
  *" get "*) cat $A/empty.yaml ;;
  *) echo "stub oc: unexpected: $*" >&2; exit 1 ;;
esac
`,
    { mode: 0o755 },
  );
  return bin;
}

/**
 * `meshfed collect …` in process (the command as a process is what test/e2e covers): what it prints, through console and
 * straight to stdout/stderr (the script under --dry-run, the script's own stderr), captured; `env` adds to the environment
 * the script runs in (the stub oc on PATH).
 */
function meshfed(args: string[], env: NodeJS.ProcessEnv = {}) {
  const [command, ...rest] = args;
  if (command !== 'collect') throw new Error(`collect.test runs collect only, not ${command}`);
  const stdout: string[] = [];
  const stderr: string[] = [];
  const write = (into: string[]) => (chunk: string | Uint8Array) => (into.push(String(chunk)), true);
  const o = jest.spyOn(process.stdout, 'write').mockImplementation(write(stdout) as never);
  const e = jest.spyOn(process.stderr, 'write').mockImplementation(write(stderr) as never);
  try {
    const { value: status, out, err } = captureConsole(() => runCollect(rest, { ...process.env, ...env }));
    return {
      status,
      stdout: stdout.join('') + out.map((l) => `${l}\n`).join(''),
      stderr: stderr.join('') + err.map((l) => `${l}\n`).join(''),
    };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

test('--dry-run prints the script: read-only gets, no Secret', () => {
  const res = meshfed(['collect', 'east', '--dry-run', '--context', 'prod-east']);
  expect(res.status).toBe(0);
  const gets = res.stdout.split('\n').filter((l) => /\bk get\b/.test(l));
  expect(gets.length).toBeGreaterThanOrEqual(12);
  expect(res.stdout).toContain('k() { oc --context \'prod-east\' "$@"; }');
  expect(res.stdout).not.toMatch(/\bsecret/i);
  expect(res.stdout).not.toMatch(/\bk (apply|create|delete|patch|label|edit)\b/);
  for (const kind of ['authorizationpolicy', 'destinationrule', 'virtualservice', 'route', 'telemetry', 'serviceentry'])
    expect(res.stdout).toContain(kind);
  const json = meshfed(['collect', 'east', '--dry-run', '--context', 'prod-east', '--json']);
  expect(JSON.parse(json.stdout)).toEqual({ cluster: 'east', dir: path.join('clusters', 'east'), script: res.stdout });
});

test('collect with a stub oc dumps what synth needs, member namespaces from the roll and the members', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshfed-collect-'));
  const bin = stubOc(dir);
  const clusters = path.join(dir, 'clusters');
  fs.mkdirSync(path.join(clusters, 'east'), { recursive: true });
  fs.copyFileSync(path.join(EAST, 'cluster.yaml'), path.join(clusters, 'east', 'cluster.yaml'));
  copyTree(path.join(EXAMPLE_CLUSTERS, 'west'), path.join(clusters, 'west'));
  fs.copyFileSync(path.join(EXAMPLE_CLUSTERS, 'gitops.yaml'), path.join(clusters, 'gitops.yaml'));
  const res = meshfed(['collect', 'east', '--clusters', clusters, '--json'], { PATH: `${bin}:${process.env.PATH}` });
  expect(res.stderr).toContain('meshfed: east: control plane istio-system, members: client');
  expect(res.status).toBe(0);
  // --json: the result alone on stdout.
  const report = JSON.parse(res.stdout) as { cluster: string; exitCode: number; files: string[] };
  expect(report).toMatchObject({ cluster: 'east', exitCode: 0 });
  expect(report.files.map((f) => path.basename(f))).toContain('workloads-client.yaml');
  const calls = fs.readFileSync(path.join(dir, 'calls.log'), 'utf8').trim().split('\n');
  expect(calls.every((c) => c.startsWith('--context east get '))).toBe(true);
  expect(fs.readdirSync(path.join(clusters, 'east', 'ossm2')).sort()).toEqual([
    '.meshfed',
    'configmaps.yaml',
    // Optional kinds the cluster does not serve leave no file (the stub serves no Rollouts).
    'deploymentconfigs-client.yaml',
    'federation.yaml',
    'gateways.yaml',
    'members.yaml',
    'namespaces.yaml',
    'networkpolicies.yaml',
    'restarts-client.yaml',
    'serviceentries.yaml',
    'smcp.yaml',
    'telemetry.yaml',
    'workloads-client.yaml',
  ]);
  expect(fs.readFileSync(path.join(clusters, 'east', 'root-cert.pem'), 'utf8')).toBe(
    fs.readFileSync(path.join(EAST, 'root-cert.pem'), 'utf8'),
  );
  // What it collected renders exactly as the original dumps do.
  const east = (files: Map<string, string>) => new Map([...files].filter(([f]) => f.startsWith('east/')));
  const a = east(render(clusters).files);
  const b = east(render(EXAMPLE_CLUSTERS).files);
  expect([...a.keys()]).toEqual([...b.keys()]);
  expect(a.size).toBeGreaterThan(10);
  expect(a).toEqual(b);
});

test('a failing oc stops collect with its exit code and says so', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshfed-collect-'));
  const bin = path.join(dir, 'bin');
  fs.mkdirSync(bin);
  fs.writeFileSync(path.join(bin, 'oc'), '#!/bin/sh\necho "error: You must be logged in to the server (Unauthorized)" >&2\nexit 1\n', {
    mode: 0o755,
  });
  const res = meshfed(['collect', 'east', '--clusters', path.join(dir, 'clusters'), '--namespace', 'istio-system'], {
    PATH: `${bin}:${process.env.PATH}`,
  });
  expect(res.status).toBe(1);
  expect(res.stderr).toContain('Unauthorized');
  expect(res.stderr).toContain('meshfed: collect east failed (exit 1); nothing was written.');
  // The dumps go to a scratch folder first: a failed collect leaves no half-written folder behind.
  expect(fs.existsSync(path.join(dir, 'clusters'))).toBe(false);
});

/** Every file under `dir`: relative path → content. */
const files = (dir: string) => new Map([...readTree(dir)].map(([f, c]) => [f.split(path.sep).join('/'), c]));

test('collect replaces only its own dumps, unchanged since; a file of yours in the way stops it and nothing is written', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshfed-collect-'));
  const bin = stubOc(dir);
  const clusters = path.join(dir, 'clusters');
  const east = path.join(clusters, 'east');
  fs.mkdirSync(east, { recursive: true });
  fs.copyFileSync(path.join(EAST, 'cluster.yaml'), path.join(east, 'cluster.yaml'));
  const collect = () => meshfed(['collect', 'east', '--clusters', clusters], { PATH: `${bin}:${process.env.PATH}` });
  expect(collect().status).toBe(0);
  // The record: each file collect wrote, with its SHA-256 (sha256sum's format).
  const record = fs.readFileSync(path.join(east, 'ossm2', '.meshfed'), 'utf8');
  const smcp = fs.readFileSync(path.join(east, 'ossm2', 'smcp.yaml'));
  expect(record).toContain(`${createHash('sha256').update(smcp).digest('hex')}  ossm2/smcp.yaml\n`);
  expect(record).toContain('  root-cert.pem\n');
  // A dump of the user's own beside them stays; a fresher SMCP replaces collect's own smcp.yaml.
  fs.writeFileSync(path.join(east, 'ossm2', 'policies.yaml'), '# mine\n');
  fs.appendFileSync(path.join(dir, 'answers', 'smcp.yaml'), '# dumped again\n');
  // A namespace an earlier collect dumped that is no longer a member: its file stays, and is named.
  const old = path.join(east, 'ossm2', 'workloads-old.yaml');
  fs.writeFileSync(old, EMPTY);
  fs.appendFileSync(
    path.join(east, 'ossm2', '.meshfed'),
    `${createHash('sha256').update(EMPTY).digest('hex')}  ossm2/workloads-old.yaml\n`,
  );
  const again = collect();
  expect(again.status).toBe(0);
  expect(again.stderr).toContain(`meshfed: left as they were: ${old}, written by an earlier collect but not dumped now;`);
  expect(fs.readFileSync(path.join(east, 'ossm2', '.meshfed'), 'utf8')).toContain('  ossm2/workloads-old.yaml\n');
  expect(fs.readFileSync(path.join(east, 'ossm2', 'smcp.yaml'), 'utf8')).toMatch(/# dumped again\n$/);
  expect(fs.readFileSync(path.join(east, 'ossm2', 'policies.yaml'), 'utf8')).toBe('# mine\n');
  // A collected file edited by hand is the user's now: collect refuses, and writes nothing at all.
  fs.appendFileSync(path.join(east, 'ossm2', 'federation.yaml'), '# my fix\n');
  fs.appendFileSync(path.join(dir, 'answers', 'smcp.yaml'), '# and again\n');
  const before = files(clusters);
  const res = collect();
  expect(res.status).toBe(1);
  expect(res.stderr).toContain(
    `meshfed: refused: collect would replace 1 file(s) it did not write, or that changed since it wrote them: ` +
      `${path.join(east, 'ossm2', 'federation.yaml')}. collect replaces only its own dumps (listed in ${path.join(east, 'ossm2', '.meshfed')}). ` +
      `Move these files out of ${east}/ (or delete them, if they are an older dump of this cluster) and run collect again; nothing was written.`,
  );
  expect(files(clusters)).toEqual(before);
  // Dumps written by hand (the bundled example's): those that differ from what the cluster answers now (smcp.yaml:
  // the stub's answer changed above; namespaces.yaml: edited here) stop collect.
  const template = copyTree(EXAMPLE_CLUSTERS);
  fs.appendFileSync(path.join(template, 'east', 'ossm2', 'namespaces.yaml'), '# by hand\n');
  const kept = files(template);
  const hand = meshfed(['collect', 'east', '--clusters', template], { PATH: `${bin}:${process.env.PATH}` });
  expect(hand.status).toBe(1);
  expect(hand.stderr).toContain(
    `replace 2 file(s) it did not write, or that changed since it wrote them: ${path.join(template, 'east', 'ossm2', 'namespaces.yaml')}, ` +
      `${path.join(template, 'east', 'ossm2', 'smcp.yaml')}.`,
  );
  expect(files(template)).toEqual(kept);
});

test('docs/input.md lists by hand exactly the dumps collect runs, and collect dumps every kind meshfed reads', () => {
  /** The dumps of a script or a docs block: each `get … -o yaml > "$D/<file>"`, and the root certificate's `get`. */
  const dumps = (text: string) =>
    text
      .split('\n')
      .flatMap((l) => [...l.matchAll(/\b(?:k|oc) (get [^;]*?(?:-o yaml > "\$D\/[^"]+"|-o jsonpath='\{\.data\.root-cert\\\.pem\}'))/g)])
      .map((m) => m[1])
      .sort();
  const script = meshfed(['collect', 'east', '--dry-run']).stdout;
  const docs = fs.readFileSync(path.join(ROOT, 'docs', 'input.md'), 'utf8');
  const block = docs.slice(docs.indexOf('<!-- BEGIN collect commands'), docs.indexOf('<!-- END collect commands'));
  expect(dumps(script).length).toBe(DUMPS.length + 1);
  expect(dumps(block)).toEqual(dumps(script));
  const resources = new Set(dumps(script).flatMap((d) => d.split(' ')[1].split(',')));
  for (const k of READ_KINDS) expect({ kind: k.kind, collected: resources.has(k.resource) }).toEqual({ kind: k.kind, collected: true });
});
