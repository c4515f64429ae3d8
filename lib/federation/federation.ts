/**
 * meshfed as a cdk8s construct: `new Federation(app, 'federation', { clusters, out })` renders the clusters
 * folder into `out` when the app synthesizes, exactly as `meshfed synth` does (the same SynthRun: checks, gates,
 * removal guard, rehearsal, atomic write), plus what the app adds to a phase with `fed.phase(cluster, phase)`,
 * with the app's Aspects applied to every object written.
 */
import * as path from 'path';

import { ApiObject, App, Chart } from 'cdk8s';
import { Construct, IConstruct } from 'constructs';

import { IAspect, inheritedAspects, invokeAspects } from './aspects';
import { Mesh } from './mesh';
import { SynthFlags, SynthRun } from '../cli/synth';
import { addPhaseObjects } from '../constructs/phase-chart';
import { InputError, SourceLocation } from '../diagnostics';
import { JsonObject } from '../json';
import { Declaration } from '../load/declared';
import { GREENFIELD_PHASES, PHASES, PhaseId, phaseIndex } from '../phases';
import { ObjectRef, Plan, Resource, refId, refKey } from '../plan/types';
import { refOf } from '../write/files';
import { FolderRenderer, ObjectFolder } from '../write/overlays';
import { SYNC_WAVE, WAVES } from '../write/sync-waves';

/** Where and how a {@link Federation} renders. Every option of `meshfed synth` has its prop. */
export interface FederationProps {
  /**
   * The input folder: `<cluster>/cluster.yaml`, `<cluster>/ossm2/`, `gitops.yaml` (docs/input.md). A federation
   * declared in code (a {@link Mesh} per cluster under the Federation) has none: it is one or the other.
   * @default 'clusters', unless Meshes are constructed under the Federation
   */
  readonly clusters?: string;
  /**
   * The GitOps settings file of a federation declared in code (what `gitops.yaml` of a clusters folder is).
   * @default none: dist/argocd and dist/flux are not written
   */
  readonly gitops?: string;
  /**
   * The output folder meshfed replaces, atomically, when the input is valid: missing, empty, or one a synth wrote;
   * never the input, the working folder, a parent of either, a folder holding `.git`, nor the App's `outdir`.
   * @default 'dist'
   */
  readonly out?: string;
  /**
   * Write even when GitOps would delete what a cluster runs without its pointer moving (`synth --allow-removals`).
   * @default false
   */
  readonly allowRemovals?: boolean;
  /**
   * Write nothing; fail when `out` is not what the input renders (`synth --check`, the CI gate).
   * @default false
   */
  readonly check?: boolean;
  /**
   * Warnings not acknowledged in a cluster's `spec.acknowledge` fail the synth like errors (`synth --strict`).
   * @default false
   */
  readonly strict?: boolean;
  /**
   * Write without rehearsing each cluster's current and next move on the twin (`synth --skip-rehearsal`).
   * @default false
   */
  readonly skipRehearsal?: boolean;
  /**
   * Print the result as one JSON document on stdout (`synth --json`); messages stay on stderr.
   * @default false
   */
  readonly json?: boolean;
  /**
   * Print every warning and finding (the CLI's `--verbose`); otherwise a rule that fires more than once in a cluster
   * prints one line.
   * @default false
   */
  readonly verbose?: boolean;
  /**
   * Clusters whose pointer may move back from 03-import or a later phase (the CLI's `--confirm-rollback`).
   * @default none: such a rollback is refused, saying what it does
   */
  readonly confirmRollbacks?: string[];
  /**
   * Exporters whose east-west address may change while importers are at 03-import or later (`--confirm-address-change`).
   * @default none: such a change is refused, naming the importers
   */
  readonly confirmAddressChanges?: string[];
}

/** How long what an app adds to a phase stays in a cluster's desired state. */
export interface PhaseOptions {
  /**
   * The last phase whose overlay holds the objects: the overlay of the phase after it deletes them (a kustomize
   * `$patch: delete`), so GitOps prunes them when the cluster's pointer moves past it.
   * @default the last phase: the objects stay in every later phase (each phase's overlay builds on the one before)
   */
  readonly through?: PhaseId;
}

