import { createHash } from 'crypto';

import { declaredPaths } from '../load/declared';

/** Short stable hash of a string (hex). */
export function shortHash(s: string, length = 8): string {
  return createHash('sha256').update(s).digest('hex').slice(0, length);
}

/**
 * A DNS-1123 label (lower-case alphanumerics and '-', ≤63 chars) made from the given parts.
 * Anything else becomes '-'. When the result would be longer than 63 characters it is cut and a hash
 * of the full name is appended, so two long names never collide and the same input always gives the
 * same name.
 */
export function dnsLabel(...parts: string[]): string {
  const full = parts
    .join('-')
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/-+/g, '-')
    .replace(/^-+|-+$/g, '');
  if (full.length <= 63) return full;
  const hash = shortHash(full);
  return `${full.slice(0, 63 - hash.length - 1).replace(/-+$/, '')}-${hash}`;
}

/** `httpbin.a.svc.west-mesh-imports.local` → `httpbin-a-svc-west-mesh-imports-local`. */
export function hostSlug(hostname: string): string {
  return dnsLabel(hostname.replace(/\./g, '-'));
}

export function spiffeId(trustDomain: string, namespace: string, serviceAccount: string): string {
  return `spiffe://${trustDomain}/ns/${namespace}/sa/${serviceAccount}`;
}

/** Sail operator revision name for RevisionBased updates: `<istio name>-<version with . → ->`. */
export function revisionName(istioName: string, version: string): string {
  return `${istioName}-${version.replace(/\./g, '-')}`;
}

export function uniqSorted(values: Iterable<string>): string[] {
  return [...new Set(values)].sort();
}

/**
 * A path inside a cluster's input folder, as the user wrote the --clusters folder (hints name the file
 * to edit where the user keeps it, not a `clusters/` that may not exist); for a Mesh declared in code, the
 * Mesh (its settings for cluster.yaml).
 */
export function inputPath(
  mesh: { readonly cluster: string; readonly settings: { readonly source: { readonly file: string } } },
  rel: string,
): string {
  const file = mesh.settings.source.file;
  if (declaredPaths(mesh.settings.source).length) return rel === 'cluster.yaml' ? `the settings of Mesh ${file}` : `Mesh ${file}`;
  const cut = file.lastIndexOf('/');
  // Peer bundles live in another cluster's peers/ folder: their own folder is a sibling of that cluster's.
  const dir = file.endsWith('/cluster.yaml') && cut >= 0 ? file.slice(0, cut) : `clusters/${mesh.cluster}`;
  return `${dir}/${rel}`;
}
