// test/unit/otel/export.test.ts
// What reaches an OTLP/gRPC receiver: attribute types, Resources per pod/container, event names, times, traces.

import test from 'ava';
import type { ExecutionContext } from 'ava';
import { RECORD_ATTRIBUTE_MAPPING } from '../../../semconv/mapping.js';
import type { ProcessEvent } from '../../../receiver/src/otel/record-attributes.js';
import { plainAttributes, plainValue, startOtlpReceiver } from '../../helpers/otlp-receiver.js';
import type { OtlpReceiver, OtlpValue, ReceivedLogRecord } from '../../helpers/otlp-receiver.js';
import { createTestSink } from '../../helpers/otlp-sink.js';
import type { TestSink } from '../../helpers/otlp-sink.js';
import { sampleExec, sampleExit, samplePod, sampleProcess } from '../../helpers/sample-events.js';

const TRACE_ID = '0af7651916cd43dd8448eb211c80319c';
const SPAN_ID = 'b7ad6b7169203331';

async function exportEvents(
  t: ExecutionContext,
  events: readonly ProcessEvent[],
  env: Readonly<Record<string, string>> = {},
): Promise<{ receiver: OtlpReceiver; records: ReceivedLogRecord[]; test: TestSink }> {
  const receiver = await startOtlpReceiver();
  t.teardown(() => receiver.close());
  const sink = createTestSink({ env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_BLRP_SCHEDULE_DELAY: '10000', ...env } });
  t.teardown(() => sink.sink.close(100));
  for (const event of events) sink.sink.write(event);
  // One flush: every record leaves in as few requests as the batch size allows.
  await sink.sink.close(5000);
  const records = await receiver.waitForRecords(events.length);
  return { receiver, records, test: sink };
}

function wireType(value: OtlpValue | undefined): string {
  if (value === undefined) return 'absent';
  if (value.type === 'array') return value.value.every((v) => v.type === 'string') ? 'string[]' : 'array';
  return value.type;
}

test('record attributes arrive with the types the mapping table declares', async (t) => {
  const process = sampleProcess({ pod: samplePod(), environmentVariables: [{ key: 'HOME', value: '/root' }] });
  const { records } = await exportEvents(t, [sampleExec({ process }), sampleExit({ process, status: 1 })]);
  t.is(records.length, 2);
  for (const record of records) {
    for (const row of RECORD_ATTRIBUTE_MAPPING) {
      const names = Object.keys(record.attributes).filter((name) =>
        'template' in row ? name.startsWith(row.attribute.slice(0, row.attribute.indexOf('<'))) : name === row.attribute,
      );
      for (const name of names) t.is(wireType(record.attributes[name]), row.type, `${record.eventName}: ${name}`);
    }
  }
  const [exec, exit] = records as [ReceivedLogRecord, ReceivedLogRecord];
  t.deepEqual(exec.attributes['process.pid'], { type: 'int', value: 4242n });
  t.deepEqual(exec.attributes['process.command_args'], {
    type: 'array',
    value: [
      { type: 'string', value: 'curl' },
      { type: 'string', value: 'https://ebpf.io/applications/#tetragon' },
    ],
  });
  t.deepEqual(exec.attributes['process.environment_variable.HOME'], { type: 'string', value: '/root' });
  t.deepEqual(exec.attributes['execscope.auid'], { type: 'int', value: 4294967295n });
  t.deepEqual(exit.attributes['process.exit.code'], { type: 'int', value: 1n });
  t.deepEqual(exit.attributes['error.type'], { type: 'string', value: '1' });
});

test('event names on the EventName field and in event.name; severity; compact body; scope', async (t) => {
  const { records } = await exportEvents(t, [sampleExec(), sampleExit(), sampleExit({ signal: 'SIGKILL' })]);
  const [exec, exit, killed] = records as [ReceivedLogRecord, ReceivedLogRecord, ReceivedLogRecord];
  t.is(exec.eventName, 'execscope.process.exec');
  t.is(plainValue(exec.attributes['event.name']), 'execscope.process.exec');
  t.is(exit.eventName, 'execscope.process.exit');
  t.is(plainValue(exit.attributes['event.name']), 'execscope.process.exit');
  t.is(exec.severityNumber, 9);
  t.is(exit.severityNumber, 9);
  t.is(killed.severityNumber, 13);
  t.is(exec.severityText, '');
  t.is(exec.scope.name, 'execscope');
  t.deepEqual(exec.body, { type: 'string', value: '🚀 process test-node /usr/bin/curl https://ebpf.io/applications/#tetragon' });
  t.regex(String(plainValue(killed.body)), /^💥 exit/);
});

