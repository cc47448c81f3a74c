// bench/otlp-replay.ts
// Replay: model event → OTel log record → OTLP protobuf over gRPC to a loopback receiver, in records/s on one core.
// Usage: node dist/bench/otlp-replay.js

import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import * as grpc from '@grpc/grpc-js';
import { ExportResultCode } from '@opentelemetry/core';
import type { ExportResult } from '@opentelemetry/core';
import type { LogRecordExporter, ReadableLogRecord } from '@opentelemetry/sdk-logs';
import { compactBody } from '../receiver/src/cli/features/otlp-feature.js';
import { silentLogger } from '../receiver/src/logger.js';
import { MetricsRegistry } from '../receiver/src/metrics.js';
import { LogRecordMapper } from '../receiver/src/otel/log-record-mapper.js';
import { resolveOtlpConfig } from '../receiver/src/otel/otlp-config.js';
import type { OtlpConfig } from '../receiver/src/otel/otlp-config.js';
import { OtlpLogSink } from '../receiver/src/otel/otlp-log-sink.js';
import type { ProcessEvent } from '../receiver/src/otel/record-attributes.js';
import { buildBaseResource, ResourceCache } from '../receiver/src/otel/resource-cache.js';
import { TraceContextResolver } from '../receiver/src/otel/trace-context.js';
import { sampleExec, sampleExit, samplePod, sampleProcess } from '../test/helpers/sample-events.js';

const RECORDS = 100_000;
const RUNS = 3;
/** Events written per turn of the event loop, as the agent's pipeline hands over a decoded ring batch. */
const CHUNK = 1024;

// ---- the receiver, in a worker thread so it does not compete for the exporter's core --------------------------

interface ReceiverStats {
  readonly calls: number;
  readonly bytes: number;
}

/** A raw OTLP/gRPC logs endpoint: counts request bytes and answers an empty ExportLogsServiceResponse. */
async function serveRawReceiver(): Promise<void> {
  let calls = 0;
  let bytes = 0;
  const server = new grpc.Server();
  const passthrough = (b: Buffer): Buffer => b;
  server.addService(
    {
      Export: {
        path: '/opentelemetry.proto.collector.logs.v1.LogsService/Export',
        requestStream: false,
        responseStream: false,
        requestSerialize: passthrough,
        requestDeserialize: passthrough,
        responseSerialize: passthrough,
        responseDeserialize: passthrough,
      },
    },
    {
      Export: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
        calls++;
        bytes += call.request.length;
        callback(null, Buffer.alloc(0));
      },
    },
  );
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) => (error === null ? resolve(bound) : reject(error))),
  );
  parentPort?.on('message', (message: unknown) => {
    if (message === 'stats') parentPort?.postMessage({ calls, bytes } satisfies ReceiverStats);
    if (message === 'stop') server.tryShutdown(() => process.exit(0));
  });
  parentPort?.postMessage({ port });
}

class ReceiverThread {
  private constructor(
    private readonly _worker: Worker,
    readonly port: number,
  ) {}

  static async start(): Promise<ReceiverThread> {
    const worker = new Worker(new URL(import.meta.url), { workerData: { role: 'otlp-receiver' } });
    const port = await new Promise<number>((resolve, reject) => {
      worker.once('message', (message: { port: number }) => resolve(message.port));
      worker.once('error', reject);
    });
    return new ReceiverThread(worker, port);
  }

  stats(): Promise<ReceiverStats> {
    return new Promise((resolve) => {
      this._worker.once('message', (message: ReceiverStats) => resolve(message));
      this._worker.postMessage('stats');
    });
  }

  async stop(): Promise<void> {
    this._worker.postMessage('stop');
    await new Promise((resolve) => this._worker.once('exit', resolve));
  }
}

// ---- workload ----------------------------------------------------------------------------------------------

