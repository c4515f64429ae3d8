/**
 * OpenShift's ingress as GitOps observes it:
 * - the route host allocation of the API server (a Route created without `spec.host` gets `<name>-<namespace>.<apps
 *   domain>`), and the default IngressController's router, which admits Routes and records it in
 *   `status.ingress[]` (routerName `default`, condition Admitted) — what Argo CD's bundled Route health reads;
 * - the cloud provider's service controller, which gives a LoadBalancer Service its `status.loadBalancer.ingress`
 *   — what Istio reports as a Gateway's address and Argo CD's Service health waits for.
 *
 * Sources: openshift/router@4b401a86 pkg/router/controller/{unique_host.go, hostindex/activation.go, host_admitter.go,
 * status.go}, pkg/router/routeapihelpers/helper.go, pkg/cmd/infra/router/{template.go, router.go};
 * openshift/api@2a3d7391 route/v1/types.go. The cluster-ingress-operator's router Deployment
 * (ROUTER_SERVICE_NAME = the IngressController's name, ROUTER_CANONICAL_HOSTNAME = `router-<name>.<domain>`) and
 * openshift-apiserver's host allocation (pkg/route/apiserver/allocation/simple/plugin.go GenerateHostname:
 * `<name, dots as dashes>-<namespace>.<suffix>`) were read through the code index, by function.
 *
 * Not modelled: router sharding (namespace/route selectors), wildcard routes (the default IngressController refuses
 * them), TLS certificate validation (ExtendedValidator), route endpoints and HAProxy. The load balancer is
 * provisioned on the first tick after the Service asks for it; `addressOf` decides the address or leaves it pending.
 */
import { Json, JsonObject } from '../../load/yaml-source';
import { compareStrings } from '../../sort';
import { Cluster, Controller } from '../cluster';
import { isObject, splitApiVersion } from '../kustomize';
import { annotations, metadata, Obj, refOf, valueAt } from '../objects';
import { isTerminating } from './kube';

export const ROUTER_MANAGER = 'openshift-router';
const APISERVER = 'openshift-apiserver';
/** openshift-apiserver's route strategy marks an allocated host (the dumps carry it: `openshift.io/host.generated`). */
const HOST_GENERATED = 'openshift.io/host.generated';

export interface RouterOptions {
  /**
   * The router's name in route status (`--name`/ROUTER_SERVICE_NAME: pkg/cmd/infra/router/router.go:90), which the
   * ingress operator sets to the IngressController's name: `default` for the default one.
   */
  readonly routerName?: string;
  /**
   * The apps domain (`*.apps.<cluster domain>`) allocated hosts end with. Default: learned from a Route whose host
   * was generated (`<name>-<namespace>.<domain>`), else `apps.cluster.example` (inference).
   */
  readonly appsDomain?: string;
}

const obj = (v: Json | undefined): JsonObject => (isObject(v) ? v : {});
const isRoute = (o: Obj) => o.kind === 'Route' && splitApiVersion(String(o.apiVersion ?? ''))[0] === 'route.openshift.io';

/** GenerateHostname (openshift-apiserver pkg/route/apiserver/allocation/simple/plugin.go): `<name>-<namespace>.<suffix>`. */
function generatedPrefix(route: Obj): string {
  return `${String(metadata(route).name).replace(/\./g, '-')}-${String(metadata(route).namespace)}.`;
}

/** RFC 1123 subdomain whose labels are RFC 1123 labels (unique_host.go:277-299 ValidateHostName). */
function hostErrors(host: string): string[] {
  const errs: string[] = [];
  if (host.length > 253 || !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/.test(host))
    errs.push(`spec.host: Invalid value: "${host}": host must conform to DNS 952 subdomain conventions`);
  for (const label of host.split('.'))
    if (label.length > 63) errs.push(`spec.host: Invalid value: "${host}": must be no more than 63 characters`);
  return errs;
}

/** RouteLessThan (routeapihelpers/helper.go:9-19): older creationTimestamp first, then the smaller uid. */
function routeLessThan(a: Obj, b: Obj): boolean {
  const ta = Number(metadata(a).creationTimestamp ?? 0);
  const tb = Number(metadata(b).creationTimestamp ?? 0);
  if (ta !== tb) return ta < tb;
  return compareStrings(String(metadata(a).uid ?? ''), String(metadata(b).uid ?? '')) < 0;
}

const path = (r: Obj) => String(valueAt(r, ['spec', 'path']) ?? '');
const termination = (r: Obj) => valueAt(r, ['spec', 'tls', 'termination']);

/** hasExistingMatch (hostindex/activation.go:123-136): the same path, or a passthrough route beside another TLS route. */
function conflicts(admitted: readonly Obj[], r: Obj): boolean {
  return admitted.some(
    (a) =>
      path(a) === path(r) ||
      (termination(a) !== undefined &&
        termination(r) !== undefined &&
        (termination(a) === 'passthrough' || termination(r) === 'passthrough')),
  );
}

interface Verdict {
  readonly admitted: boolean;
  readonly reason?: string;
  readonly message?: string;
}

