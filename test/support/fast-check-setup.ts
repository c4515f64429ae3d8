/**
 * Jest setupFiles: fast-check's global default seed is the fixed (or FC_SEED) one (test/support/fast-check.ts), set when
 * a test file first loads fast-check — most never do, and loading it in each of them cost half a second per run.
 */
import { fuzzSettings } from './fast-check';

jest.mock('fast-check', () => {
  const fc = jest.requireActual<typeof import('fast-check')>('fast-check');
  fc.configureGlobal({ ...fc.readConfigureGlobal(), seed: fuzzSettings().seed });
  return fc;
});
