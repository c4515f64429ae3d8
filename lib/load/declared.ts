/**
 * A federation declared in code (lib/federation/mesh.ts: Mesh, MeshPeer, ExportedServiceSet, ImportedServiceSet)
 * instead of a clusters folder of greenfield declarations: the objects each cluster folder would hold, read
 * through the same checks as the folder's (lib/load/clusters.ts, lib/load/greenfield.ts), so the model, the plan,
 * every finding and every rendered byte are the same. Errors name the construct path (`federation/east/west-mesh`)
 * where a folder's name a file and line.
 */
import * as fs from 'fs';

import { Diagnostics } from '../diagnostics';
import { JsonObject } from '../json';
import { parseRootCert, readRootCert, RootCert } from './cert';
import { LoadedCluster } from './clusters';
import { GitOpsSettings, loadGitOpsFile } from './gitops';
import { checkDeclaredControlPlane, checkFederation, checkInventory, greenfieldInventory } from './greenfield';
import { readOssm2Folder } from './ossm2';
import { parseSettings } from './settings';
import { SourceObject } from './yaml-source';

/** One object of a declaration and the construct that declares it. */
export interface DeclaredObject {
  /** The construct path errors name, e.g. `federation/east/west-mesh`. */
  readonly path: string;
  readonly value: JsonObject;
}

/** A cluster as declared in code: what clusters/<cluster>/ of a greenfield federation holds. */
export interface DeclaredCluster {
  /** The cluster's name (dist/<name>/). */
  readonly name: string;
  /** The construct path of the Mesh. */
  readonly path: string;
  /** The ClusterSettings object (cluster.yaml), spec.mode greenfield. */
  readonly settings: DeclaredObject;
  /** The ServiceMeshControlPlane record (control-plane.yaml). */
  readonly controlPlane?: DeclaredObject;
  /** ServiceMeshPeers, ExportedServiceSets and ImportedServiceSets (federation/). */
  readonly federation: readonly DeclaredObject[];
  /** A folder of YAML read as inventory/ is; none: the cluster runs nothing it declares. */
  readonly inventory?: string;
  /** The public root CA: PEM text (located by the Mesh's path) or a file. */
  readonly rootCert: { readonly pem: string } | { readonly file: string };
}

/** A federation declared in code. */
export interface Declaration {
  /** The construct path of the Federation. */
  readonly path: string;
  readonly clusters: readonly DeclaredCluster[];
  /** A GitOpsSettings file (clusters/gitops.yaml's format). */
  readonly gitops?: string;
}

/** What each declared cluster's warnings may be attributed by: its Mesh's path and its inventory folder. */
const OWNED = new WeakMap<object, string[]>();

/** The construct path and inventory folder of the cluster declared with these settings (none for a folder's cluster.yaml). */
export function declaredPaths(settings: object): readonly string[] {
  return OWNED.get(settings) ?? [];
}

/** Every cluster of a declaration, checked as its folder would be; the errors name construct paths. */
export function loadDeclaration(declaration: Declaration, diags: Diagnostics): LoadedCluster[] {
  if (declaration.clusters.length === 0)
    diags.error(
      { file: declaration.path },
      'the federation declares no Mesh.',
      `Add one per cluster: new Mesh(fed, 'east', { trustDomain: …, network: …, ossm3: { version: … }, rootCert: … }).`,
    );
  const out: LoadedCluster[] = [];
  const seen = new Map<string, string>();
  for (const c of declaration.clusters) {
    const first = seen.get(c.name);
    if (first) {
      diags.error(
        { file: c.path },
        `a second Mesh named ${c.name} (the first is ${first}).`,
        'Give each cluster one Mesh, named as its dist/ folder.',
      );
      continue;
    }
    seen.set(c.name, c.path);
    const loaded = loadDeclaredCluster(c, diags);
    if (loaded) out.push(loaded);
  }
  diags.throwIfErrors();
  return out;
}

/** The declaration's GitOpsSettings file, read as clusters/gitops.yaml is. */
export function loadDeclaredGitOps(declaration: Declaration, diags: Diagnostics): GitOpsSettings | undefined {
  if (declaration.gitops === undefined) return undefined;
  if (!fs.existsSync(declaration.gitops)) {
    diags.error(
      { file: declaration.gitops },
      `the GitOps settings file ${declaration.path} names does not exist.`,
      'Write it (docs/gitops.md) or leave gitops out: then dist/argocd and dist/flux are not written.',
    );
    return undefined;
  }
  return loadGitOpsFile(declaration.gitops, diags);
}

function loadDeclaredCluster(c: DeclaredCluster, diags: Diagnostics): LoadedCluster | undefined {
  const source = new SourceObject(c.settings.path, c.settings.value);
  const settings = parseSettings(source, c.name, diags);
  let inventory: LoadedCluster['inventory'] | undefined;
  if (settings) {
    OWNED.set(source, [c.path, ...(c.inventory === undefined ? [] : [c.inventory])]);
    const federation = c.federation.map((o) => new SourceObject(o.path, o.value));
    checkFederation(federation, { file: c.path }, false, settings, diags);
    const objects = c.inventory === undefined ? [] : readInventory(c, diags);
    checkInventory(objects, diags);
    const cp = c.controlPlane && [new SourceObject(c.controlPlane.path, c.controlPlane.value)];
    const declared = cp && checkDeclaredControlPlane(cp, { file: c.controlPlane!.path }, settings, diags);
    if (!cp || declared) inventory = greenfieldInventory(settings, declared, [...federation, ...objects], diags);
  }
  const rootCert = readDeclaredRoot(c, diags);
  if (!settings || !inventory || !rootCert) return undefined;
  return { name: c.name, dir: c.path, settings, inventory, rootCert };
}

function readInventory(c: DeclaredCluster, diags: Diagnostics): SourceObject[] {
  const dir = c.inventory!;
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) {
    diags.error(
      { file: c.path },
      `the inventory folder ${dir} does not exist.`,
      "Name the folder of the cluster's Namespaces, Services and workloads as `kubectl get -o yaml` prints them (inventory/ of a clusters folder).",
    );
    return [];
  }
  return readOssm2Folder(dir, diags);
}

/** A PEM string is checked as root-cert.pem is, located by the Mesh; a file is read as root-cert.pem. */
function readDeclaredRoot(c: DeclaredCluster, diags: Diagnostics): RootCert | undefined {
  return 'pem' in c.rootCert ? parseRootCert(`${c.path} (rootCert)`, c.rootCert.pem, diags) : readRootCert(c.rootCert.file, diags);
}
