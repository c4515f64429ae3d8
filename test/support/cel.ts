/**
 * The CEL rules (x-kubernetes-validations) of a CRD schema, evaluated as the API server does on create:
 * on the object after its schema defaults were applied, at every schema node the object has, with
 * `self` bound to that node's value (integers as CEL ints, objects as maps). Transition rules (those
 * that read `oldSelf`) need the previous object and are skipped. The evaluator is @bufbuild/cel (Buf's
 * CEL for ECMAScript, tested against the cel-spec conformance suite) with its strings extension, which
 * has the Kubernetes string functions the CRDs use (substring, split, …).
 */
import { celEnv, isCelError, parse, plan } from '@bufbuild/cel';
import { strings } from '@bufbuild/cel/ext';

interface Rule {
  readonly rule: string;
  readonly message?: string;
}

export interface SchemaNode {
  readonly type?: string;
  readonly properties?: Record<string, SchemaNode>;
  readonly additionalProperties?: SchemaNode | boolean;
  readonly items?: SchemaNode;
  readonly 'x-kubernetes-validations'?: Rule[];
  readonly 'x-kubernetes-int-or-string'?: boolean;
  readonly allOf?: SchemaNode[];
  readonly anyOf?: SchemaNode[];
  readonly oneOf?: SchemaNode[];
}

const env = celEnv({ funcs: strings });
const programs = new Map<string, ReturnType<typeof plan>>();

function program(rule: string): ReturnType<typeof plan> {
  let p = programs.get(rule);
  if (!p) {
    p = plan(env, parse(rule));
    programs.set(rule, p);
  }
  return p;
}

/** A JSON value as CEL sees it under this schema node. */
function celValue(v: unknown, schema: SchemaNode | undefined): unknown {
  if (Array.isArray(v)) return v.map((x) => celValue(x, schema?.items));
  if (v !== null && typeof v === 'object') {
    const out = new Map<string, unknown>();
    for (const [k, x] of Object.entries(v)) {
      const child = schema?.properties?.[k] ?? (typeof schema?.additionalProperties === 'object' ? schema.additionalProperties : undefined);
      out.set(k, celValue(x, child));
    }
    return out;
  }
  if (typeof v === 'number' && Number.isInteger(v) && (schema?.type === 'integer' || schema?.['x-kubernetes-int-or-string']))
    return BigInt(v);
  return v;
}

/** Every CEL rule violated by `value` (already defaulted) under `schema`, with the JSON path where it failed. */
export function celViolations(schema: SchemaNode, value: unknown, at = ''): string[] {
  if (value === undefined) return [];
  const out: string[] = [];
  for (const r of schema['x-kubernetes-validations'] ?? []) {
    if (/\boldSelf\b/.test(r.rule)) continue;
    const result = program(r.rule)({ self: celValue(value, schema) as never });
    if (isCelError(result)) out.push(`${at || '/'}: CEL rule could not be evaluated (${r.rule}): ${String(result.message)}`);
    else if (result !== true) out.push(`${at || '/'}: ${r.message ?? `failed CEL rule ${r.rule}`}`);
  }
  for (const sub of [...(schema.allOf ?? [])]) out.push(...celViolations(sub, value, at));
  if (Array.isArray(value)) {
    if (schema.items) value.forEach((x, i) => out.push(...celViolations(schema.items!, x, `${at}/${i}`)));
  } else if (value !== null && typeof value === 'object') {
    for (const [k, x] of Object.entries(value)) {
      const child = schema.properties?.[k] ?? (typeof schema.additionalProperties === 'object' ? schema.additionalProperties : undefined);
      if (child) out.push(...celViolations(child, x, `${at}/${k}`));
    }
  }
  return out;
}
