import { Construct } from 'constructs';

import { Kiali, KialiSpecAuthStrategy } from '../../imports/kiali-kiali.io';
import {
  PodMonitor,
  PodMonitorSpecPodMetricsEndpointsRelabelingsAction as Action,
} from '../../imports/monitoring-podmonitors-monitoring.coreos.com';
import { ServiceMonitor } from '../../imports/monitoring-servicemonitors-monitoring.coreos.com';
import { KialiFields } from '../plan/types';

export interface MonitorProps {
  readonly name: string;
  readonly namespace: string;
}

/** istiod's metrics (port http-monitoring of the `istio: pilot` Services, both control planes). */
export class IstiodServiceMonitor extends Construct {
  constructor(scope: Construct, id: string, props: MonitorProps) {
    super(scope, id);
    new ServiceMonitor(this, 'Resource', {
      metadata: { name: props.name, namespace: props.namespace },
      spec: {
        jobLabel: 'istio',
        targetLabels: ['app'],
        selector: { matchLabels: { istio: 'pilot' } },
        endpoints: [{ port: 'http-monitoring', interval: '30s' }],
      },
    });
  }
}

/**
 * The proxies' merged metrics of one namespace, as Istio's sample scrapes them (istio/istio@1.27.9
 * samples/addons/extras/prometheus-operator.yaml): the istio-proxy container's prometheus.io port.
 */
export class ProxiesPodMonitor extends Construct {
  constructor(scope: Construct, id: string, props: MonitorProps) {
    super(scope, id);
    const address = ['__meta_kubernetes_pod_annotation_prometheus_io_port', '__meta_kubernetes_pod_ip'];
    new PodMonitor(this, 'Resource', {
      metadata: { name: props.name, namespace: props.namespace },
      spec: {
        jobLabel: 'envoy-stats',
        selector: { matchExpressions: [{ key: 'istio-prometheus-ignore', operator: 'DoesNotExist' }] },
        podMetricsEndpoints: [
          {
            path: '/stats/prometheus',
            interval: '30s',
            relabelings: [
              { action: Action.KEEP, sourceLabels: ['__meta_kubernetes_pod_container_name'], regex: 'istio-proxy' },
              { action: Action.KEEP, sourceLabels: ['__meta_kubernetes_pod_annotationpresent_prometheus_io_scrape'] },
              {
                action: Action.REPLACE,
                regex: '(\\d+);(([A-Fa-f0-9]{1,4}::?){1,7}[A-Fa-f0-9]{1,4})',
                replacement: '[$2]:$1',
                sourceLabels: address,
                targetLabel: '__address__',
              },
              {
                action: Action.REPLACE,
                regex: '(\\d+);((([0-9]+?)(\\.|$)){4})',
                replacement: '$2:$1',
                sourceLabels: address,
                targetLabel: '__address__',
              },
              { action: Action.LABELDROP, regex: '__meta_kubernetes_pod_label_(.+)' },
              { action: Action.REPLACE, sourceLabels: ['__meta_kubernetes_namespace'], targetLabel: 'namespace' },
              { action: Action.REPLACE, sourceLabels: ['__meta_kubernetes_pod_name'], targetLabel: 'pod' },
            ],
          },
        ],
      },
    });
  }
}

export interface StandaloneKialiProps extends KialiFields {
  readonly name: string;
  readonly namespace: string;
}

/**
 * A Kiali of its own (not the SMCP's `kiali`, which the operator patches and prunes), on the OSSM 3
 * revision's istiod, ConfigMap and injector (the istiod chart names them `istiod-<rev>`, `istio-<rev>`,
 * `istio-sidecar-injector-<rev>`), with the cluster monitoring stack's Thanos querier on OpenShift.
 */
export class StandaloneKiali extends Construct {
  constructor(scope: Construct, id: string, props: StandaloneKialiProps) {
    super(scope, id);
    const rev = props.revision;
    new Kiali(this, 'Resource', {
      metadata: { name: props.name, namespace: props.namespace },
      spec: {
        version: 'default',
        istioNamespace: props.namespace,
        ...(props.openshift ? { auth: { strategy: KialiSpecAuthStrategy.OPENSHIFT } } : {}),
        deployment: { instanceName: props.name, clusterWideAccess: true },
        externalServices: {
          grafana: { enabled: false },
          istio: {
            configMapName: `istio-${rev}`,
            istiodDeploymentName: `istiod-${rev}`,
            istioSidecarInjectorConfigMapName: `istio-sidecar-injector-${rev}`,
            urlServiceVersion: `http://istiod-${rev}.${props.namespace}:15014/version`,
          },
          ...(props.openshift
            ? {
                prometheus: {
                  auth: { type: 'bearer', useKialiToken: true },
                  thanosProxy: { enabled: true },
                  url: 'https://thanos-querier.openshift-monitoring.svc.cluster.local:9091',
                },
              }
            : {}),
        },
      },
    });
  }
}
