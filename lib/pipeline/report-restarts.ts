/**
 * The workloads a pointer move restarts, for the change record: those whose pod template the move changes, those a
 * hook Job of the new phase restarts (its `meshfed.dev/steps`), and istiod when the SMCP's spec changes (the operator
 * rolls it) — each with its replicas, strategy and what the rollout takes away while it runs.
 */
import * as fs from 'fs';

import { JOB_STEPS_ANNOTATION, JobStep } from '../job-steps';
import { byKey } from '../sort';
import { readDumps } from '../twin/live';
import { annotations, keyOf, Obj, refOf, valueAt } from '../twin/objects';
import { RecordRestart } from '../write/report/types';
import { toYaml } from '../write/yaml';

const WORKLOADS = new Set(['Deployment', 'StatefulSet', 'DaemonSet']);
const RESOURCE_KIND: Record<string, string> = { deployments: 'Deployment', statefulsets: 'StatefulSet', daemonsets: 'DaemonSet' };

/** `25%` of `n`, rounded as the controllers do: down for maxUnavailable, up for maxSurge. */
function scaled(value: unknown, n: number, up: boolean): number {
  const text = String(value);
  if (text.endsWith('%')) {
    const x = (n * Number.parseInt(text, 10)) / 100;
    return up ? Math.ceil(x) : Math.floor(x);
  }
  return Number(text);
}

/**
 * Strategy and expected disruption. Defaults and rounding: Deployment RollingUpdate maxUnavailable 25% rounded down,
 * maxSurge 25% rounded up, maxUnavailable 1 when both round to 0
 * (https://kubernetes.io/docs/concepts/workloads/controllers/deployment/#rolling-update-deployment); StatefulSet one pod
 * at a time, highest ordinal first, OnDelete waits for a manual delete
 * (https://kubernetes.io/docs/concepts/workloads/controllers/statefulset/#update-strategies); DaemonSet maxUnavailable 1
 * (https://kubernetes.io/docs/tasks/manage-daemon/update-daemon-set/).
 */
export function disruptionOf(kind: string, spec: Obj | undefined, replicas: number | undefined): { strategy: string; disruption: string } {
  const key = kind === 'Deployment' ? 'strategy' : 'updateStrategy';
  const s = (spec?.[key] ?? {}) as Obj;
  const type = String(s.type ?? 'RollingUpdate');
  if (type === 'Recreate')
    return { strategy: 'Recreate', disruption: 'every pod stops before the new ones start: an outage while they start' };
  if (type === 'OnDelete')
    return {
      strategy: 'OnDelete',
      disruption: 'nothing restarts until its pods are deleted by hand; until then they run the old template',
    };
  const r = replicas ?? 1;
  const rolling = (s.rollingUpdate ?? {}) as Obj;
  if (kind === 'StatefulSet')
    return {
      strategy: 'RollingUpdate (one pod at a time)',
      disruption: r > 1 ? `one of ${r} pods down at a time, highest ordinal first` : 'its only pod is down while it restarts: an outage',
    };
  if (kind === 'DaemonSet') {
    const u = scaled(rolling.maxUnavailable ?? 1, r, false) || 1;
    return {
      strategy: `RollingUpdate (maxUnavailable ${String(rolling.maxUnavailable ?? 1)})`,
      disruption: `${u} node(s) at a time without its pod while it restarts`,
    };
  }
  const [mu, ms] = [rolling.maxUnavailable ?? '25%', rolling.maxSurge ?? '25%'];
  const surge = scaled(ms, r, true);
  const down = scaled(mu, r, false) || (surge === 0 ? 1 : 0);
  const strategy = `RollingUpdate (maxUnavailable ${String(mu)}, maxSurge ${String(ms)})`;
  if (replicas === undefined)
    return {
      strategy,
      disruption: 'replicas not in the dumps or the render (an operator or an HPA sets them): at most 25% down at a time',
    };
  if (down >= r) return { strategy, disruption: `all ${r} pod(s) may be down at once: an outage while they start` };
  return {
    strategy,
    disruption:
      down === 0
        ? `${surge} new pod(s) start before old ones stop: full capacity throughout, if readiness probes hold`
        : `up to ${down} of ${r} pods down at a time (${surge} surge): reduced capacity, no outage if readiness probes hold`,
  };
}

