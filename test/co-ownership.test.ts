/**
 * MF029 co-ownership: an object meshfed changes after 00 (a patched AuthorizationPolicy, a restarted workload) that
 * another Argo CD application or Flux Kustomization tracks is named, once, at the first phase that changes it: a patch
 * or an adoption is refused with the hand-off to do, until spec.acknowledge lists MF029 with a reason (the runbook
 * prints it); a restart is a warning.
 */
import * as fs from 'fs';
import * as path from 'path';

import { stringify } from 'yaml';

import { analyse } from './support/analyse';
import { copyTree, EXAMPLE_CLUSTERS } from './support/fixtures';
import { Diagnostics, InputError } from '../lib/diagnostics';
import { loadClusters } from '../lib/load/clusters';
import { renderClusterRunbook } from '../lib/write/runbook/cluster';

const GW = 'west.local/ns/istio-system/sa/federation-ingress-service-account';

/** An ALLOW policy on west that admits the federation gateway: MF002 patches it from 02 (test/check.test.ts). */
const policy = (metadata: Record<string, unknown> = {}) => ({
  apiVersion: 'security.istio.io/v1',
  kind: 'AuthorizationPolicy',
  metadata: { name: 'httpbin-callers', namespace: 'a', uid: 'x', resourceVersion: '1', ...metadata },
  spec: { action: 'ALLOW', selector: { matchLabels: { app: 'httpbin' } }, rules: [{ from: [{ source: { principals: [GW] } }] }] },
});

