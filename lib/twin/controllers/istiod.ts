/**
 * istiod's Gateway API controllers as GitOps observes them: which istiod reconciles a Gateway API `Gateway`, the
 * ServiceAccount, Deployment and Service its deployment controller applies for class `istio`, and the status its
 * gateway controller writes — what Argo CD's bundled Gateway health (health-lua-builtin.ts) and meshfed's Flux
 * `healthCheckExprs` wait for.
 *
 * Two kinds of istiod run on a cluster during the migration:
 * - OSSM 2.6's (Maistra, Istio 1.20): one per ServiceMeshControlPlane, revision = the SMCP's name
 *   (maistra/istio-operator@8143614c pkg/controller/versions/strategy_v2_4.go:430 `SetField("revision", smcp.GetName())`);
 * - OSSM 3's (Sail, Istio 1.27): one per IstioRevision, revision = its name (`values.revision`, "" for `default`).
 * An istiod acts while its pods run (Ready pods `app=istiod` with its `istio.io/rev` in its namespace).
 *
 * Sources: istio/istio@1.20.8 and @1.27.3 pilot/pkg/config/kube/gateway/ (deploymentcontroller.go, conversion.go,
 * conditions.go, context.go, gateway_collection.go, controller.go), pkg/revisions/tag_watcher.go, pilot/pkg/features;
 * maistra/istio@c24a29f2 (branch maistra-2.6 as stored, March 2024: its conversion.go is 1.20.8's byte for byte) and
 * maistra/istio-operator@08c043ff resources/helm/v2.6 (istiod chart, kube-gateway template); the 1.27 template is
 * istio-ecosystem/sail-operator@8cde773e resources/v1.27.3/charts/istiod/files/kube-gateway.yaml (identical to
 * istio@1.27.3 manifests/charts/istio-control/istio-discovery/files/kube-gateway.yaml).
 *
 * Not modelled: routes (HTTPRoute/TLSRoute attachment: `attachedRoutes` stays 0), TLS certificate references of
 * Terminate listeners, ListenerSets, class-defaults ConfigMaps and `infrastructure.parametersRef` overlays (HPA/PDB),
 * the GatewayClass objects istiod creates (the builtin classes resolve without them), Maistra's `controllerMode`,
 * IstioRevisionTag (only the webhooks it would create count as tags), proxy images and env.
 */
import { Json, JsonObject } from '../../load/yaml-source';
import { compareStrings } from '../../sort';
import { Cluster, Controller } from '../cluster';
import { isObject, splitApiVersion } from '../kustomize';
import { annotations, labels, metadata, Obj, refOf, valueAt } from '../objects';
import { findCondition, isPodReady, isTerminating, matchesSelector, putStatus, readConditions } from './kube';

/** The field manager of the deployment controller's server-side applies (1.20.8 deploymentcontroller.go:175-182, constants.go:163). */
export const GATEWAY_CONTROLLER_MANAGER = 'istio.io/gateway-controller';
/** istiod writes status as `pilot-discovery` (inference: the twin only needs one name for it). */
export const ISTIOD_STATUS_MANAGER = 'pilot-discovery';
/** 1.20.8 pkg/config/constants/constants.go:162, :165; 1.27.3 deploymentcontroller.go:886-891 (label.GatewayManaged). */
const MANAGED_LABEL = 'gateway.istio.io/managed';
const MANAGED_VALUE = 'istio.io-gateway-controller';
/** 1.20.8 deploymentcontroller.go:381-389 (ControllerVersionAnnotation, ControllerVersion = 5). */
const CONTROLLER_VERSION_ANNOTATION = 'gateway.istio.io/controller-version';
const CONTROLLER_VERSION = 5;
/** 1.20.8 pilot/pkg/config/kube/gateway/model.go:33-35 (the same names in 1.27.3's annotation package). */
const NAME_OVERRIDE = 'gateway.istio.io/name-override';
const SA_OVERRIDE = 'gateway.istio.io/service-account';
const SERVICE_TYPE = 'networking.istio.io/service-type';
/** 1.27.3 conversion.go:66 (not in 1.20). */
const ADDRESS_TYPE_OVERRIDE = 'networking.istio.io/address-type';
/** kube-gateway.yaml (both releases): annotations the rendered objects do not copy. */
const OMITTED_ANNOTATIONS = ['kubectl.kubernetes.io/last-applied-configuration', NAME_OVERRIDE, SA_OVERRIDE, CONTROLLER_VERSION_ANNOTATION];
/**
 * OSSM 2.6 skips a Gateway labelled `maistra.io/ignore: "true"`: Red Hat's migration procedure labels a Gateway so
 * (openshift-service-mesh/sail-operator@fd6516dc docs/ossm/ossm2-migration/gateway-migration.md:102-110) and OSSM's test
 * does it to hand the east-west Gateway to OSSM 3 (maistra/maistra-test-tool@037d62f0
 * pkg/tests/tasks/migration/federation_test.go:469-471). The stored maistra-2.6 branch predates it (inference).
 */
const MAISTRA_IGNORE = 'maistra.io/ignore';
const GW_GROUP = 'gateway.networking.k8s.io';
const MANAGED_CONTROLLER = 'istio.io/gateway-controller';
const UNMANAGED_CONTROLLER = 'istio.io/unmanaged-gateway';
/** The Maistra 2.6 chart's label value (resources/helm/v2.6/…/files/kube-gateway.yaml). */
const MAISTRA_VERSION = '2.6.7';

export type IstioRelease = '1.20' | '1.27';

/** One istiod as the Gateway API controllers see their world. */
export interface Istiod {
  /** `maistra:<namespace>/<smcp>` or `sail:<revision>`. */
  readonly id: string;
  readonly release: IstioRelease;
  readonly revision: string;
  readonly namespace: string;
  /** The pilot env its running pods have (only the Gateway API switches matter here). */
  readonly env: Readonly<Record<string, string>>;
  /** Maistra MultiTenant (`--memberRollName=default`): it sees only `members`. */
  readonly multiTenant: boolean;
  /** MultiTenant: the member roll's configured members and the control plane's namespace. */
  readonly members: ReadonlySet<string>;
  /** meshConfig.discoverySelectors (a namespace matching any is watched; none: every namespace). */
  readonly discoverySelectors: readonly Json[];
  /** 1.27: its revision and the tags pointing at it (pkg/revisions/tag_watcher.go GetMyTags). */
  readonly tags: ReadonlySet<string>;
  /** 1.27: it is the default revision and no `default` tag points elsewhere (tag_watcher.go:122-135). */
  readonly defaultRevision: boolean;
}

