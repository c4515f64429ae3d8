import * as fs from 'fs';
import * as path from 'path';

import { parseCommand } from './args';
import { generateMeshCa } from '../certs/generate';
import { Diagnostics } from '../diagnostics';
import { readYamlObjects } from '../load/yaml-source';
import { outDirRefusal } from '../write/out-dir';

/**
 * The namespace of a cluster's cacerts Secret: the SMCP's (migration: OSSM 3 reuses it there) or
 * spec.ossm3.namespace of its cluster.yaml (greenfield). Read leniently: certs may run before the input
 * is complete, and synth validates it anyway.
 */
function controlPlaneNamespace(clustersDir: string, cluster: string): string | undefined {
  // The one YAML reader of the input (lib/load/yaml-source.ts); its diagnostics are synth's to report.
  const docs = (f: string, dump = false): Record<string, unknown>[] => readYamlObjects(f, new Diagnostics(), { dump }).map((o) => o.value);
  const ossm2 = path.join(clustersDir, cluster, 'ossm2');
  for (const f of fs.existsSync(ossm2)
    ? fs
        .readdirSync(ossm2)
        .filter((n) => /\.(ya?ml|json)$/.test(n))
        .sort()
    : []) {
    const smcp = docs(path.join(ossm2, f), true).find((o) => o.kind === 'ServiceMeshControlPlane');
    const ns = (smcp?.metadata as { namespace?: unknown } | undefined)?.namespace;
    if (typeof ns === 'string') return ns;
  }
  const settings = path.join(clustersDir, cluster, 'cluster.yaml');
  const spec = fs.existsSync(settings) ? (docs(settings)[0]?.spec as { ossm3?: { namespace?: unknown } } | undefined) : undefined;
  return typeof spec?.ossm3?.namespace === 'string' ? spec.ossm3.namespace : undefined;
}

const USAGE = `usage: meshfed certs <cluster>... [--clusters DIR] [--out DIR] [--namespace NS] [--key-size BITS] [--force] [--json]

Lab certificates, as every reference guide starts: for each cluster a root CA and an intermediate CA
signed by it (Istio's Makefile.selfsigned.mk layout). Keys and certificates go to <out>/<cluster>/
(default certs/, git-ignored); only the PUBLIC root is copied to clusters/<cluster>/root-cert.pem. Prints
the kubectl command that creates each mesh's cacerts Secret. For labs only: production CAs come from
your PKI.

  --clusters DIR    clusters folder (default: clusters, or $MESHFED_CLUSTERS)
  --out DIR         where keys and certificates go (default: certs)
  --namespace NS    namespace of the cacerts Secret in the command printed (default: each cluster's
                    SMCP namespace from DIR/<cluster>/ossm2/, or spec.ossm3.namespace, else istio-system)
  --key-size BITS   RSA key size (default: 4096, as Istio's Makefile)
  --force           generate even where certs refuses to (otherwise it writes nothing): replace
                    <out>/<cluster>/ (keys of a CA that may be in use) and DIR/<cluster>/root-cert.pem
                    (the public root the cluster's peers trust), and generate for a cluster with dumps
                    in DIR/<cluster>/ossm2/ (a live mesh, whose root is the one its SMCP runs with)
  --json            print the result as JSON: per cluster its folder, public root, namespace and command`;

/**
 * Why generating a lab CA for `cluster` would replace a root in use, or undefined. A live mesh (dumps in
 * ossm2/) signs with the root its SMCP runs with, and its peers validate it with that root; an existing
 * root-cert.pem is the root the peers trust (OSSM 3's caCertificates from 05-install-ossm3 on, MF022).
 */
function rootInUse(clustersDir: string, cluster: string): string | undefined {
  const ossm2 = path.join(clustersDir, cluster, 'ossm2');
  const published = path.join(clustersDir, cluster, 'root-cert.pem');
  const exists = fs.existsSync(published);
  if (fs.existsSync(ossm2) && fs.readdirSync(ossm2).length > 0) {
    const ns = controlPlaneNamespace(clustersDir, cluster) ?? 'istio-system';
    const copy = `oc --context ${cluster} get cm istio-ca-root-cert -n ${ns} -o jsonpath='{.data.root-cert\\.pem}' > ${published}`;
    return (
      `${ossm2}/ holds the dumps of a live mesh: ${cluster}'s root is the one its SMCP runs with, never a lab one, and its peers ` +
      `validate ${cluster} with it. ` +
      (exists ? `Keep ${published} (that root; to copy it again: ${copy}). ` : `Copy that root instead: ${copy}. `) +
      `Use --force only to give ${cluster} a lab CA on purpose: its SMCP keeps signing with its current root until you switch it ` +
      `to the new cacerts Secret, and synth reports the new root against the peers' CA ConfigMaps (MF022).`
    );
  }
  if (exists)
    return (
      `${published} exists: it is ${cluster}'s public root, the one its peers trust (OSSM 3 from 05-install-ossm3 on), and a new ` +
      `lab root there breaks cross-mesh mTLS unless ${cluster}'s cacerts Secret is replaced with it too. Keep it, or run again ` +
      `with --force to replace it (a lab you rebuild from scratch).`
    );
  return undefined;
}

const NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** The `certs` command; returns the exit code. */
export async function runCerts(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const parsed = parseCommand<{
    clusters?: string;
    out?: string;
    namespace?: string;
    'key-size'?: string;
    force?: boolean;
    json?: boolean;
  }>(
    argv,
    {
      clusters: { type: 'string' },
      out: { type: 'string' },
      namespace: { type: 'string' },
      'key-size': { type: 'string' },
      force: { type: 'boolean' },
      json: { type: 'boolean' },
    },
    USAGE,
    undefined,
    true,
  );
  if ('exit' in parsed) return parsed.exit;
  const v = parsed.values;
  const clusters = parsed.positionals;
  const keySize = Number(v['key-size'] ?? 4096);
  const bad = clusters.find((c) => !NAME.test(c));
  if (clusters.length === 0 || bad !== undefined || ![2048, 3072, 4096].includes(keySize)) {
    const problem =
      clusters.length === 0
        ? 'name at least one cluster'
        : bad !== undefined
          ? `"${bad}" is not a cluster folder name`
          : '--key-size must be 2048, 3072 or 4096';
    console.error(`meshfed: ${problem}\n${USAGE}`);
    return 2;
  }
  const clustersDir = v.clusters ?? env.MESHFED_CLUSTERS ?? 'clusters';
  const outDir = v.out ?? 'certs';
  const refusal = outDirRefusal('certs', outDir, { option: v.out === undefined ? 'the certs folder' : '--out', input: clustersDir });
  if (refusal) {
    console.error(`meshfed: ${refusal}`);
    return 2;
  }
  for (const c of clusters) {
    const dir = path.join(outDir, c);
    if (fs.existsSync(dir) && !v.force) {
      console.error(`meshfed: ${dir} exists: refusing to replace a CA (its keys may be in use). Use --force to replace it.`);
      return 1;
    }
  }
  const inUse = v.force ? [] : clusters.flatMap((c) => rootInUse(clustersDir, c) ?? []);
  if (inUse.length) {
    for (const why of inUse) console.error(`meshfed: refusing: ${why}`);
    console.error('meshfed: nothing was written.');
    return 1;
  }
  const results: { cluster: string; dir: string; publicRoot: string; namespace: string; command: string }[] = [];
  for (const c of clusters) {
    const namespace = v.namespace ?? controlPlaneNamespace(clustersDir, c) ?? 'istio-system';
    // RSA key generation takes seconds per key at 4096 bits: say what is happening.
    console.error(`meshfed: ${c}: generating a root and an intermediate CA (RSA ${keySize})…`);
    const ca = await generateMeshCa({
      name: c.charAt(0).toUpperCase() + c.slice(1),
      organization: 'meshfed lab',
      keySize,
      rootDays: 3650,
      intermediateDays: 730,
      istiodHost: `istiod.${namespace}.svc`,
    });
    const dir = path.join(outDir, c);
    fs.mkdirSync(dir, { recursive: true });
    for (const [file, content, mode] of [
      ['root-cert.pem', ca.rootCert, 0o644],
      ['root-key.pem', ca.rootKey, 0o600],
      ['ca-cert.pem', ca.caCert, 0o644],
      ['ca-key.pem', ca.caKey, 0o600],
      ['cert-chain.pem', ca.certChain, 0o644],
    ] as const) {
      fs.writeFileSync(path.join(dir, file), content, { mode });
    }
    fs.mkdirSync(path.join(clustersDir, c), { recursive: true });
    fs.writeFileSync(path.join(clustersDir, c, 'root-cert.pem'), ca.rootCert);
    const f = (name: string) => `--from-file=${name}=${path.join(dir, name)}`;
    const publicRoot = path.join(clustersDir, c, 'root-cert.pem');
    const command =
      `kubectl --context ${c} create secret generic cacerts -n ${namespace} ${f('root-cert.pem')} ` +
      `${f('ca-cert.pem')} ${f('ca-key.pem')} ${f('cert-chain.pem')}`;
    results.push({ cluster: c, dir, publicRoot, namespace, command });
    if (v.json) continue;
    console.log(`# ${c}: root and intermediate CA in ${dir}/ (keep the keys out of git); public root copied to ${publicRoot}`);
    console.log(command);
  }
  if (v.json) console.log(JSON.stringify({ clusters: results }, null, 2));
  return 0;
}
