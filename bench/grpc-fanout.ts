// bench/grpc-fanout.ts
// GetEvents fan-out: events/s delivered to 1 and 10 clients, and push→client latency at 1k events/s.

import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { createSensorsClient } from '../receiver/src/grpc/client.js';
import { parseServerAddress } from '../receiver/src/grpc/address.js';
import { GrpcEventServer } from '../receiver/src/grpc/server.js';
import { silentLogger } from '../receiver/src/logger.js';
import { MetricsRegistry } from '../receiver/src/metrics.js';
import { loadTetragonProto } from '../receiver/src/proto/load.js';
import type { GetEventsResponseMsg } from '../receiver/src/proto/messages.js';
import { samplePod, sampleExec, sampleProcess } from '../test/helpers/sample-events.js';

const THROUGHPUT_MS = 3000;
const LATENCY_MS = 3000;
const LATENCY_RATE = 1000;
/** Events pushed per event-loop turn in the throughput phase ("as fast as possible", yet letting gRPC send). */
const PUSH_BATCH = 500;

/** Absolute milliseconds comparable across threads. */
function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

interface ClientStats {
  readonly received: number[];
  readonly latenciesMs: number[];
}

// ---- client side, in a worker thread so decoding does not share the server's event loop ------------------

function runClients(target: string, count: number): void {
  const proto = loadTetragonProto();
  const received = new Array<number>(count).fill(0);
  let latencies: number[] = [];
  let measureLatency = false;
  for (let i = 0; i < count; i++) {
    const call = createSensorsClient(proto, target).GetEvents({});
    call.on('data', (m: GetEventsResponseMsg) => {
      received[i] = (received[i] ?? 0) + 1;
      if (measureLatency && i === 0) latencies.push(nowMs() - Number(m.process_exec?.process?.arguments ?? 'NaN'));
    });
    call.on('error', () => undefined);
  }
  parentPort?.on('message', (message: string) => {
    if (message === 'reset') {
      received.fill(0);
      latencies = [];
    } else if (message === 'latency-on') {
      measureLatency = true;
    } else if (message === 'stats') {
      parentPort?.postMessage({ received: [...received], latenciesMs: latencies } satisfies ClientStats);
    } else if (message === 'stop') {
      process.exit(0);
    }
  });
  parentPort?.postMessage('started');
}

class ClientThread {
  private constructor(private readonly _worker: Worker) {}

  static async start(target: string, count: number): Promise<ClientThread> {
    const worker = new Worker(new URL(import.meta.url), { workerData: { role: 'grpc-clients', target, count } });
    await new Promise<void>((resolve, reject) => {
      worker.once('message', () => resolve());
      worker.once('error', reject);
    });
    return new ClientThread(worker);
  }

  send(message: 'reset' | 'latency-on'): void {
    this._worker.postMessage(message);
  }

  stats(): Promise<ClientStats> {
    return new Promise((resolve) => {
      this._worker.once('message', (m: ClientStats) => resolve(m));
      this._worker.postMessage('stats');
    });
  }

  async stop(): Promise<void> {
    this._worker.postMessage('stop');
    await new Promise((resolve) => this._worker.once('exit', resolve));
  }
}

// ---- server side ---------------------------------------------------------------------------------------------

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

function round(n: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

async function measure(clients: number): Promise<Record<string, number>> {
  const metrics = new MetricsRegistry();
  const address = parseServerAddress('127.0.0.1:0');
  if (address === undefined) throw new Error('no address');
  const server = await GrpcEventServer.start({ address, eventQueueSize: 10_000, version: 'bench', logger: silentLogger, metrics, proto: loadTetragonProto() });
  const thread = await ClientThread.start(server.boundTarget, clients);
  while (server.sink.streams.size < clients) await sleep(5);
  const label = clients === 1 ? '1_client' : `${clients}_clients`;
  const event = sampleExec({ process: sampleProcess({ pod: samplePod() }) });
  const dropped = metrics.counter('execscope_grpc_stream_dropped_events_total', '');

  // Throughput: push as fast as the loop allows; count what clients receive in the window.
  thread.send('reset');
  const droppedBefore = dropped.total();
  let pushed = 0;
  const start = performance.now();
  while (performance.now() - start < THROUGHPUT_MS) {
    for (let i = 0; i < PUSH_BATCH; i++) server.sink.write(event);
    pushed += PUSH_BATCH;
    await new Promise((resolve) => setImmediate(resolve));
  }
  const elapsedS = (performance.now() - start) / 1000;
  const throughput = await thread.stats();
  const delivered = throughput.received.reduce((a, b) => a + b, 0);
  const droppedThroughput = dropped.total() - droppedBefore;
  await sleep(1500); // let the queues drain before measuring latency

  // Latency: 1,000 events/s, one event per millisecond tick batch, each stamped with its push time.
  thread.send('reset');
  thread.send('latency-on');
  const latencyStart = performance.now();
  let sent = 0;
  while (performance.now() - latencyStart < LATENCY_MS) {
    const due = Math.floor(((performance.now() - latencyStart) / 1000) * LATENCY_RATE);
    for (; sent < due; sent++) server.sink.write(sampleExec({ process: sampleProcess({ arguments: String(nowMs()) }) }));
    await sleep(1);
  }
  await sleep(500);
  const latency = await thread.stats();
  const sorted = [...latency.latenciesMs].sort((a, b) => a - b);

  await thread.stop();
  await server.close(1000);
  return {
    [`grpc_fanout_${label}_pushed_eps`]: Math.round(pushed / elapsedS),
    [`grpc_fanout_${label}_delivered_eps_total`]: Math.round(delivered / elapsedS),
    [`grpc_fanout_${label}_delivered_eps_per_client`]: Math.round(delivered / clients / elapsedS),
    [`grpc_fanout_${label}_dropped_pct`]: round((100 * droppedThroughput) / Math.max(1, pushed * clients)),
    [`grpc_latency_1k_eps_${label}_p50_ms`]: round(percentile(sorted, 50)),
    [`grpc_latency_1k_eps_${label}_p99_ms`]: round(percentile(sorted, 99)),
    [`grpc_latency_1k_eps_${label}_received`]: sorted.length,
  };
}

/** 1 and then 10 concurrent GetEvents clients (in a worker thread) against one server on this thread. */
export async function run(): Promise<Record<string, number>> {
  return { ...(await measure(1)), ...(await measure(10)) };
}

if (!isMainThread && (workerData as { role?: string } | null)?.role === 'grpc-clients') {
  const data = workerData as { target: string; count: number };
  runClients(data.target, data.count);
} else if (isMainThread && process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const results = await run();
  for (const [key, value] of Object.entries(results)) process.stdout.write(`${key.padEnd(48)} ${value}\n`);
}
