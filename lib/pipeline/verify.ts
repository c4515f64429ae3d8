/**
 * `meshfed verify`, the pure part: which read-only queries show whether a live cluster runs the phase its pointer
 * says, and the comparison of their answers with the render. The command (lib/cli/verify.ts) runs the queries; this
 * module never does. Every query is a `get` of named objects (never a Secret: no rendered object is one, and the kinds
 * are refused below) or `istioctl proxy-config endpoints -o json`, which reads a proxy's Envoy `GET clusters?format=json`
 * through a port-forward to the pod's admin port and changes nothing (istio/istio@1.27.3:
 * istioctl/pkg/proxyconfig/proxyconfig.go:199-213, pkg/kube/client.go:936-941) and prints the clusters with protojson's
 * camelCase names, `hostStatuses[].healthStatus.edsHealthStatus` (istioctl/pkg/writer/envoy/clusters/clusters.go:159-173,
 * istioctl/pkg/util/proto/messageslice.go:29-43). Its RBAC verb is `create` on pods/portforward: a tunnel, no object is
 * written (https://kubernetes.io/docs/reference/access-authn-authz/rbac/#referring-to-resources). `oc exec … pilot-agent
 * request GET clusters` would read the same through `create` on pods/exec, which can also run anything in the pod.
 */
import { RenderResult } from './render';
import { JOB_STEPS_ANNOTATION, JobStep } from '../job-steps';
import { ModelIndex } from '../model/model-index';
import { PhaseId } from '../phases';
import { deliveredShards } from '../plan/delivery';
import { compareStrings } from '../sort';
import { buildKustomization, splitApiVersion } from '../twin/kustomize';
import { annotations, Obj, refOf, valueAt } from '../twin/objects';
import { memoryTree } from '../twin/tree';
import { clientOf } from '../write/runbook/verification';

/** One read-only query: `<cli> <args>` (kube) or `istioctl <args>`. */
export interface VerifyQuery {
  readonly id: string;
  readonly tool: 'kube' | 'istioctl';
  readonly args: readonly string[];
}

export interface Mismatch {
  readonly what: string;
  readonly expected: string;
  readonly found: string;
  readonly fix: string;
}

