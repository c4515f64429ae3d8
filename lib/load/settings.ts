import { isIP } from 'net';

import Ajv, { ErrorObject } from 'ajv';

import { IstioSpecVersion } from '../../imports/sail-istio-sailoperator.io';
import * as schema from '../../schema/cluster-settings.schema.json';
import { Diagnostics } from '../diagnostics';
import { RULE_IDS, RuleId, RULES } from '../rules';
import { ClusterSettingsFile, ClusterSettingsSpec } from './settings-types';
import { SourceObject } from './yaml-source';
import { PhaseId } from '../phases';

/**
 * The types of lib/load/settings-types.ts (generated from schema/cluster-settings.schema.json by `npm run docs`)
 * with every object field read-only, as the model and the planners share them; lists stay lists.
 */
type Frozen<T> = T extends (infer U)[] ? Frozen<U>[] : T extends object ? { readonly [K in keyof T]: Frozen<T[K]> } : T;

/**
 * clusters/<cluster>/cluster.yaml after validation: its spec with the schema's defaults filled in (the fields
 * of `ClusterSettingsSpec`, nothing else) and where it came from. Defaults that depend on OSSM 2 (the SMCP
 * namespace, the member namespaces) are applied in the model. (metadata.name is the folder's name,
 * LoadedCluster.name.)
 */
export type ClusterSettings = Frozen<Omit<ClusterSettingsSpec, 'phase' | 'acknowledge'>> & {
  /** The phase GitOps applies now (spec.phase); a greenfield cluster's one overlay is `multicluster`. */
  readonly phase: PhaseId;
  /** Rules whose warnings on this cluster were read and accepted (spec.acknowledge, each a rule that warns). */
  readonly acknowledge: RuleId[];
  /** Where the settings came from, for diagnostics that point into them. */
  readonly source: SourceObject;
};

/** A spec as written in cluster.yaml (what the schema accepts). */
export type WrittenSpec = ClusterSettingsFile['spec'];

// validateSchema off: the schema is meshfed's own file, checked against JSON Schema's meta-schema by
// test/process.test.ts; compiling the meta-schema on every start cost about 50 ms (docs/benchmarks.md).
const ajv = new Ajv({ allErrors: true, strict: false, validateSchema: false });
const validate = ajv.compile(schema);

/** What a section validator reads: the settings as written (the schema accepted them), where they are, the folder. */
interface Written {
  readonly src: SourceObject;
  readonly name: string;
  readonly spec: WrittenSpec;
  readonly folderName: string;
  readonly diags: Diagnostics;
}

/**
 * What the schema cannot say, one validator per section of cluster.yaml: each reports its errors (naming the
 * field and the fix) and returns whether there were none. All run, so one synth lists every problem.
 */
const SECTIONS: readonly ((w: Written) => boolean)[] = [
  checkMetadata,
  checkEastWestGateway,
  checkWorkloadRestart,
  checkMode,
  checkAcknowledge,
  checkOssm3,
];

/** Validate one cluster.yaml object; reports every violation with its line. */
export function parseSettings(src: SourceObject, folderName: string, diags: Diagnostics): ClusterSettings | undefined {
  if (!validate(src.value)) {
    for (const e of dedupe(validate.errors ?? [])) reportSchemaError(src, e, diags);
    return undefined;
  }
  const file = src.value as unknown as ClusterSettingsFile;
  const written: Written = { src, name: file.metadata.name, spec: file.spec, folderName, diags };
  const ok = SECTIONS.map((check) => check(written)).every(Boolean);
  return ok ? settingsFrom(file.spec, src) : undefined;
}

/**
 * The settings of a spec: a copy with every `default` of the schema filled in (`withDefaults`), the phase of
 * a greenfield cluster, and the object they came from. The virtual clusters of peer bundles come through here too.
 */
