// ESLint (flat config): typescript-eslint's recommended rules, import hygiene, and the project's bans.
// Formatting is Prettier's job (.prettierrc.json); `npm run lint` and `npm run format:check` run in CI.
import js from '@eslint/js';
import importPlugin from 'eslint-plugin-import';
import tseslint from 'typescript-eslint';

/**
 * The layers and what each may import (ARCHITECTURE.md): load → model → plan → {check, constructs} → write,
 * the twin beside them reading only rendered files, the CLI on top. The leaves (lib/*.ts but docs.ts and index.ts, the package's API) import
 * no layer. Every direction not listed here is an error, cycle or not.
 */
const LAYERS = {
  load: [],
  model: ['load'],
  plan: ['model', 'load'],
  check: ['plan', 'model', 'load'],
  constructs: ['plan', 'model', 'load'],
  write: ['constructs', 'check', 'plan', 'model', 'load'],
  twin: ['load'],
  certs: [],
  // The pipeline as one library call (lib/pipeline/): every stage, the twin; the commands call it.
  pipeline: ['write', 'twin', 'check', 'constructs', 'plan', 'model', 'load'],
  cli: ['pipeline', 'write', 'twin', 'check', 'constructs', 'plan', 'model', 'load', 'certs'],
  // The cdk8s construct (lib/federation/): a second shell over the synth command's run (lib/cli/synth.ts SynthRun),
  // so `app.synth()` and `meshfed synth` cannot write different things; it renders meshfed's constructs in the app.
  federation: ['cli', 'pipeline', 'write', 'constructs', 'plan', 'load'],
};
const LEAVES = [
  './lib/authz.ts',
  './lib/diagnostics.ts',
  './lib/group.ts',
  './lib/job-steps.ts',
  './lib/json.ts',
  './lib/netpol.ts',
  './lib/package-root.ts',
  './lib/phases.ts',
  './lib/rules.ts',
  './lib/sort.ts',
];
const layerZones = [
  ...Object.entries(LAYERS).map(([layer, allowed]) => ({
    target: `./lib/${layer}`,
    from: Object.keys(LAYERS)
      .filter((l) => l !== layer && !allowed.includes(l))
      .map((l) => `./lib/${l}`),
    message: `lib/${layer} may import only ${allowed.length ? allowed.map((l) => `lib/${l}`).join(', ') + ' and ' : ''}the leaves (ARCHITECTURE.md).`,
  })),
  {
    target: LEAVES,
    from: Object.keys(LAYERS).map((l) => `./lib/${l}`),
    message: 'A leaf (lib/*.ts) imports no layer: every layer imports it (ARCHITECTURE.md).',
  },
  {
    // A phase file is one feature of lib/plan/plan.ts's FEATURES list; what other modules share lives elsewhere.
    target: ['./lib/*.ts', './lib/!(plan)/**', './lib/plan/!(plan).ts'],
    from: ['./lib/plan/phase-*.ts'],
    message:
      'Only lib/plan/plan.ts imports a phase file: shared names go to lib/plan/names.ts or the module that owns them (ARCHITECTURE.md).',
  },
];

export default tseslint.config(
  { ignores: ['imports/**', 'test/schemas/**', 'dist/**', 'build/**', '.cdk8s.out/**', 'node_modules/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    plugins: { import: importPlugin },
    settings: {
      'import/parsers': { '@typescript-eslint/parser': ['.ts'] },
      'import/resolver': { typescript: { project: './tsconfig.json' } },
    },
    rules: {
      // The layers run one way (load → model → plan → constructs → write); a cycle is a misplaced declaration.
      'import/no-cycle': ['error', { ignoreExternal: true }],
      'import/no-duplicates': 'error',
      // ...and the directions, cycle or not.
      'import/no-restricted-paths': ['error', { zones: layerZones }],
      'import/order': [
        'error',
        {
          groups: ['builtin', 'external', ['internal', 'parent', 'sibling', 'index']],
          'newlines-between': 'always',
          alphabetize: { order: 'asc', caseInsensitive: false },
        },
      ],
      // Locale-dependent ordering breaks byte-identical output (lib/sort.ts).
      'no-restricted-properties': [
        'error',
        { property: 'localeCompare', message: 'Use compareStrings/byKey from lib/sort.ts: dist/ must not depend on the locale.' },
      ],
      // Prose lives in strings; past 150 characters it belongs in a named message function or a multi-line literal.
      'max-len': ['error', { code: 150, ignoreUrls: true, ignoreRegExpLiterals: true }],
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' },
      ],
    },
  },
  {
    // Size guards, as warnings (kustomize's .golangci.yml has gocyclo 30): `npm run lint` lists the functions past them
    // and still passes; a function that grows past one is a candidate to split, not a build failure.
    files: ['lib/**/*.ts'],
    rules: {
      complexity: ['warn', 20],
      'max-lines-per-function': ['warn', { max: 60, skipBlankLines: true, skipComments: true }],
    },
  },
  {
    // The commands call the pipeline (lib/pipeline/render.ts analyse/render); they never wire its stages themselves.
    files: ['lib/cli/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            { name: '../load/input', importNames: ['loadInput'], message: 'Call analyse/render from lib/pipeline/render.ts.' },
            { name: '../model/federation', importNames: ['buildModel'], message: 'Call analyse/render from lib/pipeline/render.ts.' },
            { name: '../plan/plan', importNames: ['buildPlan'], message: 'Call analyse/render from lib/pipeline/render.ts.' },
          ],
        },
      ],
    },
  },
  {
    // Tests read rendered YAML as loosely typed objects; ANSI escapes are asserted absent.
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off', 'no-control-regex': 'off' },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    languageOptions: {
      globals: {
        require: 'readonly',
        module: 'writable',
        process: 'readonly',
        __dirname: 'readonly',
        __filename: 'readonly',
        console: 'readonly',
      },
    },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
