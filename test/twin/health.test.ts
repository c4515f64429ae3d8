/**
 * How the twin judges live objects: Argo CD's built-in and Lua health (against upstream's own test data, and the Lua
 * meshfed renders), Flux's kstatus and healthCheckExprs. Each case names the upstream rule it pins.
 */
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';

import { load } from 'js-yaml';

import { GATEWAY_LUA, UPSTREAM_GATEWAY_LUA } from '../../lib/constructs/health-checks';
import { JsonObject } from '../../lib/load/yaml-source';
import { render as synthesize } from '../../lib/pipeline/render';
import {
  ARGOCD_HEALTH_PATCH,
  argoHealthFrom,
  argoHealthWith,
  fluxHealth,
  readLuaOverrides,
  validateHealthCheckExprs,
} from '../../lib/twin/health';
import { LUA_INSTRUCTION_BUDGET, runLuaHealth } from '../../lib/twin/health-lua';
import { BUILTIN_LUA_CHECKS } from '../../lib/twin/health-lua-builtin';
import { Obj } from '../../lib/twin/objects';
import { diskTree, memoryTree } from '../../lib/twin/tree';
import { HealthCheckExpr } from '../../lib/twin/types';

const ROOT = path.join(__dirname, '..', '..');
const FIXTURES = path.join(__dirname, '..', 'fixtures', 'twin', 'health');
// Upstream reads test data with sigs.k8s.io/yaml, where a duplicated key's last value wins (statefulset-ondelete.yaml has one).
const readYaml = (file: string) => load(fs.readFileSync(file, 'utf8'), { json: true }) as JsonObject;

/** Argo CD with no argocd-cm checks: its Go checks and its bundled Lua. */
const argo = argoHealthWith(new Map());

/** An argocd-cm with the given data, as Argo CD would read it. */
const argoWith = (data: Record<string, string>) => argoHealthWith(readLuaOverrides({ data }));

const deployment = (o: { generation?: number; spec?: JsonObject; status?: JsonObject }): Obj => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'istiod-basic', namespace: 'istio-system', generation: o.generation ?? 1 },
  spec: { replicas: 1, progressDeadlineSeconds: 600, ...o.spec },
  status: { observedGeneration: o.generation ?? 1, ...o.status },
});

/**
 * A Deployment whose pods cannot be created (no ServiceAccount): the ReplicaSet's ReplicaFailure/FailedCreate is
 * copied onto the Deployment, Progressing stays True until progressDeadlineSeconds pass, then turns
 * False/ProgressDeadlineExceeded (kubernetes@008b365:pkg/controller/deployment/progress.go:85-104).
 */
const failedCreate = (deadlinePassed: boolean): Obj =>
  deployment({
    status: {
      replicas: 0,
      updatedReplicas: 0,
      unavailableReplicas: 1,
      conditions: [
        { type: 'Available', status: 'False', reason: 'MinimumReplicasUnavailable' },
        deadlinePassed
          ? {
              type: 'Progressing',
              status: 'False',
              reason: 'ProgressDeadlineExceeded',
              message: 'ReplicaSet "istiod-basic-7d" has timed out progressing.',
            }
          : { type: 'Progressing', status: 'True', reason: 'ReplicaSetUpdated', message: 'ReplicaSet "istiod-basic-7d" is progressing.' },
        {
          type: 'ReplicaFailure',
          status: 'True',
          reason: 'FailedCreate',
          message:
            'pods "istiod-basic-7d-" is forbidden: error looking up service account istio-system/istiod-basic: ' +
            'serviceaccount "istiod-basic" not found',
        },
      ],
    },
  });

/**
 * The SMCP after a failed reconcile of a new spec (the case a review found): Maistra writes status.observedGeneration only at the
 * end of a successful reconcile (maistra/istio-operator@8143614:pkg/controller/servicemesh/controlplane/reconciler.go:345)
 * and returns before it on ReconcileError (:328-333), so it stays one behind with Reconciled=False.
 */
const smcp = (
  generation: number,
  observed: number,
  reconciled: JsonObject,
  ready: JsonObject = { type: 'Ready', status: 'False', reason: 'ReconcileError' },
): Obj => ({
  apiVersion: 'maistra.io/v2',
  kind: 'ServiceMeshControlPlane',
  metadata: { name: 'basic', namespace: 'istio-system', generation },
  spec: { version: 'v2.6' },
  status: { observedGeneration: observed, conditions: [reconciled, ready] },
});
const FAILED_NEW_SPEC = smcp(15, 14, {
  type: 'Reconciled',
  status: 'False',
  reason: 'ReconcileError',
  message: 'Error pruning obsolete resources',
});

describe('Argo CD built-in health agrees with upstream test data', () => {
  const expected = readYaml(path.join(FIXTURES, 'argocd-builtin', 'expected.yaml')) as Record<string, string>;
  test.each(Object.entries(expected))('%s → %s (gitops-engine health_test.go)', (file, status) => {
    const h = argo(readYaml(path.join(FIXTURES, 'argocd-builtin', file)));
    expect(h?.status ?? 'none').toBe(status);
  });

  const luaCases = fs
    .readdirSync(path.join(FIXTURES, 'argocd-lua'), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('health_test.yaml'))
    .sort()
    .flatMap((f) => {
      const dir = path.join(FIXTURES, 'argocd-lua', path.dirname(f));
      const spec = readYaml(path.join(dir, 'health_test.yaml')) as {
        tests: { healthStatus: { status: string; message: string }; inputPath: string }[];
      };
      return spec.tests.map((t) => [`${path.dirname(f)} ${t.inputPath}`, path.join(dir, t.inputPath), t.healthStatus] as const);
    });
  test('every embedded Lua check has upstream cases', () => {
    for (const c of BUILTIN_LUA_CHECKS) expect(luaCases.some(([name]) => name.startsWith(`${c.key} `))).toBe(true);
  });
  test.each(luaCases)('bundled Lua %s (resource_customizations health_test.yaml)', (_name, file, want) => {
    expect(argo(readYaml(file))).toEqual({ status: want.status, message: want.message });
  });

  test('the embedded Lua is byte-identical to argo-cd@v3.4.0 (git blob ids)', () => {
    for (const c of BUILTIN_LUA_CHECKS) {
      const bytes = Buffer.from(c.lua, 'utf8');
      const blob = createHash('sha1').update(`blob ${bytes.length}\0`).update(bytes).digest('hex');
      expect({ key: c.key, blob }).toEqual({ key: c.key, blob: c.blob });
    }
  });
});

