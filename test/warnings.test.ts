/**
 * Every warning synth gives while it reads the input names its rule (lib/rules.ts), so
 * spec.acknowledge and --strict treat it like a finding; the rules reported only that way (input) each
 * have an input that triggers them and one that does not. The terminal shows one line per rule and cluster
 * unless --verbose; --json and plan.json carry every one.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import { parseDocument } from 'yaml';

import { generateFederation } from '../bench/generate';
import { copyTree, EXAMPLE_CLUSTERS, writeClusters } from './support/fixtures';
import { readTree, runCli } from './support/synth';
import { threeMeshSpecs } from './support/three-mesh';
import { acknowledgeWarnings } from '../lib/check';
import { Finding, formatFinding } from '../lib/check/finding';
import { warningLines } from '../lib/cli/warnings';
import { Diagnostics, formatDiagnostic, WarningDiagnostic } from '../lib/diagnostics';
import { loadClusters } from '../lib/load/clusters';
import { buildModel } from '../lib/model/federation';
import { buildPlan } from '../lib/plan/plan';

const NODEPORT = path.join(__dirname, '..', 'examples', 'nodeport', 'clusters');
const tmpOut = () => path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'meshfed-warn-')), 'dist');

/** The warnings of load, model and plan, attributed to their clusters as synth does. */
function warningsOf(dir: string): WarningDiagnostic[] {
  const diags = new Diagnostics();
  const model = buildModel(loadClusters(dir, diags), diags);
  buildPlan(model, diags);
  diags.throwIfErrors();
  acknowledgeWarnings(model, diags);
  return diags.warnings;
}

const rulesOf = (ws: WarningDiagnostic[]) => [...new Set(ws.map((w) => w.rule))].sort();

/** Set a field of a YAML file (comments kept). */
function setIn(file: string, at: (string | number)[], value: unknown): void {
  const doc = parseDocument(fs.readFileSync(file, 'utf8'));
  doc.setIn(at, value);
  fs.writeFileSync(file, doc.toString());
}

test('the bundled examples give no warning of the input rules', () => {
  expect(warningsOf(EXAMPLE_CLUSTERS)).toEqual([]);
  expect(warningsOf(NODEPORT)).toEqual([]);
});

test('a warning without its rule does not compile, and prints like a finding', () => {
  const diags = new Diagnostics();
  // @ts-expect-error: warn(rule, location, message, hint): the rule comes first and is required.
  const untyped = () => diags.warn({ file: 'clusters/east/cluster.yaml' }, 'a message');
  void untyped;
  diags.warn('MF021', { file: 'clusters/east/cluster.yaml', line: 3, object: 'ClusterSettings east', field: 'spec.x' }, 'what.', 'Do.');
  expect(diags.warnings.map(formatDiagnostic)).toEqual([
    'warning MF021 clusters/east/cluster.yaml:3, ClusterSettings east, field spec.x: what. Do.',
  ]);
});

describe('MF020 incomplete dumps', () => {
  test('triggers on a member namespace whose Namespace is not dumped', () => {
    const dir = copyTree(EXAMPLE_CLUSTERS);
    fs.writeFileSync(
      path.join(dir, 'west', 'ossm2', 'members.yaml'),
      'apiVersion: maistra.io/v1\nkind: ServiceMeshMemberRoll\nmetadata: {name: default, namespace: istio-system}\n' +
        'spec: {members: [a, b, payments]}\n',
    );
    const ws = warningsOf(dir);
    expect(rulesOf(ws)).toEqual(['MF020']);
    expect(formatDiagnostic(ws[0])).toContain(
      `warning MF020 [west] ${dir}/west/ossm2/members.yaml:4, ServiceMeshMemberRoll istio-system/default, field spec.members[2]: ` +
        'member namespace "payments" has no Namespace object in ossm2/',
    );
  });
  test('does not trigger when every member namespace is dumped', () => {
    const dir = copyTree(EXAMPLE_CLUSTERS);
    fs.writeFileSync(
      path.join(dir, 'west', 'ossm2', 'members.yaml'),
      'apiVersion: maistra.io/v1\nkind: ServiceMeshMemberRoll\nmetadata: {name: default, namespace: istio-system}\nspec: {members: [a, b]}\n',
    );
    expect(warningsOf(dir)).toEqual([]);
  });
});