/** The (workload, annotation value) pairs the hook Jobs among `objects` restart. */
type HookRestart = { job: string; kind: string; namespace: string; name: string; value: string; why?: string; maxConcurrent?: number };

function hookRestarts(objects: readonly Obj[]): Map<string, HookRestart> {
  const out = new Map<string, HookRestart>();
  for (const job of objects.filter((o) => o.kind === 'Job')) {
    const text = annotations(job)[JOB_STEPS_ANNOTATION];
    if (!text) continue;
    for (const s of JSON.parse(text) as JobStep[])
      if (s.op === 'restart')
        for (const w of s.workloads) {
          const kind = RESOURCE_KIND[w.resource];
          out.set(`${kind}|${w.namespace}|${w.name}|${s.annotation}=${s.value}`, {
            job: refOf(job).name,
            kind,
            namespace: w.namespace,
            name: w.name,
            value: `${s.annotation}=${s.value}`,
            ...(w.why ? { why: w.why } : {}),
            ...(s.maxConcurrent === undefined ? {} : { maxConcurrent: s.maxConcurrent }),
          });
        }
  }
  return out;
}

/** Every workload the move from `before` to `after` restarts; `dumpsDir` has the cluster's dumps (replicas, strategies). */
export function restartsOf(before: readonly Obj[], after: readonly Obj[], dumpsDir: string): RecordRestart[] {
  const dumps = fs.existsSync(dumpsDir) ? readDumps(dumpsDir) : [];
  const known = new Map<string, Obj>();
  for (const o of [...dumps, ...after])
    if (WORKLOADS.has(String(o.kind))) known.set(`${String(o.kind)}|${refOf(o).namespace}|${refOf(o).name}`, o);
  const out = new Map<string, RecordRestart>();
  const add = (kind: string, namespace: string, name: string, why: string) => {
    const k = `${kind}|${namespace}|${name}`;
    const o = known.get(k);
    const spec = o?.spec as Obj | undefined;
    const replicas = o ? (kind === 'DaemonSet' ? undefined : Number(spec?.replicas ?? 1)) : undefined;
    const prev = out.get(k);
    out.set(k, { kind, namespace, name, replicas, ...disruptionOf(kind, spec, replicas), why: prev ? `${prev.why}; ${why}` : why });
  };
  const was = new Map(before.map((o) => [keyOf(o), o]));
  for (const o of after) {
    const old = was.get(keyOf(o));
    if (!old) continue;
    if (
      WORKLOADS.has(String(o.kind)) &&
      toYaml(valueAt(old, ['spec', 'template']) ?? null) !== toYaml(valueAt(o, ['spec', 'template']) ?? null)
    )
      add(String(o.kind), refOf(o).namespace, refOf(o).name, 'its pod template changes');
    // Maistra renders istiod as istiod-<SMCP name> and rolls it when the SMCP's spec changes (docs/control-plane.md).
    if (o.kind === 'ServiceMeshControlPlane' && toYaml(old.spec ?? null) !== toYaml(o.spec ?? null))
      add('Deployment', refOf(o).namespace, `istiod-${refOf(o).name}`, "the SMCP's spec changes: the OSSM 2 operator rolls istiod");
  }
  const done = hookRestarts(before);
  for (const [k, r] of hookRestarts(after))
    if (!done.has(k))
      add(
        r.kind,
        r.namespace,
        r.name,
        `hook Job ${r.job} sets ${r.value}` +
          (r.maxConcurrent === undefined ? '' : ` (at most ${r.maxConcurrent} at a time, each waited for)`) +
          (r.why ? `: ${r.why}` : ''),
      );
  return [...out.values()].sort(
    byKey(
      (r) => r.namespace,
      (r) => r.kind,
      (r) => r.name,
    ),
  );
}
