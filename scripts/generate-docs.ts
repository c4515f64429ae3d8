/** npm run docs: rewrite the generated tables in docs/ (lib/docs.ts). */
import * as fs from 'fs';
import * as path from 'path';

import { generatedBlocks, withBlock } from '../lib/docs';

const ROOT = path.join(__dirname, '..');
for (const block of generatedBlocks()) {
  const file = path.join(ROOT, block.file);
  const before = fs.readFileSync(file, 'utf8');
  const after = withBlock(before, block);
  if (after !== before) fs.writeFileSync(file, after);
  console.log(`${block.file}: ${block.name} ${after === before ? 'up to date' : 'rewritten'}`);
}
