/**
 * The one place property tests get their seed and run count. In `npm test` (and CI) every fast-check
 * property runs with the fixed seed below: the same cases on every run, so a red build is a regression,
 * never a roll of the dice. `npm run fuzz` (scripts/fuzz.ts) sets FC_SEED to a random seed, prints it
 * and multiplies the runs by FC_RUNS_FACTOR; `FC_SEED=<seed> npm run fuzz -- <test file>` replays a
 * failure with the same cases. `test/support/fast-check-setup.ts` makes the seed fast-check's global
 * default too, so a property written without `propertyParams` is still seeded.
 */
import type { Parameters } from 'fast-check';

/** The seed of `npm test`: any fixed 32-bit integer; changing it changes which cases CI tries. */
export const DEFAULT_SEED = 20260424;

function envInteger(name: string, env: NodeJS.ProcessEnv): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isSafeInteger(n)) throw new Error(`${name}=${raw}: expected an integer (fast-check seeds are 32-bit integers)`);
  return n;
}

/** The seed (FC_SEED, else DEFAULT_SEED) and run factor (FC_RUNS_FACTOR, else 1) the environment asks for. */
export function fuzzSettings(env: NodeJS.ProcessEnv = process.env): { seed: number; runsFactor: number } {
  const seed = envInteger('FC_SEED', env) ?? DEFAULT_SEED;
  const runsFactor = envInteger('FC_RUNS_FACTOR', env) ?? 1;
  if (runsFactor < 1) throw new Error(`FC_RUNS_FACTOR=${runsFactor}: expected 1 or more`);
  return { seed, runsFactor };
}

/** fast-check parameters for a property that runs `numRuns` cases in `npm test`. */
export function propertyParams<T>(numRuns: number, env: NodeJS.ProcessEnv = process.env): Parameters<T> {
  const { seed, runsFactor } = fuzzSettings(env);
  return { seed, numRuns: numRuns * runsFactor };
}
