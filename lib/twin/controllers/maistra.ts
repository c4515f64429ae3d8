/**
 * The OSSM 2.6 operator (Maistra istio-operator) as far as GitOps can observe it: the ServiceMeshControlPlane
 * reconcile and its status, what it renders and owns (istiod, the SMCP gateways, NetworkPolicies, the
 * ClusterWide member roll), how it adopts objects that already exist, how it prunes, how it deletes, the member
 * roll controller's finalizer/status/namespace labels, and IOR (istiod's Gateway → Route controller).
 *
 * Sources (line numbers are exact for these commits):
 * - maistra/istio-operator@8143614c (branch maistra-2.5; the 2.6 operator shares this code path): pkg/controller/…
 * - the 2.6 charts at maistra/istio-operator@08c043ff resources/helm/v2.6/… (read file by file), and the same
 *   templates at 8143614c resources/helm/v2.5/… where line numbers are cited;
 * - maistra/istio@08e9b7bd (branch maistra-2.5) pilot/pkg/config/kube/ior/controller.go for IOR.
 *
 * Rendered objects carry only the fields the rest of the twin reads (names, labels, selectors, ports, owner
 * references, the pod template's ServiceAccount); images, resources and env are not modelled. Because the
 * render is partial, adopting an object without the operator's last-applied annotation merges the render in
 * without removing fields (the real operator diffs against the live object and would remove what its full
 * render lacks) — an inference chosen so that a dumped object is not stripped of fields the twin cannot render.
 */
import { createHash } from 'crypto';

import { Json, JsonObject } from '../../load/yaml-source';
import { compareStrings } from '../../sort';
import { Cluster, Controller } from '../cluster';
import { isObject, splitApiVersion } from '../kustomize';
import { annotations, labels, metadata, Obj, Ref, refOf, valueAt } from '../objects';
import {
  controllerRef,
  findCondition,
  isPodReady,
  isTerminating,
  matchesMap,
  matchesSelector,
  putCondition,
  putStatus,
  readConditions,
  stableJson,
} from './kube';

/** The operator's field owner (pkg/controller/common/helm/patch.go:65 client.FieldOwner("istio-operator")). */
export const MAISTRA_MANAGER = 'istio-operator';
/** pkg/controller/common/metadata.go:33 FinalizerName. */
export const MAISTRA_FINALIZER = 'maistra.io/istio-operator';
const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';
/** pkg/controller/common/metadata.go: OwnerKey (:11), OwnerNameKey (:14), MeshGenerationKey (:27), app labels (:37-48). */
export const MAISTRA_LABELS = {
  owner: 'maistra.io/owner',
  ownerName: 'maistra.io/owner-name',
  managedBy: 'app.kubernetes.io/managed-by',
  managedByValue: 'maistra-istio-operator',
  version: 'app.kubernetes.io/version',
  component: 'app.kubernetes.io/component',
  instance: 'app.kubernetes.io/instance',
  memberOf: 'maistra.io/member-of',
} as const;
const MESH_GENERATION = 'maistra.io/mesh-generation';

/** A reconcile failure to inject: a message (reason ReconcileError) or an explicit reason. */
export type InjectedFailure = string | { readonly reason: string; readonly message: string };

export interface MaistraOptions {
  /** Failure injection: why reconciling this SMCP's current spec fails (undefined: it succeeds). */
  readonly failReconcileOf?: (smcp: Obj) => InjectedFailure | undefined;
  /** The operator's version (status.operatorVersion, and the prefix of app.kubernetes.io/version). */
  readonly operatorVersion?: string;
}

// ---------------------------------------------------------------------------------------------------------
// What an SMCP asks for (its spec over the `default` profile: servicemesh = base + small)
// ---------------------------------------------------------------------------------------------------------

type GatewayKind = 'ingress' | 'egress';

interface GatewayPlan {
  readonly name: string;
  readonly kind: GatewayKind;
  readonly namespace: string;
  readonly labels: Record<string, string>;
  readonly cfg: JsonObject;
  readonly route: boolean;
}

export interface ControlPlanePlan {
  readonly name: string;
  readonly namespace: string;
  readonly clusterWide: boolean;
  readonly manageNetworkPolicy: boolean;
  readonly podDisruptionBudgets: boolean;
  readonly ior: boolean;
  readonly gateways: GatewayPlan[];
  readonly pilotReplicas?: number;
}

const obj = (v: Json | undefined): JsonObject => (isObject(v) ? v : {});
const bool = (v: Json | undefined): boolean | undefined => (typeof v === 'boolean' ? v : undefined);

/**
 * Chart default labels (resources/helm/v2.5/gateways/istio-ingress/values.yaml:7-9, istio-egress/values.yaml:16-18);
 * `app` becomes the gateway's name unless set (pkg/controller/versions/strategy_v2_5.go:699-704), and the
 * SMCP's `service.metadata.labels` are user values that Helm coalesces over the chart defaults (inference,
 * as in the review: pkg/controller/common/helm/helm.go RenderChart).
 */
function gatewayLabels(kind: GatewayKind, name: string, cfg: JsonObject): Record<string, string> {
  const chart =
    kind === 'ingress' ? { app: 'istio-ingressgateway', istio: 'ingressgateway' } : { app: 'istio-egressgateway', istio: 'egressgateway' };
  const user = obj(valueAt(cfg, ['service', 'metadata', 'labels'])) as Record<string, string>;
  return { ...chart, app: name, ...user };
}

/**
 * The labels an already rendered gateway carries, from its Deployment's (immutable) selector or its Service's
 * selector: the chart renders both from the gateway labels, so a live object tells them better than the twin's
 * reading of Helm's value coalescing.
 */
export type ObservedGatewayLabels = (namespace: string, name: string) => Record<string, string> | undefined;

/** The effective control-plane settings the twin renders from. */
export function planControlPlane(smcp: Obj, observed: ObservedGatewayLabels = () => undefined): ControlPlanePlan {
  const spec = obj(smcp.spec);
  const name = String(metadata(smcp).name);
  const namespace = String(metadata(smcp).namespace);
  const gw = obj(spec.gateways);
  // smcp-templates/v2.5/base:7-17: gateways, ingress and egress are enabled unless the SMCP says otherwise.
  const enabled = bool(gw.enabled) ?? true;
  const gateways: GatewayPlan[] = [];
  const add = (kind: GatewayKind, gwName: string, cfg: JsonObject, route: boolean) =>
    gateways.push({
      name: gwName,
      kind,
      namespace: String(cfg.namespace || namespace),
      labels: observed(String(cfg.namespace || namespace), gwName) ?? gatewayLabels(kind, gwName, cfg),
      cfg,
      route,
    });
  if (enabled) {
    const ingress = obj(gw.ingress);
    // istio-ingress/values.yaml:109-110 routeConfig.enabled: true.
    if (bool(ingress.enabled) ?? true)
      add('ingress', 'istio-ingressgateway', ingress, bool(valueAt(ingress, ['routeConfig', 'enabled'])) ?? true);
    const egress = obj(gw.egress);
    if (bool(egress.enabled) ?? true) add('egress', 'istio-egressgateway', egress, false);
    // strategy_v2_5.go:637-640: an additional gateway renders only when `enabled: true`.
    for (const [kind, key] of [
      ['ingress', 'additionalIngress'],
      ['egress', 'additionalEgress'],
    ] as const) {
      for (const gwName of Object.keys(obj(gw[key])).sort(compareStrings)) {
        const cfg = obj(obj(gw[key])[gwName]);
        if (cfg.enabled === true) add(kind, gwName, cfg, kind === 'ingress' && (bool(valueAt(cfg, ['routeConfig', 'enabled'])) ?? true));
      }
    }
  }
  // IOR: the 2.5+ webhook writes openshiftRoute.enabled: false on SMCP creation when unset
  // (pkg/controller/servicemesh/webhooks/mutation/controlplane.go:76-93); an older SMCP shows the base
  // template's `true` (smcp-templates/v2.5/base:16-17) in status.appliedSpec.
  const ior =
    bool(valueAt(gw, ['openshiftRoute', 'enabled'])) ??
    bool(valueAt(smcp, ['status', 'appliedSpec', 'gateways', 'openshiftRoute', 'enabled'])) ??
    false;
  const replicas = valueAt(spec, ['runtime', 'components', 'pilot', 'deployment', 'replicas']);
  return {
    name,
    namespace,
    clusterWide: spec.mode === 'ClusterWide',
    // hooks.go:56-61: NetworkPolicies are skipped only when manageNetworkPolicy is explicitly false.
    manageNetworkPolicy: valueAt(spec, ['security', 'manageNetworkPolicy']) !== false,
    // resources/helm/v2.5/global.yaml:255-256 enables budgets, the `small` profile (smcp-templates/v2.5/small)
    // turns them off; the default profile includes `small`.
    podDisruptionBudgets: bool(valueAt(spec, ['runtime', 'defaults', 'deployment', 'podDisruption', 'enabled'])) ?? false,
    ior: enabled && ior,
    gateways,
    pilotReplicas: typeof replicas === 'number' ? replicas : undefined,
  };
}

