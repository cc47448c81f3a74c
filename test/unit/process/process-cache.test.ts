// test/unit/process/process-cache.test.ts
// Parent linkage, fork-only processes, exec without fork, refcounts, GC and eviction, from records alone.

import test from 'ava';
import { hrTimeFromNanos } from '../../../receiver/src/model/hr-time.js';
import { ProcessCache, type ProcessCacheOptions } from '../../../receiver/src/process/process-cache.js';
import { execIdOf } from '../../../receiver/src/process/exec-id.js';
import type { ExecRecord, ExitRecord, ForkRecord } from '../../../receiver/src/wire/records.js';

const NODE = 'n1';
let clock = 0;

function cache(overrides: Partial<ProcessCacheOptions> = {}): ProcessCache {
  return new ProcessCache({
    nodeName: NODE,
    maxEntries: 1000,
    gcGraceMs: 100,
    toWallTime: (ns) => hrTimeFromNanos(1_700_000_000_000_000_000n + ns),
    containerIdOf: (p) => (/([0-9a-f]{64})/.exec(p)?.[1] ?? ''),
    ancestors: false,
    now: () => clock,
    ...overrides,
  });
}

const fork = (tgid: number, ppid: number, ktime: bigint, extra: Partial<ForkRecord> = {}): ForkRecord => ({
  kind: 'fork', cpu: 0, seq: 0, ktime, tgid, ppid, nspid: tgid, pidnsLevel: 0, startBoottime: ktime, ...extra,
});
const exec = (tgid: number, ppid: number, ktime: bigint, filename: string, argv: string[], extra: Partial<ExecRecord> = {}): ExecRecord => ({
  kind: 'exec', cpu: 0, seq: 0, ktime, tgid, tid: tgid, ppid, uid: 0, euid: 0, auid: 4294967295, nspid: tgid, pidnsLevel: 0,
  flags: 0, argsTotal: 0, startBoottime: ktime, cgroupId: 1, filename, argv, cwd: '/tmp', cgroupV2: '/', cgroupV1: '', env: [], ...extra,
});
const exit = (tgid: number, ktime: bigint, exitCode = 0): ExitRecord => ({ kind: 'exit', cpu: 0, seq: 0, ktime, tgid, tid: tgid, exitCode, startBoottime: 0n });

test('fork then exec: clone flag, parent is the forking process, exec_id from exec time', (t) => {
  const c = cache();
  const shell = c.onExec(exec(100, 1, 1000n, '/bin/sh', ['sh']));
  c.onFork(fork(200, 100, 2000n));
  const e = c.onExec(exec(200, 100, 3000n, '/bin/ls', ['ls', '-l']));
  t.is(e.process.flags, 'execve clone');
  t.is(e.parent?.execId, shell.process.execId);
  t.is(e.process.parentExecId, shell.process.execId);
  t.is(e.process.execId, execIdOf(NODE, 3000n, 200));
  t.is(e.process.arguments, '-l');
  t.deepEqual(e.process.argv, ['ls', '-l']);
});

test('exec without fork: parent is the previous image, same pid, no clone flag', (t) => {
  const c = cache();
  c.onFork(fork(300, 1, 10n));
  const sh = c.onExec(exec(300, 1, 20n, '/bin/sh', ['sh', '-c', 'exec echo hi']));
  const echo = c.onExec(exec(300, 1, 30n, '/bin/echo', ['echo', 'hi']));
  t.is(echo.parent?.pid, 300);
  t.is(echo.parent?.execId, sh.process.execId);
  t.is(echo.process.flags, 'execve');
  const x = c.onExit(exit(300, 40n, 0));
  t.is(x.process.execId, echo.process.execId, 'the exit belongs to the latest image');
  t.is(x.parent?.execId, sh.process.execId);
});

test('fork-only child gets an exit carrying the parent image and flags "execve"', (t) => {
  const c = cache();
  const sh = c.onExec(exec(400, 1, 1n, '/bin/sh', ['sh', '-c', '(exit 5) & wait']));
  c.onFork(fork(401, 400, 2n));
  const x = c.onExit(exit(401, 3n, 5 << 8));
  t.is(x.process.binary, '/bin/sh');
  t.is(x.process.flags, 'execve');
  t.is(x.process.execId, execIdOf(NODE, 2n, 401));
  t.is(x.parent?.execId, sh.process.execId);
  t.is(x.status, 5);
  t.is(x.process.refcnt, 1);
});

test('unknown parent gets the ktime-0 id; unknown exit still produces an event', (t) => {
  const c = cache();
  const e = c.onExec(exec(500, 499, 1n, '/bin/true', ['true']));
  t.is(Buffer.from(e.process.parentExecId, 'base64').toString(), `${NODE}:0:499`);
  t.is(c.stats.missingParent, 1);
  const x = c.onExit(exit(777, 5n, 9));
  t.is(x.signal, 'SIGKILL');
  t.is(x.process.pid, 777);
  t.is(c.stats.exitsUnknown, 1);
});

