/**
 * Large federations render part of their clusters on a second thread (lib/write/render-worker.ts): the
 * output must be the same, byte for byte, as rendering everything on the main thread.
 */
import * as path from 'path';

import { EXAMPLE_CLUSTERS, writeClusters } from './support/fixtures';
import { threeMeshSpecs } from './support/three-mesh';
import { synthesize } from '../lib/cli/synth';
import { Plan } from '../lib/plan/types';
import { renderCluster } from '../lib/write/overlays';
import { RenderWorker, sharedClusters } from '../lib/write/render-worker';

const EXAMPLES = path.join(__dirname, '..', 'examples');

describe('rendering on a second thread', () => {
  const inputs: [string, () => string][] = [
    ['the bundled example', () => EXAMPLE_CLUSTERS],
    ['three meshes', () => writeClusters(threeMeshSpecs())],
    ['egress on kubernetes', () => path.join(EXAMPLES, 'egress-kubernetes', 'clusters')],
    ['greenfield', () => path.join(EXAMPLES, 'greenfield', 'clusters')],
  ];
  test.each(inputs)('%s: the same files as one thread', (_name, dir) => {
    const clusters = dir();
    const one = synthesize(clusters, {}, { MESHFED_THREADS: '1' }, 0);
    const timings: Record<string, number> = {};
    const two = synthesize(clusters, timings, {}, 0);
    expect(timings.wait).toBeDefined(); // the worker ran
    expect([...two.files.keys()]).toEqual([...one.files.keys()]);
    expect(two.files).toEqual(one.files);
  });

  test('small federations, MESHFED_THREADS=1 and single clusters stay on one thread; large ones share every cluster', () => {
    const plan = synthesize(EXAMPLE_CLUSTERS).plan;
    expect(sharedClusters(plan)).toEqual([]);
    expect(sharedClusters(plan, {}, 0)).toEqual(plan.local);
    expect(plan.local.length).toBeGreaterThan(1);
    expect(sharedClusters(plan, { MESHFED_THREADS: '1' }, 0)).toEqual([]);
    expect(sharedClusters({ ...plan, local: ['east'] }, {}, 0)).toEqual([]);
  });

  test('each shared cluster is rendered once, by whichever thread takes it first', () => {
    const clusters = writeClusters(threeMeshSpecs());
    const { plan } = synthesize(clusters, {}, { MESHFED_THREADS: '1' });
    const alone = new Map(plan.local.map((c) => [c, renderCluster(plan.byCluster[c])]));
    // The main thread first: it takes what the worker (still starting) has not.
    const first = new RenderWorker().share(plan, plan.local);
    const here = first.renderRest();
    const there = first.result();
    expect([...here.keys(), ...there.keys()].sort()).toEqual([...plan.local].sort());
    expect(new Map([...here, ...there])).toEqual(alone);
    // The worker first: it takes everything, from the front, and the main thread finds nothing left.
    const second = new RenderWorker().share(plan, plan.local);
    expect([...second.result().keys()]).toEqual(plan.local);
    expect(second.renderRest().size).toBe(0);
  });

  test('an error on the worker reaches the caller', () => {
    const plan = synthesize(EXAMPLE_CLUSTERS).plan;
    const broken: Plan = {
      ...plan,
      byCluster: {
        ...plan.byCluster,
        east: plan.byCluster.east.map((p) => ({
          ...p,
          adds: [{ type: 'adopted', ref: p.adds[0]?.ref ?? { apiVersion: 'v1', kind: 'x', name: 'x' }, body: null as never }],
        })),
      },
    };
    expect(() => new RenderWorker().share(broken, ['east']).result()).toThrow(/^render worker: /);
  });
});
