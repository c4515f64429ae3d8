/**
 * `npm run fuzz` (scripts/fuzz.ts) as a process: it draws a random seed, prints it and hands it to the jest it starts, whose
 * property tests then run with it (test/property-seed.test.ts checks the seed a run gets).
 */
import { spawnSync } from 'child_process';
import * as path from 'path';

const ROOT = path.join(__dirname, '..', '..');

test('npm run fuzz prints the random seed it runs with and hands it to the tests', () => {
  // The tier of this run is not the inner jest's: it runs the file it is given.
  const res = spawnSync(
    path.join(ROOT, 'node_modules', '.bin', 'tsx'),
    ['scripts/fuzz.ts', '--runs-factor', '2', 'test/property-seed.test.ts', '-t', 'fixed seed'],
    { cwd: ROOT, encoding: 'utf8', env: { ...process.env, FC_SEED: '', FC_RUNS_FACTOR: '', MESHFED_TEST_TIER: '' } },
  );
  expect(res.status).toBe(0);
  // The inner run checks fast-check's global seed is the one printed here.
  expect(res.stdout).toMatch(/^fuzz: run 1\/1: FC_SEED=\d+ FC_RUNS_FACTOR=2$/m);
  expect(res.stdout).toMatch(/^fuzz: run 1\/1 passed in [\d.]+ s \(FC_SEED=\d+\)$/m);
});
