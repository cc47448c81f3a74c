// receiver/src/grpc/exposure.ts
// Refuses a plaintext gRPC listener reachable from other hosts unless --server-allow-insecure-remote says so.

import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { ConfigError, getErrorMessage } from '../errors.js';
import type { ServerAddress } from './address.js';

/** Loopback: 127.0.0.0/8, ::1, and 127/8 written as an IPv4-mapped IPv6 address. */
export function isLoopbackAddress(address: string): boolean {
  const v4 = address.toLowerCase().startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
  if (isIP(v4) === 4) return v4.split('.')[0] === '127';
  if (isIP(address) !== 6) return false;
  return expandIpv6(address) === '0000:0000:0000:0000:0000:0000:0000:0001';
}

/** The unspecified address (0.0.0.0, ::, ::ffff:0.0.0.0): listening on it listens on every interface. */
export function isUnspecifiedAddress(address: string): boolean {
  const v4 = address.toLowerCase().startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
  if (isIP(v4) === 4) return v4 === '0.0.0.0';
  return isIP(address) === 6 && /^[0:]+$/.test(expandIpv6(address));
}

function expandIpv6(address: string): string {
  const [head = '', tail] = address.toLowerCase().split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = tail === undefined ? left : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  return groups.map((g) => g.padStart(4, '0')).join(':');
}

export interface ExposureOptions {
  /** The listener uses TLS (--server-tls-cert-file). */
  readonly tls: boolean;
  /** --server-allow-insecure-remote. */
  readonly allowInsecureRemote: boolean;
  /** The flag value as the user wrote it, for messages (default: the bind target). */
  readonly text?: string;
  /** Resolves a host as the listener will (getaddrinfo); injectable for tests. */
  readonly resolve?: (host: string) => Promise<string[]>;
}

export type Exposure = 'unix' | 'loopback' | 'remote';

async function resolveAll(host: string): Promise<string[]> {
  const results = await lookup(host, { all: true, verbatim: true });
  return results.map((r) => r.address);
}

/**
 * Classifies where a listener is reachable from. A TCP address is 'loopback' only when every address its
 * host resolves to is a loopback one; anything else (0.0.0.0, [::], ":port", a routable address or name) is
 * 'remote'. A remote listener without TLS would hand every exec event (argv, environment values) to anyone
 * on the network, so it is refused with a ConfigError naming --server-address unless allowInsecureRemote.
 */
export async function checkExposure(address: ServerAddress, options: ExposureOptions): Promise<Exposure> {
  if (address.kind === 'unix') return 'unix';
  const shown = JSON.stringify(options.text ?? address.target);
  let resolved: string[];
  try {
    resolved = isIP(address.host) !== 0 ? [address.host] : await (options.resolve ?? resolveAll)(address.host);
  } catch (error: unknown) {
    throw new ConfigError(`--server-address ${shown}: cannot resolve ${JSON.stringify(address.host)}: ${getErrorMessage(error)}`, { cause: error });
  }
  const loopback = resolved.length > 0 && resolved.every(isLoopbackAddress);
  if (loopback) return 'loopback';
  if (!options.tls && !options.allowInsecureRemote) {
    const everywhere = resolved.some(isUnspecifiedAddress);
    const where = everywhere ? 'listens on every network interface' : `is reachable from other hosts (${resolved.join(', ')})`;
    throw new ConfigError(
      `--server-address ${shown} ${where} without TLS: anyone who can reach it could read every event. ` +
        'Use a loopback or unix:// address, set --server-tls-cert-file and --server-tls-key-file (with --server-tls-client-ca-files to require client certificates), ' +
        'or pass --server-allow-insecure-remote to accept this',
    );
  }
  return 'remote';
}
