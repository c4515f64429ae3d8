/**
 * The bundled example (clusters/) is the east/west scenario of the reference guide. Each phase's
 * built state is compared with the guide's own YAML (test/fixtures/guide-000/, copied verbatim).
 */
import * as fs from 'fs';
import * as path from 'path';

import { parseAllDocuments } from 'yaml';

import { EXAMPLE_CLUSTERS } from './support/fixtures';
import { find, Obj, withoutGitOpsAnnotations } from './support/kube';
import { synthTo, desiredState } from './support/synth';

const GUIDE = path.join(__dirname, 'fixtures', 'guide-000');
const WEST_EW_ADDRESS = '198.51.100.20'; // clusters/west/cluster.yaml

/**
 * Where meshfed's names differ from the guide's, and why (docs/semantics.md, "Decisions and differences from the guide"): the guide names the
 * imported ServiceEntry for httpbin.a "httpbin-west-mesh-imports", which would collide for a second
 * service of the same peer; meshfed names every imported ServiceEntry after its hostname and every
 * WorkloadEntry after the ServiceEntry plus the ServiceMeshPeer.
 */
const NAME_RENAMES: Record<string, string> = {
  'ServiceEntry/httpbin-west-mesh-imports': 'httpbin-a-svc-west-mesh-imports-local',
  'WorkloadEntry/httpbin-west-mesh-imports': 'httpbin-a-svc-west-mesh-imports-local-west-mesh',
  'WorkloadEntry/httpbin-cluster-local-west-mesh': 'httpbin-b-svc-cluster-local-west-mesh',
};
/** The selector label values, likewise derived from the ServiceEntry name. */
const LABEL_RENAMES: Record<string, string> = {
  'httpbin-west-imports': 'httpbin-a-svc-west-mesh-imports-local',
  'httpbin-cluster-local': 'httpbin-b-svc-cluster-local',
};

/** The guide's objects for a cluster; a "# applied with -n NS" line gives the namespace `kubectl -n` set. */
function guideObjects(cluster: 'east' | 'west'): Obj[] {
  const text = fs.readFileSync(path.join(GUIDE, `${cluster}-objects.yaml`), 'utf8');
  return text.split(/^---$/m).map((chunk) => {
    const o = parseAllDocuments(chunk)[0].toJS() as Obj;
    const ns = /# applied with -n (\S+)/.exec(chunk)?.[1];
    if (ns && !o.metadata.namespace && !['Istio', 'IstioCNI'].includes(o.kind)) o.metadata.namespace = ns;
    return JSON.parse(JSON.stringify(o).replace(/\$WEST_REMOTE_IP/g, WEST_EW_ADDRESS)) as Obj;
  });
}

function renamed(o: Obj): Obj {
  const out = JSON.parse(JSON.stringify(o)) as Obj;
  out.metadata.name = NAME_RENAMES[`${o.kind}/${o.metadata.name}`] ?? o.metadata.name;
  const relabel = (m?: Record<string, string>) => m && m.app && (m.app = LABEL_RENAMES[m.app] ?? m.app);
  relabel(out.metadata.labels);
  relabel(out.spec?.workloadSelector?.labels);
  return out;
}

const patches = JSON.parse(fs.readFileSync(path.join(GUIDE, 'smcp-patches.json'), 'utf8')) as Record<
  string,
  { type: string; patch: any }[]
>;

function mergePatch(target: any, patch: any): any {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return patch;
  const out = { ...(target ?? {}) };
  for (const [k, v] of Object.entries(patch)) out[k] = v === null ? undefined : mergePatch(out[k], v);
  return JSON.parse(JSON.stringify(out));
}

