import { X509Certificate } from 'crypto';
import * as fs from 'fs';

import { Diagnostics } from '../diagnostics';
import { normaliseLineEnds, readInputFile } from './text';

/** A mesh's public root CA, as read from clusters/<cluster>/root-cert.pem. */
export interface RootCert {
  readonly file: string;
  /** The PEM text, normalised to end with one newline. */
  readonly pem: string;
  readonly subjects: string[];
  readonly fingerprints: string[];
}

const BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g;
/** The PEM header of any private key (BEGIN … PRIVATE KEY between five dashes), written so this file holds no key marker itself. */
const PRIVATE_KEY = /-{5}BEGIN [A-Z ]*PRIVATE KEY-{5}/;

/**
 * Read and check a root certificate file. Refuses private keys outright (their text is never kept),
 * anything that is not an X.509 certificate, certificates that are not CAs, and CAs that are not
 * self-signed roots (an intermediate).
 */
export function readRootCert(file: string, diags: Diagnostics): RootCert | undefined {
  if (!fs.existsSync(file)) {
    diags.error(
      { file },
      'the mesh root certificate is missing.',
      "Copy the mesh's PUBLIC root CA here, e.g. `oc get cm istio-ca-root-cert -n <smcp-namespace> -o jsonpath='{.data.root-cert\\.pem}'`.",
    );
    return undefined;
  }
  const text = readInputFile(file, diags);
  return text === undefined ? undefined : parseRootCert(file, text, diags);
}

/** A root certificate from PEM text (a file's, or a peer bundle's spec.rootCert), its line ends normalised. */
export function parseRootCert(file: string, raw: string, diags: Diagnostics): RootCert | undefined {
  const text = normaliseLineEnds(raw);
  if (PRIVATE_KEY.test(text)) {
    diags.error(
      { file, line: lineOf(text, text.search(PRIVATE_KEY)) },
      'this file contains a private key.',
      'meshfed only needs the PUBLIC root certificate: remove the key from the file (and from git ' +
        'history if it was committed), and keep keys in the cacerts Secret only.',
    );
    return undefined;
  }
  const blocks = [...text.matchAll(BLOCK)];
  if (blocks.length === 0) {
    diags.error(
      { file },
      'no PEM certificate found.',
      'The file must hold the root CA as "-----BEGIN CERTIFICATE-----" … "-----END CERTIFICATE-----".',
    );
    return undefined;
  }
  const subjects: string[] = [];
  const fingerprints: string[] = [];
  for (const b of blocks) {
    const line = lineOf(text, b.index ?? 0);
    if (b[1] !== 'CERTIFICATE') {
      diags.error(
        { file, line },
        `found a "${b[1]}" PEM block; only CERTIFICATE blocks are allowed.`,
        'Keep only the public root certificate in this file.',
      );
      return undefined;
    }
    let cert: X509Certificate;
    try {
      cert = new X509Certificate(b[0]);
    } catch (e) {
      diags.error({ file, line }, `not a valid X.509 certificate (${(e as Error).message}).`, 'Export the root CA again in PEM form.');
      return undefined;
    }
    if (!cert.ca) {
      diags.error(
        { file, line },
        `certificate "${cert.subject.replace(/\n/g, ', ')}" is not a CA (basicConstraints CA:FALSE or missing).`,
        "Use the mesh's root CA (root-cert.pem of the cacerts Secret), not a workload or intermediate leaf certificate.",
      );
      return undefined;
    }
    if (!cert.checkIssued(cert) || !cert.verify(cert.publicKey)) {
      diags.error(
        { file, line },
        `certificate "${cert.subject.replace(/\n/g, ', ')}" is issued by "${cert.issuer.replace(/\n/g, ', ')}": ` +
          'an intermediate, not a self-signed root. Peers trust the root, so an intermediate here breaks mTLS ' +
          'once it is rotated.',
        'Use the self-signed root: root-cert.pem of the cacerts Secret (the last certificate of cert-chain.pem).',
      );
      return undefined;
    }
    subjects.push(cert.subject.replace(/\n/g, ', '));
    fingerprints.push(cert.fingerprint256);
  }
  const pem = blocks.map((b) => b[0].trim()).join('\n') + '\n';
  return { file, pem, subjects, fingerprints };
}

function lineOf(text: string, index: number): number {
  return index < 0 ? 1 : text.slice(0, index).split('\n').length;
}
