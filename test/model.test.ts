/**
 * The model against Maistra's matching and naming (maistra/istio@08e9b7bd27 pkg/servicemesh/federation/common/
 * exports.go, imports.go, namemapping.go: the worked examples a–d below) and against the status blocks of the
 * docs (maistra/maistra.github.io@61f72113dd modules/ossm-federation-create-export.adoc, -create-import.adoc)
 * and the guide.
 */
import { Diagnostics } from '../lib/diagnostics';
import { EXAMPLE_CLUSTERS, writeClusters } from './support/fixtures';
import { loadClusters } from '../lib/load/clusters';
import { buildModel } from '../lib/model/federation';
import { localityString } from '../lib/model/imports';
import { applyAlias, compileLabelSelector, nameMatches } from '../lib/model/match';
import { dnsLabel, revisionName } from '../lib/model/names';
import { istioProtocol } from '../lib/model/protocol';
import { exportSetStatus, importSetStatus } from '../lib/model/status';

function model(dir: string) {
  const diags = new Diagnostics();
  const m = buildModel(loadClusters(dir, diags), diags);
  return { model: m, warnings: diags.warnings.map((w) => w.message) };
}

describe('name matching (namemapping.go)', () => {
  const svc = { name: 'ratings', namespace: 'bookinfo' };
  test('"" and "*" are wildcards, nothing else is', () => {
    expect(nameMatches({ namespace: '', name: '' }, svc)).toBe(true);
    expect(nameMatches({ namespace: '*', name: 'ratings' }, svc)).toBe(true);
    expect(nameMatches({ namespace: 'book*', name: 'ratings' }, svc)).toBe(false);
    expect(nameMatches({ namespace: 'bookinfo', name: 'rat' }, svc)).toBe(false);
  });
  test('alias fields replace unless wildcard; an all-wildcard alias is no alias', () => {
    expect(applyAlias({ namespace: '', name: '', alias: { namespace: 'x', name: '' } }, svc)).toEqual({ namespace: 'x', name: 'ratings' });
    expect(applyAlias({ namespace: '', name: '', alias: { namespace: '*', name: 'r2' } }, svc)).toEqual({
      namespace: 'bookinfo',
      name: 'r2',
    });
    expect(applyAlias({ namespace: '', name: '', alias: { namespace: '*', name: '' } }, svc)).toEqual(svc);
  });
});

describe('label selectors (metav1.LabelSelectorAsSelector)', () => {
  test('matchLabels and expressions; empty selects everything', () => {
    const sel = compileLabelSelector({
      matchLabels: { export: 'true' },
      matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['db'] }],
    });
    expect(sel.ok && sel.matches({ export: 'true', tier: 'web' })).toBe(true);
    expect(sel.ok && sel.matches({ export: 'true', tier: 'db' })).toBe(false);
    const all = compileLabelSelector({ matchLabels: {}, matchExpressions: [] });
    expect(all.ok && all.matches({})).toBe(true);
  });
  test('invalid selectors are refused like Kubernetes does', () => {
    expect(compileLabelSelector({ matchLabels: {}, matchExpressions: [{ key: 'a', operator: 'In', values: [] }] }).ok).toBe(false);
    expect(compileLabelSelector({ matchLabels: {}, matchExpressions: [{ key: 'a', operator: 'Exists', values: ['x'] }] }).ok).toBe(false);
    expect(compileLabelSelector({ matchLabels: {}, matchExpressions: [{ key: 'a', operator: 'Like', values: [] }] }).ok).toBe(false);
  });
});

describe('small pure functions', () => {
  test('Istio protocol from port name / appProtocol', () => {
    expect(istioProtocol(8000, 'http', 'TCP')).toBe('HTTP');
    expect(istioProtocol(9000, 'grpc-web-x', 'TCP')).toBe('GRPC-Web');
    expect(istioProtocol(8443, 'https-admin', 'TCP')).toBe('HTTPS');
    expect(istioProtocol(80, 'web', 'TCP', 'http2')).toBe('HTTP2');
    expect(istioProtocol(5000, 'web', 'TCP')).toBeUndefined();
    expect(istioProtocol(3306, 'db', 'TCP')).toBe('TCP');
    expect(istioProtocol(53, 'dns', 'UDP')).toBe('UDP');
  });
  test('locality is dropped when incomplete (mergeLocality)', () => {
    expect(localityString({ region: 'us-west' })).toBe('us-west');
    expect(localityString({ region: 'us-west', zone: 'z1', subzone: 's' })).toBe('us-west/z1/s');
    expect(localityString({ zone: 'z1' })).toBeUndefined();
    expect(localityString({ region: 'r', subzone: 's' })).toBeUndefined();
  });
  test('DNS labels are ≤63 characters, hashed when cut, and stable', () => {
    const long = dnsLabel('a'.repeat(40), 'b'.repeat(40));
    expect(long.length).toBeLessThanOrEqual(63);
    expect(long).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
    expect(dnsLabel('a'.repeat(40), 'b'.repeat(40))).toBe(long);
    expect(dnsLabel('a'.repeat(40), 'c'.repeat(40))).not.toBe(long);
    expect(dnsLabel('Httpbin.A', 'west_mesh')).toBe('httpbin-a-west-mesh');
  });
  test('Sail revision name derives from the literal version', () => {
    expect(revisionName('default', 'v1.27.3')).toBe('default-v1-27-3');
  });
});

