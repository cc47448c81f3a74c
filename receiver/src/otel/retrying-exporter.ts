// receiver/src/otel/retrying-exporter.ts
// Retries failed OTLP/gRPC exports with backoff (the JS gRPC exporter never does) and accounts for every record.

import { status as GrpcStatus } from '@grpc/grpc-js';
import { ExportResultCode } from '@opentelemetry/core';
import type { ExportResult } from '@opentelemetry/core';
import type { LogRecordExporter, ReadableLogRecord } from '@opentelemetry/sdk-logs';
import { getErrorCode, getErrorMessage } from '../errors.js';
import { RateLimitedWarner } from '../logger.js';
import type { Logger } from '../logger.js';
import type { OtlpMetrics } from './otlp-metrics.js';

/** Backoff between attempts: initial delay, growing by `multiplier` up to `maxDelayMs`, ± `jitter`. */
export interface RetryOptions {
  /** Default 1000 ms (as the SDK's HTTP exporters). */
  readonly initialDelayMs: number;
  /** Default 5000 ms. */
  readonly maxDelayMs: number;
  /** Default 1.5. */
  readonly multiplier: number;
  /** Fraction of each delay randomized either way; default 0.2. */
  readonly jitter: number;
}

/** 1 s, ×1.5, at most 5 s, ±20%: the SDK's HTTP exporters' schedule, bounded by the batch budget instead of 5 attempts. */
export const DEFAULT_RETRY: RetryOptions = { initialDelayMs: 1000, maxDelayMs: 5000, multiplier: 1.5, jitter: 0.2 };

/**
 * gRPC codes the OTLP specification calls retryable. RESOURCE_EXHAUSTED is retryable only with RetryInfo,
 * which the JS exporter does not surface, so it is not retried.
 */
const RETRYABLE = new Set<number>([
  GrpcStatus.CANCELLED,
  GrpcStatus.DEADLINE_EXCEEDED,
  GrpcStatus.ABORTED,
  GrpcStatus.OUT_OF_RANGE,
  GrpcStatus.UNAVAILABLE,
  GrpcStatus.DATA_LOSS,
]);

/** The exporter to wrap and how to retry and count. */
export interface RetryingExporterOptions {
  readonly next: LogRecordExporter;
  /**
   * Builds a replacement for `next` after an UNAVAILABLE failure. grpc-js keeps a failed connection in
   * exponential reconnect backoff (up to 120 s) and fails calls fast meanwhile, so after an outage the old
   * channel may not try again within the retry budget; a new exporter connects at its first call.
   */
  readonly reconnect?: () => LogRecordExporter;
  /** Time one batch may take across all its attempts (OTEL_BLRP_EXPORT_TIMEOUT). */
  readonly budgetMs: number;
  readonly retry: RetryOptions;
  readonly metrics: OtlpMetrics;
  readonly logger: Logger;
  readonly random?: () => number;
}

/** Outcome of one attempt, or the shutdown deadline arriving first. */
type Attempt = ExportResult | 'stopped';

/**
 * Retries retryable failures until the batch's budget is spent, then reports the batch lost. Counts records
 * exported and lost, and export calls by outcome. After `stopAt(deadline)` passes, waiting ends at once and
 * whatever has not been acknowledged is counted as lost to shutdown.
 */
export class RetryingLogExporter implements LogRecordExporter {
  private readonly _warner: RateLimitedWarner;
  private readonly _random: () => number;
  private _stopped = false;
  private _stopTimer: NodeJS.Timeout | undefined;
  private readonly _onStop = new Set<() => void>();
  private _next: LogRecordExporter;
  /** Resolves when the stop deadline passes. */
  private readonly _stoppedPromise: Promise<void>;
  private _resolveStopped: () => void = () => {};

  constructor(private readonly _options: RetryingExporterOptions) {
    this._warner = new RateLimitedWarner(_options.logger);
    this._random = _options.random ?? Math.random;
    this._next = _options.next;
    this._stoppedPromise = new Promise<void>((resolve) => {
      this._resolveStopped = resolve;
    });
  }

  export(records: ReadableLogRecord[], resultCallback: (result: ExportResult) => void): void {
    void this._export(records).then(resultCallback);
  }

  /** From `deadline` (epoch ms) on, stop waiting for attempts and backoffs. */
  stopAt(deadline: number): void {
    clearTimeout(this._stopTimer);
    const delay = deadline - Date.now();
    if (delay <= 0) {
      this._stop();
      return;
    }
    this._stopTimer = setTimeout(() => this._stop(), delay);
    this._stopTimer.unref();
  }

  /** Nothing is buffered here: each export() reports on its own once delivered or given up. */
  forceFlush(): Promise<void> {
    return Promise.resolve();
  }

