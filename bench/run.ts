/**
 * npm run bench [-- --sizes 2x10,10x100,20x100,40x50] [--pairs N] [--dumps realistic|plain] [--keep]
 *
 * The dumps are realistic by default (bench/generate.ts: managedFields, status, last-applied annotations, server
 * defaults, as `oc get -o yaml` writes them). The plain cdk8s peer (bench/peer.ts: the same imported objects as
 * ApiObjects of a cdk8s App) runs right after each first synth, so the pair shares the machine's load; `--pairs N`
 * adds N-1 more pairs (each a first synth into a fresh folder) and the ratio is their median.
 *
 * For each size (meshes x services): generate a federation in the real input format into a temporary
 * folder, run the same synth a user runs (node --import tsx main.ts, as cdk8s.yaml does), and report
 * meshes, services, imports, objects and files written, wall seconds, peak RSS, bytes written,
 * `kubectl kustomize` seconds of the slowest build (every phase and import folder of the largest
 * cluster is built), a re-run on unchanged input (which must touch no file), what adding one service
 * changes, and the floor (bench/floor.ts, as its own process) with the ratio — plus the floor with one
 * file per imported service, to show what the file count costs.
 */
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseArgs } from 'util';

import { parse, stringify } from 'yaml';

import { clusterName, DumpStyle, generateFederation, serviceObjects } from './generate';
import { compareStrings } from '../lib/sort';
import { listFiles } from '../lib/write/atomic';

const ROOT = path.join(__dirname, '..');

interface Row {
  meshes: number;
  services: number;
  imports: number;
  objects: number;
  files: number;
  wall: number;
  rssMB: number;
  bytes: number;
  kustomize: number;
  largest: string;
  floor: number;
  peer: number;
  peerRatio: number;
  peerPairs: string;
  floorFiles: number;
  perServiceFloor: number;
  perServiceFiles: number;
  rerun: number;
  rerender: number;
  untouched: boolean;
  oneService: string;
  stages: string;
}

/** The folder `kubectl kustomize` builds a file with: `<cluster>/<phase>` or `<cluster>/imports/<name>`. */
function buildDir(rel: string): string | undefined {
  const parts = rel.split(path.sep);
  if (parts.length < 3 || parts[0] === 'argocd' || parts[0] === 'flux') return undefined;
  return parts[1] === 'imports' ? parts.slice(0, 3).join(path.sep) : parts.slice(0, 2).join(path.sep);
}

function walk(dir: string): { files: number; bytes: number; objects: number; perBuild: Map<string, number> } {
  let bytes = 0;
  let objects = 0;
  const perBuild = new Map<string, number>();
  const files = listFiles(dir);
  for (const rel of files) {
    const text = fs.readFileSync(path.join(dir, rel), 'utf8');
    bytes += Buffer.byteLength(text);
    const n = path.basename(rel) === 'kustomization.yaml' || rel.includes('/patches/') ? 0 : (text.match(/^kind: /gm) ?? []).length;
    objects += n;
    const b = buildDir(path.join(...rel.split('/')));
    if (b) perBuild.set(b, (perBuild.get(b) ?? 0) + n);
  }
  return { files: files.length, bytes, objects, perBuild };
}

function seconds(f: () => void): number {
  const t0 = process.hrtime.bigint();
  f();
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

/**
 * Every build GitOps runs for the cluster with the most objects: each phase folder (which includes the
 * phases below it) and each import folder. Returns the slowest, and how many objects one Application
 * (Argo CD) holds at the last phase: that phase's build plus every import folder.
 */
function kustomizeCluster(
  dist: string,
  perBuild: Map<string, number>,
): { slowest: number; slowestDir: string; builds: number; appObjects: number } {
  const byCluster = new Map<string, number>();
  for (const [b, n] of perBuild) byCluster.set(b.split(path.sep)[0], (byCluster.get(b.split(path.sep)[0]) ?? 0) + n);
  const cluster = [...byCluster].sort((a, b) => b[1] - a[1] || compareStrings(a[0], b[0]))[0][0];
  const dirs = [...perBuild.keys()].filter((b) => b.split(path.sep)[0] === cluster).sort();
  let slowest = 0;
  let slowestDir = '';
  let appObjects = 0;
  for (const d of dirs) {
    let out = '';
    const t = seconds(
      () =>
        (out = execFileSync('kubectl', ['kustomize', path.join(dist, d)], {
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'inherit'],
          maxBuffer: 1 << 30,
        })),
    );
    const objects = (out.match(/^kind: /gm) ?? []).length;
    if (t > slowest) [slowest, slowestDir] = [t, `${d} (${objects} objects)`];
    if (d.endsWith('07-finalize') || d.endsWith('multicluster') || d.includes(`${path.sep}imports${path.sep}`)) appObjects += objects;
  }
  return { slowest, slowestDir, builds: dirs.length, appObjects };
}

