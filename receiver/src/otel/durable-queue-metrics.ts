// receiver/src/otel/durable-queue-metrics.ts
// The execscope_otlp_disk_queue_* metrics: what the durable OTLP queue holds, recovered, skipped and failed on.

import type { Counter, Gauge, MetricsRegistry } from '../metrics.js';

/** File operations whose failures are counted (label `op` of execscope_otlp_disk_queue_io_errors_total). */
export type QueueIoOperation = 'open' | 'write' | 'read' | 'sync' | 'delete' | 'cursor';

/** Metrics of the on-disk queue (--otlp-queue-dir), registered only when it is on. */
export class DurableQueueMetrics {
  /** Records waiting in the queue (on disk, or in memory after a failed write). */
  readonly records: Gauge;
  /** Bytes of the queue's segment files. */
  readonly bytes: Gauge;
  /** The size bound of the segment files (--otlp-queue-max-size-mb). */
  readonly capacityBytes: Gauge;
  /** Records found in the directory at start, left by an earlier agent. */
  readonly recovered: Counter;
  /** Regions of segment files skipped as torn, corrupt or unrecognizable, by reason. */
  readonly corrupt: Counter;
  /** Failed file operations, by operation. */
  readonly ioErrors: Counter;

  constructor(registry: MetricsRegistry) {
    this.records = registry.gauge('execscope_otlp_disk_queue_records', 'Log records waiting in the durable OTLP queue.');
    this.bytes = registry.gauge('execscope_otlp_disk_queue_bytes', 'Bytes of segment files in the durable OTLP queue directory.');
    this.capacityBytes = registry.gauge('execscope_otlp_disk_queue_capacity_bytes', 'Size bound of the durable OTLP queue (--otlp-queue-max-size-mb).');
    this.recovered = registry.counter('execscope_otlp_disk_queue_recovered_records_total', 'Log records found in the durable OTLP queue at start, left by an earlier run.');
    this.corrupt = registry.counter('execscope_otlp_disk_queue_corrupt_total', 'Regions of durable OTLP queue files skipped, by reason (torn, checksum, garbage).');
    this.ioErrors = registry.counter('execscope_otlp_disk_queue_io_errors_total', 'Failed file operations of the durable OTLP queue, by operation.');
  }
}