  /** Shuts the next exporter down, but waits no longer than the stop deadline for its in-flight call. */
  shutdown(): Promise<void> {
    return Promise.race([this._next.shutdown(), this._stoppedPromise]);
  }

  /** Never rejects: every path ends in a result, with the records counted. */
  private async _export(records: ReadableLogRecord[]): Promise<ExportResult> {
    const { metrics, retry, budgetMs } = this._options;
    const deadline = Date.now() + budgetMs;
    let delay = retry.initialDelayMs;
    for (;;) {
      if (this._stopped) return this._lose(records, 'shutdown', undefined);
      const result = await this._attempt(records);
      if (result === 'stopped') return this._lose(records, 'shutdown', undefined);
      if (result.code === ExportResultCode.SUCCESS) {
        metrics.exports.inc({ outcome: 'success' });
        metrics.export(records.length);
        return result;
      }
      const code = getErrorCode(result.error);
      const grpcCode = grpcCodeOf(result.error);
      metrics.exportErrors.inc({ code: grpcCode === undefined ? code ?? 'ERROR' : GrpcStatus[grpcCode] ?? String(grpcCode) });
      const wait = this._jittered(delay);
      const retryable = grpcCode !== undefined && RETRYABLE.has(grpcCode);
      if (!retryable || Date.now() + wait >= deadline) {
        metrics.exports.inc({ outcome: 'failed' });
        return this._lose(records, 'export_failed', result.error);
      }
      metrics.exports.inc({ outcome: 'retried' });
      if (grpcCode === GrpcStatus.UNAVAILABLE) this._replaceNext();
      this._warner.warn('otlp-retry', 'OTLP export failed; retrying', {
        'error.message': getErrorMessage(result.error),
        'retry.delay_ms': Math.round(wait),
        'otlp.records': records.length,
      });
      if ((await this._sleep(wait)) === 'stopped') return this._lose(records, 'shutdown', undefined);
      delay = Math.min(delay * retry.multiplier, retry.maxDelayMs);
    }
  }

  private _attempt(records: ReadableLogRecord[]): Promise<Attempt> {
    return new Promise<Attempt>((resolve) => {
      const onStop = (): void => resolve('stopped');
      this._onStop.add(onStop);
      const finish = (result: Attempt): void => {
        this._onStop.delete(onStop);
        resolve(result);
      };
      try {
        this._next.export(records, finish);
      } catch (error: unknown) {
        finish({ code: ExportResultCode.FAILED, error: error instanceof Error ? error : new Error(String(error)) });
      }
    });
  }

  private _sleep(ms: number): Promise<'slept' | 'stopped'> {
    return new Promise((resolve) => {
      const onStop = (): void => {
        clearTimeout(timer);
        resolve('stopped');
      };
      const timer = setTimeout(() => {
        this._onStop.delete(onStop);
        resolve('slept');
      }, ms);
      this._onStop.add(onStop);
    });
  }

  /** Swaps in a fresh exporter (see `reconnect`); the old one has no call in flight and is shut down. */
  private _replaceNext(): void {
    const reconnect = this._options.reconnect;
    if (reconnect === undefined) return;
    const old = this._next;
    this._next = reconnect();
    old.shutdown().catch((error: unknown) => {
      this._options.logger.debug('OTLP: shutting down a replaced exporter failed', { 'error.message': getErrorMessage(error) });
    });
  }

  private _stop(): void {
    this._stopped = true;
    this._resolveStopped();
    const waiting = [...this._onStop];
    this._onStop.clear();
    for (const wake of waiting) wake();
  }

  private _jittered(delay: number): number {
    const spread = this._options.retry.jitter;
    return delay * (1 - spread + 2 * spread * this._random());
  }

  private _lose(records: ReadableLogRecord[], reason: 'export_failed' | 'shutdown', error: Error | undefined): ExportResult {
    this._options.metrics.drop(reason, records.length);
    this._warner.warn(`otlp-lost-${reason}`, 'OTLP export gave up; records lost', {
      'otlp.records': records.length,
      'otlp.drop_reason': reason,
      ...(error === undefined ? {} : { 'error.message': getErrorMessage(error) }),
    });
    return { code: ExportResultCode.FAILED, error: error ?? new Error(`OTLP export abandoned (${reason})`) };
  }
}

/** True for the gRPC statuses the OTLP specification calls retryable (without RetryInfo). */
export function isRetryableGrpcCode(code: number | undefined): boolean {
  return code !== undefined && RETRYABLE.has(code);
}

/** The numeric gRPC status of an export error, if it has one. */
export function grpcCodeOf(error: unknown): number | undefined {
  if (typeof error === 'object' && error !== null && 'code' in error) {
    const code = (error as { code: unknown }).code;
    if (typeof code === 'number') return code;
  }
  return undefined;
}
