/**
 * Generated from schema/cluster-settings.schema.json by json-schema-to-typescript (scripts/settings-types.ts):
 * do not edit; `npm run docs` rewrites it. ClusterSettingsFile is cluster.yaml as written;
 * ClusterSettingsSpec its spec with the schema's defaults filled in (lib/load/settings.ts).
 */

export type NetworkName = string;
export type DnsLabel = string;

/**
 * Settings of one cluster that OSSM 2 does not already say. File: clusters/<cluster>/cluster.yaml.
 */
export interface ClusterSettingsFile {
  apiVersion: 'meshfed.dev/v1alpha1';
  kind: 'ClusterSettings';
  metadata: {
    /**
     * Must equal the folder name; used as dist/<name>/.
     */
    name: string;
  };
  spec: {
    /**
     * This cluster's own network name: SMCP spec.cluster.network from 01-prepare on, OSSM 3 values.global.network.
     */
    network: string;
    ossm3: {
      /**
       * Exact Sail operator Istio/IstioCNI version, e.g. v1.27.3. Aliases such as v1.27-latest are refused: the
       * revision name derives from this string and namespaces are labelled with it.
       */
      version: string;
      /**
       * Namespace of the OSSM 3 control plane (Istio spec.namespace). Default: the SMCP namespace, so the cacerts
       * Secret is reused (greenfield: istio-system).
       */
      namespace?: string;
      /**
       * Namespace of IstioCNI.
       */
      cniNamespace?: string;
      /**
       * Only when ossm3.namespace differs from the SMCP namespace: render an ExternalSecret named cacerts there
       * instead of copying the Secret by hand. No Secret is ever rendered.
       */
      cacerts?: {
        externalSecret: {
          storeRef: {
            /**
             * Name of the External Secrets store holding the CA material.
             */
            name: string;
            /**
             * Kind of the External Secrets store.
             */
            kind?: 'SecretStore' | 'ClusterSecretStore';
          };
          /**
           * Remote key whose properties root-cert.pem, ca-cert.pem, ca-key.pem and cert-chain.pem become the Secret's
           * keys.
           */
          key: string;
        };
      };
      /**
       * How OSSM 3 trusts peers: `aliases` (the guide: trustDomainAliases; peers' identities are indistinguishable
       * from local ones in policies) or `trustDomains` (peer trust domains accepted through
       * caCertificates[].trustDomains, without aliases; policies must name peer trust domains; importAsLocal into an
       * existing local Service is refused). Either way Istio pools every peer root into one bundle, so a peer CA can
       * sign any accepted identity: trust domains separate honest meshes, they do not isolate mutually untrusted ones
       * (docs/rules.md, MF003).
       */
      trust?: 'aliases' | 'trustDomains';
    };
    /**
     * Only read for clusters that export services.
     */
    eastWestGateway?: {
      /**
       * Namespace of the east-west gateway (created in 02-export unless it exists).
       */
      namespace?: string;
      /**
       * Kubernetes Gateway name.
       */
      name?: string;
      /**
       * Where peers reach the gateway: an IP or DNS name (a DNS name becomes type: Hostname on the importer), or a
       * list of them (e.g. the nodes' addresses for NodePort). Unknown until 02-export is applied; importers'
       * 03-import is not written until it is set.
       */
      address?: string | string[];
      service?: {
        /**
         * Service type of the generated gateway Service.
         */
        type?: 'LoadBalancer' | 'NodePort' | 'ClusterIP';
        /**
         * Annotations for the generated gateway Service (set on the Gateway's metadata, which OSSM 2.6 and OSSM 3 both
         * copy to the Service), e.g. service.beta.kubernetes.io/aws-load-balancer-type: nlb.
         */
        annotations?: {
          [k: string]: string;
        };
        /**
         * With type NodePort: the node port of the gateway Service's port 15443 (read it after 02-export: kubectl get
         * svc <name>-istio -n <namespace> -o jsonpath='{.spec.ports[?(@.port==15443)].nodePort}'). Importers connect to
         * address:nodePort.
         */
        nodePort?: number;
      };
    };
    /**
     * Network name this cluster gives each peer's east-west gateway, keyed by the local ServiceMeshPeer name.
     * Default: <peer cluster>-network.
     */
    remoteNetworks?: {
      [k: string]: NetworkName;
    };
    importedServices?: {
      /**
       * Namespace of the istio-remote Gateways and of the ServiceEntries/WorkloadEntries of imported services.
       * Default: the SMCP namespace.
       */
      namespace?: string;
      /**
       * exportTo of imported ServiceEntries. Default: this mesh's member namespaces and, with an SMCP, the control
       * plane's namespace, where its gateways run (Maistra made imports visible to the whole mesh).
       *
       * @minItems 1
       */
      exportTo?: string[];
    };
    /**
     * meshfed rules (MF003, MF016, MF023…) whose warnings on this cluster were read and accepted: check findings
     * about it and the warnings synth gives about files in its folder. synth and check stop printing them and synth
     * --strict does not count them (plan.json keeps them, marked acknowledged). Errors are never silenced: a rule
     * that reports only errors, or an id that is no rule, is refused.
     */
    acknowledge?: string[];
    /**
     * Why each acknowledged rule is accepted, by rule id (a rule spec.acknowledge lists): printed in the cluster's
     * runbook beside what it accepts. MF029 (co-ownership) needs one: acknowledging it says the hand-off to or from
     * the other delivery is done.
     */
    acknowledgeReasons?: {
      /**
       * This interface was referenced by `undefined`'s JSON-Schema definition
       * via the `patternProperty` "^MF[0-9]{3}$".
       */
      [k: string]: string;
    };
    /**
     * Replacements for SMCP addons that 07 deletes with the SMCP, rendered in 05 and kept (MF016 says what each
     * addon needs).
     */
    observability?: {
      /**
       * Render a ServiceMonitor for istiod and a PodMonitor for the proxies of every mesh namespace (OpenShift
       * user-workload monitoring or any Prometheus operator), replacing the Prometheus addon.
       */
      monitors?: boolean;
      /**
       * Render a standalone Kiali CR (kiali-ossm3, version default) on the OSSM 3 istiod, replacing the Kiali addon;
       * needs the Kiali operator.
       */
      kiali?: boolean;
    };
    /**
     * The isolation Maistra's NetworkPolicies give the control-plane and member namespaces, which stop being managed
     * when 01 sets manageNetworkPolicy: false.
     */
    networkPolicies?: {
      /**
       * true: meshfed renders equivalent NetworkPolicies in 01 and keeps them through 07. false: this cluster manages
       * its NetworkPolicies itself (meshfed renders none and MF015 does not compare isolation).
       */
      render?: boolean;
    };
    workloadRestart?: {
      /**
       * Image of the hook Jobs (the 03 and 06 restarts, the verify Jobs): /bin/sh and kubectl, pinned by digest or a
       * release tag (not latest). Required whenever a hook Job is rendered: there is no image every cluster can pull
       * (the OpenShift internal registry is often disabled, upstream Kubernetes has none).
       */
      image?: string;
      /**
       * Greenfield only: restart the mesh namespaces' workloads once the control plane is installed, so they get
       * sidecars. false for workloads that already run on the revision, e.g. a mesh `meshfed graduate` wrote after its
       * migration: nothing is restarted.
       */
      onInstall?: boolean;
      /**
       * How many workloads a restart Job (03 on an importer, 06, a greenfield install) rolls at once. Before it
       * patches the next workload it waits (`kubectl rollout status`, oldest first) until fewer than this many
       * rollouts are in flight; after a rollout fails, or a workload cannot be read or patched, it patches no more,
       * lists what it did not restart or wait for, and fails. The Jobs' activeDeadlineSeconds, the Flux timeout and
       * the runbooks' durations count ceil(workloads / maxConcurrent) rounds of the rollout wait
       * (rolloutTimeoutSeconds). 5 keeps the pods being replaced across the mesh to a handful of workloads' surge; 1
       * restarts one workload at a time.
       */
      maxConcurrent?: number;
      /**
       * How long a restart Job gives each workload's rollout, counted from its patch (each `kubectl rollout status
       * --timeout` gets what is left of it, at least 1 s). Raise it for a StatefulSet whose pods take long to become
       * Ready (they are replaced one at a time) or a DaemonSet on many nodes. The Jobs' activeDeadlineSeconds, the
       * verify Jobs' wait, the Flux timeout and the runbooks' durations count ceil(workloads / maxConcurrent) rounds
       * of it, plus one for a greenfield install's first wait for the OSSM 3 istiod.
       */
      rolloutTimeoutSeconds?: number;
      /**
       * Workloads the 03 restart on an importer leaves alone, as `<namespace>/<Kind>/<name>` (Kind: Deployment,
       * StatefulSet or DaemonSet), e.g. a single-replica database that calls no imported service. Their proxies keep
       * no mesh network, so they get no endpoint for any import once an exporter's 04 removes the federation path:
       * meshfed check MF026 names each one. The 06 restart still moves them to OSSM 3.
       */
      skipNetworkRestart?: string[];
    };
    /**
     * The phase GitOps applies to this cluster now. Move a cluster on by editing this, synthesizing and committing.
     * Synth refuses a phase whose ordering rules are not met. A greenfield cluster has one overlay and no phase.
     */
    phase?:
      | '00-federation'
      | '01-prepare'
      | '02-export'
      | '03-import'
      | '04-remove-federation'
      | '05-install-ossm3'
      | '06-migrate-workloads'
      | '07-finalize';
    argocd?: {
      /**
       * Where Argo CD applies this cluster's phase. Default: name = the cluster's name.
       */
      destination?: {
        /**
         * Argo CD cluster name (as registered in Argo CD).
         */
        name?: string;
        /**
         * Argo CD cluster API server URL, instead of name.
         */
        server?: string;
      };
      /**
       * Argo CD project.
       */
      project?: string;
      /**
       * Whether Argo CD syncs this cluster's Application by itself (prune and self-heal) when Git changes. false:
       * someone syncs each phase by hand (argocd app sync), e.g. during a change window.
       */
      automated?: boolean;
    };
    /**
     * Traffic checks run as a Job after each phase from 03-import to 06-migrate-workloads (Argo CD PostSync hook; a
     * content-named Job under Flux; 07's runbook runs them by hand): `kubectl exec` into a client and fetch a URL
     * through the mesh; the URL's host must be one the cluster imports or has a Service or ServiceEntry for (MF004).
     */
    verify?: {
      from: {
        namespace: DnsLabel;
        deployment: DnsLabel;
        /**
         * Default: the deployment's name.
         */
        container?: string;
      };
      /**
       * e.g. http://httpbin.a.svc.west-mesh-imports.local:8000/headers. Its host must be a hostname the cluster
       * imports, a Service in its dumps (<svc> from its own namespace, <svc>.<ns>, <svc>.<ns>.svc,
       * <svc>.<ns>.svc.cluster.local) or a ServiceEntry host in its dumps (MF004: an error for a name only a cluster
       * resolves, a warning for a host outside it).
       */
      url: string;
    }[];
    exposure?: {
      /**
       * Render, from 02-export on, an ALLOW AuthorizationPolicy per exported service admitting only this mesh and the
       * meshes it was exported to (MF003); none where a user ALLOW policy already applies to the service's pods (it
       * would widen that policy).
       */
      enforce?: boolean;
      /**
       * Per importing cluster (its name), the exact principals (`<its trust domain>/ns/<namespace>/sa/<service
       * account>`) that replace its federation ingress gateway in the AuthorizationPolicies meshfed adopts (MF002).
       * Without an entry meshfed admits every service account of the namespaces that cluster shows its imports to
       * (`<td>/ns/<ns>/sa/*`), which through trust domain aliases also matches this mesh's own service accounts in
       * those namespaces.
       */
      callers?: {
        /**
         * @minItems 1
         */
        [k: string]: string[];
      };
    };
    /**
     * Where the cluster runs: openshift (OpenShift 4.19+ blocks the experimental Gateway API CRDs, so the egress
     * gateway routes with Istio Gateway + VirtualService + ServiceEntry) or kubernetes (upstream; the egress gateway
     * routes with TLSRoute to a headless Service + EndpointSlice, as the reference documents do).
     */
    platform?: 'openshift' | 'kubernetes';
    /**
     * Send this cluster's cross-mesh traffic out through a local egress gateway (as OSSM 2 federation always did),
     * instead of from each sidecar straight to the peers' east-west gateways. Only read on clusters that import
     * services.
     */
    egressGateway?: {
      /**
       * Importers: send cross-mesh traffic out through a local egress gateway instead of from each sidecar straight to
       * the peers.
       */
      enabled: boolean;
      /**
       * Kubernetes Gateway name; its ClusterIP Service is <name>-istio.
       */
      name?: string;
      /**
       * Namespace of the egress gateway and its routes (created in 03-import unless it is a member namespace; moved to
       * OSSM 3 in 06).
       */
      namespace?: string;
    };
    /**
     * migration: clusters/<c>/ossm2/ holds what runs today and meshfed renders the eight migration phases.
     * greenfield: no OSSM 2; spec.trustDomain and spec.ossm3 say what to install, clusters/<c>/federation/ declares
     * peers, exports and imports, clusters/<c>/inventory/ the services; one overlay dist/<c>/multicluster/.
     */
    mode?: 'migration' | 'greenfield';
    /**
     * greenfield only (required there): this mesh's trust domain (Istio meshConfig.trustDomain). Peers'
     * ServiceMeshPeers name it in spec.security.trustDomain.
     */
    trustDomain?: string;
    /**
     * greenfield only: maistra names imports as Maistra would (<name>.<ns>.svc.<SMP>-imports.local, domainSuffix,
     * importAsLocal); global names every shared service <name>.<ns>.mesh.global on both sides, the exporter's
     * ServiceEntry selecting its local pods.
     */
    hostnameScheme?: 'maistra' | 'global';
    /**
     * Imported hostnames (on an importer) or exported names (on an exporter) that the live
     * ImportedServiceSet/ExportedServiceSet status lists and that this render is meant to stop importing or
     * exporting. Without an entry here, a render that drops a live import or export is refused (MF014).
     */
    intendedRemovals?: string[];
  };
}