/**
 * The scope of one phase of one cluster: the objects constructed under it land in that phase's overlay,
 * `dist/<cluster>/<phase>/`, one file per namespace as meshfed's own, and so in every later phase (each
 * overlay builds on the one before) up to {@link PhaseOptions.through}. A chart of its own (cdk8s writes
 * nothing of it to the App's outdir); objects without a name get cdk8s' generated one.
 */
export class PhaseScope extends Chart {
  /** The cluster: a folder of the clusters folder. */
  public readonly cluster: string;
  /** The phase whose overlay first holds the objects. */
  public readonly phase: PhaseId;
  /** The last phase that holds them. @default the last phase */
  public readonly through?: PhaseId;
  /** The Federation this scope belongs to (its Aspects apply here). */
  public readonly federation: Federation;

  /** @internal use `Federation.phase` */
  constructor(federation: Federation, cluster: string, phase: PhaseId, options: PhaseOptions) {
    // One App per scope: cdk8s resolves and validates a whole App on every toJson (lib/constructs/phase-chart.ts).
    super(new App(), scopeId(cluster, phase, options.through));
    this.federation = federation;
    this.cluster = cluster;
    this.phase = phase;
    this.through = options.through;
  }
}

/** The exit code and messages of a Federation's synth that did not write (they were printed on stderr). */
export class FederationSynthError extends Error {
  constructor(
    /** What `meshfed synth` exits with: 1 input error or refusal, 2 usage (the output folder), 3 bug. */
    public readonly exitCode: number,
    out: string,
  ) {
    super(`meshfed: synth of ${out}/ failed with exit code ${exitCode} (the messages above say why)`);
    this.name = 'FederationSynthError';
  }
}

const SYNTH_HOOK = Symbol.for('meshfed.federation.synth');

/**
 * A federation of OSSM 2 meshes and its migration to OSSM 3 multi-cluster, rendered from a clusters folder into
 * per-cluster, per-phase Kustomize overlays. Rendering happens when the App synthesizes (`app.synth()`, which
 * `cdk8s synth` runs): the Federation runs `meshfed synth` (docs/output.md, "How synth writes dist/") with the
 * app's additions and Aspects, and throws a {@link FederationSynthError} when it writes nothing.
 *
 * ```ts
 * const app = new App({ outdir: 'cdk8s.out' });
 * const fed = new Federation(app, 'federation', { clusters: 'clusters', out: 'dist' });
 * new ApiObject(fed.phase('east', '07-finalize'), 'team-policy', { apiVersion: 'v1', kind: 'ConfigMap', ... });
 * Aspects.of(fed).add({ visit: (node) => ... });
 * app.synth();
 * ```
 */
export class Federation extends Construct {
  /** Return whether `x` is a Federation (across copies of meshfed, as cdk8s' `Chart.isChart`). */
  public static isFederation(x: unknown): x is Federation {
    return typeof x === 'object' && x !== null && FEDERATION in x;
  }

  /** The clusters folder. */
  public readonly clusters: string;
  /** The output folder. */
  public readonly out: string;
  private readonly props: FederationProps;
  private readonly scopes = new Map<string, PhaseScope>();

  constructor(scope: Construct, id: string, props: FederationProps = {}) {
    super(scope, id);
    Object.defineProperty(this, FEDERATION, { value: true });
    this.props = props;
    this.clusters = props.clusters ?? 'clusters';
    this.out = props.out ?? 'dist';
    const app = this.node.root;
    if (!(app instanceof App)) throw new Error(`meshfed: Federation ${this.node.path} is not in a cdk8s App: its root must be new App().`);
    const overlap = overlapping(app.outdir, this.out);
    if (overlap) throw new Error(outdirOverlap(app.outdir, this.out, overlap));
    hookSynth(app);
  }

