// test/unit/getevents/getevents.test.ts
// `execscope getevents` against JSON lines on stdin and against a running gRPC server, with injected streams.

import { PassThrough } from 'node:stream';
import { Command, CommanderError } from 'commander';
import test from 'ava';
import { registerGetEvents, type GetEventsIo } from '../../../receiver/src/cli/getevents.js';
import { collectCsv } from '../../../receiver/src/cli/getevents-settings.js';
import { parseGoDuration } from '../../../receiver/src/cli/go-duration.js';
import { encodeEventJson } from '../../../receiver/src/encode/json-encoder.js';
import { UsageError } from '../../../receiver/src/errors.js';
import { parseServerAddress } from '../../../receiver/src/grpc/address.js';
import { GrpcEventServer } from '../../../receiver/src/grpc/server.js';
import { silentLogger } from '../../../receiver/src/logger.js';
import { MetricsRegistry } from '../../../receiver/src/metrics.js';
import { loadTetragonProto } from '../../../receiver/src/proto/load.js';
import { samplePod, sampleExec, sampleExit, sampleProcess } from '../../helpers/sample-events.js';

interface Run {
  code: number | undefined;
  stdout: string;
  stderr: string;
  thrown: unknown;
}

/** Runs `execscope getevents ...args` with the given stdin (undefined: not piped, so it connects to the agent). */
async function getevents(args: string[], stdinText?: string, extra: Partial<GetEventsIo> = {}): Promise<Run> {
  const stdin = new PassThrough();
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (b: Buffer) => (out += b.toString()));
  stderr.on('data', (b: Buffer) => (err += b.toString()));
  let code: number | undefined;
  const program = new Command('execscope');
  registerGetEvents(program, { stdin, stdout, stderr, stdinIsPiped: stdinText !== undefined, stdoutIsTty: false, env: {}, setExitCode: (c) => (code = c), ...extra });
  if (stdinText !== undefined) stdin.end(stdinText);
  let thrown: unknown;
  try {
    await program.parseAsync(['getevents', ...args], { from: 'user' });
  } catch (error: unknown) {
    thrown = error;
  }
  return { code, stdout: out, stderr: err, thrown };
}

const xwing = sampleExec({ process: sampleProcess({ binary: '/usr/bin/curl', arguments: 'https://ebpf.io', pod: samplePod() }) });
const tie = sampleExec({ process: sampleProcess({ binary: '/bin/sh', arguments: '-c date', pod: samplePod({ name: 'tiefighter', namespace: 'empire' }) }) });
const hostLs = sampleExit({ process: sampleProcess({ binary: '/bin/ls', arguments: '' }), nodeName: 'node-1', status: 2 });
const lines = [xwing, tie, hostLs].map((e) => encodeEventJson(e));
const STDIN = `${lines.join('\n')}\nnot json\n\n{"process_kprobe":{"process":{"binary":"/x"}}}\n`;

test('stdin: JSON lines pass through unchanged by default', async (t) => {
  const r = await getevents([], STDIN);
  t.is(r.code, 0);
  t.is(r.stdout, `${lines.join('\n')}\n`);
});

test('stdin: cat events.json | getevents -o compact --pods xwing', async (t) => {
  const r = await getevents(['-o', 'compact', '--pods', 'xwing'], STDIN);
  t.is(r.code, 0);
  t.is(r.stdout, '🚀 process default/xwing /usr/bin/curl https://ebpf.io\n');
});

test('stdin: namespace, --host, event types, process regex, namespace regex', async (t) => {
  t.is((await getevents(['-o', 'compact', '-n', 'empire'], STDIN)).stdout, '🚀 process empire/tiefighter /bin/sh -c date\n');
  t.is((await getevents(['-o', 'compact', '--host'], STDIN)).stdout, '💥 exit    node-1 /bin/ls  2\n');
  t.is((await getevents(['-o', 'compact', '--namespace', 'empire', '--host'], STDIN)).stdout.split('\n').length, 3);
  t.is((await getevents(['-o', 'compact', '-e', 'PROCESS_EXIT'], STDIN)).stdout, '💥 exit    node-1 /bin/ls  2\n');
  t.is((await getevents(['-o', 'compact', '--process', 'curl$,/sh$'], STDIN)).stdout.split('\n').length, 3);
  t.is((await getevents(['-o', 'compact', '--namespace-regex', '^emp'], STDIN)).stdout, '🚀 process empire/tiefighter /bin/sh -c date\n');
});

