/**
 * Argo CD's Lua health-check runtime, in fengari (Lua 5.3 in JavaScript) instead of gopher-lua (Lua 5.1): the
 * script, the globals it sees and the way its result becomes a health status follow
 * argo-cd@v3.4.0:util/lua/lua.go so a check behaves here as it does in the application controller.
 *
 * Known differences from gopher-lua, none of which the checks Argo CD and meshfed ship depend on:
 * - Lua 5.3 semantics (integer/float subtypes, `//`, no `setfenv`); `unpack` is aliased to `table.unpack` as 5.1 has it.
 *   fengari's integers are 32-bit, so integer arithmetic past 2^31 wraps where gopher-lua's float64 does not.
 * - Error texts come from fengari (`<string>:3: attempt to index a nil value (field 'status')`), not gopher-lua
 *   (`<string>:3: attempt to index a non-table object(nil) with key 'status'`): the status (Unknown, an error) is the same.
 * - Argo CD stops a script after 1 s of wall clock (lua.go:102-104); the twin has no wall clock and stops it after a
 *   fixed instruction budget instead (deterministic).
 * - `os.time`/`os.date` (Argo CD's safe os library, oslib_safe.go) read the wall clock; here they raise an error.
 */
import { lauxlib, lua, lualib, to_jsstring, to_luastring } from 'fengari';

import { ArgoHealth, ArgoHealthStatus } from './types';
import { Json } from '../load/yaml-source';
import { compareStrings } from '../sort';

type L = ReturnType<typeof lauxlib.luaL_newstate>;

/** Instructions a check may run before it is stopped (Argo CD: a 1 s context deadline, lua.go:102-104). */
export const LUA_INSTRUCTION_BUDGET = 5_000_000;
const HOOK_EVERY = 1000;

/** The status codes Argo CD accepts from a script (lua.go:590-596 isValidHealthStatusCode). */
const VALID: ReadonlySet<string> = new Set(['Unknown', 'Progressing', 'Suspended', 'Healthy', 'Degraded', 'Missing']);

/**
 * Run one health script on `obj` the way Argo CD's `VM.ExecuteHealthLua` does (lua.go:131-165), and turn an error into
 * what `health.GetResourceHealth` reports: status Unknown with the error as message, `error: true`
 * (gitops-engine/pkg/health/health.go:78-86).
 *
 * `openLibs`: Argo CD opens every standard library for its bundled scripts and for custom scripts whose
 * `resource.customizations.useOpenLibs.<group_kind>` is true (lua.go:169-205); otherwise only package, base, table and
 * the safe os library (lua.go:76-100) — `string.*` and `math.*` then fail.
 */
export function runLuaHealth(obj: Json, script: string, openLibs: boolean): ArgoHealth {
  const L = lauxlib.luaL_newstate();
  try {
    openLibraries(L, openLibs);
    pushJson(L, obj);
    lua.lua_setglobal(L, to_luastring('obj'));
    limitInstructions(L);
    // gopher-lua's DoString names the chunk "<string>" and keeps every returned value (yuin/gopher-lua@v1.1.1:auxlib.go:392-411).
    const code = to_luastring(script);
    if (lauxlib.luaL_loadbuffer(L, code, code.length, to_luastring('=<string>')) !== lua.LUA_OK) return failed(errorText(L));
    if (lua.lua_pcall(L, 0, lua.LUA_MULTRET, 0) !== lua.LUA_OK) return failed(errorText(L));
    return healthOf(L);
  } catch (e) {
    // A fengari-internal failure (not a Lua error) still means "the check could not be evaluated".
    return failed(e instanceof Error ? e.message : String(e));
  }
}

function failed(message: string): ArgoHealth {
  return { status: 'Unknown', message, error: true };
}

function errorText(L: L): string {
  const t = lua.lua_type(L, -1);
  if (t === lua.LUA_TSTRING || t === lua.LUA_TNUMBER) return to_jsstring(lua.lua_tostring(L, -1));
  return `(error object is a ${to_jsstring(lua.lua_typename(L, t))} value)`;
}

