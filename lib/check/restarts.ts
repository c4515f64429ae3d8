import { CheckContext } from './context';
import { Finding } from './finding';
import { writtenPhases } from './pitfalls';
import { UnmanagedWorkload, Workload } from '../load/inventory-types';
import { Mesh } from '../model/types';
import {
  NETWORK_RESTART_NAME,
  NetworkRestartDecision,
  networkRestartDecisions,
  ossm2Sidecar,
  ossm3Sidecar,
  REVISION_RESTART_ANNOTATION,
  revisionRestartDecisions,
  workloadKey,
} from '../plan/restart';
import { Resource } from '../plan/types';

type RestartJob = Extract<Resource, { type: 'restartJob' }>;

/** What a pod the Job does not restart keeps, and by when the operator must restart it. */
interface Stakes {
  readonly keeps: string;
  readonly before: string;
}

const NETWORK_STAKES: Stakes = {
  keeps: 'a proxy without the mesh network, which gets no endpoint for any import once an exporter removes the federation path (04)',
  before: "before any exporter's 04-remove-federation",
};

function stakesOf(job: RestartJob): Stakes {
  return job.ref.name.startsWith(NETWORK_RESTART_NAME) ? NETWORK_STAKES : REVISION_STAKES;
}

/**
 * How each kind the Jobs skip restarts, and what the operator runs: `oc rollout latest` starts a new
 * DeploymentConfig deployment (OpenShift docs, "Using DeploymentConfig objects": `oc rollout latest dc/<name>`);
 * `kubectl argo rollouts restart` sets a Rollout's spec.restartAt, which replaces its pods without a new revision
 * (argo-rollouts docs/features/restart.md); a CronJob's Jobs and a Job's pods are injected when created, and a pod
 * without an owner is re-created by nobody.
 */
function unmanaged(w: UnmanagedWorkload, phase: string, s: Stakes): { problem: string; fix: string } {
  const id = `${w.namespace}/${w.name}`;
  const after = `after ${phase} syncs, ${s.before}`;
  switch (w.kind) {
    case 'DeploymentConfig':
      return {
        problem:
          `DeploymentConfig ${id} is not restarted by meshfed's ${phase} Job (it patches Deployments, StatefulSets and ` +
          `DaemonSets): its pods keep ${s.keeps}.`,
        fix:
          `${cap(after)}, run \`oc rollout latest dc/${w.name} -n ${w.namespace}\` and wait for ` +
          `\`oc rollout status dc/${w.name} -n ${w.namespace}\`.`,
      };
    case 'Rollout':
      return {
        problem: `Argo Rollout ${id} is not restarted by meshfed's ${phase} Job: its pods keep ${s.keeps}.`,
        fix:
          `${cap(after)}, run \`kubectl argo rollouts restart ${w.name} -n ${w.namespace}\` (or set spec.restartAt) and wait ` +
          'until its pods are replaced.',
      };
    case 'CronJob':
      return {
        problem: `CronJob ${id}: the Jobs it starts after ${phase} get new pods, but one still running from before keeps ${s.keeps}.`,
        fix: `${cap(after)}, wait for the Jobs it started before to finish, or delete them (\`oc get jobs -n ${w.namespace}\`).`,
      };
    case 'Job':
      return {
        problem: `Job ${id} has no owner and meshfed's ${phase} Job does not restart its pods: a pod still running keeps ${s.keeps}.`,
        fix: `Let it finish ${s.before}, or delete it and create it again after ${phase} syncs.`,
      };
    case 'Pod':
      return {
        problem: `Pod ${id} has no owner: meshfed's ${phase} Job cannot restart it and nothing re-creates it, so it keeps ${s.keeps}.`,
        fix: `${cap(after)}, delete it and create it again from its manifest (or run it under a Deployment, which the Job restarts).`,
      };
  }
}

