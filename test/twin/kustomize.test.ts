/**
 * The twin's kustomize refuses what it does not implement and what kustomize refuses (the end-to-end tier,
 * test/e2e/kustomize-kubectl.test.ts, proves it builds every example as `kubectl kustomize` does).
 */
import { buildKustomization, KustomizeError } from '../../lib/twin/kustomize';
import { memoryTree } from '../../lib/twin/tree';

describe('refuses what it does not implement, and what kustomize refuses', () => {
  const k = (body: string, extra: Record<string, string> = {}) =>
    memoryTree(
      new Map([
        ['o/kustomization.yaml', body],
        ['o/a.yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: n}\n'],
        ...Object.entries(extra),
      ]),
    );

  test('an unknown Kustomization field', () => {
    expect(() => buildKustomization(k('resources: [a.yaml]\nnamePrefix: x-\n'), 'o')).toThrow(/does not implement "namePrefix"/);
  });
  test('a duplicate object', () => {
    expect(() =>
      buildKustomization(
        k('resources: [a.yaml, b.yaml]\n', { 'o/b.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: n}\n' }),
        'o',
      ),
    ).toThrow(/already registered id/);
  });
  test('a strategic-merge patch that matches nothing', () => {
    const patch = ['apiVersion: v1', 'kind: ConfigMap', 'metadata: {name: b, namespace: n}', '$patch: delete'];
    const body = `resources: [a.yaml]\npatches:\n- patch: |-\n${patch.map((l) => `    ${l}\n`).join('')}`;
    expect(() => buildKustomization(k(body), 'o')).toThrow(KustomizeError);
  });
  test('a missing resource', () => {
    expect(() => buildKustomization(k('resources: [nope.yaml]\n'), 'o')).toThrow(/nope.yaml does not exist/);
  });
  test('a list of mappings merged into an existing list', () => {
    const extra = { 'o/a.yaml': 'apiVersion: v1\nkind: Service\nmetadata: {name: a, namespace: n}\nspec:\n  ports: [{port: 80}]\n' };
    const patch = ['apiVersion: v1', 'kind: Service', 'metadata: {name: a, namespace: n}', 'spec:', '  ports: [{port: 81}]'];
    const body = `resources: [a.yaml]\npatches:\n- patch: |-\n${patch.map((l) => `    ${l}\n`).join('')}`;
    expect(() => buildKustomization(k(body, extra), 'o')).toThrow(/merged by schema keys/);
  });
});

describe('merges as kustomize does', () => {
  test('a list of mappings of a kind kustomize has no schema for (an Istio CRD) is replaced whole by the patch', () => {
    // kustomize knows merge keys only for the Kubernetes API groups of its built-in schema; on any other kind a list in
    // a strategic-merge patch replaces the object's list (kyaml merge2, no associative keys without a schema). This is
    // the shape of MF002's patch of an adopted AuthorizationPolicy: the rules list, rewritten.
    const policy = [
      'apiVersion: security.istio.io/v1',
      'kind: AuthorizationPolicy',
      'metadata: {name: p, namespace: n}',
      'spec:',
      '  action: ALLOW',
      '  rules:',
      '  - from: [{source: {principals: [a/ns/x/sa/y]}}]',
      '  - to: [{operation: {ports: ["8080"]}}]',
    ];
    const patch = [
      'apiVersion: security.istio.io/v1',
      'kind: AuthorizationPolicy',
      'metadata: {name: p, namespace: n}',
      'spec:',
      '  rules:',
      '  - from: [{source: {principals: [b/ns/x/sa/y]}}]',
    ];
    const tree = memoryTree(
      new Map([
        ['o/kustomization.yaml', `resources: [p.yaml]\npatches:\n- patch: |-\n${patch.map((l) => `    ${l}\n`).join('')}`],
        ['o/p.yaml', `${policy.join('\n')}\n`],
      ]),
    );
    expect(buildKustomization(tree, 'o')).toEqual([
      {
        apiVersion: 'security.istio.io/v1',
        kind: 'AuthorizationPolicy',
        metadata: { name: 'p', namespace: 'n' },
        spec: { action: 'ALLOW', rules: [{ from: [{ source: { principals: ['b/ns/x/sa/y'] } }] }] },
      },
    ]);
  });
});
