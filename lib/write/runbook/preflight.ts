import { ictl, kc } from './format';
import { GitOpsSettings } from '../../load/gitops';
import { ModelIndex } from '../../model/model-index';
import { Mesh } from '../../model/types';
import { usesEgressTlsRoutes } from '../../plan/egress';
import { deployedGateways } from '../../plan/names';
import { smcpGateways, TAKEOVER_SUFFIX, takenOver } from '../../plan/north-south';
import { migratedNamespaces } from '../../plan/revision';
import { MigrationPhase } from '../../plan/types';

/** The field managers of a namespace's istio-injection label, with what to expect. */
function injectionManagers(cluster: string, ns: string, expect: string): string {
  return (
    `${kc(cluster)} get ns ${ns} --show-managed-fields -o json | jq -r '.metadata.managedFields[] | ` +
    `select(.fieldsV1."f:metadata"."f:labels"."f:istio-injection") | .manager'   # ${expect}`
  );
}

/**
 * Does the running OSSM 2.6.z skip a Gateway labelled `maistra.io/ignore: "true"`? 06 relies on it (docs/north-south.md,
 * "Gateway API Gateways"), but only Red Hat's migration doc and maistra-test-tool say 2.6 honours it: the stored
 * maistra/istio@maistra-2.6 (c24a29f2, 2024-03-26) has no `maistra.io/ignore` at all. The runbook shows which 2.6.z
 * runs and says plainly that this is unproven and what to check by hand. It runs no probe: the earlier one could never
 * fail — 2.6 writes no `gateway.networking.k8s.io/gateway-name` label on what it creates (the
 * Deployment and Service carry the Gateway's own labels: maistra-2.6 manifests/charts/istio-control/istio-discovery/
 * files/kube-gateway.yaml:14-15, 281-282; pilot/pkg/config/kube/gateway/deploymentcontroller.go:481, 536-547), a
 * ClusterWide 2.6 skips a Gateway whose `istio.io/rev` is not one of its tags (deploymentcontroller.go:285-301), and it
 * had no evidence that the 2.6 controller saw the Gateway at all. A check that always passes is worse than none.
 */
function ignoreCheck(c: string, cp: Mesh['controlPlane'], ns: string): string[] {
  return [
    `${kc(c)} get csv -A | grep servicemeshoperator   ` +
      "# the OSSM 2 operator's 2.6.z (06 needs its istiod to skip Gateways labelled maistra.io/ignore)",
    `${kc(c)} get smcp ${cp.name} -n ${cp.namespace} -o jsonpath='{.status.chartVersion}'   # the 2.6.z its istiod runs`,
    `# UNPROVEN: meshfed cannot tell whether this 2.6.z skips a Gateway labelled maistra.io/ignore="true"; ` +
      `06 relies on it for the Gateways in ${ns}. Check by hand before merging 06 ` +
      '(docs/north-south.md, "maistra.io/ignore is not in the stored Maistra source"): Red Hat\'s notes for this 2.6.z, ' +
      "or a test cluster on the same 2.6.z (a Gateway with istio.io/rev=<the SMCP's revision> and maistra.io/ignore=true " +
      'must get no <gateway>-istio Deployment, Service or ServiceAccount while one without the label does)',
  ];
}

/** What a phase's pre-flight commands know: the cluster, its SMCP, its mesh, the model's index, Argo CD's namespace. */
interface Preflight {
  readonly c: string;
  readonly cp: Mesh['controlPlane'];
  readonly mesh: Mesh;
  readonly ctx: ModelIndex;
  readonly argocd: string;
}

