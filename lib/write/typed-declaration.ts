/**
 * A greenfield federation's declaration as a cdk8s app in TypeScript (`meshfed graduate --format ts`): a Mesh per
 * cluster, its MeshPeers, ExportedServiceSets and ImportedServiceSets (lib/federation/mesh.ts), whose render is
 * the render of the same YAML declarations. The inventory stays YAML, in the folder the Mesh names; so does the
 * root certificate. Printed as prettier prints it (printWidth 140, single quotes, trailing commas), so the file is
 * what `prettier --check` accepts; deterministic.
 */
import { Json, JsonObject } from '../json';
import { compareStrings } from '../sort';

/** One cluster of a greenfield declaration, as its folder holds it. */
export interface GreenfieldCluster {
  /** The ClusterSettings object (cluster.yaml), spec.mode greenfield. */
  readonly settings: JsonObject;
  /** The ServiceMeshControlPlane record (control-plane.yaml). */
  readonly controlPlane?: JsonObject;
  /** ServiceMeshPeers, ExportedServiceSets and ImportedServiceSets, in order. */
  readonly federation: readonly JsonObject[];
  /** Whether <cluster>/inventory/ is written beside the app. */
  readonly inventory: boolean;
}

const WIDTH = 140;
const PAD = (n: number) => '  '.repeat(n);
const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
/** Names the app file binds itself; a mesh or peer variable must not take one. */
const RESERVED = new Set(['app', 'fed', 'path', 'process', 'require', 'module', 'exports', 'new', 'delete', 'default', 'import', 'export']);

