import * as fs from 'fs';
import * as path from 'path';

import { Diagnostics } from '../diagnostics';
import { JsonObject } from '../json';
import { readRootCert, RootCert } from './cert';
import { loadGreenfieldInventory } from './greenfield';
import { Ossm2Inventory } from './inventory-types';
import { parseInventory, readOssm2Folder } from './ossm2';
import { ClusterSettings, parseSettings } from './settings';
import { readYamlObjects } from './yaml-source';

/** Everything read from one clusters/<cluster>/ folder. */
export interface LoadedCluster {
  readonly name: string;
  readonly dir: string;
  readonly settings: ClusterSettings;
  readonly inventory: Ossm2Inventory;
  readonly rootCert: RootCert;
  /** Described by a peer's bundle (clusters/<cluster>/peers/), not a folder: modelled, never rendered. */
  readonly virtual?: boolean;
  /**
   * Every object of a migrating cluster's ossm2/ as read (a `kind: List`'s items one by one): the rehearsal twin
   * restores the cluster at 00 from them, without reading the dumps again.
   */
  readonly dumps?: readonly JsonObject[];
}

/**
 * Read every cluster folder under `clustersDir`. Files directly in `clustersDir` (shared settings of
 * later features) are not cluster folders. All problems of all clusters are collected before
 * `throwIfErrors`, so one run shows every mistake.
 */
export function loadClusters(clustersDir: string, diags: Diagnostics): LoadedCluster[] {
  if (!fs.existsSync(clustersDir) || !fs.statSync(clustersDir).isDirectory()) {
    diags.error(
      { file: clustersDir },
      'the clusters folder does not exist.',
      'Create clusters/<cluster>/ folders as described in docs/input.md, or pass --clusters <dir>.',
    );
    diags.throwIfErrors();
  }
  const names = fs
    .readdirSync(clustersDir)
    .filter((n) => !n.startsWith('.') && fs.statSync(path.join(clustersDir, n)).isDirectory())
    .sort();
  if (names.length === 0) {
    diags.error(
      { file: clustersDir },
      'no cluster folders found.',
      'Add one folder per cluster (clusters/<cluster>/cluster.yaml, ossm2/, root-cert.pem).',
    );
  }
  const out: LoadedCluster[] = [];
  for (const name of names) {
    const c = loadCluster(path.join(clustersDir, name), name, diags);
    if (c) out.push(c);
  }
  diags.throwIfErrors();
  return out;
}

function loadCluster(dir: string, name: string, diags: Diagnostics): LoadedCluster | undefined {
  const settingsFile = path.join(dir, 'cluster.yaml');
  let settings: ClusterSettings | undefined;
  if (!fs.existsSync(settingsFile)) {
    diags.error(
      { file: settingsFile },
      'cluster settings are missing.',
      'Create it with apiVersion: meshfed.dev/v1alpha1, kind: ClusterSettings (see docs/input.md, "cluster.yaml").',
    );
  } else {
    const docs = readYamlObjects(settingsFile, diags);
    if (docs.length !== 1) {
      if (docs.length > 1)
        diags.error(
          { file: settingsFile, line: docs[1].lineOf() },
          'expected exactly one ClusterSettings document.',
          'Keep a single document in cluster.yaml.',
        );
      else if (diags.errors.every((e) => e.location?.file !== settingsFile))
        diags.error({ file: settingsFile }, 'the file is empty.', 'Write the ClusterSettings object into it.');
    } else {
      settings = parseSettings(docs[0], name, diags);
    }
  }
  let inventory: Ossm2Inventory | undefined;
  let dumps: JsonObject[] | undefined;
  if (settings?.mode === 'greenfield') {
    inventory = loadGreenfieldInventory(dir, settings, diags);
  } else {
    const before = diags.errors.length;
    const objects = readOssm2Folder(path.join(dir, 'ossm2'), diags);
    dumps = objects.map((o) => o.value);
    // A dump that could not be read (a syntax error, a merge conflict) leaves the inventory partial: checking
    // it would blame what is missing (no SMCP, a peer nobody declares) instead of the file to fix.
    const unreadable = diags.errors.length > before;
    inventory = objects.length && !unreadable ? parseInventory(objects, diags) : undefined;
    if (objects.length === 0 && !unreadable && fs.existsSync(path.join(dir, 'ossm2'))) {
      diags.error({ file: path.join(dir, 'ossm2') }, 'no objects found in ossm2/.', 'Dump what runs today into it (docs/input.md).');
    }
  }
  const rootCert = readRootCert(path.join(dir, 'root-cert.pem'), diags);
  if (!settings || !inventory || !rootCert) return undefined;
  return { name, dir, settings, inventory, rootCert, ...(dumps && { dumps }) };
}
