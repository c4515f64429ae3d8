import { VERSION } from '../package-root';

const USAGE = `usage: meshfed <command> [options]

commands:
  synth   render clusters/ into dist/ (what \`cdk8s synth\` runs)
  plan    show each cluster's current phase, the next one, and what blocks it
  check   static analysis: what would break traffic or widen access (docs/rules.md)
  rehearse replay every pointer move on the twin of Argo CD, Flux, Kubernetes and the operators
  certs   lab root + intermediate CAs per cluster (keys outside dist/, public root into clusters/)
  collect dump what a cluster runs into clusters/<cluster>/ossm2/ (oc get only; --dry-run prints it)
  graduate after 07-finalize: rewrite clusters/ as greenfield declarations of the end state (--format ts: in code)
  report  the change record of one pointer move (markdown or one HTML page) for the change board
  verify  read-only comparison of a live cluster with the phase its pointer says (--dry-run prints it)

Run \`meshfed <command> --help\` for the options of a command; \`meshfed --version\` prints the version.`;

/*
 * Each command's module is loaded when it runs: synth pulls in cdk8s and every construct (most of a
 * second), which `--help`, `--version` and collect do not need.
 */
/* eslint-disable @typescript-eslint/no-require-imports */
const commands: Record<string, () => (argv: string[]) => number | Promise<number>> = {
  synth: () => (require('./synth') as typeof import('./synth')).runSynth,
  plan: () => (require('./plan') as typeof import('./plan')).runPlan,
  check: () => (require('./check') as typeof import('./check')).runCheck,
  rehearse: () => (require('./rehearse') as typeof import('./rehearse')).runRehearse,
  certs: () => (require('./certs') as typeof import('./certs')).runCerts,
  collect: () => (require('./collect') as typeof import('./collect')).runCollect,
  graduate: () => (require('./graduate') as typeof import('./graduate')).runGraduate,
  report: () => (require('./report') as typeof import('./report')).runReport,
  verify: () => (require('./verify') as typeof import('./verify')).runVerify,
};
/* eslint-enable @typescript-eslint/no-require-imports */

/** Entry point of the `meshfed` bin; returns the exit code. */
export function main(argv: string[]): number | Promise<number> {
  const [command, ...rest] = argv;
  if (command && Object.hasOwn(commands, command)) return commands[command]()(rest);
  switch (command) {
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
