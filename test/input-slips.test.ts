/**
 * Ordinary slips in the input files and what meshfed says about them: Git conflict markers in any input
 * file, CRLF line ends, byte order marks and UTF-16 (a Windows checkout, editor or shell), a kind that is
 * a slip for one meshfed reads, and an object dumped twice. Each is an exact message naming the file and
 * line, exit 1 and the previous dist/ untouched, or (line ends) a byte-identical dist/.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import { copyTree, EXAMPLE_CLUSTERS } from './support/fixtures';
import { runCli, synthTo } from './support/synth';
import { kindNearMiss, READ_KINDS } from '../lib/load/kinds';
import { decodeInput } from '../lib/load/text';

const ROOT = path.join(__dirname, '..');
const example = (name: string) => path.join(ROOT, 'examples', name, 'clusters');

/** A copy of `from` as `<tmp>/clusters`, changed by `mutate`. */
function clustersCopy(from: string, mutate: (dir: string) => void = () => {}): string {
  const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'meshfed-slip-')), 'clusters');
  copyTree(from, dir);
  mutate(dir);
  return dir;
}

/** synth of `clusters` (run from its parent, so messages read clusters/<cluster>/…) into a dist/ rendered before from `good`. */
function synthOver(clusters: string, good = EXAMPLE_CLUSTERS): { code: number; stderr: string; untouched: boolean } {
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'meshfed-prev-')), 'dist');
  expect(runCli(['--clusters', good, '--out', out]).code).toBe(0);
  const before = bytesOf(out);
  const cwd = process.cwd();
  process.chdir(path.dirname(clusters));
  try {
    const res = runCli(['--clusters', 'clusters', '--out', out], { MESHFED_CACHE: '0' });
    return { ...res, untouched: equalTrees(before, bytesOf(out)) };
  } finally {
    process.chdir(cwd);
  }
}

/** Every file under `dir` as bytes, by relative path. */
function bytesOf(dir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.set(path.relative(dir, p), fs.readFileSync(p));
    }
  };
  walk(dir);
  return out;
}

function equalTrees(a: Map<string, Buffer>, b: Map<string, Buffer>): boolean {
  return a.size === b.size && [...a].every(([k, v]) => b.has(k) && v.equals(b.get(k)!));
}

/** The paths of the files that differ between two trees (missing on one side included). */
function differingFiles(a: Map<string, Buffer>, b: Map<string, Buffer>): string[] {
  return [...new Set([...a.keys(), ...b.keys()])].filter((k) => !a.get(k) || !b.get(k) || !a.get(k)!.equals(b.get(k)!)).sort();
}

function errorLines(stderr: string): string[] {
  return stderr.split('\n').filter((l) => l.startsWith('error: '));
}

/** Every file under `dir`. */
function filesUnder(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? filesUnder(p) : [p];
  });
}

/** Wrap the line holding `text` of `file` in a conflict: ours, the base (diff3 style), theirs. */
function conflict(file: string, text: string): number {
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  const i = lines.findIndex((l) => l.includes(text));
  if (i < 0) throw new Error(`test setup: ${text} not in ${file}`);
  lines.splice(i, 1, '<<<<<<< HEAD', lines[i], '||||||| base', lines[i], '=======', `${lines[i]}x`, '>>>>>>> feature/new-peer');
  fs.writeFileSync(file, lines.join('\n'));
  return i + 1;
}

const MERGE_FIX = 'Resolve the conflict (`git mergetool`, or edit the file and remove the markers) and commit it.';

