/**
 * The twin's kustomize against the real one: every overlay, import folder and GitOps folder of every
 * example builds to the same objects with lib/twin/kustomize.ts as with `kubectl kustomize` (one kubectl
 * process per folder: the end-to-end tier). The in-process tests build with the twin's kustomize
 * (test/support/kube.ts `kustomize`) on the strength of this proof.
 */
import * as fs from 'fs';
import * as path from 'path';

import { buildKustomization, objectId } from '../../lib/twin/kustomize';
import { memoryTree } from '../../lib/twin/tree';
import { copyTree, importsVisibleTo, INPUT_FOLDERS } from '../support/fixtures';
import { kubectlKustomize, sortLikeKustomize } from '../support/kube';
import { synthTo } from '../support/synth';

const ROOT = path.join(__dirname, '..', '..');
const INPUTS = INPUT_FOLDERS;

/** Every folder of a render that holds a kustomization.yaml. */
function kustomizationDirs(files: Iterable<string>): string[] {
  return [...files].filter((f) => f.endsWith('/kustomization.yaml')).map((f) => path.posix.dirname(f));
}

function byId(objs: object[]): Map<string, object> {
  return new Map(objs.map((o) => [objectId(o as never), o]));
}

/**
 * The bundled clusters with AuthorizationPolicies meshfed adopts (MF002): their patches replace `spec.rules`, a list of
 * mappings of a kind kustomize has no schema for — the case the twin's builder once refused.
 */
function withAdoptedPolicies(): string {
  // east's imports visible to client only: with its istio-system too, MF027 refuses the render (test/support/fixtures.ts).
  const dir = importsVisibleTo(copyTree(path.join(ROOT, 'clusters')), 'east', ['client']);
  const gateway = 'west.local/ns/istio-system/sa/federation-ingress-service-account';
  const policy = (name: string, action: string, rules: unknown) =>
    JSON.stringify({
      apiVersion: 'security.istio.io/v1',
      kind: 'AuthorizationPolicy',
      metadata: { name, namespace: 'a' },
      spec: { action, selector: { matchLabels: { app: 'httpbin' } }, rules },
    });
  const policies = [
    policy('from-principals', 'ALLOW', [{ from: [{ source: { principals: [gateway, 'west.local/ns/a/sa/tester'] } }] }]),
    policy('when-principal', 'ALLOW', [{ when: [{ key: 'source.principal', values: [gateway] }] }]),
    policy('deny-others', 'DENY', [{ from: [{ source: { notPrincipals: [gateway, 'west.local/ns/a/sa/tester'] } }] }]),
  ];
  fs.writeFileSync(path.join(dir, 'west', 'ossm2', 'policies.yaml'), policies.join('\n---\n'));
  return dir;
}

describe.each([
  ...INPUTS.map((i) => [i, () => path.join(ROOT, i)] as const),
  ['clusters with adopted AuthorizationPolicies', withAdoptedPolicies] as const,
])('%s', (_name, input) => {
  let dist = '';
  let files = new Map<string, string>();
  beforeAll(() => {
    const r = synthTo(input());
    dist = r.dist;
    files = r.result.files;
  });

  test('every kustomization builds to the same objects as kubectl kustomize', () => {
    const dirs = kustomizationDirs(files.keys());
    expect(dirs.length).toBeGreaterThan(1);
    const tree = memoryTree(files);
    const differences: string[] = [];
    for (const dir of dirs) {
      const built = buildKustomization(tree, dir);
      const printed = kubectlKustomize(path.join(dist, dir));
      // The same objects in the same order once sorted as kustomize sorts (what test/support/kube.ts kustomize() gives).
      expect(sortLikeKustomize(built as never).map((o) => objectId(o as never))).toEqual(printed.map((o) => objectId(o as never)));
      const mine = byId(built);
      const theirs = byId(printed);
      for (const [id, o] of theirs)
        if (JSON.stringify(sortKeys(mine.get(id))) !== JSON.stringify(sortKeys(o))) differences.push(`${dir}: ${id}`);
    }
    expect(differences).toEqual([]);
    if (_name.startsWith('clusters with'))
      expect([...files.keys()].filter((f) => /^west\/0\d-[a-z-]+\/patches\/a\.yaml$/.test(f)).length).toBeGreaterThan(0);
  });
});

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object')
    return Object.fromEntries(
      Object.keys(v)
        .sort()
        .map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]),
    );
  return v;
}
