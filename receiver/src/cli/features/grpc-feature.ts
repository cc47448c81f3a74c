// receiver/src/cli/features/grpc-feature.ts
// `execscope agent` feature: the Tetragon-compatible gRPC server (--server-address, --event-queue-size).

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Option, type Command } from 'commander';
import { ConfigError } from '../../errors.js';
import { parseServerAddress } from '../../grpc/address.js';
import { DEFAULT_EVENT_QUEUE_SIZE, GrpcEventServer } from '../../grpc/server.js';
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

/** The gRPC server as an agent feature; its started feature returns one sink that fans out to GetEvents streams. */
export const grpcFeature: AgentFeature = {
  name: 'grpc',
  addOptions(command: Command): void {
    command.addOption(
      new Option('--server-address <address>', 'gRPC listen address: host:port, :port or unix:///path; "" disables the server').default(DEFAULT_SERVER_ADDRESS),
    );
    command.addOption(new Option('--event-queue-size <events>', 'events held per GetEvents client before new ones are dropped').default(String(DEFAULT_EVENT_QUEUE_SIZE)));
  },
  async start(options: Readonly<Record<string, unknown>>, context: AgentContext): Promise<StartedFeature | undefined> {
    const address = parseServerAddress(String(options['serverAddress'] ?? DEFAULT_SERVER_ADDRESS));
    if (address === undefined) {
      context.logger.info('gRPC server: disabled (--server-address "")');
      return undefined;
    }
    const eventQueueSize = positiveInteger(options['eventQueueSize'] ?? DEFAULT_EVENT_QUEUE_SIZE, '--event-queue-size');
    const server = await GrpcEventServer.start({ address, eventQueueSize, version: packageVersion(), logger: context.logger, metrics: context.metrics });
    return { sinks: [server.sink], close: (timeoutMs: number) => server.close(timeoutMs) };
  },
};