  /**
   * The scope of `phase` on `cluster`: what is constructed under it lands in that phase's overlay and in every
   * later one, up to `options.through`. The same cluster, phase and options give the same scope.
   */
  public phase(cluster: string, phase: PhaseId, options: PhaseOptions = {}): PhaseScope {
    const known: readonly string[] = [...PHASES, ...GREENFIELD_PHASES];
    if (!known.includes(phase))
      throw new Error(`meshfed: fed.phase('${cluster}', '${phase}'): no such phase; the phases are ${known.join(', ')}.`);
    const { through } = options;
    if (
      through !== undefined &&
      (!known.includes(through) || phaseIndex(through) < phaseIndex(phase) || (through === 'multicluster') !== (phase === 'multicluster'))
    )
      throw new Error(
        `meshfed: fed.phase('${cluster}', '${phase}', { through: '${through}' }): through must be ${phase} or a later phase.`,
      );
    const key = scopeId(cluster, phase, through);
    let scope = this.scopes.get(key);
    if (!scope) {
      scope = new PhaseScope(this, cluster, phase, options);
      this.scopes.set(key, scope);
    }
    return scope;
  }

  /**
   * Run `meshfed synth` with this app's additions and Aspects; what `app.synth()` calls. Returns the exit code
   * (0: written, or up to date with `check`).
   */
  public synth(env: NodeJS.ProcessEnv = process.env): number {
    const flags: SynthFlags = {
      allowRemovals: this.props.allowRemovals ?? false,
      check: this.props.check ?? false,
      strict: this.props.strict ?? false,
      json: this.props.json ?? false,
      skipRehearsal: this.props.skipRehearsal ?? false,
      verbose: this.props.verbose ?? false,
      confirmRollbacks: this.props.confirmRollbacks ?? [],
      confirmAddressChanges: this.props.confirmAddressChanges ?? [],
      outGiven: true,
    };
    // Nothing of the app's to add and no aspect: exactly `meshfed synth` (and its stamp: an unchanged re-run renders nothing).
    const plain = this.scopes.size === 0 && this.aspects().length === 0 && !this.hasInnerAspects();
    const renderer = plain ? undefined : new AppRenderer(this, [...this.scopes.values()], this.aspects());
    const declaration = this.declaration();
    return new SynthRun({ clustersDir: this.clusters, outDir: this.out, declaration }, flags, env, renderer).exec();
  }

  /**
   * The federation declared in code: the Meshes constructed under this Federation; none: it renders its clusters folder.
   * @internal what synth renders (lib/load/declared.ts)
   */
  public declaration(): Declaration | undefined {
    const meshes = this.node.children.filter(Mesh.isMesh);
    const at = this.node.path;
    if (meshes.length && this.props.clusters !== undefined)
      throw new Error(
        `meshfed: Federation ${at} has Meshes (${meshes.map((m) => m.node.id).join(', ')}) and a clusters folder (${this.props.clusters}): ` +
          'it renders one or the other. Declare every cluster as a Mesh and drop clusters, or remove the Meshes.',
      );
    if (!meshes.length && this.props.gitops !== undefined)
      throw new Error(
        `meshfed: Federation ${at} names a gitops file but declares no Mesh: a clusters folder's GitOps settings are its gitops.yaml.`,
      );
    if (!meshes.length) return undefined;
    return { path: at, clusters: meshes.map((m) => m._declare()), ...(this.props.gitops !== undefined && { gitops: this.props.gitops }) };
  }

  /** The aspects that apply to everything this Federation renders: its own and its ancestors'. */
  private aspects(): IAspect[] {
    return inheritedAspects(this);
  }

  private hasInnerAspects(): boolean {
    return this.node.findAll().some((c) => c !== this && inheritedAspects(c).length > 0);
  }
}

const FEDERATION = Symbol.for('meshfed.Federation');

function scopeId(cluster: string, phase: PhaseId, through?: PhaseId): string {
  return `${cluster}-${phase}${through ? `-through-${through}` : ''}`;
}

/** `app.synth()` runs each Federation's synth first; one that writes nothing stops it with a FederationSynthError. */
function hookSynth(app: App): void {
  const hooked = app as App & { [SYNTH_HOOK]?: true };
  if (hooked[SYNTH_HOOK]) return;
  const synth = app.synth.bind(app);
  Object.defineProperty(app, SYNTH_HOOK, { value: true });
  Object.defineProperty(app, 'synth', {
    value: () => {
      for (const fed of app.node.findAll().filter(Federation.isFederation)) {
        const code = fed.synth();
        if (code !== 0) throw new FederationSynthError(code, fed.out);
      }
      synth();
    },
  });
}

