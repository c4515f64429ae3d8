import { smcpRef } from './phase-01-prepare';
import { API, ref } from './refs';
import { ObjectRef } from './types';
import { Mesh } from '../model/types';

/** 07-finalize: the OSSM 2 control plane goes: SMCP, SMMR and ServiceMeshMembers. */
export function planFinalize(mesh: Mesh): ObjectRef[] {
  const inv = mesh.inventory;
  const members = new Set(mesh.memberNamespaces);
  return [
    ...inv.members.filter((m) => members.has(m.namespace)).map((m) => ref(API.smm, 'ServiceMeshMember', m.source.name, m.namespace)),
    ...(inv.memberRoll ? [ref(API.smmr, 'ServiceMeshMemberRoll', inv.memberRoll.name, inv.memberRoll.namespace)] : []),
    smcpRef(mesh),
  ];
}
