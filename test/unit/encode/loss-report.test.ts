// test/unit/encode/loss-report.test.ts
// The in-band loss announcement: compact line, JSON round trip (getevents reads it back), proto message.

import test from 'ava';
import { encodeEventCompact } from '../../../receiver/src/encode/compact-encoder.js';
import { decodeEventJson, encodeEventJson } from '../../../receiver/src/encode/json-encoder.js';
import type { LossReportEvent } from '../../../receiver/src/model/events.js';
import { toProtoResponse } from '../../../receiver/src/proto/to-proto.js';

const report: LossReportEvent = {
  kind: 'loss_report',
  kernelRing: 120,
  userSpace: 0,
  unexplained: 2,
  sinks: { otlp: 7 },
  nodeName: 'node-a',
  time: [1_700_000_000, 500],
};

test('compact prints a warning line with every non-zero count', (t) => {
  t.is(encodeEventCompact(report, { color: false, timestamps: false }), '⚠️  lost    node-a kernel_ring=120 user_space=0 unexplained=2 otlp=7');
  t.regex(encodeEventCompact(report, { color: false, timestamps: true }) ?? '', /^2023-11-14T22:13:20\.000000500Z ⚠️/);
});

test('JSON: our own top-level key, protojson rules, read back by getevents', (t) => {
  const line = encodeEventJson(report);
  t.is(line, '{"execscope_loss_report":{"kernel_ring":"120","unexplained":"2","sinks":{"otlp":"7"}},"node_name":"node-a","time":"2023-11-14T22:13:20.000000500Z"}');
  t.deepEqual(decodeEventJson(line), report);
});

test('the gRPC message carries the counts in its own oneof member', (t) => {
  t.deepEqual(toProtoResponse(report).execscope_loss_report, { kernel_ring: 120, unexplained: 2, sinks: { otlp: 7 } });
});
