import * as fs from 'fs';
import * as path from 'path';

import Ajv from 'ajv';

import * as schema from '../../schema/gitops-settings.schema.json';
import { Diagnostics } from '../diagnostics';
import { readYamlObjects } from './yaml-source';

/** clusters/gitops.yaml: where dist/ is committed, so meshfed can write Argo CD and Flux objects. */
export interface GitOpsSettings {
  readonly file: string;
  readonly repoURL: string;
  readonly targetRevision: string;
  /** Where dist/ sits in the GitOps repository (no leading or trailing slash). */
  readonly path: string;
  readonly argocdNamespace: string;
  readonly fluxNamespace: string;
  readonly fluxInterval: string;
  /** The GitRepository's spec.secretRef (private repositories). */
  readonly fluxSecretRef?: string;
}

// validateSchema off, as in lib/load/settings.ts: test/process.test.ts checks the schema against the meta-schema.
const validate = new Ajv({ allErrors: true, strict: false, validateSchema: false }).compile(schema);

/** Read clusters/gitops.yaml if it exists; undefined when it does not. */
export function loadGitOps(clustersDir: string, diags: Diagnostics): GitOpsSettings | undefined {
  const file = path.join(clustersDir, 'gitops.yaml');
  return fs.existsSync(file) ? loadGitOpsFile(file, diags) : undefined;
}

/** Read one GitOpsSettings file (clusters/gitops.yaml, or the one a typed Federation names). */
export function loadGitOpsFile(file: string, diags: Diagnostics): GitOpsSettings | undefined {
  const docs = readYamlObjects(file, diags);
  if (docs.length !== 1) {
    if (docs.length > 1) diags.error({ file }, 'expected exactly one GitOpsSettings document.');
    return undefined;
  }
  const src = docs[0];
  if (!validate(src.value)) {
    for (const e of validate.errors ?? []) {
      const p = e.instancePath.split('/').slice(1);
      const extra = (e.params as { additionalProperty?: string }).additionalProperty;
      const field = extra ? [...p, extra] : p;
      diags.error(src.at(field), extra ? 'unknown field.' : `${e.message}.`, 'See docs/gitops.md.');
    }
    return undefined;
  }
  const spec = src.value.spec as {
    repoURL: string;
    targetRevision?: string;
    path?: string;
    argocd?: { namespace?: string };
    flux?: { namespace?: string; interval?: string; secretRef?: string };
  };
  return {
    file,
    repoURL: spec.repoURL,
    targetRevision: spec.targetRevision ?? 'HEAD',
    path: spec.path ?? 'dist',
    argocdNamespace: spec.argocd?.namespace ?? 'openshift-gitops',
    fluxNamespace: spec.flux?.namespace ?? 'flux-system',
    fluxInterval: spec.flux?.interval ?? '5m',
    fluxSecretRef: spec.flux?.secretRef,
  };
}
