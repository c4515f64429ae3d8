/**
 * The user's path: `cdk8s synth` (what `npm run synth` runs) renders clusters/ into dist/, and a failing
 * run leaves the previous dist/ as it was even though cdk8s deletes its own output folder first.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import { copyTree, EXAMPLE_CLUSTERS } from '../support/fixtures';
import { readTree } from '../support/synth';

const ROOT = path.join(__dirname, '..', '..');

function cdk8sSynth(clusters: string, out: string) {
  return spawnSync('npx', ['cdk8s', 'synth', '--check-upgrade', 'false'], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, MESHFED_CLUSTERS: clusters, MESHFED_OUT: out },
  });
}

test('cdk8s synth renders the bundled example, and a failed synth keeps the previous dist/', () => {
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'meshfed-cli-')), 'dist');
  const ok = cdk8sSynth(EXAMPLE_CLUSTERS, out);
  expect(ok.status).toBe(0);
  expect(ok.stderr).toContain('meshfed: 2 cluster(s), 16 phase overlay(s)');
  const tree = readTree(out);
  expect(tree.has('east/03-import/kustomization.yaml')).toBe(true);
  expect(tree.has('plan.json')).toBe(true);

  const bad = copyTree(EXAMPLE_CLUSTERS);
  fs.writeFileSync(
    path.join(bad, 'east', 'cluster.yaml'),
    'apiVersion: meshfed.dev/v1alpha1\nkind: ClusterSettings\nmetadata: {name: east}\nspec: {network: n, ossm3: {version: v1.27.3}, colour: blue}\n',
  );
  const failed = cdk8sSynth(bad, out);
  expect(failed.status).not.toBe(0);
  expect(failed.stderr).toContain('field spec.colour: unknown field');
  expect(readTree(out)).toEqual(tree);
});

test('npm run synth forwards its arguments; cdk8s synth -o is refused (cdk8s has deleted that folder already)', () => {
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'meshfed-cli-')), 'dist');
  const viaNpm = spawnSync('npm', ['run', '--silent', 'synth', '--', '--clusters', EXAMPLE_CLUSTERS, '--out', out], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  expect(viaNpm.status).toBe(0);
  expect(viaNpm.stderr).toContain(`file(s) in ${out}/: `);
  const keep = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'meshfed-o-')), 'out');
  const refused = spawnSync('npx', ['cdk8s', 'synth', '--check-upgrade', 'false', '-o', keep], { cwd: ROOT, encoding: 'utf8' });
  expect(refused.status).not.toBe(0);
  expect(refused.stderr).toContain(`cdk8s synth -o ${keep} is not supported`);
  // Nothing rendered there: only the scratch folder cdk8s itself creates.
  expect(fs.existsSync(path.join(keep, 'plan.json'))).toBe(false);
});