// ---------------------------------------------------------------------------------------------------------
// The render
// ---------------------------------------------------------------------------------------------------------

/** Chart → component (app.kubernetes.io/component): rendering_strategy_v2_x.go:6-11, reconciler.go componentFromChartName. */
type Component = 'istio-discovery' | 'mesh-config' | 'istio-ingress' | 'istio-egress';
/** strategy_v2_5.go:80-87 v2_5ChartOrder: discovery, then mesh-config, then the gateways (each group waits for the previous). */
const CHART_ORDER: Component[][] = [['istio-discovery'], ['mesh-config'], ['istio-ingress', 'istio-egress']];
/** The kinds this render produces; only these are pruned between generations. */
const RENDERED_KINDS = new Set([
  '/ServiceAccount',
  'apps/Deployment',
  '/Service',
  'policy/PodDisruptionBudget',
  'networking.k8s.io/NetworkPolicy',
  'route.openshift.io/Route',
]);

export interface Rendered {
  readonly component: Component;
  readonly obj: Obj;
}

const DEFAULT_PORTS: Record<GatewayKind, JsonObject[]> = {
  // istio-ingress/values.yaml:15-26, istio-egress/values.yaml:6-14.
  ingress: [
    { port: 15021, targetPort: 15021, name: 'status-port', protocol: 'TCP' },
    { port: 80, targetPort: 8080, name: 'http2', protocol: 'TCP' },
    { port: 443, targetPort: 8443, name: 'https', protocol: 'TCP' },
  ],
  egress: [
    { port: 80, targetPort: 8080, name: 'http2', protocol: 'TCP' },
    { port: 443, targetPort: 8443, name: 'https', protocol: 'TCP' },
  ],
};

function renderGateway(p: ControlPlanePlan, g: GatewayPlan, version: string): Rendered[] {
  const component: Component = g.kind === 'ingress' ? 'istio-ingress' : 'istio-egress';
  const chartLabels = { 'maistra-version': version, ...g.labels, release: 'istio', 'istio.io/rev': p.name };
  const ports = Array.isArray(valueAt(g.cfg, ['service', 'ports']))
    ? (valueAt(g.cfg, ['service', 'ports']) as JsonObject[])
    : DEFAULT_PORTS[g.kind];
  const meta = (name: string, extra: Record<string, string> = chartLabels) => ({ name, namespace: g.namespace, labels: { ...extra } });
  const out: Rendered[] = [];
  // templates/serviceaccount.yaml:11-17 (`<gateway>-service-account`).
  out.push({ component, obj: { apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta(`${g.name}-service-account`) } });
  const replicas = valueAt(g.cfg, ['runtime', 'deployment', 'replicas']);
  const templateLabels: Record<string, string> = {
    'maistra.io/gateway': `${g.name}.${g.namespace}`,
    'maistra-control-plane': p.namespace,
    ...g.labels,
    ...(p.namespace === 'istio-system' ? { heritage: 'Tiller', release: 'istio', chart: 'gateways' } : {}),
    'service.istio.io/canonical-name': g.name,
    'service.istio.io/canonical-revision': p.name,
    'istio.io/rev': p.name,
    'sidecar.istio.io/inject': 'false',
  };
  // templates/deployment.yaml:91-152 (v2.5 line numbers; v2.6 @08c043ff is the same but for canonical-revision).
  out.push({
    component,
    obj: {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: meta(g.name, { 'maistra.io/gateway': `${g.name}.${g.namespace}`, ...chartLabels }),
      spec: {
        ...(typeof replicas === 'number' ? { replicas } : {}),
        selector: { matchLabels: { ...g.labels } },
        strategy: { rollingUpdate: { maxSurge: '100%', maxUnavailable: '25%' } },
        template: {
          metadata: { labels: templateLabels, annotations: { 'istio.io/rev': p.name, 'sidecar.istio.io/inject': 'false' } },
          spec: {
            serviceAccountName: `${g.name}-service-account`,
            containers: [
              {
                name: 'istio-proxy',
                ports: ports.map((x) => ({
                  name: x.name ?? null,
                  containerPort: x.targetPort ?? x.port ?? null,
                  protocol: x.protocol ?? 'TCP',
                })),
              },
            ],
          },
        },
      },
    },
  });
  // templates/service.yaml:1-44.
  const svcAnnotations = obj(valueAt(g.cfg, ['service', 'metadata', 'annotations']));
  out.push({
    component,
    obj: {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { ...meta(g.name), ...(Object.keys(svcAnnotations).length ? { annotations: svcAnnotations } : {}) },
      spec: { type: String(valueAt(g.cfg, ['service', 'type']) ?? 'ClusterIP'), selector: { ...g.labels }, ports: structuredClone(ports) },
    },
  });
  // templates/poddisruptionbudget.yaml:1-22.
  if (p.podDisruptionBudgets) {
    out.push({
      component,
      obj: {
        apiVersion: 'policy/v1',
        kind: 'PodDisruptionBudget',
        metadata: meta(g.name),
        spec: { minAvailable: 1, selector: { matchLabels: { ...g.labels } } },
      },
    });
  }
  if (g.kind === 'ingress') {
    // istio-ingress/templates/networkpolicy.yaml:1-22: open to everything, internal (not copied to members).
    if (p.manageNetworkPolicy) {
      out.push({
        component,
        obj: {
          apiVersion: 'networking.k8s.io/v1',
          kind: 'NetworkPolicy',
          metadata: {
            ...meta(g.name, { 'maistra-version': version, ...g.labels, release: 'istio' }),
            annotations: { 'maistra.io/internal': 'true' },
          },
          spec: { podSelector: { matchLabels: { ...g.labels } }, ingress: [{}] },
        },
      });
    }
    // istio-ingress/templates/istio-ingressgateway-route.yaml:1-24: no host (the router generates one).
    if (g.route) {
      out.push({
        component,
        obj: {
          apiVersion: 'route.openshift.io/v1',
          kind: 'Route',
          metadata: meta(g.name, { 'maistra-version': version, release: 'istio', ...g.labels }),
          spec: { to: { kind: 'Service', name: g.name }, port: { targetPort: 8080 } },
        },
      });
    }
  }
  return out;
}

