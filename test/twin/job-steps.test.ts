/**
 * The `meshfed.dev/steps` annotation is what the twin runs: it must be exactly what the Job's script does.
 * Every Job of every example: the script is renderJobScript(steps).
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import { loadAll } from 'js-yaml';

import { JOB_STEPS_ANNOTATION, renderJobScript } from '../../lib/job-steps';
import { render as synthesize } from '../../lib/pipeline/render';
import { INPUT_FOLDERS } from '../support/fixtures';

const ROOT = path.join(__dirname, '..', '..');
const INPUTS = INPUT_FOLDERS;

test.each(INPUTS)('%s: every Job runs exactly the steps it declares', (input) => {
  const { files } = synthesize(path.join(ROOT, input));
  const jobs = [...files]
    .filter(([f]) => f.endsWith('.yaml'))
    .map(([, t]) => t)
    .flatMap((text) => loadAll(text) as any[])
    .filter((o) => o?.kind === 'Job');
  expect(jobs.length).toBeGreaterThan(0);
  for (const job of jobs) {
    const steps = JSON.parse(job.metadata.annotations[JOB_STEPS_ANNOTATION]);
    expect(job.spec.template.spec.containers[0].command).toEqual(['/bin/sh', '-c', renderJobScript(steps)]);
  }
});

/**
 * The restart script itself, run by /bin/sh against a stub kubectl that logs each call: at most maxConcurrent
 * workloads are patched and not yet waited for (`kubectl rollout status`), every one is waited for, and after a
 * rollout fails nothing more is patched. The same measure on the script with its waits removed (broken on purpose)
 * sees every workload in flight at once.
 */
