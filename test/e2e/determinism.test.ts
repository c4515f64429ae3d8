/**
 * dist/ is byte-identical whatever the machine's locale: the real synth, run as a child process under
 * LANG=C and under Danish collation (where "aa" sorts after "z"), on input whose workload names order
 * differently in the two.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import { EXAMPLE_CLUSTERS } from '../support/fixtures';
import { readTree } from '../support/synth';

const ROOT = path.join(__dirname, '..', '..');

function deployment(name: string): string {
  return [
    '---',
    'apiVersion: apps/v1',
    'kind: Deployment',
    `metadata: {name: ${name}, namespace: client}`,
    'spec:',
    `  selector: {matchLabels: {app: ${name}}}`,
    `  template: {metadata: {labels: {app: ${name}}}, spec: {containers: [{name: ${name}, image: example.com/${name}:1}]}}`,
    '',
  ].join('\n');
}

function synthUnder(locale: string, clusters: string): Map<string, string> {
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'meshfed-locale-')), 'dist');
  const env = { ...process.env, LANG: locale, LC_ALL: locale };
  execFileSync(process.execPath, ['--import', 'tsx', 'main.ts', '--clusters', clusters, '--out', out], { cwd: ROOT, env, stdio: 'pipe' });
  return readTree(out);
}

test('the same input renders the same bytes under LANG=C and LANG=da_DK.UTF-8', () => {
  const clusters = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'meshfed-locale-in-')), 'clusters');
  fs.cpSync(EXAMPLE_CLUSTERS, clusters, { recursive: true });
  fs.writeFileSync(path.join(clusters, 'east', 'ossm2', 'zz-locale.yaml'), deployment('aardvark') + deployment('zebra'));
  // The precondition of the test: the two locales really collate these names differently.
  expect(['aardvark', 'zebra'].sort(new Intl.Collator('da-DK').compare)).toEqual(['zebra', 'aardvark']);
  const c = synthUnder('C', clusters);
  const da = synthUnder('da_DK.UTF-8', clusters);
  expect([...da.keys()]).toEqual([...c.keys()]);
  for (const [file, content] of c) expect({ file, content: da.get(file) }).toEqual({ file, content });
  expect([...c.values()].some((v) => v.includes('aardvark'))).toBe(true);
}, 120_000);
