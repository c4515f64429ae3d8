import { CheckContext } from './context';
import { SourceLocation } from '../diagnostics';
import { Finding } from './finding';
import { writtenPhases } from './pitfalls';
import { smcpSpecAt } from './regression';
import { PhaseState } from './state';
import { JsonObject, valueAt } from '../json';
import { selectorSelects } from '../model/match';
import { uniqSorted } from '../model/names';
import { Mesh } from '../model/types';
import { istioMatches } from '../plan/authz';
import { gatewayPodLabels, gatewayServiceAccount, OPERATOR_LABELS, SmcpGateway, smcpGateways, TAKEOVER_SUFFIX } from '../plan/north-south';
import { withDefaults } from '../plan/smcp-settings';
import { byKey } from '../sort';

/** The SMCP's settings at a phase (its merge patches applied, defaults under them), when it still exists. */
function smcpAt(mesh: Mesh, state: PhaseState): JsonObject | undefined {
  const cp = mesh.controlPlane;
  if (!state.has('ServiceMeshControlPlane', cp.name, cp.namespace)) return undefined;
  return withDefaults(smcpSpecAt(mesh, state), cp.effectiveFrom);
}

/** Does the namespace keep the 2.6 injector out (maistra.io/ignore-namespace, by a patch or an adopted Namespace)? */
function ignoredBy26(state: PhaseState, ns: string): boolean {
  const label = (o: unknown) => valueAt(o as JsonObject, 'metadata.labels') as Record<string, string> | undefined;
  if (
    state.patches.some(
      (p) =>
        p.type === 'merge' &&
        p.target.kind === 'Namespace' &&
        p.target.name === ns &&
        label(p.patch)?.['maistra.io/ignore-namespace'] === 'true',
    )
  )
    return true;
  return state
    .of('adopted')
    .some((r) => r.ref.kind === 'Namespace' && r.ref.name === ns && label(r.body)?.['maistra.io/ignore-namespace'] === 'true');
}

interface Serving {
  /** Why no pod serves, or undefined when some do. */
  readonly endpoints?: string;
  /** The labels of every kind of pod that serves. */
  readonly podLabels: Record<string, string>[];
}

function serving(mesh: Mesh, g: SmcpGateway, state: PhaseState, smcp: JsonObject | undefined): Serving {
  const podLabels: Record<string, string>[] = [];
  if (smcp && valueAt(smcp, 'gateways.enabled') !== false && valueAt(smcp, `${g.path}.enabled`) !== false)
    podLabels.push(gatewayPodLabels(g));
  const ours = state.of('gatewayDeployment').find((d) => d.ref.name === `${g.name}${TAKEOVER_SUFFIX}` && d.ref.namespace === g.namespace);
  let why = 'neither the SMCP nor a meshfed gateway Deployment runs its pods';
  if (ours) {
    const istio = state.of('istio')[0];
    if (!selectorSelects(g.selector, ours.podLabels))
      why = `the pods of ${ours.ref.name} lack the labels it selects (${JSON.stringify(g.selector)})`;
    else if (!istio || ours.podLabels['istio.io/rev'] !== mesh.ossm3.revision) why = `no OSSM 3 revision injects ${ours.ref.name}'s pods`;
    else if (smcp && !ignoredBy26(state, g.namespace))
      why = `the 2.6 injector would inject ${ours.ref.name}'s pods too (namespace without maistra.io/ignore-namespace)`;
    else {
      podLabels.push(ours.podLabels);
      why = '';
    }
  }
  return { endpoints: podLabels.length ? undefined : why, podLabels };
}

