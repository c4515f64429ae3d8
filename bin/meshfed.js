#!/usr/bin/env -S node --max-semi-space-size=64
// The `meshfed` command. TypeScript runs through tsx (transpile only); `npm test` type-checks.
require('tsx/cjs');
const { main } = require('../lib/cli/main.ts');
Promise.resolve(main(process.argv.slice(2))).then((code) => {
  process.exitCode = code;
});
