/**
 * meshfed verify: read-only queries, run against a stub `oc` and `istioctl` on PATH answering as a healthy and as a
 * broken cluster would; every command verify can run, for every cluster and phase of every example, is a read.
 */
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import { copyTree, EXAMPLE_CLUSTERS, INPUT_FOLDERS } from './support/fixtures';
import { captureConsole } from './support/synth';
import { runVerify } from '../lib/cli/verify';
import { render, RenderResult } from '../lib/pipeline/render';
import { commandLine, compareLive, driftOf, planVerify, VerifyPlan } from '../lib/pipeline/verify';

const ROOT = path.join(__dirname, '..');
type O = Record<string, unknown>;

/** A copy of the bundled example with east's pointer at 06 (Istio, Gateways, restarts, imports). */
function clustersAt06(dir: string): string {
  const clusters = path.join(dir, 'clusters');
  copyTree(EXAMPLE_CLUSTERS, clusters);
  const file = path.join(clusters, 'east', 'cluster.yaml');
  fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace(/^ {2}phase: .*$/m, '  phase: 06-migrate-workloads'));
  return clusters;
}

const ready = (...types: string[]) => ({ conditions: types.map((type) => ({ type, status: 'True' })) });

/** What a healthy cluster answers: each declared object with what the API server and the operators add. */
function healthyAnswers(plan: VerifyPlan, addresses: readonly string[] = ['203.0.113.10']): Map<string, string> {
  const out = new Map<string, string>();
  for (const [id, objects] of plan.objects) {
    const items = objects.map((o) => {
      const live = structuredClone(o) as O;
      const meta = live.metadata as O;
      meta.uid = 'u-1';
      meta.resourceVersion = '42';
      meta.labels = { ...(meta.labels as O), 'added-by': 'someone-else' };
      if (o.kind === 'ServiceMeshControlPlane') {
        meta.generation = 3;
        live.status = { ...ready('Ready', 'Reconciled'), observedGeneration: 3 };
      }
      if (o.kind === 'Istio' || o.kind === 'IstioCNI') live.status = ready('Ready');
      if (o.kind === 'Gateway')
        live.status = { ...ready('Accepted', 'Programmed'), addresses: addresses.map((value) => ({ type: 'IPAddress', value })) };
      return live;
    });
    out.set(id, JSON.stringify({ apiVersion: 'v1', kind: 'List', items }));
  }
  // One workload may be restarted by two hooks (03 for the network, 06 for the revision): it carries both annotations.
  const restarted = new Map<string, Record<string, string>>();
  for (const r of plan.restarts) restarted.set(r.query, { ...restarted.get(r.query), [r.annotation]: r.value });
  for (const r of plan.restarts)
    out.set(
      r.query,
      JSON.stringify({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: r.name, namespace: r.namespace },
        spec: { template: { metadata: { annotations: restarted.get(r.query) } } },
      }),
    );
  for (const e of plan.endpoints)
    out.set(
      e.query,
      JSON.stringify(
        e.hosts.map((h) => ({
          name: `outbound|8000||${h}`,
          hostStatuses: [{ address: {}, healthStatus: { edsHealthStatus: 'HEALTHY' } }],
        })),
      ),
    );
  return out;
}

/** Stub `oc` and `istioctl`: log the call, answer from a file named by the hash of the arguments, else NotFound. */
function stubClis(dir: string, plan: VerifyPlan, answers: Map<string, string>): string {
  const bin = path.join(dir, 'bin');
  const a = path.join(dir, 'answers');
  fs.mkdirSync(bin, { recursive: true });
  fs.mkdirSync(a, { recursive: true });
  for (const q of plan.queries) {
    const text = answers.get(q.id);
    const file = path.join(a, createHash('sha1').update(q.args.join(' ')).digest('hex'));
    // An answer "ERR:<message>" is a failed call: the message on stderr, exit 1.
    if (text?.startsWith('ERR:')) fs.writeFileSync(`${file}.err`, text.slice(4));
    else if (text !== undefined) fs.writeFileSync(file, text);
  }
  const script = `#!/bin/sh
echo "$(basename "$0") $*" >> ${dir}/calls.log
f=${a}/$(printf '%s' "$*" | sha1sum | cut -c1-40)
if [ -f "$f.err" ]; then cat "$f.err" >&2; exit 1; fi
if [ -f "$f" ]; then cat "$f"; else echo 'Error from server (NotFound): not found' >&2; exit 1; fi
`;
  for (const tool of ['oc', 'istioctl']) fs.writeFileSync(path.join(bin, tool), script, { mode: 0o755 });
  return bin;
}

