import { CheckContext } from './context';
import { Finding } from './finding';
import { writtenPhases } from './pitfalls';
import { memoFamily, PhaseState } from './state';
import { isObject, Json, JsonObject, mergeJson, valueAt } from '../json';
import { Mesh } from '../model/types';
import { BUILTIN_PROVIDERS, isolatedNamespaces, providerNames, smcpPosture } from '../plan/control-plane';
import { istioValues } from '../plan/istio-values';

/** What a control plane enforces and provides, as far as the migration could weaken it. */
interface Posture {
  readonly name: string;
  readonly mtls: 'STRICT' | 'PERMISSIVE';
  readonly outboundPolicy: string;
  readonly providers: string[];
  readonly replicas: number;
  readonly cpu: number;
  readonly memory: number;
}

/** A Kubernetes quantity as a number (cores, bytes); NaN when unreadable. */
export function quantity(q: Json | undefined): number {
  const m = /^([0-9.]+)([a-zA-Z]*)$/.exec(String(q ?? ''));
  if (!m) return NaN;
  const units: Record<string, number> = { '': 1, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, Ti: 1024 ** 4 };
  return m[2] in units ? Number(m[1]) * units[m[2]] : NaN;
}

/** The SMCP's effective spec with the merge patches so far, per mesh. */
const SMCP_SPEC = memoFamily<Mesh, JsonObject>({ withPatches: true });

/**
 * The SMCP settings at a phase: the effective spec with every SMCP merge patch applied so far (computed
 * once per state; MF015 and MF019 both read it).
 */
export function smcpSpecAt(mesh: Mesh, state: PhaseState): JsonObject {
  return state.memo(SMCP_SPEC, mesh, () => {
    let spec = mesh.controlPlane.effective;
    for (const p of state.patches)
      if (p.type === 'merge' && p.target.kind === 'ServiceMeshControlPlane' && isObject(p.patch.spec)) spec = mergeJson(spec, p.patch.spec);
    return spec;
  });
}

/** The weakest mesh-wide mode in a root namespace (Istio uses the oldest PeerAuthentication; meshfed cannot know which). */
function weakest(modes: ('STRICT' | 'PERMISSIVE')[]): 'STRICT' | 'PERMISSIVE' {
  return modes.length && modes.every((m) => m === 'STRICT') ? 'STRICT' : 'PERMISSIVE';
}

function smcpPostureAt(mesh: Mesh, state: PhaseState): Posture | undefined {
  const cp = mesh.controlPlane;
  if (!state.has('ServiceMeshControlPlane', cp.name, cp.namespace)) return undefined;
  const spec = smcpSpecAt(mesh, state);
  const p = smcpPosture(mesh, spec);
  const pas = state.of('meshPeerAuthentication').filter((r) => r.ref.namespace === cp.namespace);
  const pilot = (path: string) => valueAt(spec, `runtime.components.pilot.${path}`);
  // Unset, the 2.6 chart autoscales from one replica (the small profile turns it off, appliedSpec shows it);
  // requests as the small profile: 10m / 128Mi (maistra/istio-operator v2.6 smcp-templates/small).
  const autoscale = pilot('deployment.autoScaling.enabled') !== false;
  return {
    name: `the SMCP ${cp.name}`,
    mtls: weakest([p.mtls, ...pas.map((r) => r.mode)]),
    outboundPolicy: p.outboundPolicy,
    providers: [...providerNames(valueAt(spec, 'meshConfig')), ...providerNames(valueAt(spec, 'techPreview.meshConfig'))],
    replicas: Number((autoscale ? pilot('deployment.autoScaling.minReplicas') : pilot('deployment.replicas')) ?? 1),
    cpu: quantity(pilot('container.resources.requests.cpu') ?? '10m'),
    memory: quantity(pilot('container.resources.requests.memory') ?? '128Mi'),
  };
}

function istioPostureAt(state: PhaseState): Posture | undefined {
  const istio = state.of('istio')[0];
  if (!istio) return undefined;
  const values = istioValues(istio);
  const pas = state.of('meshPeerAuthentication').filter((r) => r.ref.namespace === istio.namespace);
  const v = (path: string) => valueAt(values, path);
  // The 1.27 istiod chart: autoscaling 1–5, 500m / 2048Mi (manifests/charts/istio-control/istio-discovery/values.yaml:4-24).
  const autoscale = v('pilot.autoscaleEnabled') !== false;
  return {
    name: `the Istio ${istio.ref.name}`,
    mtls: weakest(pas.map((r) => r.mode)),
    outboundPolicy: String(v('meshConfig.outboundTrafficPolicy.mode') ?? 'ALLOW_ANY'),
    providers: [...BUILTIN_PROVIDERS, ...providerNames(v('meshConfig'))],
    replicas: Number((autoscale ? v('pilot.autoscaleMin') : v('pilot.replicaCount')) ?? 1),
    cpu: quantity(v('pilot.resources.requests.cpu') ?? '500m'),
    memory: quantity(v('pilot.resources.requests.memory') ?? '2048Mi'),
  };
}

