import { Diagnostics } from '../diagnostics';
import { LoadedCluster, loadClusters } from './clusters';
import { loadPeerBundles } from './peer-bundles';

/** Every cluster of the federation: the cluster folders, and the peers their bundles describe. */
export function loadInput(clustersDir: string, diags: Diagnostics): LoadedCluster[] {
  const local = loadClusters(clustersDir, diags);
  const clusters = [...local, ...loadPeerBundles(clustersDir, local, diags)];
  diags.throwIfErrors();
  return clusters;
}
