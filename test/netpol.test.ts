/**
 * lib/netpol.ts against upstream cases: the examples of the Kubernetes documentation
 * (https://kubernetes.io/docs/concepts/services-networking/network-policies/) and the reachability matrices of the
 * Kubernetes e2e NetworkPolicy suite (kubernetes/kubernetes@v1.31.0 test/e2e/network/netpol/network_policy.go: three
 * namespaces x, y, z, each with pods a, b, c labelled `pod: <name>`, serving 80 and 81 on TCP and UDP, named
 * `serve-<port>-<protocol>`), and OpenShift's policy groups.
 */
import {
  Destination,
  evaluate,
  HOST_NETWORK_LABELS,
  inCidr,
  NetworkPolicy,
  policyTypes,
  ROUTER_NAMESPACE_LABELS,
  selectorMatches,
  Source,
  USER_WORKLOAD_MONITORING_LABELS,
} from '../lib/netpol';

const NAMESPACES = ['x', 'y', 'z'];
const PODS = ['a', 'b', 'c'];
const nsLabels = (ns: string) => ({ 'kubernetes.io/metadata.name': ns, ns });
const ports = [80, 81].flatMap((p) =>
  ['TCP', 'UDP'].map((protocol) => ({ name: `serve-${p}-${protocol.toLowerCase()}`, containerPort: p, protocol })),
);
const pod = (ns: string, name: string) => ({ namespace: ns, labels: { pod: name }, ports });
const from = (id: string): Source => {
  const [ns, name] = id.split('/');
  return { kind: 'pod', pod: pod(ns, name), namespaceLabels: nsLabels(ns) };
};
const to = (id: string): Destination => {
  const [ns, name] = id.split('/');
  return { pod: pod(ns, name), namespaceLabels: nsLabels(ns) };
};
const ALL = NAMESPACES.flatMap((ns) => PODS.map((p) => `${ns}/${p}`));

/** The reachability matrix: every pair (from → to) allowed on the port, as e2e's `Reachability` prints it. */
function matrix(policies: NetworkPolicy[], port: number | string, protocol = 'TCP'): Set<string> {
  const out = new Set<string>();
  for (const s of ALL) for (const d of ALL) if (evaluate(policies, from(s), to(d), port, protocol).allowed) out.add(`${s}>${d}`);
  return out;
}
const everything = () => new Set(ALL.flatMap((s) => ALL.map((d) => `${s}>${d}`)));
const expectMatrix = (got: Set<string>, want: (s: string, d: string) => boolean) => {
  const expected = new Set(ALL.flatMap((s) => ALL.filter((d) => want(s, d)).map((d) => `${s}>${d}`)));
  expect([...got].sort()).toEqual([...expected].sort());
};
const np = (namespace: string, name: string, spec: NetworkPolicy['spec']): NetworkPolicy => ({ namespace, name, spec });

describe('selectors', () => {
  test('matchLabels AND matchExpressions; an empty selector selects everything, an absent one nothing', () => {
    expect(selectorMatches({}, { a: '1' })).toBe(true);
    expect(selectorMatches(undefined, { a: '1' })).toBe(false);
    const sel = { matchLabels: { a: '1' }, matchExpressions: [{ key: 'b', operator: 'In', values: ['2', '3'] }] };
    expect(selectorMatches(sel, { a: '1', b: '3' })).toBe(true);
    expect(selectorMatches(sel, { a: '1' })).toBe(false);
    expect(selectorMatches({ matchExpressions: [{ key: 'b', operator: 'NotIn', values: ['2'] }] }, {})).toBe(true);
    expect(selectorMatches({ matchExpressions: [{ key: 'b', operator: 'Exists' }] }, { b: '' })).toBe(true);
    expect(selectorMatches({ matchExpressions: [{ key: 'b', operator: 'DoesNotExist' }] }, { b: '' })).toBe(false);
    expect(selectorMatches({ matchExpressions: [{ key: 'b', operator: 'Bogus' }] }, { b: '' })).toBe(false);
  });

  test('CIDRs', () => {
    expect(inCidr('172.17.0.5', '172.17.0.0/16')).toBe(true);
    expect(inCidr('172.18.0.5', '172.17.0.0/16')).toBe(false);
    expect(inCidr('10.1.2.3', '0.0.0.0/0')).toBe(true);
    expect(inCidr('10.1.2.3', '10.1.2.3/32')).toBe(true);
    expect(inCidr('fd00::1', '0.0.0.0/0')).toBe(false);
  });

  test('policyTypes: Ingress always, Egress when there is an egress section (types.go)', () => {
    expect(policyTypes(np('x', 'p', { podSelector: {} }))).toEqual(['Ingress']);
    expect(policyTypes(np('x', 'p', { podSelector: {}, egress: [] }))).toEqual(['Ingress', 'Egress']);
    expect(policyTypes(np('x', 'p', { podSelector: {}, policyTypes: ['Egress'] }))).toEqual(['Egress']);
  });
});

