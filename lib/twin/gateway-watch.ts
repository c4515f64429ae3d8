/**
 * Which istiods deploy each Gateway API Gateway, watched at every tick of a sync: two deployment controllers writing
 * one Gateway's Deployment (the OSSM 2 istiod and the OSSM 3 one) roll its pods back and forth between their
 * templates until one stops. Red Hat's migration labels the Gateway itself so that one never happens
 * (docs/north-south.md, "Gateway API Gateways").
 */
import { Cluster, Controller } from './cluster';
import { IstiodController } from './controllers/istiod';
import { metadata, Obj } from './objects';

/** The first moment a Gateway had two deployment controllers. */
export interface SharedGateway {
  /** Seconds after the sync started. */
  readonly at: number;
  /** `<namespace>/<name>`. */
  readonly gateway: string;
  readonly istiods: string[];
}

const isGateway = (o: Obj) => o.kind === 'Gateway' && String(o.apiVersion ?? '').startsWith('gateway.networking.k8s.io/');

export class GatewayOwnerWatch implements Controller {
  readonly name = 'gateway-owner-watch';
  private start = 0;
  private seenEvents = -1;
  private shared = new Map<string, SharedGateway>();

  constructor(private readonly istiod: IstiodController) {}

  begin(cluster: Cluster): void {
    this.start = cluster.now;
    this.seenEvents = -1;
    this.shared.clear();
  }

  reconcile(cluster: Cluster): void {
    if (cluster.events.length === this.seenEvents) return;
    this.seenEvents = cluster.events.length;
    for (const gw of cluster.list(isGateway)) {
      const key = `${String(metadata(gw).namespace)}/${String(metadata(gw).name)}`;
      if (this.shared.has(key)) continue;
      const istiods = this.istiod.deployers(cluster, gw);
      if (istiods.length > 1) this.shared.set(key, { at: cluster.now - this.start, gateway: key, istiods });
    }
  }

  end(cluster: Cluster): SharedGateway[] {
    this.reconcile(cluster);
    return [...this.shared.values()];
  }
}

/** The sentence of a finding. */
export function describeShared(s: SharedGateway): string {
  return (
    `Gateway ${s.gateway} was deployed by ${s.istiods.join(' and ')} at once ${s.at} s into the sync: both write its ` +
    'Deployment, rolling its pods between their templates until one stops.'
  );
}
