// receiver/src/export-file/json-file-sink.ts
// Tetragon's JSON export file: allow/deny lists, rate limit, field filters, buffered writes, rotation, reopen.

import { encodeEventJson, encodeResponseJson } from '../encode/json-encoder.js';
import { getErrorMessage } from '../errors.js';
import { compileFilterLists, type EventPredicate } from '../filter/event-filter.js';
import { FieldFilterChain } from '../filter/field-filter.js';
import { RateLimitedWarner, type Logger } from '../logger.js';
import type { Counter, Gauge, MetricsRegistry } from '../metrics.js';
import type { ExecscopeEvent } from '../model/events.js';
import { hrTimeFromNanos } from '../model/hr-time.js';
import type { EventSink } from '../model/sink.js';
import type { FieldFilterMsg, FilterMsg } from '../proto/messages.js';
import { toProtoResponse } from '../proto/to-proto.js';
import { RotatingFile, type RotatingFileOptions } from './rotating-file.js';
import { TokenBucket } from './token-bucket.js';

export interface JsonFileSinkOptions {
  readonly file: RotatingFileOptions;
  /** Rotate also every this many ms (0: only by size). */
  readonly rotationIntervalMs: number;
  readonly allowList: readonly FilterMsg[];
  readonly denyList: readonly FilterMsg[];
  readonly fieldFilters: readonly FieldFilterMsg[];
  /** Events per minute (token bucket, burst as large); negative: unlimited. */
  readonly rateLimitPerMinute: number;
  /** How often dropped events are reported as a rate_limit_info line (default one minute). */
  readonly rateLimitReportIntervalMs?: number;
  /** node_name of rate_limit_info lines. */
  readonly nodeName: string;
  readonly logger: Logger;
  readonly metrics: MetricsRegistry;
  /** Lines are written once this many bytes are pending (default 64 KiB)... */
  readonly chunkBytes?: number;
  /** ...or this long after the first pending line (default 100 ms). */
  readonly flushIntervalMs?: number;
  /** Pending bytes beyond which events are dropped while the disk is stuck (default 32 MiB). */
  readonly maxPendingBytes?: number;
  readonly now?: () => number;
}

interface ExportMetrics {
  readonly exported: Counter;
  readonly bytes: Counter;
  readonly lastExported: Gauge;
  readonly rateLimited: Counter;
  readonly dropped: Counter;
  readonly writeErrors: Counter;
  readonly rotations: Counter;
}

/** Writes accepted events as JSON lines without blocking the caller; see JsonFileSink.open. */
export class JsonFileSink implements EventSink {
  readonly name = 'export-file';
  private readonly _predicate: EventPredicate;
  private readonly _fieldFilters: FieldFilterChain;
  private readonly _bucket: TokenBucket | undefined;
  private readonly _metrics: ExportMetrics;
  private readonly _warner: RateLimitedWarner;
  private readonly _now: () => number;
  private _pending: string[] = [];
  private _pendingBytes = 0;
  private _rateLimitedSinceReport = 0;
  private _chain: Promise<void> = Promise.resolve();
  private _drainScheduled = false;
  private _flushTimer: NodeJS.Timeout | undefined;
  private readonly _timers: NodeJS.Timeout[] = [];
  private _closed = false;

  private constructor(
    private readonly _file: RotatingFile,
    private readonly _options: JsonFileSinkOptions,
  ) {
    this._predicate = compileFilterLists(_options.allowList, _options.denyList);
    this._fieldFilters = FieldFilterChain.compile(_options.fieldFilters);
    this._now = _options.now ?? Date.now;
    this._bucket = _options.rateLimitPerMinute >= 0 ? new TokenBucket(_options.rateLimitPerMinute, this._now) : undefined;
    this._warner = new RateLimitedWarner(_options.logger);
    const m = _options.metrics;
    this._metrics = {
      exported: m.counter('execscope_events_exported_total', 'Events written to the JSON export file.'),
      bytes: m.counter('execscope_events_exported_bytes_total', 'Bytes written to the JSON export file.'),
      lastExported: m.gauge('execscope_events_last_exported_timestamp', 'Unix time (seconds) of the last write to the JSON export file.'),
      rateLimited: m.counter('execscope_export_ratelimit_events_dropped_total', 'Events not exported because of --export-rate-limit.'),
      dropped: m.counter('execscope_export_file_dropped_events_total', 'Events lost by the JSON export file (disk too slow or write errors).'),
      writeErrors: m.counter('execscope_export_file_write_errors_total', 'Failed writes to the JSON export file.'),
      rotations: m.counter('execscope_export_file_rotations_total', 'Rotations of the JSON export file.'),
    };
  }

  /** Opens the file (creating directories; mode from options) and starts the rotation and report timers. */
  static async open(options: JsonFileSinkOptions): Promise<JsonFileSink> {
    let sink: JsonFileSink | undefined;
    const file = new RotatingFile({
      ...options.file,
      onRotate: (backup) => {
        sink?._metrics.rotations.inc();
        options.logger.debug('export file: rotated', { 'file.path': options.file.path, 'file.backup': backup });
        options.file.onRotate?.(backup);
      },
      onBackgroundError: (error) => options.logger.warn('export file: compressing or pruning backups failed', { 'error.message': getErrorMessage(error) }),
    });
    await file.open();
    sink = new JsonFileSink(file, options);
    sink._startTimers();
    return sink;
  }

