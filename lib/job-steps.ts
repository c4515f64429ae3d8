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
  /** Why the Job restarts it (the runbook and `meshfed report` say it; the script does not read it). */
  readonly why?: string;
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
  /**
   * Patch a pod-template annotation of each workload in order (skipping those that no longer exist), at most
   * `maxConcurrent` rollouts in flight: before each patch, wait (`kubectl rollout status`, oldest first) until fewer
   * are; at the end wait for all. After a rollout fails, patch nothing more and wait for no other rollout (both
   * lists are printed at once), fail.
   */
  | {
      readonly op: 'restart';
      readonly workloads: readonly WorkloadTarget[];
      readonly annotation: string;
      readonly value: string;
      readonly fieldManager: string;
      readonly timeoutSeconds: number;
      /** spec.workloadRestart.maxConcurrent. Absent (a Job rendered before it existed): no limit. */
      readonly maxConcurrent?: number;
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
  /**
   * Wait until a Job has completed: fail at once when it failed or cannot be read (anything but NotFound, which
   * keeps waiting: Flux may be re-creating it), and after the timeout. Needs only `get` on that Job.
   */
  | { readonly op: 'wait-job'; readonly name: string; readonly namespace: string; readonly timeoutSeconds: number }
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

/** A line the Job prints first, to say what it is for. */
export type JobMessage = { readonly op: 'echo'; readonly text: string };

export type JobInstruction = JobStep | JobMessage;

function quote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

function jsonpathKey(label: string): string {
  return label.replace(/\./g, '\\.');
}

/**
 * restart RESOURCE NAME NAMESPACE MANAGER PATCH LIMIT TIMEOUT: once `settle` has brought the rollouts in flight
 * below LIMIT, patch the workload (a missing one is skipped and listed) and put it in flight with the time of its
 * patch; after a failed rollout, or a workload it cannot read or patch, patch nothing more and list the rest. Each
 * wait gets only what is left of TIMEOUT since that workload's patch (at least 1 s), so no rollout runs past TIMEOUT
 * from its patch and the waits of the success path end within ceil(workloads/LIMIT)·TIMEOUT
 * (lib/plan/restart.ts restartDeadlineSeconds).
 * settle LIMIT TIMEOUT: wait for the oldest rollouts in flight until fewer than LIMIT are (POSIX sh restores a
 * function's positional parameters when it returns, so `set --` there is local). After a failed rollout, or a
 * workload it cannot read or patch, it waits for none: each left in flight gets one status line (`--watch=false`
 * prints the status once and returns: kubernetes/kubectl@v0.32.9 pkg/cmd/rollout/rollout_status.go:214-217) and is
 * listed, so the Job prints what it did not restart long before its activeDeadlineSeconds (which counts no wait past
 * the failed one) ends it.
 */
function restartFunctions(strategy: boolean): string[] {
  return [
    'skipped=""',
    'pending=""',
    'notstarted=""',
    'unwaited=""',
    'restart() {',
    '  [ "$failed" -eq 0 ] && settle "$6" "$7"',
    '  if [ "$failed" -ne 0 ]; then notstarted="$notstarted $3/$1/$2"; return 0; fi',
    '  if ! out=$(kubectl get "$1" "$2" -n "$3" -o name 2>&1); then',
    '    case "$out" in *NotFound*|*"not found"*) skipped="$skipped $3/$1/$2"; return 0 ;; esac',
    '    echo "meshfed: cannot read $3/$1/$2: $out"; failed=1; notstarted="$notstarted $3/$1/$2"; return 0',
    '  fi',
    '  if ! kubectl patch "$1" "$2" -n "$3" --type merge --field-manager="$4" -p "$5"; then',
    '    echo "meshfed: cannot patch $3/$1/$2"; failed=1; notstarted="$notstarted $3/$1/$2"; return 0',
    '  fi',
    '  pending="$pending $1/$2@$3@$(date +%s)"',
    '}',
    'settle() {',
    '  limit=$1; timeout=$2',
    '  while :; do',
    '    set -- $pending',
    '    [ $# -gt 0 ] && [ $# -ge "$limit" ] || return 0',
    '    w=$1; shift; pending=" $*"; at=${w##*@}; w=${w%@*}',
    '    if [ "$failed" -ne 0 ]; then',
    '      unwaited="$unwaited ${w#*@}/${w%@*}"',
    '      kubectl rollout status "${w%@*}" -n "${w#*@}" --watch=false --request-timeout=30s || true; continue',
    '    fi',
    ...(strategy ? STRATEGY_LINES : []),
    '    left=$((at + timeout - $(date +%s))); [ "$left" -ge 1 ] || left=1',
    '    kubectl rollout status "${w%@*}" -n "${w#*@}" --timeout="${left}s" || failed=1',
    '  done',
    '}',
  ];
}

/** probe NAMESPACE DEPLOYMENT CONTAINER URL TRIES INTERVAL */
const PROBE_FUNCTION = [
  'probe() {',
  '  i=0',
  '  while [ $i -lt "$5" ]; do',
  '    code=$(kubectl exec -n "$1" "deploy/$2" -c "$3" -- curl -sS -o /dev/null -w "%{http_code}" --max-time 10 "$4" 2>&1)',
  '    case "$code" in 2??) echo "ok   $1/$2 -> $4 ($code)"; return 0 ;; esac',
  '    i=$((i + 1)); sleep "$6"',
  '  done',
  '  echo "FAIL $1/$2 -> $4: $code"; return 1',
  '}',
];

/** Lines that wait until `cond` (a shell command) fails, printing progress each minute; exit 1 after `timeout` s. */
function waitWhile(cond: string, what: string, timeout: number): string[] {
  return [
    `i=0; while ${cond}; do`,
    `  i=$((i+5)); [ $i -lt ${timeout} ] || { echo "meshfed: ${what} is still there after ${timeout}s"; exit 1; }`,
    `  [ $((i % 60)) -ne 0 ] || echo "meshfed: waiting for ${what} to go (\${i}s)"; sleep 5`,
    'done',
  ];
}

/**
 * Lines that wait for Job `namespace/name` to complete: the types of its True conditions, space-separated as jsonpath
 * prints them, hold `Complete` or `Failed` once it ended (kubernetes staging/src/k8s.io/api/batch/v1/types.go
 * JobConditionType; 1.31+ writes SuccessCriteriaMet or FailureTarget first). Progress each minute.
 */
function waitJob(s: Extract<JobStep, { op: 'wait-job' }>): string[] {
  const job = `job ${s.namespace}/${s.name}`;
  return [
    'i=0; while :; do',
    `  if out=$(kubectl get job ${s.name} -n ${s.namespace} -o jsonpath='{.status.conditions[?(@.status=="True")].type}' 2>&1); then`,
    '    case " $out " in',
    `      *" Complete "*) echo "meshfed: ${job} completed"; break ;;`,
    `      *" Failed "*) echo "meshfed: ${job} failed (kubectl logs job/${s.name} -n ${s.namespace}); stopping here"; exit 1 ;;`,
    '    esac',
    '  else',
    `    case "$out" in *NotFound*|*"not found"*) ;; *) echo "meshfed: cannot read ${job}: $out"; exit 1 ;; esac`,
    '  fi',
    `  i=$((i+5)); [ $i -lt ${s.timeoutSeconds} ] || { echo "meshfed: ${job} has not completed after ${s.timeoutSeconds}s"; exit 1; }`,
    `  [ $((i % 60)) -ne 0 ] || echo "meshfed: waiting for ${job} to complete (\${i}s)"; sleep 5`,
    'done',
  ];
}

/** `<updateStrategy.type>/<rollingUpdate.partition>` of a StatefulSet or DaemonSet. */
const STRATEGY_JSONPATH = '{.spec.updateStrategy.type}/{.spec.updateStrategy.rollingUpdate.partition}';

/**
 * The restart wait's first lines for a StatefulSet or DaemonSet (rendered only when the Job restarts one).
 * OnDelete replaces no pod on a template change, and rollout status refuses it; a partition leaves the pods
 * below it unchanged while rollout status reports done (kubernetes/kubectl@53ef3abb
 * pkg/polymorphichelpers/rollout_status.go). Said, not waited for: meshfed check MF026 names them beforehand.
 */
const STRATEGY_LINES = [
  '    case "${w%%/*}" in statefulsets|daemonsets)',
  `      s=$(kubectl get "\${w%@*}" -n "\${w#*@}" -o jsonpath='${STRATEGY_JSONPATH}' 2>/dev/null || true)`,
  '      case "$s" in',
  '        OnDelete/*) echo "meshfed: not restarted: ${w#*@}/${w%@*} uses updateStrategy OnDelete: delete its pods ' +
    '(meshfed check MF026)"; continue ;;',
  '        */[1-9]*) echo "meshfed: partly restarted: ${w#*@}/${w%@*} has partition ${s#*/}: the pods below it keep their proxies (MF026)" ;;',
  '      esac ;;',
  '    esac',
];

function stepLines(s: JobInstruction): string[] {
  switch (s.op) {
    case 'echo':
      return [`echo ${quote(s.text)}`];
    case 'rollout-status':
      return [
        `kubectl rollout status ${s.target.resource}/${s.target.name} -n ${s.target.namespace} --timeout=${s.timeoutSeconds}s || exit 1`,
      ];
    case 'relabel-namespaces': {
      const args = [...s.remove.map((k) => `${k}-`), ...Object.entries(s.set).map(([k, v]) => `${k}=${v}`)].join(' ');
      return [
        ...s.ignoreOnly.map(
          (ns) => `kubectl label namespace ${ns} maistra.io/ignore-namespace=true --overwrite --field-manager=${s.fieldManager} || exit 1`,
        ),
        ...s.namespaces.flatMap((ns) => [
          `kubectl label namespace ${ns} ${args} --overwrite --field-manager=${s.fieldManager} || exit 1`,
          ...s.remove.map(
            (k) =>
              `if [ -n "$(kubectl get namespace ${ns} -o jsonpath='{.metadata.labels.${jsonpathKey(k)}}')" ]; then ` +
              `echo "meshfed: namespace ${ns} still has label ${k}: its pods would restart without an OSSM 3 sidecar; nothing restarted"; exit 1; fi`,
          ),
        ]),
      ];
    }
    case 'restart': {
      const patch = JSON.stringify({ spec: { template: { metadata: { annotations: { [s.annotation]: s.value } } } } });
      const limit = s.maxConcurrent ?? s.workloads.length + 1;
      return [
        ...s.workloads.map(
          (w) => `restart ${w.resource} ${w.name} ${w.namespace} ${s.fieldManager} ${quote(patch)} ${limit} ${s.timeoutSeconds}`,
        ),
        `settle 1 ${s.timeoutSeconds}`,
        'if [ -n "$skipped" ]; then echo "meshfed: skipped (no longer exist):$skipped"; fi',
        'if [ -n "$notstarted" ]; then echo "meshfed: not restarted, after a rollout failed:$notstarted"; notstarted=""; fi',
        'if [ -n "$unwaited" ]; then echo "meshfed: restarted, rollout not waited for after a rollout failed:$unwaited"; unwaited=""; fi',
      ];
    }
    case 'require-endpoint':
      return [
        `case " $(kubectl get endpoints ${s.service} -n ${s.namespace} -o jsonpath='{.subsets[*].addresses[*].targetRef.name}') " in`,
        `  *" ${s.deployment}-"*) ;;`,
        `  *) echo "meshfed: Service ${s.namespace}/${s.service} has no ready endpoint of ${s.deployment}; nothing handed over"; exit 1 ;;`,
        'esac',
      ];
    case 'wait-absent':
      return waitWhile(
        `kubectl get ${s.resource} ${s.name} -n ${s.namespace} -o name >/dev/null 2>&1`,
        `${s.resource} ${s.namespace}/${s.name}`,
        s.timeoutSeconds,
      );
    case 'strip-owner': {
      const get = (jsonpath: string) => `$(kubectl get ${s.resource} ${s.name} -n ${s.namespace} -o jsonpath='${jsonpath}')`;
      return [
        `kubectl label ${s.resource} ${s.name} -n ${s.namespace} ${s.labels.map((l) => `${l}-`).join(' ')} >/dev/null 2>&1 || true`,
        `if [ -n "${get('{.metadata.ownerReferences}')}" ]; then`,
        `  kubectl patch ${s.resource} ${s.name} -n ${s.namespace} --type json -p '[{"op":"remove","path":"/metadata/ownerReferences"}]' || exit 1`,
        'fi',
        ...s.labels.map(
          (l) =>
            `[ -z "${get(`{.metadata.labels.${jsonpathKey(l)}}`)}" ] || ` +
            `{ echo "meshfed: ${s.resource} ${s.namespace}/${s.name} still has label ${l}: ` +
            `the SMCP deletion would prune it; nothing deleted"; exit 1; }`,
        ),
      ];
    }
    case 'delete':
      return [
        `kubectl delete ${s.resource} ${s.name} -n ${s.namespace} --ignore-not-found --wait=true --timeout=${s.timeoutSeconds}s || exit 1`,
      ];
    case 'wait-job':
      return waitJob(s);
    case 'require-present':
      return [`kubectl get ${s.resource} ${s.name} -n ${s.namespace} -o name || { echo ${quote(`meshfed: ${s.message}`)}; exit 1; }`];
    case 'probe':
      return [`probe ${[s.namespace, s.deployment, s.container, s.url].map(quote).join(' ')} ${s.tries} ${s.intervalSeconds} || failed=1`];
  }
}

/**
 * The shell script of a Job: `set -u`, the helper functions its steps use, each step's lines in order, and
 * `exit $failed` (a probe or a rollout that fails does not stop the steps after it; any other failing step
 * exits at once). POSIX sh, for the `image` of spec.workloadRestart (any image with sh and kubectl).
 */
export function renderJobScript(steps: readonly JobInstruction[]): string {
  const probes = steps.some((s) => s.op === 'probe');
  const restarts = steps.filter((s): s is Extract<JobStep, { op: 'restart' }> => s.op === 'restart');
  const deferred = probes || restarts.length > 0;
  const lines = [
    'set -u',
    ...(deferred ? ['failed=0'] : []),
    ...(restarts.length ? restartFunctions(restarts.some((s) => s.workloads.some((w) => w.resource !== 'deployments'))) : []),
    ...(probes ? PROBE_FUNCTION : []),
    ...steps.flatMap(stepLines),
    ...(deferred ? ['exit $failed'] : []),
  ];
  return lines.join('\n') + '\n';
}