test('stdin: include and exclude fields; compact with timestamps and colour', async (t) => {
  const inc = await getevents(['-f', 'process.binary', '-e', 'PROCESS_EXEC'], STDIN);
  t.deepEqual(inc.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { process_exec: unknown }).process_exec), [{ process: { binary: '/usr/bin/curl' } }, { process: { binary: '/bin/sh' } }]);
  const exc = await getevents(['-F', 'parent,process.pod'], lines[0]);
  const parsed = JSON.parse(exc.stdout) as { process_exec: { process: Record<string, unknown> } };
  t.false('parent' in parsed.process_exec);
  t.false('pod' in parsed.process_exec.process);
  const ts = await getevents(['-o', 'compact', '--timestamps', '--color', 'always', '-n', 'empire'], STDIN);
  t.true(ts.stdout.startsWith('2023-11-14T22:13:20.123456789Z \x1b[34m🚀 process\x1b[0m '), ts.stdout);
  // Field filters that remove the process leave nothing for compact to print, as in Tetragon.
  t.is((await getevents(['-o', 'compact', '-F', 'process'], STDIN)).stdout, '');
});

test('stdin: --color auto follows the terminal, NO_COLOR and TERM=dumb', async (t) => {
  t.true((await getevents(['-o', 'compact', '-n', 'empire'], STDIN, { stdoutIsTty: true })).stdout.includes('\x1b['));
  t.false((await getevents(['-o', 'compact', '-n', 'empire'], STDIN, { stdoutIsTty: true, env: { NO_COLOR: '1' } })).stdout.includes('\x1b['));
  t.false((await getevents(['-o', 'compact', '-n', 'empire'], STDIN, { stdoutIsTty: true, env: { TERM: 'dumb' } })).stdout.includes('\x1b['));
});

test('bad flag values: message on stderr, exit 2', async (t) => {
  const cases: [string[], RegExp][] = [
    [['-o', 'yaml'], /--output "yaml": expected one of json, compact/],
    [['--color', 'sometimes'], /--color "sometimes"/],
    [['-e', 'PROCESS_EXECUTE'], /--event-types "PROCESS_EXECUTE": unknown event type/],
    [['--process', '(?=x)'], /--process "\(\?=x\)": not an RE2 regular expression: lookahead/],
    [['--pods', 'a,('], /--pods "\(": not an RE2 regular expression/],
    [['--containers', '['], /--containers "\["/],
    [['--namespace-regex', 'x{2}{1001}'], /--namespace-regex "x\{2\}\{1001\}": not an RE2 regular expression: .*invalid repeat count/],
    [['-f', 'process.nope'], /--include-fields "process.nope": unknown field path "process.nope"/],
    [['-F', 'nope'], /--exclude-fields "nope": unknown field path/],
    [['--timeout', 'soon'], /--timeout "soon"/],
    [['--timeout', '-1s'], /--timeout "-1s": expected a positive duration/],
    [['--reconnect-wait', '-2s'], /--reconnect-wait "-2s": must not be negative/],
    [['--tls-cert-file', '/c.pem'], /--tls-cert-file "\/c.pem" needs --tls-key-file/],
    [['--tls-ca-cert-files', '/no/such/ca.pem'], /--tls-ca-cert-files "\/no\/such\/ca.pem": cannot read/],
    [['--tls-server-name', 'x', '--server-address', 'unix:///run/x.sock'], /--tls-\* flags apply to TCP addresses/],
    [['--retries', '-1'], /--retries "-1"/],
    [['--server-address', 'nowhere'], /--server-address "nowhere"/],
  ];
  for (const [args, message] of cases) {
    const r = await getevents(args, '');
    t.is(r.code, 2, args.join(' '));
    t.regex(r.stderr, message);
    t.is(r.stdout, '');
  }
});

test('unknown flags: commander prints the error, exit code 2, UsageError thrown for main', async (t) => {
  const r = await getevents(['--bogus'], '');
  t.is(r.code, 2);
  t.regex(r.stderr, /unknown option '--bogus'/);
  t.true(r.thrown instanceof UsageError);
  const help = await getevents(['--help'], '');
  t.true(help.thrown instanceof CommanderError);
  t.regex(help.stdout, /--pods? <regexes>/);
  t.regex(help.stdout, /--event-types/);
});

const proto = loadTetragonProto();

