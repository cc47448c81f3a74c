// bench/storm-sinks.ts
// Kernel-driven sink benchmarks: an exec storm streamed to 1 and 10 GetEvents clients, exec → client
// latency at 1k exec/s, and the storm exported over OTLP to a receiver (loss, ratio, agent CPU).

import { spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { createSensorsClient, waitForReady } from '../receiver/src/grpc/client.js';
import { loadTetragonProto } from '../receiver/src/proto/load.js';
import type { GetEventsResponseMsg } from '../receiver/src/proto/messages.js';
import { PROGS } from '../test/helpers/agent.js';
import { startBenchAgent } from './bench-agent.js';
import { plainAttributes, startOtlpReceiver } from '../test/helpers/otlp-receiver.js';
import { cpuSeconds, median, round } from './proc-stats.js';

const TINY = join(PROGS, 'tiny');

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

function storm(workers: number, perWorker: number, tag: string, rate?: number): { execs: number; seconds: number } {
  const args = ['-p', String(workers), '-n', String(perWorker), '-e', TINY, '-t', tag, ...(rate !== undefined ? ['-r', String(rate)] : [])];
  const r = spawnSync(join(PROGS, 'storm'), args, { encoding: 'utf8' });
  const m = /execs=(\d+) seconds=([\d.]+)/.exec(r.stdout);
  if (r.status !== 0 || m === null) throw new Error(`storm failed: ${r.stderr}`);
  return { execs: Number(m[1]), seconds: Number(m[2]) };
}

// ---- gRPC clients, in a worker thread: each counts the storm markers it received and their latency ----------

interface ClientReport {
  readonly markers: number[];
  readonly latenciesMs: number[];
}

function clientWorker(target: string, count: number, tag: string): void {
  const proto = loadTetragonProto();
  const seen = Array.from({ length: count }, () => new Set<string>());
  const latencies: number[] = [];
  let ready = 0;
  for (let i = 0; i < count; i++) {
    const client = createSensorsClient(proto, target);
    void waitForReady(client, 5000).then(() => {
      const call = client.GetEvents({});
      call.on('data', (m: GetEventsResponseMsg) => {
        const p = m.process_exec?.process;
        const args = p?.arguments ?? '';
        if (!args.startsWith(tag)) return;
        seen[i]!.add(args);
        if (i === 0 && m.time !== undefined) {
          const t = Number(m.time.seconds ?? 0) * 1000 + Number(m.time.nanos ?? 0) / 1e6;
          latencies.push(Date.now() - t);
        }
      });
      call.on('error', () => undefined);
      // Streams are live only: give the server a moment to register the call before reporting ready.
      setTimeout(() => {
        if (++ready === count) parentPort?.postMessage('ready');
      }, 200);
    });
  }
  parentPort?.on('message', (msg: string) => {
    if (msg === 'report') parentPort?.postMessage({ markers: seen.map((s) => s.size), latenciesMs: latencies } satisfies ClientReport);
  });
}

async function grpcRun(clients: number, workers: number, perWorker: number, tag: string, rate?: number) {
  const port = await freePort();
  const agent = await startBenchAgent(['--server-address', `127.0.0.1:${port}`]);
  const worker = new Worker(new URL(import.meta.url), { workerData: { role: 'grpc-clients', target: `127.0.0.1:${port}`, count: clients, tag } });
  await new Promise<void>((resolve) => worker.once('message', () => resolve()));
  const cpu0 = cpuSeconds(agent.pid);
  const s = storm(workers, perWorker, tag, rate);
  await new Promise((r) => setTimeout(r, 1500));
  const cpu1 = cpuSeconds(agent.pid);
  worker.postMessage('report');
  const report = await new Promise<ClientReport>((resolve) => worker.once('message', (m: ClientReport) => resolve(m)));
  await worker.terminate();
  await agent.stop();
  return { ...s, report, cpu: cpu1 - cpu0 };
}

export async function run(execs = 60_000): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  const baseGrpc = storm(2, Math.ceil(execs / 2), `gbase${process.pid}`);
  out['grpc.baseline_exec_per_s'] = round(baseGrpc.execs / baseGrpc.seconds, 0);
  for (const clients of [1, 10]) {
    const r = await grpcRun(clients, 2, Math.ceil(execs / 2), `g${clients}c${process.pid}`);
    const delivered = r.report.markers.reduce((a, b) => a + b, 0);
    out[`grpc.${clients}_clients.execs`] = r.execs;
    out[`grpc.${clients}_clients.exec_per_s`] = round(r.execs / r.seconds, 0);
    out[`grpc.${clients}_clients.exec_events_delivered_per_s_total`] = round(delivered / r.seconds, 0);
    out[`grpc.${clients}_clients.exec_events_lost_total`] = r.execs * clients - delivered;
    out[`grpc.${clients}_clients.agent_cpu_s_per_10k_execs`] = round((r.cpu / r.execs) * 10_000);
  }
  // Latency at 1k exec/s: 2 workers × 500/s for 5 s.
  const lat = await grpcRun(1, 2, 2500, `lat${process.pid}`, 500);
  const sorted = [...lat.report.latenciesMs].sort((a, b) => a - b);
  out['grpc.latency.samples'] = sorted.length;
  out['grpc.latency.exec_per_s'] = round(lat.execs / lat.seconds, 0);
  out['grpc.latency.p50_ms'] = round(sorted[Math.floor(sorted.length * 0.5)] ?? Number.NaN, 2);
  out['grpc.latency.p99_ms'] = round(sorted[Math.floor(sorted.length * 0.99)] ?? Number.NaN, 2);

  // OTLP: storm with export on (JSON sink off), against a baseline storm.
  const receiver = await startOtlpReceiver();
  try {
    const base: number[] = [];
    const ratios: number[] = [];
    const cpus: number[] = [];
    let lost = 0;
    let total = 0;
    for (let i = 0; i < 3; i++) {
      const b = storm(2, Math.ceil(execs / 6), `ob${i}`);
      base.push(b.execs / b.seconds);
      const tag = `otlp${i}x${process.pid}`;
      const agent = await startBenchAgent(['--server-address', '', '--otlp-endpoint', receiver.url]);
      const cpu0 = cpuSeconds(agent.pid);
      const s = storm(2, Math.ceil(execs / 6), tag);
      const expected = s.execs * 2; // exec and exit records
      // Count incrementally: the receiver holds every record of every run.
      let got = 0;
      let scanned = receiver.records.length;
      for (let waited = 0; waited < 60_000 && got < expected; waited += 250) {
        await new Promise((r) => setTimeout(r, 250));
        const records = receiver.records;
        for (; scanned < records.length; scanned++) {
          const argv = plainAttributes(records[scanned]!.attributes)['process.command_args'];
          if (Array.isArray(argv) && String(argv[1] ?? '').startsWith(tag)) got++;
        }
      }
      const cpu1 = cpuSeconds(agent.pid);
      await agent.stop();
      lost += expected - got;
      total += s.execs;
      ratios.push(s.execs / s.seconds);
      cpus.push(((cpu1 - cpu0) / s.execs) * 10_000);
    }
    out['otlp.execs'] = total;
    out['otlp.records_lost'] = lost;
    out['otlp.baseline_exec_per_s'] = round(median(base), 0);
    out['otlp.monitored_exec_per_s'] = round(median(ratios), 0);
    out['otlp.throughput_ratio'] = round(median(ratios) / median(base));
    out['otlp.agent_cpu_s_per_10k_execs'] = round(median(cpus));
  } finally {
    await receiver.close();
  }
  return out;
}

if (!isMainThread && (workerData as { role?: string } | null)?.role === 'grpc-clients') {
  const { target, count, tag } = workerData as { target: string; count: number; tag: string };
  clientWorker(target, count, tag);
} else if (isMainThread && process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log(JSON.stringify(await run(Number(process.argv[2] ?? 60_000)), null, 2));
}
