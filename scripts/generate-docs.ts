/** npm run docs: rewrite the generated tables in docs/ (lib/docs.ts) and lib/load/settings-types.ts (scripts/settings-types.ts). */
import * as fs from 'fs';
import * as path from 'path';

import { SETTINGS_TYPES_FILE, settingsTypes } from './settings-types';
import { generatedBlocks, withBlock } from '../lib/docs';

const ROOT = path.join(__dirname, '..');

function write(file: string, what: string, before: string, after: string): void {
  if (after !== before) fs.writeFileSync(path.join(ROOT, file), after);
  console.log(`${file}: ${what} ${after === before ? 'up to date' : 'rewritten'}`);
}

async function main(): Promise<void> {
  for (const block of generatedBlocks()) {
    const before = fs.readFileSync(path.join(ROOT, block.file), 'utf8');
    write(block.file, block.name, before, withBlock(before, block));
  }
  const types = path.join(ROOT, SETTINGS_TYPES_FILE);
  write(SETTINGS_TYPES_FILE, 'types', fs.existsSync(types) ? fs.readFileSync(types, 'utf8') : '', await settingsTypes());
}

void main();