function cap(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/**
 * A StatefulSet or DaemonSet whose pods a template change does not replace: `OnDelete` replaces a pod only
 * when it is deleted (kubernetes docs, "StatefulSet update strategies"; the Job's `kubectl rollout status`
 * would fail, so it skips them), and a StatefulSet partition leaves the pods below it on the old template
 * while rollout status reports done (kubernetes/kubectl@53ef3abb pkg/polymorphichelpers/rollout_status.go,
 * StatefulSetStatusViewer).
 */
function manual(w: Workload, phase: string, s: Stakes): { problem: string; fix: string } | undefined {
  const id = `${w.namespace}/${w.name}`;
  const after = `after ${phase} syncs, ${s.before}`;
  if (w.updateStrategy === 'OnDelete')
    return {
      problem:
        `${w.kind} ${id} uses updateStrategy OnDelete: meshfed's ${phase} Job patches its pod template, but no pod is replaced ` +
        `until it is deleted, so they keep ${s.keeps}.`,
      fix: `${cap(after)}, delete its pods one at a time (\`oc delete pod <pod> -n ${w.namespace}\`), each once the previous replacement is Ready.`,
    };
  if (w.partition > 0)
    return {
      problem:
        `StatefulSet ${id} has updateStrategy.rollingUpdate.partition ${w.partition}: meshfed's ${phase} Job sees its rollout done ` +
        `with the pods below ordinal ${w.partition} not restarted, so they keep ${s.keeps}.`,
      fix:
        `Set the partition to 0 for the move, or, ${after}, delete pods 0 to ${w.partition - 1} one at a time ` +
        `(\`oc delete pod ${w.name}-<ordinal> -n ${w.namespace}\`).`,
    };
  return undefined;
}

/**
 * The workloads the user left out of the 03 restart (spec.workloadRestart.skipNetworkRestart) that it would restart
 * otherwise: one without a sidecar, or where no import is visible, needs no network (lib/plan/restart.ts).
 */
function skippedByUser(c: CheckContext, mesh: Mesh): Finding[] {
  const listed = mesh.settings.workloadRestart.skipNetworkRestart;
  const skipped = networkRestartDecisions(c.ctx, mesh).filter((d) => d.reason === 'skipped');
  return skipped.map(({ workload: w }) => ({
    rule: 'MF026',
    severity: 'warning',
    cluster: mesh.cluster,
    location: mesh.settings.source.at([
      'spec',
      'workloadRestart',
      'skipNetworkRestart',
      listed.indexOf(`${w.namespace}/${w.kind}/${w.name}`),
    ]),
    phase: '03-import',
    problem:
      `${w.kind} ${w.namespace}/${w.name} is left out of meshfed's 03-import restart (spec.workloadRestart.skipNetworkRestart): ` +
      `its pods keep ${NETWORK_STAKES.keeps}.`,
    fix:
      'Leave it out only if it calls no imported service; otherwise take it off the list, or restart it yourself after 03-import ' +
      `syncs, ${NETWORK_STAKES.before} (\`oc rollout restart ${w.kind.toLowerCase()}/${w.name} -n ${w.namespace}\`).`,
  }));
}

/**
 * A workload Maistra injects whose opt-in OSSM 3 does not read: Maistra accepts "y", "yes", "true", "on" in any case
 * (maistra/istio@c24a29f2 pkg/kube/inject/inject.go:218-224), 1.27 only "true" and treats the rest as unset
 * (istio/istio@1.27.3 pkg/kube/inject/inject.go:228-238): under the carried policy it comes back from the 06 restart
 * without a sidecar.
 */
function lostSidecar(mesh: Mesh, w: Workload, phase: string): { problem: string; fix: string } | undefined {
  if (!ossm2Sidecar(mesh, w).injected || ossm3Sidecar(mesh, w).injected) return undefined;
  const where = w.podLabels['sidecar.istio.io/inject'] !== undefined ? 'label' : 'annotation';
  return {
    problem:
      `${w.kind} ${w.namespace}/${w.name} opts in with the pod ${where} sidecar.istio.io/inject: "${w.sidecarInject}", which Maistra ` +
      `accepts and OSSM 3 reads as unset (only "true" counts): meshfed's ${phase} Job restarts it and its pods come back ` +
      'without a sidecar, outside the mesh (STRICT peers refuse them, imported hosts stop resolving).',
    fix: `Set the pod template's ${where} sidecar.istio.io/inject to "true" before ${phase} (Maistra injects it the same way).`,
  };
}

/**
 * A workload with no OSSM 2 sidecar that OSSM 3 injects (lib/plan/restart.ts revisionRestartDecisions restarts it):
 * its namespace excluded from Maistra's injector (ossm2NamespaceExcluded), or a pod value Maistra reads as an opt-out
 * and 1.27 as unset under an enabled policy. The 06 restart gives it a sidecar for the first time: every
 * AuthorizationPolicy that selects it starts to enforce (istio/istio@1.27.3 pkg/kube/inject/inject.go:199-315 injects
 * it; 06 removes the namespace's istio-injection label, which 1.27's rev.namespace webhook requires absent:
 * manifests/charts/istio-control/istio-discovery/templates/mutatingwebhook.yaml:65-83).
 */
function firstSidecar(mesh: Mesh, w: Workload, phase: string): { problem: string; fix: string } | undefined {
  const [before, after] = [ossm2Sidecar(mesh, w), ossm3Sidecar(mesh, w)];
  if (before.injected || !after.injected) return undefined;
  return {
    problem:
      `${w.kind} ${w.namespace}/${w.name} runs without a sidecar on OSSM 2 (${before.why.replace(/^it has no sidecar: /, '')}), but OSSM 3 ` +
      `injects it (${after.why}): meshfed's ${phase} Job restarts it into the mesh for the first time. From then on every ` +
      'AuthorizationPolicy that selects it enforces (callers it does not allow get 403), and a STRICT PeerAuthentication refuses ' +
      'callers without a sidecar.',
    fix:
      `To keep it out of the mesh as on OSSM 2, set its pod template's label sidecar.istio.io/inject: "false" before ${phase} ` +
      '(both injectors honour it); to bring it in, review the policies that select it first, then acknowledge (spec.acknowledge).',
  };
}

/** What a paused Deployment left out of a phase's restart keeps: 03's network, 06's (or a greenfield install's) sidecar. */
const REVISION_STAKES: Stakes = { keeps: 'its OSSM 2 sidecar, which loses its control plane at 07', before: 'before 07-finalize' };
const INSTALL_STAKES: Stakes = { keeps: 'no sidecar', before: 'once the control plane runs' };

/**
 * The paused Deployments each written restart phase leaves out (lib/plan/restart.ts pausedDecision: a paused
 * Deployment rolls out no template change, so the Job's rollout wait would time out and fail the phase).
 */
function pausedLeftOut(c: CheckContext, mesh: Mesh): Finding[] {
  const written = new Set(writtenPhases(c).flatMap((w) => (w.mesh === mesh ? [w.phasePlan.phase as string] : [])));
  type Restart = [phase: string, decisions: () => NetworkRestartDecision[], stakes: Stakes];
  const revision: Restart = ['06-migrate-workloads', () => revisionRestartDecisions(mesh), REVISION_STAKES];
  const network: Restart = ['03-import', () => networkRestartDecisions(c.ctx, mesh), NETWORK_STAKES];
  const sets: Restart[] =
    mesh.settings.mode === 'greenfield'
      ? mesh.settings.workloadRestart.onInstall
        ? [['multicluster', () => revisionRestartDecisions(mesh), INSTALL_STAKES]]
        : []
      : c.ctx.importsInto(mesh.cluster).length > 0
        ? [network, revision]
        : [revision];
  const dumped = new Map(mesh.inventory.workloads.map((w) => [workloadKey(w), w]));
  return sets
    .filter(([phase]) => written.has(phase))
    .flatMap(([phase, decisions, s]) =>
      decisions()
        .filter((d) => d.reason === 'paused')
        .map(({ workload: w }): Finding => {
          const cmd = (verb: string) => `\`oc rollout ${verb} deployment/${w.name} -n ${w.namespace}\``;
          return {
            rule: 'MF026',
            severity: 'warning',
            cluster: mesh.cluster,
            location: dumped.get(workloadKey(w))!.source.at(['spec', 'paused']),
            phase,
            problem:
              `Deployment ${w.namespace}/${w.name} is paused (spec.paused: true): a pod-template change rolls out no pod until it is ` +
              `resumed, so meshfed's ${phase} Job leaves it out (its rollout wait would time out and fail the phase); its pods keep ${s.keeps}.`,
            fix:
              `Resume it (${cmd('resume')}) and dump again before ${phase}, so the Job restarts it; or, after ${phase} syncs, ` +
              `${s.before}, resume it and run ${cmd('restart')}.`,
          };
        }),
    );
}

/** The restart Jobs of a mesh's written phases, with the phase each runs in. */
function restartJobs(c: CheckContext, mesh: Mesh): { phase: string; job: RestartJob }[] {
  return writtenPhases(c)
    .filter((w) => w.mesh === mesh)
    .flatMap((w) =>
      w.phasePlan.adds.filter((r): r is RestartJob => r.type === 'restartJob').map((job) => ({ phase: w.phasePlan.phase, job })),
    );
}

/**
 * MF026 workload restarts: meshfed's restart Jobs (03 on importers: the network; 06: the revision) patch the
 * pod template of each dumped Deployment, StatefulSet and DaemonSet of the member namespaces. Every other pod
 * of those namespaces keeps its old proxy unless the operator restarts it: each is named, with the command.
 */
export function checkRestarts(c: CheckContext): Finding[] {
  const out: Finding[] = [];
  for (const mesh of c.model.meshes) {
    if (mesh.settings.mode !== 'greenfield' && c.ctx.importsInto(mesh.cluster).length > 0) out.push(...skippedByUser(c, mesh));
    out.push(...pausedLeftOut(c, mesh));
    for (const { phase, job } of restartJobs(c, mesh)) {
      const stakes = stakesOf(job);
      const namespaces = new Set(mesh.memberNamespaces);
      const report = (location: Finding['location'], f: { problem: string; fix: string }) =>
        out.push({ rule: 'MF026', severity: 'warning', cluster: mesh.cluster, location, phase, ...f });
      for (const w of mesh.inventory.unmanagedWorkloads.filter((x) => namespaces.has(x.namespace)))
        report(w.source.at(), unmanaged(w, phase, stakes));
      for (const t of job.workloads) {
        const w = mesh.inventory.workloads.find((x) => x.kind === t.kind && x.namespace === t.namespace && x.name === t.name);
        const f = w && manual(w, phase, stakes);
        if (w && f) report(w.source.at(['spec', 'updateStrategy']), f);
        const lost =
          w && job.annotation === REVISION_RESTART_ANNOTATION && mesh.settings.mode !== 'greenfield' && lostSidecar(mesh, w, phase);
        if (w && lost) report(w.source.at(['spec', 'template', 'metadata']), lost);
        const first =
          w && job.annotation === REVISION_RESTART_ANNOTATION && mesh.settings.mode !== 'greenfield' && firstSidecar(mesh, w, phase);
        if (w && first) report(w.source.at(['spec', 'template', 'metadata']), first);
      }
    }
  }
  return out;
}
