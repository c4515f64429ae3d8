/**
 * meshfed certs: lab CAs per cluster, keys outside dist/ and clusters/, the public root in
 * clusters/<c>/root-cert.pem (accepted by the loader), and the cacerts command.
 */
import { spawnSync } from 'child_process';
import { X509Certificate } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import { runCerts } from '../lib/cli/certs';
import { Diagnostics } from '../lib/diagnostics';
import { certPem } from './support/fixtures';
import { parseRootCert } from '../lib/load/cert';

async function inTmp<T>(fn: () => Promise<T>): Promise<{ dir: string; result: T; out: string; err: string }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshfed-certs-'));
  const cwd = process.cwd();
  const out: string[] = [];
  const err: string[] = [];
  const l = jest.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
  const e = jest.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(a.join(' ')));
  process.chdir(dir);
  try {
    return { dir, result: await fn(), out: out.join('\n'), err: err.join('\n') };
  } finally {
    process.chdir(cwd);
    l.mockRestore();
    e.mockRestore();
  }
}

test('a root and an intermediate CA per cluster, only the public root in clusters/, and the cacerts command', async () => {
  const { dir, result, out } = await inTmp(() => runCerts(['east', 'west', '--key-size', '2048', '--namespace', 'mesh-system'], {}));
  expect(result).toBe(0);
  for (const c of ['east', 'west']) {
    const read = (f: string) => fs.readFileSync(path.join(dir, 'certs', c, f), 'utf8');
    const root = new X509Certificate(read('root-cert.pem'));
    const ca = new X509Certificate(read('ca-cert.pem'));
    expect(root.ca).toBe(true);
    expect(root.verify(root.publicKey)).toBe(true);
    expect(ca.ca).toBe(true);
    expect(ca.checkIssued(root)).toBe(true);
    expect(ca.verify(root.publicKey)).toBe(true);
    expect(ca.subjectAltName).toBe('DNS:istiod.mesh-system.svc');
    expect(read('cert-chain.pem')).toBe(read('ca-cert.pem') + read('root-cert.pem'));
    expect(read('ca-key.pem')).toContain('-----BEGIN PRIVATE KEY-----');
    expect(fs.statSync(path.join(dir, 'certs', c, 'ca-key.pem')).mode & 0o077).toBe(0);
    const published = fs.readFileSync(path.join(dir, 'clusters', c, 'root-cert.pem'), 'utf8');
    // The intermediate is a CA too, but not a root: refused, naming its issuer.
    const wrong = new Diagnostics();
    expect(parseRootCert('root-cert.pem', read('ca-cert.pem'), wrong)).toBeUndefined();
    expect(wrong.errors.map((d) => d.message)).toEqual([expect.stringContaining('an intermediate, not a self-signed root')]);
    expect(published).toBe(read('root-cert.pem'));
    expect(fs.readdirSync(path.join(dir, 'clusters', c))).toEqual(['root-cert.pem']);
    const diags = new Diagnostics();
    expect(parseRootCert('root-cert.pem', published, diags)?.subjects).toEqual([
      `O=meshfed lab, CN=${c[0].toUpperCase()}${c.slice(1)} Root CA`,
    ]);
    expect(out).toContain(
      `kubectl --context ${c} create secret generic cacerts -n mesh-system ` +
        `--from-file=root-cert.pem=certs/${c}/root-cert.pem ` +
        `--from-file=ca-cert.pem=certs/${c}/ca-cert.pem ` +
        `--from-file=ca-key.pem=certs/${c}/ca-key.pem ` +
        `--from-file=cert-chain.pem=certs/${c}/cert-chain.pem`,
    );
  }
});

test('refuses to replace an existing CA without --force, and refuses bad arguments', async () => {
  const { dir } = await inTmp(() => runCerts(['east', '--key-size', '2048'], {}));
  const cwd = process.cwd();
  process.chdir(dir);
  const err = jest.spyOn(console, 'error').mockImplementation(() => undefined);
  jest.spyOn(console, 'log').mockImplementation(() => undefined);
  try {
    const before = fs.readFileSync('certs/east/root-key.pem', 'utf8');
    expect(await runCerts(['east', '--key-size', '2048'], {})).toBe(1);
    expect(fs.readFileSync('certs/east/root-key.pem', 'utf8')).toBe(before);
    expect(await runCerts([], {})).toBe(2);
    expect(await runCerts(['East_1'], {})).toBe(2);
    expect(await runCerts(['east', '--key-size', '1024'], {})).toBe(2);
    expect(await runCerts(['east', '--key-size', '2048', '--force'], {})).toBe(0);
    expect(fs.readFileSync('certs/east/root-key.pem', 'utf8')).not.toBe(before);
  } finally {
    process.chdir(cwd);
    jest.restoreAllMocks();
    void err;
  }
});

test('the top-level certs/ is git-ignored, and nothing else named certs', () => {
  const ignored = (p: string) => spawnSync('git', ['check-ignore', '-q', p], { cwd: path.join(__dirname, '..') }).status === 0;
  expect(ignored('certs/east/ca-key.pem')).toBe(true);
  expect(ignored('lib/certs/generate.ts')).toBe(false);
});