/** Run a node process, timed: wall seconds and its result. */
function timedSpawn(
  args: string[],
  env: NodeJS.ProcessEnv,
): { wall: number; res: ReturnType<typeof spawnSync> & { stderr: string; stdout: string } } {
  execFileSync('sync');
  const start = process.hrtime.bigint();
  const res = spawnSync('node', args, { cwd: ROOT, encoding: 'utf8', env: { ...process.env, ...env }, maxBuffer: 1 << 30 });
  return { wall: Number(process.hrtime.bigint() - start) / 1e9, res };
}

/** Files of a tree with their inode and mtime, to see what a synth touched. */
function identities(dir: string): Map<string, string> {
  return new Map(
    listFiles(dir).map((rel) => {
      const st = fs.statSync(path.join(dir, rel));
      return [rel, `${st.ino}/${st.mtimeMs}`];
    }),
  );
}

/** One more exported service on the first mesh: what a one-service change does to dist/. */
function addService(clusters: string): void {
  const file = path.join(clusters, clusterName(0), 'ossm2', 'workloads.yaml');
  const doc = parse(fs.readFileSync(file, 'utf8')) as { items: Record<string, unknown>[] };
  const ns = `${clusterName(0)}-apps`;
  const svc = 'svc-added';
  doc.items.push(...(serviceObjects(ns, svc, [{ name: 'http', port: 8000, targetPort: 8080 }]) as Record<string, unknown>[]));
  fs.writeFileSync(file, stringify(doc, { lineWidth: 0 }));
}

interface Options {
  readonly pairs: number;
  readonly dumps: DumpStyle;
  readonly keep: boolean;
}

/** The plain cdk8s peer as its own process: wall seconds. */
function runPeer(meshes: number, services: number, dir: string): number {
  const p = timedSpawn(['--import', 'tsx', 'bench/peer.ts', String(meshes), String(services), dir], {});
  if (p.res.status !== 0) throw new Error(`the cdk8s peer failed: ${p.res.stderr.slice(-2000)}`);
  return p.wall;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

function run(meshes: number, services: number, opts: Options): Row {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), `meshfed-bench-${meshes}x${services}-`));
  const clusters = path.join(tmp, 'clusters');
  const dist = path.join(tmp, 'dist');
  const imports = generateFederation(clusters, meshes, services, opts.dumps);
  const synth = (out: string) => ['--max-semi-space-size=64', '--import', 'tsx', 'main.ts', '--clusters', clusters, '--out', out];
  // Stamps in the run's own folder: the first synth finds none, the second finds the first's.
  const env = {
    MESHFED_TIMING: '1',
    MESHFED_CACHE_DIR: path.join(tmp, 'cache'),
  };
  const first = timedSpawn(synth(dist), env);
  // The peer right after, on the same machine state: one pair (more below).
  const peers = [runPeer(meshes, services, path.join(tmp, 'peer-0'))];
  const walls = [first.wall];
  // Thousands of warnings (MF010 per two-port service) precede the summary: show the end only.
  if (first.res.status !== 0)
    throw new Error(
      `synth failed for ${meshes}x${services} (${first.res.error?.message ?? `exit ${first.res.status}`}):\n…${first.res.stderr.slice(-2000)}`,
    );
  const timing = /timings \(ms\): (.*); peak RSS (\d+) MB/.exec(first.res.stderr);
  for (let i = 1; i < opts.pairs; i++) {
    const again = timedSpawn(synth(path.join(tmp, `dist-${i}`)), { ...env, MESHFED_CACHE: '0' });
    if (again.res.status !== 0) throw new Error(`synth failed in pair ${i + 1}: …${again.res.stderr.slice(-2000)}`);
    walls.push(again.wall);
    peers.push(runPeer(meshes, services, path.join(tmp, `peer-${i}`)));
    fs.rmSync(path.join(tmp, `dist-${i}`), { recursive: true, force: true });
  }
  const written = identities(dist);
  // Unchanged input: with the stamp (nothing rendered), and without it (rendered, nothing written).
  const rerun = timedSpawn(synth(dist), env);
  const rerender = timedSpawn(synth(dist), { ...env, MESHFED_CACHE: '0' });
  const untouched = [...identities(dist)].every(([f, id]) => written.get(f) === id);
  addService(clusters);
  const changed = timedSpawn(synth(dist), { ...env, MESHFED_CACHE: '0' });
  const summary = /: (\d+) new, (\d+) changed, (\d+) removed/.exec(changed.res.stderr);
  const tree = walk(dist);
  const k = kustomizeCluster(dist, tree.perBuild);
  const floors = (['grouped', 'per-service'] as const).map((layout) => {
    const f = timedSpawn(
      ['--import', 'tsx', 'bench/floor.ts', String(meshes), String(services), path.join(tmp, `floor-${layout}`), layout],
      {},
    );
    return { wall: f.wall, ...(JSON.parse(f.res.stdout) as { files: number }) };
  });
  if (opts.keep) console.error(`  ${meshes}x${services}: kept ${tmp}`);
  else fs.rmSync(tmp, { recursive: true, force: true });
  const ratios = walls.map((w, i) => w / peers[i]);
  return {
    meshes,
    services,
    imports,
    objects: tree.objects,
    files: written.size,
    wall: first.wall,
    rerun: rerun.wall,
    rerender: rerender.wall,
    untouched,
    oneService: summary ? `${summary[1]} new, ${summary[2]} changed, ${summary[3]} removed` : 'no summary',
    rssMB: Number(timing?.[2] ?? 0),
    bytes: tree.bytes,
    kustomize: k.slowest,
    largest: `${k.slowestDir}, slowest of ${k.builds} builds; one Application at 07-finalize holds ${k.appObjects} objects`,
    floor: floors[0].wall,
    peer: median(peers),
    peerRatio: median(ratios),
    peerPairs: walls.map((w, i) => `${w.toFixed(2)}/${peers[i].toFixed(2)}`).join(', '),
    floorFiles: floors[0].files,
    perServiceFloor: floors[1].wall,
    perServiceFiles: floors[1].files,
    stages: timing?.[1] ?? '',
  };
}

