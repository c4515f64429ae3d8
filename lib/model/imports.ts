import { Diagnostics } from '../diagnostics';
import { applyAlias, isWildcard, nameMatches, ServiceName } from './match';
import { CLUSTER_DOMAIN, serviceFqdn } from './services';
import { Export, Import, PeerLink } from './types';
import { ImportSet, Locality, ServiceObj } from '../load/inventory-types';
import { byKey } from '../sort';

interface CompiledImportRule {
  readonly index: number;
  readonly importAsLocal: boolean;
  readonly suffix: string;
  readonly match: (e: ServiceName) => ServiceName | undefined;
}

const LOCAL_SUFFIX = `svc.${CLUSTER_DOMAIN}`;
/** spec.hostnameScheme: global (greenfield): `<name>.<ns>.mesh.global` on exporter and importer alike. */
export const GLOBAL_SUFFIX = 'mesh.global';

/**
 * Compile ISS rules as Maistra does (common/imports.go): only NameSelector; importAsLocal needs a fixed
 * alias namespace; the suffix is svc.cluster.local for importAsLocal, else rule domainSuffix, else spec
 * domainSuffix, else svc.<SMP>-imports.local; a non-local rule whose suffix is the cluster's is skipped.
 */
function compileImportRules(link: PeerLink, iss: ImportSet, diags: Diagnostics): CompiledImportRule[] {
  const out: CompiledImportRule[] = [];
  for (const rule of iss.rules) {
    const at = iss.source.at(['spec', 'importRules', rule.index]);
    if (rule.type !== 'NameSelector') {
      diags.warn(
        'MF021',
        at,
        `rule type "${rule.type}" is not supported for imports (only NameSelector); Maistra skips this rule.`,
        'Fix or remove the rule.',
      );
      continue;
    }
    const ns = rule.nameSelector;
    if (!ns) {
      diags.warn('MF021', at, 'type NameSelector without nameSelector; Maistra skips this rule.', 'Fix or remove the rule.');
      continue;
    }
    if (rule.importAsLocal && (!ns.alias || isWildcard(ns.alias.namespace))) {
      diags.warn(
        'MF021',
        iss.source.at(['spec', 'importRules', rule.index, 'importAsLocal']),
        'importAsLocal without a fixed alias namespace: Maistra drops this rule, so the services it matches are not imported (and are not migrated).',
        'Set nameSelector.alias.namespace to the local namespace the service should join.',
      );
      continue;
    }
    const suffix = rule.importAsLocal ? LOCAL_SUFFIX : (rule.domainSuffix ?? iss.domainSuffix ?? `svc.${link.peer.name}-imports.local`);
    if (!rule.importAsLocal && suffix === LOCAL_SUFFIX) {
      diags.warn(
        'MF021',
        iss.source.at(['spec', 'importRules', rule.index, 'domainSuffix']),
        `domainSuffix ${suffix} is the cluster's own suffix; Maistra skips this rule ("use importAsLocal instead").`,
        'Use importAsLocal: true with a fixed alias namespace.',
      );
      continue;
    }
    out.push({
      index: rule.index,
      importAsLocal: rule.importAsLocal,
      suffix,
      match: (e) => (nameMatches(ns, e) ? applyAlias(ns, e) : undefined),
    });
  }
  return out;
}

/**
 * The import gives a neutral shared hostname (hostnameScheme: global) to the importer's own Service's
 * pods as well: the importer runs that Service, it selects pods, and the hostname is not its FQDN.
 */
export function joinsLocalPods(i: Import): boolean {
  const local = i.localService;
  return local !== undefined && i.hostname !== serviceFqdn(local) && Object.keys(local.selector).length > 0;
}

/** Maistra's mergeLocality: zone needs a region, subzone needs zone and region; otherwise nothing. */
export function localityString(l: Locality | undefined): string | undefined {
  if (!l || !l.region) return undefined;
  if (l.subzone && !l.zone) return undefined;
  return [l.region, l.zone, l.subzone].filter(Boolean).join('/');
}

/**
 * What `link.local` imports from `link.remote`, given what the remote exports to it. Matching uses the
 * exported (aliased) name and namespace; the first matching rule wins.
 */
export function computeImports(
  link: PeerLink,
  offered: Export[],
  localServices: ServiceObj[],
  diags: Diagnostics,
  scheme: 'maistra' | 'global' = 'maistra',
): Import[] {
  const iss = link.importSet;
  if (!iss) return [];
  const rules = compileImportRules(link, iss, diags);
  const loc = iss.locality;
  const locality = localityString(loc);
  if (loc && (loc.region || loc.zone || loc.subzone) && !locality) {
    diags.warn(
      'MF021',
      iss.source.at(['spec', 'locality']),
      'this locality is incomplete (zone needs region; subzone needs zone and region): Maistra ignores it, and so does meshfed.',
    );
  }
  const out: Import[] = [];
  const byHost = new Map<string, Import>();
  for (const e of [...offered].sort(byKey((e) => e.exportedHostname))) {
    for (const r of rules) {
      const mapped = r.match({ name: e.exportedName, namespace: e.exportedNamespace });
      if (!mapped) continue;
      // Greenfield shared-name scheme: one neutral name on both sides, whatever the rule's suffix.
      const hostname =
        scheme === 'global' ? `${mapped.name}.${mapped.namespace}.${GLOBAL_SUFFIX}` : `${mapped.name}.${mapped.namespace}.${r.suffix}`;
      const imp: Import = {
        importer: link.local,
        exporter: link.remote,
        link,
        export: e,
        name: mapped.name,
        namespace: mapped.namespace,
        hostname,
        importAsLocal: r.importAsLocal,
        locality,
        ruleIndex: r.index,
        localService:
          r.importAsLocal || scheme === 'global'
            ? localServices.find((s) => s.name === mapped.name && s.namespace === mapped.namespace)
            : undefined,
      };
      const clash = byHost.get(hostname);
      if (clash) {
        diags.error(
          iss.source.at(['spec', 'importRules', r.index]),
          `${e.exportedHostname} and ${clash.export.exportedHostname} are both imported from ${link.remote} as ${hostname}.`,
          'Give one of them another alias.',
        );
      } else {
        byHost.set(hostname, imp);
        out.push(imp);
      }
      break;
    }
  }
  return out;
}