/** Is the object (a Service, Route or ServiceAccount of the gateway) still there: the operator's while the SMCP runs, handed over after. */
function survives(
  mesh: Mesh,
  state: PhaseState,
  g: SmcpGateway,
  kind: 'Service' | 'Route' | 'ServiceAccount',
  name: string,
  smcp: JsonObject | undefined,
): boolean {
  if (smcp) return true;
  const job = state.of('handoverJob')[0];
  const names = (t: NonNullable<typeof job>['targets'][number]) =>
    kind === 'Service' ? [t.service] : kind === 'Route' ? t.routes : [t.serviceAccount];
  // A graduated mesh (greenfield, declared control plane) was handed over before it graduated.
  const handed = mesh.settings.mode === 'greenfield' || job?.targets.some((t) => t.namespace === g.namespace && names(t).includes(name));
  const adopted = state.of('adopted').find((r) => r.ref.kind === kind && r.ref.name === name && r.ref.namespace === g.namespace);
  const labels = (valueAt(adopted?.body, 'metadata.labels') ?? {}) as Record<string, string>;
  return Boolean(handed) && (!adopted || !OPERATOR_LABELS.some((l) => l in labels));
}

/** How a policy value is written: a `from` field, or a `when` condition's values / notValues on source.principal. */
function fieldName(p: { negated: boolean; path: (string | number)[] }): string {
  if (p.path[3] === 'when') return `when source.principal ${p.negated ? 'notValues' : 'values'}`;
  return p.negated ? 'notPrincipals' : 'principals';
}

/**
 * The dumped policies that tell the SMCP gateway's identity from ServiceAccount `sa` in its namespace:
 * AuthorizationPolicy principals / notPrincipals that match one and not the other (Istio's string match, in
 * the mesh's trust domain, cluster.local and its aliases), DestinationRule subjectAltNames that name the old
 * one only. Each would treat pods running as `sa` differently from the SMCP's.
 */
function policiesNaming(mesh: Mesh, g: SmcpGateway, sa: string): { what: string; location: SourceLocation }[] {
  const old = gatewayServiceAccount(g);
  const domains = uniqSorted([mesh.trustDomain, 'cluster.local', ...mesh.controlPlane.trustDomainAliases]);
  const id = (td: string, account: string) => `${td}/ns/${g.namespace}/sa/${account}`;
  const out: { what: string; location: SourceLocation }[] = [];
  for (const ap of mesh.inventory.authorizationPolicies)
    for (const p of ap.principals.filter((x) => x.field === 'principal'))
      if (domains.some((td) => istioMatches(p.value, id(td, old)) !== istioMatches(p.value, id(td, sa))))
        out.push({
          what: `AuthorizationPolicy ${ap.namespace}/${ap.name} (${fieldName(p)}: ${p.value})`,
          location: ap.source.at(p.path),
        });
  for (const dr of mesh.inventory.destinationRules)
    for (const san of dr.subjectAltNames)
      if (domains.some((td) => san.host === `spiffe://${id(td, old)}`) && !domains.some((td) => san.host === `spiffe://${id(td, sa)}`))
        out.push({ what: `DestinationRule ${dr.namespace}/${dr.name} (subjectAltNames: ${san.host})`, location: dr.source.at(san.path) });
  return out.sort(byKey((n) => n.what));
}

type Report = (key: string, problem: string, fix: string, location?: SourceLocation) => void;

/**
 * The identity meshfed's gateway pods present: the SMCP gateway's ServiceAccount, kept after 07 (handed over),
 * or a new principal the dumped policies may reject.
 */
function identityFindings(
  mesh: Mesh,
  state: PhaseState,
  g: SmcpGateway,
  ours: { ref: { name: string }; serviceAccount: { name: string } },
  smcp: JsonObject | undefined,
  fix: string,
  report: Report,
): void {
  const id = `${g.namespace}/${g.name}`;
  const sa = ours.serviceAccount.name;
  const named = sa === gatewayServiceAccount(g) ? [] : policiesNaming(mesh, g, sa);
  if (named.length)
    report(
      `${id}/identity`,
      `the pods of ${ours.ref.name} run as ServiceAccount ${sa}, not ${gatewayServiceAccount(g)} as ${id}'s pods do: a new ` +
        `identity, which ${named.map((n) => n.what).join(', ')} ${named.length > 1 ? 'tell' : 'tells'} apart, so requests ` +
        'the new pods serve are rejected (a share of them while both run, all once the SMCP is gone).',
      fix,
      named[0].location,
    );
  if (state.of('serviceAccount').some((r) => r.ref.name === sa && r.ref.namespace === g.namespace)) return;
  if (sa !== gatewayServiceAccount(g))
    report(
      `${id}/serviceaccount`,
      `ServiceAccount ${g.namespace}/${sa}, which ${ours.ref.name}'s pods run as, is not rendered: no pod can start.`,
      fix,
    );
  else if (!survives(mesh, state, g, 'ServiceAccount', sa, smcp))
    report(
      `${id}/serviceaccount`,
      `ServiceAccount ${g.namespace}/${sa}, the identity of ${ours.ref.name}'s pods, is pruned with the SMCP (it still carries ` +
        "the operator's labels): the pods' tokens stop being valid and no new pod can start.",
      fix,
    );
}

