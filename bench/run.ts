/**
 * npm run bench [-- --sizes 2x10,10x100,20x100,40x50]
 *
 * For each size (meshes x services): generate a federation in the real input format into a temporary
 * folder, run the same synth a user runs (node --import tsx main.ts, as cdk8s.yaml does), and report
 * meshes, services, imports, objects and files written, wall seconds, peak RSS, bytes written,
 * `kubectl kustomize` seconds of the slowest build (every phase and import folder of the largest
 * cluster is built), and the floor (bench/floor.ts) with the ratio.
 */
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseArgs } from 'util';

import { floor } from './floor';
import { generateFederation } from './generate';
import { compareStrings } from '../lib/sort';

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
  stages: string;
}

/** The folder `kubectl kustomize` builds a file with: `<cluster>/<phase>` or `<cluster>/imports/<name>`. */
function buildDir(rel: string): string | undefined {
  const parts = rel.split(path.sep);
  if (parts.length < 3 || parts[0] === 'argocd' || parts[0] === 'flux') return undefined;
  return parts[1] === 'imports' ? parts.slice(0, 3).join(path.sep) : parts.slice(0, 2).join(path.sep);
}

function walk(dir: string): { files: number; bytes: number; objects: number; perBuild: Map<string, number> } {
  let files = 0;
  let bytes = 0;
  let objects = 0;
  const perBuild = new Map<string, number>();
  const visit = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) visit(p);
      else {
        const text = fs.readFileSync(p, 'utf8');
        files++;
        bytes += Buffer.byteLength(text);
        const n =
          e.name === 'kustomization.yaml' || p.includes(`${path.sep}patches${path.sep}`) ? 0 : (text.match(/^kind: /gm) ?? []).length;
        objects += n;
        const b = buildDir(path.relative(dir, p));
        if (b) perBuild.set(b, (perBuild.get(b) ?? 0) + n);
      }
    }
  };
  visit(dir);
  return { files, bytes, objects, perBuild };
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

function run(meshes: number, services: number): Row {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), `meshfed-bench-${meshes}x${services}-`));
  const clusters = path.join(tmp, 'clusters');
  const dist = path.join(tmp, 'dist');
  const imports = generateFederation(clusters, meshes, services);
  // Start each measurement with no dirty pages left from the previous one (the disk's write-back is shared).
  execFileSync('sync');
  const start = process.hrtime.bigint();
  const res = spawnSync('node', ['--max-semi-space-size=64', '--import', 'tsx', 'main.ts', '--clusters', clusters, '--out', dist], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, MESHFED_TIMING: '1' },
    maxBuffer: 1 << 30,
  });
  const wall = Number(process.hrtime.bigint() - start) / 1e9;
  // Thousands of warnings (MF010 per two-port service) precede the summary: show the end only.
  if (res.status !== 0)
    throw new Error(`synth failed for ${meshes}x${services} (${res.error?.message ?? `exit ${res.status}`}):\n…${res.stderr.slice(-2000)}`);
  const timing = /timings \(ms\): (.*); peak RSS (\d+) MB/.exec(res.stderr);
  const tree = walk(dist);
  const k = kustomizeCluster(dist, tree.perBuild);
  execFileSync('sync');
  const f = floor(meshes, services, path.join(tmp, 'floor'));
  fs.rmSync(tmp, { recursive: true, force: true });
  return {
    meshes,
    services,
    imports,
    objects: tree.objects,
    files: tree.files,
    wall,
    rssMB: Number(timing?.[2] ?? 0),
    bytes: tree.bytes,
    kustomize: k.slowest,
    largest: `${k.slowestDir}, slowest of ${k.builds} builds; one Application at 07-finalize holds ${k.appObjects} objects`,
    floor: f.ms / 1000,
    stages: timing?.[1] ?? '',
  };
}

function main(): void {
  const { values } = parseArgs({ options: { sizes: { type: 'string', default: '2x10,10x100,20x100,40x50' } } });
  const sizes = values.sizes!.split(',').map((s) => s.split('x').map(Number) as [number, number]);
  const cpus = os.cpus();
  console.log(
    `meshfed bench — ${cpus.length} × ${cpus[0]?.model ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, node ${process.version}`,
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
    'floor s',
    'ratio',
  ];
  const rows: string[][] = [];
  for (const [m, s] of sizes) {
    const r = run(m, s);
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
        r.floor.toFixed(2),
        (r.wall / r.floor).toFixed(1),
      ].map(String),
    );
    console.error(`  ${m}x${s}: stages ${r.stages}; kustomize: ${r.largest}`);
  }
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  console.log(`| ${header.map((h, i) => h.padStart(widths[i])).join(' | ')} |`);
  console.log(`|${widths.map((w) => '-'.repeat(w + 1) + ':').join('|')}|`);
  for (const r of rows) console.log(`| ${r.map((c, i) => c.padStart(widths[i])).join(' | ')} |`);
}

main();
