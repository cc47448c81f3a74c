// receiver/src/otel/otlp-log-sink.ts
// The OTLP event sink: exec and exit events → LoggerProvider → batch processor → retried OTLP/gRPC export.

import type { Context } from '@opentelemetry/api';
import type { Logger as OtelLogger } from '@opentelemetry/api-logs';
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-grpc';
import { BatchLogRecordProcessor, LoggerProvider } from '@opentelemetry/sdk-logs';
import type { LogRecordExporter, LogRecordProcessor, ReadWriteLogRecord } from '@opentelemetry/sdk-logs';
import { getErrorMessage } from '../errors.js';
import { RateLimitedWarner } from '../logger.js';
import type { Logger } from '../logger.js';
import type { MetricsRegistry } from '../metrics.js';
import type { ExecscopeEvent } from '../model/events.js';
import type { EventSink } from '../model/sink.js';
import { DurableLogExporter } from './durable-log-exporter.js';
import { DurableQueue } from './durable-queue.js';
import type { DurableQueueOptions } from './durable-queue.js';
import { DurableQueueMetrics } from './durable-queue-metrics.js';
import { LogRecordMapper } from './log-record-mapper.js';
import type { BodyFormatter } from './log-record-mapper.js';
import type { OtlpConfig, OtlpQueueOptions } from './otlp-config.js';
import { OtlpMetrics } from './otlp-metrics.js';
import { channelCredentials, exportMetadata, GrpcRequestSender } from './otlp-request-sender.js';
import type { OtlpRequestSender } from './otlp-request-sender.js';
import { QueueDrainer } from './queue-drainer.js';
import { buildBaseResource, ResourceCache } from './resource-cache.js';
import { ResourceRoutingExporter, ResourceRoutingProcessor } from './resource-routing.js';
import { RetryingLogExporter } from './retrying-exporter.js';
import { BatchProcessorSelfMetrics } from './sdk-self-metrics.js';
import { TraceContextResolver } from './trace-context.js';

/** Instrumentation scope name of every record. */
export const OTLP_SCOPE_NAME = 'execscope';

/** Extra time the batch processor allows one export beyond our own retry budget, so ours always ends first. */
const EXPORT_TIMEOUT_SLACK_MS = 1000;

/** What the sink takes from the agent. */
export interface OtlpLogSinkDeps {
  readonly logger: Logger;
  readonly metrics: MetricsRegistry;
  /** Export node name: host.name, and k8s.node.name on pod Resources. */
  readonly nodeName: string;
  /** Body of each record: `(e) => encodeEventCompact(e, { color: false, timestamps: false })`. */
  readonly formatBody: BodyFormatter;
  /** Replaces the OTLP/gRPC exporter (tests and benchmarks); retries and routing still apply. Not with a queue. */
  readonly exporter?: LogRecordExporter;
  /** Replaces the gRPC sender of the durable queue (tests and benchmarks). */
  readonly requestSender?: OtlpRequestSender;
  /** Segment size, sync interval and memory cache of the durable queue (tests and benchmarks). */
  readonly queueTuning?: Pick<DurableQueueOptions, 'segmentBytes' | 'syncIntervalMs' | 'cacheBytes'>;
}

/** The durable queue and its consumer, when --otlp-queue-dir is set. */
interface DurableExport {
  readonly queue: DurableQueue;
  readonly drainer: QueueDrainer;
}

type ExporterConfig = NonNullable<ConstructorParameters<typeof OTLPLogExporter>[0]>;

/**
 * Builds the SDK's gRPC exporter from resolved settings, so it never falls back to its own env reading.
 * `generation` > 0 marks a replacement after a connection failure: its user agent differs, and grpc-js keys
 * its shared connection pool by channel options, so the replacement gets a new connection instead of
 * inheriting the failed one's reconnect backoff.
 */
export function createGrpcLogExporter(config: OtlpConfig, generation = 0): OTLPLogExporter {
  return new OTLPLogExporter({
    url: config.endpoint,
    credentials: channelCredentials(config),
    metadata: exportMetadata(config),
    // The SDK types this as an enum of the same two strings from a package we do not depend on directly.
    compression: config.compression as unknown as NonNullable<ExporterConfig['compression']>,
    timeoutMillis: config.timeoutMs,
    userAgent: generation === 0 ? 'execscope' : `execscope (reconnect ${generation})`,
  } satisfies ExporterConfig);
}

