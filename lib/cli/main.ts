import * as fs from 'fs';
import * as path from 'path';

import { runCerts } from './certs';
import { runCheck } from './check';
import { runCollect } from './collect';
import { runGraduate } from './graduate';
import { runPlan } from './plan';
import { runSynth } from './synth';

const USAGE = `usage: meshfed <command> [options]

commands:
  synth   render clusters/ into dist/ (what \`cdk8s synth\` runs)
  plan    show each cluster's current phase, the next one, and what blocks it
  check   static analysis: what would break traffic or widen access (docs/rules.md)
  certs   lab root + intermediate CAs per cluster (keys outside dist/, public root into clusters/)
  collect dump what a cluster runs into clusters/<cluster>/ossm2/ (oc get only; --dry-run prints it)
  graduate after 07-finalize: rewrite clusters/ as greenfield declarations of the end state

Run \`meshfed <command> --help\` for the options of a command; \`meshfed --version\` prints the version.`;

/** package.json's version, read once (the bin runs from a checkout or an installed package alike). */
const VERSION = (JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string }).version;

/** Entry point of the `meshfed` bin; returns the exit code. */
export function main(argv: string[]): number | Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'synth':
      return runSynth(rest);
    case 'plan':
      return runPlan(rest);
    case 'check':
      return runCheck(rest);
    case 'certs':
      return runCerts(rest);
    case 'collect':
      return runCollect(rest);
    case 'graduate':
      return runGraduate(rest);
    case '--version':
    case '-V':
      console.log(`meshfed ${VERSION}`);
      return 0;
    case '-h':
    case '--help':
    case 'help':
      console.log(USAGE);
      return 0;
    default:
      console.error(command ? `meshfed: unknown command "${command}"\n${USAGE}` : USAGE);
      return 2;
  }
}
