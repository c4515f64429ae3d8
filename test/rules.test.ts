/**
 * The rule registry (lib/rules.ts), its documentation and its tests stay in step: every rule has a
 * docs/rules.md section stating the same severity, a `describe('MFxxx …')` with a test that triggers it
 * and one that does not, and the generated tables in docs/ are current (`npm run docs`).
 */
import * as fs from 'fs';
import * as path from 'path';

import { generatedBlocks, withBlock } from '../lib/docs';
import { RULE_IDS, RULES } from '../lib/rules';

const ROOT = path.join(__dirname, '..');
const rulesDoc = fs.readFileSync(path.join(ROOT, 'docs', 'rules.md'), 'utf8');

function section(id: string): string | undefined {
  const m = new RegExp(`^## ${id}\\n([^]*?)(?=^## |(?![^]))`, 'm').exec(rulesDoc);
  return m?.[1];
}

/** The text of each `describe('MFxxx …', …)` block in the test files, by rule id. */
function ruleDescribes(): Map<string, string> {
  const out = new Map<string, string>();
  for (const f of fs.readdirSync(__dirname).filter((x) => x.endsWith('.test.ts'))) {
    const text = fs.readFileSync(path.join(__dirname, f), 'utf8');
    const starts = [...text.matchAll(/^describe\('(MF\d{3})\b/gm)];
    starts.forEach((m, i) => {
      const end = text.slice(m.index! + 1).search(/^describe\(/m);
      const block = end < 0 ? text.slice(m.index!) : text.slice(m.index!, m.index! + 1 + end);
      out.set(m[1], (out.get(m[1]) ?? '') + block);
      void i;
    });
  }
  return out;
}

describe.each(RULE_IDS)('%s', (id) => {
  const spec = RULES[id];
  test('has a section in docs/rules.md that states its severity', () => {
    const s = section(id);
    expect(s).toBeDefined();
    const stated = /Severity: (.*)\./.exec(s!)?.[1];
    expect(stated).toBe(spec.severities.map((x) => `**${x}**`).join(' or '));
  });
  test('has a test that triggers it and one that does not', () => {
    const block = ruleDescribes().get(id) ?? '';
    expect({ id, triggers: /\btest\('triggers/.test(block) }).toEqual({ id, triggers: true });
    expect({ id, quiet: /\btest\('does not trigger/.test(block) }).toEqual({ id, quiet: true });
  });
});

test('docs/rules.md documents no rule the registry lacks', () => {
  const documented = [...rulesDoc.matchAll(/^## (MF\d{3})$/gm)].map((m) => m[1]);
  expect(documented).toEqual(RULE_IDS);
});

test.each(generatedBlocks().map((b) => [`${b.file}: ${b.name}`, b] as const))('%s is current (run npm run docs)', (_name, block) => {
  const text = fs.readFileSync(path.join(ROOT, block.file), 'utf8');
  expect(withBlock(text, block)).toBe(text);
});
