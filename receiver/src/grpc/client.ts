// receiver/src/grpc/client.ts
// A FineGuidanceSensors client (for `execscope getevents`, tests and benchmarks).

import { Metadata, credentials, status, type Client, type ClientReadableStream, type ServiceError } from '@grpc/grpc-js';
import type { GetEventsRequestMsg, GetEventsResponseMsg } from '../proto/messages.js';
import type { TetragonProto } from '../proto/load.js';
import type { ClientTls } from './tls.js';

/** Default gRPC max receive size of `tetra` (--max-recv-size), 10 MiB. */
export const DEFAULT_MAX_RECV_SIZE = 10 * 1024 * 1024;

/** The client methods we call; grpc-js builds them at run time from the .proto. */
export interface SensorsClient extends Client {
  GetEvents(request: GetEventsRequestMsg): ClientReadableStream<GetEventsResponseMsg>;
  GetHealth(request: object, callback: (error: Error | null, response?: { health_status?: { event?: string; status?: string; details?: string }[] }) => void): unknown;
  GetVersion(request: object, callback: (error: Error | null, response?: { version?: string }) => void): unknown;
}

/**
 * Connects lazily to `target` (grpc-js syntax: host:port or unix:///path), with TLS when `tls` is given
 * (loadClientTls), else plaintext. Each client gets its own connection (grpc-js would otherwise share one per
 * target within a process, and one stalled stream would hold the connection's flow-control window for the others).
 */
export function createSensorsClient(proto: TetragonProto, target: string, maxReceiveSize = DEFAULT_MAX_RECV_SIZE, tls?: ClientTls): SensorsClient {
  return new proto.Client(target, tls?.credentials ?? credentials.createInsecure(), {
    'grpc.max_receive_message_length': maxReceiveSize,
    'grpc.use_local_subchannel_pool': 1,
    // Like Go gRPC's dynamic window, let the server send ahead rather than wait for a window update per 64 KiB.
    'grpc-node.flow_control_window': 8 * 1024 * 1024,
    // Verify (and send as SNI) this name instead of the host dialled, as tetra's --tls-server-name does.
    ...(tls?.serverName !== undefined ? { 'grpc.ssl_target_name_override': tls.serverName, 'grpc.default_authority': tls.serverName } : {}),
  }) as unknown as SensorsClient;
}

/** Resolves once the channel is connected; rejects after timeoutMs with grpc-js's reason. */
export function waitForReady(client: Client, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    client.waitForReady(Date.now() + timeoutMs, (error) => (error !== undefined && error !== null ? reject(error) : resolve()));
  });
}

/**
 * Why the channel cannot connect, e.g. a TLS alert: waitForReady only says the deadline passed, while a call
 * that does not wait for readiness fails at once with grpc-js's last connection error. Undefined when the
 * probe succeeds or fails for another reason.
 */
export function lastConnectionError(client: SensorsClient, timeoutMs = 2000): Promise<string | undefined> {
  const call = client as unknown as {
    GetVersion(r: object, m: Metadata, o: { deadline: number }, cb: (e: ServiceError | null) => void): void;
  };
  return new Promise((resolve) => {
    call.GetVersion({}, new Metadata(), { deadline: Date.now() + timeoutMs }, (error) => {
      if (error === null || error.code !== status.UNAVAILABLE) return resolve(undefined);
      // grpc-js wraps the reason: "No connection established. Last error: <reason> (<time>). Resolution note: …".
      const reason = error.details
        .replace(/^No connection established\. Last error: /, '')
        .replace(/\s*(\(\d{4}-\d\d-\d\dT[^)]*\))?\.?\s*Resolution note:[\s\S]*$/, '')
        .replace(/^Error: /, '')
        .trim();
      resolve(reason === '' ? undefined : reason);
    });
  });
}
