import * as fs from 'fs';
import * as path from 'path';

import { Diagnostics, SourceLocation } from '../diagnostics';
import { Ossm2Inventory } from './inventory-types';
import { apiGroup, kindNearMiss } from './kinds';
import { parseInventory, readOssm2Folder } from './ossm2';
import { ClusterSettings } from './settings';
import { readYamlObjects, SourceObject } from './yaml-source';

/**
 * clusters/<c>/control-plane.yaml (optional): the settings the OSSM 3 control plane carries over from the
 * SMCP it replaced, as one ServiceMeshControlPlane (maistra.io/v2) — a record, not an object anyone
 * applies: `meshfed graduate` writes the SMCP's effective spec there. Its trust domain is the cluster's.
 */
function readDeclaredControlPlane(dir: string, settings: ClusterSettings, diags: Diagnostics): SourceObject | undefined {
  const file = path.join(dir, 'control-plane.yaml');
  if (!fs.existsSync(file)) return undefined;
  const before = diags.errors.length;
  const docs = readYamlObjects(file, diags);
  if (diags.errors.length > before) return undefined; // unreadable: the error names the line
  return checkDeclaredControlPlane(docs, { file }, settings, diags);
}

/**
 * The declared control plane (control-plane.yaml's documents, or a typed Mesh's controlPlane) checked: one
 * ServiceMeshControlPlane (maistra.io/v2) of the cluster's trust domain. `where` names the file.
 */
export function checkDeclaredControlPlane(
  docs: SourceObject[],
  where: SourceLocation,
  settings: ClusterSettings,
  diags: Diagnostics,
): SourceObject | undefined {
  const fix = 'control-plane.yaml holds one ServiceMeshControlPlane (maistra.io/v2): the settings OSSM 3 carries over (docs/gitops.md).';
  if (docs.length !== 1 || docs[0].kind !== 'ServiceMeshControlPlane' || docs[0].apiVersion !== 'maistra.io/v2') {
    diags.error(docs[0]?.at(['kind']) ?? where, 'expected exactly one ServiceMeshControlPlane (maistra.io/v2).', fix);
    return undefined;
  }
  const td = (docs[0].value.spec as { security?: { trust?: { domain?: string } } } | undefined)?.security?.trust?.domain;
  if (td !== settings.trustDomain) {
    diags.error(
      docs[0].at(['spec', 'security', 'trust', 'domain']),
      `the declared control plane's trust domain "${td ?? ''}" is not the cluster's spec.trustDomain "${settings.trustDomain ?? ''}".`,
      'Make them equal: the mesh has one trust domain.',
    );
    return undefined;
  }
  // The record is complete (graduate writes the SMCP's effective spec with its defaults): read it as an
  // applied spec, so no profile defaults are merged under it a second time.
  docs[0].value.status = { appliedSpec: docs[0].value.spec ?? {} };
  return docs[0];
}

const FEDERATION_KINDS = new Set(['ServiceMeshPeer', 'ExportedServiceSet', 'ImportedServiceSet']);

/**
 * A greenfield cluster (spec.mode: greenfield): no OSSM 2 runs. clusters/<c>/federation/ declares
 * ServiceMeshPeers, ExportedServiceSets and ImportedServiceSets in their Maistra shapes (namespace
 * optional: the OSSM 3 namespace), clusters/<c>/inventory/ holds Namespaces, Services, workloads and
 * ServiceEntries as `kubectl get -o yaml` prints them. The mesh itself comes from the settings (trust
 * domain, OSSM 3 namespace), as a ClusterWide control plane, so the unchanged Maistra model computes
 * exports, imports and hostnames exactly as for a migration.
 */
