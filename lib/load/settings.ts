import { isIP } from 'net';

import Ajv, { ErrorObject } from 'ajv';

import { IstioSpecVersion } from '../../imports/sail-istio-sailoperator.io';
import * as schema from '../../schema/cluster-settings.schema.json';
import { Diagnostics } from '../diagnostics';
import { RULE_IDS, RuleId, RULES } from '../rules';
import { SourceObject } from './yaml-source';
import { PhaseId } from '../phases';

/** clusters/<cluster>/cluster.yaml after schema validation; defaults that depend on OSSM 2 are applied in the model. */
export interface VerifyProbe {
  readonly from: { readonly namespace: string; readonly deployment: string; readonly container?: string };
  readonly url: string;
}

export interface CacertsExternalSecret {
  readonly storeRef: { readonly name: string; readonly kind?: 'SecretStore' | 'ClusterSecretStore' };
  readonly key: string;
}

export interface ClusterSettings {
  readonly name: string;
  /** migration (OSSM 2 dumps, eight phases) or greenfield (declared federation, one overlay). */
  readonly mode: 'migration' | 'greenfield';
  /** greenfield: the mesh's trust domain (migration reads it from the SMCP). */
  readonly trustDomain?: string;
  /** greenfield: `global` names shared services `<name>.<ns>.mesh.global` on both sides. */
  readonly hostnameScheme: 'maistra' | 'global';
  readonly network: string;
  /** The phase GitOps applies now (spec.phase). */
  readonly phase: PhaseId;
  readonly ossm3: {
    readonly version: string;
    readonly namespace?: string;
    readonly cniNamespace?: string;
    readonly cacerts?: { readonly externalSecret: CacertsExternalSecret };
    readonly trust?: 'aliases' | 'trustDomains';
  };
  readonly exposure: { readonly enforce?: boolean };
  readonly argocd: {
    readonly destination?: { readonly name?: string; readonly server?: string };
    readonly project?: string;
    readonly automated?: boolean;
  };
  readonly verify: VerifyProbe[];
  readonly eastWestGateway: {
    readonly namespace?: string;
    readonly name?: string;
    readonly address?: string | string[];
    readonly service?: {
      readonly type?: 'LoadBalancer' | 'NodePort' | 'ClusterIP';
      readonly annotations?: Record<string, string>;
      readonly nodePort?: number;
    };
  };
  readonly remoteNetworks: Record<string, string>;
  /** openshift (default) or kubernetes: decides the egress gateway's routing objects. */
  readonly platform: 'openshift' | 'kubernetes';
  readonly egressGateway: { readonly enabled?: boolean; readonly name?: string; readonly namespace?: string };
  readonly importedServices: { readonly namespace?: string; readonly exportTo?: string[] };
  /** image: the hook Jobs' image; onInstall (greenfield): false when the workloads already run on the revision. */
  readonly workloadRestart: { readonly image?: string; readonly onInstall?: boolean };
  /** render: false when the cluster manages its NetworkPolicies itself. */
  readonly networkPolicies: { readonly render?: boolean };
  /** Replacements for the SMCP's Prometheus and Kiali addons, rendered in 05. */
  readonly observability: { readonly monitors?: boolean; readonly kiali?: boolean };
  /** Rules whose warnings on this cluster were read and accepted: not printed again (plan.json keeps them). */
  readonly acknowledge: RuleId[];
  /** Live imports/exports (by imported hostname or exported name) this render may drop (MF014). */
  readonly intendedRemovals: string[];
  /** Where the settings came from, for diagnostics that point into them. */
  readonly source: SourceObject;
}

const ajv = new Ajv({ allErrors: true, strict: false });
const validate = ajv.compile(schema);

