/**
 * The AuthorizationPolicy evaluator (lib/authz.ts) against Istio 1.27's semantics: the cases of istio/istio@1.27.3
 * pilot/pkg/security/trustdomain/bundle_test.go and the behaviour the authorization docs describe
 * (https://istio.io/latest/docs/reference/config/security/authorization-policy/: allow-nothing, deny-all, ALLOW/DENY
 * order, selector and root namespace scope, targetRef).
 */
import { applies, authorize, AuthzMesh, AuthzPolicy, authzPolicyOf, expandPrincipal, policyMatch } from '../lib/authz';

const mesh: AuthzMesh = { rootNamespace: 'istio-system', trustDomain: 'west.local', trustDomainAliases: ['east.local'] };
const httpbin = { namespace: 'a', labels: { app: 'httpbin' } };
const id = (td: string, ns: string, sa: string) => `${td}/ns/${ns}/sa/${sa}`;
const ap = (name: string, spec: AuthzPolicy['spec'], namespace = 'a', extra: Partial<AuthzPolicy> = {}): AuthzPolicy => ({
  name,
  namespace,
  spec,
  ...extra,
});
const outcome = (ps: AuthzPolicy[], principal?: string, target = httpbin, m = mesh) => authorize(ps, target, { principal }, m).outcome;

describe('trust domain alias expansion (bundle.go ReplaceTrustDomainAliases)', () => {
  test('a five-part principal in the bundle (or cluster.local) stands for every trust domain of the bundle', () => {
    expect(expandPrincipal('east.local/ns/client/sa/*', mesh)).toEqual(['west.local/ns/client/sa/*', 'east.local/ns/client/sa/*']);
    expect(expandPrincipal('cluster.local/ns/foo/sa/bar', mesh)).toEqual(['west.local/ns/foo/sa/bar', 'east.local/ns/foo/sa/bar']);
    // bundle_test.go "Principals not matching trust domain": kept as is.
    expect(expandPrincipal('other.local/ns/foo/sa/bar', mesh)).toEqual(['other.local/ns/foo/sa/bar']);
  });

  test('a principal that does not enforce a trust domain, or is not five parts, is kept', () => {
    expect(expandPrincipal('*/ns/foo/sa/bar', mesh)).toEqual(['*/ns/foo/sa/bar']);
    expect(expandPrincipal('east.local/*', mesh)).toEqual(['east.local/*']);
    expect(expandPrincipal('*', mesh)).toEqual(['*']);
  });

  test('a wildcard trust domain keeps the principal for the trust domains it matches (bundle_test.go "*-td")', () => {
    const m: AuthzMesh = { rootNamespace: 'istio-system', trustDomain: 'new-td', trustDomainAliases: ['old-td', 'other'] };
    expect(expandPrincipal('*-td/ns/foo/sa/bar', m)).toEqual(['*-td/ns/foo/sa/bar', 'other/ns/foo/sa/bar']);
  });
});

