/**
 * The caller → server flows that AuthorizationPolicies decide, read from the twin's live objects and judged by
 * lib/authz.ts (the check's MF027 judges the same on the plan: lib/check/authz-flows.ts). Callers are the running pods
 * of the mesh's namespaces (members of the SMCP, namespaces with an OSSM 3 revision or injection label, the control
 * planes' namespaces) as their SPIFFE identity `<trust domain>/ns/<namespace>/sa/<serviceAccountName>`
 * (istio/istio@1.27.3 pkg/spiffe/spiffe.go:95-111); servers are the running pods a live policy applies to. Pods are
 * grouped by the Service that selects them (a gateway's old and taken-over pods are one caller), else by identity.
 *
 * Which control plane judges a server pod: the OSSM 3 Istio when its namespace carries `istio.io/rev` and an Istio
 * exists, else the SMCP: its trust domain (SMCP spec.security.trust.domain, Istio values.meshConfig.trustDomain;
 * cluster.local unset), its aliases (SMCP techPreview.meshConfig.trustDomainAliases and security.trust.
 * additionalDomains, Istio values.meshConfig.trustDomainAliases) and its namespace as the root namespace.
 */
import { Cluster } from './cluster';
import { isObject, splitApiVersion } from './kustomize';
import { annotations, labels, metadata, Obj, valueAt } from './objects';
import { authorize, AuthzMesh, AuthzPolicy, authzPolicyOf, AuthzVerdict, presentsIdentity } from '../authz';
import { compareStrings } from '../sort';

/** A flow's verdict: the first identity and server pod it is denied for, if any. */
export interface AuthzJudgement {
  /** `Service client/curl → Service a/httpbin`. */
  readonly key: string;
  readonly denied?: { readonly identity: string; readonly pod: string; readonly verdict: AuthzVerdict };
}

/** An identity's reach to a server (for access gained): allowed or not, and the verdict. */
export interface Reach {
  readonly key: string;
  readonly identity: string;
  readonly server: string;
  readonly verdict: AuthzVerdict;
}

const group = (o: Obj) => splitApiVersion(String(o.apiVersion ?? ''))[0];
const ns = (o: Obj) => String(metadata(o).namespace ?? '');
const name = (o: Obj) => String(metadata(o).name ?? '');
const str = (v: unknown, d: string) => (typeof v === 'string' && v ? v : d);
const strings = (v: unknown) => (Array.isArray(v) ? v.map(String) : []);

function running(o: Obj): boolean {
  const phase = valueAt(o, ['status', 'phase']);
  return (
    metadata(o).deletionTimestamp === undefined &&
    phase !== 'Succeeded' &&
    phase !== 'Failed' &&
    valueAt(o, ['spec', 'hostNetwork']) !== true
  );
}

/** A running pod's proxy, as presentsIdentity (lib/authz.ts) reads it; `running()` has left host-network pods out. */
function runsProxy(pod: Obj): boolean {
  const containers = valueAt(pod, ['spec', 'containers']);
  const inject = labels(pod)['sidecar.istio.io/inject'] ?? annotations(pod)['sidecar.istio.io/inject'];
  return presentsIdentity({
    proxyContainer: Array.isArray(containers) && containers.some((c) => isObject(c) && c.name === 'istio-proxy'),
    sidecarInject: String(inject ?? ''),
    hostNetwork: false,
  });
}

interface ControlPlanes {
  readonly smcp?: AuthzMesh;
  readonly istio?: AuthzMesh;
}

function controlPlanes(cluster: Cluster): ControlPlanes {
  const smcp = cluster.list(
    (o) => o.kind === 'ServiceMeshControlPlane' && group(o) === 'maistra.io' && metadata(o).deletionTimestamp === undefined,
  )[0];
  const istio = cluster.list((o) => o.kind === 'Istio' && group(o) === 'sailoperator.io')[0];
  return {
    ...(smcp
      ? {
          smcp: {
            rootNamespace: ns(smcp),
            trustDomain: str(valueAt(smcp, ['spec', 'security', 'trust', 'domain']), 'cluster.local'),
            trustDomainAliases: [
              ...strings(valueAt(smcp, ['spec', 'techPreview', 'meshConfig', 'trustDomainAliases'])),
              ...strings(valueAt(smcp, ['spec', 'security', 'trust', 'additionalDomains'])),
            ],
            flavour: 'maistra',
          },
        }
      : {}),
    ...(istio
      ? {
          istio: {
            rootNamespace: str(valueAt(istio, ['spec', 'namespace']), 'istio-system'),
            trustDomain: str(valueAt(istio, ['spec', 'values', 'meshConfig', 'trustDomain']), 'cluster.local'),
            trustDomainAliases: strings(valueAt(istio, ['spec', 'values', 'meshConfig', 'trustDomainAliases'])),
            flavour: 'istio',
          },
        }
      : {}),
  };
}

