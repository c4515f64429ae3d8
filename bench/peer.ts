import * as path from 'path';

import { ApiObject, App, Chart, YamlOutputType } from 'cdk8s';

/**
 * The plain cdk8s peer: what a cdk8s user would write instead of meshfed — an App declaring the same imported
 * ServiceEntries/WorkloadEntries as ApiObjects (the objects bench/floor.ts builds), one Chart per importer and
 * exporter, synthesized by cdk8s into one file per chart. No load, model, plan, checks, overlays or runbooks:
 * the natural alternative the targets compare meshfed's first synth with (issue #29). Returns milliseconds.
 */
export function peer(meshes: number, services: number, outDir: string): { ms: number; objects: number; charts: number } {
  const start = process.hrtime.bigint();
  const app = new App({ outdir: outDir, yamlOutputType: YamlOutputType.FILE_PER_CHART });
  let objects = 0;
  let charts = 0;
  for (let imp = 0; imp < meshes; imp++) {
    for (let exp = 0; exp < meshes; exp++) {
      if (exp === imp) continue;
      const chart = new Chart(app, `m${imp}-m${exp}`, { namespace: 'istio-system' });
      charts++;
      for (let s = 0; s < services; s++) {
        const host = `svc-${s}.m${exp}-apps.svc.m${exp}-mesh-imports.local`;
        const name = host.replace(/\./g, '-');
        new ApiObject(chart, `${name}-se`, {
          apiVersion: 'networking.istio.io/v1beta1',
          kind: 'ServiceEntry',
          metadata: { name },
          spec: {
            exportTo: [`m${imp}-apps`],
            hosts: [host],
            location: 'MESH_INTERNAL',
            ports: [
              { name: 'http', number: 8000, protocol: 'HTTP' },
              { name: 'grpc', number: 9000, protocol: 'GRPC' },
            ],
            resolution: 'STATIC',
            subjectAltNames: [`spiffe://m${exp}.local/ns/m${exp}-apps/sa/svc-${s}`],
            workloadSelector: { labels: { app: name } },
          },
        });
        new ApiObject(chart, `${name}-we`, {
          apiVersion: 'networking.istio.io/v1beta1',
          kind: 'WorkloadEntry',
          metadata: { name: `${name}-m${exp}`, labels: { app: name, 'security.istio.io/tlsMode': 'istio' } },
          spec: { network: `m${exp}-network` },
        });
        objects += 2;
      }
    }
  }
  app.synth();
  return { ms: Number(process.hrtime.bigint() - start) / 1e6, objects, charts };
}

// `node --import tsx bench/peer.ts MESHES SERVICES DIR`: the peer as its own process (start-up counted, as synth's is).
if (require.main === module) {
  const [m, s, dir] = process.argv.slice(2);
  console.log(JSON.stringify(peer(Number(m), Number(s), path.resolve(dir))));
}
