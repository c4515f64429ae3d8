/**
 * The meshfed process: which code bin/meshfed.js runs in a clone — build/ when `npm run build` compiled it from the
 * sources exactly as they are (bin/sources.js), the TypeScript sources through tsx otherwise (an edit, a failed build,
 * no build at all) — and how far synth lets V8's heap grow between full collections.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import Ajv from 'ajv';

import { EXAMPLE_CLUSTERS } from './support/fixtures';
import { HEAP_GROWING_PERCENT, limitHeapGrowth, runSynth, v8Flags } from '../lib/cli/synth';

const ROOT = path.join(__dirname, '..');
const made: string[] = [];
afterAll(() => made.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

/** A clone in miniature: bin/ as the repository has it, a main in lib/ and one in build/ that say which ran. */
function clone(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshfed-bin-'));
  made.push(dir);
  fs.mkdirSync(path.join(dir, 'bin'));
  for (const f of ['meshfed.js', 'sources.js']) fs.copyFileSync(path.join(ROOT, 'bin', f), path.join(dir, 'bin', f));
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'));
  fs.writeFileSync(path.join(dir, 'package.json'), '{"name": "mini"}\n');
  fs.writeFileSync(path.join(dir, 'tsconfig.json'), '{}\n');
  fs.mkdirSync(path.join(dir, 'lib', 'cli'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'lib', 'cli', 'main.ts'), "export const main = (): number => (console.log('sources'), 0);\n");
  fs.mkdirSync(path.join(dir, 'build', 'lib', 'cli'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'build', 'lib', 'cli', 'main.js'), "exports.main = () => (console.log('build'), 0);\n");
  return dir;
}

const ran = (dir: string) => execFileSync('node', [path.join(dir, 'bin', 'meshfed.js')], { encoding: 'utf8' }).trim();
const stamp = (dir: string, flag: '--write' | '--clear') => execFileSync('node', [path.join(dir, 'bin', 'sources.js'), flag]);

describe('bin/meshfed.js in a clone', () => {
  test('runs build/ only while its recorded hash is the sources’ hash', () => {
    const dir = clone();
    expect(ran(dir)).toBe('sources'); // never built: no stamp
    stamp(dir, '--write');
    expect(ran(dir)).toBe('build');
    // An edit anywhere under lib/ (or the compiler's configuration) makes build/ stale.
    fs.appendFileSync(path.join(dir, 'lib', 'cli', 'main.ts'), '// edited\n');
    expect(ran(dir)).toBe('sources');
    stamp(dir, '--write');
    expect(ran(dir)).toBe('build');
    fs.writeFileSync(path.join(dir, 'tsconfig.json'), '{"compilerOptions": {}}\n');
    expect(ran(dir)).toBe('sources');
    // A build that starts clears the stamp first: one that fails half-way leaves the sources in charge.
    stamp(dir, '--write');
    stamp(dir, '--clear');
    expect(ran(dir)).toBe('sources');
  });

  test('npm run build records the hash after tsc, and clears it before', () => {
    const scripts = (JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
    expect(scripts.build).toBe('node bin/sources.js --clear && tsc -p tsconfig.build.json && node bin/sources.js --write');
  });
});

describe('synth and the V8 heap', () => {
  test('lets the old generation grow by half between full collections, unless node was told otherwise', () => {
    const set: string[] = [];
    limitHeapGrowth([], (f) => set.push(f));
    expect(set).toEqual([`--heap-growing-percent=${HEAP_GROWING_PERCENT}`]);
    expect(HEAP_GROWING_PERCENT).toBe(50);
    limitHeapGrowth(['--max-semi-space-size=64', '--heap-growing-percent=20'], (f) => set.push(f));
    limitHeapGrowth(['--heap_growing_percent=80'], (f) => set.push(f));
    expect(set).toHaveLength(1);
  });

  test('synth sets it before it renders', () => {
    const spy = jest.spyOn(v8Flags, 'set').mockImplementation(() => undefined);
    const err = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'meshfed-heap-')), 'dist');
      made.push(path.dirname(out));
      expect(runSynth(['--clusters', EXAMPLE_CLUSTERS, '--out', out, '--skip-rehearsal'], { MESHFED_CACHE: '0' })).toBe(0);
      expect(spy).toHaveBeenCalledWith(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
    } finally {
      spy.mockRestore();
      err.mockRestore();
    }
  });
});

describe('start-up', () => {
  test.each(['cluster-settings.schema.json', 'gitops-settings.schema.json'])(
    'schema/%s is a valid JSON Schema (load compiles it without checking)',
    (file) => {
      const ajv = new Ajv({ strict: false });
      expect(ajv.validateSchema(JSON.parse(fs.readFileSync(path.join(ROOT, 'schema', file), 'utf8')) as object)).toBe(true);
      expect(ajv.errors ?? []).toEqual([]);
    },
  );
});
