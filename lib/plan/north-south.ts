import { API, ref } from './api-versions';
import { smcpRef } from './names';
import { hasSmcp, KEEP_ANNOTATIONS, keptNamespaceBody } from './namespaces';
import { isObject, JsonObject, valueAt } from '../json';
import { migratedNamespaces } from './revision';
import { settingsOf } from './smcp-settings';
import { Contribute, GatewayPortSpec, GatewayVolume, HandoverTarget, ObjectRef, Patch, Resource } from './types';
import { RouteObj, ServiceObj, Workload } from '../load/inventory-types';
import { stripServerFields } from '../load/strip';
import { ModelIndex } from '../model/model-index';
import { shortHash, dnsLabel } from '../model/names';
import { Mesh } from '../model/types';

/** The labels Maistra's operator puts on what it renders; its pruner selects on them (maistra/istio-operator pruner.go:151-174). */
export const OPERATOR_LABELS = ['app.kubernetes.io/managed-by', 'maistra.io/owner', 'maistra.io/owner-name'];
/** The Deployment meshfed renders beside an SMCP gateway, injected by OSSM 3 (`<gateway>-ossm3`). */
export const TAKEOVER_SUFFIX = '-ossm3';
/** The pod label that makes meshfed's gateway Deployment its own (its selector; the Service selects a subset). */
export const GATEWAY_POD_LABEL = 'meshfed.dev/gateway';
export const HANDOVER_NAME = 'meshfed-handover';

/** An SMCP-managed gateway that is not the federation's: 07 would delete it with the SMCP. */
export interface SmcpGateway {
  /** Its SMCP setting: gateways.ingress, gateways.egress, gateways.additionalIngress.<name>… */
  readonly path: string;
  readonly kind: 'ingress' | 'egress';
  readonly name: string;
  readonly namespace: string;
  /** Its Service and Deployment, when the dumps have them. */
  readonly service?: ServiceObj;
  readonly deployment?: Workload;
  /** The pod labels its Service selects (the dumped Service's selector, or the chart's for the default gateways). */
  readonly selector: Record<string, string>;
  /** The gateway's SMCP settings (runtime, service, routeConfig…). */
  readonly settings: JsonObject;
  /** Routes to its Service: the operator's (routeConfig), IOR's, and the users'. */
  readonly routes: RouteObj[];
}

const DEFAULT_SELECTORS: Record<string, Record<string, string>> = {
  // maistra/istio-operator resources/helm/v2.5/gateways/istio-ingress/values.yaml:1-60 (and istio-egress).
  'istio-ingressgateway': { app: 'istio-ingressgateway', istio: 'ingressgateway' },
  'istio-egressgateway': { app: 'istio-egressgateway', istio: 'egressgateway' },
};

const gateways = new WeakMap<Mesh, SmcpGateway[]>();

/** The SMCP's enabled gateways other than the federation's (defaults included: both default gateways are on in 2.6). */
export function smcpGateways(mesh: Mesh): SmcpGateway[] {
  if (!hasSmcp(mesh) || mesh.virtual) return [];
  let out = gateways.get(mesh);
  if (out) return out;
  const cp = mesh.controlPlane;
  const s = settingsOf(cp);
  const federation = new Set(mesh.inventory.peers.flatMap((p) => [p.ingressGateway, p.egressGateway]));
  const candidates: { path: string; kind: 'ingress' | 'egress'; name: string; settings: JsonObject }[] = [];
  if (valueAt(s, 'gateways.enabled') !== false) {
    for (const kind of ['ingress', 'egress'] as const) {
      const g = valueAt(s, `gateways.${kind}`);
      if (isObject(g) && g.enabled !== false)
        candidates.push({ path: `gateways.${kind}`, kind, name: `istio-${kind}gateway`, settings: g });
    }
    for (const [key, kind] of [
      ['additionalIngress', 'ingress'],
      ['additionalEgress', 'egress'],
    ] as const) {
      const map = valueAt(s, `gateways.${key}`);
      if (!isObject(map)) continue;
      for (const name of Object.keys(map).sort()) {
        const g = map[name];
        if (isObject(g) && g.enabled !== false && !federation.has(name))
          candidates.push({ path: `gateways.${key}.${name}`, kind, name, settings: g });
      }
    }
  }
  out = candidates.map((c) => {
    const namespace = typeof c.settings.namespace === 'string' ? c.settings.namespace : cp.namespace;
    const service = mesh.inventory.services.find((x) => x.name === c.name && x.namespace === namespace);
    const deployment = mesh.inventory.workloads.find((w) => w.kind === 'Deployment' && w.name === c.name && w.namespace === namespace);
    return {
      ...c,
      namespace,
      service,
      deployment,
      selector: service?.selector ?? DEFAULT_SELECTORS[c.name] ?? {},
      routes: mesh.inventory.routes.filter((r) => r.namespace === namespace && r.service === c.name),
    };
  });
  gateways.set(mesh, out);
  return out;
}