describe('Argo CD built-in health, per kind', () => {
  test.each([
    [
      'pods cannot be created, before the deadline',
      failedCreate(false),
      'Progressing',
      'Waiting for rollout to finish: 0 out of 1 new replicas have been updated...',
    ],
    ['pods cannot be created, deadline passed', failedCreate(true), 'Degraded', 'Deployment "istiod-basic" exceeded its progress deadline'],
    ['paused', deployment({ spec: { paused: true } }), 'Suspended', 'Deployment is paused'],
    [
      'spec not observed yet',
      { ...deployment({ generation: 3 }), status: { observedGeneration: 2, replicas: 1, updatedReplicas: 1, availableReplicas: 1 } },
      'Progressing',
      'Waiting for rollout to finish: observed deployment generation less than desired generation',
    ],
    [
      'old replicas terminating',
      deployment({ status: { replicas: 2, updatedReplicas: 1, availableReplicas: 1 } }),
      'Progressing',
      'Waiting for rollout to finish: 1 old replicas are pending termination...',
    ],
    [
      'new replica not available',
      deployment({ status: { replicas: 1, updatedReplicas: 1, availableReplicas: 0 } }),
      'Progressing',
      'Waiting for rollout to finish: 0 of 1 updated replicas are available...',
    ],
    ['rolled out', deployment({ status: { replicas: 1, updatedReplicas: 1, availableReplicas: 1 } }), 'Healthy', ''],
  ])('Deployment %s → %s', (_name, obj, status, message) => {
    expect(argo(obj as Obj)).toEqual({ status, message });
  });

  const sts = (spec: JsonObject, status: JsonObject): Obj => ({
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name: 'db', namespace: 'a', generation: 2 },
    spec: { replicas: 3, ...spec },
    status: { observedGeneration: 2, readyReplicas: 3, replicas: 3, ...status },
  });
  test.each([
    ['never observed', sts({}, { observedGeneration: 0 }), 'Progressing'],
    ['pods not ready', sts({}, { readyReplicas: 2 }), 'Progressing'],
    [
      'partition not rolled',
      sts({ updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 1 } } }, { updatedReplicas: 1 }),
      'Progressing',
    ],
    [
      'partition rolled',
      sts({ updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 1 } } }, { updatedReplicas: 2 }),
      'Healthy',
    ],
    [
      'OnDelete with an old revision',
      sts({ updateStrategy: { type: 'OnDelete' } }, { currentRevision: 'a', updateRevision: 'b' }),
      'Healthy',
    ],
    ['revision rolling', sts({}, { currentRevision: 'a', updateRevision: 'b' }), 'Progressing'],
    ['revision rolled', sts({}, { currentRevision: 'b', updateRevision: 'b' }), 'Healthy'],
  ])('StatefulSet %s → %s', (_name, obj, status) => {
    expect(argo(obj)?.status).toBe(status);
  });

  const ds = (spec: JsonObject, status: JsonObject): Obj => ({
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name: 'istio-cni-node', namespace: 'istio-cni', generation: 4 },
    spec,
    status: { observedGeneration: 4, desiredNumberScheduled: 3, updatedNumberScheduled: 3, numberAvailable: 3, ...status },
  });
  test.each([
    ['generation not observed', ds({}, { observedGeneration: 3 }), 'Progressing'],
    ['not all updated', ds({}, { updatedNumberScheduled: 2 }), 'Progressing'],
    ['OnDelete, not all updated', ds({ updateStrategy: { type: 'OnDelete' } }, { updatedNumberScheduled: 2 }), 'Healthy'],
    ['not all available', ds({}, { numberAvailable: 2 }), 'Progressing'],
    ['rolled out', ds({}, {}), 'Healthy'],
  ])('DaemonSet %s → %s', (_name, obj, status) => {
    expect(argo(obj)?.status).toBe(status);
  });

  test('ReplicaSet with ReplicaFailure is Degraded at once (Flux says InProgress)', () => {
    const rs: Obj = {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: { name: 'r', namespace: 'a', generation: 1 },
      spec: { replicas: 1 },
      status: {
        observedGeneration: 1,
        conditions: [{ type: 'ReplicaFailure', status: 'True', reason: 'FailedCreate', message: 'forbidden' }],
      },
    };
    expect(argo(rs)).toEqual({ status: 'Degraded', message: 'forbidden' });
    expect(fluxHealth(rs, []).status).toBe('InProgress');
  });

  const pod = (restartPolicy: string, status: JsonObject): Obj => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p', namespace: 'a' },
    spec: { restartPolicy },
    status,
  });
  const pullBackOff = {
    containerStatuses: [{ name: 'c', state: { waiting: { reason: 'ImagePullBackOff', message: 'Back-off pulling image' } } }],
  };
  test.each([
    ['a service pod in ImagePullBackOff', pod('Always', { phase: 'Pending', ...pullBackOff }), 'Degraded'],
    ['a hook pod in ImagePullBackOff (hooks must not fail early)', pod('Never', { phase: 'Pending', ...pullBackOff }), 'Progressing'],
    ['a hook pod running', pod('Never', { phase: 'Running' }), 'Progressing'],
    ['a ready service pod', pod('Always', { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] }), 'Healthy'],
    [
      'a restarted, not ready pod',
      pod('Always', { phase: 'Running', containerStatuses: [{ name: 'c', lastState: { terminated: { exitCode: 1 } } }] }),
      'Degraded',
    ],
    [
      'a failed pod',
      pod('Never', { phase: 'Failed', containerStatuses: [{ name: 'c', state: { terminated: { exitCode: 2 } } }] }),
      'Degraded',
    ],
    ['a pod without phase', pod('Always', {}), 'Unknown'],
  ])('Pod: %s → %s', (_name, obj, status) => {
    expect(argo(obj)?.status).toBe(status);
  });
  test('a failed pod names the container and exit code', () => {
    expect(
      argo(pod('Never', { phase: 'Failed', containerStatuses: [{ name: 'verify', state: { terminated: { exitCode: 2 } } }] }))?.message,
    ).toBe('container "verify" failed with exit code 2');
  });

  const job = (conditions: JsonObject[]): Obj => ({
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: 'meshfed-verify', namespace: 'meshfed' },
    spec: { activeDeadlineSeconds: 600 },
    status: { conditions },
  });
  test.each([
    ['running', job([]), { status: 'Progressing', message: '' }],
    ['complete', job([{ type: 'Complete', status: 'True', message: '' }]), { status: 'Healthy', message: '' }],
    [
      'past activeDeadlineSeconds (the job controller sets Failed/DeadlineExceeded)',
      job([{ type: 'Failed', status: 'True', reason: 'DeadlineExceeded', message: 'Job was active longer than specified deadline' }]),
      { status: 'Degraded', message: 'Job was active longer than specified deadline' },
    ],
    ['suspended', job([{ type: 'Suspended', status: 'True', message: 'Job suspended' }]), { status: 'Suspended', message: '' }],
    // Upstream counts any Suspended condition as "complete", so a resumed Job reads Healthy (health_job.go:45-50).
    [
      'resumed (Suspended=False)',
      job([{ type: 'Suspended', status: 'False', message: 'Job resumed' }]),
      { status: 'Healthy', message: 'Job resumed' },
    ],
  ])('Job %s', (_name, obj, want) => {
    expect(argo(obj)).toEqual(want);
  });

  test.each([
    ['LoadBalancer without an address', { type: 'LoadBalancer' }, {}, 'Progressing'],
    ['LoadBalancer with an address', { type: 'LoadBalancer' }, { loadBalancer: { ingress: [{ hostname: 'a.elb' }] } }, 'Healthy'],
    ['ClusterIP', { type: 'ClusterIP' }, {}, 'Healthy'],
  ])('Service %s → %s', (_name, spec, status, want) => {
    expect(argo({ apiVersion: 'v1', kind: 'Service', metadata: { name: 's', namespace: 'a' }, spec, status })?.status).toBe(want);
  });

  test.each([
    ['Lost', 'Degraded'],
    ['Pending', 'Progressing'],
    ['Bound', 'Healthy'],
    ['', 'Unknown'],
  ])('PersistentVolumeClaim %s → %s', (phase, want) => {
    expect(
      argo({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'c', namespace: 'a' }, status: { phase } })?.status,
    ).toBe(want);
  });

  test('APIService reports reason and message of Available', () => {
    const api = (status: string): Obj => ({
      apiVersion: 'apiregistration.k8s.io/v1',
      kind: 'APIService',
      metadata: { name: 'v1.metrics' },
      status: { conditions: [{ type: 'Available', status, reason: 'Passed', message: 'all checks passed' }] },
    });
    expect(argo(api('True'))).toEqual({ status: 'Healthy', message: 'Passed: all checks passed' });
    expect(argo(api('False'))?.status).toBe('Progressing');
  });

  test('HPA v2: a failed scale is Degraded, AbleToScale is Healthy, nothing yet is Progressing', () => {
    const hpa = (conditions: JsonObject[]): Obj => ({
      apiVersion: 'autoscaling/v2',
      kind: 'HorizontalPodAutoscaler',
      metadata: { name: 'h', namespace: 'a' },
      status: { conditions },
    });
    expect(argo(hpa([{ type: 'AbleToScale', status: 'False', reason: 'FailedGetScale', message: 'no scale' }]))).toEqual({
      status: 'Degraded',
      message: 'no scale',
    });
    expect(argo(hpa([{ type: 'AbleToScale', status: 'True', reason: 'SucceededGetScale', message: 'ok' }]))?.status).toBe('Healthy');
    expect(argo(hpa([]))).toEqual({ status: 'Progressing', message: 'Waiting to Autoscale' });
  });

  test('Argo CD has no health for an Application, an SMCP, an Istio or a ConfigMap by default', () => {
    for (const [apiVersion, kind] of [
      ['argoproj.io/v1alpha1', 'Application'],
      ['maistra.io/v2', 'ServiceMeshControlPlane'],
      ['sailoperator.io/v1', 'Istio'],
      ['v1', 'ConfigMap'],
      ['networking.istio.io/v1', 'VirtualService'],
    ])
      expect(
        argo({ apiVersion, kind, metadata: { name: 'x', namespace: 'a' }, status: { health: { status: 'Degraded' } } }),
      ).toBeUndefined();
  });

  test('an unsupported version of a built-in kind is Unknown with an error', () => {
    expect(argo({ ...deployment({}), apiVersion: 'apps/v1beta2' })).toEqual({
      status: 'Unknown',
      message: 'unsupported Deployment GVK: apps/v1beta2, Kind=Deployment',
      error: true,
    });
  });

  test('an object being deleted is Progressing, unless only Argo CD’s hook finalizer holds it', () => {
    const gone = (finalizers: string[]) => ({
      ...job([{ type: 'Complete', status: 'True' }]),
      metadata: { name: 'j', namespace: 'a', deletionTimestamp: 30, finalizers },
    });
    expect(argo(gone(['foregroundDeletion']))).toEqual({ status: 'Progressing', message: 'Pending deletion' });
    expect(argo(gone(['argocd.argoproj.io/hook-finalizer']))?.status).toBe('Healthy');
    // Before any check, custom ones included (health.go:71-76).
    expect(argoWith({ 'resource.customizations.health.batch_Job': 'return {status = "Degraded"}' })(gone([]))?.status).toBe('Progressing');
  });
});

