/**
 * Health of the kinds Argo CD and Flux know nothing about, so a phase only counts as synced once the
 * control planes it touched are Ready.
 */

/** Kinds whose `Ready` condition is their health (Sail's Istio/IstioCNI, Maistra's SMCP). */
export const READY_CONDITION_KINDS = [
  { group: 'sailoperator.io', version: 'v1', kind: 'Istio' },
  { group: 'sailoperator.io', version: 'v1', kind: 'IstioCNI' },
  { group: 'maistra.io', version: 'v2', kind: 'ServiceMeshControlPlane' },
];

/** Argo CD Lua: Healthy when Ready=True, Degraded when Reconciled=False, else Progressing. */
export const READY_CONDITION_LUA = `hs = { status = "Progressing", message = "Waiting for the Ready condition" }
if obj.status ~= nil and obj.status.conditions ~= nil then
  for _, c in ipairs(obj.status.conditions) do
    if c.type == "Reconciled" and c.status == "False" then
      hs.status = "Degraded"
      hs.message = c.message or c.reason or "Reconcile failed"
      return hs
    end
    if c.type == "Ready" then
      if c.status == "True" then
        hs.status = "Healthy"
      end
      hs.message = c.message or c.reason or ""
    end
  end
end
return hs
`;

/** Argo CD removed child-Application health in 1.8; app-of-apps waves need it back. */
export const APPLICATION_LUA = `hs = { status = "Progressing", message = "" }
if obj.status ~= nil and obj.status.health ~= nil then
  hs.status = obj.status.health.status
  if obj.status.health.message ~= nil then
    hs.message = obj.status.health.message
  end
end
return hs
`;

/** Flux healthCheckExprs (CEL) for the same kinds, and for Gateway API Gateways (Programmed). */
export function fluxHealthCheckExprs() {
  const ready = READY_CONDITION_KINDS.map((k) => ({
    apiVersion: `${k.group}/${k.version}`,
    kind: k.kind,
    current: "has(status.conditions) && status.conditions.exists(e, e.type == 'Ready' && e.status == 'True')",
    failed: "has(status.conditions) && status.conditions.exists(e, e.type == 'Reconciled' && e.status == 'False')",
  }));
  const gateways = ['v1', 'v1beta1'].map((v) => ({
    apiVersion: `gateway.networking.k8s.io/${v}`,
    kind: 'Gateway',
    current: "has(status.conditions) && status.conditions.exists(e, e.type == 'Programmed' && e.status == 'True')",
    failed: "has(status.conditions) && status.conditions.exists(e, e.type == 'Accepted' && e.status == 'False')",
  }));
  return [...ready, ...gateways];
}