describe('MF021 ignored configuration', () => {
  const orphanSet =
    'apiVersion: federation.maistra.io/v1\nkind: ExportedServiceSet\nmetadata: {name: nobody, namespace: istio-system}\n' +
    'spec: {exportRules: [{type: NameSelector, nameSelector: {namespace: a, name: httpbin}}]}\n';
  test('triggers on an ExportedServiceSet no ServiceMeshPeer pairs with', () => {
    const dir = copyTree(EXAMPLE_CLUSTERS);
    fs.writeFileSync(path.join(dir, 'west', 'ossm2', 'orphan.yaml'), orphanSet);
    const ws = warningsOf(dir);
    expect(ws.map((w) => [w.rule, w.cluster, w.message])).toEqual([
      [
        'MF021',
        'west',
        'no ServiceMeshPeer named "nobody": Maistra pairs sets with peers by name, so this one does nothing (and is not migrated).',
      ],
    ]);
  });
  test('does not trigger on sets that pair with their ServiceMeshPeers by name', () => {
    expect(warningsOf(EXAMPLE_CLUSTERS)).toEqual([]);
  });
});

describe('MF023 east-west address', () => {
  test('triggers when the east-west address and port are those of the old federation ingress gateway', () => {
    const dir = copyTree(EXAMPLE_CLUSTERS);
    setIn(path.join(dir, 'west', 'cluster.yaml'), ['spec', 'eastWestGateway', 'address'], '198.51.100.11');
    const ws = warningsOf(dir);
    expect(ws.map(formatDiagnostic)).toEqual([
      `warning MF023 [west] ${dir}/west/cluster.yaml:15, ClusterSettings west, field spec.eastWestGateway.address: ` +
        "198.51.100.11 port 15443 is the address and port of west's federation ingress gateway (ServiceMeshPeer west-mesh in east " +
        'lists them: spec.remote.addresses, servicePort), not of its east-west gateway, which is a new Service (eastwestgateway-istio). ' +
        'Set the address of Service eastwestgateway-istio in namespace istio-ingress once 02-export is applied.',
    ]);
  });
  test('does not trigger for NodePort gateways on the same node IPs with their own node ports', () => {
    // Both federation ingress and east-west gateway are NodePort Services: the peer reaches them on the
    // same nodes, the federation ingress on node port 30443, the east-west gateway on 31443.
    const dir = copyTree(NODEPORT);
    const fed = path.join(dir, 'east', 'ossm2', 'federation.yaml');
    const text = fs.readFileSync(fed, 'utf8');
    fs.writeFileSync(
      fed,
      text.replace(
        '      - 198.51.100.11\n      discoveryPort: 8188\n      servicePort: 15443',
        '      - 192.0.2.31\n      discoveryPort: 30188\n      servicePort: 30443',
      ),
    );
    expect(fs.readFileSync(fed, 'utf8')).not.toBe(text);
    expect(warningsOf(dir)).toEqual([]);
  });
  test('triggers for NodePort gateways when the node port is that of the federation ingress gateway too', () => {
    const dir = copyTree(NODEPORT);
    const fed = path.join(dir, 'east', 'ossm2', 'federation.yaml');
    const text = fs.readFileSync(fed, 'utf8');
    fs.writeFileSync(
      fed,
      text.replace(
        '      - 198.51.100.11\n      discoveryPort: 8188\n      servicePort: 15443',
        '      - 192.0.2.31\n      discoveryPort: 30188\n      servicePort: 31443',
      ),
    );
    const ws = warningsOf(dir);
    expect(ws.map((w) => [w.rule, w.cluster])).toEqual([['MF023', 'west']]);
    expect(ws[0].message).toContain("192.0.2.31 port 31443 is the address and port of west's federation ingress gateway");
    expect(ws[0].hint).toContain('and its node port in spec.eastWestGateway.service.nodePort.');
  });
});

describe('MF024 GitOps ownership', () => {
  test('triggers on a dumped object another Argo CD application tracks', () => {
    const dir = copyTree(EXAMPLE_CLUSTERS);
    const smcp = path.join(dir, 'east', 'ossm2', 'smcp.yaml');
    setIn(smcp, ['metadata', 'annotations'], {
      'argocd.argoproj.io/tracking-id': 'mesh:maistra.io/ServiceMeshControlPlane:istio-system/basic',
    });
    const ws = warningsOf(dir);
    expect(ws.map((w) => [w.rule, w.cluster])).toEqual([['MF024', 'east']]);
    expect(ws[0].message).toContain('is tracked by Argo CD application mesh (argocd.argoproj.io/tracking-id)');
  });
  test('does not trigger on objects only the Maistra operator owns', () => {
    expect(rulesOf(warningsOf(EXAMPLE_CLUSTERS))).toEqual([]);
  });
});

