/**
 * AuthorizationPolicy and NetworkPolicy changes between two desired states, for the change record: per policy, the
 * sources it lets in (or, for a DENY policy, keeps out), and who gains or loses access by the move. Semantics:
 * an AuthorizationPolicy rule matches when every field of one `from` entry matches, a rule without `from` matches any
 * source, ALLOW policies on a workload deny every request none of them matches
 * (https://istio.io/latest/docs/reference/config/security/authorization-policy/); a NetworkPolicy admits what any
 * ingress rule's peers name, a rule without `from` admits everything
 * (https://kubernetes.io/docs/concepts/services-networking/network-policies/).
 */
import { compareStrings } from '../sort';
import { keyOf, Obj, refOf } from '../twin/objects';
import { RecordAccess } from '../write/report/types';
import { toYaml } from '../write/yaml';

type J = Record<string, unknown>;

function obj(v: unknown): J {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as J) : {};
}
function arr(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}
function labels(v: unknown): string {
  const m = obj(obj(v).matchLabels);
  const e = arr(obj(v).matchExpressions).map((x) =>
    [String(obj(x).key), String(obj(x).operator), arr(obj(x).values).join(',')].filter(Boolean).join(' '),
  );
  const text = [...Object.entries(m).map(([k, x]) => `${k}=${String(x)}`), ...e].sort(compareStrings).join(',');
  return text || 'all';
}

/**
 * The namespaces a selector names one by one (`kubernetes.io/metadata.name`, which the API server sets on every
 * Namespace: https://kubernetes.io/docs/reference/labels-annotations-taints/#kubernetes-io-metadata-name), so a
 * change of one namespace reads as that namespace gaining or losing access.
 */
function namespacesOf(selector: unknown): string[] | undefined {
  const m = obj(obj(selector).matchLabels);
  const e = arr(obj(selector).matchExpressions).map(obj);
  const key = 'kubernetes.io/metadata.name';
  if (Object.keys(m).length === 1 && typeof m[key] === 'string' && e.length === 0) return [m[key] as string];
  if (Object.keys(m).length === 0 && e.length === 1 && e[0].key === key && e[0].operator === 'In') return arr(e[0].values).map(String);
  return undefined;
}

/**
 * The sources one AuthorizationPolicy `from` entry matches, one string per combination: the values of one field are
 * alternatives, different fields must all match (the reference above, "Source").
 */
function sourcesOf(source: J): string[] {
  const fields: string[][] = [
    arr(source.principals).map((p) => `identity ${String(p)}`),
    arr(source.namespaces).map((n) => `namespace ${String(n)}`),
    arr(source.ipBlocks).map((b) => `ipBlock ${String(b)}`),
    arr(source.notPrincipals).length ? [`every identity but ${arr(source.notPrincipals).map(String).join(', ')}`] : [],
    arr(source.notNamespaces).length ? [`every namespace but ${arr(source.notNamespaces).map(String).join(', ')}`] : [],
  ].filter((f) => f.length);
  if (fields.length === 0) return ['any source'];
  return fields.reduce<string[]>((acc, f) => acc.flatMap((a) => f.map((x) => (a ? `${a} and ${x}` : x))), ['']);
}

/** What an AuthorizationPolicy grants (ALLOW) or refuses (DENY), one string per source. */
function authzGrants(p: Obj): { allow: Set<string>; deny: Set<string>; scope: string } {
  const spec = obj(p.spec);
  const action = String(spec.action ?? 'ALLOW');
  const set = new Set<string>();
  for (const rule of arr(spec.rules)) {
    const from = arr(obj(rule).from);
    const ops = arr(obj(rule).to).flatMap((t) => arr(obj(obj(t).operation).ports).map((x) => `port ${String(x)}`));
    const suffix = ops.length ? ` (${ops.join(', ')})` : '';
    if (from.length === 0) set.add(`any source${suffix}`);
    for (const f of from) for (const s of sourcesOf(obj(obj(f).source))) set.add(`${s}${suffix}`);
  }
  const selector = obj(spec.selector).matchLabels ? `pods ${labels(spec.selector)}` : 'every workload';
  const scope = `namespace ${refOf(p).namespace}, ${selector}${action === 'ALLOW' || action === 'DENY' ? '' : ` (${action})`}`;
  if (action === 'DENY') return { allow: new Set(), deny: set, scope };
  if (action === 'ALLOW') return { allow: set, deny: new Set(), scope };
  return { allow: new Set(), deny: new Set(), scope };
}