export interface IstiodOptions {
  /** The cluster's DNS suffix (istiod's --domain; default cluster.local). */
  readonly domainSuffix?: string;
}

const obj = (v: Json | undefined): JsonObject => (isObject(v) ? v : {});
const str = (v: Json | undefined): string | undefined => (typeof v === 'string' ? v : undefined);
const isKind = (group: string, kind: string) => (o: Obj) => o.kind === kind && splitApiVersion(String(o.apiVersion ?? ''))[0] === group;
const isGateway = isKind(GW_GROUP, 'Gateway');

/** Go's strconv.ParseBool, with the default on a parse error (istio@1.27.3 pkg/env/var.go:252-263). */
function flag(env: Readonly<Record<string, string>>, name: string, dflt: boolean): boolean {
  const v = env[name];
  if (v === undefined) return dflt;
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(v)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(v)) return false;
  return dflt;
}

/** The Gateway API switches of an istiod (1.20.8 pilot/pkg/features/pilot.go:334-348, :584; 1.27.3 experimental.go:133-150, pilot.go:214, :262). */
function features(i: Istiod) {
  const e = i.env;
  return {
    gatewayApi: flag(e, 'PILOT_ENABLE_GATEWAY_API', true),
    status: flag(e, 'PILOT_ENABLE_GATEWAY_API_STATUS', true),
    deployment: flag(e, 'PILOT_ENABLE_GATEWAY_API_DEPLOYMENT_CONTROLLER', true),
    alpha: flag(e, 'PILOT_ENABLE_ALPHA_GATEWAY_API', false),
    multiNetwork: flag(e, 'PILOT_MULTI_NETWORK_DISCOVER_GATEWAY_API', i.release === '1.27'),
    copyLabels: flag(e, 'PILOT_ENABLE_GATEWAY_API_COPY_LABELS_ANNOTATIONS', true),
    defaultClass: i.release === '1.27' ? (e.PILOT_GATEWAY_API_DEFAULT_GATEWAYCLASS_NAME ?? 'istio') : 'istio',
  };
}

function stringMap(v: Json | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(obj(v))) if (x !== null && x !== undefined) out[k] = typeof x === 'string' ? x : JSON.stringify(x);
  return out;
}

function runningPods(cluster: Cluster, namespace: string, revision: string, maistra: boolean): boolean {
  return cluster
    .list((o) => o.kind === 'Pod' && metadata(o).namespace === namespace)
    .some((p) => {
      const l = labels(p);
      return (
        l.app === 'istiod' && l['istio.io/rev'] === revision && (l['maistra-control-plane'] !== undefined) === maistra && isPodReady(p)
      );
    });
}

// ---------------------------------------------------------------------------------------------------------
// Which istiods run, and what each watches
// ---------------------------------------------------------------------------------------------------------

/**
 * The Maistra istiod's pilot env, from the SMCP spec its pods were started with: the 2.6 chart sets
 * PILOT_ENABLE_GATEWAY_API, _STATUS and _DEPLOYMENT_CONTROLLER to "false" unless `gatewayAPI.enabled` (from
 * `spec.techPreview.gatewayAPI`, default false) or ClusterWide, then appends `pilot.env`
 * (maistra/istio-operator@08c043ff resources/helm/v2.6/istio-control/istio-discovery/templates/deployment.yaml:148-174,
 * :208-213; techPreview is the base of the values: @8143614c pkg/apis/maistra/conversion/conversion_v2_to_v1.go:126-142;
 * the mode: :164; `runtime.components.pilot.container.env` → `pilot.env`: runtime.go:298-302; default:
 * resources/helm/overlays/global.yaml:450-452). A later duplicate env entry wins (kubernetes pkg/kubelet/kubelet_pods.go
 * makeEnvironmentVariables fills a map in order; inference from the function, not cited by line).
 */
export function maistraPilotEnv(spec: JsonObject): Record<string, string> {
  const env: Record<string, string> = {};
  const clusterWide = spec.mode === 'ClusterWide';
  if (valueAt(spec, ['techPreview', 'gatewayAPI', 'enabled']) !== true && !clusterWide) {
    env.PILOT_ENABLE_GATEWAY_API = 'false';
    env.PILOT_ENABLE_GATEWAY_API_STATUS = 'false';
    env.PILOT_ENABLE_GATEWAY_API_DEPLOYMENT_CONTROLLER = 'false';
  }
  return { ...env, ...stringMap(valueAt(spec, ['runtime', 'components', 'pilot', 'container', 'env'])) };
}

/** The tags pointing at a 1.27 revision: MutatingWebhookConfigurations labelled `istio.io/tag` (1.27.3 tag_watcher.go:138-144). */
function revisionTags(cluster: Cluster, revision: string): { tags: Set<string>; defaultRevision: boolean } {
  const webhooks = cluster.list(isKind('admissionregistration.k8s.io', 'MutatingWebhookConfiguration'));
  const tags = new Set([revision]);
  for (const w of webhooks) {
    const l = labels(w);
    if (l['istio.io/tag'] !== undefined && l['istio.io/rev'] === revision) tags.add(l['istio.io/tag']);
  }
  // tag_watcher.go:122-132: a `default` tag elsewhere outranks being the default revision (istiod-default-validator).
  const otherDefaultTag = !tags.has('default') && webhooks.some((w) => metadata(w).name === 'istio-revision-tag-default');
  const validator = cluster.get({
    group: 'admissionregistration.k8s.io',
    kind: 'ValidatingWebhookConfiguration',
    namespace: '',
    name: 'istiod-default-validator',
  });
  const weAreDefault = !!validator && labels(validator)['istio.io/rev'] === revision;
  return { tags, defaultRevision: weAreDefault && !otherDefaultTag };
}

// ---------------------------------------------------------------------------------------------------------
// Which istiod reconciles a Gateway
// ---------------------------------------------------------------------------------------------------------

