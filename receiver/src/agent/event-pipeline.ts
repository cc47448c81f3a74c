// receiver/src/agent/event-pipeline.ts
// Kernel batches in, events out: decode, process cache, optional enrichment, fan-out to every sink.

import type { EventEnricher } from '../cli/agent-feature.js';
import { getErrorMessage } from '../errors.js';
import { RateLimitedWarner, type Logger } from '../logger.js';
import type { Counter, MetricsRegistry } from '../metrics.js';
import { eventTypeOf, type ExecscopeEvent } from '../model/events.js';
import type { EventSink } from '../model/sink.js';
import type { ProcessCache } from '../process/process-cache.js';
import type { BatchDecoder } from '../wire/decode.js';
import type { ExecThrottle } from './exec-throttle.js';
import type { KernelRecord } from '../wire/records.js';

export interface EventPipelineOptions {
  readonly decoder: BatchDecoder;
  readonly cache: ProcessCache;
  readonly sinks: readonly EventSink[];
  readonly enricher?: EventEnricher;
  readonly throttle?: ExecThrottle;
  readonly metrics: MetricsRegistry;
  readonly logger: Logger;
}

export class EventPipeline {
  private readonly _events: Counter;
  private readonly _sinkErrors: Counter;
  private readonly _warner: RateLimitedWarner;
  /** Records that arrived before the /proc seed finished; replayed by goLive(). */
  private _held: KernelRecord[] | undefined = [];
  private _seededPids: ReadonlySet<number> = new Set();
  private _seedStartKtime = 0n;
  private _skippedStale = 0;

  constructor(private readonly _opts: EventPipelineOptions) {
    this._events = _opts.metrics.counter('execscope_events_total', 'Events emitted, by type.');
    this._sinkErrors = _opts.metrics.counter('execscope_sink_errors_total', 'Events a sink threw on (the event is lost for that sink).');
    this._warner = new RateLimitedWarner(_opts.logger);
  }

  /** Called with every batch from the addon (JavaScript thread). */
  handleBatch = (batch: Buffer): void => {
    this._opts.decoder.decode(batch, (record) => {
      if (this._held !== undefined) this._held.push(record);
      else this._process(record);
    });
  };

  /**
   * Ends the start-up hold: records from before `seedStartKtime` about processes the seed already covered
   * are skipped (the seed describes their state), the rest are processed in order.
   */
  goLive(seededPids: ReadonlySet<number>, seedStartKtime: bigint): void {
    this._seededPids = seededPids;
    this._seedStartKtime = seedStartKtime;
    const held = this._held ?? [];
    this._held = undefined;
    for (const record of held) this._process(record);
    this._seededPids = new Set();
  }

  get skippedStale(): number {
    return this._skippedStale;
  }

  /** Emits an event built outside the kernel path (procFS seed, loss reports). */
  emit(event: ExecscopeEvent): void {
    const enricher = this._opts.enricher;
    if (enricher !== undefined) enricher.enrich(event, this._fanOut);
    else this._fanOut(event);
  }

  private _process(record: KernelRecord): void {
    if (record.kind !== 'exit' && record.ktime < this._seedStartKtime && this._seededPids.has(record.tgid)) {
      this._skippedStale++;
      return;
    }
    switch (record.kind) {
      case 'fork':
        this._opts.cache.onFork(record);
        return;
      case 'exec': {
        const event = this._opts.cache.onExec(record);
        if (this._opts.throttle === undefined || this._opts.throttle.allowExec(event.process)) this.emit(event);
        return;
      }
      case 'exit': {
        const event = this._opts.cache.onExit(record);
        if (this._opts.throttle === undefined || this._opts.throttle.allowExit(event.process)) this.emit(event);
        return;
      }
    }
  }

  private readonly _fanOut = (event: ExecscopeEvent): void => {
    this._events.inc({ type: eventTypeOf(event) });
    for (const sink of this._opts.sinks) {
      try {
        sink.write(event);
      } catch (error: unknown) {
        this._sinkErrors.inc({ sink: sink.name });
        this._warner.warn(`sink.${sink.name}`, 'EventPipeline: sink threw; event lost for this sink', {
          sink: sink.name,
          'error.message': getErrorMessage(error),
        });
      }
    }
  };
}
