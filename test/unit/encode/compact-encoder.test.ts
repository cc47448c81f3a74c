// test/unit/encode/compact-encoder.test.ts
// Golden lines for the compact encoder: Tetragon v1.7's encoder_test cases plus our quoting of unprintables.

import test from 'ava';
import fc from 'fast-check';
import { encodeEventCompact, type CompactOptions } from '../../../receiver/src/encode/compact-encoder.js';
import { isGoPrintable } from '../../../receiver/src/encode/go-quote.js';
import type { ExecscopeEvent } from '../../../receiver/src/model/events.js';
import { samplePod, sampleExec, sampleExit, sampleProcess } from '../../helpers/sample-events.js';
import { event as arbitraryEvent } from './arbitrary-events.js';

const PLAIN: CompactOptions = { color: false, timestamps: false };
const COLOR: CompactOptions = { color: true, timestamps: false };
const ESC = '\x1b';

const curl = (overrides: Parameters<typeof sampleProcess>[0] = {}): ReturnType<typeof sampleProcess> =>
  sampleProcess({ binary: '/usr/bin/curl', arguments: 'cilium.io', ...overrides });
const tetragonPod = samplePod({ namespace: 'kube-system', name: 'tetragon' });

test('exec without pod prints the node name', (t) => {
  t.is(encodeEventCompact(sampleExec({ process: curl(), nodeName: 'my-node' }), PLAIN), '🚀 process my-node /usr/bin/curl cilium.io');
});

test('exec with pod prints namespace/pod', (t) => {
  t.is(encodeEventCompact(sampleExec({ process: curl({ pod: tetragonPod }), nodeName: 'my-node' }), PLAIN), '🚀 process kube-system/tetragon /usr/bin/curl cilium.io');
});

test('exit with status, with signal (signal wins), and a clean exit printing 0', (t) => {
  const exit = (o: Partial<Extract<ExecscopeEvent, { kind: 'process_exit' }>>): string | undefined =>
    encodeEventCompact(sampleExit({ process: curl({ pod: tetragonPod }), ...o }), PLAIN);
  t.is(exit({ status: 1 }), '💥 exit    kube-system/tetragon /usr/bin/curl cilium.io 1');
  t.is(exit({ signal: 'SIGKILL' }), '💥 exit    kube-system/tetragon /usr/bin/curl cilium.io SIGKILL');
  t.is(exit({ signal: 'SIGKILL', status: 3 }), '💥 exit    kube-system/tetragon /usr/bin/curl cilium.io SIGKILL');
  t.is(exit({}), '💥 exit    kube-system/tetragon /usr/bin/curl cilium.io 0');
});

test('host process without arguments keeps the trailing space (exec) and double space (exit)', (t) => {
  const p = sampleProcess({ binary: '/bin/true', arguments: '' });
  t.is(encodeEventCompact(sampleExec({ process: p, nodeName: 'my-node' }), PLAIN), '🚀 process my-node /bin/true ');
  t.is(encodeEventCompact(sampleExit({ process: p, nodeName: 'my-node', status: 2 }), PLAIN), '💥 exit    my-node /bin/true  2');
});

test('empty node name gives an empty source field', (t) => {
  t.is(encodeEventCompact(sampleExec({ process: curl(), nodeName: '' }), PLAIN), '🚀 process  /usr/bin/curl cilium.io');
});

test('arguments with spaces and quotes print raw, as v1.7 does', (t) => {
  const p = sampleProcess({ binary: '/bin/bash', arguments: '-c "curl https://ebpf.io/applications/#tetragon"', pod: samplePod() });
  t.is(encodeEventCompact(sampleExec({ process: p }), PLAIN), '🚀 process default/xwing /bin/bash -c "curl https://ebpf.io/applications/#tetragon"');
});

test('timestamps: nine fraction digits, epoch for a zero time', (t) => {
  const ts: CompactOptions = { color: false, timestamps: true };
  t.is(
    encodeEventCompact(sampleExec({ process: curl({ pod: tetragonPod }), time: [0, 0] }), ts),
    '1970-01-01T00:00:00.000000000Z 🚀 process kube-system/tetragon /usr/bin/curl cilium.io',
  );
  t.is(encodeEventCompact(sampleExec({ process: curl(), nodeName: 'n', time: [1_696_629_837, 700_000_000] }), ts), '2023-10-06T22:03:57.700000000Z 🚀 process n /usr/bin/curl cilium.io');
  t.is(encodeEventCompact(sampleExit({ process: curl(), nodeName: 'n', time: [1_696_629_837, 5] }), ts), '2023-10-06T22:03:57.000000005Z 💥 exit    n /usr/bin/curl cilium.io 0');
});

