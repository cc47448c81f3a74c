// bench/replay.ts
// The user-space path alone, on one core: decode → process cache → JSON encode, in events per second.

import { pathToFileURL } from 'node:url';
import { EventJsonWriter } from '../receiver/src/encode/event-json-writer.js';
import type { ExecscopeEvent } from '../receiver/src/model/events.js';
import { ProcessCache } from '../receiver/src/process/process-cache.js';
import { WallClock } from '../receiver/src/process/wall-clock.js';
import { containerIdFromCgroupPath } from '../receiver/src/enrich/container-id.js';
import { BatchDecoder } from '../receiver/src/wire/decode.js';
import { batchOf, execRecord, exitRecord, forkRecord } from '../test/helpers/record-builder.js';
import { median, round } from './proc-stats.js';

const WALL_OFFSET = 1_790_000_000_000_000_000n;

/** Batches shaped like an exec storm: fork, exec, exit per process, 256 processes per batch. */
export function stormBatches(processes: number, perBatch = 256): Buffer[] {
  const batches: Buffer[] = [];
  let seq = 1;
  let ktime = 1_000_000_000n;
  for (let i = 0; i < processes; i += perBatch) {
    const records: Buffer[] = [];
    for (let j = 0; j < perBatch && i + j < processes; j++) {
      const pid = 10_000 + ((i + j) % 50_000);
      records.push(forkRecord({ ktime: (ktime += 1000n), tgid: pid, ppid: 1000, seq: seq++ }));
      records.push(
        execRecord({
          ktime: (ktime += 20_000n),
          tgid: pid,
          ppid: 1000,
          seq: seq++,
          filename: '/usr/bin/curl',
          argv: ['curl', '-sS', `https://example.com/${i + j}`, '-o', '/dev/null'],
          cwd: '/home/user/project',
          cgroupV2: '/user.slice/user-1000.slice/session-2.scope',
          env: ['TRACEPARENT=00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'],
        }),
      );
      records.push(exitRecord({ ktime: (ktime += 300_000n), tgid: pid, exitCode: 0, seq: seq++ }));
    }
    batches.push(batchOf(records));
  }
  return batches;
}

export function replayOnce(batches: readonly Buffer[], encode: boolean): { events: number; seconds: number } {
  const clock = new WallClock(() => ({ boottimeNs: 0n, realtimeNs: WALL_OFFSET }));
  const cache = new ProcessCache({
    nodeName: 'bench-node',
    maxEntries: 65536,
    gcGraceMs: 30_000,
    toWallTime: (ns) => clock.fromBoottime(ns),
    containerIdOf: containerIdFromCgroupPath,
    ancestors: false,
  });
  const decoder = new BatchDecoder();
  const json = new EventJsonWriter();
  let events = 0;
  let bytes = 0;
  const sink = (e: ExecscopeEvent) => {
    events++;
    if (encode) bytes += json.write(e).length;
  };
  const start = process.hrtime.bigint();
  for (const batch of batches) {
    decoder.decode(batch, (r) => {
      if (r.kind === 'fork') cache.onFork(r);
      else if (r.kind === 'exec') sink(cache.onExec(r));
      else sink(cache.onExit(r));
    });
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (bytes < 0) throw new Error('unreachable');
  return { events, seconds };
}

export async function run(processes = 100_000, runs = 5): Promise<Record<string, number>> {
  const batches = stormBatches(processes);
  replayOnce(batches.slice(0, 20), true); // warm up the JIT
  const withJson: number[] = [];
  const withoutJson: number[] = [];
  for (let i = 0; i < runs; i++) {
    const a = replayOnce(batches, true);
    withJson.push(a.events / a.seconds);
    const b = replayOnce(batches, false);
    withoutJson.push(b.events / b.seconds);
  }
  return {
    'replay.records': processes * 3,
    'replay.decode_cache_json_events_per_s': round(median(withJson), 0),
    'replay.decode_cache_events_per_s': round(median(withoutJson), 0),
  };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log(JSON.stringify(await run(), null, 2));
}
