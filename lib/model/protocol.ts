/**
 * Istio's protocol for a Kubernetes Service port (pkg/config/kube/conversion.go `ConvertProtocol`):
 * UDP stays UDP; appProtocol wins over the port name; "grpc-web" prefix; otherwise the name's prefix
 * before the first '-'; unknown names are sniffed, except well-known TCP ports. `undefined` means
 * Istio sniffs the protocol (Maistra sends "UnsupportedProtocol"); ServiceEntries then omit it.
 */
const KNOWN: Record<string, string> = {
  tcp: 'TCP',
  udp: 'UDP',
  grpc: 'GRPC',
  'grpc-web': 'GRPC-Web',
  http: 'HTTP',
  http_proxy: 'HTTP_PROXY',
  http2: 'HTTP2',
  https: 'HTTPS',
  tls: 'TLS',
  mongo: 'Mongo',
  redis: 'Redis',
  mysql: 'MySQL',
};
const WELL_KNOWN_TCP_PORTS = new Set([22, 3306, 27017]);

export function istioProtocol(port: number, name: string | undefined, l4: string, appProtocol?: string): string | undefined {
  if (l4 === 'UDP') return 'UDP';
  let n = appProtocol ?? name ?? '';
  if (appProtocol === 'kubernetes.io/h2c') return 'HTTP2';
  if (appProtocol === 'kubernetes.io/ws' || appProtocol === 'kubernetes.io/wss') return 'HTTP';
  if (n.toLowerCase().startsWith('grpc-web')) return 'GRPC-Web';
  const i = n.indexOf('-');
  if (i >= 0) n = n.slice(0, i);
  const p = KNOWN[n.toLowerCase()];
  if (p) return p;
  return WELL_KNOWN_TCP_PORTS.has(port) ? 'TCP' : undefined;
}

/**
 * The protocol string for a ServiceEntry port. Istio parses it case-insensitively (protocol.Parse), so
 * every protocol Maistra could have sent is valid; meshfed writes the upper-case spelling the docs use.
 */
export function serviceEntryProtocol(p: string | undefined): string | undefined {
  return p ? p.toUpperCase() : undefined;
}
