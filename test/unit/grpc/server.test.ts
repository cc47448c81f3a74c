// test/unit/grpc/server.test.ts
// A real gRPC server and clients built from our .proto in one process: streaming, filters, errors, slow clients.

import { lstatSync } from 'node:fs';
import { readdir, rm, stat } from 'node:fs/promises';
import http2 from 'node:http2';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { status, type ClientReadableStream, type ServiceError } from '@grpc/grpc-js';
import anyTest, { type TestFn } from 'ava';
import { encodeEventJson, encodeResponseJson } from '../../../receiver/src/encode/json-encoder.js';
import { parseServerAddress } from '../../../receiver/src/grpc/address.js';
import { createSensorsClient, waitForReady, type SensorsClient } from '../../../receiver/src/grpc/client.js';
import { GrpcEventServer } from '../../../receiver/src/grpc/server.js';
import { silentLogger, type Logger } from '../../../receiver/src/logger.js';
import { MetricsRegistry } from '../../../receiver/src/metrics.js';
import type { ExecscopeEvent } from '../../../receiver/src/model/events.js';
import { loadTetragonProto } from '../../../receiver/src/proto/load.js';
import type { GetEventsRequestMsg, GetEventsResponseMsg } from '../../../receiver/src/proto/messages.js';
import { samplePod, sampleExec, sampleExit, sampleProcess } from '../../helpers/sample-events.js';

interface Ctx {
  server: GrpcEventServer;
  metrics: MetricsRegistry;
  clients: SensorsClient[];
  warnings: string[];
}

const test = anyTest as TestFn<Ctx>;
const proto = loadTetragonProto();

async function startServer(address = '127.0.0.1:0', eventQueueSize = 10_000, logger: Logger = silentLogger): Promise<{ server: GrpcEventServer; metrics: MetricsRegistry }> {
  const metrics = new MetricsRegistry();
  const parsed = parseServerAddress(address);
  if (parsed === undefined) throw new Error('no address');
  const server = await GrpcEventServer.start({ address: parsed, eventQueueSize, version: '9.9.9-test', logger, metrics, proto });
  return { server, metrics };
}

test.beforeEach(async (t) => {
  const warnings: string[] = [];
  const logger: Logger = { ...silentLogger, warn: (msg) => warnings.push(msg) };
  const { server, metrics } = await startServer('127.0.0.1:0', 200, logger);
  t.context = { server, metrics, clients: [], warnings };
});

test.afterEach.always(async (t) => {
  for (const c of t.context.clients) c.close();
  await t.context.server.close(2000);
});

function client(t: { context: Ctx }, target = t.context.server.boundTarget): SensorsClient {
  const c = createSensorsClient(proto, target);
  t.context.clients.push(c);
  return c;
}

