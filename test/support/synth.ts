import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import { kustomize, Obj } from './kube';
import { runSynth } from '../../lib/cli/synth';
import { render, RenderResult } from '../../lib/pipeline/render';
import { PHASES, GREENFIELD_PHASES } from '../../lib/plan/types';
import { byKey } from '../../lib/sort';
import { writeTreeAtomically } from '../../lib/write/atomic';
import { PlanJson } from '../../lib/write/plan-json';

/** Synthesize into a fresh temporary dist/ and return its path and the result. */
export function synthTo(clustersDir: string): { dist: string; result: RenderResult } {
  const result = render(clustersDir);
  const dist = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'meshfed-dist-')), 'dist');
  writeTreeAtomically(dist, result.files);
  return { dist, result };
}

/**
 * Run the CLI command in-process, capturing what it prints. The rehearsal synth runs before it writes is skipped
 * (MESHFED_REHEARSE=0) unless `env` asks for it: it is 95% of an in-process synth's CPU, and what these tests are
 * about is the synth around it. test/twin/synth-rehearsal.test.ts tests that synth rehearses (and refuses what
 * the twin fails); test/twin/rehearse.test.ts what the twin catches; test/e2e/readme.test.ts runs the README's
 * `npm run synth` with it.
 */
export function runCli(args: string[], env: NodeJS.ProcessEnv = {}): { code: number; stderr: string; stdout: string } {
  const { value: code, out, err } = captureConsole(() => runSynth(args, { MESHFED_REHEARSE: '0', ...env }));
  return { code, stderr: err.join('\n'), stdout: out.join('\n') };
}

/** Run a command function in-process, with what it prints through console.log and console.error captured line by line. */
export function captureConsole<T>(run: () => T): { value: T; out: string[]; err: string[] } {
  const err: string[] = [];
  const out: string[] = [];
  const e = jest.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(a.join(' ')));
  const l = jest.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
  try {
    return { value: run(), out, err };
  } finally {
    e.mockRestore();
    l.mockRestore();
  }
}

/** Every phase folder of every cluster that was written. */
export function overlayDirs(dist: string): string[] {
  return fs
    .readdirSync(dist)
    .filter((c) => fs.statSync(path.join(dist, c)).isDirectory())
    .flatMap((c) =>
      [...PHASES, ...GREENFIELD_PHASES].filter((p) => fs.existsSync(path.join(dist, c, p))).map((p) => path.join(dist, c, p)),
    );
}

/** All files under a folder, relative path → content. */
export function readTree(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true }).sort(byKey((e) => e.name))) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.set(path.relative(dir, p), fs.readFileSync(p, 'utf8'));
    }
  };
  walk(dir);
  return out;
}

/** The import folders (dist/<cluster>/imports/<name>) delivered with a cluster's phase, from dist/plan.json. */
export function importDirs(dist: string, cluster: string, phase: string): string[] {
  const plan = JSON.parse(fs.readFileSync(path.join(dist, 'plan.json'), 'utf8')) as PlanJson;
  const phases = plan.clusters[cluster].phases;
  const upTo = phases.findIndex((p) => p.phase === phase);
  if (upTo < 0) throw new Error(`${cluster} has no phase ${phase}`);
  return phases.slice(0, upTo + 1).flatMap((p) => p.imports.map((i) => path.join(dist, cluster, i.folder)));
}

/** A cluster's complete desired state at a phase: `kubectl kustomize` of the phase folder and of the import folders delivered with it. */
export function desiredState(dist: string, cluster: string, phase: string): Obj[] {
  return [path.join(dist, cluster, phase), ...importDirs(dist, cluster, phase)].flatMap((d) => kustomize(d));
}

/** Every import folder of every cluster that was written. */
export function shardDirs(dist: string): string[] {
  return fs
    .readdirSync(dist)
    .filter((c) => fs.existsSync(path.join(dist, c, 'imports')))
    .flatMap((c) =>
      fs
        .readdirSync(path.join(dist, c, 'imports'))
        .sort()
        .map((s) => path.join(dist, c, 'imports', s)),
    );
}

/** Each written phase (`<cluster>/<phase>`) with its complete desired state (desiredState). */
export function builtStates(dist: string): Map<string, Obj[]> {
  return new Map(
    overlayDirs(dist).map((d) => [path.relative(dist, d), desiredState(dist, path.basename(path.dirname(d)), path.basename(d))]),
  );
}