/**
 * The labels of the SMCP gateway's pods that users may select on (Gateways, NetworkPolicies, monitors):
 * its Service's selector, and the dumped Deployment's pod labels without the injection switch and the
 * operator's and Helm's bookkeeping.
 */
export function gatewayPodLabels(g: SmcpGateway): Record<string, string> {
  const own = Object.entries(g.deployment?.podLabels ?? {}).filter(
    ([k]) =>
      k !== 'sidecar.istio.io/inject' && !/^(maistra[.-]|app\.kubernetes\.io\/|chart$|heritage$|release$|pod-template-hash$)/.test(k),
  );
  return { ...Object.fromEntries(own), ...g.selector };
}

/** A gateway meshfed can take over: it knows which pods the Service selects. */
export function takesOver(g: SmcpGateway): boolean {
  return Object.keys(g.selector).length > 0;
}

/** The SMCP gateways meshfed takes over (06) and hands over (07). */
export function takenOver(mesh: Mesh): SmcpGateway[] {
  return smcpGateways(mesh).filter(takesOver);
}

/**
 * The namespaces of taken-over gateways that 06 does not migrate otherwise: they only need the 2.6
 * injector kept out (maistra.io/ignore-namespace), before the new pods exist.
 */
export function gatewayOnlyNamespaces(mesh: Mesh, migrated: readonly string[]): string[] {
  return [...new Set(takenOver(mesh).map((g) => g.namespace))].filter((ns) => !migrated.includes(ns)).sort();
}

/** The container ports the gateway pods must expose: every target port of its Service, by number. */
function gatewayPorts(g: SmcpGateway): GatewayPortSpec[] {
  // The 2.6 gateway charts' container ports for the named target ports (istio-ingress values.yaml).
  const named: Record<string, number> = { 'status-port': 15021, http2: 8080, https: 8443, ...(g.deployment?.containerPorts ?? {}) };
  const ports = g.service?.ports ?? [
    { name: 'status-port', port: 15021, targetPort: 15021, protocol: 'TCP' },
    { name: 'http2', port: 80, targetPort: 8080, protocol: 'TCP' },
    { name: 'https', port: 443, targetPort: 8443, protocol: 'TCP' },
  ];
  const out = new Map<number, GatewayPortSpec>();
  for (const p of ports) {
    const target = typeof p.targetPort === 'number' ? p.targetPort : p.targetPort ? named[p.targetPort] : p.port;
    if (target !== undefined && !out.has(target)) out.set(target, { name: p.name, containerPort: target, protocol: p.protocol || 'TCP' });
  }
  return [...out.values()].sort((a, b) => a.containerPort - b.containerPort);
}