export interface ClusterSettingsSpec {
  /**
   * This cluster's own network name: SMCP spec.cluster.network from 01-prepare on, OSSM 3 values.global.network.
   */
  network: string;
  ossm3: {
    /**
     * Exact Sail operator Istio/IstioCNI version, e.g. v1.27.3. Aliases such as v1.27-latest are refused: the
     * revision name derives from this string and namespaces are labelled with it.
     */
    version: string;
    /**
     * Namespace of the OSSM 3 control plane (Istio spec.namespace). Default: the SMCP namespace, so the cacerts
     * Secret is reused (greenfield: istio-system).
     */
    namespace?: string;
    /**
     * Namespace of IstioCNI.
     */
    cniNamespace: string;
    /**
     * Only when ossm3.namespace differs from the SMCP namespace: render an ExternalSecret named cacerts there
     * instead of copying the Secret by hand. No Secret is ever rendered.
     */
    cacerts?: {
      externalSecret: {
        storeRef: {
          /**
           * Name of the External Secrets store holding the CA material.
           */
          name: string;
          /**
           * Kind of the External Secrets store.
           */
          kind: 'SecretStore' | 'ClusterSecretStore';
        };
        /**
         * Remote key whose properties root-cert.pem, ca-cert.pem, ca-key.pem and cert-chain.pem become the Secret's
         * keys.
         */
        key: string;
      };
    };
    /**
     * How OSSM 3 trusts peers: `aliases` (the guide: trustDomainAliases; peers' identities are indistinguishable
     * from local ones in policies) or `trustDomains` (peer trust domains accepted through
     * caCertificates[].trustDomains, without aliases; policies must name peer trust domains; importAsLocal into an
     * existing local Service is refused). Either way Istio pools every peer root into one bundle, so a peer CA can
     * sign any accepted identity: trust domains separate honest meshes, they do not isolate mutually untrusted ones
     * (docs/rules.md, MF003).
     */
    trust: 'aliases' | 'trustDomains';
  };
  /**
   * Only read for clusters that export services.
   */
  eastWestGateway: {
    /**
     * Namespace of the east-west gateway (created in 02-export unless it exists).
     */
    namespace: string;
    /**
     * Kubernetes Gateway name.
     */
    name: string;
    /**
     * Where peers reach the gateway: an IP or DNS name (a DNS name becomes type: Hostname on the importer), or a
     * list of them (e.g. the nodes' addresses for NodePort). Unknown until 02-export is applied; importers'
     * 03-import is not written until it is set.
     */
    address?: string | string[];
    service: {
      /**
       * Service type of the generated gateway Service.
       */
      type: 'LoadBalancer' | 'NodePort' | 'ClusterIP';
      /**
       * Annotations for the generated gateway Service (set on the Gateway's metadata, which OSSM 2.6 and OSSM 3 both
       * copy to the Service), e.g. service.beta.kubernetes.io/aws-load-balancer-type: nlb.
       */
      annotations?: {
        [k: string]: string;
      };
      /**
       * With type NodePort: the node port of the gateway Service's port 15443 (read it after 02-export: kubectl get
       * svc <name>-istio -n <namespace> -o jsonpath='{.spec.ports[?(@.port==15443)].nodePort}'). Importers connect to
       * address:nodePort.
       */
      nodePort?: number;
    };
  };
  /**
   * Network name this cluster gives each peer's east-west gateway, keyed by the local ServiceMeshPeer name.
   * Default: <peer cluster>-network.
   */
  remoteNetworks: {
    [k: string]: NetworkName;
  };
  importedServices: {
    /**
     * Namespace of the istio-remote Gateways and of the ServiceEntries/WorkloadEntries of imported services.
     * Default: the SMCP namespace.
     */
    namespace?: string;
    /**
     * exportTo of imported ServiceEntries. Default: this mesh's member namespaces and, with an SMCP, the control
     * plane's namespace, where its gateways run (Maistra made imports visible to the whole mesh).
     *
     * @minItems 1
     */
    exportTo?: string[];
  };
  /**
   * meshfed rules (MF003, MF016, MF023…) whose warnings on this cluster were read and accepted: check findings
   * about it and the warnings synth gives about files in its folder. synth and check stop printing them and synth
   * --strict does not count them (plan.json keeps them, marked acknowledged). Errors are never silenced: a rule
   * that reports only errors, or an id that is no rule, is refused.
   */
  acknowledge: string[];
  /**
   * Why each acknowledged rule is accepted, by rule id (a rule spec.acknowledge lists): printed in the cluster's
   * runbook beside what it accepts. MF029 (co-ownership) needs one: acknowledging it says the hand-off to or from
   * the other delivery is done.
   */
  acknowledgeReasons: {
    /**
     * This interface was referenced by `undefined`'s JSON-Schema definition
     * via the `patternProperty` "^MF[0-9]{3}$".
     */
    [k: string]: string;
  };
  /**
   * Replacements for SMCP addons that 07 deletes with the SMCP, rendered in 05 and kept (MF016 says what each
   * addon needs).
   */
  observability: {
    /**
     * Render a ServiceMonitor for istiod and a PodMonitor for the proxies of every mesh namespace (OpenShift
     * user-workload monitoring or any Prometheus operator), replacing the Prometheus addon.
     */
    monitors: boolean;
    /**
     * Render a standalone Kiali CR (kiali-ossm3, version default) on the OSSM 3 istiod, replacing the Kiali addon;
     * needs the Kiali operator.
     */
    kiali: boolean;
  };
  /**
   * The isolation Maistra's NetworkPolicies give the control-plane and member namespaces, which stop being managed
   * when 01 sets manageNetworkPolicy: false.
   */
  networkPolicies: {
    /**
     * true: meshfed renders equivalent NetworkPolicies in 01 and keeps them through 07. false: this cluster manages
     * its NetworkPolicies itself (meshfed renders none and MF015 does not compare isolation).
     */
    render: boolean;
  };
  workloadRestart: {
    /**
     * Image of the hook Jobs (the 03 and 06 restarts, the verify Jobs): /bin/sh and kubectl, pinned by digest or a
     * release tag (not latest). Required whenever a hook Job is rendered: there is no image every cluster can pull
     * (the OpenShift internal registry is often disabled, upstream Kubernetes has none).
     */
    image?: string;
    /**
     * Greenfield only: restart the mesh namespaces' workloads once the control plane is installed, so they get
     * sidecars. false for workloads that already run on the revision, e.g. a mesh `meshfed graduate` wrote after its
     * migration: nothing is restarted.
     */
    onInstall: boolean;
    /**
     * How many workloads a restart Job (03 on an importer, 06, a greenfield install) rolls at once. Before it
     * patches the next workload it waits (`kubectl rollout status`, oldest first) until fewer than this many
     * rollouts are in flight; after a rollout fails, or a workload cannot be read or patched, it patches no more,
     * lists what it did not restart or wait for, and fails. The Jobs' activeDeadlineSeconds, the Flux timeout and
     * the runbooks' durations count ceil(workloads / maxConcurrent) rounds of the rollout wait
     * (rolloutTimeoutSeconds). 5 keeps the pods being replaced across the mesh to a handful of workloads' surge; 1
     * restarts one workload at a time.
     */
    maxConcurrent: number;
    /**
     * How long a restart Job gives each workload's rollout, counted from its patch (each `kubectl rollout status
     * --timeout` gets what is left of it, at least 1 s). Raise it for a StatefulSet whose pods take long to become
     * Ready (they are replaced one at a time) or a DaemonSet on many nodes. The Jobs' activeDeadlineSeconds, the
     * verify Jobs' wait, the Flux timeout and the runbooks' durations count ceil(workloads / maxConcurrent) rounds
     * of it, plus one for a greenfield install's first wait for the OSSM 3 istiod.
     */
    rolloutTimeoutSeconds: number;
    /**
     * Workloads the 03 restart on an importer leaves alone, as `<namespace>/<Kind>/<name>` (Kind: Deployment,
     * StatefulSet or DaemonSet), e.g. a single-replica database that calls no imported service. Their proxies keep
     * no mesh network, so they get no endpoint for any import once an exporter's 04 removes the federation path:
     * meshfed check MF026 names each one. The 06 restart still moves them to OSSM 3.
     */
    skipNetworkRestart: string[];
  };
  /**
   * The phase GitOps applies to this cluster now. Move a cluster on by editing this, synthesizing and committing.
   * Synth refuses a phase whose ordering rules are not met. A greenfield cluster has one overlay and no phase.
   */
  phase:
    | '00-federation'
    | '01-prepare'
    | '02-export'
    | '03-import'
    | '04-remove-federation'
    | '05-install-ossm3'
    | '06-migrate-workloads'
    | '07-finalize';
  argocd: {
    /**
     * Where Argo CD applies this cluster's phase. Default: name = the cluster's name.
     */
    destination?: {
      /**
       * Argo CD cluster name (as registered in Argo CD).
       */
      name?: string;
      /**
       * Argo CD cluster API server URL, instead of name.
       */
      server?: string;
    };
    /**
     * Argo CD project.
     */
    project: string;
    /**
     * Whether Argo CD syncs this cluster's Application by itself (prune and self-heal) when Git changes. false:
     * someone syncs each phase by hand (argocd app sync), e.g. during a change window.
     */
    automated: boolean;
  };
  /**
   * Traffic checks run as a Job after each phase from 03-import to 06-migrate-workloads (Argo CD PostSync hook; a
   * content-named Job under Flux; 07's runbook runs them by hand): `kubectl exec` into a client and fetch a URL
   * through the mesh; the URL's host must be one the cluster imports or has a Service or ServiceEntry for (MF004).
   */
  verify: {
    from: {
      namespace: DnsLabel;
      deployment: DnsLabel;
      /**
       * Default: the deployment's name.
       */
      container?: string;
    };
    /**
     * e.g. http://httpbin.a.svc.west-mesh-imports.local:8000/headers. Its host must be a hostname the cluster
     * imports, a Service in its dumps (<svc> from its own namespace, <svc>.<ns>, <svc>.<ns>.svc,
     * <svc>.<ns>.svc.cluster.local) or a ServiceEntry host in its dumps (MF004: an error for a name only a cluster
     * resolves, a warning for a host outside it).
     */
    url: string;
  }[];
  exposure: {
    /**
     * Render, from 02-export on, an ALLOW AuthorizationPolicy per exported service admitting only this mesh and the
     * meshes it was exported to (MF003); none where a user ALLOW policy already applies to the service's pods (it
     * would widen that policy).
     */
    enforce: boolean;
    /**
     * Per importing cluster (its name), the exact principals (`<its trust domain>/ns/<namespace>/sa/<service
     * account>`) that replace its federation ingress gateway in the AuthorizationPolicies meshfed adopts (MF002).
     * Without an entry meshfed admits every service account of the namespaces that cluster shows its imports to
     * (`<td>/ns/<ns>/sa/*`), which through trust domain aliases also matches this mesh's own service accounts in
     * those namespaces.
     */
    callers: {
      /**
       * @minItems 1
       */
      [k: string]: string[];
    };
  };
  /**
   * Where the cluster runs: openshift (OpenShift 4.19+ blocks the experimental Gateway API CRDs, so the egress
   * gateway routes with Istio Gateway + VirtualService + ServiceEntry) or kubernetes (upstream; the egress gateway
   * routes with TLSRoute to a headless Service + EndpointSlice, as the reference documents do).
   */
  platform: 'openshift' | 'kubernetes';
  /**
   * Send this cluster's cross-mesh traffic out through a local egress gateway (as OSSM 2 federation always did),
   * instead of from each sidecar straight to the peers' east-west gateways. Only read on clusters that import
   * services.
   */
  egressGateway: {
    /**
     * Importers: send cross-mesh traffic out through a local egress gateway instead of from each sidecar straight to
     * the peers.
     */
    enabled: boolean;
    /**
     * Kubernetes Gateway name; its ClusterIP Service is <name>-istio.
     */
    name: string;
    /**
     * Namespace of the egress gateway and its routes (created in 03-import unless it is a member namespace; moved to
     * OSSM 3 in 06).
     */
    namespace: string;
  };
  /**
   * migration: clusters/<c>/ossm2/ holds what runs today and meshfed renders the eight migration phases.
   * greenfield: no OSSM 2; spec.trustDomain and spec.ossm3 say what to install, clusters/<c>/federation/ declares
   * peers, exports and imports, clusters/<c>/inventory/ the services; one overlay dist/<c>/multicluster/.
   */
  mode: 'migration' | 'greenfield';
  /**
   * greenfield only (required there): this mesh's trust domain (Istio meshConfig.trustDomain). Peers'
   * ServiceMeshPeers name it in spec.security.trustDomain.
   */
  trustDomain?: string;
  /**
   * greenfield only: maistra names imports as Maistra would (<name>.<ns>.svc.<SMP>-imports.local, domainSuffix,
   * importAsLocal); global names every shared service <name>.<ns>.mesh.global on both sides, the exporter's
   * ServiceEntry selecting its local pods.
   */
  hostnameScheme: 'maistra' | 'global';
  /**
   * Imported hostnames (on an importer) or exported names (on an exporter) that the live
   * ImportedServiceSet/ExportedServiceSet status lists and that this render is meant to stop importing or
   * exporting. Without an entry here, a render that drops a live import or export is refused (MF014).
   */
  intendedRemovals: string[];
}
