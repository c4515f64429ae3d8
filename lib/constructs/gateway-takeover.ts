import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';

import { rbacHookMetadata, ScriptJob } from './job-rbac';
import { HANDOVER_DEADLINE_SECONDS, HANDOVER_STEP_TIMEOUT_SECONDS as STEP_TIMEOUT_SECONDS, HANDOVER_WAVE } from './job-timing';
import { JobInstruction, JobStep, renderJobScript } from '../job-steps';
import { GatewayAutoscalerFields, GatewayDeploymentFields, HandoverJobFields, HandoverRoleFields } from '../plan/types';

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
    const mounts = (props.volumes ?? []).flatMap((v) => (v.mount ? [v.mount as never] : []));
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
            ...(props.volumes?.length ? { volumes: props.volumes.map((v) => v.volume as never) } : {}),
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
                ...(mounts.length ? { volumeMounts: mounts } : {}),
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
    named([''], ['serviceaccounts'], props.serviceAccounts, ['get', 'patch']);
    named(['policy'], ['poddisruptionbudgets'], props.disruptionBudgets, ['get', 'patch']);
    if (props.smcp) named(['maistra.io'], ['servicemeshcontrolplanes'], [props.smcp], ['get', 'list', 'watch', 'delete']);
    if (props.memberRoll) named(['maistra.io'], ['servicemeshmemberrolls'], ['default'], ['get']);
    // kubectl delete --wait lists and watches what it deleted while its finalizer runs (kubectl@v0.32.9 pkg/cmd/wait/delete.go:80-93).
    if (props.member) named(['maistra.io'], ['servicemeshmembers'], ['default'], ['get', 'list', 'watch', 'delete']);
    new k8s.KubeRole(this, 'Resource', { metadata: { name: props.name, namespace: props.namespace, ...rbacHookMetadata(props) }, rules });
  }
}

const OWNER_LABELS = ['app.kubernetes.io/managed-by', 'maistra.io/owner', 'maistra.io/owner-name'];

/** The hand-over steps (lib/plan/north-south.ts planHandover says why each step). */
export function handoverSteps(props: HandoverJobFields): JobInstruction[] {
  const { name, namespace } = props.smcp;
  const strip = (resource: string, n: string, ns: string): JobStep => ({
    op: 'strip-owner',
    resource,
    name: n,
    namespace: ns,
    labels: OWNER_LABELS,
  });
  return [
    ...props.targets.flatMap((t): JobStep[] => [
      {
        op: 'rollout-status',
        target: { resource: 'deployments', name: t.deployment, namespace: t.namespace },
        timeoutSeconds: STEP_TIMEOUT_SECONDS,
      },
      { op: 'require-endpoint', service: t.service, namespace: t.namespace, deployment: t.deployment },
    ]),
    ...(props.waitForMemberRoll
      ? [
          {
            op: 'wait-absent' as const,
            resource: 'servicemeshmemberroll',
            name: 'default',
            namespace,
            timeoutSeconds: STEP_TIMEOUT_SECONDS,
          },
        ]
      : []),
    // The ServiceAccount meshfed's gateway pods run as and the SMCP's PodDisruptionBudget of them: Maistra's
    // until now, pruned with the SMCP unless stripped too (lib/plan/north-south.ts handedOverServices).
    ...props.targets.flatMap((t) => [
      strip('service', t.service, t.namespace),
      ...t.routes.map((r) => strip('route', r, t.namespace)),
      strip('serviceaccount', t.serviceAccount, t.namespace),
      ...(t.disruptionBudget ? [strip('poddisruptionbudget', t.disruptionBudget, t.namespace)] : []),
    ]),
    { op: 'delete', resource: 'servicemeshcontrolplane', name, namespace, timeoutSeconds: STEP_TIMEOUT_SECONDS },
    ...props.members.map((ns): JobStep => ({
      op: 'delete',
      resource: 'servicemeshmember',
      name: 'default',
      namespace: ns,
      timeoutSeconds: STEP_TIMEOUT_SECONDS,
    })),
    ...props.targets.flatMap((t): JobStep[] => [
      {
        op: 'require-present',
        resource: 'service',
        name: t.service,
        namespace: t.namespace,
        message: `${t.namespace}/${t.service} was pruned`,
      },
      {
        op: 'require-present',
        resource: 'serviceaccount',
        name: t.serviceAccount,
        namespace: t.namespace,
        message: `ServiceAccount ${t.namespace}/${t.serviceAccount}, the identity of ${t.deployment}'s pods, was pruned`,
      },
    ]),
  ];
}

/** The hand-over Job's script (renderJobScript of handoverSteps). */
export function handoverScript(props: HandoverJobFields): string {
  return renderJobScript(handoverSteps(props));
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
      steps: handoverSteps(props),
      wave: HANDOVER_WAVE,
      activeDeadlineSeconds: HANDOVER_DEADLINE_SECONDS,
    });
  }
}
