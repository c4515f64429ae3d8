#!/usr/bin/env -S node --max-semi-space-size=64
// The `meshfed` command. TypeScript runs through tsx (transpile only); `npm test` type-checks.
require('tsx/cjs');
const { main } = require('../lib/cli/main.ts');
process.exitCode = main(process.argv.slice(2));