function main(): void {
  const { values } = parseArgs({
    options: {
      sizes: { type: 'string', default: '2x10,10x100,20x100,40x50' },
      pairs: { type: 'string', default: '1' },
      dumps: { type: 'string', default: 'realistic' },
      keep: { type: 'boolean', default: false },
    },
  });
  const sizes = values.sizes!.split(',').map((s) => s.split('x').map(Number) as [number, number]);
  if (values.dumps !== 'realistic' && values.dumps !== 'plain') throw new Error(`--dumps must be realistic or plain, not ${values.dumps}`);
  const opts: Options = { pairs: Math.max(1, Number(values.pairs)), dumps: values.dumps, keep: values.keep! };
  const cpus = os.cpus();
  console.log(
    `meshfed bench — ${cpus.length} × ${cpus[0]?.model ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, node ${process.version}, ` +
      `${opts.dumps} dumps`,
  );
  const header = [
    'meshes',
    'services',
    'imports',
    'objects',
    'files',
    'wall s',
    'peak RSS MB',
    'MB written',
    'kustomize s',
    'rerun s',
    'peer s',
    'peer ratio',
    'floor s',
    'ratio',
    'per-file floor s',
  ];
  const rows: string[][] = [];
  for (const [m, s] of sizes) {
    const r = run(m, s, opts);
    rows.push(
      [
        r.meshes,
        r.services,
        r.imports,
        r.objects,
        r.files,
        r.wall.toFixed(2),
        r.rssMB,
        (r.bytes / 2 ** 20).toFixed(1),
        r.kustomize.toFixed(2),
        r.rerun.toFixed(2),
        r.peer.toFixed(2),
        r.peerRatio.toFixed(2),
        r.floor.toFixed(2),
        (r.wall / r.floor).toFixed(1),
        r.perServiceFloor.toFixed(2),
      ].map(String),
    );
    console.error(`  ${m}x${s}: stages ${r.stages}; kustomize: ${r.largest}`);
    console.error(`  ${m}x${s}: ${opts.dumps} dumps; first synth / cdk8s peer, s: ${r.peerPairs} (peer ratio: the median)`);
    console.error(
      `  ${m}x${s}: re-run on unchanged input ${r.rerun.toFixed(2)} s with the stamp (${(r.wall / r.rerun).toFixed(1)}x faster), ` +
        `${r.rerender.toFixed(2)} s rendering again; files untouched: ${r.untouched}; one added service: ${r.oneService} file(s); ` +
        `floor files: ${r.floorFiles} grouped, ${r.perServiceFiles} per service`,
    );
    if (!r.untouched) throw new Error(`${m}x${s}: a re-run on unchanged input rewrote files`);
  }
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  console.log(`| ${header.map((h, i) => h.padStart(widths[i])).join(' | ')} |`);
  console.log(`|${widths.map((w) => '-'.repeat(w + 1) + ':').join('|')}|`);
  for (const r of rows) console.log(`| ${r.map((c, i) => c.padStart(widths[i])).join(' | ')} |`);
}

main();