/** What the twin renders for an SMCP, before the operator's labels, annotations and owner references. */
export function renderControlPlane(p: ControlPlanePlan, chartVersion: string): Rendered[] {
  const rev = p.name;
  const ns = p.namespace;
  const istiodLabels = { 'maistra-version': chartVersion, app: 'istiod', 'istio.io/rev': rev, istio: 'pilot', release: 'istio' };
  const discovery: Component = 'istio-discovery';
  const out: Rendered[] = [
    // istio-discovery/templates/serviceaccount.yaml:9-15, deployment.yaml:1-76, service.yaml:1-40.
    {
      component: discovery,
      obj: {
        apiVersion: 'v1',
        kind: 'ServiceAccount',
        metadata: { name: `istiod-${rev}`, namespace: ns, labels: { 'maistra-version': chartVersion, app: 'istiod', release: 'istio' } },
      },
    },
    {
      component: discovery,
      obj: {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: `istiod-${rev}`, namespace: ns, labels: istiodLabels },
        spec: {
          ...(p.pilotReplicas !== undefined ? { replicas: p.pilotReplicas } : {}),
          selector: { matchLabels: { app: 'istiod', 'istio.io/rev': rev } },
          template: {
            metadata: {
              labels: {
                'maistra-control-plane': ns,
                app: 'istiod',
                'istio.io/rev': rev,
                'sidecar.istio.io/inject': 'false',
                istio: 'istiod',
              },
              annotations: { 'sidecar.istio.io/inject': 'false' },
            },
            spec: { serviceAccountName: `istiod-${rev}`, containers: [{ name: 'discovery' }] },
          },
        },
      },
    },
    {
      component: discovery,
      obj: {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: `istiod-${rev}`, namespace: ns, labels: istiodLabels },
        spec: {
          ports: [
            { port: 15010, name: 'grpc-xds', protocol: 'TCP' },
            { port: 15012, name: 'https-dns', protocol: 'TCP' },
            { port: 443, name: 'https-webhook', targetPort: 15017, protocol: 'TCP' },
            { port: 15014, name: 'http-monitoring', protocol: 'TCP' },
            { port: 8188, name: 'http-discovery', protocol: 'TCP' },
          ],
          selector: { app: 'istiod', 'istio.io/rev': rev },
        },
      },
    },
  ];
  if (p.podDisruptionBudgets) {
    out.push({
      component: discovery,
      obj: {
        apiVersion: 'policy/v1',
        kind: 'PodDisruptionBudget',
        metadata: { name: `istiod-${rev}`, namespace: ns, labels: istiodLabels },
        spec: { minAvailable: 1, selector: { matchLabels: { app: 'istiod', 'istio.io/rev': rev } } },
      },
    });
  }
  if (p.manageNetworkPolicy) {
    const np = (name: string, component: Component, l: Record<string, string>, spec: JsonObject, internal = false): Rendered => ({
      component,
      obj: {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'NetworkPolicy',
        metadata: {
          name,
          namespace: ns,
          labels: { 'maistra-version': chartVersion, ...l, release: 'istio' },
          ...(internal ? { annotations: { 'maistra.io/internal': 'true' } } : {}),
        },
        spec,
      },
    });
    // istio-discovery/templates/networkpolicy.yaml (v2.6 @08c043ff): its `- ports:` / `port: webhook` lines decode
    // to an ingress rule without ports (the stray `port` key is dropped), i.e. open to all.
    out.push(
      np(
        `istio-istiod-${rev}`,
        discovery,
        { app: 'istiod', istio: 'pilot', 'istio.io/rev': rev },
        { podSelector: { matchLabels: { app: 'istiod', 'istio.io/rev': rev } }, ingress: [{}] },
        true,
      ),
    );
    // mesh-config/templates/networkpolicy.yaml:1-37 (v2.5; identical in v2.6 @08c043ff).
    out.push(
      np(
        `istio-mesh-${rev}`,
        'mesh-config',
        { app: 'istio' },
        { podSelector: {}, ingress: [{ from: [{ namespaceSelector: { matchLabels: { [MAISTRA_LABELS.memberOf]: ns } } }] }] },
      ),
    );
    out.push(
      np(
        `istio-expose-route-${rev}`,
        'mesh-config',
        { app: 'istio' },
        {
          podSelector: { matchLabels: { 'maistra.io/expose-route': 'true' } },
          ingress: [{ from: [{ namespaceSelector: { matchLabels: { 'network.openshift.io/policy-group': 'ingress' } } }] }],
        },
      ),
    );
  }
  for (const g of p.gateways) out.push(...renderGateway(p, g, chartVersion));
  return out;
}

/**
 * The operator's additions to every rendered object: the app and owner labels (pkg/controller/common/helm/
 * manifestprocessing.go:244-259, with `instance` = the SMCP namespace: controlplane/manifestprocessing.go:28),
 * the mesh-generation annotation and, only for objects in the SMCP's namespace, the controller owner reference
 * (controlplane/hooks.go:26-35), then the last-applied annotation (manifestprocessing.go:162).
 */
function decorate(r: Rendered, smcp: Obj, meshGeneration: string): Obj {
  const o = structuredClone(r.obj);
  const meta = metadata(o);
  const ns = String(metadata(smcp).namespace);
  meta.labels = {
    ...obj(meta.labels),
    'app.kubernetes.io/name': r.component,
    [MAISTRA_LABELS.instance]: ns,
    [MAISTRA_LABELS.version]: meshGeneration,
    [MAISTRA_LABELS.component]: r.component,
    'app.kubernetes.io/part-of': 'istio',
    [MAISTRA_LABELS.managedBy]: MAISTRA_LABELS.managedByValue,
    [MAISTRA_LABELS.owner]: ns,
    [MAISTRA_LABELS.ownerName]: String(metadata(smcp).name),
  };
  meta.annotations = { ...obj(meta.annotations), [MESH_GENERATION]: meshGeneration };
  if (meta.namespace === ns) meta.ownerReferences = [controllerRef(smcp)];
  o.metadata = meta;
  const applied = structuredClone(o);
  (metadata(o).annotations as JsonObject)[LAST_APPLIED] = stableJson(applied);
  return o;
}

// ---------------------------------------------------------------------------------------------------------
// Applying the render: create, or adopt with a merge patch
// ---------------------------------------------------------------------------------------------------------

const SYSTEM_METADATA = [
  'uid',
  'resourceVersion',
  'generation',
  'creationTimestamp',
  'managedFields',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
  'selfLink',
];

function withoutSystemFields(o: Obj): Obj {
  const c = structuredClone(o);
  delete c.status;
  const meta = metadata(c);
  for (const k of SYSTEM_METADATA) delete meta[k];
  c.metadata = meta;
  return c;
}

/** RFC 7386 merge patch from `original` to `modified` (what controller-runtime client.MergeFrom sends). */
export function createMergePatch(original: Json | undefined, modified: Json, deletions = true): Json | undefined {
  if (!isObject(original) || !isObject(modified)) return stableJson(original) === stableJson(modified) ? undefined : modified;
  const out: JsonObject = {};
  if (deletions) for (const k of Object.keys(original)) if (!(k in modified)) out[k] = null;
  for (const [k, v] of Object.entries(modified)) {
    const d = createMergePatch(original[k], v, deletions);
    if (d !== undefined) out[k] = isObject(v) && !isObject(original[k]) ? v : d;
  }
  return Object.keys(out).length ? out : undefined;
}

/** RFC 7386: apply a merge patch (null removes, objects merge, everything else replaces). */
export function applyMergePatch(target: Json | undefined, patch: Json): Json | undefined {
  if (!isObject(patch)) return structuredClone(patch);
  const out: JsonObject = isObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else {
      const next = applyMergePatch(out[k], v);
      if (next !== undefined) out[k] = next;
    }
  }
  return out;
}

/**
 * Create the object, or patch the existing one (pkg/controller/common/helm/manifestprocessing.go:176-221 and
 * patch.go:48-69): a JSON merge patch from the last-applied configuration (or the live object) to the render,
 * so labels the render sets are re-asserted, owner references are replaced by the render's, and the last-applied
 * annotation is rewritten. A Route whose render has no host cannot be patched: it is deleted and created again
 * (patch.go:49-52 routeNoHostError; manifestprocessing.go:201-216).
 */
