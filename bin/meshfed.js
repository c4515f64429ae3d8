#!/usr/bin/env -S node --max-semi-space-size=64
// The `meshfed` command. An installed package runs its compiled JavaScript (build/, which `npm run build` makes and
// `prepare` runs before `npm pack`, on `npm ci` and on a Git install): no TypeScript at run time. A clone of the
// repository, where lib/ holds the TypeScript sources, runs build/ when it was compiled from the sources exactly as they
// are (bin/sources.js: a hash of them, recorded by the build), and the sources through tsx (a dev dependency) otherwise:
// the sources are the truth there, so a build/ older than them never answers `synth --check` or the tests.
const fs = require('fs');
const path = require('path');

const source = path.join(__dirname, '..', 'lib', 'cli', 'main.ts');
let main;
if (fs.existsSync(source) && !require('./sources').buildIsCurrent()) {
  require('tsx/cjs');
  ({ main } = require(source));
} else {
  ({ main } = require('../build/lib/cli/main.js'));
}
Promise.resolve(main(process.argv.slice(2))).then((code) => {
  process.exitCode = code;
});
