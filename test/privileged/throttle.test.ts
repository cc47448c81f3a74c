// test/privileged/throttle.test.ts
// --cgroup-rate against a real exec storm: every storm exec is either emitted or counted as throttled.

import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import test from 'ava';
import { PROGS, metricValue, startAgent, warnIfNotRoot } from '../helpers/agent.js';

const privileged = warnIfNotRoot('throttle.test.ts');
const t = privileged ? test.serial : test.skip;

interface Ev {
  process_exec?: { process: { arguments?: string } };
  process_exit?: { process: { arguments?: string } };
}

t('a storm above --cgroup-rate is throttled; emitted + throttled = execs, and exits follow their execs', async (tt) => {
  const agent = await startAgent(['-o', 'json', '--cgroup-rate', '200,10s', '--metrics-server', '127.0.0.1:0']);
  try {
    const tag = `thr${process.pid}`;
    const r = spawnSync(join(PROGS, 'storm'), ['-p', '2', '-n', '1000', '-e', join(PROGS, 'tiny'), '-t', tag], { encoding: 'utf8' });
    tt.is(r.status, 0);
    await new Promise((res) => setTimeout(res, 500));
    const execs = agent.jsonEvents<Ev>((e) => e.process_exec?.process.arguments?.startsWith(`${tag}-`) === true).length;
    const exits = agent.jsonEvents<Ev>((e) => e.process_exit?.process.arguments?.startsWith(`${tag}-`) === true).length;
    const text = await agent.metrics();
    const throttledExecs = metricValue(text, 'execscope_exec_throttled_total', 'event="exec"') ?? 0;
    tt.log(`emitted ${execs} execs, ${exits} exits; throttled ${throttledExecs}`);
    tt.true(execs <= 200, 'no more than the budget of one window');
    tt.true(throttledExecs >= 2000 - 200);
    // Other processes in the same cgroup (this test's own) share the budget, so compare within the storm.
    tt.true(execs + throttledExecs >= 2000);
    tt.is(exits, execs, 'an exit is emitted exactly when its exec was');
    tt.true(agent.stderrLines.some((l) => l.includes('throttle START')));
  } finally {
    await agent.stop();
  }
});
