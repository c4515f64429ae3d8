import * as fs from 'fs';
import * as path from 'path';

/**
 * Whether this code runs compiled (an installed package runs build/lib/…/*.js, built by `npm run build`)
 * or as TypeScript through tsx (a clone of the repository: bin/meshfed.js, the tests, cdk8s.yaml's app).
 */
export const COMPILED = __filename.endsWith('.js');

/**
 * meshfed's own folder, the one holding its package.json: the repository, or node_modules/meshfed. The
 * sources are at lib/ under it, the compiled code at build/lib/, so the depth of __dirname differs.
 */
export const PACKAGE_ROOT = findPackageRoot(__dirname);

function findPackageRoot(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'package.json')) && fs.existsSync(path.join(dir, 'schema'))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`meshfed bug: no package.json above ${from}`);
  }
}

/** meshfed's version (package.json), read once. */
export const VERSION = (JSON.parse(fs.readFileSync(path.join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
