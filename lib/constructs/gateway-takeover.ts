import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';

import { ScriptJob } from './job-rbac';
import {
  GatewayAutoscalerFields,
  GatewayDeploymentFields,
  GatewayDisruptionBudgetFields,
  HandoverJobFields,
  HandoverRoleFields,
  HandoverTarget,
} from '../plan/types';

interface Named {
  readonly name: string;
  readonly namespace: string;
}

export type GatewayDeploymentProps = GatewayDeploymentFields & Named;

/** Dumped container resources as the typed class wants them (quantities as Quantity). */
function resourceRequirements(r: unknown): k8s.ResourceRequirements {
  const q = (m: unknown) =>
    m && typeof m === 'object'
      ? Object.fromEntries(Object.entries(m as Record<string, string | number>).map(([k, v]) => [k, k8s.Quantity.fromString(String(v))]))
      : undefined;
  const { limits, requests } = r as { limits?: unknown; requests?: unknown };
  const l = q(limits);
  const rq = q(requests);
  return { ...(l && Object.keys(l).length ? { limits: l } : {}), ...(rq && Object.keys(rq).length ? { requests: rq } : {}) };
}

/**
 * A gateway by injection (istio/istio manifests/charts/gateway, sail-operator chart/samples/ingress-gateway.yaml):
 * the `gateway` injection template fills in the istio-proxy container of `image: auto`.
 */
export class GatewayDeployment extends Construct {
  constructor(scope: Construct, id: string, props: GatewayDeploymentProps) {
    super(scope, id);
    const pod = props.pod as Record<string, never>;
    new k8s.KubeDeployment(this, 'Resource', {
      metadata: { name: props.name, namespace: props.namespace },
      spec: {
        ...(props.replicas !== undefined ? { replicas: props.replicas } : {}),
        selector: { matchLabels: props.selectorLabels },
        template: {
          metadata: { annotations: { 'inject.istio.io/templates': 'gateway' }, labels: props.podLabels },
          spec: {
            serviceAccountName: props.serviceAccount.name,
            ...(pod.affinity ? { affinity: pod.affinity } : {}),
            ...(pod.tolerations ? { tolerations: pod.tolerations } : {}),
            ...(pod.nodeSelector ? { nodeSelector: pod.nodeSelector } : {}),
            ...(pod.priorityClassName ? { priorityClassName: pod.priorityClassName } : {}),
            containers: [
              {
                name: 'istio-proxy',
                image: 'auto',
                ports: props.ports.map((p) => ({
                  ...(p.name ? { name: p.name.slice(0, 15) } : {}),
                  containerPort: p.containerPort,
                  protocol: p.protocol,
                })),
                ...(pod.resources ? { resources: resourceRequirements(pod.resources) } : {}),
              },
            ],
          },
        },
      },
    });
  }
}

/** Read access to the Secrets of the gateway's namespace, which its proxies load over SDS. */
export class GatewaySecretsRole extends Construct {
  constructor(scope: Construct, id: string, props: Named) {
    super(scope, id);
    new k8s.KubeRole(this, 'Resource', {
      metadata: { name: props.name, namespace: props.namespace },
      rules: [{ apiGroups: [''], resources: ['secrets'], verbs: ['get', 'watch', 'list'] }],
    });
  }
}

export type GatewayAutoscalerProps = GatewayAutoscalerFields & Named;

export class GatewayAutoscaler extends Construct {
  constructor(scope: Construct, id: string, props: GatewayAutoscalerProps) {
    super(scope, id);
    new k8s.KubeHorizontalPodAutoscalerV2(this, 'Resource', {
      metadata: { name: props.name, namespace: props.namespace },
      spec: {
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: props.name },
        minReplicas: props.min,
        maxReplicas: props.max,
        metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: props.cpu } } }],
      },
    });
  }
}

export type GatewayDisruptionBudgetProps = GatewayDisruptionBudgetFields & Named;

export class GatewayDisruptionBudget extends Construct {
  constructor(scope: Construct, id: string, props: GatewayDisruptionBudgetProps) {
    super(scope, id);
    new k8s.KubePodDisruptionBudget(this, 'Resource', {
      metadata: { name: props.name, namespace: props.namespace },
      spec: { minAvailable: k8s.IntOrString.fromNumber(1), selector: { matchLabels: props.selectorLabels } },
    });
  }
}

export type HandoverRoleProps = HandoverRoleFields & Named;