describe('bundled example = the guide (000), phase by phase', () => {
  let dist: string;
  beforeAll(() => ({ dist } = synthTo(EXAMPLE_CLUSTERS)));
  // The guide has no GitOps: compare without the Argo CD / Flux annotations (tested in gitops.test.ts).
  const state = (cluster: string, phase: string) => desiredState(dist, cluster, phase).map(withoutGitOpsAnnotations);
  const smcp = (objs: Obj[]) => find(objs, 'ServiceMeshControlPlane', 'basic', 'istio-system')!;

  test.each(['east', 'west'])('%s 00-federation adopts what runs today, without server-side noise', (c) => {
    const objs = state(c, '00-federation');
    const kinds = objs.map((o) => o.kind).sort();
    expect(kinds).toEqual(
      c === 'east'
        ? ['ConfigMap', 'ImportedServiceSet', 'Namespace', 'ServiceMeshControlPlane', 'ServiceMeshPeer']
        : ['ConfigMap', 'ExportedServiceSet', 'Namespace', 'Namespace', 'ServiceMeshControlPlane', 'ServiceMeshPeer'],
    );
    for (const o of objs) {
      expect(o.status).toBeUndefined();
      for (const k of ['uid', 'resourceVersion', 'managedFields', 'creationTimestamp', 'generation', 'finalizers'])
        expect(o.metadata).not.toHaveProperty(k);
      expect(JSON.stringify(o)).not.toContain('last-applied-configuration');
      expect(JSON.stringify(o)).not.toContain('maistra.io/member-of');
    }
    expect(smcp(objs).spec.gateways.additionalIngress['federation-ingress'].enabled).toBe(true);
  });

  test.each(['east', 'west'])('%s 01-prepare applies exactly the guide merge patch to the SMCP', (c) => {
    const before = smcp(state(c, '00-federation'));
    const after = smcp(state(c, '01-prepare'));
    expect(after).toEqual(mergePatch(before, patches[c][0].patch));
  });

  test('west 02-export renders the guide east-west Gateway, expose-services Gateway and ServiceEntry', () => {
    const objs = state('west', '02-export');
    for (const g of guideObjects('west').filter((o) => ['Gateway', 'ServiceEntry'].includes(o.kind))) {
      const group = g.apiVersion.split('/')[0];
      const expected = JSON.parse(JSON.stringify(g));
      // Deviation (docs/semantics.md, "Exporter ServiceEntries"): visible to the workload's and the gateway's namespace only.
      if (g.kind === 'ServiceEntry') expected.spec.exportTo = [g.metadata.namespace, 'istio-ingress'].sort();
      expect(find(objs, g.kind, g.metadata.name, g.metadata.namespace, group)).toEqual(expected);
    }
    expect(find(objs, 'Namespace', 'istio-ingress')).toBeDefined();
    expect(state('east', '02-export')).toEqual(state('east', '01-prepare'));
  });

  test('east 03-import renders the guide istio-remote Gateway, ServiceEntries and WorkloadEntries', () => {
    const objs = state('east', '03-import');
    const expected = guideObjects('east')
      .filter((o) => ['Gateway', 'ServiceEntry', 'WorkloadEntry'].includes(o.kind))
      .map(renamed)
      // Deviation (docs/semantics.md, "Imported ServiceEntries visible to the control plane's namespace").
      .map((o) => (o.kind === 'ServiceEntry' ? { ...o, spec: { ...o.spec, exportTo: [...o.spec.exportTo, 'istio-system'].sort() } } : o));
    expect(expected).toHaveLength(5);
    for (const g of expected) expect(find(objs, g.kind, g.metadata.name, g.metadata.namespace, g.apiVersion.split('/')[0])).toEqual(g);
    expect(state('west', '03-import')).toEqual(state('west', '02-export'));
  });

  test.each(['east', 'west'])('%s 04-remove-federation deletes what the guide deletes and patches the SMCP as it does', (c) => {
    const before = state(c, '03-import');
    const after = state(c, '04-remove-federation');
    const deletes = JSON.parse(fs.readFileSync(path.join(GUIDE, 'deletes.json'), 'utf8')) as {
      cluster: string;
      kind: string;
      name: string;
      namespace: string;
    }[];
    const finalState = state(c, '07-finalize');
    for (const d of deletes.filter((x) => x.cluster === c)) {
      const kind = {
        importedserviceset: 'ImportedServiceSet',
        exportedserviceset: 'ExportedServiceSet',
        servicemeshpeer: 'ServiceMeshPeer',
      }[d.kind]!;
      expect(find(before, kind, d.name, d.namespace)).toBeDefined();
      // Deviation (docs/semantics.md, "ServiceMeshPeers until 07"): OSSM 2 proxies keep the peer's root until 06 moved them.
      if (kind === 'ServiceMeshPeer') {
        expect(find(after, kind, d.name, d.namespace)).toBeDefined();
        expect(find(finalState, kind, d.name, d.namespace)).toBeUndefined();
      } else expect(find(after, kind, d.name, d.namespace)).toBeUndefined();
    }
    expect(after.filter((o) => o.apiVersion.startsWith('federation.maistra.io/')).map((o) => o.kind)).toEqual(['ServiceMeshPeer']);
    expect(finalState.filter((o) => o.apiVersion.startsWith('federation.maistra.io/'))).toEqual([]);
    // Deviation (docs/semantics.md, "Federation gateways kept until 07"): the guide's 04 patch removes the
    // federation gateways; meshfed keeps the SMCP as it is until 07 deletes it.
    expect(
      patches[c][1].patch.every((op: { op: string; path: string }) => op.op === 'remove' && op.path.startsWith('/spec/gateways/')),
    ).toBe(true);
    expect(smcp(after)).toEqual(smcp(before));
  });

  test.each(['east', 'west'])('%s 05-install-ossm3 renders the guide IstioCNI and Istio', (c) => {
    const objs = state(c, '05-install-ossm3');
    const [cni, istio] = guideObjects(c as 'east' | 'west').filter((o) => o.apiVersion.startsWith('sailoperator.io/'));
    expect(find(objs, 'IstioCNI', 'default')).toEqual(cni);
    const expected = JSON.parse(JSON.stringify(istio));
    // Deviation (docs/semantics.md, "Istio ≥ 1.25 and the east-west Gateway"): the exporter's istiod must accept the TLS listener.
    if (c === 'west') expected.spec.values.pilot.env.PILOT_ENABLE_ALPHA_GATEWAY_API = 'true';
    // Beyond the guide (docs/control-plane.md): the guide's SMCP sets componentLevels; its status.appliedSpec
    // (the default profile) adds opt-in injection, no istiod PodDisruptionBudget or autoscaling, 10m/128Mi
    // requests for istiod and the proxies, a 300s DNS refresh; the chart defaults ALLOW_ANY and auto mTLS.
    // The guide's Istio drops all of them, meshfed carries them.
    expected.spec.values.global = {
      ...expected.spec.values.global,
      defaultPodDisruptionBudget: { enabled: false },
      logging: { level: 'default:info' },
      proxy: { autoInject: 'disabled', resources: { requests: { cpu: '10m', memory: '128Mi' } } },
    };
    expected.spec.values.meshConfig = {
      ...expected.spec.values.meshConfig,
      dnsRefreshRate: '300s',
      enableAutoMtls: true,
      outboundTrafficPolicy: { mode: 'ALLOW_ANY' },
    };
    expected.spec.values.pilot = {
      ...expected.spec.values.pilot,
      autoscaleEnabled: false,
      resources: { requests: { cpu: '10m', memory: '128Mi' } },
    };
    expect(find(objs, 'Istio', 'default')).toEqual(expected);
    expect(find(objs, 'Namespace', 'istio-cni')).toBeDefined();
  });

  test('06-migrate-workloads labels namespaces as the guide does and disables Gateway API on the west SMCP', () => {
    const labels = JSON.parse(fs.readFileSync(path.join(GUIDE, 'namespace-labels.json'), 'utf8')) as {
      cluster: string;
      namespace: string;
      args: string[];
    }[];
    expect(labels).toHaveLength(4);
    for (const l of labels) {
      const ns = find(state(l.cluster, '06-migrate-workloads'), 'Namespace', l.namespace)!;
      for (const a of l.args) {
        if (a.endsWith('-')) expect(ns.metadata.labels ?? {}).not.toHaveProperty(a.slice(0, -1));
        else {
          const [k, v] = a.split('=');
          expect(ns.metadata.labels?.[k]).toBe(v.replace(/"/g, ''));
        }
      }
    }
    const westBefore = smcp(state('west', '05-install-ossm3'));
    expect(smcp(state('west', '06-migrate-workloads'))).toEqual(mergePatch(westBefore, patches.west[2].patch));
  });

  test('06 restarts the migrated workloads with a least-privilege Job', () => {
    const objs = state('west', '06-migrate-workloads');
    const job = objs.find((o) => o.kind === 'Job')!;
    const script = job.spec.template.spec.containers[0].command[2] as string;
    expect(script).toContain('restart deployments httpbin a');
    expect(script).toContain('restart deployments httpbin b');
    const roles = objs.filter((o) => o.kind === 'Role');
    expect(roles.map((r) => r.metadata.namespace).sort()).toEqual(['a', 'b']);
    for (const r of roles)
      expect(r.rules).toEqual([
        { apiGroups: ['apps'], resources: ['deployments'], verbs: ['get', 'list', 'patch', 'watch'], resourceNames: ['httpbin'] },
      ]);
    // The one cluster-scoped grant: get/patch on the Namespaces the Job relabels before it restarts anything.
    expect(objs.find((o) => o.kind === 'ClusterRole')!.rules).toEqual([
      { apiGroups: [''], resources: ['namespaces'], verbs: ['get', 'patch'], resourceNames: ['a', 'b', 'istio-ingress'] },
    ]);
    expect(script).toContain(
      'kubectl label namespace a istio-injection- istio.io/rev=default-v1-27-3 maistra.io/ignore-namespace=true --overwrite',
    );
  });

  test.each(['east', 'west'])('%s 07-finalize removes the OSSM 2 control plane and keeps OSSM 3 and the new path', (c) => {
    const objs = state(c, '07-finalize');
    expect(objs.filter((o) => o.apiVersion.startsWith('maistra.io/'))).toEqual([]);
    expect(find(objs, 'Istio', 'default')).toBeDefined();
    if (c === 'east') expect(objs.filter((o) => o.kind === 'WorkloadEntry')).toHaveLength(2);
    else expect(find(objs, 'Gateway', 'eastwestgateway', 'istio-ingress')).toBeDefined();
  });
});