test('timestamps keep every nanosecond, beyond what a double holds', async (t) => {
  const times = [
    [1_700_000_000, 123_456_789],
    [2_000_000_000, 999_999_999],
    [4_102_444_800, 1],
  ] as const;
  const events = times.map(([sec, nsec], i) => sampleExec({ process: sampleProcess({ pid: 10 + i }), time: [sec, nsec] }));
  const { records } = await exportEvents(t, events);
  t.deepEqual(
    records.map((r) => r.timeUnixNano),
    times.map(([sec, nsec]) => BigInt(sec) * 1_000_000_000n + BigInt(nsec)),
  );
  for (const record of records) {
    t.true(record.observedTimeUnixNano > 1_700_000_000_000_000_000n, 'observed time is set (emit time)');
  }
});

test('records of different pods and containers leave in separate ResourceLogs, stable across exports', async (t) => {
  const podA = samplePod();
  const podASidecar = samplePod({ container: { ...podA.container!, id: 'containerd://5ca1ab1e', name: 'sidecar' } });
  const podB = samplePod({ name: 'tiefighter', uid: 'aaaaaaaa-0000-0000-0000-000000000002', namespace: 'empire', podLabels: { org: 'empire' }, workload: 'tie', workloadKind: 'Deployment' });
  const events = [
    sampleExec({ process: sampleProcess({ pid: 1, pod: podA }) }),
    sampleExec({ process: sampleProcess({ pid: 2, pod: podB }) }),
    sampleExec({ process: sampleProcess({ pid: 3 }) }),
    sampleExec({ process: sampleProcess({ pid: 4, pod: podASidecar }) }),
    sampleExec({ process: sampleProcess({ pid: 5, pod: podA }) }),
    sampleExec({ process: sampleProcess({ pid: 6, pod: podB }) }),
  ];
  const { receiver } = await exportEvents(t, events);
  t.is(receiver.requests.length, 1);
  const groups = receiver.requests[0]!.resourceLogs.map((rl) => ({
    pod: plainValue(rl.resource.attributes['k8s.pod.name']),
    container: plainValue(rl.resource.attributes['k8s.container.name']),
    pids: rl.scopeLogs.flatMap((sl) => sl.records.map((r) => plainValue(r.attributes['process.pid']))),
  }));
  t.deepEqual(groups, [
    { pod: 'xwing', container: 'spaceship', pids: [1n, 5n] },
    { pod: 'tiefighter', container: 'spaceship', pids: [2n, 6n] },
    { pod: undefined, container: undefined, pids: [3n] },
    { pod: 'xwing', container: 'sidecar', pids: [4n] },
  ]);
  const b = plainAttributes(receiver.requests[0]!.resourceLogs[1]!.resource.attributes);
  t.like(b, {
    'k8s.namespace.name': 'empire',
    'k8s.pod.uid': 'aaaaaaaa-0000-0000-0000-000000000002',
    'k8s.pod.label.org': 'empire',
    'k8s.deployment.name': 'tie',
    'k8s.node.name': 'test-node',
    'host.name': 'test-node',
    'service.name': 'execscope',
  });
  t.false('k8s.pod.label.class' in b, 'labels of another pod do not leak');
  const host = plainAttributes(receiver.requests[0]!.resourceLogs[2]!.resource.attributes);
  t.false(Object.keys(host).some((k) => k.startsWith('k8s.')), 'host processes carry no pod attributes');
  for (const rl of receiver.requests[0]!.resourceLogs) {
    t.false(
      rl.scopeLogs.some((sl) => sl.records.some((r) => Object.keys(r.attributes).some((k) => k.startsWith('k8s.') || k.startsWith('container.')))),
      'pod attributes stay on the Resource',
    );
  }
});

