// test/unit/agent/exec-throttle.test.ts
// --cgroup-rate: per-cgroup windows, exits of throttled execs dropped too, START/STOP announced, counts exact.

import test from 'ava';
import { ExecThrottle, parseCgroupRate } from '../../../receiver/src/agent/exec-throttle.js';
import type { Logger } from '../../../receiver/src/logger.js';
import { MetricsRegistry } from '../../../receiver/src/metrics.js';
import { sampleProcess } from '../../helpers/sample-events.js';

function setup() {
  let now = 0;
  const logs: string[] = [];
  const logger: Logger = { debug() {}, info() {}, warn: (m) => logs.push(m), error() {} };
  const metrics = new MetricsRegistry();
  const throttle = new ExecThrottle({ events: 3, intervalMs: 1000, logger, metrics, now: () => now });
  return { throttle, metrics, logs, advance: (ms: number) => (now += ms) };
}

const proc = (i: number, cgroupPath = '/a') => sampleProcess({ pid: 1000 + i, execId: `id-${cgroupPath}-${i}`, cgroupPath });

test('allows N execs per interval per cgroup, drops the rest with their exits, and counts both', (t) => {
  const { throttle, metrics, logs, advance } = setup();
  const results = [0, 1, 2, 3, 4].map((i) => throttle.allowExec(proc(i)));
  t.deepEqual(results, [true, true, true, false, false]);
  t.true(throttle.allowExec(proc(0, '/b')), 'another cgroup has its own budget');
  t.false(throttle.allowExit(proc(3)));
  t.true(throttle.allowExit(proc(0)));
  t.is(metrics.find('execscope_exec_throttled_total')?.get({ event: 'exec' }), 2);
  t.is(metrics.find('execscope_exec_throttled_total')?.get({ event: 'exit' }), 1);
  t.true(logs.some((l) => l.startsWith('throttle START')));
  advance(1000);
  t.true(throttle.allowExec(proc(10)));
  advance(1000);
  t.true(throttle.allowExec(proc(11)));
  t.true(logs.some((l) => l.startsWith('throttle STOP')));
});

test('parses Tetragon-style "<events>,<interval>"', (t) => {
  const d = (v: string) => (v.endsWith('ms') ? Number(v.slice(0, -2)) : Number(v.slice(0, -1)) * 1000);
  t.deepEqual(parseCgroupRate('1000,1s', d), { events: 1000, intervalMs: 1000 });
  t.deepEqual(parseCgroupRate(' 5 , 200ms ', d), { events: 5, intervalMs: 200 });
  t.is(parseCgroupRate('1000', d), undefined);
  t.is(parseCgroupRate('0,1s', d), undefined);
  t.is(parseCgroupRate('x,1s', d), undefined);
});
