// test/unit/otel/durable-queue.test.ts
// The durable OTLP queue against a real OTLP/gRPC receiver: outages, restarts, the size bound, torn files.

import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import type { ExecutionContext } from 'ava';
import { Command } from 'commander';
import { OtlpFeature } from '../../../receiver/src/cli/features/otlp-feature.js';
import { ConfigError } from '../../../receiver/src/errors.js';
import { JsonLogger, silentLogger } from '../../../receiver/src/logger.js';
import { MetricsRegistry } from '../../../receiver/src/metrics.js';
import { resolveOtlpConfig } from '../../../receiver/src/otel/otlp-config.js';
import { decodeFrameHeader, FRAME_HEADER_BYTES, SEGMENT_HEADER_BYTES } from '../../../receiver/src/otel/queue-segment-format.js';
import { startOtlpReceiver } from '../../helpers/otlp-receiver.js';
import type { OtlpReceiver, ReceivedLogRecord } from '../../helpers/otlp-receiver.js';
import { createTestSink } from '../../helpers/otlp-sink.js';
import type { TestSink } from '../../helpers/otlp-sink.js';
import { sampleExec, sampleProcess } from '../../helpers/sample-events.js';

function queueDir(t: ExecutionContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'execscope-otlp-queue-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

interface DurableSinkOptions {
  readonly maxSizeMb?: number;
  readonly env?: Readonly<Record<string, string>>;
  readonly logLines?: string[];
}

/** A sink with --otlp-queue-dir, small batches and a short schedule; closed at teardown whatever happened. */
function durableSink(t: ExecutionContext, receiver: OtlpReceiver, dir: string, options: DurableSinkOptions = {}): TestSink {
  const logLines = options.logLines;
  const sink = createTestSink({
    flags: { queueDir: dir, ...(options.maxSizeMb === undefined ? {} : { queueMaxSizeMb: options.maxSizeMb }) },
    env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_BLRP_SCHEDULE_DELAY: '20', OTEL_BLRP_MAX_EXPORT_BATCH_SIZE: '50', ...options.env },
    ...(logLines === undefined ? {} : { logger: new JsonLogger('debug', (line) => logLines.push(line)) }),
  });
  t.teardown(() => sink.sink.close(200));
  return sink;
}

/** Writes one exec per pid, yielding to the event loop between chunks as the agent's pipeline does. */
async function writeExecs(sink: TestSink, pids: readonly number[]): Promise<void> {
  for (let i = 0; i < pids.length; i++) {
    sink.sink.write(sampleExec({ process: sampleProcess({ pid: pids[i] as number }) }));
    if (i % 100 === 99) await new Promise((resolve) => setImmediate(resolve));
  }
}

function range(first: number, count: number): number[] {
  return Array.from({ length: count }, (_, i) => first + i);
}

function pidOf(record: ReceivedLogRecord): number {
  const pid = record.attributes['process.pid'];
  if (pid?.type !== 'int') throw new Error('record without process.pid');
  return Number(pid.value);
}

