/**
 * Large federations render part of their clusters on a second thread (lib/write/render-worker.ts): the
 * output must be the same, byte for byte, as rendering everything on the main thread.
 */
import * as path from 'path';

import { EXAMPLE_CLUSTERS, writeClusters } from './support/fixtures';
import { threeMeshSpecs } from './support/three-mesh';
import { synthesize } from '../lib/cli/synth';
import { Plan } from '../lib/plan/types';
import { RenderWorker, workerClusters } from '../lib/write/render-worker';

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

  test('small federations, MESHFED_THREADS=1 and single clusters stay on one thread; large ones give the worker about 70%', () => {
    const plan = synthesize(EXAMPLE_CLUSTERS).plan;
    expect(workerClusters(plan)).toEqual([]);
    expect(workerClusters(plan, {}, 0)).toEqual(['east']);
    expect(workerClusters(plan, { MESHFED_THREADS: '1' }, 0)).toEqual([]);
    expect(workerClusters({ ...plan, local: ['east'] }, {}, 0)).toEqual([]);
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
    expect(() => new RenderWorker().render(broken, ['east']).result()).toThrow(/^render worker: /);
  });
});
