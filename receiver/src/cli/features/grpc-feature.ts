// receiver/src/cli/features/grpc-feature.ts
// `execscope agent` feature: the Tetragon-compatible gRPC server (--server-address, --event-queue-size, --server-tls-*).

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Option, type Command } from 'commander';
import { ConfigError } from '../../errors.js';
import { parseServerAddress, type ServerAddress } from '../../grpc/address.js';
import { checkExposure, type Exposure } from '../../grpc/exposure.js';
import { DEFAULT_EVENT_QUEUE_SIZE, GrpcEventServer } from '../../grpc/server.js';
import { loadServerTls, splitFileList, type ServerTls } from '../../grpc/tls.js';
import type { Logger } from '../../logger.js';
import type { AgentContext, AgentFeature, StartedFeature } from '../agent-feature.js';

/** Tetragon's default listen address. */
export const DEFAULT_SERVER_ADDRESS = 'localhost:54321';

/** Parses a positive integer option value; throws ConfigError naming the flag. */
export function positiveInteger(value: unknown, flag: string): number {
  const n = typeof value === 'number' ? value : Number(String(value).trim());
  if (!Number.isSafeInteger(n) || n < 1) throw new ConfigError(`${flag} ${JSON.stringify(String(value))}: expected a positive integer`);
  return n;
}

/** The version in our package.json (walks up from this module: it works from dist/ and from the sources). */
export function packageVersion(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++) {
    try {
      const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: unknown; version?: unknown };
      if (pkg.name === 'execscope' && typeof pkg.version === 'string') return pkg.version;
    } catch {
      // not here; keep walking up
    }
    dir = path.dirname(dir);
  }
  return 'unknown';
}

/** What the gRPC flags resolve to when the server is on. */
export interface GrpcServerConfig {
  readonly address: ServerAddress;
  readonly eventQueueSize: number;
  readonly tls?: ServerTls;
  readonly exposure: Exposure;
}

/**
 * Validates every gRPC flag, even when --server-address "" turns the server off (then it returns undefined).
 * Throws ConfigError naming the flag: bad address or queue size, incomplete or unreadable TLS material, TLS on
 * a unix socket, or a plaintext address reachable from other hosts without --server-allow-insecure-remote.
 */
export async function resolveGrpcConfig(options: Readonly<Record<string, unknown>>): Promise<GrpcServerConfig | undefined> {
  const eventQueueSize = positiveInteger(options['eventQueueSize'] ?? DEFAULT_EVENT_QUEUE_SIZE, '--event-queue-size');
  const text = String(options['serverAddress'] ?? DEFAULT_SERVER_ADDRESS);
  const address = parseServerAddress(text);
  // Checked even with the server off: a bad value is an error wherever it is given.
  const tls = loadServerTls({
    certFile: String(options['serverTlsCertFile'] ?? '').trim(),
    keyFile: String(options['serverTlsKeyFile'] ?? '').trim(),
    clientCaFiles: splitFileList(options['serverTlsClientCaFiles']),
  });
  if (address === undefined) return undefined;
  if (tls !== undefined && address.kind === 'unix') {
    throw new ConfigError(`--server-tls-cert-file applies to TCP addresses; --server-address ${JSON.stringify(text)} is a unix socket, protected by its file mode (0660)`);
  }
  const exposure = await checkExposure(address, { tls: tls !== undefined, allowInsecureRemote: options['serverAllowInsecureRemote'] === true, text });
  return { address, eventQueueSize, exposure, ...(tls !== undefined ? { tls } : {}) };
}

function warnAboutExposure(config: GrpcServerConfig, logger: Logger): void {
  const attrs = { 'server.address': config.address.target };
  if (config.exposure === 'remote' && config.tls === undefined) {
    logger.warn('gRPC server: plaintext on an address reachable from other hosts (--server-allow-insecure-remote); anyone who can connect can read every event', attrs);
  } else if (config.exposure === 'remote' && config.tls?.mutual === false) {
    logger.warn('gRPC server: TLS without client certificates on an address reachable from other hosts; anyone who can connect can read every event (set --server-tls-client-ca-files)', attrs);
  }
  if (config.tls !== undefined && config.tls.validTo.getTime() < Date.now()) {
    logger.warn('gRPC server: the server certificate has expired; clients will refuse it', { ...attrs, 'tls.valid_to': config.tls.validTo.toISOString() });
  }
}

const collectFiles = (value: string, previous: readonly string[]): string[] => [...previous, ...splitFileList(value)];

/** The gRPC server as an agent feature; its started feature returns one sink that fans out to GetEvents streams. */
export const grpcFeature: AgentFeature = {
  name: 'grpc',
  addOptions(command: Command): void {
    command.addOption(
      new Option('--server-address <address>', 'gRPC listen address: host:port, :port or unix:///path; "" disables the server').default(DEFAULT_SERVER_ADDRESS),
    );
    command.addOption(new Option('--event-queue-size <events>', 'events held per GetEvents client before new ones are dropped').default(String(DEFAULT_EVENT_QUEUE_SIZE)));
    command.addOption(new Option('--server-tls-cert-file <path>', 'PEM server certificate (chain); turns TLS on for a TCP --server-address').default(''));
    command.addOption(new Option('--server-tls-key-file <path>', 'PEM private key of --server-tls-cert-file').default(''));
    command.addOption(
      new Option('--server-tls-client-ca-files <paths>', 'comma-separated PEM CA bundles; when set, clients must present a certificate signed by one of them (mutual TLS)')
        .argParser(collectFiles)
        .default([], '""'),
    );
    command.addOption(
      new Option('--server-allow-insecure-remote', 'allow a plaintext --server-address reachable from other hosts (0.0.0.0, [::], :port, a routable address); refused otherwise').default(false),
    );
    // Validate before the agent checks privileges or loads BPF, so a bad value exits 2 at once (and without root).
    command.hook('preAction', async (_command, action) => {
      await resolveGrpcConfig(action.opts());
    });
  },
  async start(options: Readonly<Record<string, unknown>>, context: AgentContext): Promise<StartedFeature | undefined> {
    const config = await resolveGrpcConfig(options);
    if (config === undefined) {
      context.logger.info('gRPC server: disabled (--server-address "")');
      return undefined;
    }
    warnAboutExposure(config, context.logger);
    const server = await GrpcEventServer.start({
      address: config.address,
      eventQueueSize: config.eventQueueSize,
      version: packageVersion(),
      logger: context.logger,
      metrics: context.metrics,
      ...(config.tls !== undefined ? { tls: config.tls } : {}),
    });
    return { sinks: [server.sink], close: (timeoutMs: number) => server.close(timeoutMs) };
  },
};
