/** The part of fengari's (Lua 5.3 in JavaScript) C-style API the health tests use; the package ships no types. */
declare module 'fengari' {
  type LuaState = unknown;
  export const lua: {
    LUA_OK: number;
    lua_pcall(L: LuaState, nargs: number, nresults: number, msgh: number): number;
    lua_getfield(L: LuaState, index: number, key: Uint8Array): number;
    lua_isstring(L: LuaState, index: number): boolean;
    lua_tostring(L: LuaState, index: number): Uint8Array;
    lua_pop(L: LuaState, n: number): void;
  };
  export const lauxlib: {
    luaL_newstate(): LuaState;
    luaL_loadstring(L: LuaState, code: Uint8Array): number;
  };
  export const lualib: { luaL_openlibs(L: LuaState): void };
  export function to_luastring(s: string): Uint8Array;
  export function to_jsstring(b: Uint8Array): string;
}