export function settingsFrom(spec: WrittenSpec, source: SourceObject): ClusterSettings {
  const s = withDefaults(SPEC_SCHEMA, spec) as ClusterSettingsSpec;
  return { ...s, phase: s.mode === 'greenfield' ? 'multicluster' : s.phase, acknowledge: s.acknowledge as RuleId[], source };
}

/** The parts of a schema node `withDefaults` walks. */
interface SchemaNode {
  readonly default?: unknown;
  readonly properties?: Readonly<Record<string, SchemaNode>>;
  readonly items?: SchemaNode;
}

/** The schema of spec, whose `default` keywords are the defaults (docs/input.md shows the same keywords). */
const SPEC_SCHEMA = (schema as unknown as { properties: { spec: SchemaNode } }).properties.spec;

/**
 * `value` with every missing property that has a `default` in `node` set to a copy of it, in objects and
 * list items at any depth (a default object gets its own properties' defaults). `value` is not changed.
 * ajv's `useDefaults` does the same only while validating a cluster.yaml; the virtual clusters of peer
 * bundles are no cluster.yaml.
 */
function withDefaults(node: SchemaNode, value: unknown): unknown {
  if (Array.isArray(value)) return node.items ? value.map((v) => withDefaults(node.items!, v)) : value;
  if (value === null || typeof value !== 'object' || !node.properties) return value;
  const out: Record<string, unknown> = { ...value };
  for (const [key, child] of Object.entries(node.properties)) {
    if (out[key] === undefined && child.default !== undefined) out[key] = structuredClone(child.default);
    if (out[key] !== undefined) out[key] = withDefaults(child, out[key]);
  }
  return out;
}

function checkMetadata({ src, name, folderName, diags }: Written): boolean {
  if (name === folderName) return true;
  diags.error(
    src.at(['metadata', 'name']),
    `metadata.name is "${name}" but the folder is "${folderName}".`,
    `They must be equal (the name is used as dist/${folderName}/): rename the folder or set metadata.name: ${folderName}.`,
  );
  return false;
}

/** The gateway's addresses are bare hosts; a nodePort needs type NodePort. */
function checkEastWestGateway({ src, spec, diags }: Written): boolean {
  const address = spec.eastWestGateway?.address;
  let ok = true;
  [address ?? []].flat().forEach((a, i) => {
    const why = addressProblem(a);
    if (why === undefined) return;
    ok = false;
    diags.error(
      src.at(Array.isArray(address) ? ['spec', 'eastWestGateway', 'address', i] : ['spec', 'eastWestGateway', 'address']),
      `"${a}" is not an address peers can use: ${why}.`,
      'Give an IPv4 or IPv6 address or a DNS name only (the port is 15443, or spec.eastWestGateway.service.nodePort with type NodePort).',
    );
  });
  const svc = spec.eastWestGateway?.service;
  if (svc?.nodePort !== undefined && svc.type !== 'NodePort') {
    ok = false;
    diags.error(
      src.at(['spec', 'eastWestGateway', 'service', 'nodePort']),
      'nodePort is only used with type: NodePort.',
      'Set spec.eastWestGateway.service.type: NodePort, or remove nodePort.',
    );
  }
  return ok;
}

/** A hook Job runs exactly the image that was reviewed: pinned by digest or a release tag. */
function checkWorkloadRestart({ src, spec, diags }: Written): boolean {
  const image = spec.workloadRestart?.image;
  const why = image === undefined ? undefined : imageProblem(image);
  if (!why) return true;
  diags.error(
    src.at(['spec', 'workloadRestart', 'image']),
    `"${image}" ${why}: a hook Job must run exactly the image that was reviewed.`,
    'Pin it by digest (image@sha256:…) or by a release tag (image:4.19), an image with /bin/sh and kubectl.',
  );
  return false;
}

