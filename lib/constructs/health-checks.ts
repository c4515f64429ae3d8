/**
 * Health of the kinds Argo CD and Flux know nothing about, so a phase only counts as synced once the
 * control planes it touched are Ready — and a control plane that is still reconciling is Progressing,
 * never Degraded (Argo CD fails a sync on a Degraded resource in a running wave and does not retry that
 * revision automatically: argo-cd gitops-engine/pkg/sync/sync_context.go, controller/appcontroller.go
 * "Skipping auto-sync: failed previous sync attempt").
 */

/** Why Maistra's Reconciled condition is False when reconciling failed (not while it is in progress). */
export const SMCP_ERROR_REASONS = [
  'InstallError',
  'ReconcileError',
  'ValidationError',
  'DependencyMissingError',
  'ErrMultipleSMCPs',
  'DeletionError',
];

/** One health check: the kind, and its Argo CD Lua. */
export interface HealthCheck {
  readonly group: string;
  readonly version: string;
  readonly kind: string;
  readonly lua: string;
}

/** Progressing until the controller has looked at the current spec (status.observedGeneration = generation). */
const GENERATION_LUA = `hs = { status = "Progressing", message = "Waiting for the controller to reconcile this generation" }
if obj.status == nil then
  return hs
end
if obj.metadata ~= nil and obj.metadata.generation ~= nil and obj.status.observedGeneration ~= obj.metadata.generation then
  return hs
end
`;

/** Healthy when the Ready condition of the observed generation is True (the tail of both checks). */
const READY_LUA = `  for _, c in ipairs(obj.status.conditions) do
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

/**
 * Maistra's SMCP: during every spec change it sets Reconciled=False and Ready=False (reasons SpecUpdated,
 * then PausingUpdate) and writes status.observedGeneration only once a reconcile succeeded (maistra/istio-operator@
 * 8143614c pkg/controller/servicemesh/controlplane/reconciler.go:95-101, 502-541, 345). A reconcile that fails
 * (ValidationError, DependencyMissingError, ReconcileError: reconciler.go:143-183, 262, 330) returns before
 * writing observedGeneration, so the failure reasons are read first: behind the generation gate they would
 * never be seen, and Argo CD, which has no sync timeout by default, would wait at the SMCP's wave forever.
 * Maistra keeps the previous failure's reason until its next pass, so a new spec after a failed one may read
 * Degraded for one reconcile: a retry clears it. Progressing until this generation is observed; Healthy when
 * Ready=True for it.
 */
export const SMCP_LUA = `local failures = { ${SMCP_ERROR_REASONS.map((r) => `${r} = true`).join(', ')} }
if obj.status ~= nil and obj.status.conditions ~= nil then
  for _, c in ipairs(obj.status.conditions) do
    if c.type == "Reconciled" and c.status == "False" and failures[c.reason] then
      return { status = "Degraded", message = c.message or c.reason }
    end
  end
end
${GENERATION_LUA}if obj.status.conditions ~= nil then
${READY_LUA}`;

/**
 * Sail's Istio and IstioCNI write status.observedGeneration on every status update (sail-operator
 * release-1.27 controllers/istio/istio_controller.go:225): once it is current, Reconciled=False is a
 * failure and Ready=True is healthy.
 */
export const SAIL_LUA = `${GENERATION_LUA}if obj.status.conditions ~= nil then
  for _, c in ipairs(obj.status.conditions) do
    if c.type == "Reconciled" and c.status == "False" then
      hs.status = "Degraded"
      hs.message = c.message or c.reason or "Reconcile failed"
      return hs
    end
  end
${READY_LUA}`;

/**
 * Child Applications (app of apps): their own health, but Degraded when their last sync failed and
 * Progressing while one runs or they are out of sync — Argo CD leaves hooks out of an Application's
 * health (controller/health.go), so a failed verify Job would otherwise still read Healthy. The check is
 * keyed by kind, so it applies to every Application of the Argo CD instance. Upstream has no Application check
 * by default (removed in 1.8; the snippet is opt-in: argo-cd@v3.4.0 docs/operator-manual/health.md:29-59): a
 * resource without health completes its wave at once (gitops-engine sync_context.go:540-545) and does not count
 * in its parent's health. Any Application meshfed did not render (no `app.kubernetes.io/managed-by: meshfed`) is
 * therefore Healthy, the closest a check can come to "none" (returning nil gives an empty status, which never
 * completes a wave: util/lua/lua.go:161-162), so no other team's app of apps starts waiting on its children.
 */
export const APPLICATION_LUA = `hs = { status = "Progressing", message = "" }
local labels = obj.metadata ~= nil and obj.metadata.labels or nil
if labels == nil or labels["app.kubernetes.io/managed-by"] ~= "meshfed" then
  hs.status = "Healthy"
  return hs