function applyRendered(cluster: Cluster, o: Obj): { changed: boolean; error?: string } {
  const ref = refOf(o);
  const live = cluster.get(ref);
  if (!live) {
    const res = cluster.create(o, MAISTRA_MANAGER);
    return res.ok ? { changed: true } : { changed: false, error: res.reason };
  }
  const refused = cluster.admit(o);
  if (refused) return { changed: false, error: refused };
  if (o.kind === 'Route' && !valueAt(o, ['spec', 'host'])) {
    // The router generates the same host from name and namespace again, so the twin carries it over (inference).
    const host = valueAt(live, ['spec', 'host']);
    const again = structuredClone(o);
    if (typeof host === 'string' && host) {
      (again.spec as JsonObject).host = host;
      metadata(again).annotations = { ...obj(metadata(again).annotations), 'openshift.io/host.generated': 'true' };
    }
    cluster.delete(ref, MAISTRA_MANAGER, 'Background');
    const res = cluster.create(again, MAISTRA_MANAGER);
    return res.ok ? { changed: true } : { changed: false, error: res.reason };
  }
  const lastApplied = annotations(live)[LAST_APPLIED];
  let original: Obj | undefined;
  try {
    original = lastApplied ? (JSON.parse(lastApplied) as Obj) : undefined;
  } catch {
    original = undefined;
  }
  const patch = createMergePatch(withoutSystemFields(original ?? live), withoutSystemFields(o), original !== undefined);
  if (patch === undefined) return { changed: false };
  const before = stableJson(live);
  cluster.update(ref, MAISTRA_MANAGER, (x) => {
    const next = applyMergePatch(withoutSystemFields(x), patch) as Obj;
    const keep = metadata(x);
    const meta = metadata(next);
    for (const k of SYSTEM_METADATA) if (keep[k] !== undefined) meta[k] = keep[k];
    next.metadata = meta;
    if (x.status !== undefined) next.status = x.status;
    for (const k of Object.keys(x)) delete x[k];
    Object.assign(x, next);
  });
  return { changed: stableJson(cluster.get(ref)) !== before };
}

// ---------------------------------------------------------------------------------------------------------
// The operator
// ---------------------------------------------------------------------------------------------------------

/** Kinds the finalizer prunes cluster-wide (controlplane/pruner.go:28-77). */
const PRUNED_ON_DELETE = new Set([
  'autoscaling/HorizontalPodAutoscaler',
  'policy/PodDisruptionBudget',
  'route.openshift.io/Route',
  'apps/Deployment',
  'apps/DaemonSet',
  'apps/StatefulSet',
  'networking.k8s.io/Ingress',
  '/Service',
  '/Endpoints',
  '/ConfigMap',
  '/PersistentVolumeClaim',
  '/Pod',
  '/Secret',
  '/ServiceAccount',
  'networking.k8s.io/NetworkPolicy',
  'rbac.authorization.k8s.io/RoleBinding',
  'rbac.authorization.k8s.io/Role',
  'admissionregistration.k8s.io/MutatingWebhookConfiguration',
  'admissionregistration.k8s.io/ValidatingWebhookConfiguration',
  'rbac.authorization.k8s.io/ClusterRole',
  'rbac.authorization.k8s.io/ClusterRoleBinding',
  'kiali.io/Kiali',
  'jaegertracing.io/Jaeger',
  'networking.istio.io/DestinationRule',
  'networking.istio.io/EnvoyFilter',
  'networking.istio.io/Gateway',
  'networking.istio.io/ServiceEntry',
  'networking.istio.io/Sidecar',
  'networking.istio.io/VirtualService',
  'networking.istio.io/WorkloadEntry',
  'security.istio.io/AuthorizationPolicy',
  'security.istio.io/PeerAuthentication',
  'security.istio.io/RequestAuthentication',
]);

interface SmcpMemory {
  generation: number;
  initialized: boolean;
  /** A new generation was seen: post the "Updating mesh" status first, whatever Reconciled says. */
  reset: boolean;
  /** Index of the next chart group to apply (CHART_ORDER); -1 before the render. */
  group: number;
  /** Components applied whose Deployments must be ready before the next group. */
  waitFor: Component[];
  iorActive: boolean;
  /** IOR: the Gateways seen, by `namespace/name`, with the resourceVersion processed. */
  gateways: Map<string, string>;
}

/** Gateway labels from what this SMCP already rendered (see ObservedGatewayLabels). */
function observedLabels(cluster: Cluster, smcp: Obj): ObservedGatewayLabels {
  const mine = (o: Obj | undefined) =>
    !!o && labels(o)[MAISTRA_LABELS.ownerName] === metadata(smcp).name && labels(o)[MAISTRA_LABELS.owner] === metadata(smcp).namespace;
  return (namespace, name) => {
    const d = cluster.get({ group: 'apps', kind: 'Deployment', namespace, name });
    const fromDeployment = valueAt(d, ['spec', 'selector', 'matchLabels']);
    if (mine(d) && isObject(fromDeployment) && Object.keys(fromDeployment).length) return { ...(fromDeployment as Record<string, string>) };
    const svc = cluster.get({ group: '', kind: 'Service', namespace, name });
    const fromService = valueAt(svc, ['spec', 'selector']);
    if (mine(svc) && isObject(fromService) && Object.keys(fromService).length) return { ...(fromService as Record<string, string>) };
    return undefined;
  };
}

const isSmcp = (o: Obj) => o.kind === 'ServiceMeshControlPlane' && splitApiVersion(String(o.apiVersion))[0] === 'maistra.io';
const isSmmr = (o: Obj) => o.kind === 'ServiceMeshMemberRoll' && splitApiVersion(String(o.apiVersion))[0] === 'maistra.io';
const isSmm = (o: Obj) => o.kind === 'ServiceMeshMember' && splitApiVersion(String(o.apiVersion))[0] === 'maistra.io';
const nsRef = (name: string): Ref => ({ group: '', kind: 'Namespace', namespace: '', name });

function conditionStatus(o: Obj, type: string): string {
  return String(findCondition(o, type)?.status ?? 'Unknown');
}

/** common/metadata.go:7-8 CreatedByKey, and the member roll controller's name (memberroll/controller.go). */
const CREATED_BY = 'maistra.io/created-by';
const ROLL_CONTROLLER = 'servicemeshmemberroll-controller';

export class MaistraOperator implements Controller {
  readonly name = 'maistra';
  private readonly memory = new Map<string, SmcpMemory>();
  private readonly operatorVersion: string;

  constructor(private readonly opts: MaistraOptions = {}) {
    this.operatorVersion = opts.operatorVersion ?? '2.6.13';
  }

  reconcile(cluster: Cluster): void {
    // The operator's controllers run only while OLM keeps it installed.
    if (!cluster.operators.ossm2) return;
    for (const member of cluster.list(isSmm)) this.member(cluster, member);
    for (const roll of cluster.list(isSmmr)) this.memberRoll(cluster, roll);
    for (const smcp of cluster.list(isSmcp)) this.controlPlane(cluster, smcp);
    for (const smcp of cluster.list(isSmcp)) this.ior(cluster, smcp);
  }

  /**
   * Create every object the SMCPs imply that does not exist yet, leaving existing ones as they are and status
   * untouched: how `live.ts` completes a dump with what the running operator made earlier (the ServiceAccounts
   * a dump of Services and Deployments lacks, the ClusterWide member roll).
   */
  materialize(cluster: Cluster): void {
    for (const smcp of cluster.list(isSmcp)) {
      if (isTerminating(smcp)) continue;
      const plan = planControlPlane(smcp, observedLabels(cluster, smcp));
      if (plan.clusterWide) this.createMemberRoll(cluster, smcp);
      for (const r of renderControlPlane(plan, this.operatorVersion)) {
        const o = decorate(r, smcp, this.meshGeneration(smcp));
        if (!cluster.get(refOf(o))) cluster.create(o, MAISTRA_MANAGER);
      }
    }
  }

  private meshGeneration(smcp: Obj): string {
    // status.go:191-198 ComposeReconciledVersion: "<operator version>-<generation>".
    return `${this.operatorVersion}-${Number(metadata(smcp).generation ?? 1)}`;
  }

  private mem(smcp: Obj): SmcpMemory {
    const key = String(metadata(smcp).uid);
    let m = this.memory.get(key);
    if (!m) {
      m = {
        generation: Number(metadata(smcp).generation ?? 1),
        initialized: false,
        reset: false,
        group: -1,
        waitFor: [],
        iorActive: false,
        gateways: new Map(),
      };
      this.memory.set(key, m);
    }
    return m;
  }

  /**
   * controller.go:267-270 isFullyReconciled: the reconciled version (operator version + observedGeneration)
   * matches and Reconciled is True. The twin runs one operator version and treats a dumped SMCP without a
   * Reconciled condition as reconciled when observedGeneration matches (a dump of a healthy mesh), so that
   * restoring a dump does not re-render it.
   */
  private fullyReconciled(smcp: Obj, m: SmcpMemory): boolean {
    const gen = Number(metadata(smcp).generation ?? 1);
    const observed = Number(valueAt(smcp, ['status', 'observedGeneration']) ?? 0);
    const reconciled = findCondition(smcp, 'Reconciled');
    if (observed !== gen || (m.group >= 0 && m.generation === gen)) return false;
    return reconciled === undefined || reconciled.status === 'True';
  }