/** Whether an istiod watches objects of a namespace (member roll, or discovery selectors: 1.27.3 pkg/kube/namespace/filter.go:115-135, :283-296). */
export function watchesNamespace(cluster: Cluster, i: Istiod, namespace: string): boolean {
  if (i.multiTenant) return i.members.has(namespace);
  if (!i.discoverySelectors.length) return true;
  const ns = cluster.get({ group: '', kind: 'Namespace', namespace: '', name: namespace });
  return !!ns && i.discoverySelectors.some((s) => matchesSelector(s, labels(ns)));
}

/**
 * 1.27's IsMine (1.27.3 pkg/revisions/tag_watcher.go:112-136): the Gateway's `istio.io/rev`, else its namespace's,
 * names one of our tags; no label at all is ours when we have the `default` tag or are the default revision.
 */
function isMine(cluster: Cluster, i: Istiod, gw: Obj): boolean {
  let selected = labels(gw)['istio.io/rev'];
  if (selected === undefined) {
    const ns = cluster.get({ group: '', kind: 'Namespace', namespace: '', name: String(metadata(gw).namespace) });
    if (!ns) return true;
    selected = labels(ns)['istio.io/rev'] ?? '';
  }
  return i.tags.has(selected) || (selected === '' && (i.tags.has('default') || i.defaultRevision));
}

/**
 * 1.20's config filter: an object labelled for another revision is not in its store (1.20.8 pkg/config/model.go:109-122,
 * pilot/pkg/config/kube/crdclient/client.go:348-357; the same at maistra/istio@c24a29f2 crdclient/client.go:353-362).
 */
function labelsInRevision(gw: Obj, revision: string): boolean {
  const rev = labels(gw)['istio.io/rev'];
  return rev === undefined || revision === '' || rev === revision;
}

/** Which parts of an istiod act on a Gateway: its gateway controller (status) and its deployment controller. */
export interface GatewayRoles {
  readonly status: boolean;
  readonly deploy: boolean;
}

/**
 * - 1.20 (Maistra): the gateway controller holds every Gateway its config store admits (in a watched namespace, not
 *   labelled for another revision); the deployment controller manages the Gateways of watched namespaces whatever
 *   their revision label — Maistra 2.6 deploys an unlabelled Gateway in ClusterWide mode (federation_test.go:362-367,
 *   SMCP `basic`, no `istio.io/rev` anywhere) although upstream 1.20.8's Reconcile (deploymentcontroller.go:284-298)
 *   and the stored maistra-2.6 branch (@c24a29f2 deploymentcontroller.go:285-301) would skip it (inference: the
 *   released 2.6 differs from the stored branch). Both skip `maistra.io/ignore: "true"`.
 * - 1.27 (Sail): both controllers act on IsMine Gateways only (1.27.3 gateway_collection.go:244-246,
 *   deploymentcontroller.go:458-462), in watched namespaces (controller.go:453-460).
 * Each only while Gateway API is enabled (1.20.8 bootstrap/configcontroller.go:141-169, 1.27.3 :166-210).
 */
export function gatewayRoles(cluster: Cluster, i: Istiod, gw: Obj): GatewayRoles {
  const f = features(i);
  const ns = String(metadata(gw).namespace);
  if (!f.gatewayApi || !watchesNamespace(cluster, i, ns)) return { status: false, deploy: false };
  if (i.release === '1.20') {
    if (labels(gw)[MAISTRA_IGNORE] === 'true') return { status: false, deploy: false };
    return { status: f.status && labelsInRevision(gw, i.revision), deploy: f.deployment };
  }
  const mine = isMine(cluster, i, gw);
  return { status: f.status && mine, deploy: f.deployment && mine };
}

/**
 * The controller a Gateway's class names for this istiod: a GatewayClass object it knows, else a builtin class
 * (1.20.8 deploymentcontroller.go:122-160, conversion.go:1788-1811; 1.27.3 deploymentcontroller.go:151-223,
 * gatewayclass_collection.go:54-67). 1.27 knows `istio-remote` only with PILOT_MULTI_NETWORK_DISCOVER_GATEWAY_API
 * (default true); a MultiTenant Maistra istiod does not watch GatewayClasses (@c24a29f2 crdclient/client.go:342-345).
 */
function classController(cluster: Cluster, i: Istiod, className: string): string | undefined {
  const f = features(i);
  const known = new Set([MANAGED_CONTROLLER, ...(i.release === '1.20' || f.multiNetwork ? [UNMANAGED_CONTROLLER] : [])]);
  const gc = i.multiTenant ? undefined : cluster.get({ group: GW_GROUP, kind: 'GatewayClass', namespace: '', name: className });
  const fromObject = str(valueAt(gc, ['spec', 'controllerName']));
  if (fromObject !== undefined && known.has(fromObject)) return fromObject;
  const builtin: Record<string, string> = { [f.defaultClass]: MANAGED_CONTROLLER };
  if (i.release === '1.20' || f.multiNetwork) builtin['istio-remote'] = UNMANAGED_CONTROLLER;
  return builtin[className];
}

// ---------------------------------------------------------------------------------------------------------
// Status
// ---------------------------------------------------------------------------------------------------------

interface Cond {
  readonly reason: string;
  readonly message: string;
  /** The status without an error (default True). */
  readonly status?: 'True' | 'False';
  error?: { reason: string; message: string };
}

/**
 * conditions.go setConditions (1.20.8:241-283, 1.27.3:309-…) with kstatus.UpdateConditionIfChanged
 * (1.20.8 pilot/pkg/model/kstatus/helper.go:86-108): keys in sorted order; an error inverts the status and brings its
 * reason and message; an existing condition with the same status, message and observedGeneration is left alone, and
 * keeps its lastTransitionTime while its status stays.
 */
function setConditions(generation: number, existing: readonly JsonObject[], conds: Record<string, Cond>, now: number): JsonObject[] {
  const out = existing.map((c) => ({ ...c }));
  for (const type of Object.keys(conds).sort(compareStrings)) {
    const c = conds[type];
    const base = c.status ?? 'True';
    const status = c.error ? (base === 'False' ? 'True' : 'False') : base;
    const next: JsonObject = {
      type,
      status,
      observedGeneration: generation,
      lastTransitionTime: now,
      reason: c.error ? c.error.reason : c.reason,
      message: c.error ? c.error.message : c.message,
    };
    const at = out.findIndex((x) => x.type === type);
    if (at < 0) {
      out.push(next);
      continue;
    }
    const prev = out[at];
    if (prev.status === status) {
      if (prev.message === next.message && prev.observedGeneration === generation) continue;
      next.lastTransitionTime = prev.lastTransitionTime ?? now;
    }
    out[at] = next;
  }
  return out;
}

