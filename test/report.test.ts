/**
 * `meshfed report`: the change record names every object that changes in every move (one phase on or back) and in the
 * longest jumps of every example, as `kubectl kustomize` builds them (phase folder and delivered import folders), with the
 * right action and without elision; the markdown is deterministic; the HTML page is one self-contained, well-formed
 * document with the timeline.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import { parse } from 'parse5';

import { INPUT_FOLDERS } from './support/fixtures';
import { Obj } from './support/kube';
import { desiredState, synthTo } from './support/synth';
import { runReport } from '../lib/cli/report';
import { render, RenderResult } from '../lib/pipeline/render';
import { buildChangeRecord, ReportError } from '../lib/pipeline/report';
import { accessChanges } from '../lib/pipeline/report-access';
import { PHASES } from '../lib/plan/types';
import { diskTree } from '../lib/twin/tree';
import { renderReportHtml, renderReportMarkdown } from '../lib/write/report';
import { toYaml } from '../lib/write/yaml';

const ROOT = path.join(__dirname, '..');
const INPUTS = INPUT_FOLDERS.filter((f) => f !== 'examples/greenfield/clusters');

const id = (o: Obj) => {
  const m = o.metadata as { namespace?: string; name: string };
  return `${String(o.kind)} ${m.namespace ? `${m.namespace}/` : ''}${m.name} | ${String(o.apiVersion)}`;
};

/** The rows of the markdown's object table: `action | Kind ns/name | apiVersion`. */
function rows(md: string): Map<string, string> {
  const section = md.split('## Objects, in the order the sync applies them')[1].split('\n## ')[0];
  const out = new Map<string, string>();
  for (const line of section.split('\n')) {
    const m = /^\| \d+ \| \w+ \| -?\d+ \| ([a-z-]+) \| `([^`]+)` \| (\S+) \|$/.exec(line);
    if (m) out.set(`${m[2]} | ${m[3]}`, m[1]);
  }
  return out;
}

describe.each(INPUTS)('%s', (input) => {
  let result: RenderResult;
  let dist = '';
  const states = new Map<string, Map<string, Obj>>();
  beforeAll(() => {
    ({ dist, result } = synthTo(path.join(ROOT, input)));
  });
  const state = (cluster: string, phase: string) => {
    const k = `${cluster}/${phase}`;
    if (!states.has(k)) states.set(k, new Map(desiredState(dist, cluster, phase).map((o) => [id(o), o])));
    return states.get(k)!;
  };

  test('names every object that changes in every move and in the longest jumps, with its action, against kubectl kustomize', () => {
    const clustersDir = path.join(ROOT, input);
    let pairs = 0;
    for (const cluster of result.plan.local) {
      const written = result.plan.byCluster[cluster].filter((p) => p.blockedBy.length === 0).map((p) => p.phase);
      // Every move a pointer can make (synth refuses one that skips a phase), on and back, and the two longest jumps
      // (every object of the migration created, updated or pruned at once): the record is one computation over two
      // builds, and these pairs hold every object in every action.
      const moves = written.slice(1).flatMap((to, i) => [[written[i], to] as const, [to, written[i]] as const]);
      const jumps =
        written.length > 2 ? [[written[0], written[written.length - 1]] as const, [written[written.length - 1], written[0]] as const] : [];
      for (const [from, to] of [...moves, ...jumps]) {
        const md = renderReportMarkdown(buildChangeRecord(result, clustersDir, { cluster, from, to, rehearse: false }));
        const table = rows(md);
        const [a, b] = [state(cluster, from), state(cluster, to)];
        const problems: string[] = [];
        for (const k of new Set([...a.keys(), ...b.keys()])) {
          const [x, y] = [a.get(k), b.get(k)];
          // Argo CD hooks: the Jobs, and the RBAC only a hook Job uses (07's hand-over), deleted by their own policy.
          const hook = (y ?? x)!.kind === 'Job' || Boolean((y ?? x)!.metadata?.annotations?.['argocd.argoproj.io/hook']);
          const expected = !x
            ? ['create', 'hook']
            : !y
              ? ['prune', 'prune-skipped']
              : toYaml(x) === toYaml(y)
                ? ['unchanged', 'hook']
                : ['update', 'hook'];
          if (hook && !y) continue; // a hook the new phase drops is deleted by its own policy, not pruned
          if (!expected.includes(table.get(k) ?? 'missing'))
            problems.push(`${from} → ${to}: ${k} is ${table.get(k) ?? 'missing'}, not ${expected.join('/')}`);
          if (x && y && toYaml(x) !== toYaml(y) && !md.includes(`changed: \`${k.split(' | ')[0]}\``))
            problems.push(`${from} → ${to}: ${k} has no diff`);
        }
        expect(problems).toEqual([]);
        pairs++;
      }
    }
    expect(pairs).toBeGreaterThan(0);
  });

  test('the markdown is deterministic and the HTML page self-contained and well-formed', () => {
    const clustersDir = path.join(ROOT, input);
    const cluster = result.plan.local[0];
    const o = { cluster, from: PHASES[0], to: PHASES[1], rehearse: false };
    const md = renderReportMarkdown(buildChangeRecord(result, clustersDir, o));
    expect(renderReportMarkdown(buildChangeRecord(result, clustersDir, o))).toBe(md);
    expect(md).not.toMatch(/\b20\d\d-\d\d-\d\d/);
    const html = renderReportHtml(buildChangeRecord(result, clustersDir, o));
    const errors: string[] = [];
    parse(html, { onParseError: (e) => errors.push(`${e.code} at ${e.startLine}:${e.startCol}`) });
    expect(errors).toEqual([]);
    expect(html).not.toMatch(/<script|<link|\bsrc=|href="http|@import|url\(http/i);
    expect(html.match(/class="pointer"/g)).toHaveLength(result.plan.local.length);
    expect(html).toContain('class="move"');
  });
});

