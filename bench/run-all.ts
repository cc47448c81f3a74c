// bench/run-all.ts
// `npm run bench`: every benchmark in turn, figures printed as JSON (kernel benchmarks need root).
// BENCH=replay,storm,… picks some; STORM_EXECS sets the storm size (default 200000); BENCH=soak runs the soak.

import { run as enrich } from './enrich.js';
import { run as execStorm } from './exec-storm.js';
import { run as grpcFanout } from './grpc-fanout.js';
import { run as otlpDurable } from './otlp-durable.js';
import { run as otlpReplay } from './otlp-replay.js';
import { run as replay } from './replay.js';
import { run as soak } from './soak.js';
import { run as stormSinks } from './storm-sinks.js';

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const benches: Record<string, () => Promise<Record<string, number>>> = {
  replay: () => replay(),
  'otlp-replay': () => otlpReplay(),
  'otlp-durable': () => otlpDurable(),
  enrich: () => enrich(),
  'grpc-fanout': () => grpcFanout(),
  'storm-sinks': () => stormSinks(),
  storm: () => execStorm({ execs: Number(process.env['STORM_EXECS'] ?? 200_000), runs: 3, workers: [2, 4], binaries: ['tiny', 'true'] }),
};
// The soak (a million execs, minutes long) runs only when asked for: BENCH=soak.
const optional: Record<string, () => Promise<Record<string, number>>> = { soak: () => soak(Number(process.env['SOAK_EXECS'] ?? 1_000_000)) };
const wanted = (process.env['BENCH'] ?? Object.keys(benches).join(',')).split(',');
Object.assign(benches, optional);
const all: Record<string, Record<string, number>> = {};
for (const name of wanted) {
  const bench = benches[name];
  if (bench === undefined) throw new Error(`unknown benchmark ${name} (have ${Object.keys(benches).join(', ')})`);
  if ((name === 'storm' || name === 'storm-sinks' || name === 'soak') && !isRoot) {
    process.stderr.write('*** SKIPPING the exec storm: it needs root to load BPF programs ***\n');
    continue;
  }
  process.stderr.write(`bench: ${name}…\n`);
  all[name] = await bench();
  process.stderr.write(`${JSON.stringify(all[name])}\n`);
}
console.log(JSON.stringify(all, null, 2));
