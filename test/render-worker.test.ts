/**
 * Large federations render part of their clusters on a second thread (lib/write/render-worker.ts): the
 * output must be the same, byte for byte, as rendering everything on the main thread.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import { generateFederation } from '../bench/generate';
import { EXAMPLE_CLUSTERS, writeClusters } from './support/fixtures';
import { readTree } from './support/synth';
import { threeMeshSpecs } from './support/three-mesh';
import { InputError } from '../lib/diagnostics';
import { render } from '../lib/pipeline/render';
import { Plan } from '../lib/plan/types';
import { listFiles } from '../lib/write/atomic';
import { renderCluster } from '../lib/write/overlays';
import { PARALLEL_MIN_OBJECTS, RenderWorker, sharedClusters } from '../lib/write/render-worker';

const ROOT = path.join(__dirname, '..');
const EXAMPLES = path.join(ROOT, 'examples');

/** Run `script` (CommonJS, TypeScript through tsx) in a node of its own: a worker bug there may hang or end the process. */
function node(script: string): { code: number | null; stderr: string; stdout: string } {
  const res = spawnSync(process.execPath, ['-e', `require('tsx/cjs'); ${script}`], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  return { code: res.status, stderr: res.stderr, stdout: res.stdout };
}

describe('rendering on a second thread', () => {
  const inputs: [string, () => string][] = [
    ['the bundled example', () => EXAMPLE_CLUSTERS],
    ['three meshes', () => writeClusters(threeMeshSpecs())],
    ['egress on kubernetes', () => path.join(EXAMPLES, 'egress-kubernetes', 'clusters')],
    ['greenfield', () => path.join(EXAMPLES, 'greenfield', 'clusters')],
  ];
  test.each(inputs)('%s: the same files as one thread', (_name, dir) => {
    const clusters = dir();
    const one = render(clusters, { threads: 1, parallelMinObjects: 0 });
    const timings: Record<string, number> = {};
    const two = render(clusters, { timings, parallelMinObjects: 0 });
    expect(timings.wait).toBeDefined(); // the worker ran
    expect([...two.files.keys()]).toEqual([...one.files.keys()]);
    expect(two.files).toEqual(one.files);
  });

  test('small federations, MESHFED_THREADS=1 and single clusters stay on one thread; large ones share every cluster', () => {
    const plan = render(EXAMPLE_CLUSTERS).plan;
    expect(sharedClusters(plan)).toEqual([]);
    expect(sharedClusters(plan, {}, 0)).toEqual(plan.local);
    expect(plan.local.length).toBeGreaterThan(1);
    expect(sharedClusters(plan, { MESHFED_THREADS: '1' }, 0)).toEqual([]);
    expect(sharedClusters({ ...plan, local: ['east'] }, {}, 0)).toEqual([]);
  });

  test('each shared cluster is rendered once, by whichever thread takes it first', () => {
    const clusters = writeClusters(threeMeshSpecs());
    const { plan } = render(clusters, { threads: 1 });
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
    const plan = render(EXAMPLE_CLUSTERS).plan;
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

  test('an input error on the worker reaches the caller as the same InputError, its diagnostics intact', () => {
    const plan = render(EXAMPLE_CLUSTERS).plan;
    const workloads = Array.from({ length: 6000 }, (_, i) => ({
      kind: 'Deployment' as const,
      namespace: 'team',
      name: `service-${i}-api`,
    }));
    const tooLarge: Plan = {
      ...plan,
      byCluster: {
        ...plan.byCluster,
        east: plan.byCluster.east.map((p, i) =>
          i !== 3
            ? p
            : {
                ...p,
                adds: [
                  ...p.adds,
                  {
                    type: 'restartJob',
                    ref: { apiVersion: 'batch/v1', kind: 'Job', name: 'meshfed-restart-big', namespace: 'istio-system' },
                    serviceAccount: {
                      apiVersion: 'v1',
                      kind: 'ServiceAccount',
                      name: 'meshfed-restart-workloads',
                      namespace: 'istio-system',
                    },
                    image: 'example.com/cli:1',
                    annotation: 'meshfed.dev/restarted-for-revision',
                    value: 'rev',
                    workloads,
                  },
                ],
              },
        ),
      },
    };
    let thrown: unknown;
    try {
      new RenderWorker().share(tooLarge, ['east']).result();
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(InputError);
    expect((thrown as InputError).diagnostics[0].message).toMatch(/^Job istio-system\/meshfed-restart-big would carry \d+ steps/);
  });

  test('a worker that cannot start: result() throws why, and one nobody waits for does not end the process', () => {
    const worker = JSON.stringify(path.join(ROOT, 'lib', 'write', 'render-worker.ts'));
    const synth = JSON.stringify(path.join(ROOT, 'lib', 'pipeline', 'render.ts'));
    const examples = JSON.stringify(EXAMPLE_CLUSTERS);
    // Waited for: the reply carries the failure (without it, result() would wait forever).
    const waited = node(
      `const { RenderWorker } = require(${worker}); const { plan } = require(${synth}).render(${examples});
       try { new RenderWorker('/nonexistent/loader.js').share(plan, ['east']).result(); } catch (e) { console.log(e.message); }`,
    );
    expect(waited.code).toBe(0);
    expect(waited.stdout).toMatch(/^render worker: Error: Cannot find module '\/nonexistent\/loader.js'/);
    // Not waited for (synth cancelled it, or is done): an error the worker throws outside serve() (here a
    // loader that fails after it registered) reaches the main thread after synth has returned.
    const late = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'meshfed-loader-')), 'late.js');
    fs.writeFileSync(late, "exports.register = () => setTimeout(() => { throw new Error('late'); }, 0);\n");
    const idle = node(
      `const { RenderWorker } = require(${worker}); new RenderWorker(${JSON.stringify(late)}); setTimeout(() => {}, 2000);`,
    );
    expect(idle.stderr).toBe('');
    expect(idle.code).toBe(0);
  });
});

/**
 * docs/input.md, "meshfed as a dependency of your repository": with an input large enough for the
 * second thread, the worker must find its loader (tsx) from meshfed's folder, not from the user's.
 */
describe('meshfed installed in another repository renders a large input on two threads', () => {
  test('symlinked (npm install <path>) from the repository, copied (hoisted dependencies) from elsewhere: same dist/', () => {
    const user = fs.mkdtempSync(path.join(os.tmpdir(), 'meshfed-dep-'));
    generateFederation(path.join(user, 'clusters'), 6, 150);
    // synth starts the worker before loading an input this large, and shares clusters with it past PARALLEL_MIN_OBJECTS.
    const bytes = listFiles(path.join(user, 'clusters')).reduce((n, f) => n + fs.statSync(path.join(user, 'clusters', f)).size, 0);
    expect(bytes).toBeGreaterThanOrEqual(512 * 1024);
    const env = { ...process.env, MESHFED_CACHE: '0', NO_COLOR: '1' };
    const run = (cwd: string, bin: string, ...args: string[]) => {
      const res = spawnSync(bin, ['synth', ...args], { cwd, env, encoding: 'utf8', timeout: 120_000 });
      return {
        code: res.status,
        stderr: res.stderr
          .split('\n')
          .filter((l) => !/^warning MF\d+/.test(l))
          .join('\n'),
      };
    };

    // npm install --save-dev /path/to/meshfed: node_modules/meshfed is a link, meshfed's dependencies stay in its own folder.
    fs.mkdirSync(path.join(user, 'node_modules', '.bin'), { recursive: true });
    fs.symlinkSync(ROOT, path.join(user, 'node_modules', 'meshfed'));
    fs.symlinkSync(path.join('..', 'meshfed', 'bin', 'meshfed.js'), path.join(user, 'node_modules', '.bin', 'meshfed'));
    const linked = run(user, path.join(user, 'node_modules', '.bin', 'meshfed'));
    expect(linked.stderr).toMatch(/meshfed: 6 cluster\(s\), \d+ phase overlay\(s\), \d+ file\(s\) in dist\/: \d+ new/);
    expect(linked.code).toBe(0);
    const plan = JSON.parse(fs.readFileSync(path.join(user, 'dist', 'plan.json'), 'utf8')) as {
      clusters: Record<string, { phases: { adds: string[] }[] }>;
    };
    const objects = Object.values(plan.clusters).reduce((n, c) => n + c.phases.reduce((m, p) => m + p.adds.length, 0), 0);
    expect(objects).toBeGreaterThanOrEqual(PARALLEL_MIN_OBJECTS);

    // A copied package with its dependencies hoisted beside it, run from a folder with no node_modules.
    const other = fs.mkdtempSync(path.join(os.tmpdir(), 'meshfed-dep-'));
    const pkg = path.join(other, 'repo', 'node_modules', 'meshfed');
    for (const f of ['bin', 'lib', 'imports', 'schema', 'main.ts', 'package.json', 'package-lock.json'])
      fs.cpSync(path.join(ROOT, f), path.join(pkg, f), { recursive: true });
    for (const dep of fs.readdirSync(path.join(ROOT, 'node_modules')).filter((d) => !d.startsWith('.')))
      fs.symlinkSync(path.join(ROOT, 'node_modules', dep), path.join(other, 'repo', 'node_modules', dep));
    const cwd = path.join(other, 'elsewhere');
    fs.mkdirSync(cwd);
    const copied = run(
      cwd,
      path.join(pkg, 'bin', 'meshfed.js'),
      '--clusters',
      path.join(user, 'clusters'),
      '--out',
      path.join(other, 'dist'),
    );
    expect(copied.code).toBe(0);
    expect(readTree(path.join(other, 'dist'))).toEqual(readTree(path.join(user, 'dist')));
  });
});