/** What must hold before a phase is merged, per phase. */
const PREFLIGHT: Record<MigrationPhase, (p: Preflight) => string[]> = {
  '00-federation': ({ c, cp, mesh, argocd }) => [
    `${kc(c)} get smcp ${cp.name} -n ${cp.namespace}   # READY`,
    `${kc(c)} get servicemeshpeer -n ${cp.namespace} -o ` +
      `custom-columns=NAME:.metadata.name,ACTIVE:.status.discoveryStatus.active[*].watch.connected`,
    `${kc(c)} get smcp ${cp.name} -n ${cp.namespace} --show-managed-fields -o ` +
      `jsonpath='{.metadata.managedFields[*].manager}'   # fields set by kubectl apply become ` +
      `GitOps-owned; others (oc create, operators) are not removed when dropped`,
    ...mesh.memberNamespaces.map((ns) => injectionManagers(c, ns, 'who owns istio-injection (06 removes it itself)')),
    `kubectl get cm argocd-cm -n ${argocd} -o jsonpath='{.data}' | grep -c 'sailoperator.io_Istio'   ` +
      `# Argo CD: the health checks of dist/argocd are installed (else no wave waits for a control plane)`,
    // Maistra writes app.kubernetes.io/instance on what it renders (maistra/istio-operator@8143614
    // pkg/controller/common/helm/manifestprocessing.go:244-258): with label tracking Argo CD and Maistra fight over it on
    // the Routes and Services meshfed adopts. Unset means annotation from Argo CD 3.0 on, label before (argo-cd@v3.4.0
    // docs/operator-manual/upgrading/2.14-3.0.md:241-254).
    `kubectl get cm argocd-cm -n ${argocd} -o jsonpath='{.data.application\\.resourceTrackingMethod}'   ` +
      `# Argo CD: annotation or annotation+label (empty: annotation on Argo CD >= 3.0, label before: set it; ` +
      `OpenShift GitOps: spec.resourceTrackingMethod of the ArgoCD CR)`,
  ],
  '01-prepare': ({ c, cp }) => [`${kc(c)} get smcp ${cp.name} -n ${cp.namespace} -o jsonpath='{.spec.version}'   # v2.6`],
  '02-export': ({ c, cp, mesh, ctx }) =>
    ctx.isExporter(c)
      ? [
          `${kc(c)} get crd gateways.gateway.networking.k8s.io   # Gateway API CRDs (built into OpenShift 4.19+)`,
          `${kc(c)} get deploy -n ${cp.namespace} -l app=istiod -o jsonpath='{..env[?(@.name=="PILOT_ENABLE_GATEWAY_API")].value}'   ` +
            `# not "false": the OSSM 2 istiod deploys the east-west gateway and writes its status (Argo CD >= 3.1 waits for Programmed)`,
          `${kc(c)} get smcp ${cp.name} -n ${cp.namespace} -o jsonpath='{.spec.cluster.network}'   # ${mesh.network}`,
        ]
      : [],
  '03-import': ({ c, mesh, ctx }) => [
    ...(usesEgressTlsRoutes(ctx, mesh)
      ? [
          `${kc(c)} get crd tlsroutes.gateway.networking.k8s.io   # experimental Gateway API channel: the egress gateway routes with TLSRoutes`,
        ]
      : []),
    ...ctx
      .exportersFor(c)
      .map((e) =>
        e.eastWest.serviceType === 'NodePort'
          ? `${kc(e.cluster)} get svc ${e.eastWest.name}-istio -n ${e.eastWest.namespace} -o ` +
            `jsonpath='{.spec.ports[?(@.port==15443)].nodePort}'   # must be ` +
            `${e.eastWest.port ?? 'set in clusters/' + e.cluster + '/cluster.yaml'}; nodes ` +
            `${e.eastWest.addresses.join(', ')} reachable from ${c}`
          : `${kc(e.cluster)} get svc ${e.eastWest.name}-istio -n ${e.eastWest.namespace} -o ` +
            `jsonpath='{.status.loadBalancer.ingress[0]}'   # must be ` +
            `${e.eastWest.addresses.join(', ') || 'set in clusters/' + e.cluster + '/cluster.yaml'}`,
      ),
  ],
  '04-remove-federation': ({ c, ctx }) => [
    `# the previous phase's verification passed on every cluster that imports from ${c} (see "Gate")`,
    ...ctx
      .importersOf(c)
      .map(
        (p) =>
          `${kc(p)} get deploy,sts,ds -A -o jsonpath='{range .items[*]}{.metadata.namespace}/{.metadata.name} ` +
          `{.spec.template.metadata.annotations.meshfed\\.dev/restarted-for-network}{"\\n"}{end}'   # ` +
          `${p}'s clients restarted for network ${ctx.mesh(p).network} (03)`,
      ),
  ],
  '05-install-ossm3': ({ c, cp, mesh }) => {
    const secret =
      mesh.ossm3.namespace === cp.namespace
        ? [`${kc(c)} get secret cacerts -n ${cp.namespace}   # reused by OSSM 3 (same namespace as the SMCP)`]
        : mesh.settings.ossm3.cacerts
          ? [
              `${kc(c)} get clustersecretstore,secretstore -A | grep ` +
                `${mesh.settings.ossm3.cacerts.externalSecret.storeRef.name}   # the ExternalSecret cacerts ` +
                `is rendered from it`,
            ]
          : [
              `# OSSM 3 runs in ${mesh.ossm3.namespace}, the SMCP in ${cp.namespace}: copy the CA Secret ` +
                `before syncing (meshfed never renders Secrets):`,
              `${kc(c)} get secret cacerts -n ${cp.namespace} -o json | jq ` +
                `'del(.metadata.uid,.metadata.resourceVersion,.metadata.creationTimestamp,.metadata.managedFields,.metadata.ownerReferences)` +
                ` | .metadata.namespace="${mesh.ossm3.namespace}"' | ${kc(c)} apply -f -`,
            ];
    return [`${kc(c)} get crd istios.sailoperator.io istiocnis.sailoperator.io   # the OSSM 3 operator is installed`, ...secret];
  },
  '06-migrate-workloads': ({ c, cp, mesh, ctx }) => [
    `${kc(c)} get istio ${mesh.ossm3.istioName} -o jsonpath='{.status.activeRevisionName}'   # ${mesh.ossm3.revision}`,
    `${kc(c)} get istiorevision ${mesh.ossm3.revision}`,
    ...(deployedGateways(ctx, mesh).length ? ignoreCheck(c, cp, deployedGateways(ctx, mesh)[0].namespace!) : []),
    // Server-side apply removes istio-injection only where GitOps alone manages it (lib/plan/types.ts NamespaceRelabel).
    ...migratedNamespaces(ctx, mesh).map((ns) => injectionManagers(c, ns, 'only the GitOps manager, or nothing')),
    ...(smcpGateways(mesh).length
      ? [
          `${kc(c)} get route -A -l maistra.io/generated-by=ior -o name   # every one is in ossm2/ (the others stay, unmanaged)`,
          ...smcpGateways(mesh).map(
            (g) =>
              `${kc(c)} get endpoints ${g.name} -n ${g.namespace}   # the SMCP's ${g.name} pods serve; 06 adds ${g.name}${TAKEOVER_SUFFIX}`,
          ),
        ]
      : []),
  ],
  '07-finalize': ({ c, mesh }) => [
    `${ictl(mesh)} proxy-status   # every proxy is served by istiod-${mesh.ossm3.revision}`,
    // Argo CD skips hooks on partial and self-heal syncs: the 06 restart must really have run.
    `${kc(c)} get deploy,sts,ds -A -o jsonpath='{range .items[*]}{.metadata.namespace}/{.metadata.name} ` +
      `{.spec.template.metadata.annotations.meshfed\\.dev/restarted-for-revision}{"\\n"}{end}'   ` +
      `# ${mesh.ossm3.revision} on every migrated workload with a sidecar`,
    `${kc(c)} get csv -A | grep servicemeshoperator   ` +
      '# Succeeded: the OSSM 2 operator must run while the SMCP is deleted (its finalizer prunes cluster-wide)',
    ...takenOver(mesh).map(
      (g) =>
        `${ictl(mesh)} proxy-status -n ${g.namespace} | grep ${g.name}${TAKEOVER_SUFFIX}   ` +
        `# the new gateway pods are served by istiod-${mesh.ossm3.revision}; the 07 Job hands ${g.name} over`,
    ),
  ],
};

/** The commands to run on `mesh`'s cluster before merging `phase`. */
export function preflight(phase: MigrationPhase, mesh: Mesh, ctx: ModelIndex, gitops?: GitOpsSettings): string[] {
  return PREFLIGHT[phase]({ c: mesh.cluster, cp: mesh.controlPlane, mesh, ctx, argocd: gitops?.argocdNamespace ?? '<argocd namespace>' });
}
