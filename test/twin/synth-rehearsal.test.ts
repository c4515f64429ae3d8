/**
 * synth rehearses before it writes: each cluster's move into its pointer and its next move are replayed on the
 * twin, and a render the twin fails is not written. The other CLI tests skip this rehearsal (test/support/synth.ts
 * `runCli`); these run it. The defect is put into the render between the pipeline and the rehearsal, where a bug in
 * meshfed would put it: the twin must see exactly the files synth is about to write.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import * as rehearsal from '../../lib/pipeline/rehearse';
import { EXAMPLE_CLUSTERS } from '../support/fixtures';
import { readTree, runCli } from '../support/synth';

const REHEARSE = { MESHFED_REHEARSE: '1', MESHFED_CACHE: '0' };
const tmpOut = () => path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'meshfed-synth-rehearsal-')), 'dist');

afterEach(() => jest.restoreAllMocks());

test('synth rehearses each cluster current and next move, says how many, and writes', () => {
  const out = tmpOut();
  const res = runCli(['--json', '--clusters', EXAMPLE_CLUSTERS, '--out', out], REHEARSE);
  expect(res.stderr).not.toContain('--skip-rehearsal');
  expect(res.code).toBe(0);
  const json = JSON.parse(res.stdout) as { rehearsal?: { moves: number; findings: unknown[] } };
  // Two clusters at 00-federation: the first sync and the move to 01-prepare, with rollbacks, on Argo CD and Flux.
  expect(json.rehearsal?.moves).toBeGreaterThanOrEqual(2 * 2);
  expect(json.rehearsal?.findings).toEqual([]);
  expect(fs.existsSync(path.join(out, 'east', '01-prepare', 'kustomization.yaml'))).toBe(true);
});

test('a render the twin fails is not written: the move, the object and why are printed; the previous dist/ is unchanged', () => {
  const out = tmpOut();
  expect(runCli(['--clusters', EXAMPLE_CLUSTERS, '--out', out], { MESHFED_CACHE: '0' }).code).toBe(0);
  const before = readTree(out);
  const real = rehearsal.rehearseRender;
  const spy = jest.spyOn(rehearsal, 'rehearseRender').mockImplementation((result, opts) => {
    // PeerAuthentication v1 in 01 (OSSM 2.6 serves v1beta1 only): the dry run fails the whole 01 sync.
    const file = 'east/01-prepare/istio-system.yaml';
    const text = result.files.get(file)!;
    const broken = text.replace(
      'apiVersion: security.istio.io/v1beta1\nkind: PeerAuthentication',
      'apiVersion: security.istio.io/v1\nkind: PeerAuthentication',
    );
    expect(broken).not.toBe(text);
    result.files.set(file, broken);
    return real(result, opts);
  });
  const res = runCli(['--clusters', EXAMPLE_CLUSTERS, '--out', out], REHEARSE);
  expect(spy).toHaveBeenCalledTimes(1);
  expect(res.stderr).toMatch(/east .*00-federation → 01-prepare/);
  expect(res.stderr).toMatch(/PeerAuthentication/);
  expect(res.stderr).toMatch(/the rehearsal twin fails \d+ move\(s\) of this render \(above\); nothing was written, .*dist\/ is unchanged/);
  expect(res.code).toBe(1);
  expect(readTree(out)).toEqual(before);
});

test('--skip-rehearsal (MESHFED_REHEARSE=0) writes without rehearsing, and says so', () => {
  const spy = jest.spyOn(rehearsal, 'rehearseRender');
  const res = runCli(['--skip-rehearsal', '--clusters', EXAMPLE_CLUSTERS, '--out', tmpOut()], REHEARSE);
  expect(res.stderr).toContain('meshfed: --skip-rehearsal: the moves of this render were not rehearsed');
  expect(res.code).toBe(0);
  expect(spy).not.toHaveBeenCalled();
});