/** The SMCP gateway's pod spec fields worth keeping, from its dumped Deployment or its SMCP runtime. */
function podRuntime(g: SmcpGateway): JsonObject {
  const tpl = g.deployment ? (valueAt(g.deployment.source.value, 'spec.template.spec') as JsonObject | undefined) : undefined;
  const proxy = Array.isArray(tpl?.containers) ? (tpl!.containers as JsonObject[]).find((c) => c.name === 'istio-proxy') : undefined;
  const rt = (valueAt(g.settings, 'runtime') ?? {}) as JsonObject;
  const pick = (k: string, fallback: string) => tpl?.[k] ?? valueAt(rt, fallback);
  const out: JsonObject = {};
  const resources = proxy?.resources ?? valueAt(rt, 'container.resources');
  if (resources !== undefined) out.resources = resources;
  for (const [k, fb] of [
    ['affinity', 'pod.affinity'],
    ['tolerations', 'pod.tolerations'],
    ['nodeSelector', 'pod.nodeSelector'],
    ['priorityClassName', 'pod.priorityClassName'],
  ]) {
    const v = pick(k, fb);
    if (v !== undefined) out[k] = v;
  }
  return out;
}

/**
 * Pod volumes that are the proxy's, not the gateway's: the 2.6 chart gives every gateway pod these
 * (maistra/istio-operator@8143614 resources/helm/v2.5/gateways/istio-ingress/templates/deployment.yaml:376-420) and
 * OSSM 3's gateway injection template adds its own under the same names (istio/istio@1.27.3
 * manifests/charts/istio-control/istio-discovery/files/gateway-injection-template.yaml:207-260). Copying them
 * would declare them twice.
 */
const PROXY_VOLUMES = new Set([
  'workload-socket',
  'credential-socket',
  'workload-certs',
  'custom-bootstrap-volume',
  'istiod-ca-cert',
  'podinfo',
  'istio-podinfo',
  'istio-envoy',
  'istio-data',
  'istio-token',
  'istio-certs',
  'config-volume',
]);

/** The chart's default secretVolumes (istio-ingress/values.yaml:60-66, istio-egress/values.yaml:41-47): every gateway of that chart mounts them. */
const CHART_SECRET_VOLUMES: Record<'ingress' | 'egress', { name: string; secretName: string; mountPath: string }[]> = {
  ingress: [
    { name: 'ingressgateway-certs', secretName: 'istio-ingressgateway-certs', mountPath: '/etc/istio/ingressgateway-certs' },
    { name: 'ingressgateway-ca-certs', secretName: 'istio-ingressgateway-ca-certs', mountPath: '/etc/istio/ingressgateway-ca-certs' },
  ],
  egress: [
    { name: 'egressgateway-certs', secretName: 'istio-egressgateway-certs', mountPath: '/etc/istio/egressgateway-certs' },
    { name: 'egressgateway-ca-certs', secretName: 'istio-egressgateway-ca-certs', mountPath: '/etc/istio/egressgateway-ca-certs' },
  ],
};

/** A chart secretVolumes / configVolumes entry as the chart renders it (deployment.yaml:361-372, 421-432): optional, mounted read-only. */
function chartVolume(v: { name: string; mountPath?: string; secretName?: string; configMapName?: string }): GatewayVolume {
  return {
    volume:
      v.secretName !== undefined
        ? { name: v.name, secret: { secretName: v.secretName, optional: true } }
        : { name: v.name, configMap: { name: v.configMapName ?? '', optional: true } },
    ...(v.mountPath ? { mount: { name: v.name, mountPath: v.mountPath, readOnly: true } } : {}),
  };
}

/** The volumes the SMCP asks for: `volumes:` converted as Maistra does (conversion/gateways.go:179-210), the chart's defaults otherwise. */
function declaredVolumes(g: SmcpGateway): GatewayVolume[] {
  const declared = (Array.isArray(g.settings.volumes) ? g.settings.volumes : []).filter(isObject);
  const entries = declared.map((d) => ({
    name: String(valueAt(d, 'volumeMount.name') ?? ''),
    mountPath: valueAt(d, 'volumeMount.mountPath') as string | undefined,
    secretName: valueAt(d, 'volume.secret.secretName') as string | undefined,
    configMapName: valueAt(d, 'volume.configMap.name') as string | undefined,
  }));
  const secrets = entries.filter((e) => e.secretName !== undefined);
  const configMaps = entries.filter((e) => e.secretName === undefined && e.configMapName !== undefined);
  // Each list replaces the chart's only when the SMCP gives at least one entry of its type.
  return [...(secrets.length ? secrets : CHART_SECRET_VOLUMES[g.kind]), ...configMaps].map(chartVolume);
}

