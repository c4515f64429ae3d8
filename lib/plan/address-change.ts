import { Diagnostics } from '../diagnostics';
import { inputPath } from '../model/names';
import { FederationModel, Mesh } from '../model/types';
import { compareStrings } from '../sort';
import { PhaseId, phaseIndex, Plan } from './types';

/** Where importers reach an exporter's east-west gateway: its addresses and port (null while the node port is unknown). */
export interface EastWestAddress {
  readonly addresses: readonly string[];
  readonly port: number | null;
}

/**
 * The east-west address of every exporter a cluster rendered here imports from (exporters described by a peer
 * bundle included), as dist/plan.json records it under `eastWestAddresses`: the address the importers'
 * istio-remote Gateways (or, with an egress gateway, its backends) send the new path's traffic to.
 */
export function eastWestAddresses(model: FederationModel, plan: Plan): Record<string, EastWestAddress> {
  const local = new Set(plan.local);
  const exporters = new Set(model.imports.filter((i) => local.has(i.importer)).map((i) => i.exporter));
  const out: Record<string, EastWestAddress> = {};
  for (const mesh of model.meshes.filter((m) => exporters.has(m.cluster)))
    out[mesh.cluster] = { addresses: [...mesh.eastWest.addresses], port: mesh.eastWest.port ?? null };
  return out;
}

/** True when a cluster at `phase` sends traffic to its exporters' east-west gateways: 03-import on, or the greenfield overlay. */
function usesEastWest(phase: PhaseId | undefined): boolean {
  return phase !== undefined && (phase === 'multicluster' || phaseIndex(phase) >= phaseIndex('03-import'));
}

function same(a: EastWestAddress, b: EastWestAddress): boolean {
  const sorted = (x: EastWestAddress) => [...x.addresses].sort(compareStrings).join(' ');
  return a.port === b.port && sorted(a) === sorted(b);
}

function show(a: EastWestAddress): string {
  return `${a.addresses.join(', ')} port ${a.port ?? 'unknown'}`;
}

/**
 * Refuse a render that gives an exporter another east-west address while a cluster that imports from it is
 * at 03-import or later (in the previous render and in this one), unless `confirmed` names the exporter
 * (synth --confirm-address-change). The importers apply the new address at their next sync; their clients
 * reach the exporter's services only once its east-west gateway answers there, and from 04-remove-federation
 * on the new path is the only one. An address that was unknown before (nothing could import yet) is no change.
 */
export function checkAddressChanges(
  plan: Plan,
  model: FederationModel,
  diags: Diagnostics,
  previous: { readonly pointers: Readonly<Record<string, string>>; readonly addresses: Readonly<Record<string, EastWestAddress>> },
  confirmed: readonly string[] = [],
): void {
  const now = eastWestAddresses(model, plan);
  for (const exporter of Object.keys(now).sort(compareStrings)) {
    const was = previous.addresses[exporter];
    if (!was?.addresses?.length || same(was, now[exporter]) || confirmed.includes(exporter)) continue;
    const importers = [...new Set(model.imports.filter((i) => i.exporter === exporter).map((i) => i.importer))]
      .filter((c) => plan.local.includes(c) && usesEastWest(plan.pointers[c]) && usesEastWest(previous.pointers[c] as PhaseId))
      .sort(compareStrings);
    if (!importers.length) continue;
    const mesh = model.meshes.find((m) => m.cluster === exporter)!;
    const refusal = addressChanged(mesh, was, now[exporter], importers, plan);
    diags.error(mesh.settings.source.at(['spec', 'eastWestGateway', 'address']), refusal.message, refusal.hint);
  }
}

function addressChanged(
  mesh: Mesh,
  was: EastWestAddress,
  now: EastWestAddress,
  importers: string[],
  plan: Plan,
): { message: string; hint: string } {
  const e = mesh.cluster;
  const ew = mesh.eastWest;
  const greenfield = plan.phases[0] === 'multicluster';
  const who = importers.map((c) => (greenfield ? c : `${c} (at ${plan.pointers[c]})`)).join(', ');
  const file = mesh.virtual ? mesh.settings.source.file : inputPath(mesh, 'cluster.yaml');
  return {
    message:
      `${e}'s east-west address changes: the last synth rendered ${show(was)}, the input now gives ${show(now)}. ` +
      `The clusters importing from ${e}${greenfield ? '' : ' at 03-import or later'} switch to the new address at their next ` +
      `sync: ${who}. Traffic from them to ` +
      `${e}'s services fails until ${e}'s east-west gateway (Service ${ew.name}-istio in ${ew.namespace}) answers at the new address.`,
    hint:
      `If it does (or will before the importers sync), run synth again with --confirm-address-change ${e} ` +
      `(CI: MESHFED_CONFIRM_ADDRESS_CHANGE=${e}); otherwise give the previous address (${show(was)}) again in ${file}.`,
  };
}
