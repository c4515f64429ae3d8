/**
 * Gateways to imported hosts: a VirtualService bound to a Gateway that runs on the SMCP's gateway pods routes to an
 * imported host; the federation made every import visible to the whole mesh (maistra/istio@maistra-2.5
 * pilot/pkg/serviceregistry/federation/controller.go:379, visibility Public), meshfed's ServiceEntries only to their
 * `exportTo`. A gateway that cannot see the ServiceEntry has no cluster for the host (istio/istio@1.27.3
 * pilot/pkg/model/push_context.go:1040-1048, 1080 IsServiceVisible, 1588: a service is indexed under the namespaces its
 * exportTo names), and the route fails once 04 removes the federation.
 */
import { CheckContext } from './context';
import { Finding } from './finding';
import { writtenPhases } from './pitfalls';
import { IstioGatewayObj, VirtualServiceObj } from '../load/inventory-types';
import { selectorSelects } from '../model/match';
import { visibleTo } from '../model/services';
import { Mesh } from '../model/types';
import { gatewayPodLabels, smcpGateways } from '../plan/north-south';

/** The Istio Gateways a VirtualService binds to (`mesh` is the sidecars, not a gateway). */
function boundGateways(mesh: Mesh, vs: VirtualServiceObj): IstioGatewayObj[] {
  return vs.gateways
    .filter((g) => g !== 'mesh')
    .map((g) => (g.includes('/') ? g.split('/') : [vs.namespace, g]))
    .flatMap(([ns, name]) => mesh.inventory.istioGateways.filter((x) => x.namespace === ns && x.name === name));
}

/** The namespaces whose SMCP gateway pods a Gateway configures (its selector matches their labels). */
function gatewayNamespaces(mesh: Mesh, gw: IstioGatewayObj): string[] {
  return smcpGateways(mesh)
    .filter((g) => selectorSelects(gw.selector, gatewayPodLabels(g)))
    .map((g) => g.namespace);
}

/**
 * MF028 imports visible to the gateways that route to them: in every phase the gates allow, each imported host a
 * dumped VirtualService on an SMCP gateway routes to is visible (ServiceEntry exportTo) in that gateway's namespace.
 * Reports the first phase each breaks.
 */
export function checkGatewayVisibility(c: CheckContext): Finding[] {
  const out: Finding[] = [];
  const seen = new Set<string>();
  for (const { mesh, phasePlan, state } of writtenPhases(c)) {
    const imports = new Map(c.ctx.importsInto(mesh.cluster).map((i) => [i.hostname, i]));
    if (imports.size === 0) continue;
    for (const vs of mesh.inventory.virtualServices) {
      const hosts = vs.destinations.filter((d) => imports.has(d.host));
      if (!hosts.length) continue;
      for (const gw of boundGateways(mesh, vs))
        for (const ns of gatewayNamespaces(mesh, gw))
          for (const d of hosts) {
            // While its ImportedServiceSet exists the federation serves the host, visible to the whole mesh.
            const iss = imports.get(d.host)!.link.importSet;
            if (iss && state.has('ImportedServiceSet', iss.name, iss.namespace)) continue;
            const se = state.of('importServiceEntry').find((x) => x.host === d.host);
            const key = `${mesh.cluster}/${vs.namespace}/${vs.name}/${ns}/${d.host}`;
            if (!se || visibleTo(se.exportTo, se.ref.namespace ?? '', ns) || seen.has(key)) continue;
            seen.add(key);
            out.push({
              rule: 'MF028',
              severity: 'error',
              cluster: mesh.cluster,
              phase: phasePlan.phase,
              location: vs.source.at(d.path),
              problem:
                `VirtualService ${vs.namespace}/${vs.name} routes the Gateway ${gw.namespace}/${gw.name} (the SMCP gateway pods in ${ns}) to ` +
                `the imported host ${d.host}, but ServiceEntry ${se.ref.namespace}/${se.ref.name} is visible only to ` +
                `${JSON.stringify(se.exportTo)}: the gateway has no route for it once the federation is gone.`,
              fix: `Add "${ns}" to spec.importedServices.exportTo in this cluster's cluster.yaml (or leave it unset: the default includes it).`,
            });
          }
    }
  }
  return out;
}
