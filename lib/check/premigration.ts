import { CheckContext } from './context';
import { Finding } from './finding';
import { Json, valueAt } from '../json';
import { writtenPhases } from './pitfalls';
import { istioProtocol } from '../model/protocol';
import { Mesh } from '../model/types';
import { BUILTIN_PROVIDERS, providerNames, smcpAccount } from '../plan/control-plane';
import { istioValues } from '../plan/istio-values';
import { smcpGateways } from '../plan/north-south';
import { SAIL_VALUES_RELEASE, undeclaredPaths } from '../plan/sail-values';
import { at, SettingFate } from '../plan/smcp-settings';

/** Maistra's own kinds, which select on maistra.io/member-of by design. */
const MAISTRA_KINDS = new Set(['ServiceMeshControlPlane', 'ServiceMeshMemberRoll', 'ServiceMeshMember', 'Namespace']);

/** Clusters whose SMCP meshfed migrates (greenfield clusters and peer bundles have none to check). */
function migrating(c: CheckContext): Mesh[] {
  return c.model.meshes.filter((m) => m.settings.mode !== 'greenfield' && !m.virtual);
}

/** Loss at 07: an error once the cluster's pointer is there (the render would delete it), a warning before. */
function at07(mesh: Mesh): 'error' | 'warning' {
  return mesh.settings.phase === '07-finalize' ? 'error' : 'warning';
}

function smcpLocation(mesh: Mesh, path: string) {
  const cp = mesh.controlPlane;
  const root = cp.effectiveFrom === 'status.appliedSpec' ? ['status', 'appliedSpec'] : ['spec'];
  const segs = path.split('.');
  // Point at the deepest field the dump has (a default has no line of its own).
  for (let n = segs.length; n >= 0; n--) {
    if (valueAt(cp.effective, segs.slice(0, n).join('.')) !== undefined || n === 0) return cp.source.at([...root, ...segs.slice(0, n)]);
  }
  return cp.source.at(root);
}

/**
 * What replaces each SMCP addon in OSSM 3: openshift-service-mesh/sail-operator@fd6516dc docs/ossm/
 * ossm2-migration/README.md:108-139 (Kiali), ossm2-vs-ossm3.md:128-146, and the quickstart
 * docs/ossm/quickstarts/ossm3-kiali-tempo-bookinfo/resources/ (Monitoring/: the ServiceMonitor and PodMonitor; TempoOtel/).
 */
const ADDONS: Record<string, string> = {
  prometheus:
    'OpenShift user-workload monitoring: a ServiceMonitor for istiod (port http-monitoring) and a PodMonitor ' +
    'for the proxies (/stats/prometheus) in every mesh namespace',
  kiali: 'a standalone Kiali CR (version: default) from the Kiali operator, pointed at the OSSM 3 istiod',
  grafana: 'no addon (Grafana is unsupported in OSSM 3): use the OpenShift console dashboards or your own Grafana',
  jaeger: 'Tempo (TempoStack) or an OpenTelemetry collector, with an extensionProviders entry and a Telemetry',
};

/** The addons meshfed replaces itself when spec.observability asks (lib/plan/control-plane.ts planObservability). */
function replacedBy(mesh: Mesh, name: string): string | undefined {
  const o = mesh.settings.observability;
  if (name === 'prometheus' && o.monitors)
    return 'ServiceMonitor istiod-monitor and a PodMonitor istio-proxies-monitor per mesh namespace (user-workload monitoring must be enabled)';
  if (name === 'kiali' && o.kiali) return 'Kiali kiali-ossm3';
  return undefined;
}

/** The addons meshfed can replace, and the setting that asks it to. */
const RENDERABLE: Record<string, string> = {
  prometheus: ' (or set spec.observability.monitors: true in its cluster.yaml: meshfed renders it in 05)',
  kiali: ' (or set spec.observability.kiali: true in its cluster.yaml: meshfed renders it in 05)',
};

/**
 * What the OSSM 2 operator removes when the setting turns an addon off: the objects its previous render
 * created. Its pruner runs on every reconcile and deletes what it labelled for an older generation
 * (maistra/istio-operator@8143614c pkg/controller/servicemesh/controlplane/pruner.go:80-86, 227); the
 * Kiali and Jaeger CRs are named by addons.<x>.name, `kiali` and `jaeger` in the 2.6 base profile
 * (maistra/istio-operator@50c4306e resources/smcp-templates/v2.6/base).
 */
function addonRemoval(mesh: Mesh, name: string): string {
  return `the OSSM 2 operator's next reconcile prunes ${removedObjects(mesh, name)}`;
}