describe('Argo CD Lua health checks (argocd-cm), executed as Argo CD does', () => {
  const cm = (lua: string, extra: Record<string, string> = {}) =>
    argoWith({ 'resource.customizations.health.example.com_Widget': lua, ...extra });
  const widget: Obj = {
    apiVersion: 'example.com/v1',
    kind: 'Widget',
    metadata: { name: 'w', namespace: 'a', generation: 2 },
    status: { phase: 'Ready', observedGeneration: 2 },
  };

  test('the object is the global obj; the returned table is the health; numbers read as Go renders them', () => {
    const h = cm('return { status = "Healthy", message = obj.status.phase .. " at generation " .. obj.metadata.generation }')(widget);
    expect(h).toEqual({ status: 'Healthy', message: 'Ready at generation 2' });
  });

  test('a custom check overrides the built-in Go check and the bundled Lua of its kind', () => {
    const depl = deployment({ status: { replicas: 1, updatedReplicas: 1, availableReplicas: 1 } });
    expect(argoWith({ 'resource.customizations.health.apps_Deployment': 'return {status = "Suspended", message = "mine"}' })(depl)).toEqual(
      {
        status: 'Suspended',
        message: 'mine',
      },
    );
    const route: Obj = { apiVersion: 'route.openshift.io/v1', kind: 'Route', metadata: { name: 'r', namespace: 'a' } };
    expect(argo(route)).toEqual({ status: 'Progressing', message: 'Route is still getting admitted' });
    expect(argoWith({ 'resource.customizations.health.route.openshift.io_Route': 'return {status = "Healthy"}' })(route)?.status).toBe(
      'Healthy',
    );
  });

  test('core-group kinds are keyed by kind alone; `all` (*/*) matches every kind of a named group, an exact key wins over it', () => {
    const svc: Obj = { apiVersion: 'v1', kind: 'Service', metadata: { name: 's', namespace: 'a' }, spec: { type: 'ClusterIP' } };
    expect(argoWith({ 'resource.customizations.health.Service': 'return {status = "Missing"}' })(svc)?.status).toBe('Missing');
    const all = argoWith({
      'resource.customizations.health.all': 'return {status = "Suspended"}',
      'resource.customizations.health.example.com_Widget': 'return {status = "Healthy"}',
    });
    expect(all(deployment({}))?.status).toBe('Suspended');
    // A core kind's key has no slash ("ConfigMap", lua.go:476-481), so */* does not match it.
    expect(all({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'a' } })).toBeUndefined();
    expect(all(widget)?.status).toBe('Healthy');
    expect(argoWith({ 'resource.customizations.health.*.io_Widget': 'return {status = "Healthy"}' })(widget)).toBeUndefined();
    expect(argoWith({ 'resource.customizations.health.*.com_Widget': 'return {status = "Healthy"}' })(widget)?.status).toBe('Healthy');
  });

  test('the resource.customizations YAML form is read too, and split keys override it', () => {
    const blob = 'example.com/Widget:\n  health.lua: |\n    return {status = "Degraded", message = "from the blob"}\n';
    expect(argoWith({ 'resource.customizations': blob })(widget)).toEqual({ status: 'Degraded', message: 'from the blob' });
    expect(
      argoWith({ 'resource.customizations': blob, 'resource.customizations.health.example.com_Widget': 'return {status = "Healthy"}' })(
        widget,
      )?.status,
    ).toBe('Healthy');
  });

  test('custom checks get no string/math library unless useOpenLibs is set; bundled checks always do', () => {
    const lua = 'return {status = "Healthy", message = string.format("%d", 3)}';
    const closed = cm(lua)(widget);
    expect(closed).toMatchObject({ status: 'Unknown', error: true });
    expect(closed?.message).toMatch(/^<string>:1: .*string/);
    expect(cm(lua, { 'resource.customizations.useOpenLibs.example.com_Widget': 'true' })(widget)).toEqual({
      status: 'Healthy',
      message: '3',
    });
    // The PDB check concatenates with `..` only, the Gateway check defines functions: both run with every library.
    expect(
      runLuaHealth(
        { status: { conditions: [{ type: 'DisruptionAllowed', status: 'True', reason: 'SufficientPods' }] } },
        'return {status="Healthy", message=string.upper("x")}',
        true,
      ),
    ).toEqual({
      status: 'Healthy',
      message: 'X',
    });
  });

  test.each([
    ['a runtime error', 'return {status = obj.spec.missing.field}', { status: 'Unknown', error: true }],
    ['a syntax error', 'return {status = ', { status: 'Unknown', error: true }],
    [
      'a non-table result',
      'return "Healthy"',
      { status: 'Unknown', message: 'expect table output from Lua script, not string', error: true },
    ],
    ['mixed keys', 'return {status = "Healthy", "x"}', { status: 'Unknown', error: true }],
    ['a function in the table', 'return {status = "Healthy", f = function() end}', { status: 'Unknown', error: true }],
    [
      'an endless loop (Argo CD: 1 s deadline)',
      'while true do end',
      { status: 'Unknown', message: expect.stringMatching(/context deadline exceeded$/), error: true },
    ],
    ['the wall clock', 'return {status = "Healthy", message = tostring(os.time())}', { status: 'Unknown', error: true }],
  ])('%s is an evaluation error: Unknown, error set (lua.go:131-165, health.go:78-86)', (_name, lua, want) => {
    expect(cm(lua)(widget)).toMatchObject(want);
  });

  test.each([
    ['nil', 'return nil', { status: '', message: '' }],
    ['nothing', 'local x = 1', { status: '', message: '' }],
    ['an empty table (encoded as [])', 'return {}', { status: '', message: '' }],
    ['a list', 'return {"Healthy"}', { status: '', message: '' }],
    ['a non-string status (json type error)', 'return {status = 5, message = "m"}', { status: '', message: '' }],
    ['no status', 'return {message = "m"}', { status: 'Unknown', message: 'Lua returned an invalid health status' }],
    ['an invalid status', 'return {status = "Ready"}', { status: 'Unknown', message: 'Lua returned an invalid health status' }],
    ['field names in any case (encoding/json)', 'return {Status = "Degraded", MESSAGE = "m"}', { status: 'Degraded', message: 'm' }],
    ['the last returned value', 'return {status = "Degraded"}, {status = "Healthy"}', { status: 'Healthy', message: '' }],
    ['unpack as in Lua 5.1', 'local a = unpack({"Healthy"}); return {status = a}', { status: 'Healthy', message: '' }],
  ])('a script returning %s', (_name, lua, want) => {
    expect(cm(lua)(widget)).toEqual(want);
  });

  test('a table met twice is refused by gopher-json even without a cycle', () => {
    expect(cm('local t = {}; return {status = "Healthy", a = t, b = t}')(widget)).toMatchObject({ status: 'Unknown', error: true });
    expect(cm('return {status = "Healthy", a = {}, b = {}}')(widget)).toEqual({ status: 'Healthy', message: '' });
  });

  test('the instruction budget stops a runaway script and nothing else', () => {
    expect(LUA_INSTRUCTION_BUDGET).toBeGreaterThan(100_000);
    expect(cm('local n = 0; for i = 1, 60000 do n = n + i end; return {status = "Healthy", message = tostring(n)}')(widget)).toEqual({
      status: 'Healthy',
      message: '1800030000',
    });
  });

  test('an argocd-cm Argo CD would refuse is refused', () => {
    expect(() => readLuaOverrides({ data: { 'resource.customizations.health.a_b_c': 'x' } })).toThrow(/group kind should be in format/);
    expect(() => readLuaOverrides({ data: { 'resource.customizations.healthz.a_B': 'x' } })).toThrow(/type healthz not supported/);
    expect(() => readLuaOverrides({ data: { 'resource.customizations.useOpenLibs.a_B': 'yes' } })).toThrow(/ParseBool/);
    expect(() => readLuaOverrides({ data: { 'resource.customizations.ignoreDifferences.a_B': 'jsonPointers: []' } })).not.toThrow();
  });
});

