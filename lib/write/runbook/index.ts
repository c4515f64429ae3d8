/**
 * dist/README.md: the runbook for the operator on call, generated from the model and the plan so every
 * name in it is real. Commands use `kubectl --context <cluster>`: name your kube contexts after the
 * cluster folders (or substitute).
 */
export { renderClusterRunbook } from './cluster';
export { renderGreenfieldRunbook } from './greenfield';
export { renderRunbook } from './readme';