end
if obj.status == nil then
  return hs
end
local op = obj.status.operationState
if op ~= nil and (op.phase == "Failed" or op.phase == "Error") then
  hs.status = "Degraded"
  hs.message = op.message or ("sync " .. op.phase)
  return hs
end
if op ~= nil and op.phase == "Running" then
  hs.message = op.message or "sync running"
  return hs
end
if obj.status.sync ~= nil and obj.status.sync.status ~= nil and obj.status.sync.status ~= "Synced" then
  hs.message = "sync status " .. obj.status.sync.status
  return hs
end
if obj.status.health ~= nil then
  hs.status = obj.status.health.status
  if obj.status.health.message ~= nil then
    hs.message = obj.status.health.message
  end
end
return hs
`;

/**
 * Argo CD 3.1+ ships a Gateway API Gateway check (argo-cd@v3.4.0 resource_customizations/gateway.networking.k8s.io/
 * Gateway/health.lua, added in a2152a1216; absent in v3.0.0): Progressing until Programmed=True. An `istio-remote`
 * Gateway is only read by istiod (its addresses are a peer network's), never programmed, and OSSM 2.6 writes no
 * status on it at all (istio@1.20.8 pilot/pkg/config/kube/gateway/conversion.go:1926-1933 skips that class before
 * any status), so every 03 would wait at its wave for ever. meshfed's check answers Healthy for `istio-remote` and
 * is upstream's, verbatim, for every other Gateway (test/twin/health.test.ts keeps the two texts the same).
 */
export const UPSTREAM_GATEWAY_LUA = `local hs = {}

function checkConditions(conditions, conditionType)
  for _, condition in ipairs(conditions) do
    if condition.type == conditionType and condition.status == "False" then
      return false, condition.message or ("Failed condition: " .. conditionType)
    end
  end
  return true
end

