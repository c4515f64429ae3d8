/**
 * npm run fuzz: the fast-check property tests with random seeds and more runs than `npm test`, which
 * always uses one fixed seed (test/support/fast-check.ts).
 *
 *   npm run fuzz                                   every test file that uses fast-check, one random seed, 10× the runs
 *   npm run fuzz -- test/yaml-source.test.ts       one file
 *   npm run fuzz -- --times 20 --runs-factor 5 …   20 seeds in a row, stopping at the first failure
 *   FC_SEED=123 npm run fuzz -- <file>             replay a seed that failed (with the same --runs-factor)
 *
 * Other arguments go to jest (`-t <name>`, `--maxWorkers=1`). Each run prints its seed before it starts.
 */
import { spawnSync } from 'child_process';
import { randomInt } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';

import { compareStrings } from '../lib/sort';

const ROOT = path.join(__dirname, '..');
const USAGE = 'usage: npm run fuzz -- [--times N] [--runs-factor N] [test files…] [jest options…]';

/** Every test file that imports fast-check: what `npm run fuzz` runs when no file is named. */
export function propertyTestFiles(dir = path.join(ROOT, 'test')): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((e): string[] => {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) return propertyTestFiles(p).map((f) => path.join(ROOT, f));
      return e.name.endsWith('.test.ts') && /from 'fast-check'/.test(fs.readFileSync(p, 'utf8')) ? [p] : [];
    })
    .map((f) => path.relative(ROOT, f))
    .sort(compareStrings);
}

function positiveInt(flag: string, raw: string | undefined): number {
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 1) {
    console.error(`fuzz: ${flag} needs a whole number of 1 or more, not "${raw ?? ''}"\n${USAGE}`);
    process.exit(2);
  }
  return n;
}

function main(argv: string[]): number {
  let times = 1;
  let runsFactor = 10;
  const jestArgs: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--times') times = positiveInt('--times', argv[++i]);
    else if (argv[i] === '--runs-factor') runsFactor = positiveInt('--runs-factor', argv[++i]);
    else if (argv[i] === '--help' || argv[i] === '-h') {
      console.log(USAGE);
      return 0;
    } else jestArgs.push(argv[i]);
  }
  const fixed = process.env.FC_SEED || undefined;
  if (fixed !== undefined && !Number.isSafeInteger(Number(fixed))) {
    console.error(`fuzz: FC_SEED=${fixed} is not an integer (the seed a failing run printed)`);
    return 2;
  }
  if (fixed !== undefined && times > 1) {
    console.error('fuzz: FC_SEED replays one seed; --times would run it again with the same cases.');
    return 2;
  }
  const files = jestArgs.some((a) => a.endsWith('.test.ts')) ? [] : propertyTestFiles();
  const jest = path.join(ROOT, 'node_modules', '.bin', 'jest');
  for (let run = 1; run <= times; run++) {
    const seed = fixed ?? String(randomInt(0, 2 ** 31));
    const replay = `FC_SEED=${seed} npm run fuzz -- --runs-factor ${runsFactor} ${[...files, ...jestArgs].join(' ')}`;
    console.log(`fuzz: run ${run}/${times}: FC_SEED=${seed} FC_RUNS_FACTOR=${runsFactor}`);
    const started = Date.now();
    const res = spawnSync(jest, [...files, ...jestArgs, `--testTimeout=${60000 * runsFactor}`], {
      cwd: ROOT,
      stdio: 'inherit',
      env: { ...process.env, FC_SEED: seed, FC_RUNS_FACTOR: String(runsFactor) },
    });
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    if (res.status !== 0) {
      console.error(`fuzz: run ${run} FAILED after ${seconds} s with FC_SEED=${seed}. Replay it:\n  ${replay}`);
      return res.status ?? 1;
    }
    console.log(`fuzz: run ${run}/${times} passed in ${seconds} s (FC_SEED=${seed})`);
  }
  return 0;
}

if (require.main === module) process.exit(main(process.argv.slice(2)));
