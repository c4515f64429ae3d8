import { Diagnostics } from '../diagnostics';
import { applyAlias, CompiledSelector, compileLabelSelector, isWildcard, nameMatches, ServiceName } from './match';
import { Export, LocalService, PeerLink } from './types';
import { ExportRule } from '../load/inventory-types';

type Matcher = (svc: LocalService) => ServiceName | undefined;

/**
 * Compile ESS rules the way Maistra does (common/exports.go): unknown types, nil selectors and
 * unparsable label selectors are skipped with a warning; the rest keep their order.
 */
function compileExportRules(link: PeerLink, diags: Diagnostics): { index: number; match: Matcher }[] {
  const ess = link.exportSet;
  if (!ess) return [];
  const out: { index: number; match: Matcher }[] = [];
  for (const rule of ess.rules) {
    const m = compileRule(rule, (msg) =>
      diags.warn(
        'MF021',
        ess.source.at(['spec', 'exportRules', rule.index]),
        `${msg}; Maistra skips this rule.`,
        'Fix or remove the rule.',
      ),
    );
    if (m) out.push({ index: rule.index, match: m });
  }
  return out;
}

function compileRule(rule: ExportRule, skip: (msg: string) => void): Matcher | undefined {
  if (rule.type === 'NameSelector') {
    const ns = rule.nameSelector;
    if (!ns) return (skip('type NameSelector without nameSelector'), undefined);
    return (svc) => (nameMatches(ns, svc) ? applyAlias(ns, svc) : undefined);
  }
  if (rule.type === 'LabelSelector') {
    const ls = rule.labelSelector;
    if (!ls) return (skip('type LabelSelector without labelSelector'), undefined);
    const sel: CompiledSelector = compileLabelSelector(ls.selector);
    if (!sel.ok) return (skip(`invalid label selector: ${sel.reason}`), undefined);
    return (svc) => {
      if (!(isWildcard(ls.namespace) || ls.namespace === svc.namespace) || !sel.matches(svc.labels)) return undefined;
      const alias = ls.aliases.find((a) => nameMatches(a, svc));
      return alias ? applyAlias(alias, svc) : { name: svc.name, namespace: svc.namespace };
    };
  }
  return (skip(`unknown rule type "${rule.type}" (NameSelector or LabelSelector)`), undefined);
}

/**
 * What `link.local` exports to `link.remote`: for every candidate the first rule that matches wins.
 * Two services exported under one name are an error (Maistra's status update would fail on it).
 */
export function computeExports(link: PeerLink, candidates: LocalService[], diags: Diagnostics): Export[] {
  const rules = compileExportRules(link, diags);
  const out: Export[] = [];
  const byHost = new Map<string, Export>();
  for (const svc of candidates) {
    for (const r of rules) {
      const mapped = r.match(svc);
      if (!mapped) continue;
      const exportedHostname = `${mapped.name}.${mapped.namespace}.svc.${link.peer.name}-exports.local`;
      const e: Export = {
        exporter: link.local,
        importer: link.remote,
        link,
        service: svc,
        exportedName: mapped.name,
        exportedNamespace: mapped.namespace,
        exportedHostname,
        ruleIndex: r.index,
      };
      const clash = byHost.get(exportedHostname);
      if (clash) {
        diags.error(
          link.exportSet!.source.at(['spec', 'exportRules', r.index]),
          `${svc.namespace}/${svc.name} and ${clash.service.namespace}/${clash.service.name} are both ` +
            `exported to ${link.remote} as ${exportedHostname}.`,
          'Give one of them another alias, or narrow the rules so only one matches.',
        );
      } else {
        byHost.set(exportedHostname, e);
        out.push(e);
      }
      break;
    }
  }
  return out;
}