  private setStatus(cluster: Cluster, smcp: Obj, mutate: (status: JsonObject) => void): void {
    const current = cluster.get(refOf(smcp));
    if (!current) return;
    const status = structuredClone(obj(current.status));
    mutate(status);
    putStatus(cluster, current, MAISTRA_MANAGER, status);
  }

  private condition(status: JsonObject, type: string, s: 'True' | 'False' | 'Unknown', reason: string, message: string, now: number): void {
    status.conditions = putCondition(
      Array.isArray(status.conditions) ? status.conditions.filter(isObject) : [],
      { type, status: s, reason, message },
      now,
    );
  }

  private controlPlane(cluster: Cluster, smcp: Obj): void {
    const ref = refOf(smcp);
    const finalizers = Array.isArray(metadata(smcp).finalizers) ? (metadata(smcp).finalizers as string[]) : [];
    if (isTerminating(smcp)) {
      if (finalizers.includes(MAISTRA_FINALIZER)) this.deleteControlPlane(cluster, smcp);
      return;
    }
    if (!finalizers.includes(MAISTRA_FINALIZER)) {
      // controller.go:249-255: add the finalizer first, reconcile on the next event.
      cluster.update(ref, MAISTRA_MANAGER, (o) => void (metadata(o).finalizers = [...finalizers, MAISTRA_FINALIZER]));
      return;
    }
    const m = this.mem(smcp);
    const gen = Number(metadata(smcp).generation ?? 1);
    if (this.fullyReconciled(smcp, m)) {
      this.updateReadiness(cluster, smcp);
      return;
    }
    if (m.generation !== gen) {
      // reconciler.go:542-551 SetInstance: a new generation resets the renderings and the Reconciled condition.
      Object.assign(m, { generation: gen, initialized: false, reset: true, group: -1, waitFor: [] });
    }
    const observed = Number(valueAt(smcp, ['status', 'observedGeneration']) ?? 0);
    const updating = observed !== 0;
    if (!m.initialized && (m.reset || conditionStatus(smcp, 'Reconciled') !== 'False')) {
      // reconciler.go:94-100 and initializeReconcileStatus :502-540, posted before anything is rendered.
      m.initialized = true;
      m.reset = false;
      const message = !updating
        ? `Installing mesh generation ${gen}`
        : observed === gen
          ? `Updating mesh due to operator version change`
          : `Updating mesh from generation ${observed} to generation ${gen}`;
      const reason = !updating ? 'ResourceCreated' : observed === gen ? 'OperatorUpdated' : 'SpecUpdated';
      this.setStatus(cluster, smcp, (s) => {
        if (!updating) this.condition(s, 'Installed', 'False', reason, message, cluster.now);
        this.condition(s, 'Reconciled', 'False', reason, message, cluster.now);
        this.condition(s, 'Ready', 'False', reason, message, cluster.now);
      });
      return;
    }
    m.initialized = true;
    const injected = this.opts.failReconcileOf?.(smcp);
    if (injected !== undefined) {
      const f = typeof injected === 'string' ? { reason: 'ReconcileError', message: injected } : injected;
      return this.fail(cluster, smcp, f.reason, f.message);
    }
    this.progress(cluster, smcp, m, gen, updating);
  }

  /** A failed reconcile (reconciler.go:477-499): Reconciled False with the error, Ready mirrors it; observedGeneration stays. */
  private fail(cluster: Cluster, smcp: Obj, reason: string, message: string): void {
    const reconciled = findCondition(smcp, 'Reconciled');
    // The same failure again (controller-runtime requeues it with backoff): nothing new to write or to log, so a
    // cluster where only this fails goes quiet and the clock can take long steps.
    if (reconciled?.status === 'False' && reconciled.reason === reason && reconciled.message === message) return;
    this.setStatus(cluster, smcp, (s) => {
      this.condition(s, 'Reconciled', 'False', reason, message, cluster.now);
      this.condition(s, 'Ready', 'False', reason, message, cluster.now);
    });
    cluster.log(MAISTRA_MANAGER, `reconcile failed: ${reason}: ${message}`, refOf(smcp));
  }

  /** Render, apply chart group by chart group (waiting for each group's Deployments), prune, then report success. */
  private progress(cluster: Cluster, smcp: Obj, m: SmcpMemory, gen: number, updating: boolean): void {
    const plan = planControlPlane(smcp, observedLabels(cluster, smcp));
    const meshGeneration = this.meshGeneration(smcp);
    if (m.group < 0) {
      // reconciler.go:177-187 addNamespaceLabels: the SMCP's namespace is a member of its own mesh.
      this.labelNamespace(cluster, plan.namespace, plan.namespace);
      if (plan.clusterWide) this.createMemberRoll(cluster, smcp);
      const invalid = this.validateManifests(cluster, plan);
      if (invalid) return this.fail(cluster, smcp, 'ReconcileError', `Error validating generated manifests: error: ${invalid}`);
      m.group = 0;
    }
    const rendered = renderControlPlane(plan, this.operatorVersion);
    for (;;) {
      if (m.waitFor.length) {
        const unready = this.unreadyComponents(cluster, plan).filter((c) => m.waitFor.includes(c));
        if (unready.length) {
          // reconciler.go:384-398 pauseReconciliation.
          const msg = `Paused until the following components become ready: [${unready.join(' ')}]`;
          const reason = updating ? 'PausingUpdate' : 'PausingInstall';
          this.setStatus(cluster, smcp, (s) => {
            this.condition(s, 'Reconciled', 'False', reason, msg, cluster.now);
            this.condition(s, 'Ready', 'False', reason, msg, cluster.now);
          });
          return;
        }
        m.waitFor = [];
      }
      if (m.group >= CHART_ORDER.length) break;
      const group = CHART_ORDER[m.group];
      let changed = false;
      for (const r of rendered.filter((x) => group.includes(x.component))) {
        const res = applyRendered(cluster, decorate(r, smcp, meshGeneration));
        if (res.error) return this.fail(cluster, smcp, 'ReconcileError', `Error processing component ${r.component}: error: ${res.error}`);
        changed = changed || res.changed;
      }
      m.group += 1;
      m.waitFor = group.filter((c) => rendered.some((r) => r.component === c && r.obj.kind === 'Deployment'));
      // reconciler.go:294-302: after changes, wait for the cache before judging readiness.
      if (m.waitFor.length && changed) return;
    }
    // reconciler.go:323-349: prune what this generation no longer renders, then record success.
    this.prune(cluster, smcp, meshGeneration, false);
    const previousOperator = String(valueAt(smcp, ['status', 'operatorVersion']) ?? this.operatorVersion);
    const previous = `${previousOperator}-${String(valueAt(smcp, ['status', 'observedGeneration']) ?? 0)}`;
    const installed = conditionStatus(smcp, 'Installed') === 'True';
    this.setStatus(cluster, smcp, (s) => {
      s.observedGeneration = gen;
      s.operatorVersion = this.operatorVersion;
      s.chartVersion = this.operatorVersion;
      if (!installed)
        this.condition(s, 'Installed', 'True', 'InstallSuccessful', 'Successfully installed all mesh components', cluster.now);
      this.condition(
        s,
        'Reconciled',
        'True',
        updating ? 'UpdateSuccessful' : 'InstallSuccessful',
        updating
          ? `Successfully updated from version ${previous} to version ${meshGeneration}`
          : `Successfully installed version ${meshGeneration}`,
        cluster.now,
      );
    });
    m.group = -1;
    m.waitFor = [];
    m.initialized = false;
    cluster.log(MAISTRA_MANAGER, `reconciled generation ${gen}`, refOf(smcp));
    this.updateReadiness(cluster, cluster.get(refOf(smcp))!);
  }