function removedObjects(mesh: Mesh, name: string): string {
  const cr = (addon: string) => String(valueAt(mesh.controlPlane.effective, `addons.${addon}.name`) ?? addon);
  const ns = mesh.controlPlane.namespace;
  switch (name) {
    case 'kiali':
      return `its Kiali CR ${ns}/${cr('kiali')} (the Kiali operator then removes that console)`;
    case 'jaeger':
      return `its Jaeger CR ${ns}/${cr('jaeger')}, and istiod stops configuring Jaeger tracing`;
    case 'prometheus':
      return `its Prometheus Deployment, Route and configuration in ${ns}`;
    default:
      return `its ${name} Deployment and Route in ${ns}`;
  }
}

/**
 * How to change an SMCP setting once GitOps owns the SMCP. meshfed adopts the SMCP in 00-federation from
 * its dump's spec (lib/plan/phase-00-federation.ts; status is stripped), every later phase builds on 00 and
 * only patches it, so the dump's spec is the one place to change it: an `oc edit` on the cluster is
 * reverted by the next sync (Argo CD selfHeal, Flux's reconcile). MF016 reads status.appliedSpec (what the
 * operator applied), so the finding goes once the SMCP is dumped again after the sync.
 */
function smcpChange(mesh: Mesh, setting: string, effect: string): string {
  const cp = mesh.controlPlane;
  const file = cp.source.file;
  const smcp = `ServiceMeshControlPlane ${cp.namespace}/${cp.name}`;
  const redump = `dump the SMCP again with its status into ${file} (oc get smcp ${cp.name} -n ${cp.namespace} -o yaml)`;
  const [path, value] = setting.split(': ');
  if (valueAt(cp.rendered, path) === parseScalar(value))
    return (
      `${file} already sets ${setting} in ${smcp}, which 00-federation renders: once GitOps has synced ${mesh.cluster}'s ` +
      `current phase (${mesh.settings.phase}) and ${effect}, ${redump}: status.appliedSpec, which this check reads, still shows ` +
      'the old value.'
    );
  return (
    `Change it in Git, not on the cluster (GitOps owns the SMCP since 00-federation and reverts an oc edit): in ${file}, set ` +
    `${setting} in ${smcp} (under spec, not status), then synth and commit. 00-federation renders that spec, and every later ` +
    `phase builds on it, so the next sync of ${mesh.cluster}'s current phase (${mesh.settings.phase}; no pointer move) applies ` +
    `it: ${effect}. Then ${redump}, so status.appliedSpec shows it off.`
  );
}

function parseScalar(v: string): Json {
  return v === 'false' ? false : v === 'true' ? true : v;
}

function addonFinding(mesh: Mesh, f: SettingFate): Finding {
  const addon = f.path.split('.')[1];
  const setting = f.path === 'tracing.type' ? 'spec.tracing.type: None' : `spec.addons.${addon}.enabled: false`;
  const name = f.path === 'tracing.type' ? 'jaeger' : addon;
  const own = replacedBy(mesh, name);
  const change = smcpChange(mesh, setting, addonRemoval(mesh, name));
  return {
    rule: 'MF016',
    severity: own ? 'warning' : at07(mesh),
    cluster: mesh.cluster,
    phase: '07-finalize',
    location: smcpLocation(mesh, f.path),
    problem:
      `the SMCP runs the ${name} addon${f.source === 'default' ? ' (a 2.6 profile default)' : ''}; 07 deletes it with the SMCP. ` +
      (own ? `meshfed renders its replacement in 05: ${own}.` : `In OSSM 3: ${ADDONS[name] ?? 'a separately installed component'}.`),
    fix: own
      ? `Once the replacement works (05) and before 07, turn the addon off. ${change}`
      : `Before 07: install the replacement${RENDERABLE[name] ?? ''}, then turn the addon off. ${change}`,
  };
}

