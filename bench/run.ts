/**
 * npm run bench [-- --sizes 2x10,10x100,20x100,40x50]
 *
 * For each size (meshes x services): generate a federation in the real input format into a temporary
 * folder, run the same synth a user runs (node --import tsx main.ts, as cdk8s.yaml does), and report
 * meshes, services, imports, objects and files written, wall seconds, peak RSS, bytes written,
 * `kubectl kustomize` seconds for the largest overlay, and the floor (bench/floor.ts) with the ratio.
 */
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseArgs } from 'util';
import { floor } from './floor';
import { generateFederation } from './generate';

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

function walk(dir: string): { files: number; bytes: number; objects: number; biggest: { dir: string; objects: number } } {
  let files = 0;
  let bytes = 0;
  let objects = 0;
  const perOverlay = new Map<string, number>();
  const visit = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) visit(p);
      else {
        const text = fs.readFileSync(p, 'utf8');
        files++;
        bytes += Buffer.byteLength(text);
        const n = e.name === 'kustomization.yaml' || p.includes(`${path.sep}patches${path.sep}`) ? 0 : (text.match(/^kind: /gm) ?? []).length;
        objects += n;
        const overlay = path.relative(dir, p).split(path.sep).slice(0, 2).join(path.sep);
        perOverlay.set(overlay, (perOverlay.get(overlay) ?? 0) + n);
      }
    }
  };
  visit(dir);
  const [bdir, bobj] = [...perOverlay].sort((a, b) => b[1] - a[1])[0];
  return { files, bytes, objects, biggest: { dir: bdir, objects: bobj } };
}

function run(meshes: number, services: number): Row {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), `meshfed-bench-${meshes}x${services}-`));
  const clusters = path.join(tmp, 'clusters');
  const dist = path.join(tmp, 'dist');
  const imports = generateFederation(clusters, meshes, services);
  const start = process.hrtime.bigint();
  const res = spawnSync('node', ['--max-semi-space-size=64', '--import', 'tsx', 'main.ts', '--clusters', clusters, '--out', dist], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, MESHFED_TIMING: '1' } });
  const wall = Number(process.hrtime.bigint() - start) / 1e9;
  if (res.status !== 0) throw new Error(`synth failed for ${meshes}x${services}:\n${res.stderr}`);
  const timing = /timings \(ms\): (.*); peak RSS (\d+) MB/.exec(res.stderr);
  const tree = walk(dist);
  // The largest overlay in full: its phase and every phase below it.
  const k0 = process.hrtime.bigint();
  execFileSync('kubectl', ['kustomize', path.join(dist, tree.biggest.dir)], { stdio: ['ignore', 'ignore', 'inherit'], maxBuffer: 1 << 30 });
  const kustomize = Number(process.hrtime.bigint() - k0) / 1e9;
  const f = floor(meshes, services, path.join(tmp, 'floor'));
  fs.rmSync(tmp, { recursive: true, force: true });
  return { meshes, services, imports, objects: tree.objects, files: tree.files, wall, rssMB: Number(timing?.[2] ?? 0), bytes: tree.bytes, kustomize, largest: `${tree.biggest.dir} (${tree.biggest.objects} objects)`, floor: f.ms / 1000, stages: timing?.[1] ?? '' };
}

function main(): void {
  const { values } = parseArgs({ options: { sizes: { type: 'string', default: '2x10,10x100,20x100,40x50' } } });
  const sizes = values.sizes!.split(',').map((s) => s.split('x').map(Number) as [number, number]);
  const cpus = os.cpus();
  console.log(`meshfed bench — ${cpus.length} × ${cpus[0]?.model ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, node ${process.version}`);
  const header = ['meshes', 'services', 'imports', 'objects', 'files', 'wall s', 'peak RSS MB', 'MB written', 'kustomize s', 'floor s', 'ratio'];
  const rows: string[][] = [];
  for (const [m, s] of sizes) {
    const r = run(m, s);
    rows.push([r.meshes, r.services, r.imports, r.objects, r.files, r.wall.toFixed(2), r.rssMB, (r.bytes / 2 ** 20).toFixed(1), r.kustomize.toFixed(2), r.floor.toFixed(2), (r.wall / r.floor).toFixed(1)].map(String));
    console.error(`  ${m}x${s}: stages ${r.stages}; largest overlay ${r.largest}`);
  }
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  console.log(`| ${header.map((h, i) => h.padStart(widths[i])).join(' | ')} |`);
  console.log(`|${widths.map((w) => '-'.repeat(w + 1) + ':').join('|')}|`);
  for (const r of rows) console.log(`| ${r.map((c, i) => c.padStart(widths[i])).join(' | ')} |`);
}

main();
