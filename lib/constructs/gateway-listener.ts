/** The cross-network listener both east-west and istio-remote Gateways use (guide, "Export/Import services"). */
export const CROSS_NETWORK_PORT = 15443;
export const AUTO_PASSTHROUGH_OPTION = { 'gateway.istio.io/listener-protocol': 'auto-passthrough' };
export const NETWORK_LABEL = 'topology.istio.io/network';
