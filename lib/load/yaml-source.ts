import { EventType, FAILSAFE_SCHEMA, loadAll, Schema, State, Type } from 'js-yaml';
import {
  Document,
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  Node,
  parseAllDocuments,
  Scalar,
  ScalarTag,
  Schema as YamlSchema,
  YAMLMap,
} from 'yaml';

import { Diagnostics, SourceLocation } from '../diagnostics';
import { Json, JsonObject } from '../json';
import { readInputFile } from './text';

export type { Json, JsonObject } from '../json';

/** The 1-based line of a field of an object (of the object itself for `[]`), from the parse that read its values. */
export type LineFinder = (path: readonly (string | number)[]) => number | undefined;

/**
 * One Kubernetes object read from a file, with enough of its source to point at the line of any field.
 */
export class SourceObject {
  constructor(
    public readonly file: string,
    public readonly value: JsonObject,
    private readonly lines: LineFinder = () => undefined,
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

  /** 1-based line of a field (of the deepest part of its path that exists, or of the object). */
  lineOf(path: readonly (string | number)[] = []): number | undefined {
    return this.lines(path);
  }

  /**
   * Where a field is. Its line comes from the positions the one parse of the file recorded, walked when first read
   * (most locations are made for a message that is never printed).
   */
  at(path: readonly (string | number)[] = []): SourceLocation {
    const lineOf = () => this.lineOf(path);
    let line: number | undefined | null = null;
    return {
      file: this.file,
      get line() {
        if (line === null) line = lineOf();
        return line;
      },
      object: this.label,
      field: path.length ? formatPath(path) : undefined,
    };
  }
}

export function formatPath(path: readonly (string | number)[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}

/** Lines from the `yaml` library's document model: the key of each field, the node of each item. */
function nodeLines(root: Node | undefined, lines: LineCounter): LineFinder {
  return (path) => {
    let node: unknown = root;
    let best = rangeLine(node, lines);
    for (const seg of path) {
      if (isMap(node)) {
        const pair = (node as YAMLMap).items.find((p) => isScalar(p.key) && String((p.key as Scalar).value) === String(seg));
        if (!pair) break;
        best = rangeLine(pair.key, lines) ?? best;
        node = pair.value;
      } else if (isSeq(node) && typeof seg === 'number') {
        node = node.items[seg];
        best = rangeLine(node, lines) ?? best;
      } else {
        break;
      }
    }
    return best;
  };
}

function rangeLine(node: unknown, lines: LineCounter): number | undefined {
  const range = (node as { range?: [number, number, number] } | undefined)?.range;
  return range ? lines.linePos(range[0]).line : undefined;
}

/**
 * Parse every YAML document of a file. A document may be a single object or a `kind: List`, whose
 * items are returned one by one. Syntax errors are reported with their line and stop nothing else.
 * The file is read by readInputFile: line ends normalised, a byte order mark dropped, and a file
 * with Git conflict markers reported as such (and read as empty).
 */
export function readYamlObjects(file: string, diags: Diagnostics, options: { dump?: boolean } = {}): SourceObject[] {
  const text = readInputFile(file, diags);
  return text === undefined ? [] : parseYamlObjects(file, text, diags, options.dump);
}

/**
 * Every file is parsed once, by one library, which gives both its values and the lines of its fields.
 * Hand-written files are read by the `yaml` library, which follows the YAML spec to the letter and names
 * the line of every error. A `dump` (what `oc get -o yaml` wrote: the large files) is read by js-yaml,
 * eight times faster than the `yaml` library's document model on dumps as `oc` writes them (docs/benchmarks.md), with plain
 * scalars resolved by the `yaml` library's own YAML 1.2 core tags so that both give the same values, and the
 * line of every key and item recorded by its parse listener. A dump the fast path does not take as it is — a
 * syntax error, a duplicate key, a tag, a %YAML directive, an alias of a collection, a collection or null as
 * a key, a comment glued to a quote or bracket (`''#`), a document that is not a mapping — is read by the
 * `yaml` library instead (js-yaml stops at the first sign of one, and its values are dropped).
 * js-yaml still accepts a few things the spec forbids and `oc` never writes (a flow collection continued
 * at column 0), reading them as written.
 */
export function parseYamlObjects(file: string, text: string, diags: Diagnostics, dump = false): SourceObject[] {
  const fast = dump ? jsYamlObjects(text) : undefined;
  if (fast) return fast.map(({ value, lines }) => new SourceObject(file, value, lines));
  return preciseObjects(file, text, diags).map(({ value, node, lines }) => new SourceObject(file, value, nodeLines(node, lines)));
}

interface Located {
  readonly value: JsonObject;
  readonly node: Node | undefined;
  readonly lines: LineCounter;
}

/** Whether a document is a list of objects: `kind: List`, or any `…List` kind with `items` (what `oc get` prints). */
function isList(kind: unknown, hasItems: boolean): boolean {
  return typeof kind === 'string' && (kind === 'List' || (kind.endsWith('List') && hasItems));
}

/** The objects a document holds: itself, or the items of a `kind: List` that are objects (with their nodes). */
function objectsOf<N>(value: JsonObject, node: N, itemNode: (i: number) => N): [JsonObject, N][] {
  if (!isList(value.kind, Array.isArray(value.items))) return [[value, node]];
  const out: [JsonObject, N][] = [];
  (Array.isArray(value.items) ? value.items : []).forEach((item, i) => {
    if (item && typeof item === 'object' && !Array.isArray(item)) out.push([item, itemNode(i)]);
  });
  return out;
}

/** The `yaml` library's document model: positions, and errors with their lines. */
function preciseObjects(file: string, text: string, diags: Diagnostics): Located[] {
  const lines = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: false });
  const out: Located[] = [];
  const list = Array.isArray(docs) ? docs : [docs];
  for (const doc of list as Document.Parsed[]) {
    if (doc.errors.length > 0) {
      for (const e of doc.errors) {
        const line = e.linePos?.[0]?.line ?? lines.linePos(e.pos[0]).line;
        diags.error({ file, line }, `YAML syntax error: ${firstLine(e.message)}.`, 'Fix the YAML at that line.');
      }
      continue;
    }
    let value: Json;
    try {
      value = doc.toJS({ maxAliasCount: 100 }) as Json;
    } catch (e) {
      // An alias without its anchor, or too many aliases (the yaml library throws these from toJS).
      diags.error(
        { file, line: rangeLine(doc.contents, lines) },
        `YAML error: ${firstLine((e as Error).message)}.`,
        'Fix the anchors and aliases.',
      );
      continue;
    }
    if (value === null || value === undefined) continue; // empty document
    if (typeof value !== 'object' || Array.isArray(value)) {
      diags.error(
        { file, line: rangeLine(doc.contents, lines) },
        'expected a Kubernetes object (a YAML mapping) here.',
        'Each document must be one object or a `kind: List`.',
      );
      continue;
    }
    const seq = isMap(doc.contents) ? (doc.contents as YAMLMap).get('items', true) : undefined;
    const itemNode = (i: number) => (isSeq(seq) ? (seq.items[i] as Node) : undefined);
    for (const [v, node] of objectsOf<Node | undefined>(value, doc.contents ?? undefined, itemNode)) out.push({ value: v, node, lines });
  }
  return out;
}

