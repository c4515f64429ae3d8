/**
 * meshfed's Argo CD health checks, executed: every case in test/fixtures/health/cases.yaml goes through
 * the Lua check of its kind in a real Lua interpreter (fengari: Lua 5.3 in JavaScript, from npm; Argo CD
 * runs gopher-lua, Lua 5.1 — the checks use only what both have), with Argo CD's convention: the object
 * is the global `obj` (a table, as Argo CD converts it), the script returns `{status, message}`.
 */
import * as fs from 'fs';
import * as path from 'path';

import { lauxlib, lua, lualib, to_jsstring, to_luastring } from 'fengari';
import { parse } from 'yaml';

import { fluxHealthCheckExprs, HEALTH_CHECKS } from '../lib/constructs/health-checks';

interface Case {
  name: string;
  kind: string;
  status: 'Healthy' | 'Progressing' | 'Degraded';
  object: Record<string, unknown>;
}

const cases = parse(fs.readFileSync(path.join(__dirname, 'fixtures', 'health', 'cases.yaml'), 'utf8')) as Case[];
/** A JSON value as a Lua literal (tables for objects and arrays, 1-based). */
function luaLiteral(v: unknown): string {
  if (v === null || v === undefined) return 'nil';
  if (Array.isArray(v)) return `{ ${v.map(luaLiteral).join(', ')} }`;
  if (typeof v === 'object')
    return `{ ${Object.entries(v)
      .map(([k, x]) => `[${JSON.stringify(k)}] = ${luaLiteral(x)}`)
      .join(', ')} }`;
  return typeof v === 'string' ? JSON.stringify(v) : String(v);
}

function health(kind: string, obj: Record<string, unknown>): { status: string; message: string } {
  const check = HEALTH_CHECKS.find((h) => h.kind === kind);
  if (!check) throw new Error(`no health check for ${kind}`);
  const L = lauxlib.luaL_newstate();
  lualib.luaL_openlibs(L);
  const code = `obj = ${luaLiteral(obj)}\n${check.lua}`;
  if (lauxlib.luaL_loadstring(L, to_luastring(code)) !== lua.LUA_OK || lua.lua_pcall(L, 0, 1, 0) !== lua.LUA_OK) {
    throw new Error(`Lua error in the ${kind} check: ${to_jsstring(lua.lua_tostring(L, -1))}`);
  }
  const field = (name: string) => {
    lua.lua_getfield(L, -1, to_luastring(name));
    const value = lua.lua_isstring(L, -1) ? to_jsstring(lua.lua_tostring(L, -1)) : '';
    lua.lua_pop(L, 1);
    return value;
  };
  return { status: field('status'), message: field('message') };
}

test('every shipped check has cases, Healthy and not', () => {
  for (const h of HEALTH_CHECKS) {
    const mine = cases.filter((c) => c.kind === h.kind).map((c) => c.status);
    expect({ kind: h.kind, healthy: mine.includes('Healthy'), other: mine.some((s) => s !== 'Healthy') }).toEqual({
      kind: h.kind,
      healthy: true,
      other: true,
    });
  }
});

test.each(cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
  expect(health(c.kind, c.object).status).toBe(c.status);
});

test('Flux healthCheckExprs: one entry per group/kind (kustomize-controller ≥ 1.8 refuses duplicates)', () => {
  const keys = fluxHealthCheckExprs().map((e) => `${e.apiVersion.split('/')[0]}/${e.kind}`);
  expect(new Set(keys).size).toBe(keys.length);
  expect(keys).toContain('gateway.networking.k8s.io/Gateway');
});