/**
 * The steady state of the router's host index for one host (hostindex/activation.go:43-106 SameNamespace, the
 * default: unique_host.go:48-52): in age order, the oldest route claims the host for its namespace; a route is
 * admitted when it is from that namespace and no admitted route has its path. A displaced route is told who holds
 * the host (unique_host.go:217-238: the newest admitted route with its path, else the newest admitted one).
 */
function admitHost(routes: Obj[]): Map<Obj, Verdict> {
  const sorted = [...routes].sort((a, b) => (routeLessThan(a, b) ? -1 : routeLessThan(b, a) ? 1 : 0));
  const owner = String(metadata(sorted[0]).namespace);
  const admitted: Obj[] = [];
  const out = new Map<Obj, Verdict>();
  for (const r of sorted) {
    if (String(metadata(r).namespace) === owner && !conflicts(admitted, r)) {
      admitted.push(r);
      out.set(r, { admitted: true });
    }
  }
  const newestFirst = [...admitted].reverse();
  for (const r of sorted) {
    if (out.has(r)) continue;
    const holder = newestFirst.find((a) => path(a) === path(r)) ?? newestFirst[0];
    const host = String(valueAt(r, ['spec', 'host']));
    out.set(r, {
      admitted: false,
      reason: 'HostAlreadyClaimed',
      message:
        String(metadata(holder).namespace) === String(metadata(r).namespace)
          ? `route ${String(metadata(holder).name)} already exposes ${host} and is older`
          : `a route in another namespace holds ${host} and is older than ${String(metadata(r).name)}`,
    });
  }
  return out;
}

/** The router's admission of one route before host uniqueness (host_admitter.go:122-135 with router.go:176-195). */
function admissionError(r: Obj): Verdict | undefined {
  const host = String(valueAt(r, ['spec', 'host']) ?? '');
  // openshift/api@2a3d7391 route/v1/types.go:156-157: wildcardPolicy defaults to None.
  const wildcard = String(valueAt(r, ['spec', 'wildcardPolicy']) ?? 'None');
  if (wildcard === 'Subdomain') return { admitted: false, reason: 'RouteNotAdmitted', message: 'wildcard routes are not allowed' };
  if (wildcard !== 'None') return { admitted: false, reason: 'RouteNotAdmitted', message: `unknown wildcard policy ${wildcard}` };
  // unique_host.go:99-119.
  if (!host) return { admitted: false, reason: 'NoHostValue', message: 'no host value was defined for the route' };
  const errs = hostErrors(host);
  if (errs.length) return { admitted: false, reason: 'InvalidHost', message: `host name validation errors: ${errs.join(', ')}` };
  return undefined;
}

export class OpenShiftRouter implements Controller {
  readonly name = 'router';
  private readonly routerName: string;

  constructor(private readonly opts: RouterOptions = {}) {
    this.routerName = opts.routerName ?? 'default';
  }

  /** The apps domain: the option, else learned from a generated host, else the placeholder. */
  appsDomain(cluster: Cluster): string {
    if (this.opts.appsDomain) return this.opts.appsDomain;
    for (const r of cluster.list(isRoute)) {
      const host = String(valueAt(r, ['spec', 'host']) ?? '');
      const prefix = generatedPrefix(r);
      if (annotations(r)[HOST_GENERATED] === 'true' && host.startsWith(prefix) && host.length > prefix.length)
        return host.slice(prefix.length);
    }
    return 'apps.cluster.example';
  }

  reconcile(cluster: Cluster): void {
    const routes = cluster.list(isRoute).filter((r) => !isTerminating(r));
    if (!routes.length) return;
    const domain = this.appsDomain(cluster);
    for (const r of routes) if (!valueAt(r, ['spec', 'host'])) this.allocateHost(cluster, r, domain);
    const current = cluster.list(isRoute).filter((r) => !isTerminating(r));
    const verdicts = new Map<Obj, Verdict>();
    const byHost = new Map<string, Obj[]>();
    for (const r of current) {
      const refused = admissionError(r);
      if (refused) verdicts.set(r, refused);
      else {
        const host = String(valueAt(r, ['spec', 'host']));
        byHost.set(host, [...(byHost.get(host) ?? []), r]);
      }
    }
    for (const group of byHost.values()) for (const [r, v] of admitHost(group)) verdicts.set(r, v);
    // ROUTER_CANONICAL_HOSTNAME = "router-" + ingresscontroller name + "." + domain (cluster-ingress-operator).
    const canonical = `router-${this.routerName}.${domain}`;
    for (const [r, v] of verdicts) this.record(cluster, r, v, canonical);
  }

  /** The API server allocates a host for a Route created without one (inference: done on the router's first look). */
  private allocateHost(cluster: Cluster, r: Obj, domain: string): void {
    cluster.update(refOf(r), APISERVER, (o) => {
      o.spec = { ...obj(o.spec), host: `${generatedPrefix(o)}${domain}` };
      metadata(o).annotations = { ...annotations(o), [HOST_GENERATED]: 'true' };
    });
  }