/**
 * The SMCP gateway's own volumes and istio-proxy's mounts of them (file-mounted certificates a Gateway's
 * `serverCertificate` may name): from the dumped Deployment, or, when the dump shows no volumes, from the SMCP.
 */
export function gatewayVolumes(g: SmcpGateway): GatewayVolume[] {
  const tpl = g.deployment ? (valueAt(g.deployment.source.value, 'spec.template.spec') as JsonObject | undefined) : undefined;
  if (!Array.isArray(tpl?.volumes)) return declaredVolumes(g);
  const proxy = Array.isArray(tpl.containers) ? (tpl.containers as JsonObject[]).find((c) => c.name === 'istio-proxy') : undefined;
  const mounts = (Array.isArray(proxy?.volumeMounts) ? proxy.volumeMounts : []).filter(isObject);
  return tpl.volumes
    .filter(isObject)
    .filter((v) => typeof v.name === 'string' && !PROXY_VOLUMES.has(v.name))
    .map((v) => {
      const mount = mounts.find((m) => m.name === v.name);
      return { volume: v, ...(mount ? { mount } : {}) };
    });
}

/**
 * The ServiceAccount the SMCP gateway's pods run as, `<gateway>-service-account` (istio-ingress/templates/
 * serviceaccount.yaml:11, deployment.yaml:152): their SPIFFE identity `<trust domain>/ns/<namespace>/sa/<it>`,
 * which AuthorizationPolicies and DestinationRule SANs name. meshfed's gateway pods run as it too.
 */
export function gatewayServiceAccount(g: SmcpGateway): string {
  const dumped = g.deployment ? valueAt(g.deployment.source.value, 'spec.template.spec.serviceAccountName') : undefined;
  return typeof dumped === 'string' && dumped ? dumped : `${g.name}-service-account`;
}

/**
 * Does the SMCP render a PodDisruptionBudget `<gateway>` for its gateways? Only the defaults switch drives the
 * chart (runtime.defaults.deployment.podDisruption.enabled → global.defaultPodDisruptionBudget.enabled:
 * conversion/runtime.go:22-30; istio-ingress/templates/poddisruptionbudget.yaml:1).
 */
export function smcpDisruptionBudgets(mesh: Mesh): boolean {
  return valueAt(settingsOf(mesh.controlPlane), 'runtime.defaults.deployment.podDisruption.enabled') === true;
}

function replicasOf(g: SmcpGateway): number {
  const dumped = g.deployment ? valueAt(g.deployment.source.value, 'spec.replicas') : undefined;
  return Number(dumped ?? valueAt(g.settings, 'runtime.deployment.replicas') ?? 1);
}

export function takeoverRef(g: SmcpGateway): ObjectRef {
  return ref('apps/v1', 'Deployment', `${g.name}${TAKEOVER_SUFFIX}`, g.namespace);
}

