import { MessageChannel, MessagePort, receiveMessageOnPort, Worker, workerData } from 'worker_threads';

import { Diagnostic, InputError } from '../diagnostics';
import { renderCluster } from './overlays';
import { COMPILED } from '../package-root';
import { PhasePlan, Plan } from '../plan/types';

/**
 * Rendering (cdk8s charts and YAML) is most of synth's time and each cluster renders alone from plain
 * plan data, so a large federation shares its clusters between two threads: a worker takes them from
 * the front of the list while the main thread runs the checks and writes plan.json, the runbooks and
 * the peer bundles, then takes what is left from the back. Each cluster is claimed once, with an atomic
 * compare-and-swap on a shared slot, so neither thread waits for a share fixed in advance to be right
 * for this machine. The output is the same as rendering everything on one thread
 * (test/render-worker.test.ts); small federations stay on one thread, where starting one costs more than
 * it saves.
 */

/** Plans with fewer objects than this render on one thread. */
export const PARALLEL_MIN_OBJECTS = 10_000;

const FREE = 0;
const WORKER = 1;
const MAIN = 2;

interface Setup {
  readonly port: MessagePort;
  readonly done: Int32Array;
}
/** First message to the worker: the claim slots, one per shared cluster, and a count of plans posted. */
interface Share {
  readonly claims: Int32Array;
  readonly posted: Int32Array;
}
/** The files, an input error as its diagnostics (plain data: re-thrown as an InputError), or anything else. */
type Reply = { files: [string, [string, string][]][] } | { diagnostics: Diagnostic[] } | { error: string };

/** The clusters the two threads share: every local cluster of a large plan; none for small plans, one cluster or MESHFED_THREADS=1. */
export function sharedClusters(plan: Plan, env: NodeJS.ProcessEnv = process.env, minObjects = PARALLEL_MIN_OBJECTS): string[] {
  const total = plan.local.reduce((n, c) => n + plan.byCluster[c].reduce((m, p) => m + p.adds.length, 0), 0);
  if (env.MESHFED_THREADS === '1' || total < minObjects || plan.local.length < 2) return [];
  return [...plan.local];
}

/**
 * A worker thread that renders clusters. It starts (and loads the renderer, most of a second) as soon
 * as it is created — synth creates it before loading the input when the input is large — and renders
 * once `share` hands it the clusters; `renderRest()` renders on the calling thread what it has not
 * taken, `result()` waits for what it has.
 */
export class RenderWorker {
  private readonly worker: Worker;
  private readonly port: MessagePort;
  private readonly done = new Int32Array(new SharedArrayBuffer(4));
  private shared?: { plan: Plan; clusters: string[]; claims: Int32Array };

  /**
   * `loader`: the module whose `register()` lets the worker require TypeScript (tests pass a missing one); none
   * when this file is compiled JavaScript (an installed package: no TypeScript at run time).
   */
  constructor(loader: string | undefined = COMPILED ? undefined : tsxLoader()) {
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    const setup: Setup = { port: port2, done: this.done };
    this.worker = new Worker(workerSource(loader), {
      eval: true,
      workerData: setup,
      transferList: [port2],
      execArgv: [],
      // The young generation the app gives the main thread (--max-semi-space-size=64): less GC.
      resourceLimits: { maxYoungGenerationSizeMb: 192 },
    });
    // A worker that dies outside serve() emits 'error' once the main thread is idle again, which is after
    // synth has written dist/ and returned: without a listener that error would end the process with exit
    // 1. What the worker was for has been settled by then (result() got a reply, or it was cancelled).
    this.worker.on('error', () => undefined);
    this.worker.unref();
  }

  /**
   * Share `clusters` with the worker, in this order. Their phase plans are posted one message each, so
   * the worker copies in only the plans of the clusters it takes.
   */
  share(plan: Plan, clusters: string[]): this {
    const claims = new Int32Array(new SharedArrayBuffer(4 * clusters.length));
    const posted = new Int32Array(new SharedArrayBuffer(4));
    this.shared = { plan, clusters, claims };
    this.port.postMessage({ claims, posted } satisfies Share);
    for (const c of clusters) {
      this.port.postMessage(plan.byCluster[c]);
      Atomics.add(posted, 0, 1);
      Atomics.notify(posted, 0);
    }
    return this;
  }

  /** Render here, from the back of the list, every shared cluster the worker has not taken yet. */
  renderRest(): Map<string, Map<string, string>> {
    const { plan, clusters, claims } = this.required();
    const out = new Map<string, Map<string, string>>();
    for (let i = clusters.length - 1; i >= 0 && Atomics.compareExchange(claims, i, FREE, MAIN) === FREE; i--)
      out.set(clusters[i], renderCluster(plan.byCluster[clusters[i]]));
    return out;
  }

  /** Blocks until the worker is done; its files per cluster. Throws what the worker threw. */
  result(): Map<string, Map<string, string>> {
    this.required();
    Atomics.wait(this.done, 0, 0);
    const reply = receiveMessageOnPort(this.port)?.message as Reply | undefined;
    void this.worker.terminate();
    if (!reply) throw new Error('the render worker ended without a result');
    if ('diagnostics' in reply) throw new InputError(reply.diagnostics);
    if ('error' in reply) throw new Error(`render worker: ${reply.error}`);
    return new Map(reply.files.map(([c, files]) => [c, new Map(files)]));
  }

