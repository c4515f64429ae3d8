/**
 * Rehearse every pointer move of one cluster on the twin: start from the cluster as its dumps show it
 * running, sync each phase's render in turn with Argo CD or Flux, and after each forward move also try, on
 * a fork of that state, the rollback the runbook allows, deleting the Application or Kustomizations, and a
 * failed reconcile of the SMCP's new spec. Each move is judged by what the systems that apply `dist/` would
 * do (docs/gitops.md "The rehearsal twin"):
 *
 * 1. the sync completes (Argo CD: Succeeded and Healthy; Flux: every Kustomization Ready) within the horizon;
 * 2. nothing that runs is lost: an object present before the move is gone after it only when the render
 *    deletes it on purpose (its plan.json lists it for that phase), when meshfed's own GitOps created it and
 *    the new phase no longer declares it, or when an operator removes what it owns;
 * 3. every object the new phase declares exists afterwards, and no Service changes its address;
 * 4. no pod is covered by two PodDisruptionBudgets (a node drain would stall on it);
 * 5. nothing flaps: once synced, a self-heal round changes nothing;
 * 6. a Job that probes traffic (the verify Job) completes after every Job of the move that restarts workloads:
 *    otherwise "verified" describes the pods from before the restart;
 * and for the forks: a rollback restores everything the earlier phase had (same Service addresses), deleting
 * the GitOps objects deletes nothing that runs, and a failed reconcile fails the sync rather than hanging it.
 */
import { ArgoCd } from './argocd';
import { AuthzBreak } from './authz-flows';
import { Cluster, Controller } from './cluster';
import { IstiodController } from './controllers/istiod';
import { evictionBlockers, parseSteps } from './controllers/kube';
import { describeBreak, FlowBaseline, flowBaseline, FlowBreak, FlowWatch } from './flows';
import { Flux } from './flux';
import { describeShared, GatewayOwnerWatch } from './gateway-watch';
import { argoHealthFrom, fluxHealth } from './health';
import { buildKustomization, isObject, KustomizeError, parseAll } from './kustomize';
import { hookTypes, keyOf, label, metadata, Obj, ownerReferences, Ref, refKey, refOf, valueAt } from './objects';
import { describeBreach, RestartWatch } from './restart-watch';
import { FileTree, repoTree } from './tree';
import { EngineResult } from './types';
import { MigrationPhase, PHASES } from '../phases';
import { compareStrings } from '../sort';

export type Engine = 'argocd' | 'flux';
export type Scenario = 'forward' | 'rollback' | 'delete' | 'failed-reconcile';

/** The world the twin simulates: how a cluster is built from its dumps, and its operators. */
export interface World {
  /** The cluster as it runs before GitOps (from the dumps), with its controllers, settled. */
  live(dumps: readonly Obj[]): Cluster;
  /** Fresh controllers for a fork; `failReconcile`: the OSSM 2 operator fails every new SMCP generation. */
  controllers(opts?: { failReconcile?: boolean }): Controller[];
}

export interface RehearsalInput {
  readonly cluster: string;
  readonly dumps: readonly Obj[];
  /** dist/ as rendered with this cluster's pointer at each phase (the phases written, in order). */
  readonly renders: ReadonlyMap<MigrationPhase, FileTree>;
  readonly engines?: readonly Engine[];
  /** Only the moves into these phases are judged (all by default); the moves before them are replayed to get there. */
  readonly judge?: readonly MigrationPhase[];
  /** Scenarios to run besides `forward` (all by default). */
  readonly scenarios?: readonly Exclude<Scenario, 'forward'>[];
  /**
   * Callers the user named (clusters/<c>/cluster.yaml spec.exposure.callers, `<td>/ns/<ns>/sa/<sa>`): Istio treats
   * the same namespace and account in every trust domain of the bundle as one identity, so these may gain access.
   */
  readonly declaredCallers?: readonly string[];
}

export interface RehearsalFinding {
  readonly cluster: string;
  readonly engine: Engine;
  readonly scenario: Scenario;
  /** `02-export → 03-import`; the first sync is `live → 00-federation`. */
  readonly move: string;
  readonly stage?: string;
  readonly object?: string;
  readonly why: string;
  readonly fix: string;
}

export interface MoveRecord {
  readonly cluster: string;
  readonly engine: Engine;
  readonly scenario: Scenario;
  readonly move: string;
  readonly ok: boolean;
  /** Virtual seconds the sync took. */
  readonly seconds: number;
  /** Why the sync failed, in the engine's words (Flux: the Ready condition's message). */
  readonly failure?: string;
}

export interface RehearsalReport {
  readonly findings: RehearsalFinding[];
  readonly moves: MoveRecord[];
}

/** How long operators get after a sync before the state is judged (virtual seconds). */
const SETTLE_SECONDS = 600;

