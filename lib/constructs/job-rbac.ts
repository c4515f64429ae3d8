import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';

import { JOB_STEPS_ANNOTATION, JobInstruction, renderJobScript } from '../job-steps';
import { ClusterRoleBindingFields, NamespaceRelabelRoleFields, RoleBindingFields } from '../plan/types';

export interface JobServiceAccountProps {
  readonly name: string;
  readonly namespace: string;
}

/** The identity a meshfed Job runs as; it holds no permission until a RoleBinding grants one. */
export class JobServiceAccount extends Construct {
  constructor(scope: Construct, id: string, props: JobServiceAccountProps) {
    super(scope, id);
    new k8s.KubeServiceAccount(this, 'Resource', { metadata: { name: props.name, namespace: props.namespace } });
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
      metadata: { name: props.name, namespace: props.namespace },
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

/** A Job that runs one shell script with a restricted security context, outside the mesh. */
export class ScriptJob extends Construct {
  constructor(scope: Construct, id: string, props: ScriptJobProps) {
    super(scope, id);
    new k8s.KubeJob(this, 'Resource', {
      metadata: {
        name: props.name,
        namespace: props.namespace,
        annotations: { ...hookAnnotations(props.wave), [JOB_STEPS_ANNOTATION]: JSON.stringify(props.steps) },
      },
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