/** conversion.go humanReadableJoin (1.20.8:2469-2480, 1.27.3:2330-2341). */
function humanReadableJoin(ss: readonly string[]): string {
  if (ss.length <= 1) return ss[0] ?? '';
  if (ss.length === 2) return `${ss[0]} and ${ss[1]}`;
  return `${ss.slice(0, -1).join(', ')}, and ${ss[ss.length - 1]}`;
}

const isIP = (s: string) => /^\d{1,3}(\.\d{1,3}){3}$/.test(s) || (s.includes(':') && /^[0-9a-fA-F:.]+$/.test(s));

function listeners(gw: Obj): JsonObject[] {
  const l = valueAt(gw, ['spec', 'listeners']);
  return Array.isArray(l) ? l.filter(isObject) : [];
}

function specAddresses(gw: Obj): JsonObject[] {
  const a = valueAt(gw, ['spec', 'addresses']);
  return Array.isArray(a) ? a.filter(isObject) : [];
}

/** IsManaged (1.20.8 conversion.go:2180-2191; 1.27.3 :1905-1919, ENABLE_GATEWAY_API_MANUAL_DEPLOYMENT defaults to true). */
function isManaged(gw: Obj): boolean {
  const a = specAddresses(gw);
  if (a.length === 0) return true;
  if (a.length > 1) return false;
  return a[0].type === undefined || a[0].type === 'IPAddress';
}

/** `<gateway>-<class>` (1.20.8 conversion.go:1905-1907; 1.27.3 :1598-1603). */
function defaultName(gw: Obj): string {
  return `${String(metadata(gw).name)}-${String(valueAt(gw, ['spec', 'gatewayClassName']))}`;
}

function deploymentName(gw: Obj): string {
  return annotations(gw)[NAME_OVERRIDE] ?? defaultName(gw);
}

/** extractGatewayServices (1.20.8 conversion.go:2193-2232; 1.27.3 :1921-1960): the Service hostnames a Gateway binds to. */
function gatewayServices(gw: Obj, domain: string): { services: string[]; error?: { reason: string; message: string } } {
  const ns = String(metadata(gw).namespace);
  if (isManaged(gw)) return { services: [`${deploymentName(gw)}.${ns}.svc.${domain}`] };
  const services: string[] = [];
  const skipped: string[] = [];
  for (const a of specAddresses(gw)) {
    const value = String(a.value ?? '');
    if (a.type !== undefined && a.type !== 'Hostname') skipped.push(value);
    else services.push(value.includes('.') ? value : `${value}.${ns}.svc.${domain}`);
  }
  if (skipped.length)
    return { services, error: { reason: 'UnsupportedAddress', message: `only Hostname is supported, ignoring [${skipped.join(' ')}]` } };
  if (annotations(gw)[SERVICE_TYPE] !== undefined)
    return {
      services,
      error: { reason: 'DeprecatedField', message: `annotation ${SERVICE_TYPE} is deprecated, use Spec.Infrastructure.Routeability` },
    };
  return { services };
}

interface Instances {
  internal: string[];
  internalIP: string[];
  external: string[];
  pending: string[];
  warnings: string[];
  allUsable: boolean;
}

/** The Services an istiod's registry holds by hostname (`<name>.<ns>.svc.<domain>` of a watched namespace). */
function findService(cluster: Cluster, i: Istiod, host: string, domain: string): { namespace: string; svc: Obj }[] {
  const suffix = `.svc.${domain}`;
  if (!host.endsWith(suffix)) return [];
  const [name, ns, ...rest] = host.slice(0, -suffix.length).split('.');
  if (!name || !ns || rest.length) return [];
  const svc = cluster.get({ group: '', kind: 'Service', namespace: ns, name });
  return svc && watchesNamespace(cluster, i, ns) ? [{ namespace: ns, svc }] : [];
}

function servicePorts(svc: Obj): JsonObject[] {
  const p = valueAt(svc, ['spec', 'ports']);
  return Array.isArray(p) ? p.filter(isObject) : [];
}

/** The Service's endpoints (ready or not: 1.20.8 serviceregistry/kube/controller/endpointslice.go:244-257 keeps unready ones). */
function endpointPorts(cluster: Cluster, svc: Obj): number[] | undefined {
  const ep = cluster.get({ group: '', kind: 'Endpoints', namespace: String(metadata(svc).namespace), name: String(metadata(svc).name) });
  const subsets = Array.isArray(ep?.subsets) ? ep.subsets.filter(isObject) : [];
  const withAddresses = subsets.filter(
    (s) => (Array.isArray(s.addresses) && s.addresses.length) || (Array.isArray(s.notReadyAddresses) && s.notReadyAddresses.length),
  );
  if (!withAddresses.length) return undefined;
  return withAddresses.flatMap((s) => (Array.isArray(s.ports) ? s.ports.filter(isObject).map((p) => Number(p.port)) : []));
}

/**
 * ResolveGatewayInstances (1.20.8 context.go:52-139; 1.27.3 :53-147): per Service and listener port, the instances
 * behind it, the ClusterIPs, the external addresses (LoadBalancer ingress and externalIPs: 1.20.8
 * serviceregistry/kube/conversion.go:134-166) and the warnings that keep Programmed from True.
 */
