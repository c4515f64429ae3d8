import * as path from 'path';

/**
 * Whether build/ is compiled from the sources as they are now (bin/sources.js, what bin/meshfed.js asks before it runs
 * build/): the build `npm ci` or `npm pack` would make again.
 */
export function buildIsCurrent(): boolean {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- bin/sources.js is plain CommonJS, outside the TypeScript project
  return (require(path.join(__dirname, '..', '..', 'bin', 'sources.js')) as { buildIsCurrent(): boolean }).buildIsCurrent();
}
