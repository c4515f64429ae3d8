/**
 * Reading YAML: values through js-yaml (fast), positions through the `yaml` library (when a message
 * needs a line). The oracle here is what meshfed did before the fast path: the `yaml` library's document
 * model for everything (YAML 1.2 core schema, unique keys, `kind: List` items one by one).
 */
import * as fs from 'fs';
import * as path from 'path';

import * as fc from 'fast-check';
import { parseAllDocuments } from 'yaml';

import { Diagnostics } from '../lib/diagnostics';
import { JsonObject } from '../lib/json';
import { propertyParams } from './support/fast-check';
import { jsYamlValues, parseYamlObjects } from '../lib/load/yaml-source';

const ROOT = path.join(__dirname, '..');

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
    // A string that looks like a flow key to the guard only costs speed: the yaml library reads it.
    const odd = JSON.stringify({ ...list, items: [{ kind: 'X', metadata: { annotations: { note: '{x}: y' } } }] });
    expect(jsYamlValues(odd)).toBeUndefined();
    expect(parseYamlObjects('ossm2/x.json', odd, new Diagnostics(), true).map((o) => o.value)).toEqual([
      { kind: 'X', metadata: { annotations: { note: '{x}: y' } } },
    ]);
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
});
