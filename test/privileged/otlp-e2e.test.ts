// test/privileged/otlp-e2e.test.ts
// Real kernel → agent → OTLP/gRPC → test receiver: trace ids from TRACEPARENT, Resources, nanosecond times.

import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import anyTest, { type TestFn } from 'ava';
import { CLI, startAgent, warnIfNotRoot, type AgentHandle } from '../helpers/agent.js';
import { plainAttributes, plainValue, startOtlpReceiver, type OtlpReceiver, type ReceivedLogRecord } from '../helpers/otlp-receiver.js';

const test = anyTest as TestFn<{ agent: AgentHandle; receiver: OtlpReceiver }>;

/** True when this build's agent wires the OTLP feature; says loudly when it does not. */
function agentHasOtlp(): boolean {
  const help = spawnSync(process.execPath, [CLI, 'agent', '--help'], { encoding: 'utf8' });
  if (help.stdout.includes('--otlp-endpoint')) return true;
  process.stderr.write('\n*** SKIPPING otlp-e2e.test.ts: `execscope agent --help` has no --otlp-endpoint (the OTLP feature is not wired in) ***\n\n');
  return false;
}

const enabled = warnIfNotRoot('otlp-e2e.test.ts') && agentHasOtlp();
const serial = enabled ? test.serial : test.skip;

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN_ID = '00f067aa0ba902b7';

let seq = 0;
function marker(name: string): string {
  return `otlp-e2e-${name}-${process.pid}-${++seq}`;
}

/** Runs `/bin/sh -c <script> <marker>` with extra environment and waits for it to exit. */
async function runShell(script: string, mark: string, env: Record<string, string> = {}): Promise<void> {
  const child = spawn('/bin/sh', ['-c', script, mark], { env: { PATH: '/usr/bin:/bin', ...env }, stdio: 'ignore' });
  await once(child, 'exit');
}

const argsOf = (record: ReceivedLogRecord): unknown[] => (plainValue(record.attributes['process.command_args']) as unknown[] | undefined) ?? [];
const isFor = (eventName: string, mark: string) => (record: ReceivedLogRecord) => record.eventName === eventName && argsOf(record).includes(mark);

/** Nanoseconds since the epoch of an RFC 3339 time with up to nine fraction digits. */
function rfc3339Nanos(text: string): bigint {
  const m = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?Z$/.exec(text);
  if (m === null) throw new Error(`not RFC 3339: ${text}`);
  const seconds = BigInt(Date.parse(`${m[1] ?? ''}Z`) / 1000);
  return seconds * 1_000_000_000n + BigInt((m[2] ?? '').padEnd(9, '0'));
}

test.before(async (t) => {
  if (!enabled) return;
  const receiver = await startOtlpReceiver();
  const agent = await startAgent(['--otlp-endpoint', receiver.url, '--node-name', 'otlp-e2e-node', '--metrics-server', '127.0.0.1:0'], {
    env: { OTEL_BLRP_SCHEDULE_DELAY: '100', OTEL_SERVICE_NAME: 'execscope-e2e' },
  });
  t.context = { agent, receiver };
});

test.after.always(async (t) => {
  if (!enabled) return;
  await t.context.agent?.stop();
  await t.context.receiver?.close();
});

serial('a process started with TRACEPARENT yields exec and exit records carrying that trace', async (t) => {
  const { receiver } = t.context;
  const mark = marker('traced');
  await runShell('exit 3', mark, { TRACEPARENT: `00-${TRACE_ID}-${SPAN_ID}-01` });
  const [exec] = await receiver.waitForRecords(isFor('execscope.process.exec', mark), 15_000);
  const [exit] = await receiver.waitForRecords(isFor('execscope.process.exit', mark), 15_000);
  t.like(exec, { traceId: TRACE_ID, spanId: SPAN_ID, flags: 1, severityNumber: 9 });
  t.like(exit, { traceId: TRACE_ID, spanId: SPAN_ID, flags: 1, severityNumber: 13 });
  t.is(plainValue(exec?.attributes['process.executable.path']), '/bin/sh');
  t.deepEqual(argsOf(exec!), ['/bin/sh', '-c', 'exit 3', mark]);
  t.is(plainValue(exit?.attributes['process.exit.code']), 3n);
  t.is(plainValue(exec?.attributes['execscope.exec_id']), plainValue(exit?.attributes['execscope.exec_id']));
});

serial('without TRACEPARENT there is no trace; an invalid one is ignored and counted', async (t) => {
  const { receiver, agent } = t.context;
  const plain = marker('plain');
  const invalid = marker('invalid');
  await runShell('exit 0', plain);
  await runShell('exit 0', invalid, { TRACEPARENT: '00-not-a-trace-01' });
  const [plainExec] = await receiver.waitForRecords(isFor('execscope.process.exec', plain), 15_000);
  const [invalidExec] = await receiver.waitForRecords(isFor('execscope.process.exec', invalid), 15_000);
  t.like(plainExec, { traceId: '', spanId: '' });
  t.like(invalidExec, { traceId: '', spanId: '' });
  const metrics = await agent.metrics();
  t.regex(metrics, /^execscope_otlp_invalid_traceparent_total [1-9]\d*$/m);
});

serial('timestamps are the exec time to the nanosecond; host processes share the agent Resource', async (t) => {
  const { receiver } = t.context;
  const marks = [marker('time-a'), marker('time-b'), marker('time-c')];
  for (const mark of marks) await runShell('exit 0', mark);
  const execs: ReceivedLogRecord[] = [];
  for (const mark of marks) execs.push(...(await receiver.waitForRecords(isFor('execscope.process.exec', mark), 15_000)));
  for (const exec of execs) {
    const creation = String(plainValue(exec.attributes['process.creation.time']));
    t.is(exec.timeUnixNano, rfc3339Nanos(creation), `time_unix_nano equals process.creation.time ${creation}`);
  }
  t.true(execs.some((e) => e.timeUnixNano % 1000n !== 0n), 'sub-microsecond digits survive');
  for (const exec of execs) {
    const resource = plainAttributes(exec.resource.attributes);
    t.like(resource, { 'host.name': 'otlp-e2e-node', 'service.name': 'execscope-e2e' });
    t.false(Object.keys(resource).some((k) => k.startsWith('k8s.pod.')), 'host processes carry no pod attributes');
  }
  for (const request of receiver.requests) {
    const hostGroups = request.resourceLogs.filter((rl) => !('k8s.pod.uid' in rl.resource.attributes));
    t.true(hostGroups.length <= 1, 'host records of one export share one ResourceLogs');
  }
});
