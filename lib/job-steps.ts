/**
 * What meshfed's hook Jobs do, as data. Each Job's shell script is rendered from its steps
 * (`renderJobScript`), and the same steps are written as JSON in the Job's `meshfed.dev/steps` annotation,
 * so the rehearsal twin (lib/twin/) runs exactly what the script runs, and `meshfed report` can list what
 * a hook patches and deletes. A leaf: constructs render it, the twin interprets it.
 */

export const JOB_STEPS_ANNOTATION = 'meshfed.dev/steps';

export type WorkloadResource = 'deployments' | 'statefulsets' | 'daemonsets';

export interface WorkloadTarget {
  readonly resource: WorkloadResource;
  readonly name: string;
  readonly namespace: string;
}

export type JobStep =
  /** `kubectl rollout status` of one workload; fails the Job when it is not rolled out within the timeout. */
  | { readonly op: 'rollout-status'; readonly target: WorkloadTarget; readonly timeoutSeconds: number }
  /** Relabel namespaces (`kubectl label --overwrite` with a field manager), then fail if a removed label survives. */
  | {
      readonly op: 'relabel-namespaces';
      readonly namespaces: readonly string[];
      readonly set: Readonly<Record<string, string>>;
      readonly remove: readonly string[];
      /** Namespaces that only get `maistra.io/ignore-namespace=true`. */
      readonly ignoreOnly: readonly string[];
      readonly fieldManager: string;
    }
  /** Patch a pod-template annotation of each workload (skipping those that no longer exist), then wait for their rollouts. */
  | {
      readonly op: 'restart';
      readonly workloads: readonly WorkloadTarget[];
      readonly annotation: string;
      readonly value: string;
      readonly fieldManager: string;
      readonly timeoutSeconds: number;
    }
  /** Fail unless the Service has a ready endpoint on a pod of the Deployment. */
  | { readonly op: 'require-endpoint'; readonly service: string; readonly namespace: string; readonly deployment: string }
  /** Wait until the object is gone; fail after the timeout. */
  | {
      readonly op: 'wait-absent';
      readonly resource: string;
      readonly name: string;
      readonly namespace: string;
      readonly timeoutSeconds: number;
    }
  /** Remove an operator's labels and ownerReferences from an object, then fail if any label is still there. */
  | {
      readonly op: 'strip-owner';
      readonly resource: string;
      readonly name: string;
      readonly namespace: string;
      readonly labels: readonly string[];
    }
  /** `kubectl delete --wait` (ignore not found); fail if it is not gone within the timeout. */
  | { readonly op: 'delete'; readonly resource: string; readonly name: string; readonly namespace: string; readonly timeoutSeconds: number }
  /** Fail unless the object exists. */
  | {
      readonly op: 'require-present';
      readonly resource: string;
      readonly name: string;
      readonly namespace: string;
      readonly message: string;
    }
  /**
   * `kubectl exec deploy/<deployment> -c <container> -- curl <url>` until a 2xx answer, `tries` times `intervalSeconds`
   * apart. A probe that never passes does not stop the next one: the Job fails at the end when any failed.
   */
  | {
      readonly op: 'probe';
      readonly namespace: string;
      readonly deployment: string;
      readonly container: string;
      readonly url: string;
      readonly tries: number;
      readonly intervalSeconds: number;
    };
