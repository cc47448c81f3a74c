// bench/otlp-durable.ts
// CPU per 10k records of OTLP export through the durable queue (--otlp-queue-dir) versus the in-memory path.
// Usage: node dist/bench/otlp-durable.js

import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { compactBody } from '../receiver/src/cli/features/otlp-feature.js';
import { silentLogger } from '../receiver/src/logger.js';
import { MetricsRegistry } from '../receiver/src/metrics.js';
import { resolveOtlpConfig } from '../receiver/src/otel/otlp-config.js';
import { OtlpLogSink } from '../receiver/src/otel/otlp-log-sink.js';
import type { OtlpLogSinkDeps } from '../receiver/src/otel/otlp-log-sink.js';
import type { ProcessEvent } from '../receiver/src/otel/record-attributes.js';
import { workload } from './otlp-replay.js';
import { median, round } from './proc-stats.js';

const RECORDS = 100_000;
const RUNS = 3;
/** Events written per turn of the event loop, as the agent's pipeline hands over a decoded ring batch. */
const CHUNK = 1024;

// ---- the receiver, in another process so that process.cpuUsage() here is the exporting side only ----------

type ReceiverMessage = { readonly port: number } | { readonly ack: true };

/** A raw OTLP/gRPC logs endpoint that answers an empty response, or UNAVAILABLE while told to refuse. */
async function serveReceiver(): Promise<void> {
  let refusing = false;
  const server = new grpc.Server();
  const passThrough = (b: Buffer): Buffer => b;
  server.addService(
    {
      Export: {
        path: '/opentelemetry.proto.collector.logs.v1.LogsService/Export',
        requestStream: false,
        responseStream: false,
        requestSerialize: passThrough,
        requestDeserialize: passThrough,
        responseSerialize: passThrough,
        responseDeserialize: passThrough,
      },
    },
    {
      Export: (_call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
        if (refusing) callback({ code: grpc.status.UNAVAILABLE, details: 'refusing' });
        else callback(null, Buffer.alloc(0));
      },
    },
  );
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) => (error === null ? resolve(bound) : reject(error))),
  );
  process.on('message', (message: { refusing?: boolean; stop?: boolean }) => {
    if (message.stop === true) server.tryShutdown(() => process.exit(0));
    if (message.refusing !== undefined) refusing = message.refusing;
    process.send?.({ ack: true } satisfies ReceiverMessage);
  });
  process.send?.({ port } satisfies ReceiverMessage);
}

class ReceiverProcess {
  private constructor(
    private readonly _child: ChildProcess,
    readonly port: number,
  ) {}

  static async start(): Promise<ReceiverProcess> {
    const child = fork(fileURLToPath(import.meta.url), ['--receiver'], { stdio: 'inherit' });
    const port = await new Promise<number>((resolve, reject) => {
      child.once('message', (message: ReceiverMessage) => ('port' in message ? resolve(message.port) : reject(new Error('no port'))));
      child.once('error', reject);
    });
    return new ReceiverProcess(child, port);
  }

  setRefusing(refusing: boolean): Promise<void> {
    return new Promise((resolve) => {
      this._child.once('message', () => resolve());
      this._child.send({ refusing });
    });
  }

  async stop(): Promise<void> {
    const exited = new Promise((resolve) => this._child.once('exit', resolve));
    this._child.send({ stop: true });
    await exited;
  }
}

// ---- the measurements --------------------------------------------------------------------------------------

type Mode = 'memory' | 'durable' | 'durable-uncached' | 'outage';

interface RunResult {
  /** CPU (user + system, all threads of this process) per 10k records, from the first write to the last ack. */
  readonly cpuMsPer10k: number;
  /** Outage only: CPU per 10k while the endpoint refused (map, serialize, write to disk). */
  readonly spillCpuMsPer10k?: number;
  /** Outage only: CPU per 10k to send the backlog once the endpoint accepted. */
  readonly drainCpuMsPer10k?: number;
  readonly recordsPerSecond: number;
  /** Bytes of segment files per record (outage only, when everything is on disk). */
  readonly diskBytesPerRecord?: number;
}

function cpuMs(usage: NodeJS.CpuUsage): number {
  return (usage.user + usage.system) / 1000;
}

async function writeAll(sink: OtlpLogSink, events: readonly ProcessEvent[]): Promise<void> {
  for (let i = 0; i < events.length; i += CHUNK) {
    const end = Math.min(events.length, i + CHUNK);
    for (let j = i; j < end; j++) sink.write(events[j] as ProcessEvent);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 20));
}