function openLibraries(L: L, all: boolean): void {
  if (all) lualib.luaL_openlibs(L);
  else
    for (const [name, open] of [
      ['package', lualib.luaopen_package],
      ['_G', lualib.luaopen_base],
      ['table', lualib.luaopen_table],
    ] as const) {
      lauxlib.luaL_requiref(L, to_luastring(name), open, true);
      lua.lua_pop(L, 1);
    }
  // Lua 5.1's global unpack (gopher-lua's base library has it; 5.3 moved it to table.unpack).
  lua.lua_getglobal(L, to_luastring('table'));
  lua.lua_getfield(L, -1, to_luastring('unpack'));
  lua.lua_setglobal(L, to_luastring('unpack'));
  lua.lua_pop(L, 1);
  // Argo CD replaces os with its safe subset (time, date) in both cases (lua.go:88-100, oslib_safe.go:28-31).
  lua.lua_createtable(L, 0, 2);
  for (const fn of ['time', 'date']) {
    lua.lua_pushjsfunction(L, (S) => lauxlib.luaL_error(S, to_luastring(`os.${fn}: the rehearsal twin has no wall clock`)));
    lua.lua_setfield(L, -2, to_luastring(fn));
  }
  lua.lua_setglobal(L, to_luastring('os'));
}

function limitInstructions(L: L): void {
  let ran = 0;
  lua.lua_sethook(
    L,
    (S) => {
      ran += HOOK_EVERY;
      // The message Argo CD shows when its 1 s context expires (gopher-lua returns the context's error).
      if (ran > LUA_INSTRUCTION_BUDGET) lauxlib.luaL_error(S, to_luastring('context deadline exceeded'));
    },
    lua.LUA_MASKCOUNT,
    HOOK_EVERY,
  );
}

/**
 * Argo CD's decodeValue (lua.go:601-634): maps become tables, lists become sequences (gopher-lua's `Append` drops nil
 * elements: yuin/gopher-lua@v1.1.1:table.go:66-69), numbers are numbers. Integers are pushed as Lua integers so
 * `tostring(14)` reads "14" as in gopher-lua.
 */
function pushJson(L: L, v: Json | undefined): void {
  if (v === null || v === undefined) lua.lua_pushnil(L);
  else if (typeof v === 'boolean') lua.lua_pushboolean(L, v);
  else if (typeof v === 'number') {
    // fengari's integers are 32-bit: larger integers go in as floats (gopher-lua holds every number as a float64).
    if (Number.isInteger(v) && v >= -0x80000000 && v <= 0x7fffffff) lua.lua_pushinteger(L, v);
    else lua.lua_pushnumber(L, v);
  } else if (typeof v === 'string') lua.lua_pushstring(L, to_luastring(v));
  else if (Array.isArray(v)) {
    const items = v.filter((x) => x !== null && x !== undefined);
    lua.lua_createtable(L, items.length, 0);
    items.forEach((x, i) => {
      pushJson(L, x);
      lua.lua_rawseti(L, -2, i + 1);
    });
  } else {
    const entries = Object.entries(v).filter(([, x]) => x !== null && x !== undefined);
    lua.lua_createtable(L, 0, entries.length);
    for (const [k, x] of entries) {
      pushJson(L, x);
      lua.lua_setfield(L, -2, to_luastring(k));
    }
  }
}

/**
 * The script's last returned value as a health status (lua.go:137-164): nil → an empty status; a table → JSON through
 * gopher-json, then into `{status, message}`; anything else is an error.
 */
function healthOf(L: L): ArgoHealth {
  const top = lua.lua_gettop(L);
  const t = top === 0 ? lua.LUA_TNIL : lua.lua_type(L, top);
  if (t === lua.LUA_TNIL) return EMPTY;
  if (t !== lua.LUA_TTABLE) return failed(`expect table output from Lua script, not ${to_jsstring(lua.lua_typename(L, t))}`);
  let encoded: Encoded;
  try {
    encoded = encode(L, top, new Set());
  } catch (e) {
    // encoding/json wraps the encoder's error (json.MarshalerError).
    return failed(`json: error calling MarshalJSON for type json.jsonValue: ${(e as Error).message}`);
  }
  return decodeHealth(encoded);
}