describe('access: who gains or loses access through a policy', () => {
  const ap = (name: string, action: string, principals: string[], selector?: Record<string, string>): Obj => ({
    apiVersion: 'security.istio.io/v1',
    kind: 'AuthorizationPolicy',
    metadata: { name, namespace: 'a' },
    spec: { action, ...(selector ? { selector: { matchLabels: selector } } : {}), rules: [{ from: [{ source: { principals } }] }] },
  });
  const np = (namespaces: string[]): Obj => ({
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: 'mesh', namespace: 'a' },
    spec: {
      podSelector: {},
      policyTypes: ['Ingress'],
      ingress: [
        {
          from: [{ namespaceSelector: { matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'In', values: namespaces }] } }],
        },
      ],
    },
  });
  const sa = (ns: string) => `cluster.local/ns/${ns}/sa/client`;

  test('an ALLOW policy that names one identity more and one less; a DENY policy dropped; a namespace added to a NetworkPolicy', () => {
    const before = [ap('allow', 'ALLOW', [sa('x'), sa('y')], { app: 'httpbin' }), ap('deny', 'DENY', [sa('z')]), np(['a', 'b'])];
    const after = [ap('allow', 'ALLOW', [sa('x'), sa('w')], { app: 'httpbin' }), np(['a', 'b', 'c'])];
    const changes = accessChanges(before, after);
    expect(changes).toHaveLength(3);
    expect(changes).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          policy: expect.objectContaining({ kind: 'AuthorizationPolicy', name: 'allow' }),
          change: 'changed',
          scope: 'namespace a, pods app=httpbin',
          gains: [`identity ${sa('w')}`],
          loses: [`identity ${sa('y')}`],
        }),
        expect.objectContaining({
          policy: expect.objectContaining({ name: 'deny' }),
          change: 'removed',
          gains: [`identity ${sa('z')} (no longer denied)`],
          loses: [],
        }),
        expect.objectContaining({ policy: expect.objectContaining({ kind: 'NetworkPolicy' }), gains: ['namespace c'], loses: [] }),
      ]),
    );
    const both = accessChanges(
      [],
      [
        {
          ...ap('both', 'ALLOW', [sa('x')]),
          spec: { rules: [{ from: [{ source: { principals: [sa('x'), sa('y')], namespaces: ['n'] } }] }] },
        },
      ],
    );
    expect(both[0].gains).toEqual([`identity ${sa('x')} and namespace n`, `identity ${sa('y')} and namespace n`]);
  });

  test('a new ALLOW policy says that every source it does not name loses access; an unchanged one is not listed', () => {
    const a = ap('allow', 'ALLOW', [sa('x')]);
    expect(accessChanges([], [a])[0]).toMatchObject({
      change: 'added',
      gains: [`identity ${sa('x')}`],
      note: expect.stringMatching(/loses access/),
    });
    expect(accessChanges([a], [structuredClone(a)])).toEqual([]);
  });
});