/** What a NetworkPolicy admits, one string per ingress peer. */
function netpolGrants(p: Obj): { allow: Set<string>; deny: Set<string>; scope: string } {
  const spec = obj(p.spec);
  const set = new Set<string>();
  for (const rule of arr(spec.ingress)) {
    const ports = arr(obj(rule).ports).map((x) => `${String(obj(x).protocol ?? 'TCP')}/${String(obj(x).port ?? 'any')}`);
    const suffix = ports.length ? ` (${ports.join(', ')})` : '';
    const from = arr(obj(rule).from);
    if (from.length === 0) set.add(`any source${suffix}`);
    for (const f of from.map(obj)) {
      if (f.ipBlock) set.add(`ipBlock ${String(obj(f.ipBlock).cidr)}${suffix}`);
      else if (f.namespaceSelector && f.podSelector)
        set.add(`pods ${labels(f.podSelector)} in namespaces ${labels(f.namespaceSelector)}${suffix}`);
      else if (f.namespaceSelector && namespacesOf(f.namespaceSelector))
        for (const n of namespacesOf(f.namespaceSelector)!) set.add(`namespace ${n}${suffix}`);
      else if (f.namespaceSelector) set.add(`namespaces ${labels(f.namespaceSelector)}${suffix}`);
      else if (f.podSelector) set.add(`pods ${labels(f.podSelector)} in namespace ${refOf(p).namespace}${suffix}`);
    }
  }
  const types = arr(spec.policyTypes).map(String);
  const scope = `namespace ${refOf(p).namespace}, pods ${labels(spec.podSelector)}${types.length ? ` (${types.join(', ')})` : ''}`;
  return { allow: set, deny: new Set(), scope };
}

const KINDS: Record<string, (p: Obj) => { allow: Set<string>; deny: Set<string>; scope: string }> = {
  AuthorizationPolicy: authzGrants,
  NetworkPolicy: netpolGrants,
};

function minus(a: Set<string>, b: Set<string>): string[] {
  return [...a].filter((x) => !b.has(x)).sort(compareStrings);
}

/** Every AuthorizationPolicy and NetworkPolicy that the move adds, removes or changes, and who gains or loses access. */
export function accessChanges(before: readonly Obj[], after: readonly Obj[]): RecordAccess[] {
  const policies = (l: readonly Obj[]) => new Map(l.filter((o) => KINDS[String(o.kind)]).map((o) => [keyOf(o), o]));
  const [a, b] = [policies(before), policies(after)];
  const out: RecordAccess[] = [];
  for (const k of [...new Set([...a.keys(), ...b.keys()])].sort(compareStrings)) {
    const [x, y] = [a.get(k), b.get(k)];
    if (x && y && toYaml(x) === toYaml(y)) continue;
    const o = (y ?? x)!;
    const grants = KINDS[String(o.kind)];
    const empty = { allow: new Set<string>(), deny: new Set<string>(), scope: '' };
    const [gx, gy] = [x ? grants(x) : empty, y ? grants(y) : empty];
    const r = refOf(o);
    const added = !x;
    const note =
      added && o.kind === 'AuthorizationPolicy' && gy.allow.size
        ? 'an ALLOW policy: on the workloads it selects, every source no ALLOW policy names loses access'
        : added && o.kind === 'NetworkPolicy'
          ? 'the pods it selects admit only what some NetworkPolicy admits'
          : !y
            ? 'its grants end unless another policy gives them'
            : undefined;
    out.push({
      policy: { kind: r.kind, apiVersion: String(o.apiVersion ?? ''), namespace: r.namespace, name: r.name },
      change: !x ? 'added' : !y ? 'removed' : 'changed',
      scope: gy.scope || gx.scope,
      gains: [...minus(gy.allow, gx.allow), ...minus(gx.deny, gy.deny).map((s) => `${s} (no longer denied)`)],
      loses: [...minus(gx.allow, gy.allow), ...minus(gy.deny, gx.deny).map((s) => `${s} (denied)`)],
      ...(note ? { note } : {}),
    });
  }
  return out;
}
