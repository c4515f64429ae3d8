/**
 * Ordering for everything meshfed writes. Strings compare by UTF-16 code unit, never by locale:
 * `localeCompare` depends on the machine's LANG (in Danish "aa" sorts after "z"), and dist/ must be
 * byte-identical wherever it is rendered. ESLint bans `localeCompare` (eslint.config.mjs).
 */

/** -1, 0 or 1: `a` before, equal to, or after `b` in code-unit order. */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A comparator on one or more string keys: the first key that differs decides. */
export function byKey<T>(...keys: ((item: T) => string)[]): (a: T, b: T) => number {
  return (a, b) => {
    for (const key of keys) {
      const c = compareStrings(key(a), key(b));
      if (c !== 0) return c;
    }
    return 0;
  };
}