/** What Argo CD records for a script that returns nil or a table that is not an object of strings (lua.go:146-150, 161-162). */
const EMPTY: ArgoHealth = { status: '', message: '' };

/** A Lua value as gopher-json encodes it: only what decodeHealth needs (strings kept, other scalars by kind). */
type Encoded = string | { readonly scalar: 'number' | 'boolean' } | Encoded[] | { readonly object: Map<string, Encoded> };

/**
 * layeh/gopher-json@97fed8d:json.go:82-138: an empty table is `[]`; a table whose first key is a number must be the
 * sequence 1..n ("cannot encode sparse array"); one whose first key is a string must have only string keys ("cannot
 * encode mixed or invalid key types"); a table met twice anywhere in the value is refused (its visited set is never
 * cleared); functions and other types cannot be encoded.
 */
function encode(L: L, index: number, visited: Set<unknown>): Encoded {
  const t = lua.lua_type(L, index);
  if (t === lua.LUA_TSTRING) return to_jsstring(lua.lua_tostring(L, index));
  if (t === lua.LUA_TBOOLEAN) return { scalar: 'boolean' };
  if (t === lua.LUA_TNUMBER) {
    if (!Number.isFinite(lua.lua_tonumber(L, index))) throw new Error(`json: unsupported value: ${lua.lua_tonumber(L, index)}`);
    return { scalar: 'number' };
  }
  if (t !== lua.LUA_TTABLE) throw new Error(`cannot encode ${to_jsstring(lua.lua_typename(L, t))} to JSON`);
  const id = lua.lua_topointer(L, index);
  if (visited.has(id)) throw new Error('cannot encode recursively nested tables to JSON');
  visited.add(id);
  const keys: { type: number; key: string | number }[] = [];
  const values: Encoded[] = [];
  lua.lua_pushnil(L);
  while (lua.lua_next(L, index) !== 0) {
    const kt = lua.lua_type(L, -2);
    keys.push({
      type: kt,
      key: kt === lua.LUA_TSTRING ? to_jsstring(lua.lua_tostring(L, -2)) : kt === lua.LUA_TNUMBER ? lua.lua_tonumber(L, -2) : NaN,
    });
    values.push(encode(L, lua.lua_gettop(L), visited));
    lua.lua_pop(L, 1);
  }
  if (keys.length === 0) return [];
  // fengari's iteration order is not gopher-lua's; the outcome only depends on which key kinds are present.
  if (keys.every((k) => k.type === lua.LUA_TSTRING)) return { object: new Map(keys.map((k, i) => [String(k.key), values[i]])) };
  if (!keys.every((k) => k.type === lua.LUA_TNUMBER)) throw new Error('cannot encode mixed or invalid key types');
  const order = keys.map((k, i) => [Number(k.key), i] as const).sort((a, b) => a[0] - b[0]);
  if (order.some(([k], i) => k !== i + 1)) throw new Error('cannot encode sparse array');
  return order.map(([, i]) => values[i]);
}

/**
 * encoding/json into `health.HealthStatus{Status, Message}`: field names match case-insensitively, keys are decoded in
 * the sorted order json.Marshal wrote them (a later match overwrites), and any type mismatch — an array, a number where
 * a string belongs — is a json.UnmarshalTypeError, which Argo CD turns into an empty status (lua.go:144-151).
 */
function decodeHealth(e: Encoded): ArgoHealth {
  if (typeof e === 'string' || Array.isArray(e) || !('object' in e)) return EMPTY;
  let status = '';
  let message = '';
  for (const key of [...e.object.keys()].sort(compareStrings)) {
    const field = key.toLowerCase();
    if (field !== 'status' && field !== 'message') continue;
    const v = e.object.get(key)!;
    if (typeof v !== 'string') return EMPTY;
    if (field === 'status') status = v;
    else message = v;
  }
  if (!VALID.has(status)) return { status: 'Unknown', message: 'Lua returned an invalid health status' };
  return { status: status as ArgoHealthStatus, message };
}
