#!/usr/bin/env -S node --max-semi-space-size=64
// The `meshfed` command. An installed package runs its compiled JavaScript (build/, which `npm run build` makes and
// `prepare` runs before `npm pack` and on a Git install): no TypeScript at run time. A clone of the repository, where
// lib/ holds the TypeScript sources, runs those through tsx (a dev dependency): the sources are the truth there, so a
// build/ left by an earlier `npm pack` never answers `synth --check` or the tests with stale code.
const fs = require('fs');
const path = require('path');

const source = path.join(__dirname, '..', 'lib', 'cli', 'main.ts');
let main;
if (fs.existsSync(source)) {
  require('tsx/cjs');
  ({ main } = require(source));
} else {
  ({ main } = require('../build/lib/cli/main.js'));
}
Promise.resolve(main(process.argv.slice(2))).then((code) => {
  process.exitCode = code;
});
