/**
 * The cdk8s app. `cdk8s synth` (and `npm run synth`) run this file; it renders clusters/ into dist/.
 * cdk8s synth deletes its own output folder before it runs the app, so cdk8s.yaml points cdk8s at the
 * scratch folder .cdk8s.out and meshfed replaces dist/ itself, atomically, only when the input is valid.
 */
import { ensureCdk8sOutdir, runSynth } from './lib/cli/synth';

process.exitCode = ensureCdk8sOutdir() ?? runSynth(process.argv.slice(2));
