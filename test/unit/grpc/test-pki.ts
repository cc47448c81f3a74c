// test/unit/grpc/test-pki.ts
// Throw-away certificate authorities, server and client certificates made with the machine's openssl, for TLS tests.

import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** Whether `openssl` can be run; TLS tests say loudly that they are skipped otherwise. */
export function haveOpenssl(): boolean {
  return spawnSync('openssl', ['version'], { stdio: 'ignore' }).status === 0;
}

export interface TestPki {
  readonly dir: string;
  /** CA that signed the server and the good client certificate. */
  readonly caCert: string;
  /** Server certificate for localhost, 127.0.0.1 and agent.execscope.test, and its key. */
  readonly serverCert: string;
  readonly serverKey: string;
  /** Client certificate signed by the CA, and its key. */
  readonly clientCert: string;
  readonly clientKey: string;
  /** An unrelated CA, and a client certificate it signed (must be refused by the server). */
  readonly rogueCaCert: string;
  readonly rogueClientCert: string;
  readonly rogueClientKey: string;
  remove(): void;
}

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

function newKey(dir: string, name: string): string {
  openssl(dir, ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', name]);
  return path.join(dir, name);
}

function newCa(dir: string, name: string): { cert: string; key: string } {
  const key = newKey(dir, `${name}-key.pem`);
  openssl(dir, [
    'req', '-x509', '-new', '-key', key, '-subj', `/CN=${name}`, '-days', '2', '-out', `${name}.pem`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  return { cert: path.join(dir, `${name}.pem`), key };
}

function newLeaf(dir: string, name: string, ca: { cert: string; key: string }, extensions: string): { cert: string; key: string } {
  const key = newKey(dir, `${name}-key.pem`);
  openssl(dir, ['req', '-new', '-key', key, '-subj', `/CN=${name}`, '-out', `${name}.csr`]);
  writeFileSync(path.join(dir, `${name}.ext`), extensions);
  openssl(dir, [
    'x509', '-req', '-in', `${name}.csr`, '-CA', ca.cert, '-CAkey', ca.key, '-set_serial', String(Date.now()),
    '-days', '2', '-extfile', `${name}.ext`, '-out', `${name}.pem`,
  ]);
  return { cert: path.join(dir, `${name}.pem`), key };
}

/** Makes a fresh PKI in a temporary directory (about 0.2 s); call remove() when done. */
export function makeTestPki(): TestPki {
  const dir = mkdtempSync(path.join(tmpdir(), 'execscope-pki-'));
  const ca = newCa(dir, 'ca');
  const server = newLeaf(dir, 'server', ca, 'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1,DNS:agent.execscope.test\nextendedKeyUsage=serverAuth\n');
  const client = newLeaf(dir, 'client', ca, 'extendedKeyUsage=clientAuth\n');
  const rogue = newCa(dir, 'rogue-ca');
  const rogueClient = newLeaf(dir, 'rogue-client', rogue, 'extendedKeyUsage=clientAuth\n');
  return {
    dir,
    caCert: ca.cert,
    serverCert: server.cert,
    serverKey: server.key,
    clientCert: client.cert,
    clientKey: client.key,
    rogueCaCert: rogue.cert,
    rogueClientCert: rogueClient.cert,
    rogueClientKey: rogueClient.key,
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