/** Whether one folder is or holds the other (cdk8s writes its charts into the App's outdir). */
function overlapping(a: string, b: string): boolean {
  const [x, y] = [path.resolve(a), path.resolve(b)];
  const inside = (p: string, q: string) => p === q || p.startsWith(q.endsWith(path.sep) ? q : q + path.sep);
  return inside(x, y) || inside(y, x);
}

function outdirOverlap(outdir: string, out: string, _overlap: boolean): string {
  return (
    `meshfed: the App's outdir (${outdir}) and the Federation's out (${out}) overlap: cdk8s writes its charts into its ` +
    `outdir (and cdk8s synth empties it before the app runs), meshfed replaces ${out}/ as a whole. Give the App ` +
    `another folder (new App({ outdir: 'cdk8s.out' }), or output: in cdk8s.yaml) or the Federation another out.`
  );
}

/** A construct of the app as an error location: the file is the construct's path in the app. */
function at(construct: IConstruct, object?: ObjectRef): SourceLocation {
  return {
    file: `cdk8s app ${construct.node.path}`,
    object: object && `${object.kind} ${object.namespace ? `${object.namespace}/` : ''}${object.name}`,
  };
}

/**
 * The renderer a Federation hands the pipeline (lib/write/overlays.ts FolderRenderer): each folder's planned
 * objects rendered by meshfed's constructs in a chart of their own, the app's scopes of that phase beside them,
 * the Aspects applied to both, then every object checked for what kustomize and Argo CD need.
 */
class AppRenderer implements FolderRenderer {
  private readonly byFolder = new Map<string, PhaseScope[]>();
  private readonly added = new Map<string, ObjectRef[]>();
  private readonly removed = new Map<string, ObjectRef[]>();
  /** Per cluster: every object an earlier folder of it holds (refKey → where), to refuse a second one. */
  private readonly seen = new Map<string, Map<string, Seen>>();

  constructor(
    private readonly fed: Federation,
    private readonly scopes: readonly PhaseScope[],
    private readonly aspects: readonly IAspect[],
  ) {
    for (const s of scopes) this.byFolder.set(folderKey(s), [...(this.byFolder.get(folderKey(s)) ?? []), s]);
  }

  objects(folder: ObjectFolder, resources: Resource[]): JsonObject[] {
    const key = folderKey(folder);
    const own = new Chart(new App(), folder.shard ? `${key}-imports-${folder.shard}` : key, { disableResourceNameHashes: true });
    addPhaseObjects(own, resources);
    const scopes = folder.shard ? [] : (this.byFolder.get(key) ?? []);
    invokeAspects(own, this.aspects);
    for (const s of scopes) invokeAspects(s, this.aspects);
    const objects = own.toJson() as JsonObject[];
    const seen = this.seen.get(folder.cluster) ?? new Map<string, Seen>();
    this.seen.set(folder.cluster, seen);
    const where = `${folder.phase}${folder.shard ? ` (imports/${folder.shard})` : ''}`;
    const diags: Problem[] = [];
    for (const o of objects) {
      const ref = refOf(o);
      const before = seen.get(refKey(ref));
      if (before?.construct) diags.push(twice(before.construct, ref, `meshfed's own in ${where}`));
      seen.set(refKey(ref), { where: `meshfed's own in ${where}` });
    }
    for (const scope of scopes) objects.push(...this.appObjects(scope, seen, where, diags));
    if (diags.length) throw new InputError(diags.map((d) => ({ severity: 'error', ...d })));
    return objects;
  }