function resolveInstances(
  cluster: Cluster,
  i: Istiod,
  gwNamespace: string,
  services: string[],
  ports: number[],
  domain: string,
): Instances {
  const internal = new Set<string>();
  const internalIP = new Set<string>();
  const external = new Set<string>();
  const pending = new Set<string>();
  const warnings: string[] = [];
  let unusable = false;
  for (const host of services) {
    const found = findService(cluster, i, host, domain);
    const here = found.find((f) => f.namespace === gwNamespace);
    if (!here) {
      const others = found.map((f) => `"${f.namespace}"`).sort(compareStrings);
      warnings.push(
        others.length
          ? `hostname "${host}" not found in namespace "${gwNamespace}", but it was found in namespace(s) ${others.join(', ')}`
          : `hostname "${host}" not found`,
      );
      unusable = true;
      continue;
    }
    const svc = here.svc;
    const sports = servicePorts(svc);
    const endpoints = endpointPorts(cluster, svc);
    for (const port of ports) {
      const sp = sports.find((p) => Number(p.port) === port);
      if (sp && endpoints) {
        internal.add(`${host}:${port}`);
        const ips = valueAt(svc, ['spec', 'clusterIPs']);
        for (const ip of Array.isArray(ips) ? ips.map(String) : [String(valueAt(svc, ['spec', 'clusterIP']) ?? '')])
          if (ip && ip !== 'None') internalIP.add(ip);
        const lb = valueAt(svc, ['status', 'loadBalancer', 'ingress']);
        const type = String(valueAt(svc, ['spec', 'type']) ?? 'ClusterIP');
        const ext = type === 'LoadBalancer' && Array.isArray(lb) ? lb.filter(isObject).map((x) => String(x.ip || x.hostname || '')) : [];
        const externalIPs = valueAt(svc, ['spec', 'externalIPs']);
        ext.push(...(Array.isArray(externalIPs) ? externalIPs.map(String) : []));
        if (ext.filter(Boolean).length) ext.filter(Boolean).forEach((x) => external.add(x));
        else if (type === 'LoadBalancer' && !pending.has(host)) {
          warnings.push(`address pending for hostname "${host}"`);
          pending.add(host);
        }
      } else if (!endpoints) {
        warnings.push(`no instances found for hostname "${host}"`);
      } else {
        const hint = sports.filter((p) => Number(p.targetPort ?? p.port) === port && endpoints.includes(port)).map((p) => String(p.port));
        if (hint.length) {
          warnings.push(
            `port ${port} not found for hostname "${host}" (hint: the service port should be specified, not the workload port. ` +
              `Did you mean one of these ports: [${hint.sort(compareStrings).join(' ')}]?)`,
          );
          unusable = true;
        } else if (labels(svc)[MANAGED_LABEL] === undefined || !sp) {
          warnings.push(`port ${port} not found for hostname "${host}"`);
          unusable = true;
        }
      }
    }
  }
  const sorted = (s: Set<string>) => [...s].sort(compareStrings);
  return {
    internal: sorted(internal),
    internalIP: sorted(internalIP),
    external: sorted(external),
    pending: sorted(pending),
    warnings: warnings.sort(compareStrings),
    allUsable: !unusable,
  };
}

/** generateSupportedKinds (1.20.8 conditions.go:323-356; 1.27.3 :377-410). */
function supportedKinds(l: JsonObject): { kinds: JsonObject[]; valid: boolean } {
  const k = (kind: string): JsonObject => ({ group: GW_GROUP, kind });
  const mode = valueAt(l, ['tls', 'mode']);
  const supported =
    l.protocol === 'HTTP' || l.protocol === 'HTTPS'
      ? [k('HTTPRoute'), k('GRPCRoute')]
      : l.protocol === 'TCP'
        ? [k('TCPRoute')]
        : l.protocol === 'TLS'
          ? [mode === 'Passthrough' ? k('TLSRoute') : k('TCPRoute')]
          : [];
  const allowed = valueAt(l, ['allowedRoutes', 'kinds']);
  if (!Array.isArray(allowed) || !allowed.length) return { kinds: supported, valid: true };
  const wanted = allowed.filter(isObject);
  const kinds = supported.filter((s) => wanted.some((w) => w.kind === s.kind && String(w.group ?? GW_GROUP) === s.group));
  return { kinds, valid: kinds.length === wanted.length };
}

/**
 * buildListener's conditions (1.20.8 conversion.go:2249-2302; 1.27.3 :1962-2050) and the 1.25+ protocol rule:
 * 1.27 accepts a TLS or TCP listener only with PILOT_ENABLE_ALPHA_GATEWAY_API=true (1.27.3 conversion.go:2012-2018,
 * 2059-2070); 1.20 takes the protocol as is (1.20.8 :2304-2307).
 */
function listenerStatus(i: Istiod, gw: Obj, l: JsonObject, existing: JsonObject | undefined, now: number): JsonObject {
  const conds: Record<string, Cond> = {
    Accepted: { reason: 'Accepted', message: 'No errors found' },
    Programmed: { reason: 'Programmed', message: 'No errors found' },
    Conflicted: { reason: 'NoConflicts', message: 'No errors found', status: 'False' },
    ResolvedRefs: { reason: 'ResolvedRefs', message: 'No errors found' },
  };
  const protocol = String(l.protocol ?? '');
  if (i.release === '1.27') {
    if ((protocol === 'TLS' || protocol === 'TCP') && !features(i).alpha)
      conds.Accepted.error = {
        reason: 'UnsupportedProtocol',
        message: `protocol "${protocol}" is supported, but only when PILOT_ENABLE_ALPHA_GATEWAY_API=true is configured`,
      };
    else if (!['HTTP', 'HTTPS', 'TLS', 'TCP', 'HBONE'].includes(protocol))
      conds.Accepted.error = {
        reason: 'UnsupportedProtocol',
        message: ['HTTP', 'HTTPS', 'TLS', 'TCP', 'HBONE'].includes(protocol.toUpperCase())
          ? `protocol "${protocol}" is unsupported. hint: "${protocol.toUpperCase()}" (uppercase) may be supported`
          : `protocol "${protocol}" is unsupported`,
      };
    else if (protocol === 'HBONE')
      conds.Accepted.error = { reason: 'UnsupportedProtocol', message: `protocol "${protocol}" is only supported for waypoint proxies` };
  }
  // reportListenerCondition (1.20.8 conditions.go:298-321): invalid route kinds replace ResolvedRefs.
  const { kinds, valid } = supportedKinds(l);
  if (!valid) conds.ResolvedRefs = { reason: 'InvalidRouteKinds', message: 'Invalid route kinds', status: 'False' };
  const prev = Array.isArray(existing?.conditions) ? existing.conditions.filter(isObject) : [];
  return {
    name: String(l.name ?? ''),
    attachedRoutes: 0,
    supportedKinds: kinds,
    conditions: setConditions(Number(metadata(gw).generation ?? 1), prev, conds, now),
  };
}