describe('meshfed report (the command)', () => {
  const clustersDir = path.join(ROOT, 'clusters');
  let result: RenderResult;
  beforeAll(() => {
    result = synthTo(clustersDir).result;
  });

  test('lists every object a move prunes and that its rollback prunes, without "and N more"', () => {
    const r = buildChangeRecord(result, clustersDir, { cluster: 'east', from: '06-migrate-workloads', to: '07-finalize', rehearse: false });
    const md = renderReportMarkdown(r);
    expect(r.steps.filter((s) => s.action === 'prune').length).toBeGreaterThan(8);
    expect(md).not.toMatch(/and \d+ more/);
    for (const s of r.steps.filter((x) => x.action === 'prune'))
      expect(md).toContain(`${s.object.kind} ${s.object.namespace ? `${s.object.namespace}/` : ''}${s.object.name}`);
  });

  test('the gates of a move: each peer, where it must be, where it is', () => {
    const r = buildChangeRecord(result, clustersDir, { cluster: 'east', from: '02-export', to: '03-import', rehearse: false });
    expect(r.gates.map((g) => [g.cluster, g.phase, g.met])).toEqual([['west', '02-export', false]]);
    expect(renderReportMarkdown(r)).toMatch(/\| west \| `02-export` or later \| `00-federation` \| \*\*no\*\* \|/);
  });

  test('a restart Job: the workloads, their replicas and strategy, the disruption', () => {
    const r = buildChangeRecord(result, clustersDir, {
      cluster: 'east',
      from: '05-install-ossm3',
      to: '06-migrate-workloads',
      rehearse: false,
    });
    expect(r.restarts.length).toBeGreaterThan(0);
    const curl = r.restarts.find((w) => w.name === 'curl')!;
    expect(curl).toMatchObject({ kind: 'Deployment', namespace: 'client', replicas: 1 });
    expect(curl.why).toMatch(/hook Job .* sets meshfed\.dev\/restarted-for-revision=/);
    expect(curl.disruption).toMatch(/start before old ones stop/);
  });

  test('defaults: from what dist/ delivers to the pointer; refuses an unknown cluster or phase', () => {
    const { dist } = synthTo(clustersDir);
    const r = buildChangeRecord(result, clustersDir, { cluster: 'east', dist: diskTree(dist), rehearse: false });
    expect([r.from, r.to]).toEqual(['00-federation', '01-prepare']);
    expect(r.notes.join(' ')).toMatch(/record of the next move/);
    expect(() => buildChangeRecord(result, clustersDir, { cluster: 'north', rehearse: false })).toThrow(ReportError);
    expect(() => buildChangeRecord(result, clustersDir, { cluster: 'east', to: '09', rehearse: false })).toThrow(/not a written phase/);
    const greenfield = path.join(ROOT, 'examples', 'greenfield', 'clusters');
    const g = render(greenfield, { skipPointerRules: true });
    expect(() => buildChangeRecord(g, greenfield, { cluster: g.plan.local[0], rehearse: false })).toThrow(
      /greenfield cluster: it has one overlay/,
    );
  });

  test('runs the twin on the move and its rollback, and writes HTML to --out', () => {
    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'meshfed-report-')), 'record.html');
    const err = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      const code = runReport([
        'east',
        '--clusters',
        clustersDir,
        '--dist',
        path.join(ROOT, 'dist'),
        '--to',
        '01',
        '--format',
        'html',
        '--out',
        out,
      ]);
      expect(code).toBe(0);
    } finally {
      err.mockRestore();
    }
    const html = fs.readFileSync(out, 'utf8');
    expect(html).toContain('<span class="passed">passed</span>');
    expect(html).toMatch(/argocd<\/td><td>rollback<\/td>/);
    expect(html).toMatch(/flux<\/td><td>forward<\/td><td>00-federation → 01-prepare<\/td><td>passes/);
  });

  test('the rollback: what the sync back prunes, and what it leaves in place (Prune=false)', () => {
    const prod = path.join(ROOT, 'examples', 'production-smcp', 'clusters');
    const r = buildChangeRecord(render(prod, { skipPointerRules: true }), prod, { cluster: 'east', from: '05', to: '06', rehearse: false });
    const names = (l: { kind: string; namespace: string; name: string }[]) => l.map((o) => `${o.kind} ${o.namespace}/${o.name}`);
    expect(names(r.rollback.keeps)).toContain('Route istio-system/istio-ingressgateway');
    expect(names(r.rollback.prunes)).not.toContain('Route istio-system/istio-ingressgateway');
    expect(names(r.rollback.prunes)).toContain('Deployment istio-system/istio-ingressgateway-ossm3');
    expect(renderReportMarkdown(r)).toMatch(
      /It leaves in place \d+ object\(s\) this move adds \(`Prune=false`\):\n\n(- `.*`\n)*- `Route istio-system\/istio-ingressgateway`/,
    );
  });

  test('usage errors exit 2 with the reason: no cluster, an unknown one, a bad format', () => {
    const err: string[] = [];
    const spy = jest.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(a.join(' ')));
    try {
      expect(runReport(['--clusters', clustersDir])).toBe(2);
      expect(runReport(['north', '--clusters', clustersDir, '--skip-rehearsal'])).toBe(2);
      expect(runReport(['east', '--clusters', clustersDir, '--format', 'pdf'])).toBe(2);
    } finally {
      spy.mockRestore();
    }
    expect(err[0]).toMatch(/^meshfed: report takes one cluster name/);
    expect(err[1]).toMatch(/^meshfed: no cluster "north" in .*clusters\/: one of east, west\.$/);
    expect(err[2]).toMatch(/^meshfed: --format must be md or html, not "pdf"/);
  });

  test('a move the twin fails: the verdict says so, with the finding', () => {
    const { dist } = synthTo(clustersDir);
    // A committed 01 that drops the peer's CA ConfigMap 00 adopted: prune deletes what runs without the plan deleting it.
    const k = path.join(dist, 'east', '01-prepare', 'kustomization.yaml');
    const drop = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: west-mesh-ca-root-cert\n  namespace: istio-system\n$patch: delete\n';
    fs.writeFileSync(k, `${fs.readFileSync(k, 'utf8')}- patch: |-\n${drop.replace(/^/gm, '    ')}\n`);
    const r = buildChangeRecord(result, clustersDir, { cluster: 'east', from: '00', to: '01', dist: diskTree(dist) });
    expect(r.verdict.status).toBe('failed');
    expect(r.notes).toEqual([expect.stringMatching(/^dist\/east\/01-prepare as committed is not what clusters\/ renders: run synth/)]);
    expect(r.verdict.findings.map((f) => f.why).join(' ')).toMatch(/west-mesh-ca-root-cert/);
    expect(renderReportMarkdown(r)).toMatch(/## Rehearsal verdict\n\n\*\*failed\*\*/);
  });

  // A real browser when one is installed (Debian's chromium-headless-shell): the page loads offline and draws the timeline.
  const browser = ['chromium-headless-shell', 'chromium'].find((b) => {
    try {
      execFileSync('sh', ['-c', `command -v ${b}`], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  });
  (browser ? test : test.skip)(`the HTML page in a headless browser (${browser ?? 'none installed'})`, () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshfed-report-'));
    const file = path.join(dir, 'record.html');
    fs.writeFileSync(
      file,
      renderReportHtml(buildChangeRecord(result, clustersDir, { cluster: 'east', from: '02', to: '03', rehearse: false })),
    );
    const dom = execFileSync(browser!, ['--no-sandbox', '--disable-gpu', '--dump-dom', `file://${file}`], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: 60_000,
    });
    expect(dom.match(/<circle class="pointer"/g)).toHaveLength(2);
    expect(dom).toMatch(/<line class="gate"[^>]*stroke="#cf222e"/);
  });
});
