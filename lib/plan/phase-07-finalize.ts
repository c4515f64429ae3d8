import { API, ref } from './api-versions';
import { egressPassthroughName, usesEgress } from './egress';
import { gatewayPodSelector } from './gateway-pods';
import { deployedGateways, EXPOSE_GATEWAY_NAME, HAND_OVER_LABELS_WHY, smcpRef } from './names';
import { Contribute, ObjectRef, Patch } from './types';
import { pointerKey } from '../json';
import { ModelIndex } from '../model/model-index';
import { Mesh } from '../model/types';

/**
 * The ServiceMeshPeers and the peers' CA ConfigMaps: kept from 04 until no OSSM 2 proxy is left (see
 * planRemoveFederation), deleted in 07.
 */
export function peerRefs(ctx: ModelIndex, mesh: Mesh): ObjectRef[] {
  return [
    ...mesh.inventory.peers.map((p) => ref(API.peer, 'ServiceMeshPeer', p.name, p.namespace)),
    ...ctx
      .linksOf(mesh.cluster)
      .flatMap((l) => (l.caConfigMap ? [ref('v1', 'ConfigMap', l.caConfigMap.name, l.caConfigMap.namespace)] : [])),
  ];
}

/** 07-finalize: the OSSM 2 control plane goes: the peers and their roots, ServiceMeshMembers, SMMR and SMCP. */
function planFinalize(ctx: ModelIndex, mesh: Mesh): ObjectRef[] {
  const inv = mesh.inventory;
  const members = new Set(mesh.memberNamespaces);
  return [
    ...peerRefs(ctx, mesh),
    ...inv.members.filter((m) => members.has(m.namespace)).map((m) => ref(API.smm, 'ServiceMeshMember', m.source.name, m.namespace)),
    ...(inv.memberRoll ? [ref(API.smmr, 'ServiceMeshMemberRoll', inv.memberRoll.name, inv.memberRoll.namespace)] : []),
    smcpRef(mesh),
  ];
}

/**
 * 07-finalize: the Istio Gateways that run on the east-west (and OpenShift egress) gateway pods select
 * them by the label Istio ≥ 1.24 sets (lib/plan/gateway-pods.ts). Until 06 OSSM 2.6 deployed those pods
 * with istio.io/gateway-name only; after 06 that label survives only while the Deployment OSSM 2.6
 * created is kept, so once OSSM 2 is gone the selector must not depend on it.
 */
function planGatewaySelectors(ctx: ModelIndex, mesh: Mesh): Patch[] {
  const out: Patch[] = [];
  const replace = (target: ObjectRef, gateway: string, what: string): Patch => ({
    type: 'json6902',
    target,
    why: `select the ${what} pods by the label OSSM 3 sets (istio.io/gateway-name was OSSM 2.6's)`,
    ops: [{ op: 'replace', path: '/spec/selector', value: gatewayPodSelector(mesh, gateway, true) }],
  });
  if (ctx.isExporter(mesh.cluster)) {
    out.push(
      replace(ref(API.istioGateway, 'Gateway', EXPOSE_GATEWAY_NAME, mesh.eastWest.namespace), mesh.eastWest.name, 'east-west gateway'),
    );
  }
  if (mesh.egress && mesh.platform === 'openshift' && usesEgress(ctx, mesh)) {
    out.push(
      replace(ref(API.istioGateway, 'Gateway', egressPassthroughName(mesh), mesh.egress.namespace), mesh.egress.name, 'egress gateway'),
    );
  }
  return out;
}

/**
 * 07-finalize: the Gateway API Gateways an istiod deploys shed 06's hand-over labels (phase-06-migrate-workloads.ts
 * handOver) and its early wave. With OSSM 2 gone, `maistra.io/ignore` means nothing, and each Gateway stays OSSM 3's by
 * its namespace's `istio.io/rev` (1.27.3 pkg/revisions/tag_watcher.go:112-136), as a greenfield mesh declares it
 * (what `meshfed graduate` writes is 07's state, byte for byte). The 2.6 istiod that still runs during 07 keeps 06's
 * PILOT_ENABLE_GATEWAY_API=false until the SMCP goes, so it does not take a Gateway back.
 *
 * This rolls the Gateway's pods once more: 1.27 copies a Gateway's labels and annotations into the pod template of the
 * Deployment it renders (istio/istio@1.27.3 pilot/pkg/config/kube/gateway/deploymentcontroller.go:544-545 and :616-640,
 * manifests/charts/istio-control/istio-discovery/files/kube-gateway.yaml:50 and :64), so removing labels changes it;
 * the runbooks of 07 and of its rollback say so (lib/write/runbook/cluster.ts gatewayRolls). The wave goes back to 0
 * in the same patch, as 02-05 declare it: it rides the same rollout (one template change), and keeping -4 would save
 * no rollout while leaving 07 unlike what `meshfed graduate` writes from it.
 */
function planHandOverLabels(ctx: ModelIndex, mesh: Mesh): Patch[] {
  return deployedGateways(ctx, mesh).map((target): Patch => ({
    type: 'json6902',
    target,
    why: HAND_OVER_LABELS_WHY,
    ops: [
      { op: 'remove', path: `/metadata/labels/${pointerKey('istio.io/rev')}` },
      { op: 'remove', path: `/metadata/labels/${pointerKey('maistra.io/ignore')}` },
      { op: 'replace', path: `/metadata/annotations/${pointerKey('argocd.argoproj.io/sync-wave')}`, value: '0' },
    ],
  }));
}

export const contribute: Contribute = (ctx, mesh) => ({
  '07-finalize': { deletes: planFinalize(ctx, mesh), patches: [...planGatewaySelectors(ctx, mesh), ...planHandOverLabels(ctx, mesh)] },
});