function withDump(objects: unknown[], westSpec = ''): string {
  const dir = copyTree(EXAMPLE_CLUSTERS);
  fs.writeFileSync(path.join(dir, 'west', 'ossm2', 'extra.yaml'), objects.map((o) => stringify(o)).join('---\n'));
  const west = path.join(dir, 'west', 'cluster.yaml');
  if (westSpec) fs.writeFileSync(west, fs.readFileSync(west, 'utf8').replace(/^spec:\n/m, `spec:\n${westSpec}`));
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
    expect(f[0]).toMatchObject({ severity: 'error', cluster: 'west', phase: '02-export' });
    expect(f[0].location).toMatchObject({ object: 'AuthorizationPolicy a/httpbin-callers', field: 'metadata' });
    expect(f[0].problem).toMatch(
      /^AuthorizationPolicy a\/httpbin-callers is tracked by Argo CD application team-a \(argocd\.argoproj\.io\/tracking-id\), and meshfed patches it \(/,
    );
    // MF002 adopts the policy at 00 (meshfed's application declares it from then on): the hand-off is due before that
    // sync, in two commits, since Argo CD reads Prune=false from the live object (gitops-engine sync_context.go:1224).
    expect(f[0].fix).toBe(
      "Hand it over before you sync 00-federation, where meshfed's delivery first applies it (two Argo CD applications " +
        'declaring one object re-stamp its tracking id on every sync: argo-cd controller/state.go:796, :858-864), in two ' +
        'commits (Argo CD reads Prune=false from the live object: gitops-engine pkg/sync/sync_context.go:1224): 1. in ' +
        "team-a's source, annotate AuthorizationPolicy a/httpbin-callers argocd.argoproj.io/sync-options: Prune=false and " +
        "argocd.argoproj.io/compare-options: IgnoreExtraneous; commit and sync team-a; 2. then remove it from team-a's " +
        'source; commit and sync team-a again: it stays in place ("ignored (no prune)") for meshfed\'s application to take ' +
        'over. Then acknowledge in clusters/west/cluster.yaml: spec.acknowledge: [MF029] and spec.acknowledgeReasons.MF029: ' +
        '"<what was handed over, and how>" (the runbook prints it).',
    );
    expect(f[0].fix).not.toContain('ignoreDifferences');
  });

  test('triggers on a Flux-owned policy the same way', () => {
    const flux = { labels: { 'kustomize.toolkit.fluxcd.io/name': 'apps', 'kustomize.toolkit.fluxcd.io/namespace': 'flux-system' } };
    const [f] = mf029(withDump([policy(flux)]));
    expect(f.severity).toBe('error');
    expect(f.problem).toMatch(/is tracked by Flux Kustomization flux-system\/apps, and meshfed patches it/);
    expect(f.fix).toMatch(
      /^Hand it over before you sync 00-federation, where meshfed's delivery first applies it, in two commits \(Flux's garbage collection reads prune: disabled from the in-cluster object: fluxcd\/pkg ssa\/manager_delete\.go:87\): 1\. in Flux Kustomization flux-system\/apps's source, label AuthorizationPolicy a\/httpbin-callers kustomize\.toolkit\.fluxcd\.io\/prune: disabled; commit and run flux reconcile kustomization apps -n flux-system --with-source; 2\. then remove it from that source; commit and reconcile again/,
    );
    // reconcile: disabled on the live object would make Flux skip meshfed's own apply (fluxcd/pkg ssa/manager_apply.go:550-551)
    expect(f.fix).toContain('Do not use kustomize.toolkit.fluxcd.io/reconcile: disabled');
  });

  test('an object meshfed first applies in 06 (a gateway Service it adopts) is due before the 06 sync', () => {
    const dir = copyTree(path.join(__dirname, '..', 'examples', 'production-smcp', 'clusters'));
    const file = path.join(dir, 'east', 'ossm2', 'gateways.yaml');
    const text = fs.readFileSync(file, 'utf8');
    const next = text.replace(
      /( {2}kind: Service\n {2}metadata:\n)/,
      '$1    annotations:\n      argocd.argoproj.io/tracking-id: team-edge:/Service:istio-system/istio-ingressgateway\n',
    );
    expect(next).not.toBe(text);
    fs.writeFileSync(file, next);
    const [f] = mf029(dir).filter((x) => x.problem.startsWith('Service istio-system/istio-ingressgateway'));
    expect(f.phase).toMatch(/^0[67]-/);
    expect(f.fix).toMatch(new RegExp(`^Hand it over before you sync ${f.phase}, where meshfed's delivery first applies it`));
    expect(f.fix).toContain(
      "1. in team-edge's source, annotate Service istio-system/istio-ingressgateway argocd.argoproj.io/sync-options: Prune=false",
    );
  });

  const tracked = policy({
    annotations: { 'argocd.argoproj.io/tracking-id': 'team-a:security.istio.io/AuthorizationPolicy:a/httpbin-callers' },
  });
  const handedOver = '  acknowledge: [MF029]\n  acknowledgeReasons:\n    MF029: team-a ignores /spec/rules of a/httpbin-callers (PR 42)\n';

  test('spec.acknowledge MF029 with a reason: an acknowledged warning, and the runbook of the phase before prints the reason', () => {
    const dir = withDump([tracked], handedOver);
    const f = mf029(dir);
    expect(f.map((x) => `${x.severity} ${x.acknowledged}`)).toEqual(['warning true']);
    const west = path.join(dir, 'west', 'cluster.yaml');
    fs.writeFileSync(west, fs.readFileSync(west, 'utf8').replace('phase: 00-federation', 'phase: 01-prepare'));
    const { model, plan } = analyse(dir);
    expect(renderClusterRunbook(model, plan, 'west')).toContain(
      '**Co-ownership (MF029, acknowledged).** This phase changes objects another delivery tracks; handed over: team-a ignores ' +
        '/spec/rules of a/httpbin-callers (PR 42):\n\n- AuthorizationPolicy a/httpbin-callers (Argo CD application team-a ' +
        '(argocd.argoproj.io/tracking-id)): meshfed patches it (admit the real callers',
    );
  });

  test('spec.acknowledge MF029 without a reason, or a reason for a rule it does not list, is refused', () => {
    const errors = (spec: string) => {
      const diags = new Diagnostics();
      expect(() => loadClusters(withDump([tracked], spec), diags)).toThrow(InputError);
      return diags.errors.map((e) => `${e.location?.field}: ${e.message}`);
    };
    expect(errors('  acknowledge: [MF029]\n')).toEqual([
      'spec.acknowledge[0]: spec.acknowledge lists MF029 without a reason: MF029 refuses to change objects another Argo CD ' +
        'application or Flux Kustomization tracks until they are handed over, and acknowledging it says the hand-off is done.',
    ]);
    expect(errors('  acknowledgeReasons:\n    MF029: done\n')).toEqual([
      'spec.acknowledgeReasons.MF029: spec.acknowledgeReasons gives a reason for MF029, which spec.acknowledge does not list: ' +
        'it would accept nothing.',
    ]);
  });

  test('triggers on a workload the restart Jobs patch, tracked elsewhere: named once, at the first restart (03), not again at 06', () => {
    const f = mf029(withTrackedCurl());
    expect(f.map((x) => `${x.severity} ${x.cluster} ${x.phase} ${x.location?.object}`)).toEqual([
      'warning east 03-import Deployment client/curl',
    ]);
    expect(f[0].problem).toMatch(/meshfed restarts it: Job meshfed-restart-for-network-\w+ patches its pod template annotation/);
  });
});