/** `meshfed verify …` in process (what bin/meshfed.js dispatches to), with the stubs first on PATH. */
function meshfed(args: string[], bin: string): { status: number; stdout: string; stderr: string } {
  const [command, ...argv] = args;
  expect(command).toBe('verify');
  const { value: status, out, err } = captureConsole(() => runVerify(argv, { ...process.env, PATH: `${bin}:${process.env.PATH}` }));
  const text = (lines: string[]) => lines.map((x) => `${x}\n`).join('');
  return { status, stdout: text(out), stderr: text(err) };
}

describe('meshfed verify against a stub oc and istioctl', () => {
  let dir = '';
  let clusters = '';
  let plan: VerifyPlan;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshfed-verify-'));
    clusters = clustersAt06(dir);
    plan = planVerify(render(clusters, { skipPointerRules: true }), 'east', 'prod-east');
  });

  test('a healthy cluster: exit 0, every call a get or proxy-config', () => {
    const run = fs.mkdtempSync(path.join(dir, 'healthy-'));
    const bin = stubClis(run, plan, healthyAnswers(plan));
    const res = meshfed(['verify', 'east', '--context', 'prod-east', '--clusters', clusters], bin);
    expect(res.stderr).toMatch(/meshfed verify: east at 06-migrate-workloads: \d+ check\(s\), the cluster runs its phase\./);
    expect(res.status).toBe(0);
    const calls = fs.readFileSync(path.join(run, 'calls.log'), 'utf8').trim().split('\n');
    expect(calls.length).toBe(plan.queries.length);
    for (const c of calls) expect(c).toMatch(/^(oc --context prod-east get |istioctl --context prod-east -i \S+ proxy-config endpoints )/);
    expect(calls.some((c) => c.startsWith('oc --context prod-east get istio.sailoperator.io default'))).toBe(true);
  });

  test('a broken cluster: exit 1, each mismatch named with its fix', () => {
    const answers = healthyAnswers(plan);
    const edit = (id: string, f: (items: O[]) => void) => {
      const doc = JSON.parse(answers.get(id)!) as { items: O[] };
      f(doc.items);
      answers.set(id, JSON.stringify(doc));
    };
    edit('get istio.sailoperator.io', (items) => void ((items[0].status as O).conditions = [{ type: 'Ready', status: 'False' }]));
    edit('get namespace', (items) => void ((items[0].metadata as O).labels = { 'istio-injection': 'enabled' }));
    edit('get networkpolicy.networking.k8s.io istio-system', (items) => void items.splice(0, 1));
    edit('get servicemeshcontrolplane.maistra.io istio-system', (items) => void ((items[0].status as O).observedGeneration = 2));
    answers.set(
      plan.restarts[0].query,
      JSON.stringify({ kind: 'Deployment', metadata: { name: plan.restarts[0].name }, spec: { template: {} } }),
    );
    answers.set(plan.endpoints[0].query, '[]');
    const sa = [...plan.objects.keys()].find((k) => k.startsWith('get serviceaccount '))!;
    answers.set(sa, 'ERR:Error from server (Forbidden): serviceaccounts is forbidden: User "auditor" cannot get resource\n');
    const run = fs.mkdtempSync(path.join(dir, 'broken-'));
    const res = meshfed(['verify', 'east', '--context', 'prod-east', '--clusters', clusters], stubClis(run, plan, answers));
    expect(res.status).toBe(1);
    const lines = res.stderr.split('\n');
    const has = (re: RegExp) => expect(lines.filter((l) => re.test(l))).not.toHaveLength(0);
    has(/Istio default: Ready: expected True, found False\. Fix: kubectl describe it/);
    has(/Namespace client: metadata\.labels\.\S+: expected .*, found \(absent\)\. Fix: Sync it: argocd app sync meshfed-east --prune/);
    has(/NetworkPolicy istio-system\/meshfed-expose-route: expected present \(06-migrate-workloads\), found not found\. Fix: Sync it/);
    has(/ServiceMeshControlPlane istio-system\/basic: observedGeneration: expected 3, found 2/);
    has(
      /deployments client\/\S+: pod template meshfed\.dev\/restarted-for-\w+: expected \S+, found \(absent\)\. Fix: .*sync the whole Application/,
    );
    has(/endpoints of \S+ on client\/curl: expected a HEALTHY endpoint, found none/);
    has(
      /ServiceAccount \S+: expected present \(06-migrate-workloads\), found Error from server \(Forbidden\): serviceaccounts is forbidden/,
    );
    expect(res.stderr).toMatch(/\d+ mismatch\(es\) \(above\)\./);
  });

  test('--dry-run prints the commands and runs nothing; --json lists them', () => {
    const res = meshfed(
      ['verify', 'east', '--context', 'prod-east', '--clusters', clusters, '--cli', 'kubectl', '--dry-run'],
      '/nonexistent',
    );
    expect(res.status).toBe(0);
    expect(res.stdout.trim().split('\n')).toEqual(plan.queries.map((q) => commandLine(q, 'kubectl')));
    const json = meshfed(['verify', 'east', '--context', 'prod-east', '--clusters', clusters, '--dry-run', '--json'], '/nonexistent');
    expect(JSON.parse(json.stdout)).toMatchObject({ cluster: 'east', phase: '06-migrate-workloads' });
  });

  test('--phase compares with another phase than the pointer: the phase still running while a move waits for its merge', () => {
    const res = meshfed(
      ['verify', 'east', '--context', 'prod-east', '--clusters', clusters, '--phase', '05', '--dry-run', '--json'],
      '/nonexistent',
    );
    expect(res.status).toBe(0);
    const out = JSON.parse(res.stdout) as { phase: string; commands: string[] };
    expect(out.phase).toBe('05-install-ossm3');
    expect(out.commands.some((c) => c.includes('get clusterrole.rbac.authorization.k8s.io'))).toBe(false);
    const bad = meshfed(['verify', 'east', '--context', 'x', '--clusters', clusters, '--phase', '09', '--dry-run'], '/nonexistent');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--phase 09 is not a written phase of east/);
  });

  test('usage errors: no --context, an unknown cluster', () => {
    expect(meshfed(['verify', 'east', '--clusters', clusters], '/nonexistent').status).toBe(2);
    const res = meshfed(['verify', 'north', '--context', 'x', '--clusters', clusters, '--dry-run'], '/nonexistent');
    expect(res.status).toBe(2);
    expect(res.stderr).toContain('no cluster "north"');
  });
});