  /**
   * recordIngressCondition (status.go:326-388): this router's entry in `status.ingress` (openshift/api route/v1/types.go:
   * 362-375, conditions :392-406) carries the route's host and wildcard policy and the Admitted condition; it is
   * rewritten (lastTransitionTime = now) only when one of them changed. Other routers' entries stay.
   */
  private record(cluster: Cluster, r: Obj, v: Verdict, canonical: string): void {
    const condition: JsonObject = { type: 'Admitted', status: v.admitted ? 'True' : 'False' };
    if (v.reason) condition.reason = v.reason;
    if (v.message) condition.message = v.message;
    const host = String(valueAt(r, ['spec', 'host']) ?? '');
    const wildcardPolicy = String(valueAt(r, ['spec', 'wildcardPolicy']) ?? 'None');
    const ingress = Array.isArray(valueAt(r, ['status', 'ingress'])) ? (valueAt(r, ['status', 'ingress']) as Json[]).filter(isObject) : [];
    const mine = ingress.find((x) => x.routerName === this.routerName);
    const conds = Array.isArray(mine?.conditions) ? mine.conditions.filter(isObject) : [];
    const existing = conds.find((c) => c.type === 'Admitted');
    const same =
      mine &&
      mine.host === host &&
      mine.wildcardPolicy === wildcardPolicy &&
      mine.routerCanonicalHostname === canonical &&
      existing &&
      existing.status === condition.status &&
      existing.reason === condition.reason &&
      existing.message === condition.message;
    if (same) return;
    const entry: JsonObject = {
      host,
      routerName: this.routerName,
      conditions: existing
        ? conds.map((c) => (c === existing ? { ...condition, lastTransitionTime: cluster.now } : c))
        : [...conds, { ...condition, lastTransitionTime: cluster.now }],
      wildcardPolicy,
      routerCanonicalHostname: canonical,
    };
    const next = mine ? ingress.map((x) => (x === mine ? entry : x)) : [...ingress, entry];
    cluster.update(refOf(r), ROUTER_MANAGER, (o) => void (o.status = { ...obj(o.status), ingress: next }));
  }
}

// ---------------------------------------------------------------------------------------------------------
// Cloud load balancers
// ---------------------------------------------------------------------------------------------------------

/** One entry of `status.loadBalancer.ingress`. */
export type LoadBalancerIngress = { readonly ip: string } | { readonly hostname: string };

export interface LoadBalancerOptions {
  /**
   * The address the cloud gives a LoadBalancer Service; undefined leaves it pending (no load balancer support, e.g.
   * bare metal without MetalLB). Default: `spec.loadBalancerIP` when set, else 203.0.113.<n> in creation order.
   */
  readonly addressOf?: (svc: Obj, next: () => LoadBalancerIngress) => LoadBalancerIngress | undefined;
}

const BLOCK = '203.0.113.';

/**
 * The cloud provider's service controller (k8s.io/cloud-provider controllers/service: EnsureLoadBalancer, then the
 * Service's status.loadBalancer.ingress; inference at this granularity): a LoadBalancer Service gets an ingress, a
 * Service that stops being LoadBalancer loses it.
 */
export class LoadBalancerController implements Controller {
  readonly name = 'cloud-load-balancers';

  constructor(private readonly opts: LoadBalancerOptions = {}) {}

  reconcile(cluster: Cluster): void {
    const services = cluster.list((o) => o.kind === 'Service' && o.apiVersion === 'v1' && !isTerminating(o));
    for (const svc of services) {
      const ingress = valueAt(svc, ['status', 'loadBalancer', 'ingress']);
      const has = Array.isArray(ingress) && ingress.length > 0;
      if (valueAt(svc, ['spec', 'type']) !== 'LoadBalancer') {
        if (has) cluster.update(refOf(svc), 'service-controller', (o) => void (o.status = { ...obj(o.status), loadBalancer: {} }));
        continue;
      }
      if (has) continue;
      const address = this.addressFor(cluster, svc);
      if (address)
        cluster.update(
          refOf(svc),
          'service-controller',
          (o) => void (o.status = { ...obj(o.status), loadBalancer: { ingress: [address] } }),
        );
    }
  }

  private addressFor(cluster: Cluster, svc: Obj): LoadBalancerIngress | undefined {
    const next = (): LoadBalancerIngress => {
      // The next address of the block never handed out before (a cloned cluster continues it; a re-created Service moves).
      let max = 0;
      for (const s of cluster.list((o) => o.kind === 'Service' && o.apiVersion === 'v1')) {
        const lb = valueAt(s, ['status', 'loadBalancer', 'ingress']);
        for (const x of Array.isArray(lb) ? lb.filter(isObject) : [])
          if (typeof x.ip === 'string' && x.ip.startsWith(BLOCK)) max = Math.max(max, Number(x.ip.slice(BLOCK.length)));
      }
      return { ip: `${BLOCK}${cluster.next('load-balancer-address', max)}` };
    };
    if (this.opts.addressOf) return this.opts.addressOf(svc, next);
    const requested = valueAt(svc, ['spec', 'loadBalancerIP']);
    return typeof requested === 'string' && requested ? { ip: requested } : next();
  }
}