describe('authorize', () => {
  const allowGw = ap('callers', {
    selector: { matchLabels: { app: 'httpbin' } },
    rules: [{ from: [{ source: { principals: [id('west.local', 'istio-system', 'gw')] } }] }],
  });

  test('no policy: allowed; an ALLOW that applies admits only what it matches', () => {
    expect(outcome([], id('west.local', 'b', 'x'))).toBe('allowed');
    expect(outcome([allowGw], id('west.local', 'istio-system', 'gw'))).toBe('allowed');
    expect(outcome([allowGw], id('west.local', 'b', 'x'))).toBe('denied');
    expect(authorize([allowGw], httpbin, { principal: id('west.local', 'b', 'x') }, mesh).why).toBe(
      'ALLOW a/callers applies to it and none matches it',
    );
  });

  test('trust domain aliases: a policy naming a peer identity matches the same namespace and account of the own trust domain', () => {
    const peer = ap('peer', { rules: [{ from: [{ source: { principals: ['east.local/ns/client/sa/*'] } }] }] });
    expect(outcome([peer], id('west.local', 'client', 'curl'))).toBe('allowed');
    expect(outcome([peer], id('west.local', 'client', 'curl'), httpbin, { ...mesh, trustDomainAliases: [] })).toBe('denied');
    // `<td>/*` is not expanded: it matches the peer only.
    const whole = ap('whole', { rules: [{ from: [{ source: { principals: ['east.local/*'] } }] }] });
    expect(outcome([whole], id('west.local', 'client', 'curl'))).toBe('denied');
    expect(outcome([whole], id('east.local', 'client', 'curl'))).toBe('allowed');
  });

  test('empty rules: ALLOW allows nothing, DENY denies nothing; rules: [{}] matches everything', () => {
    expect(outcome([ap('allow-nothing', {})], id('west.local', 'b', 'x'))).toBe('denied');
    expect(outcome([ap('deny-nothing', { action: 'DENY' })], id('west.local', 'b', 'x'))).toBe('allowed');
    expect(outcome([ap('allow-all', { rules: [{}] })], undefined)).toBe('allowed');
    expect(outcome([ap('deny-all', { action: 'DENY', rules: [{}] }), ap('allow-all', { rules: [{}] })], id('west.local', 'b', 'x'))).toBe(
      'denied',
    );
  });

  test('DENY before ALLOW; notPrincipals matches plaintext callers; namespaces need an identity', () => {
    const deny = ap('deny-others', { action: 'DENY', rules: [{ from: [{ source: { notPrincipals: [id('west.local', 'b', 'x')] } }] }] });
    expect(outcome([deny, ap('allow-all', { rules: [{}] })], id('west.local', 'c', 'y'))).toBe('denied');
    expect(outcome([deny], id('west.local', 'b', 'x'))).toBe('allowed');
    expect(outcome([deny], undefined)).toBe('denied');
    const ns = ap('ns', { rules: [{ from: [{ source: { namespaces: ['b*'] } }] }] });
    expect(outcome([ns], id('west.local', 'bar', 'x'))).toBe('allowed');
    expect(outcome([ns], id('west.local', 'c', 'x'))).toBe('denied');
    expect(outcome([ns], undefined)).toBe('denied');
  });

  test('serviceAccounts (1.27): <ns>/<sa> or <sa> in the policy namespace; Maistra has no such field', () => {
    const sa = ap('sa', { rules: [{ from: [{ source: { serviceAccounts: ['curl', 'other/bot'] } }] }] });
    expect(outcome([sa], id('west.local', 'a', 'curl'))).toBe('allowed');
    expect(outcome([sa], id('west.local', 'other', 'bot'))).toBe('allowed');
    expect(outcome([sa], id('west.local', 'b', 'curl'))).toBe('denied');
    expect(outcome([sa], id('west.local', 'b', 'curl'), httpbin, { ...mesh, flavour: 'maistra' })).toBe('allowed');
  });

  test('request attributes make the outcome partial; a known port decides ports', () => {
    const get = ap('get', { rules: [{ from: [{ source: { namespaces: ['b'] } }], to: [{ operation: { methods: ['GET'] } }] }] });
    expect(outcome([get], id('west.local', 'b', 'x'))).toBe('partial');
    const port = ap('port', { rules: [{ to: [{ operation: { ports: ['8000'] } }] }] });
    expect(authorize([port], httpbin, { principal: id('west.local', 'b', 'x'), port: 8000 }, mesh).outcome).toBe('allowed');
    expect(authorize([port], httpbin, { principal: id('west.local', 'b', 'x'), port: 9000 }, mesh).outcome).toBe('denied');
    expect(policyMatch(port, { principal: id('west.local', 'b', 'x') }, mesh)).toBe('some');
  });

  test('scope: root namespace policies apply everywhere, selectors must be a subset, dry-run and targetRef policies skip sidecars', () => {
    const root = ap('root-deny', { action: 'DENY', rules: [{}] }, 'istio-system');
    expect(outcome([root], id('west.local', 'b', 'x'))).toBe('denied');
    expect(outcome([ap('other-ns', { action: 'DENY', rules: [{}] }, 'b')], id('west.local', 'b', 'x'))).toBe('allowed');
    expect(
      outcome([ap('sel', { action: 'DENY', selector: { matchLabels: { app: 'other' } }, rules: [{}] })], id('west.local', 'b', 'x')),
    ).toBe('allowed');
    expect(outcome([ap('dry', { action: 'DENY', rules: [{}] }, 'a', { dryRun: true })], id('west.local', 'b', 'x'))).toBe('allowed');
    const gwPolicy = ap('gw', {
      action: 'DENY',
      targetRefs: [{ kind: 'Gateway', group: 'gateway.networking.k8s.io', name: 'ingress' }],
      rules: [{}],
    });
    expect(applies(gwPolicy, httpbin, mesh)).toBe(false);
    expect(applies(gwPolicy, { namespace: 'a', labels: { 'gateway.networking.k8s.io/gateway-name': 'ingress' } }, mesh)).toBe(true);
  });

  test('reads a stored object, with its dry-run annotation', () => {
    const p = authzPolicyOf({
      apiVersion: 'security.istio.io/v1',
      kind: 'AuthorizationPolicy',
      metadata: { name: 'x', namespace: 'a', annotations: { 'istio.io/dry-run': 'true' } },
      spec: { action: 'DENY' },
    });
    expect(p).toEqual({ name: 'x', namespace: 'a', dryRun: true, spec: { action: 'DENY' } });
    expect(authzPolicyOf({ apiVersion: 'v1', kind: 'ConfigMap' })).toBeUndefined();
  });
});

