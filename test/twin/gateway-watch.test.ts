/**
 * The east-west Gateway changes hands in 06 without two istiods deploying it (Red Hat's Gateway API migration: the
 * Gateway labelled `istio.io/rev` and `maistra.io/ignore` in the Namespaces' wave). The twin watches every tick for a
 * Gateway two deployment controllers write; without the labels (broken on purpose) the namespace relabel hands it to
 * OSSM 3 while OSSM 2.6 still deploys it, and the rehearsal says so under both engines.
 */
import * as path from 'path';

import { loadAll } from 'js-yaml';

import { MigrationPhase, PHASES } from '../../lib/phases';
import { filesAtPointers, render, RenderResult } from '../../lib/pipeline/render';
import { readDumps } from '../../lib/twin/live';
import { rehearseCluster } from '../../lib/twin/rehearse';
import { memoryTree } from '../../lib/twin/tree';
import { defaultWorld } from '../../lib/twin/world';
import { WAVES } from '../../lib/write/sync-waves';

const CLUSTERS = path.join(__dirname, '..', '..', 'clusters');
const PATCH = '- path: patches/istio-ingress.yaml\n';

let result: RenderResult;
beforeAll(() => {
  result = render(CLUSTERS, { skipPointerRules: true });
});

function rehearseWest(edit?: (files: Map<string, string>) => void) {
  const judge: MigrationPhase = '06-migrate-workloads';
  const renders = new Map(
    PHASES.slice(0, PHASES.indexOf(judge) + 1).map((p) => {
      const files = filesAtPointers(result, { west: p })!;
      edit?.(files);
      return [p, memoryTree(files)] as const;
    }),
  );
  return rehearseCluster(
    {
      cluster: 'west',
      dumps: readDumps(path.join(CLUSTERS, 'west', 'ossm2')),
      renders,
      engines: ['argocd', 'flux'],
      judge: [judge],
      scenarios: [],
    },
    defaultWorld(),
  ).findings;
}

test('06 labels the east-west Gateway for the revision and for OSSM 2 to ignore, in the Namespaces wave', () => {
  const files = filesAtPointers(result, { west: '06-migrate-workloads' })!;
  const patch = loadAll(files.get('west/06-migrate-workloads/patches/istio-ingress.yaml')!) as any[];
  expect(patch[0].metadata).toEqual({
    name: 'eastwestgateway',
    namespace: 'istio-ingress',
    labels: { 'istio.io/rev': 'default-v1-27-3', 'maistra.io/ignore': 'true' },
    annotations: { 'argocd.argoproj.io/sync-wave': String(WAVES.Namespace) },
  });
  expect(files.get('west/06-migrate-workloads/kustomization.yaml')).toContain(PATCH);
});

test('the rehearsal of 06 finds no Gateway deployed by two istiods', () => {
  expect(rehearseWest().filter((f) => f.object?.startsWith('Gateway '))).toEqual([]);
});

test('broken on purpose (the Gateway not labelled): both istiods deploy it, under Argo CD and Flux', () => {
  const findings = rehearseWest((files) => {
    const file = 'west/06-migrate-workloads/kustomization.yaml';
    const text = files.get(file);
    if (text?.includes(PATCH)) files.set(file, text.replace(PATCH, ''));
  }).filter((f) => f.object === 'Gateway istio-ingress/eastwestgateway');
  expect(findings.map((f) => f.engine).sort()).toEqual(['argocd', 'flux']);
  expect(findings[0].why).toMatch(
    /^Gateway istio-ingress\/eastwestgateway was deployed by maistra:istio-system\/basic and sail:default-v1-27-3 at once \d+ s into the sync/,
  );
});

test('the egress gateway (a Gateway API Gateway an istiod deploys) is handed over the same way, and 07 drops the labels', () => {
  const egress = render(path.join(__dirname, '..', '..', 'examples', 'egress-kubernetes', 'clusters'), { skipPointerRules: true });
  const patches = (phase: number) =>
    egress.plan.byCluster.east[phase].patches.filter((p) => p.target.kind === 'Gateway' && p.target.name === 'egress-gateway');
  expect(patches(6)).toEqual([
    expect.objectContaining({
      type: 'merge',
      patch: {
        metadata: {
          labels: { 'istio.io/rev': 'default-v1-27-3', 'maistra.io/ignore': 'true' },
          annotations: { 'argocd.argoproj.io/sync-wave': String(WAVES.Namespace) },
        },
      },
    }),
  ]);
  expect(patches(7)).toEqual([expect.objectContaining({ type: 'json6902' })]);
});
