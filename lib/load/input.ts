import { Diagnostics } from '../diagnostics';
import { LoadedCluster, loadClusters } from './clusters';
import { Declaration, loadDeclaration, loadDeclaredGitOps } from './declared';
import { GitOpsSettings, loadGitOps } from './gitops';
import { loadPeerBundles } from './peer-bundles';

/** What the pipeline reads: a clusters folder, or a federation declared in code (lib/load/declared.ts). */
export type Input = string | Declaration;

/** Every cluster of the federation: the cluster folders, and the peers their bundles describe; or the declared ones. */
export function loadInput(input: Input, diags: Diagnostics): LoadedCluster[] {
  if (typeof input !== 'string') return loadDeclaration(input, diags);
  const local = loadClusters(input, diags);
  const clusters = [...local, ...loadPeerBundles(input, local, diags)];
  diags.throwIfErrors();
  return clusters;
}

/** The GitOps settings: clusters/gitops.yaml, or the file a declaration names. */
export function loadInputGitOps(input: Input, diags: Diagnostics): GitOpsSettings | undefined {
  return typeof input === 'string' ? loadGitOps(input, diags) : loadDeclaredGitOps(input, diags);
}

/** How the input is named in messages: the folder, or the Federation's construct path. */
export function inputName(input: Input): string {
  return typeof input === 'string' ? input : input.path;
}
