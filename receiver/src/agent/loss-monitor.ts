// receiver/src/agent/loss-monitor.ts
// Publishes the sensor's counters as metrics and says, in the log, whenever records were lost and where.

import type { Logger } from '../logger.js';
import type { MetricsRegistry } from '../metrics.js';
import type { ExecscopeEvent } from '../model/events.js';
import type { HrTime } from '../model/hr-time.js';
import type { NativeSensor } from '../native/binding.js';
import type { ProcessCache } from '../process/process-cache.js';
import type { BatchDecoder } from '../wire/decode.js';
import { STAT } from '../wire/layout.js';

export interface LossMonitorOptions {
  readonly sensor: NativeSensor;
  readonly decoder: BatchDecoder;
  readonly cache: ProcessCache;
  readonly metrics: MetricsRegistry;
  readonly logger: Logger;
  readonly emit: (event: ExecscopeEvent) => void;
  readonly nodeName: string;
  readonly toWallTime: (ns: bigint) => HrTime;
  /** Boot-clock now, for the report's time. */
  readonly clock: () => bigint;
  readonly intervalMs?: number;
}

interface LossSnapshot {
  kernel: number;
  user: number;
  gaps: number;
  sinks: Record<string, number>;
}

/** Each sink's drop counters (registered by the sinks themselves), summed over their labels. */
const SINK_DROP_METRICS: Readonly<Record<string, readonly string[]>> = {
  otlp: ['execscope_otlp_records_dropped_total'],
  grpc: ['execscope_grpc_stream_dropped_events_total'],
  export_file: ['execscope_export_file_dropped_events_total', 'execscope_export_ratelimit_events_dropped_total'],
  cgroup_rate: ['execscope_exec_throttled_total'],
  stdout: ['execscope_stdout_dropped_events_total'],
};

export class LossMonitor {
  private readonly _timer: NodeJS.Timeout;
  private _last: LossSnapshot = { kernel: 0, user: 0, gaps: 0, sinks: {} };

  constructor(private readonly _o: LossMonitorOptions) {
    const m = _o.metrics;
    const seen = m.counter('execscope_kernel_records_total', 'Records the BPF programs produced, by record kind.');
    const kernelDropped = m.counter('execscope_kernel_ring_dropped_total', 'Records lost because the kernel ring buffer was full, by record kind.');
    const received = m.counter('execscope_ring_records_total', 'Records the addon read from the ring buffer.');
    const userDropped = m.counter('execscope_user_dropped_records_total', 'Records dropped in user space because JavaScript fell too far behind.');
    const gaps = m.counter('execscope_sequence_gap_records_total', 'Records missing according to per-CPU sequence numbers.');
    const decodeErrors = m.counter('execscope_decode_errors_total', 'Records that could not be decoded.');
    const cacheSize = m.gauge('execscope_process_cache_size', 'Process images in the cache.');
    const inFlight = m.gauge('execscope_ring_inflight_bytes', 'Bytes read from the ring and handed to JavaScript but not yet processed.');
    const peakInFlight = m.gauge('execscope_ring_inflight_peak_bytes', 'Highest execscope_ring_inflight_bytes so far.');
    const evictions = m.counter('execscope_process_cache_evictions_total', 'Process images evicted because the cache was full.');
    const missingParent = m.counter('execscope_process_cache_missing_parent_total', 'Forks and execs whose parent was not in the cache.');
    const unknownExits = m.counter('execscope_process_cache_unknown_exits_total', 'Exits of processes not in the cache.');
    // Refresh every counter from its source at scrape time (cheap: one map read per slot).
    cacheSize.onCollect(() => {
      const s = _o.sensor.stats();
      const k = (slot: number) => s.kernel[slot] ?? 0;
      seen.setTotal(k(STAT.EXEC_SEEN), { record: 'exec' });
      seen.setTotal(k(STAT.FORK_SEEN), { record: 'fork' });
      seen.setTotal(k(STAT.EXIT_SEEN), { record: 'exit' });
      kernelDropped.setTotal(k(STAT.EXEC_DROPPED), { record: 'exec' });
      kernelDropped.setTotal(k(STAT.FORK_DROPPED), { record: 'fork' });
      kernelDropped.setTotal(k(STAT.EXIT_DROPPED), { record: 'exit' });
      received.setTotal(s.records);
      userDropped.setTotal(s.userDroppedRecords);
      gaps.setTotal(_o.decoder.stats.sequenceGaps);
      decodeErrors.setTotal(_o.decoder.stats.errors);
      cacheSize.set(_o.cache.size);
      inFlight.set(s.inFlightBytes);
      peakInFlight.set(s.peakInFlightBytes);
      evictions.setTotal(_o.cache.stats.evictions);
      missingParent.setTotal(_o.cache.stats.missingParent);
      unknownExits.setTotal(_o.cache.stats.exitsUnknown);
    });
    this._timer = setInterval(() => this.check(), _o.intervalMs ?? 10_000);
    this._timer.unref();
  }

  /**
   * When any loss counter moved since the last check: logs a warning and announces it in the event stream
   * (a loss_report event: JSON, compact, gRPC and an `execscope.events.lost` OTLP record).
   */
  check(): void {
    const s = this._o.sensor.stats();
    const kernel = (s.kernel[STAT.EXEC_DROPPED] ?? 0) + (s.kernel[STAT.FORK_DROPPED] ?? 0) + (s.kernel[STAT.EXIT_DROPPED] ?? 0);
    const sinks: Record<string, number> = {};
    for (const [sink, names] of Object.entries(SINK_DROP_METRICS)) {
      sinks[sink] = names.reduce((sum, name) => sum + (this._o.metrics.find(name)?.total() ?? 0), 0);
    }
    const now: LossSnapshot = { kernel, user: s.userDroppedRecords, gaps: this._o.decoder.stats.sequenceGaps, sinks };
    const kernelDelta = now.kernel - this._last.kernel;
    const userDelta = now.user - this._last.user;
    const gapsDelta = now.gaps - this._last.gaps;
    const sinkDeltas: Record<string, number> = {};
    for (const [sink, total] of Object.entries(sinks)) {
      const d = total - (this._last.sinks[sink] ?? 0);
      if (d > 0) sinkDeltas[sink] = d;
    }
    this._last = now;
    // Sequence gaps normally equal kernel + user drops; anything beyond is loss no counter saw.
    const unexplained = Math.max(0, gapsDelta - kernelDelta - userDelta);
    if (kernelDelta === 0 && userDelta === 0 && unexplained === 0 && Object.keys(sinkDeltas).length === 0) return;
    this._o.logger.warn('LossMonitor: records lost since the last check', {
      'lost.kernel_ring': kernelDelta,
      'lost.user_space': userDelta,
      'lost.sequence_gaps': gapsDelta,
      'lost.unexplained': unexplained,
      ...Object.fromEntries(Object.entries(sinkDeltas).map(([k, v]) => [`lost.sink.${k}`, v])),
      'lost.kernel_ring_total': now.kernel,
      'lost.user_space_total': now.user,
    });
    const clock = this._o.clock();
    this._o.emit({
      kind: 'loss_report',
      kernelRing: kernelDelta,
      userSpace: userDelta,
      unexplained,
      sinks: sinkDeltas,
      nodeName: this._o.nodeName,
      time: this._o.toWallTime(clock),
    });
  }

  close(): void {
    clearInterval(this._timer);
    this.check();
  }
}