/** Objects that come and go by design: pods and what controllers derive, hook Jobs, the GitOps engines' own objects. */
const EPHEMERAL = new Set(['Pod', 'ReplicaSet', 'Endpoints', 'Job', 'Event', 'ControllerRevision', 'Lease']);
const GITOPS_GROUPS = new Set(['argoproj.io', 'kustomize.toolkit.fluxcd.io', 'source.toolkit.fluxcd.io']);

function durable(o: Obj): boolean {
  const r = refOf(o);
  return !EPHEMERAL.has(r.kind) && !GITOPS_GROUPS.has(r.group);
}

type Snapshot = Map<string, Obj>;

function snapshot(cluster: Cluster): Snapshot {
  return new Map(cluster.list(durable).map((o) => [keyOf(o), o]));
}

/** One engine applying the render at a pointer to a cluster. */
interface Driver {
  sync(render: FileTree): EngineResult;
  /** Objects a self-heal round re-applies (Argo CD); none for Flux, which re-applies on its interval. */
  selfHeal(render: FileTree): Ref[];
  /** Delete the GitOps objects the way an operator would (Argo CD: cascade, the CLI and UI default). */
  deleteAll(render: FileTree): Ref[];
}

function argoDriver(cluster: Cluster, name: string): Driver {
  let engine: ArgoCd | undefined;
  const app = (render: FileTree) => application(render, name);
  const argo = (render: FileTree) => (engine ??= new ArgoCd(cluster, argoHealthFrom(render)));
  return {
    sync: (render) => argo(render).sync(app(render), repoOf(render, app(render))),
    selfHeal: (render) => argo(render).selfHeal(app(render), repoOf(render, app(render))),
    deleteAll: (render) => argo(render).deleteApplication(app(render), true).deleted,
  };
}