  /** Stop the worker without waiting for it (nothing to render, or synth failed on the main thread). */
  cancel(): void {
    void this.worker.terminate();
  }

  private required(): NonNullable<RenderWorker['shared']> {
    if (!this.shared) throw new Error('meshfed bug: RenderWorker used before share()');
    return this.shared;
  }
}

export interface ClusterRenderingOptions {
  readonly threads: 'auto' | 1;
  /** Start the thread now, before the plan exists, so it loads the renderer while the input loads. */
  readonly early: boolean;
  readonly parallelMinObjects: number;
}

/**
 * The clusters' files, rendered on one thread or two: the only thing the pipeline knows about threads.
 * `start(plan)` hands a large plan's clusters to a second thread (or drops the early one for a small plan),
 * `finish()` renders what is left here and collects the rest, `cancel()` stops the thread on a failure.
 */
export class ClusterRendering {
  private worker?: RenderWorker;
  private plan?: Plan;
  private shared = false;

  constructor(private readonly opts: ClusterRenderingOptions) {
    if (opts.threads === 'auto' && opts.early) this.worker = new RenderWorker();
  }

  start(plan: Plan): void {
    this.plan = plan;
    const clusters = this.opts.threads === 1 ? [] : sharedClusters(plan, {}, this.opts.parallelMinObjects);
    if (clusters.length) {
      this.worker = (this.worker ?? new RenderWorker()).share(plan, clusters);
      this.shared = true;
    } else {
      this.worker?.cancel();
      this.worker = undefined;
    }
  }

  /** Every local cluster's files; `timings.wait` gets the time spent waiting for the other thread. */
  finish(timings: Record<string, number> = {}): Map<string, Map<string, string>> {
    const plan = this.plan;
    if (!plan) throw new Error('meshfed bug: ClusterRendering.finish() before start()');
    if (!this.worker || !this.shared) return new Map(plan.local.map((c) => [c, renderCluster(plan.byCluster[c])]));
    const mine = this.worker.renderRest();
    const start = process.hrtime.bigint();
    const theirs = this.worker.result();
    timings.wait = (timings.wait ?? 0) + Number(process.hrtime.bigint() - start) / 1e6;
    return new Map([...mine, ...theirs]);
  }

  cancel(): void {
    this.worker?.cancel();
  }
}

/**
 * tsx's CommonJS loader, resolved from meshfed's own folder. Code a worker evaluates resolves bare names
 * from the current directory (nodejs/node@01d3c44:lib/internal/process/execution.js, createModule:
 * `module.paths = CJSModule._nodeModulePaths(cwd)`), and in a repository that installs meshfed
 * (docs/input.md) that directory need not see meshfed's dependencies: installed from a local path,
 * node_modules/meshfed is a symbolic link and tsx sits in the link target's own node_modules. Resolving
 * from here finds it in either layout (this file's path is the link's target; a copied package finds
 * the user's hoisted node_modules further up).
 */
export function tsxLoader(): string {
  return require.resolve('tsx/cjs/api', { paths: [__dirname] });
}

/**
 * The code the worker starts with: register the loader (if any), then serve(). If that fails (no loader, a file
 * that does not compile), the failure is posted as the reply and `done` set, so result() throws it
 * rather than waiting for a worker that will never answer.
 */
function workerSource(loader: string | undefined): string {
  return `const { workerData } = require('worker_threads');
try {
  ${loader ? `require(${JSON.stringify(loader)}).register();` : '// compiled: nothing to register'}
  require(${JSON.stringify(__filename)}).serve();
} catch (e) {
  workerData.port.postMessage({ error: String((e && e.stack) || e) });
  workerData.port.close();
  Atomics.store(workerData.done, 0, 1);
  Atomics.notify(workerData.done, 0);
}`;
}

/** Worker side: take clusters from the front until the main thread has the rest, post the files, wake the main thread. */
export function serve(): void {
  const { port, done } = workerData as Setup;
  port.once('message', ({ claims, posted }: Share) => {
    let reply: Reply;
    try {
      // Plan i is the i-th message after this one (the main thread may still be posting it).
      const next = (): PhasePlan[] => {
        for (;;) {
          const seen = Atomics.load(posted, 0);
          const m = receiveMessageOnPort(port);
          if (m) return m.message as PhasePlan[];
          Atomics.wait(posted, 0, seen, 50);
        }
      };
      const files: [string, [string, string][]][] = [];
      for (let i = 0; i < claims.length && Atomics.compareExchange(claims, i, FREE, WORKER) === FREE; i++) {
        const phases = next();
        files.push([phases[0].cluster, [...renderCluster(phases)]]);
      }
      reply = { files };
    } catch (e) {
      reply = e instanceof InputError ? { diagnostics: [...e.diagnostics] } : { error: (e as Error).stack ?? String(e) };
    }
    port.postMessage(reply);
    port.close();
    Atomics.store(done, 0, 1);
    Atomics.notify(done, 0);
  });
}