/** The first characters of every null, bool, int and float of the YAML 1.2 core schema (or it is empty). */
const MAYBE_NOT_STRING = new Set([...'~nNtTfF0123456789+-.'].map((c) => c.charCodeAt(0)));

/**
 * js-yaml with one type per YAML 1.2 core tag, each resolving a plain scalar with the `yaml` library's
 * own tests and resolvers, in its order (null, bool, int, float); everything else is a string, a
 * sequence or a mapping.
 */
const CORE_SCHEMA_LIKE_YAML = ((): Schema => {
  const byTag = new Map<string, ScalarTag[]>();
  for (const t of new YamlSchema({ schema: 'core' }).tags as ScalarTag[])
    if (t.default && t.test instanceof RegExp) byTag.set(t.tag, [...(byTag.get(t.tag) ?? []), t]);
  const implicit = [...byTag].map(
    ([tag, tests]) =>
      new Type(tag, {
        kind: 'scalar',
        // Most scalars of a dump are names: their first character spares the tests.
        resolve: (s: string | null) =>
          s !== null && (s === '' || MAYBE_NOT_STRING.has(s.charCodeAt(0))) && tests.some((t) => t.test!.test(s)),
        construct: (s: string) => {
          const t = tests.find((x) => x.test!.test(s))!;
          const v = t.resolve(s, () => undefined, { intAsBigInt: false });
          return isScalar(v) ? v.value : v;
        },
      }),
  );
  return FAILSAFE_SCHEMA.extend({ implicit });
})();

/** Every object of the file through js-yaml, or undefined when the `yaml` library must read it (see above). */
export function jsYamlValues(text: string): JsonObject[] | undefined {
  return jsYamlObjects(text)?.map((o) => o.value);
}

/** Thrown by the listener to stop js-yaml where the `yaml` library would read the text otherwise. */
const DIVERGES = new Error('js-yaml and the yaml library part here');