function fluxDriver(cluster: Cluster, name: string): Driver {
  const flux = new Flux(cluster, fluxHealth);
  return {
    sync: (render) => {
      const prefix = gitopsPrefix(render, name);
      return flux.reconcile(repoTree(render, prefix), `${prefix ? `${prefix}/` : ''}flux/${name}`);
    },
    selfHeal: () => [],
    // What an operator deletes to stop the delivery: the Kustomization that applies dist/flux/<cluster> (the one
    // bootstrap-<cluster>.yaml creates), as `kubectl delete -f` or `flux delete kustomization` would; its
    // deletionPolicy decides what goes with it, and the Kustomizations it applied stay unless that policy deletes them.
    deleteAll: (render) => {
      const root = `${gitopsPrefix(render, name) ? `${gitopsPrefix(render, name)}/` : ''}flux/${name}`;
      return cluster
        .list((o) => o.kind === 'Kustomization' && refOf(o).group === 'kustomize.toolkit.fluxcd.io')
        .filter((k) => String((k.spec as { path?: string } | undefined)?.path ?? '').replace(/^\.\//, '') === root)
        .flatMap((k) => flux.deleteKustomization(refOf(k).name, refOf(k).namespace).deleted);
    },
  };
}

function driver(engine: Engine, cluster: Cluster, name: string): Driver {
  return engine === 'argocd' ? argoDriver(cluster, name) : fluxDriver(cluster, name);
}

/** The Application meshfed renders for a cluster (dist/argocd/application-<cluster>.yaml). */
export function application(render: FileTree, cluster: string): Obj {
  const file = `argocd/application-${cluster}.yaml`;
  const text = render.read(file);
  if (text === undefined) throw new Error(`${file} is not in the render: rehearsing needs clusters/gitops.yaml`);
  const [app] = parseAll(text, file);
  return app;
}

/** The folder the GitOps repository mounts dist/ at (gitops.yaml spec.path), read from the Application's path. */
function gitopsPrefix(render: FileTree, cluster: string): string {
  const app = application(render, cluster);
  const spec = isObject(app.spec) ? app.spec : {};
  const source = isObject(spec.source) ? spec.source : Array.isArray(spec.sources) && isObject(spec.sources[0]) ? spec.sources[0] : {};
  const p = String(source.path ?? '');
  const parts = p.split('/');
  const at = parts.lastIndexOf(cluster);
  return at < 0 ? '' : parts.slice(0, at).join('/');
}

function repoOf(render: FileTree, app: Obj): FileTree {
  const name = String(metadata(app).labels && (metadata(app).labels as Record<string, string>)['meshfed.dev/cluster']);
  return repoTree(render, gitopsPrefix(render, name));
}

/** Every object the phase's Application builds for the cluster, hooks included (throws what the build refuses). */
function applicationObjects(render: FileTree, cluster: string): Obj[] {
  const app = application(render, cluster);
  const spec = isObject(app.spec) ? app.spec : {};
  const sources = isObject(spec.source) ? [spec.source] : Array.isArray(spec.sources) ? spec.sources.filter(isObject) : [];
  const repo = repoOf(render, app);
  return sources.flatMap((s) => buildKustomization(repo, String(s.path)));
}

const withoutHooks = (objs: Obj[]) => objs.filter((o) => hookTypes(o).length === 0);

/** What the phase declares for the cluster: every source of its Application, built (hooks left out). */
export function declared(render: FileTree, cluster: string): Obj[] {
  return withoutHooks(applicationObjects(render, cluster));
}

/**
 * applicationObjects(), or undefined when the phase's kustomization does not build: the engine reports that as the
 * move's failure (its sync stops at the build, as Argo CD's and Flux's do), and what the judges below would read does
 * not exist.
 */
function builtIfBuilds(render: FileTree, cluster: string): Obj[] | undefined {
  try {
    return applicationObjects(render, cluster);
  } catch (e) {
    if (e instanceof KustomizeError) return undefined;
    throw e;
  }
}

/** The Jobs the phase's Application builds (hooks included), by what their steps do: probe traffic, restart workloads. */
function jobsByRole(render: FileTree, cluster: string): { probes: Obj[]; restarts: Obj[] } {
  const jobs = (builtIfBuilds(render, cluster) ?? []).filter((o) => o.kind === 'Job');
  const does = (op: string) => (j: Obj) => {
    const steps = parseSteps(j);
    return typeof steps !== 'string' && steps.some((s) => s.op === op);
  };
  return { probes: jobs.filter(does('probe')), restarts: jobs.filter(does('restart')) };
}

/** When each Job completed since `since` (the Job controller's last `Completed` event), by `Job ns/name`. */
function completions(cluster: Cluster, since: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const e of cluster.events)
    if (e.t >= since && e.actor === 'job-controller' && e.ref?.startsWith('Job ') && e.message.startsWith('Completed')) out.set(e.ref, e.t);
  return out;
}

/**
 * Judgement 7: on a healthy cluster every meshfed Job succeeds at its first attempt. A pod that failed and was
 * retried (the Job's backoffLimit) still lets the sync pass, but the operator sees a failed pod — after what it did
 * before failing, the SMCP deletion of 07 say — and the runbook's abort rule says "a Job failed". The twin's pods
 * fail only for what the render got wrong (RBAC, a step that cannot succeed).
 */
function judgeFailedAttempts(
  cluster: Cluster,
  since: number,
  add: (f: Omit<RehearsalFinding, 'cluster' | 'engine' | 'scenario' | 'move'>) => void,
): void {
  const seen = new Set<string>();
  for (const e of cluster.events) {
    if (e.t < since || e.actor !== 'job' || !e.ref?.startsWith('Pod ')) continue;
    const job = e.message.match(/^pod (.+)-x*[0-9a-z]{1,5} failed: /)?.[1] ?? e.ref;
    if (seen.has(job)) continue;
    seen.add(job);
    add({
      stage: 'hook',
      object: e.ref,
      why: `a pod of Job ${job} failed (the Job retried it): ${e.message}.`,
      fix: `a meshfed Job must succeed at its first attempt on a healthy cluster: grant what the failing step needs, or fix the step.${BUG}`,
    });
  }
}

/** Judgement 6: a verify Job that completed before a restart Job of the same move tested the old pods. */
function judgeJobOrder(
  render: FileTree,
  cluster: string,
  done: Map<string, number>,
  add: (f: Omit<RehearsalFinding, 'cluster' | 'engine' | 'scenario' | 'move'>) => void,
): void {
  const { probes, restarts } = jobsByRole(render, cluster);
  for (const v of probes) {
    const verified = done.get(label(refOf(v)));
    if (verified === undefined) continue;
    for (const r of restarts) {
      const restarted = done.get(label(refOf(r)));
      if (restarted === undefined || restarted <= verified) continue;
      add({
        stage: 'hook',
        object: label(refOf(v)),
        why:
          `${label(refOf(v))} completed at ${verified} s, before ${label(refOf(r))} (${restarted} s): its probes tested the pods ` +
          'from before the restart, so "traffic verified" says nothing about the restarted workloads.',
        fix: `the verify Job must wait for the phase's restart Jobs (a wait-job step) before it probes.${BUG}`,
      });
    }
  }
}

/** The objects the render's plan.json says this phase deletes on purpose (`Kind/ns/name (apiVersion)`). */
function intendedDeletes(render: FileTree, cluster: string, phase: MigrationPhase): Set<string> {
  const text = render.read('plan.json');
  const out = new Set<string>();
  if (!text) return out;
  const plan = JSON.parse(text) as { clusters?: Record<string, { phases?: { phase: string; deletes?: string[] }[] }> };
  for (const p of plan.clusters?.[cluster]?.phases ?? []) {
    if (p.phase !== phase) continue;
    for (const d of p.deletes ?? []) {
      const m = /^([^/ ]+)\/(?:([^/ ]+)\/)?([^/ ]+) \(([^)]+)\)$/.exec(d);
      if (!m) continue;
      const [, kind, ns, name, apiVersion] = m;
      const group = apiVersion.includes('/') ? apiVersion.slice(0, apiVersion.lastIndexOf('/')) : '';
      out.add(refKey({ group, kind, namespace: ns ?? '', name }));
    }
  }
  return out;
}

