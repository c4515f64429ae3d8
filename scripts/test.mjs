// `npm test`: the type check and the in-process tests at once. tsc runs on one core for ~15 s; started first, alongside
// jest's two workers, it finishes inside jest's run instead of before it. Arguments go to jest
// (`npm test -- -t 'a name'`); the exit code is the first failure's (tsc's output is printed when it fails).
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const bin = (name) => path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'node_modules', '.bin', name);
const tsc = spawn(bin('tsc'), ['--noEmit', '-p', '.'], { stdio: ['ignore', 'pipe', 'pipe'] });
let typeErrors = '';
tsc.stdout.on('data', (d) => (typeErrors += d));
tsc.stderr.on('data', (d) => (typeErrors += d));
const typed = new Promise((resolve) => tsc.on('close', (code) => resolve(code ?? 1)));
// A young generation of 64 MB a semi-space (V8's default is 16): the tests allocate short-lived objects fast, and with
// the default jest's workers spent a tenth of their CPU in scavenges (measured: 170 s → 152 s of CPU for the tier).
const nodeOptions = [process.env.NODE_OPTIONS, '--max-semi-space-size=64'].filter(Boolean).join(' ');
const jest = spawn(bin('jest'), process.argv.slice(2), {
  stdio: 'inherit',
  env: { ...process.env, MESHFED_TEST_TIER: 'in-process', NODE_OPTIONS: nodeOptions },
});
const tested = new Promise((resolve) => jest.on('close', (code) => resolve(code ?? 1)));

const [t, j] = await Promise.all([typed, tested]);
if (t !== 0) process.stderr.write(`\ntsc --noEmit -p . failed:\n${typeErrors}`);
process.exitCode = t !== 0 ? t : j;