describe('Git conflict markers', () => {
  test.each([
    ['cluster.yaml', EXAMPLE_CLUSTERS, 'west/cluster.yaml', 'address: 198.51.100.20'],
    ['an ossm2/ dump', EXAMPLE_CLUSTERS, 'west/ossm2/federation.yaml', '198.51.100.10'],
    ['an ossm2/ dump holding the SMCP', EXAMPLE_CLUSTERS, 'east/ossm2/smcp.yaml', 'domain: east.local'],
    ['gitops.yaml', EXAMPLE_CLUSTERS, 'gitops.yaml', 'repoURL'],
    ['root-cert.pem', EXAMPLE_CLUSTERS, 'east/root-cert.pem', 'BEGIN CERTIFICATE'],
    ['a peer bundle', example('separate-domains'), 'east/peers/west.yaml', 'trustDomain'],
    ['a greenfield federation/ file', example('greenfield'), 'east/federation/west.yaml', 'kind: ServiceMeshPeer'],
  ])('in %s: "merge conflict marker", its line, and no other error', (_name, from, file, text) => {
    let line = 0;
    const clusters = clustersCopy(from, (d) => (line = conflict(path.join(d, file), text)));
    const res = synthOver(clusters, from);
    expect(res.code).toBe(1);
    expect(errorLines(res.stderr)).toEqual([
      `error: clusters/${file}:${line}: merge conflict marker "<<<<<<< HEAD": the file holds a merge conflict Git could not resolve, ` +
        `with both versions in it. ${MERGE_FIX}`,
    ]);
    expect(res.untouched).toBe(true);
  });

  test("in a greenfield cluster's control-plane.yaml", () => {
    const clusters = clustersCopy(example('greenfield'), (d) =>
      fs.writeFileSync(
        path.join(d, 'east', 'control-plane.yaml'),
        'apiVersion: maistra.io/v2\nkind: ServiceMeshControlPlane\n<<<<<<< ours\nmetadata: {name: a}\n=======\nmetadata: {name: b}\n>>>>>>> theirs\n',
      ),
    );
    const res = synthOver(clusters, example('greenfield'));
    expect(errorLines(res.stderr)).toEqual([
      'error: clusters/east/control-plane.yaml:3: merge conflict marker "<<<<<<< ours": the file holds a merge conflict Git could not resolve, ' +
        `with both versions in it. ${MERGE_FIX}`,
    ]);
  });

  test('counts the conflicts of a file; a lone ======= (a PEM comment underline) is no marker', () => {
    const clusters = clustersCopy(EXAMPLE_CLUSTERS, (d) => {
      const f = path.join(d, 'west', 'cluster.yaml');
      conflict(f, 'address: 198.51.100.20');
      conflict(f, 'network: network-west-mesh');
      const pem = path.join(d, 'east', 'root-cert.pem');
      fs.writeFileSync(pem, `East mesh root\n=======\n${fs.readFileSync(pem, 'utf8')}`);
    });
    const res = synthOver(clusters);
    expect(errorLines(res.stderr)).toHaveLength(1);
    expect(res.stderr).toContain('the file holds 2 merge conflicts Git could not resolve');
  });
});