/** Every object of the file through js-yaml, each with the lines of its fields; undefined as above. */
function jsYamlObjects(text: string): { value: JsonObject; lines: LineFinder }[] | undefined {
  if (/^%/m.test(text)) return undefined;
  // Where the two spell a value differently: a mapping or list as an explicit key (`? {a: 1}`), and a tag
  // (js-yaml reads `!` alone as null, the yaml library as an empty string).
  if (/(^|[\s,[{])\?\s|(^|[\s,[{:-])!/m.test(text)) return undefined;
  const positions = new Positions(text);
  let docs: unknown[];
  try {
    docs = loadAll(text, null, { schema: CORE_SCHEMA_LIKE_YAML, listener: positions.listener });
  } catch {
    return undefined; // a syntax error, a duplicate key, an alias without its anchor, or DIVERGES
  }
  // js-yaml takes a `---` line inside a quoted string as part of it; the yaml library (and the spec) as an error.
  if (docs.length < (text.match(/^---(\s|$)/gm) ?? []).length) return undefined;
  const out: { value: JsonObject; lines: LineFinder }[] = [];
  for (const doc of docs) {
    if (doc === null || doc === undefined) continue;
    if (typeof doc !== 'object' || Array.isArray(doc) || !plainTree(doc)) return undefined;
    for (const [v] of objectsOf(doc as JsonObject, undefined, () => undefined)) out.push({ value: v, lines: positions.finder(v) });
  }
  return out;
}

/** Where a collection and its parts start: its own line, and the line of each key (a mapping) or item (a sequence). */
interface Place {
  readonly line: number;
  /** A mapping: key, line, key, line, …; a sequence: the line of each item. */
  readonly parts: (string | number)[];
}

/**
 * The positions of one js-yaml parse, recorded by its listener: for every collection its line, and the line of
 * each of its keys or items (a key's line is what a message about that field points at, as the `yaml` library's
 * nodes do). The same listener stops the parse where js-yaml and the `yaml` library read the text differently
 * (DIVERGES). Lines come from js-yaml's own line counter plus the separation before a node, so the text is not
 * scanned again.
 */
class Positions {
  private readonly places = new Map<object, Place>();
  // The open nodes, innermost last, as parallel stacks (no object per node): where each one's content starts (past
  // blanks, comments and an anchor), its line, and its children so far (value, line, value, line, …; a mapping's are
  // key, value, key, value).
  private readonly starts: number[] = [];
  private readonly lines: number[] = [];
  private readonly kids: (unknown[] | undefined)[] = [];
  private depth = 0;
  /**
   * The depth of an open `metadata.managedFields` value, whose parts get no places: the API server writes it,
   * meshfed drops it (lib/load/strip.ts) and no message points into it, and it is most of the nodes of a dump
   * (`f:`/`k:` sets of every field of every manager). A path into it finds the line of its key.
   */
  private unplaced = Infinity;

  constructor(private readonly text: string) {}

  readonly listener = (event: EventType, state: State): void => {
    if (event === 'open') this.opened(state);
    else this.closed(state);
  };

  private opened(state: State): void {
    const s = this.text;
    const p = state.position;
    // Where the content starts: js-yaml opens a value before its separation.
    const start = contentStart(s, p);
    const d = this.depth;
    // A collection (or an anchored, tagged or aliased node) as a key of a flow mapping without `:` (`{[a]}`): the
    // yaml library keys it by its YAML text ("[ a ]"), js-yaml by JavaScript's (`a`). A node of a flow mapping
    // not preceded by `:` is a key. js-yaml opens a block-context node twice at the same place (the node, then
    // the same text tried as a block mapping's key): that is not a child.
    if (
      d > 0 &&
      s.charCodeAt(this.starts[d - 1]) === OPEN_BRACE &&
      this.starts[d - 1] !== start &&
      COLLECTION_OR_PROPERTY.has(s.charCodeAt(start))
    ) {
      let q = p - 1;
      while (q >= 0 && isBlank(s.charCodeAt(q))) q--;
      if (s.charCodeAt(q) !== COLON) throw DIVERGES;
    }
    if (this.unplaced === Infinity && d > 0) {
      const kids = this.kids[d - 1];
      if (kids !== undefined && kids.length % 4 === 2 && kids[kids.length - 2] === 'managedFields') this.unplaced = d;
    }
    this.starts[d] = start;
    // js-yaml's state.line counts the line breaks before state.position (0-based).
    this.lines[d] = (state as unknown as { line: number }).line + breaksBetween(s, p, start) + 1;
    this.kids[d] = undefined;
    this.depth = d + 1;
  }

  private closed(state: State): void {
    const s = this.text;
    const p = state.position;
    const d = --this.depth;
    // A comment glued to a closing quote or bracket (`v: ''#`, `[a]#c`): the spec wants white space before `#`;
    // the yaml library refuses it, js-yaml takes the rest of the line as a comment.
    if (s.charCodeAt(p) === HASH && CLOSING.has(s.charCodeAt(p - 1))) throw DIVERGES;
    const value: unknown = state.result;
    const line = this.lines[d];
    if (value !== null && typeof value === 'object') {
      // A collection as a key (`[a, b]: 1`, `{a: 1}: x`): js-yaml keys it by JavaScript's text, the yaml library by YAML's.
      let q = p;
      while (s.charCodeAt(q) === 0x20 || s.charCodeAt(q) === 0x09) q++;
      if (s.charCodeAt(q) === COLON) throw DIVERGES;
      const kids = this.kids[d];
      if (kids !== undefined && d < this.unplaced) this.place(value, line, kids);
    }
    this.kids[d] = undefined;
    if (d > this.unplaced) return;
    if (d === this.unplaced) this.unplaced = Infinity;
    if (d > 0) (this.kids[d - 1] ??= []).push(value, line);
  }

  /**
   * Record a collection's place. An empty one needs none (a message points at its key), nor does a node closed
   * twice: js-yaml tries a block-context node as a block mapping's key first (`- [a]`, `- {a: 1}`), and the node
   * it composed then closes again around the same value, with that value as its one child.
   */
  private place(value: object, line: number, kids: unknown[]): void {
    if (this.places.has(value)) return;
    const parts: (string | number)[] = [];
    if (Array.isArray(value)) {
      // Two slots per item (its value, its line); a missing item leaves the rest without a line.
      for (let i = 1; i < kids.length && parts.length < value.length; i += 2) parts.push(kids[i] as number);
    } else {
      // Four per pair (key, its line, value, its line). js-yaml may try one more key where a mapping ends (a `---`):
      // that attempt is null, never a key here (plainTree refuses a "null" key).
      for (let i = 0; i + 1 < kids.length; i += 4) {
        const key = String(kids[i]);
        if (Object.hasOwn(value, key)) parts.push(key, kids[i + 1] as number);
      }
    }
    this.places.set(value, { line, parts });
  }

  /** The lines of an object's fields (LineFinder), walked through the places of its collections. */
  finder(root: JsonObject): LineFinder {
    const places = this.places;
    return (path) => {
      let node: unknown = root;
      let best = places.get(root)?.line;
      for (const seg of path) {
        if (node === null || typeof node !== 'object') break;
        const place = places.get(node);
        if (Array.isArray(node)) {
          if (typeof seg !== 'number' || seg >= node.length) break;
          best = (place?.parts[seg] as number | undefined) ?? best;
          node = node[seg];
        } else {
          const key = String(seg);
          if (!Object.hasOwn(node, key)) break;
          const parts = place?.parts ?? [];
          for (let i = 0; i < parts.length; i += 2)
            if (parts[i] === key) {
              best = parts[i + 1] as number;
              break;
            }
          node = (node as JsonObject)[key];
        }
      }
      return best;
    };
  }
}

const HASH = 0x23;
const COLON = 0x3a;
const OPEN_BRACE = 0x7b;
/** The first characters of a node that is (or may be) a collection, an anchored or tagged node, or an alias. */
const COLLECTION_OR_PROPERTY = new Set([0x5b, OPEN_BRACE, 0x26, 0x21, 0x2a]); // [ { & ! *
const CLOSING = new Set([0x27, 0x22, 0x5d, 0x7d]); // ' " ] }
const isBlank = (c: number) => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
const isFlowIndicator = (c: number) => c === 0x2c || c === 0x5b || c === 0x5d || c === OPEN_BRACE || c === 0x7d;

/** Where a node's content starts at or after `p`: past blanks, line breaks, comments and an anchor (`&name`). */
function contentStart(s: string, p: number): number {
  for (;;) {
    const c = s.charCodeAt(p);
    if (isBlank(c)) p++;
    else if (c === HASH) while (p < s.length && s.charCodeAt(p) !== 0x0a) p++;
    else if (c === 0x26) {
      p++;
      while (p < s.length && !isBlank(s.charCodeAt(p)) && !isFlowIndicator(s.charCodeAt(p))) p++;
    } else return p;
  }
}

function breaksBetween(s: string, from: number, to: number): number {
  let n = 0;
  for (let i = from; i < to; i++) if (s.charCodeAt(i) === 0x0a) n++;
  return n;
}

/**
 * False when one array or object appears twice in the tree (an alias of a collection: the yaml library
 * limits those), or a key is "null" (an empty or null key: js-yaml spells it "null", the yaml library "").
 */
function plainTree(root: object): boolean {
  const seen = new Set<object>();
  const stack: object[] = [root];
  while (stack.length) {
    const v = stack.pop()!;
    if (seen.has(v)) return false;
    seen.add(v);
    if (!Array.isArray(v) && Object.hasOwn(v, 'null')) return false;
    for (const x of Array.isArray(v) ? v : Object.values(v)) if (x !== null && typeof x === 'object') stack.push(x as object);
  }
  return true;
}

function firstLine(s: string): string {
  return s.split('\n')[0].replace(/\.$/, '');
}
