/**
 * The guards on what a render changes from the last delivered one, end to end through the real synth:
 * the previous render read from Git when dist/ is gone (so deleting dist/ bypasses nothing), a rollback
 * from 03-import on written only with --confirm-rollback, and an exporter's east-west address changed under
 * importers at 03-import or later written only with --confirm-address-change. The rehearsal twin is skipped
 * (MESHFED_REHEARSE=0): it runs after these rules and is tested on its own (test/twin/).
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import { stringify } from 'yaml';

import { copyTree, EXAMPLE_CLUSTERS, importsVisibleTo } from './support/fixtures';
import { readTree, runCli } from './support/synth';
import { analyse } from '../lib/pipeline/render';
import { PlanJson } from '../lib/write/plan-json';
import { rollback } from '../lib/write/runbook/rollback';

/** An AuthorizationPolicy in west's dumps, which 00-federation adopts (test/removals.test.ts). */
const POLICY = {
  apiVersion: 'security.istio.io/v1',
  kind: 'AuthorizationPolicy',
  metadata: { name: 'httpbin-callers', namespace: 'a' },
  spec: {
    action: 'ALLOW',
    selector: { matchLabels: { app: 'httpbin' } },
    rules: [{ from: [{ source: { principals: ['west.local/ns/istio-system/sa/federation-ingress-service-account'] } }] }],
  },
};

const GREENFIELD = path.join(EXAMPLE_CLUSTERS, '..', 'examples', 'greenfield', 'clusters');

function setPhase(dir: string, cluster: string, phase: string): void {
  const f = path.join(dir, cluster, 'cluster.yaml');
  fs.writeFileSync(f, fs.readFileSync(f, 'utf8').replace(/^(\s+)phase: .*$/m, `$1phase: ${phase}`));
}

function setAddress(dir: string, cluster: string, from: string, to: string): void {
  const f = path.join(dir, cluster, 'cluster.yaml');
  const text = fs.readFileSync(f, 'utf8');
  expect(text).toContain(`address: ${from}`);
  fs.writeFileSync(f, text.replace(`address: ${from}`, `address: ${to}`));
}

/** A folder holding clusters/ (a copy of `from`) and, once synth ran, dist/; `synth` runs in-process without the twin. */
function workspace(from = EXAMPLE_CLUSTERS) {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'meshfed-guards-'));
  const clusters = path.join(root, 'clusters');
  copyTree(from, clusters);
  // POLICY names west's federation gateway: east's callers are admitted from 02 by namespace (importsVisibleTo).
  if (from === EXAMPLE_CLUSTERS) importsVisibleTo(clusters, 'east', ['client']);
  const out = path.join(root, 'dist');
  const synth = (args: string[] = [], env: NodeJS.ProcessEnv = {}) =>
    runCli(['--clusters', clusters, '--out', out, ...args], { MESHFED_REHEARSE: '0', ...env });
  const git = (...a: string[]) => {
    const r = spawnSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', '-c', 'commit.gpgsign=false', ...a], {
      cwd: root,
      encoding: 'utf8',
    });
    if (r.status !== 0) throw new Error(`git ${a.join(' ')}: ${r.stderr}`);
  };
  return { root, clusters, out, synth, git };
}

