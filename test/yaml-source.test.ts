/**
 * Reading YAML: one parse per file, values and lines from it — a dump through js-yaml (fast, lines recorded by its
 * listener), any other file through the `yaml` library. The oracle here is what meshfed did before the fast path:
 * the `yaml` library's document model for everything (YAML 1.2 core schema, unique keys, `kind: List` items one by
 * one), for values and for lines.
 */
import * as fs from 'fs';
import * as path from 'path';

import * as fc from 'fast-check';
import * as yaml from 'yaml';
import { parseAllDocuments } from 'yaml';

import { dumpList, serviceObjects } from '../bench/generate';
import { Diagnostics } from '../lib/diagnostics';
import { JsonObject } from '../lib/json';
import { propertyParams } from './support/fast-check';
import * as yamlSource from '../lib/load/yaml-source';
import { jsYamlValues, parseYamlObjects } from '../lib/load/yaml-source';
import { rehearseRender } from '../lib/pipeline/rehearse';
import { render } from '../lib/pipeline/render';

// Counts the `yaml` library's parses: a dump read fast must not be parsed again for its lines.
jest.mock('yaml', () => {
  const actual = jest.requireActual('yaml');
  return { ...actual, parseAllDocuments: jest.fn(actual.parseAllDocuments) };
});

const ROOT = path.join(__dirname, '..');

/** Every path into a value: each key of a mapping, each index of a sequence, at every depth. */
function pathsOf(v: unknown, at: (string | number)[] = []): (string | number)[][] {
  if (v === null || typeof v !== 'object') return [at];
  const entries: [string | number, unknown][] = Array.isArray(v) ? v.map((x, i) => [i, x]) : Object.entries(v);
  return [at, ...entries.flatMap(([k, x]) => pathsOf(x, [...at, k]))];
}

/** The objects of a file as the `yaml` library alone reads them (undefined when it reports an error). */
function oracle(text: string): JsonObject[] | undefined {
  const out: JsonObject[] = [];
  for (const doc of parseAllDocuments(text, { uniqueKeys: true })) {
    if (doc.errors.length) return undefined;
    let v: unknown;
    try {
      v = doc.toJS({ maxAliasCount: 100 });
    } catch {
      return undefined; // an alias without its anchor, or too many
    }
    if (v === null || v === undefined) continue;
    if (typeof v !== 'object' || Array.isArray(v)) return undefined;
    const o = v as JsonObject;
    const kind = typeof o.kind === 'string' ? o.kind : '';
    if (kind === 'List' || (kind.endsWith('List') && Array.isArray(o.items))) {
      for (const item of Array.isArray(o.items) ? o.items : [])
        if (item && typeof item === 'object' && !Array.isArray(item)) out.push(item);
    } else out.push(o);
  }
  return out;
}

function yamlFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return yamlFiles(p);
    return /\.ya?ml$/.test(e.name) ? [p] : [];
  });
}

