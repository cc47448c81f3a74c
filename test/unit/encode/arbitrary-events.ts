// test/unit/encode/arbitrary-events.ts
// fast-check generators of model events with hostile strings, shared by encoder and filter property tests.

import fc from 'fast-check';
import type { ExecscopeEvent } from '../../../receiver/src/model/events.js';
import type { HrTime } from '../../../receiver/src/model/hr-time.js';
import type { Pod } from '../../../receiver/src/model/pod.js';
import type { Process } from '../../../receiver/src/model/process.js';

/** Strings mixing ASCII, control characters, C1 controls, zero-width and astral characters, and lone surrogates. */
export const hostileString = (maxLength = 12): fc.Arbitrary<string> =>
  fc.string({
    maxLength,
    unit: fc.oneof(
      fc.constantFrom('a', 'b', '/', ' ', '"', '\\', '-', '='),
      fc.integer({ min: 0, max: 0x1f }).map((c) => String.fromCharCode(c)),
      fc.constantFrom('\x7f', '\x85', '\x9b', '\u00a0', '\u200b', '\u2028', '\ufeff', '\ud800', '\udc00', '😀', '\u{e0001}', 'é'),
      fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
    ),
  });

export const hrTime: fc.Arbitrary<HrTime> = fc.tuple(fc.integer({ min: 0, max: 253_402_300_799 }), fc.integer({ min: 0, max: 999_999_999 }));

const uint32 = fc.integer({ min: 0, max: 0xffff_ffff });

const pod: fc.Arbitrary<Pod> = fc.record(
  {
    namespace: hostileString(),
    name: hostileString(),
    uid: hostileString(),
    container: fc.record(
      {
        id: hostileString(),
        name: hostileString(),
        image: fc.record({ id: hostileString(), name: hostileString() }),
        startTime: hrTime,
        pid: uint32,
        maybeExecProbe: fc.boolean(),
        securityContext: fc.record({ privileged: fc.boolean() }),
      },
      { requiredKeys: ['id', 'name', 'maybeExecProbe'] },
    ),
    podLabels: fc.dictionary(hostileString(6), hostileString(), { maxKeys: 3 }),
    workload: hostileString(),
    workloadKind: hostileString(),
    podAnnotations: fc.dictionary(hostileString(6), hostileString(), { maxKeys: 2 }),
  },
  { requiredKeys: ['namespace', 'name', 'uid', 'podLabels', 'workload', 'workloadKind'] },
);

export const process: fc.Arbitrary<Process> = fc.record(
  {
    execId: hostileString(),
    pid: uint32,
    uid: uint32,
    cwd: hostileString(),
    binary: hostileString(),
    arguments: hostileString(20),
    flags: hostileString(),
    startTime: hrTime,
    auid: uint32,
    pod,
    docker: hostileString(),
    parentExecId: hostileString(),
    refcnt: uint32,
    tid: uint32,
    inInitTree: fc.boolean(),
    environmentVariables: fc.array(fc.record({ key: hostileString(), value: hostileString() }), { maxLength: 3 }),
    argv: fc.array(hostileString(), { maxLength: 3 }),
    ppid: uint32,
    nspid: uint32,
    ktime: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
    cgroupPath: hostileString(),
    containerId: hostileString(),
    traceParent: hostileString(),
    traceState: hostileString(),
  },
  {
    requiredKeys: [
      'execId', 'pid', 'uid', 'cwd', 'binary', 'arguments', 'flags', 'startTime', 'auid', 'docker', 'parentExecId',
      'refcnt', 'tid', 'argv', 'ppid', 'nspid', 'ktime', 'cgroupPath', 'containerId',
    ],
  },
);

export const event: fc.Arbitrary<ExecscopeEvent> = fc.oneof(
  fc.record(
    {
      kind: fc.constant('process_exec' as const),
      process,
      parent: process,
      ancestors: fc.array(process, { maxLength: 2 }),
      nodeName: hostileString(),
      time: hrTime,
    },
    { requiredKeys: ['kind', 'process', 'nodeName', 'time'] },
  ),
  fc.record(
    {
      kind: fc.constant('process_exit' as const),
      process,
      parent: process,
      signal: fc.oneof(fc.constant(''), fc.constantFrom('SIGKILL', 'SIGSEGV'), hostileString()),
      status: fc.integer({ min: 0, max: 255 }),
      exitTime: hrTime,
      ancestors: fc.array(process, { maxLength: 2 }),
      nodeName: hostileString(),
      time: hrTime,
    },
    { requiredKeys: ['kind', 'process', 'signal', 'status', 'exitTime', 'nodeName', 'time'] },
  ),
  fc.record({
    kind: fc.constant('rate_limit_info' as const),
    numberOfDroppedProcessEvents: fc.integer({ min: 0, max: 2 ** 40 }),
    nodeName: hostileString(),
    time: hrTime,
  }),
);
