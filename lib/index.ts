/**
 * meshfed's public API (package.json `exports`): the Federation construct for a cdk8s app, its phase scopes and
 * Aspects, and the typed declaration of a federation's end state (Mesh, MeshPeer, ExportedServiceSet,
 * ImportedServiceSet). docs/api/ is generated from these declarations (`npm run docs:api`).
 */
export { Aspects, type IAspect } from './federation/aspects';
export { Federation, type FederationProps, FederationSynthError, type PhaseOptions, PhaseScope } from './federation/federation';
export {
  type ControlPlaneRecord,
  ExportedServiceSet,
  type ExportedServiceSetProps,
  type ExportRule,
  FederationObject,
  type FederationObjectMetadata,
  type GatewayReference,
  ImportedServiceSet,
  type ImportedServiceSetProps,
  type ImportRule,
  type LabelSelectorRequirement,
  type LabelSelectorRule,
  Mesh,
  MeshPeer,
  type MeshPeerProps,
  type MeshProps,
  type MeshSettings,
  type NameSelector,
  type PeerGateways,
  type PeerRemote,
  type PeerSecurity,
  type ServiceName,
} from './federation/mesh';
export { GREENFIELD_PHASES, type MigrationPhase, PHASES, type PhaseId } from './phases';
