// receiver/src/otel/durable-log-exporter.ts
// The batch processor's exporter when --otlp-queue-dir is set: serializes each batch once and appends it to disk.

import { ExportResultCode } from '@opentelemetry/core';
import type { ExportResult } from '@opentelemetry/core';
import { ProtobufLogsSerializer } from '@opentelemetry/otlp-transformer';
import type { LogRecordExporter, ReadableLogRecord } from '@opentelemetry/sdk-logs';
import type { DurableQueue } from './durable-queue.js';

/** One frame's worth of a batch. */
export interface EncodedRequest {
  readonly payload: Uint8Array;
  readonly records: number;
}

/** Turns records into ExportLogsServiceRequest bytes; the SDK's own protobuf serializer by default. */
export type RequestSerializer = (records: ReadableLogRecord[]) => Uint8Array | undefined;

const sdkSerializer: RequestSerializer = (records) => ProtobufLogsSerializer.serializeRequest(records);

/**
 * Serializes `records` as one request, or as several when it would exceed `maxPayloadBytes` (a frame never spans
 * segment files). A single record is never split, whatever its size.
 */
export function encodeRequests(records: ReadableLogRecord[], maxPayloadBytes: number, serialize: RequestSerializer = sdkSerializer): EncodedRequest[] {
  const payload = serialize(records);
  if (payload === undefined) throw new Error('the OTLP serializer produced nothing');
  if (payload.byteLength <= maxPayloadBytes || records.length <= 1) return [{ payload, records: records.length }];
  // Sizes per record vary little: cut by count into parts that should fit, and check each again.
  const parts = Math.ceil(payload.byteLength / maxPayloadBytes) + 1;
  const size = Math.ceil(records.length / parts);
  const out: EncodedRequest[] = [];
  for (let i = 0; i < records.length; i += size) out.push(...encodeRequests(records.slice(i, i + size), maxPayloadBytes, serialize));
  return out;
}

/**
 * Hands each batch to the durable queue as serialized ExportLogsServiceRequest bytes: the exact payload the
 * queue's consumer later sends, so the protobuf serialization happens once, as it would without the queue.
 * A batch counts as exported for the SDK once it is in the queue; delivery is the consumer's job.
 */
export class DurableLogExporter implements LogRecordExporter {
  constructor(
    private readonly _queue: DurableQueue,
    /** Records that could not be serialized (a bug; the sink counts and logs them). */
    private readonly _onError: (records: number, error: unknown) => void,
    private readonly _serialize: RequestSerializer = sdkSerializer,
  ) {}

  export(records: ReadableLogRecord[], resultCallback: (result: ExportResult) => void): void {
    let requests: EncodedRequest[];
    try {
      requests = encodeRequests(records, this._queue.maxPayloadBytes, this._serialize);
    } catch (error: unknown) {
      this._onError(records.length, error);
      resultCallback({ code: ExportResultCode.FAILED, error: error instanceof Error ? error : new Error(String(error)) });
      return;
    }
    // append() never rejects: a write that fails is kept in memory or counted by the queue.
    void Promise.all(requests.map((request) => this._queue.append(request.payload, request.records))).then(() => resultCallback({ code: ExportResultCode.SUCCESS }));
  }

  /** Resolves once every batch handed over so far is in the queue. */
  forceFlush(): Promise<void> {
    return this._queue.settled();
  }

  /** The queue outlives the batch processor: the sink closes it after the last batch and the consumer. */
  shutdown(): Promise<void> {
    return this._queue.settled();
  }
}
