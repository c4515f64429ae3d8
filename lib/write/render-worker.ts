import { MessageChannel, MessagePort, receiveMessageOnPort, Worker, workerData } from 'worker_threads';

import { renderCluster } from './overlays';
import { PhasePlan, Plan } from '../plan/types';

/**
 * Rendering (cdk8s charts and YAML) is most of synth's time and each cluster renders alone from plain
 * plan data, so a large federation renders part of its clusters on a second thread while the main thread
 * runs the checks and renders the rest. The output is the same as rendering everything on one thread
 * (test/render-worker.test.ts); small federations stay on one thread, where starting one costs more than
 * it saves.
 */

/** Plans with fewer objects than this render on one thread. */
export const PARALLEL_MIN_OBJECTS = 10_000;
/** Share of the rendering the worker takes: the main thread also runs the checks meanwhile. */
const WORKER_SHARE = 0.8;

interface Setup {
  readonly port: MessagePort;
  readonly done: Int32Array;
}
type Reply = { files: [string, [string, string][]][] } | { error: string };

/** The clusters a worker should render: none for small plans or MESHFED_THREADS=1, else about WORKER_SHARE of the objects. */
export function workerClusters(plan: Plan, env: NodeJS.ProcessEnv = process.env, minObjects = PARALLEL_MIN_OBJECTS): string[] {
  const size = (c: string) => plan.byCluster[c].reduce((n, p) => n + p.adds.length, 0);
  const total = plan.local.reduce((n, c) => n + size(c), 0);
  if (env.MESHFED_THREADS === '1' || total < minObjects || plan.local.length < 2) return [];
  const out: string[] = [];
  let taken = 0;
  for (const c of plan.local) {
    if (taken >= total * WORKER_SHARE) break;
    out.push(c);
    taken += size(c);
  }
  return out.length === plan.local.length ? out.slice(0, -1) : out;
}

/**
 * A worker thread that renders some clusters. It starts (and loads the renderer, most of a second) as soon
 * as it is created — synth creates it before loading the input when the input is large — and renders
 * once `render` hands it the clusters; `result()` waits for it.
 */
export class RenderWorker {
  private readonly worker: Worker;
  private readonly port: MessagePort;
  private readonly done = new Int32Array(new SharedArrayBuffer(4));
  private started = false;

  constructor() {
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    const setup: Setup = { port: port2, done: this.done };
    // The worker loads TypeScript the way the app does (tsx), whether synth runs under tsx or jest.
    this.worker = new Worker(`require('tsx/cjs/api').register(); require(${JSON.stringify(__filename)}).serve();`, {
      eval: true,
      workerData: setup,
      transferList: [port2],
      execArgv: [],
      // The young generation the app gives the main thread (--max-semi-space-size=64): less GC.
      resourceLimits: { maxYoungGenerationSizeMb: 192 },
    });
    this.worker.unref();
  }

  /** Hand the worker its clusters (their phase plans are copied to it). */
  render(plan: Plan, clusters: string[]): this {
    this.started = true;
    this.port.postMessage(clusters.map((c) => plan.byCluster[c]));
    return this;
  }

  /** Blocks until the worker is done; its files per cluster. Throws what the worker threw. */
  result(): Map<string, Map<string, string>> {
    if (!this.started) throw new Error('meshfed bug: RenderWorker.result() before render()');
    Atomics.wait(this.done, 0, 0);
    const reply = receiveMessageOnPort(this.port)?.message as Reply | undefined;
    void this.worker.terminate();
    if (!reply) throw new Error('the render worker ended without a result');
    if ('error' in reply) throw new Error(`render worker: ${reply.error}`);
    return new Map(reply.files.map(([c, files]) => [c, new Map(files)]));
  }

  /** Stop the worker without waiting for it (nothing to render, or synth failed on the main thread). */
  cancel(): void {
    void this.worker.terminate();
  }
}

/** Worker side: wait for the clusters, render them, post the files, wake the main thread. */
export function serve(): void {
  const { port, done } = workerData as Setup;
  port.once('message', (clusters: PhasePlan[][]) => {
    let reply: Reply;
    try {
      reply = { files: clusters.map((phases) => [phases[0].cluster, [...renderCluster(phases)]]) };
    } catch (e) {
      reply = { error: (e as Error).stack ?? String(e) };
    }
    port.postMessage(reply);
    port.close();
    Atomics.store(done, 0, 1);
    Atomics.notify(done, 0);
  });
}