describe('reading YAML', () => {
  const corpus = ['clusters', 'examples', path.join('test', 'fixtures')].flatMap((d) => yamlFiles(path.join(ROOT, d)));

  it('reads every input in the repository as the yaml library does, on the fast path', () => {
    expect(corpus.length).toBeGreaterThan(50);
    let fast = 0;
    for (const file of corpus) {
      const text = fs.readFileSync(file, 'utf8');
      const expected = oracle(text);
      if (!expected) continue; // fixtures of broken input: the yaml library reads them (below)
      const values = jsYamlValues(text);
      // Some examples share selectors through anchors: the yaml library reads those.
      if (values) {
        fast++;
        expect({ file, values }).toEqual({ file, values: expected });
      } else expect(text).toMatch(/: \*\w/);
      expect({ file, values: parseYamlObjects(file, text, new Diagnostics(), true).map((o) => o.value) }).toEqual({
        file,
        values: expected,
      });
    }
    expect(fast / corpus.length).toBeGreaterThan(0.8);
  });

  it('finds the same lines in a file read fast as the yaml library alone', () => {
    const paths = [[], ['metadata', 'name'], ['spec'], ['spec', 'ports', 0], ['spec', 'template', 'spec', 'containers', 0, 'image']];
    let compared = 0;
    for (const file of corpus) {
      const text = fs.readFileSync(file, 'utf8');
      if (!jsYamlValues(text)) continue;
      const precise = parseYamlObjects(file, text, new Diagnostics());
      const fast = parseYamlObjects(file, text, new Diagnostics(), true);
      expect(fast.length).toBe(precise.length);
      fast.forEach((o, i) => {
        for (const p of paths) {
          const line = precise[i].lineOf(p);
          expect({ file, object: o.label, p, line: o.lineOf(p) }).toEqual({ file, object: o.label, p, line });
          compared++;
        }
      });
    }
    expect(compared).toBeGreaterThan(1000);
  });

  it('resolves plain and quoted scalars exactly as the yaml core schema does', () => {
    const scalar = fc.stringMatching(/^[-+ .0-9eExXoObB_~:nNulLtTrRfFaAsSiIyY#']{0,8}$/);
    fc.assert(
      fc.property(scalar, fc.constantFrom('plain', 'single', 'double', 'seq'), (s, style) => {
        const v = style === 'single' ? `'${s.replace(/'/g, "''")}'` : style === 'double' ? JSON.stringify(s) : s;
        const text = style === 'seq' ? `kind: X\nv:\n- ${v}\n` : `kind: X\nv: ${v}\n`;
        const fast = jsYamlValues(text);
        // Where js-yaml would not take the text as it is, the yaml library reads it (and reports it).
        if (fast) expect(fast).toEqual(oracle(text));
      }),
      propertyParams(3000),
    );
  });

  it("gives the yaml library's values for any YAML the yaml library reads without error, or leaves it to it", () => {
    const base = [
      'apiVersion: v1',
      'kind: Service',
      'metadata:',
      '  name: a',
      `  labels: {app: a, "x": 'y'}`,
      'spec:',
      '  ports:',
      '  - name: http',
      '    port: 80',
      '---',
      'kind: X',
      'v: [1, 2]',
      'w: |',
      '  text',
      '',
    ].join('\n');
    const pieces = [
      ' ',
      '\n',
      ':',
      '-',
      '[',
      ']',
      '{',
      '}',
      ',',
      '#',
      '"',
      "'",
      '|',
      '>',
      '\t',
      'a',
      '1',
      '  ',
      '&',
      '*',
      '!',
      '?',
      '~',
      '---\n',
    ];
    const edit = fc.tuple(fc.nat(base.length), fc.nat(3), fc.constantFrom(...pieces));
    fc.assert(
      fc.property(fc.array(edit, { minLength: 1, maxLength: 3 }), (edits) => {
        let text = base;
        for (const [at, cut, put] of edits) {
          const p = at % (text.length + 1);
          text = text.slice(0, p) + put + text.slice(p + cut);
        }
        const expected = oracle(text);
        const fast = jsYamlValues(text);
        if (expected && fast) expect(fast).toEqual(expected);
      }),
      propertyParams(4000),
    );
  });

  it('still reads fast what only looks like those: a quoted # at the start of a value, lists of mappings, flow values', () => {
    for (const text of [
      'kind: X\nv: \'#ff0000\'\nw: "#x"\n',
      'kind: X\nv: [{a: 1}, {b: [2]}]\n',
      'kind: X\nv: {a: [1], b: {c: 2}, "d": {}}\n',
      "kind: X\nv: 'a' #c\nw: [a] #c\n",
      'kind: X\nv:\n- {a: 1}\n- {b: [2], c: {d: 3}}\n',
      '{"kind": "X", "a": [{"b": 1}, {"c": {"d": [2]}}]}\n',
    ]) {
      expect(jsYamlValues(text)).toBeDefined();
      expect(jsYamlValues(text)).toEqual(oracle(text));
    }
  });

  it('reads an oc get -o json dump fast, with its lines', () => {
    const list = {
      apiVersion: 'v1',
      kind: 'List',
      items: [
        { apiVersion: 'v1', kind: 'Service', metadata: { name: 'a', labels: { 'x.io/y': 'true' } }, spec: { ports: [{ port: 80 }] } },
        { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'b', annotations: { note: 'hi!' } } },
      ],
    };
    const text = JSON.stringify(list, null, 4);
    expect(jsYamlValues(text)).toEqual(list.items);
    const [svc] = parseYamlObjects('ossm2/x.json', text, new Diagnostics(), true);
    expect(svc.lineOf(['spec', 'ports'])).toBe(text.split('\n').findIndex((l) => l.includes('"ports"')) + 1);
    // A string that only looks like a flow collection as a key is read fast (the listener sees a string, not a key).
    const odd = JSON.stringify({ ...list, items: [{ kind: 'X', metadata: { annotations: { note: '{x}: y' } } }] });
    expect(jsYamlValues(odd)).toEqual([{ kind: 'X', metadata: { annotations: { note: '{x}: y' } } }]);
  });

  it('reads hand-written files by the yaml library, which refuses what js-yaml would let through', () => {
    const text = 'kind: X\nmetadata:\n  labels: {app: a,\nb: c}\n';
    const diags = new Diagnostics();
    expect(parseYamlObjects('cluster.yaml', text, diags)).toEqual([]);
    expect(diags.errors[0].message).toMatch(/^YAML syntax error: /);
    // A dump (what oc writes, which never looks like this) is read as written.
    expect(parseYamlObjects('ossm2/x.yaml', text, new Diagnostics(), true).map((o) => o.value)).toEqual([
      { kind: 'X', metadata: { labels: { app: 'a', b: 'c' } } },
    ]);
  });

  it.each([
    ['a duplicate key', 'kind: X\nmetadata:\n  name: a\n  name: b\n'],
    ['an alias of a mapping', 'kind: X\na: &m {x: 1}\nb: *m\n'],
    ['a %YAML 1.1 directive (yes/no are booleans there)', '%YAML 1.1\n---\nkind: X\nv: yes\n'],
    ['a tag', 'kind: X\nv: !!binary aGVsbG8=\n'],
    ['a mapping as a key', 'kind: X\n? {a: 1}\n: x\n'],
    ['a list as a key', 'kind: X\n[a, b]: 1\n'],
    ['a null key', 'kind: X\n~: a\n'],
    ['a non-specific tag', 'kind: X\nv: !\n'],
    ["a '---' line inside a quoted string", "kind: X\nv: 'a\n---\nb'\n"],
    ['a syntax error', 'kind: X\nv: [a, b\n'],
    ['an alias without its anchor', 'kind: X\nv: *nowhere\n'],
    ['a document that is not a mapping', '- a\n- b\n'],
    // Found by the properties above (FC_SEED runs of `npm run fuzz`): js-yaml takes `#` glued to a quote or a
    // bracket as a comment, the yaml library refuses it; a collection as a key of a flow mapping without a
    // value is keyed by its JavaScript text in js-yaml ("a"), by its YAML text in the yaml library ("[ a ]").
    ["a comment glued to a closing quote (`''#`)", "kind: X\nv: ''#\n"],
    ['a comment glued to a closing double quote', 'kind: X\nv:\n- "a"#c\n'],
    ['a comment glued to a closing bracket', 'kind: X\nv: [a, b]#c\n'],
    ['a comment glued to a closing brace', 'kind: X\nv: {a: 1}#\n'],
    ['a list as a key of a flow mapping', 'kind: X\nmetadata:\n  labels: {[app: a], "x": \'y\'}\n'],
    ['a mapping as a key of a flow mapping', 'kind: X\nv: {a: 1, {b: c}}\n'],
    ['an anchored list as a key of a flow mapping', 'kind: X\nv: {&k [a]}\n'],
  ])('leaves %s to the yaml library', (_, text) => {
    expect(jsYamlValues(text)).toBeUndefined();
    const diags = new Diagnostics();
    const expected = oracle(text);
    const objects = parseYamlObjects('f.yaml', text, diags, true);
    if (expected) expect(objects.map((o) => o.value)).toEqual(expected);
    else expect(diags.errors.length).toBeGreaterThan(0);
  });

  it('reads a dump as oc writes it (managedFields, status, last-applied) in one parse, with every line the yaml library finds', () => {
    const objects = Array.from({ length: 4 }, (_, i) =>
      serviceObjects('apps', `svc-${i}`, [
        { name: 'http', port: 8000, targetPort: 8080 },
        { name: 'grpc', port: 9000, targetPort: 9090 },
      ]),
    ).flat();
    const text = dumpList(objects, 'realistic');
    // managedFields keys like `k:{"port":8000,"protocol":"TCP"}:` end in `}:` without being a collection.
    expect(text).toMatch(/k:\{"port":8000,"protocol":"TCP"\}:/);
    const parses = yaml.parseAllDocuments as jest.Mock;
    parses.mockClear();
    const fast = parseYamlObjects('ossm2/workloads.yaml', text, new Diagnostics(), true);
    const lines = fast.map((o) => pathsOf(o.value).map((p) => o.lineOf(p)));
    expect(parses).not.toHaveBeenCalled();
    expect(fast.map((o) => o.value)).toEqual(oracle(text));
    const precise = parseYamlObjects('ossm2/workloads.yaml', text, new Diagnostics());
    expect(lines.flat().length).toBeGreaterThan(500);
    // No message points into managedFields (the API server's; meshfed drops it): a path into it finds its key's line.
    const expected = (o: yamlSource.SourceObject) =>
      pathsOf(o.value).map((p) => o.lineOf(p[0] === 'metadata' && p[1] === 'managedFields' ? p.slice(0, 2) : p));
    expect(lines).toEqual(precise.map(expected));
  });

  it('finds the line of every field as the yaml library does, in any YAML read fast', () => {
    const key = fc.constantFrom('a', 'b', 'kind', 'k:{"x":1}', '"q"', "'r s'", '1', 'true');
    const scalar = fc.constantFrom('1', 'x', '"y"', "'z'", '{}', '[]', '|\n  t', '# c\n  w', 'null', '[1, {a: 2}]', '{a: [1], b: c}');
    type Tree = string | { map: [string, Tree][] } | { seq: Tree[] };
    const tree: fc.Arbitrary<Tree> = fc.letrec<{ t: Tree }>((tie) => ({
      t: fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        scalar,
        fc.record({ map: fc.uniqueArray(fc.tuple(key, tie('t')), { minLength: 1, maxLength: 3, selector: ([k]) => k }) }),
        fc.record({ seq: fc.array(tie('t'), { minLength: 1, maxLength: 3 }) }),
      ),
    })).t;
    const render = (t: Tree, indent: string): string =>
      typeof t === 'string'
        ? ` ${t.replace(/\n/g, `\n${indent}`)}\n`
        : 'map' in t
          ? `\n${t.map.map(([k, v]) => `${indent}${k}:${render(v, `${indent}  `)}`).join('')}`
          : `\n${t.seq.map((v) => `${indent}-${render(v, `${indent}  `)}`).join('')}`;
    let compared = 0;
    fc.assert(
      fc.property(fc.uniqueArray(fc.tuple(key, tree), { minLength: 1, maxLength: 4, selector: ([k]) => k }), fc.boolean(), (top, two) => {
        const doc = `kind: X\n${top.map(([k, v]) => `${k}:${render(v, '  ')}`).join('')}`;
        const text = two ? `# first\n${doc}---\n${doc}` : doc;
        const expected = oracle(text);
        const fast = jsYamlValues(text);
        if (!expected || !fast) return;
        const read = parseYamlObjects('f.yaml', text, new Diagnostics(), true);
        const precise = parseYamlObjects('f.yaml', text, new Diagnostics());
        compared++;
        read.forEach((o, i) => {
          for (const p of pathsOf(o.value)) expect({ p, line: o.lineOf(p) }).toEqual({ p, line: precise[i].lineOf(p) });
        });
      }),
      propertyParams(300),
    );
    expect(compared).toBeGreaterThan(100);
  });

  it('points at the line of a field in a file read fast', () => {
    const text = [
      'apiVersion: v1',
      'kind: List',
      'items:',
      '- kind: Service',
      '  metadata:',
      '    name: a',
      '  spec:',
      '    ports:',
      '    - port: 80',
      '- kind: Service',
      '  metadata:',
      '    name: b',
      '',
    ].join('\n');
    expect(jsYamlValues(text)).toHaveLength(2);
    const [a, b] = parseYamlObjects('f.yaml', text, new Diagnostics(), true);
    expect(a.at(['spec', 'ports'])).toEqual({ file: 'f.yaml', line: 8, object: 'Service a', field: 'spec.ports' });
    expect(a.lineOf(['spec', 'ports', 0, 'port'])).toBe(9);
    expect(b.lineOf(['metadata', 'name'])).toBe(12);
    expect(b.lineOf(['spec'])).toBe(10); // absent: the object's line
  });

  it('reads every input file once in a render and its rehearsal (the twin restores the dumps load read)', () => {
    // Every file read is parsed: a file read twice is a file parsed twice.
    const read = jest.spyOn(jest.requireActual<typeof fs>('fs'), 'readFileSync');
    try {
      const result = render(path.join(ROOT, 'clusters'));
      const report = rehearseRender(result, { moves: 'current', maxObjects: 300 });
      expect(report.moves.length).toBeGreaterThan(0);
      const files = read.mock.calls.map(([file]) => String(file)).filter((f) => /\.(ya?ml|json|pem)$/.test(f));
      expect(files.filter((f) => f.includes(`${path.sep}ossm2${path.sep}`)).length).toBeGreaterThan(2);
      expect(files.filter((f, i) => files.indexOf(f) !== i)).toEqual([]);
    } finally {
      read.mockRestore();
    }
  });
});