if obj.status ~= nil then
  if obj.status.conditions ~= nil then
    local resolvedRefsFalse, resolvedRefsMsg = checkConditions(obj.status.conditions, "ResolvedRefs")
    local acceptedFalse, acceptedMsg = checkConditions(obj.status.conditions, "Accepted")

    if not resolvedRefsFalse then
      hs.status = "Degraded"
      hs.message = resolvedRefsMsg
      return hs
    end

    if not acceptedFalse then
      hs.status = "Degraded"
      hs.message = acceptedMsg
      return hs
    end

    local isProgressing = false
    local progressingMsg = ""

    for _, condition in ipairs(obj.status.conditions) do
      if condition.type == "Programmed" and condition.status ~= "True" then
        isProgressing = true
        progressingMsg = condition.message or "Gateway is still being programmed"
        break
      end
    end

    if isProgressing then
      hs.status = "Progressing"
      hs.message = progressingMsg
      return hs
    end
  end

  if obj.status.listeners ~= nil then
    for _, listener in ipairs(obj.status.listeners) do
      if listener.conditions ~= nil then
        local resolvedRefsFalse, resolvedRefsMsg = checkConditions(listener.conditions, "ResolvedRefs")
        local acceptedFalse, acceptedMsg = checkConditions(listener.conditions, "Accepted")

        if not resolvedRefsFalse then
          hs.status = "Degraded"
          hs.message = "Listener: " .. resolvedRefsMsg
          return hs
        end

        if not acceptedFalse then
          hs.status = "Degraded"
          hs.message = "Listener: " .. acceptedMsg
          return hs
        end

        local isProgressing = false
        local progressingMsg = ""

        for _, condition in ipairs(listener.conditions) do
          if condition.type == "Programmed" and condition.status ~= "True" then
            isProgressing = true
            progressingMsg = condition.message or "Listener is still being programmed"
            break
          end
        end

        if isProgressing then
          hs.status = "Progressing"
          hs.message = "Listener: " .. progressingMsg
          return hs
        end
      end
    end
  end

  if obj.status.conditions ~= nil or (obj.status.listeners ~= nil and #obj.status.listeners > 0) then
    hs.status = "Healthy"
    hs.message = "Gateway is healthy"
    return hs
  end
end

hs.status = "Progressing"
hs.message = "Waiting for Gateway status"
return hs
`;

export const GATEWAY_LUA = `if obj.spec ~= nil and obj.spec.gatewayClassName == "istio-remote" then
  return { status = "Healthy", message = "istio-remote: read by istiod, never programmed" }
end
${UPSTREAM_GATEWAY_LUA}`;

/** The Argo CD health checks meshfed ships. */
export const HEALTH_CHECKS: HealthCheck[] = [
  { group: 'sailoperator.io', version: 'v1', kind: 'Istio', lua: SAIL_LUA },
  { group: 'sailoperator.io', version: 'v1', kind: 'IstioCNI', lua: SAIL_LUA },
  { group: 'maistra.io', version: 'v2', kind: 'ServiceMeshControlPlane', lua: SMCP_LUA },
  { group: 'argoproj.io', version: 'v1alpha1', kind: 'Application', lua: APPLICATION_LUA },
  { group: 'gateway.networking.k8s.io', version: 'v1', kind: 'Gateway', lua: GATEWAY_LUA },
];

const READY = "status.conditions.exists(e, e.type == 'Ready' && e.status == 'True')";

/**
 * Flux healthCheckExprs (CEL), one per group/kind: kustomize-controller ≥ 1.8 refuses a Kustomization
 * with two entries for one GroupKind and ignores the version (fluxcd/pkg runtime/cel/status_reader.go,
 * docs/spec/v1/kustomizations.md "Only the group portion is used for matching"). Flux itself reports
 * InProgress while status.observedGeneration ≠ metadata.generation, before it evaluates any expression (fluxcd/pkg
 * runtime/cel/status_evaluator.go): `failed` sees only a failure of a generation the controller observed. Maistra
 * observes a generation only once it reconciled it, so a failed reconcile of a new SMCP spec stays InProgress until
 * the Kustomization's timeout — no expression can change that; the runbook says what the operator sees instead
 * (lib/write/runbook/delivery.ts fluxSmcpFailure). Needs kustomize-controller ≥ 1.5 (Flux 2.5).
 */
export function fluxHealthCheckExprs() {
  const reasons = SMCP_ERROR_REASONS.map((r) => `'${r}'`).join(', ');
  const smcpFailed = `status.conditions.exists(e, e.type == 'Reconciled' && e.status == 'False' && e.reason in [${reasons}])`;
  return [
    ...(['Istio', 'IstioCNI'] as const).map((kind) => ({
      apiVersion: 'sailoperator.io/v1',
      kind,
      current: `has(status.conditions) && ${READY}`,
      failed: "has(status.conditions) && status.conditions.exists(e, e.type == 'Reconciled' && e.status == 'False')",
    })),
    {
      apiVersion: 'maistra.io/v2',
      kind: 'ServiceMeshControlPlane',
      current: `has(status.conditions) && ${READY}`,
      failed: `has(status.conditions) && ${smcpFailed}`,
    },
    {
      // Maistra sets the roll's Ready=False while any listed member namespace does not exist or an addon is
      // misconfigured (maistra/istio-operator@8143614 pkg/controller/servicemesh/memberroll/controller.go:423-443);
      // kstatus would read that as InProgress and fail every reconcile after the timeout. The control plane's
      // health is the SMCP's; the roll counts once Maistra has reported on it.
      apiVersion: 'maistra.io/v1',
      kind: 'ServiceMeshMemberRoll',
      current: 'has(status.conditions)',
    },
    {
      // One entry covers v1 and v1beta1 Gateways (the version is ignored). An istio-remote Gateway is never
      // programmed and OSSM 2.6 writes no status on it (see GATEWAY_LUA): current as soon as it exists.
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'Gateway',
      current:
        "spec.gatewayClassName == 'istio-remote' || " +
        "(has(status.conditions) && status.conditions.exists(e, e.type == 'Programmed' && e.status == 'True'))",
      failed:
        "spec.gatewayClassName != 'istio-remote' && " +
        "has(status.conditions) && status.conditions.exists(e, e.type == 'Accepted' && e.status == 'False')",
    },
  ];
}