function gatewayFinding(mesh: Mesh, f: SettingFate): Finding {
  const ior = f.path === 'gateways.openshiftRoute';
  const name = ior
    ? 'IOR'
    : f.path.replace(/^gateways\.(additional(Ingress|Egress)\.)?/, '').replace(/^(ingress|egress)$/, 'istio-$1gateway');
  const gw = smcpGateways(mesh).find((g) => g.path === f.path);
  return {
    rule: 'MF016',
    severity: at07(mesh),
    cluster: mesh.cluster,
    phase: '07-finalize',
    location: smcpLocation(mesh, f.path),
    problem: ior
      ? `IOR is on${f.source === 'default' ? ' (an SMCP created before 2.5)' : ''}: its Routes outlive the SMCP but point at the ` +
        'gateway Service 07 deletes.'
      : `the SMCP runs gateway ${name}${f.source === 'default' ? ' (a 2.6 default)' : ''}; 07 deletes its Deployment, Service ` +
        'and Route: north-south traffic through it stops.',
    fix: ior
      ? 'Export the IOR Routes (oc get route -A -l maistra.io/generated-by=ior) as plain Routes, then turn IOR off. ' +
        smcpChange(mesh, 'spec.gateways.openshiftRoute.enabled: false', 'IOR stops creating Routes (it never deletes the ones it made)')
      : `meshfed takes an SMCP gateway over in 06 once the dumps hold its Service: dump it (oc get svc,deploy,route -n ` +
        `${gw?.namespace ?? mesh.controlPlane.namespace} -o yaml, docs/north-south.md). Or move it to gateway injection yourself ` +
        `(a Deployment you own, Red Hat "Migrating gateways") and turn it off before 07. ` +
        smcpChange(mesh, `spec.${f.path}.enabled: false`, "the OSSM 2 operator's next reconcile prunes its Deployment, Service and Route"),
  };
}

/**
 * MF016 premigration: what Red Hat's migration-checker.sh checks (sail-operator docs/ossm/ossm2-migration/
 * migration-checker.sh:156-206), statically and on the effective settings rather than spec only: addons,
 * tracing, SMCP gateways and IOR (all deleted at 07), the OSSM 3 ServiceEntry limits, and a dump without
 * status.appliedSpec.
 */
export function checkPremigration(c: CheckContext): Finding[] {
  const out: Finding[] = [];
  for (const mesh of migrating(c)) {
    const cp = mesh.controlPlane;
    for (const f of smcpAccount(mesh).fates) {
      if (f.fate !== 'lost') continue;
      if (f.path.startsWith('addons.') || f.path === 'tracing.type') out.push(addonFinding(mesh, f));
      else if (f.path.startsWith('gateways.')) out.push(gatewayFinding(mesh, f));
    }
    if (cp.effectiveFrom === 'spec')
      out.push({
        rule: 'MF016',
        severity: 'warning',
        cluster: mesh.cluster,
        location: cp.source.at(['spec']),
        problem: 'the SMCP dump has no status.appliedSpec: meshfed assumed the 2.6 profile defaults for every field spec leaves out.',
        fix: 'Dump it with its status: oc get smcp -n <namespace> -o yaml (not --show-managed-fields=false edits or spec-only exports).',
      });
    // The Istio ≥ 1.24 ServiceEntry schema (sail-operator docs ossm2-migration/README.md:30-44).
    for (const se of mesh.inventory.serviceEntries) {
      const why = se.hosts.length > 256 ? `has ${se.hosts.length} hosts (at most 256)` : se.ports.length === 0 ? 'has no ports' : undefined;
      if (!why) continue;
      out.push({
        rule: 'MF016',
        severity: 'error',
        cluster: mesh.cluster,
        location: se.source.at(['spec', se.hosts.length > 256 ? 'hosts' : 'ports']),
        problem: `ServiceEntry ${se.namespace}/${se.name} ${why}: the OSSM 3 CRDs reject it, and the operator install fails.`,
        fix: 'Split it into ServiceEntries of at most 256 hosts, or give it its ports, before 05-install-ossm3.',
      });
    }
  }
  return out;
}

/**
 * MF017 lost settings: SMCP settings whose behaviour OSSM 3 cannot give (lost), that meshfed has no
 * rule for (unknown), and settings that would break once Maistra's labels go: discoverySelectors on
 * maistra.io/member-of, Telemetry objects naming providers OSSM 3 does not define, cert-manager's
 * istio-csr revisions.
 */
