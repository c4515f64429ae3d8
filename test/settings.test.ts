/**
 * A cluster.yaml setting is declared once, in schema/cluster-settings.schema.json: its TypeScript types are
 * generated from the schema (lib/load/settings-types.ts, current), the default docs/input.md shows is the one
 * applied (the schema's `default` keyword, filled in by lib/load/settings.ts, or a `Default: …` text for a
 * default the model derives, each checked here), and every field of the settings is read by the code.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

import { Diagnostics } from '../lib/diagnostics';
import { DEFAULT_TEXT } from '../lib/docs';
import { analyse } from './support/analyse';
import { settingsReads } from './support/settings-reads';
import { loadGitOps } from '../lib/load/gitops';
import { parseSettings } from '../lib/load/settings';
import { SourceObject } from '../lib/load/yaml-source';
import { FederationModel } from '../lib/model/types';
import { deliveries } from '../lib/plan/delivery';
import { Plan } from '../lib/plan/types';

const ROOT = path.join(__dirname, '..');
/** scripts/settings-types.ts writes it (not imported here: json-schema-to-typescript cannot load under jest, below). */
const SETTINGS_TYPES_FILE = 'lib/load/settings-types.ts';
const SCHEMA = JSON.parse(fs.readFileSync(path.join(ROOT, 'schema', 'cluster-settings.schema.json'), 'utf8')) as Node;

interface Node {
  readonly description?: string;
  readonly default?: unknown;
  readonly properties?: Record<string, Node>;
  readonly items?: Node;
  readonly [keyword: string]: unknown;
}

/** Every schema node with its path below the root ("[]" for a list item), depth first. */
function nodes(node: Node, at: string[] = []): { at: string[]; node: Node }[] {
  const out = [{ at, node }];
  for (const [key, child] of Object.entries(node.properties ?? {})) out.push(...nodes(child, [...at, key]));
  if (node.items) out.push(...nodes(node.items, [...at, '[]']));
  return out;
}

function valueAt(value: unknown, at: string[]): unknown {
  return at.reduce<unknown>((v, k) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined), value);
}

/** The smallest valid cluster.yaml, plus the parents (without defaults of their own) of every default below them. */
const MINIMAL = {
  apiVersion: 'meshfed.dev/v1alpha1',
  kind: 'ClusterSettings',
  metadata: { name: 'east' },
  spec: {
    network: 'network-east',
    ossm3: { version: 'v1.27.3', cacerts: { externalSecret: { storeRef: { name: 'vault' }, key: 'mesh/east' } } },
  },
};

function parse(doc: object) {
  const diags = new Diagnostics();
  const settings = parseSettings(new SourceObject('clusters/east/cluster.yaml', JSON.parse(JSON.stringify(doc))), 'east', diags);
  expect(diags.errors).toEqual([]);
  return settings!;
}

/**
 * json-schema-to-typescript formats with prettier, which loads its plugins by dynamic import (jest's module
 * system does not allow it): the types are generated in a child node.
 */
test(`${SETTINGS_TYPES_FILE} is current (run npm run docs)`, () => {
  const script = "require('./scripts/settings-types').settingsTypes().then((t) => process.stdout.write(t))";
  const generated = execFileSync(process.execPath, ['--import', 'tsx', '-e', script], { cwd: ROOT, encoding: 'utf8' });
  expect(generated).toBe(fs.readFileSync(path.join(ROOT, SETTINGS_TYPES_FILE), 'utf8'));
});

