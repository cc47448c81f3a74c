// test/unit/fuzz/getevents-stdin-fuzz.test.ts
// `getevents` on hostile stdin with random filter and output flags: exit 0, valid JSON lines, compact lines never raw.

import { PassThrough } from 'node:stream';
import { Command } from 'commander';
import test from 'ava';
import fc from 'fast-check';
import { registerGetEvents } from '../../../receiver/src/cli/getevents.js';
import { isGoPrintable } from '../../../receiver/src/encode/go-quote.js';
import { anyEventLine } from './mutated-json.js';

const ESC = String.fromCharCode(0x1b);
const SGR = new RegExp(`${ESC}\\[\\d+m`, 'g');

/** Flags that always parse: each run picks a few; the filters then run on every line. */
const flags = fc.array(
  fc.constantFrom(
    ['-o', 'compact'],
    ['-o', 'json'],
    ['--color', 'always'],
    ['--color', 'never'],
    ['--timestamps'],
    ['-e', 'PROCESS_EXEC'],
    ['-e', 'PROCESS_EXIT,PROCESS_EXEC'],
    ['--process', '(?i)bin'],
    ['--pod', '.'],
    ['--host'],
    ['-n', 'default'],
    ['--namespace-regex', '^k'],
    ['-f', 'process.binary,process.arguments,parent.binary'],
    ['-F', 'parent,process.pod'],
    ['-F', 'process'],
  ),
  { maxLength: 4 },
);

async function getevents(args: string[], stdinText: string): Promise<{ code: number | undefined; stdout: string; stderr: string }> {
  const stdin = new PassThrough();
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (b: Buffer) => (out += b.toString()));
  stderr.on('data', (b: Buffer) => (err += b.toString()));
  let code: number | undefined;
  const program = new Command('execscope');
  registerGetEvents(program, { stdin, stdout, stderr, stdinIsPiped: true, stdoutIsTty: false, env: {}, setExitCode: (c) => (code = c) });
  stdin.end(stdinText);
  await program.parseAsync(['getevents', ...args], { from: 'user' });
  return { code, stdout: out, stderr: err };
}

test('hostile stdin with any valid flags: exit 0, output lines are valid JSON or printable compact lines', async (t) => {
  let lines = 0;
  await fc.assert(
    fc.asyncProperty(flags, fc.array(anyEventLine, { minLength: 1, maxLength: 8 }), fc.constantFrom('\n', '\r\n'), async (chosen, input, eol) => {
      const args = chosen.flat();
      const r = await getevents(args, input.join(eol) + eol);
      if (r.code !== 0 || r.stderr !== '') return false;
      // The last -o wins, as with any repeated flag.
      const compact = args.lastIndexOf('compact') > args.lastIndexOf('json');
      for (const line of r.stdout.split('\n').slice(0, -1)) {
        lines++;
        if (compact) {
          const plain = line.replace(SGR, '');
          if (!isGoPrintable(plain) || plain.includes(ESC) || line.includes('\r')) return false;
        } else {
          JSON.parse(line);
        }
      }
      return r.stdout === '' || r.stdout.endsWith('\n');
    }),
    { numRuns: 300 },
  );
  t.true(lines > 100, `only ${lines} lines printed`);
});
