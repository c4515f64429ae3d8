import { CheckContext } from './context';
import { Finding } from './finding';
import { federationExporterProblem, federationImporterProblem, newPathExporterProblem, newPathImporterProblem } from './paths';
import { PhaseState } from './state';
import { selectorSelects } from '../model/match';
import { Import, PeerLink } from '../model/types';
import { ossm2Sidecar } from '../plan/restart';
import { PhaseId, Plan } from '../plan/types';
import { compareStrings } from '../sort';

/** Pointer positions (importer, exporter) the gates allow, in the order the migration reaches them. */
function allowedPairs(plan: Plan, a: string, b: string): [PhaseId, PhaseId][] {
  const PHASES = plan.phases;
  const ok = (x: string, px: number, y: string, py: number) =>
    plan.byCluster[x]
      .slice(0, px + 1)
      .every((p) => p.blockedBy.length === 0 && p.waitsFor.every((g) => g.cluster !== y || py >= PHASES.indexOf(g.phase)));
  const out: [PhaseId, PhaseId][] = [];
  for (let i = 0; i < PHASES.length; i++)
    for (let j = 0; j < PHASES.length; j++) if (ok(a, i, b, j) && ok(b, j, a, i)) out.push([PHASES[i], PHASES[j]]);
  return out.sort(
    (x, y) =>
      Math.max(PHASES.indexOf(x[0]), PHASES.indexOf(x[1])) - Math.max(PHASES.indexOf(y[0]), PHASES.indexOf(y[1])) ||
      PHASES.indexOf(x[0]) - PHASES.indexOf(y[0]) ||
      PHASES.indexOf(x[1]) - PHASES.indexOf(y[1]),
  );
}

/**
 * MF001 continuity: every hostname a client mesh reaches through the federation at 00-federation must
 * reach the same exporter service in every later state the gates allow — through the federation, or
 * through the east-west gateway with entries, exposure and trust in place both ways. Reports the first
 * state (importer phase, exporter phase) where the last path is lost.
 */
export function checkContinuity({ model, plan, ctx, states }: CheckContext): Finding[] {
  const PHASES = plan.phases;
  const greenfield = PHASES[0] === 'multicluster';
  // Greenfield imports from exporters without an address are not rendered yet (the planner warns).
  const unreachable = new Set(
    greenfield ? model.meshes.flatMap((m) => ctx.unreachableExporters(m.cluster).map((e) => `${m.cluster}>${e.cluster}`)) : [],
  );
  const out: Finding[] = greenfield ? [] : sidecarlessExports(ctx, model.imports, PHASES);
  // Allowed (importer, exporter) phase indexes per pair of clusters, in the order the migration reaches them.
  const pairs = new Map<string, [number, number][]>();
  // Each cluster's states by phase index, looked up once (38,000 imports × 8 phases × 4 sides at scale).
  const byPhase = new Map<string, PhaseState[]>();
  const stateOf = (cluster: string, k: number) => {
    let list = byPhase.get(cluster);
    if (!list) byPhase.set(cluster, (list = PHASES.map((p) => states.get(cluster, p))));
    return list[k];
  };
  // The federation path's sides depend on the peering and the phase only: computed once per link and phase.
  const fedImpMemo = new Map<PeerLink, string[]>();
  const fedExpMemo = new Map<PeerLink, string[]>();
  const perLink = (memo: Map<PeerLink, string[]>, link: PeerLink): string[] => {
    let list = memo.get(link);
    if (!list) memo.set(link, (list = new Array<string>(PHASES.length)));
    return list;
  };
  for (const imp of model.imports) {
    const key = `${imp.importer}>${imp.exporter}`;
    let allowed = pairs.get(key);
    if (!allowed) {
      const ids = allowedPairs(plan, imp.importer, imp.exporter);
      pairs.set(key, (allowed = ids.map(([a, b]) => [PHASES.indexOf(a), PHASES.indexOf(b)])));
    }
    if (greenfield) {
      // One state, no federation path; imports waiting for the exporter's address are not rendered yet (a warning says so).
      if (unreachable.has(key)) continue;
      const neu = newPathImporterProblem(ctx, imp, stateOf(imp.importer, 0)) || newPathExporterProblem(ctx, imp, stateOf(imp.exporter, 0));
      if (neu)
        out.push({
          rule: 'MF001',
          severity: 'error',
          cluster: imp.importer,
          phase: 'multicluster',
          location: imp.link.importSet?.source.at(['spec', 'importRules', imp.ruleIndex]),
          problem:
            `Clients in ${imp.importer} cannot reach ${imp.hostname} (${imp.exporter}'s ` +
            `${imp.export.service.namespace}/${imp.export.service.name}): ${neu}.`,
          fix: 'Complete the path (see the warnings for this service), or stop importing the service.',
        });
      continue;
    }
    // Each side of each path depends on its own cluster's phase only: evaluated per phase, combined per pair.
    const fedImp = perLink(fedImpMemo, imp.link);
    const fedExp = perLink(fedExpMemo, imp.export.link);
    const newImp = new Array<string>(PHASES.length);
    const newExp = new Array<string>(PHASES.length);
    for (const [i, e] of allowed) {
      const fed =
        (fedImp[i] ??= federationImporterProblem(imp, stateOf(imp.importer, i))) ||
        (fedExp[e] ??= federationExporterProblem(imp, stateOf(imp.exporter, e)));
      if (!fed) continue;
      const neu =
        (newImp[i] ??= newPathImporterProblem(ctx, imp, stateOf(imp.importer, i))) ||
        (newExp[e] ??= newPathExporterProblem(ctx, imp, stateOf(imp.exporter, e)));
      if (!neu) continue;
      const pi = PHASES[i];
      const pe = PHASES[e];
      out.push({
        rule: 'MF001',
        severity: 'error',
        cluster: imp.importer,
        phase: pi,
        location: imp.link.importSet?.source.at(['spec', 'importRules', imp.ruleIndex]),
        problem:
          `With ${imp.importer} at ${pi} and ${imp.exporter} at ${pe}, clients in ${imp.importer} lose ` +
          `${imp.hostname} (${imp.exporter}'s ${imp.export.service.namespace}/${imp.export.service.name}): ` +
          `the federation path is down (${fed}) and the new path is not up (${neu}).`,
        fix:
          'Make the new path complete before the federation goes (see the warnings for this service), ' +
          'or stop importing the service (ImportedServiceSet) before migrating.',
      });
      break;
    }
  }
  return out;
}