/** Fields only one mode reads: trustDomain and hostnameScheme are greenfield's (trustDomain required there), phase migration's. */
function checkMode({ src, spec, diags }: Written): boolean {
  const mode = spec.mode ?? 'migration';
  const onlyGreenfield = (['trustDomain', 'hostnameScheme'] as const).filter((k) => mode !== 'greenfield' && spec[k] !== undefined);
  for (const k of onlyGreenfield) {
    diags.error(
      src.at(['spec', k]),
      `${k} is only read with mode: greenfield.`,
      k === 'trustDomain'
        ? 'A migrated mesh keeps the trust domain of its ServiceMeshControlPlane: remove the field.'
        : 'Remove the field, or set spec.mode: greenfield.',
    );
  }
  const noTrustDomain = mode === 'greenfield' && !spec.trustDomain;
  if (noTrustDomain)
    diags.error(
      src.at(['spec', 'mode']),
      'mode: greenfield needs spec.trustDomain.',
      'Set spec.trustDomain to the trust domain this mesh will use (each mesh its own).',
    );
  const phase = mode === 'greenfield' && spec.phase !== undefined;
  if (phase)
    diags.error(src.at(['spec', 'phase']), 'a greenfield cluster has one overlay (multicluster), no phases.', 'Remove spec.phase.');
  return !onlyGreenfield.length && !noTrustDomain && !phase;
}

/** The Sail operator CRDs meshfed renders for must offer the version. */
function checkOssm3({ src, spec, diags }: Written): boolean {
  const versions = Object.values(IstioSpecVersion).filter((x) => /^v\d+\.\d+\.\d+$/.test(x));
  if (versions.includes(spec.ossm3.version as IstioSpecVersion)) return true;
  diags.error(
    src.at(['spec', 'ossm3', 'version']),
    `the Sail operator CRDs meshfed renders for do not offer Istio ${spec.ossm3.version}.`,
    `Use one of ${versions[versions.length - 1]} … ${versions[0]} (the guide uses v1.27.3).`,
  );
  return false;
}

/**
 * spec.acknowledge names rules whose warnings may be silenced: an id that is no rule, or a rule that only
 * reports errors (never silenced), would look acknowledged and silence nothing.
 */
function checkAcknowledge({ src, spec, diags }: Written): boolean {
  let ok = true;
  (spec.acknowledge ?? []).forEach((id, i) => {
    const rule = (RULES as Record<string, { severities: readonly string[] }>)[id];
    if (rule?.severities.includes('warning')) return;
    ok = false;
    diags.error(
      src.at(['spec', 'acknowledge', i]),
      rule ? `${id} reports only errors, and errors are never acknowledged.` : `${id} is not a meshfed rule.`,
      rule
        ? `Remove it from spec.acknowledge and fix what it reports (docs/rules.md#${id.toLowerCase()}).`
        : `Use one of the rules docs/rules.md lists (${RULE_IDS[0]}…${RULE_IDS[RULE_IDS.length - 1]}), as warnings name them.`,
    );
  });
  const listed = new Set(spec.acknowledge ?? []);
  for (const id of Object.keys(spec.acknowledgeReasons ?? {}).filter((x) => !listed.has(x))) {
    ok = false;
    diags.error(
      src.at(['spec', 'acknowledgeReasons', id]),
      `spec.acknowledgeReasons gives a reason for ${id}, which spec.acknowledge does not list: it would accept nothing.`,
      `Add ${id} to spec.acknowledge, or remove the reason.`,
    );
  }
  // MF029 turns a refusal into a pass: the runbook must say who owns the co-owned objects now (docs/rules.md#mf029).
  const i = (spec.acknowledge ?? []).indexOf('MF029');
  if (i >= 0 && !spec.acknowledgeReasons?.MF029) {
    ok = false;
    diags.error(
      src.at(['spec', 'acknowledge', i]),
      'spec.acknowledge lists MF029 without a reason: MF029 refuses to change objects another Argo CD application or Flux ' +
        'Kustomization tracks until they are handed over, and acknowledging it says the hand-off is done.',
      'Add spec.acknowledgeReasons.MF029: "<what was handed over, and how>" (the runbook prints it), after doing the hand-off ' +
        'the MF029 finding names (docs/rules.md#mf029).',
    );
  }
  return ok;
}