test('colours: each piece wrapped on its own, and the empty caps trailer padded toward column 120', (t) => {
  const line = encodeEventCompact(sampleExec({ process: curl({ pod: tetragonPod }) }), COLOR);
  // 93 bytes before the trailer, so Tetragon pads the 9-byte empty magenta trailer to width 27.
  const pieces = `${ESC}[34m🚀 process${ESC}[0m ${ESC}[32mkube-system/tetragon${ESC}[0m ${ESC}[35m/usr/bin/curl${ESC}[0m ${ESC}[36mcilium.io${ESC}[0m`;
  t.is(Buffer.byteLength(pieces), 93);
  t.is(line, `${pieces} ${' '.repeat(18)}${ESC}[35m${ESC}[0m`);
  const exit = encodeEventCompact(sampleExit({ process: curl({ pod: tetragonPod }), signal: 'SIGKILL' }), COLOR);
  t.true(exit?.startsWith(`${ESC}[34m💥 exit   ${ESC}[0m ${ESC}[32mkube-system/tetragon${ESC}[0m`));
  t.true(exit?.includes(`${ESC}[36mcilium.io${ESC}[0m ${ESC}[31mSIGKILL${ESC}[0m `));
  t.true(exit?.endsWith(`${ESC}[35m${ESC}[0m`));
});

test('colours: lines past column 120 get the trailer after a single space', (t) => {
  const line = encodeEventCompact(sampleExec({ process: curl({ arguments: 'x'.repeat(100) }), nodeName: 'n' }), COLOR) ?? '';
  t.true(line.endsWith(`${'x'.repeat(100)}${ESC}[0m ${ESC}[35m${ESC}[0m`));
});

test('colours with timestamps: the timestamp is not coloured', (t) => {
  const line = encodeEventCompact(sampleExec({ process: curl(), time: [0, 0] }), { color: true, timestamps: true }) ?? '';
  t.true(line.startsWith(`1970-01-01T00:00:00.000000000Z ${ESC}[34m🚀 process`));
});

test('control characters are Go-quoted: binary, arguments, node name', (t) => {
  const bin = encodeEventCompact(sampleExec({ process: curl({ binary: '/usr/bin/\x1b[31mmalicious\x1b[0m' }), nodeName: 'n' }), PLAIN);
  t.is(bin, '🚀 process n "/usr/bin/\\x1b[31mmalicious\\x1b[0m" cilium.io');
  const args = encodeEventCompact(sampleExec({ process: curl({ arguments: 'echo \x00null\rbyte' }), nodeName: 'n' }), PLAIN);
  t.is(args, '🚀 process n /usr/bin/curl "echo \\x00null\\rbyte"');
  const node = encodeEventCompact(sampleExec({ process: curl(), nodeName: 'host\nwith\nnewlines' }), PLAIN);
  t.is(node, '🚀 process "host\\nwith\\nnewlines" /usr/bin/curl cilium.io');
});

test('quoting escapes embedded quotes and backslashes, and only happens when needed', (t) => {
  const line = encodeEventCompact(sampleExec({ process: curl({ arguments: 'a "b" \\c\td' }), nodeName: 'n' }), PLAIN);
  t.is(line, '🚀 process n /usr/bin/curl "a \\"b\\" \\\\c\\td"');
  t.is(encodeEventCompact(sampleExec({ process: curl({ arguments: 'a "b" \\c d' }), nodeName: 'n' }), PLAIN), '🚀 process n /usr/bin/curl a "b" \\c d');
});

test('unprintable pod names and signals are quoted too', (t) => {
  const pod = samplePod({ namespace: 'ns', name: 'p\x07' });
  t.is(encodeEventCompact(sampleExec({ process: curl({ pod }) }), PLAIN), '🚀 process "ns/p\\a" /usr/bin/curl cilium.io');
  t.is(encodeEventCompact(sampleExit({ process: curl(), nodeName: 'n', signal: 'SIG\x1b' }), PLAIN), '💥 exit    n /usr/bin/curl cilium.io "SIG\\x1b"');
});

test('rate_limit_info is not printed', (t) => {
  t.is(encodeEventCompact({ kind: 'rate_limit_info', numberOfDroppedProcessEvents: 5, nodeName: 'n', time: [0, 0] }, PLAIN), undefined);
});

const SGR = new RegExp(`${ESC}\\[\\d+m`, 'g');

test('property: never throws; no control or other unprintable character reaches the output raw', (t) => {
  fc.assert(
    fc.property(arbitraryEvent, fc.boolean(), fc.boolean(), (e, color, timestamps) => {
      const line = encodeEventCompact(e, { color, timestamps });
      if (line === undefined) return e.kind === 'rate_limit_info';
      const text = color ? line.replace(SGR, '') : line;
      return isGoPrintable(text) && !line.includes('\n');
    }),
    { numRuns: 500 },
  );
  t.pass();
});