/** 50 pods × 2 containers plus host processes; 1 in 5 events an exit; 1 in 10 processes traced. */
export function workload(count: number): ProcessEvent[] {
  const pods = Array.from({ length: 50 }, (_, p) =>
    [0, 1].map((c) =>
      samplePod({
        name: `app-${p}-7d9f8c6b5-x${p}`,
        uid: `00000000-0000-0000-0000-${String(p).padStart(12, '0')}`,
        namespace: `ns-${p % 8}`,
        workload: `app-${p}`,
        workloadKind: 'Deployment',
        podLabels: { app: `app-${p}`, 'pod-template-hash': '7d9f8c6b5', tier: 'backend' },
        container: {
          id: `containerd://${(p * 2 + c).toString(16).padStart(64, 'a')}`,
          name: c === 0 ? 'app' : 'sidecar',
          image: { id: `docker.io/library/app@sha256:${'b'.repeat(64)}`, name: `docker.io/library/app:1.${p}` },
          maybeExecProbe: false,
        },
      }),
    ),
  ).flat();
  const binaries = ['/usr/bin/curl', '/bin/sh', '/usr/bin/git', '/usr/local/bin/node', '/usr/bin/grep'];
  const events: ProcessEvent[] = [];
  for (let i = 0; i < count; i++) {
    const pid = 10_000 + i;
    const binary = binaries[i % binaries.length] ?? '/bin/true';
    const process = sampleProcess({
      pid,
      ktime: BigInt(1_000_000_000 + i),
      binary,
      argv: [binary.slice(binary.lastIndexOf('/') + 1), '-s', `--request-id=${i}`, 'https://example.internal/api/v1/items'],
      ...(i % 10 === 0 ? { traceParent: `00-${i.toString(16).padStart(32, '4')}-${i.toString(16).padStart(16, '7')}-01` } : {}),
      ...(i % 7 === 0 ? {} : { pod: pods[i % pods.length] }),
      startTime: [1_700_000_000 + Math.floor(i / 1000), (i * 7919) % 1_000_000_000],
    });
    events.push(i % 5 === 4 ? sampleExit({ process, status: i % 3, time: process.startTime, exitTime: process.startTime }) : sampleExec({ process, time: process.startTime }));
  }
  return events;
}

function benchConfig(endpoint: string): OtlpConfig {
  const config = resolveOtlpConfig({ endpoint }, { env: { OTEL_BLRP_MAX_QUEUE_SIZE: String(RECORDS) }, warn: () => {} });
  if (config === undefined) throw new Error('OTLP config did not resolve');
  return config;
}

// ---- the measurements --------------------------------------------------------------------------------------

/** Model event → api LogRecord (attributes, body, Resource and trace lookup), nothing else. */
function mappingRate(events: readonly ProcessEvent[]): number {
  const { resource } = buildBaseResource({ nodeName: 'bench-node', resourceAttributes: {} });
  const mapper = new LogRecordMapper({ resources: new ResourceCache(resource), traces: new TraceContextResolver({ onInvalid: () => {} }), formatBody: compactBody });
  let sink = 0;
  const started = performance.now();
  for (const event of events) sink += mapper.map(event).attributes === undefined ? 0 : 1;
  const seconds = (performance.now() - started) / 1000;
  if (sink !== events.length) throw new Error('mapping lost records');
  return events.length / seconds;
}