/** Does the render's plan.json patch or delete the SMCP in this phase (a new generation the operator must reconcile)? */
function changesSmcp(render: FileTree, cluster: string, phase: MigrationPhase): boolean {
  const text = render.read('plan.json');
  if (!text) return false;
  const plan = JSON.parse(text) as { clusters?: Record<string, { phases?: { phase: string; patches?: { target: string }[] }[] }> };
  const p = plan.clusters?.[cluster]?.phases?.find((x) => x.phase === phase);
  return (p?.patches ?? []).some((x) => x.target.startsWith('ServiceMeshControlPlane/'));
}

/** A ServiceMeshMember Maistra's member roll made (and deletes when its namespace stops matching): memberroll/controller.go:534-536. */
function createdByMaistra(o: Obj): boolean {
  const a = metadata(o).annotations;
  return isObject(a) && a['maistra.io/created-by'] === 'servicemeshmemberroll-controller';
}

function labelOf(o: Obj, key: string): string | undefined {
  const l = metadata(o).labels;
  return isObject(l) && typeof l[key] === 'string' ? (l[key] as string) : undefined;
}

/**
 * What a Service's clients outside the cluster reach it by: its load balancer's addresses and its node ports
 * (peers pin both: ServiceMeshPeer spec.remote.addresses and servicePort). A new cluster IP is harmless to
 * in-cluster clients, which resolve the name.
 */
function address(o: Obj | undefined): string {
  if (!o || o.kind !== 'Service') return '';
  const spec = isObject(o.spec) ? o.spec : {};
  const status = isObject(o.status) ? o.status : {};
  const lb = isObject(status.loadBalancer) && Array.isArray(status.loadBalancer.ingress) ? status.loadBalancer.ingress : [];
  const nodePorts = (Array.isArray(spec.ports) ? spec.ports : [])
    .filter(isObject)
    .filter((p) => p.nodePort !== undefined)
    .map((p) => `${String(p.port)}:${String(p.nodePort)}`)
    .sort(compareStrings);
  return JSON.stringify([lb, nodePorts]);
}

function describeAddress(o: Obj): string {
  const spec = isObject(o.spec) ? o.spec : {};
  const status = isObject(o.status) ? o.status : {};
  const lb = isObject(status.loadBalancer) && Array.isArray(status.loadBalancer.ingress) ? status.loadBalancer.ingress : [];
  const ext = lb.map((i) => (isObject(i) ? String(i.ip ?? i.hostname ?? '') : '')).filter(Boolean);
  const nodePorts = (Array.isArray(spec.ports) ? spec.ports : []).map((p) => (isObject(p) ? p.nodePort : undefined)).filter(Boolean);
  return `external ${ext.length ? ext.join(', ') : 'none'}${nodePorts.length ? `, node ports ${nodePorts.join(', ')}` : ''}`;
}

/**
 * The federation gateways' Services while a phase declares no ExportedServiceSet or ImportedServiceSet: the peers
 * connect to them but nothing crosses them (04 to 07), so a new address there breaks no traffic — it matters
 * again only if a rollback reaches 03, which its own move judges.
 */
function idleFederationGateways(render: FileTree, cluster: string): Set<string> {
  const objs = builtIfBuilds(render, cluster) ?? [];
  if (objs.some((o) => o.kind === 'ExportedServiceSet' || o.kind === 'ImportedServiceSet')) return new Set();
  const out = new Set<string>();
  for (const peer of objs.filter((o) => o.kind === 'ServiceMeshPeer')) {
    const ns = String(metadata(peer).namespace ?? '');
    for (const dir of ['ingress', 'egress']) {
      const name = valueAt(peer, ['spec', 'gateways', dir, 'name']);
      if (typeof name === 'string') out.add(refKey({ group: '', kind: 'Service', namespace: ns, name }));
    }
  }
  return out;
}

/** Objects whose owner chain leads to one of `gone` (what the garbage collector removes with them). */
function ownedByAny(o: Obj, before: Snapshot, goneUids: Set<string>): boolean {
  const seen = new Set<string>();
  let frontier = ownerReferences(o);
  while (frontier.length) {
    const next: typeof frontier = [];
    for (const r of frontier) {
      if (goneUids.has(r.uid)) return true;
      if (seen.has(r.uid)) continue;
      seen.add(r.uid);
      const owner = [...before.values()].find((x) => metadata(x).uid === r.uid);
      if (owner) next.push(...ownerReferences(owner));
    }
    frontier = next;
  }
  return false;
}

