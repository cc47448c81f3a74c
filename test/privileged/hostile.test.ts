// test/privileged/hostile.test.ts
// Hostile processes against the real agent: 10,000 threads, 1 MiB argv, invalid UTF-8, terminal escapes, an exec burst.

import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, copyFileSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import anyTest, { type TestFn } from 'ava';
import { PROGS, metricValue, startAgent, warnIfNotRoot, type AgentHandle } from '../helpers/agent.js';

const test = anyTest as TestFn<{ agent: AgentHandle }>;
const privileged = warnIfNotRoot('hostile.test.ts');
const t = privileged ? test.serial : test.skip;

interface Proc {
  binary: string;
  arguments?: string;
  cwd?: string;
  flags?: string;
  pid: number;
}
interface Ev {
  process_exec?: { process: Proc };
  process_exit?: { process: Proc; status?: number };
}

let seq = 0;
const marker = (name: string) => `hostile-${name}-${process.pid}-${++seq}`;
const WORK = `/tmp/execscope-hostile-${process.pid}`;
const TINY = join(PROGS, 'tiny');
const hex = (b: Buffer) => b.toString('hex');

test.before(async (tt) => {
  if (!privileged) return;
  mkdirSync(WORK, { recursive: true });
  tt.context.agent = await startAgent(['-o', 'json', '--metrics-server', '127.0.0.1:0']);
});

test.after.always(async (tt) => {
  await tt.context.agent?.stop();
  rmSync(WORK, { recursive: true, force: true });
});

async function healthz(agent: AgentHandle): Promise<number> {
  return (await fetch(`${agent.metricsUrl ?? ''}/healthz`)).status;
}

/** VmRSS and VmHWM of a process, in MiB. */
function memoryMiB(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rss: kib('VmRSS') / 1024, peak: kib('VmHWM') / 1024 };
}

const execOf = (m: string) => (e: Ev) => e.process_exec?.process.arguments?.includes(m) === true;
const exitOf = (m: string) => (e: Ev) => e.process_exit?.process.arguments?.includes(m) === true;

t('10,000 threads: one exec, one exit with the right status, an exec from a non-leader thread, no thread in the cache', async (tt) => {
  const { agent } = tt.context;
  const cacheBefore = metricValue(await agent.metrics(), 'execscope_process_cache_size') ?? 0;
  const m = marker('threads');
  const r = spawnSync(join(PROGS, 'many-threads'), ['10000', 'exit', '3', m], { encoding: 'utf8' });
  tt.is(r.status, 3, r.stderr);
  await agent.waitForJson<Ev>(execOf(m));
  const exit = await agent.waitForJson<Ev>(exitOf(m));
  tt.is(exit.process_exit!.status, 3);
  // 10,000 threads ended; only the thread group's end is an event.
  await new Promise((resolve) => setTimeout(resolve, 500));
  tt.is(agent.jsonEvents<Ev>(exitOf(m)).length, 1);

  const m2 = marker('threads-exec');
  const child = spawn(join(PROGS, 'many-threads'), ['10000', 'exec', '/bin/echo', m2], { stdio: 'ignore' });
  const exec = await agent.waitForJson<Ev>((e) => e.process_exec?.process.binary === '/bin/echo' && e.process_exec.process.arguments === m2, 20_000);
  tt.is(exec.process_exec!.process.pid, child.pid ?? -1);
  const echoExit = await agent.waitForJson<Ev>((e) => e.process_exit?.process.binary === '/bin/echo' && e.process_exit.process.arguments === m2, 20_000);
  tt.is(echoExit.process_exit!.process.pid, child.pid ?? -1);

  const cacheAfter = metricValue(await agent.metrics(), 'execscope_process_cache_size') ?? 0;
  tt.true(cacheAfter - cacheBefore < 1000, `process cache grew from ${cacheBefore} to ${cacheAfter}: threads must not become processes`);
  tt.is(await healthz(agent), 200);
});

