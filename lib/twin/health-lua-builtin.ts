/**
 * The health checks Argo CD v3.4.0 ships as Lua (argo-cd@v3.4.0:resource_customizations/<group>/<Kind>/health.lua,
 * embedded in the controller: util/lua/lua.go:497-506) for the kinds meshfed renders, adopts, or that an operator
 * creates beside them: PodDisruptionBudget (Maistra's gateway and istiod PDBs), Route (IOR), Gateway API Gateway and
 * routes, ExternalSecret and Kiali (adopted add-ons). Argo CD ships none for maistra.io, sailoperator.io,
 * networking.istio.io, security.istio.io, argoproj.io/Application or monitoring.coreos.com ServiceMonitor/PodMonitor
 * (only Prometheus), so those kinds have no health unless the render adds a check.
 *
 * The text is upstream's, byte for byte, so the twin executes what Argo CD executes; `blob` is the file's git blob id
 * at v3.4.0, which test/twin/health.test.ts recomputes from `lua` to prove the copy is exact.
 */

export interface BuiltinLuaCheck {
  /** The resource-override key Argo CD looks the script up by (util/lua/lua.go:476-481 GetConfigMapKey). */
  readonly key: string;
  /** git blob id of argo-cd@v3.4.0:resource_customizations/<key>/health.lua. */
  readonly blob: string;
  readonly lua: string;
}