function pruner(engine: Engine): string {
  return engine === 'argocd' ? 'Argo CD prunes' : 'Flux garbage-collects';
}

/** Objects the engine pruned (Argo CD's prune, Flux's garbage collection) that existed before meshfed. */
function prunedPreexisting(result: EngineResult, initial: Snapshot): Ref[] {
  const seen = new Set<string>();
  return result.steps
    .filter((s) => s.action === 'prune' && s.object && initial.has(refKey(s.object)))
    .map((s) => s.object!)
    .filter((r) => !seen.has(refKey(r)) && seen.add(refKey(r)) !== undefined);
}

/** Why a sync failed, and what would fix it, from the engine's own message. */
function fixFor(reason: string): string {
  if (/serviceaccount "[^"]+" not found|error looking up service account/.test(reason))
    return 'a workload syncs before its ServiceAccount exists: the ServiceAccount must sync in an earlier or the same wave.';
  if (/no matches for kind|could not find the requested resource|not served/i.test(reason))
    return 'the object is written in an API version the control plane running at this phase does not serve: write it in a version both serve.';
  if (/field is immutable/.test(reason)) return 'the render pins a field the API server will not change (render it without that field).';
  if (/Job|hook/i.test(reason)) return "a hook Job fails or never finishes: read the Job's failing step above.";
  return 'read the stage and object above.';
}

const BUG = ' If the render is meshfed’s own, unedited, this is a meshfed bug: report it with this message.';