describe('the Kubernetes documentation examples', () => {
  // "The NetworkPolicy resource": test-network-policy in default.
  const docs = np('default', 'test-network-policy', {
    podSelector: { matchLabels: { role: 'db' } },
    policyTypes: ['Ingress', 'Egress'],
    ingress: [
      {
        from: [
          { ipBlock: { cidr: '172.17.0.0/16', except: ['172.17.1.0/24'] } },
          { namespaceSelector: { matchLabels: { project: 'myproject' } } },
          { podSelector: { matchLabels: { role: 'frontend' } } },
        ],
        ports: [{ protocol: 'TCP', port: 6379 }],
      },
    ],
    egress: [{ to: [{ ipBlock: { cidr: '10.0.0.0/24' } }], ports: [{ protocol: 'TCP', port: 5978 }] }],
  });
  const db: Destination = {
    pod: { namespace: 'default', labels: { role: 'db' } },
    namespaceLabels: { 'kubernetes.io/metadata.name': 'default' },
  };
  const src = (ns: string, labels: Record<string, string>, nsl: Record<string, string> = {}): Source => ({
    kind: 'pod',
    pod: { namespace: ns, labels },
    namespaceLabels: { 'kubernetes.io/metadata.name': ns, ...nsl },
  });

  test('ingress to role=db on 6379 from the three peers, nothing else', () => {
    expect(evaluate([docs], src('default', { role: 'frontend' }), db, 6379).allowed).toBe(true);
    expect(evaluate([docs], src('other', { role: 'frontend' }), db, 6379).allowed).toBe(false); // podSelector alone: own namespace
    expect(evaluate([docs], src('other', {}, { project: 'myproject' }), db, 6379).allowed).toBe(true);
    expect(evaluate([docs], { kind: 'external', ip: '172.17.0.9' }, db, 6379).allowed).toBe(true);
    expect(evaluate([docs], { kind: 'external', ip: '172.17.1.9' }, db, 6379).allowed).toBe(false); // except
    expect(evaluate([docs], { kind: 'external' }, db, 6379).allowed).toBe(false); // unknown address
    const v = evaluate([docs], src('default', { role: 'frontend' }), db, 6380);
    expect(v).toMatchObject({ allowed: false, deniedBy: 'ingress', policies: ['default/test-network-policy'] });
    expect(evaluate([docs], src('default', { role: 'frontend' }), db, 6379, 'UDP').allowed).toBe(false);
  });

  test('egress from role=db only to 10.0.0.0/24 on 5978', () => {
    const dbSrc: Source = { kind: 'pod', pod: db.pod, namespaceLabels: db.namespaceLabels };
    const ext = (ip: string): Destination => ({ pod: { namespace: 'ext', labels: {}, ip }, namespaceLabels: {} });
    expect(evaluate([docs], dbSrc, ext('10.0.0.7'), 5978).allowed).toBe(true);
    expect(evaluate([docs], dbSrc, ext('10.0.1.7'), 5978)).toMatchObject({ allowed: false, deniedBy: 'egress' });
    expect(evaluate([docs], dbSrc, ext('10.0.0.7'), 5979).allowed).toBe(false);
  });

  test('namespaceSelector and podSelector in one element is AND, in two elements OR', () => {
    const and = np('default', 'and', {
      podSelector: {},
      ingress: [{ from: [{ namespaceSelector: { matchLabels: { user: 'alice' } }, podSelector: { matchLabels: { role: 'client' } } }] }],
    });
    const or = np('default', 'or', {
      podSelector: {},
      ingress: [
        { from: [{ namespaceSelector: { matchLabels: { user: 'alice' } } }, { podSelector: { matchLabels: { role: 'client' } } }] },
      ],
    });
    const aliceClient = src('alice-ns', { role: 'client' }, { user: 'alice' });
    const aliceOther = src('alice-ns', { role: 'other' }, { user: 'alice' });
    const localClient = src('default', { role: 'client' });
    expect([aliceClient, aliceOther, localClient].map((s) => evaluate([and], s, db, 80).allowed)).toEqual([true, false, false]);
    expect([aliceClient, aliceOther, localClient].map((s) => evaluate([or], s, db, 80).allowed)).toEqual([true, true, true]);
  });

  test('default deny all ingress, allow all ingress, default deny egress', () => {
    const deny = np('default', 'default-deny-ingress', { podSelector: {}, policyTypes: ['Ingress'] });
    const allow = np('default', 'allow-all-ingress', { podSelector: {}, ingress: [{}], policyTypes: ['Ingress'] });
    const denyEgress = np('default', 'default-deny-egress', { podSelector: {}, policyTypes: ['Egress'] });
    const s = src('default', { role: 'frontend' });
    expect(evaluate([deny], s, db, 80)).toMatchObject({ allowed: false, policies: ['default/default-deny-ingress'] });
    expect(evaluate([deny, allow], s, db, 80)).toMatchObject({ allowed: true, admittedBy: ['default/allow-all-ingress'] });
    expect(evaluate([denyEgress], s, db, 80)).toMatchObject({ allowed: false, deniedBy: 'egress' });
    // Egress isolation of the source does not isolate an external client's ingress.
    expect(evaluate([denyEgress], { kind: 'external' }, db, 80).allowed).toBe(true);
  });

  test('a port range (endPort)', () => {
    const range = np('default', 'multi-port-egress', {
      podSelector: { matchLabels: { role: 'db' } },
      policyTypes: ['Egress'],
      egress: [{ to: [{ ipBlock: { cidr: '10.0.0.0/24' } }], ports: [{ protocol: 'TCP', port: 32000, endPort: 32768 }] }],
    });
    const dbSrc: Source = { kind: 'pod', pod: db.pod, namespaceLabels: db.namespaceLabels };
    const ext: Destination = { pod: { namespace: 'e', labels: {}, ip: '10.0.0.1' }, namespaceLabels: {} };
    expect([31999, 32000, 32500, 32768, 32769].map((p) => evaluate([range], dbSrc, ext, p).allowed)).toEqual([
      false,
      true,
      true,
      true,
      false,
    ]);
  });
});

