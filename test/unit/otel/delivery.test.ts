// test/unit/otel/delivery.test.ts
// Retries, queue overflow and shutdown: nothing is lost silently, and the counts add up.

import { status } from '@grpc/grpc-js';
import test from 'ava';
import type { ExecutionContext } from 'ava';
import { JsonLogger } from '../../../receiver/src/logger.js';
import { startOtlpReceiver } from '../../helpers/otlp-receiver.js';
import { createTestSink as createSink } from '../../helpers/otlp-sink.js';
import type { TestSink, TestSinkOptions } from '../../helpers/otlp-sink.js';
import { sampleExec, sampleProcess } from '../../helpers/sample-events.js';

/** A sink that is closed when the test ends, whatever happened. */
function createTestSink(t: ExecutionContext, options: TestSinkOptions): TestSink {
  const sink = createSink(options);
  t.teardown(() => sink.sink.close(100));
  return sink;
}

function execs(count: number, firstPid = 1000) {
  return Array.from({ length: count }, (_, i) => sampleExec({ process: sampleProcess({ pid: firstPid + i }) }));
}

function droppedTotal(sink: TestSink, ...reasons: string[]): number {
  return reasons.reduce((sum, reason) => sum + sink.metric('execscope_otlp_records_dropped_total', { reason }), 0);
}

test('a receiver refusing calls for a while, then accepting: nothing lost, every retry counted', async (t) => {
  const receiver = await startOtlpReceiver({ refusing: true });
  t.teardown(() => receiver.close());
  const logLines: string[] = [];
  const sink = createTestSink(t, {
    env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_BLRP_SCHEDULE_DELAY: '20', OTEL_BLRP_MAX_EXPORT_BATCH_SIZE: '100' },
    logger: new JsonLogger('warn', (line) => logLines.push(line)),
  });
  for (const event of execs(250)) sink.sink.write(event);
  await receiver.waitUntil(() => receiver.refusedCalls >= 3);
  for (const event of execs(50, 5000)) sink.sink.write(event);
  receiver.setRefusing(false);
  await receiver.waitForRecords(300);
  await sink.sink.close(5000);

  const pids = new Set(receiver.records.map((r) => r.attributes['process.pid']?.type === 'int' && r.attributes['process.pid'].value));
  t.is(pids.size, 300, 'every record arrived once');
  t.is(sink.metric('execscope_otlp_records_emitted_total'), 300);
  t.is(sink.metric('execscope_otlp_records_exported_total'), 300);
  t.is(droppedTotal(sink, 'queue_full', 'export_failed', 'shutdown'), 0);
  t.is(sink.metric('execscope_otlp_exports_total', { outcome: 'retried' }), receiver.refusedCalls);
  t.is(sink.metric('execscope_otlp_export_errors_total', { code: 'UNAVAILABLE' }), receiver.refusedCalls);
  t.is(sink.metric('execscope_otlp_exports_total', { outcome: 'failed' }), 0);
  t.is(sink.metric('execscope_otlp_exports_total', { outcome: 'success' }), receiver.requests.length);
  t.true(logLines.some((line) => line.includes('OTLP export failed; retrying')), 'retries are logged');
});

test('a non-retryable status fails the batch at once and counts its records', async (t) => {
  const receiver = await startOtlpReceiver({ refusing: true, refuseWith: status.INVALID_ARGUMENT });
  t.teardown(() => receiver.close());
  const sink = createTestSink(t, { env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_BLRP_SCHEDULE_DELAY: '20' } });
  for (const event of execs(40)) sink.sink.write(event);
  await receiver.waitUntil(() => receiver.refusedCalls >= 1);
  await sink.sink.close(5000);
  t.is(receiver.refusedCalls, 1, 'not retried');
  t.is(sink.metric('execscope_otlp_records_dropped_total', { reason: 'export_failed' }), 40);
  t.is(sink.metric('execscope_otlp_exports_total', { outcome: 'failed' }), 1);
  t.is(sink.metric('execscope_otlp_export_errors_total', { code: 'INVALID_ARGUMENT' }), 1);
  t.is(sink.sink.metrics.pending, 0);
});

test('retries stop when OTEL_BLRP_EXPORT_TIMEOUT is spent for a batch', async (t) => {
  const receiver = await startOtlpReceiver({ refusing: true });
  t.teardown(() => receiver.close());
  const sink = createTestSink(t, {
    env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_BLRP_SCHEDULE_DELAY: '10', OTEL_BLRP_EXPORT_TIMEOUT: '300' },
  });
  for (const event of execs(10)) sink.sink.write(event);
  const started = Date.now();
  await receiver.waitUntil(() => sink.metric('execscope_otlp_records_dropped_total', { reason: 'export_failed' }) === 10, 5000);
  t.true(Date.now() - started < 2000);
  t.true(receiver.refusedCalls >= 2, `retried (${receiver.refusedCalls} calls)`);
  t.is(sink.metric('execscope_otlp_exports_total', { outcome: 'failed' }), 1);
  await sink.sink.close(1000);
});