describe('the guide example (000): statuses as Maistra reports them', () => {
  const { model: m } = model(EXAMPLE_CLUSTERS);
  const west = m.links.find((l) => l.local === 'west')!;
  const east = m.links.find((l) => l.local === 'east')!;
  test('the status the live meshes report (dumps) equals the model', () => {
    expect(exportSetStatus(m, west)).toEqual(west.exportSet!.status);
    expect(importSetStatus(m, east)).toEqual(east.importSet!.status);
  });
  test('networks: own, federation, and remote', () => {
    expect(east.federationNetwork).toBe('network-west-mesh');
    expect(east.remoteNetwork).toBe('west-network');
    expect(m.meshes.find((x) => x.cluster === 'east')!.memberNamespaces).toEqual(['client']);
    expect(m.meshes.find((x) => x.cluster === 'west')!.memberNamespaces).toEqual(['a', 'b']);
  });
});

/** The red/green/blue meshes of the OSSM 2 federation docs (modules/ossm-federation-*.adoc), as the worked examples use them. */
function docsFederation(greenImportRules: unknown[], redExportRules: unknown[], greenIss: Record<string, unknown> = {}) {
  return writeClusters([
    {
      name: 'red',
      trustDomain: 'red-mesh.local',
      root: 'red',
      cpNamespace: 'red-mesh-system',
      mode: 'MultiTenant',
      services: [
        { namespace: 'red-mesh-bookinfo', name: 'ratings', labels: { 'export-service': 'true' } },
        { namespace: 'red-mesh-bookinfo', name: 'reviews', labels: { 'export-service': 'true' } },
        { namespace: 'red-mesh-bookinfo', name: 'details', labels: { 'export-service': 'true' } },
        { namespace: 'red-mesh-bookinfo', name: 'red-ratings' },
      ],
      peers: [{ name: 'green-mesh', trustDomain: 'green-mesh.local', rootOf: 'green' }],
      exportSets: [{ name: 'green-mesh', exportRules: redExportRules }],
      settings: { eastWestGateway: { address: '203.0.113.7' } },
      extraObjects: [
        {
          apiVersion: 'maistra.io/v1',
          kind: 'ServiceMeshMemberRoll',
          metadata: { name: 'default', namespace: 'red-mesh-system' },
          spec: { members: ['red-mesh-bookinfo'] },
        },
      ],
    },
    {
      name: 'green',
      trustDomain: 'green-mesh.local',
      root: 'green',
      cpNamespace: 'green-mesh-system',
      members: ['bookinfo'],
      peers: [{ name: 'red-mesh', trustDomain: 'red-mesh.local', rootOf: 'red' }],
      importSets: [{ name: 'red-mesh', spec: { importRules: greenImportRules, ...greenIss } }],
    },
  ]);
}

const RULE_A = {
  type: 'NameSelector',
  nameSelector: { namespace: 'red-mesh-bookinfo', name: 'ratings', alias: { namespace: 'bookinfo', name: 'red-ratings' } },
};
const RULE_REVIEWS = { type: 'NameSelector', nameSelector: { namespace: 'red-mesh-bookinfo', name: 'reviews' } };
const RULE_B = {
  type: 'LabelSelector',
  labelSelector: {
    namespace: 'red-mesh-bookinfo',
    selector: { matchLabels: { 'export-service': 'true' } },
    aliases: [{ namespace: '*', name: '*', alias: { namespace: 'bookinfo' } }],
  },
};

