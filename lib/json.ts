/**
 * Plain JSON values and the few general helpers over them: a leaf module (it imports nothing), so every
 * layer (load parses YAML into these, plan merges and reads them, check compares them) can use it.
 */

/** A plain JSON value as parsed from YAML. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export function isObject(v: Json | undefined): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Deep merge: objects merge key by key, anything else in `over` replaces `base`. */
export function mergeJson(base: JsonObject, over: JsonObject): JsonObject {
  const out: JsonObject = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = isObject(v) && isObject(out[k]) ? mergeJson(out[k] as JsonObject, v) : v;
  return out;
}

/** The value at a dotted path (or a list of keys, which may hold dots) inside nested objects. */
export function valueAt(o: Json | undefined, path: string | readonly string[]): Json | undefined {
  let cur: Json | undefined = o;
  for (const k of typeof path === 'string' ? path.split('.') : path) cur = isObject(cur) ? cur[k] : undefined;
  return cur;
}

/** JSON-pointer (RFC 6901) escaping of a map key, for a JSON patch path. */
export function pointerKey(k: string): string {
  return k.replace(/~/g, '~0').replace(/\//g, '~1');
}
