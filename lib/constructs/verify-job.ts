import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';

import { ScriptJob } from './job-rbac';
import { VerifyJobFields, VerifyProbeSpec, VerifyRoleFields } from '../plan/types';

export interface VerifyRoleProps extends VerifyRoleFields {
  readonly name: string;
  readonly namespace: string;
}

/** What `kubectl exec deploy/<name>` needs: read the named Deployments, list pods, exec into them. */
export class VerifyRole extends Construct {
  constructor(scope: Construct, id: string, props: VerifyRoleProps) {
    super(scope, id);
    new k8s.KubeRole(this, 'Resource', {
      metadata: { name: props.name, namespace: props.namespace },
      rules: [
        { apiGroups: ['apps'], resources: ['deployments'], verbs: ['get'], resourceNames: [...props.deployments].sort() },
        { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list'] },
        { apiGroups: [''], resources: ['pods/exec'], verbs: ['create'] },
      ],
    });
  }
}

function quote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * The probe script: each probe is retried for up to five minutes (workloads may still be rolling), and
 * passes on a 2xx answer. The Job fails, and so the phase's sync, when any probe never passes.
 */
/** Each probe retries 30 times, each try at most 10 s of curl and 10 s of pause; probes run one after another. */
export function verifyDeadlineSeconds(probes: number): number {
  return 120 + probes * 30 * 20;
}

export function verifyScript(phase: string, probes: VerifyProbeSpec[]): string {
  const lines = [
    'set -u',
    'failed=0',
    'probe() {',
    '  i=0',
    '  while [ $i -lt 30 ]; do',
    '    code=$(kubectl exec -n "$1" "deploy/$2" -c "$3" -- curl -sS -o /dev/null -w "%{http_code}" --max-time 10 "$4" 2>&1)',
    '    case "$code" in 2??) echo "ok   $1/$2 -> $4 ($code)"; return 0 ;; esac',
    '    i=$((i + 1)); sleep 10',
    '  done',
    '  echo "FAIL $1/$2 -> $4: $code"; return 1',
    '}',
    `echo "meshfed: verifying traffic after ${phase}"`,
    ...probes.map((p) => `probe ${quote(p.namespace)} ${quote(p.deployment)} ${quote(p.container)} ${quote(p.url)} || failed=1`),
    'exit $failed',
  ];
  return lines.join('\n') + '\n';
}

export interface VerifyJobProps extends VerifyJobFields {
  readonly name: string;
  readonly namespace: string;
}

/** Checks traffic through the mesh after the phase (PostSync, wave 1: after the restart Job). */
export class VerifyJob extends Construct {
  constructor(scope: Construct, id: string, props: VerifyJobProps) {
    super(scope, id);
    new ScriptJob(this, 'Job', {
      name: props.name,
      namespace: props.namespace,
      serviceAccountName: props.serviceAccount.name,
      image: props.image,
      script: verifyScript(props.phase, props.probes),
      wave: 1,
      backoffLimit: 1,
      activeDeadlineSeconds: verifyDeadlineSeconds(props.probes.length),
    });
  }
}