describe("worked examples of Maistra's export and import naming", () => {
  test('(a) export aliases; status equals the docs (create-export.adoc)', () => {
    const { model: m } = model(docsFederation([], [RULE_A, RULE_REVIEWS]));
    const link = m.links.find((l) => l.local === 'red')!;
    expect(exportSetStatus(m, link)).toEqual([
      {
        exportedName: 'red-ratings.bookinfo.svc.green-mesh-exports.local',
        localService: { hostname: 'ratings.red-mesh-bookinfo.svc.cluster.local', name: 'ratings', namespace: 'red-mesh-bookinfo' },
      },
      {
        exportedName: 'reviews.red-mesh-bookinfo.svc.green-mesh-exports.local',
        localService: { hostname: 'reviews.red-mesh-bookinfo.svc.cluster.local', name: 'reviews', namespace: 'red-mesh-bookinfo' },
      },
    ]);
  });

  test('(a) docs-direction variant selects the Service named red-ratings, not ratings', () => {
    const rule = {
      type: 'NameSelector',
      nameSelector: { namespace: 'red-mesh-bookinfo', name: 'red-ratings', alias: { namespace: 'bookinfo', name: 'ratings' } },
    };
    const { model: m } = model(docsFederation([], [rule]));
    expect(m.exports.map((e) => [e.service.name, e.exportedHostname])).toEqual([
      ['red-ratings', 'ratings.bookinfo.svc.green-mesh-exports.local'],
    ]);
  });

  test('(b) LabelSelector with an alias list; first rule wins', () => {
    const labelFirst = model(docsFederation([], [RULE_B, RULE_A])).model;
    expect(labelFirst.exports.map((e) => e.exportedHostname).sort()).toEqual([
      'details.bookinfo.svc.green-mesh-exports.local',
      'ratings.bookinfo.svc.green-mesh-exports.local',
      'reviews.bookinfo.svc.green-mesh-exports.local',
    ]);
    const nameFirst = model(docsFederation([], [RULE_A, RULE_B])).model;
    expect(nameFirst.exports.map((e) => e.exportedHostname).sort()).toEqual([
      'details.bookinfo.svc.green-mesh-exports.local',
      'red-ratings.bookinfo.svc.green-mesh-exports.local',
      'reviews.bookinfo.svc.green-mesh-exports.local',
    ]);
  });

  test('(c) import matches the exported alias; status equals the docs (create-import.adoc)', () => {
    const rule = {
      type: 'NameSelector',
      importAsLocal: false,
      nameSelector: { namespace: 'bookinfo', name: 'red-ratings', alias: { namespace: 'bookinfo', name: 'ratings' } },
    };
    const { model: m } = model(docsFederation([rule], [RULE_A, RULE_REVIEWS]));
    const link = m.links.find((l) => l.local === 'green')!;
    expect(importSetStatus(m, link)).toEqual([
      {
        exportedName: 'red-ratings.bookinfo.svc.green-mesh-exports.local',
        localService: { hostname: 'ratings.bookinfo.svc.red-mesh-imports.local', name: 'ratings', namespace: 'bookinfo' },
      },
      { exportedName: 'reviews.red-mesh-bookinfo.svc.green-mesh-exports.local', localService: { hostname: '', name: '', namespace: '' } },
    ]);
  });

  test('(c) a rule in the docs direction (ratings) matches nothing when red exports red-ratings', () => {
    const rule = { type: 'NameSelector', nameSelector: { namespace: 'bookinfo', name: 'ratings' } };
    expect(model(docsFederation([rule], [RULE_A])).model.imports).toEqual([]);
  });

  test('(d) importAsLocal without a fixed alias namespace is dropped with a warning', () => {
    const rules = [{ type: 'NameSelector', importAsLocal: true, nameSelector: { namespace: 'red-mesh-bookinfo' } }];
    const { model: m, warnings } = model(docsFederation(rules, [RULE_REVIEWS]));
    expect(m.imports).toEqual([]);
    expect(warnings.some((w) => w.includes('importAsLocal without a fixed alias namespace'))).toBe(true);
  });

  test('domainSuffix: rule wins over spec; verbatim; the cluster suffix is refused', () => {
    const rules = [
      { type: 'NameSelector', nameSelector: { namespace: 'red-mesh-bookinfo', name: 'reviews' }, domainSuffix: 'imported.local' },
      { type: 'NameSelector', nameSelector: { namespace: '*' } },
    ];
    const { model: m } = model(
      docsFederation(rules, [RULE_REVIEWS, { type: 'NameSelector', nameSelector: { namespace: 'red-mesh-bookinfo', name: 'details' } }], {
        domainSuffix: 'global.example',
      }),
    );
    expect(m.imports.map((i) => i.hostname).sort()).toEqual([
      'details.red-mesh-bookinfo.global.example',
      'reviews.red-mesh-bookinfo.imported.local',
    ]);
    const refused = model(
      docsFederation([{ type: 'NameSelector', nameSelector: { namespace: '*' }, domainSuffix: 'svc.cluster.local' }], [RULE_REVIEWS]),
    );
    expect(refused.model.imports).toEqual([]);
    expect(refused.warnings.some((w) => w.includes("cluster's own suffix"))).toBe(true);
  });

  test('spec locality becomes region/zone; members only (MultiTenant SMMR)', () => {
    const rules = [{ type: 'NameSelector', nameSelector: { namespace: '*' } }];
    const { model: m } = model(docsFederation(rules, [RULE_REVIEWS], { locality: { region: 'us-west', zone: 'a' } }));
    expect(m.imports.map((i) => i.locality)).toEqual(['us-west/a']);
    expect(m.meshes.find((x) => x.cluster === 'red')!.memberNamespaces).toEqual(['red-mesh-bookinfo']);
  });

  test('unknown rule types and invalid selectors are skipped with a warning', () => {
    const bad = [
      { type: 'Glob', nameSelector: { name: 'x' } },
      {
        type: 'LabelSelector',
        labelSelector: { namespace: '*', selector: { matchExpressions: [{ key: 'a', operator: 'In', values: [] }] } },
      },
      RULE_REVIEWS,
    ];
    const { model: m, warnings } = model(docsFederation([], bad));
    expect(m.exports.map((e) => e.service.name)).toEqual(['reviews']);
    expect(warnings.filter((w) => w.includes('Maistra skips this rule'))).toHaveLength(2);
  });
});