/** Counts what the SDK's attribute limit dropped; placed first among the processors. */
class AttributeLimitProcessor implements LogRecordProcessor {
  constructor(private readonly _metrics: OtlpMetrics) {}
  onEmit(record: ReadWriteLogRecord, _context?: Context): void {
    if (record.droppedAttributesCount > 0) this._metrics.droppedAttributes.inc({}, record.droppedAttributesCount);
  }
  forceFlush(): Promise<void> {
    return Promise.resolve();
  }
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

/**
 * Sends exec and exit events as OpenTelemetry log records over OTLP/gRPC: one ResourceLogs per pod and
 * container, nanosecond timestamps, the spawning trace's ids, retries with backoff, and every record that does
 * not arrive counted in execscope_otlp_records_dropped_total. Other events are ignored.
 *
 * With `config.queue`, batches go to a bounded on-disk queue instead (serialized once, as they will be sent),
 * and a consumer sends them in order for as long as the endpoint needs to come back, across restarts.
 * Throws ConfigError when the queue directory cannot be used.
 */
export class OtlpLogSink implements EventSink {
  readonly name = 'otlp';
  /** This sink's metrics (the counters live in the agent's registry). */
  readonly metrics: OtlpMetrics;
  private readonly _provider: LoggerProvider;
  private readonly _otelLogger: OtelLogger;
  private readonly _mapper: LogRecordMapper;
  private readonly _retrying: RetryingLogExporter | undefined;
  private readonly _durable: DurableExport | undefined;
  private readonly _warner: RateLimitedWarner;
  private _closing: Promise<void> | undefined;

  constructor(
    _config: OtlpConfig,
    private readonly _deps: OtlpLogSinkDeps,
  ) {
    const metrics = new OtlpMetrics(_deps.metrics);
    this.metrics = metrics;
    this._warner = new RateLimitedWarner(_deps.logger);

    const { resource: base, ignoredKeys } = buildBaseResource({
      nodeName: _deps.nodeName,
      resourceAttributes: _config.resourceAttributes,
      ...(_config.serviceName === undefined ? {} : { serviceName: _config.serviceName }),
    });
    if (ignoredKeys.length > 0) {
      _deps.logger.warn('OTLP: ignoring pod- and container-level keys of OTEL_RESOURCE_ATTRIBUTES (each record gets its own pod\'s)', { 'otel.ignored_keys': ignoredKeys });
    }
    const traces = new TraceContextResolver({
      onInvalid: (traceParent) => {
        metrics.invalidTraceparent.inc();
        this._warner.warn('otlp-invalid-traceparent', 'OTLP: ignoring an invalid TRACEPARENT', { 'trace.parent': traceParent.slice(0, 64) });
      },
    });
    this._mapper = new LogRecordMapper({ resources: new ResourceCache(base), traces, formatBody: _deps.formatBody });

    let exporter: LogRecordExporter;
    if (_config.queue === undefined) {
      let generation = 0;
      this._retrying = new RetryingLogExporter({
        next: _deps.exporter ?? createGrpcLogExporter(_config),
        ...(_deps.exporter === undefined ? { reconnect: () => createGrpcLogExporter(_config, ++generation) } : {}),
        budgetMs: _config.batch.exportTimeoutMs,
        retry: _config.retry,
        metrics,
        logger: _deps.logger,
      });
      exporter = this._retrying;
    } else {
      if (_deps.exporter !== undefined) throw new Error('OtlpLogSink: an exporter override cannot be combined with a durable queue (use requestSender)');
      this._durable = this._openQueue(_config, _config.queue);
      exporter = new DurableLogExporter(this._durable.queue, (count, error) => {
        metrics.drop('export_failed', count);
        this._warner.warn('otlp-serialize-error', 'OTLP: could not serialize a batch; records lost', { 'error.message': getErrorMessage(error), 'otlp.records': count });
      });
    }
    const routes = new ResourceRoutingProcessor();
    const selfMetrics = new BatchProcessorSelfMetrics({
      onQueueFull: (count) => {
        metrics.drop('queue_full', count);
        this._warner.warn('otlp-queue-full', 'OTLP: batch queue full; dropping records', { 'otel.queue_size': _config.batch.maxQueueSize });
      },
    });
    const batch = new BatchLogRecordProcessor({
      exporter: new ResourceRoutingExporter(exporter, routes),
      maxQueueSize: _config.batch.maxQueueSize,
      maxExportBatchSize: _config.batch.maxExportBatchSize,
      scheduledDelayMillis: _config.batch.scheduledDelayMs,
      // Our retrying exporter ends every batch within its budget plus one attempt; the SDK's own timer must
      // not fire first, or it would report a batch failed that we may still deliver.
      exportTimeoutMillis: _config.batch.exportTimeoutMs + _config.timeoutMs + EXPORT_TIMEOUT_SLACK_MS,
      selfObsMeterProvider: selfMetrics,
    });
    metrics.queueCapacity.set(_config.batch.maxQueueSize);
    metrics.queueSize.onCollect(() => metrics.queueSize.set(selfMetrics.queueSize() ?? 0));

    this._provider = new LoggerProvider({
      resource: base,
      logRecordLimits: {
        attributeCountLimit: _config.attributeCountLimit,
        ...(_config.attributeValueLengthLimit === undefined ? {} : { attributeValueLengthLimit: _config.attributeValueLengthLimit }),
      },
      processors: [new AttributeLimitProcessor(metrics), routes, batch],
    });
    this._otelLogger = this._provider.getLogger(OTLP_SCOPE_NAME);
    this._durable?.drainer.start();
  }

