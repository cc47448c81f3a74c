// receiver/src/proto/load.ts
// Loads our .proto files with @grpc/proto-loader and hands out the FineGuidanceSensors service and client.

import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadPackageDefinition, type ServiceClientConstructor, type ServiceDefinition } from '@grpc/grpc-js';
import { loadSync, type PackageDefinition } from '@grpc/proto-loader';
import { ConfigError } from '../errors.js';

/** The entry file; it imports events.proto, tetragon.proto and capabilities.proto. */
export const ENTRY_PROTO = 'sensors.proto';

/**
 * proto-loader options: proto field names as keys (snake_case, matching our JSON schema), int64 as strings,
 * enums by name, no defaults filled in (so absent stays absent), and the oneof discriminator.
 */
export const PROTO_LOADER_OPTIONS = { keepCase: true, longs: String, enums: String, defaults: false, oneofs: true } as const;

/**
 * Where the .proto files are at run time. tsc does not copy them, so: next to this module when a build step
 * copied them there, else the source tree (dist/receiver/src/proto → ../../../../receiver/src/proto).
 */
export function protoDirectory(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const candidates = [here, path.resolve(here, '../../../../receiver/src/proto')];
  const found = candidates.find((dir) => existsSync(path.join(dir, ENTRY_PROTO)));
  if (found === undefined) {
    throw new ConfigError(`cannot find ${ENTRY_PROTO}; looked in ${candidates.join(' and ')}`);
  }
  return found;
}

export interface TetragonProto {
  readonly packageDefinition: PackageDefinition;
  /** tetragon.FineGuidanceSensors, for Server.addService. */
  readonly service: ServiceDefinition;
  /** Client constructor for tetragon.FineGuidanceSensors. */
  readonly Client: ServiceClientConstructor;
}

/** Loads and links the .proto files (tens of milliseconds; load once per server or client). */
export function loadTetragonProto(directory: string = protoDirectory()): TetragonProto {
  const packageDefinition = loadSync(ENTRY_PROTO, { ...PROTO_LOADER_OPTIONS, includeDirs: [directory] });
  const grpcObject = loadPackageDefinition(packageDefinition);
  const tetragon = grpcObject['tetragon'] as Record<string, unknown> | undefined;
  const Client = tetragon?.['FineGuidanceSensors'] as ServiceClientConstructor | undefined;
  if (Client === undefined) throw new ConfigError(`${ENTRY_PROTO} in ${directory} does not declare tetragon.FineGuidanceSensors`);
  return { packageDefinition, service: Client.service, Client };
}
