import { Diagnostics } from '../diagnostics';
import { compileLabelSelector } from './match';
import { Ossm2Inventory } from '../load/inventory-types';

/** Namespaces Maistra never adds through "*" or selectors: the platform's own. */
const SYSTEM_NAMESPACE = /^(kube|openshift)(-.*)?$/;

/**
 * The mesh's member namespaces, as Maistra computes them, limited to the Namespaces present in the
 * dumps (meshfed renders and relabels only what it can see). The control-plane namespace is not a
 * member. MultiTenant: SMMR spec.members ("*" = all), spec.memberSelectors, and ServiceMeshMembers
 * pointing at this control plane. ClusterWide without an SMMR: all namespaces. Platform namespaces
 * (kube*, openshift*) and namespaces labelled maistra.io/ignore-namespace=true are never members.
 */
export function memberNamespaces(inv: Ossm2Inventory, diags: Diagnostics): string[] {
  const cp = inv.controlPlane;
  const known = new Map(inv.namespaces.map((n) => [n.name, n]));
  const eligible = (ns: string) => ns !== cp.namespace && known.get(ns)?.labels['maistra.io/ignore-namespace'] !== 'true';
  const wildcard = (ns: string) => eligible(ns) && !SYSTEM_NAMESPACE.test(ns);
  // A graduated mesh (greenfield with a declared control plane) declares its members: the namespaces of its
  // inventory. Their maistra.io/ignore-namespace label is what 06 left to keep OSSM 2's injector out.
  if (inv.declaredControlPlane) return [...known.keys()].filter((ns) => ns !== cp.namespace && !SYSTEM_NAMESPACE.test(ns)).sort();
  const out = new Set<string>();
  const roll = inv.memberRoll;
  if (!roll && cp.mode === 'MultiTenant') {
    diags.error(
      cp.source.at(['spec', 'mode']),
      'a MultiTenant control plane without its ServiceMeshMemberRoll in ossm2/: its member namespaces are unknown, ' +
        'so the render would migrate none of them.',
      `Dump it: \`oc get smmr default -n ${cp.namespace} -o yaml\`.`,
    );
  }
  if (!roll && cp.mode === 'ClusterWide') {
    for (const ns of known.keys()) if (wildcard(ns)) out.add(ns);
  }
  if (roll) {
    roll.members.forEach((m, i) => {
      if (m === '*') {
        for (const ns of known.keys()) if (wildcard(ns)) out.add(ns);
      } else if (!known.has(m) && roll.configuredMembers?.includes(m)) {
        // The mesh runs it (status.configuredMembers): an incomplete dump would shrink the mesh on prune.
        diags.error(
          roll.source.at(['spec', 'members', i]),
          `member namespace "${m}" is in the mesh (status.configuredMembers) but its Namespace is not in ossm2/: ` +
            `rendered without it, the migration would leave its workloads behind.`,
          `Dump it: \`oc get namespace ${m} -o yaml\` (and its workloads, Services and policies).`,
        );
      } else if (!known.has(m)) {
        diags.warn(
          'MF020',
          roll.source.at(['spec', 'members', i]),
          `member namespace "${m}" has no Namespace object in ossm2/; it is left out of the migration.`,
          `Add it to the dumps (\`oc get namespace ${m} -o yaml\`) if it exists.`,
        );
      } else if (eligible(m)) {
        out.add(m);
      }
    });
    roll.memberSelectors.forEach((sel, i) => {
      const c = compileLabelSelector(sel);
      if (!c.ok) {
        diags.warn('MF021', roll.source.at(['spec', 'memberSelectors', i]), `invalid member selector (${c.reason}); Maistra ignores it.`);
        return;
      }
      for (const n of inv.namespaces) if (wildcard(n.name) && c.matches(n.labels)) out.add(n.name);
    });
  }
  for (const m of inv.members) {
    if (m.controlPlaneName === cp.name && m.controlPlaneNamespace === cp.namespace && eligible(m.namespace)) {
      if (known.has(m.namespace)) out.add(m.namespace);
      else
        diags.warn(
          'MF020',
          m.source.at(),
          `ServiceMeshMember in "${m.namespace}" but that Namespace is not in ossm2/; it is left out of the migration.`,
        );
    }
  }
  return [...out].sort();
}