/** The status an istiod writes for a Gateway of a class it manages (reportGatewayStatus: 1.20.8 conversion.go:2057-2159; 1.27.3 :1641-1743). */
function managedStatus(cluster: Cluster, i: Istiod, gw: Obj, domain: string): JsonObject {
  const now = cluster.now;
  const generation = Number(metadata(gw).generation ?? 1);
  const status = structuredClone(obj(gw.status));
  const { services, error } = gatewayServices(gw, domain);
  const hardFailure = services.length === 0 && !!error;
  const ls = hardFailure ? [] : listeners(gw);
  if (!hardFailure) {
    const prev = Array.isArray(status.listeners) ? status.listeners.filter(isObject) : [];
    status.listeners = ls.map((l, index) => listenerStatus(i, gw, l, prev[index], now));
  }
  // Prune listeners that have been removed (conversion.go:2146-2155).
  if (Array.isArray(status.listeners)) {
    const names = new Set(listeners(gw).map((l) => String(l.name ?? '')));
    status.listeners = status.listeners.filter((l) => isObject(l) && names.has(String(l.name)));
  }
  const ports = [...new Set(ls.map((l) => Number(l.port)))];
  const r = resolveInstances(cluster, i, String(metadata(gw).namespace), services, ports, domain);
  const conds: Record<string, Cond> = {
    Accepted: { reason: 'Accepted', message: 'Resource accepted', ...(error ? { error } : {}) },
    Programmed: {
      reason: 'Programmed',
      message: r.internal.length ? `Resource programmed, assigned to service(s) ${humanReadableJoin(r.internal)}` : 'Resource programmed',
    },
  };
  if (services.length === 0)
    conds.Programmed.error = { reason: 'UnsupportedAddress', message: 'Failed to assign to any requested addresses' };
  else if (r.warnings.length) {
    const msg = r.internal.length
      ? `Assigned to service(s) ${humanReadableJoin(r.internal)}, but failed to assign to all requested addresses: ${r.warnings.join('; ')}`
      : `Failed to assign to any requested addresses: ${r.warnings.join('; ')}`;
    // 1.27.3 conversion.go:1801-1805 tells unusable addresses apart; 1.20 has AddressNotAssigned only.
    conds.Programmed.error = { reason: i.release === '1.27' && !r.allUsable ? 'AddressNotUsable' : 'AddressNotAssigned', message: msg };
  }
  // The istio class reports hostnames (classInfo.addressType Hostname); 1.27 lets an annotation ask for IPs.
  let addresses = r.external;
  if (!addresses.length) {
    const want = i.release === '1.27' ? (annotations(gw)[ADDRESS_TYPE_OVERRIDE] ?? 'Hostname') : 'Hostname';
    addresses = want !== 'Hostname' ? [...r.internalIP] : [];
    if (want !== 'IPAddress')
      for (const hostport of r.internal) {
        const host = hostport.slice(0, hostport.lastIndexOf(':'));
        if (!r.pending.includes(host) && !addresses.includes(host)) addresses.push(host);
      }
  }
  // "Do not report an address until we are ready. But once we are ready, never remove the address."
  if (addresses.length) status.addresses = addresses.map((value) => ({ type: isIP(value) ? 'IPAddress' : 'Hostname', value }));
  status.conditions = setConditions(generation, readConditions(gw), conds, now);
  return status;
}

/**
 * 1.27's status for a class it does not program (`istio-remote`): Accepted and Programmed True, the spec's addresses,
 * no listeners (1.27.3 conversion.go:1814-1838, gateway_collection.go:259-263). An address without `type` is an
 * IPAddress (the Gateway API CRD default: istio@1.27.3 tests/integration/pilot/testdata/gateway-api-crd.yaml:1270).
 * 1.20 skips these Gateways before any status is written (1.20.8 conversion.go:1926-1933): nothing.
 */
function remoteStatus(cluster: Cluster, gw: Obj): JsonObject {
  const status = structuredClone(obj(gw.status));
  status.addresses = specAddresses(gw).map((a) => ({ type: String(a.type ?? 'IPAddress'), value: String(a.value ?? '') }));
  delete status.listeners;
  status.conditions = setConditions(
    Number(metadata(gw).generation ?? 1),
    readConditions(gw),
    {
      Accepted: { reason: 'Accepted', message: 'Resource accepted' },
      Programmed: { reason: 'Programmed', message: 'This Gateway is remote; Istio will not program it' },
    },
    cluster.now,
  );
  return status;
}

// ---------------------------------------------------------------------------------------------------------
// The deployment controller
// ---------------------------------------------------------------------------------------------------------

function without(m: Record<string, string>, keys: readonly string[]): Record<string, string> {
  const out = { ...m };
  for (const k of keys) delete out[k];
  return out;
}

/** extractServicePorts (1.20.8 deploymentcontroller.go:546-573; 1.27.3 :975-1014, names sanitized for a port). */
function servicePortsOf(i: Istiod, gw: Obj): JsonObject[] {
  const out: JsonObject[] = [{ name: 'status-port', port: 15021, protocol: 'TCP', appProtocol: 'tcp' }];
  const seen = new Set<number>();
  listeners(gw).forEach((l, index) => {
    const port = Number(l.port);
    if (seen.has(port)) return;
    seen.add(port);
    const protocol = String(l.protocol ?? '').toLowerCase();
    let name = String(l.name ?? '');
    if (i.release === '1.27') name = name.replace(/\./g, '-').slice(0, 63);
    out.push({ name: name || `${protocol}-${index}`, port, protocol: 'TCP', appProtocol: protocol });
  });
  return out;
}

/**
 * The kube-gateway template's objects, reduced to what the twin reads (names, labels, selectors, ports, owner,
 * ServiceAccount): istio@1.20.8 kube-gateway.yaml as Maistra 2.6 ships it (maistra/istio-operator@08c043ff
 * resources/helm/v2.6/istio-control/istio-discovery/files/kube-gateway.yaml: selector and pod label
 * `istio.io/gateway-name`, the Gateway's labels and annotations, `maistra-version`/`maistra-control-plane` labels —
 * its metadata-label lines read `(strdict "maistra-version" "2.6.7").Labels`, taken here as the Gateway's labels plus
 * that label, inference) and istio@1.27.3's (selector and pod label `gateway.networking.k8s.io/gateway-name`,
 * labels/annotations from `infrastructure` or copied from the Gateway: deploymentcontroller.go:543-636; the
 * ServiceAccount owned by the Gateway on Kubernetes ≥ 1.28: kube-gateway.yaml:14-21).
 */
