// receiver/src/grpc/tls.ts
// TLS material for the gRPC server (--server-tls-*) and for getevents (--tls-*): read, checked, turned into credentials.

import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ServerCredentials, credentials, type ChannelCredentials } from '@grpc/grpc-js';
import { ConfigError, getErrorMessage } from '../errors.js';

/** --server-tls-cert-file, --server-tls-key-file, --server-tls-client-ca-files as given ("" / [] when unset). */
export interface ServerTlsFlags {
  readonly certFile: string;
  readonly keyFile: string;
  readonly clientCaFiles: readonly string[];
}

export interface ServerTls {
  readonly credentials: ServerCredentials;
  /** Client certificates are required and verified against the client CAs. */
  readonly mutual: boolean;
  /** When the server certificate stops being valid (warned about when already past). */
  readonly validTo: Date;
}

/** getevents' --tls-cert-file, --tls-key-file, --tls-ca-cert-files, --tls-server-name ("" / [] when unset). */
export interface ClientTlsFlags {
  readonly certFile: string;
  readonly keyFile: string;
  readonly caCertFiles: readonly string[];
  readonly serverName: string;
}

export interface ClientTls {
  readonly credentials: ChannelCredentials;
  /** Name checked against the server certificate (and sent as SNI) instead of the host dialled. */
  readonly serverName?: string;
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

function readPem(file: string, flag: string): Buffer {
  try {
    return readFileSync(file);
  } catch (error: unknown) {
    throw new ConfigError(`${flag} ${JSON.stringify(file)}: cannot read: ${getErrorMessage(error)}`, { cause: error });
  }
}

/** Every certificate in a PEM file; throws ConfigError when there is none or one does not parse. */
function readCertificates(file: string, flag: string): { pem: Buffer; certificates: X509Certificate[] } {
  const pem = readPem(file, flag);
  const blocks = pem.toString('latin1').match(PEM_CERTIFICATE) ?? [];
  if (blocks.length === 0) throw new ConfigError(`${flag} ${JSON.stringify(file)}: no PEM certificate (-----BEGIN CERTIFICATE-----) in the file`);
  const certificates = blocks.map((block, i) => {
    try {
      return new X509Certificate(block);
    } catch (error: unknown) {
      throw new ConfigError(`${flag} ${JSON.stringify(file)}: certificate ${i + 1} does not parse: ${getErrorMessage(error)}`, { cause: error });
    }
  });
  return { pem, certificates };
}

function readPrivateKey(file: string, flag: string): { pem: Buffer; key: KeyObject } {
  const pem = readPem(file, flag);
  try {
    return { pem, key: createPrivateKey(pem) };
  } catch (error: unknown) {
    throw new ConfigError(`${flag} ${JSON.stringify(file)}: not a PEM private key: ${getErrorMessage(error)}`, { cause: error });
  }
}

/** Reads a certificate chain and its key and checks that they belong together (a mismatch would only show at the first handshake). */
function readKeyPair(certFile: string, keyFile: string, certFlag: string, keyFlag: string): { cert: Buffer; key: Buffer; leaf: X509Certificate } {
  const { pem: cert, certificates } = readCertificates(certFile, certFlag);
  const { pem: key, key: keyObject } = readPrivateKey(keyFile, keyFlag);
  const leaf = certificates[0] as X509Certificate;
  if (!leaf.checkPrivateKey(keyObject)) {
    throw new ConfigError(`${keyFlag} ${JSON.stringify(keyFile)}: this key does not belong to the certificate in ${certFlag} ${JSON.stringify(certFile)}`);
  }
  return { cert, key, leaf };
}

/** Concatenates CA bundles after checking each holds certificates (Node accepts one PEM buffer with many). */
function readCaBundle(files: readonly string[], flag: string): Buffer {
  return Buffer.concat(files.flatMap((file) => [readCertificates(file, flag).pem, Buffer.from('\n')]));
}

/** Splits a comma-separated list of file names, dropping blanks ("a.pem, b.pem" → two files). */
export function splitFileList(value: unknown): string[] {
  const items = Array.isArray(value) ? value.map(String) : value === undefined || value === null ? [] : [String(value)];
  return items.flatMap((item) => item.split(',')).map((s) => s.trim()).filter((s) => s !== '');
}

/**
 * The server's TLS credentials, or undefined when no TLS flag is set (plaintext). Client CA files turn on
 * mutual TLS: a client without a certificate signed by one of them is refused during the handshake.
 * Throws ConfigError naming the flag for a missing partner flag, an unreadable file, or a key that does not
 * match the certificate.
 */
export function loadServerTls(flags: ServerTlsFlags): ServerTls | undefined {
  const { certFile, keyFile, clientCaFiles } = flags;
  if (certFile === '' && keyFile === '' && clientCaFiles.length === 0) return undefined;
  if (certFile === '') {
    const given = keyFile !== '' ? `--server-tls-key-file ${JSON.stringify(keyFile)}` : `--server-tls-client-ca-files ${JSON.stringify(clientCaFiles.join(','))}`;
    throw new ConfigError(`${given} needs --server-tls-cert-file (TLS is on only with a server certificate and key)`);
  }
  if (keyFile === '') throw new ConfigError(`--server-tls-cert-file ${JSON.stringify(certFile)} needs --server-tls-key-file`);
  const { cert, key, leaf } = readKeyPair(certFile, keyFile, '--server-tls-cert-file', '--server-tls-key-file');
  const mutual = clientCaFiles.length > 0;
  const clientCas = mutual ? readCaBundle(clientCaFiles, '--server-tls-client-ca-files') : null;
  return {
    credentials: ServerCredentials.createSsl(clientCas, [{ cert_chain: cert, private_key: key }], mutual),
    mutual,
    validTo: new Date(leaf.validTo),
  };
}

/**
 * getevents' channel credentials, or undefined when no --tls-* flag is set (plaintext). Without
 * --tls-ca-cert-files the server is verified against the system roots.
 */
export function loadClientTls(flags: ClientTlsFlags): ClientTls | undefined {
  const { certFile, keyFile, caCertFiles, serverName } = flags;
  if (certFile === '' && keyFile === '' && caCertFiles.length === 0 && serverName === '') return undefined;
  if ((certFile === '') !== (keyFile === '')) {
    throw new ConfigError(certFile === '' ? `--tls-key-file ${JSON.stringify(keyFile)} needs --tls-cert-file` : `--tls-cert-file ${JSON.stringify(certFile)} needs --tls-key-file`);
  }
  const pair = certFile === '' ? undefined : readKeyPair(certFile, keyFile, '--tls-cert-file', '--tls-key-file');
  const roots = caCertFiles.length > 0 ? readCaBundle(caCertFiles, '--tls-ca-cert-files') : null;
  if (serverName !== '' && !/^[A-Za-z0-9.:_-]+$/.test(serverName)) {
    throw new ConfigError(`--tls-server-name ${JSON.stringify(serverName)}: expected a host name`);
  }
  return {
    credentials: credentials.createSsl(roots, pair?.key ?? null, pair?.cert ?? null),
    ...(serverName !== '' ? { serverName } : {}),
  };
}