export function loadGreenfieldInventory(dir: string, settings: ClusterSettings, diags: Diagnostics): Ossm2Inventory | undefined {
  if (fs.existsSync(path.join(dir, 'ossm2'))) {
    diags.error(
      { file: path.join(dir, 'ossm2') },
      'a greenfield cluster (spec.mode: greenfield) has no ossm2/ folder.',
      'Declare peers, exports and imports in federation/ and the services in inventory/, or remove spec.mode to migrate an OSSM 2 mesh.',
    );
    return undefined;
  }
  const before = diags.errors.length;
  const federation = fs.existsSync(path.join(dir, 'federation')) ? readOssm2Folder(path.join(dir, 'federation'), diags) : [];
  checkFederation(federation, { file: path.join(dir, 'federation') }, diags.errors.length > before, settings, diags);
  const inventory = fs.existsSync(path.join(dir, 'inventory')) ? readOssm2Folder(path.join(dir, 'inventory'), diags) : [];
  checkInventory(inventory, diags);
  return greenfieldInventory(settings, readDeclaredControlPlane(dir, settings, diags), [...federation, ...inventory], diags);
}

/**
 * The declared ServiceMeshPeers, ExportedServiceSets and ImportedServiceSets: nothing else, in the OSSM 3
 * namespace unless they name one. `unreadable`: reading them failed, so a missing peer is no news.
 */
export function checkFederation(
  federation: SourceObject[],
  where: SourceLocation,
  unreadable: boolean,
  settings: ClusterSettings,
  diags: Diagnostics,
): void {
  const ns = settings.ossm3.namespace ?? 'istio-system';
  if (federation.length === 0 && !unreadable)
    diags.warn(
      'MF021',
      where,
      'no ServiceMeshPeer declared: this cluster shares nothing.',
      'Declare peers, exports and imports in federation/*.yaml (docs/topologies.md, "Greenfield multi-cluster").',
    );
  for (const o of federation) {
    if (kindNearMiss(o.kind, apiGroup(o.apiVersion))) continue; // a slip of a kind: parseInventory names the kind meant
    if (!FEDERATION_KINDS.has(o.kind) || !o.apiVersion.startsWith('federation.maistra.io/')) {
      diags.error(
        o.at(['kind']),
        `${o.label} does not belong in federation/: it holds ServiceMeshPeers, ExportedServiceSets ` +
          `and ImportedServiceSets (federation.maistra.io/v1).`,
        'Move Namespaces, Services and workloads to inventory/.',
      );
    } else if (o.namespace === undefined) {
      (o.value.metadata as Record<string, unknown>).namespace = ns;
    }
  }
}

/** The declared inventory (Namespaces, Services, workloads, ServiceEntries): no federation or Maistra object. */
export function checkInventory(inventory: SourceObject[], diags: Diagnostics): void {
  for (const o of inventory) {
    if (o.apiVersion.startsWith('federation.maistra.io/') || o.apiVersion.startsWith('maistra.io/')) {
      diags.error(
        o.at(['kind']),
        `${o.label} does not belong in inventory/.`,
        'ServiceMeshPeers and export/import sets go to federation/; a greenfield cluster has no OSSM 2 control plane.',
      );
    }
  }
}

/**
 * A greenfield cluster's inventory from its declared objects (federation and inventory) and control plane: the
 * declared one, or a ClusterWide SMCP of the settings' trust domain in the OSSM 3 namespace.
 */
export function greenfieldInventory(
  settings: ClusterSettings,
  declared: SourceObject | undefined,
  objects: SourceObject[],
  diags: Diagnostics,
): Ossm2Inventory | undefined {
  if (declared) {
    const parsed = parseInventory([declared, ...objects], diags, { greenfield: true });
    return parsed && { ...parsed, declaredControlPlane: true };
  }
  const cluster = new SourceObject(settings.source.file, {
    apiVersion: 'maistra.io/v2',
    kind: 'ServiceMeshControlPlane',
    metadata: { name: 'greenfield', namespace: settings.ossm3.namespace ?? 'istio-system' },
    spec: { version: 'v2.6', mode: 'ClusterWide', security: { trust: { domain: settings.trustDomain ?? '' } } },
  });
  return parseInventory([cluster, ...objects], diags, { greenfield: true });
}