describe('line ends, byte order marks and UTF-16', () => {
  const crlf = (f: string) => fs.writeFileSync(f, fs.readFileSync(f, 'utf8').replace(/\r?\n/g, '\r\n'));

  test.each([
    ['clusters/ (with gitops.yaml)', EXAMPLE_CLUSTERS],
    ['examples/production-smcp (gitops.yaml, a production SMCP)', example('production-smcp')],
    ['examples/separate-domains (a peer bundle with its rootCert)', example('separate-domains')],
    ['examples/greenfield', example('greenfield')],
  ])('%s with CRLF line ends renders a byte-identical dist/', (_name, from) => {
    const lf = synthTo(clustersCopy(from));
    const converted = clustersCopy(from, (d) => filesUnder(d).forEach(crlf));
    expect(filesUnder(converted).every((f) => fs.readFileSync(f, 'utf8').includes('\r\n'))).toBe(true);
    const windows = synthTo(converted);
    expect(differingFiles(bytesOf(lf.dist), bytesOf(windows.dist))).toEqual([]);
    expect(bytesOf(windows.dist).size).toBeGreaterThan(10);
  });

  test('a UTF-8 byte order mark, lone CR line ends and a UTF-16LE dump (Windows PowerShell 5.1 `>`) render the same dist/', () => {
    const lf = synthTo(clustersCopy(EXAMPLE_CLUSTERS));
    const converted = clustersCopy(EXAMPLE_CLUSTERS, (d) => {
      const text = (f: string) => fs.readFileSync(path.join(d, f), 'utf8');
      fs.writeFileSync(path.join(d, 'west', 'cluster.yaml'), `\ufeff${text('west/cluster.yaml').replace(/\n/g, '\r\n')}`);
      fs.writeFileSync(path.join(d, 'east', 'root-cert.pem'), text('east/root-cert.pem').replace(/\n/g, '\r'));
      fs.writeFileSync(path.join(d, 'east', 'cluster.yaml'), text('east/cluster.yaml').replace(/\n/g, '\r'));
      const smcp = `\ufeff${text('west/ossm2/smcp.yaml').replace(/\n/g, '\r\n')}`;
      fs.writeFileSync(path.join(d, 'west', 'ossm2', 'smcp.yaml'), Buffer.from(smcp, 'utf16le'));
    });
    expect(differingFiles(bytesOf(lf.dist), bytesOf(synthTo(converted).dist))).toEqual([]);
  });

  test('decodeInput: one text for every spelling of it', () => {
    const text = 'kind: X\nv: é\n';
    const be = Buffer.from(`\ufeff${text}`, 'utf16le').swap16();
    for (const raw of [
      Buffer.from(text),
      Buffer.from(`\ufeff${text}`),
      Buffer.from(text.replace(/\n/g, '\r\n')),
      Buffer.from(text.replace(/\n/g, '\r')),
      Buffer.from(`\ufeff${text}`, 'utf16le'),
      be,
    ])
      expect(decodeInput(raw)).toBe(text);
  });

  test('the synth stamp: CRLF input is a change (rendered again, nothing written), then short-circuits; synth --check passes', () => {
    const parent = fs.mkdtempSync(path.join(os.tmpdir(), 'meshfed-stamp-'));
    const clusters = copyTree(EXAMPLE_CLUSTERS, path.join(parent, 'clusters'));
    const out = path.join(parent, 'dist');
    const cache = { MESHFED_CACHE_DIR: path.join(parent, 'cache') };
    const json = (args: string[]) => {
      const res = runCli([...args, '--clusters', clusters, '--out', out, '--json'], cache);
      expect(res.code).toBe(0);
      return JSON.parse(res.stdout) as { unchanged?: boolean; files?: { added: string[]; changed: string[]; removed: string[] } };
    };
    json([]);
    const rendered = bytesOf(out);
    filesUnder(clusters).forEach(crlf);
    expect(json(['--check']).unchanged).toBeUndefined(); // the input hash saw the change: rendered, compared, equal
    const again = json([]);
    expect(again.unchanged).toBeUndefined();
    expect(again.files).toMatchObject({ added: [], changed: [], removed: [] });
    expect(json([]).unchanged).toBe(true);
    expect(differingFiles(rendered, bytesOf(out))).toEqual([]);
  });
});

