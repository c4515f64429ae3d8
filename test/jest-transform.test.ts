/**
 * The test transformer (test/support/jest-transform.js) binds the built-ins per module so that jest's vm contexts do not
 * read them through the context's interceptor on every use. It must change nothing but where a name is read from.
 */
import * as vm from 'vm';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { transpile, withBuiltIns } = require('./support/jest-transform.js') as {
  transpile: (source: string, file: string) => { code: string };
  withBuiltIns: (code: string) => string;
};
// eslint-disable-next-line @typescript-eslint/no-require-imports
const config = require('../jest.config.js') as {
  transform: Record<string, string | [string, unknown]>;
  transformIgnorePatterns: string[];
};

/** Run `code` as a CommonJS module body in a fresh vm context; returns its `module.exports`. */
function run(code: string): unknown {
  const module = { exports: {} as unknown };
  vm.runInContext(`(function (module, exports) {${code}\n})`, vm.createContext({}))(module, module.exports);
  return module.exports;
}

describe('withBuiltIns', () => {
  test('the prelude follows the directive prologue, so strict mode stays on', () => {
    for (const code of [
      '"use strict";\nmodule.exports = (function () { return this; })();',
      "'use strict'\nmodule.exports = (function () { return this; })();",
    ]) {
      const out = withBuiltIns(code);
      expect(out).toMatch(/^(['"])use strict\1;?;var Array = globalThis\.Array, /);
      expect(run(out)).toBeUndefined(); // strict: `this` of a plain call is undefined
    }
    const commented = withBuiltIns('/* licence */\n// note\n"use strict";\nmodule.exports = 1;');
    expect(commented.startsWith('/* licence */\n// note\n"use strict";;var Array')).toBe(true);
    expect(withBuiltIns('module.exports = 1;')).toMatch(/^var Array = globalThis\.Array, .*;module\.exports = 1;$/);
  });

  test("the module reads the context's own built-ins", () => {
    const out = withBuiltIns(
      '"use strict";\nmodule.exports = { isArray: Array.isArray, keys: Object.keys, json: JSON, realm: globalThis };',
    );
    const got = run(out) as { isArray: unknown; keys: unknown; json: unknown; realm: typeof globalThis };
    expect(got.isArray).toBe(got.realm.Array.isArray);
    expect(got.keys).toBe(got.realm.Object.keys);
    expect(got.json).toBe(got.realm.JSON);
    expect(got.isArray).not.toBe(Array.isArray); // the vm's realm, not this one
  });

  test('a name the module declares or assigns is left alone', () => {
    const own = withBuiltIns('"use strict";\nfunction Map() { return "mine"; }\nmodule.exports = Map();');
    expect(own).not.toMatch(/Map = globalThis\.Map/);
    expect(run(own)).toBe('mine');
    const polyfill = withBuiltIns('var Symbol = typeof Symbol === "undefined" ? 1 : 2;\nmodule.exports = Symbol;');
    expect(polyfill).not.toMatch(/Symbol = globalThis\.Symbol/);
    expect(run(polyfill)).toBe(1); // the hoisted var is undefined where it is read, as without the prelude
    for (const decl of ['class Set {}', 'const String = 1;', 'let Error = 1;', 'function* Proxy() {}']) {
      expect(() => run(withBuiltIns(`"use strict";\n${decl}\nmodule.exports = 1;`))).not.toThrow();
    }
    // A property of another object with a built-in's name is not a declaration.
    expect(withBuiltIns('x.Map = 1; module.exports = x;')).toMatch(/Map = globalThis\.Map/);
  });
});

describe('transpile (sucrase): what tsc would emit, as far as the tests can tell', () => {
  /** Load transpiled TypeScript as a CommonJS module, `modules` answering its requires. */
  const load = (source: string, modules: Record<string, unknown> = {}) => {
    const module = { exports: {} as Record<string, unknown> };
    const require = (id: string) => {
      if (!(id in modules)) throw new Error(`no module ${id}`);
      return modules[id];
    };
    vm.runInContext(`(function (module, exports, require) {${transpile(source, '/repo/src/x.ts').code}\n})`, vm.createContext({}))(
      module,
      module.exports,
      require,
    );
    return module.exports;
  };

  test('`import * as` reads the module as TypeScript does, through getters: a property replaced later is seen (jest.spyOn(fs, …))', () => {
    const fsLike: Record<string, () => string> = { readFileSync: () => 'disk' };
    const m = load("import * as fs from 'fs';\nexport const read = (): string => fs.readFileSync();", { fs: fsLike }) as {
      read: () => string;
    };
    expect(m.read()).toBe('disk');
    fsLike.readFileSync = () => 'spied';
    expect(m.read()).toBe('spied');
  });

  test('a default import of a CommonJS module is the module (esModuleInterop); exports are assignable (jest.spyOn on a module)', () => {
    const colours = { red: (s: string) => `<${s}>` };
    const m = load("import pc from 'picocolors';\nexport function paint(s: string): string { return pc.red(s); }", {
      picocolors: colours,
    });
    expect((m.paint as (s: string) => string)('x')).toBe('<x>');
    expect(Object.getOwnPropertyDescriptor(m, 'paint')).toMatchObject({ writable: true, configurable: true });
  });

  test('class fields stay ES2022 fields (defined, also without an initializer); types, type-only imports and enums as tsc', () => {
    const m = load(
      [
        "import type { T } from './t';",
        "import { U } from './u';",
        'export enum Colour { Red = "red" }',
        'export class Box { width = 1; label?: string; declare kind: T; constructor(readonly depth: number) {} }',
        'export const u: U | undefined = undefined;',
      ].join('\n'),
    ) as { Box: new (d: number) => object; Colour: Record<string, string> };
    // `./t` and `./u` were only types: no require of them (load() would throw).
    expect(Object.keys(new m.Box(3))).toEqual(['width', 'label', 'depth']);
    expect(m.Colour.Red).toBe('red');
  });
});

describe('jest.config.js', () => {
  const transformerOf = (file: string) => {
    const hit = Object.entries(config.transform).find(([re]) => new RegExp(re).test(file));
    const ignored = config.transformIgnorePatterns.some((re) => new RegExp(re).test(file));
    return ignored || !hit ? undefined : Array.isArray(hit[1]) ? hit[1][0] : hit[1];
  };

  test('TypeScript and the packages the pipeline and the twin spend their time in go through the transformer', () => {
    const ours = '<rootDir>/test/support/jest-transform.js';
    expect(config.transform['^.+\\.ts$']).toBe(ours);
    for (const file of [
      '/repo/lib/twin/cluster.ts',
      '/repo/test/support/kube.ts',
      '/repo/node_modules/js-yaml/lib/loader.js',
      '/repo/node_modules/yaml/dist/nodes/Node.js',
      '/repo/node_modules/ajv/dist/compile/index.js',
      '/repo/node_modules/fengari/src/lvm.js',
      '/repo/node_modules/@bufbuild/cel/dist/cjs/index.js',
      '/repo/node_modules/cdk8s/lib/api-object.js',
    ]) {
      expect([file, transformerOf(file)]).toEqual([file, ours]);
    }
    // Everything else in node_modules (and what those packages bundle) loads as it is.
    for (const file of [
      '/repo/node_modules/typescript/lib/typescript.js',
      '/repo/node_modules/cdk8s/node_modules/follow-redirects/index.js',
    ]) {
      expect([file, transformerOf(file)]).toEqual([file, undefined]);
    }
  });
});
