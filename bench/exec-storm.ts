// bench/exec-storm.ts
// Exec storm with and without the agent (JSON sink on): throughput ratio, loss by marker, agent CPU and RSS.
// Usage: node dist/bench/exec-storm.js [--execs N] [--runs R] [--workers 2,4] [--binaries tiny,true]

import { pathToFileURL } from 'node:url';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, openSync, closeSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { PROGS } from '../test/helpers/agent.js';
import { startBenchAgent } from './bench-agent.js';
import { cpuSeconds, median, peakRssMiB, round } from './proc-stats.js';

interface StormResult {
  execs: number;
  seconds: number;
}

function runStorm(workers: number, perWorker: number, binary: string, tag: string): StormResult {
  const r = spawnSync(join(PROGS, 'storm'), ['-p', String(workers), '-n', String(perWorker), '-e', binary, '-t', tag], { encoding: 'utf8' });
  const m = /execs=(\d+) seconds=([\d.]+)/.exec(r.stdout);
  if (r.status !== 0 || m === null) throw new Error(`storm failed: ${r.stderr}`);
  return { execs: Number(m[1]), seconds: Number(m[2]) };
}

interface MonitoredRun extends StormResult {
  cpuSeconds: number;
  peakRssMiB: number;
  execEvents: number;
  exitEvents: number;
  lost: number;
  kernelDropped: number;
}

async function runMonitored(workers: number, perWorker: number, binary: string, tag: string, dir: string): Promise<MonitoredRun> {
  const out = join(dir, `${tag}.jsonl`);
  const fd = openSync(out, 'w');
  const agent = await startBenchAgent(['-o', 'json', '--metrics-server', '127.0.0.1:0', '--server-address', ''], fd);
  try {
    const cpu0 = cpuSeconds(agent.pid);
    const storm = runStorm(workers, perWorker, binary, tag);
    // Let the last watermark-less records drain (poll period 10 ms) before reading CPU.
    await new Promise((r) => setTimeout(r, 300));
    const cpu1 = cpuSeconds(agent.pid);
    const rss = peakRssMiB(agent.pid);
    const metrics = await (await fetch(`${agent.metricsUrl ?? ''}/metrics`)).text();
    const peakInFlight = Number(/^execscope_ring_inflight_peak_bytes (\d+)/m.exec(metrics)?.[1] ?? 0);
    process.stderr.write(`  run ${tag}: peak in-flight ${(peakInFlight / 1048576).toFixed(1)} MiB\n`);
    const kernelDropped = [...metrics.matchAll(/^execscope_kernel_ring_dropped_total\{[^}]*\} (\d+)/gm)].reduce((s, m) => s + Number(m[1]), 0);
    await agent.stop();
    closeSync(fd);
    const { execs, exits } = countMarkers(out, tag);
    const expected = workers * perWorker;
    return {
      ...storm,
      cpuSeconds: cpu1 - cpu0,
      peakRssMiB: rss,
      execEvents: execs.size,
      exitEvents: exits.size,
      lost: expected - execs.size + (expected - exits.size),
      kernelDropped,
    };
  } finally {
    rmSync(out, { force: true });
  }
}

function countMarkers(path: string, tag: string): { execs: Set<string>; exits: Set<string> } {
  const execs = new Set<string>();
  const exits = new Set<string>();
  const re = new RegExp(`"arguments":"(${tag}-\\d+-\\d+)"`);
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const m = re.exec(line);
    if (m === null) continue;
    if (line.startsWith('{"process_exec"')) execs.add(m[1] as string);
    else if (line.startsWith('{"process_exit"')) exits.add(m[1] as string);
  }
  return { execs, exits };
}

export interface StormOptions {
  readonly execs: number;
  readonly runs: number;
  readonly workers: readonly number[];
  readonly binaries: readonly string[];
}

export async function run(options: StormOptions = { execs: 200_000, runs: 3, workers: [2, 4], binaries: ['tiny', 'true'] }): Promise<Record<string, number>> {
  const dir = mkdtempSync(join(tmpdir(), 'execscope-bench-'));
  const results: Record<string, number> = {};
  try {
    for (const name of options.binaries) {
      const binary = name === 'tiny' ? join(PROGS, 'tiny') : '/bin/true';
      for (const workers of options.workers) {
        const perWorker = Math.ceil(options.execs / workers / options.runs);
        const base: number[] = [];
        const mon: MonitoredRun[] = [];
        for (let i = 0; i < options.runs; i++) {
          // Interleave so machine noise hits both sides alike.
          const b = runStorm(workers, perWorker, binary, `base${i}`);
          base.push(b.execs / b.seconds);
          mon.push(await runMonitored(workers, perWorker, binary, `mon${workers}x${i}`, dir));
        }
        const key = `${name}.p${workers}`;
        const baseRate = median(base);
        const monRate = median(mon.map((m) => m.execs / m.seconds));
        const totalExecs = mon.reduce((s, m) => s + m.execs, 0);
        results[`${key}.baseline_exec_per_s`] = round(baseRate, 0);
        results[`${key}.monitored_exec_per_s`] = round(monRate, 0);
        results[`${key}.throughput_ratio`] = round(monRate / baseRate);
        results[`${key}.execs_monitored`] = totalExecs;
        results[`${key}.exec_events`] = mon.reduce((s, m) => s + m.execEvents, 0);
        results[`${key}.exit_events`] = mon.reduce((s, m) => s + m.exitEvents, 0);
        results[`${key}.events_lost`] = mon.reduce((s, m) => s + m.lost, 0);
        results[`${key}.kernel_dropped`] = mon.reduce((s, m) => s + m.kernelDropped, 0);
        results[`${key}.agent_cpu_s_per_10k_execs`] = round(median(mon.map((m) => (m.cpuSeconds / m.execs) * 10_000)));
        results[`${key}.agent_peak_rss_mib`] = round(Math.max(...mon.map((m) => m.peakRssMiB)), 1);
        process.stderr.write(`${JSON.stringify(Object.fromEntries(Object.entries(results).filter(([k]) => k.startsWith(key))))}\n`);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return results;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseArgs({
    options: { execs: { type: 'string' }, runs: { type: 'string' }, workers: { type: 'string' }, binaries: { type: 'string' } },
  });
  const results = await run({
    execs: Number(values.execs ?? 200_000),
    runs: Number(values.runs ?? 3),
    workers: (values.workers ?? '2,4').split(',').map(Number),
    binaries: (values.binaries ?? 'tiny,true').split(','),
  });
  console.log(JSON.stringify(results, null, 2));
}

