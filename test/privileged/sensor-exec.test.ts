// test/privileged/sensor-exec.test.ts
// Real kernel, real processes: exec events as Tetragon reports them (arguments, paths, parents, flags, ids).

import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import anyTest, { type TestFn } from 'ava';
import { PROGS, startAgent, warnIfNotRoot, type AgentHandle } from '../helpers/agent.js';

interface Proc {
  exec_id: string;
  pid: number;
  uid: number;
  cwd?: string;
  binary: string;
  arguments?: string;
  flags?: string;
  start_time: string;
  auid: number;
  parent_exec_id: string;
  tid: number;
  in_init_tree?: boolean;
}
interface Ev {
  process_exec?: { process: Proc; parent?: Proc };
  process_exit?: { process: Proc; parent?: Proc; signal?: string; status?: number };
  node_name: string;
  time: string;
}

const test = anyTest as TestFn<{ agent: AgentHandle; sleeper: ReturnType<typeof spawn>; sleeperMarker: string; dir: string }>;
const privileged = warnIfNotRoot('sensor-exec.test.ts');
const t = privileged ? test.serial : test.skip;

let seq = 0;
function marker(name: string): string {
  return `esm-${name}-${process.pid}-${++seq}`;
}

const isExec = (m: string) => (e: Ev) => e.process_exec?.process.arguments?.includes(m) === true;
/** The exec of `binary` whose arguments mention the marker (a shell that launched it mentions it too). */
const isExecOf = (binary: string, m: string) => (e: Ev) =>
  e.process_exec?.process.binary === binary && e.process_exec.process.arguments?.includes(m) === true;
const isExit = (m: string) => (e: Ev) => e.process_exit?.process.arguments?.includes(m) === true;

test.before(async (t0) => {
  if (!privileged) return;
  const dir = mkdtempSync(join(tmpdir(), 'execscope-test-'));
  const sleeperMarker = marker('before-agent');
  // Started before the agent: must appear as a procFS process with its real parent.
  const sleeper = spawn('/bin/sh', ['-c', 'read x', sleeperMarker], { stdio: ['pipe', 'ignore', 'ignore'] });
  await new Promise((r) => setTimeout(r, 100));
  const agent = await startAgent(['-o', 'json', '--metrics-server', '127.0.0.1:0', '--node-name', 'test-node']);
  t0.context = { agent, sleeper, sleeperMarker, dir };
});

test.after.always(async (t0) => {
  if (!privileged) return;
  t0.context.sleeper?.kill('SIGKILL');
  await t0.context.agent?.stop();
  rmSync(t0.context.dir, { recursive: true, force: true });
});

t('arguments with spaces, empty arguments, quotes and tabs follow Tetragon quoting', async (tt) => {
  const m = marker('quote');
  spawnSync('/bin/echo', [m, 'a b', '', 'say "hi"', 'tab\there', 'last'], { stdio: 'ignore' });
  const e = await tt.context.agent.waitForJson<Ev>(isExec(m));
  // Only arguments with a space are quoted, and quotes inside are not escaped (Tetragon's lossy format).
  tt.is(e.process_exec!.process.arguments, `${m} "a b"  "say "hi"" tab\there last`);
  tt.is(e.process_exec!.process.binary, '/bin/echo');
});

t('a first argument with a space gets a leading space', async (tt) => {
  const m = marker('lead');
  spawnSync('/bin/echo', [`${m} x`], { stdio: 'ignore' });
  const e = await tt.context.agent.waitForJson<Ev>(isExec(m));
  tt.is(e.process_exec!.process.arguments, ` "${m} x"`);
});

t('invalid UTF-8 in arguments becomes U+FFFD', async (tt) => {
  const m = marker('utf8');
  execFileSync('/bin/sh', ['-c', `exec /bin/echo ${m} "$(printf '\\303\\050')" > /dev/null`]);
  const e = await tt.context.agent.waitForJson<Ev>(isExecOf('/bin/echo', m));
  tt.is(e.process_exec!.process.arguments, `${m} \uFFFD(`);
});