describe('`when` on the source identity (istio/istio@1.27.3 pilot/pkg/security/authz/model/model.go:85-118, 150-167)', () => {
  const gw = id('west.local', 'istio-system', 'federation-ingress-service-account');
  const curl = id('east.local', 'client', 'curl');
  test('source.principal values admit exactly like principals, with the alias expansion: the real caller is denied', () => {
    const p = ap('callers', {
      selector: { matchLabels: { app: 'httpbin' } },
      rules: [{ when: [{ key: 'source.principal', values: [gw] }] }],
    });
    expect(outcome([p], gw)).toBe('allowed');
    // cluster.local and every alias stand for the local trust domain (MigrateTrustDomain)
    expect(outcome([p], id('east.local', 'istio-system', 'federation-ingress-service-account'))).toBe('allowed');
    expect(outcome([p], curl)).toBe('denied');
    expect(outcome([p], undefined)).toBe('denied');
  });

  test('a DENY on source.namespace notValues denies every identity outside the list, and exempts the rest', () => {
    const p = ap('isolate', { action: 'DENY', rules: [{ when: [{ key: 'source.namespace', notValues: ['a', 'istio-system'] }] }] });
    expect(outcome([p], curl)).toBe('denied');
    expect(outcome([p], gw)).toBe('allowed');
    // plaintext: no identity, so a notValues always matches (principalAuthenticated)
    expect(outcome([p], undefined)).toBe('denied');
  });

  test('when ANDs with from; source.serviceAccount is Istio 1.27 only (Maistra 2.6 skips the rule: unknown attribute)', () => {
    const p = ap('sa', {
      rules: [{ from: [{ source: { namespaces: ['client'] } }], when: [{ key: 'source.serviceAccount', values: ['client/curl'] }] }],
    });
    expect(outcome([p], curl)).toBe('allowed');
    expect(outcome([p], id('east.local', 'client', 'other'))).toBe('denied');
    expect(outcome([p], curl, httpbin, { ...mesh, flavour: 'maistra' })).toBe('denied');
  });

  test('request keys stay partial; destination.port is judged when the port is known', () => {
    const hdr = ap('hdr', { rules: [{ when: [{ key: 'request.headers[x-user]', values: ['a'] }] }] });
    expect(outcome([hdr], curl)).toBe('partial');
    const port = ap('port', { rules: [{ when: [{ key: 'destination.port', values: ['8080'] }] }] });
    expect(authorize([port], httpbin, { principal: curl, port: 8080 }, mesh).outcome).toBe('allowed');
    expect(authorize([port], httpbin, { principal: curl, port: 9090 }, mesh).outcome).toBe('denied');
    expect(authorize([port], httpbin, { principal: curl }, mesh).outcome).toBe('partial');
  });
});

describe('TCP flows (model.go:344-354 checkError; builder.go:218-221)', () => {
  const curl = id('east.local', 'client', 'curl');
  test('an ALLOW rule with an HTTP-only field is dropped on TCP', () => {
    const p = ap('get', { rules: [{ from: [{ source: { namespaces: ['client'] } }], to: [{ operation: { methods: ['GET'] } }] }] });
    expect(authorize([p], httpbin, { principal: curl }, mesh).outcome).toBe('partial');
    expect(authorize([p], httpbin, { principal: curl, tcp: true }, mesh).outcome).toBe('denied');
  });

  test('a DENY rule ignores its HTTP-only fields on TCP, so it denies every connection it otherwise matches', () => {
    const p = ap('nodelete', {
      action: 'DENY',
      rules: [{ from: [{ source: { principals: ['east.local/ns/client/sa/*'] } }], to: [{ operation: { methods: ['DELETE'] } }] }],
    });
    expect(authorize([p], httpbin, { principal: curl }, mesh).outcome).toBe('partial');
    expect(authorize([p], httpbin, { principal: curl, tcp: true }, mesh).outcome).toBe('denied');
    expect(authorize([p], httpbin, { principal: id('east.local', 'other', 'x'), tcp: true }, mesh).outcome).toBe('allowed');
    const hdr = ap('hdr', { action: 'DENY', rules: [{ when: [{ key: 'request.headers[x-user]', values: ['a'] }] }] });
    expect(authorize([hdr], httpbin, { principal: curl, tcp: true }, mesh).outcome).toBe('denied');
  });
});

describe('principal patterns as Istio builds them (matcher/string.go:97-116 StringMatcherWithPrefix)', () => {
  test('`*suffix` is the unescaped regex spiffe://.*suffix: a dot matches any character', () => {
    const p = ap('suffix', { rules: [{ from: [{ source: { principals: ['*.local/ns/client/sa/curl'] } }] }] });
    const m: AuthzMesh = { rootNamespace: 'istio-system', trustDomain: 'west.local' };
    expect(outcome([p], 'east-local/ns/client/sa/curl', httpbin, m)).toBe('allowed');
    expect(outcome([p], 'east.local/ns/client/sa/curlx', httpbin, m)).toBe('denied');
  });
});