/** An exporter that acknowledges at once (the SDK path without protobuf or gRPC). */
class AckExporter implements LogRecordExporter {
  exported = 0;
  export(records: ReadableLogRecord[], done: (result: ExportResult) => void): void {
    this.exported += records.length;
    done({ code: ExportResultCode.SUCCESS });
  }
  forceFlush(): Promise<void> {
    return Promise.resolve();
  }
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

async function writeAll(sink: OtlpLogSink, events: readonly ProcessEvent[]): Promise<void> {
  for (let i = 0; i < events.length; i += CHUNK) {
    const end = Math.min(events.length, i + CHUNK);
    for (let j = i; j < end; j++) sink.write(events[j] as ProcessEvent);
    // Let exports and their gRPC I/O run between batches, as between two ring-buffer batches in the agent.
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** Full sink with the SDK batch processor, but an exporter that acknowledges without serializing. */
async function sdkRate(events: readonly ProcessEvent[]): Promise<number> {
  const exporter = new AckExporter();
  const sink = new OtlpLogSink(benchConfig('http://127.0.0.1:1'), { logger: silentLogger, metrics: new MetricsRegistry(), nodeName: 'bench-node', formatBody: compactBody, exporter });
  const started = performance.now();
  await writeAll(sink, events);
  await sink.close(60_000);
  const seconds = (performance.now() - started) / 1000;
  if (exporter.exported !== events.length) throw new Error(`SDK path exported ${exporter.exported} of ${events.length}`);
  return events.length / seconds;
}

interface ReplayResult {
  readonly recordsPerSecond: number;
  readonly dropped: number;
  readonly bytesPerRecord: number;
  readonly exportCalls: number;
  readonly mainThreadCpuShare: number;
}

/** The whole path: sink → SDK → OTLP protobuf → gRPC → loopback receiver, until everything is acknowledged. */
async function replay(events: readonly ProcessEvent[], receiver: ReceiverThread): Promise<ReplayResult> {
  const before = await receiver.stats();
  const registry = new MetricsRegistry();
  const sink = new OtlpLogSink(benchConfig(`http://127.0.0.1:${receiver.port}`), { logger: silentLogger, metrics: registry, nodeName: 'bench-node', formatBody: compactBody });
  const elu0 = performance.eventLoopUtilization();
  const started = performance.now();
  await writeAll(sink, events);
  await sink.close(120_000);
  const seconds = (performance.now() - started) / 1000;
  const elu = performance.eventLoopUtilization(elu0);
  const after = await receiver.stats();
  const exported = registry.find('execscope_otlp_records_exported_total')?.get() ?? 0;
  const dropped = registry.find('execscope_otlp_records_dropped_total')?.total() ?? 0;
  if (exported + dropped !== events.length) throw new Error(`accounting: ${exported} exported + ${dropped} dropped ≠ ${events.length}`);
  return {
    recordsPerSecond: exported / seconds,
    dropped,
    bytesPerRecord: (after.bytes - before.bytes) / Math.max(1, exported),
    exportCalls: after.calls - before.calls,
    mainThreadCpuShare: elu.utilization,
  };
}

/** Heap held per record waiting in the SDK queue (what OTEL_BLRP_MAX_QUEUE_SIZE costs in memory). */
async function queuedRecordBytes(events: readonly ProcessEvent[]): Promise<number> {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  // Holds the first export until released, so everything written meanwhile waits in the SDK queue.
  let release: (() => void) | undefined;
  const stalled: LogRecordExporter = {
    export: (_records, done) => {
      if (release === undefined) release = () => done({ code: ExportResultCode.SUCCESS });
      else done({ code: ExportResultCode.SUCCESS });
    },
    forceFlush: () => Promise.resolve(),
    shutdown: () => Promise.resolve(),
  };
  const sink = new OtlpLogSink(benchConfig('http://127.0.0.1:1'), { logger: silentLogger, metrics: new MetricsRegistry(), nodeName: 'bench-node', formatBody: compactBody, exporter: stalled });
  gc();
  const baseline = process.memoryUsage().heapUsed;
  for (const event of events) sink.write(event);
  gc();
  const perRecord = (process.memoryUsage().heapUsed - baseline) / events.length;
  release?.();
  await sink.close(10_000);
  return perRecord;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

/** Runs every measurement; rates are records per second on the main thread. */
export async function run(): Promise<Record<string, number>> {
  const events = workload(RECORDS);
  mappingRate(events.slice(0, 20_000)); // warm-up
  const mapping = median([mappingRate(events), mappingRate(events)]);
  await sdkRate(events.slice(0, 20_000));
  const sdk = median(await sequential(RUNS, () => sdkRate(events)));
  const receiver = await ReceiverThread.start();
  try {
    await replay(events.slice(0, 20_000), receiver);
    const runs = await sequential(RUNS, () => replay(events, receiver));
    const best = runs.reduce((a, b) => (b.recordsPerSecond > a.recordsPerSecond ? b : a));
    return {
      otlp_replay_records_per_s: Math.round(median(runs.map((r) => r.recordsPerSecond))),
      otlp_replay_best_records_per_s: Math.round(best.recordsPerSecond),
      otlp_replay_dropped: runs.reduce((sum, r) => sum + r.dropped, 0),
      otlp_replay_main_thread_utilization: Math.round(best.mainThreadCpuShare * 100) / 100,
      otlp_bytes_per_record: Math.round(best.bytesPerRecord),
      otlp_export_calls_per_run: best.exportCalls,
      sdk_path_no_serialization_records_per_s: Math.round(sdk),
      mapping_only_records_per_s: Math.round(mapping),
      queued_record_heap_bytes: Math.round(await queuedRecordBytes(events.slice(0, 20_000))),
    };
  } finally {
    await receiver.stop();
  }
}

async function sequential<T>(count: number, fn: () => Promise<T>): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < count; i++) out.push(await fn());
  return out;
}

if (!isMainThread && (workerData as { role?: string } | null)?.role === 'otlp-receiver') {
  await serveRawReceiver();
} else if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const results = await run();
  for (const [key, value] of Object.entries(results)) process.stdout.write(`${key.padEnd(44)} ${value}\n`);
}
