// receiver/src/grpc/client.ts
// A FineGuidanceSensors client (for `execscope getevents`, tests and benchmarks).

import { credentials, type Client, type ClientReadableStream } from '@grpc/grpc-js';
import type { GetEventsRequestMsg, GetEventsResponseMsg } from '../proto/messages.js';
import type { TetragonProto } from '../proto/load.js';

/** Default gRPC max receive size of `tetra` (--max-recv-size), 10 MiB. */
export const DEFAULT_MAX_RECV_SIZE = 10 * 1024 * 1024;

/** The client methods we call; grpc-js builds them at run time from the .proto. */
export interface SensorsClient extends Client {
  GetEvents(request: GetEventsRequestMsg): ClientReadableStream<GetEventsResponseMsg>;
  GetHealth(request: object, callback: (error: Error | null, response?: { health_status?: { event?: string; status?: string; details?: string }[] }) => void): unknown;
  GetVersion(request: object, callback: (error: Error | null, response?: { version?: string }) => void): unknown;
}

/**
 * Connects lazily to `target` (grpc-js syntax: host:port or unix:///path), without TLS. Each client gets its
 * own connection (grpc-js would otherwise share one per target within a process, and one stalled stream would
 * hold the connection's flow-control window for the others).
 */
export function createSensorsClient(proto: TetragonProto, target: string, maxReceiveSize = DEFAULT_MAX_RECV_SIZE): SensorsClient {
  return new proto.Client(target, credentials.createInsecure(), {
    'grpc.max_receive_message_length': maxReceiveSize,
    'grpc.use_local_subchannel_pool': 1,
    // Like Go gRPC's dynamic window, let the server send ahead rather than wait for a window update per 64 KiB.
    'grpc-node.flow_control_window': 8 * 1024 * 1024,
  }) as unknown as SensorsClient;
}

/** Resolves once the channel is connected; rejects after timeoutMs with grpc-js's reason. */
export function waitForReady(client: Client, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    client.waitForReady(Date.now() + timeoutMs, (error) => (error !== undefined && error !== null ? reject(error) : resolve()));
  });
}