/** Why a hook Job image reference is not pinned (undefined when it is: a digest, or a tag other than latest). */
export function imageProblem(image: string): string | undefined {
  if (/@sha256:[0-9a-f]{64}$/.test(image)) return undefined;
  const last = image.slice(image.lastIndexOf('/') + 1);
  if (!last.includes(':')) return 'has no tag or digest (it would pull the mutable latest)';
  if (last.endsWith(':latest')) return 'is tagged latest, which is mutable';
  return undefined;
}

const DNS_NAME = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Why an east-west gateway address is not an IP or a DNS-1123 name (undefined when it is). */
export function addressProblem(address: string): string | undefined {
  if (isIP(address)) return undefined;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(address)) return 'it has a scheme (an address is a bare host)';
  if (/^\[.*\](:\d+)?$/.test(address) || /^[^:]+:\d+$/.test(address)) return 'it has a port';
  if (address !== address.toLowerCase() && DNS_NAME.test(address.toLowerCase())) return 'a DNS name is lower-case';
  if (!DNS_NAME.test(address)) return 'it is neither an IP address nor a DNS-1123 name';
  return undefined;
}

/** Ajv reports an `enum`/`const` failure and its parent `anyOf`/`if` noise; keep one error per path. */
function dedupe(errors: ErrorObject[]): ErrorObject[] {
  const seen = new Set<string>();
  return errors.filter((e) => {
    const key = `${e.instancePath}|${e.keyword}|${JSON.stringify(e.params)}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function reportSchemaError(src: SourceObject, e: ErrorObject, diags: Diagnostics): void {
  const path = e.instancePath
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
  switch (e.keyword) {
    case 'additionalProperties': {
      const field = [...path, (e.params as { additionalProperty: string }).additionalProperty];
      const allowed = allowedFields(path);
      diags.error(
        src.at(field),
        'unknown field.',
        allowed.length ? `Allowed fields here: ${allowed.join(', ')}. Fix the spelling or remove the field.` : 'Remove the field.',
      );
      return;
    }
    case 'required': {
      const missing = (e.params as { missingProperty: string }).missingProperty;
      diags.error(
        src.at([...path, missing]),
        'required field is missing.',
        `Set ${[...path, missing].join('.')} (see docs/input.md, "cluster.yaml").`,
      );
      return;
    }
    case 'const':
      diags.error(src.at(path), `must be ${JSON.stringify((e.params as { allowedValue: unknown }).allowedValue)}.`);
      return;
    case 'enum':
      diags.error(src.at(path), `must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.join(', ')}.`);
      return;
    case 'pattern':
      diags.error(src.at(path), `value does not have the expected form (${describePattern(path)}).`);
      return;
    default:
      diags.error(src.at(path), `${e.message ?? 'is invalid'}.`);
  }
}

function describePattern(path: (string | number)[]): string {
  const last = path[path.length - 1];
  if (last === 'version') return 'an exact version such as v1.27.3';
  if (last === 'network' || (path[0] === 'spec' && path[1] === 'remoteNetworks'))
    return 'letters, digits, "-", "_", "." and at most 63 characters';
  return 'a DNS label: lower-case letters, digits and "-", at most 63 characters';
}

/** The property names the schema allows at a path, for "did you mean" hints. */
function allowedFields(path: (string | number)[]): string[] {
  let node: { properties?: Record<string, unknown> } | undefined = schema as unknown as { properties?: Record<string, unknown> };
  for (const seg of path) {
    node = node?.properties?.[seg as string] as typeof node;
  }
  return node?.properties ? Object.keys(node.properties).sort() : [];
}
