// receiver/src/otel/otlp-request-sender.ts
// Sends already-serialized ExportLogsServiceRequest bytes over gRPC (the durable queue's frames, as stored).

import { Client, compressionAlgorithms, credentials as grpcCredentials, Metadata } from '@grpc/grpc-js';
import type { ChannelCredentials, ClientUnaryCall, ServiceError } from '@grpc/grpc-js';
import type { OtlpConfig } from './otlp-config.js';

/** The OTLP/gRPC logs method; the SDK's exporter calls the same path. */
const LOGS_EXPORT_PATH = '/opentelemetry.proto.collector.logs.v1.LogsService/Export';

/** How one send ended. A failure carries the gRPC status in `error.code` when it has one. */
export type SendOutcome = { readonly ok: true } | { readonly ok: false; readonly error: Error };

/** A send under way. */
export interface PendingSend {
  readonly result: Promise<SendOutcome>;
  /** Abandons the call (its result becomes a CANCELLED failure). */
  cancel(): void;
}

/** Delivers serialized export requests; the durable queue's consumer owns one. */
export interface OtlpRequestSender {
  /** Sends one ExportLogsServiceRequest with a deadline of `timeoutMs`. Never throws. */
  send(request: Uint8Array, timeoutMs: number): PendingSend;
  /** Drops the connection and opens a new one at the next send (after UNAVAILABLE). */
  reconnect(): void;
  close(): void;
}

/** TLS or plaintext, as resolved from the endpoint's scheme and the OTEL_EXPORTER_OTLP_*CERTIFICATE files. */
export function channelCredentials(config: OtlpConfig): ChannelCredentials {
  if (config.insecure) return grpcCredentials.createInsecure();
  return grpcCredentials.createSsl(config.tls.rootCert ?? null, config.tls.clientKey ?? null, config.tls.clientCert ?? null);
}

/** The configured headers as gRPC metadata. */
export function exportMetadata(config: OtlpConfig): Metadata {
  const metadata = new Metadata();
  for (const [key, value] of Object.entries(config.headers)) metadata.set(key, value);
  return metadata;
}

/**
 * The gRPC target of an endpoint, as the SDK's exporter derives it: `unix://` URLs as they are, otherwise
 * host:port (the path is ignored; a missing scheme means https).
 */
export function grpcTarget(endpoint: string): string {
  const url = /^[a-z][a-z0-9+.-]*:\/\//i.test(endpoint) ? endpoint : `https://${endpoint}`;
  const parsed = new URL(url);
  return parsed.protocol === 'unix:' ? url : parsed.host;
}

const passThrough = (bytes: Buffer): Buffer => bytes;

/**
 * A gRPC client for raw OTLP log requests: the endpoint, credentials, headers and compression of the OTLP
 * config. Each client keeps its own subchannel pool, so a reconnect opens a fresh connection instead of joining
 * a pooled one stuck in grpc-js's reconnect backoff.
 */
export class GrpcRequestSender implements OtlpRequestSender {
  private readonly _target: string;
  private readonly _credentials: ChannelCredentials;
  private readonly _metadata: Metadata;
  private _client: Client | undefined;

  constructor(private readonly _config: OtlpConfig) {
    this._target = grpcTarget(_config.endpoint);
    this._credentials = channelCredentials(_config);
    this._metadata = exportMetadata(_config);
  }

  send(request: Uint8Array, timeoutMs: number): PendingSend {
    let call: ClientUnaryCall | undefined;
    const result = new Promise<SendOutcome>((resolve) => {
      try {
        this._client ??= this._connect();
        const body = Buffer.from(request.buffer, request.byteOffset, request.byteLength);
        call = this._client.makeUnaryRequest(
          LOGS_EXPORT_PATH,
          passThrough,
          passThrough,
          body,
          this._metadata,
          { deadline: Date.now() + timeoutMs },
          (error: ServiceError | null) => resolve(error === null ? { ok: true } : { ok: false, error }),
        );
      } catch (error: unknown) {
        resolve({ ok: false, error: error instanceof Error ? error : new Error(String(error)) });
      }
    });
    return { result, cancel: () => call?.cancel() };
  }

  reconnect(): void {
    this._client?.close();
    this._client = undefined;
  }

  close(): void {
    this.reconnect();
  }

  private _connect(): Client {
    return new Client(this._target, this._credentials, {
      'grpc.default_compression_algorithm': this._config.compression === 'gzip' ? compressionAlgorithms.gzip : compressionAlgorithms.identity,
      'grpc.primary_user_agent': 'execscope',
      'grpc.use_local_subchannel_pool': 1,
    });
  }
}