test('the same pod keeps an identical Resource across separate exports', async (t) => {
  const receiver = await startOtlpReceiver();
  t.teardown(() => receiver.close());
  const { sink } = createTestSink({ env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_BLRP_SCHEDULE_DELAY: '10000' } });
  t.teardown(() => sink.close(100));
  sink.write(sampleExec({ process: sampleProcess({ pid: 1, pod: samplePod() }) }));
  await sink.flush(5000);
  sink.write(sampleExec({ process: sampleProcess({ pid: 2, pod: samplePod() }) }));
  await sink.close(5000);
  const [first, second] = await receiver.waitForRecords(2);
  t.is(receiver.requests.length, 2);
  t.deepEqual(first!.resource, second!.resource);
});

test('a valid TRACEPARENT sets trace id, span id and flags on the exec and on its exit', async (t) => {
  const traced = sampleProcess({ pid: 77, traceParent: `00-${TRACE_ID}-${SPAN_ID}-01`, traceState: 'congo=t61rcWkgMzE' });
  const { traceParent: _tp, traceState: _ts, ...exitProcess } = traced;
  const unsampled = sampleProcess({ pid: 78, traceParent: `00-${TRACE_ID}-${SPAN_ID}-00` });
  const { records, test: sink } = await exportEvents(t, [
    sampleExec({ process: traced }),
    sampleExec({ process: unsampled }),
    sampleExec({ process: sampleProcess({ pid: 79 }) }),
    sampleExit({ process: exitProcess }),
  ]);
  const [exec, cold, plain, exit] = records as [ReceivedLogRecord, ReceivedLogRecord, ReceivedLogRecord, ReceivedLogRecord];
  t.like(exec, { traceId: TRACE_ID, spanId: SPAN_ID, flags: 1 });
  t.like(cold, { traceId: TRACE_ID, spanId: SPAN_ID, flags: 0 });
  t.like(plain, { traceId: '', spanId: '', flags: 0 });
  t.like(exit, { traceId: TRACE_ID, spanId: SPAN_ID, flags: 1 });
  t.is(sink.metric('execscope_otlp_invalid_traceparent_total'), 0);
});

test('an invalid TRACEPARENT is ignored and counted', async (t) => {
  const { records, test: sink } = await exportEvents(t, [
    sampleExec({ process: sampleProcess({ pid: 1, traceParent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331' }) }),
    sampleExec({ process: sampleProcess({ pid: 2, traceParent: `00-${'0'.repeat(32)}-${SPAN_ID}-01` }) }),
    sampleExec({ process: sampleProcess({ pid: 3, traceParent: `00-${TRACE_ID}-${SPAN_ID}-01` }) }),
  ]);
  t.deepEqual(
    records.map((r) => r.traceId),
    ['', '', TRACE_ID],
  );
  t.is(sink.metric('execscope_otlp_invalid_traceparent_total'), 2);
});

test('every record is accounted for: emitted = exported', async (t) => {
  const events = Array.from({ length: 300 }, (_, i) => sampleExec({ process: sampleProcess({ pid: 1000 + i }) }));
  const { records, test: sink } = await exportEvents(t, events, { OTEL_BLRP_MAX_EXPORT_BATCH_SIZE: '128' });
  t.is(records.length, 300);
  t.is(sink.metric('execscope_otlp_records_emitted_total'), 300);
  t.is(sink.metric('execscope_otlp_records_exported_total'), 300);
  t.is(sink.metric('execscope_otlp_records_dropped_total', { reason: 'shutdown' }), 0);
  t.is(sink.metric('execscope_otlp_exports_total', { outcome: 'success' }), 3);
  t.is(sink.sink.metrics.pending, 0);
});

test('rate-limit and other non-process events are not exported', async (t) => {
  const receiver = await startOtlpReceiver();
  t.teardown(() => receiver.close());
  const { sink, metric } = createTestSink({ env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url } });
  t.teardown(() => sink.close(100));
  sink.write({ kind: 'rate_limit_info', nodeName: 'n', time: [1, 0], numberOfDroppedProcessEvents: 3 });
  sink.write(sampleExec());
  await sink.close(5000);
  await receiver.waitForRecords(1);
  t.is(receiver.records.length, 1);
  t.is(metric('execscope_otlp_records_emitted_total'), 1);
});
