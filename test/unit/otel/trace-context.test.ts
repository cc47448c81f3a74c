// test/unit/otel/trace-context.test.ts
// TRACEPARENT from a process environment: W3C validation, counting invalid values, exit inherits the exec.

import test from 'ava';
import fc from 'fast-check';
import { normalizeEnvCarrierKey, TraceContextResolver } from '../../../receiver/src/otel/trace-context.js';
import { sampleProcess } from '../../helpers/sample-events.js';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN_ID = '00f067aa0ba902b7';
const VALID = `00-${TRACE_ID}-${SPAN_ID}-01`;

function resolver() {
  const invalid: string[] = [];
  return { invalid, traces: new TraceContextResolver({ onInvalid: (v) => invalid.push(v), maxTracked: 4 }) };
}

test('environment carrier keys normalize as the spec says', (t) => {
  t.is(normalizeEnvCarrierKey('traceparent'), 'TRACEPARENT');
  t.is(normalizeEnvCarrierKey('x-b3-traceid'), 'X_B3_TRACEID');
  t.is(normalizeEnvCarrierKey('1abc'), '_1ABC');
  t.is(normalizeEnvCarrierKey(''), '_');
  fc.assert(fc.property(fc.string(), (key) => /^[A-Z_][A-Z0-9_]*$/.test(normalizeEnvCarrierKey(key))));
});

test('a valid traceparent gives trace id, span id and flags; tracestate is kept', (t) => {
  const { traces, invalid } = resolver();
  const span = traces.forExec(sampleProcess({ traceParent: VALID, traceState: 'vendor=abc' }));
  t.is(span?.traceId, TRACE_ID);
  t.is(span?.spanId, SPAN_ID);
  t.is(span?.traceFlags, 1);
  t.true(span?.isRemote);
  t.is(span?.traceState?.get('vendor'), 'abc');
  t.deepEqual(invalid, []);
});

test('invalid traceparents are ignored and reported once per process', (t) => {
  const { traces, invalid } = resolver();
  const bad = [
    '00-00000000000000000000000000000000-00f067aa0ba902b7-01', // all-zero trace id
    `00-${TRACE_ID}-0000000000000000-01`, // all-zero span id
    `00-${TRACE_ID.slice(1)}-${SPAN_ID}-01`, // short trace id
    'ff-' + TRACE_ID + '-' + SPAN_ID + '-01', // forbidden version
    'not a traceparent',
  ];
  bad.forEach((traceParent, i) => {
    const process = sampleProcess({ pid: 100 + i, traceParent });
    t.is(traces.forExec(process), undefined, traceParent);
    t.is(traces.forExit(process), undefined, 'the exit of the same process is not counted again');
  });
  t.deepEqual(invalid, bad);
});

test('absent or blank TRACEPARENT is no context, not an invalid one', (t) => {
  const { traces, invalid } = resolver();
  t.is(traces.forExec(sampleProcess()), undefined);
  t.is(traces.forExec(sampleProcess({ pid: 2, traceParent: '' })), undefined);
  t.is(traces.forExec(sampleProcess({ pid: 3, traceParent: '  ' })), undefined);
  t.deepEqual(invalid, []);
  t.is(traces.size, 0);
});

test('an exit carries its exec context even when the exit event has no TRACEPARENT, and the entry is freed', (t) => {
  const { traces } = resolver();
  const exec = sampleProcess({ traceParent: VALID });
  traces.forExec(exec);
  t.is(traces.size, 1);
  const { traceParent: _dropped, ...withoutEnv } = exec;
  t.is(traces.forExit(withoutEnv)?.traceId, TRACE_ID);
  t.is(traces.size, 0);
  t.is(traces.forExit(withoutEnv), undefined);
});

test('an exit whose exec was not seen uses its own TRACEPARENT', (t) => {
  const { traces, invalid } = resolver();
  t.is(traces.forExit(sampleProcess({ traceParent: VALID }))?.spanId, SPAN_ID);
  t.is(traces.forExit(sampleProcess({ pid: 7, traceParent: 'junk' })), undefined);
  t.deepEqual(invalid, ['junk']);
});

test('the exec → exit table is bounded; the oldest exec is forgotten first', (t) => {
  const { traces } = resolver();
  for (let pid = 1; pid <= 6; pid++) traces.forExec(sampleProcess({ pid, traceParent: VALID }));
  t.is(traces.size, 4);
  t.is(traces.forExit(sampleProcess({ pid: 1 })), undefined);
  t.is(traces.forExit(sampleProcess({ pid: 6 }))?.traceId, TRACE_ID);
});