describe('the health checks of a render', () => {
  let rendered: Map<string, string>;
  beforeAll(() => {
    rendered = synthesize(path.join(ROOT, 'examples', 'production-smcp', 'clusters')).files;
  });

  test('without argocd-cm-health.patch.yaml, Argo CD’s own checks only', () => {
    const none = argoHealthFrom(memoryTree(new Map()));
    expect(none(FAILED_NEW_SPEC)).toBeUndefined();
    expect(none(deployment({ status: { replicas: 1, updatedReplicas: 1, availableReplicas: 1 } }))?.status).toBe('Healthy');
  });

  test('the SMCP Lua the render ships reports a failed reconcile of a new spec as Degraded, not Progressing', () => {
    expect(rendered.has(ARGOCD_HEALTH_PATCH)).toBe(true);
    const health = argoHealthFrom(memoryTree(rendered));
    // The failure reasons come before the generation gate: Maistra writes observedGeneration only after a
    // successful reconcile, so behind the gate the failure would never show and Argo CD would wait for ever.
    expect(health(FAILED_NEW_SPEC)).toMatchObject({ status: 'Degraded' });
    // The same failure once observed is Degraded: the Lua executed is the render's, not a stand-in.
    expect(
      health(smcp(15, 15, { type: 'Reconciled', status: 'False', reason: 'ReconcileError', message: 'Error pruning obsolete resources' })),
    ).toEqual({
      status: 'Degraded',
      message: 'Error pruning obsolete resources',
    });
    expect(
      health(
        smcp(
          15,
          15,
          { type: 'Reconciled', status: 'True', reason: 'InstallSuccessful' },
          { type: 'Ready', status: 'True', reason: 'ComponentsReady', message: 'All ready' },
        ),
      ),
    ).toEqual({ status: 'Healthy', message: 'All ready' });
  });

  test('the committed dist/ ships the same SMCP check', () => {
    expect(argoHealthFrom(diskTree(path.join(ROOT, 'dist')))(FAILED_NEW_SPEC)?.status).toBe('Degraded');
  });

  test('the render’s Application check replaces Argo CD’s default (none)', () => {
    const app: Obj = {
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'Application',
      metadata: { name: 'meshfed-east', namespace: 'openshift-gitops', labels: { 'app.kubernetes.io/managed-by': 'meshfed' } },
      status: {
        operationState: { phase: 'Failed', message: 'one or more synchronization tasks completed unsuccessfully' },
        health: { status: 'Healthy' },
      },
    };
    expect(argo(app)).toBeUndefined();
    expect(argoHealthFrom(memoryTree(rendered))(app)).toEqual({
      status: 'Degraded',
      message: 'one or more synchronization tasks completed unsuccessfully',
    });
    // The check is keyed by kind, so it reaches every Application of the instance. Upstream has none: another
    // team's child Application never holds its parent's wave, whatever its own health says, with or without status.
    for (const health of ['Healthy', 'Missing', 'Suspended', 'Degraded', 'Unknown']) {
      const theirs = { ...app, metadata: { name: 'team-app', namespace: 'openshift-gitops' }, status: { health: { status: health } } };
      expect(argoHealthFrom(memoryTree(rendered))(theirs)).toEqual({ status: 'Healthy', message: '' });
    }
    const fresh = { apiVersion: app.apiVersion, kind: app.kind, metadata: { name: 'team-app', namespace: 'openshift-gitops' } };
    expect(argoHealthFrom(memoryTree(rendered))(fresh)).toEqual({ status: 'Healthy', message: '' });
  });

  test('a failed reconcile under Flux: the render’s healthCheckExprs say InProgress until the timeout (generation before `failed`)', () => {
    const file = [...rendered.keys()].find((f) => /^flux\/[^/]+\/kustomization-meshfed-[^/]+\.yaml$/.test(f))!;
    const exprs = ((load(rendered.get(file)!) as JsonObject).spec as JsonObject).healthCheckExprs as unknown as HealthCheckExpr[];
    expect(validateHealthCheckExprs(exprs)).toBeUndefined();
    expect(fluxHealth(FAILED_NEW_SPEC, exprs)).toEqual({ status: 'InProgress', message: '' });
    expect(fluxHealth(smcp(15, 15, { type: 'Reconciled', status: 'False', reason: 'ReconcileError' }), exprs).status).toBe('Failed');
    // Not a failure reason: an operator upgrade.
    expect(fluxHealth(smcp(15, 15, { type: 'Reconciled', status: 'False', reason: 'OperatorUpdated' }), exprs).status).toBe('InProgress');
    expect(fluxHealth(smcp(15, 15, { type: 'Reconciled', status: 'True' }, { type: 'Ready', status: 'True' }), exprs).status).toBe(
      'Current',
    );
    // An SMCP the operator has not touched yet: has(status.conditions) errors without status.
    const fresh = { ...FAILED_NEW_SPEC, status: undefined } as unknown as Obj;
    delete fresh.status;
    expect(fluxHealth(fresh, exprs)).toMatchObject({ status: 'Unknown', message: expect.stringMatching(/no such attribute: status/) });
  });
});

