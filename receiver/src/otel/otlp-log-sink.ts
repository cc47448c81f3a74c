// receiver/src/otel/otlp-log-sink.ts
// The OTLP event sink: exec and exit events → LoggerProvider → batch processor → retried OTLP/gRPC export.

import { credentials as grpcCredentials, Metadata } from '@grpc/grpc-js';
import type { ChannelCredentials } from '@grpc/grpc-js';
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
import { LogRecordMapper } from './log-record-mapper.js';
import type { BodyFormatter } from './log-record-mapper.js';
import type { OtlpConfig } from './otlp-config.js';
import { OtlpMetrics } from './otlp-metrics.js';
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
  /** Replaces the OTLP/gRPC exporter (tests and benchmarks); retries and routing still apply. */
  readonly exporter?: LogRecordExporter;
}

type ExporterConfig = NonNullable<ConstructorParameters<typeof OTLPLogExporter>[0]>;

/**
 * Builds the SDK's gRPC exporter from resolved settings, so it never falls back to its own env reading.
 * `generation` > 0 marks a replacement after a connection failure: its user agent differs, and grpc-js keys
 * its shared connection pool by channel options, so the replacement gets a new connection instead of
 * inheriting the failed one's reconnect backoff.
 */
export function createGrpcLogExporter(config: OtlpConfig, generation = 0): OTLPLogExporter {
  const metadata = new Metadata();
  for (const [key, value] of Object.entries(config.headers)) metadata.set(key, value);
  let channelCredentials: ChannelCredentials;
  if (config.insecure) channelCredentials = grpcCredentials.createInsecure();
  else channelCredentials = grpcCredentials.createSsl(config.tls.rootCert ?? null, config.tls.clientKey ?? null, config.tls.clientCert ?? null);
  return new OTLPLogExporter({
    url: config.endpoint,
    credentials: channelCredentials,
    metadata,
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
 */
export class OtlpLogSink implements EventSink {
  readonly name = 'otlp';
  /** This sink's metrics (the counters live in the agent's registry). */
  readonly metrics: OtlpMetrics;
  private readonly _provider: LoggerProvider;
  private readonly _otelLogger: OtelLogger;
  private readonly _mapper: LogRecordMapper;
  private readonly _retrying: RetryingLogExporter;
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

    let generation = 0;
    this._retrying = new RetryingLogExporter({
      next: _deps.exporter ?? createGrpcLogExporter(_config),
      ...(_deps.exporter === undefined ? { reconnect: () => createGrpcLogExporter(_config, ++generation) } : {}),
      budgetMs: _config.batch.exportTimeoutMs,
      retry: _config.retry,
      metrics,
      logger: _deps.logger,
    });
    const routes = new ResourceRoutingProcessor();
    const selfMetrics = new BatchProcessorSelfMetrics({
      onQueueFull: (count) => {
        metrics.drop('queue_full', count);
        this._warner.warn('otlp-queue-full', 'OTLP: batch queue full; dropping records', { 'otel.queue_size': _config.batch.maxQueueSize });
      },
    });
    const batch = new BatchLogRecordProcessor({
      exporter: new ResourceRoutingExporter(this._retrying, routes),
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
  }

  write(event: ExecscopeEvent): void {
    if (event.kind !== 'process_exec' && event.kind !== 'process_exit') return;
    if (this._closing !== undefined) {
      this.metrics.drop('closed', 1);
      return;
    }
    try {
      const record = this._mapper.map(event);
      this.metrics.emit(1);
      this._otelLogger.emit(record);
    } catch (error: unknown) {
      // write() must never throw into the agent's pipeline: count the event and go on.
      this.metrics.drop('error', 1);
      this._warner.warn('otlp-map-error', 'OTLP: could not turn an event into a log record', { 'error.message': getErrorMessage(error), 'process.pid': event.process.pid });
    }
  }

  async flush(timeoutMs: number): Promise<void> {
    if (this._closing !== undefined) return this._closing;
    const flushed = await withTimeout(this._provider.forceFlush({ timeoutMillis: timeoutMs }), timeoutMs).catch((error: unknown) => {
      this._deps.logger.warn('OTLP: flush failed', { 'error.message': getErrorMessage(error) });
      return true;
    });
    if (!flushed) this._deps.logger.warn('OTLP: flush timed out', { 'otel.pending_records': this.metrics.pending, 'timeout_ms': timeoutMs });
  }

  /**
   * Exports everything queued and in flight, waiting at most `timeoutMs` (the agent's --shutdown-timeout,
   * default 10 s); what is still undelivered then is counted as dropped (reason shutdown). Idempotent.
   */
  close(timeoutMs: number): Promise<void> {
    this._closing ??= this._close(Math.max(0, timeoutMs));
    return this._closing;
  }

  private async _close(budgetMs: number): Promise<void> {
    // Stop retrying slightly before the budget ends so the SDK can account for the last batches in time.
    const started = Date.now();
    this._retrying.stopAt(started + Math.max(0, budgetMs - Math.min(250, budgetMs / 10)));
    const finished = await withTimeout(this._provider.shutdown(), budgetMs).catch((error: unknown) => {
      this._deps.logger.warn('OTLP: shutdown failed', { 'error.message': getErrorMessage(error) });
      return false;
    });
    const lost = this.metrics.settle();
    const attrs = { 'otel.exported_records': this.metrics.exported.total(), 'otel.lost_records': lost, 'duration_ms': Date.now() - started };
    if (finished && lost === 0) this._deps.logger.info('OTLP: flushed and closed', attrs);
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
