import 'reflect-metadata';
import { randomBytes, webcrypto } from 'crypto';

import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

/** A mesh's lab CA material, as Istio's tools/certs Makefile produces it (root + intermediate). */
export interface MeshCa {
  readonly rootCert: string;
  readonly rootKey: string;
  readonly caCert: string;
  readonly caKey: string;
  /** The intermediate followed by the root, as Istio's cacerts `cert-chain.pem`. */
  readonly certChain: string;
}

export interface CaOptions {
  /** Used in the subjects: "<Name> Root CA", "<Name> Intermediate CA". */
  readonly name: string;
  readonly organization: string;
  /** RSA modulus length (Istio's Makefile uses 4096). */
  readonly keySize: number;
  readonly rootDays: number;
  readonly intermediateDays: number;
  /** SAN of the intermediate, as in Istio's Makefile (istiod's service name). */
  readonly istiodHost: string;
  /** @default now */
  readonly now?: Date;
}

const DAY = 24 * 3600 * 1000;

function pemKey(der: ArrayBuffer): string {
  return x509.PemConverter.encode(der, 'PRIVATE KEY') + '\n';
}

/**
 * Generate a root CA and an intermediate CA signed by it (RSA, SHA-256), with the extensions Istio's
 * Makefile.selfsigned.mk sets: the root `CA:TRUE`, keyCertSign/cRLSign; the intermediate `CA:TRUE,
 * pathlen:0`, digitalSignature/keyEncipherment/keyCertSign/cRLSign and a DNS SAN for istiod.
 */
export async function generateMeshCa(o: CaOptions): Promise<MeshCa> {
  const alg = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256', publicExponent: new Uint8Array([1, 0, 1]), modulusLength: o.keySize };
  const now = o.now ?? new Date();
  const subtle = webcrypto.subtle;
  const rootKeys = (await subtle.generateKey(alg, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const caKeys = (await subtle.generateKey(alg, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const rootName = `O=${o.organization}, CN=${o.name} Root CA`;
  const root = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomBytes(16).toString('hex'),
    name: rootName,
    notBefore: now,
    notAfter: new Date(now.getTime() + o.rootDays * DAY),
    signingAlgorithm: alg,
    keys: rootKeys,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.keyCertSign |
          x509.KeyUsageFlags.cRLSign |
          x509.KeyUsageFlags.digitalSignature |
          x509.KeyUsageFlags.keyEncipherment,
        true,
      ),
      await x509.SubjectKeyIdentifierExtension.create(rootKeys.publicKey),
    ],
  });
  const ca = await x509.X509CertificateGenerator.create({
    serialNumber: randomBytes(16).toString('hex'),
    subject: `O=${o.organization}, CN=${o.name} Intermediate CA`,
    issuer: root.subject,
    notBefore: now,
    notAfter: new Date(now.getTime() + o.intermediateDays * DAY),
    signingAlgorithm: alg,
    publicKey: caKeys.publicKey,
    signingKey: rootKeys.privateKey,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.keyCertSign |
          x509.KeyUsageFlags.cRLSign |
          x509.KeyUsageFlags.digitalSignature |
          x509.KeyUsageFlags.keyEncipherment,
        true,
      ),
      new x509.SubjectAlternativeNameExtension([{ type: 'dns', value: o.istiodHost }]),
      await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(rootKeys.publicKey),
    ],
  });
  const rootCert = root.toString('pem') + '\n';
  const caCert = ca.toString('pem') + '\n';
  return {
    rootCert,
    rootKey: pemKey(await subtle.exportKey('pkcs8', rootKeys.privateKey)),
    caCert,
    caKey: pemKey(await subtle.exportKey('pkcs8', caKeys.privateKey)),
    certChain: caCert + rootCert,
  };
}
