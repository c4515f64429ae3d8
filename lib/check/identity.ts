import { CheckContext } from './context';
import { Finding } from './finding';
import { policyMigrations } from '../plan/authz';

/**
 * MF002: in OSSM 2 exported services saw every cross-mesh call coming from their federation ingress
 * gateway; from the new path on they see the real client. Policies that admit (or, as notPrincipals,
 * exempt) the gateway identity would lock the real callers out. meshfed adopts such policies and adds
 * the real callers in 02 (before any importer sends them), then drops the gateway principal in 04.
 */
export function checkIdentity({ model, ctx }: CheckContext): Finding[] {
  const out: Finding[] = [];
  for (const mesh of model.meshes) {
    for (const m of policyMigrations(ctx, mesh)) {
      const first = m.policy.principals.find((p) => m.callers[p.value]);
      const callers = [...new Set(Object.values(m.callers).flat())].sort();
      out.push({
        rule: 'MF002',
        severity: 'warning',
        cluster: mesh.cluster,
        phase: '02-export',
        location: m.policy.source.at(first?.path ?? ['spec', 'rules']),
        problem:
          `${m.policy.action} policy ${m.policy.namespace}/${m.policy.name} names the federation ` +
          `ingress gateway (${m.gateways.map((g) => g.principal).join(', ')}); on the new path ` +
          `callers arrive as themselves, so it would ` +
          `${m.policy.action === 'DENY' ? 'deny' : 'no longer admit'} them.`,
        fix:
          m.unknownCallers.length > 0
            ? `meshfed adopts it and admits ${callers.join(', ')} from 02-export (the gateway principal ` +
              `goes in 04); ${m.unknownCallers.join(', ')} export their imports to every namespace, so ` +
              `the whole trust domain is admitted: replace it with the calling namespaces/service ` +
              `accounts (importedServices.exportTo on ${m.unknownCallers.join(', ')}, or edit the ` +
              `policy).`
            : `meshfed adopts it and admits ${callers.join(', ')} from 02-export (the gateway principal goes in 04); review the rendered patches.`,
      });
    }
  }
  return out;
}