t('long arguments arrive whole; past the limit the event still arrives with truncArgs', async (tt) => {
  const m = marker('long');
  const big = 'x'.repeat(40 * 1024);
  spawnSync('/bin/true', [m, big]);
  const e = await tt.context.agent.waitForJson<Ev>(isExec(m));
  tt.is(e.process_exec!.process.arguments, `${m} ${big}`);
  tt.false((e.process_exec!.process.flags ?? '').includes('truncArgs'));

  const m2 = marker('huge');
  spawnSync('/bin/true', [m2, 'y'.repeat(100 * 1024)]);
  const e2 = await tt.context.agent.waitForJson<Ev>(isExec(m2));
  tt.true(e2.process_exec!.process.flags!.split(' ').includes('truncArgs'));
  tt.true(e2.process_exec!.process.arguments!.startsWith(`${m2} yyyy`));
});

t('a binary path near PATH_MAX arrives whole, and so does a deep cwd', async (tt) => {
  let dir = tt.context.dir;
  while (dir.length < 3900) {
    dir = join(dir, 'd'.repeat(200));
    mkdirSync(dir);
  }
  const bin = join(dir, 'true-copy');
  copyFileSync('/bin/true', bin);
  chmodSync(bin, 0o755);
  const m = marker('path');
  spawnSync(bin, [m], { cwd: dir });
  const e = await tt.context.agent.waitForJson<Ev>(isExec(m));
  tt.true(bin.length > 3900);
  tt.is(e.process_exec!.process.binary, bin);
  tt.is(e.process_exec!.process.cwd, dir);
});

t('relative and symlink execs report the path as given, made absolute (symlinks not resolved)', async (tt) => {
  const d = tt.context.dir;
  copyFileSync('/bin/true', join(d, 'rel-true'));
  chmodSync(join(d, 'rel-true'), 0o755);
  symlinkSync('/bin/true', join(d, 'link-true'));
  const m = marker('rel');
  spawnSync('./rel-true', [m], { cwd: d });
  const e = await tt.context.agent.waitForJson<Ev>(isExec(m));
  tt.is(e.process_exec!.process.binary, join(d, 'rel-true'));
  const m2 = marker('link');
  spawnSync(join(d, 'link-true'), [m2]);
  const e2 = await tt.context.agent.waitForJson<Ev>(isExec(m2));
  tt.is(e2.process_exec!.process.binary, join(d, 'link-true'));
});

t('a shebang script is reported as the script, its arguments starting with the script path', async (tt) => {
  const script = join(tt.context.dir, 'script.sh');
  writeFileSync(script, '#!/bin/sh\nexit 0\n');
  chmodSync(script, 0o755);
  const m = marker('shebang');
  spawnSync(script, [m]);
  const e = await tt.context.agent.waitForJson<Ev>(isExec(m));
  tt.is(e.process_exec!.process.binary, script);
  tt.is(e.process_exec!.process.arguments, `${script} ${m}`);
});

t('a failed exec gives no event', async (tt) => {
  const m = marker('fail');
  spawnSync('/bin/sh', ['-c', `exec /nonexistent/${m} 2>/dev/null; /bin/echo ${m}-after > /dev/null`]);
  await tt.context.agent.waitForJson<Ev>(isExec(`${m}-after`));
  tt.is(tt.context.agent.jsonEvents<Ev>((e) => e.process_exec?.process.binary.includes(m) === true).length, 0);
});

t('exec without fork: the parent is the previous image of the same pid', async (tt) => {
  const m = marker('nofork');
  spawnSync('/bin/sh', ['-c', `exec /bin/echo ${m}`], { stdio: 'ignore' });
  const e = await tt.context.agent.waitForJson<Ev>(isExecOf('/bin/echo', m));
  const { process: p, parent } = e.process_exec!;
  tt.is(parent!.pid, p.pid);
  tt.is(p.parent_exec_id, parent!.exec_id);
  tt.regex(parent!.binary, /\/sh$/);
  tt.false(p.flags!.split(' ').includes('clone'));
  tt.true(parent!.flags!.split(' ').includes('clone'));
});

t('fork-only children get an exit with the parent image', async (tt) => {
  const m = marker('forkonly');
  spawnSync('/bin/sh', ['-c', `(exit 5) & wait; /bin/echo ${m} > /dev/null`, m]);
  const e = await tt.context.agent.waitForJson<Ev>((ev) => ev.process_exec?.process.arguments === m);
  const shExec = tt.context.agent.jsonEvents<Ev>((ev) => ev.process_exec?.process.exec_id === e.process_exec!.process.parent_exec_id)[0];
  tt.truthy(shExec, 'the sh that forked is known');
  const shPid = shExec!.process_exec!.process.pid;
  const exit = await tt.context.agent.waitForJson<Ev>(
    (ev) => ev.process_exit !== undefined && ev.process_exit.status === 5 && ev.process_exit.parent?.pid === shPid,
  );
  tt.regex(exit.process_exit!.process.binary, /\/sh$/);
  tt.is(exit.process_exit!.process.flags, 'execve');
  tt.not(exit.process_exit!.process.pid, shPid);
});