describe('MF025 exporter identities', () => {
  const specs = (serviceAccount: string | null) => {
    const s = threeMeshSpecs();
    return s.map((c) =>
      c.name === 'blue' ? { ...c, services: (c.services ?? []).map((x) => (x.name === 'details' ? { ...x, serviceAccount } : x)) } : c,
    );
  };
  test('triggers on an exported service whose workload is not dumped', () => {
    const ws = warningsOf(writeClusters(specs(null)));
    expect(ws.map((w) => [w.rule, w.cluster])).toEqual([['MF025', 'blue']]);
    expect(ws[0].message).toContain("no Deployment, StatefulSet or DaemonSet in blue's ossm2/ runs the pods of this service");
  });
  test('does not trigger when the workload is dumped', () => {
    expect(warningsOf(writeClusters(specs('details')))).toEqual([]);
  });
});

describe('warnings of the existing rules', () => {
  test('MF001: an imported service that selects no pods warns with the rule of the error that follows', () => {
    const specs = threeMeshSpecs();
    specs[0] = {
      ...specs[0],
      extraObjects: [
        {
          apiVersion: 'networking.istio.io/v1beta1',
          kind: 'ServiceEntry',
          metadata: { name: 'legacy', namespace: 'red-bookinfo', labels: { 'export-service': 'true' } },
          spec: { hosts: ['legacy.db'], location: 'MESH_INTERNAL', ports: [{ number: 5432, name: 'tcp' }], resolution: 'STATIC' },
        },
      ],
    };
    const ws = warningsOf(writeClusters(specs));
    expect(ws.filter((w) => w.rule === 'MF001').map((w) => w.message)).toEqual([
      expect.stringContaining('but it selects no pods (no selector / workloadSelector)'),
    ]);
  });
});

describe('spec.acknowledge and --strict apply to warnings as to findings', () => {
  const clash = () => {
    const dir = copyTree(EXAMPLE_CLUSTERS);
    setIn(path.join(dir, 'west', 'cluster.yaml'), ['spec', 'eastWestGateway', 'address'], '198.51.100.11');
    return dir;
  };
  test('an unacknowledged warning is printed with its rule, fails --strict and is in plan.json', () => {
    const dir = clash();
    const out = tmpOut();
    const strict = runCli(['--strict', '--clusters', dir, '--out', out], { MESHFED_CACHE: '0' });
    expect(strict.code).toBe(1);
    expect(strict.stderr).toMatch(/^warning MF023 \[west\] /m);
    expect(strict.stderr).toContain('meshfed: --strict: 1 warning(s) (above); nothing was written');
    expect(fs.existsSync(out)).toBe(false);
    const res = runCli(['--json', '--clusters', dir, '--out', out], { MESHFED_CACHE: '0' });
    expect(res.code).toBe(0);
    expect((JSON.parse(res.stdout) as { warnings: { rule: string }[] }).warnings.map((w) => w.rule)).toEqual(['MF023']);
    const plan = JSON.parse(fs.readFileSync(path.join(out, 'plan.json'), 'utf8')) as { warnings: unknown[] };
    expect(plan.warnings).toEqual([
      {
        rule: 'MF023',
        cluster: 'west',
        location: { file: 'west/cluster.yaml', line: 15, object: 'ClusterSettings west', field: 'spec.eastWestGateway.address' },
        message: expect.stringContaining('198.51.100.11 port 15443'),
        hint: expect.stringContaining('Set the address of Service eastwestgateway-istio'),
      },
    ]);
  });
  test('acknowledged by the cluster whose folder holds the file: not printed, not counted by --strict, kept in plan.json', () => {
    const dir = clash();
    // east's acknowledgement does not cover a warning about west's file.
    setIn(path.join(dir, 'east', 'cluster.yaml'), ['spec', 'acknowledge'], ['MF023']);
    expect(runCli(['--strict', '--clusters', dir, '--out', tmpOut()], { MESHFED_CACHE: '0' }).code).toBe(1);
    setIn(path.join(dir, 'west', 'cluster.yaml'), ['spec', 'acknowledge'], ['MF023']);
    const out = tmpOut();
    const res = runCli(['--strict', '--json', '--clusters', dir, '--out', out], { MESHFED_CACHE: '0' });
    expect(res.code).toBe(0);
    expect(res.stderr).not.toContain('MF023');
    expect((JSON.parse(res.stdout) as { warnings: unknown[] }).warnings).toEqual([]);
    const plan = JSON.parse(readTree(out).get('plan.json')!) as { warnings: { rule: string; acknowledged?: boolean }[] };
    expect(plan.warnings.map((w) => [w.rule, w.acknowledged])).toEqual([['MF023', true]]);
  });
});