/** Resolves once `condition` holds; polls every 10 ms and fails after `timeoutMs`. */
async function eventually(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function droppedTotal(sink: TestSink): number {
  return sink.registry.find('execscope_otlp_records_dropped_total')?.total() ?? 0;
}

test('a receiver refusing for longer than the in-memory retry budget, then accepting: nothing lost, order kept', async (t) => {
  const receiver = await startOtlpReceiver({ refusing: true });
  t.teardown(() => receiver.close());
  const dir = queueDir(t);
  // Without the queue, a batch refused for 300 ms would be given up (export_failed).
  const sink = durableSink(t, receiver, dir, { env: { OTEL_BLRP_EXPORT_TIMEOUT: '300' } });
  const written = [...range(1000, 500), ...range(5000, 200)];
  await writeExecs(sink, written.slice(0, 500));
  await receiver.waitUntil(() => receiver.refusedCalls >= 3);
  await writeExecs(sink, written.slice(500));
  await eventually(() => sink.metric('execscope_otlp_disk_queue_records') === 700, 'all 700 records on disk');
  t.true(sink.metric('execscope_otlp_disk_queue_bytes') > 700 * 300, 'the records are in segment files');
  await new Promise((resolve) => setTimeout(resolve, 600));
  receiver.setRefusing(false);
  await receiver.waitForRecords(700);
  await sink.sink.close(5000);

  t.deepEqual(receiver.records.map(pidOf), written, 'every record once, in the order written');
  t.is(sink.metric('execscope_otlp_records_exported_total'), 700);
  t.is(droppedTotal(sink), 0);
  t.is(sink.metric('execscope_otlp_disk_queue_records'), 0);
  t.is(sink.metric('execscope_otlp_exports_total', { outcome: 'retried' }), receiver.refusedCalls);
  t.is(sink.sink.metrics.pending, 0);
  t.deepEqual(readdirSync(dir), ['cursor'], 'sent segments are deleted, the lock released');
});

test('a sink closed while the receiver is down; a new sink on the same directory sends what is left first, in order', async (t) => {
  const receiver = await startOtlpReceiver();
  t.teardown(() => receiver.close());
  const dir = queueDir(t);
  const logLines: string[] = [];
  const first = durableSink(t, receiver, dir, { logLines });
  // Delivered before the outage: the cursor must keep the next sink from sending these again.
  await writeExecs(first, range(1000, 100));
  await receiver.waitForRecords(100);
  receiver.setRefusing(true);
  await writeExecs(first, range(1100, 200));
  await receiver.waitUntil(() => receiver.refusedCalls >= 1);
  const closing = Date.now();
  await first.sink.close(5000);
  t.true(Date.now() - closing < 2000, 'close does not wait for an endpoint that is down');
  t.is(droppedTotal(first), 0, 'nothing counted lost: it is on disk');
  t.true(logLines.some((line) => line.includes('undelivered records stay in the queue') && line.includes('"otel.queued_records":200')));
  t.true(readdirSync(dir).some((name) => name.endsWith('.seg')));

  const second = durableSink(t, receiver, dir);
  t.is(second.metric('execscope_otlp_disk_queue_recovered_records_total'), 200);
  t.is(second.metric('execscope_otlp_disk_queue_records'), 200);
  await writeExecs(second, range(5000, 200));
  await eventually(() => second.metric('execscope_otlp_disk_queue_records') === 400, 'the new records queued behind the old');
  receiver.setRefusing(false);
  await receiver.waitForRecords(500);
  await second.sink.close(5000);

  t.deepEqual(receiver.records.map(pidOf), [...range(1000, 300), ...range(5000, 200)], "each record once, the earlier run's first");
  t.is(second.metric('execscope_otlp_records_exported_total'), 400);
  t.is(droppedTotal(second), 0);
  t.is(second.sink.metrics.pending, 0);
});

test('the size bound: the oldest records are dropped and counted exactly, the newest delivered', async (t) => {
  const receiver = await startOtlpReceiver({ refusing: true });
  t.teardown(() => receiver.close());
  const dir = queueDir(t);
  const sink = durableSink(t, receiver, dir, { maxSizeMb: 1 });
  const written = range(10_000, 4000);
  let peakBytes = 0;
  const sample = setInterval(() => {
    const bytes = readdirSync(dir)
      .filter((name) => name.endsWith('.seg'))
      .reduce((sum, name) => sum + (statSync(join(dir, name), { throwIfNoEntry: false })?.size ?? 0), 0);
    peakBytes = Math.max(peakBytes, bytes);
  }, 5);
  t.teardown(() => clearInterval(sample));
  await writeExecs(sink, written);
  await eventually(() => sink.metric('execscope_otlp_disk_queue_records') + droppedTotal(sink) === written.length, 'every record queued or dropped');
  clearInterval(sample);
  const overflow = sink.metric('execscope_otlp_records_dropped_total', { reason: 'queue_overflow' });
  t.true(overflow > 0, 'the bound was hit');
  t.true(sink.metric('execscope_otlp_disk_queue_bytes') <= 1024 * 1024);
  t.true(peakBytes <= 1024 * 1024, `segment files never exceed 1 MiB (peak ${peakBytes})`);

  receiver.setRefusing(false);
  await eventually(() => sink.metric('execscope_otlp_records_exported_total') + droppedTotal(sink) === written.length, 'the rest delivered', 15_000);
  await sink.sink.close(5000);
  const delivered = receiver.records.map(pidOf);
  t.is(overflow, written.length - delivered.length, 'dropped = written - delivered, exactly');
  t.is(droppedTotal(sink), overflow, 'no other loss');
  t.is(new Set(delivered).size, delivered.length, 'no duplicates');
  t.true(delivered.every((pid, i) => i === 0 || pid > (delivered[i - 1] as number)), 'in order');
  t.is(delivered.at(-1), written.at(-1), 'the newest record arrived');
  // The newest records form one unbroken run up to the last; at most one batch that was being sent when its
  // segment was dropped may precede it.
  const gaps = delivered.filter((pid, i) => i > 0 && pid !== (delivered[i - 1] as number) + 1).length;
  t.true(gaps <= 1, `${gaps} gaps in what was delivered`);
  t.true(delivered.length >= 500, `a full queue's worth delivered (${delivered.length})`);
});

test('a corrupt frame and a torn tail are skipped and counted; the rest is delivered', async (t) => {
  const receiver = await startOtlpReceiver({ refusing: true });
  t.teardown(() => receiver.close());
  const dir = queueDir(t);
  const first = durableSink(t, receiver, dir);
  await writeExecs(first, range(1000, 150));
  await eventually(() => first.metric('execscope_otlp_disk_queue_records') === 150, 'three frames on disk');
  await first.sink.close(5000);

  const [segmentName] = readdirSync(dir).filter((name) => name.endsWith('.seg'));
  const path = join(dir, segmentName ?? 'missing');
  const data = readFileSync(path);
  const offsets: number[] = [];
  for (let pos = SEGMENT_HEADER_BYTES; pos < data.length; ) {
    const header = decodeFrameHeader(data, pos);
    if (header === undefined) throw new Error(`no frame at ${pos}`);
    offsets.push(pos);
    pos += FRAME_HEADER_BYTES + header.length;
  }
  t.is(offsets.length, 3, 'three batches of 50');
  const [, second, third] = offsets as [number, number, number];
  // A flipped byte in the second frame's payload, and a copy of its first half appended: a write cut short.
  const damaged = Buffer.concat([data, data.subarray(second, second + Math.floor((third - second) / 2))]);
  damaged.writeUInt8(damaged.readUInt8(second + FRAME_HEADER_BYTES + 40) ^ 0xff, second + FRAME_HEADER_BYTES + 40);
  writeFileSync(path, damaged);

  receiver.setRefusing(false);
  const logLines: string[] = [];
  const next = durableSink(t, receiver, dir, { logLines });
  t.is(next.metric('execscope_otlp_disk_queue_corrupt_total', { reason: 'checksum' }), 1);
  t.is(next.metric('execscope_otlp_disk_queue_corrupt_total', { reason: 'torn' }), 1);
  t.is(next.metric('execscope_otlp_records_dropped_total', { reason: 'queue_corrupt' }), 100, 'both frames: 50 records each');
  t.is(next.metric('execscope_otlp_disk_queue_recovered_records_total'), 200);
  t.true(logLines.some((line) => line.includes('skipping a torn or corrupt part')));
  await writeExecs(next, range(5000, 20));
  await receiver.waitForRecords(120);
  await next.sink.close(5000);
  t.deepEqual(receiver.records.map(pidOf), [...range(1000, 50), ...range(1100, 50), ...range(5000, 20)]);
  t.is(next.metric('execscope_otlp_records_exported_total'), 120);
  t.is(next.sink.metrics.pending, 0);
});

test('a directory locked by a live process is a configuration error, a stale lock is taken over; a bound needs a directory', async (t) => {
  const receiver = await startOtlpReceiver();
  t.teardown(() => receiver.close());
  const dir = queueDir(t);
  // pid 1 is always alive and never this test.
  writeFileSync(join(dir, 'lock'), '1\n');
  const error = t.throws(() => durableSink(t, receiver, dir), { instanceOf: ConfigError });
  t.true(error?.message.includes(dir) === true && error.message.includes('process 1'), error?.message);
  // The same pid with another start time is a process that took over the number after a restart: stale.
  writeFileSync(join(dir, 'lock'), '1 999999999999\n');
  const taken = durableSink(t, receiver, dir);
  t.regex(readFileSync(join(dir, 'lock'), 'utf8'), new RegExp(`^${process.pid} \\d+\n$`));
  await taken.sink.close(1000);
  t.false(readdirSync(dir).includes('lock'), 'close releases the lock');
  t.throws(() => resolveOtlpConfig({ endpoint: receiver.url, queueMaxSizeMb: 10 }, { env: {}, warn: () => {} }), {
    instanceOf: ConfigError,
    message: /--otlp-queue-max-size-mb 10: needs --otlp-queue-dir/,
  });
  const config = resolveOtlpConfig({ endpoint: receiver.url, queueDir: 'relative/queue' }, { env: {}, warn: () => {} });
  t.deepEqual(config?.queue, { dir: join(process.cwd(), 'relative/queue'), maxBytes: 256 * 1024 * 1024 });
});

test('the agent flags: --otlp-queue-dir and --otlp-queue-max-size-mb, checked and naming bad values', async (t) => {
  const receiver = await startOtlpReceiver();
  t.teardown(() => receiver.close());
  const dir = queueDir(t);
  const feature = new OtlpFeature({ env: {} });
  const parse = (args: string[]): Record<string, unknown> => {
    const command = new Command('agent').exitOverride();
    feature.addOptions(command);
    command.parse(['--otlp-endpoint', receiver.url, ...args], { from: 'user' });
    return command.opts();
  };
  const context = { logger: silentLogger, metrics: new MetricsRegistry(), nodeName: 'n' };
  const started = await feature.start(parse(['--otlp-queue-dir', dir, '--otlp-queue-max-size-mb', '3']), context);
  t.is(context.metrics.find('execscope_otlp_disk_queue_capacity_bytes')?.get(), 3 * 1024 * 1024);
  t.true(readdirSync(dir).includes('lock'));
  for (const sink of started?.sinks ?? []) await sink.close(1000);
  const other = { ...context, metrics: new MetricsRegistry() };
  await t.throwsAsync(feature.start(parse(['--otlp-queue-dir', dir, '--otlp-queue-max-size-mb', '0']), other), { instanceOf: ConfigError, message: /--otlp-queue-max-size-mb: "0"/ });
  await t.throwsAsync(feature.start(parse(['--otlp-queue-max-size-mb', '5']), other), { instanceOf: ConfigError, message: /needs --otlp-queue-dir/ });
  await t.throwsAsync(feature.start(parse(['--otlp-queue-dir', '']), other), { instanceOf: ConfigError, message: /--otlp-queue-dir: the directory is empty/ });
});
