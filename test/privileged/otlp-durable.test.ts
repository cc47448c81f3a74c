// test/privileged/otlp-durable.test.ts
// Real kernel → agent → durable OTLP queue: records survive an outage and an agent restart, and arrive in order.

import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { CLI, metricValue, startAgent, warnIfNotRoot } from '../helpers/agent.js';
import { plainValue, startOtlpReceiver, type ReceivedLogRecord } from '../helpers/otlp-receiver.js';

/** True when this build's agent has the durable queue; says loudly when it does not. */
function agentHasDurableQueue(): boolean {
  const help = spawnSync(process.execPath, [CLI, 'agent', '--help'], { encoding: 'utf8' });
  if (help.stdout.includes('--otlp-queue-dir')) return true;
  process.stderr.write('\n*** SKIPPING otlp-durable.test.ts: `execscope agent --help` has no --otlp-queue-dir ***\n\n');
  return false;
}

const enabled = warnIfNotRoot('otlp-durable.test.ts') && agentHasDurableQueue();
const serial = enabled ? test.serial : test.skip;

/** Runs `/bin/sh -c 'exit 0' <mark>` and waits for it to exit. */
async function runMarked(mark: string): Promise<void> {
  const child = spawn('/bin/sh', ['-c', 'exit 0', mark], { env: { PATH: '/usr/bin:/bin' }, stdio: 'ignore' });
  await once(child, 'exit');
}

function markOf(record: ReceivedLogRecord): string | undefined {
  const args = (plainValue(record.attributes['process.command_args']) as unknown[] | undefined) ?? [];
  const last = args.at(-1);
  return typeof last === 'string' && last.startsWith('otlp-durable-') ? last : undefined;
}

serial('exec and exit records written while the endpoint is down arrive after an agent restart, in order', async (t) => {
  const receiver = await startOtlpReceiver({ refusing: true });
  t.teardown(() => receiver.close());
  const dir = mkdtempSync(join(tmpdir(), 'execscope-otlp-durable-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const args = ['--otlp-endpoint', receiver.url, '--otlp-queue-dir', dir, '--metrics-server', '127.0.0.1:0', '--node-name', 'otlp-durable-node'];
  const env = { OTEL_BLRP_SCHEDULE_DELAY: '100' };
  const marks = Array.from({ length: 10 }, (_, i) => `otlp-durable-${process.pid}-${i}`);

  const first = await startAgent(args, { env });
  t.teardown(() => first.stop('SIGKILL'));
  for (const mark of marks.slice(0, 5)) await runMarked(mark);
  await receiver.waitUntil(() => receiver.refusedCalls >= 1, 15_000);
  // SIGTERM delivers what is left in the ring to the sink, which writes it to the queue and exits.
  t.is(await first.stop(), 0);
  t.is(receiver.records.length, 0, 'nothing was accepted during the outage');
  t.true(readdirSync(dir).some((name) => name.endsWith('.seg')), 'the first agent left its records on disk');

  const second = await startAgent(args, { env });
  t.teardown(() => second.stop('SIGKILL'));
  const recovered = metricValue(await second.metrics(), 'execscope_otlp_disk_queue_recovered_records_total') ?? 0;
  t.true(recovered >= 10, `the second agent found the first one's records (${recovered})`);
  for (const mark of marks.slice(5)) await runMarked(mark);
  receiver.setRefusing(false);
  await receiver.waitUntil((records) => records.filter((r) => markOf(r) !== undefined).length >= 2 * marks.length, 20_000);
  const text = await second.metrics();
  const drops = text.split('\n').filter((line) => line.startsWith('execscope_otlp_records_dropped_total') && !line.endsWith(' 0'));
  t.deepEqual(drops, [], 'nothing dropped');
  t.is(await second.stop(), 0);

  const marked = receiver.records.filter((r) => markOf(r) !== undefined);
  const sequence = marked.map((r) => `${r.eventName === 'execscope.process.exec' ? 'exec' : 'exit'} ${markOf(r) ?? ''}`);
  // Each process ran and exited before the next one started: exec, exit, exec, exit, … across both agents.
  t.deepEqual(
    sequence,
    marks.flatMap((mark) => [`exec ${mark}`, `exit ${mark}`]),
  );
});
