// receiver/src/otel/otlp-metrics.ts
// The execscope_otlp_* metrics: what the OTLP log export accepted, delivered, retried and lost, and why.

import type { Counter, Gauge, MetricsRegistry } from '../metrics.js';

/** Why records never reached the OTLP endpoint (label `reason` of execscope_otlp_records_dropped_total). */
export type OtlpDropReason =
  /** The SDK's batch queue was full (OTEL_BLRP_MAX_QUEUE_SIZE); the SDK drops these without a word. */
  | 'queue_full'
  /** An export failed for good: a non-retryable gRPC status, or retries ran out of OTEL_BLRP_EXPORT_TIMEOUT. */
  | 'export_failed'
  /** Still queued or in flight when close() ran out of time. */
  | 'shutdown'
  /** Written after close() began. */
  | 'closed'
  /** The event could not be mapped to a log record (a bug; logged). */
  | 'error'
  /** Durable queue only: the oldest records, dropped to keep the queue directory within its size bound. */
  | 'queue_overflow'
  /** Durable queue only: records of a frame found torn or corrupt on disk (a crash mid-write, a damaged file). */
  | 'queue_corrupt'
  /** Durable queue only: records that could neither be written to disk nor kept in memory (I/O errors; logged). */
  | 'queue_error';

/** Every metric of the OTLP sink, registered once per agent in its MetricsRegistry. */
export class OtlpMetrics {
  /** Records handed to the SDK (one per exec or exit event). */
  readonly emitted: Counter;
  /** Records the endpoint acknowledged. */
  readonly exported: Counter;
  /** Records lost, by reason. */
  readonly dropped: Counter;
  /** Export calls by outcome: success, retried (failed, tried again), failed (given up). */
  readonly exports: Counter;
  /** Failed export calls by gRPC status name. */
  readonly exportErrors: Counter;
  /** TRACEPARENT values that are not valid W3C traceparents (ignored). */
  readonly invalidTraceparent: Counter;
  /** Attributes the SDK dropped because a record exceeded the attribute count limit. */
  readonly droppedAttributes: Counter;
  /** Records waiting in the SDK's batch queue (read from the SDK at scrape time). */
  readonly queueSize: Gauge;
  /** Capacity of the SDK's batch queue. */
  readonly queueCapacity: Gauge;

  constructor(registry: MetricsRegistry) {
    this.emitted = registry.counter('execscope_otlp_records_emitted_total', 'Log records handed to the OpenTelemetry SDK.');
    this.exported = registry.counter('execscope_otlp_records_exported_total', 'Log records acknowledged by the OTLP endpoint.');
    this.dropped = registry.counter('execscope_otlp_records_dropped_total', 'Log records that never reached the OTLP endpoint, by reason (queue_full, export_failed, shutdown, closed, error, queue_overflow, queue_corrupt, queue_error).');
    this.exports = registry.counter('execscope_otlp_exports_total', 'OTLP export calls by outcome (success, retried, failed).');
    this.exportErrors = registry.counter('execscope_otlp_export_errors_total', 'Failed OTLP export calls by gRPC status.');
    this.invalidTraceparent = registry.counter('execscope_otlp_invalid_traceparent_total', 'TRACEPARENT values in process environments that are not valid W3C traceparents.');
    this.droppedAttributes = registry.counter('execscope_otlp_dropped_attributes_total', 'Log record attributes dropped by the SDK attribute count limit.');
    this.queueSize = registry.gauge('execscope_otlp_queue_size', 'Log records waiting in the SDK batch queue.');
    this.queueCapacity = registry.gauge('execscope_otlp_queue_capacity', 'Capacity of the SDK batch queue (OTEL_BLRP_MAX_QUEUE_SIZE).');
  }

  /** Records emitted and not yet exported or counted lost (this sink only; the counters may be shared). */
  private _pending = 0;
  /** Set once close() has written off what was still pending; later outcomes are no longer counted. */
  private _settled = false;

  /** Counts records handed to the SDK. */
  emit(count: number): void {
    this._pending += count;
    this.emitted.inc({}, count);
  }

  /** Counts records an earlier agent left in the durable queue: they are pending here without being emitted. */
  recover(count: number): void {
    this._pending += count;
  }

  /** Counts records the endpoint acknowledged. */
  export(count: number): void {
    if (this._settled) return;
    this._pending -= count;
    this.exported.inc({}, count);
  }

  /** Counts lost records. `closed` and `error` records were never emitted, so they do not reduce what is pending. */
  drop(reason: OtlpDropReason, count: number): void {
    const emitted = reason !== 'closed' && reason !== 'error';
    if (count <= 0 || (this._settled && emitted)) return;
    if (emitted) this._pending -= count;
    this.dropped.inc({ reason }, count);
  }

  /** Emitted records whose fate is not known yet (queued or in flight). */
  get pending(): number {
    return this._pending;
  }

  /**
   * Counts everything still pending as lost to shutdown, except `kept` records left safely in the durable queue
   * for the next start, and ignores outcomes that arrive later. Returns the number counted lost.
   */
  settle(kept = 0): number {
    const lost = Math.max(0, this._pending - kept);
    this.drop('shutdown', lost);
    this._settled = true;
    return lost;
  }
}
