/**
 * The part of fengari's (Lua 5.3 in JavaScript) C-style API the twin's health checks and the health tests use;
 * the package ships no types. Strings crossing the boundary are Lua strings (`Uint8Array`, see to_luastring).
 */
declare module 'fengari' {
  type LuaState = unknown;
  type LuaString = Uint8Array;
  type JsFunction = (L: LuaState) => number;
  export const lua: {
    LUA_OK: number;
    LUA_MULTRET: number;
    LUA_MASKCOUNT: number;
    LUA_TNONE: number;
    LUA_TNIL: number;
    LUA_TBOOLEAN: number;
    LUA_TNUMBER: number;
    LUA_TSTRING: number;
    LUA_TTABLE: number;
    lua_pcall(L: LuaState, nargs: number, nresults: number, msgh: number): number;
    lua_getfield(L: LuaState, index: number, key: LuaString): number;
    lua_setfield(L: LuaState, index: number, key: LuaString): void;
    lua_getglobal(L: LuaState, name: LuaString): number;
    lua_setglobal(L: LuaState, name: LuaString): void;
    lua_isstring(L: LuaState, index: number): boolean;
    lua_isinteger(L: LuaState, index: number): boolean;
    lua_tostring(L: LuaState, index: number): LuaString;
    lua_tonumber(L: LuaState, index: number): number;
    lua_toboolean(L: LuaState, index: number): boolean;
    lua_topointer(L: LuaState, index: number): unknown;
    lua_typename(L: LuaState, type: number): LuaString;
    lua_type(L: LuaState, index: number): number;
    lua_gettop(L: LuaState): number;
    lua_settop(L: LuaState, index: number): void;
    lua_pop(L: LuaState, n: number): void;
    lua_next(L: LuaState, index: number): number;
    lua_pushnil(L: LuaState): void;
    lua_pushboolean(L: LuaState, b: boolean): void;
    lua_pushinteger(L: LuaState, n: number): void;
    lua_pushnumber(L: LuaState, n: number): void;
    lua_pushstring(L: LuaState, s: LuaString): void;
    lua_pushvalue(L: LuaState, index: number): void;
    lua_pushjsfunction(L: LuaState, f: JsFunction): void;
    lua_createtable(L: LuaState, narr: number, nrec: number): void;
    lua_rawseti(L: LuaState, index: number, i: number): void;
    lua_sethook(L: LuaState, f: ((L: LuaState, ar: unknown) => void) | null, mask: number, count: number): void;
  };
  export const lauxlib: {
    luaL_newstate(): LuaState;
    luaL_loadstring(L: LuaState, code: LuaString): number;
    luaL_loadbuffer(L: LuaState, code: LuaString, size: number | null, chunkname: LuaString): number;
    luaL_requiref(L: LuaState, modname: LuaString, openf: JsFunction, glb: boolean): void;
    luaL_error(L: LuaState, fmt: LuaString, ...args: unknown[]): number;
  };
  export const lualib: {
    luaL_openlibs(L: LuaState): void;
    luaopen_base: JsFunction;
    luaopen_package: JsFunction;
    luaopen_table: JsFunction;
  };
  export function to_luastring(s: string): LuaString;
  export function to_jsstring(b: LuaString): string;
}