  private _startTimers(): void {
    if (this._options.rotationIntervalMs > 0) {
      const t = setInterval(() => void this.rotate(), this._options.rotationIntervalMs);
      t.unref();
      this._timers.push(t);
    }
    if (this._bucket !== undefined) {
      const t = setInterval(() => this._reportRateLimit(), this._options.rateLimitReportIntervalMs ?? 60_000);
      t.unref();
      this._timers.push(t);
    }
  }

  /** Filters, rate-limits, encodes and buffers one event. Never blocks or throws. */
  write(event: ExecscopeEvent): void {
    if (this._closed) return;
    try {
      if (!this._predicate(event)) return;
      if (this._bucket !== undefined && !this._bucket.tryTake()) {
        this._rateLimitedSinceReport++;
        this._metrics.rateLimited.inc();
        return;
      }
      const line = this._fieldFilters.empty ? encodeEventJson(event) : encodeResponseJson(this._fieldFilters.apply(toProtoResponse(event)));
      this._append(`${line}\n`);
    } catch (error: unknown) {
      this._metrics.dropped.inc();
      this._warner.warn('export-encode', 'export file: cannot encode event', { 'error.message': getErrorMessage(error) });
    }
  }

  private _append(line: string): void {
    const maxPending = this._options.maxPendingBytes ?? 32 * 1024 * 1024;
    if (this._pendingBytes + line.length > maxPending) {
      this._metrics.dropped.inc();
      this._warner.warn('export-backlog', 'export file: writes are not keeping up, dropping events', { 'file.path': this._options.file.path, 'export.pending_bytes': this._pendingBytes });
      return;
    }
    this._pending.push(line);
    this._pendingBytes += line.length;
    if (this._pendingBytes >= (this._options.chunkBytes ?? 64 * 1024)) {
      this._scheduleDrain();
    } else if (this._flushTimer === undefined) {
      this._flushTimer = setTimeout(() => {
        this._flushTimer = undefined;
        this._scheduleDrain();
      }, this._options.flushIntervalMs ?? 100);
      this._flushTimer.unref();
    }
  }

  /** Writes everything pending, after whatever file operation is already under way. */
  private _scheduleDrain(): Promise<void> {
    if (this._drainScheduled) return this._chain;
    this._drainScheduled = true;
    return this._enqueue(async () => {
      this._drainScheduled = false;
      if (this._flushTimer !== undefined) {
        clearTimeout(this._flushTimer);
        this._flushTimer = undefined;
      }
      const lines = this._pending;
      if (lines.length === 0) return;
      this._pending = [];
      this._pendingBytes = 0;
      try {
        const bytes = await this._file.writeLines(lines);
        this._metrics.exported.inc({}, lines.length);
        this._metrics.bytes.inc({}, bytes);
        this._metrics.lastExported.set(Math.floor(this._now() / 1000));
      } catch (error: unknown) {
        this._metrics.writeErrors.inc();
        this._metrics.dropped.inc({}, lines.length);
        this._warner.warn('export-write', 'export file: write failed, events lost', { 'file.path': this._options.file.path, 'error.message': getErrorMessage(error), 'export.lost': lines.length });
      }
    });
  }

  private _enqueue(op: () => Promise<void>): Promise<void> {
    this._chain = this._chain.then(op).catch((error: unknown) => {
      this._options.logger.error('export file: operation failed', { 'file.path': this._options.file.path, 'error.message': getErrorMessage(error) });
    });
    return this._chain;
  }

  /** Writes a rate_limit_info line (outside filters and the limit itself) when events were dropped. */
  private _reportRateLimit(): void {
    if (this._rateLimitedSinceReport === 0) return;
    const dropped = this._rateLimitedSinceReport;
    this._rateLimitedSinceReport = 0;
    const time = hrTimeFromNanos(BigInt(this._now()) * 1_000_000n);
    this._append(`${encodeEventJson({ kind: 'rate_limit_info', numberOfDroppedProcessEvents: dropped, nodeName: this._options.nodeName, time })}\n`);
  }

  /** Writes what is pending now and waits for it (or timeoutMs); the data is in the file when it resolves. */
  async flush(timeoutMs: number): Promise<void> {
    const done = this._pending.length > 0 ? this._scheduleDrain() : this._chain;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([done, new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
    clearTimeout(timer);
  }

  /** Rotates now (also used by --export-file-rotation-interval); pending lines go to the old file first. */
  rotate(): Promise<void> {
    if (this._closed) return Promise.resolve();
    void this._scheduleDrain();
    return this._enqueue(() => this._file.rotate());
  }

  /** Reopens the path (SIGHUP after an external logrotate); pending lines go to the old file first. */
  reopen(): Promise<void> {
    if (this._closed) return Promise.resolve();
    void this._scheduleDrain();
    return this._enqueue(() => this._file.reopen());
  }

  /** Reports outstanding rate-limit drops, flushes, closes the file and waits for compression. Idempotent. */
  async close(timeoutMs: number): Promise<void> {
    if (this._closed) return;
    this._reportRateLimit();
    this._closed = true;
    for (const t of this._timers) clearInterval(t);
    await this.flush(timeoutMs);
    await this._enqueue(() => this._file.close());
  }
}