/**
 * 06: for each SMCP gateway, a Deployment of its own injected by OSSM 3 (gateway injection: the
 * `gateway` template, `image: auto`, the revision label; sail-operator docs/ossm/ossm2-migration/
 * gateway-migration.md, "Gateway Canary Migration") whose pods carry the labels the gateway's Service
 * selects, so they join its endpoints beside the SMCP's pods; the Role SDS needs; the SMCP gateway's
 * replicas, autoscaling, volumes, resources and scheduling.
 *
 * The pods run as the SMCP gateway's own ServiceAccount: Istio's identity of a pod is its ServiceAccount
 * (istio/istio@1.27.3 pkg/spiffe/spiffe.go:95-111: `spiffe://<td>/ns/<ns>/sa/<sa>`), and a new one
 * would be a new principal that AuthorizationPolicies and DestinationRule SANs naming the gateway reject,
 * for a share of the requests from 06 and all of them after 07. The 07 Job hands that ServiceAccount over
 * with the Services (Maistra would delete it with the SMCP). No PodDisruptionBudget of its own: the SMCP's
 * selects the Service's labels, which these pods carry, and a pod under two budgets cannot be evicted
 * (kubernetes pkg/registry/core/pod/storage/eviction.go: "This pod has more than one PodDisruptionBudget"),
 * so 07 hands the SMCP's budget over instead.
 */
export function planGatewayTakeover(mesh: Mesh, migrated: readonly string[]): Resource[] {
  const out: Resource[] = [];
  // The 2.6 injector must not inject the new pods too: their namespace is labelled
  // maistra.io/ignore-namespace before they exist (Namespaces sync first). Migrated namespaces get it from
  // 06's own patches; the others are adopted here with it (kept: never pruned or deleted).
  for (const ns of gatewayOnlyNamespaces(mesh, migrated)) {
    const dumped = mesh.inventory.namespaces.find((n) => n.name === ns);
    if (!dumped) continue;
    const body = keptNamespaceBody(dumped.rendered);
    const metadata = body.metadata as JsonObject;
    out.push({
      type: 'adopted',
      ref: ref('v1', 'Namespace', ns),
      body: {
        ...body,
        metadata: { ...metadata, labels: { ...((metadata.labels ?? {}) as JsonObject), 'maistra.io/ignore-namespace': 'true' } },
      },
    });
  }
  for (const g of takenOver(mesh)) {
    const name = `${g.name}${TAKEOVER_SUFFIX}`;
    const sa = ref('v1', 'ServiceAccount', gatewayServiceAccount(g), g.namespace);
    const autoscaling = valueAt(g.settings, 'runtime.deployment.autoScaling') as JsonObject | undefined;
    const hpa = autoscaling?.enabled === true;
    const volumes = gatewayVolumes(g);
    out.push(
      { type: 'gatewaySecretsRole', ref: ref('rbac.authorization.k8s.io/v1', 'Role', name, g.namespace) },
      { type: 'roleBinding', ref: ref('rbac.authorization.k8s.io/v1', 'RoleBinding', name, g.namespace), serviceAccount: sa },
      {
        type: 'gatewayDeployment',
        ref: takeoverRef(g),
        serviceAccount: sa,
        podLabels: {
          ...gatewayPodLabels(g),
          [GATEWAY_POD_LABEL]: g.name,
          'istio.io/rev': mesh.ossm3.revision,
          'sidecar.istio.io/inject': 'true',
        },
        selectorLabels: { [GATEWAY_POD_LABEL]: g.name },
        ports: gatewayPorts(g),
        ...(hpa ? {} : { replicas: replicasOf(g) }),
        pod: podRuntime(g),
        ...(volumes.length ? { volumes } : {}),
      },
    );
    if (hpa)
      out.push({
        type: 'gatewayAutoscaler',
        ref: ref('autoscaling/v2', 'HorizontalPodAutoscaler', name, g.namespace),
        min: Number(autoscaling.minReplicas ?? 1),
        max: Number(autoscaling.maxReplicas ?? 5),
        cpu: Number(autoscaling.targetCPUUtilizationPercentage ?? 80),
      });
  }
  return out;
}

