/**
 * The rehearsal, from a render: for each local migrating cluster, the render of `dist/` with that cluster's
 * pointer at every written phase (only the Argo CD Applications and Flux Kustomizations change with the
 * pointer: filesAtPointers), and the cluster as its dumps show it running — handed to the twin
 * (lib/twin/rehearse.ts), which replays the moves on its model of the systems that apply `dist/`.
 */
import { filesAtPointers, RenderResult } from './render';
import { GitOpsSettings } from '../load/gitops';
import { MigrationPhase, PHASES } from '../phases';
import { Engine, RehearsalReport, rehearseCluster, Scenario } from '../twin/rehearse';
import { FileTree, memoryTree } from '../twin/tree';
import { defaultWorld } from '../twin/world';

/**
 * Without clusters/gitops.yaml there are no Applications or Kustomizations to read: the rehearsal renders them
 * as meshfed would with the defaults of gitops.yaml (docs/gitops.md), in memory only — what it judges is the
 * phase folders, which do not depend on where the repository is.
 */
const REHEARSAL_GITOPS: GitOpsSettings = {
  file: '(rehearsal: the defaults of clusters/gitops.yaml)',
  repoURL: 'https://git.example.com/rehearsal.git',
  targetRevision: 'HEAD',
  path: 'dist',
  argocdNamespace: 'openshift-gitops',
  fluxNamespace: 'flux-system',
  fluxInterval: '5m',
};

/**
 * synth rehearses a cluster's moves itself only up to this many planned objects: the twin's time grows faster than
 * the cluster (about 5 s per cluster at 60 objects, 40 s at 500 on a 2-core machine: docs/benchmarks.md), and synth
 * must stay quick. Larger clusters are rehearsed by `meshfed rehearse` (in CI, say), and synth says so.
 */
export const SYNTH_REHEARSAL_MAX_OBJECTS = 300;

export interface RehearseOptions {
  /** Skip clusters with more planned objects than this, and list them in the report's `skipped`. */
  readonly maxObjects?: number;
  /** Only these clusters (default: every local migrating cluster). */
  readonly clusters?: readonly string[];
  readonly engines?: readonly Engine[];
  /**
   * Which moves are judged: `all` (every move 00→07 with its rollback), or `current`: each cluster's move into
   * its pointer and its next move, each with its rollback — what the render about to be written makes possible.
   */
  readonly moves?: 'all' | 'current';
  /** Judge exactly the moves into these phases (overrides `moves`): a change record's move. */
  readonly judge?: readonly MigrationPhase[];
  readonly scenarios?: readonly Exclude<Scenario, 'forward'>[];
  /**
   * The phase folders as committed (a `dist/` on disk): the twin reads them instead of the render's, so a
   * committed `dist/` is what is rehearsed; the pointers' Applications still come from the render.
   */
  readonly dist?: FileTree;
}

/** Rehearse the moves of every (or the given) local migrating cluster of a render. */
export function rehearseRender(
  result: RenderResult,
  opts: RehearseOptions = {},
): RehearsalReport & { skipped: { cluster: string; objects: number }[] } {
  const withGitops = result.gitops ? result : { ...result, gitops: REHEARSAL_GITOPS };
  const report: RehearsalReport & { skipped: { cluster: string; objects: number }[] } = { findings: [], moves: [], skipped: [] };
  const migrating = result.plan.local.filter(
    (c) => result.plan.phases.includes(result.plan.pointers[c]) && PHASES.includes(result.plan.pointers[c] as MigrationPhase),
  );
  for (const cluster of migrating.filter((c) => !opts.clusters || opts.clusters.includes(c))) {
    const objects = result.plan.byCluster[cluster].reduce((n, p) => n + p.adds.length, 0);
    if (opts.maxObjects !== undefined && objects > opts.maxObjects) {
      report.skipped.push({ cluster, objects });
      continue;
    }
    const written = result.plan.byCluster[cluster].filter((p) => p.blockedBy.length === 0).map((p) => p.phase as MigrationPhase);
    // `current`: the move into the pointer (what this render makes GitOps do now), the next one (what the next pointer
    // move will do), and the rollback from each.
    const pointer = result.plan.pointers[cluster] as MigrationPhase;
    const next = written[written.indexOf(pointer) + 1];
    const judge = opts.judge
      ? opts.judge.filter((p) => written.includes(p))
      : opts.moves === 'current'
        ? [pointer, ...(next ? [next] : [])]
        : undefined;
    const last = judge ? PHASES.indexOf(judge[judge.length - 1]) : PHASES.length;
    // dist/ at each phase the replay reaches: none after the last judged move (nothing replays it).
    const renders = new Map<MigrationPhase, FileTree>();
    for (const phase of written.filter((p) => PHASES.indexOf(p) <= last)) {
      const files = filesAtPointers(withGitops, { [cluster]: phase })!;
      renders.set(phase, overlay(memoryTree(files), opts.dist));
    }
    const r = rehearseCluster(
      {
        cluster,
        dumps: result.dumps.get(cluster) ?? [],
        renders,
        engines: opts.engines,
        judge,
        scenarios: opts.scenarios,
        declaredCallers: Object.values(result.model.meshes.find((m) => m.cluster === cluster)?.settings.exposure.callers ?? {}).flat(),
      },
      defaultWorld(),
    );
    report.findings.push(...r.findings);
    report.moves.push(...r.moves);
  }
  return report;
}

/** The render's GitOps objects over a committed dist/'s phase folders (files under argocd/ and flux/ come from the render). */
function overlay(render: FileTree, dist: FileTree | undefined): FileTree {
  if (!dist) return render;
  const gitops = (f: string) => f.startsWith('argocd/') || f.startsWith('flux/');
  return {
    read: (f) => (gitops(f) ? render.read(f) : dist.read(f)),
    isDir: (d) => (gitops(d) ? render.isDir(d) : dist.isDir(d)),
    files: () => [...new Set([...dist.files().filter((f) => !gitops(f)), ...render.files().filter(gitops)])].sort(),
  };
}