/**
 * MF001, sidecar-less exports: an exported service whose selected workloads have no OSSM 2 sidecar (ossm2Sidecar: the
 * namespace excluded from Maistra's injector, e.g. `istio-injection: disabled`, a pod opt-out, hostNetwork, or an opt-in
 * policy without the opt-in). Through the federation the exporter's in-network federation ingress gateway reached those
 * pods in plaintext, so the export worked. On the new path the importer's proxies see them as endpoints on the exporter's
 * network, and istiod sends a proxy an endpoint on another network only when it uses Istio mTLS (istio/istio@1.27.3
 * pilot/pkg/xds/endpoints/ep_filters.go:105-108, "Cross-network traffic relies on mTLS to be enabled for SNI routing"),
 * which needs the endpoint's tlsMode to be istio, i.e. a sidecar (mtls_checker.go:56-57). The importer's clients are
 * left with no endpoint once the federation goes (04), whatever the other rules find. One error per exported service.
 */
function sidecarlessExports(ctx: CheckContext['ctx'], imports: readonly Import[], phases: readonly PhaseId[]): Finding[] {
  const out: Finding[] = [];
  const seen = new Map<string, { imp: Import; importers: Set<string> }>();
  for (const imp of imports) {
    const svc = imp.export.service;
    const key = `${imp.exporter}/${svc.kind}/${svc.namespace}/${svc.name}`;
    const entry = seen.get(key);
    if (entry) entry.importers.add(imp.importer);
    else seen.set(key, { imp, importers: new Set([imp.importer]) });
  }
  const phase = phases.find((p) => p.startsWith('03-'));
  for (const { imp, importers } of seen.values()) {
    const mesh = ctx.mesh(imp.exporter);
    const svc = imp.export.service;
    const bare = mesh.inventory.workloads
      .filter((w) => w.namespace === svc.namespace && selectorSelects(svc.podSelector, w.podLabels))
      .map((w) => ({ w, sidecar: ossm2Sidecar(mesh, w) }))
      .filter((x) => !x.sidecar.injected);
    if (!bare.length) continue;
    const callers = [...importers].sort(compareStrings).join(', ');
    const which = bare.map(({ w, sidecar }) => `${w.kind}/${w.name} (${sidecar.why.replace(/^it has no sidecar: /, '')})`).join('; ');
    out.push({
      rule: 'MF001',
      severity: 'error',
      cluster: imp.exporter,
      ...(phase ? { phase } : {}),
      location: imp.export.link.exportSet?.source.at(['spec', 'exportRules', imp.export.ruleIndex]),
      problem:
        `${imp.exporter} exports ${svc.namespace}/${svc.name} to ${callers}, but its pods have no OSSM 2 sidecar: ${which}. ` +
        `Through the federation, ${imp.exporter}'s in-network federation ingress gateway reached them in plaintext; on the new ` +
        `path they are endpoints on ${imp.exporter}'s network ${mesh.network} without Istio mTLS, and istiod gives a proxy on ` +
        `another network only endpoints with tlsMode istio, so clients in ${callers} get no endpoint for it once the federation goes.`,
      fix:
        `Inject a sidecar into the pods of ${svc.namespace}/${svc.name} in ${imp.exporter} before 03-import (lift what keeps it out, ` +
        'named above, and restart them), or take the service off the ExportedServiceSet before migrating.',
    });
  }
  return out;
}