describe('the e2e reachability matrices (network_policy.go)', () => {
  test('no policy: everything reaches everything', () => {
    expect(matrix([], 80)).toEqual(everything());
  });

  test("should support a 'default-deny-ingress' policy", () => {
    const p = np('x', 'deny-ingress', { podSelector: {}, ingress: [] });
    expectMatrix(matrix([p], 80), (_s, d) => !d.startsWith('x/'));
  });

  test('should enforce policy to allow traffic from pods within server namespace based on PodSelector', () => {
    const p = np('x', 'x-a-allows-x-b', {
      podSelector: { matchLabels: { pod: 'a' } },
      ingress: [{ from: [{ podSelector: { matchLabels: { pod: 'b' } } }] }],
    });
    expectMatrix(matrix([p], 80), (s, d) => d !== 'x/a' || s === 'x/b');
  });

  test('should enforce policy based on NamespaceSelector with MatchExpressions', () => {
    const p = np('x', 'allow-ns-y-match-selector', {
      podSelector: { matchLabels: { pod: 'a' } },
      ingress: [{ from: [{ namespaceSelector: { matchExpressions: [{ key: 'ns', operator: 'In', values: ['y'] }] } }] }],
    });
    expectMatrix(matrix([p], 80), (s, d) => d !== 'x/a' || s.startsWith('y/'));
  });

  test('should enforce policy based on PodSelector and NamespaceSelector (one peer: AND)', () => {
    const p = np('x', 'allow-ns-y-pod-b', {
      podSelector: { matchLabels: { pod: 'a' } },
      ingress: [{ from: [{ namespaceSelector: { matchLabels: { ns: 'y' } }, podSelector: { matchLabels: { pod: 'b' } } }] }],
    });
    expectMatrix(matrix([p], 80), (s, d) => d !== 'x/a' || s === 'y/b');
  });

  test('should enforce policy based on PodSelector or NamespaceSelector (two peers: OR)', () => {
    const p = np('x', 'allow-ns-y-or-pod-b', {
      podSelector: { matchLabels: { pod: 'a' } },
      ingress: [{ from: [{ namespaceSelector: { matchLabels: { ns: 'y' } } }, { podSelector: { matchLabels: { pod: 'b' } } }] }],
    });
    expectMatrix(matrix([p], 80), (s, d) => d !== 'x/a' || s.startsWith('y/') || s === 'x/b');
  });

  test('should enforce policy based on Ports (and the other port stays closed)', () => {
    const p = np('x', 'allow-81', { podSelector: { matchLabels: { pod: 'a' } }, ingress: [{ ports: [{ port: 81, protocol: 'TCP' }] }] });
    expectMatrix(matrix([p], 80), (_s, d) => d !== 'x/a');
    expect(matrix([p], 81)).toEqual(everything());
  });

  test('should allow ingress access on one named port', () => {
    const p = np('x', 'allow-named', { podSelector: {}, ingress: [{ ports: [{ port: 'serve-81-tcp' }] }] });
    expect(matrix([p], 81)).toEqual(everything());
    expectMatrix(matrix([p], 80), (_s, d) => !d.startsWith('x/'));
    // The connection named by the destination's port name.
    expect(matrix([p], 'serve-81-tcp')).toEqual(everything());
  });

  test('should enforce ingress policy allowing any port traffic to a server on a specific protocol', () => {
    const p = np('x', 'allow-udp', { podSelector: { matchLabels: { pod: 'a' } }, ingress: [{ ports: [{ protocol: 'UDP' }] }] });
    expectMatrix(matrix([p], 80, 'TCP'), (_s, d) => d !== 'x/a');
    expect(matrix([p], 80, 'UDP')).toEqual(everything());
  });

  test('should enforce multiple, stacked policies with overlapping podSelectors (union)', () => {
    const p1 = np('x', 'allow-81', { podSelector: { matchLabels: { pod: 'a' } }, ingress: [{ ports: [{ port: 81 }] }] });
    const p2 = np('x', 'allow-80-from-y', {
      podSelector: {},
      ingress: [{ from: [{ namespaceSelector: { matchLabels: { ns: 'y' } } }], ports: [{ port: 80 }] }],
    });
    expectMatrix(matrix([p1, p2], 80), (s, d) => !d.startsWith('x/') || s.startsWith('y/'));
    expectMatrix(matrix([p1, p2], 81), (_s, d) => d === 'x/a' || !d.startsWith('x/'));
  });

  test('should support denying of egress traffic on the client side (even if the server explicitly allows this traffic)', () => {
    const denyEgress = np('x', 'deny-egress-a', { podSelector: { matchLabels: { pod: 'a' } }, policyTypes: ['Egress'], egress: [] });
    const allowAll = np('y', 'allow-all', { podSelector: {}, ingress: [{}] });
    expectMatrix(matrix([denyEgress, allowAll], 80), (s) => s !== 'x/a');
  });

  test('should work with Ingress, Egress specified together', () => {
    const p = np('x', 'allow-client-a-via-ns-selector', {
      podSelector: { matchLabels: { pod: 'a' } },
      policyTypes: ['Ingress', 'Egress'],
      ingress: [{ from: [{ namespaceSelector: { matchLabels: { ns: 'y' } } }] }],
      egress: [{ ports: [{ port: 80 }] }],
    });
    expectMatrix(matrix([p], 80), (s, d) => d !== 'x/a' || s.startsWith('y/'));
    expectMatrix(matrix([p], 81), (s, d) => s !== 'x/a' && (d !== 'x/a' || s.startsWith('y/')));
  });
});