/** A string literal as prettier prints it: single quotes unless the text holds more of them than double quotes. */
function str(s: string): string {
  const singles = (s.match(/'/g) ?? []).length;
  const doubles = (s.match(/"/g) ?? []).length;
  const q = singles > doubles ? '"' : "'";
  let out = '';
  for (const ch of s) {
    if (ch === '\\') out += '\\\\';
    else if (ch === q) out += `\\${q}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (ch < ' ' || ch === '\u2028' || ch === '\u2029') out += `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`;
    else out += ch;
  }
  return `${q}${out}${q}`;
}

function key(k: string): string {
  return IDENTIFIER.test(k) ? k : str(k);
}

function isObject(v: Json | undefined): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The value on one line. */
function flat(v: Json): string {
  if (Array.isArray(v)) return v.length ? `[${v.map(flat).join(', ')}]` : '[]';
  if (isObject(v)) {
    const e = Object.entries(v);
    return e.length ? `{ ${e.map(([k, x]) => `${key(k)}: ${flat(x)}`).join(', ')} }` : '{}';
  }
  return typeof v === 'string' ? str(v) : JSON.stringify(v);
}

/** prettier breaks an array of two or more objects (arrays) of more than one entry each, even when it fits. */
function breaksAnyway(v: Json[]): boolean {
  return v.length > 1 && (v.every((x) => isObject(x) && Object.keys(x).length > 1) || v.every((x) => Array.isArray(x) && x.length > 1));
}

/** Whether the value holds an array prettier breaks anyway: a hard break, which breaks every object and array around it. */
function breaks(v: Json): boolean {
  if (Array.isArray(v)) return breaksAnyway(v) || v.some(breaks);
  return isObject(v) && Object.values(v).some(breaks);
}

/**
 * The value starting at column `col` of a line indented `ind` levels, `tail` characters after it on its last line
 * (a comma): on one line when it fits, else broken over lines as prettier breaks it.
 */
function print(v: Json, ind: number, col: number, tail: number): string {
  const one = flat(v);
  if (Array.isArray(v)) {
    if (!v.length || (!breaks(v) && col + one.length + tail <= WIDTH)) return one;
    return `[\n${v.map((x) => `${PAD(ind + 1)}${print(x, ind + 1, (ind + 1) * 2, 1)},\n`).join('')}${PAD(ind)}]`;
  }
  if (isObject(v)) {
    const entries = Object.entries(v);
    if (!entries.length || (!breaks(v) && col + one.length + tail <= WIDTH)) return one;
    const lines = entries.map(([k, x]) => {
      const head = `${PAD(ind + 1)}${key(k)}: `;
      return `${head}${print(x, ind + 1, head.length, 1)},\n`;
    });
    return `{\n${lines.join('')}${PAD(ind)}}`;
  }
  return one;
}

/** A TypeScript expression printed as is (a call, a name), for props that are not data. */
class Code {
  constructor(readonly text: string) {}
}

type Prop = [string, Json | Code];

/** An object literal of props, broken over lines (what follows it on its last line: `tail`). */
function props(entries: Prop[], ind: number): string {
  const lines = entries.map(([k, x]) => {
    const head = `${PAD(ind + 1)}${key(k)}: `;
    return `${head}${x instanceof Code ? x.text : print(x, ind + 1, head.length, 1)},\n`;
  });
  return `{\n${lines.join('')}${PAD(ind)}}`;
}

/** `new Kind(scope, 'id', { … });`, bound to `name` when given. */
function statement(name: string | undefined, kind: string, scope: string, id: string, entries: Prop[]): string {
  const head = `${name ? `const ${name} = ` : ''}new ${kind}(${scope}, ${str(id)}`;
  if (!entries.length) return `${head});\n`;
  return `${head}, ${props(entries, 0)});\n`;
}

function camel(name: string): string {
  const parts = name.split(/[^A-Za-z0-9]+/).filter(Boolean);
  const s = parts.map((p, i) => (i === 0 ? p.charAt(0).toLowerCase() + p.slice(1) : p.charAt(0).toUpperCase() + p.slice(1))).join('');
  return /^[0-9]/.test(s) || !s ? `mesh${s.charAt(0).toUpperCase()}${s.slice(1)}` : s;
}

/** A variable name for `name`, not yet taken. */
function variable(name: string, suffix: string, taken: Set<string>): string {
  let v = camel(name);
  if (RESERVED.has(v) || taken.has(v)) v = `${v}${suffix}`;
  for (let i = 2; taken.has(v); i++) v = `${camel(name)}${suffix}${i}`;
  taken.add(v);
  return v;
}

function metadataOf(o: JsonObject): JsonObject {
  return isObject(o.metadata) ? o.metadata : {};
}

function specOf(o: JsonObject): JsonObject {
  return isObject(o.spec) ? o.spec : {};
}

/** The fields of each federation kind's spec the typed props declare (the Maistra CRDs' spec fields). */
const SPEC_FIELDS: Record<string, readonly string[]> = {
  ServiceMeshPeer: ['remote', 'gateways', 'security'],
  ExportedServiceSet: ['exportRules'],
  ImportedServiceSet: ['importRules', 'domainSuffix', 'locality'],
};
const CONSTRUCT: Record<string, string> = {
  ServiceMeshPeer: 'MeshPeer',
  ExportedServiceSet: 'ExportedServiceSet',
  ImportedServiceSet: 'ImportedServiceSet',
};

/**
 * The props of a federation object: its metadata (`namespace` when not the mesh's, `name` when not the id, labels,
 * annotations) and its spec. A field the typed props do not declare is refused, never dropped.
 */
function objectProps(o: JsonObject, at: string, defaults: { name: string; namespace: string | undefined }): Prop[] {
  const meta = metadataOf(o);
  const unknown = Object.keys(meta).filter((k) => !['name', 'namespace', 'labels', 'annotations'].includes(k));
  const spec = specOf(o);
  unknown.push(
    ...Object.keys(spec)
      .filter((k) => !SPEC_FIELDS[String(o.kind)].includes(k))
      .map((k) => `spec.${k}`),
  );
  if (unknown.length)
    throw new Error(`${at}: ${String(o.kind)} ${String(meta.name)} has ${unknown.join(', ')}, which the typed constructs do not declare.`);
  const m: JsonObject = {};
  if (meta.name !== defaults.name) m.name = meta.name;
  if (meta.namespace !== undefined && meta.namespace !== defaults.namespace) m.namespace = meta.namespace;
  if (meta.labels !== undefined) m.labels = meta.labels;
  if (meta.annotations !== undefined) m.annotations = meta.annotations;
  return [...(Object.keys(m).length ? [['metadata', m] as Prop] : []), ...Object.entries(spec)];
}

/** One Mesh and its peers and export and import sets; `used`: the constructs it names, `taken`: the variables bound. */
function meshBlock(name: string, c: GreenfieldCluster, used: Set<string>, taken: Set<string>): string {
  const spec = { ...specOf(c.settings) };
  delete spec.mode;
  delete spec.phase;
  const ns = isObject(spec.ossm3) && typeof spec.ossm3.namespace === 'string' ? spec.ossm3.namespace : 'istio-system';
  const mesh = variable(name, 'Mesh', taken);
  const here = (...parts: string[]) => new Code(`path.join(__dirname, ${[name, ...parts].map(str).join(', ')})`);
  const entries: Prop[] = [['settings', spec]];
  if (c.controlPlane) {
    const meta = metadataOf(c.controlPlane);
    entries.push(['controlPlane', { name: meta.name ?? '', namespace: meta.namespace ?? '', spec: specOf(c.controlPlane) }]);
  }
  entries.push(['rootCert', here('root-cert.pem')]);
  if (c.inventory) entries.push(['inventory', here('inventory')]);
  let block = statement(mesh, 'Mesh', 'fed', name, entries);
  const peers = c.federation.filter((o) => o.kind === 'ServiceMeshPeer');
  const sets = c.federation.filter((o) => o.kind !== 'ServiceMeshPeer');
  const nsOf = (o: JsonObject) => (metadataOf(o).namespace as string | undefined) ?? ns;
  const peerOf = (s: JsonObject) => peers.find((p) => metadataOf(p).name === metadataOf(s).name && nsOf(p) === nsOf(s));
  const at = `${name}/federation`;
  for (const p of peers) {
    const pname = String(metadataOf(p).name);
    const own = sets.filter((s) => peerOf(s) === p);
    const pvar = own.length ? variable(`${name}-${pname}`, 'Peer', taken) : undefined;
    used.add('MeshPeer');
    block += statement(pvar, 'MeshPeer', mesh, pname, objectProps(p, at, { name: pname, namespace: ns }));
    for (const s of own) {
      const kind = CONSTRUCT[String(s.kind)];
      used.add(kind);
      const id = s.kind === 'ExportedServiceSet' ? 'exports' : 'imports';
      block += statement(undefined, kind, pvar!, id, objectProps(s, at, { name: pname, namespace: nsOf(p) }));
    }
  }
  // A set no peer of its name declares: under the Mesh, named.
  for (const s of sets.filter((x) => !peerOf(x))) {
    const kind = CONSTRUCT[String(s.kind)];
    used.add(kind);
    const id = `${String(metadataOf(s).name)}-${s.kind === 'ExportedServiceSet' ? 'exports' : 'imports'}`;
    block += statement(undefined, kind, mesh, id, objectProps(s, at, { name: id, namespace: ns }));
  }
  return block;
}

const HEADER = `/**
 * The federation's end state declared in code, written by meshfed graduate: yours to edit from now on (docs/gitops.md,
 * "After 07-finalize"). \`cdk8s synth\` (or \`npx tsx main.ts\`) renders it into dist/ as \`meshfed synth\` renders the
 * same declarations in YAML; each Mesh's inventory folder and root certificate are read as they are.
 */
`;

/** The app: one Mesh per cluster (sorted by name) with its peers and export and import sets. `gitops`: gitops.yaml is beside it. */
export function typedDeclaration(clusters: ReadonlyMap<string, GreenfieldCluster>, opts: { gitops: boolean }): string {
  const used = new Set<string>(['Federation', 'Mesh']);
  const taken = new Set<string>();
  const blocks: string[] = [];
  for (const name of [...clusters.keys()].sort(compareStrings)) blocks.push(meshBlock(name, clusters.get(name)!, used, taken));
  const fed: Prop[] = [['out', new Code("process.env.MESHFED_OUT ?? 'dist'")]];
  if (opts.gitops) fed.push(['gitops', new Code("path.join(__dirname, 'gitops.yaml')")]);
  const names = [...used].sort(compareStrings);
  const imports =
    `import { ${names.join(', ')} } from 'meshfed';`.length <= WIDTH
      ? `import { ${names.join(', ')} } from 'meshfed';\n`
      : `import {\n${names.map((n) => `  ${n},\n`).join('')}} from 'meshfed';\n`;
  return (
    HEADER +
    "import * as path from 'path';\n\nimport { App } from 'cdk8s';\n" +
    imports +
    "\nconst app = new App({ outdir: 'cdk8s.out' });\n" +
    statement('fed', 'Federation', 'app', 'federation', fed) +
    '\n' +
    blocks.join('\n') +
    '\napp.synth();\n'
  );
}
