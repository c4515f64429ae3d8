/**
 * meshfed's public API (package.json `exports`): the Federation construct for a cdk8s app, its phase scopes and
 * Aspects. docs/api/ is generated from these declarations (`npm run docs:api`).
 */
export { Aspects, type IAspect } from './federation/aspects';
export { Federation, type FederationProps, FederationSynthError, type PhaseOptions, PhaseScope } from './federation/federation';
export { GREENFIELD_PHASES, type MigrationPhase, PHASES, type PhaseId } from './phases';
