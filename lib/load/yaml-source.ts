import * as fs from 'fs';

import { Document, isMap, isScalar, isSeq, LineCounter, Node, parseAllDocuments, Scalar, YAMLMap } from 'yaml';

import { Diagnostics, SourceLocation } from '../diagnostics';

/** A plain JSON value as parsed from YAML. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

/**
 * One Kubernetes object read from a file, with enough of its source to point at the line of any field.
 */
export class SourceObject {
  constructor(
    public readonly file: string,
    public readonly value: JsonObject,
    private readonly node: Node | undefined,
    private readonly lines: LineCounter,
  ) {}

  get apiVersion(): string {
    return typeof this.value.apiVersion === 'string' ? this.value.apiVersion : '';
  }
  get kind(): string {
    return typeof this.value.kind === 'string' ? this.value.kind : '';
  }
  get metadata(): JsonObject {
    const m = this.value.metadata;
    return m && typeof m === 'object' && !Array.isArray(m) ? m : {};
  }
  get name(): string {
    return typeof this.metadata.name === 'string' ? this.metadata.name : '';
  }
  get namespace(): string | undefined {
    return typeof this.metadata.namespace === 'string' ? this.metadata.namespace : undefined;
  }
  /** `Kind namespace/name`, the way errors name an object. */
  get label(): string {
    return `${this.kind || 'object'} ${this.namespace ? `${this.namespace}/` : ''}${this.name || '(no name)'}`;
  }

  /** 1-based line of a field (or of the object when the field is absent). */
  lineOf(path: readonly (string | number)[] = []): number | undefined {
    let node: unknown = this.node;
    let best = rangeLine(node, this.lines);
    for (const seg of path) {
      if (isMap(node)) {
        const pair = (node as YAMLMap).items.find((p) => isScalar(p.key) && String((p.key as Scalar).value) === String(seg));
        if (!pair) break;
        best = rangeLine(pair.key, this.lines) ?? best;
        node = pair.value;
      } else if (isSeq(node) && typeof seg === 'number') {
        node = node.items[seg];
        best = rangeLine(node, this.lines) ?? best;
      } else {
        break;
      }
    }
    return best;
  }

  at(path: readonly (string | number)[] = []): SourceLocation {
    return {
      file: this.file,
      line: this.lineOf(path),
      object: this.label,
      field: path.length ? formatPath(path) : undefined,
    };
  }
}

export function formatPath(path: readonly (string | number)[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}

function rangeLine(node: unknown, lines: LineCounter): number | undefined {
  const range = (node as { range?: [number, number, number] } | undefined)?.range;
  return range ? lines.linePos(range[0]).line : undefined;
}

/**
 * Parse every YAML document of a file. A document may be a single object or a `kind: List`, whose
 * items are returned one by one. Syntax errors are reported with their line and stop nothing else.
 */
export function readYamlObjects(file: string, diags: Diagnostics): SourceObject[] {
  const text = fs.readFileSync(file, 'utf8');
  return parseYamlObjects(file, text, diags);
}

export function parseYamlObjects(file: string, text: string, diags: Diagnostics): SourceObject[] {
  const lines = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: false });
  const out: SourceObject[] = [];
  const list = Array.isArray(docs) ? docs : [docs];
  for (const doc of list as Document.Parsed[]) {
    if (doc.errors.length > 0) {
      for (const e of doc.errors) {
        const line = e.linePos?.[0]?.line ?? lines.linePos(e.pos[0]).line;
        diags.error({ file, line }, `YAML syntax error: ${firstLine(e.message)}.`, 'Fix the YAML at that line.');
      }
      continue;
    }
    const value = doc.toJS({ maxAliasCount: 100 }) as Json;
    if (value === null || value === undefined) continue; // empty document
    if (typeof value !== 'object' || Array.isArray(value)) {
      diags.error(
        { file, line: rangeLine(doc.contents, lines) },
        'expected a Kubernetes object (a YAML mapping) here.',
        'Each document must be one object or a `kind: List`.',
      );
      continue;
    }
    const obj = new SourceObject(file, value, doc.contents ?? undefined, lines);
    if (obj.kind === 'List' || (obj.kind.endsWith('List') && Array.isArray(value.items))) {
      const items = Array.isArray(value.items) ? value.items : [];
      const seq = isMap(doc.contents) ? (doc.contents as YAMLMap).get('items', true) : undefined;
      items.forEach((item, i) => {
        const node = isSeq(seq) ? (seq.items[i] as Node) : undefined;
        if (item && typeof item === 'object' && !Array.isArray(item)) out.push(new SourceObject(file, item, node, lines));
      });
      continue;
    }
    out.push(obj);
  }
  return out;
}

function firstLine(s: string): string {
  return s.split('\n')[0].replace(/\.$/, '');
}
