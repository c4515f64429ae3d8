import { LabelSelector, NameMapping } from '../load/inventory-types';
import { selectorMatches } from '../netpol';

/** Maistra's wildcard: only "" and "*" match anything; no globs or prefixes. */
export function isWildcard(s: string): boolean {
  return s === '' || s === '*';
}

export interface ServiceName {
  readonly name: string;
  readonly namespace: string;
}

/** Does a NameSelector match (namespace, name)? */
export function nameMatches(m: NameMapping, svc: ServiceName): boolean {
  return (isWildcard(m.namespace) || m.namespace === svc.namespace) && (isWildcard(m.name) || m.name === svc.name);
}

/**
 * Apply a mapping's alias. The alias is absent when nil or when both fields are wildcards; each
 * wildcard alias field keeps the original value, any other value replaces it.
 */
export function applyAlias(m: NameMapping, svc: ServiceName): ServiceName {
  const a = m.alias;
  if (!a || (isWildcard(a.namespace) && isWildcard(a.name))) return svc;
  return {
    namespace: isWildcard(a.namespace) ? svc.namespace : a.namespace,
    name: isWildcard(a.name) ? svc.name : a.name,
  };
}

/** Result of compiling a label selector: a matcher, or why Kubernetes would refuse it. */
export type CompiledSelector = { ok: true; matches: (labels: Record<string, string>) => boolean } | { ok: false; reason: string };

/** metav1.LabelSelectorAsSelector semantics: matchLabels AND every expression; empty selects everything. */
export function compileLabelSelector(sel: LabelSelector): CompiledSelector {
  for (const e of sel.matchExpressions) {
    switch (e.operator) {
      case 'In':
      case 'NotIn':
        if (e.values.length === 0) return { ok: false, reason: `operator ${e.operator} on key "${e.key}" needs at least one value` };
        break;
      case 'Exists':
      case 'DoesNotExist':
        if (e.values.length > 0) return { ok: false, reason: `operator ${e.operator} on key "${e.key}" takes no values` };
        break;
      default:
        return { ok: false, reason: `unknown operator "${e.operator}" on key "${e.key}"` };
    }
  }
  // Evaluated by the one matcher every layer shares (lib/netpol.ts), once the selector is known to be valid.
  return { ok: true, matches: (labels) => selectorMatches(sel, labels) };
}

/** Does a Kubernetes Service-style selector (map equality) select these labels? Empty selects nothing. */
export function selectorSelects(selector: Record<string, string>, labels: Record<string, string>): boolean {
  const entries = Object.entries(selector);
  return entries.length > 0 && entries.every(([k, v]) => labels[k] === v);
}
