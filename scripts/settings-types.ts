/**
 * lib/load/settings-types.ts: the TypeScript types of cluster.yaml, generated from
 * schema/cluster-settings.schema.json by json-schema-to-typescript, so a setting is declared once (the schema)
 * and the code cannot disagree with it. `npm run docs` rewrites the file; test/settings.test.ts fails when it
 * is stale. Two types come from the one schema:
 *
 * - `ClusterSettingsFile`: cluster.yaml as written, what the schema accepts;
 * - `ClusterSettingsSpec`: its spec once the schema's `default`s are filled in (lib/load/settings.ts
 *   `withDefaults`). A property with a `default` is required there, so no reader can supply a default of
 *   its own, and the default a user reads in docs/input.md is the one applied.
 */
import * as fs from 'fs';
import * as path from 'path';

import { compile, JSONSchema } from 'json-schema-to-typescript';
import { format, resolveConfig } from 'prettier';

const ROOT = path.join(__dirname, '..');
export const SETTINGS_TYPES_FILE = 'lib/load/settings-types.ts';
const SCHEMA_FILE = 'schema/cluster-settings.schema.json';

type Node = JSONSchema & { properties?: Record<string, Node>; items?: Node; oneOf?: Node[]; anyOf?: Node[] };

/** Every object node of a schema, nested properties and list items included. */
function eachNode(node: Node, fn: (n: Node) => void): void {
  fn(node);
  for (const child of Object.values(node.properties ?? {})) eachNode(child, fn);
  if (node.items && !Array.isArray(node.items)) eachNode(node.items, fn);
}

/**
 * `oneOf`/`anyOf` branches that only list required fields (argocd.destination: name or server) constrain
 * values, not the shape; json-schema-to-typescript would turn them into an index signature that accepts
 * any field. The type keeps the properties; ajv still enforces the branches.
 */
function withoutRequiredOnlyBranches(node: Node): void {
  for (const key of ['oneOf', 'anyOf'] as const) {
    const branches = node[key];
    if (branches?.every((b) => Object.keys(b).every((k) => k === 'required'))) delete node[key];
  }
}

/** Descriptions become JSDoc comments: wrapped, so the generated file keeps the line length of the code. */
function wrapDescriptions(value: unknown): void {
  if (!value || typeof value !== 'object') return;
  const node = value as Record<string, unknown>;
  if (typeof node.description === 'string') node.description = wrap(node.description, 110);
  Object.values(node).forEach(wrapDescriptions);
}

function wrap(text: string, width: number): string {
  const lines: string[] = [];
  for (const word of text.split(/\s+/)) {
    const last = lines.length - 1;
    if (last >= 0 && lines[last].length + 1 + word.length <= width) lines[last] += ` ${word}`;
    else lines.push(word);
  }
  return lines.join('\n');
}

/** A property with a `default` is always present once the defaults are filled in. */
function defaultsRequired(node: Node): void {
  const defaulted = Object.entries(node.properties ?? {})
    .filter(([, child]) => child.default !== undefined)
    .map(([key]) => key);
  if (defaulted.length) node.required = [...new Set([...((node.required as string[] | undefined) ?? []), ...defaulted])];
}

const BANNER = `/**
 * Generated from ${SCHEMA_FILE} by json-schema-to-typescript (scripts/settings-types.ts):
 * do not edit; \`npm run docs\` rewrites it. ClusterSettingsFile is cluster.yaml as written;
 * ClusterSettingsSpec its spec with the schema's defaults filled in (lib/load/settings.ts).
 */`;

/** The content of lib/load/settings-types.ts for the schema as it is now. */
export async function settingsTypes(): Promise<string> {
  const read = () => {
    const schema = JSON.parse(fs.readFileSync(path.join(ROOT, SCHEMA_FILE), 'utf8')) as Node;
    wrapDescriptions(schema);
    return schema;
  };
  const options = { bannerComment: '', additionalProperties: false, ignoreMinAndMaxItems: true, format: false };
  const file = read();
  eachNode(file, withoutRequiredOnlyBranches);
  const written = await compile({ ...file, title: 'ClusterSettingsFile' }, 'ClusterSettingsFile', options);
  const full = read();
  const spec: Node = { ...full.properties!.spec, title: 'ClusterSettingsSpec', definitions: full.definitions };
  eachNode(spec, withoutRequiredOnlyBranches);
  eachNode(spec, defaultsRequired);
  // The definitions (DnsLabel, NetworkName) are declared once, by the first type.
  const applied = await compile(spec, 'ClusterSettingsSpec', { ...options, declareExternallyReferenced: false });
  const text = `${BANNER}\n\n${written}\n${applied}`;
  const config = await resolveConfig(path.join(ROOT, SETTINGS_TYPES_FILE));
  return format(text, { ...config, parser: 'typescript' });
}
