/**
 * Property-based tests over randomly generated federations (fast-check): any valid generated input
 * synthesizes without errors, keeps every imported hostname reachable in every state the gates allow
 * (MF001; with and without egress gateways on either platform), renders deterministically, and every overlay builds.
 */
import * as path from 'path';

import * as fc from 'fast-check';

import { propertyParams } from './support/fast-check';
import { ClusterSpec, ServiceSpec, writeClusters } from './support/fixtures';
import { InputError } from '../lib/diagnostics';
import { kustomize } from './support/kube';
import { overlayDirs, shardDirs, synthTo } from './support/synth';
import { render } from '../lib/pipeline/render';

const ROOTS = ['red', 'green', 'blue'] as const;

/** Service names are unique per mesh (the namespace is in the name), so aliases never collide. */
const meshArb = (index: number) =>
  fc.record({
    namespaces: fc.integer({ min: 1, max: 2 }),
    services: fc.integer({ min: 1, max: 3 }),
    labelled: fc.boolean(),
    twoPorts: fc.boolean(),
    cp: fc.constantFrom('istio-system', `mesh${index}-system`),
    mode: fc.constantFrom<'ClusterWide' | 'MultiTenant'>('ClusterWide', 'MultiTenant'),
    egress: fc.constantFrom<'none' | 'openshift' | 'kubernetes'>('none', 'openshift', 'kubernetes'),
  });

const exportRuleArb = fc.constantFrom('namespace', 'name-alias', 'labels-alias-ns');
const importRuleArb = fc.constantFrom('all', 'suffix', 'local');

const federationArb = fc.integer({ min: 2, max: 3 }).chain((n) =>
  fc.record({
    meshes: fc.tuple(...Array.from({ length: n }, (_, i) => meshArb(i))),
    // For each ordered pair (exporter, importer): whether it exports, and the rule shapes used.
    pairs: fc.array(fc.record({ exports: fc.boolean(), exportRule: exportRuleArb, importRule: importRuleArb, locality: fc.boolean() }), {
      minLength: n * (n - 1),
      maxLength: n * (n - 1),
    }),
  }),
);

type Federation = {
  meshes: {
    namespaces: number;
    services: number;
    labelled: boolean;
    twoPorts: boolean;
    cp: string;
    mode: 'ClusterWide' | 'MultiTenant';
    egress: 'none' | 'openshift' | 'kubernetes';
  }[];
  pairs: { exports: boolean; exportRule: string; importRule: string; locality: boolean }[];
};

function specs(f: Federation): ClusterSpec[] {
  const names = f.meshes.map((_, i) => `mesh${i}`);
  let pairIndex = 0;
  const pair = new Map<string, Federation['pairs'][number]>();
  for (const e of names) for (const i of names) if (e !== i) pair.set(`${e}>${i}`, f.pairs[pairIndex++]);
  return f.meshes.map((m, idx) => {
    const name = names[idx];
    const services: ServiceSpec[] = [];
    for (let n = 0; n < m.namespaces; n++)
      for (let s = 0; s < m.services; s++)
        services.push({
          namespace: `${name}-ns${n}`,
          name: `svc${n}x${s}`,
          labels: m.labelled && s % 2 === 0 ? { share: 'yes' } : {},
          ports:
            m.twoPorts && s === 0
              ? [
                  { name: 'http', port: 8000, targetPort: 8080 },
                  { name: 'grpc-api', port: 9000, targetPort: 9090 },
                ]
              : undefined,
        });
    const peers = names.filter((p) => p !== name);
    const exportSets = peers.map((p) => {
      const cfg = pair.get(`${name}>${p}`)!;
      const rules = !cfg.exports
        ? []
        : cfg.exportRule === 'namespace'
          ? [{ type: 'NameSelector', nameSelector: { namespace: `${name}-ns0` } }]
          : cfg.exportRule === 'name-alias'
            ? [{ type: 'NameSelector', nameSelector: { namespace: `${name}-ns0`, name: 'svc0x0', alias: { name: `${name}-first` } } }]
            : [
                {
                  type: 'LabelSelector',
                  labelSelector: {
                    namespace: '*',
                    selector: { matchLabels: m.labelled ? { share: 'yes' } : {} },
                    aliases: [{ namespace: '*', name: '*', alias: { namespace: 'shared' } }],
                  },
                },
              ];
      return { name: `${p}-mesh`, exportRules: rules };
    });
    const importSets = peers.map((p) => {
      const cfg = pair.get(`${p}>${name}`)!;
      const rule =
        cfg.importRule === 'all'
          ? { type: 'NameSelector', nameSelector: { namespace: '*' } }
          : cfg.importRule === 'suffix'
            ? { type: 'NameSelector', nameSelector: { namespace: '*' }, domainSuffix: `from-${p}.global` }
            : { type: 'NameSelector', importAsLocal: true, nameSelector: { namespace: '*', alias: { namespace: `${p}-local` } } };
      return { name: `${p}-mesh`, spec: { importRules: [rule], ...(cfg.locality ? { locality: { region: `region-${p}` } } : {}) } };
    });
    return {
      name,
      trustDomain: `${name}.local`,
      root: ROOTS[idx],
      cpNamespace: m.cp,
      mode: m.mode,
      services,
      peers: peers.map((p) => ({ name: `${p}-mesh`, trustDomain: `${p}.local`, rootOf: p })),
      exportSets,
      importSets,
      extraObjects:
        m.mode === 'MultiTenant'
          ? [
              {
                apiVersion: 'maistra.io/v1',
                kind: 'ServiceMeshMemberRoll',
                metadata: { name: 'default', namespace: m.cp },
                spec: { members: [...new Set(services.map((s) => s.namespace))] },
              },
            ]
          : [],
      settings: {
        eastWestGateway: { address: `192.0.2.${idx + 1}` },
        ...(m.egress === 'none' ? {} : { platform: m.egress, egressGateway: { enabled: true } }),
      },
    };
  });
}

describe('random federations', () => {
  test('synthesize without errors, keep continuity everywhere, and render deterministically', () => {
    fc.assert(
      fc.property(federationArb, (f) => {
        const dir = writeClusters(specs(f as Federation));
        let first;
        try {
          first = render(dir);
        } catch (e) {
          if (e instanceof InputError) throw new Error(`valid input was refused:\n${e.message}`);
          throw e;
        }
        // The render ran every check (an error finding would have been an InputError above): its findings, not a
        // second analysis of the same input.
        expect(first.findings.filter((x) => x.severity === 'error')).toEqual([]);
        expect(render(dir).files).toEqual(first.files);
      }),
      propertyParams(40),
    );
  });

  test('every overlay of a generated federation builds with kubectl kustomize', () => {
    fc.assert(
      fc.property(federationArb, (f) => {
        const { dist } = synthTo(writeClusters(specs(f as Federation)));
        expect(overlayDirs(dist).length).toBeGreaterThan(0);
        for (const d of [...overlayDirs(dist), ...shardDirs(dist)])
          expect({ overlay: path.relative(dist, d), built: kustomize(d).length > 0 }).toEqual({
            overlay: path.relative(dist, d),
            built: true,
          });
      }),
      propertyParams(4),
    );
  });
});
