import * as fs from 'fs';
import * as path from 'path';

import { dump } from 'js-yaml';

/**
 * The floor: build the same imported ServiceEntry/WorkloadEntry objects as plain objects and write them
 * with the YAML library alone. No model, no plan, no cdk8s, no kustomization files: what the output
 * costs at least. `grouped`: one file per importer and exporter (200 objects at 100 services, the
 * size synth's files have), the floor the targets count; otherwise one file per imported service (the
 * layout synth had until 2026-12, kept to show what the file count costs). Returns milliseconds.
 */
export function floor(meshes: number, services: number, outDir: string, grouped = true): { ms: number; objects: number; files: number } {
  const start = process.hrtime.bigint();
  let objects = 0;
  let files = 0;
  for (let imp = 0; imp < meshes; imp++) {
    for (let exp = 0; exp < meshes; exp++) {
      if (exp === imp) continue;
      const dir = path.join(outDir, `m${imp}`, `m${exp}`);
      fs.mkdirSync(dir, { recursive: true });
      const docs: string[] = [];
      for (let s = 0; s < services; s++) {
        const host = `svc-${s}.m${exp}-apps.svc.m${exp}-mesh-imports.local`;
        const name = host.replace(/\./g, '-');
        const se = {
          apiVersion: 'networking.istio.io/v1beta1',
          kind: 'ServiceEntry',
          metadata: { name, namespace: 'istio-system' },
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
        };
        const we = {
          apiVersion: 'networking.istio.io/v1beta1',
          kind: 'WorkloadEntry',
          metadata: { name: `${name}-m${exp}`, namespace: 'istio-system', labels: { app: name, 'security.istio.io/tlsMode': 'istio' } },
          spec: { network: `m${exp}-network` },
        };
        const text = `${dump(se, { lineWidth: -1 })}---\n${dump(we, { lineWidth: -1 })}`;
        objects += 2;
        if (grouped) docs.push(text);
        else {
          fs.writeFileSync(path.join(dir, `${name}.yaml`), text);
          files++;
        }
      }
      if (grouped) {
        fs.writeFileSync(path.join(dir, 'istio-system.yaml'), docs.join('---\n'));
        files++;
      }
    }
  }
  return { ms: Number(process.hrtime.bigint() - start) / 1e6, objects, files };
}

// `node --import tsx bench/floor.ts MESHES SERVICES DIR [per-service]`: the floor as its own process, so its
// wall time counts Node's start-up like synth's does.
if (require.main === module) {
  const [m, s, dir, layout] = process.argv.slice(2);
  console.log(JSON.stringify(floor(Number(m), Number(s), dir, layout !== 'per-service')));
}
