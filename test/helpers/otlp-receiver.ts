// test/helpers/otlp-receiver.ts
// An OTLP/gRPC logs receiver for tests: decodes what is exported to it and can refuse calls for a while.

import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { flattenExportRequest } from './otlp-records.js';
import type { ReceivedLogRecord, ReceivedRequest } from './otlp-records.js';

export type { OtlpAttributes, OtlpValue, ReceivedLogRecord, ReceivedRequest, ReceivedResource } from './otlp-records.js';
export { plainAttributes, plainValue } from './otlp-records.js';

const SERVICE_PROTO = 'opentelemetry/proto/collector/logs/v1/logs_service.proto';

/**
 * test/fixtures/otlp, found by walking up from this module: it runs from dist/test/helpers once compiled,
 * and the .proto files are not copied to dist/.
 */
export function otlpProtoDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, 'test', 'fixtures', 'otlp');
    if (existsSync(join(candidate, SERVICE_PROTO))) return candidate;
    const parent = dirname(dir);
    if (parent === dir) throw new Error('test/fixtures/otlp not found above the helper module');
    dir = parent;
  }
}

export interface OtlpReceiverOptions {
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** Default 0 (any free port). */
  readonly port?: number;
  /** Start by refusing every call. */
  readonly refusing?: boolean;
  /** Status of refused calls; default UNAVAILABLE (retryable). */
  readonly refuseWith?: grpc.status;
  /** Serve TLS with this certificate; with `clientCa`, also require a client certificate signed by it. */
  readonly tls?: { readonly cert: Buffer; readonly key: Buffer; readonly clientCa?: Buffer };
}

export interface OtlpReceiver {
  /** `http://host:port` (`https://` with TLS), ready for OTEL_EXPORTER_OTLP_ENDPOINT. */
  readonly url: string;
  readonly port: number;
  /** Every record accepted so far, in arrival order. */
  readonly records: readonly ReceivedLogRecord[];
  /** Every accepted Export call, with its gRPC metadata and ResourceLogs grouping. */
  readonly requests: readonly ReceivedRequest[];
  /** Export calls refused so far. */
  readonly refusedCalls: number;
  /**
   * Resolves with the first `n` records once that many arrived, or with the matching records once at least
   * one record matches `predicate`. Rejects after `timeoutMs` (default 10 s), saying how many arrived.
   */
  waitForRecords(countOrPredicate: number | ((record: ReceivedLogRecord) => boolean), timeoutMs?: number): Promise<ReceivedLogRecord[]>;
  /** Resolves once `condition(records)` holds; rejects after `timeoutMs` (default 10 s). */
  waitUntil(condition: (records: readonly ReceivedLogRecord[]) => boolean, timeoutMs?: number): Promise<void>;
  /** While true, every Export call fails with `refuseWith` (nothing is recorded). */
  setRefusing(refusing: boolean): void;
  close(): Promise<void>;
}

type ExportCall = grpc.ServerUnaryCall<unknown, unknown>;

/** Starts a receiver on loopback; close() it in the test's teardown. */
export async function startOtlpReceiver(options: OtlpReceiverOptions = {}): Promise<OtlpReceiver> {
  const definition = protoLoader.loadSync(SERVICE_PROTO, {
    includeDirs: [otlpProtoDir()],
    keepCase: false,
    longs: String,
    enums: Number,
    defaults: false,
    oneofs: false,
    arrays: true,
  });
  const loaded = grpc.loadPackageDefinition(definition) as unknown as {
    opentelemetry: { proto: { collector: { logs: { v1: { LogsService: grpc.ServiceClientConstructor } } } } };
  };
  const service = loaded.opentelemetry.proto.collector.logs.v1.LogsService.service;

  const records: ReceivedLogRecord[] = [];
  const requests: ReceivedRequest[] = [];
  const listeners = new Set<() => void>();
  let refusing = options.refusing ?? false;
  let refusedCalls = 0;

  const server = new grpc.Server();
  server.addService(service, {
    Export: (call: ExportCall, callback: grpc.sendUnaryData<unknown>) => {
      if (refusing) {
        refusedCalls++;
        callback({ code: options.refuseWith ?? grpc.status.UNAVAILABLE, details: 'test receiver is refusing calls' });
        notify();
        return;
      }
      const metadata: Record<string, string[]> = {};
      for (const [key, values] of Object.entries(call.metadata.getMap())) {
        metadata[key] = [String(values)];
      }
      const request = flattenExportRequest(call.request, requests.length, metadata);
      requests.push(request);
      records.push(...request.records);
      callback(null, {});
      notify();
    },
  });
  function notify(): void {
    for (const listener of [...listeners]) listener();
  }
  const host = options.host ?? '127.0.0.1';
  const port = await new Promise<number>((resolve, reject) => {
    const credentials =
      options.tls === undefined
        ? grpc.ServerCredentials.createInsecure()
        : grpc.ServerCredentials.createSsl(
            options.tls.clientCa ?? null,
            [{ cert_chain: options.tls.cert, private_key: options.tls.key }],
            options.tls.clientCa !== undefined,
          );
    server.bindAsync(`${host}:${options.port ?? 0}`, credentials, (error, bound) => {
      if (error !== null) reject(error);
      else resolve(bound);
    });
  });

  function waitUntil(condition: (all: readonly ReceivedLogRecord[]) => boolean, timeoutMs = 10_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (!condition(records)) return;
        cleanup();
        resolve();
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`OTLP receiver: condition not met within ${timeoutMs} ms (${records.length} records, ${refusedCalls} refused calls)`));
      }, timeoutMs);
      // Conditions may also look at state outside the receiver (an exporter's metrics), so poll as well.
      const poll = setInterval(check, 20);
      const cleanup = (): void => {
        clearTimeout(timer);
        clearInterval(poll);
        listeners.delete(check);
      };
      listeners.add(check);
      check();
    });
  }

  return {
    // A TLS client names the server; an IP address is not a valid SNI name, so name loopback "localhost".
    url: options.tls === undefined ? `http://${host}:${port}` : `https://${host === '127.0.0.1' ? 'localhost' : host}:${port}`,
    port,
    records,
    requests,
    get refusedCalls() {
      return refusedCalls;
    },
    async waitForRecords(countOrPredicate, timeoutMs = 10_000) {
      if (typeof countOrPredicate === 'number') {
        await waitUntil((all) => all.length >= countOrPredicate, timeoutMs);
        return records.slice(0, countOrPredicate);
      }
      await waitUntil((all) => all.some(countOrPredicate), timeoutMs);
      return records.filter(countOrPredicate);
    },
    waitUntil,
    setRefusing(value: boolean) {
      refusing = value;
    },
    close() {
      return new Promise<void>((resolve) => {
        server.tryShutdown(() => resolve());
        // Exporters may hold connections open; do not let them delay a test's teardown.
        setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, 1000).unref();
      });
    },
  };
}
