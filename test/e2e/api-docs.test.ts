/**
 * docs/api/ is generated from the package's declarations (`npm run docs:api`, typedoc with its Markdown plugin) and
 * is current; every optional prop says its default (`@default`, as cdk8s-plus documents its props).
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import { readTree } from '../support/synth';

const ROOT = path.join(__dirname, '..', '..');

interface Reflection {
  name: string;
  kind: number;
  flags?: { isOptional?: boolean };
  comment?: { summary?: unknown[]; blockTags?: { tag: string }[] };
  signatures?: Reflection[];
  getSignature?: Reflection;
  children?: Reflection[];
}

test('docs/api is what typedoc generates from lib/index.ts; every optional prop has a @default and every export a summary', () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'meshfed-api-'));
  execFileSync('npx', ['typedoc', '--out', path.join(out, 'api'), '--json', path.join(out, 'api.json')], {
    cwd: ROOT,
    stdio: 'pipe',
  });
  expect(readTree(path.join(out, 'api'))).toEqual(readTree(path.join(ROOT, 'docs', 'api')));

  const project = JSON.parse(fs.readFileSync(path.join(out, 'api.json'), 'utf8')) as Reflection;
  const undocumented: string[] = [];
  const noDefault: string[] = [];
  const walk = (r: Reflection, at: string, depth: number) => {
    for (const c of r.children ?? []) {
      const name = at ? `${at}.${c.name}` : c.name;
      const comment = c.comment ?? c.signatures?.[0]?.comment ?? c.getSignature?.comment;
      if (!comment?.summary?.length && !name.endsWith('.constructor')) undocumented.push(name);
      if (c.flags?.isOptional && !c.comment?.blockTags?.some((t) => t.tag === '@default')) noDefault.push(name);
      if (depth < 1) walk(c, name, depth + 1);
    }
  };
  walk(project, '', 0);
  expect(undocumented).toEqual([]);
  expect(noDefault).toEqual([]);
  expect(project.children!.map((c) => c.name)).toEqual(
    expect.arrayContaining(['Federation', 'FederationProps', 'PhaseScope', 'Aspects', 'IAspect']),
  );
}, 300_000);
