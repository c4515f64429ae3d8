/**
 * The `meshfed.dev/steps` annotation is what the twin runs: it must be exactly what the Job's script does.
 * Every Job of every example: the script is renderJobScript(steps).
 */
import * as fs from 'fs';
import * as path from 'path';

import { loadAll } from 'js-yaml';

import { JOB_STEPS_ANNOTATION, renderJobScript } from '../../lib/job-steps';
import { render as synthesize } from '../../lib/pipeline/render';

const ROOT = path.join(__dirname, '..', '..');
const INPUTS = [
  'clusters',
  ...fs
    .readdirSync(path.join(ROOT, 'examples'))
    .filter((e) => fs.existsSync(path.join(ROOT, 'examples', e, 'clusters')))
    .map((e) => `examples/${e}/clusters`),
];

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