describe('the restart script keeps at most maxConcurrent rollouts in flight', () => {
  const workloads = ['a', 'b', 'c', 'd', 'e'].map((name) => ({ resource: 'deployments' as const, name, namespace: 'app' }));
  const script = renderJobScript([
    {
      op: 'restart',
      workloads,
      annotation: 'meshfed.dev/restarted-for-network',
      value: 'net',
      fieldManager: 'meshfed-restart',
      timeoutSeconds: 600,
      maxConcurrent: 2,
    },
  ]);

  const FORBIDDEN = 'echo "Error from server (Forbidden): no" >&2; exit 1';

  /**
   * Runs the script with a stub kubectl whose `rollout status` fails for `failing` and takes `takes[name]` seconds of a
   * stub clock (`date +%s`), whose `patch` fails for `unpatchable` and whose `get` is forbidden for `unreadable`;
   * returns the log and exit code.
   */
  function run(
    text: string,
    failing = '',
    opts: { takes?: Record<string, number>; unpatchable?: string; unreadable?: string } = {},
  ): { calls: string[]; code: number; out: string } {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshfed-kubectl-'));
    const log = path.join(dir, 'log');
    const clock = path.join(dir, 'clock');
    fs.writeFileSync(clock, '1000\n');
    fs.writeFileSync(path.join(dir, 'date'), ['#!/bin/sh', `cat ${clock}`].join('\n'), { mode: 0o755 });
    fs.writeFileSync(
      path.join(dir, 'kubectl'),
      [
        '#!/bin/sh',
        `echo "$*" >> ${log}`,
        'case "$1 $2" in',
        `  "get deployments") case "$3" in ${opts.unreadable || '-'}) ${FORBIDDEN} ;; esac; echo "deployment.apps/$3" ;;`,
        `  "patch deployments") case "$3" in ${opts.unpatchable || '-'}) ${FORBIDDEN} ;; esac ;;`,
        '  "rollout status")',
        ...Object.entries(opts.takes ?? {}).map(([n, t]) => `    case "$3" in */${n}) echo $(($(cat ${clock}) + ${t})) > ${clock} ;; esac`),
        `    case "$3" in */${failing || '-'}) exit 1 ;; esac ;;`,
        'esac',
        'exit 0',
      ].join('\n'),
      { mode: 0o755 },
    );
    const res = spawnSync('/bin/sh', ['-c', text], { env: { ...process.env, PATH: `${dir}:${process.env.PATH}` }, encoding: 'utf8' });
    const calls = fs.existsSync(log) ? fs.readFileSync(log, 'utf8').trim().split('\n') : [];
    fs.rmSync(dir, { recursive: true, force: true });
    return { calls, code: res.status ?? -1, out: res.stdout + res.stderr };
  }

  /** The most workloads patched and not yet waited for at any point of the log. */
  function maxInFlight(calls: string[]): number {
    let now = 0;
    let max = 0;
    for (const c of calls) {
      if (c.startsWith('patch ')) max = Math.max(max, ++now);
      if (c.startsWith('rollout status ')) now -= 1;
    }
    return max;
  }

  test('two at a time, each waited for, oldest first; exit 0', () => {
    const { calls, code } = run(script);
    expect(code).toBe(0);
    expect(maxInFlight(calls)).toBe(2);
    expect(calls.filter((c) => /^(patch|rollout)/.test(c)).map((c) => c.split(' ').slice(0, 3).join(' '))).toEqual([
      'patch deployments a',
      'patch deployments b',
      'rollout status deployments/a',
      'patch deployments c',
      'rollout status deployments/b',
      'patch deployments d',
      'rollout status deployments/c',
      'patch deployments e',
      'rollout status deployments/d',
      'rollout status deployments/e',
    ]);
  });

  test('a failed rollout: nothing more is patched, none in flight is waited for (each named), the rest named, exit 1', () => {
    const { calls, code, out } = run(script, 'b');
    expect(code).toBe(1);
    expect(calls.filter((c) => c.startsWith('patch ')).map((c) => c.split(' ')[2])).toEqual(['a', 'b', 'c']);
    // c, in flight when b failed, gets one status line and no wait: the Job's deadline counts no wait past b's.
    expect(
      calls.filter((c) => c.startsWith('rollout ')).map((c) => `${c.split(' ')[2]} ${/--timeout=\d+s|--watch=false/.exec(c)}`),
    ).toEqual(['deployments/a --timeout=600s', 'deployments/b --timeout=600s', 'deployments/c --watch=false']);
    expect(out).toContain('meshfed: not restarted, after a rollout failed: app/deployments/d app/deployments/e');
    expect(out).toContain('meshfed: restarted, rollout not waited for after a rollout failed: app/deployments/c');
  });

  test('each wait gets only what is left of the timeout since that patch: the waits end within ceil(W/N)·T', () => {
    // a (patched at 0) takes 590 s; b, patched at 0 too, is waited for from 590 with 10 s left; c, patched at 590 once
    // a is done, from 600 with 590 s left.
    const { calls, code } = run(script, '', { takes: { a: 590, b: 10 } });
    expect(code).toBe(0);
    expect(calls.filter((c) => c.startsWith('rollout ')).map((c) => `${c.split(' ')[2]} ${/--timeout=\d+s/.exec(c)}`)).toEqual([
      'deployments/a --timeout=600s',
      'deployments/b --timeout=10s',
      'deployments/c --timeout=590s',
      'deployments/d --timeout=600s',
      'deployments/e --timeout=600s',
    ]);
  });

  test('a wait whose time is already used up still asks once (--timeout=1s), and its failure is reported', () => {
    const { calls, code, out } = run(script, 'b', { takes: { a: 700 } });
    expect(code).toBe(1);
    expect(
      calls.filter((c) => c.startsWith('rollout ')).map((c) => `${c.split(' ')[2]} ${/--timeout=\d+s|--watch=false/.exec(c)}`),
    ).toEqual(['deployments/a --timeout=600s', 'deployments/b --timeout=1s', 'deployments/c --watch=false']);
    expect(out).toContain('meshfed: not restarted, after a rollout failed: app/deployments/d app/deployments/e');
  });

  test('a refused patch: nothing more is patched, the one in flight is named, the rest listed, exit 1', () => {
    const { calls, code, out } = run(script, '', { unpatchable: 'c' });
    expect(code).toBe(1);
    expect(calls.filter((c) => c.startsWith('patch ')).map((c) => c.split(' ')[2])).toEqual(['a', 'b', 'c']);
    expect(out).toContain('meshfed: cannot patch app/deployments/c');
    expect(out).toContain('meshfed: not restarted, after a rollout failed: app/deployments/c app/deployments/d app/deployments/e');
    expect(out).toContain('meshfed: restarted, rollout not waited for after a rollout failed: app/deployments/b');
  });

  test('a workload it cannot read: nothing more is patched, the lists are printed, exit 1', () => {
    const { calls, code, out } = run(script, '', { unreadable: 'b' });
    expect(code).toBe(1);
    expect(calls.filter((c) => c.startsWith('patch ')).map((c) => c.split(' ')[2])).toEqual(['a']);
    expect(out).toContain('meshfed: cannot read app/deployments/b: Error from server (Forbidden): no');
    expect(out).toContain(
      'meshfed: not restarted, after a rollout failed: app/deployments/b app/deployments/c app/deployments/d app/deployments/e',
    );
    expect(out).toContain('meshfed: restarted, rollout not waited for after a rollout failed: app/deployments/a');
  });

  test('broken on purpose (the wait before each patch removed): the measure sees all five in flight', () => {
    const broken = script.replace('[ "$failed" -eq 0 ] && settle "$6" "$7"', ':');
    expect(broken).not.toBe(script);
    expect(maxInFlight(run(broken).calls)).toBe(5);
  });
});
