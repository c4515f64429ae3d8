import { CheckContext } from './context';
import { Finding } from './finding';
import { controlPlaneIdentities } from './own-identities';
import { PhaseState } from './state';
import { expandPrincipal, presentsIdentity, principalMatches, stringMatches } from '../authz';
import { uniqSorted } from '../model/names';
import { Mesh } from '../model/types';
import { PolicyMigration, policyMigrations } from '../plan/authz';
import { trustDomainAliases } from '../plan/trust';
import { namespaceFile } from '../plan/types';

/** What the policy would do to the real callers once they arrive as themselves. */
function policyEffect(m: PolicyMigration): string {
  if (m.policy.action !== 'DENY') return 'no longer admit';
  return m.references.some((r) => r.negated) ? 'deny' : 'no longer deny';
}

/**
 * The mesh's own identities the callers added to a policy also match, by lib/authz.ts's trust domain alias expansion
 * (istio/istio@1.27.3 pilot/pkg/security/trustdomain/bundle.go:53-127, ReplaceTrustDomainAliases; the same in
 * maistra/istio@maistra-2.5): from 01 the SMCP (and in aliases mode the Istio) lists every peer trust domain as an
 * alias (lib/plan/trust.ts), so `<peer td>/ns/<ns>/sa/*` matches `<own td>/ns/<ns>/sa/*` too. A `<peer td>/*` (the
 * callers of a peer whose imports every namespace sees) is not five `/`-parts and is kept as it is: it matches the
 * peer only. Judged on the dumped workloads' service accounts and the control planes' pods at 02 (own-identities.ts).
 */
function localMatches(ctx: CheckContext['ctx'], mesh: Mesh, m: PolicyMigration, at02: PhaseState): string[] {
  const bundle = {
    rootNamespace: mesh.controlPlane.namespace,
    trustDomain: mesh.trustDomain,
    trustDomainAliases: trustDomainAliases(ctx, mesh),
  };
  const patterns = Object.values(m.callers)
    .flat()
    .flatMap((p) => expandPrincipal(p, bundle));
  const own = uniqSorted([
    ...mesh.inventory.workloads.filter(presentsIdentity).map((w) => `${mesh.trustDomain}/ns/${w.namespace}/sa/${w.serviceAccount}`),
    ...controlPlaneIdentities(mesh, at02).map((o) => o.id),
  ]);
  // An identity the policy's own reference to the gateway matches already (the federation ingress, by principal or by
  // its namespace) is not one the added callers let in.
  const already = (id: string) =>
    m.references.some((r) =>
      r.field === 'principal'
        ? expandPrincipal(r.value, bundle).some((p) => principalMatches(p, id))
        : stringMatches(r.value, id.split('/')[2] ?? ''),
    );
  return own.filter((id) => !already(id) && patterns.some((p) => principalMatches(p, id)));
}

/** What the added callers do to the mesh's own identities they also match. */
function localEffect(m: PolicyMigration): string {
  if (m.policy.action !== 'DENY') return 'are admitted by it too';
  return m.references.some((r) => r.negated) ? 'are exempted from it too' : 'are denied by it too';
}

/**
 * MF002: in OSSM 2 exported services saw every cross-mesh call coming from their federation ingress
 * gateway; from the new path on they see the real client. Policies that admit (or, as notPrincipals,
 * exempt) the gateway identity would lock the real callers out. meshfed adopts such policies and adds
 * the real callers in 02 (before any importer sends them), then drops the gateway principal in 04.
 */
export function checkIdentity({ model, ctx, states }: CheckContext): Finding[] {
  const out: Finding[] = [];
  for (const mesh of model.meshes) {
    for (const m of policyMigrations(ctx, mesh)) {
      const first = m.references[0];
      const callers = uniqSorted(Object.values(m.callers).flat());
      const target = {
        apiVersion: m.policy.source.apiVersion,
        kind: 'AuthorizationPolicy',
        name: m.policy.name,
        namespace: m.policy.namespace,
      };
      const patch = `dist/${mesh.cluster}/02-export/patches/${namespaceFile(target.namespace)}`;
      const named = m.references.map(
        (r) =>
          `${r.path[3] === 'when' ? `when source.${r.field} ` : r.field === 'namespace' ? 'namespace ' : ''}${r.negated ? 'not ' : ''}${r.value}`,
      );
      out.push({
        rule: 'MF002',
        severity: 'warning',
        cluster: mesh.cluster,
        phase: '02-export',
        location: m.policy.source.at(first.path),
        problem:
          `${m.policy.action} policy ${m.policy.namespace}/${m.policy.name} ${m.references.some((r) => r.negated) ? 'exempts' : 'names'} ` +
          `the federation ingress gateway (${uniqSorted(named).join(', ')}); on the new path callers arrive as themselves, so it ` +
          `would ${policyEffect(m)} them.`,
        fix:
          m.unknownCallers.length > 0
            ? `meshfed adopts it and matches ${callers.join(', ')} too from 02-export (${patch}; exact gateway principals go ` +
              `in 04); ${m.unknownCallers.join(', ')} export their imports to every namespace, so the whole trust domain is ` +
              `matched: replace it with the calling namespaces/service accounts (importedServices.exportTo on ` +
              `${m.unknownCallers.join(', ')}, or edit the policy).`
            : `meshfed adopts it and matches ${callers.join(', ')} too from 02-export (${patch}; exact gateway principals go ` +
              'in 04); review that patch.',
      });
      const local = localMatches(ctx, mesh, m, states.get(mesh.cluster, '02-export'));
      if (local.length)
        out.push({
          rule: 'MF002',
          severity: 'warning',
          cluster: mesh.cluster,
          phase: '02-export',
          location: m.policy.source.at(first.path),
          problem:
            `the callers meshfed adds to ${m.policy.action} policy ${m.policy.namespace}/${m.policy.name} (${callers.join(', ')}) also ` +
            `match ${mesh.cluster}'s own identities: its trust domain aliases make Istio match them in every aliased trust domain, ` +
            `so ${local.join(', ')} ${localEffect(m)} from 02-export.`,
          fix:
            `Name the exact callers in clusters/${mesh.cluster}/cluster.yaml: spec.exposure.callers.<importing cluster>: ` +
            `[<its trust domain>/ns/<namespace>/sa/<service account>] (docs/input.md), so only those identities (and the ` +
            `same namespace and service account of ${mesh.cluster}) match; or acknowledge MF002 if ${mesh.cluster}'s own ` +
            'workloads may do so.',
        });
    }
  }
  return out;
}
