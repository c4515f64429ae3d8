/**
 * Copies the openAPIV3Schema of every served version of the CRDs meshfed renders into test/schemas/,
 * so the tests validate rendered objects without reading the upstream CRD files at test time, and writes
 * lib/plan/sail-istio-values.json: the fields the Sail Istio declares under spec.values, which meshfed checks
 * every carried SMCP setting against at run time (lib/plan/sail-values.ts).
 *
 *   npx tsx scripts/extract-crd-schemas.ts <path to the upstream crds folder>
 *
 * Provenance of the upstream files: cdk8s.yaml (imports) and imports/README.md.
 */
import * as fs from 'fs';
import * as path from 'path';

import { parseAllDocuments } from 'yaml';

import { valuesTree } from '../lib/plan/sail-values';

const SOURCES: Record<string, string[]> = {
  'maistra/servicemeshcontrolplanes.crd.yaml': ['ServiceMeshControlPlane'],
  'maistra/servicemeshmemberrolls.crd.yaml': ['ServiceMeshMemberRoll'],
  'maistra/servicemeshmembers.crd.yaml': ['ServiceMeshMember'],
  'maistra/servicemeshpeers.federation.maistra.io.crd.yaml': ['ServiceMeshPeer'],
  'maistra/exportedservicesets.federation.maistra.io.crd.yaml': ['ExportedServiceSet'],
  'maistra/importedservicesets.federation.maistra.io.crd.yaml': ['ImportedServiceSet'],
  'istio/crd-all.gen.yaml': [
    'ServiceEntry',
    'WorkloadEntry',
    'Gateway',
    'VirtualService',
    'DestinationRule',
    'AuthorizationPolicy',
    'PeerAuthentication',
  ],
  'gateway-api/standard/gateway.networking.k8s.io_gateways.yaml': ['Gateway'],
  'gateway-api/experimental/gateway.networking.k8s.io_tlsroutes.yaml': ['TLSRoute'],
  'sail-operator/sailoperator.io_istios.yaml': ['Istio'],
  'sail-operator/sailoperator.io_istiocnis.yaml': ['IstioCNI'],
  'argocd/application-crd.yaml': ['Application'],
  'flux/kustomize.toolkit.fluxcd.io_kustomizations.yaml': ['Kustomization'],
  'flux/source.toolkit.fluxcd.io_gitrepositories.yaml': ['GitRepository'],
  'external-secrets/external-secrets.io_externalsecrets.yaml': ['ExternalSecret'],
  'kiali/kiali.io_kialis.yaml': ['Kiali'],
  'prometheus-operator/monitoring.coreos.com_servicemonitors.yaml': ['ServiceMonitor'],
  'prometheus-operator/monitoring.coreos.com_podmonitors.yaml': ['PodMonitor'],
  'openshift/routes.crd.yaml': ['Route'],
};

/**
 * The schema without null-valued keywords: openshift/api's Route CRD has `anyOf: null` on targetPort
 * (route/v1/zz_generated.crd-manifests/routes.crd.yaml), which the API server ignores and Ajv rejects.
 */
function withoutNulls(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(withoutNulls);
  if (v === null || typeof v !== 'object') return v;
  return Object.fromEntries(
    Object.entries(v as Record<string, unknown>)
      .filter(([, x]) => x !== null)
      .map(([k, x]) => [k, withoutNulls(x)]),
  );
}

/** lib/plan/sail-istio-values.json from the Istio schema just written (test/control-plane.test.ts compares the two). */
export function writeSailValues(istioSchema: string): void {
  const schema = JSON.parse(fs.readFileSync(istioSchema, 'utf8')) as { properties: { spec: { properties: { values: object } } } };
  const out = path.join(__dirname, '..', 'lib', 'plan', 'sail-istio-values.json');
  fs.writeFileSync(out, JSON.stringify(valuesTree(schema.properties.spec.properties.values)) + '\n');
}

function main(): void {
  const root = process.argv[2];
  if (!root) throw new Error('usage: npx tsx scripts/extract-crd-schemas.ts <crds folder>');
  const outDir = path.join(__dirname, '..', 'test', 'schemas');
  fs.rmSync(outDir, { recursive: true, force: true });
  fs.mkdirSync(outDir, { recursive: true });
  const index: Record<string, { file: string; scope: string }> = {};
  for (const [file, kinds] of Object.entries(SOURCES)) {
    const docs = parseAllDocuments(fs.readFileSync(path.join(root, file), 'utf8'));
    for (const d of Array.isArray(docs) ? docs : [docs]) {
      const crd = d.toJS() as {
        spec: {
          group: string;
          scope: string;
          names: { kind: string };
          versions: { name: string; served: boolean; schema: { openAPIV3Schema: unknown } }[];
        };
      };
      if (!crd || !kinds.includes(crd.spec.names.kind)) continue;
      for (const v of crd.spec.versions.filter((x) => x.served)) {
        const key = `${crd.spec.group}/${v.name}/${crd.spec.names.kind}`;
        const name = `${crd.spec.group}_${v.name}_${crd.spec.names.kind}.json`;
        fs.writeFileSync(path.join(outDir, name), JSON.stringify(withoutNulls(v.schema.openAPIV3Schema)) + '\n');
        index[key] = { file: name, scope: crd.spec.scope };
      }
    }
  }
  const sorted = Object.fromEntries(
    Object.keys(index)
      .sort()
      .map((k) => [k, index[k]]),
  );
  fs.writeFileSync(path.join(outDir, 'index.json'), JSON.stringify(sorted, null, 2) + '\n');
  writeSailValues(path.join(outDir, 'sailoperator.io_v1_Istio.json'));
  console.log(`wrote ${Object.keys(index).length} schemas to ${outDir}`);
}

if (require.main === module) main();