/** The running pods of the mesh's namespaces, each with its identity and its caller key. */
function meshPods(cluster: Cluster, planes: ControlPlanes): { pod: Obj; identity: string; key: string; mesh: AuthzMesh; proxy: boolean }[] {
  const nsLabels = new Map<string, Record<string, string>>();
  const labelsOf = (n: string) => {
    let l = nsLabels.get(n);
    if (!l) {
      const o = cluster.get({ group: '', kind: 'Namespace', namespace: '', name: n });
      nsLabels.set(n, (l = o ? labels(o) : {}));
    }
    return l;
  };
  const roots = new Set([planes.smcp?.rootNamespace, planes.istio?.rootNamespace].filter((x): x is string => !!x));
  const inMesh = (n: string) => {
    const l = labelsOf(n);
    return roots.has(n) || 'maistra.io/member-of' in l || 'istio.io/rev' in l || l['istio-injection'] === 'enabled';
  };
  const services = cluster.list((o) => o.kind === 'Service' && group(o) === '' && metadata(o).deletionTimestamp === undefined);
  const out: { pod: Obj; identity: string; key: string; mesh: AuthzMesh; proxy: boolean }[] = [];
  for (const pod of cluster.list((o) => o.kind === 'Pod' && group(o) === '' && running(o) && inMesh(ns(o)))) {
    const m = planes.istio && ('istio.io/rev' in labelsOf(ns(pod)) || !planes.smcp) ? planes.istio : planes.smcp!;
    const identity = `${m.trustDomain}/ns/${ns(pod)}/sa/${str(valueAt(pod, ['spec', 'serviceAccountName']), 'default')}`;
    const l = labels(pod);
    const svc = services
      .filter((s) => ns(s) === ns(pod))
      .filter((s) => {
        const sel = valueAt(s, ['spec', 'selector']);
        return isObject(sel) && Object.keys(sel).length > 0 && Object.entries(sel).every(([k, v]) => l[k] === v);
      })
      .map(name)
      .sort(compareStrings)[0];
    out.push({ pod, identity, key: svc ? `Service ${ns(pod)}/${svc}` : identity, mesh: m, proxy: runsProxy(pod) });
  }
  return out;
}

/** Every caller → server flow and every identity's reach, judged through the live AuthorizationPolicies. */
export function judgeAuthz(cluster: Cluster): { flows: Map<string, AuthzJudgement>; reach: Map<string, Reach> } {
  const flows = new Map<string, AuthzJudgement>();
  const reach = new Map<string, Reach>();
  const policies = cluster
    .list((o) => o.kind === 'AuthorizationPolicy' && group(o) === 'security.istio.io' && metadata(o).deletionTimestamp === undefined)
    .map((o) => authzPolicyOf(o))
    .filter((p): p is AuthzPolicy => p !== undefined);
  const planes = controlPlanes(cluster);
  if (!policies.length || (!planes.smcp && !planes.istio)) return { flows, reach };
  const pods = meshPods(cluster, planes);
  const targets = pods.filter((p) => policies.some((ap) => ap.namespace === ns(p.pod) || ap.namespace === p.mesh.rootNamespace));
  // Access gained is judged for identities some pod presents through a proxy (runsProxy); flows for every caller.
  const proxied = new Set(pods.filter((p) => p.proxy).map((p) => p.identity));
  const callers = new Map<string, Set<string>>();
  for (const p of pods) (callers.get(p.key) ?? callers.set(p.key, new Set()).get(p.key)!).add(p.identity);
  const seenTarget = new Set<string>();
  for (const t of targets) {
    const target = { namespace: ns(t.pod), labels: labels(t.pod) };
    const dedupe = `${t.key}|${JSON.stringify(target)}`;
    if (seenTarget.has(dedupe)) continue;
    seenTarget.add(dedupe);
    for (const [callerKey, ids] of callers) {
      if (callerKey === t.key) continue;
      const key = `${callerKey} → ${t.key}`;
      for (const identity of [...ids].sort(compareStrings)) {
        const verdict = authorize(policies, target, { principal: identity }, t.mesh);
        const rk = `${identity} → ${t.key}`;
        const prev = reach.get(rk);
        if (proxied.has(identity) && (!prev || verdict.outcome === 'denied')) reach.set(rk, { key: rk, identity, server: t.key, verdict });
        if (verdict.outcome === 'denied' && !flows.get(key)?.denied)
          flows.set(key, { key, denied: { identity, pod: `${ns(t.pod)}/${name(t.pod)}`, verdict } });
        else if (!flows.has(key)) flows.set(key, { key });
      }
    }
  }
  return { flows, reach };
}

/** What the watch saw during one move, through AuthorizationPolicies. */
export interface AuthzBreak {
  readonly kind: 'denied' | 'gained';
  readonly key: string;
  /** Virtual seconds since the move started when it was first seen. */
  readonly at: number;
  readonly identity: string;
  readonly why: string;
  readonly policies: string[];
}

/** The breaks between two judgements: flows allowed before and denied now; identities denied before and reaching now. */
export function authzBreaks(
  before: ReturnType<typeof judgeAuthz>,
  now: ReturnType<typeof judgeAuthz>,
  at: number,
  declared: ReadonlySet<string>,
): AuthzBreak[] {
  const out: AuthzBreak[] = [];
  for (const [key, j] of now.flows) {
    const was = before.flows.get(key);
    if (!j.denied || !was || was.denied) continue;
    out.push({
      kind: 'denied',
      key,
      at,
      identity: j.denied.identity,
      policies: j.denied.verdict.policies,
      why: `${key}: ${j.denied.identity} is denied at pod ${j.denied.pod} (${j.denied.verdict.why}); it was allowed before this move.`,
    });
  }
  for (const [key, r] of now.reach) {
    const was = before.reach.get(key);
    if (r.verdict.outcome === 'denied' || !was || was.verdict.outcome !== 'denied') continue;
    if (declared.has(r.identity.split('/').slice(1).join('/'))) continue;
    out.push({
      kind: 'gained',
      key,
      at,
      identity: r.identity,
      policies: r.verdict.policies,
      why: `${r.identity} reaches ${r.server} (${r.verdict.why}), though it was denied before this move: an identity gains access.`,
    });
  }
  return out;
}
