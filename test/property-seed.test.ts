/**
 * Property tests are deterministic in `npm test` (one fixed seed, test/support/fast-check.ts) and random
 * only in `npm run fuzz` (scripts/fuzz.ts), which prints the seed so a failure can be replayed (that command, a
 * process starting jest, is run by test/e2e/fuzz.test.ts).
 */
import * as fs from 'fs';
import * as path from 'path';

import * as fc from 'fast-check';

import { propertyTestFiles } from '../scripts/fuzz';
import { DEFAULT_SEED, propertyParams } from './support/fast-check';

const ROOT = path.join(__dirname, '..');

test('npm test runs every property with the fixed seed (FC_SEED when set)', () => {
  // jest's setupFiles made it fast-check's default: even a property written without propertyParams is seeded.
  expect(fc.readConfigureGlobal().seed).toBe(process.env.FC_SEED ? Number(process.env.FC_SEED) : DEFAULT_SEED);
  expect(propertyParams(30, {})).toEqual({ seed: DEFAULT_SEED, numRuns: 30 });
  expect(propertyParams(30, { FC_SEED: '7', FC_RUNS_FACTOR: '10' })).toEqual({ seed: 7, numRuns: 300 });
  expect(() => propertyParams(1, { FC_SEED: 'abc' })).toThrow('FC_SEED=abc: expected an integer');
});

test('every fc.assert in test/ takes its seed and runs from propertyParams', () => {
  const files = propertyTestFiles();
  expect(files).toEqual(expect.arrayContaining(['test/properties.test.ts', 'test/yaml-source.test.ts']));
  for (const file of files) {
    const text = fs.readFileSync(path.join(ROOT, file), 'utf8');
    const asserts = [...text.matchAll(/fc\.assert\(/g)].length;
    const seeded = [...text.matchAll(/\bpropertyParams\(/g)].length;
    expect({ file, unseeded: Math.max(0, asserts - seeded) }).toEqual({ file, unseeded: 0 });
  }
});