t('1 MiB of argv: the event arrives, truncArgs, arguments start with what was passed', async (tt) => {
  const { agent } = tt.context;
  const m = marker('argv');
  // 16 arguments of 64 KiB (one argument may not exceed 128 KiB), plus the marker: just over 1 MiB.
  const chunks = Array.from({ length: 16 }, (_, i) => String.fromCharCode(97 + i).repeat(64 * 1024));
  const r = spawnSync(TINY, [m, ...chunks]);
  tt.is(r.status, 0, String(r.error ?? ''));
  const e = await agent.waitForJson<Ev>((ev) => ev.process_exec?.process.arguments?.startsWith(`${m} `) === true);
  const p = e.process_exec!.process;
  tt.is(p.binary, TINY);
  tt.true((p.flags ?? '').split(' ').includes('truncArgs'), `flags: ${p.flags}`);
  tt.log(`arguments: ${p.arguments!.length} characters, ending ${JSON.stringify(p.arguments!.slice(-20))}`);
  // --args-max 65535: the marker and most of the first 64 KiB argument, nothing of the later ones.
  tt.true(p.arguments!.startsWith(`${m} ${'a'.repeat(60 * 1024)}`), 'arguments start with the marker and the first argument');
  tt.regex(p.arguments!, /^[^ ]+ a+$/, 'then only the first argument, cut');
  tt.true(p.arguments!.length >= 65_535 - 64 && p.arguments!.length <= 65_535, `arguments hold about --args-max bytes (got ${p.arguments!.length})`);
  const exit = await agent.waitForJson<Ev>((ev) => ev.process_exit?.process.arguments?.startsWith(`${m} `) === true);
  tt.is(exit.process_exit!.process.pid, p.pid);
});

t('invalid UTF-8 in the binary path, the arguments and the cwd becomes U+FFFD', async (tt) => {
  const { agent } = tt.context;
  const m = marker('utf8');
  const dir = Buffer.concat([Buffer.from(`${WORK}/cwd-`), Buffer.from([0xff, 0xfe, 0x80]), Buffer.from('-end')]);
  mkdirSync(dir);
  // A truncated 2-byte sequence, a UTF-16 surrogate encoded in UTF-8, an overlong '/', a 5-byte form.
  const bin = Buffer.concat([Buffer.from(`${WORK}/bin-`), Buffer.from([0xc3, 0x28, 0xed, 0xa0, 0x80]), Buffer.from('-x')]);
  copyFileSync(TINY, bin);
  chmodSync(bin, 0o755);
  const arg = Buffer.concat([Buffer.from(`${m}-`), Buffer.from([0xc0, 0xaf, 0xf8, 0x88, 0x80, 0x80, 0x80, 0x41])]);
  const r = spawnSync(join(PROGS, 'exec-raw'), ['-d', hex(dir), hex(bin), hex(arg)], { encoding: 'utf8' });
  tt.is(r.status, 0, r.stderr);
  const e = await agent.waitForJson<Ev>(execOf(m));
  const p = e.process_exec!.process;
  tt.is(p.binary, bin.toString('utf8'));
  tt.is(p.arguments, arg.toString('utf8'));
  tt.is(p.cwd, dir.toString('utf8'));
  for (const s of [p.binary, p.arguments!, p.cwd!]) {
    tt.true(s.includes('\ufffd'), s);
    tt.false(/[\ud800-\udfff]/.test(s), 'no lone surrogate reaches the event');
  }
  tt.regex(p.arguments!, /A$/, 'decoding resynchronises after the bad bytes');
});

