// test/unit/wire/decode.test.ts
// The batch decoder against records encoded in the test, including malformed and hostile ones.

import test from 'ava';
import fc from 'fast-check';
import { BatchDecoder } from '../../../receiver/src/wire/decode.js';
import type { KernelRecord } from '../../../receiver/src/wire/records.js';
import { batchOf, execRecord, exitRecord, forkRecord } from '../../helpers/record-builder.js';

function decodeAll(decoder: BatchDecoder, batch: Buffer): KernelRecord[] {
  const out: KernelRecord[] = [];
  decoder.decode(batch, (r) => out.push(r));
  return out;
}

test('decodes exec, fork and exit records of one batch in order', (t) => {
  const batch = batchOf([
    forkRecord({ ktime: 10n, tgid: 200, ppid: 100, seq: 1 }),
    execRecord({ ktime: 11n, tgid: 200, ppid: 100, filename: '/bin/echo', argv: ['echo', 'a b', ''], cwd: '/tmp', env: ['TRACEPARENT=00-x'], seq: 2 }),
    exitRecord({ ktime: 12n, tgid: 200, exitCode: 0x500, seq: 3 }),
  ]);
  const d = new BatchDecoder();
  const records = decodeAll(d, batch);
  t.deepEqual(records.map((r) => r.kind), ['fork', 'exec', 'exit']);
  const exec = records[1];
  if (exec?.kind !== 'exec') return t.fail();
  t.is(exec.filename, '/bin/echo');
  t.deepEqual(exec.argv, ['echo', 'a b', '']);
  t.is(exec.cwd, '/tmp');
  t.deepEqual(exec.env, ['TRACEPARENT=00-x']);
  t.is(exec.ktime, 11n);
  const exit = records[2];
  t.is(exit?.kind === 'exit' ? exit.exitCode : -1, 0x500);
  t.is(d.stats.sequenceGaps, 0);
  t.is(d.stats.errors, 0);
});

test('invalid UTF-8 becomes U+FFFD', (t) => {
  const d = new BatchDecoder();
  const raw = execRecord({ ktime: 1n, tgid: 2, ppid: 1, filename: '/bin/a', argv: ['a', 'bb'], cwd: '/' });
  // overwrite the second argument's bytes with an invalid sequence (\xc3\x28)
  const argsAt = raw.indexOf(Buffer.from('bb\0'));
  raw[argsAt] = 0xc3;
  raw[argsAt + 1] = 0x28;
  const [r] = decodeAll(d, batchOf([raw]));
  t.deepEqual(r?.kind === 'exec' ? r.argv : [], ['a', '\uFFFD(']);
});

test('per-CPU sequence gaps count records lost upstream', (t) => {
  const d = new BatchDecoder();
  decodeAll(d, batchOf([exitRecord({ ktime: 1n, tgid: 1, exitCode: 0, cpu: 0, seq: 1 }), exitRecord({ ktime: 1n, tgid: 1, exitCode: 0, cpu: 1, seq: 1 })]));
  decodeAll(d, batchOf([exitRecord({ ktime: 2n, tgid: 1, exitCode: 0, cpu: 0, seq: 5 }), exitRecord({ ktime: 2n, tgid: 1, exitCode: 0, cpu: 1, seq: 2 })]));
  t.is(d.stats.sequenceGaps, 3);
});

test('records lost before the first one a CPU delivers count too (sequences start at 1)', (t) => {
  const d = new BatchDecoder();
  decodeAll(d, batchOf([exitRecord({ ktime: 1n, tgid: 1, exitCode: 0, cpu: 1, seq: 4 })]));
  t.is(d.stats.sequenceGaps, 3);
});

test('unknown kinds, bad versions and inconsistent sizes are counted and skipped, never thrown', (t) => {
  const errors: string[] = [];
  const d = new BatchDecoder((e) => errors.push(e.code));
  const unknown = exitRecord({ ktime: 1n, tgid: 1, exitCode: 0 });
  unknown[0] = 99;
  const badVersion = exitRecord({ ktime: 1n, tgid: 1, exitCode: 0 });
  badVersion[1] = 7;
  const lying = execRecord({ ktime: 1n, tgid: 3, ppid: 1, filename: '/a', argv: ['a'], cwd: '/' });
  lying.writeUInt16LE(60000, 82); // args_len beyond the record
  const good = exitRecord({ ktime: 1n, tgid: 9, exitCode: 0 });
  const records = decodeAll(d, batchOf([unknown, badVersion, lying, good]));
  t.deepEqual(records.map((r) => r.kind === 'exit' && r.tgid), [9]);
  t.is(d.stats.errors, 3);
  t.deepEqual(errors, ['ERR_RECORD_DECODE', 'ERR_RECORD_DECODE', 'ERR_RECORD_DECODE']);
});

test('a size that overruns the batch stops that batch without throwing', (t) => {
  const d = new BatchDecoder();
  const rec = exitRecord({ ktime: 1n, tgid: 1, exitCode: 0 });
  rec.writeUInt32LE(4096, 4);
  t.deepEqual(decodeAll(d, batchOf([rec])), []);
  t.is(d.stats.errors, 1);
});

test('arbitrary bytes never make the decoder throw', (t) => {
  const d = new BatchDecoder();
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => {
      decodeAll(d, Buffer.from(bytes));
      return true;
    }),
    { numRuns: 2000 },
  );
  t.pass();
});

test('arbitrary string fields round-trip through the exec layout', (t) => {
  fc.assert(
    fc.property(fc.string({ maxLength: 200 }), fc.array(fc.string({ maxLength: 50 }).filter((s) => !s.includes('\0')), { maxLength: 8 }), (cwd, argv) => {
      const d = new BatchDecoder();
      const clean = cwd.replace(/\0/g, '');
      const [r] = decodeAll(d, batchOf([execRecord({ ktime: 5n, tgid: 7, ppid: 1, filename: '/f', argv, cwd: clean })]));
      return r?.kind === 'exec' && r.cwd === Buffer.from(clean).toString('utf8') && r.argv.length === argv.length;
    }),
  );
  t.pass();
});