/** A dumped object as Git will own it: without the operator's and IOR's labels, owner references or IOR's annotation. */
export function handedOverBody(body: JsonObject): JsonObject {
  const metadata = { ...((body.metadata ?? {}) as JsonObject) };
  const labels = Object.fromEntries(
    Object.entries((metadata.labels ?? {}) as Record<string, string>).filter(
      ([k]) => !OPERATOR_LABELS.includes(k) && !k.startsWith('maistra.io/') && !k.startsWith('app.kubernetes.io/'),
    ),
  );
  const annotations = Object.fromEntries(
    Object.entries((metadata.annotations ?? {}) as Record<string, string>).filter(([k]) => !k.startsWith('maistra.io/')),
  );
  delete metadata.ownerReferences;
  metadata.labels = labels;
  // Never pruned or deleted by GitOps: a rollback from 06/07 must leave the live object in place for the
  // re-created SMCP to adopt again (a re-created Service gets a new address).
  metadata.annotations = { ...annotations, ...KEEP_ANNOTATIONS };
  const out: JsonObject = { ...body, metadata };
  // The API server assigns a Service's cluster IPs once and refuses to change them (field is immutable): in Git
  // they would pin an address a re-created Service cannot get back, and fail every apply after one.
  if (body.kind === 'Service' && body.spec && typeof body.spec === 'object' && !Array.isArray(body.spec)) {
    const spec = { ...(body.spec as JsonObject) };
    delete spec.clusterIP;
    delete spec.clusterIPs;
    out.spec = spec;
  }
  return out;
}

/** The Routes that must outlive IOR and the SMCP: the gateway's own (routeConfig) and every IOR one. */
export function carriedRoutes(mesh: Mesh): RouteObj[] {
  return takenOver(mesh).flatMap((g) => g.routes.filter((r) => r.name === g.name || r.labels['maistra.io/generated-by'] === 'ior'));
}

/**
 * 06: the routeConfig Route and every IOR Route as plain Routes in Git — same names (the live objects
 * are adopted in place, no second Route claims the host), same host, TLS and target port, without the
 * IOR labels and annotation — and IOR turned off in the same sync. IOR deletes its Routes only on Gateway
 * events (maistra/istio pilot/pkg/config/kube/ior/route.go onGatewayRemoved), never when it stops.
 */
export function planExplicitRoutes(mesh: Mesh): { adds: Resource[]; patches: Patch[] } {
  const routes = carriedRoutes(mesh);
  const adds: Resource[] = routes.map((r) => ({
    type: 'adopted',
    ref: ref('route.openshift.io/v1', 'Route', r.name, r.namespace),
    body: handedOverBody(r.rendered),
  }));
  const ior = valueAt(settingsOf(mesh.controlPlane), 'gateways.openshiftRoute.enabled') !== false;
  const patches: Patch[] =
    ior && smcpGateways(mesh).length
      ? [
          {
            type: 'merge',
            target: smcpRef(mesh),
            why: 'turn IOR off: its Routes are in Git now',
            patch: { spec: { gateways: { openshiftRoute: { enabled: false } } } },
          },
        ]
      : [];
  return { adds, patches };
}

/**
 * 06 and 07 keep the SMCP away from GitOps prune once gateways are handed over: the 07 Job deletes it
 * itself, after it took the gateway Services and Routes from the operator (otherwise Argo CD's prune or
 * Flux's garbage collection could delete the SMCP before the Job ran, and the operator would prune them).
 */
function smcpPruneGuard(mesh: Mesh): Patch[] {
  if (takenOver(mesh).length === 0) return [];
  return [
    {
      type: 'merge',
      target: smcpRef(mesh),
      why: 'the 07 hand-over Job deletes the SMCP, after it took the gateway Services from the operator',
      patch: {
        metadata: { annotations: KEEP_ANNOTATIONS },
      },
    },
  ];
}

/**
 * 07: the hand-over Job — the OSSM 3 gateway pods are ready and in the Service's endpoints; the
 * members and the roll are gone (a ClusterWide SMCP's own roll goes with the SMCP); the operator's labels and owner references are removed from each
 * gateway Service and Route (so its pruner keeps them); then it deletes the SMCP with the operator
 * running — and the Services and Routes, now plain objects in Git.
 */