/** Rehearse one cluster's moves with each engine. */
export function rehearseCluster(input: RehearsalInput, world: World): RehearsalReport {
  const findings: RehearsalFinding[] = [];
  const moves: MoveRecord[] = [];
  const phases = PHASES.filter((p) => input.renders.has(p));
  const scenarios = new Set(input.scenarios ?? ['rollback', 'delete', 'failed-reconcile']);
  const judged = (p: MigrationPhase) => !input.judge || input.judge.includes(p);
  for (const engine of input.engines ?? ['argocd', 'flux']) {
    const cluster = world.live(input.dumps);
    // Looks at every tick of every sync: the flows through NetworkPolicies and AuthorizationPolicies (lib/twin/flows.ts).
    const declared = new Set((input.declaredCallers ?? []).map((p) => p.split('/').slice(1).join('/')));
    const flows = new FlowWatch(declared);
    cluster.controllers.push(flows);
    // And how many workloads the restart Jobs roll at once (lib/twin/restart-watch.ts).
    const restarts = new RestartWatch();
    cluster.controllers.push(restarts);
    // And which istiods deploy each Gateway API Gateway (lib/twin/gateway-watch.ts).
    const istiod = cluster.controllers.find((c): c is IstiodController => c instanceof IstiodController);
    const gateways = istiod ? new GatewayOwnerWatch(istiod) : undefined;
    if (gateways) cluster.controllers.push(gateways);
    const initial = snapshot(cluster);
    const sync = driver(engine, cluster, input.cluster);
    let before = initial;
    let previous: { phase: MigrationPhase; snap: Snapshot; flows?: FlowBaseline } | undefined;
    for (const phase of phases) {
      const render = input.renders.get(phase)!;
      const move = `${previous?.phase ?? 'live'} → ${phase}`;
      const add = (scenario: Scenario, f: Omit<RehearsalFinding, 'cluster' | 'engine' | 'scenario' | 'move'>) =>
        findings.push({ cluster: input.cluster, engine, scenario, move, ...f });
      // The OSSM 3 operator is installed before 05 (its pre-flight checks it), never earlier.
      if (phase === '05-install-ossm3') cluster.setInstalled({ ...cluster.operators, ossm3: true });
      if (judged(phase) && scenarios.has('failed-reconcile') && previous && changesSmcp(render, input.cluster, phase)) {
        const fork = cluster.clone(world.controllers({ failReconcile: true }));
        const r = driver(engine, fork, input.cluster).sync(render);
        moves.push({
          cluster: input.cluster,
          engine,
          scenario: 'failed-reconcile',
          move,
          ok: r.ok,
          seconds: r.seconds,
          ...(r.failure ? { failure: r.failure.reason } : {}),
        });
        if (r.ok || r.failure?.kind === 'hangs')
          add('failed-reconcile', {
            stage: r.failure?.stage,
            why:
              `when the OSSM 2 operator fails to reconcile the SMCP's new spec, the sync ${r.ok ? 'reports success' : 'never ends'}` +
              `${r.failure ? ` (${r.failure.reason})` : ''}: the operator cannot tell a failed move from a slow one.`,
            fix:
              "the SMCP's health check must report Maistra's failure reasons (Reconciled=False) as Degraded " +
              `before waiting for observedGeneration.${BUG}`,
          });
      }
      const moveStart = cluster.now;
      flows.begin(cluster);
      restarts.begin(cluster);
      gateways?.begin(cluster);
      const result = sync.sync(render);
      cluster.advance(SETTLE_SECONDS);
      const flowBreaks = flows.end(cluster);
      const authzBreaks = flows.authzEnd();
      const breach = restarts.end(cluster);
      const shared = gateways?.end(cluster) ?? [];
      moves.push({ cluster: input.cluster, engine, scenario: 'forward', move, ok: result.ok, seconds: result.seconds });
      const after = snapshot(cluster);
      if (judged(phase)) {
        if (!result.ok) {
          const f = result.failure!;
          add('forward', {
            stage: f.stage,
            object: f.object && label(f.object),
            why: `the sync ${f.kind === 'hangs' ? 'never completes' : 'fails'}: ${f.reason}`,
            fix: fixFor(f.reason) + BUG,
          });
        }
        judgeForward(render, input.cluster, phase, { initial, before, after, synced: result.ok }, (f) => add('forward', f));
        judgeJobOrder(render, input.cluster, completions(cluster, moveStart), (f) => add('forward', f));
        if (result.ok) judgeFailedAttempts(cluster, moveStart, (f) => add('forward', f));
        for (const b of flowBreaks) add('forward', flowFinding(b, result));
        for (const b of authzBreaks) add('forward', authzFinding(b, result));
        if (breach)
          add('forward', {
            stage: 'hook',
            why: describeBreach(breach),
            fix: `a restart Job must wait for its rollouts before it patches more, and no two restart Jobs may run at once.${BUG}`,
          });
        for (const g of shared)
          add('forward', {
            object: `Gateway ${g.gateway}`,
            why: describeShared(g),
            fix:
              'label the Gateway itself istio.io/rev=<revision> and maistra.io/ignore=true no later than its namespace is relabelled ' +
              `(sail-operator docs/ossm/ossm2-migration/gateway-migration.md, "Gateway-API").${BUG}`,
          });
        const intended = intendedDeletes(render, input.cluster, phase);
        for (const o of prunedPreexisting(result, initial).filter((r) => !intended.has(refKey(r))))
          add('forward', {
            stage: 'prune',
            object: label(o),
            why: `${pruner(engine)} ${label(o)}, which ran before meshfed, though ${phase} does not delete it.`,
            fix: `an object that existed before meshfed must carry the keep annotations (Argo CD Prune=false, Flux prune: disabled).${BUG}`,
          });
        for (const b of evictionBlockers(cluster))
          add('forward', {
            object: label(b.pod),
            why: `pod ${label(b.pod)} is covered by ${b.pdbs.map(label).join(' and ')}: the eviction API refuses it, so node drains stall.`,
            fix: `only one PodDisruptionBudget may select a pod.${BUG}`,
          });
        if (result.ok) {
          const healed = sync.selfHeal(render);
          cluster.advance(SETTLE_SECONDS);
          const again = sync.selfHeal(render);
          if (healed.length && again.length)
            add('forward', {
              stage: 'self-heal',
              object: label(again[0]),
              why:
                `${again.map(label).join(', ')} keep changing after the sync: an operator rewrites what Argo CD applied, ` +
                'and self-heal re-applies it, forever.',
              fix: `do not declare fields an operator owns on adopted objects, or track resources by annotation (Argo CD 3.x default).${BUG}`,
            });
        }
        if (previous && scenarios.has('rollback')) rehearseRollback(previous, render, phase);
        if (scenarios.has('delete')) rehearseDelete(render);
      }
      // What a rollback to this phase must keep: its objects, and the flows that work here.
      previous = { phase, snap: snapshot(cluster), ...(scenarios.has('rollback') ? { flows: flowBaseline(cluster) } : {}) };
      before = after;

      function rehearseRollback(
        prev: { phase: MigrationPhase; snap: Snapshot; flows?: FlowBaseline },
        current: FileTree,
        at: MigrationPhase,
      ): void {
        const back = `${at} → ${prev.phase}`;
        const fork = cluster.clone(world.controllers());
        // Judged at every tick against the flows of the phase it returns to.
        const watch = new FlowWatch(declared);
        fork.controllers.push(watch);
        watch.begin(fork, prev.flows);
        const r = driver(engine, fork, input.cluster).sync(input.renders.get(prev.phase)!);
        fork.advance(SETTLE_SECONDS);
        const rollbackFlows = watch.end(fork).filter((b) => b.worked);
        const rollbackAuthz = watch.authzEnd();
        moves.push({ cluster: input.cluster, engine, scenario: 'rollback', move: back, ok: r.ok, seconds: r.seconds });
        const radd = (f: Omit<RehearsalFinding, 'cluster' | 'engine' | 'scenario' | 'move'>) =>
          findings.push({ cluster: input.cluster, engine, scenario: 'rollback', move: back, ...f });
        for (const b of rollbackFlows) radd(flowFinding(b, r, `it works at ${prev.phase}, the phase the rollback returns to`));
        for (const b of rollbackAuthz) radd(authzFinding(b, r, prev.phase));
        if (!r.ok)
          radd({
            stage: r.failure!.stage,
            object: r.failure!.object && label(r.failure!.object),
            why: `the rollback ${r.failure!.kind === 'hangs' ? 'never completes' : 'fails'}: ${r.failure!.reason}`,
            fix: fixFor(r.failure!.reason) + BUG,
          });
        for (const o of prunedPreexisting(r, initial))
          radd({
            stage: 'prune',
            object: label(o),
            why:
              `rolling back from ${at}, ${pruner(engine)} ${label(o)}, which ran before ` +
              'meshfed: what uses it loses it until something creates it again (a new object, with a new address).',
            fix: `an object that existed before meshfed must carry the keep annotations (Argo CD Prune=false, Flux prune: disabled).${BUG}`,
          });
        const now = snapshot(fork);
        for (const [key, o] of prev.snap) {
          const live = now.get(key);
          if (!live)
            radd({
              object: label(refOf(o)),
              why: `${label(refOf(o))} ran at ${prev.phase} and is gone after rolling back to it from ${at}.`,
              fix:
                'an object that existed before meshfed (or that the rollback cannot re-create as it was) must not be pruned: ' +
                `keep it out of prune (Argo CD Prune=false, Flux prune: disabled).${BUG}`,
            });
          else if (address(o) !== address(live) && !idleFederationGateways(input.renders.get(prev.phase)!, input.cluster).has(key))
            radd({
              object: label(refOf(o)),
              why:
                `${label(refOf(o))} changes its address rolling back from ${at} (${describeAddress(o)} → ${describeAddress(live)}): ` +
                'clients and peers that use the old one lose it.',
              fix: `keep the Service (and its load balancer) through the phases the rollback crosses.${BUG}`,
            });
        }
        void current;
      }

      function rehearseDelete(current: FileTree): void {
        const fork = cluster.clone(world.controllers());
        const d = driver(engine, fork, input.cluster);
        const beforeDelete = snapshot(fork);
        // Deleting the GitOps objects leaves the mesh running: every flow that works before works at every tick after.
        const watch = new FlowWatch(declared);
        fork.controllers.push(watch);
        watch.begin(fork);
        d.deleteAll(current);
        fork.advance(SETTLE_SECONDS);
        const dadd = (f: Omit<RehearsalFinding, 'cluster' | 'engine' | 'scenario' | 'move'>) =>
          findings.push({ cluster: input.cluster, engine, scenario: 'delete', move: `delete at ${phase}`, ...f });
        for (const b of watch.end(fork).filter((x) => x.worked)) dadd({ ...flowFinding(b, undefined), stage: 'delete' });
        for (const b of watch.authzEnd()) dadd({ ...authzFinding(b, undefined), stage: 'delete' });
        const gone = [...beforeDelete.keys()].filter((k) => !fork.list(durable).some((o) => keyOf(o) === k));
        moves.push({ cluster: input.cluster, engine, scenario: 'delete', move: `delete at ${phase}`, ok: gone.length === 0, seconds: 0 });
        if (gone.length)
          findings.push({
            cluster: input.cluster,
            engine,
            scenario: 'delete',
            move: `delete at ${phase}`,
            object: label(refOf(beforeDelete.get(gone[0])!)),
            why:
              `deleting the ${engine === 'argocd' ? 'Application (cascade, the CLI and UI default)' : 'Kustomizations'} at ${phase} deletes ` +
              `${gone.length} object(s) that run: ${gone
                .slice(0, 5)
                .map((k) => label(refOf(beforeDelete.get(k)!)))
                .join(', ')}${gone.length > 5 ? ', …' : ''}.`,
            fix: `every object that runs must carry Argo CD's Delete=false (and Flux's deletionPolicy: Orphan).${BUG}`,
          });
      }
    }
  }
  const key = (f: RehearsalFinding) => `${f.engine}|${f.move}|${f.scenario}|${f.object ?? ''}|${f.stage ?? ''}|${f.why}`;
  const unique = [...new Map(findings.map((f) => [key(f), f])).values()];
  unique.sort((a, b) => compareStrings(key(a), key(b)));
  return { findings: unique, moves };
}