t('terminal escapes in arguments and binary path: compact output never carries a raw ESC or CR, JSON stays valid', async (tt) => {
  const json = tt.context.agent;
  const compact = await startAgent(['-o', 'compact', '--color', 'never', '--metrics-server', '127.0.0.1:0']);
  const raw: Buffer[] = [];
  compact.child.stdout!.on('data', (b: Buffer) => raw.push(b));
  try {
    const m = marker('escape');
    const dir = `${WORK}/esc`;
    mkdirSync(dir, { recursive: true });
    const bin = `${dir}/\x1b[31mevil\r\x07\x1b]0;pwned\x07`;
    copyFileSync(TINY, bin);
    chmodSync(bin, 0o755);
    const args = [m, '\x1b[31mred\x1b[0m', 'carriage\rreturn', 'bell\x07', 'osc\x1b]0;title\x07', 'csi\u009b31m', 'del\x7f', 'new\nline', '\x1b[2J\x1b[H'];
    const r = spawnSync(bin, args);
    tt.is(r.status, 0, String(r.error ?? ''));

    const line = await compact.waitForLine((l) => l.startsWith('🚀 process') && l.includes(m));
    await compact.waitForLine((l) => l.startsWith('💥 exit') && l.includes(m));
    tt.true(line.includes(` "${dir}/\\x1b[31mevil\\r\\a\\x1b]0;pwned\\a" `), line);
    for (const escaped of ['\\x1b[31mred\\x1b[0m', 'carriage\\rreturn', 'bell\\a', 'osc\\x1b]0;title\\a', 'csi\\u009b31m', 'del\\x7f', 'new\\nline', '\\x1b[2J\\x1b[H']) {
      tt.true(line.includes(escaped), `${escaped} in ${line}`);
    }
    const bytes = Buffer.concat(raw);
    tt.is(bytes.indexOf(0x1b), -1, 'no raw ESC anywhere in compact output');
    tt.is(bytes.indexOf(0x0d), -1, 'no raw CR anywhere in compact output');
    tt.is(bytes.indexOf(0x07), -1, 'no raw BEL');
    tt.is(bytes.indexOf(Buffer.from('\u009b')), -1, 'no raw C1 CSI');
    // Exactly one line per event: the newline in an argument did not split it.
    tt.is(bytes.toString('utf8').split('\n').filter((l) => l.includes(m)).length, 2);

    const e = await json.waitForJson<Ev>(execOf(m));
    tt.is(e.process_exec!.process.binary, bin);
    tt.true(e.process_exec!.process.arguments!.includes('\x1b[31mred\x1b[0m'));
    await json.waitForJson<Ev>(exitOf(m));
    const broken = json.stdoutLines.filter((l) => {
      try {
        JSON.parse(l);
        return false;
      } catch {
        return true;
      }
    });
    tt.deepEqual(broken, [], 'every JSON output line parses');
  } finally {
    await compact.stop();
  }
});

interface Counts {
  kernelDropped: number;
  kernelDroppedExec: number;
  kernelDroppedExit: number;
  kernelSeenExec: number;
  userDropped: number;
  /** Events the stdout sink dropped because this test did not read fast enough (0 where the sink never drops). */
  stdoutDropped: number;
  gaps: number;
}

async function counts(agent: AgentHandle): Promise<Counts> {
  const text = await agent.metrics();
  const v = (name: string, labels = '') => metricValue(text, name, labels) ?? 0;
  const kernelDroppedExec = v('execscope_kernel_ring_dropped_total', 'record="exec"');
  const kernelDroppedExit = v('execscope_kernel_ring_dropped_total', 'record="exit"');
  return {
    kernelDroppedExec,
    kernelDroppedExit,
    kernelDropped: kernelDroppedExec + kernelDroppedExit + v('execscope_kernel_ring_dropped_total', 'record="fork"'),
    kernelSeenExec: v('execscope_kernel_records_total', 'record="exec"'),
    userDropped: v('execscope_user_dropped_records_total'),
    stdoutDropped: v('execscope_stdout_dropped_events_total'),
    gaps: v('execscope_sequence_gap_records_total'),
  };
}