  /** Opens (and recovers) the queue directory and builds its consumer. */
  private _openQueue(config: OtlpConfig, { dir, maxBytes }: OtlpQueueOptions): DurableExport {
    const { logger } = this._deps;
    const queue = DurableQueue.open({
      dir,
      maxBytes,
      ...this._deps.queueTuning,
      metrics: new DurableQueueMetrics(this._deps.metrics),
      onDrop: (reason, count) => {
        this.metrics.drop(reason, count);
        this._warner.warn(`otlp-${reason}`, 'OTLP queue: dropping records', { 'otlp.drop_reason': reason, 'otlp.records': count, 'file.directory': dir });
      },
      logger,
    });
    this.metrics.recover(queue.recoveredRecords);
    if (queue.recoveredRecords > 0) logger.info('OTLP queue: records from an earlier run are sent first', { 'otlp.records': queue.recoveredRecords, 'file.directory': dir });
    const sender = this._deps.requestSender ?? new GrpcRequestSender(config);
    const drainer = new QueueDrainer({ queue, sender, retry: config.retry, timeoutMs: config.timeoutMs, metrics: this.metrics, logger });
    return { queue, drainer };
  }

  write(event: ExecscopeEvent): void {
    if (event.kind !== 'process_exec' && event.kind !== 'process_exit' && event.kind !== 'loss_report') return;
    if (this._closing !== undefined) {
      this.metrics.drop('closed', 1);
      return;
    }
    try {
      const record = event.kind === 'loss_report' ? this._mapper.mapLoss(event) : this._mapper.map(event);
      this.metrics.emit(1);
      this._otelLogger.emit(record);
    } catch (error: unknown) {
      // write() must never throw into the agent's pipeline: count the event and go on.
      this.metrics.drop('error', 1);
      this._warner.warn('otlp-map-error', 'OTLP: could not turn an event into a log record', {
        'error.message': getErrorMessage(error),
        ...(event.kind !== 'loss_report' ? { 'process.pid': event.process.pid } : {}),
      });
    }
  }

  async flush(timeoutMs: number): Promise<void> {
    if (this._closing !== undefined) return this._closing;
    const flushed = await withTimeout(this._provider.forceFlush({ timeoutMillis: timeoutMs }), timeoutMs).catch((error: unknown) => {
      this._deps.logger.warn('OTLP: flush failed', { 'error.message': getErrorMessage(error) });
      return true;
    });
    const queue = this._durable?.queue;
    const started = Date.now();
    const delivered = flushed && (queue === undefined || (await queue.waitDone(queue.lastId, Math.max(0, timeoutMs - (Date.now() - started)))));
    if (!delivered) this._deps.logger.warn('OTLP: flush timed out', { 'otel.pending_records': this.metrics.pending, 'timeout_ms': timeoutMs });
  }

  /**
   * Exports everything queued and in flight, waiting at most `timeoutMs` (the agent's --shutdown-timeout,
   * default 10 s); what is still undelivered then is counted as dropped (reason shutdown). Idempotent.
   * With a durable queue, every batch is first written to the queue, and sending stops at the first failure:
   * what the endpoint does not take now stays on disk for the next start and is not counted as lost.
   */
  close(timeoutMs: number): Promise<void> {
    this._closing ??= this._close(Math.max(0, timeoutMs));
    return this._closing;
  }

  private async _close(budgetMs: number): Promise<void> {
    // Stop retrying slightly before the budget ends so the SDK can account for the last batches in time.
    const started = Date.now();
    const stopAt = started + Math.max(0, budgetMs - Math.min(250, budgetMs / 10));
    this._retrying?.stopAt(stopAt);
    const finished = await withTimeout(this._provider.shutdown(), budgetMs).catch((error: unknown) => {
      this._deps.logger.warn('OTLP: shutdown failed', { 'error.message': getErrorMessage(error) });
      return false;
    });
    let kept = 0;
    if (this._durable !== undefined) {
      await this._durable.drainer.stop(stopAt);
      kept = await this._durable.queue.close();
    }
    const lost = this.metrics.settle(kept);
    const attrs = { 'otel.exported_records': this.metrics.exported.total(), 'otel.lost_records': lost, 'duration_ms': Date.now() - started };
    if (finished && lost === 0 && kept > 0) {
      this._deps.logger.info('OTLP: closed; undelivered records stay in the queue for the next start', { ...attrs, 'otel.queued_records': kept, 'file.directory': this._durable?.queue.dir });
    } else if (finished && lost === 0) this._deps.logger.info('OTLP: flushed and closed', attrs);
    else this._deps.logger.warn('OTLP: closed before every record was delivered', attrs);
  }
}

/** Resolves true when `promise` settles within `ms`, false when the time runs out first. */
async function withTimeout(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
    timer.unref();
  });
  try {
    return await Promise.race([promise.then(() => true as const), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
