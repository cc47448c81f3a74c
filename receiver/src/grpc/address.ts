// receiver/src/grpc/address.ts
// --server-address values: "host:port", ":port", "unix:///path" or "unix:path"; "" turns the server off.

import { ConfigError } from '../errors.js';

export type ServerAddress =
  | { readonly kind: 'tcp'; readonly host: string; readonly port: number; readonly target: string }
  | { readonly kind: 'unix'; readonly path: string; readonly target: string };

/**
 * Parses a server address; undefined for "" (disabled). `target` is what grpc-js binds or dials.
 * Throws ConfigError naming the flag and value when it is not an address.
 */
export function parseServerAddress(text: string, flag = '--server-address'): ServerAddress | undefined {
  const value = text.trim();
  if (value === '') return undefined;
  if (value.startsWith('unix:')) {
    const rest = value.slice('unix:'.length);
    const socketPath = rest.startsWith('//') ? rest.slice(2) : rest;
    if (socketPath === '' || !socketPath.startsWith('/')) {
      throw new ConfigError(`${flag} ${JSON.stringify(text)}: a unix socket address needs an absolute path, e.g. unix:///var/run/execscope/execscope.sock`);
    }
    return { kind: 'unix', path: socketPath, target: `unix://${socketPath}` };
  }
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]\s]*)):(\d{1,5})$/.exec(value);
  const port = Number(m?.[3]);
  if (m === null || port > 65535) {
    throw new ConfigError(`${flag} ${JSON.stringify(text)}: expected host:port (e.g. localhost:54321), :port, or unix:///path`);
  }
  const ipv6 = m[1];
  const host = ipv6 ?? m[2] ?? '';
  // Like Go's net.Listen(":port"): an empty host listens on every interface.
  const target = ipv6 !== undefined ? `[${ipv6}]:${port}` : host === '' ? `[::]:${port}` : `${host}:${port}`;
  return { kind: 'tcp', host: ipv6 ?? (host === '' ? '::' : host), port, target };
}
