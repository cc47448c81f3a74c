// receiver/src/otel/queue-drainer.ts
// The durable queue's consumer: sends the oldest frame, retries with backoff until the endpoint answers.

import { status as GrpcStatus } from '@grpc/grpc-js';
import { getErrorMessage } from '../errors.js';
import { RateLimitedWarner } from '../logger.js';
import type { Logger } from '../logger.js';
import type { DurableQueue } from './durable-queue.js';
import type { OtlpMetrics } from './otlp-metrics.js';
import type { OtlpRequestSender, PendingSend, SendOutcome } from './otlp-request-sender.js';
import { grpcCodeOf, isRetryableGrpcCode } from './retrying-exporter.js';
import type { RetryOptions } from './retrying-exporter.js';

/** The queue to drain, where to and how. */
export interface QueueDrainerOptions {
  readonly queue: DurableQueue;
  readonly sender: OtlpRequestSender;
  readonly retry: RetryOptions;
  /** Deadline of one export call. */
  readonly timeoutMs: number;
  readonly metrics: OtlpMetrics;
  readonly logger: Logger;
  readonly random?: () => number;
}

/**
 * Sends frames strictly in order, one at a time, and completes each once the endpoint accepted it (or rejected
 * it with a non-retryable status, counted as export_failed). Retryable failures are retried with backoff for as
 * long as it takes: while the endpoint is away, the frames wait on disk, bounded by the queue's size.
 */
export class QueueDrainer {
  private readonly _warner: RateLimitedWarner;
  private readonly _random: () => number;
  private _running: Promise<void> | undefined;
  /** Close began: send on while sends succeed, stop at the first failure or when the queue is empty. */
  private _stopping = false;
  /** The close deadline passed: stop now, abandoning a send under way. */
  private _stopped = false;
  private _stopTimer: NodeJS.Timeout | undefined;
  private _inFlight: PendingSend | undefined;
  /** Ends the current backoff or idle wait early. */
  private _wake: (() => void) | undefined;

  constructor(private readonly _options: QueueDrainerOptions) {
    this._warner = new RateLimitedWarner(_options.logger);
    this._random = _options.random ?? Math.random;
  }

  /** Starts sending (once); the queue may already hold frames from an earlier run. */
  start(): void {
    this._running ??= this._run().catch((error: unknown) => {
      // A bug, not an I/O failure (those are handled where they occur): say so rather than stall silently.
      this._options.logger.error('OTLP queue: the sender stopped', { 'error.message': getErrorMessage(error) });
    });
  }

  /**
   * Sends on while sends succeed and the queue is not empty, but no later than `deadline` (epoch ms), when a
   * send under way is cancelled. What is not sent stays in the queue for the next start.
   */
  async stop(deadline: number): Promise<void> {
    this._stopping = true;
    this._wakeUp();
    const delay = deadline - Date.now();
    if (delay <= 0) this._stopNow();
    else {
      this._stopTimer = setTimeout(() => this._stopNow(), delay);
      this._stopTimer.unref();
    }
    await this._running;
    clearTimeout(this._stopTimer);
    this._options.sender.close();
  }

  private async _run(): Promise<void> {
    const { queue, retry, metrics } = this._options;
    let delay = retry.initialDelayMs;
    while (!this._stopped) {
      const frame = queue.head();
      if (frame === undefined) {
        if (this._stopping) return;
        await this._idle(queue.whenAppended());
        continue;
      }
      const payload = await queue.load(frame);
      if (payload === undefined || this._stopped) continue;
      queue.markSending(frame, payload);
      const outcome = await this._attempt(payload);
      if (outcome === 'stopped') {
        queue.release(frame);
        return;
      }
      if (outcome.ok) {
        queue.complete(frame);
        metrics.exports.inc({ outcome: 'success' });
        metrics.export(frame.records);
        delay = retry.initialDelayMs;
        continue;
      }
      const code = grpcCodeOf(outcome.error);
      metrics.exportErrors.inc({ code: code === undefined ? 'ERROR' : GrpcStatus[code] ?? String(code) });
      if (!isRetryableGrpcCode(code)) {
        queue.complete(frame);
        metrics.exports.inc({ outcome: 'failed' });
        metrics.drop('export_failed', frame.records);
        this._warner.warn('otlp-queue-rejected', 'OTLP export rejected; records lost', { 'error.message': getErrorMessage(outcome.error), 'otlp.records': frame.records });
        continue;
      }
      metrics.exports.inc({ outcome: 'retried' });
      queue.release(frame);
      if (code === GrpcStatus.UNAVAILABLE) this._options.sender.reconnect();
      // At close the queue keeps what the endpoint does not take now; the next start sends it.
      if (this._stopping) return;
      const wait = this._jittered(delay);
      this._warner.warn('otlp-queue-retry', 'OTLP export failed; the queue keeps the records and retries', {
        'error.message': getErrorMessage(outcome.error),
        'retry.delay_ms': Math.round(wait),
        'otel.queue_records': queue.records,
      });
      await this._idle(new Promise((resolve) => setTimeout(resolve, wait).unref()));
      delay = Math.min(delay * retry.multiplier, retry.maxDelayMs);
    }
  }

  private async _attempt(payload: Uint8Array): Promise<SendOutcome | 'stopped'> {
    const pending = this._options.sender.send(payload, this._options.timeoutMs);
    this._inFlight = pending;
    const outcome = await pending.result;
    this._inFlight = undefined;
    // An answer that arrived anyway counts; a failure after the deadline (the cancel) does not.
    return outcome.ok || !this._stopped ? outcome : 'stopped';
  }

  /** Waits for `event`, or less if stop() wakes it. */
  private async _idle(event: Promise<unknown>): Promise<void> {
    await Promise.race([event, new Promise<void>((resolve) => (this._wake = resolve))]);
    this._wake = undefined;
  }

  private _wakeUp(): void {
    this._wake?.();
  }

  private _stopNow(): void {
    this._stopped = true;
    this._inFlight?.cancel();
    this._wakeUp();
  }

  private _jittered(delay: number): number {
    const spread = this._options.retry.jitter;
    return delay * (1 - spread + 2 * spread * this._random());
  }
}
