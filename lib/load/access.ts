import { Diagnostics } from '../diagnostics';
import { Json, JsonObject } from '../json';
import type { RuleId } from '../rules';
import { SourceObject } from './yaml-source';

/**
 * Typed reads of fields of a dumped object. A field of the wrong type is an input error that names the
 * file, object, field and line; a missing optional field returns the default.
 */
export class FieldReader {
  constructor(
    public readonly src: SourceObject,
    private readonly diags: Diagnostics,
  ) {}

  raw(path: readonly (string | number)[]): Json | undefined {
    let v: Json | undefined = this.src.value;
    for (const seg of path) {
      if (v === null || v === undefined || typeof v !== 'object') return undefined;
      v = Array.isArray(v) ? (typeof seg === 'number' ? v[seg] : undefined) : (v as JsonObject)[seg as string];
    }
    return v;
  }

  private scalar<T>(path: readonly (string | number)[], type: 'string' | 'boolean' | 'number', expected: string): T | undefined {
    const v = this.raw(path);
    if (v === undefined || v === null) return undefined;
    if (typeof v !== type) {
      this.diags.error(this.src.at(path), `expected ${expected}, found ${typeName(v)}.`);
      return undefined;
    }
    return v as T;
  }

  string(path: readonly (string | number)[]): string | undefined {
    return this.scalar<string>(path, 'string', 'a string');
  }

  bool(path: readonly (string | number)[]): boolean | undefined {
    return this.scalar<boolean>(path, 'boolean', 'true or false');
  }

  number(path: readonly (string | number)[]): number | undefined {
    return this.scalar<number>(path, 'number', 'a number');
  }

  object(path: readonly (string | number)[]): JsonObject | undefined {
    const v = this.raw(path);
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'object' || Array.isArray(v)) {
      this.diags.error(this.src.at(path), `expected a mapping, found ${typeName(v)}.`);
      return undefined;
    }
    return v;
  }

  array(path: readonly (string | number)[]): Json[] {
    const v = this.raw(path);
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) {
      this.diags.error(this.src.at(path), `expected a list, found ${typeName(v)}.`);
      return [];
    }
    return v;
  }

  stringMap(path: readonly (string | number)[]): Record<string, string> {
    const m = this.object(path) ?? {};
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(m)) {
      if (typeof v === 'string') out[k] = v;
      else if (typeof v === 'number' || typeof v === 'boolean') out[k] = String(v);
      else this.diags.error(this.src.at([...path, k]), `expected a string value, found ${typeName(v)}.`);
    }
    return out;
  }

  error(path: readonly (string | number)[], message: string, hint?: string): void {
    this.diags.error(this.src.at(path), message, hint);
  }

  warn(rule: RuleId, path: readonly (string | number)[], message: string, hint?: string): void {
    this.diags.warn(rule, this.src.at(path), message, hint);
  }
}

function typeName(v: Json): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return `${typeof v} ${JSON.stringify(v)}`;
}
