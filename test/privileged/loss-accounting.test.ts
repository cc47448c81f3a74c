// test/privileged/loss-accounting.test.ts
// Forced loss: a tiny kernel ring, then a tiny user-space budget, under an exec storm. Every lost event must
// be counted, and the counts must equal what is missing.

import { spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { PROGS, metricValue, startAgent, warnIfNotRoot, type AgentHandle } from '../helpers/agent.js';
import { plainAttributes, startOtlpReceiver } from '../helpers/otlp-receiver.js';

const privileged = warnIfNotRoot('loss-accounting.test.ts');
const t = privileged ? test.serial : test.skip;

interface Ev {
  process_exec?: { process: { arguments?: string; flags?: string } };
  process_exit?: { process: { arguments?: string } };
}

interface Counts {
  kernelDropped: number;
  kernelDroppedExec: number;
  kernelSeenExec: number;
  userDropped: number;
  gaps: number;
}

async function counts(agent: AgentHandle): Promise<Counts> {
  const text = await agent.metrics();
  const kernelDroppedExec = metricValue(text, 'execscope_kernel_ring_dropped_total', 'record="exec"') ?? 0;
  const kernelDropped =
    kernelDroppedExec +
    (metricValue(text, 'execscope_kernel_ring_dropped_total', 'record="fork"') ?? 0) +
    (metricValue(text, 'execscope_kernel_ring_dropped_total', 'record="exit"') ?? 0);
  return {
    kernelDropped,
    kernelDroppedExec,
    kernelSeenExec: metricValue(text, 'execscope_kernel_records_total', 'record="exec"') ?? 0,
    userDropped: metricValue(text, 'execscope_user_dropped_records_total') ?? 0,
    gaps: metricValue(text, 'execscope_sequence_gap_records_total') ?? 0,
  };
}

/** Runs the storm, waits for the stream to settle, and returns how many storm (and sentinel) execs produced no event. */
/** What a storm run left missing, and how many execs this test itself caused (storm, sentinels, closers). */
interface StormOutcome {
  missing: number;
  ownExecs: number;
}

async function storm(agent: AgentHandle, tag: string, workers: number, perWorker: number, binary: string, padBytes = 0): Promise<StormOutcome> {
  const pad = padBytes > 0 ? ['-a', String(padBytes)] : [];
  const r = spawnSync(join(PROGS, 'storm'), ['-p', String(workers), '-n', String(perWorker), '-e', binary, '-t', tag, ...pad], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`storm failed: ${r.stderr}`);
  // Sentinel: once its exec is out, everything before it has been processed. With a tiny ring the
  // sentinel itself may be dropped, so try again until one arrives.
  let arrived = false;
  let sentinelsLost = 0;
  let sentinels = 0;
  for (let i = 0; i < 20 && !arrived; i++) {
    sentinels++;
    const sentinel = `sentinel-${tag}-${i}`;
    spawnSync('/bin/true', [sentinel]);
    arrived = await agent.waitForJson<Ev>((e) => e.process_exec?.process.arguments === sentinel, 1000).then(
      () => true,
      () => false,
    );
    if (!arrived) sentinelsLost++;
  }
  if (!arrived) throw new Error('no sentinel exec arrived');
  // A gap shows only when a later record from the same CPU has been decoded: end with one exec on every CPU,
  // again while a drop counted meanwhile (another process's records) still waits for its later record.
  let rounds = 0;
  for (; rounds < 5; rounds++) {
    for (let cpu = 0; cpu < availableParallelism(); cpu++) {
      const closing = `closing-${tag}-${rounds}-${cpu}`;
      spawnSync('taskset', ['-c', String(cpu), '/bin/true', closing]);
      await agent.waitForJson<Ev>((e) => e.process_exec?.process.arguments === closing, 5000);
    }
    const c = await counts(agent);
    if (c.gaps === c.kernelDropped + c.userDropped) break;
  }
  rounds = Math.min(rounds + 1, 5);
  const seen = new Set<string>();
  for (const e of agent.jsonEvents<Ev>((ev) => ev.process_exec?.process.arguments?.startsWith(`${tag}-`) === true)) {
    seen.add(e.process_exec!.process.arguments!);
  }
  const cpus = availableParallelism();
  // storm itself, its execs, the sentinels, and per round and CPU a taskset that execs /bin/true
  const ownExecs = 1 + workers * perWorker + sentinels + 2 * cpus * rounds;
  return { missing: workers * perWorker - seen.size + sentinelsLost, ownExecs };
}

t('a kernel ring too small for the storm: drops counted in the kernel equal the missing exec events', async (tt) => {
  const agent = await startAgent(['-o', 'json', '--rb-size', '4K', '--metrics-server', '127.0.0.1:0']);
  try {
    const before = await counts(agent);
    const { missing, ownExecs } = await storm(agent, `ring${process.pid}`, 2, 2500, join(PROGS, 'tiny'));
    const after = await counts(agent);
    const droppedExec = after.kernelDroppedExec - before.kernelDroppedExec;
    // Execs of other processes on the machine meanwhile may be dropped too; they are the only slack allowed.
    const unrelated = Math.max(0, after.kernelSeenExec - before.kernelSeenExec - ownExecs);
    tt.log(`missing ${missing} storm execs; kernel dropped ${after.kernelDropped} records (${droppedExec} exec); ${unrelated} unrelated execs`);
    tt.true(droppedExec > 0, 'a 4 KiB ring must overflow under this storm');
    tt.true(missing <= droppedExec && droppedExec <= missing + unrelated, 'every missing exec event is a counted kernel drop');
    if (unrelated === 0) tt.is(missing, droppedExec);
    tt.is(after.gaps, after.kernelDropped + after.userDropped, 'sequence numbers see exactly the counted drops');
    // Every exec the kernel saw is either an event or a counted drop.
    const nonSeed = agent.jsonEvents<Ev>((e) => e.process_exec !== undefined && !(e.process_exec.process.flags ?? '').includes('procFS')).length;
    tt.is(nonSeed + after.kernelDroppedExec, after.kernelSeenExec);
    tt.true(agent.stderrLines.some((l) => l.includes('records lost since the last check')) || after.kernelDropped > 0);
  } finally {
    await agent.stop();
  }
});

t('a user-space budget too small for a burst: drops counted in user space, sequence gaps agree', async (tt) => {
  const agent = await startAgent(['-o', 'json', '--ring-user-budget', '4K', '--rb-size', '64M', '--metrics-server', '127.0.0.1:0']);
  try {
    // 60 KiB of arguments per exec: batches fill faster than JavaScript takes them.
    const { missing } = await storm(agent, `user${process.pid}`, 2, 1500, join(PROGS, 'tiny'), 60 * 1024);
    const after = await counts(agent);
    tt.log(`missing ${missing}; user dropped ${after.userDropped}; kernel dropped ${after.kernelDropped}; gaps ${after.gaps}`);
    tt.is(after.kernelDropped, 0, 'the 64 MiB ring does not overflow');
    tt.is(after.gaps, after.userDropped, 'every record lost in user space is counted');
    // This test reads the agent's stdout more slowly than 60 KiB events come: the stdout sink drops too (counted).
    const stdoutDropped = metricValue(await agent.metrics(), 'execscope_stdout_dropped_events_total') ?? 0;
    tt.true(after.userDropped > 0, 'a 4 KiB budget must overflow under this burst');
    tt.true(missing > 0 && missing <= after.userDropped + stdoutDropped, 'missing execs are among the counted drops');
  } finally {
    await agent.stop();
  }
});

t('losses are announced in the log, in the JSON stream and as an OTLP record, with the counted totals', async (tt) => {
  const receiver = await startOtlpReceiver();
  const agent = await startAgent(['-o', 'json', '--rb-size', '4K', '--metrics-server', '127.0.0.1:0', '--otlp-endpoint', receiver.url]);
  try {
    await storm(agent, `log${process.pid}`, 2, 1500, join(PROGS, 'tiny'));
    const dropped = (await counts(agent)).kernelDropped;
    const stopped = await agent.stop();
    tt.is(stopped, 0);
    const warning = agent.stderrLines.find((l) => l.includes('records lost since the last check'));
    tt.truthy(warning, 'a warning with the counts is logged (at the latest when the agent stops)');
    tt.regex(warning ?? '', /"lost.kernel_ring":[1-9]/);
    // In band: every loss report together accounts for every counted kernel drop.
    const reports = agent.jsonEvents<{ execscope_loss_report?: { kernel_ring?: string } }>((e) => e.execscope_loss_report !== undefined);
    tt.true(reports.length >= 1);
    const announced = reports.reduce((sum, r) => sum + Number(r.execscope_loss_report?.kernel_ring ?? 0), 0);
    tt.is(announced, dropped);
    const otlp = receiver.records.filter((r) => r.eventName === 'execscope.events.lost');
    tt.true(otlp.length >= 1, 'an execscope.events.lost record reached the OTLP receiver');
    const otlpAnnounced = otlp.reduce((sum, r) => sum + Number(plainAttributes(r.attributes)['execscope.lost.kernel_ring'] ?? 0), 0);
    tt.is(otlpAnnounced, dropped);
  } finally {
    await agent.stop();
    await receiver.close();
  }
});
