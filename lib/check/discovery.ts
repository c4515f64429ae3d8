/**
 * MF011, discovery scope: the OSSM 3 istiod of a MultiTenant SMCP discovers exactly its mesh's namespaces, as the
 * 2.6 istiod it replaces did (lib/plan/revision.ts discoveryNamespaces says why and cites the sources). Judged on
 * the plan: the rendered Istio's meshConfig.discoverySelectors against each namespace's labels in each state.
 */
import { CheckContext } from './context';
import { Finding } from './finding';
import { writtenPhases } from './pitfalls';
import { PhaseState } from './state';
import { isObject, Json, valueAt } from '../json';
import { LabelSelector } from '../load/inventory-types';
import { compileLabelSelector } from '../model/match';
import { Mesh } from '../model/types';
import { istioValues, NAMESPACE_NAME_LABEL } from '../plan/istio-values';
import { discoveryNamespaces } from '../plan/revision';
import { compareStrings } from '../sort';

type Istio = Parameters<typeof istioValues>[0] & { readonly ref: { readonly name: string } };

/** Every namespace the state knows (dumped or rendered) with its labels as this state leaves them. */
function namespaceLabels(mesh: Mesh, state: PhaseState): Map<string, Record<string, string>> {
  const out = new Map<string, Record<string, string>>();
  for (const n of mesh.inventory.namespaces) out.set(n.name, { ...n.labels });
  for (const r of state.of('namespace')) out.set(r.ref.name, { ...(out.get(r.ref.name) ?? {}), ...(r.labels ?? {}) });
  for (const p of state.patches) {
    if (p.type !== 'merge' || p.target.kind !== 'Namespace') continue;
    const labels = valueAt(p.patch, 'metadata.labels');
    if (!isObject(labels ?? null)) continue;
    const now = { ...(out.get(p.target.name) ?? {}) };
    for (const [k, v] of Object.entries(labels as Record<string, Json>)) {
      if (v === null) delete now[k];
      else now[k] = String(v);
    }
    out.set(p.target.name, now);
  }
  // The API server sets it on every Namespace (lib/plan/istio-values.ts discoverySelectors).
  for (const [name, labels] of out) labels[NAMESPACE_NAME_LABEL] = name;
  return out;
}

function labelSelector(s: Json): LabelSelector {
  const matchLabels = valueAt(s, 'matchLabels');
  const expressions = valueAt(s, 'matchExpressions');
  return {
    matchLabels: isObject(matchLabels ?? null) ? (matchLabels as Record<string, string>) : {},
    matchExpressions: (Array.isArray(expressions) ? expressions : []).map((e) => ({
      key: String(valueAt(e, 'key') ?? ''),
      operator: String(valueAt(e, 'operator') ?? ''),
      values: ((valueAt(e, 'values') ?? []) as Json[]).map(String),
    })),
  };
}

/** What is wrong with the Istio's discovery scope in this state (one line per problem, stable across states). */
function scopeProblems(mesh: Mesh, istio: Istio, state: PhaseState, wanted: readonly string[]): { problem: string; fix: string }[] {
  const cp = mesh.controlPlane;
  const smcp = `ServiceMeshControlPlane ${cp.namespace}/${cp.name}`;
  const selectors = valueAt(istioValues(istio), 'meshConfig.discoverySelectors');
  const scoped = `meshConfig.discoverySelectors on ${NAMESPACE_NAME_LABEL} In [${wanted.join(', ')}]`;
  if (!Array.isArray(selectors) || selectors.length === 0)
    return [
      {
        problem:
          `the Istio ${istio.ref.name} has no meshConfig.discoverySelectors, but ${smcp} is MultiTenant: its OSSM 3 istiod discovers ` +
          "every namespace of the cluster, writes its root into every namespace's istio-ca-root-cert (over the other tenants' " +
          'control planes, whose pods then fail to verify their istiod) and sends every Service to its proxies.',
        fix: `Scope it to the mesh's namespaces (meshfed renders ${scoped}); a render without them is a meshfed bug.`,
      },
    ];
  const compiled = selectors.map((s) => compileLabelSelector(labelSelector(s)));
  const labels = namespaceLabels(mesh, state);
  const selects = (ns: string) => compiled.some((c) => c.ok && c.matches(labels.get(ns) ?? { [NAMESPACE_NAME_LABEL]: ns }));
  const out: { problem: string; fix: string }[] = [];
  for (const ns of wanted.filter((n) => !selects(n)))
    out.push({
      problem:
        `the Istio ${istio.ref.name}'s discoverySelectors do not select namespace ${ns}, which is in ${smcp}'s mesh: its OSSM 3 ` +
        "istiod ignores the namespace's Services, pods and Istio config, and gives it no istio-ca-root-cert (its pods cannot start " +
        'once 06 moves them).',
      fix: `Select every namespace of the mesh: ${scoped}.`,
    });
  const wantedSet = new Set(wanted);
  for (const ns of [...labels.keys()].filter((n) => !wantedSet.has(n) && selects(n)).sort(compareStrings))
    out.push({
      problem:
        `the Istio ${istio.ref.name}'s discoverySelectors select namespace ${ns}, which is not in ${smcp}'s mesh: its OSSM 3 istiod ` +
        "writes its root into the namespace's istio-ca-root-cert, over the control plane that serves it.",
      fix: `Select only the mesh's namespaces: ${scoped}.`,
    });
  return out;
}

/** MF011: a MultiTenant SMCP's OSSM 3 istiod not scoped to exactly its mesh's namespaces, each problem at the first phase it shows. */
export function checkDiscoveryScope(c: CheckContext): Finding[] {
  const out: Finding[] = [];
  const seen = new Set<string>();
  for (const { mesh, phasePlan, state } of writtenPhases(c)) {
    const wanted = mesh.virtual ? undefined : discoveryNamespaces(c.ctx, mesh);
    const istio = wanted && (state.of('istio')[0] as Istio | undefined);
    if (!wanted || !istio) continue;
    for (const p of scopeProblems(mesh, istio, state, wanted)) {
      const key = `${mesh.cluster}\n${p.problem}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push({
        rule: 'MF011',
        severity: 'error',
        cluster: mesh.cluster,
        phase: phasePlan.phase,
        location: mesh.controlPlane.source.at(['spec', 'mode']),
        ...p,
      });
    }
  }
  return out;
}
