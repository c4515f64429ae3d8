/**
 * The CEL rules of the upstream CRDs are evaluated in crdProblems (test/support/cel.ts) for every
 * rendered object: each rule below is one the API server enforces, and an object breaking it must be
 * reported, while the objects meshfed renders pass.
 */
import { crdProblems, Obj } from './support/kube';

const gateway = (listeners: unknown[], addresses?: unknown[]): Obj => ({
  apiVersion: 'gateway.networking.k8s.io/v1',
  kind: 'Gateway',
  metadata: { name: 'eastwestgateway', namespace: 'istio-ingress' },
  spec: { gatewayClassName: 'istio', listeners, ...(addresses ? { addresses } : {}) },
});
const listener = (name: string, port = 15443) => ({
  name,
  hostname: 'fake-hostname-to-block-all-by-default',
  port,
  protocol: 'TLS',
  tls: { mode: 'Passthrough', options: { 'gateway.istio.io/listener-protocol': 'auto-passthrough' } },
});
const serviceEntry = (ports: unknown[]): Obj => ({
  apiVersion: 'networking.istio.io/v1beta1',
  kind: 'ServiceEntry',
  metadata: { name: 'se', namespace: 'istio-system' },
  spec: {
    hosts: ['httpbin.a.svc.west-mesh-imports.local'],
    location: 'MESH_INTERNAL',
    resolution: 'STATIC',
    ports,
    workloadSelector: { labels: { app: 'x' } },
  },
});
const workloadEntry = (spec: Record<string, unknown>): Obj => ({
  apiVersion: 'networking.istio.io/v1beta1',
  kind: 'WorkloadEntry',
  metadata: { name: 'we', namespace: 'istio-system' },
  spec,
});

test('listener names must be unique within a Gateway', () => {
  expect(crdProblems(gateway([listener('cross-network')]))).toEqual([]);
  expect(crdProblems(gateway([listener('cross-network'), listener('cross-network', 15444)]))).toEqual([
    'Gateway istio-ingress/eastwestgateway: /spec/listeners: Listener name must be unique within the Gateway',
  ]);
});

test('Gateway IPAddress values must be unique (the address type is defaulted first)', () => {
  expect(crdProblems(gateway([listener('a')], [{ value: '192.0.2.1' }, { value: '192.0.2.1' }]))).toEqual([
    'Gateway istio-ingress/eastwestgateway: /spec/addresses: IPAddress values must be unique',
  ]);
});

test('ServiceEntry port numbers must be unique', () => {
  expect(crdProblems(serviceEntry([{ number: 80, name: 'http' }]))).toEqual([]);
  expect(
    crdProblems(
      serviceEntry([
        { number: 80, name: 'http' },
        { number: 80, name: 'http2' },
      ]),
    ),
  ).toEqual(['ServiceEntry istio-system/se: /spec/ports: port number cannot be duplicated']);
});

test('a WorkloadEntry needs an address unless it names a network (the address-less imports do)', () => {
  expect(crdProblems(workloadEntry({ network: 'west-network' }))).toEqual([]);
  expect(crdProblems(workloadEntry({ labels: { app: 'x' } }))).toEqual(['WorkloadEntry istio-system/we: /spec: Address is required']);
});

test('integer rules compare as CEL ints: a port out of range is refused', () => {
  expect(crdProblems(workloadEntry({ network: 'n', ports: { http: 70000 } }))).toEqual([
    expect.stringContaining('port must be between 1-65535'),
  ]);
});