/** Validate one cluster.yaml object; reports every violation with its line. */
export function parseSettings(src: SourceObject, folderName: string, diags: Diagnostics): ClusterSettings | undefined {
  if (!validate(src.value)) {
    for (const e of dedupe(validate.errors ?? [])) reportSchemaError(src, e, diags);
    return undefined;
  }
  const v = src.value as unknown as {
    metadata: { name: string };
    spec: Pick<ClusterSettings, 'network' | 'ossm3'> &
      Partial<
        Pick<
          ClusterSettings,
          | 'phase'
          | 'argocd'
          | 'verify'
          | 'exposure'
          | 'eastWestGateway'
          | 'remoteNetworks'
          | 'importedServices'
          | 'workloadRestart'
          | 'networkPolicies'
          | 'observability'
          | 'platform'
          | 'egressGateway'
          | 'mode'
          | 'trustDomain'
          | 'hostnameScheme'
          | 'intendedRemovals'
        >
      > & { acknowledge?: string[] };
  };
  if (v.metadata.name !== folderName) {
    diags.error(
      src.at(['metadata', 'name']),
      `metadata.name is "${v.metadata.name}" but the folder is "${folderName}".`,
      `They must be equal (the name is used as dist/${folderName}/): rename the folder or set metadata.name: ${folderName}.`,
    );
    return undefined;
  }
  const addresses = [v.spec.eastWestGateway?.address ?? []].flat();
  const badAddress = addresses
    .map((a, i) => ({ a, i, why: addressProblem(a) }))
    .filter((x) => x.why !== undefined)
    .map((x) => {
      const at = Array.isArray(v.spec.eastWestGateway?.address)
        ? ['spec', 'eastWestGateway', 'address', x.i]
        : ['spec', 'eastWestGateway', 'address'];
      diags.error(
        src.at(at),
        `"${x.a}" is not an address peers can use: ${x.why}.`,
        'Give an IPv4 or IPv6 address or a DNS name only (the port is 15443, or spec.eastWestGateway.service.nodePort with type NodePort).',
      );
      return x;
    });
  if (badAddress.length) return undefined;
  const image = v.spec.workloadRestart?.image;
  const imageWhy = image === undefined ? undefined : imageProblem(image);
  if (imageWhy) {
    diags.error(
      src.at(['spec', 'workloadRestart', 'image']),
      `"${image}" ${imageWhy}: a hook Job must run exactly the image that was reviewed.`,
      'Pin it by digest (image@sha256:…) or by a release tag (image:4.19), an image with /bin/sh and kubectl.',
    );
    return undefined;
  }
  const svc = v.spec.eastWestGateway?.service;
  if (svc?.nodePort !== undefined && svc.type !== 'NodePort') {
    diags.error(
      src.at(['spec', 'eastWestGateway', 'service', 'nodePort']),
      'nodePort is only used with type: NodePort.',
      'Set spec.eastWestGateway.service.type: NodePort, or remove nodePort.',
    );
    return undefined;
  }
  const mode = v.spec.mode ?? 'migration';
  const onlyGreenfield = (['trustDomain', 'hostnameScheme'] as const).filter((k) => mode !== 'greenfield' && v.spec[k] !== undefined);
  for (const k of onlyGreenfield) {
    diags.error(
      src.at(['spec', k]),
      `${k} is only read with mode: greenfield.`,
      k === 'trustDomain'
        ? 'A migrated mesh keeps the trust domain of its ServiceMeshControlPlane: remove the field.'
        : 'Remove the field, or set spec.mode: greenfield.',
    );
  }
  if (mode === 'greenfield' && !v.spec.trustDomain)
    diags.error(
      src.at(['spec', 'mode']),
      'mode: greenfield needs spec.trustDomain.',
      'Set spec.trustDomain to the trust domain this mesh will use (each mesh its own).',
    );
  if (mode === 'greenfield' && v.spec.phase !== undefined)
    diags.error(src.at(['spec', 'phase']), 'a greenfield cluster has one overlay (multicluster), no phases.', 'Remove spec.phase.');
  if (onlyGreenfield.length || (mode === 'greenfield' && (!v.spec.trustDomain || v.spec.phase !== undefined))) return undefined;
  if (!acknowledgeable(src, v.spec.acknowledge ?? [], diags)) return undefined;
  const versions = Object.values(IstioSpecVersion).filter((x) => /^v\d+\.\d+\.\d+$/.test(x));
  if (!versions.includes(v.spec.ossm3.version as IstioSpecVersion)) {
    diags.error(
      src.at(['spec', 'ossm3', 'version']),
      `the Sail operator CRDs meshfed renders for do not offer Istio ${v.spec.ossm3.version}.`,
      `Use one of ${versions[versions.length - 1]} … ${versions[0]} (the guide uses v1.27.3).`,
    );
    return undefined;
  }
  return {
    name: v.metadata.name,
    mode,
    trustDomain: v.spec.trustDomain,
    hostnameScheme: v.spec.hostnameScheme ?? 'maistra',
    network: v.spec.network,
    phase: v.spec.phase ?? (mode === 'greenfield' ? 'multicluster' : '00-federation'),
    ossm3: v.spec.ossm3,
    argocd: v.spec.argocd ?? {},
    verify: v.spec.verify ?? [],
    exposure: v.spec.exposure ?? {},
    eastWestGateway: v.spec.eastWestGateway ?? {},
    remoteNetworks: v.spec.remoteNetworks ?? {},
    platform: v.spec.platform ?? 'openshift',
    egressGateway: v.spec.egressGateway ?? {},
    importedServices: v.spec.importedServices ?? {},
    workloadRestart: v.spec.workloadRestart ?? {},
    networkPolicies: v.spec.networkPolicies ?? {},
    observability: v.spec.observability ?? {},
    intendedRemovals: v.spec.intendedRemovals ?? [],
    acknowledge: (v.spec.acknowledge ?? []) as RuleId[],
    source: src,
  };
}

/**
 * spec.acknowledge names rules whose warnings may be silenced: an id that is no rule, or a rule that only
 * reports errors (never silenced), would look acknowledged and silence nothing.
 */
function acknowledgeable(src: SourceObject, ids: string[], diags: Diagnostics): boolean {
  let ok = true;
  ids.forEach((id, i) => {
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
