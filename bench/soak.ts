// bench/soak.ts
// Soak: a long exec storm (a million execs by default) through the agent with the JSON sink on, sampling
// its RSS; memory must stay flat. Not part of CI. Usage: node dist/bench/soak.js [execs] [workers]

import { spawnSync } from 'node:child_process';
import { openSync, closeSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { PROGS } from '../test/helpers/agent.js';
import { startBenchAgent } from './bench-agent.js';
import { cpuSeconds, round } from './proc-stats.js';
import { readFileSync } from 'node:fs';

function rssMiB(pid: number): number {
  const kb = Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? '0');
  return kb / 1024;
}

export async function run(execs = 1_000_000, workers = 2): Promise<Record<string, number>> {
  const out = join(tmpdir(), `execscope-soak-${process.pid}.jsonl`);
  const fd = openSync('/dev/null', 'w');
  const agent = await startBenchAgent(['-o', 'json', '--server-address', ''], fd);
  const pid = agent.pid;
  const samples: { t: number; execs: number; rss: number }[] = [];
  const chunk = 50_000;
  const started = Date.now();
  const cpu0 = cpuSeconds(pid);
  for (let done = 0; done < execs; done += chunk) {
    const r = spawnSync(join(PROGS, 'storm'), ['-p', String(workers), '-n', String(Math.ceil(chunk / workers)), '-e', join(PROGS, 'tiny'), '-t', `soak${done}`], {
      encoding: 'utf8',
    });
    if (r.status !== 0) throw new Error(`storm failed: ${r.stderr}`);
    samples.push({ t: (Date.now() - started) / 1000, execs: done + chunk, rss: rssMiB(pid) });
    process.stderr.write(`soak: ${done + chunk} execs, ${round((Date.now() - started) / 1000, 1)} s, RSS ${round(rssMiB(pid), 1)} MiB\n`);
  }
  const cpu = cpuSeconds(pid) - cpu0;
  await agent.stop();
  closeSync(fd);
  rmSync(out, { force: true });
  const tenth = Math.max(1, Math.floor(samples.length / 10));
  const early = samples.slice(tenth, 2 * tenth).map((s) => s.rss);
  const late = samples.slice(-tenth).map((s) => s.rss);
  const avg = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  return {
    'soak.execs': samples.at(-1)?.execs ?? 0,
    'soak.seconds': round((Date.now() - started) / 1000, 1),
    'soak.rss_mib_after_10pct': round(avg(early), 1),
    'soak.rss_mib_last_10pct': round(avg(late), 1),
    'soak.rss_mib_max': round(Math.max(...samples.map((s) => s.rss)), 1),
    'soak.rss_growth_mib': round(avg(late) - avg(early), 1),
    'soak.agent_cpu_s_per_10k_execs': round((cpu / (samples.at(-1)?.execs ?? 1)) * 10_000),
  };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log(JSON.stringify(await run(Number(process.argv[2] ?? 1_000_000), Number(process.argv[3] ?? 2)), null, 2));
}