  /**
   * reconciler.go:411-450 validateManifests: every namespaced object must be in a mesh namespace (the SMCP's
   * namespace and the member roll's configured members: common/util.go:173-182).
   */
  private validateManifests(cluster: Cluster, plan: ControlPlanePlan): string | undefined {
    const mesh = this.meshNamespaces(cluster, plan.namespace);
    const errors = plan.gateways
      .filter((g) => !mesh.has(g.namespace))
      .map((g) => `namespace of manifest ${g.namespace}/${g.name} not in mesh`);
    if (!errors.length) return undefined;
    return errors.length === 1 ? errors[0] : `[${errors.join(', ')}]`;
  }

  private meshNamespaces(cluster: Cluster, namespace: string): Set<string> {
    const roll = cluster.get({ group: 'maistra.io', kind: 'ServiceMeshMemberRoll', namespace, name: 'default' });
    const configured = valueAt(roll, ['status', 'configuredMembers']);
    return new Set([namespace, ...(Array.isArray(configured) ? configured.map(String) : [])]);
  }

  /**
   * readiness.go:39-117, 147-262: a component is ready when all its Deployments (label owner = SMCP namespace,
   * by component label, in the SMCP's and the gateways' mesh namespaces) have all replicas ready, the current
   * generation observed and Available=True.
   */
  private unreadyComponents(cluster: Cluster, plan: ControlPlanePlan): Component[] {
    const mesh = this.meshNamespaces(cluster, plan.namespace);
    const namespaces = new Set([plan.namespace, ...plan.gateways.map((g) => g.namespace)].filter((n) => mesh.has(n)));
    const ready = new Map<string, boolean>();
    for (const d of cluster.list((o) => o.kind === 'Deployment' && namespaces.has(String(metadata(o).namespace)))) {
      const l = labels(d);
      if (l[MAISTRA_LABELS.owner] !== plan.namespace || !l[MAISTRA_LABELS.component]) continue;
      const st = obj(d.status);
      const ok =
        Number(st.readyReplicas ?? 0) >= Number(st.replicas ?? 0) &&
        Number(st.observedGeneration ?? 0) >= Number(metadata(d).generation ?? 1) &&
        findCondition(d, 'Available')?.status === 'True';
      const c = l[MAISTRA_LABELS.component];
      ready.set(c, (ready.get(c) ?? true) && ok);
    }
    return [...ready]
      .filter(([, ok]) => !ok)
      .map(([c]) => c as Component)
      .sort(compareStrings);
  }

  /** readiness.go:55-94: Ready follows Reconciled until it is True, then the components' readiness. */
  private updateReadiness(cluster: Cluster, smcp: Obj): void {
    if (conditionStatus(smcp, 'Reconciled') === 'False') return;
    const unready = this.unreadyComponents(cluster, planControlPlane(smcp, observedLabels(cluster, smcp)));
    const ready: [string, string, string] = unready.length
      ? ['False', 'ComponentsNotReady', `The following components are not fully available: [${unready.join(' ')}]`]
      : ['True', 'ComponentsReady', 'All component deployments are Available'];
    const current = findCondition(smcp, 'Ready');
    if (current && current.status === ready[0] && current.reason === ready[1] && current.message === ready[2]) return;
    this.setStatus(cluster, smcp, (s) => this.condition(s, 'Ready', ready[0] as 'True' | 'False', ready[1], ready[2], cluster.now));
  }

  /**
   * pruner.go:80-233: delete objects labelled managed-by/owner/owner-name whose app.kubernetes.io/version is not
   * this generation's (a missing label counts as different). On deletion (`all`), every such object of the kinds
   * the pruner lists goes; between generations the twin prunes only what it renders itself (kinds and components),
   * because it cannot tell which other labelled objects the real render still produces.
   */
  private prune(cluster: Cluster, smcp: Obj, meshGeneration: string, all: boolean): void {
    const ns = String(metadata(smcp).namespace);
    const name = String(metadata(smcp).name);
    const components = new Set<string>(CHART_ORDER.flat());
    for (const o of cluster.list()) {
      const l = labels(o);
      if (
        l[MAISTRA_LABELS.managedBy] !== MAISTRA_LABELS.managedByValue ||
        l[MAISTRA_LABELS.owner] !== ns ||
        l[MAISTRA_LABELS.ownerName] !== name
      )
        continue;
      if (!all && l[MAISTRA_LABELS.version] === meshGeneration) continue;
      const kind = `${refOf(o).group}/${refOf(o).kind}`;
      if (all ? !PRUNED_ON_DELETE.has(kind) : !RENDERED_KINDS.has(kind) || !components.has(l[MAISTRA_LABELS.component] ?? '')) continue;
      if (isTerminating(o)) continue;
      cluster.delete(refOf(o), MAISTRA_MANAGER, 'Background');
      cluster.log(MAISTRA_MANAGER, `pruned (${all ? 'mesh deleted' : `not rendered by ${meshGeneration}`})`, refOf(o));
    }
  }

  /**
   * The finalizer (controlplane/deleter.go:19-116): first status Deleting, then prune every labelled object
   * cluster-wide, remove the mesh label from the SMCP's namespace (namespace_labels.go:28-39), and drop the
   * finalizer; owned objects then go by garbage collection.
   */
  private deleteControlPlane(cluster: Cluster, smcp: Obj): void {
    const reconciled = findCondition(smcp, 'Reconciled');
    if (reconciled?.status !== 'False' || reconciled.reason !== 'Deleting') {
      this.setStatus(cluster, smcp, (s) => {
        this.condition(s, 'Reconciled', 'False', 'Deleting', 'Deleting service mesh', cluster.now);
        this.condition(s, 'Ready', 'False', 'Deleting', 'Deleting service mesh', cluster.now);
      });
      return;
    }
    this.prune(cluster, smcp, '', true);
    const ns = String(metadata(smcp).namespace);
    this.labelNamespace(cluster, ns, undefined, ns);
    this.memory.delete(String(metadata(smcp).uid));
    cluster.removeFinalizer(refOf(smcp), MAISTRA_MANAGER, MAISTRA_FINALIZER);
  }

  /** Set `maistra.io/member-of` (or remove it when it names `onlyIf`). */
  private labelNamespace(cluster: Cluster, name: string, value: string | undefined, onlyIf?: string): void {
    const ns = cluster.get(nsRef(name));
    if (!ns) return;
    const current = labels(ns)[MAISTRA_LABELS.memberOf];
    if (value === undefined ? current === undefined || (onlyIf !== undefined && current !== onlyIf) : current === value) return;
    cluster.update(nsRef(name), MAISTRA_MANAGER, (o) => {
      const l = { ...labels(o) };
      if (value === undefined) delete l[MAISTRA_LABELS.memberOf];
      else l[MAISTRA_LABELS.memberOf] = value;
      metadata(o).labels = l;
    });
  }

  /**
   * ClusterWide: the member roll `default` owned by the SMCP, created during the render whenever it is missing
   * (pkg/controller/versions/strategy_v2_5.go:582-587, 771-813) — so a deleted roll comes back with the next
   * reconcile of the SMCP (a new generation), and goes for good only with the SMCP (garbage collection).
   */
  private createMemberRoll(cluster: Cluster, smcp: Obj): void {
    const ns = String(metadata(smcp).namespace);
    const ref: Ref = { group: 'maistra.io', kind: 'ServiceMeshMemberRoll', namespace: ns, name: 'default' };
    if (cluster.get(ref)) return;
    const owner = {
      apiVersion: 'maistra.io/v2',
      kind: 'ServiceMeshControlPlane',
      name: String(metadata(smcp).name),
      uid: String(metadata(smcp).uid),
      controller: true,
    };
    cluster.create(
      {
        apiVersion: 'maistra.io/v1',
        kind: 'ServiceMeshMemberRoll',
        metadata: { name: 'default', namespace: ns, ownerReferences: [owner] },
        spec: { memberSelectors: [{ matchLabels: { 'istio-injection': 'enabled' } }] },
      },
      MAISTRA_MANAGER,
    );
  }

