/**
 * The cdk8s app. `cdk8s synth` (and `npm run synth`) run this file; it renders clusters/ into dist/ with the
 * Federation construct any cdk8s app can use (README, "Two ways in"): `meshfed synth` and this app write the same.
 * cdk8s synth deletes its own output folder before it runs the app, so cdk8s.yaml points cdk8s at the
 * scratch folder .cdk8s.out and meshfed replaces dist/ itself, atomically, only when the input is valid.
 */
import { App } from 'cdk8s';

import { Federation, FederationSynthError } from './lib';
import { CDK8S_SCRATCH, ensureCdk8sOutdir, synthArguments } from './lib/cli/synth';

function synth(argv: string[]): number {
  const refused = ensureCdk8sOutdir();
  if (refused !== undefined) return refused;
  // `npm run synth -- --out DIR`, MESHFED_OUT=DIR cdk8s synth: the options of meshfed synth.
  const args = synthArguments(argv);
  if ('exit' in args) return args.exit;
  const app = new App({ outdir: CDK8S_SCRATCH });
  const { clustersDir: clusters, outDir: out } = args.opts;
  new Federation(app, 'federation', { clusters, out, ...args.flags });
  try {
    app.synth();
    return 0;
  } catch (e) {
    if (e instanceof FederationSynthError) return e.exitCode;
    throw e;
  }
}

process.exitCode = synth(process.argv.slice(2));
