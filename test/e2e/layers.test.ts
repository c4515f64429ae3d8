/**
 * The layer directions are enforced by lint (eslint.config.mjs `import/no-restricted-paths`), not only
 * by the absence of cycles: an upward import that closes no cycle fails `npm run lint`. ESLint loads its
 * ESM config by dynamic import, which jest's module system does not allow: the probes run in one child node.
 */
import { execFileSync } from 'child_process';
import * as path from 'path';

const ROOT = path.join(__dirname, '..', '..');

const PROBES: Record<string, [file: string, code: string]> = {
  upward: ['lib/model/names.ts', "import { toYaml } from '../write/yaml';\nexport const x = toYaml;\n"],
  leafImportsLayer: ['lib/sort.ts', "import { dnsLabel } from './model/names';\nexport const x = dnsLabel;\n"],
  layerImportsLeaf: ['lib/model/names.ts', "import { compareStrings } from '../sort';\nexport const x = compareStrings;\n"],
  checkImportsWrite: ['lib/check/index.ts', "import { toYaml } from '../write/yaml';\nexport const x = toYaml;\n"],
  cliImportsWrite: ['lib/cli/plan.ts', "import { toYaml } from '../write/yaml';\nexport const x = toYaml;\n"],
  cliWiresThePipeline: ['lib/cli/plan.ts', "import { buildPlan } from '../plan/plan';\nexport const x = buildPlan;\n"],
  planImportsPhase: ['lib/plan/plan.ts', "import { contribute } from './phase-02-export';\nexport const x = contribute;\n"],
  featureImportsPhase: ['lib/plan/egress.ts', "import { contribute } from './phase-02-export';\nexport const x = contribute;\n"],
  writerImportsPhase: [
    'lib/write/runbook/readme.ts',
    "import { contribute } from '../../plan/phase-02-export';\nexport const x = contribute;\n",
  ],
};

const SCRIPT = `
const { ESLint } = require('eslint');
const probes = JSON.parse(process.argv[1]);
(async () => {
  const eslint = new ESLint({ cwd: process.cwd() });
  const out = {};
  for (const [name, [file, code]] of Object.entries(probes)) {
    const [r] = await eslint.lintText(code, { filePath: require('path').resolve(file) });
    out[name] = r.messages
      .filter((m) => m.ruleId === 'import/no-restricted-paths' || m.ruleId === 'no-restricted-imports')
      .map((m) => m.message);
  }
  console.log(JSON.stringify(out));
})();
`;

let results: Record<string, string[]> = {};
beforeAll(() => {
  results = JSON.parse(execFileSync(process.execPath, ['-e', SCRIPT, JSON.stringify(PROBES)], { cwd: ROOT, encoding: 'utf8' }));
});

test('an import from lib/write into lib/model fails lint, naming what lib/model may import', () => {
  expect(results.upward).toEqual([expect.stringContaining('lib/model may import only lib/load and the leaves')]);
});

test('a leaf importing a layer fails; a check importing the writer fails', () => {
  expect(results.leafImportsLayer).toHaveLength(1);
  expect(results.checkImportsWrite).toHaveLength(1);
});

test('a layer importing a leaf, and the CLI importing any layer, pass', () => {
  expect(results.layerImportsLeaf).toEqual([]);
  expect(results.cliImportsWrite).toEqual([]);
});

test('a command that wires load, model and plan itself fails: it calls the pipeline', () => {
  expect(results.cliWiresThePipeline).toEqual([expect.stringContaining('Call analyse/render from lib/pipeline/render.ts')]);
});

test('only lib/plan/plan.ts imports a phase file', () => {
  expect(results.planImportsPhase).toEqual([]);
  expect(results.featureImportsPhase).toEqual([expect.stringContaining('Only lib/plan/plan.ts imports a phase file')]);
  expect(results.writerImportsPhase).toEqual([expect.stringContaining('Only lib/plan/plan.ts imports a phase file')]);
});