describe('the previous render when dist/ is gone', () => {
  test('a committed dist/ at 00 is the previous render: dist/ deleted, a pointer set to 03 is refused as skipped phases', () => {
    const { clusters, out, synth, git } = workspace();
    fs.writeFileSync(path.join(clusters, 'west', 'ossm2', 'policies.yaml'), stringify(POLICY));
    expect(synth().code).toBe(0);
    git('init', '-q');
    git('add', '-A');
    git('commit', '-q', '-m', 'dist/ at 00-federation');
    fs.rmSync(out, { recursive: true });
    setPhase(clusters, 'east', '03-import');
    const res = synth();
    expect(res.code).toBe(1);
    expect(res.stderr).toContain(
      `meshfed: ${out}/plan.json does not exist: comparing with the last committed render (git show HEAD:dist/plan.json).`,
    );
    expect(res.stderr).toContain(
      `error: ${clusters}/east/cluster.yaml:7, ClusterSettings east, field spec.phase: east's pointer skips a phase: spec.phase is ` +
        '03-import, the last synth rendered east at 00-federation, and 01-prepare and 02-export come between.',
    );
    expect(fs.existsSync(out)).toBe(false);
    expect(JSON.parse(synth(['--json']).stdout)).toMatchObject({ exitCode: 1, previousRender: 'git show HEAD:dist/plan.json' });
    // The committed render feeds the removal guard too: an object taken from west's current state is refused.
    fs.rmSync(path.join(clusters, 'west', 'ossm2', 'policies.yaml'));
    setPhase(clusters, 'east', '00-federation');
    const removal = synth();
    expect(removal.code).toBe(1);
    expect(removal.stderr).toContain('meshfed: west stays at 00-federation but loses 1 object(s):');
    expect(removal.stderr).toContain('  - AuthorizationPolicy/a/httpbin-callers (security.istio.io)');
    expect(fs.existsSync(out)).toBe(false);
  });

  test('a linked worktree (its .git is a file) is a Git work tree: its committed render is found', () => {
    const { root, clusters, out, synth, git } = workspace();
    expect(synth().code).toBe(0);
    git('init', '-q');
    git('add', '-A');
    git('commit', '-q', '-m', 'dist/ at 00-federation');
    const linked = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'meshfed-linked-')), 'linked');
    git('worktree', 'add', '-q', linked);
    expect(fs.statSync(path.join(linked, '.git')).isFile()).toBe(true);
    const there = (p: string) => path.join(linked, path.relative(root, p));
    fs.rmSync(there(out), { recursive: true });
    setPhase(there(clusters), 'east', '03-import');
    const res = runCli(['--clusters', there(clusters), '--out', there(out)], { MESHFED_REHEARSE: '0' });
    expect(res.code).toBe(1);
    expect(res.stderr).toContain(
      `meshfed: ${there(out)}/plan.json does not exist: comparing with the last committed render (git show HEAD:dist/plan.json).`,
    );
  });

  test('dist/ deleted and never committed: written, and the summary says nothing could be compared', () => {
    // Not in a Git work tree at all.
    const plain = workspace();
    expect(plain.synth().code).toBe(0);
    fs.rmSync(plain.out, { recursive: true });
    setPhase(plain.clusters, 'west', '02-export');
    const alone = plain.synth(['--json']);
    expect(alone.code).toBe(0);
    expect(alone.stderr).toContain(
      `meshfed: no previous render found (${plain.out}/plan.json does not exist, and ${plain.out}/ is not in a Git work tree), so ` +
        'the pointer and removal guards had nothing to compare: skipped phases, unconfirmed rollbacks, changed east-west ' +
        `addresses and removals were not checked. On a first synth that is expected; if ${plain.out}/ was deleted, restore the ` +
        `render GitOps applies now (with Git: git checkout HEAD -- ${plain.out}) and synth again.`,
    );
    expect(JSON.parse(alone.stdout)).toMatchObject({ exitCode: 0, previousRender: null });
    // In a repository whose commits hold no dist/.
    const repo = workspace();
    repo.git('init', '-q');
    repo.git('add', 'clusters');
    repo.git('commit', '-q', '-m', 'clusters only');
    expect(repo.synth().code).toBe(0);
    fs.rmSync(repo.out, { recursive: true });
    setPhase(repo.clusters, 'west', '02-export');
    const res = repo.synth();
    expect(res.code).toBe(0);
    expect(res.stderr).toContain(
      `meshfed: no previous render found (${repo.out}/plan.json does not exist, and HEAD has none either ` +
        '(git show HEAD:dist/plan.json)), so the pointer and removal guards had nothing to compare',
    );
    // With a previous render, the summary says nothing of the kind.
    expect(repo.synth(['--allow-removals'], { MESHFED_CACHE: '0' }).stderr).not.toContain('no previous render found');
  });

  test('a deletion staged with git rm (the README removing the bundled example) is taken as meant, and said', () => {
    const { out, synth, git } = workspace();
    expect(synth().code).toBe(0);
    git('init', '-q');
    git('add', '-A');
    git('commit', '-q', '-m', 'the bundled example');
    git('rm', '-r', '-q', 'dist');
    const res = synth();
    expect(res.code).toBe(0);
    expect(res.stderr).toContain(
      `meshfed: no previous render found (${out}/plan.json does not exist, and its deletion is staged (git rm), which is taken as ` +
        'meant: the committed dist/plan.json was not compared)',
    );
  });

  test('a committed render of another federation, its dist/ deleted as the refusal says, is replaced: nothing to compare', () => {
    const { root, out, synth, git } = workspace();
    expect(synth().code).toBe(0);
    git('init', '-q');
    git('add', '-A');
    git('commit', '-q', '-m', 'the bundled example');
    fs.rmSync(path.join(root, 'clusters'), { recursive: true });
    copyTree(path.join(EXAMPLE_CLUSTERS, '..', 'examples', 'three-meshes', 'clusters'), path.join(root, 'clusters'));
    expect(synth().code).toBe(1); // dist/ still there: "holds the render of another federation"
    fs.rmSync(out, { recursive: true });
    const res = synth();
    expect(res.code).toBe(0);
    expect(res.stderr).toContain(
      "meshfed: the last committed render (git show HEAD:dist/plan.json) is another federation's (east, west) and " +
        `${out}/ is gone: nothing to compare; commit the new render in its place.`,
    );
  });
});

