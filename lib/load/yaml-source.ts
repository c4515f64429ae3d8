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

/** The YAML node of an object and the line table of its file, found when a message first needs a line. */
type Locate = () => { node: Node | undefined; lines: LineCounter } | undefined;

/**
 * One Kubernetes object read from a file, with enough of its source to point at the line of any field.
 */
export class SourceObject {
  constructor(
    public readonly file: string,
    public readonly value: JsonObject,
    private readonly locate: Locate = () => undefined,
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
    const where = this.locate();
    if (!where) return undefined;
    const { lines } = where;
    let node: unknown = where.node;
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
  }

  /** Where a field is. Its line is looked up when first read: a file read fast is parsed for positions then. */
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
 * Hand-written files are read by the `yaml` library, which follows the YAML spec to the letter and names
 * the line of every error. A `dump` (what `oc get -o yaml` wrote: the large files) is read by js-yaml,
 * about ten times faster than composing the `yaml` library's document model, with plain scalars resolved
 * by the `yaml` library's own YAML 1.2 core tags so that both give the same values; the `yaml` library
 * parses it again, for positions, when a message first asks for a line. A dump the fast path does not
 * take as it is — a syntax error, a duplicate key, a tag, a %YAML directive, an alias of a collection, a
 * collection or null as a key, a comment glued to a quote or bracket (`''#`), a document that is not a
 * mapping — is read by the `yaml` library alone.
 * js-yaml still accepts a few things the spec forbids and `oc` never writes (a flow collection continued
 * at column 0), reading them as written.
 */
export function parseYamlObjects(file: string, text: string, diags: Diagnostics, dump = false): SourceObject[] {
  const fast = dump ? jsYamlValues(text) : undefined;
  if (!fast)
    return preciseObjects(file, text, diags).map(({ value, node, lines }) => new SourceObject(file, value, () => ({ node, lines })));
  let nodes: Positioned[] | undefined;
  const locate = (k: number) => () => {
    nodes ??= objectNodes(text);
    const at = nodes.length === fast.length ? nodes[k] : undefined;
    // The same object in both readings, or no line rather than a wrong one.
    return at && at.node.get('kind') === fast[k].kind ? at : undefined;
  };
  return fast.map((value, k) => new SourceObject(file, value, locate(k)));
}

interface Positioned {
  readonly node: YAMLMap;
  readonly lines: LineCounter;
}

/**
 * The node of every object of a file read fast, in the order of its values: only the document model,
 * not its values (js-yaml has them, and has checked the keys), which takes a third less.
 */
function objectNodes(text: string): Positioned[] {
  const lines = new LineCounter();
  const out: Positioned[] = [];
  for (const doc of parseAllDocuments(text, { lineCounter: lines, prettyErrors: false }) as Document.Parsed[]) {
    const map = doc.contents;
    if (!isMap(map)) continue; // an empty document (the fast path took only mappings)
    const kind: unknown = map.get('kind');
    const items: unknown = map.get('items', true);
    if (!isList(kind, isSeq(items))) out.push({ node: map, lines });
    else if (isSeq(items)) for (const item of items.items) if (isMap(item)) out.push({ node: item, lines });
  }
  return out;
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
        resolve: (s: string | null) => s !== null && tests.some((t) => t.test!.test(s)),
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
  if (/^%/m.test(text)) return undefined;
  // Where the two spell a value differently: a mapping or list as a key (`? {a: 1}`, `[a, b]: 1`), and a
  // tag (js-yaml reads `!` alone as null, the yaml library as an empty string).
  if (/(^|[\s,[{])\?\s|[\]}]\s*:(\s|$)|(^|[\s,[{:-])!/m.test(text)) return undefined;
  let docs: unknown[];
  let diverges = false;
  // The listener costs a call per node: only where the text may need it.
  const listener = MAY_DIVERGE.test(text) ? divergenceListener(() => (diverges = true)) : undefined;
  try {
    docs = loadAll(text, null, { schema: CORE_SCHEMA_LIKE_YAML, ...(listener && { listener }) });
  } catch {
    return undefined;
  }
  if (diverges) return undefined;
  // js-yaml takes a `---` line inside a quoted string as part of it; the yaml library (and the spec) as an error.
  if (docs.length < (text.match(/^---(\s|$)/gm) ?? []).length) return undefined;
  const out: JsonObject[] = [];
  for (const doc of docs) {
    if (doc === null || doc === undefined) continue;
    if (typeof doc !== 'object' || Array.isArray(doc) || !plainTree(doc)) return undefined;
    for (const [v] of objectsOf(doc as JsonObject, undefined, () => undefined)) out.push(v);
  }
  return out;
}

/**
 * Where js-yaml and the yaml library may part (see divergenceListener): a collection, anchor, tag or alias
 * after `{` or `,` (a key of a flow mapping, or an entry of a flow sequence), or a `#` right after a quote
 * or bracket. The YAML `oc` writes has neither (JSON has the first, and pays for the listener).
 */
const MAY_DIVERGE = /[{,]\s*[[{&!*]|['"\]}]#/;

const HASH = 0x23;
const COLON = 0x3a;
const OPEN_BRACE = 0x7b;
/** The first characters of a node that is (or may be) a collection, an anchored or tagged node, or an alias. */
const COLLECTION_OR_PROPERTY = new Set([0x5b, OPEN_BRACE, 0x26, 0x21, 0x2a]); // [ { & ! *
const CLOSING = new Set([0x27, 0x22, 0x5d, 0x7d]); // ' " ] }
const isBlank = (c: number) => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
const isFlowIndicator = (c: number) => c === 0x2c || c === 0x5b || c === 0x5d || c === OPEN_BRACE || c === 0x7d;

/** Where a node's content starts at or after `p`: past blanks, comments and an anchor (`&name`). */
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

/**
 * A js-yaml parse listener that calls `found` where js-yaml reads text the yaml library reads otherwise:
 * - a comment glued to a closing quote or bracket (`v: ''#`, `[a]#c`): the spec wants white space before
 *   `#`; the yaml library refuses it, js-yaml takes the rest of the line as a comment;
 * - a collection (or an anchored, tagged or aliased node) as a key of a flow mapping without `:` (`{[a]}`,
 *   `{[a], b: c}`): the yaml library keys it by its YAML text ("[ a ]"), js-yaml by JavaScript's (`a`).
 * A node opens at its first character in a flow collection (js-yaml skips the separation first), so a
 * node of a flow mapping not preceded by `:` is a key. js-yaml opens a block-context node twice at the
 * same place (the node, then the same text tried as a block mapping's key): that is not a child.
 */
function divergenceListener(found: () => void): (event: EventType, state: State) => void {
  const starts: number[] = []; // where the content of every open node starts, innermost last
  return (event, state) => {
    const s = state.input;
    const p = state.position;
    if (event === 'close') {
      starts.pop();
      if (s.charCodeAt(p) === HASH && CLOSING.has(s.charCodeAt(p - 1))) found();
      return;
    }
    const start = contentStart(s, p);
    const parent = starts.length ? starts[starts.length - 1] : -1;
    if (parent >= 0 && parent !== start && s.charCodeAt(parent) === OPEN_BRACE && COLLECTION_OR_PROPERTY.has(s.charCodeAt(start))) {
      let q = p - 1;
      while (q >= 0 && isBlank(s.charCodeAt(q))) q--;
      if (s.charCodeAt(q) !== COLON) found();
    }
    starts.push(start);
  };
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
