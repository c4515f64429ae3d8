import { Construct } from 'constructs';

import { Application } from '../../imports/argocd-application-argoproj.io';

export interface MeshfedApplicationProps {
  readonly cluster: string;
  readonly phase: string;
  readonly namespace: string;
  readonly project: string;
  readonly destination: { readonly name?: string; readonly server?: string };
  /** Argo CD syncs by itself (prune, self-heal); false: every sync is started by hand. @default true */
  readonly automated?: boolean;
  readonly repoURL: string;
  readonly targetRevision: string;
  readonly path: string;
  /** Import folders delivered with the phase (docs/output.md, "Import folders"): then the Application has `sources`. */
  readonly imports?: { readonly name: string; readonly path: string }[];
}

/**
 * How often Argo CD retries a failed sync (each retry a full sync, every hook again: argo-cd@v3.4.0
 * controller/appcontroller.go:1466-1491, 1537-1550). The runbooks' worst case counts it.
 */
export const ARGOCD_RETRY_LIMIT = 5;

/**
 * Sync options, chosen deliberately (docs/gitops.md, "Argo CD"):
 * - automated prune: 04 and 07 delete objects; selfHeal: drift back to the phase's state;
 * - PruneLast: deletions (peers in 04, the SMCP in 07) only after everything else is synced and healthy;
 * - ServerSideApply: fields dropped from Git (SMCP gateways in 04, istio-injection in 06) are removed
 *   from objects Argo CD owns; Argo CD ≥ 3.1 migrates fields kubectl client-side-applied before adoption;
 * - no resources finalizer: deleting the Application never deletes the mesh;
 * - retry with backoff: a phase can wait for an operator (Sail CRDs, SMCP reconcile).
 * Per object: sync waves, and SkipDryRunOnMissingResource on Sail/ESO kinds (their CRDs come from OLM).
 */
export class MeshfedApplication extends Construct {
  constructor(scope: Construct, id: string, props: MeshfedApplicationProps) {
    super(scope, id);
    new Application(this, 'Resource', {
      metadata: {
        name: `meshfed-${props.cluster}`,
        namespace: props.namespace,
        labels: { 'app.kubernetes.io/managed-by': 'meshfed', 'meshfed.dev/cluster': props.cluster, 'meshfed.dev/phase': props.phase },
        // For the root Application (MeshfedRootApplication), which manages this one: deleting it never deletes this.
        annotations: { 'argocd.argoproj.io/sync-options': 'Delete=false' },
      },
      spec: {
        project: props.project,
        destination: props.destination,
        ...(props.imports?.length
          ? {
              // One Application, several kustomize builds: sync waves and the PostSync verify Job span them all.
              // No source `name`: Argo CD < 2.14 does not know it, and kubectl's strict validation would refuse it.
              sources: [props.path, ...props.imports.map((i) => i.path)].map((path) => ({
                repoUrl: props.repoURL,
                targetRevision: props.targetRevision,
                path,
              })),
            }
          : { source: { repoUrl: props.repoURL, targetRevision: props.targetRevision, path: props.path } }),
        syncPolicy: {
          ...(props.automated === false ? {} : { automated: { prune: true, selfHeal: true } }),
          // 07 prunes the OSSM 2 control plane: members, roll, then the SMCP (per-object PruneLast), in
          // reverse sync-wave order (Argo CD ≥ 2.11), which an app-wide PruneLast would flatten into one wave
          // (gitops-engine sync_context.go).
          // Delete=false app-wide too (Argo CD ≥ 3.4 reads it: controller/appcontroller.go:1171-1174); every object
          // also carries it, which is what older versions read (lib/write/sync-waves.ts).
          syncOptions:
            props.phase === '07-finalize'
              ? ['Delete=false', 'ServerSideApply=true']
              : ['Delete=false', 'PruneLast=true', 'ServerSideApply=true'],
          retry: { limit: ARGOCD_RETRY_LIMIT, backoff: { duration: '10s', factor: 2, maxDuration: '3m' } },
        },
      },
    });
  }
}

export interface MeshfedRootApplicationProps {
  /** The Argo CD namespace: where the Application lives and where it creates the clusters' Applications. */
  readonly namespace: string;
  readonly repoURL: string;
  readonly targetRevision: string;
  /** `<gitops path>/argocd`: the folder whose kustomization.yaml lists the clusters' Applications. */
  readonly path: string;
}

/** The root Application's name: never a cluster's (those are `meshfed-<cluster>`). */
export const ROOT_APPLICATION = 'meshfed';

/**
 * The app of apps (argo-cd@v3.4.0 docs/operator-manual/cluster-bootstrapping.md, "App Of Apps Pattern"): one
 * Application on dist/argocd, applied once by hand, so a pointer move in Git reaches each cluster's Application
 * with the commit. Chosen deliberately:
 * - automated sync, without prune: a cluster whose Application leaves dist/argocd (a cluster removed or renamed,
 *   which synth's removal guard already asks to confirm) shows as OutOfSync instead of disappearing; pruning it is
 *   `argocd app sync meshfed --prune`, by hand. Its children have no resources finalizer, so even then their
 *   resources stay.
 * - no self-heal: a child changed by hand (auto-sync turned off during an incident) stays so until the next commit,
 *   which applies Git again (auto-sync runs once per new revision).
 * - `Delete=false`, app-wide (Argo CD >= 3.4) and on each child (lib/write/gitops.ts): deleting this Application with
 *   the CLI's or UI's cascade default keeps the clusters' Applications and so their delivery.
 * - the differences upstream's example ignores on child Applications: `/operation` (set by `argocd app sync`) and the
 *   refresh annotation, with RespectIgnoreDifferences so a sync does not undo them.
 */
export class MeshfedRootApplication extends Construct {
  constructor(scope: Construct, id: string, props: MeshfedRootApplicationProps) {
    super(scope, id);
    new Application(this, 'Resource', {
      metadata: { name: ROOT_APPLICATION, namespace: props.namespace, labels: { 'app.kubernetes.io/managed-by': 'meshfed' } },
      spec: {
        project: 'default',
        destination: { server: 'https://kubernetes.default.svc', namespace: props.namespace },
        source: { repoUrl: props.repoURL, targetRevision: props.targetRevision, path: props.path },
        ignoreDifferences: [
          {
            group: 'argoproj.io',
            kind: 'Application',
            jsonPointers: ['/operation', '/metadata/annotations/argocd.argoproj.io~1refresh'],
          },
        ],
        syncPolicy: {
          automated: { prune: false, selfHeal: false },
          syncOptions: ['Delete=false', 'RespectIgnoreDifferences=true'],
          retry: { limit: ARGOCD_RETRY_LIMIT, backoff: { duration: '10s', factor: 2, maxDuration: '3m' } },
        },
      },
    });
  }
}