  /**
   * The member roll controller (pkg/controller/servicemesh/memberroll/controller.go:204-251 finalizer,
   * :253-450 status): members are `spec.members` (`*` = all) and namespaces matching `memberSelectors`, never
   * the control plane's own or system namespaces (pkg/apis/maistra/v1/servicemeshmemberroll_types.go:70-107);
   * each member namespace is labelled `maistra.io/member-of` (through ServiceMeshMember objects in Maistra, which
   * the twin does not create), and the label goes when a namespace leaves or the roll is deleted.
   */
  /**
   * The member controller puts its finalizer on every ServiceMeshMember and, when one is deleted, takes the namespace
   * out of the mesh, then removes the finalizer — with or without a control plane (maistra/istio-operator@8143614
   * pkg/controller/servicemesh/member/controller.go:330-351, namespace_reconciler.go:133-200). A `kubectl delete
   * --wait` of a member therefore waits (and lists and watches it) until the operator has run.
   */
  private member(cluster: Cluster, member: Obj): void {
    const ref = refOf(member);
    const finalizers = Array.isArray(metadata(member).finalizers) ? (metadata(member).finalizers as string[]) : [];
    if (isTerminating(member)) {
      if (finalizers.includes(MAISTRA_FINALIZER)) cluster.removeFinalizer(ref, MAISTRA_MANAGER, MAISTRA_FINALIZER);
      return;
    }
    if (!finalizers.includes(MAISTRA_FINALIZER))
      cluster.update(ref, MAISTRA_MANAGER, (o) => void (metadata(o).finalizers = [...finalizers, MAISTRA_FINALIZER]));
  }

  private memberRoll(cluster: Cluster, roll: Obj): void {
    const ref = refOf(roll);
    const ns = ref.namespace;
    const finalizers = Array.isArray(metadata(roll).finalizers) ? (metadata(roll).finalizers as string[]) : [];
    const labelled = () =>
      cluster.list((o) => o.kind === 'Namespace' && o.apiVersion === 'v1' && labels(o)[MAISTRA_LABELS.memberOf] === ns);
    if (isTerminating(roll)) {
      if (!finalizers.includes(MAISTRA_FINALIZER)) return;
      for (const n of labelled()) if (metadata(n).name !== ns) this.labelNamespace(cluster, String(metadata(n).name), undefined, ns);
      cluster.removeFinalizer(ref, MAISTRA_MANAGER, MAISTRA_FINALIZER);
      return;
    }
    if (!finalizers.includes(MAISTRA_FINALIZER)) {
      cluster.update(ref, MAISTRA_MANAGER, (o) => void (metadata(o).finalizers = [...finalizers, MAISTRA_FINALIZER]));
      return;
    }
    if (ref.name !== 'default') return;
    const spec = obj(roll.spec);
    const listed = Array.isArray(spec.members) ? spec.members.map(String) : [];
    const selectors = Array.isArray(spec.memberSelectors) ? spec.memberSelectors : [];
    const excluded = (n: string) => n === ns || n === 'kube' || n === 'openshift' || /^(kube|openshift|ibm)-/.test(n);
    // memberroll/controller.go:290-345: the roll creates a ServiceMeshMember, annotated maistra.io/created-by:
    // servicemeshmemberroll-controller, in each namespace its spec requires, deletes the ones it created that are
    // no longer required (isCreatedByThisController, :534-536), and counts every member object that names this mesh,
    // whatever the namespace's labels (member/controller.go:227-290 configures it).
    const required = (n: Obj) => {
      const name = String(metadata(n).name);
      const included =
        (listed.length === 1 && listed[0] === '*') || listed.includes(name) || selectors.some((sel) => matchesSelector(sel, labels(n)));
      return included && !excluded(name);
    };
    const requiredNamespaces = new Set(
      cluster
        .list((o) => o.kind === 'Namespace' && o.apiVersion === 'v1' && !isTerminating(o))
        .filter(required)
        .map((n) => String(metadata(n).name)),
    );
    const memberObjects = () =>
      cluster
        .list((o) => o.kind === 'ServiceMeshMember' && refOf(o).group === 'maistra.io' && !isTerminating(o))
        .filter((m) => metadata(m).name === 'default' && valueAt(m, ['spec', 'controlPlaneRef', 'namespace']) === ns);
    const createdByRoll = (m: Obj) => annotations(m)[CREATED_BY] === ROLL_CONTROLLER;
    for (const m of memberObjects())
      if (createdByRoll(m) && !requiredNamespaces.has(String(metadata(m).namespace))) cluster.delete(refOf(m), MAISTRA_MANAGER);
    const have = new Set(memberObjects().map((m) => String(metadata(m).namespace)));
    const meshName = String(valueAt(cluster.list((o) => isSmcp(o) && metadata(o).namespace === ns)[0], ['metadata', 'name']) ?? 'basic');
    for (const n of [...requiredNamespaces].sort(compareStrings))
      if (!have.has(n))
        cluster.create(
          {
            apiVersion: 'maistra.io/v1',
            kind: 'ServiceMeshMember',
            metadata: { name: 'default', namespace: n, annotations: { [CREATED_BY]: ROLL_CONTROLLER } },
            spec: { controlPlaneRef: { name: meshName, namespace: ns } },
          },
          MAISTRA_MANAGER,
        );
    const smms = new Set(memberObjects().map((m) => String(metadata(m).namespace)));
    const members = cluster
      .list((o) => o.kind === 'Namespace' && o.apiVersion === 'v1' && !isTerminating(o))
      .filter((n) => {
        const name = String(metadata(n).name);
        return (requiredNamespaces.has(name) || smms.has(name)) && !excluded(name);
      })
      .map((n) => String(metadata(n).name))
      .sort(compareStrings);
    for (const n of members) this.labelNamespace(cluster, n, ns);
    for (const n of labelled()) {
      const name = String(metadata(n).name);
      if (name !== ns && !members.includes(name)) this.labelNamespace(cluster, name, undefined, ns);
    }
    const mesh = cluster.list((o) => isSmcp(o) && metadata(o).namespace === ns)[0];
    const status = structuredClone(obj(roll.status));
    Object.assign(status, {
      observedGeneration: Number(metadata(roll).generation ?? 1),
      members,
      configuredMembers: members,
      pendingMembers: [],
      terminatingMembers: [],
      meshGeneration: mesh ? Number(valueAt(mesh, ['status', 'observedGeneration']) ?? 0) : 0,
      annotations: { configuredMemberCount: `${members.length}/${members.length}` },
    });
    status.conditions = putCondition(
      readConditions(roll),
      mesh
        ? { type: 'Ready', status: 'True', reason: 'Configured', message: 'All namespaces have been configured successfully' }
        : { type: 'Ready', status: 'False', reason: 'SMCPMissing', message: 'No ServiceMeshControlPlane exists in the namespace' },
      cluster.now,
    );
    putStatus(cluster, roll, MAISTRA_MANAGER, status);
  }

  // -------------------------------------------------------------------------------------------------------
  // IOR (in istiod: maistra/istio@08e9b7bd pilot/pkg/config/kube/ior/controller.go)
  // -------------------------------------------------------------------------------------------------------

  /**
   * While IOR is on and istiod runs, each Gateway add/update event (re)writes one Route per server host in the
   * namespace of the Service that selects the Gateway's pods, and a deleted Gateway's Routes are deleted
   * (controller.go:366-470). Events only: a Gateway whose pods or Service are missing at its event gets no Route
   * until its next change. Turning IOR off leaves the Routes (no owner reference).
   */
  private ior(cluster: Cluster, smcp: Obj): void {
    const m = this.mem(smcp);
    const plan = planControlPlane(smcp, observedLabels(cluster, smcp));
    if (isTerminating(smcp)) {
      m.iorActive = false;
      return;
    }
    if (this.fullyReconciled(smcp, m)) {
      const istiod = cluster.list(
        (o) =>
          o.kind === 'Pod' &&
          metadata(o).namespace === plan.namespace &&
          labels(o).app === 'istiod' &&
          labels(o)['istio.io/rev'] === plan.name,
      );
      m.iorActive = plan.ior && istiod.some(isPodReady);
    }
    if (!m.iorActive) {
      m.gateways.clear();
      return;
    }
    const mesh = this.meshNamespaces(cluster, plan.namespace);
    const inScope = (o: Obj) => plan.clusterWide || mesh.has(String(metadata(o).namespace));
    const gateways = cluster.list(
      (o) => o.kind === 'Gateway' && splitApiVersion(String(o.apiVersion))[0] === 'networking.istio.io' && !isTerminating(o) && inScope(o),
    );
    const seen = new Set<string>();
    for (const gw of gateways) {
      const key = `${String(metadata(gw).namespace)}/${String(metadata(gw).name)}`;
      seen.add(key);
      const rv = String(metadata(gw).resourceVersion ?? '');
      if (m.gateways.get(key) === rv) continue;
      m.gateways.set(key, rv);
      this.reconcileGateway(cluster, smcp, gw);
    }
    for (const key of [...m.gateways.keys()]) {
      if (seen.has(key)) continue;
      m.gateways.delete(key);
      const [gwNs, gwName] = key.split('/');
      for (const r of iorRoutes(cluster, gwNs, gwName)) cluster.delete(refOf(r), 'istiod-ior');
    }
  }