export function checkLostSettings(c: CheckContext): Finding[] {
  const out: Finding[] = checkIstioValues(c);
  for (const mesh of migrating(c)) {
    const base = { rule: 'MF017', cluster: mesh.cluster } as const;
    const account = smcpAccount(mesh);
    out.push(...account.fates.flatMap((f) => fateFinding(mesh, f)));
    const selectors = JSON.stringify(valueAt(account.values, 'meshConfig.discoverySelectors') ?? []);
    if (selectors.includes('maistra.io/member-of'))
      out.push({
        ...base,
        severity: 'error',
        location: smcpLocation(mesh, 'meshConfig.discoverySelectors'),
        problem: 'meshConfig.discoverySelectors selects on maistra.io/member-of, which 07 removes: OSSM 3 would then discover nothing.',
        fix: 'Select on a label of your own (or istio.io/rev) that every member and the control-plane namespace carry.',
      });
    // Anything else that selects on the label 07 removes (user NetworkPolicies, PodMonitors, admission policies…).
    for (const o of mesh.inventory.objects) {
      if (MAISTRA_KINDS.has(o.kind) || o.value.metadata === undefined) continue;
      const labels = (valueAt(o.value, 'metadata.labels') ?? {}) as Record<string, unknown>;
      if ('maistra.io/owner' in labels || !JSON.stringify(o.value.spec ?? {}).includes('"maistra.io/member-of"')) continue;
      out.push({
        ...base,
        severity: 'error',
        phase: '07-finalize',
        location: o.at(['spec']),
        problem:
          `${o.kind} ${o.namespace ? `${o.namespace}/` : ''}${o.name} selects on maistra.io/member-of, ` +
          'which 07 removes from every namespace: it stops matching.',
        fix: 'Select on a label of your own (or istio.io/rev, which 06 sets) before 07.',
      });
    }
    const defined = new Set([...BUILTIN_PROVIDERS, ...providerNames(valueAt(account.values, 'meshConfig'))]);
    for (const t of mesh.inventory.objects.filter((o) => o.apiVersion.startsWith('telemetry.istio.io/') && o.kind === 'Telemetry')) {
      const names = referencedProviders(t.value.spec ?? null).filter((n) => !defined.has(n));
      for (const n of [...new Set(names)])
        out.push({
          ...base,
          severity: 'error',
          location: t.at(['spec']),
          problem:
            `Telemetry ${t.namespace}/${t.name} names provider ${n}, which the OSSM 3 Istio does not define: ` +
            'its metrics, traces or logs stop.',
          fix: `Define ${n} in the SMCP's spec.meshConfig.extensionProviders (meshfed carries them), or change the Telemetry.`,
        });
    }
    if (valueAt(mesh.controlPlane.effective, 'security.certificateAuthority.type') === 'cert-manager')
      out.push({
        ...base,
        severity: 'warning',
        phase: '05-install-ossm3',
        location: smcpLocation(mesh, 'security.certificateAuthority'),
        problem:
          `the CA is cert-manager (istio-csr): istiod ${mesh.ossm3.revision} gets no certificates unless istio-csr serves its revision, and a ` +
          'configmapNamespaceSelector on maistra.io/member-of stops matching at 07.',
        fix: `Before 05: add ${mesh.ossm3.revision} to istio-csr's app.istio.revisions; move its namespace selector off maistra.io/member-of.`,
      });
  }
  return out;
}

/** MF017 on one setting: unknown to meshfed, undeclared by the Sail Istio, or lost (addons, gateways and tracing are MF016's). */
function fateFinding(mesh: Mesh, f: SettingFate): Finding[] {
  const base = { rule: 'MF017', cluster: mesh.cluster, location: smcpLocation(mesh, f.path) } as const;
  if (f.undeclared) return [{ ...base, severity: 'warning', ...undeclaredSetting(f) }];
  if (f.fate === 'unknown')
    return [
      {
        ...base,
        severity: 'warning',
        problem: `spec.${f.path} is not a setting meshfed knows: it is not carried to OSSM 3.`,
        fix: 'Find its OSSM 3 equivalent (docs/control-plane.md) and set it in the Istio by hand, or remove it from the SMCP.',
      },
    ];
  if (f.fate === 'lost' && !/^(addons\.|gateways\.|tracing\.type$)/.test(f.path))
    return [
      {
        ...base,
        severity: at07(mesh),
        phase: '07-finalize',
        problem: `spec.${f.path}: ${f.why}`,
        fix: 'Replace it before 07, then remove it from the SMCP and dump it again.',
      },
    ];
  return [];
}

/** An SMCP setting whose OSSM 3 target the Sail Istio does not declare: what is left out, and where it may belong. */
function undeclaredSetting(f: SettingFate): Pick<Finding, 'problem' | 'fix'> {
  const paths = f.undeclared!;
  const hints = paths.flatMap((p) => {
    const alt = declaredElsewhere(p);
    return alt ? [`spec.values.${alt} is the Sail field for spec.values.${p}`] : [];
  });
  return {
    problem:
      `spec.${f.path} would become spec.values.${paths.join(', spec.values.')} of the Istio, which the Sail Istio ` +
      `(${SAIL_VALUES_RELEASE} CRD) does not declare: meshfed leaves it out (the API server would prune it, or refuse the ` +
      'Istio under strict field validation and 05-install-ossm3 would not sync), so OSSM 3 runs without it.',
    fix:
      (hints.length ? `${hints.join('; ')}: set it there in the SMCP (spec.techPreview.<section>). ` : '') +
      `Find the OSSM 3 field for spec.${f.path} (docs/control-plane.md, the Sail Istio's spec.values) and set it where meshfed ` +
      `carries it, or remove it from the SMCP; then dump the SMCP again. Acknowledge MF017 if OSSM 3 does not need it.`,
  };
}