describe('a rollback from 03-import on needs --confirm-rollback', () => {
  test('03→02 is refused with what the rollback does and how to confirm; the confirmation writes it; 02→01 stays free', () => {
    const { clusters, out, synth } = workspace();
    setPhase(clusters, 'west', '02-export');
    setPhase(clusters, 'east', '03-import');
    expect(synth().code).toBe(0);
    const before = readTree(out);
    setPhase(clusters, 'east', '02-export');
    const { plan } = analyse(clusters);
    const does = rollback('03-import', plan.byCluster.east[3]);
    expect(does).toMatch(/^Set `spec\.phase: 02-export`, synth, commit\. Prune deletes what this phase added: /);
    for (const res of [synth(), synth(['--confirm-rollback', 'west']), synth(['--allow-removals'])]) {
      expect(res.code).toBe(1);
      expect(res.stderr).toContain(
        `error: ${clusters}/east/cluster.yaml:7, ClusterSettings east, field spec.phase: east rolls back from 03-import to ` +
          '02-export: a rollback from 03-import on changes what carries live traffic, so it is written only when you confirm it. ' +
          "What it does (the runbook's rollback of 03-import): " +
          does.replace('Set `spec.phase: 02-export`, synth, commit. ', '') +
          ' If that is what you want, run synth again with --confirm-rollback east (CI: MESHFED_CONFIRM_ROLLBACK=east); ' +
          `otherwise set spec.phase: 03-import again in ${clusters}/east/cluster.yaml.`,
      );
      expect(res.stderr).toContain('`Gateway istio-system/remote-gateway-network-west-mesh`');
      expect(readTree(out)).toEqual(before);
    }
    const confirmed = synth(['--confirm-rollback', 'west', '--confirm-rollback', 'east']);
    expect(confirmed.code).toBe(0);
    expect(confirmed.stderr).toContain('meshfed: east: 03-import -> 02-export: applies 0 new object(s), prune deletes 13.');
    // Before 03 a one-step rollback needs no confirmation.
    setPhase(clusters, 'west', '01-prepare');
    expect(synth().code).toBe(0);
  });

  test('04→03 is refused too; MESHFED_CONFIRM_ROLLBACK confirms it for CI', () => {
    const { clusters, out, synth } = workspace();
    setPhase(clusters, 'west', '02-export');
    setPhase(clusters, 'east', '04-remove-federation');
    expect(synth().code).toBe(0);
    const before = readTree(out);
    setPhase(clusters, 'east', '03-import');
    const res = synth();
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('east rolls back from 04-remove-federation to 03-import: a rollback from 03-import on changes');
    expect(res.stderr).toContain('The federation comes back: the sets are applied again');
    expect(readTree(out)).toEqual(before);
    expect(synth([], { MESHFED_CONFIRM_ROLLBACK: 'blue,east' }).code).toBe(0);
  });
});