/**
 * MF019 north-south continuity: in every phase the gates allow, each SMCP gateway's Service exists and
 * has pods from some control plane behind it, its operator Route exists, and the user Gateways that select
 * its pods still match them — the SMCP's until 07 deletes it, meshfed's gateway Deployment (06 on),
 * handed over by the 07 Job. Reports the first phase each breaks.
 */
export function checkNorthSouth(c: CheckContext): Finding[] {
  const out: Finding[] = [];
  const seen = new Set<string>();
  for (const { mesh, phasePlan, state } of writtenPhases(c)) {
    const gateways = smcpGateways(mesh);
    if (gateways.length === 0) continue;
    const smcp = smcpAt(mesh, state);
    const report: Report = (key, problem, fix, location) => {
      if (seen.has(`${mesh.cluster}/${key}`)) return;
      seen.add(`${mesh.cluster}/${key}`);
      out.push({
        rule: 'MF019',
        severity: 'error',
        cluster: mesh.cluster,
        ...(location ? { location } : {}),
        phase: phasePlan.phase,
        problem,
        fix,
      });
    };
    for (const g of gateways) {
      const id = `${g.namespace}/${g.name}`;
      const fix =
        Object.keys(g.selector).length === 0
          ? `Dump its Service (oc get svc ${g.name} -n ${g.namespace} -o yaml) so meshfed can take it over.`
          : 'meshfed takes SMCP gateways over in 06 and hands them over in 07; report this as a meshfed bug.';
      if (!survives(mesh, state, g, 'Service', g.name, smcp)) {
        report(
          `${id}/service`,
          `Service ${id} is pruned with the SMCP (it still carries the operator's labels): north-south traffic through it stops.`,
          fix,
        );
        continue;
      }
      const ours = state
        .of('gatewayDeployment')
        .find((d) => d.ref.name === `${g.name}${TAKEOVER_SUFFIX}` && d.ref.namespace === g.namespace);
      if (ours && smcp && !ignoredBy26(state, g.namespace))
        report(
          `${id}/double`,
          `the pods of ${ours.ref.name} would be injected by the 2.6 injector too (namespace ${g.namespace} lacks ` +
            'maistra.io/ignore-namespace): they fail to start.',
          fix,
        );
      if (ours) identityFindings(mesh, state, g, ours, smcp, fix, report);
      const s = serving(mesh, g, state, smcp);
      if (s.endpoints) {
        report(`${id}/endpoints`, `Service ${id} has no gateway pods: ${s.endpoints}.`, fix);
        continue;
      }
      for (const r of g.routes.filter((x) => x.name === g.name))
        if (!survives(mesh, state, g, 'Route', r.name, smcp))
          report(`${id}/route/${r.name}`, `Route ${g.namespace}/${r.name} (host ${r.host ?? 'generated'}) is pruned with the SMCP.`, fix);
      for (const gw of mesh.inventory.istioGateways.filter(
        (x) => Object.keys(x.selector).length && selectorSelects(x.selector, gatewayPodLabels(g)),
      ))
        if (!s.podLabels.every((l) => selectorSelects(gw.selector, l)))
          report(
            `${id}/gateway/${gw.namespace}/${gw.name}`,
            `Gateway ${gw.namespace}/${gw.name} selects ${JSON.stringify(gw.selector)}, which some of ${id}'s pods lack: ` +
              'they serve none of its hosts.',
            fix,
          );
    }
  }
  return out;
}
