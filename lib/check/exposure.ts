import { CheckContext } from './context';
import { Finding } from './finding';

/**
 * MF003: OSSM 2 exported a service to chosen peers; an east-west gateway serves every mesh that can
 * reach it and that the exporter trusts. Lists each service that becomes reachable by a peer it was
 * not exported to.
 */
export function checkExposure({ model, ctx }: CheckContext): Finding[] {
  const out: Finding[] = [];
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
      const scoped = mesh.settings.ossm3.trust === 'trustDomains';
      out.push({
        rule: 'MF003',
        severity: 'warning',
        cluster: mesh.cluster,
        phase: '02-export',
        location: e.source.source.at(),
        problem:
          `${svc} was exported to ${[...e.importers].sort().join(', ')} only, but from 02-export on ` +
          `${others.join(', ')} can reach it too through the east-west gateway (${mesh.cluster} ` +
          `trusts them).`,
        fix: mesh.settings.exposure.enforce
          ? scoped
            ? 'spec.exposure.enforce renders an ALLOW policy admitting only the exporting mesh and its ' +
              'importers; with trust: trustDomains OSSM 3 tells the meshes apart.'
            : `spec.exposure.enforce renders an ALLOW policy, but with trustDomainAliases every aliased ` +
              `trust domain (${others.join(', ')} included) is equivalent, so it only helps once ` +
              `${mesh.cluster} uses spec.ossm3.trust: trustDomains.`
          : 'Set spec.exposure.enforce: true to admit only the exporting mesh and the peers it was ' +
            'exported to (effective with spec.ossm3.trust: trustDomains; see docs/rules.md#mf003).',
      });
    }
  }
  return out;
}
