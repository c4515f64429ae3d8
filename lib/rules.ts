/**
 * Every rule meshfed reports, once: `meshfed check`'s findings and the warnings synth gives while it reads
 * the input (lib/diagnostics.ts `warn` takes a RuleId). An unknown id does not compile (RuleId),
 * docs/rules.md has a section per id with the same severity and its summary table is generated from here
 * (npm run docs), and lib/check/index.ts must map every id that is not `input` to its check function.
 * test/rules.test.ts keeps all four in step. A leaf: it imports nothing, so every layer may name a rule.
 */
export type Severity = 'error' | 'warning';

export interface RuleSpec {
  /** The severities its findings and warnings may have (most rules have one). */
  readonly severities: readonly Severity[];
  /** A few words, for the table in docs/rules.md. */
  readonly title: string;
  /** One line: what the rule reports. */
  readonly summary: string;
  /** Reported only while the input is read (load, model, plan warnings), by no check function. @default false */
  readonly input?: true;
}

export const RULES = {
  MF001: {
    severities: ['error', 'warning'],
    title: 'continuity',
    summary: 'a hostname a client reaches today is lost in some state the gates allow',
  },
  MF002: { severities: ['warning'], title: 'gateway identity', summary: 'an AuthorizationPolicy names the federation ingress gateway' },
  MF003: {
    severities: ['error', 'warning'],
    title: 'exposure',
    summary: 'a service becomes reachable by a peer it was not exported to; enforcement that would widen access',
  },
  MF004: {
    severities: ['error', 'warning'],
    title: 'user configuration',
    summary: 'user VirtualServices, DestinationRules, ServiceEntries and spec.verify URLs that name hosts the cluster does not have',
  },
  MF005: { severities: ['error'], title: 'network names', summary: 'an istio-remote Gateway or WorkloadEntry on the wrong network' },
  MF006: { severities: ['error'], title: 'tlsMode label', summary: 'an imported WorkloadEntry without security.istio.io/tlsMode: istio' },
  MF007: {
    severities: ['error'],
    title: 'served API versions',
    summary: 'an object written in a version the OSSM 2.6 CRDs do not serve yet',
  },
  MF008: {
    severities: ['error'],
    title: 'Gateway API TLS listener',
    summary: 'an OSSM 3 istiod that would refuse the east-west or egress Gateway listener',
  },
  MF009: {
    severities: ['error'],
    title: 'exporter ServiceEntry visibility',
    summary: 'defaultServiceExportTo hides exporter ServiceEntries from the gateway',
  },
  MF010: {
    severities: ['warning'],
    title: 'multi-port exports',
    summary: 'a multi-port export, or a joined local Service lacking exported ports, whose cross-mesh behaviour changes at 03-import',
  },
  MF011: {
    severities: ['error'],
    title: 'Sail scope',
    summary: "an Istio or IstioCNI rendered with a namespace; a MultiTenant SMCP's OSSM 3 istiod not scoped to exactly its namespaces",
  },
  MF012: { severities: ['error'], title: 'DNS capture', summary: 'OSSM 3 proxies that cannot resolve imported hostnames' },
  MF013: { severities: ['warning'], title: 'input drift', summary: 'the live ESS/ISS status disagrees with the model' },
  MF014: {
    severities: ['error'],
    title: 'live continuity',
    summary: 'a render drops an import or export the live ESS/ISS status lists, without spec.intendedRemovals',
  },
  MF015: {
    severities: ['error'],
    title: 'nothing regresses',
    summary: 'a state the gates allow enforces less than 00: mTLS, outbound policy, isolation, providers, istiod capacity',
  },
  MF016: {
    severities: ['error', 'warning'],
    title: 'premigration',
    summary: 'what migration-checker.sh checks: addons, tracing, SMCP gateways and IOR, ServiceEntry limits, the appliedSpec',
  },
  MF017: {
    severities: ['error', 'warning'],
    title: 'lost settings',
    summary: 'SMCP settings OSSM 3 cannot carry or meshfed does not know; selectors and providers that stop resolving',
  },
  MF018: { severities: ['warning'], title: 'protocol sniffing', summary: 'a member Service port OSSM 3 sniffs where OSSM 2.6 did not' },
  MF019: {
    severities: ['error'],
    title: 'north-south continuity',
    summary: 'an SMCP gateway Service, Route or identity without pods, pruned, changed, or no longer matching the Gateways that select it',
  },
  MF020: {
    severities: ['warning'],
    title: 'incomplete dumps',
    summary: 'an object the dumps refer to but lack (a Namespace, the member roll, a CA ConfigMap), so it is left out',
    input: true,
  },
  MF021: {
    severities: ['warning'],
    title: 'ignored configuration',
    summary: 'configuration Maistra (or meshfed) ignores or that does nothing: skipped rules, unpaired sets, one-sided peers',
    input: true,
  },
  MF022: {
    severities: ['error', 'warning'],
    title: 'peer roots',
    summary: "a peer's root-cert.pem that is not the root its CA ConfigMap holds, an error once OSSM 3 trusts the file",
  },
  MF023: {
    severities: ['warning'],
    title: 'east-west address',
    summary: "an east-west address and port that are the federation ingress gateway's, or not known yet (greenfield)",
    input: true,
  },
  MF024: {
    severities: ['warning'],
    title: 'GitOps ownership',
    summary: 'a dumped object another Argo CD application or Flux Kustomization tracks, which meshfed adopts too',
    input: true,
  },
  MF025: {
    severities: ['warning'],
    title: 'exporter identities',
    summary: 'an exported service whose pods have no known service account, or several, so imports pin its identity loosely',
    input: true,
  },
  MF026: {
    severities: ['warning'],
    title: 'workload restarts',
    summary:
      "a member's pods the restart Jobs cannot restart: DeploymentConfigs, Rollouts, CronJobs, bare Jobs and pods, OnDelete, partitions, " +
      'paused Deployments; a pod 06 injects for the first time',
  },
  MF027: {
    severities: ['error'],
    title: 'flows through NetworkPolicies and AuthorizationPolicies',
    summary:
      'a flow that works at 00 (router to gateways and consoles, monitoring, webhooks, callers to servers) or that meshfed renders, ' +
      'denied by a NetworkPolicy or an AuthorizationPolicy; an identity that gains access it did not have at 00',
  },
  MF028: {
    severities: ['error'],
    title: 'imports visible to gateways',
    summary: 'a VirtualService on an SMCP gateway routes to an imported host its ServiceEntry does not export to that namespace',
  },
  MF029: {
    severities: ['error', 'warning'],
    title: 'co-ownership',
    summary:
      'an object meshfed patches or adopts after 00 that another Argo CD application or Flux Kustomization tracks (refused until ' +
      'handed over and acknowledged with a reason); one it restarts (a warning)',
  },
} as const satisfies Record<string, RuleSpec>;

export type RuleId = keyof typeof RULES;

export const RULE_IDS = Object.keys(RULES).sort() as RuleId[];

/** The rules a check function reports (every rule not marked `input`). */
export type CheckRuleId = { [K in RuleId]: (typeof RULES)[K] extends { readonly input: true } ? never : K }[RuleId];

export const CHECK_RULE_IDS = RULE_IDS.filter((id) => !('input' in RULES[id])) as CheckRuleId[];