export const BUILTIN_LUA_CHECKS: readonly BuiltinLuaCheck[] = [
  {
    key: 'policy/PodDisruptionBudget',
    blob: '594bdd3b897bf2c4f6e07ae0cdbc1f7be07bde3a',
    lua: `-- Reference CRD can be found here:
-- https://kubernetes.io/docs/reference/kubernetes-api/policy-resources/pod-disruption-budget-v1/
hs = {}
hs.status = "Progressing"
hs.message = "Waiting for status"

if obj.status ~= nil then
  if obj.status.conditions ~= nil then
    for i, condition in ipairs(obj.status.conditions) do
      -- InsufficientPods can have valid use cases
      -- See a discussion in https://github.com/argoproj/argo-cd/issues/20171 for more details
      if condition.status == "False" and condition.reason ~= "InsufficientPods" then
        hs.status = "Degraded"
        hs.message = "PodDisruptionBudget has " .. condition.reason
        return hs
      else
        hs.status = "Healthy"
        hs.message = "PodDisruptionBudget has " .. condition.reason
      end
    end
  end
end

return hs
`,
  },
  {
    key: 'route.openshift.io/Route',
    blob: '5a8400b2cee925c1917a8f1c4a92710d20dd1c8b',
    lua: `local health_status = {}
if obj.status ~= nil then
  if obj.status.ingress ~= nil then
    local numIngressRules = 0
    local numTrue = 0
    local numFalse = 0
    for _, ingressRules in pairs(obj.status.ingress) do
        numIngressRules = numIngressRules + 1
        if obj.status.ingress ~= nil then
          for _, condition in pairs(ingressRules.conditions) do
              if condition.type == "Admitted" and condition.status == "True" then
                  numTrue = numTrue + 1
              elseif condition.type == "Admitted" and condition.status == "False" then
                  numFalse = numFalse + 1
              end
          end
        end
        health_status.status = 'Test'
    end
    if numTrue == numIngressRules then
      health_status.status = "Healthy"
      health_status.message = "Route is healthy"
      return health_status
    elseif numFalse > 0 then
      health_status.status = "Degraded"
      health_status.message = "Route is degraded"
      return health_status
    else
      health_status.status = "Progressing"
      health_status.message = "Route is still getting admitted"
      return health_status
    end
  end
end
health_status.status = "Progressing"
health_status.message = "Route is still getting admitted"
return health_status`,
  },
  {
    key: 'gateway.networking.k8s.io/Gateway',
    blob: 'dab2cc6bdd2899cdc714a7ab4dace87406eb9ae8',
    lua: `local hs = {}

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
`,
  },
  {
    key: 'gateway.networking.k8s.io/HTTPRoute',
    blob: '384c8c8a2ed34e73c1e485ea8bf3e736a769c4ca',
    lua: `local hs = {}

function checkConditions(conditions, conditionType)
  for _, condition in ipairs(conditions) do
    if condition.type == conditionType and condition.status == "False" then
      return false, condition.message or ("Failed condition: " .. conditionType)
    end
  end
  return true
end

-- isParentGenerationObserved checks if a parent's conditions match the current resource generation
-- For HTTPRoute, observedGeneration is stored in each condition within a parent
function isParentGenerationObserved(obj, parent)
  if obj.metadata.generation == nil then
    -- If no generation is set, accept all conditions
    return true
  end

  if parent.conditions == nil or #parent.conditions == 0 then
    return false
  end

  -- Check if all conditions have observedGeneration matching current generation
  for _, condition in ipairs(parent.conditions) do
    if condition.observedGeneration ~= nil then
      if condition.observedGeneration ~= obj.metadata.generation then
        return false
      end
    end
  end

  return true
end

if obj.status ~= nil then
  if obj.status.parents ~= nil then
    for _, parent in ipairs(obj.status.parents) do
      if parent.conditions ~= nil then
        -- Skip this parent if it's not from the current generation
        if not isParentGenerationObserved(obj, parent) then
          goto continue
        end

        local resolvedRefsFalse, resolvedRefsMsg = checkConditions(parent.conditions, "ResolvedRefs")
        local acceptedFalse, acceptedMsg = checkConditions(parent.conditions, "Accepted")

        if not resolvedRefsFalse then
          hs.status = "Degraded"
          hs.message = "Parent " .. (parent.parentRef.name or "") .. ": " .. resolvedRefsMsg
          return hs
        end

        if not acceptedFalse then
          hs.status = "Degraded"
          hs.message = "Parent " .. (parent.parentRef.name or "") .. ": " .. acceptedMsg
          return hs
        end

        local isProgressing = false
        local progressingMsg = ""

        for _, condition in ipairs(parent.conditions) do
          if condition.type == "Programmed" and condition.status ~= "True" then
            isProgressing = true
            progressingMsg = condition.message or "Route is still being programmed"
            break
          end
        end

        if isProgressing then
          hs.status = "Progressing"
          hs.message = "Parent " .. (parent.parentRef.name or "") .. ": " .. progressingMsg
          return hs
        end

        ::continue::
      end
    end

    if #obj.status.parents > 0 then
      for _, parent in ipairs(obj.status.parents) do
        if parent.conditions ~= nil and #parent.conditions > 0 then
          -- Only mark as healthy if we found a parent from the current generation
          if isParentGenerationObserved(obj, parent) then
            hs.status = "Healthy"
            hs.message = "HTTPRoute is healthy"
            return hs
          end
        end
      end
    end
  end
end

hs.status = "Progressing"
hs.message = "Waiting for HTTPRoute status"
return hs
`,
  },
  {
    key: 'gateway.networking.k8s.io/GRPCRoute',
    blob: '6cf91044b191235e0c1fd3ed8cdd93b24c0cafd1',
    lua: `local hs = {}

function checkConditions(conditions, conditionType)
  for _, condition in ipairs(conditions) do
    if condition.type == conditionType and condition.status == "False" then
      return false, condition.message or ("Failed condition: " .. conditionType)
    end
  end
  return true
end

if obj.status ~= nil then
  if obj.status.parents ~= nil then
    for _, parent in ipairs(obj.status.parents) do
      if parent.conditions ~= nil then
        local resolvedRefsFalse, resolvedRefsMsg = checkConditions(parent.conditions, "ResolvedRefs")
        local acceptedFalse, acceptedMsg = checkConditions(parent.conditions, "Accepted")

        if not resolvedRefsFalse then
          hs.status = "Degraded"
          hs.message = "Parent " .. (parent.parentRef.name or "") .. ": " .. resolvedRefsMsg
          return hs
        end

        if not acceptedFalse then
          hs.status = "Degraded"
          hs.message = "Parent " .. (parent.parentRef.name or "") .. ": " .. acceptedMsg
          return hs
        end

        local isProgressing = false
        local progressingMsg = ""

        for _, condition in ipairs(parent.conditions) do
          if condition.type == "Programmed" and condition.status ~= "True" then
            isProgressing = true
            progressingMsg = condition.message or "Route is still being programmed"
            break
          end
        end

        if isProgressing then
          hs.status = "Progressing"
          hs.message = "Parent " .. (parent.parentRef.name or "") .. ": " .. progressingMsg
          return hs
        end
      end
    end

    if #obj.status.parents > 0 then
      for _, parent in ipairs(obj.status.parents) do
        if parent.conditions ~= nil and #parent.conditions > 0 then
          hs.status = "Healthy"
          hs.message = "GRPCRoute is healthy"
          return hs
        end
      end
    end
  end
end

hs.status = "Progressing"
hs.message = "Waiting for GRPCRoute status"
return hs
`,
  },
  {
    key: 'external-secrets.io/ExternalSecret',
    blob: '4def31d95d7ff0d95942b05977f812c482be720f',
    lua: `local hs = {}
if obj.status ~= nil then
  if obj.status.conditions ~= nil then
    for i, condition in ipairs(obj.status.conditions) do
      if condition.type == "Ready" and condition.status == "False" then
        hs.status = "Degraded"
        hs.message = condition.message
        return hs
      end
      if condition.type == "Ready" and condition.status == "True" then
        hs.status = "Healthy"
        hs.message = condition.message
        return hs
      end
    end
  end
end
hs.status = "Progressing"
hs.message = "Waiting for ExternalSecret"
return hs
`,
  },
  {
    key: 'kiali.io/Kiali',
    blob: 'ea066cf88882f23ad2f356913790073da3c99360',
    lua: `local health_status = {}
if obj.status ~= nil then
  if obj.status.conditions ~= nil then
    for i, condition in ipairs(obj.status.conditions) do
      health_status.message = condition.message
      if condition.type == "Successful" and condition.status == "True" then
        health_status.status = "Healthy"
        return health_status
      end
      if condition.type == "Failure" and condition.status == "True" then
        health_status.status = "Degraded"
        return health_status
      end
      if condition.type == "Running" and condition.reason == "Running" then
        health_status.status = "Progressing"
        return health_status
      end
    end
  end
end
health_status.status = "Progressing"
health_status.message = "Waiting for Kiali"
return health_status
`,
  },
];