/** Writes every event through a sink to the receiver and waits until all are acknowledged. */
async function measure(mode: Mode, events: readonly ProcessEvent[], receiver: ReceiverProcess): Promise<RunResult> {
  const dir = mode === 'memory' ? undefined : mkdtempSync(join(tmpdir(), 'execscope-bench-queue-'));
  try {
    const config = resolveOtlpConfig(
      { endpoint: `http://127.0.0.1:${receiver.port}`, ...(dir === undefined ? {} : { queueDir: dir }) },
      { env: { OTEL_BLRP_MAX_QUEUE_SIZE: String(RECORDS) }, warn: () => {} },
    );
    if (config === undefined) throw new Error('OTLP config did not resolve');
    const registry = new MetricsRegistry();
    const deps: OtlpLogSinkDeps = { logger: silentLogger, metrics: registry, nodeName: 'bench-node', formatBody: compactBody, ...(mode === 'durable-uncached' ? { queueTuning: { cacheBytes: 0 } } : {}) };
    const gauge = (name: string): number => registry.find(name)?.get() ?? 0;
    const sink = new OtlpLogSink(config, deps);
    if (mode === 'outage') await receiver.setRefusing(true);
    const cpu0 = process.cpuUsage();
    const started = performance.now();
    await writeAll(sink, events);
    let spill: number | undefined;
    let diskBytes: number | undefined;
    let drainStart: NodeJS.CpuUsage | undefined;
    if (mode === 'outage') {
      await until(() => gauge('execscope_otlp_disk_queue_records') === events.length);
      spill = cpuMs(process.cpuUsage(cpu0));
      diskBytes = gauge('execscope_otlp_disk_queue_bytes');
      drainStart = process.cpuUsage();
      await receiver.setRefusing(false);
    }
    // close() sends on while sends succeed: it returns when the last record is acknowledged.
    await sink.close(300_000);
    const seconds = (performance.now() - started) / 1000;
    const total = cpuMs(process.cpuUsage(cpu0));
    const exported = gauge('execscope_otlp_records_exported_total');
    if (exported !== events.length) throw new Error(`${mode}: exported ${exported} of ${events.length}`);
    const per10k = (ms: number): number => round((ms * 10_000) / events.length, 1);
    return {
      cpuMsPer10k: per10k(total),
      recordsPerSecond: Math.round(events.length / seconds),
      ...(spill === undefined ? {} : { spillCpuMsPer10k: per10k(spill) }),
      ...(drainStart === undefined ? {} : { drainCpuMsPer10k: per10k(cpuMs(process.cpuUsage(drainStart))) }),
      ...(diskBytes === undefined ? {} : { diskBytesPerRecord: Math.round(diskBytes / events.length) }),
    };
  } finally {
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  }
}

async function medianOf(mode: Mode, events: readonly ProcessEvent[], receiver: ReceiverProcess): Promise<Required<RunResult>> {
  const runs: RunResult[] = [];
  for (let i = 0; i < RUNS; i++) runs.push(await measure(mode, events, receiver));
  const pick = (key: keyof RunResult): number => median(runs.map((r) => r[key] ?? Number.NaN));
  return {
    cpuMsPer10k: pick('cpuMsPer10k'),
    recordsPerSecond: pick('recordsPerSecond'),
    spillCpuMsPer10k: pick('spillCpuMsPer10k'),
    drainCpuMsPer10k: pick('drainCpuMsPer10k'),
    diskBytesPerRecord: pick('diskBytesPerRecord'),
  };
}

/**
 * CPU per 10k records (median of 3 runs of 100k) for: the in-memory path; the durable queue with the endpoint
 * up (every batch written, then sent from the memory cache); the same without the cache (every batch read
 * back from disk); and a backlog written while the endpoint refused, then drained.
 */
export async function run(): Promise<Record<string, number>> {
  const events = workload(RECORDS);
  const receiver = await ReceiverProcess.start();
  try {
    await measure('memory', events.slice(0, 20_000), receiver); // warm-up
    await measure('durable', events.slice(0, 20_000), receiver);
    const memory = await medianOf('memory', events, receiver);
    const durable = await medianOf('durable', events, receiver);
    const uncached = await medianOf('durable-uncached', events, receiver);
    const outage = await medianOf('outage', events, receiver);
    return {
      memory_cpu_ms_per_10k: memory.cpuMsPer10k,
      memory_records_per_s: memory.recordsPerSecond,
      durable_cpu_ms_per_10k: durable.cpuMsPer10k,
      durable_records_per_s: durable.recordsPerSecond,
      durable_overhead_percent: round(((durable.cpuMsPer10k - memory.cpuMsPer10k) / memory.cpuMsPer10k) * 100, 1),
      durable_uncached_cpu_ms_per_10k: uncached.cpuMsPer10k,
      outage_spill_cpu_ms_per_10k: outage.spillCpuMsPer10k,
      outage_drain_cpu_ms_per_10k: outage.drainCpuMsPer10k,
      outage_total_cpu_ms_per_10k: outage.cpuMsPer10k,
      outage_disk_bytes_per_record: outage.diskBytesPerRecord,
    };
  } finally {
    await receiver.stop();
  }
}

if (process.argv[2] === '--receiver') {
  await serveReceiver();
} else if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const results = await run();
  for (const [key, value] of Object.entries(results)) process.stdout.write(`${key.padEnd(36)} ${value}\n`);
}