describe('warnings that scale: one line per rule and cluster, every one with --verbose, --json and in plan.json', () => {
  const finding = (i: number): Finding => ({
    rule: 'MF010',
    severity: 'warning',
    cluster: 'm00',
    phase: '03-import',
    location: { file: 'clusters/m00/ossm2/workloads.yaml', line: 10 + i, object: `Service apps/svc-${i}`, field: 'spec.ports' },
    problem: `apps/svc-${i} exports 2 ports.`,
    fix: 'Test every port.',
  });

  test('2,000 MF010 findings of one cluster print as one line, naming the count and the first three', () => {
    const many = Array.from({ length: 2000 }, (_, i) => finding(i));
    const other: WarningDiagnostic = {
      severity: 'warning',
      rule: 'MF021',
      cluster: 'm01',
      location: { file: 'f.yaml', line: 2 },
      message: 'm.',
    };
    const lines = warningLines([other], [...many, { ...finding(7), cluster: 'm01' }], {
      verbose: false,
      listed: 'dist/plan.json lists them',
    });
    expect(lines).toEqual([
      formatDiagnostic(other),
      'warning MF010 [m00 @ 03-import] 2000 times, at clusters/m00/ossm2/workloads.yaml:10, Service apps/svc-0, field spec.ports; ' +
        'clusters/m00/ossm2/workloads.yaml:11, Service apps/svc-1, field spec.ports; clusters/m00/ossm2/workloads.yaml:12, ' +
        'Service apps/svc-2, field spec.ports and 1997 more: apps/svc-0 exports 2 ports. Test every port. ' +
        '(the first of 2000; --verbose prints every one, dist/plan.json lists them)',
      formatFinding({ ...finding(7), cluster: 'm01' }),
    ]);
    expect(warningLines([other], many, { verbose: true, listed: '' })).toEqual([formatDiagnostic(other), ...many.map(formatFinding)]);
  });

  test('synth prints one MF010 line per cluster, every one with --verbose (a re-run too), all in --json and plan.json', () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'meshfed-many-'));
    const clusters = path.join(tmp, 'clusters');
    generateFederation(clusters, 2, 10);
    const out = path.join(tmp, 'dist');
    const env = { MESHFED_CACHE_DIR: path.join(tmp, 'cache') };
    const args = ['--clusters', clusters, '--out', out, '--skip-rehearsal'];
    const mf010 = (text: string) => text.split('\n').filter((l) => l.startsWith('warning MF010'));
    const first = runCli(args, env);
    expect(first.code).toBe(0);
    expect(mf010(first.stderr)).toEqual([
      expect.stringMatching(/^warning MF010 \[m00 @ 03-import\] 10 times, at /),
      expect.stringMatching(/^warning MF010 \[m01 @ 03-import\] 10 times, at /),
    ]);
    const plan = JSON.parse(fs.readFileSync(path.join(out, 'plan.json'), 'utf8')) as { findings: { rule: string }[] };
    expect(plan.findings.filter((f) => f.rule === 'MF010')).toHaveLength(20);
    // The re-run renders nothing (the stamp) and still prints every one when asked.
    const verbose = runCli([...args, '--verbose', '--json'], env);
    expect(verbose.stderr).toMatch(/nothing rendered/);
    expect(mf010(verbose.stderr)).toHaveLength(20);
    expect((JSON.parse(verbose.stdout) as { findings: { rule: string }[] }).findings.filter((f) => f.rule === 'MF010')).toHaveLength(20);
    expect(mf010(runCli(args, { ...env, MESHFED_CACHE: '0' }).stderr)).toHaveLength(2);
    fs.rmSync(tmp, { recursive: true, force: true });
  });
});
