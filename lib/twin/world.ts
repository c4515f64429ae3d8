/**
 * The world the rehearsal simulates by default: Kubernetes' controllers, the OSSM 2.6 operator, the Sail
 * operator, the istiods' Gateway API controllers, OpenShift's router and the cloud's load balancers, on a
 * cluster restored from the dumps with the OSSM 2 operator installed (the OSSM 3 operator is installed by the
 * rehearsal before 05, as its pre-flight requires).
 */
import { Controller } from './cluster';
import { KialiOperator } from './controllers/addons';
import { IstiodController } from './controllers/istiod';
import { KubeControllers } from './controllers/kube';
import { MaistraOperator } from './controllers/maistra';
import { LoadBalancerController, OpenShiftRouter } from './controllers/router';
import { SailOperator } from './controllers/sail';
import { liveCluster } from './live';
import { Obj } from './objects';
import { World } from './rehearse';

/** What the injected failure says: Maistra's reason for a reconcile that failed (reconciler.go:477-499). */
const INJECTED = { reason: 'ReconcileError', message: 'rehearsal: the operator failed to reconcile this spec' };

export function defaultWorld(): World {
  const controllers = (opts: { failReconcile?: boolean } = {}): Controller[] => [
    new KubeControllers(),
    // A fork is taken with every SMCP reconciled: the operator reconciles again only for a new generation,
    // which is the spec the move brings.
    new MaistraOperator(opts.failReconcile ? { failReconcileOf: () => INJECTED } : {}),
    new SailOperator(),
    new IstiodController(),
    new OpenShiftRouter(),
    new LoadBalancerController(),
    new KialiOperator(),
  ];
  return {
    live: (dumps: readonly Obj[]) => {
      const cluster = liveCluster(dumps, { ossm2: true, ossm3: false });
      cluster.coarse = true;
      return cluster;
    },
    controllers,
  };
}
