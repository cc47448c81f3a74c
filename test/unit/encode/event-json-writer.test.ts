// test/unit/encode/event-json-writer.test.ts
// The fast JSON writer must print exactly what the schema-driven encoder prints, for any event.

import test from 'ava';
import fc from 'fast-check';
import { EventJsonWriter } from '../../../receiver/src/encode/event-json-writer.js';
import { encodeEventJson } from '../../../receiver/src/encode/json-encoder.js';
import type { ExecscopeEvent } from '../../../receiver/src/model/events.js';
import { sampleExec, sampleExit, sampleParent, samplePod, sampleProcess } from '../../helpers/sample-events.js';

const fixed: [string, ExecscopeEvent][] = [
  ['exec', sampleExec()],
  ['exec with pod', sampleExec({ process: sampleProcess({ pod: samplePod(), docker: 'ae7a1981e064c217035e0b23979c8de' }) })],
  ['exec without parent', sampleExec({ parent: undefined as never })],
  ['exec with ancestors', sampleExec({ ancestors: [sampleParent(), sampleParent({ pid: 1, binary: '/sbin/init' })] })],
  ['exit status', sampleExit({ status: 42 })],
  ['exit signal', sampleExit({ signal: 'SIGKILL' })],
  ['exit refcnt and env', sampleExit({ process: sampleProcess({ refcnt: 2, environmentVariables: [{ key: 'A', value: '1' }, { key: 'B', value: '' }] }) })],
  ['rate limit', { kind: 'rate_limit_info', numberOfDroppedProcessEvents: 17, nodeName: 'n', time: [1, 0] }],
  ['loss report', { kind: 'loss_report', kernelRing: 12, userSpace: 0, unexplained: 3, sinks: { otlp: 5, grpc: 1 }, nodeName: 'n', time: [1, 5] }],
  ['loss report without sinks', { kind: 'loss_report', kernelRing: 0, userSpace: 4, unexplained: 0, sinks: {}, nodeName: 'n', time: [2, 0] }],
  ['empty strings and zero time', sampleExec({ process: sampleProcess({ cwd: '', arguments: '', flags: '', startTime: [0, 0], inInitTree: true }), nodeName: '' })],
  [
    'pod with annotations, privileged, probe, unicode labels',
    sampleExec({
      process: sampleProcess({
        pod: samplePod({
          podLabels: { b: '1', 'a/x': '2', é: '3', Z: '4' },
          podAnnotations: { k: 'v' },
          container: { id: 'cri-o://x', name: 'c', maybeExecProbe: true, securityContext: { privileged: false }, pid: 0 },
        }),
      }),
    }),
  ],
];

for (const [name, event] of fixed) {
  test(`same bytes as the schema encoder: ${name}`, (t) => {
    t.is(new EventJsonWriter().write(event), encodeEventJson(event));
  });
}

test('same bytes for arbitrary strings, times and numbers', (t) => {
  const writer = new EventJsonWriter();
  fc.assert(
    fc.property(
      fc.record({
        binary: fc.string(),
        args: fc.string({ unit: 'binary' }),
        cwd: fc.string(),
        pid: fc.nat(4_000_000),
        uid: fc.nat(),
        sec: fc.integer({ min: 0, max: 4_000_000_000 }),
        nsec: fc.integer({ min: 0, max: 999_999_999 }),
        status: fc.nat(255),
        signal: fc.constantFrom('', 'SIGKILL', 'SIGSEGV'),
        node: fc.string(),
      }),
      (r) => {
        const process = sampleProcess({ binary: r.binary, arguments: r.args, cwd: r.cwd, pid: r.pid, uid: r.uid, startTime: [r.sec, r.nsec] });
        const exec: ExecscopeEvent = sampleExec({ process, nodeName: r.node, time: [r.sec, r.nsec] });
        const exit: ExecscopeEvent = sampleExit({ process, status: r.status, signal: r.signal, exitTime: [r.sec, r.nsec], nodeName: r.node });
        return writer.write(exec) === encodeEventJson(exec) && writer.write(exit) === encodeEventJson(exit);
      },
    ),
    { numRuns: 500 },
  );
  t.pass();
});