function planHandover(mesh: Mesh, members: readonly string[]): Resource[] {
  const gws = takenOver(mesh);
  if (gws.length === 0) return [];
  const cp = mesh.controlPlane;
  const budgets = smcpDisruptionBudgets(mesh);
  const targets: HandoverTarget[] = gws.map((g) => ({
    namespace: g.namespace,
    deployment: `${g.name}${TAKEOVER_SUFFIX}`,
    service: g.name,
    routes: g.routes.filter((r) => r.name === g.name).map((r) => r.name),
    serviceAccount: gatewayServiceAccount(g),
    ...(budgets ? { disruptionBudget: g.name } : {}),
  }));
  const identity = shortHash(JSON.stringify({ targets, image: mesh.restartImage, smcp: cp.name }));
  const sa = ref('v1', 'ServiceAccount', HANDOVER_NAME, cp.namespace);
  // The grants to patch the gateway Services and Routes and to delete the SMCP must not outlive the Job: Argo CD
  // hooks, deleted once the sync succeeded (HookRbacFields); under Flux the graduated overlay leaves them out.
  const out: Resource[] = [{ type: 'serviceAccount', ref: sa, hook: true }];
  for (const ns of [...new Set([cp.namespace, ...gws.map((g) => g.namespace), ...members])].sort()) {
    const here = targets.filter((t) => t.namespace === ns);
    out.push(
      {
        type: 'handoverRole',
        ref: ref('rbac.authorization.k8s.io/v1', 'Role', HANDOVER_NAME, ns),
        deployments: here.map((t) => t.deployment),
        services: here.map((t) => t.service),
        routes: here.flatMap((t) => t.routes),
        serviceAccounts: here.map((t) => t.serviceAccount),
        disruptionBudgets: here.flatMap((t) => t.disruptionBudget ?? []),
        smcp: ns === cp.namespace ? cp.name : undefined,
        memberRoll: ns === cp.namespace && cp.mode !== 'ClusterWide',
        member: members.includes(ns),
        hook: true,
      },
      { type: 'roleBinding', ref: ref('rbac.authorization.k8s.io/v1', 'RoleBinding', HANDOVER_NAME, ns), serviceAccount: sa, hook: true },
    );
  }
  out.push({
    type: 'handoverJob',
    ref: ref('batch/v1', 'Job', dnsLabel(HANDOVER_NAME, identity), cp.namespace),
    serviceAccount: sa,
    image: mesh.restartImage,
    smcp: { name: cp.name, namespace: cp.namespace },
    targets,
    // maistra/istio-operator@8143614 pkg/controller/versions/strategy_v2_5.go:582-587, 771-806 (ClusterWide: the
    // operator creates the roll with a controller ownerReference to the SMCP); argo-cd@v3.4.0
    // gitops-engine/pkg/cache/cluster.go:1466-1472 (objects with ownerReferences are never pruned).
    waitForMemberRoll: cp.mode !== 'ClusterWide',
    members,
  });
  return [...out, ...handedOverServices(mesh)];
}

/**
 * The taken-over gateways' Services, ServiceAccounts (the identity meshfed's pods run as) and the SMCP's
 * PodDisruptionBudgets of them, as Git owns them from 07 on: without the operator's labels and owner. The
 * ServiceAccount must be the same object, not a re-created one: a pod's projected token names the
 * ServiceAccount's uid, and the API server rejects it once that uid is gone (kubernetes/kubernetes
 * pkg/serviceaccount/claims.go, "service account UID … does not match claim"; https://kubernetes.io/docs/reference/
 * access-authn-authz/service-accounts-admin/, "Bound service account tokens"), so istiod would stop signing the
 * gateway pods' certificates.
 */
