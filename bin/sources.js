// Whether build/ is the compiled form of the TypeScript sources of this clone, as they are now. `npm run build` records
// a hash of everything the compiled code depends on (build/.sources); bin/meshfed.js runs build/ only when that hash is
// still the sources' hash, and lib/ through tsx otherwise: an edit, a checkout or a failed build all fall back to the
// sources. (tsx's start-up — its require hook, source maps, esbuild's cache — is about half a second of every command.)
//
//   node bin/sources.js --clear   before tsc: a build that fails half-way leaves no stamp behind
//   node bin/sources.js --write   after tsc succeeded
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');

const ROOT = path.join(__dirname, '..');
const STAMP = path.join(ROOT, 'build', '.sources');
/** What tsc -p tsconfig.build.json reads: the sources it compiles, its configuration, the locked compiler. */
const INPUTS = ['lib', 'imports', 'tsconfig.json', 'tsconfig.build.json', 'package.json', 'package-lock.json'];

/** Every file under `rel` (or `rel` itself), as paths relative to ROOT in code-unit order. */
function files(rel) {
  const abs = path.join(ROOT, rel);
  if (!fs.existsSync(abs)) return [];
  if (!fs.statSync(abs).isDirectory()) return [rel];
  return fs
    .readdirSync(abs)
    .sort()
    .flatMap((name) => files(`${rel}/${name}`));
}

/** The hash of every input's path and bytes. */
function sourcesHash() {
  const hash = crypto.createHash('sha256');
  for (const rel of INPUTS.flatMap(files))
    hash
      .update(`${rel}\0`)
      .update(fs.readFileSync(path.join(ROOT, rel)))
      .update('\0');
  return hash.digest('hex');
}

/** build/ compiled from the sources as they are now (false without a stamp, or when anything changed since). */
function buildIsCurrent() {
  let recorded;
  try {
    recorded = fs.readFileSync(STAMP, 'utf8').trim();
  } catch {
    return false;
  }
  return recorded === sourcesHash();
}

module.exports = { buildIsCurrent, sourcesHash, STAMP };

if (require.main === module) {
  const [flag] = process.argv.slice(2);
  if (flag === '--clear') fs.rmSync(STAMP, { force: true });
  else if (flag === '--write') fs.writeFileSync(STAMP, `${sourcesHash()}\n`);
  else {
    console.error('usage: node bin/sources.js --clear | --write');
    process.exitCode = 2;
  }
}
