import { CheckContext } from './context';
import { Finding } from './finding';
import { Diagnostics } from '../diagnostics';
import { parseRootCert, RootCert } from '../load/cert';
import { ConfigMapObj } from '../load/inventory-types';
import { Mesh, PeerLink } from '../model/types';

function normalizePem(s: string): string {
  return s.replace(/\s+/g, '');
}

/** `"<subject>" (SHA-256 AB:CD:…)` of each certificate, or what the text is when it holds none. */
function describeRoots(file: string, pem: string | undefined): string {
  if (pem === undefined || pem.trim() === '') return 'no root-cert.pem at all';
  const cert: RootCert | undefined = parseRootCert(file, pem, new Diagnostics());
  if (!cert) return 'no readable self-signed root';
  return cert.subjects.map((s, i) => `"${s}" (SHA-256 ${cert.fingerprints[i].slice(0, 23)}…)`).join(', ');
}

/**
 * The clusters whose desired state at their current pointer has an OSSM 3 Istio that trusts `remote`'s
 * root-cert.pem (caCertificates, rendered from 05-install-ossm3 on with every peer's root-cert.pem).
 */
function trustingThroughOssm3(c: CheckContext, remote: Mesh): string[] {
  const pem = normalizePem(remote.rootCert.pem);
  return c.plan.clusters.filter((m) =>
    c.states
      .get(m, c.plan.pointers[m])
      .of('istio')
      .some((i) => i.caCertificates.some((ca) => ca.cluster === remote.cluster && normalizePem(ca.pem) === pem)),
  );
}

function rootProblem(link: PeerLink, cm: ConfigMapObj, remote: Mesh, trusting: string[], c: CheckContext): string {
  const file = remote.rootCert.file;
  const held =
    `ConfigMap ${cm.namespace}/${cm.name} (spec.security.certificateChain of ServiceMeshPeer ${link.peer.namespace}/${link.peer.name}), ` +
    `the root ${link.local}'s Maistra validates ${remote.cluster} with today, holds ${describeRoots(cm.source.file, cm.data['root-cert.pem'])}; ` +
    `${file} holds ${describeRoots(file, remote.rootCert.pem)}.`;
  if (trusting.length === 0)
    return (
      `${held} From each peer's 05-install-ossm3 on, OSSM 3 trusts that file instead (the Istio's caCertificates): unless ` +
      `${remote.cluster} signs with it, cross-mesh mTLS with ${remote.cluster} breaks there.`
    );
  const at = trusting.map((m) => `${m} (at ${c.plan.pointers[m]})`).join(', ');
  return (
    `${held} ${at} already trust${trusting.length === 1 ? 's' : ''} that file through OSSM 3 (the Istio's caCertificates): ` +
    `OSSM 3 proxies there reject ${remote.cluster}'s certificates, and cross-mesh mTLS with ${remote.cluster} breaks.`
  );
}

function rootFix(link: PeerLink, cm: ConfigMapObj, remote: Mesh): string {
  const file = remote.rootCert.file;
  const redump =
    `If ${remote.cluster}'s root really changed, dump ${link.local}'s ConfigMap again ` +
    `(oc get cm ${cm.name} -n ${cm.namespace} -o yaml).`;
  if (remote.virtual)
    return `${remote.cluster}'s administrators publish its root in their peer bundle ${file}: ask them for a current bundle. ${redump}`;
  const ns = remote.settings.mode === 'greenfield' ? remote.ossm3.namespace : remote.controlPlane.namespace;
  return (
    `${remote.cluster}'s mesh signs with the root its control plane runs with (the ConfigMap's, while the federation works): ` +
    `copy it into ${file} again (oc --context ${remote.cluster} get cm istio-ca-root-cert -n ${ns} ` +
    `-o jsonpath='{.data.root-cert\\.pem}' > ${file}), never a lab root from meshfed certs, and synth again. ${redump}`
  );
}

/**
 * MF022 peer roots: a ServiceMeshPeer's CA ConfigMap holds the root the local Maistra validates the
 * peer with today; OSSM 3 trusts the peer's clusters/<peer>/root-cert.pem instead (phase 05's Istio
 * caCertificates). When they differ, the file is not the root the peer signs with (a lab root from
 * `meshfed certs`, a stale copy): a warning while nothing trusts the file yet, an error once any cluster's
 * current desired state has an OSSM 3 Istio that does.
 */
export function checkPeerRoots(c: CheckContext): Finding[] {
  const out: Finding[] = [];
  const byCluster = new Map(c.model.meshes.map((m) => [m.cluster, m]));
  for (const link of c.model.links) {
    const cm = link.caConfigMap;
    const remote = byCluster.get(link.remote)!;
    if (!cm || normalizePem(cm.data['root-cert.pem'] ?? '') === normalizePem(remote.rootCert.pem)) continue;
    const trusting = trustingThroughOssm3(c, remote);
    out.push({
      rule: 'MF022',
      severity: trusting.length ? 'error' : 'warning',
      cluster: link.local,
      phase: '05-install-ossm3',
      location: cm.source.at(['data', 'root-cert.pem']),
      problem: rootProblem(link, cm, remote, trusting, c),
      fix: rootFix(link, cm, remote),
    });
  }
  return out;
}