export function handedOverServices(mesh: Mesh): Resource[] {
  const budgets = smcpDisruptionBudgets(mesh);
  return takenOver(mesh).flatMap((g): Resource[] => [
    ...(g.service
      ? [
          {
            type: 'adopted' as const,
            ref: ref('v1', 'Service', g.name, g.namespace),
            body: handedOverBody(stripServerFields(g.service.source.value)),
          },
        ]
      : []),
    {
      type: 'adopted',
      ref: ref('v1', 'ServiceAccount', gatewayServiceAccount(g), g.namespace),
      body: handedOverBody({
        apiVersion: 'v1',
        kind: 'ServiceAccount',
        metadata: { name: gatewayServiceAccount(g), namespace: g.namespace },
      }),
    },
    ...(budgets
      ? [
          {
            // istio-ingress/templates/poddisruptionbudget.yaml:8-21: minAvailable 1, the gateway's labels (its Service's selector).
            type: 'adopted' as const,
            ref: ref('policy/v1', 'PodDisruptionBudget', g.name, g.namespace),
            body: handedOverBody({
              apiVersion: 'policy/v1',
              kind: 'PodDisruptionBudget',
              metadata: { name: g.name, namespace: g.namespace },
              spec: { minAvailable: 1, selector: { matchLabels: { ...g.selector } } },
            }),
          },
        ]
      : []),
  ]);
}

/**
 * 05: a ClusterWide SMCP's member roll is Maistra's own, selecting `istio-injection: enabled` namespaces
 * (maistra/istio-operator@8143614 pkg/controller/versions/strategy_v2_5.go:771-806), and 06 removes that label
 * from the namespaces it moves to OSSM 3 (the OSSM 3 injector skips a namespace that has it). A namespace
 * holding an SMCP gateway would leave the mesh, and Maistra refuses to reconcile an SMCP whose manifests are
 * in a namespace outside it ("namespace of manifest … not in mesh", controlplane/reconciler.go:411-450):
 * every SMCP change from 06 on, 06's own included, would fail. A ServiceMeshMember keeps the namespace a member
 * whatever its labels (memberroll/controller.go:325-345 counts every member object's namespace). The roll has
 * usually created that member itself, annotated maistra.io/created-by: servicemeshmemberroll-controller, and deletes
 * the ones it created once their namespace stops matching (memberroll/controller.go:329-337, 534-536): meshfed's
 * says meshfed made it, and carries the keep annotations (a rollback must not prune what ran before). 07 drops it from
 * Git and the hand-over Job deletes it once the SMCP is gone.
 */
export function gatewayMemberships(ctx: ModelIndex, mesh: Mesh): Resource[] {
  const cp = mesh.controlPlane;
  if (!hasSmcp(mesh) || cp.mode !== 'ClusterWide') return [];
  const migrated = new Set(migratedNamespaces(ctx, mesh));
  const dumped = new Set(mesh.inventory.members.map((m) => m.namespace));
  const namespaces = [...new Set(smcpGateways(mesh).map((g) => g.namespace))]
    .filter((ns) => ns !== cp.namespace && migrated.has(ns) && !dumped.has(ns))
    .sort();
  return namespaces.map((ns) => ({
    type: 'serviceMeshMember',
    ref: ref(API.smm, 'ServiceMeshMember', 'default', ns),
    controlPlane: { name: cp.name, namespace: cp.namespace },
  }));
}

/**
 * The SMCP's own gateways and their Routes: taken over by OSSM 3 pods and carried into Git in 06, handed
 * over (Services, Routes, the SMCP's deletion) in 07.
 */
export const contribute: Contribute = (ctx, mesh) => {
  const routes = planExplicitRoutes(mesh);
  return {
    '06-migrate-workloads': {
      adds: [...planGatewayTakeover(mesh, migratedNamespaces(ctx, mesh)), ...routes.adds],
      patches: [...routes.patches, ...smcpPruneGuard(mesh)],
    },
    '05-install-ossm3': { adds: gatewayMemberships(ctx, mesh) },
    '07-finalize': {
      adds: planHandover(
        mesh,
        gatewayMemberships(ctx, mesh).map((r) => r.ref.namespace!),
      ),
      deletes: gatewayMemberships(ctx, mesh).map((r) => r.ref),
    },
  };
};