test("the east-west Gateway must report the addresses peers use (cluster.yaml's spec.eastWestGateway.address)", () => {
  const plan = planVerify(render(EXAMPLE_CLUSTERS, { skipPointerRules: true }), 'west', 'west', '02-export');
  expect(plan.eastWest?.addresses.length).toBeGreaterThan(0);
  const asAnswers = (m: Map<string, string>) => new Map([...m].map(([k, stdout]) => [k, { code: 0, stdout, stderr: '' }]));
  expect(compareLive(plan, asAnswers(healthyAnswers(plan, plan.eastWest!.addresses))).mismatches).toEqual([]);
  const wrong = compareLive(plan, asAnswers(healthyAnswers(plan, ['198.51.100.7']))).mismatches;
  expect(wrong).toEqual([
    expect.objectContaining({ what: expect.stringMatching(/^Gateway \S+: status\.addresses$/), found: '198.51.100.7' }),
  ]);
});

test('drift: declared fields must be there as declared; what the server adds is not drift', () => {
  expect(driftOf({ a: { b: 1 }, l: [{ x: 1 }] }, { a: { b: 1, c: 2 }, l: [{ x: 1, y: 2 }], z: 3 })).toBeUndefined();
  expect(driftOf({ a: { b: 1 } }, { a: { b: 2 } })).toEqual({ path: 'a.b', expected: '1', found: '2' });
  expect(driftOf({ l: [1, 2] }, { l: [1] })).toMatchObject({ path: 'l' });
});

describe('every command verify can run is read-only', () => {
  test.each([...INPUT_FOLDERS])('%s: every cluster at every phase', (input) => {
    const result: RenderResult = render(path.join(ROOT, input), { skipPointerRules: true });
    let n = 0;
    for (const c of result.plan.local)
      for (const p of result.plan.byCluster[c].filter((x) => x.blockedBy.length === 0))
        for (const q of planVerify(result, c, 'ctx', p.phase).queries) {
          n++;
          const verb = q.tool === 'kube' ? q.args[2] : `${q.args[4]} ${q.args[5]}`;
          expect([q.tool, verb]).toEqual(q.tool === 'kube' ? ['kube', 'get'] : ['istioctl', 'proxy-config endpoints']);
          expect(q.args.join(' ')).not.toMatch(/\bsecrets?\b/i);
        }
    expect(n).toBeGreaterThan(0);
  });
});
