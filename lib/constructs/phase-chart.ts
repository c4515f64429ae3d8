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
import { ImportedServiceEntry, ImportedWorkloadEntry } from './imported-service';
import { JobRoleBinding, JobServiceAccount } from './job-rbac';
import { MeshNamespace } from './mesh-namespace';
import { IstioCniControlPlane, IstioControlPlane } from './ossm3-control-plane';
import { RemoteGateway } from './remote-gateway';
import { RestartJob, RestartRole } from './restart-job';
import { VerifyJob, VerifyRole } from './verify-job';
import { JsonObject } from '../load/yaml-source';
import { Resource } from '../plan/types';

/** Build the construct for one planned resource. */
function addResource(scope: Construct, id: string, r: Resource): void {
  const { name, namespace = '' } = r.ref;
  switch (r.type) {
    case 'adopted':
      return void new AdoptedObject(scope, id, { body: r.body });
    case 'namespace':
      return void new MeshNamespace(scope, id, { name, labels: r.labels });
    case 'eastWestGateway':
      return void new EastWestGateway(scope, id, {
        name,
        namespace,
        network: r.network,
        serviceType: r.serviceType,
        serviceAnnotations: r.annotations,
      });
    case 'exposedServices':
      return void new ExposedServices(scope, id, { name, namespace, gatewayName: r.gatewayName, hosts: r.hosts });
    case 'exporterServiceEntry':
      return void new ExporterServiceEntry(scope, id, { name, namespace, host: r.host, ports: r.ports, podSelector: r.podSelector });
    case 'remoteGateway':
      return void new RemoteGateway(scope, id, { name, namespace, network: r.network, addresses: r.addresses, port: r.port });
    case 'egressGateway':
      return void new EgressGateway(scope, id, { name, namespace, platform: r.platform });
    case 'egressPassthroughGateway':
      return void new EgressPassthroughGateway(scope, id, { name, namespace, gatewayName: r.gatewayName, sniHosts: r.sniHosts });
    case 'egressBackend':
      if (r.ref.kind === 'ServiceEntry')
        return void new EgressBackendServiceEntry(scope, id, { name, namespace, host: r.host!, addresses: r.addresses, port: r.port });
      return void new EgressBackendService(scope, id, { name, namespace, port: r.port });
    case 'egressEndpointSlice':
      return void new EgressEndpointSlice(scope, id, {
        name,
        namespace,
        service: r.service,
        addressType: r.addressType,
        addresses: r.addresses,
        port: r.port,
      });
    case 'egressRoute': {
      const props = { name, namespace, host: r.host, gatewayName: r.gatewayName, backends: r.backends.map((b) => b.host ?? b.name) };
      return void (r.ref.kind === 'TLSRoute' ? new EgressTlsRoute(scope, id, props) : new EgressVirtualService(scope, id, props));
    }
    case 'importServiceEntry':
      return void new ImportedServiceEntry(scope, id, {
        name,
        namespace,
        host: r.host,
        ports: r.ports,
        subjectAltNames: r.subjectAltNames,
        exportTo: r.exportTo,
        selector: r.selector,
        localPods: r.localPods,
      });
    case 'importWorkloadEntry':
      return void new ImportedWorkloadEntry(scope, id, {
        name,
        namespace,
        labels: r.labels,
        network: r.network,
        locality: r.locality,
        serviceAccount: r.serviceAccount,
      });
    case 'istioCni':
      return void new IstioCniControlPlane(scope, id, { version: r.version, namespace: r.namespace });
    case 'istio':
      return void new IstioControlPlane(scope, id, {
        name,
        version: r.version,
        namespace: r.namespace,
        trustDomain: r.trustDomain,
        trustDomainAliases: r.trustDomainAliases,
        caCertificates: r.caCertificates.map((c) => ({ pem: c.pem, trustDomains: c.trustDomains })),
        network: r.network,
        accessLogFile: r.accessLogFile,
        pilotEnv: r.pilotEnv,
        dnsCapture: r.dnsCapture,
      });
    case 'serviceAccount':
      return void new JobServiceAccount(scope, id, { name, namespace });
    case 'roleBinding':
      return void new JobRoleBinding(scope, id, { name, namespace, serviceAccount: r.serviceAccount });
    case 'restartRole':
      return void new RestartRole(scope, id, { name, namespace, workloads: r.workloads });
    case 'restartJob':
      return void new RestartJob(scope, id, {
        name,
        namespace,
        serviceAccountName: r.serviceAccount.name,
        image: r.image,
        revision: r.revision,
        workloads: r.workloads,
      });
    case 'verifyRole':
      return void new VerifyRole(scope, id, { name, namespace, deployments: r.deployments });
    case 'verifyJob':
      return void new VerifyJob(scope, id, {
        name,
        namespace,
        serviceAccountName: r.serviceAccount.name,
        image: r.image,
        phase: r.phase,
        probes: r.probes,
      });
    case 'exposurePolicy':
      return void new ExposurePolicy(scope, id, { name, namespace, selector: r.selector, principals: r.principals });
    case 'cacertsExternalSecret':
      return void new CacertsExternalSecret(scope, id, { namespace, storeName: r.storeName, storeKind: r.storeKind, key: r.key });
  }
}

/**
 * The objects one phase of one cluster adds, as a cdk8s chart. Each chart lives in its own App: cdk8s
 * resolves and validates the whole App on every `toJson()`, so one App per chart keeps synth linear.
 */
export function synthPhaseObjects(resources: Resource[]): JsonObject[] {
  return synthChart((chart) => resources.forEach((r, i) => addResource(chart, `r${i}`, r)));
}

/** Render whatever `build` adds to a fresh chart (in its own App) as plain objects. */
export function synthChart(build: (chart: Chart) => void): JsonObject[] {
  const app = new App({ outdir: '.cdk8s.out' });
  const chart = new Chart(app, 'chart', { disableResourceNameHashes: true });
  build(chart);
  return chart.toJson() as JsonObject[];
}
