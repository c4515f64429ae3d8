/**
 * Separate administrative domains: each cluster can be rendered alone from its own folder plus the
 * bundles its peers' meshfed wrote (dist/<peer>/export-for-<cluster>.yaml), and gets the same files as
 * when the whole federation is rendered together.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import { parseAllDocuments } from 'yaml';

import { EXAMPLE_CLUSTERS, writeClusters } from './support/fixtures';
import { readTree, runCli, synthTo } from './support/synth';
import { threeMeshSpecs } from './support/three-mesh';

function alone(allClusters: string, combined: string, cluster: string): string {
  const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'meshfed-alone-')), 'clusters');
  fs.cpSync(path.join(allClusters, cluster), path.join(dir, cluster), { recursive: true });
  // The GitOps settings are the repository's, not a cluster's: a cluster administered alone has its own.
  const gitops = path.join(allClusters, 'gitops.yaml');
  if (fs.existsSync(gitops)) fs.copyFileSync(gitops, path.join(dir, 'gitops.yaml'));
  fs.mkdirSync(path.join(dir, cluster, 'peers'));
  for (const peer of fs.readdirSync(combined)) {
    const bundle = path.join(combined, peer, `export-for-${cluster}.yaml`);
    if (fs.existsSync(bundle)) fs.copyFileSync(bundle, path.join(dir, cluster, 'peers', `${peer}.yaml`));
  }
  return dir;
}

describe.each([
  ['bundled example', () => EXAMPLE_CLUSTERS],
  ['three meshes', () => writeClusters(threeMeshSpecs())],
])('%s', (_name, make) => {
  const clusters = make();
  const { dist, result } = synthTo(clusters);
  const all = readTree(dist);

  test('each peer gets a bundle with public data only', () => {
    const bundles = [...all.keys()].filter((f) => /\/export-for-[a-z]+\.yaml$/.test(f));
    expect(bundles.length).toBe(result.plan.local.length * (result.plan.local.length - 1));
    for (const f of bundles) {
      const text = all.get(f)!;
      expect(text).not.toMatch(/PRIVATE KEY/);
      const b = parseAllDocuments(text)[0].toJS();
      expect(Object.keys(b.spec).sort()).toEqual([
        'controlPlaneNamespace',
        'eastWestGateway',
        'exports',
        'for',
        'importExportTo',
        'imports',
        'network',
        'peerName',
        'phase',
        'rootCert',
        'trustDomain',
      ]);
    }
  });

  test.each(result.plan.local)("%s rendered alone from its peers' bundles = rendered with everyone", (cluster) => {
    const { dist: own } = synthTo(alone(clusters, dist, cluster));
    const mine = readTree(own);
    const expected = new Map([...all].filter(([f]) => f.startsWith(`${cluster}/`)));
    expect(new Map([...mine].filter(([f]) => f.startsWith(`${cluster}/`)))).toEqual(expected);
    expect([...mine.keys()].filter((f) => /^[a-z]+\//.test(f) && !f.startsWith(`${cluster}/`) && !/^(argocd|flux)\//.test(f))).toEqual([]);
  });
});

test('a bundle from a cluster that also has a folder is refused', () => {
  const { dist } = synthTo(EXAMPLE_CLUSTERS);
  const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'meshfed-both-')), 'clusters');
  fs.cpSync(EXAMPLE_CLUSTERS, dir, { recursive: true });
  fs.mkdirSync(path.join(dir, 'east', 'peers'));
  fs.copyFileSync(path.join(dist, 'west', 'export-for-east.yaml'), path.join(dir, 'east', 'peers', 'west.yaml'));
  const res = runCli(['--clusters', dir, '--out', path.join(fs.mkdtempSync('/tmp/meshfed-'), 'dist')]);
  expect(res.code).toBe(1);
  expect(res.stderr).toContain('west is both a cluster folder and a peer bundle');
});
