import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';

import { RBAC_HOOK_WAVE } from './job-timing';
import { InputError } from '../diagnostics';
import { JOB_STEPS_ANNOTATION, JobInstruction, renderJobScript } from '../job-steps';
import { ClusterRoleBindingFields, HookRbacFields, NamespaceRelabelRoleFields, RoleBindingFields } from '../plan/types';

/**
 * The annotations of RBAC that is a hook (HookRbacFields): PostSync, a wave before every hook Job, so the Job's pod
 * finds its ServiceAccount and grants; deleted when the sync succeeded — Argo CD deletes HookSucceeded hooks only
 * once the whole operation succeeded, after the Jobs, and keeps them when it failed, for the retry
 * (argo-cd@v3.4.0 gitops-engine/pkg/sync/sync_context.go:605-608, 636-640, 687-696). A ServiceAccount or a Role has
 * no health, so the hook counts as done once created (:351-372).
 */
export function rbacHookMetadata(fields: HookRbacFields): { annotations?: Record<string, string> } {
  if (!fields.hook) return {};
  return {
    annotations: {
      'argocd.argoproj.io/hook': 'PostSync',
      'argocd.argoproj.io/hook-delete-policy': 'BeforeHookCreation,HookSucceeded',
      'argocd.argoproj.io/sync-wave': String(RBAC_HOOK_WAVE),
    },
  };
}

export interface JobServiceAccountProps extends HookRbacFields {
  readonly name: string;
  readonly namespace: string;
}

/** The identity a meshfed Job runs as; it holds no permission until a RoleBinding grants one. */
export class JobServiceAccount extends Construct {
  constructor(scope: Construct, id: string, props: JobServiceAccountProps) {
    super(scope, id);
    new k8s.KubeServiceAccount(this, 'Resource', {
      metadata: { name: props.name, namespace: props.namespace, ...rbacHookMetadata(props) },
    });
  }
}

export interface JobRoleBindingProps extends RoleBindingFields {
  /** Name of the binding and of the Role it binds, in `namespace`. */
  readonly name: string;
  readonly namespace: string;
}

export class JobRoleBinding extends Construct {
  constructor(scope: Construct, id: string, props: JobRoleBindingProps) {
    super(scope, id);
    new k8s.KubeRoleBinding(this, 'Resource', {
      metadata: { name: props.name, namespace: props.namespace, ...rbacHookMetadata(props) },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: props.name },
      subjects: [{ kind: 'ServiceAccount', name: props.serviceAccount.name, namespace: props.serviceAccount.namespace }],
    });
  }
}

export interface NamespaceRelabelRoleProps extends NamespaceRelabelRoleFields {
  readonly name: string;
}

/** The only cluster-scoped grant meshfed renders: `get` and `patch` on exactly the named Namespaces. */
export class NamespaceRelabelRole extends Construct {
  constructor(scope: Construct, id: string, props: NamespaceRelabelRoleProps) {
    super(scope, id);
    new k8s.KubeClusterRole(this, 'Resource', {
      metadata: { name: props.name },
      rules: [{ apiGroups: [''], resources: ['namespaces'], verbs: ['get', 'patch'], resourceNames: [...props.namespaces].sort() }],
    });
  }
}

export interface JobClusterRoleBindingProps extends ClusterRoleBindingFields {
  /** Name of the binding (and of the ClusterRole it binds, unless `clusterRole` names another). */
  readonly name: string;
}

export class JobClusterRoleBinding extends Construct {
  constructor(scope: Construct, id: string, props: JobClusterRoleBindingProps) {
    super(scope, id);
    new k8s.KubeClusterRoleBinding(this, 'Resource', {
      metadata: { name: props.name },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: props.clusterRole ?? props.name },
      subjects: [{ kind: 'ServiceAccount', name: props.serviceAccount.name, namespace: props.serviceAccount.namespace }],
    });
  }
}

/**
 * Annotations of a one-off Job in a phase: an Argo CD PostSync hook (runs after the phase synced and is
 * healthy, deleted once it succeeded or before it is created again), and for Flux `force`, because a
 * Job's template is immutable. The Job's name carries a content hash, so Flux runs it again exactly
 * when what it does changes.
 */
export function hookAnnotations(wave: number): Record<string, string> {
  return {
    'argocd.argoproj.io/hook': 'PostSync',
    'argocd.argoproj.io/hook-delete-policy': 'BeforeHookCreation,HookSucceeded',
    'argocd.argoproj.io/sync-wave': String(wave),
    'kustomize.toolkit.fluxcd.io/force': 'enabled',
  };
}

export interface ScriptJobProps {
  readonly name: string;
  readonly namespace: string;
  readonly serviceAccountName: string;
  readonly image: string;
  /** What the Job does: rendered as its shell script, and as JSON in its `meshfed.dev/steps` annotation. */
  readonly steps: readonly JobInstruction[];
  readonly wave: number;
  /** @default 3 */
  readonly backoffLimit?: number;
  /** Kubernetes fails the Job after this long, whatever it does: an Argo CD PostSync hook never hangs. */
  readonly activeDeadlineSeconds: number;
}

/**
 * What the API server admits in one object's annotations, keys and values together, in bytes
 * (kubernetes@008b3652 staging/src/k8s.io/apimachinery/pkg/api/validation/objectmeta.go, TotalAnnotationSizeLimitB,
 * ValidateAnnotationsSize). A Job over it is refused: the Argo CD hook fails to create, the Flux apply fails whole.
 */
export const ANNOTATIONS_LIMIT_BYTES = 256 * 1024;

/** The size the API server counts for `annotations`. */
export function annotationsBytes(annotations: Readonly<Record<string, string>>): number {
  return Object.entries(annotations).reduce((n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(v), 0);
}

/** A Job that runs one shell script with a restricted security context, outside the mesh. */
export class ScriptJob extends Construct {
  constructor(scope: Construct, id: string, props: ScriptJobProps) {
    super(scope, id);
    const annotations = { ...hookAnnotations(props.wave), [JOB_STEPS_ANNOTATION]: JSON.stringify(props.steps) };
    const bytes = annotationsBytes(annotations);
    if (bytes > ANNOTATIONS_LIMIT_BYTES)
      throw new InputError([
        {
          severity: 'error',
          location: undefined,
          message:
            `Job ${props.namespace}/${props.name} would carry ${props.steps.length} steps in ${bytes} bytes of annotations; ` +
            `the API server refuses more than ${ANNOTATIONS_LIMIT_BYTES} (ValidateAnnotationsSize), so its phase could never sync.`,
          hint:
            'meshfed renders one Job per phase and mesh; a mesh this large is beyond what it splits today: migrate its member ' +
            'namespaces in smaller meshes, or report the workload count so the Job can be split.',
        },
      ]);
    new k8s.KubeJob(this, 'Resource', {
      metadata: { name: props.name, namespace: props.namespace, annotations },
      spec: {
        backoffLimit: props.backoffLimit ?? 3,
        activeDeadlineSeconds: props.activeDeadlineSeconds,
        template: {
          metadata: { annotations: { 'sidecar.istio.io/inject': 'false' } },
          spec: {
            serviceAccountName: props.serviceAccountName,
            restartPolicy: 'Never',
            securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
            containers: [
              {
                name: 'run',
                image: props.image,
                command: ['/bin/sh', '-c', renderJobScript(props.steps)],
                securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
              },
            ],
          },
        },
      },
    });
  }
}