/**
 * The same setting under another section of spec.values: `pilot.priorityClassName` is `global.priorityClassName`
 * (the charts read a few pod settings from global only). Undefined when no section declares it.
 */
function declaredElsewhere(path: string): string | undefined {
  const [section, ...rest] = path.split('.');
  if (!rest.length) return undefined;
  const tail = rest.join('.');
  return ['global', 'pilot', 'meshConfig', 'meshConfig.defaultConfig', 'sidecarInjectorWebhook']
    .filter((s) => s !== section)
    .map((s) => `${s}.${tail}`)
    .find((p) => undeclaredPaths(at(p, true)).length === 0);
}

/**
 * MF017 on the plan: every spec.values path of a rendered Istio is a field the Sail Istio declares. The SMCP's
 * settings are checked as they are carried (above); this catches a wrong target in meshfed's own table or values.
 */
export function checkIstioValues(c: CheckContext): Finding[] {
  return writtenPhases(c).flatMap(({ mesh, phasePlan }) =>
    phasePlan.adds.flatMap((r) => {
      if (r.type !== 'istio') return [];
      const paths = undeclaredPaths(istioValues(r));
      return paths.map((p): Finding => ({
        rule: 'MF017',
        severity: 'error',
        cluster: mesh.cluster,
        phase: phasePlan.phase,
        problem:
          `the Istio ${r.ref.name} sets spec.values.${p}, which the Sail Istio (${SAIL_VALUES_RELEASE} CRD) does not declare: ` +
          'the API server prunes it (the setting is lost) or, under strict field validation, refuses the Istio and the phase does not sync.',
        fix: 'A meshfed bug (a wrong target in lib/plan/smcp-settings.ts or lib/plan/istio-values.ts): report it; acknowledge nothing.',
      }));
    }),
  );
}

/** Provider names a Telemetry spec references (tracing, metrics, accessLogging). */
function referencedProviders(spec: Json): string[] {
  const out: string[] = [];
  for (const section of ['tracing', 'metrics', 'accessLogging']) {
    const list = valueAt(spec, section);
    if (!Array.isArray(list)) continue;
    for (const item of list) {
      const providers = valueAt(item, 'providers');
      if (Array.isArray(providers))
        for (const p of providers) if (typeof valueAt(p, 'name') === 'string') out.push(String(valueAt(p, 'name')));
    }
  }
  return out;
}

/**
 * MF018 protocol sniffing: OSSM 2.6 does not sniff (proxy.networking.protocol.autoDetect false in the
 * base profile), OSSM 3 always does (istio/istio#46217 removed the flags): a Service port in a member
 * namespace whose protocol Istio cannot tell from its name or appProtocol changes behaviour at 06.
 */
export function checkProtocolSniffing(c: CheckContext): Finding[] {
  const out: Finding[] = [];
  for (const mesh of migrating(c)) {
    const sniffing = valueAt(mesh.controlPlane.effective, 'proxy.networking.protocol.autoDetect');
    if (valueAt(sniffing, 'inbound') === true && valueAt(sniffing, 'outbound') === true) continue;
    const members = new Set(mesh.memberNamespaces);
    // Gateways route by their Istio Gateway servers' protocols, not by their Service ports.
    const gatewayServices = new Set(smcpGateways(mesh).map((g) => `${g.namespace}/${g.name}`));
    for (const s of mesh.inventory.services.filter((x) => members.has(x.namespace) && !gatewayServices.has(`${x.namespace}/${x.name}`))) {
      const unnamed = s.ports.filter((p) => istioProtocol(p.port, p.name, p.protocol, p.appProtocol) === undefined);
      if (unnamed.length === 0) continue;
      out.push({
        rule: 'MF018',
        severity: 'warning',
        cluster: mesh.cluster,
        phase: '06-migrate-workloads',
        location: s.source.at(['spec', 'ports']),
        problem:
          `Service ${s.namespace}/${s.name} port(s) ${unnamed.map((p) => p.name ?? p.port).join(', ')} name no protocol: OSSM 2.6 treats ` +
          'them as TCP, OSSM 3 sniffs them (HTTP routing and policy start to apply; server-first protocols wait for the sniff timeout).',
        fix: 'Name each port <protocol>[-suffix] (tcp-, http-, grpc-…) or set appProtocol before 06.',
      });
    }
  }
  return out;
}