/** The step a flow broke at: the engine's step then, or the settling after the sync. */
function stageAt(at: number, result: EngineResult | undefined): string {
  if (!result) return 'sync';
  const step = [...result.steps].reverse().find((s) => s.t <= at);
  return at > result.seconds ? 'after the sync' : (step?.stage ?? 'sync');
}

/** A flow a move breaks through NetworkPolicies; `baseline`: what it was judged against, when not the state before the move. */
function flowFinding(
  b: FlowBreak,
  result: EngineResult | undefined,
  baseline?: string,
): Omit<RehearsalFinding, 'cluster' | 'engine' | 'scenario' | 'move'> {
  const worked = baseline ? `that works before is denied (${baseline})` : 'that worked before the move is denied';
  return {
    stage: stageAt(b.at, result),
    object: `NetworkPolicy ${b.denial.verdict.policies.join(', ')}`,
    why: `a flow ${b.worked ? worked : 'the move adds is denied'}: ${describeBreak(b)}`,
    fix: `${b.denial.flow.fix}.${BUG}`,
  };
}

/** A flow a move breaks, or an identity it lets in, through AuthorizationPolicies (lib/twin/authz-flows.ts). */
function authzFinding(
  b: AuthzBreak,
  result: EngineResult | undefined,
  returnsTo?: MigrationPhase,
): Omit<RehearsalFinding, 'cluster' | 'engine' | 'scenario' | 'move'> {
  const policies = b.policies.map((p) => `AuthorizationPolicy ${p}`).join(', ');
  const against = returnsTo ? ` (judged against ${returnsTo}, the phase the rollback returns to)` : '';
  return {
    stage: stageAt(b.at, result),
    ...(policies ? { object: policies } : {}),
    why: `${b.kind === 'denied' ? 'a flow that worked is denied' : 'an identity gains access'}${against}: ${b.why}`,
    fix:
      b.kind === 'denied'
        ? `admit ${b.identity} in ${policies || 'a policy that applies to the server'} at every step (keep its identity, or carry the policy).${BUG}`
        : `keep ${b.identity} out (narrow ${policies || 'the policy'}), or name it in spec.exposure.callers if it may call.${BUG}`,
  };
}

