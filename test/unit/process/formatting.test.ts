// test/unit/process/formatting.test.ts
// Tetragon's arguments quoting, flag order, exec_id and exit status rules.

import test from 'ava';
import { formatArguments } from '../../../receiver/src/process/arguments.js';
import { execIdOf, missingParentExecId } from '../../../receiver/src/process/exec-id.js';
import { decodeExitCode } from '../../../receiver/src/process/exit-status.js';
import { formatFlags } from '../../../receiver/src/process/flags.js';
import { absoluteBinary } from '../../../receiver/src/process/process-cache.js';

const quoting: [string[], string][] = [
  [['curl', 'https://ebpf.io/applications/#tetragon'], 'https://ebpf.io/applications/#tetragon'],
  [['bash', '-c', 'curl https://x'], '-c "curl https://x"'],
  [['echo', 'a b'], ' "a b"'],
  [['echo', 'a', ''], 'a '],
  [['echo', 'a', '', 'b'], 'a  b'],
  [['echo', 'say "hi"'], ' "say "hi""'],
  [['echo', 'tab\there'], 'tab\there'],
  [['true'], ''],
  [[], ''],
];
for (const [argv, expected] of quoting) {
  test(`arguments of ${JSON.stringify(argv)}`, (t) => t.is(formatArguments(argv), expected));
}

test('flags come out in Tetragon order whatever the input order', (t) => {
  t.is(formatFlags(['clone', 'rootcwd', 'execve']), 'execve rootcwd clone');
  t.is(formatFlags(['inInitTree', 'clone', 'execve', 'rootcwd']), 'execve rootcwd clone inInitTree');
  t.is(formatFlags(['procFS', 'rootcwd']), 'procFS rootcwd');
  t.is(formatFlags(['errorCgroupID', 'errorCgroupSubsysCgrp']), 'errorCgroupID errorCgroupSubsysCgrp');
  t.is(formatFlags([]), '');
  t.is(formatFlags(['execve', 'execve']), 'execve');
});

test('exec_id is base64 of node:ktime:pid with padding', (t) => {
  t.is(Buffer.from(execIdOf('gke-john-632-default-pool-7041cac0-9s95', 13548674321373n, 52699), 'base64').toString(), 'gke-john-632-default-pool-7041cac0-9s95:13548674321373:52699');
  t.is(execIdOf('kind-control-plane', 1n, 0), 'a2luZC1jb250cm9sLXBsYW5lOjE6MA==');
  t.is(missingParentExecId('n', 0), execIdOf('n', 1n, 0));
  t.is(Buffer.from(missingParentExecId('n', 77), 'base64').toString(), 'n:0:77');
});

test('exit codes split into status and signal', (t) => {
  t.deepEqual(decodeExitCode(0), { status: 0, signal: '' });
  t.deepEqual(decodeExitCode(0x500), { status: 5, signal: '' });
  t.deepEqual(decodeExitCode(0xff00), { status: 255, signal: '' });
  t.deepEqual(decodeExitCode(9), { status: 0, signal: 'SIGKILL' });
  t.deepEqual(decodeExitCode(0x8b), { status: 0, signal: 'SIGSEGV' }); // core dumped
  t.deepEqual(decodeExitCode(15), { status: 0, signal: 'SIGTERM' });
});

test('relative binaries are joined with the cwd, absolute ones kept', (t) => {
  t.is(absoluteBinary('./../bin/true', '/usr/local'), '/usr/bin/true');
  t.is(absoluteBinary('true', '/bin'), '/bin/true');
  t.is(absoluteBinary('/usr/bin/curl', '/tmp'), '/usr/bin/curl');
});

test('exec_id encodes the node name as UTF-8, ASCII or not', (t) => {
  t.is(Buffer.from(execIdOf('nœud-é', 5n, 7), 'base64').toString('utf8'), 'nœud-é:5:7');
  t.is(execIdOf('node-1', 5n, 7), Buffer.from('node-1:5:7').toString('base64'));
});