test('SDK queue overflow (OTEL_BLRP_MAX_QUEUE_SIZE) is counted exactly, and the rest is delivered', async (t) => {
  const receiver = await startOtlpReceiver({ refusing: true });
  t.teardown(() => receiver.close());
  const sink = createTestSink(t, {
    env: {
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_BLRP_MAX_QUEUE_SIZE: '100',
      OTEL_BLRP_MAX_EXPORT_BATCH_SIZE: '50',
      OTEL_BLRP_SCHEDULE_DELAY: '20',
    },
  });
  t.is(sink.metric('execscope_otlp_queue_capacity'), 100);
  // The 50th record starts an export of 50 (one in flight at a time), 100 more fill the queue, 350 overflow.
  for (const event of execs(500)) sink.sink.write(event);
  t.is(sink.metric('execscope_otlp_records_dropped_total', { reason: 'queue_full' }), 350);
  t.is(sink.metric('execscope_otlp_queue_size'), 100);
  receiver.setRefusing(false);
  await receiver.waitForRecords(150);
  await sink.sink.close(5000);
  t.is(receiver.records.length, 150);
  t.is(sink.metric('execscope_otlp_records_exported_total'), 150);
  t.is(sink.metric('execscope_otlp_records_emitted_total'), 500);
  t.is(sink.sink.metrics.pending, 0);
});

test('close() flushes queued records long before the schedule delay', async (t) => {
  const receiver = await startOtlpReceiver();
  t.teardown(() => receiver.close());
  const sink = createTestSink(t, { env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_BLRP_SCHEDULE_DELAY: '60000' } });
  for (const event of execs(1000)) sink.sink.write(event);
  const started = Date.now();
  await sink.sink.close(5000);
  t.true(Date.now() - started < 3000);
  t.is(receiver.records.length, 1000);
  t.is(sink.metric('execscope_otlp_records_exported_total'), 1000);
});

test('close(timeout) against a refusing receiver returns in time and counts what it could not deliver', async (t) => {
  const receiver = await startOtlpReceiver({ refusing: true });
  t.teardown(() => receiver.close());
  const sink = createTestSink(t, {
    env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_BLRP_SCHEDULE_DELAY: '10', OTEL_BLRP_MAX_EXPORT_BATCH_SIZE: '30' },
  });
  for (const event of execs(100)) sink.sink.write(event);
  await receiver.waitUntil(() => receiver.refusedCalls >= 1);
  const started = Date.now();
  await sink.sink.close(600);
  const took = Date.now() - started;
  t.true(took >= 300 && took < 1200, `close took ${took} ms`);
  t.is(sink.metric('execscope_otlp_records_dropped_total', { reason: 'shutdown' }), 100);
  t.is(sink.metric('execscope_otlp_records_exported_total'), 0);
  t.is(sink.sink.metrics.pending, 0);

  sink.sink.write(sampleExec());
  t.is(sink.metric('execscope_otlp_records_dropped_total', { reason: 'closed' }), 1);
  t.is(sink.metric('execscope_otlp_records_emitted_total'), 100);
  await sink.sink.close(600); // idempotent
});

test('flush() delivers what was written so far and leaves the sink open', async (t) => {
  const receiver = await startOtlpReceiver();
  t.teardown(() => receiver.close());
  const sink = createTestSink(t, { env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_BLRP_SCHEDULE_DELAY: '60000' } });
  for (const event of execs(10)) sink.sink.write(event);
  await sink.sink.flush(5000);
  t.is(receiver.records.length, 10);
  sink.sink.write(sampleExec());
  await sink.sink.close(5000);
  t.is(receiver.records.length, 11);
});

test('attributes beyond the count limit are dropped by the SDK and counted', async (t) => {
  const receiver = await startOtlpReceiver();
  t.teardown(() => receiver.close());
  const sink = createTestSink(t, { env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_LOGRECORD_ATTRIBUTE_COUNT_LIMIT: '20' } });
  const environmentVariables = Array.from({ length: 10 }, (_, i) => ({ key: `VAR_${i}`, value: String(i) }));
  sink.sink.write(sampleExec({ process: sampleProcess({ environmentVariables }) }));
  await sink.sink.close(5000);
  const [record] = await receiver.waitForRecords(1);
  t.is(Object.keys(record!.attributes).length, 20);
  t.true(record!.droppedAttributesCount > 0);
  t.is(sink.metric('execscope_otlp_dropped_attributes_total'), record!.droppedAttributesCount);
});

test('an event that cannot be mapped is counted and never throws into the caller', (t) => {
  const sink = createTestSink(t, {
    env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:1' },
    deps: {
      formatBody: () => {
        throw new Error('encoder bug');
      },
    },
  });
  t.notThrows(() => sink.sink.write(sampleExec()));
  t.is(sink.metric('execscope_otlp_records_dropped_total', { reason: 'error' }), 1);
  t.is(sink.metric('execscope_otlp_records_emitted_total'), 0);
  t.is(sink.sink.metrics.pending, 0);
});

test('a receiver that goes away and comes back on its port: nothing lost, delivery resumes at once', async (t) => {
  const first = await startOtlpReceiver();
  const sink = createTestSink(t, { env: { OTEL_EXPORTER_OTLP_ENDPOINT: first.url, OTEL_BLRP_SCHEDULE_DELAY: '20' } });
  for (const event of execs(5)) sink.sink.write(event);
  await first.waitForRecords(5);
  await first.close();
  for (const event of execs(5, 2000)) sink.sink.write(event);
  // Long enough for grpc-js to back its reconnects off past the outage (1 s, 1.6 s, 2.6 s, …).
  await new Promise((resolve) => setTimeout(resolve, 3000));
  const second = await startOtlpReceiver({ port: first.port });
  t.teardown(() => second.close());
  const back = Date.now();
  await second.waitForRecords(5, 10_000);
  const resumedAfter = Date.now() - back;
  t.true(resumedAfter < 1500, `delivered ${resumedAfter} ms after the receiver came back`);
  await sink.sink.close(5000);
  t.is(sink.metric('execscope_otlp_records_exported_total'), 10);
  t.is(droppedTotal(sink, 'export_failed', 'shutdown'), 0);
  t.true(sink.metric('execscope_otlp_export_errors_total', { code: 'UNAVAILABLE' }) > 0);
});