interface MoveStates {
  /** The cluster before GitOps, before this move, and once this move settled. */
  readonly initial: Snapshot;
  readonly before: Snapshot;
  readonly after: Snapshot;
  /** The sync completed (else what it did not apply is the failure already reported, not a finding of its own). */
  readonly synced: boolean;
}

function judgeForward(
  render: FileTree,
  cluster: string,
  phase: MigrationPhase,
  { initial, before, after, synced }: MoveStates,
  add: (f: Omit<RehearsalFinding, 'cluster' | 'engine' | 'scenario' | 'move'>) => void,
): void {
  const built = builtIfBuilds(render, cluster);
  if (built === undefined) return;
  const intended = intendedDeletes(render, cluster, phase);
  const desired = new Map(withoutHooks(built).map((o) => [keyOf(o), o]));
  const goneUids = new Set([...before].filter(([k]) => !after.has(k)).map(([, o]) => String(metadata(o).uid)));
  for (const [key, o] of before) {
    if (after.has(key) || intended.has(key)) continue;
    // Operators remove what they own when the spec they reconcile says so (01 stops Maistra's NetworkPolicies,
    // 04 its federation gateways, 07's SMCP deletion its gateways in every namespace): judged by the flows that
    // use them (MF019, MF015), not here. Maistra marks what it manages with maistra.io/owner, owner reference or
    // not (it sets one only in the SMCP's namespace: maistra/istio-operator@8143614c hooks.go:26-35).
    if (ownerReferences(o).length || labelOf(o, 'maistra.io/owner') || createdByMaistra(o)) continue;
    // meshfed's own objects of an earlier phase that this phase no longer declares.
    if (!initial.has(key) && !desired.has(key)) continue;
    if (ownedByAny(o, before, goneUids)) continue;
    add({
      object: label(refOf(o)),
      why: `${label(refOf(o))} ran before the move and is gone after it, though ${phase} does not delete it.`,
      fix: `keep what runs: an adopted object must not be pruned or deleted by a move that does not intend it.${BUG}`,
    });
  }
  for (const [key, o] of desired)
    if (synced && !after.has(key) && durable(o) && !intended.has(key))
      add({
        object: label(refOf(o)),
        why: `${label(refOf(o))} is declared by ${phase} but does not exist once the sync settled.`,
        fix: `read the sync's steps: something deletes it after it was applied.${BUG}`,
      });
  for (const [key, o] of before) {
    const live = after.get(key);
    if (live && address(o) !== address(live))
      add({
        object: label(refOf(o)),
        why: `${label(refOf(o))} changes its address in this move (${describeAddress(o)} → ${describeAddress(live)}).`,
        fix: `keep the Service's address: clients, Routes and peers use it.${BUG}`,
      });
  }
}
