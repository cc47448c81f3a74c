// test/unit/getevents/getevents-tls.test.ts
// `execscope getevents --tls-*` against a mutual-TLS gRPC server, with certificates made in the test.

import { PassThrough } from 'node:stream';
import { Command } from 'commander';
import anyTest, { type TestFn } from 'ava';
import { registerGetEvents, type GetEventsIo } from '../../../receiver/src/cli/getevents.js';
import { parseServerAddress } from '../../../receiver/src/grpc/address.js';
import { GrpcEventServer } from '../../../receiver/src/grpc/server.js';
import { loadServerTls } from '../../../receiver/src/grpc/tls.js';
import { silentLogger } from '../../../receiver/src/logger.js';
import { MetricsRegistry } from '../../../receiver/src/metrics.js';
import { loadTetragonProto } from '../../../receiver/src/proto/load.js';
import { sampleExec, sampleProcess } from '../../helpers/sample-events.js';
import { haveOpenssl, makeTestPki, type TestPki } from '../grpc/test-pki.js';

const test = anyTest as TestFn<{ pki: TestPki; server: GrpcEventServer }>;
const openssl = haveOpenssl();
if (!openssl) process.stderr.write('\n*** SKIPPING getevents-tls.test.ts: no `openssl` on this machine to make certificates ***\n\n');
const withPki = openssl ? test.serial : test.skip;

test.before(async (t) => {
  if (!openssl) return;
  const pki = makeTestPki();
  const tls = loadServerTls({ certFile: pki.serverCert, keyFile: pki.serverKey, clientCaFiles: [pki.caCert] });
  const address = parseServerAddress('127.0.0.1:0');
  if (address === undefined || tls === undefined) throw new Error('setup');
  const server = await GrpcEventServer.start({ address, eventQueueSize: 100, version: 't', logger: silentLogger, metrics: new MetricsRegistry(), proto: loadTetragonProto(), tls });
  t.context = { pki, server };
});

test.after.always(async (t) => {
  await t.context.server?.close(1000);
  t.context.pki?.remove();
});

interface Run {
  code: number | undefined;
  stdout: string;
  stderr: string;
}

/** Runs getevents against the server until `until` holds for its stdout (then stops it) or it exits by itself. */
async function getevents(args: string[], until?: (stdout: string) => boolean): Promise<Run> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (b: Buffer) => (out += b.toString()));
  stderr.on('data', (b: Buffer) => (err += b.toString()));
  const stop = new AbortController();
  let code: number | undefined;
  const io: Partial<GetEventsIo> = { stdin: new PassThrough(), stdout, stderr, stdinIsPiped: false, stdoutIsTty: false, env: {}, signal: stop.signal, setExitCode: (c) => (code = c) };
  const program = new Command('execscope');
  registerGetEvents(program, io);
  const running = program.parseAsync(['getevents', ...args], { from: 'user' });
  if (until !== undefined) {
    const deadline = Date.now() + 10_000;
    while (!until(out) && code === undefined && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    stop.abort();
  }
  await running;
  return { code, stdout: out, stderr: err };
}

withPki('with a client certificate and the CA, events stream; --tls-server-name names the certificate', async (t) => {
  const { pki, server } = t.context;
  const writer = setInterval(() => {
    if (server.sink.streams.size > 0) server.sink.write(sampleExec({ process: sampleProcess({ binary: '/usr/bin/over-tls', arguments: 'x' }), nodeName: 'n' }));
  }, 20);
  try {
    const r = await getevents(
      ['--server-address', server.boundTarget, '-o', 'compact', '--tls-ca-cert-files', pki.caCert, '--tls-cert-file', pki.clientCert, '--tls-key-file', pki.clientKey, '--tls-server-name', 'agent.execscope.test'],
      (out) => out.includes('\n'),
    );
    t.is(r.code, 0, r.stderr);
    t.is(r.stdout.split('\n')[0], '🚀 process n /usr/bin/over-tls x');
  } finally {
    clearInterval(writer);
  }
});

withPki('without a client certificate, or without TLS, getevents fails with exit 1 and says why', async (t) => {
  const { pki, server } = t.context;
  const common = ['--server-address', `localhost:${server.port}`, '--timeout', '1s', '--retries', '0'];
  const noCert = await getevents([...common, '--tls-ca-cert-files', pki.caCert]);
  t.is(noCert.code, 1);
  t.regex(noCert.stderr, /^execscope getevents: /);
  t.regex(noCert.stderr, /cannot connect to localhost:\d+: .*certificate required/);
  const plaintext = await getevents(common);
  t.is(plaintext.code, 1);
  t.regex(plaintext.stderr, /cannot connect to localhost:\d+/);
  t.is(server.sink.streams.size, 0);
});

withPki('a server certificate the CA did not sign is refused', async (t) => {
  const { pki, server } = t.context;
  const r = await getevents(['--server-address', server.boundTarget, '--timeout', '1s', '--retries', '0', '--tls-ca-cert-files', pki.rogueCaCert, '--tls-cert-file', pki.clientCert, '--tls-key-file', pki.clientKey]);
  t.is(r.code, 1);
  t.regex(r.stderr, /cannot connect to 127\.0\.0\.1:\d+: .*(self-signed certificate|unable to verify)/i, r.stderr);
});
