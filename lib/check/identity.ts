import { CheckContext } from './context';
import { Finding } from './finding';
import { uniqSorted } from '../model/names';
import { PolicyMigration, policyMigrations } from '../plan/authz';
import { namespaceFile } from '../plan/types';

/** What the policy would do to the real callers once they arrive as themselves. */
function policyEffect(m: PolicyMigration): string {
  if (m.policy.action !== 'DENY') return 'no longer admit';
  return m.references.some((r) => r.negated) ? 'deny' : 'no longer deny';
}

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
      const first = m.references[0];
      const callers = uniqSorted(Object.values(m.callers).flat());
      const target = {
        apiVersion: m.policy.source.apiVersion,
        kind: 'AuthorizationPolicy',
        name: m.policy.name,
        namespace: m.policy.namespace,
      };
      const patch = `dist/${mesh.cluster}/02-export/patches/${namespaceFile(target.namespace)}`;
      const named = m.references.map((r) => `${r.field === 'namespace' ? 'namespace ' : ''}${r.negated ? 'not ' : ''}${r.value}`);
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
    }
  }
  return out;
}