describe('Flux kstatus', () => {
  test.each([
    ['pods cannot be created', failedCreate(false), 'InProgress', 'Replicas: 0/1'],
    ['pods cannot be created, deadline passed', failedCreate(true), 'Failed', 'Progress deadline exceeded'],
    [
      'rolled out',
      deployment({
        status: {
          replicas: 1,
          updatedReplicas: 1,
          readyReplicas: 1,
          availableReplicas: 1,
          conditions: [
            { type: 'Available', status: 'True' },
            { type: 'Progressing', status: 'True', reason: 'NewReplicaSetAvailable' },
          ],
        },
      }),
      'Current',
      'Deployment is available. Replicas: 1',
    ],
    [
      'rolled out, Progressing condition not yet NewReplicaSetAvailable',
      deployment({
        status: {
          replicas: 1,
          updatedReplicas: 1,
          readyReplicas: 1,
          availableReplicas: 1,
          conditions: [{ type: 'Available', status: 'True' }],
        },
      }),
      'InProgress',
      'ReplicaSet not Available',
    ],
    [
      'without progressDeadlineSeconds no Progressing condition is awaited',
      {
        ...deployment({
          status: {
            replicas: 1,
            updatedReplicas: 1,
            readyReplicas: 1,
            availableReplicas: 1,
            conditions: [{ type: 'Available', status: 'True' }],
          },
        }),
        spec: { replicas: 1 },
      },
      'Current',
      'Deployment is available. Replicas: 1',
    ],
    [
      'generation not observed',
      { ...deployment({ generation: 5 }), status: { observedGeneration: 4 } },
      'InProgress',
      'Deployment generation is 5, but latest observed generation is 4',
    ],
  ])('Deployment %s → %s', (_name, obj, status, message) => {
    expect(fluxHealth(obj as Obj, [])).toEqual({ status, message });
  });

  const cr = (status: JsonObject, meta: JsonObject = {}): Obj => ({
    apiVersion: 'example.com/v1',
    kind: 'Widget',
    metadata: { name: 'w', namespace: 'a', generation: 1, ...meta },
    status,
  });
  test.each([
    ['no conditions', cr({}), 'Current'],
    ['Ready=True', cr({ conditions: [{ type: 'Ready', status: 'True' }] }), 'Current'],
    [
      'Ready=False (a roll with a missing member never gets Ready)',
      cr({ conditions: [{ type: 'Ready', status: 'False', message: 'not yet configured' }] }),
      'InProgress',
    ],
    [
      'Reconciling=True',
      cr({
        conditions: [
          { type: 'Reconciling', status: 'True' },
          { type: 'Ready', status: 'True' },
        ],
      }),
      'InProgress',
    ],
    ['Stalled=True', cr({ conditions: [{ type: 'Stalled', status: 'True', message: 'stuck' }] }), 'Failed'],
    ['terminating', cr({ conditions: [{ type: 'Ready', status: 'True' }] }, { deletionTimestamp: 40 }), 'Terminating'],
    ['observedGeneration behind', cr({ observedGeneration: 0, conditions: [{ type: 'Ready', status: 'True' }] }), 'InProgress'],
    ['conditions not a list', cr({ conditions: 'Ready' }), 'Unknown'],
  ])('a custom resource with %s → %s', (_name, obj, status) => {
    expect(fluxHealth(obj, []).status).toBe(status);
  });

  test('StatefulSet, DaemonSet, ReplicaSet, PVC, Service, PDB, CRD rules', () => {
    const f = (o: Obj) => fluxHealth(o, []).status;
    const meta = { name: 'x', namespace: 'a', generation: 1 };
    expect(
      f({ apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: meta, spec: { updateStrategy: { type: 'OnDelete' } }, status: {} }),
    ).toBe('Current');
    expect(
      f({ apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: meta, spec: { replicas: 2 }, status: { replicas: 2, readyReplicas: 1 } }),
    ).toBe('InProgress');
    expect(
      f({
        apiVersion: 'apps/v1',
        kind: 'StatefulSet',
        metadata: meta,
        spec: { replicas: 2, updateStrategy: { rollingUpdate: { partition: 1 } } },
        status: { replicas: 2, readyReplicas: 2, updatedReplicas: 1 },
      }),
    ).toBe('Current');
    // A DaemonSet without status.observedGeneration is InProgress (core.go:311-314).
    expect(f({ apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: meta, status: { desiredNumberScheduled: 1 } })).toBe('InProgress');
    expect(
      f({
        apiVersion: 'apps/v1',
        kind: 'DaemonSet',
        metadata: meta,
        status: {
          observedGeneration: 1,
          desiredNumberScheduled: 1,
          currentNumberScheduled: 1,
          updatedNumberScheduled: 1,
          numberAvailable: 1,
          numberReady: 1,
        },
      }),
    ).toBe('Current');
    expect(f({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: meta, status: { phase: 'Pending' } })).toBe('InProgress');
    expect(f({ apiVersion: 'v1', kind: 'Service', metadata: meta, spec: { type: 'LoadBalancer' } })).toBe('InProgress');
    // kstatus waits for a cluster IP only, not for an external address (Argo CD waits for the address).
    const lb: Obj = { apiVersion: 'v1', kind: 'Service', metadata: meta, spec: { type: 'LoadBalancer', clusterIP: '172.30.0.9' } };
    expect(f(lb)).toBe('Current');
    expect(argo(lb)?.status).toBe('Progressing');
    expect(f({ apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: meta, status: { observedGeneration: 1 } })).toBe('Current');
    expect(argo({ apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: meta, status: { observedGeneration: 1 } })?.status).toBe(
      'Progressing',
    );
    expect(
      f({
        apiVersion: 'apiextensions.k8s.io/v1',
        kind: 'CustomResourceDefinition',
        metadata: meta,
        status: { conditions: [{ type: 'Established', status: 'True' }] },
      }),
    ).toBe('Current');
    expect(
      f({
        apiVersion: 'apiextensions.k8s.io/v1',
        kind: 'CustomResourceDefinition',
        metadata: meta,
        status: { conditions: [{ type: 'NamesAccepted', status: 'False' }] },
      }),
    ).toBe('Failed');
  });

  test('Pods: a failed Pod completed (Current), a crash loop is Failed, an unschedulable Pod gets 15 s', () => {
    const pod = (status: JsonObject, created = 100): Obj => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'p', namespace: 'a', creationTimestamp: created },
      status,
    });
    expect(fluxHealth(pod({ phase: 'Failed' }), []).status).toBe('Current');
    expect(
      fluxHealth(pod({ phase: 'Running', containerStatuses: [{ name: 'c', state: { waiting: { reason: 'CrashLoopBackOff' } } }] }), []),
    ).toEqual({
      status: 'Failed',
      message: 'Containers in CrashLoop state: c',
    });
    const unschedulable = pod({ phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable' }] });
    expect(fluxHealth(unschedulable, [], { now: 110 }).status).toBe('InProgress');
    expect(fluxHealth(unschedulable, [], { now: 120 }).status).toBe('Failed');
    expect(fluxHealth(pod({ phase: 'Weird' }), [])).toEqual({ status: 'Unknown', message: 'unknown phase Weird' });
  });

  test('Jobs go to Flux’s own reader: Current only once complete, Failed past activeDeadlineSeconds', () => {
    const job = (status: JsonObject, spec: JsonObject = {}): Obj => ({
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'j', namespace: 'a', generation: 1 },
      spec,
      status,
    });
    expect(fluxHealth(job({}), [])).toEqual({ status: 'InProgress', message: 'Job not started. active: 0/1' });
    expect(fluxHealth(job({ startTime: 't', active: 1 }), [])).toEqual({
      status: 'InProgress',
      message: 'Job in progress. success:0, active: 1, failed: 0',
    });
    expect(fluxHealth(job({ succeeded: 1, conditions: [{ type: 'Complete', status: 'True' }] }), [])).toEqual({
      status: 'Current',
      message: 'Job Completed. succeeded: 1/1',
    });
    expect(fluxHealth(job({ failed: 1, conditions: [{ type: 'Failed', status: 'True', reason: 'DeadlineExceeded' }] }), []).status).toBe(
      'Failed',
    );
    expect(fluxHealth(job({}, { suspend: true }), []).status).toBe('Current');
    // Before CEL: an expression for batch/Job is never asked.
    expect(fluxHealth(job({}), [{ apiVersion: 'batch/v1', kind: 'Job', current: 'true' }]).status).toBe('InProgress');
    // And before the generic rules: a terminating Job is judged by its conditions.
    expect(
      fluxHealth(
        { ...job({ conditions: [{ type: 'Complete', status: 'True' }] }), metadata: { name: 'j', namespace: 'a', deletionTimestamp: 5 } },
        [],
      ).status,
    ).toBe('Current');
  });

  test('a missing object is NotFound', () => {
    expect(fluxHealth(undefined, [])).toEqual({ status: 'NotFound', message: 'Resource not found' });
  });
});

