// Jest's transformer for the TypeScript of lib/ and test/: sucrase, then one line that binds the built-ins the code reads
// (Array, Object, String, Map, JSON, …) as module-scope variables.
//
// Why sucrase: `npm test` type-checks with `tsc --noEmit` beside jest, so jest only needs the types stripped. ts-jest ran
// the TypeScript compiler on every file a worker loaded first (3 s of a 6.7 s two-suite run on a cold cache, and every
// run of a fresh clone is cold); sucrase strips a file in a fraction of that and, with disableESTransforms, leaves ES2022
// as tsc emits it (class fields native). Its `import * as x` helper copies the module's properties; TypeScript's
// (esModuleInterop) reads them through getters, so a test's jest.spyOn(fs, …) reaches the code under test: the helper is
// replaced by one with TypeScript's semantics (LIVE_WILDCARD).
//
// Why the built-ins: jest runs every module inside a `vm` context, and in a vm context each read of a global name goes
// through the context's property interceptor instead of V8's inline cache — about 30 times slower than in a plain Node
// process (measured on Node 20: 2e7 calls of `typeof v === 'object' && v !== null && !Array.isArray(v)` take 53 ms in
// the main context and 1,814 ms in a vm context; with `Array` bound in the module, 126 ms in both). The twin and the
// pipeline read `Array.isArray`, `String(…)`, `Object.keys` in their innermost loops, so under jest they ran 2–3 times
// slower than the same code from build/. A module-scope binding of the same object changes nothing else: the values are
// the context's own built-ins, read once when the module loads. Timers, Date, console and process are left alone (jest
// replaces them).
const crypto = require('node:crypto');
const fs = require('node:fs');

const { transform } = require('sucrase');

const BUILT_INS = [
  'Array',
  'ArrayBuffer',
  'BigInt',
  'Boolean',
  'Buffer',
  'Error',
  'Function',
  'JSON',
  'Map',
  'Math',
  'Number',
  'Object',
  'Promise',
  'Proxy',
  'RangeError',
  'Reflect',
  'RegExp',
  'Set',
  'String',
  'Symbol',
  'SyntaxError',
  'TextDecoder',
  'TextEncoder',
  'TypeError',
  'URL',
  'Uint8Array',
  'WeakMap',
  'WeakSet',
  'decodeURIComponent',
  'encodeURIComponent',
  'isFinite',
  'isNaN',
  'parseFloat',
  'parseInt',
  'structuredClone',
];
/**
 * `code` with the built-ins bound after its directive prologue (on its first line: the source map's lines stay true).
 * A name the module declares or assigns itself is left alone: a module-scope `function Map() {}` would otherwise be
 * overwritten by the binding, and a `var Map = …` read before its assignment would see the built-in, not undefined.
 */
function withBuiltIns(code) {
  const names = BUILT_INS.filter(
    (name) => !new RegExp(`(?:function\\*?|class|const|let|var)\\s+${name}\\b|(?<![.\\w$])${name}\\s*=(?!=)`).test(code),
  );
  if (names.length === 0) return code;
  const prelude = `var ${names.map((name) => `${name} = globalThis.${name}`).join(', ')};`;
  const directive = /^(?:\s|\/\/[^\n]*\n|\/\*[\s\S]*?\*\/)*(['"])use strict\1;?/.exec(code);
  if (!directive) return prelude + code;
  // `;` ends a directive written without one (`'use strict'` and a line break) before the prelude follows it.
  return `${directive[0]};${prelude}${code.slice(directive[0].length)}`;
}

/** sucrase's `import * as` helper (3.35), as it writes it on a file's first line. */
const SUCRASE_WILDCARD =
  'function _interopRequireWildcard(obj) { if (obj && obj.__esModule) { return obj; } else { var newObj = {}; if (obj != null) { ' +
  'for (var key in obj) { if (Object.prototype.hasOwnProperty.call(obj, key)) { newObj[key] = obj[key]; } } } newObj.default = obj; ' +
  'return newObj; } }';
/** TypeScript's __importStar (esModuleInterop): the namespace reads each property of the module when it is used. */
const LIVE_WILDCARD =
  'function _interopRequireWildcard(obj) { if (obj && obj.__esModule) { return obj; } var newObj = {}; if (obj != null) { ' +
  'Object.keys(obj).forEach(function (key) { if (key !== "default") Object.defineProperty(newObj, key, { enumerable: true, ' +
  'get: function () { return obj[key]; } }); }); } newObj.default = obj; return newObj; }';

/** TypeScript to CommonJS: types removed, imports to require (TypeScript's interop), jest.mock hoisted, ES2022 as written. */
function transpile(sourceText, sourcePath) {
  const out = transform(sourceText, {
    transforms: ['typescript', 'imports', 'jest'],
    disableESTransforms: true,
    production: true,
    filePath: sourcePath,
    sourceMapOptions: { compiledFilename: sourcePath },
  });
  let code = out.code;
  if (code.includes('_interopRequireWildcard(')) {
    if (!code.includes(SUCRASE_WILDCARD))
      throw new Error(`${sourcePath}: sucrase's import * helper is not the one test/support/jest-transform.js replaces; update it`);
    code = code.replace(SUCRASE_WILDCARD, LIVE_WILDCARD);
  }
  return { code, map: out.sourceMap };
}

/** jest's transform cache is keyed by this file's text and sucrase's version: a change re-transforms every module. */
const VERSION = crypto
  .createHash('sha256')
  .update(fs.readFileSync(__filename))
  .update(require('sucrase/package.json').version)
  .digest('hex');

module.exports = {
  process(sourceText, sourcePath) {
    // The packages jest.config.js lets through (YAML, JSON Schema, Lua, CEL, cdk8s) are JavaScript already.
    if (sourcePath.endsWith('.js')) return { code: withBuiltIns(sourceText) };
    const out = transpile(sourceText, sourcePath);
    return { ...out, code: withBuiltIns(out.code) };
  },
  getCacheKey(sourceText, sourcePath) {
    return crypto.createHash('sha256').update(VERSION).update('\0').update(sourcePath).update('\0').update(sourceText).digest('hex');
  },
  withBuiltIns,
  transpile,
};