test("the cacerts command names each cluster's control-plane namespace; progress goes to stderr", async () => {
  const { result, out, err } = await inTmp(async () => {
    fs.mkdirSync(path.join('clusters', 'east', 'ossm2'), { recursive: true });
    fs.writeFileSync(
      path.join('clusters', 'east', 'ossm2', 'smcp.yaml'),
      'apiVersion: maistra.io/v2\nkind: ServiceMeshControlPlane\nmetadata: {name: basic, namespace: mesh-east}\nspec: {version: v2.6}\n',
    );
    fs.mkdirSync(path.join('clusters', 'west'), { recursive: true });
    fs.writeFileSync(path.join('clusters', 'west', 'cluster.yaml'), 'kind: ClusterSettings\nspec:\n  ossm3:\n    namespace: mesh-west\n');
    // east has dumps: a live mesh, refused without --force (next test).
    return runCerts(['east', 'west', 'north', '--key-size', '2048', '--force'], {});
  });
  expect(result).toBe(0);
  expect(out).toContain('kubectl --context east create secret generic cacerts -n mesh-east ');
  expect(out).toContain('kubectl --context west create secret generic cacerts -n mesh-west ');
  expect(out).toContain('kubectl --context north create secret generic cacerts -n istio-system ');
  expect(err).toContain('meshfed: east: generating a root and an intermediate CA (RSA 2048)…');
});

test('--json: per cluster its folder, public root, namespace and the cacerts command, nothing else on stdout', async () => {
  const { result, out } = await inTmp(() => runCerts(['east', '--key-size', '2048', '--json'], {}));
  expect(result).toBe(0);
  const report = JSON.parse(out) as {
    clusters: { cluster: string; dir: string; publicRoot: string; namespace: string; command: string }[];
  };
  expect(report.clusters).toEqual([
    {
      cluster: 'east',
      dir: path.join('certs', 'east'),
      publicRoot: path.join('clusters', 'east', 'root-cert.pem'),
      namespace: 'istio-system',
      command: expect.stringMatching(/^kubectl --context east create secret generic cacerts -n istio-system /),
    },
  ]);
});

test("refuses to replace a cluster's existing public root without --force, and writes nothing", async () => {
  const { dir, result, err } = await inTmp(async () => {
    fs.mkdirSync(path.join('clusters', 'west'), { recursive: true });
    fs.writeFileSync(path.join('clusters', 'west', 'root-cert.pem'), certPem('red'));
    return runCerts(['east', 'west', '--key-size', '2048'], {});
  });
  expect(result).toBe(1);
  expect(err).toContain(
    `meshfed: refusing: ${path.join('clusters', 'west', 'root-cert.pem')} exists: it is west's public root, the one its peers trust ` +
      '(OSSM 3 from 05-install-ossm3 on), and a new lab root there breaks cross-mesh mTLS',
  );
  expect(err).toContain('Keep it, or run again with --force to replace it');
  expect(err).toContain('meshfed: nothing was written.');
  // Nothing for east either: one refusal stops the whole run.
  expect(fs.existsSync(path.join(dir, 'certs'))).toBe(false);
  expect(fs.readdirSync(path.join(dir, 'clusters'))).toEqual(['west']);
  expect(fs.readFileSync(path.join(dir, 'clusters', 'west', 'root-cert.pem'), 'utf8')).toBe(certPem('red'));
  // --force replaces it, as documented.
  const cwd = process.cwd();
  process.chdir(dir);
  jest.spyOn(console, 'error').mockImplementation(() => undefined);
  jest.spyOn(console, 'log').mockImplementation(() => undefined);
  try {
    expect(await runCerts(['west', '--key-size', '2048', '--force'], {})).toBe(0);
    expect(fs.readFileSync(path.join('clusters', 'west', 'root-cert.pem'), 'utf8')).not.toBe(certPem('red'));
  } finally {
    process.chdir(cwd);
    jest.restoreAllMocks();
  }
});

test('refuses a cluster with ossm2/ dumps (a live mesh) without --force, naming the command that copies its real root', async () => {
  const { dir, result, err } = await inTmp(async () => {
    fs.mkdirSync(path.join('clusters', 'east', 'ossm2'), { recursive: true });
    fs.writeFileSync(
      path.join('clusters', 'east', 'ossm2', 'smcp.yaml'),
      'apiVersion: maistra.io/v2\nkind: ServiceMeshControlPlane\nmetadata: {name: basic, namespace: mesh-east}\nspec: {version: v2.6}\n',
    );
    return runCerts(['east', '--key-size', '2048'], {});
  });
  expect(result).toBe(1);
  const ossm2 = path.join('clusters', 'east', 'ossm2');
  const root = path.join('clusters', 'east', 'root-cert.pem');
  expect(err).toContain(
    `meshfed: refusing: ${ossm2}/ holds the dumps of a live mesh: east's root is the one its SMCP runs with, never a lab one, ` +
      `and its peers validate east with it. Copy that root instead: oc --context east get cm istio-ca-root-cert -n mesh-east ` +
      `-o jsonpath='{.data.root-cert\\.pem}' > ${root}. Use --force only to give east a lab CA on purpose`,
  );
  expect(fs.existsSync(path.join(dir, 'certs'))).toBe(false);
  expect(fs.existsSync(path.join(dir, root))).toBe(false);
});