describe('Flux healthCheckExprs (CEL)', () => {
  const widget = (status: JsonObject, meta: JsonObject = {}): Obj => ({
    apiVersion: 'example.com/v1beta1',
    kind: 'Widget',
    metadata: { name: 'w', namespace: 'a', generation: 3, ...meta },
    status: { observedGeneration: 3, ...status },
  });
  const exprs: HealthCheckExpr[] = [
    {
      apiVersion: 'example.com/v1',
      kind: 'Widget',
      inProgress: "status.phase == 'Rolling'",
      failed: "status.phase == 'Failed' || status.phase == 'Rolling'",
      current: "status.phase in ['Ready', 'Failed']",
    },
  ];

  test.each([
    ['inProgress is asked first', { phase: 'Rolling' }, 'InProgress'],
    ['then failed', { phase: 'Failed' }, 'Failed'],
    ['then current', { phase: 'Ready' }, 'Current'],
    ['none true is InProgress', { phase: 'Pending' }, 'InProgress'],
    ['a different observedGeneration is InProgress before any expression', { phase: 'Failed', observedGeneration: 2 }, 'InProgress'],
  ])('%s', (_name, status, want) => {
    expect(fluxHealth(widget(status), exprs).status).toBe(want);
  });

  test('the version is ignored; a kind entry wins over a group entry; a group entry covers every kind', () => {
    const both: HealthCheckExpr[] = [
      { apiVersion: 'example.com/v1', kind: '', current: 'false', failed: 'true' },
      { apiVersion: 'example.com/v2', kind: 'Widget', current: 'true' },
    ];
    expect(fluxHealth(widget({}), both).status).toBe('Current');
    expect(fluxHealth({ ...widget({}), kind: 'Gadget' }, both).status).toBe('Failed');
  });

  test('CEL never looks at deletionTimestamp (kstatus would say Terminating)', () => {
    const dying = widget({ phase: 'Ready' }, { deletionTimestamp: 50 });
    expect(fluxHealth(dying, exprs).status).toBe('Current');
    expect(fluxHealth(dying, []).status).toBe('Terminating');
  });

  test('evaluation errors are Unknown; || absorbs an error the other side decides; integers are CEL ints', () => {
    expect(fluxHealth(widget({}), [{ apiVersion: 'example.com/v1', kind: 'Widget', current: 'status.phase' }])).toMatchObject({
      status: 'Unknown',
    });
    expect(fluxHealth(widget({ phase: 'x' }), [{ apiVersion: 'example.com/v1', kind: 'Widget', current: 'status.phase' }])).toEqual({
      status: 'Unknown',
      message: "failed to evaluate CEL expression as boolean: 'status.phase'",
    });
    expect(fluxHealth(widget({}), [{ apiVersion: 'example.com/v1', kind: 'Widget', current: 'spec.x == 1 || true' }]).status).toBe(
      'Current',
    );
    expect(
      fluxHealth(widget({ replicas: 2 }), [
        { apiVersion: 'example.com/v1', kind: 'Widget', current: 'status.replicas == 2 && type(status.replicas) == int' },
      ]).status,
    ).toBe('Current');
  });

  test('invalid expressions are refused as kustomize-controller refuses them', () => {
    const dup: HealthCheckExpr[] = [
      { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway', current: 'true' },
      { apiVersion: 'gateway.networking.k8s.io/v1beta1', kind: 'Gateway', current: 'true' },
    ];
    expect(validateHealthCheckExprs(dup)).toBe(
      'duplicate custom health check for GroupKind Gateway.gateway.networking.k8s.io at healthchecks[1]',
    );
    expect(validateHealthCheckExprs([{ apiVersion: 'a/v1', kind: 'B', current: '' }])).toMatch(/expression Current not specified/);
    expect(validateHealthCheckExprs([{ apiVersion: 'a/v1', kind: 'B', current: 'status.(' }])).toMatch(
      /failed to parse the expression Current/,
    );
    expect(() => fluxHealth(widget({}), dup)).toThrow(/duplicate/);
  });
});

describe('the Gateway check meshfed ships (istio-remote Gateways are never programmed)', () => {
  test('is upstream Argo CD 3.x Gateway Lua, verbatim, behind the istio-remote clause', () => {
    const upstream = BUILTIN_LUA_CHECKS.find((c) => c.key === 'gateway.networking.k8s.io/Gateway')!;
    expect(UPSTREAM_GATEWAY_LUA).toBe(upstream.lua);
  });

  test('an istio-remote Gateway without status (OSSM 2.6 writes none) is Healthy; an istio one is not', () => {
    const health = argoHealthWith(
      readLuaOverrides({ data: { 'resource.customizations.health.gateway.networking.k8s.io_Gateway': GATEWAY_LUA } }),
    );
    const gw = (cls: string): Obj => ({
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'Gateway',
      metadata: { name: 'g', namespace: 'n', generation: 1 },
      spec: { gatewayClassName: cls },
      // The Gateway CRD's default status, all OSSM 2.6 leaves on an istio-remote Gateway.
      status: {
        conditions: [
          { type: 'Accepted', status: 'Unknown', reason: 'Pending', message: 'Waiting for controller' },
          { type: 'Programmed', status: 'Unknown', reason: 'Pending', message: 'Waiting for controller' },
        ],
      },
    });
    expect(health(gw('istio-remote'))?.status).toBe('Healthy');
    expect(health(gw('istio'))?.status).toBe('Progressing');
  });
});
