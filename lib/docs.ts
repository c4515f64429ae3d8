/**
 * Generated documentation: the rules table in docs/rules.md (from lib/rules.ts), the settings
 * table and the by-hand dump commands in docs/input.md (from schema/cluster-settings.schema.json and
 * lib/load/kinds.ts) and the SMCP mapping table in
 * docs/control-plane.md (from lib/plan/smcp-settings.ts), each between BEGIN/END markers.
 * `npm run docs` rewrites them; test/rules.test.ts fails when one is stale.
 */
import { DUMPS, dumpCommand, ROOT_CERT_GET } from './load/kinds';
import { SETTING_RULES } from './plan/smcp-settings';
import { RULE_IDS, RULES } from './rules';
import * as schema from '../schema/cluster-settings.schema.json';

export interface GeneratedBlock {
  readonly file: string;
  readonly name: string;
  readonly content: string;
}

function anchor(id: string): string {
  return `[${id}](#${id.toLowerCase()})`;
}

/** The table at the top of docs/rules.md. */
export function rulesTable(): string {
  const rows = RULE_IDS.map((id) => {
    const r = RULES[id];
    // Rules reported only while the input is read (warnings of load, model and plan), not by a check function.
    const input = 'input' in r ? ' *(input)*' : '';
    return `| ${anchor(id)} | ${r.severities.join(' / ')} | ${r.title}${input} | ${r.summary} |`;
  });
  return ['| id | severity | rule | what it reports |', '| --- | --- | --- | --- |', ...rows].join('\n');
}

interface SchemaNode {
  readonly description?: string;
  readonly default?: unknown;
  readonly type?: string | string[];
  readonly enum?: unknown[];
  readonly properties?: Record<string, SchemaNode>;
  readonly items?: SchemaNode;
  readonly required?: string[];
}

/** A default the model derives from other input (the SMCP namespace…), stated in the description. */
export const DEFAULT_TEXT = /(?:^|\s)Default: ([^]*?)\.(?=\s|$)/;

/**
 * The default a row shows: the schema's `default` keyword, which lib/load/settings.ts `withDefaults` applies
 * (an empty list reads "none"; a field required in its object takes the value of the object's default), or the
 * `Default: …` text of a default the model derives. An object's `{}` only means "absent is empty": its fields'
 * rows say what that gives.
 */
function defaultOf(node: SchemaNode, inParent: unknown): { text: string; stated?: string } | undefined {
  const m = node.description ? DEFAULT_TEXT.exec(node.description) : null;
  if (m) return { text: m[1], stated: m[0] };
  const d = node.default ?? inParent;
  if (Array.isArray(d) && d.length === 0) return { text: 'none' };
  if (typeof d === 'string' || typeof d === 'boolean' || typeof d === 'number') return { text: String(d) };
  return undefined;
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\s+/g, ' ').trim();
}

/** One row per documented setting under spec: field, default, meaning (the schema's description). */
export function settingsTable(): string {
  const rows: string[] = [];
  const walk = (node: SchemaNode, path: string, required: boolean) => {
    for (const [key, child] of Object.entries(node.properties ?? {})) {
      const field = `${path}.${key}`;
      const isRequired = (node.required ?? []).includes(key) && required;
      if (child.description) {
        const parentDefault = node.default as Record<string, unknown> | undefined;
        const d = defaultOf(child, parentDefault?.[key]);
        const def = isRequired ? 'required' : (d?.text ?? '—');
        const meaning = d?.stated ? child.description.replace(d.stated, '') : child.description;
        rows.push(`| \`${field}\` | ${cell(def)} | ${cell(meaning)} |`);
      }
      if (child.properties) walk(child, field, isRequired);
    }
  };
  walk((schema as unknown as SchemaNode).properties!.spec, 'spec', true);
  return ['| field | default | meaning |', '| --- | --- | --- |', ...rows].join('\n');
}

/** The SMCP → OSSM 3 table in docs/control-plane.md, one row per rule of lib/plan/smcp-settings.ts. */
export function mappingTable(): string {
  const target = (t?: string) =>
    t
      ? t
          .split(', ')
          .map((x) => `\`${x}\``)
          .join(', ')
      : '—';
  const rows = SETTING_RULES.map((r) => `| \`spec.${r.path}\` | ${r.fate} | ${cell(target(r.target))} | ${cell(r.why)} |`);
  return ['| SMCP setting | fate | OSSM 3 (`Istio.spec.values…` when carried) | why |', '| --- | --- | --- | --- |', ...rows].join('\n');
}

/**
 * The by-hand `oc get` commands in docs/input.md: the dumps `meshfed collect` runs (lib/load/kinds.ts),
 * the same lines with `oc` for its `k` wrapper, each with what meshfed reads from it.
 */
export function collectCommands(): string {
  const lines = DUMPS.flatMap((d) => [`# ${d.why}`, dumpCommand(d, 'oc').replace(/; do (.*); done$/, '; do\n  $1\ndone')]);
  return [
    '```sh',
    'D=clusters/<cluster>/ossm2; mkdir -p "$D"',
    'CP=istio-system               # the SMCP namespace',
    "MEMBERS='bookinfo payments'   # the member namespaces (the SMMR's status.configuredMembers, the ServiceMeshMembers')",
    ...lines,
    "# the mesh's public root",
    `oc ${ROOT_CERT_GET} > clusters/<cluster>/root-cert.pem`,
    '```',
  ].join('\n');
}

export function generatedBlocks(): GeneratedBlock[] {
  return [
    { file: 'docs/rules.md', name: 'rules table', content: rulesTable() },
    { file: 'docs/input.md', name: 'settings table', content: settingsTable() },
    { file: 'docs/input.md', name: 'collect commands', content: collectCommands() },
    { file: 'docs/control-plane.md', name: 'mapping table', content: mappingTable() },
  ];
}

/** `text` with the block between its markers replaced; throws when the markers are missing. */
export function withBlock(text: string, block: GeneratedBlock): string {
  const begin = new RegExp(`<!-- BEGIN ${block.name}[^>]*-->\\n`);
  const end = `<!-- END ${block.name} -->`;
  const b = begin.exec(text);
  const e = text.indexOf(end);
  if (!b || e < 0) throw new Error(`${block.file} has no <!-- BEGIN ${block.name} --> … <!-- END ${block.name} --> markers`);
  return text.slice(0, b.index + b[0].length) + block.content + '\n' + text.slice(e);
}
