// receiver/src/otel/sdk-self-metrics.ts
// A MeterProvider that turns the batch processor's self-observability calls into our queue metrics.

// Why: BatchLogRecordProcessor drops a record silently when its queue is full. Its only trace is a call to
// `otel.sdk.processor.log.processed{error.type="queue_full"}` on the (experimental) selfObsMeterProvider it is
// given, so we hand it this provider and count exactly what it drops. Every other instrument is a no-op.

import { createNoopMeter } from '@opentelemetry/api';
import type {
  BatchObservableCallback,
  Counter,
  Gauge,
  Histogram,
  Meter,
  MeterOptions,
  MeterProvider,
  MetricAttributes,
  MetricOptions,
  Observable,
  ObservableCallback,
  ObservableCounter,
  ObservableGauge,
  ObservableUpDownCounter,
  UpDownCounter,
} from '@opentelemetry/api';

/** Instrument names of sdk-logs 0.223 (semconv `otel.sdk.processor.log.*`). */
const PROCESSED = 'otel.sdk.processor.log.processed';
const QUEUE_SIZE = 'otel.sdk.processor.log.queue.size';
const QUEUE_FULL = 'queue_full';

/** What the bridge reports. */
export interface SelfMetricsHooks {
  /** Called with the number of records the processor dropped because its queue was full. */
  onQueueFull(count: number): void;
}

/** Feeds the processor's queue-full drops to hooks and answers its queue size when asked. */
export class BatchProcessorSelfMetrics implements MeterProvider {
  private readonly _meter: SelfMetricsMeter;

  constructor(hooks: SelfMetricsHooks) {
    this._meter = new SelfMetricsMeter(hooks);
  }

  getMeter(_name: string, _version?: string, _options?: MeterOptions): Meter {
    return this._meter;
  }

  /** The processor's current queue length, or undefined before it registered its callback. */
  queueSize(): number | undefined {
    return this._meter.observeQueueSize();
  }
}

class SelfMetricsMeter implements Meter {
  private readonly _noop = createNoopMeter();
  private readonly _queueCallbacks = new Set<ObservableCallback>();

  constructor(private readonly _hooks: SelfMetricsHooks) {}

  observeQueueSize(): number | undefined {
    let size: number | undefined;
    for (const callback of this._queueCallbacks) {
      // The SDK's callback is synchronous: result.observe(getQueueSize(), attrs).
      void callback({ observe: (value: number) => (size = (size ?? 0) + value) });
    }
    return size;
  }

  createCounter<A extends MetricAttributes = MetricAttributes>(name: string, options?: MetricOptions): Counter<A> {
    if (name !== PROCESSED) return this._noop.createCounter<A>(name, options);
    return {
      add: (value: number, attributes?: A) => {
        if (attributes?.['error.type'] === QUEUE_FULL) this._hooks.onQueueFull(value);
      },
    };
  }

  createObservableUpDownCounter<A extends MetricAttributes = MetricAttributes>(
    name: string,
    options?: MetricOptions,
  ): ObservableUpDownCounter<A> {
    if (name !== QUEUE_SIZE) return this._noop.createObservableUpDownCounter<A>(name, options);
    const callbacks = this._queueCallbacks;
    return {
      addCallback(callback: ObservableCallback<A>) {
        callbacks.add(callback as ObservableCallback);
      },
      removeCallback(callback: ObservableCallback<A>) {
        callbacks.delete(callback as ObservableCallback);
      },
    };
  }

  createUpDownCounter<A extends MetricAttributes = MetricAttributes>(name: string, options?: MetricOptions): UpDownCounter<A> {
    // The queue capacity instrument lands here; we know the capacity from our own configuration.
    return this._noop.createUpDownCounter<A>(name, options);
  }

  createGauge<A extends MetricAttributes = MetricAttributes>(name: string, options?: MetricOptions): Gauge<A> {
    return this._noop.createGauge<A>(name, options);
  }

  createHistogram<A extends MetricAttributes = MetricAttributes>(name: string, options?: MetricOptions): Histogram<A> {
    return this._noop.createHistogram<A>(name, options);
  }

  createObservableGauge<A extends MetricAttributes = MetricAttributes>(name: string, options?: MetricOptions): ObservableGauge<A> {
    return this._noop.createObservableGauge<A>(name, options);
  }

  createObservableCounter<A extends MetricAttributes = MetricAttributes>(name: string, options?: MetricOptions): ObservableCounter<A> {
    return this._noop.createObservableCounter<A>(name, options);
  }

  addBatchObservableCallback<A extends MetricAttributes = MetricAttributes>(
    callback: BatchObservableCallback<A>,
    observables: Observable<A>[],
  ): void {
    this._noop.addBatchObservableCallback<A>(callback, observables);
  }

  removeBatchObservableCallback<A extends MetricAttributes = MetricAttributes>(
    callback: BatchObservableCallback<A>,
    observables: Observable<A>[],
  ): void {
    this._noop.removeBatchObservableCallback<A>(callback, observables);
  }
}
