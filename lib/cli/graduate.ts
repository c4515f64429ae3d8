import * as fs from 'fs';
import * as path from 'path';

import { inputErrorExit, parseCommand } from './args';
import { throwIfErrorFindings } from '../check/finding';
import { JsonObject } from '../json';
import { FederationModel } from '../model/types';
import { analyse, check } from '../pipeline/render';
import { Plan } from '../plan/types';
import { writeTreeAtomically } from '../write/atomic';
import { graduate, graduatedClusters, inventoryFile } from '../write/graduate';
import { outDirRefusal } from '../write/out-dir';
import { GreenfieldCluster, typedDeclaration } from '../write/typed-declaration';

const USAGE = `usage: meshfed graduate --to DIR [--clusters DIR] [--format yaml|ts] [--json]

Once every cluster is at 07-finalize: writes DIR/<cluster>/ as greenfield declarations of the end
state — cluster.yaml (mode: greenfield, nothing restarted on install), control-plane.yaml (the settings
the SMCP ran with, which OSSM 3 carries), federation/ (peers, export and import sets), inventory/ (what
runs), root-cert.pem — and DIR/gitops.yaml. \`meshfed synth --clusters DIR\` renders from them the objects
of 07-finalize and its import folders, byte for byte, in one overlay per cluster (multicluster). Add
services there from now on (docs/gitops.md, "After 07-finalize"). DIR must not exist or be empty
(exit 2 otherwise), and be neither the input folder nor the current folder; nothing else is written.

--format ts declares the same end state in code instead: DIR/main.ts, a cdk8s app of meshfed's typed
constructs (a Mesh per cluster, its MeshPeers, ExportedServiceSets and ImportedServiceSets, the control
plane's settings), beside DIR/<cluster>/inventory/ and root-cert.pem, which it reads as they are, and
DIR/gitops.yaml. \`cdk8s synth\` (or npx tsx main.ts) renders what synth renders from the YAML, byte for
byte. A clusters folder of greenfield declarations (spec.mode: greenfield) converts to code the same way.

  --to DIR         where the graduated clusters folder goes (required)
  --clusters DIR   the migration's clusters folder (default: clusters, or $MESHFED_CLUSTERS)
  --format FORMAT  yaml (default): greenfield declarations; ts: a cdk8s app declaring them in code
  --json           print the files written as JSON`;

/** The `graduate` command; returns the exit code (0 ok, 1 input error, 2 usage error or a --to folder it may not write). */
export function runGraduate(argv: string[], env: NodeJS.ProcessEnv = process.env): number {
  const parsed = parseCommand<{ to?: string; clusters?: string; format?: string; json?: boolean }>(
    argv,
    { to: { type: 'string' }, clusters: { type: 'string' }, format: { type: 'string' }, json: { type: 'boolean' } },
    USAGE,
    (v) =>
      !v.to
        ? '--to DIR is required'
        : v.format !== undefined && v.format !== 'yaml' && v.format !== 'ts'
          ? `--format is yaml or ts, not ${v.format}`
          : undefined,
  );
  if ('exit' in parsed) return parsed.exit;
  const clustersDir = parsed.values.clusters ?? env.MESHFED_CLUSTERS ?? 'clusters';
  const to = parsed.values.to!;
  const refusal = outDirRefusal('graduate', to, { option: '--to', input: clustersDir });
  if (refusal) {
    console.error(`meshfed: ${refusal}`);
    return 2;
  }
  try {
    const analysis = analyse(clustersDir, { skipPointerRules: true });
    const { model, plan } = analysis;
    const ts = parsed.values.format === 'ts';
    const greenfield = plan.phases[0] === 'multicluster';
    const notReady = refuseInput(clustersDir, plan, greenfield, ts);
    if (notReady) {
      console.error(`meshfed: ${notReady}`);
      return 1;
    }
    // What synth would refuse, graduate refuses too: the end state it declares must be one that renders.
    throwIfErrorFindings(check(analysis), analysis.diagnostics.warnings);
    const files = ts
      ? typedFiles(
          greenfield ? declaredClusters(model) : graduatedClusters(model, plan),
          fs.existsSync(path.join(clustersDir, 'gitops.yaml')),
        )
      : graduate(model, plan);
    const gitops = path.join(clustersDir, 'gitops.yaml');
    if (fs.existsSync(gitops)) files.set('gitops.yaml', fs.readFileSync(gitops, 'utf8'));
    writeTreeAtomically(to, files);
    if (parsed.values.json) console.log(JSON.stringify({ to, files: [...files.keys()].sort() }, null, 2));
    console.error(
      ts
        ? `meshfed: ${plan.local.length} cluster(s) declared in code in ${to}/main.ts (${files.size} files). Render it in ${to}/ ` +
            `with cdk8s synth (or npx tsx main.ts; meshfed, cdk8s and constructs installed), compare its dist/ with the one ` +
            `${clustersDir}/ renders, then make ${to}/ your app in one commit.`
        : `meshfed: ${plan.local.length} cluster(s) graduated into ${to}/ (${files.size} files). Render them with ` +
            `meshfed synth --clusters ${to}, compare, then replace ${clustersDir}/ with ${to}/ in one commit.`,
    );
    return 0;
  } catch (e) {
    return inputErrorExit(e);
  }
}

