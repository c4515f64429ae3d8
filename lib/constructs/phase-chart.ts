import { App, Chart } from 'cdk8s';
import { Construct } from 'constructs';

import { AdoptedObject } from './adopted-object';
import { CacertsExternalSecret } from './cacerts-external-secret';
import { EastWestGateway } from './east-west-gateway';
import { EgressBackendService, EgressBackendServiceEntry, EgressEndpointSlice } from './egress-backend';
import { EgressGateway, EgressPassthroughGateway } from './egress-gateway';
import { EgressTlsRoute, EgressVirtualService } from './egress-route';
import { ExporterServiceEntry } from './exporter-service-entry';
import { ExposedServices } from './exposed-services';
import { ExposurePolicy } from './exposure-policy';
import { GatewayAutoscaler, GatewayDeployment, GatewaySecretsRole, HandoverJob, HandoverRole } from './gateway-takeover';
import { ImportedServiceEntry, ImportedWorkloadEntry } from './imported-service';
import { JobClusterRoleBinding, JobRoleBinding, JobServiceAccount, NamespaceRelabelRole } from './job-rbac';
import { MeshNamespace } from './mesh-namespace';
import { MeshDestinationRule, MeshNetworkPolicy, MeshPeerAuthentication } from './mesh-policy';
import { IstiodServiceMonitor, ProxiesPodMonitor, StandaloneKiali } from './observability';
import { IstioCniControlPlane, IstioControlPlane } from './ossm3-control-plane';
import { RemoteGateway } from './remote-gateway';
import { RestartJob, RestartRole } from './restart-job';
import { ServiceMeshMember } from './service-mesh-member';
import { VerifyJob, VerifyJobsRole, VerifyRole } from './verify-job';
import { JsonObject } from '../json';
import { fieldsOf, Resource } from '../plan/types';

/**
 * Build the construct for one planned resource. Every field of the plan's `<Kind>Fields` goes to the
 * construct (fieldsOf), so none can be dropped here; plan-only fields ride along unread.
 */
