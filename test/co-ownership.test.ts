/**
 * MF029 co-ownership: an object meshfed changes after 00 (a patched AuthorizationPolicy, a restarted workload) that
 * another Argo CD application or Flux Kustomization tracks is named, once, at the first phase that changes it.
 */
import * as fs from 'fs';
import * as path from 'path';

import { stringify } from 'yaml';

import { analyse } from './support/analyse';
import { copyTree, EXAMPLE_CLUSTERS } from './support/fixtures';

const GW = 'west.local/ns/istio-system/sa/federation-ingress-service-account';

/** An ALLOW policy on west that admits the federation gateway: MF002 patches it from 02 (test/check.test.ts). */
const policy = (metadata: Record<string, unknown> = {}) => ({
  apiVersion: 'security.istio.io/v1',
  kind: 'AuthorizationPolicy',
  metadata: { name: 'httpbin-callers', namespace: 'a', uid: 'x', resourceVersion: '1', ...metadata },
  spec: { action: 'ALLOW', selector: { matchLabels: { app: 'httpbin' } }, rules: [{ from: [{ source: { principals: [GW] } }] }] },
});

function withDump(objects: unknown[]): string {
  const dir = copyTree(EXAMPLE_CLUSTERS);
  fs.writeFileSync(path.join(dir, 'west', 'ossm2', 'extra.yaml'), objects.map((o) => stringify(o)).join('---\n'));
  return dir;
}

/** The bundled example's east with its `curl` Deployment tracked by another Argo CD application. */
function withTrackedCurl(): string {
  const dir = copyTree(EXAMPLE_CLUSTERS);
  const file = path.join(dir, 'east', 'ossm2', 'workloads.yaml');
  const text = fs.readFileSync(file, 'utf8');
  const next = text.replace(
    /( {2}kind: Deployment\n {2}metadata:\n {4}annotations:\n)/,
    '$1      argocd.argoproj.io/tracking-id: team-client:apps/Deployment:client/curl\n',
  );
  if (next === text) throw new Error('the curl Deployment is not where the test expects it');
  fs.writeFileSync(file, next);
  return dir;
}

const mf029 = (dir: string) => analyse(dir).findings.filter((f) => f.rule === 'MF029');

describe('MF029 co-ownership', () => {
  test('does not trigger on the bundled example, nor on a patched policy no other delivery tracks', () => {
    expect(mf029(EXAMPLE_CLUSTERS)).toEqual([]);
    expect(mf029(withDump([policy()]))).toEqual([]);
  });

  test('triggers on a patched AuthorizationPolicy another Argo CD application tracks: named at 02, where MF002 patches it', () => {
    const f = mf029(
      withDump([
        policy({ annotations: { 'argocd.argoproj.io/tracking-id': 'team-a:security.istio.io/AuthorizationPolicy:a/httpbin-callers' } }),
      ]),
    );
    expect(f).toHaveLength(1);
    expect(f[0]).toMatchObject({ severity: 'warning', cluster: 'west', phase: '02-export' });
    expect(f[0].location).toMatchObject({ object: 'AuthorizationPolicy a/httpbin-callers', field: 'metadata' });
    expect(f[0].problem).toMatch(
      /^AuthorizationPolicy a\/httpbin-callers is tracked by Argo CD application team-a \(argocd\.argoproj\.io\/tracking-id\), and meshfed patches it \(/,
    );
    expect(f[0].fix).toMatch(/^Before 02-export, make one owner/);
  });

  test('triggers on a Flux-owned policy the same way', () => {
    const flux = { labels: { 'kustomize.toolkit.fluxcd.io/name': 'apps', 'kustomize.toolkit.fluxcd.io/namespace': 'flux-system' } };
    expect(mf029(withDump([policy(flux)]))[0].problem).toMatch(
      /is tracked by Flux Kustomization flux-system\/apps, and meshfed patches it/,
    );
  });

  test('triggers on a workload the restart Jobs patch, tracked elsewhere: named once, at the first restart (03), not again at 06', () => {
    const f = mf029(withTrackedCurl());
    expect(f.map((x) => `${x.cluster} ${x.phase} ${x.location?.object}`)).toEqual(['east 03-import Deployment client/curl']);
    expect(f[0].problem).toMatch(/meshfed restarts it: Job meshfed-restart-for-network-\w+ patches its pod template annotation/);
  });
});
