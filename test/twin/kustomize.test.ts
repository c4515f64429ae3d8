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