test('a pid namespace init and its descendants are in the init tree; host processes are not', (t) => {
  const c = cache();
  c.onExec(exec(600, 1, 1n, '/usr/bin/runc', ['runc']));
  c.onFork(fork(601, 600, 2n, { nspid: 1, pidnsLevel: 1 }));
  const init = c.onExec(exec(601, 600, 3n, '/bin/sh', ['sh'], { nspid: 1, pidnsLevel: 1 }));
  t.true(init.process.inInitTree);
  t.is(init.process.flags, 'execve clone inInitTree');
  c.onFork(fork(602, 601, 4n, { nspid: 2, pidnsLevel: 1 }));
  const child = c.onExec(exec(602, 601, 5n, '/bin/sleep', ['sleep', '1'], { nspid: 2, pidnsLevel: 1 }));
  t.true(child.process.inInitTree);
  c.onFork(fork(603, 600, 6n));
  const sidecar = c.onExec(exec(603, 600, 7n, '/bin/ls', ['ls'], { nspid: 3, pidnsLevel: 1 }));
  t.false(sidecar.process.inInitTree, 'exec into the namespace from outside (kubectl exec) is not');
});

test('container id comes from the v1 path first, then v2', (t) => {
  const c = cache();
  const id = 'ae7a1981e064c217035e0b23979c8defd51c850d1af26fbcf148187e5b0da61c';
  const e = c.onExec(exec(700, 1, 1n, '/bin/true', ['true'], { cgroupV1: `/kubepods/besteffort/podx/${id}`, cgroupV2: '/' }));
  t.is(e.process.docker, id.slice(0, 31));
  t.is(e.process.containerId, id);
  const e2 = c.onExec(exec(701, 1, 2n, '/bin/true', ['true'], { cgroupV1: '/', cgroupV2: `/system.slice/docker-${id}.scope` }));
  t.is(e2.process.docker, id.slice(0, 31));
  t.is(e2.process.cgroupPath, `/system.slice/docker-${id}.scope`);
});

test('TRACEPARENT is kept on the process; environment variables only through the filter', (t) => {
  const c = cache({ environmentFilter: (vars) => vars.filter((v) => v.key === 'FOO') });
  const e = c.onExec(exec(800, 1, 1n, '/bin/true', ['true'], { env: ['TRACEPARENT=00-a-b-01', 'FOO=bar', 'SECRET=x'] }));
  t.is(e.process.traceParent, '00-a-b-01');
  t.deepEqual(e.process.environmentVariables, [{ key: 'FOO', value: 'bar' }]);
  const plain = cache().onExec(exec(801, 1, 1n, '/bin/true', ['true'], { env: ['TRACEPARENT=00-a-b-01'] }));
  t.is(plain.process.environmentVariables, undefined);
});

test('ancestors: grandparent first, up to pid 1', (t) => {
  const c = cache({ ancestors: true });
  c.onExec(exec(1, 0, 1n, '/sbin/init', ['init']));
  c.onFork(fork(10, 1, 2n));
  c.onExec(exec(10, 1, 3n, '/bin/bash', ['bash']));
  c.onFork(fork(11, 10, 4n));
  c.onExec(exec(11, 10, 5n, '/bin/sh', ['sh']));
  c.onFork(fork(12, 11, 6n));
  const e = c.onExec(exec(12, 11, 7n, '/bin/ls', ['ls']));
  t.deepEqual(e.ancestors?.map((p) => p.binary), ['/bin/bash', '/sbin/init']);
});

test('exited processes stay resolvable for the grace period, then GC removes them', (t) => {
  clock = 0;
  const c = cache();
  const sh = c.onExec(exec(900, 1, 1n, '/bin/sh', ['sh']));
  c.onExit(exit(900, 2n));
  t.truthy(c.get(sh.process.execId));
  clock = 50;
  c.gc();
  t.truthy(c.get(sh.process.execId), 'within the grace period');
  clock = 500;
  c.gc();
  t.is(c.get(sh.process.execId), undefined);
  t.true(c.stats.gcRemoved >= 1);
});

test('a parent with a live child is not collected', (t) => {
  clock = 0;
  const c = cache();
  const sh = c.onExec(exec(950, 1, 1n, '/bin/sh', ['sh']));
  c.onFork(fork(951, 950, 2n));
  c.onExec(exec(951, 950, 3n, '/bin/sleep', ['sleep']));
  c.onExit(exit(950, 4n));
  clock = 10_000;
  c.gc();
  t.truthy(c.get(sh.process.execId));
});

test('the size bound holds; evictions are counted', (t) => {
  const c = cache({ maxEntries: 50 });
  for (let i = 0; i < 200; i++) {
    c.onExec(exec(2000 + i, 1, BigInt(i + 1), '/bin/true', ['true']));
    c.onExit(exit(2000 + i, BigInt(i + 2)));
  }
  t.true(c.size <= 50);
  t.true(c.stats.evictions >= 150);
});

test('exited images beyond the released bound are dropped oldest first, live ones kept', (t) => {
  const c = cache({ maxReleased: 10 });
  const init = c.onExec(exec(1, 0, 1n, '/sbin/init', ['init']));
  for (let i = 0; i < 100; i++) {
    c.onFork(fork(3000 + i, 1, BigInt(10 + i * 3)));
    c.onExec(exec(3000 + i, 1, BigInt(11 + i * 3), '/bin/true', ['true']));
    c.onExit(exit(3000 + i, BigInt(12 + i * 3)));
  }
  t.truthy(c.get(init.process.execId));
  t.true(c.size <= 12, `size ${c.size}`);
});