t('a burst of 2,000 execs with 60 KiB of argv each: healthy after, RSS under 300 MB, every missing event a counted drop', async (tt) => {
  // A 1 MiB ring holds ~16 such records: the burst overflows it, so the drop accounting is exercised.
  const agent = await startAgent(['-o', 'json', '--metrics-server', '127.0.0.1:0', '--rb-size', '1M']);
  try {
    const tag = marker('burst');
    const before = await counts(agent);
    // Asynchronously, so that this process keeps reading the agent's output meanwhile, as a live consumer would.
    const storm = spawn(join(PROGS, 'storm'), ['-p', '2', '-n', '1000', '-e', TINY, '-t', tag, '-a', String(60 * 1024)], { stdio: 'ignore' });
    const [code] = (await once(storm, 'exit')) as [number | null];
    tt.is(code, 0);
    // Sentinels: once one is out, everything before it was processed (a sentinel may itself be dropped).
    let sentinels = 0;
    for (let arrived = false; !arrived && sentinels < 20; sentinels++) {
      const sentinel = `${tag}-sentinel-${sentinels}`;
      spawnSync(TINY, [sentinel]);
      arrived = await agent.waitForLine((l) => l.includes(`"arguments":"${sentinel}"`), 5000).then(
        () => true,
        () => false,
      );
    }
    const sentinelsLost = Array.from({ length: sentinels }, (_, i) => `"arguments":"${tag}-sentinel-${i}"`).filter((s) => !agent.stdoutLines.some((l) => l.includes(s))).length;
    tt.true(sentinelsLost < sentinels, 'a sentinel arrived');
    // A sequence gap shows only when a later record from the same CPU arrives: one exec on every CPU.
    const cpus = availableParallelism();
    for (let cpu = 0; cpu < cpus; cpu++) {
      const closing = `${tag}-closing-${cpu}`;
      spawnSync('taskset', ['-c', String(cpu), TINY, closing]);
      await agent.waitForLine((l) => l.includes(`"arguments":"${closing}"`), 5000);
    }
    const after = await counts(agent);

    // Markers without parsing 120 MB of JSON: storm's marker is the first argument, "<tag>-<worker>-<i>".
    const seen = { exec: new Set<string>(), exit: new Set<string>() };
    const pattern = new RegExp(`^\\{"process_(exec|exit)":\\{"process":\\{[^}]*?"arguments":"(${tag}-\\d+-\\d+) `);
    for (const line of agent.stdoutLines) {
      const hit = pattern.exec(line.slice(0, 2048));
      if (hit?.[2] !== undefined) seen[hit[1] === 'exec' ? 'exec' : 'exit'].add(hit[2]);
    }
    const missing = 2000 - seen.exec.size + sentinelsLost;
    // An exit whose exec record was lost carries the storm worker's arguments: it counts as missing here too.
    const missingExits = 2000 - seen.exit.size;
    const droppedExec = after.kernelDroppedExec - before.kernelDroppedExec;
    const droppedExit = after.kernelDroppedExit - before.kernelDroppedExit;
    const userDropped = after.userDropped - before.userDropped;
    const stdoutDropped = after.stdoutDropped - before.stdoutDropped;
    // storm itself, its execs, the sentinels, and per CPU taskset and its exec.
    const ownExecs = 1 + 2000 + sentinels + 2 * cpus;
    const unrelated = Math.max(0, after.kernelSeenExec - before.kernelSeenExec - ownExecs);
    const memory = memoryMiB(agent.child.pid ?? -1);
    tt.log(
      `missing ${missing} execs and ${missingExits} exits; kernel dropped ${droppedExec} exec records (${after.kernelDropped - before.kernelDropped} in all); user dropped ${userDropped}; ` +
        `stdout dropped ${stdoutDropped} events; ${unrelated} unrelated execs; RSS ${memory.rss.toFixed(0)} MiB (peak ${memory.peak.toFixed(0)} MiB)`,
    );

    tt.is(await healthz(agent), 200);
    tt.is((await fetch(`${agent.metricsUrl ?? ''}/readyz`)).status, 200);
    // This process reads stdout more slowly than the agent writes it: the stdout sink must drop (and count)
    // rather than hold the backlog.
    tt.true(memory.rss < 300, `VmRSS ${memory.rss.toFixed(0)} MiB`);
    // Every drop is counted: each missing exec event is a counted kernel or user-space record drop, or an event
    // the stdout sink dropped (exec or exit: it does not say which) because this test read too slowly.
    tt.true(missing <= droppedExec + userDropped + stdoutDropped, 'no exec went missing without a counted drop');
    tt.true(missing + missingExits <= 2 * (droppedExec + userDropped) + droppedExit + stdoutDropped, 'no storm event went missing without a counted drop');
    // And no drop was counted that did not happen (other processes' events are the only slack).
    tt.true(droppedExec + userDropped <= missing + unrelated, 'no record drop was counted that did not happen');
    // Besides storm events, stdout may drop our other events (storm's own, sentinels, taskset), other processes'
    // and a few in-band loss reports.
    const otherEvents = 2 * (ownExecs - 2000) + 2 * unrelated + 5;
    tt.true(stdoutDropped <= missing + missingExits + otherEvents, 'no stdout drop was counted that did not happen');
    if (unrelated === 0 && stdoutDropped === 0) tt.is(droppedExec + userDropped, missing);
    tt.is(after.gaps - before.gaps, after.kernelDropped - before.kernelDropped + userDropped, 'sequence numbers see exactly the counted drops');

    // Still working: a new exec is reported.
    const m = marker('after-burst');
    spawnSync(TINY, [m]);
    await agent.waitForLine((l) => l.includes(`"arguments":"${m}"`));
    tt.is(agent.child.exitCode, null);
  } finally {
    await agent.stop();
  }
});