async function withServer(run: (server: GrpcEventServer) => Promise<void>): Promise<void> {
  const server = await GrpcEventServer.start({ address: parseServerAddress('127.0.0.1:0') ?? { kind: 'unix', path: '', target: '' }, eventQueueSize: 1000, version: 't', logger: silentLogger, metrics: new MetricsRegistry(), proto });
  try {
    await run(server);
  } finally {
    await server.close(1000);
  }
}

async function waitFor(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

test('server: streams filtered events from the agent until stopped', async (t) => {
  await withServer(async (server) => {
    const stop = new AbortController();
    let out = '';
    const stdout = new PassThrough();
    stdout.on('data', (b: Buffer) => (out += b.toString()));
    const running = getevents(['--server-address', server.boundTarget, '-o', 'compact', '--pod', 'xwing,tie', '-e', 'PROCESS_EXEC'], undefined, { stdout, signal: stop.signal });
    await waitFor(() => server.sink.streams.size === 1);
    for (const e of [hostLs, xwing, tie]) server.sink.write(e);
    await waitFor(() => out.split('\n').length === 3);
    stop.abort();
    const r = await running;
    t.is(r.code, 0);
    t.is(out, '🚀 process default/xwing /usr/bin/curl https://ebpf.io\n🚀 process empire/tiefighter /bin/sh -c date\n');
  });
});

test('server: the server ending the stream ends getevents with 0; JSON output is the export format', async (t) => {
  await withServer(async (server) => {
    let out = '';
    const stdout = new PassThrough();
    stdout.on('data', (b: Buffer) => (out += b.toString()));
    const running = getevents(['--server-address', server.boundTarget], undefined, { stdout });
    await waitFor(() => server.sink.streams.size === 1);
    server.sink.write(xwing);
    await waitFor(() => out.length > 0);
    await server.sink.close(500);
    const r = await running;
    t.is(r.code, 0);
    t.is(out, `${lines[0]}\n`);
  });
});

test('server: nothing listening gives exit 1 after the retries', async (t) => {
  const started = Date.now();
  const r = await getevents(['--server-address', '127.0.0.1:1', '--timeout', '200ms', '--retries', '0']);
  t.is(r.code, 1);
  t.regex(r.stderr, /cannot connect to 127\.0\.0\.1:1/);
  t.true(Date.now() - started < 5000);
});

test('server: --reconnect waits for the agent to come up', async (t) => {
  // Find a free port, then start the agent on it only after getevents is already trying.
  const probe = await GrpcEventServer.start({ address: parseServerAddress('127.0.0.1:0') ?? { kind: 'unix', path: '', target: '' }, eventQueueSize: 10, version: 't', logger: silentLogger, metrics: new MetricsRegistry(), proto });
  const port = probe.port;
  await probe.close(500);
  const stop = new AbortController();
  let out = '';
  const stdout = new PassThrough();
  stdout.on('data', (b: Buffer) => (out += b.toString()));
  const running = getevents(['--server-address', `127.0.0.1:${port}`, '--timeout', '100ms', '--retries', '0', '--reconnect', '--reconnect-wait', '50ms', '-o', 'compact'], undefined, { stdout, signal: stop.signal });
  await new Promise((resolve) => setTimeout(resolve, 300));
  const server = await GrpcEventServer.start({ address: parseServerAddress(`127.0.0.1:${port}`) ?? { kind: 'unix', path: '', target: '' }, eventQueueSize: 10, version: 't', logger: silentLogger, metrics: new MetricsRegistry(), proto });
  try {
    await waitFor(() => server.sink.streams.size === 1);
    server.sink.write(tie);
    await waitFor(() => out.length > 0);
    stop.abort();
    const r = await running;
    t.is(r.code, 0);
    t.regex(r.stderr, /reconnecting in 50 ms/);
    t.is(out, '🚀 process empire/tiefighter /bin/sh -c date\n');
  } finally {
    await server.close(500);
  }
});

test('csv flag values and Go durations', (t) => {
  t.deepEqual(collectCsv('a,b', undefined), ['a', 'b']);
  t.deepEqual(collectCsv('"x{1,2}",y', ['w']), ['w', 'x{1,2}', 'y']);
  t.is(parseGoDuration('30s', 'f'), 30_000);
  t.is(parseGoDuration('1m30s', 'f'), 90_000);
  t.is(parseGoDuration('250ms', 'f'), 250);
  t.is(parseGoDuration('1.5h', 'f'), 5_400_000);
  t.is(parseGoDuration('0', 'f'), 0);
  for (const bad of ['', '30', 's', '1d', '1 s']) t.throws(() => parseGoDuration(bad, 'f'), undefined, bad);
});