function render(i: Istiod, gw: Obj): Obj[] {
  const name = String(metadata(gw).name);
  const ns = String(metadata(gw).namespace);
  const deployName = deploymentName(gw);
  const saName = annotations(gw)[SA_OVERRIDE] ?? defaultName(gw);
  const owner = [{ apiVersion: `${GW_GROUP}/v1beta1`, kind: 'Gateway', name, uid: String(metadata(gw).uid) }];
  const f = features(i);
  const infra = (key: 'labels' | 'annotations', fallback: Record<string, string>): Record<string, string> => {
    const fromInfra = valueAt(gw, ['spec', 'infrastructure', key]);
    if (i.release === '1.27' && isObject(fromInfra))
      return Object.fromEntries(Object.entries(stringMap(fromInfra)).filter(([k]) => !k.startsWith(`${GW_GROUP}/`)));
    return i.release === '1.20' || f.copyLabels ? { ...fallback } : {};
  };
  const gwLabels = infra('labels', labels(gw));
  const gwAnnotations = without(infra('annotations', annotations(gw)), OMITTED_ANNOTATIONS);
  const serviceType = annotations(gw)[SERVICE_TYPE] ?? 'LoadBalancer';
  const addresses = specAddresses(gw);
  const nameLabel = i.release === '1.20' ? 'istio.io/gateway-name' : `${GW_GROUP}/gateway-name`;
  const podAnnotations = {
    ...gwAnnotations,
    'istio.io/rev': i.revision || 'default',
    'prometheus.io/path': '/stats/prometheus',
    'prometheus.io/port': '15020',
    'prometheus.io/scrape': 'true',
  };
  const podLabels =
    i.release === '1.20'
      ? {
          'sidecar.istio.io/inject': 'false',
          'service.istio.io/canonical-name': deployName,
          'service.istio.io/canonical-revision': 'latest',
          'maistra-control-plane': i.namespace,
          'maistra-version': MAISTRA_VERSION,
          ...gwLabels,
          [nameLabel]: name,
        }
      : {
          'sidecar.istio.io/inject': 'false',
          'service.istio.io/canonical-name': deployName,
          'service.istio.io/canonical-revision': 'latest',
          ...gwLabels,
          [nameLabel]: name,
          [MANAGED_LABEL]: MANAGED_VALUE,
        };
  const sa: Obj = {
    apiVersion: 'v1',
    kind: 'ServiceAccount',
    metadata:
      i.release === '1.20'
        ? { name: saName, namespace: ns }
        : { name: saName, namespace: ns, annotations: gwAnnotations, labels: { ...gwLabels, [nameLabel]: name }, ownerReferences: owner },
  };
  const deployment: Obj = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: deployName,
      namespace: ns,
      annotations: gwAnnotations,
      labels:
        i.release === '1.20'
          ? { 'maistra-version': MAISTRA_VERSION, ...gwLabels }
          : { ...gwLabels, [nameLabel]: name, [MANAGED_LABEL]: MANAGED_VALUE },
      ownerReferences: owner,
    },
    spec: {
      selector: { matchLabels: { [nameLabel]: name } },
      template: {
        metadata: { annotations: podAnnotations, labels: podLabels },
        spec: {
          serviceAccountName: saName,
          containers: [
            {
              name: 'istio-proxy',
              ports: [
                { containerPort: 15021, name: 'status-port', protocol: 'TCP' },
                { containerPort: 15090, name: 'http-envoy-prom', protocol: 'TCP' },
              ],
            },
          ],
        },
      },
    },
  };
  const service: Obj = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: deployName,
      namespace: ns,
      annotations: gwAnnotations,
      labels:
        i.release === '1.20'
          ? { 'maistra-control-plane': i.namespace, 'maistra-version': MAISTRA_VERSION, ...gwLabels }
          : { ...gwLabels, [nameLabel]: name },
      ownerReferences: owner,
    },
    spec: {
      ...(i.release === '1.27' ? { ipFamilyPolicy: 'PreferDualStack' } : {}),
      ports: servicePortsOf(i, gw),
      selector: { [nameLabel]: name },
      ...(addresses.length && serviceType === 'LoadBalancer' ? { loadBalancerIP: String(addresses[0].value ?? '') } : {}),
      type: serviceType,
    },
  };
  return [sa, deployment, service];
}

/** ManagedGatewayControllerVersion (1.20.8 deploymentcontroller.go:395-419): [manage, write the annotation]. */
function controllerVersion(gw: Obj): [boolean, boolean] {
  const cur = annotations(gw)[CONTROLLER_VERSION_ANNOTATION];
  if (cur === undefined) return [true, true];
  if (!/^-?\d+$/.test(cur)) return [false, false];
  const n = Number(cur);
  if (n > CONTROLLER_VERSION) return [false, false];
  return [true, n < CONTROLLER_VERSION];
}

/**
 * configureIstioGateway + apply (1.20.8 deploymentcontroller.go:305-371, 468-503; 1.27.3 :469-571, 878-925): only a
 * managed Gateway of a class with a template; the controller-version annotation first; every object labelled
 * `gateway.istio.io/managed` and server-side applied — unless it exists without that label (canManage: 1.20.8
 * :515-531). 1.27 keeps the selector of a Deployment 1.20 created (`istio.io/gateway-name`: 1.27.3 :905-914).
 */
function deploy(cluster: Cluster, i: Istiod, gw: Obj): void {
  if (!isManaged(gw)) return;
  const [manage, writeVersion] = controllerVersion(gw);
  if (!manage) return;
  if (writeVersion)
    cluster.update(refOf(gw), GATEWAY_CONTROLLER_MANAGER, (o) => {
      metadata(o).annotations = { ...annotations(o), [CONTROLLER_VERSION_ANNOTATION]: String(CONTROLLER_VERSION) };
    });
  for (const o of render(i, gw)) {
    const meta = metadata(o);
    meta.labels = { ...obj(meta.labels), [MANAGED_LABEL]: MANAGED_VALUE };
    const live = cluster.get(refOf(o));
    if (live && labels(live)[MANAGED_LABEL] === undefined) continue;
    if (i.release === '1.27' && o.kind === 'Deployment' && live) {
      const oldSelector = obj(valueAt(live, ['spec', 'selector', 'matchLabels']));
      if (oldSelector['istio.io/gateway-name']) {
        const spec = o.spec as JsonObject;
        spec.selector = structuredClone(obj(valueAt(live, ['spec', 'selector'])));
        const podLabels = obj(valueAt(spec, ['template', 'metadata', 'labels']));
        podLabels['istio.io/gateway-name'] = String(
          valueAt(live, ['spec', 'template', 'metadata', 'labels', 'istio.io/gateway-name']) ?? '',
        );
      }
    }
    const res = cluster.apply(o, { manager: GATEWAY_CONTROLLER_MANAGER });
    if (!res.ok)
      cluster.log(`istiod-${i.revision}`, `gateway ${meta.namespace}/${String(metadata(gw).name)}: apply failed: ${res.reason}`, refOf(o));
  }
}