for (const code of [0, 1, 42, 255]) {
  t(`exit code ${code} is reported as status`, async (tt) => {
    const m = marker(`code${code}`);
    spawnSync('/bin/sh', ['-c', `exit ${code}`, m]);
    const e = await tt.context.agent.waitForJson<Ev>(isExit(m));
    tt.is(e.process_exit!.status, code === 0 ? undefined : code);
    tt.is(e.process_exit!.signal, undefined);
  });
}

for (const [signal, name] of [
  ['TERM', 'SIGTERM'],
  ['KILL', 'SIGKILL'],
  ['SEGV', 'SIGSEGV'],
] as const) {
  t(`death by ${name} is reported as signal`, async (tt) => {
    const m = marker(`sig${signal}`);
    spawnSync('/bin/sh', ['-c', `kill -${signal} $$`, m]);
    const e = await tt.context.agent.waitForJson<Ev>(isExit(m));
    tt.is(e.process_exit!.signal, name);
    tt.is(e.process_exit!.status, undefined);
  });
}

t('a process with many threads gets exactly one exit, from a non-leader thread', async (tt) => {
  const m = marker('threads');
  const prog = join(PROGS, 'threads-exit');
  const r = spawnSync(prog, ['200', '7', m]);
  tt.is(r.status, 7);
  const exit = await tt.context.agent.waitForJson<Ev>(isExit(m));
  tt.is(exit.process_exit!.status, 7);
  await new Promise((r2) => setTimeout(r2, 300));
  tt.is(tt.context.agent.jsonEvents<Ev>(isExit(m)).length, 1);
  tt.is(exit.process_exit!.process.tid, exit.process_exit!.process.pid);
});

t('exec from a non-leader thread carries the thread group pid', async (tt) => {
  const m = marker('threadexec');
  const child = spawn(join(PROGS, 'thread-exec'), ['/bin/echo', m], { stdio: 'ignore' });
  const e = await tt.context.agent.waitForJson<Ev>((ev) => ev.process_exec?.process.binary === '/bin/echo' && ev.process_exec.process.arguments === m);
  tt.is(e.process_exec!.process.pid, child.pid!);
  tt.is(e.process_exec!.process.tid, child.pid!);
  tt.is(e.process_exec!.parent!.pid, child.pid!);
});

t('processes started before the agent appear as procFS with their real parent', async (tt) => {
  const { sleeper, sleeperMarker, agent } = tt.context;
  const e = await agent.waitForJson<Ev>(isExec(sleeperMarker));
  const p = e.process_exec!.process;
  tt.is(p.pid, sleeper.pid!);
  tt.true(p.flags!.split(' ').includes('procFS'));
  const ktime = BigInt(Buffer.from(p.exec_id, 'base64').toString().split(':')[1] ?? '1');
  tt.is(ktime % 10_000_000n, 0n, 'procFS ktime is /proc starttime in 10 ms ticks');
  const parent = agent.jsonEvents<Ev>((ev) => ev.process_exec?.process.exec_id === p.parent_exec_id)[0];
  tt.truthy(parent);
  tt.is(parent!.process_exec!.process.pid, process.pid);
  tt.is(e.process_exec!.parent!.pid, process.pid);
  const kernel = agent.jsonEvents<Ev>((ev) => ev.process_exec?.process.binary === '<kernel>')[0];
  tt.is(kernel!.process_exec!.process.exec_id, Buffer.from('test-node:1:0').toString('base64'));
});