  /**
   * The objects of one scope, as its chart renders them (cdk8s validates the app's constructs there), each checked
   * against what the cluster's overlays hold so far and given the phase that deletes it.
   */
  private appObjects(scope: PhaseScope, seen: Map<string, Seen>, where: string, diags: Problem[]): JsonObject[] {
    const constructs = scope.node.findAll().filter((x): x is ApiObject => x instanceof ApiObject && Chart.of(x) === scope);
    const byRef = new Map(
      constructs.map((c) => [refKey({ apiVersion: c.apiVersion, kind: c.kind, name: c.name, namespace: c.metadata.namespace }), c]),
    );
    const after = scope.through && scope.phase !== 'multicluster' ? PHASES[phaseIndex(scope.through) + 1] : undefined;
    const objects = scope.toJson() as JsonObject[];
    for (const obj of objects) {
      const ref = refOf(obj);
      const c: IConstruct = byRef.get(refKey(ref)) ?? scope;
      const clash = seen.get(refKey(ref));
      if (clash) diags.push(twice(c, ref, clash.where));
      else if (WAVES[ref.kind] === undefined && !syncWaveOf(obj)) diags.push(noWave(c, ref));
      seen.set(refKey(ref), { where: `${c.node.path} in ${where}`, construct: c });
      const key = folderKey(scope);
      this.added.set(key, [...(this.added.get(key) ?? []), ref]);
      if (after) {
        const next = folderKey({ cluster: scope.cluster, phase: after });
        this.removed.set(next, [...(this.removed.get(next) ?? []), ref]);
      }
    }
    return objects;
  }

  appended(folder: ObjectFolder): ObjectRef[] {
    return this.added.get(folderKey(folder)) ?? [];
  }

  deletes(folder: ObjectFolder): ObjectRef[] {
    const refs = this.removed.get(folderKey(folder)) ?? [];
    for (const r of refs) this.seen.get(folder.cluster)?.delete(refKey(r));
    return refs;
  }

  /** After the render: a scope of a cluster or phase the input does not have would be dropped without a word. */
  finish(plan: Plan): void {
    const input = this.fed.declaration() ? `${this.fed.node.path} declares no Mesh` : `${this.fed.clusters}/ has no cluster`;
    const diags = this.scopes
      .filter((s) => !plan.local.includes(s.cluster) || !plan.phases.includes(s.phase))
      .map((s) => ({
        severity: 'error' as const,
        location: at(s),
        message: !plan.local.includes(s.cluster)
          ? `fed.phase('${s.cluster}', '${s.phase}'): ${input} ${s.cluster}, so its objects would be written nowhere.`
          : `fed.phase('${s.cluster}', '${s.phase}'): ${s.cluster} has no phase ${s.phase} (its phases: ${plan.phases.join(', ')}).`,
        hint: !plan.local.includes(s.cluster) ? `Name one of ${plan.local.join(', ')}.` : 'Name one of its phases.',
      }));
    if (diags.length) throw new InputError(diags);
  }
}

interface Problem {
  readonly location: SourceLocation;
  readonly message: string;
  readonly hint: string;
}

interface Seen {
  readonly where: string;
  /** The app's construct, when the app added it. */
  readonly construct?: IConstruct;
}

function folderKey(f: { cluster: string; phase: PhaseId }): string {
  return `${f.cluster}-${f.phase}`;
}

function syncWaveOf(obj: JsonObject): string | undefined {
  const annotations = (obj.metadata as { annotations?: Record<string, string> } | undefined)?.annotations;
  return annotations?.[SYNC_WAVE] ?? annotations?.['argocd.argoproj.io/hook'];
}

function twice(c: IConstruct, ref: ObjectRef, other: string) {
  return {
    location: at(c, ref),
    message: `the app adds ${refId(ref)}, which the overlay already holds (${other}): kustomize refuses two objects with one name.`,
    hint: 'Give the object another name, or add it once (a phase scope reaches every later phase).',
  };
}

function noWave(c: IConstruct, ref: ObjectRef) {
  return {
    location: at(c, ref),
    message: `meshfed has no Argo CD sync wave for kind ${ref.kind}: an object in the wrong wave can wait forever for one that comes after it.`,
    hint: `Set metadata.annotations['${SYNC_WAVE}'] on it (lib/write/sync-waves.ts lists meshfed's waves: ${ref.kind} after what it needs).`,
  };
}