// ---------------------------------------------------------------------------------------------------------
// The controller
// ---------------------------------------------------------------------------------------------------------

export class IstiodController implements Controller {
  readonly name = 'istiod';
  /** Per SMCP uid: the spec of the last generation the operator reconciled (the one its istiod pods run). */
  private readonly reconciledSpecs = new Map<string, JsonObject>();
  private readonly domain: string;

  constructor(opts: IstiodOptions = {}) {
    this.domain = opts.domainSuffix ?? 'cluster.local';
  }

  /**
   * The istiods running now, Maistra's first. A Maistra istiod runs the SMCP spec of its last reconciled generation
   * (the operator writes observedGeneration once the new istiod is ready: maistra.ts), else the dump's appliedSpec.
   */
  istiods(cluster: Cluster): Istiod[] {
    const out: Istiod[] = [];
    for (const smcp of cluster.list(isKind('maistra.io', 'ServiceMeshControlPlane'))) {
      const name = String(metadata(smcp).name);
      const ns = String(metadata(smcp).namespace);
      const spec = this.runningSpec(smcp);
      if (!runningPods(cluster, ns, name, true)) continue;
      const clusterWide = spec.mode === 'ClusterWide';
      const roll = cluster.get({ group: 'maistra.io', kind: 'ServiceMeshMemberRoll', namespace: ns, name: 'default' });
      const configured = valueAt(roll, ['status', 'configuredMembers']);
      const selectors = valueAt(spec, ['meshConfig', 'discoverySelectors']);
      out.push({
        id: `maistra:${ns}/${name}`,
        release: '1.20',
        revision: name,
        namespace: ns,
        env: maistraPilotEnv(spec),
        multiTenant: !clusterWide,
        members: new Set([ns, ...(Array.isArray(configured) ? configured.map(String) : [])]),
        // util.go:104-105 (maistra/istio-operator@8143614c pkg/controller/versions): ClusterWide only.
        discoverySelectors: clusterWide && Array.isArray(selectors) ? selectors : [],
        tags: new Set([name]),
        defaultRevision: false,
      });
    }
    for (const rev of cluster.list(isKind('sailoperator.io', 'IstioRevision'))) {
      const values = obj(valueAt(rev, ['spec', 'values']));
      const revision = str(values.revision) || 'default';
      const ns = String(valueAt(rev, ['spec', 'namespace']) ?? '');
      if (!ns || !runningPods(cluster, ns, revision, false)) continue;
      const selectors = valueAt(values, ['meshConfig', 'discoverySelectors']);
      out.push({
        id: `sail:${revision}`,
        release: '1.27',
        revision,
        namespace: ns,
        env: stringMap(valueAt(values, ['pilot', 'env'])),
        multiTenant: false,
        members: new Set(),
        discoverySelectors: Array.isArray(selectors) ? selectors : [],
        ...revisionTags(cluster, revision),
      });
    }
    return out;
  }

  private runningSpec(smcp: Obj): JsonObject {
    const uid = String(metadata(smcp).uid);
    const reconciled =
      valueAt(smcp, ['status', 'observedGeneration']) === metadata(smcp).generation &&
      findCondition(smcp, 'Reconciled')?.status !== 'False';
    if (reconciled) this.reconciledSpecs.set(uid, structuredClone(obj(smcp.spec)));
    const applied = valueAt(smcp, ['status', 'appliedSpec']);
    return this.reconciledSpecs.get(uid) ?? (isObject(applied) ? applied : obj(smcp.spec));
  }

  /** Which running istiods act on a Gateway, by id. */
  reconcilers(cluster: Cluster, gw: Obj): { status: string[]; deploy: string[] } {
    const out = { status: [] as string[], deploy: [] as string[] };
    for (const i of this.istiods(cluster)) {
      if (!classController(cluster, i, String(valueAt(gw, ['spec', 'gatewayClassName']) ?? ''))) continue;
      const r = gatewayRoles(cluster, i, gw);
      if (r.status) out.status.push(i.id);
      if (r.deploy) out.deploy.push(i.id);
    }
    return out;
  }

  /** The running istiods whose deployment controller writes this Gateway's Deployment now (a managed class only). */
  deployers(cluster: Cluster, gw: Obj): string[] {
    const className = String(valueAt(gw, ['spec', 'gatewayClassName']) ?? '');
    return this.istiods(cluster)
      .filter((i) => classController(cluster, i, className) === MANAGED_CONTROLLER && gatewayRoles(cluster, i, gw).deploy)
      .map((i) => i.id);
  }

  reconcile(cluster: Cluster): void {
    const istiods = this.istiods(cluster);
    if (!istiods.length) return;
    for (const gw of cluster.list(isGateway)) {
      if (isTerminating(gw)) continue;
      for (const i of istiods) {
        const current = cluster.get(refOf(gw));
        if (!current) break;
        const controller = classController(cluster, i, String(valueAt(current, ['spec', 'gatewayClassName']) ?? ''));
        if (!controller) continue;
        const roles = gatewayRoles(cluster, i, current);
        if (roles.deploy && controller === MANAGED_CONTROLLER) deploy(cluster, i, current);
        if (!roles.status) continue;
        const latest = cluster.get(refOf(gw))!;
        if (controller === UNMANAGED_CONTROLLER) {
          if (i.release === '1.27') putStatus(cluster, latest, ISTIOD_STATUS_MANAGER, remoteStatus(cluster, latest));
        } else putStatus(cluster, latest, ISTIOD_STATUS_MANAGER, managedStatus(cluster, i, latest, this.domain));
      }
    }
  }
}
