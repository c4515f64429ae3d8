import { ref } from './api-versions';
import { NamespaceRelabel, PhasePlan, Resource, WorkloadRef } from './types';
import { Diagnostics } from '../diagnostics';
import { dnsLabel, shortHash } from '../model/names';
import { Mesh } from '../model/types';
import { byKey } from '../sort';

/** Pod-template annotation of the 06 restart: the revision the workloads move to. */
export const REVISION_RESTART_ANNOTATION = 'meshfed.dev/restarted-for-revision';
/** Pod-template annotation of the 03 restart on importers: the network their proxies now carry. */
export const NETWORK_RESTART_ANNOTATION = 'meshfed.dev/restarted-for-network';

/** The dumped workloads of these namespaces, in code-unit order. */
export function workloadsIn(mesh: Mesh, namespaces: readonly string[]): WorkloadRef[] {
  const wanted = new Set(namespaces);
  return mesh.inventory.workloads
    .filter((w) => wanted.has(w.namespace))
    .map((w) => ({ kind: w.kind, namespace: w.namespace, name: w.name }))
    .sort(
      byKey(
        (w) => w.namespace,
        (w) => w.kind,
        (w) => w.name,
      ),
    );
}

export interface RestartSpec {
  /** Name of the ServiceAccount, the Roles and RoleBindings, and the prefix of the Job's name. */
  readonly name: string;
  /** Where the Job and its ServiceAccount run. */
  readonly namespace: string;
  readonly annotation: string;
  readonly value: string;
  readonly workloads: WorkloadRef[];
  /** What the Job's name hashes besides the image (Jobs are immutable: a new set must run again). */
  readonly identity: Record<string, unknown>;
  /** Namespaces the Job relabels before restarting (06), with a ClusterRole limited to them. */
  readonly relabel?: NamespaceRelabel;
  /** The Deployment to wait for first, with a read-only Role on it. */
  readonly waitFor?: WorkloadRef;
}

/**
 * A restart: a ServiceAccount, per namespace a Role that allows only `patch` on the named workloads and
 * its RoleBinding, and the Job that patches their pod-template annotation (content-named).
 */
export function restartResources(mesh: Mesh, spec: RestartSpec): Resource[] {
  if (spec.workloads.length === 0 && !spec.relabel?.ignoreOnly?.length) return [];
  const identity = {
    workloads: spec.workloads,
    ...spec.identity,
    image: mesh.restartImage,
    ...(spec.relabel ? { relabel: spec.relabel } : {}),
  };
  const jobName = dnsLabel(spec.name, shortHash(JSON.stringify(identity)));
  const sa = ref('v1', 'ServiceAccount', spec.name, spec.namespace);
  const namespaces = [...new Set(spec.workloads.map((w) => w.namespace))].sort();
  return [
    { type: 'serviceAccount', ref: sa },
    ...namespaces.flatMap((ns): Resource[] => [
      {
        type: 'restartRole',
        ref: ref('rbac.authorization.k8s.io/v1', 'Role', spec.name, ns),
        workloads: spec.workloads.filter((w) => w.namespace === ns),
      },
      { type: 'roleBinding', ref: ref('rbac.authorization.k8s.io/v1', 'RoleBinding', spec.name, ns), serviceAccount: sa },
    ]),
    ...(spec.waitFor
      ? ([
          {
            type: 'restartRole',
            ref: ref('rbac.authorization.k8s.io/v1', 'Role', `${spec.name}-wait`, spec.waitFor.namespace),
            workloads: [spec.waitFor],
            readOnly: true,
          },
          {
            type: 'roleBinding',
            ref: ref('rbac.authorization.k8s.io/v1', 'RoleBinding', `${spec.name}-wait`, spec.waitFor.namespace),
            serviceAccount: sa,
          },
        ] as Resource[])
      : []),
    ...(spec.relabel
      ? ([
          {
            type: 'namespaceRelabelRole',
            ref: ref('rbac.authorization.k8s.io/v1', 'ClusterRole', spec.name),
            namespaces: [...spec.relabel.namespaces, ...(spec.relabel.ignoreOnly ?? [])].sort(),
          },
          { type: 'clusterRoleBinding', ref: ref('rbac.authorization.k8s.io/v1', 'ClusterRoleBinding', spec.name), serviceAccount: sa },
        ] as Resource[])
      : []),
    {
      type: 'restartJob',
      ref: ref('batch/v1', 'Job', jobName, spec.namespace),
      serviceAccount: sa,
      image: mesh.restartImage,
      annotation: spec.annotation,
      value: spec.value,
      workloads: spec.workloads,
      ...(spec.relabel ? { relabel: spec.relabel } : {}),
      ...(spec.waitFor ? { waitFor: spec.waitFor } : {}),
    },
  ];
}

/** A hook Job needs an image the user pinned (spec.workloadRestart.image): there is no default every cluster can pull. */
export function requireJobImage(mesh: Mesh, phases: PhasePlan[], diags: Diagnostics): void {
  if (mesh.restartImage || mesh.virtual) return;
  const job = phases.find((p) => p.adds.some((r) => r.type === 'restartJob' || r.type === 'verifyJob'));
  if (!job) return;
  diags.error(
    mesh.settings.source.at(['spec']),
    `${mesh.cluster}'s ${job.phase} runs a hook Job (workload restart or traffic verification), but spec.workloadRestart.image is not set.`,
    'Set spec.workloadRestart.image to an image with /bin/sh and kubectl that this cluster can pull, pinned by digest or release tag ' +
      '(for example the OpenShift CLI image of the cluster version).',
  );
}