describe('a kind that is a slip for one meshfed reads', () => {
  const editFederation = (from: string, to: string) => (d: string) => {
    const f = path.join(d, 'west', 'ossm2', 'federation.yaml');
    const text = fs.readFileSync(f, 'utf8');
    if (!text.includes(from)) throw new Error(`test setup: ${from} not found`);
    fs.writeFileSync(f, text.replace(from, to));
  };
  const lineOf = (d: string, text: string) =>
    fs
      .readFileSync(path.join(d, 'west', 'ossm2', 'federation.yaml'), 'utf8')
      .split('\n')
      .findIndex((l) => l.includes(text)) + 1;

  test('kind: servicemeshpeer is an error naming the kind meant, not one blaming spec.remoteNetworks', () => {
    const clusters = clustersCopy(EXAMPLE_CLUSTERS, editFederation('  kind: ServiceMeshPeer\n', '  kind: servicemeshpeer\n'));
    const res = synthOver(clusters);
    expect(res.code).toBe(1);
    expect(errorLines(res.stderr)).toEqual([
      `error: clusters/west/ossm2/federation.yaml:${lineOf(clusters, 'kind: servicemeshpeer')}, servicemeshpeer istio-system/east-mesh, ` +
        'field kind: unknown kind servicemeshpeer (did you mean ServiceMeshPeer?): meshfed would ignore this object. ' +
        'Write kind: ServiceMeshPeer (kinds are case-sensitive), as `oc get … -o yaml` prints it.',
    ]);
    expect(res.untouched).toBe(true);
  });

  test.each([
    [
      'a plural',
      '  kind: ExportedServiceSet\n',
      '  kind: ExportedServiceSets\n',
      'unknown kind ExportedServiceSets (did you mean ExportedServiceSet?)',
    ],
    ["oc's resource name", '  kind: ServiceMeshPeer\n', '  kind: smcp\n', 'unknown kind smcp (did you mean ServiceMeshControlPlane?)'],
    [
      'a Maistra kind under another API group',
      'apiVersion: federation.maistra.io/v1\n  kind: ServiceMeshPeer',
      'apiVersion: maistra.io/v1\n  kind: ServiceMeshPeer',
      'field apiVersion: apiVersion maistra.io/v1 has no ServiceMeshPeer: meshfed reads ServiceMeshPeer of federation.maistra.io only',
    ],
  ])('%s', (_name, from, to, message) => {
    const res = synthOver(clustersCopy(EXAMPLE_CLUSTERS, editFederation(from, to)));
    expect(res.code).toBe(1);
    expect(errorLines(res.stderr)).toHaveLength(1);
    expect(res.stderr).toContain(message);
  });

  test('kinds meshfed does not read stay ignored, whatever their group', () => {
    const unrelated = [
      ['v1', 'Secret'],
      ['v1', 'Pod'],
      ['v1', 'Endpoints'],
      ['apps/v1', 'ReplicaSet'],
      ['rbac.authorization.k8s.io/v1', 'Role'],
      ['gateway.networking.k8s.io/v1', 'Gateway'],
      ['gateway.networking.k8s.io/v1', 'HTTPRoute'],
      ['serving.knative.dev/v1', 'Service'],
      ['serving.knative.dev/v1', 'Route'],
      ['networking.istio.io/v1', 'Sidecar'],
      ['networking.istio.io/v1', 'WorkloadEntry'],
      ['networking.istio.io/v1', 'EnvoyFilter'],
      ['security.istio.io/v1', 'PeerAuthentication'],
      ['security.istio.io/v1', 'RequestAuthentication'],
      ['maistra.io/v1', 'ServiceMeshExtension'],
      ['networking.k8s.io/v1', 'NetworkPolicy'],
      ['monitoring.coreos.com/v1', 'ServiceMonitor'],
    ];
    for (const [apiVersion, kind] of unrelated)
      expect({ kind, apiVersion, meant: kindNearMiss(kind, apiVersion.split('/')[0]) }).toEqual({ kind, apiVersion, meant: undefined });
    for (const k of READ_KINDS) expect(kindNearMiss(k.kind, k.group)).toBeUndefined();
    const clusters = clustersCopy(EXAMPLE_CLUSTERS, (d) =>
      fs.writeFileSync(
        path.join(d, 'west', 'ossm2', 'other.yaml'),
        unrelated
          .map(([apiVersion, kind], i) => `apiVersion: ${apiVersion}\nkind: ${kind}\nmetadata: {name: o${i}, namespace: a}\n`)
          .join('---\n'),
      ),
    );
    expect(synthOver(clusters).code).toBe(0);
  });
});