t('exec ids are unique and link a three-level tree', async (tt) => {
  const m = marker('tree');
  spawnSync('/bin/sh', ['-c', `/bin/sh -c "/bin/echo ${m} > /dev/null; true" ; true`]);
  const leaf = await tt.context.agent.waitForJson<Ev>(isExecOf('/bin/echo', m));
  const mid = tt.context.agent.jsonEvents<Ev>((e) => e.process_exec?.process.exec_id === leaf.process_exec!.process.parent_exec_id)[0];
  tt.truthy(mid);
  tt.regex(mid!.process_exec!.process.arguments!, /^-c "\/bin\/echo/);
  const top = tt.context.agent.jsonEvents<Ev>((e) => e.process_exec?.process.exec_id === mid!.process_exec!.process.parent_exec_id)[0];
  tt.truthy(top);
  tt.true(top!.process_exec!.process.arguments!.startsWith('-c "/bin/sh -c'));
  const ids = tt.context.agent.jsonEvents<Ev>((e) => e.process_exec !== undefined).map((e) => e.process_exec!.process.exec_id);
  tt.is(new Set(ids).size, ids.length, 'no exec_id repeats');
  const decoded = Buffer.from(leaf.process_exec!.process.exec_id, 'base64').toString();
  tt.regex(decoded, new RegExp(`^test-node:\\d+:${leaf.process_exec!.process.pid}$`));
});

t('cwd "/" sets rootcwd; a deleted cwd is reported as such', async (tt) => {
  const m = marker('root');
  spawnSync('/bin/true', [m], { cwd: '/' });
  const e = await tt.context.agent.waitForJson<Ev>(isExec(m));
  tt.is(e.process_exec!.process.cwd, '/');
  tt.true(e.process_exec!.process.flags!.split(' ').includes('rootcwd'));

  const gone = join(tt.context.dir, 'gone');
  mkdirSync(gone);
  const m2 = marker('deleted');
  spawnSync('/bin/sh', ['-c', `cd ${gone} && rmdir ${gone} && /bin/true ${m2}`]);
  const e2 = await tt.context.agent.waitForJson<Ev>(isExecOf('/bin/true', m2));
  tt.is(e2.process_exec!.process.cwd, `${gone} (deleted)`);
});

t('a non-root user is reported by effective uid', async (tt) => {
  const m = marker('uid');
  const r = spawnSync('/bin/true', [m], { uid: 65534, gid: 65534 });
  tt.is(r.status, 0);
  const e = await tt.context.agent.waitForJson<Ev>(isExec(m));
  tt.is(e.process_exec!.process.uid, 65534);
});

t('a memfd exec is reported with its fd path', async (tt) => {
  const m = marker('memfd');
  const r = spawnSync(join(PROGS, 'memfd-exec'), ['/bin/true', m]);
  tt.is(r.status, 0);
  const e = await tt.context.agent.waitForJson<Ev>((ev) => isExec(m)(ev) && ev.process_exec!.process.binary.startsWith('/dev/fd/'));
  tt.regex(e.process_exec!.process.binary, /^\/dev\/fd\/\d+$/);
  tt.is(e.process_exec!.process.arguments, m);
});

t('exec and exit events carry node name, time and the exit status in JSON shape', async (tt) => {
  const m = marker('shape');
  spawnSync('/bin/sh', ['-c', 'exit 3', m]);
  const exec = await tt.context.agent.waitForJson<Ev>(isExec(m));
  const exit = await tt.context.agent.waitForJson<Ev>(isExit(m));
  tt.is(exec.node_name, 'test-node');
  tt.regex(exec.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3}|\.\d{6}|\.\d{9})?Z$/);
  tt.is(exec.process_exec!.process.start_time, exec.time);
  tt.is(exit.process_exit!.process.exec_id, exec.process_exec!.process.exec_id);
  tt.is(exit.process_exit!.status, 3);
  tt.true(Date.parse(exit.time) >= Date.parse(exec.time));
  tt.is(exec.process_exec!.process.auid, exec.process_exec!.parent!.auid);
  tt.false(exec.process_exec!.process.in_init_tree);
});

t('metrics count events and report no loss for a normal workload', async (tt) => {
  const text = await tt.context.agent.metrics();
  const execs = Number(/execscope_events_total\{type="PROCESS_EXEC"\} (\d+)/.exec(text)?.[1]);
  tt.true(execs > 10);
  tt.regex(text, /execscope_kernel_ring_dropped_total\{record="exec"\} 0/);
  tt.regex(text, /execscope_sequence_gap_records_total 0/);
  tt.regex(text, /execscope_user_dropped_records_total 0/);
  const ready = await fetch(`${tt.context.agent.metricsUrl}/readyz`);
  tt.is(ready.status, 200);
});