describe('an east-west address changed under importers at 03-import on needs --confirm-address-change', () => {
  test('refused naming the importers that switch and what fails; the confirmation writes it; plan.json records the address', () => {
    const { clusters, out, synth } = workspace();
    setPhase(clusters, 'west', '02-export');
    setPhase(clusters, 'east', '03-import');
    expect(synth().code).toBe(0);
    const plan = (): PlanJson => JSON.parse(fs.readFileSync(path.join(out, 'plan.json'), 'utf8')) as PlanJson;
    expect(plan().eastWestAddresses).toEqual({ west: { addresses: ['198.51.100.20'], port: 15443 } });
    const before = readTree(out);
    setAddress(clusters, 'west', '198.51.100.20', '203.0.113.7');
    for (const res of [synth(), synth(['--confirm-address-change', 'east']), synth(['--allow-removals'])]) {
      expect(res.code).toBe(1);
      expect(res.stderr).toContain(
        `error: ${clusters}/west/cluster.yaml:15, ClusterSettings west, field spec.eastWestGateway.address: west's east-west address ` +
          'changes: the last synth rendered 198.51.100.20 port 15443, the input now gives 203.0.113.7 port 15443. The clusters ' +
          'importing from west at 03-import or later switch to the new address at their next sync: east (at 03-import). Traffic ' +
          "from them to west's services fails until west's east-west gateway (Service eastwestgateway-istio in istio-ingress) " +
          'answers at the new address. If it does (or will before the importers sync), run synth again with ' +
          '--confirm-address-change west (CI: MESHFED_CONFIRM_ADDRESS_CHANGE=west); otherwise give the previous address ' +
          `(198.51.100.20 port 15443) again in ${clusters}/west/cluster.yaml.`,
      );
      expect(readTree(out)).toEqual(before);
    }
    expect(synth(['--confirm-address-change', 'west']).code).toBe(0);
    expect(plan().eastWestAddresses).toEqual({ west: { addresses: ['203.0.113.7'], port: 15443 } });
    // Back again, confirmed for CI.
    setAddress(clusters, 'west', '203.0.113.7', '198.51.100.20');
    expect(synth([], { MESHFED_CONFIRM_ADDRESS_CHANGE: 'west' }).code).toBe(0);
  });

  test('no importer at 03-import yet: the address changes freely; a greenfield federation is guarded the same way', () => {
    const { clusters, synth } = workspace();
    setPhase(clusters, 'west', '02-export');
    setPhase(clusters, 'east', '02-export');
    expect(synth().code).toBe(0);
    setAddress(clusters, 'west', '198.51.100.20', '203.0.113.7');
    expect(synth().code).toBe(0);
    // Greenfield: the one overlay imports; its clusters use the address as soon as they sync.
    const green = workspace(GREENFIELD);
    expect(green.synth().code).toBe(0);
    setAddress(green.clusters, 'west', '198.51.100.20', '203.0.113.7');
    const res = green.synth();
    expect(res.code).toBe(1);
    expect(res.stderr).toContain(
      "west's east-west address changes: the last synth rendered 198.51.100.20 port 15443, the input now gives 203.0.113.7 port " +
        '15443. The clusters importing from west switch to the new address at their next sync: east.',
    );
  });
});