  private reconcileGateway(cluster: Cluster, smcp: Obj, gw: Obj): void {
    const gwNs = String(metadata(gw).namespace);
    const gwName = String(metadata(gw).name);
    const selector = obj(valueAt(gw, ['spec', 'selector']));
    // controller.go:85-105 isManagedByIOR: egress gateways and `maistra.io/manageRoute: "false"` are skipped.
    if (selector.istio === 'egressgateway' || annotations(gw)['maistra.io/manageRoute'] === 'false') return;
    const targets = iorRoutes(cluster, gwNs, gwName).map((r) => String(valueAt(r, ['spec', 'to', 'name']) ?? ''));
    const target = findService(cluster, selector, { namespace: String(metadata(smcp).namespace), services: targets }, `${gwNs}/${gwName}`);
    if (!target) {
      cluster.log(
        'istiod-ior',
        `gateway ${gwNs}/${gwName} does not specify a valid service: could not find a service that matches the gateway selector`,
      );
      return;
    }
    const existing = new Map(iorRoutes(cluster, gwNs, gwName).map((r) => [String(metadata(r).name), r]));
    const servers = Array.isArray(valueAt(gw, ['spec', 'servers'])) ? (valueAt(gw, ['spec', 'servers']) as Json[]).filter(isObject) : [];
    for (const server of servers) {
      for (const host of Array.isArray(server.hosts) ? server.hosts.map(String) : []) {
        const route = buildRoute(gw, host, isObject(server.tls) ? server.tls : undefined, target);
        const name = String(metadata(route).name);
        const live = existing.get(name);
        existing.delete(name);
        if (!live) {
          const res = cluster.create(route, 'istiod-ior');
          if (!res.ok) cluster.log('istiod-ior', `error creating a route for the host ${host}: ${res.reason}`);
          continue;
        }
        // controller.go:243-274 updateRoute: a full Update — labels, annotations and spec replaced, owner refs dropped.
        cluster.update(refOf(live), 'istiod-ior', (o) => {
          const meta = metadata(o);
          meta.labels = metadata(route).labels as JsonObject;
          meta.annotations = metadata(route).annotations as JsonObject;
          delete meta.ownerReferences;
          o.metadata = meta;
          o.spec = route.spec as JsonObject;
        });
      }
    }
    for (const r of existing.values()) cluster.delete(refOf(r), 'istiod-ior');
  }
}

/** controller.go:500-506 getDefaultRouteLabelMap. */
function iorRoutes(cluster: Cluster, gwNs: string, gwName: string): Obj[] {
  return cluster.list(
    (o) =>
      o.kind === 'Route' &&
      labels(o)['maistra.io/generated-by'] === 'ior' &&
      labels(o)['maistra.io/gateway-namespace'] === gwNs &&
      labels(o)['maistra.io/gateway-name'] === gwName,
  );
}

/**
 * controller.go:286-319 findService: the first Service (in a selected pod's namespace) whose selector matches
 * that pod. Maistra takes the pods in informer-cache order, i.e. at random when the selector matches pods of
 * several gateways (additional ingress gateways share `istio: ingressgateway` by default). The twin then keeps
 * the Service the Gateway's Routes already target, else the default `istio-ingressgateway`, else the first in
 * the control plane's namespace, and logs the ambiguity.
 */
function findService(
  cluster: Cluster,
  selector: JsonObject,
  preferred: { namespace: string; services: string[] },
  gateway: string,
): { namespace: string; name: string } | undefined {
  if (!Object.keys(selector).length) return undefined;
  const pods = cluster.list((o) => o.kind === 'Pod' && !isTerminating(o) && matchesMap(selector, labels(o)));
  pods.sort((a, b) => Number(metadata(b).namespace === preferred.namespace) - Number(metadata(a).namespace === preferred.namespace));
  const found: { namespace: string; name: string }[] = [];
  for (const pod of pods) {
    const ns = String(metadata(pod).namespace);
    const svc = cluster
      .list((o) => o.kind === 'Service' && o.apiVersion === 'v1' && metadata(o).namespace === ns)
      .find((x) => matchesMap(valueAt(x, ['spec', 'selector']), labels(pod)));
    if (svc && !found.some((f) => f.namespace === ns && f.name === metadata(svc).name))
      found.push({ namespace: ns, name: String(metadata(svc).name) });
  }
  const rank = (f: { name: string }) => {
    const i = [...preferred.services, 'istio-ingressgateway'].indexOf(f.name);
    return i < 0 ? Number.MAX_SAFE_INTEGER : i;
  };
  found.sort((a, b) => rank(a) - rank(b));
  if (found.length > 1) {
    const all = found.map((f) => `${f.namespace}/${f.name}`);
    cluster.log(
      'istiod-ior',
      `gateway ${gateway} selects pods of several Services (${all.join(', ')}): Maistra picks one at random; the twin takes ${all[0]}`,
    );
  }
  return found[0];
}

/**
 * controller.go:158-213 buildRoute, :321-364 names and hosts: `<gateway ns>-<gateway name>-<hex(sha256(host)[:8])>`,
 * target port http2 (https with passthrough TLS), `*` → router-generated host, `*.x` → `wildcard.x` with
 * wildcardPolicy Subdomain, the Gateway's labels and annotations copied except maistra.io/, argocd.argoproj.io/
 * and kubectl.kubernetes.io/ ones (so an Argo CD label-tracking `app.kubernetes.io/instance` is copied).
 */
export function buildRoute(gw: Obj, originalHost: string, tls: JsonObject | undefined, target: { namespace: string; name: string }): Obj {
  const gwNs = String(metadata(gw).namespace);
  const gwName = String(metadata(gw).name);
  let host = originalHost.includes('/') ? originalHost.split('/').slice(1).join('/') : originalHost;
  let wildcard = 'None';
  if (host === '*') host = '';
  else if (host.startsWith('*.')) {
    wildcard = 'Subdomain';
    host = `wildcard.${host.slice(2)}`;
  }
  const hash = createHash('sha256')
    .update(originalHost || 'star')
    .digest('hex')
    .slice(0, 16);
  const routeLabels: Record<string, string> = {
    'maistra.io/generated-by': 'ior',
    'maistra.io/gateway-namespace': gwNs,
    'maistra.io/gateway-name': gwName,
    'maistra.io/gateway-resourceVersion': String(metadata(gw).resourceVersion ?? ''),
  };
  for (const [k, v] of Object.entries(labels(gw)))
    if (!k.startsWith('maistra.io/') && !k.startsWith('argocd.argoproj.io')) routeLabels[k] = v;
  const routeAnnotations: Record<string, string> = { 'maistra.io/original-host': originalHost };
  for (const [k, v] of Object.entries(annotations(gw)))
    if (!['maistra.io/manageRoute', 'kubectl.kubernetes.io', 'argocd.argoproj.io'].some((p) => k.startsWith(p))) routeAnnotations[k] = v;
  return {
    apiVersion: 'route.openshift.io/v1',
    kind: 'Route',
    metadata: { name: `${gwNs}-${gwName}-${hash}`, namespace: target.namespace, labels: routeLabels, annotations: routeAnnotations },
    spec: {
      host,
      port: { targetPort: tls ? 'https' : 'http2' },
      to: { kind: 'Service', name: target.name, weight: 100 },
      ...(tls ? { tls: { termination: 'passthrough', ...(tls.httpsRedirect ? { insecureEdgeTerminationPolicy: 'Redirect' } : {}) } } : {}),
      wildcardPolicy: wildcard,
    },
  };
}