/** Why graduate refuses this input: greenfield declarations to write as YAML again, or a migration not at 07. */
function refuseInput(clustersDir: string, plan: Plan, greenfield: boolean, ts: boolean): string | undefined {
  if (greenfield && !ts)
    return (
      `${clustersDir}/ holds greenfield declarations already: there is nothing to graduate. ` +
      '--format ts declares them in code (a cdk8s app).'
    );
  const notThere = plan.local.filter((c) => plan.pointers[c] !== '07-finalize');
  if (!greenfield && notThere.length)
    return (
      `graduate needs every cluster at 07-finalize; ${notThere.map((c) => `${c} is at ${plan.pointers[c]}`).join(', ')}. ` +
      'Finish the migration first (meshfed plan).'
    );
  return undefined;
}

/** A cluster's greenfield declaration: its objects, its public root. */
interface Declared {
  readonly settings: JsonObject;
  readonly controlPlane?: JsonObject;
  readonly federation: readonly JsonObject[];
  readonly inventory: readonly JsonObject[];
  readonly rootCert: string;
}

const FEDERATION_KINDS = new Set(['ServiceMeshPeer', 'ExportedServiceSet', 'ImportedServiceSet']);

/** A greenfield clusters folder's declarations as they were read (the declared control plane without the status load gave it). */
function declaredClusters(model: FederationModel): Map<string, Declared> {
  const out = new Map<string, Declared>();
  for (const mesh of model.meshes.filter((m) => !m.virtual)) {
    const objects = mesh.inventory.objects;
    const smcp = objects.find((o) => o.kind === 'ServiceMeshControlPlane' && o.apiVersion.startsWith('maistra.io/'));
    const federation = objects.filter((o) => FEDERATION_KINDS.has(o.kind) && o.apiVersion.startsWith('federation.maistra.io/'));
    const cp = smcp && mesh.inventory.declaredControlPlane ? { ...smcp.value } : undefined;
    if (cp) delete cp.status;
    out.set(mesh.cluster, {
      settings: mesh.settings.source.value,
      ...(cp && { controlPlane: cp }),
      federation: federation.map((o) => o.value),
      inventory: objects.filter((o) => o !== smcp && !federation.includes(o)).map((o) => o.value),
      rootCert: mesh.rootCert.pem,
    });
  }
  return out;
}

/** --format ts: main.ts, and beside it each cluster's inventory/ and root-cert.pem. */
function typedFiles(clusters: ReadonlyMap<string, Declared>, gitops: boolean): Map<string, string> {
  const files = new Map<string, string>();
  const declared = new Map<string, GreenfieldCluster>();
  for (const [c, g] of clusters) {
    if (g.inventory.length) files.set(`${c}/inventory/inventory.yaml`, inventoryFile(c, [...g.inventory]));
    files.set(`${c}/root-cert.pem`, g.rootCert);
    declared.set(c, { ...g, inventory: g.inventory.length > 0 });
  }
  files.set('main.ts', typedDeclaration(declared, { gitops }));
  return files;
}