/** Exactly what the hand-over Job touches, by name. */
export class HandoverRole extends Construct {
  constructor(scope: Construct, id: string, props: HandoverRoleProps) {
    super(scope, id);
    const rules: k8s.PolicyRule[] = [];
    const named = (apiGroups: string[], resources: string[], names: string[], verbs: string[]) => {
      if (names.length) rules.push({ apiGroups, resources, resourceNames: [...names].sort(), verbs });
    };
    named(['apps'], ['deployments'], props.deployments, ['get', 'list', 'watch']);
    named([''], ['services'], props.services, ['get', 'patch']);
    named([''], ['endpoints'], props.services, ['get']);
    named(['route.openshift.io'], ['routes'], props.routes, ['get', 'patch']);
    if (props.smcp) {
      named(['maistra.io'], ['servicemeshcontrolplanes'], [props.smcp], ['get', 'list', 'watch', 'delete']);
      named(['maistra.io'], ['servicemeshmemberrolls'], ['default'], ['get']);
    }
    new k8s.KubeRole(this, 'Resource', { metadata: { name: props.name, namespace: props.namespace }, rules });
  }
}

/** How long the Job waits for each step (gateway rollout, members gone, SMCP finalizer). */
const STEP_TIMEOUT_SECONDS = 600;

const OWNER_LABELS = ['app.kubernetes.io/managed-by', 'maistra.io/owner', 'maistra.io/owner-name'];

/**
 * Remove the operator's labels and owner reference, then prove they are gone: whether `kubectl label
 * key-` fails on a label already absent is not relied on, the end state is checked.
 */
function stripLines(kind: string, name: string, namespace: string): string[] {
  const get = (jsonpath: string) => `$(kubectl get ${kind} ${name} -n ${namespace} -o jsonpath='${jsonpath}')`;
  return [
    `kubectl label ${kind} ${name} -n ${namespace} ${OWNER_LABELS.map((l) => `${l}-`).join(' ')} >/dev/null 2>&1 || true`,
    `if [ -n "${get('{.metadata.ownerReferences}')}" ]; then`,
    `  kubectl patch ${kind} ${name} -n ${namespace} --type json -p '[{"op":"remove","path":"/metadata/ownerReferences"}]' || exit 1`,
    'fi',
    ...OWNER_LABELS.map(
      (l) =>
        `[ -z "${get(`{.metadata.labels.${l.replace(/\./g, '\\.')}}`)}" ] || ` +
        `{ echo "meshfed: ${kind} ${namespace}/${name} still has label ${l}: the SMCP deletion would prune it; nothing deleted"; exit 1; }`,
    ),
  ];
}

function targetLines(t: HandoverTarget): string[] {
  return [
    `kubectl rollout status deployment/${t.deployment} -n ${t.namespace} --timeout=${STEP_TIMEOUT_SECONDS}s || exit 1`,
    `case " $(kubectl get endpoints ${t.service} -n ${t.namespace} -o jsonpath='{.subsets[*].addresses[*].targetRef.name}') " in`,
    `  *" ${t.deployment}-"*) ;;`,
    `  *) echo "meshfed: Service ${t.namespace}/${t.service} has no ready endpoint of ${t.deployment}; nothing handed over"; exit 1 ;;`,
    'esac',
  ];
}

/** The hand-over script (lib/plan/north-south.ts planHandover says why each step). */
export function handoverScript(props: HandoverJobFields): string {
  const { name, namespace } = props.smcp;
  return (
    [
      'set -u',
      ...props.targets.flatMap(targetLines),
      `i=0; while kubectl get servicemeshmemberroll default -n ${namespace} -o name >/dev/null 2>&1; do`,
      `  i=$((i+5)); [ $i -lt ${STEP_TIMEOUT_SECONDS} ] || { echo "meshfed: the member roll is still there"; exit 1; }; sleep 5`,
      'done',
      ...props.targets.flatMap((t) => [
        ...stripLines('service', t.service, t.namespace),
        ...t.routes.flatMap((r) => stripLines('route', r, t.namespace)),
      ]),
      `kubectl delete servicemeshcontrolplane ${name} -n ${namespace} --ignore-not-found --wait=true --timeout=${STEP_TIMEOUT_SECONDS}s || exit 1`,
      ...props.targets.map(
        (t) =>
          `kubectl get service ${t.service} -n ${t.namespace} -o name || { echo "meshfed: ${t.namespace}/${t.service} was pruned"; exit 1; }`,
      ),
    ].join('\n') + '\n'
  );
}

export type HandoverJobProps = HandoverJobFields & Named;

export class HandoverJob extends Construct {
  constructor(scope: Construct, id: string, props: HandoverJobProps) {
    super(scope, id);
    new ScriptJob(this, 'Job', {
      name: props.name,
      namespace: props.namespace,
      serviceAccountName: props.serviceAccount.name,
      image: props.image,
      script: handoverScript(props),
      wave: 0,
      activeDeadlineSeconds: 300 + 3 * STEP_TIMEOUT_SECONDS,
    });
  }
}