describe('an object defined twice', () => {
  /** west's ServiceMeshPeer east-mesh, again in a file of its own, edited. */
  const peerAgain = (edit: (peer: string) => string) => (d: string) => {
    const text = fs.readFileSync(path.join(d, 'west', 'ossm2', 'federation.yaml'), 'utf8');
    const start = text.indexOf('- apiVersion: federation.maistra.io/v1\n  kind: ServiceMeshPeer');
    const peer = text.slice(start, text.indexOf('\n- apiVersion', start) + 1);
    fs.writeFileSync(path.join(d, 'west', 'ossm2', 'peer-again.yaml'), `apiVersion: v1\nkind: List\nitems:\n${edit(peer)}`);
  };
  const head =
    'error: clusters/west/ossm2/peer-again.yaml:4, ServiceMeshPeer istio-system/east-mesh: ServiceMeshPeer istio-system/east-mesh ' +
    'is defined twice: first at clusters/west/ossm2/federation.yaml:8.';
  const fix = 'Keep one copy (dumps of overlapping `oc get` commands repeat objects): the newer, unless the older holds what should run.';

  test('says which fields differ and which copy is newer by resourceVersion', () => {
    const res = synthOver(
      clustersCopy(
        EXAMPLE_CLUSTERS,
        peerAgain((p) =>
          p
            .replace('- 198.51.100.10', '- 198.51.100.99')
            .replace('resourceVersion: "5120448"', 'resourceVersion: "5130001"')
            .replace('    name: east-mesh\n', '    name: east-mesh\n    labels:\n      team: mesh\n'),
        ),
      ),
    );
    expect(res.code).toBe(1);
    expect(errorLines(res.stderr)).toEqual([
      `${head} The copies differ in 2 fields: metadata.labels (first: absent, here: {"team":"mesh"}), ` +
        'spec.remote.addresses[0] (first: "198.51.100.10", here: "198.51.100.99"). ' +
        `This copy is the newer (metadata.resourceVersion 5130001 > 5120448). ${fix}`,
    ]);
  });

  test('an identical copy is said to be one, server fields aside; without versions it says it cannot tell', () => {
    const same = synthOver(
      clustersCopy(
        EXAMPLE_CLUSTERS,
        peerAgain((p) => p.replace('resourceVersion: "5120448"', 'resourceVersion: "5000000"')),
      ),
    );
    expect(errorLines(same.stderr)).toEqual([
      `${head} The copies are the same apart from server fields (status, resourceVersion, managedFields…). ` +
        `The first copy is the newer (metadata.resourceVersion 5120448 > 5000000). ${fix}`,
    ]);
    const unknown = synthOver(
      clustersCopy(
        EXAMPLE_CLUSTERS,
        peerAgain((p) =>
          p
            .replace(/ {4}(creationTimestamp|resourceVersion|generation|uid): .*\n/g, '')
            .replace('discoveryPort: 8188', 'discoveryPort: 8189'),
        ),
      ),
    );
    expect(unknown.stderr).toContain(
      'The copies differ in one field: spec.remote.discoveryPort (first: 8188, here: 8189). Which is newer cannot be told: ' +
        'neither metadata.resourceVersion, generation nor creationTimestamp tells them apart.',
    );
  });

  test('an object deleted and created again between two dumps: the later creationTimestamp is the newer', () => {
    const res = synthOver(
      clustersCopy(
        EXAMPLE_CLUSTERS,
        peerAgain((p) =>
          p
            .replace(/ {4}resourceVersion: .*\n/, '')
            .replace(/uid: .*/, 'uid: 00000000-0000-4000-8000-000000000001')
            .replace(/creationTimestamp: .*/, 'creationTimestamp: "2026-02-01T00:00:00Z"'),
        ),
      ),
    );
    expect(res.stderr).toContain(
      'This copy is the newer (metadata.creationTimestamp 2026-02-01T00:00:00Z > 2026-01-13T14:09:40Z: ' +
        'deleted and created again between the two dumps).',
    );
  });

  test('a whole file dumped twice: one error, how many objects differ, which dump is newer', () => {
    const res = synthOver(
      clustersCopy(EXAMPLE_CLUSTERS, (d) => {
        const text = fs.readFileSync(path.join(d, 'west', 'ossm2', 'federation.yaml'), 'utf8');
        fs.writeFileSync(
          path.join(d, 'west', 'ossm2', 'later.yaml'),
          text
            .replace(/resourceVersion: "(\d+)"/g, (_m, v: string) => `resourceVersion: "${Number(v) + 1}"`)
            .replace('- 198.51.100.10', '- 198.51.100.99'),
        );
      }),
    );
    expect(errorLines(res.stderr)).toHaveLength(1);
    expect(res.stderr).toMatch(
      /^error: clusters\/west\/ossm2\/later\.yaml: this file duplicates clusters\/west\/ossm2\/federation\.yaml: all \d+ of its objects are defined there too\. 1 of them differ, e\.g\. ServiceMeshPeer istio-system\/east-mesh in spec\.remote\.addresses\[0\]\. This file is the newer dump/m,
    );
  });
});
