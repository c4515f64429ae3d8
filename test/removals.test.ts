/**
 * The removal guard, end to end through the real synth with a previous dist/: a re-render that takes
 * objects away from a cluster's current desired state (pointer unchanged) is refused and lists them;
 * --allow-removals (or MESHFED_ALLOW_REMOVALS=1) lets it through; a pointer move prints what it applies
 * and what prune deletes; moving more than one phase at once needs the same confirmation.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import { stringify } from 'yaml';

import { copyTree, EXAMPLE_CLUSTERS } from './support/fixtures';
import { readTree, runCli } from './support/synth';

const policy = {
  apiVersion: 'security.istio.io/v1',
  kind: 'AuthorizationPolicy',
  metadata: { name: 'httpbin-callers', namespace: 'a' },
  spec: {
    action: 'ALLOW',
    selector: { matchLabels: { app: 'httpbin' } },
    rules: [{ from: [{ source: { principals: ['west.local/ns/istio-system/sa/federation-ingress-service-account'] } }] }],
  },
};

function setPhase(dir: string, cluster: string, phase: string): void {
  const f = path.join(dir, cluster, 'cluster.yaml');
  fs.writeFileSync(f, fs.readFileSync(f, 'utf8').replace(/^(\s+)phase: .*$/m, `$1phase: ${phase}`));
}

function fresh() {
  const clusters = copyTree(EXAMPLE_CLUSTERS);
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'meshfed-guard-')), 'dist');
  return { clusters, out, synth: (...extra: string[]) => runCli(['--clusters', clusters, '--out', out, ...extra]) };
}

test('a re-render that drops an adopted object from the current phase is refused, naming it; dist/ is unchanged', () => {
  const { clusters, out, synth } = fresh();
  fs.writeFileSync(path.join(clusters, 'west', 'ossm2', 'policies.yaml'), stringify(policy));
  expect(synth().code).toBe(0);
  const before = readTree(out);
  fs.rmSync(path.join(clusters, 'west', 'ossm2', 'policies.yaml')); // the forgotten dump file
  const res = synth();
  expect(res.code).toBe(1);
  expect(res.stderr).toContain('meshfed: west stays at 00-federation but loses 1 object(s):');
  expect(res.stderr).toContain('  - AuthorizationPolicy/a/httpbin-callers (security.istio.io)');
  expect(res.stderr).toContain('run again with --allow-removals');
  expect(readTree(out)).toEqual(before);
  expect(synth('--allow-removals').code).toBe(0);
  expect(readTree(out)).not.toEqual(before);
});

test('MESHFED_ALLOW_REMOVALS=1 confirms for CI; an unchanged re-render needs nothing; a vanished cluster is named', () => {
  const { clusters, out, synth } = fresh();
  fs.writeFileSync(path.join(clusters, 'west', 'ossm2', 'policies.yaml'), stringify(policy));
  expect(synth().code).toBe(0);
  expect(synth().code).toBe(0);
  fs.rmSync(path.join(clusters, 'west', 'ossm2', 'policies.yaml'));
  expect(runCli(['--clusters', clusters, '--out', out], { MESHFED_ALLOW_REMOVALS: '1' }).code).toBe(0);
  // Rendering only east (west administered elsewhere, from its bundle) into the same dist/ drops west.
  const alone = path.join(EXAMPLE_CLUSTERS, '..', 'examples', 'separate-domains', 'clusters');
  const res = runCli(['--clusters', alone, '--out', out]);
  expect(res.code).toBe(1);
  expect(res.stderr).toContain('west is no longer rendered: GitOps would prune everything it applied');
});

test('a pointer move prints what it applies and what prune deletes; skipping a phase needs confirmation', () => {
  const { clusters, synth } = fresh();
  expect(synth().code).toBe(0);
  setPhase(clusters, 'west', '01-prepare');
  const move = synth();
  expect(move.code).toBe(0);
  // 01 adds the PeerAuthentication and the NetworkPolicies (istio-system: 6, members a and b: 2 each) the SMCP stops owning.
  expect(move.stderr).toContain('meshfed: west: 00-federation -> 01-prepare: applies 11 new object(s), prune deletes 0.');
  setPhase(clusters, 'west', '00-federation');
  expect(synth().code).toBe(0);
  setPhase(clusters, 'west', '02-export');
  const skip = synth();
  expect(skip.code).toBe(1);
  expect(skip.stderr).toContain('west moves from 00-federation to 02-export, more than one phase at once');
});
