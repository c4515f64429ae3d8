import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';

import { ScriptJob } from './job-rbac';
import { RestartJobFields, RestartRoleFields, WorkloadRef } from '../plan/types';

const RESOURCE: Record<WorkloadRef['kind'], string> = { Deployment: 'deployments', StatefulSet: 'statefulsets', DaemonSet: 'daemonsets' };

export interface RestartRoleProps extends RestartRoleFields {
  readonly name: string;
  readonly namespace: string;
}

/** Allows `patch` on exactly the named workloads of one namespace, nothing else. */
export class RestartRole extends Construct {
  constructor(scope: Construct, id: string, props: RestartRoleProps) {
    super(scope, id);
    const kinds = [...new Set(props.workloads.map((w) => w.kind))].sort();
    new k8s.KubeRole(this, 'Resource', {
      metadata: { name: props.name, namespace: props.namespace },
      rules: kinds.map((kind) => ({
        apiGroups: ['apps'],
        resources: [RESOURCE[kind]],
        verbs: ['patch'],
        resourceNames: props.workloads
          .filter((w) => w.kind === kind)
          .map((w) => w.name)
          .sort(),
      })),
    });
  }
}

/** The shell script the Job runs: one `kubectl patch` per workload, failing on the first error. */
export function restartScript(annotation: string, value: string, workloads: WorkloadRef[]): string {
  // Changing the pod template makes the controller roll the pods.
  const patch = JSON.stringify({ spec: { template: { metadata: { annotations: { [annotation]: value } } } } });
  const lines = workloads.map((w) => `kubectl patch ${RESOURCE[w.kind]} ${w.name} -n ${w.namespace} --type merge -p '${patch}'`);
  return ['set -eu', ...lines].join('\n') + '\n';
}

export interface RestartJobProps extends RestartJobFields {
  readonly name: string;
  readonly namespace: string;
}

/**
 * Restarts the migrated namespaces' workloads so their sidecars are injected by the new revision, after
 * the namespaces were relabelled (PostSync, wave 0). It patches a pod-template annotation, which needs
 * only `patch` on the named objects.
 */
export class RestartJob extends Construct {
  constructor(scope: Construct, id: string, props: RestartJobProps) {
    super(scope, id);
    new ScriptJob(this, 'Job', {
      name: props.name,
      namespace: props.namespace,
      serviceAccountName: props.serviceAccount.name,
      image: props.image,
      script: restartScript(props.annotation, props.value, props.workloads),
      wave: 0,
    });
  }
}
