/**
 * The change record of one pointer move (`meshfed report`): pure data, built by lib/pipeline/report.ts from the
 * plan, the kustomize builds of both phases and the twin's verdict, written as markdown (`markdown.ts`) or as one
 * self-contained HTML page (`html.ts`).
 */

/** An object as the record names it. */
export interface RecordObject {
  readonly kind: string;
  readonly apiVersion: string;
  /** Empty for a cluster-scoped object. */
  readonly namespace: string;
  readonly name: string;
}

/** One task of the sync, in the order the engine runs it (Argo CD: phase, wave, kind, name). */
export interface RecordStep {
  readonly phase: string;
  readonly wave: number;
  readonly action: 'create' | 'update' | 'unchanged' | 'prune' | 'prune-skipped' | 'hook';
  readonly object: RecordObject;
}

/** What a hook Job of the new phase does to objects it does not declare (from its `meshfed.dev/steps`). */
export interface HookEffect {
  readonly job: RecordObject;
  /** `delete`, `patch` (labels, ownership, a pod-template annotation) or `relabel` (namespaces). */
  readonly op: 'delete' | 'patch' | 'relabel';
  readonly target: string;
  readonly detail: string;
}

/** One object's change between the two builds, as a unified diff of its YAML. */
export interface RecordDiff {
  readonly object: RecordObject;
  readonly change: 'added' | 'removed' | 'changed';
  readonly patch: string;
}

/** A workload whose pods are replaced by the move. */
export interface RecordRestart {
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
  /** Undefined when neither the dumps nor the render say (the cluster's own default applies). */
  readonly replicas?: number;
  /** `RollingUpdate (maxUnavailable 25%, maxSurge 25%)`, `Recreate`, `OnDelete`… */
  readonly strategy: string;
  /** Why it restarts: the pod template changed, or a hook Job restarts it. */
  readonly why: string;
  readonly disruption: string;
}

/** A policy that changes, and who gains or loses access through it. */
export interface RecordAccess {
  readonly policy: RecordObject;
  readonly change: 'added' | 'removed' | 'changed';
  /** What the policy applies to: `namespace a, pods app=httpbin`. */
  readonly scope: string;
  readonly gains: string[];
  readonly loses: string[];
  readonly note?: string;
}

export interface RecordGate {
  readonly cluster: string;
  readonly phase: string;
  readonly reason: string;
  /** The peer's pointer now. */
  readonly pointer: string;
  readonly met: boolean;
}

/** A command and the output its comment expects (empty when it names none). */
export interface RecordCommand {
  readonly command: string;
  readonly expect: string;
}

export interface RecordVerdict {
  readonly status: 'passed' | 'failed' | 'not rehearsed';
  /** Why it was not rehearsed. */
  readonly reason?: string;
  readonly moves: {
    readonly engine: string;
    readonly scenario: string;
    readonly move: string;
    readonly ok: boolean;
    readonly seconds: number;
  }[];
  readonly findings: {
    readonly engine: string;
    readonly scenario: string;
    readonly move: string;
    readonly why: string;
    readonly fix: string;
  }[];
}

/** A traffic flow the verification checks: a client of this cluster calling an imported (or local) host. */
export interface RecordFlow {
  readonly from: string;
  readonly to: string;
  readonly host: string;
}

/** The federation at a glance: every local cluster's pointer and each phase's gates. */
export interface RecordTimeline {
  readonly phases: readonly string[];
  readonly clusters: { readonly cluster: string; readonly pointer: string; readonly rendered?: string }[];
  /** Every gate of every cluster: `cluster` may enter `phase` once `peer` is at `peerPhase`. */
  readonly gates: { readonly cluster: string; readonly phase: string; readonly peer: string; readonly peerPhase: string }[];
}

export interface ChangeRecord {
  readonly cluster: string;
  readonly from: string;
  readonly to: string;
  readonly direction: 'forward' | 'rollback';
  readonly title: string;
  readonly what: string;
  /** Where each side's objects come from (`dist/ as committed`, `the render of clusters/`). */
  readonly sources: { readonly from: string; readonly to: string };
  readonly notes: string[];
  readonly steps: RecordStep[];
  readonly hooks: HookEffect[];
  readonly diff: RecordDiff[];
  readonly restarts: RecordRestart[];
  readonly access: RecordAccess[];
  readonly gates: RecordGate[];
  readonly blockedBy: string[];
  readonly preflight: RecordCommand[];
  readonly verification: RecordCommand[];
  /** The sync back: what it prunes, what it leaves in place (`Prune=false`), what it creates again. */
  readonly rollback: {
    readonly text: string;
    readonly prunes: RecordObject[];
    readonly keeps: RecordObject[];
    readonly restores: RecordObject[];
  };
  readonly verdict: RecordVerdict;
  readonly flows: RecordFlow[];
  readonly timeline: RecordTimeline;
}

/** `Kind namespace/name`, as the runbooks name an object. */
export function objectName(o: RecordObject): string {
  return `${o.kind} ${o.namespace ? `${o.namespace}/` : ''}${o.name}`;
}

/** A command line split at its expectation comment (`cmd   # expected`). */
export function splitCommand(line: string): RecordCommand {
  const at = line.indexOf('   # ');
  return at < 0 ? { command: line, expect: '' } : { command: line.slice(0, at), expect: line.slice(at + 5) };
}
