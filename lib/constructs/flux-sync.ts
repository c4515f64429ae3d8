import { Construct } from 'constructs';

import { fluxHealthCheckExprs } from './health-checks';
import { GitRepository, GitRepositorySpecRef } from '../../imports/flux-gitrepository-source.toolkit.fluxcd.io';
import {
  Kustomization,
  KustomizationSpecDeletionPolicy,
  KustomizationSpecSourceRefKind,
} from '../../imports/flux-kustomization-kustomize.toolkit.fluxcd.io';
import { fluxImportsName } from '../plan/delivery';

export const FLUX_SOURCE_NAME = 'meshfed';

/** Flux follows a branch, tag, ref or commit; Argo CD's "HEAD" means the default branch, taken as main. */
export function fluxRef(targetRevision: string): GitRepositorySpecRef {
  if (targetRevision === 'HEAD') return { branch: 'main' };
  if (targetRevision.startsWith('refs/')) return { name: targetRevision };
  if (/^[0-9a-f]{40}$/.test(targetRevision)) return { commit: targetRevision };
  return { branch: targetRevision };
}

export interface FluxSyncProps {
  readonly cluster: string;
  readonly namespace: string;
  readonly interval: string;
  readonly repoURL: string;
  /** Secret with the repository credentials, when it is private. @default - none */
  readonly secretRef?: string;
  readonly targetRevision: string;
  readonly path: string;
  /**
   * How long the phase may take to become healthy (a Go duration): longer than the deadline of every Job in it
   * (lib/write/durations.ts), so Flux reports a Job's own failure rather than a timeout.
   */
  readonly timeout: string;
  /** Import folders delivered with the phase (docs/output.md, "Import folders"): one Kustomization each. */
  readonly imports?: { readonly name: string; readonly exporter: string; readonly path: string }[];
}

/** How every meshfed Kustomization applies a folder of the GitOps repository: prune, wait for health (or not), retry. */
function applySpec(interval: string, path: string, timeout: string, wait = true) {
  return {
    interval,
    sourceRef: { kind: KustomizationSpecSourceRefKind.GIT_REPOSITORY, name: FLUX_SOURCE_NAME },
    path: `./${path}`,
    prune: true,
    wait,
    timeout,
    retryInterval: '1m',
  };
}

/**
 * The cluster's Flux objects: the GitOps repository and one Kustomization on the current phase folder,
 * with prune (04 and 07 delete), wait (every applied object healthy, with CEL health for the Sail,
 * Maistra and Gateway API kinds), no targetNamespace (it would put a namespace on cluster-scoped Sail
 * kinds). Jobs carry `kustomize.toolkit.fluxcd.io/force` themselves. From 03-import on, one more
 * Kustomization per import folder (docs/output.md, "Import folders").
 */
export class FluxSync extends Construct {
  constructor(scope: Construct, id: string, props: FluxSyncProps) {
    super(scope, id);
    new GitRepository(this, 'Source', {
      metadata: { name: FLUX_SOURCE_NAME, namespace: props.namespace },
      spec: {
        interval: props.interval,
        url: props.repoURL,
        ref: fluxRef(props.targetRevision),
        ...(props.secretRef ? { secretRef: { name: props.secretRef } } : {}),
      },
    });
    new Kustomization(this, 'Kustomization', {
      metadata: {
        name: `meshfed-${props.cluster}`,
        namespace: props.namespace,
        labels: { 'app.kubernetes.io/managed-by': 'meshfed', 'meshfed.dev/cluster': props.cluster },
      },
      spec: {
        ...applySpec(props.interval, props.path, props.timeout),
        // Deleting this Kustomization must not delete the mesh: Flux's finalizer garbage-collects the
        // inventory under the default MirrorPrune (kustomize-controller kustomization_controller.go,
        // finalize -> deleteObjects; docs/spec/v1/kustomizations.md "Deletion policy").
        deletionPolicy: KustomizationSpecDeletionPolicy.ORPHAN,
        healthCheckExprs: fluxHealthCheckExprs(),
      },
    });
    // Applied next to the phase, not after it (no dependsOn either way): the phase's verify Job needs the
    // imports, and in greenfield the imports' namespaces come from the phase. Each side retries.
    for (const i of props.imports ?? []) {
      new Kustomization(this, `Imports-${i.name}`, {
        metadata: {
          name: fluxImportsName(props.cluster, i.name),
          namespace: props.namespace,
          labels: {
            'app.kubernetes.io/managed-by': 'meshfed',
            'meshfed.dev/cluster': props.cluster,
            'meshfed.dev/imports-from': i.exporter,
          },
        },
        spec: applySpec(props.interval, i.path, '5m'),
      });
    }
  }
}

export interface FluxBootstrapProps {
  readonly cluster: string;
  readonly namespace: string;
  readonly interval: string;
  /** dist/flux/<cluster> inside the GitOps repository. */
  readonly path: string;
}

/**
 * The Kustomization that lets Flux apply dist/flux/<cluster> itself (after one manual apply of this file),
 * with prune, so a pointer change, a new import folder and a removed one (rollback to 02) take effect with
 * the commit; Orphan, so deleting it never deletes the phase Kustomization's mesh. No `wait`: it would health-check
 * the phase Kustomization it applies, which is not Ready while a phase legitimately runs its Jobs (up to its own
 * timeout), and fail with "health check failed" after its 5 minutes on every retry; and while it waited, it would
 * not apply the next commit's spec either — a rollback included. Without `wait` or `healthChecks` the controller
 * checks no health (fluxcd/kustomize-controller@186fb3b internal/controller/kustomization_controller.go:1018-1021):
 * Ready means applied, and the phase Kustomization reports the phase's own health.
 */
export class FluxBootstrap extends Construct {
  constructor(scope: Construct, id: string, props: FluxBootstrapProps) {
    super(scope, id);
    new Kustomization(this, 'Resource', {
      metadata: {
        name: `meshfed-${props.cluster}-delivery`,
        namespace: props.namespace,
        labels: { 'app.kubernetes.io/managed-by': 'meshfed', 'meshfed.dev/cluster': props.cluster },
      },
      spec: { ...applySpec(props.interval, props.path, '5m', false), deletionPolicy: KustomizationSpecDeletionPolicy.ORPHAN },
    });
  }
}