async function waitFor(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Opens GetEvents and waits until the server has registered the stream. */
async function open(t: { context: Ctx }, request: GetEventsRequestMsg, c = client(t)): Promise<ClientReadableStream<GetEventsResponseMsg>> {
  const before = t.context.server.sink.streams.size;
  const call = c.GetEvents(request);
  await waitFor(() => t.context.server.sink.streams.size > before);
  return call;
}

function collect(call: ClientReadableStream<GetEventsResponseMsg>, count: number, timeoutMs = 5000): Promise<GetEventsResponseMsg[]> {
  return new Promise((resolve, reject) => {
    const got: GetEventsResponseMsg[] = [];
    const timer = setTimeout(() => reject(new Error(`got ${got.length} of ${count} events`)), timeoutMs);
    call.on('data', (m: GetEventsResponseMsg) => {
      got.push(m);
      if (got.length === count) {
        clearTimeout(timer);
        resolve(got);
      }
    });
    call.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

function errorOf(call: ClientReadableStream<GetEventsResponseMsg>): Promise<ServiceError> {
  return new Promise((resolve) => call.on('error', (e: ServiceError) => resolve(e)));
}

const curl = sampleExec({ process: sampleProcess({ pid: 10, binary: '/usr/bin/curl', pod: samplePod() }) });
const ls = sampleExec({ process: sampleProcess({ pid: 11, binary: '/bin/ls', arguments: '-l' }) });
const lsExit = sampleExit({ process: sampleProcess({ pid: 11, binary: '/bin/ls', arguments: '-l' }), signal: 'SIGKILL' });

test('streams live events; what arrives is the same Tetragon event', async (t) => {
  const call = await open(t, {});
  const received = collect(call, 3);
  for (const e of [curl, ls, lsExit]) t.context.server.sink.write(e);
  const got = await received;
  t.deepEqual(got.map((m) => encodeResponseJson(m)), [curl, ls, lsExit].map((e) => encodeEventJson(e)));
  t.is(got[2]?.event, 'process_exit');
  call.cancel();
});

test('allow and deny lists filter per stream', async (t) => {
  const onlyCurl = await open(t, { allow_list: [{ binary_regex: ['curl$'] }] });
  const notHost = await open(t, { deny_list: [{ namespace: [''] }] });
  const exits = await open(t, { allow_list: [{ event_set: ['PROCESS_EXIT'] }, { pid: [10] }], deny_list: [{ pod_regex: ['xwing'] }] });
  const a = collect(onlyCurl, 1);
  const b = collect(notHost, 1);
  const c = collect(exits, 1);
  for (const e of [ls, lsExit, curl]) t.context.server.sink.write(e);
  t.is((await a)[0]?.process_exec?.process?.binary, '/usr/bin/curl');
  t.is((await b)[0]?.process_exec?.process?.pod?.name, 'xwing');
  t.is((await c)[0]?.process_exit?.signal, 'SIGKILL');
  // Nothing more arrives: write a marker every stream passes except the curl one, and check order.
  const marker = sampleExit({ process: sampleProcess({ pid: 10, binary: '/bin/marker', pod: samplePod({ name: 'other' }) }) });
  const next = collect(exits, 1);
  t.context.server.sink.write(marker);
  t.is((await next)[0]?.process_exit?.process?.binary, '/bin/marker');
  for (const call of [onlyCurl, notHost, exits]) call.cancel();
});

test('field filters are applied to the event message only', async (t) => {
  const call = await open(t, { field_filters: [{ fields: { paths: ['process.binary', 'process.pod.name'] }, action: 'INCLUDE' }] });
  const received = collect(call, 1);
  t.context.server.sink.write(curl);
  const [m] = await received;
  t.deepEqual(m?.process_exec, { process: { binary: '/usr/bin/curl', pod: { name: 'xwing' } } });
  t.is(m?.node_name, 'test-node');
  t.not(m?.time, undefined);
  call.cancel();
});

test('invalid filters answer INVALID_ARGUMENT saying what is wrong', async (t) => {
  const c = client(t);
  const cases: [GetEventsRequestMsg, RegExp][] = [
    [{ allow_list: [{ binary_regex: ['(?=x)'] }] }, /allow_list\[0\]: invalid binary_regex "\(\?=x\)": lookahead/],
    [{ deny_list: [{}, { labels: ['a in ('] }] }, /deny_list\[1\]: invalid label selector/],
    [{ field_filters: [{ fields: { paths: ['process.nope'] } }] }, /field_filters\[0\]: unknown field path "process.nope"/],
    [{ allow_list: [{ cel_expression: ['true'] }] }, /cel_expression filters are not supported/],
  ];
  for (const [request, message] of cases) {
    const error = await errorOf(c.GetEvents(request));
    t.is(error.code, status.INVALID_ARGUMENT);
    t.regex(error.details, message);
  }
  t.is(t.context.metrics.find('execscope_grpc_requests_rejected_total')?.total(), cases.length);
  t.is(t.context.server.sink.streams.size, 0);
});

/**
 * A GetEvents client that never reads: raw HTTP/2 with the stream paused, so HTTP/2 flow control stops the server
 * (a grpc-js client in this process would keep buffering on its side).
 */
function neverReadingClient(target: string): { close(): void } {
  const session = http2.connect(`http://${target}`);
  session.on('error', () => undefined);
  const request = session.request({ ':method': 'POST', ':path': '/tetragon.FineGuidanceSensors/GetEvents', 'content-type': 'application/grpc', te: 'trailers' });
  request.on('error', () => undefined);
  request.end(Buffer.alloc(5)); // one empty GetEventsRequest: flag 0, length 0
  request.pause();
  return { close: () => session.destroy() };
}

test('a client that never reads does not stall a fast one; its drops are counted', async (t) => {
  // Queue size 200 (beforeEach).
  const slow = neverReadingClient(t.context.server.boundTarget);
  await waitFor(() => t.context.server.sink.streams.size === 1);
  const fast = await open(t, {});
  const total = 3000;
  const received = collect(fast, total, 15_000);
  const big = sampleExec({ process: sampleProcess({ arguments: 'x'.repeat(4000) }) });
  const [slowStream, fastStream] = [...t.context.server.sink.streams];
  for (let i = 0; i < total; i += 100) {
    for (let j = 0; j < 100; j++) t.context.server.sink.write(big);
    // Produce at the pace the fast client consumes (as the kernel would at a steady rate); never wait for the slow one.
    await waitFor(() => (fastStream?.queued ?? 0) < 100);
  }
  t.is((await received).length, total);
  t.is(fastStream?.dropped, 0);
  t.true((slowStream?.dropped ?? 0) > 0);
  t.is(slowStream?.queued, 200);
  t.is(t.context.metrics.find('execscope_grpc_stream_dropped_events_total')?.total(), slowStream?.dropped);
  t.is((slowStream?.dropped ?? 0) + (slowStream?.sent ?? 0) + (slowStream?.queued ?? 0), total);
  // Thousands of drops, one warning (rate-limited to one per 10 s).
  t.deepEqual(t.context.warnings, ['gRPC server: GetEvents client is not keeping up, dropping events']);
  slow.close();
  fast.cancel();
  await waitFor(() => t.context.server.sink.streams.size === 0);
});

test('many clients at once each get every event', async (t) => {
  const calls = [];
  for (let i = 0; i < 10; i++) calls.push(await open(t, {}));
  const all = calls.map((c) => collect(c, 50));
  for (let i = 0; i < 50; i++) t.context.server.sink.write(i % 2 === 0 ? curl : lsExit);
  for (const got of await Promise.all(all)) t.is(got.length, 50);
  t.is(t.context.metrics.find('execscope_grpc_events_sent_total')?.total(), 500);
  for (const c of calls) c.cancel();
  await waitFor(() => t.context.server.sink.streams.size === 0);
});

test('GetHealth and GetVersion', async (t) => {
  const c = client(t);
  await waitForReady(c, 5000);
  const health = await new Promise<unknown>((resolve, reject) => c.GetHealth({ event_set: ['HEALTH_STATUS_TYPE_STATUS'] }, (e, r) => (e !== null ? reject(e) : resolve(r))));
  t.deepEqual(health, { health_status: [{ event: 'HEALTH_STATUS_TYPE_STATUS', status: 'HEALTH_STATUS_RUNNING', details: 'running' }] });
  const version = await new Promise<unknown>((resolve, reject) => c.GetVersion({}, (e, r) => (e !== null ? reject(e) : resolve(r))));
  t.deepEqual(version, { version: '9.9.9-test' });
});

test('closing the server ends open streams with status OK and refuses new ones', async (t) => {
  const call = await open(t, {});
  const ended = new Promise<number>((resolve) => call.on('status', (s: { code: number }) => resolve(s.code)));
  call.on('data', () => undefined);
  call.on('error', () => undefined);
  await t.context.server.close(2000);
  t.is(await ended, status.OK);
});

test('unix socket: mode 0660, stale socket replaced, clients connect', async (t) => {
  const socket = path.join(tmpdir(), `execscope-grpc-${process.pid}-${Date.now()}.sock`);
  const first = await startServer(`unix://${socket}`);
  await first.server.close(1000);
  const { server } = await startServer(`unix://${socket}`);
  try {
    t.is((await stat(socket)).mode & 0o777, 0o660);
    const c = createSensorsClient(proto, server.boundTarget);
    const call = c.GetEvents({});
    await waitFor(() => server.sink.streams.size === 1);
    const got = collect(call, 1);
    server.sink.write(ls);
    t.is((await got)[0]?.process_exec?.process?.binary, '/bin/ls');
    call.cancel();
    c.close();
  } finally {
    await server.close(1000);
  }
});

test.serial('unix socket: never visible with a wider mode, whatever the umask', async (t) => {
  const dir = path.join(tmpdir(), `execscope-grpc-umask-${process.pid}-${Date.now()}`);
  const socket = path.join(dir, 'agent.sock');
  const seen = new Set<number>();
  let polling = true;
  // Poll the final path on every turn of the event loop while the server binds.
  const poll = (): void => {
    try {
      seen.add(lstatSync(socket).mode & 0o777);
    } catch {
      // not there yet
    }
    if (polling) setImmediate(poll);
  };
  const umask = process.umask(0);
  poll();
  let started: GrpcEventServer | undefined;
  try {
    started = (await startServer(`unix://${socket}`)).server;
    await new Promise((resolve) => setTimeout(resolve, 20));
  } finally {
    polling = false;
    process.umask(umask);
  }
  try {
    t.deepEqual([...seen], [0o660]);
    t.deepEqual(await readdir(dir), ['agent.sock'], 'no staging directory left behind');
  } finally {
    await started.close(1000);
    await rm(dir, { recursive: true, force: true });
  }
});

test('server address parsing', (t) => {
  t.is(parseServerAddress(''), undefined);
  t.deepEqual(parseServerAddress('localhost:54321'), { kind: 'tcp', host: 'localhost', port: 54321, target: 'localhost:54321' });
  t.deepEqual(parseServerAddress(':54321'), { kind: 'tcp', host: '::', port: 54321, target: '[::]:54321' });
  t.deepEqual(parseServerAddress('[::1]:5'), { kind: 'tcp', host: '::1', port: 5, target: '[::1]:5' });
  t.deepEqual(parseServerAddress('unix:///var/run/x.sock'), { kind: 'unix', path: '/var/run/x.sock', target: 'unix:///var/run/x.sock' });
  t.deepEqual(parseServerAddress('unix:/var/run/x.sock'), { kind: 'unix', path: '/var/run/x.sock', target: 'unix:///var/run/x.sock' });
  for (const bad of ['localhost', 'localhost:99999', 'unix://relative.sock', 'a b:1', 'http://x:1']) t.throws(() => parseServerAddress(bad), undefined, bad);
});

test('binding an address in use fails with a clear error', async (t) => {
  const port = t.context.server.port;
  await t.throwsAsync(startServer(`127.0.0.1:${port}`), { message: new RegExp(`cannot listen on 127.0.0.1:${port}`) });
});

test('events written with no client are simply not kept', (t) => {
  const events: ExecscopeEvent[] = [curl, ls];
  for (const e of events) t.context.server.sink.write(e);
  t.is(t.context.server.sink.streams.size, 0);
});
