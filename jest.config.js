/** Type checking happens once in `npm test` (tsc --noEmit); jest only transpiles. */
const FAST_PACKAGES = '(?:js-yaml|yaml|ajv|fengari|cdk8s|cdk8s-plus-28|constructs|@bufbuild/[^/]+)';

module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  // The tiers (CONTRIBUTING.md): `npm test` runs the in-process tests (MESHFED_TEST_TIER=in-process, set by
  // scripts/test.mjs), `npm run test:e2e` the end-to-end ones under test/e2e/; a bare `npx jest` runs both.
  testPathIgnorePatterns: ['/node_modules/', ...(process.env.MESHFED_TEST_TIER === 'in-process' ? ['/test/e2e/'] : [])],
  ...(process.env.MESHFED_TEST_TIER === 'e2e' ? { testMatch: ['**/test/e2e/**/*.test.ts'] } : {}),
  // Property tests run with a fixed seed unless FC_SEED says otherwise (test/support/fast-check.ts).
  setupFiles: ['<rootDir>/test/support/fast-check-setup.ts'],
  // test/support/jest-transform.js: sucrase, then the built-ins bound per module (global names are slow to read in jest's
  // vm contexts). The packages the pipeline and the twin spend their time in get the same binding.
  transform: {
    '^.+\\.ts$': '<rootDir>/test/support/jest-transform.js',
    [`/node_modules/${FAST_PACKAGES}/.+\\.js$`]: '<rootDir>/test/support/jest-transform.js',
  },
  transformIgnorePatterns: [`/node_modules/(?!${FAST_PACKAGES}/)`],
  testTimeout: 60000,
  // Every core: jest's default (cores - 1) runs the suite on one worker on a 2-core machine. The suites mostly wait
  // on the CPU of their own process, so a second worker halves the wall time there.
  maxWorkers: '100%',
};
