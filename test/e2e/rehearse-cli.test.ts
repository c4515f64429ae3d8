/**
 * `meshfed rehearse` as a user runs it: which rendered output it replays (a committed dist/, an explicit --dist,
 * or what --clusters renders now), its exit codes, and a broken committed output caught by the move it breaks.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const ROOT = path.join(__dirname, '..', '..');
const BIN = path.join(ROOT, 'bin', 'meshfed.js');
const NODEPORT = path.join(ROOT, 'examples', 'nodeport', 'clusters');

function meshfed(args: string[], cwd: string): { code: number; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8', env: { ...process.env, MESHFED_CACHE: '0' } });
  return { code: r.status ?? -1, stderr: r.stderr };
}

let tmp: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'meshfed-rehearse-'));
  // Someone else's dist/ in the current folder: an explicit --clusters must not rehearse it.
  fs.mkdirSync(path.join(tmp, 'dist'));
  fs.writeFileSync(path.join(tmp, 'dist', 'README.md'), 'not meshfed output\n');
  expect(meshfed(['synth', '--clusters', NODEPORT, '--out', 'rendered'], tmp).code).toBe(0);
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

test('--clusters without --dist rehearses what that input renders, not the dist/ of the current folder', () => {
  const r = meshfed(['rehearse', '--clusters', NODEPORT, '--cluster', 'east', '--engine', 'argocd'], tmp);
  expect(r.stderr).not.toMatch(/is not what/);
  expect(r.stderr).toMatch(/meshfed rehearse: \d+ move\(s\) rehearsed on argocd, every one passes\./);
  expect(r.code).toBe(0);
});

test('a --dist that does not exist is a usage error', () => {
  const r = meshfed(['rehearse', '--clusters', NODEPORT, '--dist', 'missing'], tmp);
  expect(r.stderr).toMatch(/--dist missing does not exist/);
  expect(r.code).toBe(2);
});

test('a committed output edited by hand is rehearsed as committed: the move it breaks fails, exit 1', () => {
  const file = path.join(tmp, 'rendered', 'east', '01-prepare', 'istio-system.yaml');
  const text = fs.readFileSync(file, 'utf8');
  // OSSM 2.6 serves PeerAuthentication as v1beta1 only: a v1 object fails the whole 01 apply.
  fs.writeFileSync(
    file,
    text.replace(
      /apiVersion: security\.istio\.io\/v1beta1\nkind: PeerAuthentication/,
      'apiVersion: security.istio.io/v1\nkind: PeerAuthentication',
    ),
  );
  try {
    const r = meshfed(['rehearse', '--clusters', NODEPORT, '--dist', 'rendered', '--cluster', 'east', '--engine', 'argocd'], tmp);
    expect(r.stderr).toMatch(/rendered\/ is not what .* renders \(1 file\(s\) differ\)/);
    expect(r.stderr).toMatch(/\[east argocd forward 00-federation → 01-prepare\].*PeerAuthentication/);
    expect(r.code).toBe(1);
  } finally {
    fs.writeFileSync(file, text);
  }
});