describe('OpenShift policy groups', () => {
  const gw: Destination = {
    pod: { namespace: 'istio-system', labels: { app: 'gw' }, ports: [{ name: 'http2', containerPort: 8080 }] },
    namespaceLabels: { 'kubernetes.io/metadata.name': 'istio-system' },
  };
  const router: Source = { kind: 'namespace', namespace: 'openshift-ingress', namespaceLabels: ROUTER_NAMESPACE_LABELS };
  const hostRouter: Source = { kind: 'namespace', namespace: 'openshift-host-network', namespaceLabels: HOST_NETWORK_LABELS };
  const legacy = np('istio-system', 'legacy', {
    podSelector: {},
    ingress: [{ from: [{ namespaceSelector: { matchLabels: { 'network.openshift.io/policy-group': 'ingress' } } }] }],
  });
  const group = np('istio-system', 'group', {
    podSelector: {},
    ingress: [{ from: [{ namespaceSelector: { matchLabels: { 'policy-group.network.openshift.io/ingress': '' } } }] }],
  });

  test('the router on the pod network matches both ingress labels; on the host network only the policy group', () => {
    expect(evaluate([legacy], router, gw, 8080).allowed).toBe(true);
    expect(evaluate([group], router, gw, 8080).allowed).toBe(true);
    expect(evaluate([legacy], hostRouter, gw, 8080).allowed).toBe(false);
    expect(evaluate([group], hostRouter, gw, 'http2').allowed).toBe(true);
  });

  test('host-network traffic has no pod labels: only an empty podSelector admits it', () => {
    const withPods = np('istio-system', 'p', {
      podSelector: {},
      ingress: [{ from: [{ namespaceSelector: { matchLabels: HOST_NETWORK_LABELS }, podSelector: { matchLabels: { app: 'router' } } }] }],
    });
    const withEmpty = np('istio-system', 'q', {
      podSelector: {},
      ingress: [{ from: [{ namespaceSelector: { matchLabels: HOST_NETWORK_LABELS }, podSelector: {} }] }],
    });
    expect(evaluate([withPods], hostRouter, gw, 8080).allowed).toBe(false);
    expect(evaluate([withEmpty], hostRouter, gw, 8080).allowed).toBe(true);
  });

  test("user-workload monitoring: Red Hat's user-workload-access policy admits it", () => {
    const uwm: Source = {
      kind: 'namespace',
      namespace: 'openshift-user-workload-monitoring',
      namespaceLabels: USER_WORKLOAD_MONITORING_LABELS,
    };
    const access = np('istio-system', 'user-workload-access', {
      podSelector: {},
      policyTypes: ['Ingress'],
      ingress: [{ from: [{ namespaceSelector: { matchLabels: { 'network.openshift.io/policy-group': 'monitoring' } } }] }],
    });
    expect(evaluate([legacy], uwm, gw, 15090)).toMatchObject({ allowed: false, policies: ['istio-system/legacy'] });
    expect(evaluate([legacy, access], uwm, gw, 15090)).toMatchObject({ allowed: true, admittedBy: ['istio-system/user-workload-access'] });
  });

  test('a named port the destination does not declare is denied by an isolating policy, with the reason', () => {
    const v = evaluate([legacy], router, gw, 'https');
    expect(v.allowed).toBe(false);
    expect(v.why).toContain('no port named https');
  });
});