describe('defaults', () => {
  const defaults = nodes(SCHEMA).filter((n) => n.node.default !== undefined);

  test('the schema declares them (with `default`)', () => {
    expect(defaults.length).toBeGreaterThan(20);
  });

  test('every default of the schema is the value parseSettings gives an absent field', () => {
    const settings = parse(MINIMAL);
    for (const { at, node } of defaults) {
      // withDefaults fills objects and list items under spec; a default elsewhere would be documented and ignored.
      expect({ at: at.join('.'), underSpec: at[0] === 'spec' && !at.includes('[]') }).toEqual({ at: at.join('.'), underSpec: true });
      // An object's default gets its fields' defaults too.
      expect({ at: at.join('.'), applied: valueAt(settings, at.slice(1)) }).toMatchObject({ at: at.join('.'), applied: node.default });
    }
  });

  test('a written value wins over the default', () => {
    const settings = parse({
      ...MINIMAL,
      spec: { ...MINIMAL.spec, argocd: { automated: false }, egressGateway: { enabled: true, name: 'eg' }, platform: 'kubernetes' },
    });
    expect(settings.argocd).toEqual({ automated: false, project: 'default' });
    expect(settings.egressGateway).toEqual({ enabled: true, name: 'eg', namespace: 'istio-egress' });
    expect(settings.platform).toBe('kubernetes');
  });

  test('parseSettings returns the fields of spec and nothing else (besides their source)', () => {
    const fields = Object.keys(SCHEMA.properties!.spec.properties!);
    const settings = parse({ ...MINIMAL, spec: { ...MINIMAL.spec, mode: 'greenfield', trustDomain: 'east.local' } });
    expect(Object.keys(settings).sort()).toEqual([...fields, 'source'].sort());
  });

  test('a default is stated once: by `default`, or by a "Default: …" text where the model derives it', () => {
    for (const { at, node } of nodes(SCHEMA)) {
      const text = node.description ?? '';
      const stated = DEFAULT_TEXT.test(text) || /\(default\b/i.test(text);
      const keyword =
        node.default !== undefined && (typeof node.default !== 'object' || (Array.isArray(node.default) && !node.default.length));
      expect({ at: at.join('.'), twice: keyword && stated }).toEqual({ at: at.join('.'), twice: false });
    }
  });
});

test('each section of cluster.yaml is validated, so one run reports the problems of every section', () => {
  const diags = new Diagnostics();
  const doc = {
    ...MINIMAL,
    spec: {
      ...MINIMAL.spec,
      eastWestGateway: { address: 'https://198.51.100.20' },
      workloadRestart: { image: 'quay.io/openshift/origin-cli' },
    },
  };
  expect(parseSettings(new SourceObject('clusters/east/cluster.yaml', doc), 'east', diags)).toBeUndefined();
  expect(diags.errors.map((e) => e.location?.field)).toEqual(['spec.eastWestGateway.address', 'spec.workloadRestart.image']);
});

/**
 * The defaults the model (or a planner) derives from other input, each with the check that it is applied.
 * A new "Default: …" text in the schema fails the last test until it has a check here.
 */
const DERIVED: Record<string, (a: { model: FederationModel; plan: Plan; greenfield: FederationModel }) => void> = {
  'spec.ossm3.namespace': ({ model, greenfield }) => {
    for (const m of model.meshes) expect(m.ossm3.namespace).toBe(m.controlPlane.namespace);
    expect(greenfield.meshes.map((m) => m.ossm3.namespace)).toEqual(['istio-system', 'istio-system']);
  },
  'spec.remoteNetworks': ({ model }) => {
    const east = model.meshes.find((m) => m.cluster === 'east')!;
    expect(east.settings.remoteNetworks).toEqual({});
    expect(model.links.filter((l) => l.local === 'east').map((l) => l.remoteNetwork)).toEqual(['west-network']);
  },
  'spec.importedServices.namespace': ({ model }) => {
    for (const m of model.meshes) expect(m.importNamespace).toBe(m.controlPlane.namespace);
  },
  'spec.importedServices.exportTo': ({ model }) => {
    // The bundled clusters are migrations: the members and the SMCP's namespace, sorted.
    for (const m of model.meshes) expect(m.importExportTo).toEqual([...m.memberNamespaces, m.controlPlane.namespace].sort());
  },
  'spec.argocd.destination': ({ model, plan }) => {
    const gitops = loadGitOps(path.join(ROOT, 'clusters'), new Diagnostics())!;
    expect(deliveries(model, plan, gitops).map((d) => d.argocd.destination)).toEqual([{ name: 'east' }, { name: 'west' }]);
  },
  'spec.verify.[].from.container': ({ plan }) => {
    const probes = plan.byCluster.east.flatMap((p) => p.adds).flatMap((r) => (r.type === 'verifyJob' ? r.probes : []));
    expect(probes.length).toBeGreaterThan(0);
    for (const p of probes) expect(p.container).toBe(p.deployment);
  },
};

test('every default the model derives ("Default: …" in the schema) is the one applied', () => {
  const documented = nodes(SCHEMA)
    .filter((n) => DEFAULT_TEXT.test(n.node.description ?? ''))
    .map((n) => n.at.join('.'));
  expect(documented.sort()).toEqual(Object.keys(DERIVED).sort());
  const { model, plan } = analyse(path.join(ROOT, 'clusters'));
  const greenfield = analyse(path.join(ROOT, 'examples', 'greenfield', 'clusters')).model;
  for (const check of Object.values(DERIVED)) check({ model, plan, greenfield });
});

test('every field of the settings is read by lib/ (outside lib/load/settings.ts)', () => {
  const { fields, unread } = settingsReads();
  expect(fields).toEqual(expect.arrayContaining(['network', 'observability.kiali', 'verify[].from.container', 'source']));
  expect(unread).toEqual([]);
});
