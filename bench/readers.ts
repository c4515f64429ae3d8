/**
 * `node --import tsx bench/readers.ts CLUSTERS_DIR`: the YAML readers meshfed could read dumps with, timed on every
 * file of every `<cluster>/ossm2/` folder (generate realistic ones with `npm run bench -- --keep`): meshfed's
 * reader (js-yaml, lines from its listener), js-yaml without the listener, and the `yaml` library's document model
 * with its line counter. Medians of 5 passes; what docs/benchmarks.md ("Reading YAML") records.
 */
import * as fs from 'fs';
import * as path from 'path';

import { loadAll } from 'js-yaml';
import { LineCounter, parseAllDocuments } from 'yaml';

import { Diagnostics } from '../lib/diagnostics';
import { parseYamlObjects } from '../lib/load/yaml-source';

const dir = process.argv[2];
const files = fs.readdirSync(dir).flatMap((c) => {
  const d = path.join(dir, c, 'ossm2');
  return fs.existsSync(d) ? fs.readdirSync(d).map((f) => path.join(d, f)) : [];
});
const texts = files.map((f) => fs.readFileSync(f, 'utf8'));
const mb = texts.reduce((n, t) => n + Buffer.byteLength(t), 0) / 2 ** 20;

function time(name: string, read: (text: string) => unknown): void {
  const runs: number[] = [];
  for (let r = 0; r < 5; r++) {
    const start = process.hrtime.bigint();
    for (const t of texts) read(t);
    runs.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  runs.sort((a, b) => a - b);
  console.log(`${name}: ${runs[2].toFixed(0)} ms median (${runs[0].toFixed(0)}–${runs[4].toFixed(0)}), ${mb.toFixed(1)} MB`);
}

time('meshfed (js-yaml, core tags of the yaml library, lines from the listener)', (t) => {
  const diags = new Diagnostics();
  const objects = parseYamlObjects('dump.yaml', t, diags, true);
  objects.forEach((o) => o.lineOf(['spec']));
});
time('js-yaml alone (default schema, no lines)', (t) => loadAll(t));
time('yaml parseAllDocuments + LineCounter + toJS', (t) => {
  const lineCounter = new LineCounter();
  for (const doc of parseAllDocuments(t, { lineCounter, uniqueKeys: true })) doc.toJS({ maxAliasCount: 100 });
});
