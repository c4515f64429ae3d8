/**
 * Every mistake a user can make in the input: a one-paragraph error naming the file, the object and
 * field (and line), exit code 1, no stack trace, and the previous dist/ left byte-identical.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import { certPem, copyTree, EXAMPLE_CLUSTERS } from './support/fixtures';
import { readTree, runCli } from './support/synth';
import { runCerts } from '../lib/cli/certs';

type Mutation = (dir: string) => void;

function edit(file: string, from: string | RegExp, to: string): Mutation {
  return (dir) => {
    const p = path.join(dir, file);
    const text = fs.readFileSync(p, 'utf8');
    const next = text.replace(from, to);
    if (next === text) throw new Error(`test setup: ${String(from)} not found in ${file}`);
    fs.writeFileSync(p, next);
  };
}

const cases: [string, Mutation, (string | RegExp)[]][] = [
  [
    'a MultiTenant control plane dumped without its ServiceMeshMemberRoll',
    edit('west/ossm2/smcp.yaml', 'mode: ClusterWide', 'mode: MultiTenant'),
    [
      'field spec.mode: a MultiTenant control plane without its ServiceMeshMemberRoll in ossm2/',
      'oc get smmr default -n istio-system -o yaml',
    ],
  ],
  [
    'a MultiTenant member roll listing "*": OSSM 3 cannot scope its istiod',
    (d) => {
      edit('west/ossm2/smcp.yaml', 'mode: ClusterWide', 'mode: MultiTenant')(d);
      fs.writeFileSync(
        path.join(d, 'west', 'ossm2', 'members.yaml'),
        "apiVersion: maistra.io/v1\nkind: ServiceMeshMemberRoll\nmetadata: {name: default, namespace: istio-system}\nspec: {members: ['*']}\n",
      );
    },
    [
      'field spec.members[0]: ServiceMeshControlPlane istio-system/basic is MultiTenant and its ServiceMeshMemberRoll istio-system/default lists "*"',
      'List the member namespaces in spec.members of default',
    ],
  ],
  [
    'spec.exposure.callers naming a cluster that imports nothing from this one',
    edit('west/cluster.yaml', /^spec:\n/m, 'spec:\n  exposure:\n    callers:\n      north: [north.local/ns/client/sa/curl]\n'),
    ['field spec.exposure.callers.north: spec.exposure.callers names north, which imports nothing from west', 'imports from west (east)'],
  ],
  [
    'a member namespace the live SMMR configured but the dumps lack',
    (d) => {
      fs.writeFileSync(
        path.join(d, 'west', 'ossm2', 'members.yaml'),
        'apiVersion: maistra.io/v1\nkind: ServiceMeshMemberRoll\nmetadata: {name: default, namespace: istio-system}\n' +
          'spec: {members: [a, b, payments]}\nstatus: {configuredMembers: [a, b, payments]}\n',
      );
    },
    ['field spec.members[2]: member namespace "payments" is in the mesh (status.configuredMembers) but its Namespace is not in ossm2/'],
  ],
  [
    'a hook Job image on the mutable latest tag',
    edit(
      'west/cluster.yaml',
      'image: quay.io/openshift/origin-cli:4.19',
      'image: image-registry.openshift-image-registry.svc:5000/openshift/cli:latest',
    ),
    ['field spec.workloadRestart.image: "image-registry.openshift-image-registry.svc:5000/openshift/cli:latest" is tagged latest'],
  ],
  [
    'a hook Job image without tag or digest',
    edit('west/cluster.yaml', 'image: quay.io/openshift/origin-cli:4.19', 'image: quay.io/openshift/origin-cli'),
    ['"quay.io/openshift/origin-cli" has no tag or digest'],
  ],
  [
    'no hook Job image while hook Jobs are rendered',
    edit('east/cluster.yaml', / {2}# The hook Jobs' image[^]*$/, ''),
    ["east's 03-import runs a hook Job (workload restart or traffic verification), but spec.workloadRestart.image is not set"],
  ],
  [
    'a spec.verify URL whose host the cluster does not know',
    edit(
      'east/cluster.yaml',
      'url: http://httpbin.a.svc.west-mesh-imports.local:8000/headers',
      'url: http://httpbin.a.svc.west-mesh-import.local:8000/headers',
    ),
    [
      'error: clusters/east/cluster.yaml:19, ClusterSettings east, field spec.verify[0].url: MF004 [east @ 03-import]: ' +
        'httpbin.a.svc.west-mesh-import.local (in http://httpbin.a.svc.west-mesh-import.local:8000/headers) is neither a hostname east imports',
      'Did you mean httpbin.a.svc.west-mesh-imports.local?',
    ],
  ],
  [
    'east-west address with a scheme',
    edit('west/cluster.yaml', '    address: 198.51.100.20', '    address: https://198.51.100.20'),
    ['clusters/west/cluster.yaml:15, ClusterSettings west, field spec.eastWestGateway.address', 'it has a scheme', 'the port is 15443'],
  ],
  [
    'east-west address with a port',
    edit('west/cluster.yaml', '    address: 198.51.100.20', '    address: ew.west.example.com:15443'),
    ['field spec.eastWestGateway.address: "ew.west.example.com:15443" is not an address peers can use: it has a port'],
  ],
  [
    'east-west address that is no IP and no DNS name',
    edit('west/cluster.yaml', '    address: 198.51.100.20', '    address: [198.51.100.20, "ew west"]'),
    ['field spec.eastWestGateway.address[1]: "ew west" is not an address peers can use: it is neither an IP address nor a DNS-1123 name'],
  ],
  [
    'ServiceMeshPeer naming a federation gateway the SMCP does not have',
    edit('west/ossm2/federation.yaml', /name: federation-ingress\n/, 'name: federation-ingres\n'),
    ['field spec.gateways.ingress.name: federation ingress gateway "federation-ingres" is not a gateway of SMCP istio-system/'],
  ],
  [
    'YAML syntax error',
    edit('west/ossm2/federation.yaml', '  kind: ExportedServiceSet\n', '  kind: ExportedServiceSet\n   bad: [\n'),
    ['clusters/west/ossm2/federation.yaml:', 'YAML syntax error'],
  ],
  [
    'an alias without its anchor',
    edit('west/ossm2/federation.yaml', '  resourceVersion: ""\n', '  resourceVersion: *nowhere\n'),
    ['clusters/west/ossm2/federation.yaml:3', 'YAML error: Unresolved alias', 'Fix the anchors and aliases.'],
  ],
  [
    'unknown settings field',
    edit('west/cluster.yaml', '    address: 198.51.100.20', '    adress: 198.51.100.20'),
    [
      'clusters/west/cluster.yaml:15, ClusterSettings west, field spec.eastWestGateway.adress: unknown field.',
      'Allowed fields here: address, name, namespace, service',
    ],
  ],
  [
    'settings name differs from the folder',
    edit('east/cluster.yaml', 'name: east', 'name: eest'),
    ['clusters/east/cluster.yaml:4', 'field metadata.name', 'the folder is "east"'],
  ],
  [
    'missing settings',
    (d) => fs.rmSync(path.join(d, 'east', 'cluster.yaml')),
    ['clusters/east/cluster.yaml: cluster settings are missing'],
  ],
  [
    'missing root certificate',
    (d) => fs.rmSync(path.join(d, 'west', 'root-cert.pem')),
    ['clusters/west/root-cert.pem: the mesh root certificate is missing'],
  ],
  [
    'certificate that is not a CA',
    (d) => fs.writeFileSync(path.join(d, 'west', 'root-cert.pem'), certPem('leaf-not-ca')),
    ['clusters/west/root-cert.pem:1', 'is not a CA'],
  ],
  [
    'private key in root-cert.pem',
    (d) =>
      fs.appendFileSync(
        path.join(d, 'west', 'root-cert.pem'),
        '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBg==\n-----END PRIVATE KEY-----\n',
      ),
    ['clusters/west/root-cert.pem:31', 'contains a private key'],
  ],
  [
    'two meshes with one trust domain',
    edit('east/ossm2/smcp.yaml', 'domain: east.local', 'domain: west.local'),
    // The error names east, the cluster that changed, not its correct twin west.
    [
      'clusters/east/ossm2/smcp.yaml:70, ServiceMeshControlPlane istio-system/basic, field spec.security.trust.domain',
      `clusters west and east both use trust domain "west.local"; west's ServiceMeshPeer east-mesh expects east as "east.local".`,
      "Set east's spec.security.trust.domain to east.local",
    ],
  ],
  [
    'remote network name equal to the federation network',
    edit('west/cluster.yaml', 'east-mesh: east-network', 'east-mesh: network-east-mesh'),
    ['clusters/west/cluster.yaml:17, ClusterSettings west, field spec.remoteNetworks.east-mesh', 'is a federation network name'],
  ],
  [
    'remote network name equal to the own network',
    edit('west/cluster.yaml', 'east-mesh: east-network', 'east-mesh: network-west-mesh'),
    ['field spec.remoteNetworks.east-mesh', "is this cluster's own network"],
  ],
  [
    "own network equal to a peer's default network name",
    // east names no remoteNetworks: west's network is west-network by default, and east took that name.
    edit('east/cluster.yaml', 'network: network-east-mesh', 'network: west-network'),
    [
      'clusters/east/cluster.yaml:9, ClusterSettings east, field spec.network',
      `east's own network "west-network" is the name meshfed gives peer west-mesh's network (west-network`,
      'Set spec.network in clusters/east/cluster.yaml',
    ],
  ],
  [
    'SMCP older than v2.6',
    edit('west/ossm2/smcp.yaml', '  version: v2.6\nstatus', '  version: v2.5\nstatus'),
    ['clusters/west/ossm2/smcp.yaml:', 'field spec.version', 'older than v2.6'],
  ],
  ['no SMCP', (d) => fs.rmSync(path.join(d, 'east', 'ossm2', 'smcp.yaml')), ['no ServiceMeshControlPlane found']],
  [
    'one object defined twice',
    (d) => fs.copyFileSync(path.join(d, 'west', 'ossm2', 'workloads.yaml'), path.join(d, 'west', 'ossm2', 'workloads-again.yaml')),
    // One mistake, one error: the whole file is a copy.
    ['clusters/west/ossm2/workloads.yaml: this file duplicates clusters/west/ossm2/workloads-again.yaml: all 6 of its objects'],
  ],
  [
    'one object dumped twice',
    (d) =>
      fs.writeFileSync(
        path.join(d, 'west', 'ossm2', 'extra.yaml'),
        'apiVersion: v1\nkind: Service\nmetadata: {name: httpbin, namespace: a}\n' +
          'spec: {ports: [{name: http, port: 8000}], selector: {app: httpbin}}\n',
      ),
    ['clusters/west/ossm2/workloads.yaml:', 'Service a/httpbin is defined twice: first at clusters/west/ossm2/extra.yaml'],
  ],
  [
    'two services exported under one name',
    edit(
      'west/ossm2/federation.yaml',
      '        name: httpbin\n        namespace: b\n      type: NameSelector',
      '        name: httpbin\n        namespace: b\n        alias:\n          namespace: a\n      type: NameSelector',
    ),
    [
      'ExportedServiceSet istio-system/east-mesh, field spec.exportRules[1]',
      'a/httpbin are both exported to east as httpbin.a.svc.east-mesh-exports.local',
    ],
  ],
  [
    'peer whose trust domain is no cluster',
    edit('east/ossm2/federation.yaml', 'trustDomain: west.local', 'trustDomain: south.local'),
    [
      'ServiceMeshPeer istio-system/west-mesh, field spec.security.trustDomain',
      'no cluster in the clusters folder has trust domain "south.local"',
    ],
  ],
  [
    'Istio version Sail does not offer',
    edit('east/cluster.yaml', 'version: v1.27.3', 'version: v1.99.0'),
    ['clusters/east/cluster.yaml:', 'field spec.ossm3.version', 'do not offer Istio v1.99.0'],
  ],
  [
    'version alias instead of an exact version',
    edit('east/cluster.yaml', 'version: v1.27.3', 'version: v1.27-latest'),
    ['field spec.ossm3.version', 'an exact version such as v1.27.3'],
  ],
  [
    'spec.acknowledge naming no rule',
    edit('east/cluster.yaml', '  network: network-east-mesh\n', '  network: network-east-mesh\n  acknowledge: [MF016, MF099]\n'),
    ['clusters/east/cluster.yaml:10, ClusterSettings east, field spec.acknowledge[1]: MF099 is not a meshfed rule.'],
  ],
  [
    'spec.acknowledge naming a rule that reports only errors',
    edit('east/cluster.yaml', '  network: network-east-mesh\n', '  network: network-east-mesh\n  acknowledge: [MF014]\n'),
    [
      'field spec.acknowledge[0]: MF014 reports only errors, and errors are never acknowledged. ' +
        'Remove it from spec.acknowledge and fix what it reports (docs/rules.md#mf014).',
    ],
  ],
  [
    'wrong type in a dump',
    edit('west/ossm2/federation.yaml', 'servicePort: 15443', 'servicePort: [15443]'),
    ['ServiceMeshPeer istio-system/east-mesh, field spec.remote.servicePort: expected a number'],
  ],
];

describe('input errors', () => {
  // A dist/ from a good run, which every failing run must leave byte-identical.
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'meshfed-prev-')), 'dist');
  beforeAll(() => expect(runCli(['--clusters', EXAMPLE_CLUSTERS, '--out', out]).code).toBe(0));

  test.each(cases)('%s', (_name, mutate, expected) => {
    const before = readTree(out);
    const parent = fs.mkdtempSync(path.join(os.tmpdir(), 'meshfed-bad-'));
    const clusters = path.join(parent, 'clusters');
    copyTree(EXAMPLE_CLUSTERS, clusters);
    mutate(clusters);
    const cwd = process.cwd();
    process.chdir(parent); // so reported paths read clusters/<cluster>/…, as for a user
    let res: ReturnType<typeof runCli>;
    try {
      res = runCli(['--clusters', 'clusters', '--out', out]);
    } finally {
      process.chdir(cwd);
    }
    expect(res.code).toBe(1);
    for (const e of expected) expect(res.stderr).toContain(e as string);
    expect(res.stderr).toMatch(/^error: /m);
    expect(res.stderr).not.toMatch(/^\s+at /m);
    expect(res.stderr).toContain('nothing was written');
    if (_name === 'two meshes with one trust domain') expect(res.stderr.match(/^error: /gm)).toHaveLength(1);
    expect(readTree(out)).toEqual(before);
  });

  test("an east-west address and port that are the old federation ingress gateway's are a warning (MF023) naming both", () => {
    const clusters = copyTree(EXAMPLE_CLUSTERS);
    edit('west/cluster.yaml', '    address: 198.51.100.20', '    address: 198.51.100.11')(clusters);
    const res = runCli(['--clusters', clusters, '--out', path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'meshfed-old-')), 'dist')]);
    expect(res.code).toBe(0);
    expect(res.stderr).toContain(
      `warning MF023 [west] ${clusters}/west/cluster.yaml:15, ClusterSettings west, field spec.eastWestGateway.address: ` +
        "198.51.100.11 port 15443 is the address and port of west's federation ingress gateway (ServiceMeshPeer west-mesh in east lists them",
    );
  });

  test('the hint for an unknown address reads a hostname-publishing load balancer too', () => {
    const clusters = copyTree(EXAMPLE_CLUSTERS);
    edit('west/cluster.yaml', '    address: 198.51.100.20\n', '')(clusters);
    const res = runCli(['--clusters', clusters, '--out', path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'meshfed-hint-')), 'dist')]);
    expect(res.stderr).toContain("-o jsonpath='{.status.loadBalancer.ingress[0].ip}{.status.loadBalancer.ingress[0].hostname}'");
  });

  test('usage errors exit 2', () => {
    expect(runCli(['--nope']).code).toBe(2);
  });
});

describe('MF022 peer roots', () => {
  /** The bundled example after `meshfed certs west --force`: west's root-cert.pem is a new lab root, east's ConfigMap the real one. */
  async function labRootOverLiveMesh(): Promise<string> {
    const dir = copyTree(EXAMPLE_CLUSTERS);
    const certs = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'meshfed-lab-')), 'certs');
    const quiet = [
      jest.spyOn(console, 'error').mockImplementation(() => undefined),
      jest.spyOn(console, 'log').mockImplementation(() => undefined),
    ];
    try {
      // A live mesh (ossm2/ dumps, an existing root-cert.pem): refused without --force.
      expect(await runCerts(['west', '--key-size', '2048', '--clusters', dir, '--out', certs], {})).toBe(1);
      expect(await runCerts(['west', '--key-size', '2048', '--force', '--clusters', dir, '--out', certs], {})).toBe(0);
    } finally {
      quiet.forEach((s) => s.mockRestore());
    }
    return dir;
  }
  const pointers = (dir: string, phase: string) => {
    for (const c of ['east', 'west']) edit(`${c}/cluster.yaml`, 'phase: 00-federation', `phase: ${phase}`)(dir);
  };

  test('triggers: a lab root over a live mesh warns before 05, and is an error naming both files once OSSM 3 trusts it', async () => {
    const dir = await labRootOverLiveMesh();
    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'meshfed-roots-')), 'dist');
    const cm = new RegExp(
      `${dir}/east/ossm2/federation\\.yaml:\\d+, ConfigMap istio-system/west-mesh-ca-root-cert, field data\\.root-cert\\.pem: `,
    );
    const held =
      'ConfigMap istio-system/west-mesh-ca-root-cert (spec.security.certificateChain of ServiceMeshPeer istio-system/west-mesh), ' +
      `the root east's Maistra validates west with today, holds "O=my-company.org, CN=West Root CA" (SHA-256 `;
    const fix =
      `copy it into ${dir}/west/root-cert.pem again (oc --context west get cm istio-ca-root-cert -n istio-system ` +
      `-o jsonpath='{.data.root-cert\\.pem}' > ${dir}/west/root-cert.pem), never a lab root from meshfed certs, and synth again.`;
    const warned = runCli(['--clusters', dir, '--out', out], { MESHFED_CACHE: '0' });
    expect(warned.code).toBe(0);
    const warning = warned.stderr.split('\n').find((l) => l.startsWith('warning MF022'))!;
    expect(warning).toMatch(new RegExp(`^warning MF022 \\[east @ 05-install-ossm3\\] ${cm.source}`));
    expect(warning).toContain(held);
    expect(warning).toContain(`${dir}/west/root-cert.pem holds "O=meshfed lab, CN=West Root CA" (SHA-256 `);
    expect(warning).toContain("From each peer's 05-install-ossm3 on, OSSM 3 trusts that file instead");
    expect(warning).toContain(fix);

    // Straight to 05 on a fresh render (from the 00 render above it would be a skipped phase, refused first).
    pointers(dir, '05-install-ossm3');
    const fresh = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'meshfed-roots-')), 'dist');
    const refused = runCli(['--clusters', dir, '--out', fresh], { MESHFED_CACHE: '0' });
    expect(refused.code).toBe(1);
    const error = refused.stderr.split('\n').find((l) => l.startsWith('error: '))!;
    expect(error).toMatch(new RegExp(`^error: ${cm.source}MF022 \\[east @ 05-install-ossm3\\]: `));
    expect(error).toContain(held);
    expect(error).toContain(
      "east (at 05-install-ossm3) already trusts that file through OSSM 3 (the Istio's caCertificates): " +
        "OSSM 3 proxies there reject west's certificates, and cross-mesh mTLS with west breaks.",
    );
    expect(error).toContain(fix);
    expect(error).toContain(
      "If west's root really changed, dump east's ConfigMap again (oc get cm west-mesh-ca-root-cert -n istio-system -o yaml).",
    );
    expect(refused.stderr).toContain('nothing was written');
    expect(fs.existsSync(fresh)).toBe(false);
  });

  test('does not trigger when root-cert.pem is the root the peer CA ConfigMap holds, at any phase', () => {
    const dir = copyTree(EXAMPLE_CLUSTERS);
    pointers(dir, '05-install-ossm3');
    const res = runCli(['--clusters', dir, '--out', path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'meshfed-roots-')), 'dist')]);
    expect(res.code).toBe(0);
    expect(res.stderr).not.toContain('MF022');
  });
});