/** Namespaces isolated by NetworkPolicies at a phase: by the operator while it manages them, or by meshfed's. */
function isolatedAt(mesh: Mesh, state: PhaseState): Set<string> {
  const cp = mesh.controlPlane;
  const operator =
    state.has('ServiceMeshControlPlane', cp.name, cp.namespace) && smcpPosture(mesh, smcpSpecAt(mesh, state)).manageNetworkPolicy;
  const own = new Set(
    state
      .of('networkPolicy')
      .filter((r) => r.ref.name === 'meshfed-mesh')
      .map((r) => r.ref.namespace!),
  );
  return new Set(isolatedNamespaces(mesh).filter((ns) => operator || own.has(ns)));
}

/** What is weaker in `now` than in `before`, by aspect (empty when nothing is). */
function weaker(before: Posture, now: Posture): [string, string][] {
  const out: [string, string][] = [];
  if (before.mtls === 'STRICT' && now.mtls !== 'STRICT') out.push(['mtls', 'mesh-wide mTLS is PERMISSIVE instead of STRICT']);
  if (before.outboundPolicy === 'REGISTRY_ONLY' && now.outboundPolicy !== 'REGISTRY_ONLY')
    out.push(['outbound', `outbound traffic is ${now.outboundPolicy} instead of REGISTRY_ONLY`]);
  const lost = before.providers.filter((p) => !now.providers.includes(p));
  if (lost.length) out.push(['providers', `extension provider(s) ${lost.join(', ')} are not defined`]);
  if (now.replicas < before.replicas) out.push(['replicas', `istiod runs ${now.replicas} replica(s) instead of ${before.replicas}`]);
  if (!(now.cpu >= before.cpu)) out.push(['cpu', `istiod requests ${now.cpu} CPU instead of at least ${before.cpu}`]);
  if (!(now.memory >= before.memory))
    out.push(['memory', `istiod requests ${now.memory} bytes of memory instead of at least ${before.memory}`]);
  return out;
}

/**
 * MF015 nothing regresses: in every phase the gates allow, each control plane that may serve the
 * cluster's proxies (the SMCP until 07 deletes it, the OSSM 3 Istio from 05) enforces at least what the
 * SMCP enforced at 00 — mesh-wide mTLS mode, outbound policy, the extension providers Telemetry names,
 * istiod capacity — and every namespace Maistra isolated stays isolated. Reports the first phase of each.
 */
export function checkNoRegression(c: CheckContext): Finding[] {
  const out: Finding[] = [];
  const seen = new Set<string>();
  for (const { mesh, phasePlan, state } of writtenPhases(c)) {
    if (mesh.settings.mode === 'greenfield' || phasePlan.phase === '00-federation') continue;
    const before = smcpPostureAt(mesh, c.states.get(mesh.cluster, '00-federation'));
    if (!before) continue;
    const report = (key: string, problem: string, fix: string) => {
      if (seen.has(`${mesh.cluster}/${key}`)) return;
      seen.add(`${mesh.cluster}/${key}`);
      out.push({ rule: 'MF015', severity: 'error', cluster: mesh.cluster, phase: phasePlan.phase, problem, fix });
    };
    for (const now of [smcpPostureAt(mesh, state), istioPostureAt(state)]) {
      if (!now) continue;
      for (const [aspect, w] of weaker(before, now))
        report(
          `${now.name}/${aspect}`,
          `${now.name}: ${w}; at 00-federation the SMCP enforced more.`,
          'meshfed must carry the setting (docs/control-plane.md); report this as a meshfed bug, or set it in the SMCP.',
        );
    }
    if (!mesh.settings.networkPolicies.render) continue;
    const was = isolatedAt(mesh, c.states.get(mesh.cluster, '00-federation'));
    const is = isolatedAt(mesh, state);
    const opened = [...was].filter((ns) => !is.has(ns));
    if (opened.length)
      report(
        'isolation',
        `namespace(s) ${opened.join(', ')} lose the NetworkPolicy isolation Maistra gave them: any pod in the cluster can connect.`,
        'Render the meshfed NetworkPolicies (spec.networkPolicies.render), or set it false if the cluster manages its own.',
      );
  }
  return out;
}
