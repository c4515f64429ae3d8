import { CheckContext } from './context';
import { Finding } from './finding';
import { Mesh } from '../model/types';
import { allowPoliciesOn } from '../plan/authz';

/** What enforcement does, and does not give, with this cluster's trust mode. */
function exposureFix(mesh: Mesh, others: string[]): string {
  const pooled =
    'OSSM 3 pools every caCertificates root into one bundle, so a peer CA can mint identities in any accepted trust domain: ' +
    'trust domains separate honest meshes, not mutually untrusted ones (docs/rules.md#mf003).';
  if (!mesh.settings.exposure.enforce) {
    return 'Set spec.exposure.enforce: true to admit only the exporting mesh and the peers it was exported to (see docs/rules.md#mf003).';
  }
  if (mesh.settings.ossm3.trust === 'trustDomains') {
    return `spec.exposure.enforce renders an ALLOW policy by trust domain, which trust: trustDomains keeps apart; but ${pooled}`;
  }
  return (
    `spec.exposure.enforce renders an ALLOW policy, but with trustDomainAliases every aliased trust domain (${others.join(', ')} ` +
    `included) is the same principal, so it admits them too; spec.ossm3.trust: trustDomains tells trust domains apart, and ${pooled}`
  );
}

/** MF003 guard: an enforcement policy next to a user ALLOW policy on the same pods widens access (Istio ORs them). */
function enforcementWidens(c: CheckContext): Finding[] {
  const out: Finding[] = [];
  for (const mesh of c.model.meshes) {
    const phase = c.plan.byCluster[mesh.cluster].find((p) => p.phase === '02-export' || p.phase === 'multicluster');
    if (!phase || phase.blockedBy.length) continue;
    for (const policy of c.states.get(mesh.cluster, phase.phase).of('exposurePolicy')) {
      const existing = allowPoliciesOn(mesh, policy.ref.namespace ?? '', policy.selector);
      if (existing.length === 0) continue;
      out.push({
        rule: 'MF003',
        severity: 'error',
        cluster: mesh.cluster,
        phase: phase.phase,
        location: existing[0].source.at(['spec']),
        problem:
          `the enforcement policy ${policy.ref.namespace}/${policy.ref.name} sits next to ALLOW ` +
          `${existing.map((p) => `${p.namespace}/${p.name}`).join(', ')} on the same pods; Istio ORs ALLOW policies, so it widens access.`,
        fix: 'Render no enforcement policy there; narrow the existing policy instead.',
      });
    }
  }
  return out;
}

/**
 * MF003: OSSM 2 exported a service to chosen peers; an east-west gateway serves every mesh that can
 * reach it and that the exporter trusts. Lists each service that becomes reachable by a peer it was
 * not exported to.
 */
export function checkExposure(c: CheckContext): Finding[] {
  const { model, ctx } = c;
  const out: Finding[] = enforcementWidens(c);
  for (const mesh of model.meshes) {
    const peers = ctx.linksOf(mesh.cluster).map((l) => l.remote);
    const byService = new Map<string, { importers: Set<string>; source: (typeof model.imports)[number]['export']['service'] }>();
    for (const i of ctx.importsFrom(mesh.cluster)) {
      const k = `${i.export.service.namespace}/${i.export.service.name}`;
      const e = byService.get(k) ?? { importers: new Set<string>(), source: i.export.service };
      e.importers.add(i.importer);
      byService.set(k, e);
    }
    for (const [svc, e] of [...byService].sort()) {
      const others = peers.filter((p) => !e.importers.has(p)).sort();
      if (others.length === 0) continue;
      out.push({
        rule: 'MF003',
        severity: 'warning',
        cluster: mesh.cluster,
        phase: '02-export',
        location: e.source.source.at(),
        problem:
          `${svc} is imported by ${[...e.importers].sort().join(', ')} only (through the federation), but from 02-export on ` +
          `${others.join(', ')} can reach it too through the east-west gateway (${mesh.cluster} trusts them).`,
        fix: exposureFix(mesh, others),
      });
    }
  }
  return out;
}