/** What a query answered. */
export interface QueryAnswer {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** The expectations of one cluster at its pointer, and the queries that read what runs. */
export interface VerifyPlan {
  readonly cluster: string;
  readonly phase: PhaseId;
  readonly context: string;
  readonly queries: VerifyQuery[];
  /** Objects the phase declares (hook Jobs excluded), by query id. */
  readonly objects: ReadonlyMap<string, readonly Obj[]>;
  /** Workloads a hook of the phase restarted, and the pod-template annotation it left. */
  readonly restarts: readonly {
    readonly query: string;
    readonly kind: string;
    readonly namespace: string;
    readonly name: string;
    readonly annotation: string;
    readonly value: string;
  }[];
  /** The imported hostnames each client proxy must have endpoints for. */
  readonly endpoints: readonly { readonly query: string; readonly client: string; readonly hosts: readonly string[] }[];
  /** Addresses peers use for this cluster's east-west gateway (checked against the Gateway's status). */
  readonly eastWest?: { readonly namespace: string; readonly name: string; readonly addresses: readonly string[] };
}

/** The kinds verify never reads. */
const NEVER = new Set(['Secret']);
const RESOURCE: Record<string, string> = {
  deployments: 'deployments.apps',
  statefulsets: 'statefulsets.apps',
  daemonsets: 'daemonsets.apps',
};

/** `kind.group` as `kubectl get` takes it (the group keeps two kinds of one name apart: Gateway). */
function resourceOf(o: Obj): string {
  const [group] = splitApiVersion(String(o.apiVersion ?? ''));
  return `${String(o.kind).toLowerCase()}${group ? `.${group}` : ''}`;
}

function isHook(o: Obj): boolean {
  return o.kind === 'Job' || 'argocd.argoproj.io/hook' in annotations(o);
}

/** The queries and expectations for `cluster` at its pointer (`phase` overrides it). */
export function planVerify(result: RenderResult, cluster: string, context: string, phase?: PhaseId): VerifyPlan {
  const at = phase ?? result.plan.pointers[cluster];
  const tree = memoryTree(result.files);
  const folders = [`${cluster}/${at}`, ...deliveredShards(result.plan, cluster, at).map((s) => `${cluster}/imports/${s.name}`)];
  const state = folders.flatMap((f) => buildKustomization(tree, f));
  const ctx = ModelIndex.of(result.model);
  const mesh = ctx.mesh(cluster);
  const kube = (args: string[]) => ['--context', context, ...args];
  const groups = new Map<string, Obj[]>();
  for (const o of state.filter((x) => !isHook(x) && !NEVER.has(String(x.kind)))) {
    const key = `${resourceOf(o)} ${refOf(o).namespace}`;
    groups.set(key, [...(groups.get(key) ?? []), o]);
  }
  const queries: VerifyQuery[] = [];
  const objects = new Map<string, Obj[]>();
  for (const [key, list] of [...groups].sort(([a], [b]) => compareStrings(a, b))) {
    const [resource, ns] = key.split(' ');
    const names = [...new Set(list.map((o) => refOf(o).name))].sort(compareStrings);
    const id = `get ${key.trim()}`;
    queries.push({ id, tool: 'kube', args: kube(['get', resource, ...(ns ? ['-n', ns] : []), ...names, '-o', 'json']) });
    objects.set(id, list);
  }
  const restarts: VerifyPlan['restarts'][number][] = [];
  for (const job of state.filter((o) => o.kind === 'Job')) {
    const steps = annotations(job)[JOB_STEPS_ANNOTATION];
    for (const s of steps ? (JSON.parse(steps) as JobStep[]) : [])
      if (s.op === 'restart')
        for (const w of s.workloads) {
          const id = `restarted ${w.resource} ${w.namespace}/${w.name}`;
          if (!queries.some((q) => q.id === id))
            queries.push({ id, tool: 'kube', args: kube(['get', RESOURCE[w.resource], '-n', w.namespace, w.name, '-o', 'json']) });
          restarts.push({ query: id, kind: w.resource, namespace: w.namespace, name: w.name, annotation: s.annotation, value: s.value });
        }
  }
  const endpoints: VerifyPlan['endpoints'][number][] = [];
  const client = clientOf(mesh);
  const hosts = [...new Set(ctx.importsInto(cluster).map((i) => i.hostname))].sort(compareStrings);
  if (client && hosts.length) {
    const id = `endpoints ${client.namespace}/${client.deployment}`;
    // Before 06 the client proxies are served by the SMCP's istiod, from 06 on by OSSM 3's.
    const istio = ['06-migrate-workloads', '07-finalize'].includes(at) ? mesh.ossm3.namespace : mesh.controlPlane.namespace;
    queries.push({
      id,
      tool: 'istioctl',
      args: [
        '--context',
        context,
        '-i',
        istio,
        'proxy-config',
        'endpoints',
        `deploy/${client.deployment}`,
        '-n',
        client.namespace,
        '-o',
        'json',
      ],
    });
    endpoints.push({ query: id, client: `${client.namespace}/${client.deployment}`, hosts });
  }
  const ew = state.find(
    (o) => o.kind === 'Gateway' && refOf(o).name === mesh.eastWest.name && refOf(o).namespace === mesh.eastWest.namespace,
  );
  const eastWest =
    ew && mesh.eastWest.serviceType === 'LoadBalancer' && mesh.eastWest.addresses.length
      ? { namespace: mesh.eastWest.namespace, name: mesh.eastWest.name, addresses: mesh.eastWest.addresses }
      : undefined;
  return { cluster, phase: at, context, queries, objects, restarts, endpoints, ...(eastWest ? { eastWest } : {}) };
}

/** The objects a `get` printed: a List's items or the one object. */
function itemsOf(a: QueryAnswer | undefined): Obj[] {
  if (!a || !a.stdout.trim()) return [];
  try {
    const v = JSON.parse(a.stdout) as Obj;
    return Array.isArray(v.items) ? (v.items as Obj[]) : [v];
  } catch {
    return [];
  }
}

/** The first field the live object does not have as declared: server-side apply keeps declared fields as they are. */
export function driftOf(
  declared: unknown,
  live: unknown,
  at: string[] = [],
): { path: string; expected: string; found: string } | undefined {
  const show = (v: unknown) => (v === undefined ? '(absent)' : JSON.stringify(v));
  if (Array.isArray(declared)) {
    if (!Array.isArray(live) || live.length !== declared.length) return { path: at.join('.'), expected: show(declared), found: show(live) };
    for (let i = 0; i < declared.length; i++) {
      const d = driftOf(declared[i], live[i], [...at, String(i)]);
      if (d) return d;
    }
    return undefined;
  }
  if (declared !== null && typeof declared === 'object') {
    if (live === null || typeof live !== 'object' || Array.isArray(live))
      return { path: at.join('.'), expected: show(declared), found: show(live) };
    for (const [k, v] of Object.entries(declared)) {
      const d = driftOf(v, (live as Record<string, unknown>)[k], [...at, k]);
      if (d) return d;
    }
    return undefined;
  }
  return declared === live ? undefined : { path: at.join('.'), expected: show(declared), found: show(live) };
}

function condition(o: Obj, type: string): string | undefined {
  const list = valueAt(o, ['status', 'conditions']);
  const c = Array.isArray(list) ? list.find((x) => (x as Obj).type === type) : undefined;
  return c === undefined ? undefined : String((c as Obj).status);
}

/** Conditions a kind must report once the phase is healthy (the same the health checks of dist/argocd wait for). */
const READY: Record<string, string[]> = {
  ServiceMeshControlPlane: ['Ready', 'Reconciled'],
  Istio: ['Ready'],
  IstioCNI: ['Ready'],
};

function statusMismatches(o: Obj, what: string, sync: string): Mismatch[] {
  const out: Mismatch[] = [];
  for (const type of READY[String(o.kind)] ?? [])
    if (condition(o, type) !== 'True')
      out.push({
        what: `${what}: ${type}`,
        expected: 'True',
        found: condition(o, type) ?? '(no condition)',
        fix: `kubectl describe it; the operator's log says why. ${sync}`,
      });
  if (o.kind === 'ServiceMeshControlPlane') {
    const [g, seen] = [valueAt(o, ['metadata', 'generation']), valueAt(o, ['status', 'observedGeneration'])];
    if (g !== undefined && g !== seen)
      out.push({
        what: `${what}: observedGeneration`,
        expected: String(g),
        found: String(seen ?? '(none)'),
        fix: 'the OSSM 2 operator has not reconciled the latest spec: check the operator pod',
      });
  }
  if (
    o.kind === 'Gateway' &&
    String(o.apiVersion).startsWith('gateway.networking.k8s.io/') &&
    valueAt(o, ['spec', 'gatewayClassName']) !== 'istio-remote'
  )
    if (condition(o, 'Programmed') !== 'True')
      out.push({
        what: `${what}: Programmed`,
        expected: 'True',
        found: condition(o, 'Programmed') ?? '(no condition)',
        fix: 'kubectl describe it: istiod says why (its Service, its addresses)',
      });
  return out;
}

function driftFix(sync: string, o: Obj): string {
  const r = refOf(o);
  return `${sync} Who changed it: kubectl get ${resourceOf(o)} ${r.name}${r.namespace ? ` -n ${r.namespace}` : ''} --show-managed-fields -o yaml.`;
}

function addressFix(missing: string[]): string {
  return (
    `peers reach this gateway at ${missing.join(', ')}: fix the load balancer, or set spec.eastWestGateway.address ` +
    'to what it reports, synth and move every importer on'
  );
}

function endpointFix(cluster: string, host: string): string {
  return (
    `the exporter's east-west gateway, the istio-remote Gateway and the ServiceEntry for ${host}: ` +
    `see this phase's verification in dist/${cluster}/RUNBOOK.md`
  );
}

/** The first line of what a failed query printed on stderr. */
function failure(a: QueryAnswer | undefined): string {
  return a?.stderr.trim().split('\n')[0] || 'no answer';
}

/** A query that failed for another reason than a missing object (Forbidden, no context, no binary). */
function unreadable(a: QueryAnswer | undefined): boolean {
  return a !== undefined && a.code !== 0 && !a.stdout.trim() && !/NotFound|not found/.test(a.stderr);
}

/** The east-west Gateway reports every address peers use (LoadBalancer only: a node port's nodes are not in its status). */
function addressMismatches(plan: VerifyPlan, o: Obj, live: Obj, what: string): Mismatch[] {
  const r = refOf(o);
  if (!plan.eastWest || o.kind !== 'Gateway' || r.name !== plan.eastWest.name || r.namespace !== plan.eastWest.namespace) return [];
  const addresses = (valueAt(live, ['status', 'addresses']) as Obj[] | undefined)?.map((x) => String(x.value)) ?? [];
  const missing = plan.eastWest.addresses.filter((x) => !addresses.includes(x));
  return missing.length
    ? [
        {
          what: `${what}: status.addresses`,
          expected: plan.eastWest.addresses.join(', '),
          found: addresses.join(', ') || '(none)',
          fix: addressFix(missing),
        },
      ]
    : [];
}

/** Every object the phase declares: present, as declared, and its status. */
function objectMismatches(plan: VerifyPlan, answers: ReadonlyMap<string, QueryAnswer>, sync: string): Mismatch[] {
  const out: Mismatch[] = [];
  for (const [id, expected] of plan.objects) {
    const a = answers.get(id);
    const live = new Map(itemsOf(a).map((o) => [refOf(o).name, o]));
    for (const o of expected) {
      const r = refOf(o);
      const what = `${r.kind} ${r.namespace ? `${r.namespace}/` : ''}${r.name}`;
      const l = live.get(r.name);
      if (!l) {
        out.push({ what, expected: `present (${plan.phase})`, found: unreadable(a) ? failure(a) : 'not found', fix: sync });
        continue;
      }
      const { status: _status, ...declared } = o;
      const d = driftOf(declared, l);
      if (d) out.push({ what: `${what}: ${d.path}`, expected: d.expected, found: d.found, fix: driftFix(sync, o) });
      out.push(...statusMismatches(l, what, sync), ...addressMismatches(plan, o, l, what));
    }
  }
  return out;
}

/** Every workload a restart hook of the phase annotated carries the annotation. */
function restartMismatches(plan: VerifyPlan, answers: ReadonlyMap<string, QueryAnswer>): Mismatch[] {
  const out: Mismatch[] = [];
  for (const r of plan.restarts) {
    const what = `${r.kind} ${r.namespace}/${r.name}`;
    const a = answers.get(r.query);
    if (unreadable(a))
      out.push({ what, expected: 'readable', found: failure(a), fix: 'verify needs get on the workloads of the migrated namespaces' });
    const l = itemsOf(a)[0];
    // The restart Job skips a workload that no longer exists: so does verify.
    if (!l) continue;
    const v = annotations((valueAt(l, ['spec', 'template']) ?? {}) as Obj)[r.annotation];
    if (v !== r.value)
      out.push({
        what: `${what}: pod template ${r.annotation}`,
        expected: r.value,
        found: v ?? '(absent)',
        fix: "the phase's restart hook did not run on it (Argo CD skips hooks on selective syncs and self-heal): sync the whole Application again",
      });
  }
  return out;
}

/** Every imported host has a HEALTHY endpoint on the client proxy. */
function endpointMismatches(plan: VerifyPlan, answers: ReadonlyMap<string, QueryAnswer>): Mismatch[] {
  const out: Mismatch[] = [];
  for (const e of plan.endpoints) {
    const a = answers.get(e.query);
    let clusters: Obj[] = [];
    try {
      clusters = JSON.parse(a?.stdout || '[]') as Obj[];
    } catch {
      clusters = [];
    }
    for (const host of e.hosts) {
      const healthy = clusters
        .filter((c) => String(c.name ?? '').endsWith(`||${host}`))
        .some((c) => ((c.hostStatuses ?? []) as Obj[]).some((h) => valueAt(h, ['healthStatus', 'edsHealthStatus']) === 'HEALTHY'));
      if (!healthy)
        out.push({
          what: `endpoints of ${host} on ${e.client}`,
          expected: 'a HEALTHY endpoint',
          found: a?.code ? failure(a) : 'none',
          fix: endpointFix(plan.cluster, host),
        });
    }
  }
  return out;
}

/** Every mismatch between what runs (the queries' answers) and the phase. Empty: the cluster runs its phase. */
export function compareLive(plan: VerifyPlan, answers: ReadonlyMap<string, QueryAnswer>): { checks: number; mismatches: Mismatch[] } {
  const sync = `Sync it: argocd app sync meshfed-${plan.cluster} --prune (or flux reconcile kustomization meshfed-${plan.cluster} --with-source).`;
  const checks =
    [...plan.objects.values()].reduce((n, l) => n + l.length, 0) +
    plan.restarts.length +
    plan.endpoints.reduce((n, e) => n + e.hosts.length, 0);
  return {
    checks,
    mismatches: [...objectMismatches(plan, answers, sync), ...restartMismatches(plan, answers), ...endpointMismatches(plan, answers)],
  };
}

/** A query as a shell command line. */
export function commandLine(q: VerifyQuery, cli: string): string {
  const quote = (s: string) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);
  return [q.tool === 'kube' ? cli : 'istioctl', ...q.args].map(quote).join(' ');
}