function addResource(scope: Construct, id: string, r: Resource): void {
  const { name, namespace = '' } = r.ref;
  switch (r.type) {
    case 'adopted':
      return void new AdoptedObject(scope, id, fieldsOf(r));
    case 'namespace':
      return void new MeshNamespace(scope, id, { name, ...fieldsOf(r) });
    case 'eastWestGateway':
      return void new EastWestGateway(scope, id, { name, namespace, ...fieldsOf(r) });
    case 'exposedServices':
      return void new ExposedServices(scope, id, { name, namespace, ...fieldsOf(r) });
    case 'exporterServiceEntry':
      return void new ExporterServiceEntry(scope, id, { name, namespace, ...fieldsOf(r) });
    case 'remoteGateway':
      return void new RemoteGateway(scope, id, { name, namespace, ...fieldsOf(r) });
    case 'egressGateway':
      return void new EgressGateway(scope, id, { name, namespace, ...fieldsOf(r) });
    case 'egressPassthroughGateway':
      return void new EgressPassthroughGateway(scope, id, { name, namespace, ...fieldsOf(r) });
    case 'egressBackend': {
      const Backend = r.ref.kind === 'ServiceEntry' ? EgressBackendServiceEntry : EgressBackendService;
      return void new Backend(scope, id, { name, namespace, ...fieldsOf(r) });
    }
    case 'egressEndpointSlice':
      return void new EgressEndpointSlice(scope, id, { name, namespace, ...fieldsOf(r) });
    case 'egressRoute': {
      const Route = r.ref.kind === 'TLSRoute' ? EgressTlsRoute : EgressVirtualService;
      return void new Route(scope, id, { name, namespace, ...fieldsOf(r) });
    }
    case 'importServiceEntry':
      return void new ImportedServiceEntry(scope, id, { name, namespace, ...fieldsOf(r) });
    case 'importWorkloadEntry':
      return void new ImportedWorkloadEntry(scope, id, { name, namespace, ...fieldsOf(r) });
    case 'istioCni':
      return void new IstioCniControlPlane(scope, id, fieldsOf(r));
    case 'istio':
      return void new IstioControlPlane(scope, id, { name, ...fieldsOf(r) });
    case 'serviceAccount':
      return void new JobServiceAccount(scope, id, { name, namespace, ...fieldsOf(r) });
    case 'serviceMeshMember':
      return void new ServiceMeshMember(scope, id, { namespace, ...fieldsOf(r) });
    case 'roleBinding':
      return void new JobRoleBinding(scope, id, { name, namespace, ...fieldsOf(r) });
    case 'restartRole':
      return void new RestartRole(scope, id, { name, namespace, ...fieldsOf(r) });
    case 'restartJob':
      return void new RestartJob(scope, id, { name, namespace, ...fieldsOf(r) });
    case 'verifyRole':
      return void new VerifyRole(scope, id, { name, namespace, ...fieldsOf(r) });
    case 'verifyJob':
      return void new VerifyJob(scope, id, { name, namespace, ...fieldsOf(r) });
    case 'verifyJobsRole':
      return void new VerifyJobsRole(scope, id, { name, namespace, ...fieldsOf(r) });
    case 'exposurePolicy':
      return void new ExposurePolicy(scope, id, { name, namespace, ...fieldsOf(r) });
    case 'cacertsExternalSecret':
      return void new CacertsExternalSecret(scope, id, { namespace, ...fieldsOf(r) });
    case 'namespaceRelabelRole':
      return void new NamespaceRelabelRole(scope, id, { name, ...fieldsOf(r) });
    case 'clusterRoleBinding':
      return void new JobClusterRoleBinding(scope, id, { name, ...fieldsOf(r) });
    case 'meshPeerAuthentication':
      return void new MeshPeerAuthentication(scope, id, { name, namespace, ...fieldsOf(r) });
    case 'meshDestinationRule':
      return void new MeshDestinationRule(scope, id, { name, namespace, ...fieldsOf(r) });
    case 'networkPolicy':
      return void new MeshNetworkPolicy(scope, id, { name, namespace, ...fieldsOf(r) });
    case 'istiodServiceMonitor':
      return void new IstiodServiceMonitor(scope, id, { name, namespace });
    case 'proxiesPodMonitor':
      return void new ProxiesPodMonitor(scope, id, { name, namespace });
    case 'kiali':
      return void new StandaloneKiali(scope, id, { name, namespace, ...fieldsOf(r) });
    case 'gatewayDeployment':
      return void new GatewayDeployment(scope, id, { name, namespace, ...fieldsOf(r) });
    case 'gatewaySecretsRole':
      return void new GatewaySecretsRole(scope, id, { name, namespace });
    case 'gatewayAutoscaler':
      return void new GatewayAutoscaler(scope, id, { name, namespace, ...fieldsOf(r) });
    case 'handoverRole':
      return void new HandoverRole(scope, id, { name, namespace, ...fieldsOf(r) });
    case 'handoverJob':
      return void new HandoverJob(scope, id, { name, namespace, ...fieldsOf(r) });
    default: {
      // A planned kind without a construct does not compile.
      const unknown: never = r;
      throw new Error(`meshfed bug: no construct for ${JSON.stringify(unknown)}`);
    }
  }
}

/**
 * The objects one phase of one cluster adds, as a cdk8s chart. Each chart lives in its own App: cdk8s
 * resolves and validates the whole App on every `toJson()`, so one App per chart keeps synth linear.
 */
export function synthPhaseObjects(resources: Resource[]): JsonObject[] {
  return synthChart((chart) => addPhaseObjects(chart, resources));
}

/** One construct per planned resource under `scope` (a cdk8s app's Federation renders them in its own chart). */
export function addPhaseObjects(scope: Construct, resources: readonly Resource[]): void {
  resources.forEach((r, i) => addResource(scope, `r${i}`, r));
}

/** Render whatever `build` adds to a fresh chart (in its own App) as plain objects. */
export function synthChart(build: (chart: Chart) => void): JsonObject[] {
  const app = new App({ outdir: '.cdk8s.out' });
  const chart = new Chart(app, 'chart', { disableResourceNameHashes: true });
  build(chart);
  return chart.toJson() as JsonObject[];
}
