// test/unit/grpc/tls.test.ts
// TLS and mutual TLS on a real gRPC server with certificates made in the test; the plaintext-remote refusal.

import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import anyTest, { type TestFn } from 'ava';
import { resolveGrpcConfig } from '../../../receiver/src/cli/features/grpc-feature.js';
import { ConfigError } from '../../../receiver/src/errors.js';
import { parseServerAddress, type ServerAddress } from '../../../receiver/src/grpc/address.js';
import { createSensorsClient, type SensorsClient } from '../../../receiver/src/grpc/client.js';
import { checkExposure, isLoopbackAddress, isUnspecifiedAddress } from '../../../receiver/src/grpc/exposure.js';
import { GrpcEventServer } from '../../../receiver/src/grpc/server.js';
import { loadClientTls, loadServerTls, type ClientTls, type ClientTlsFlags, type ServerTlsFlags } from '../../../receiver/src/grpc/tls.js';
import { silentLogger } from '../../../receiver/src/logger.js';
import { MetricsRegistry } from '../../../receiver/src/metrics.js';
import type { GetEventsResponseMsg } from '../../../receiver/src/proto/messages.js';
import { loadTetragonProto } from '../../../receiver/src/proto/load.js';
import { sampleExec, sampleProcess } from '../../helpers/sample-events.js';
import { haveOpenssl, makeTestPki, type TestPki } from './test-pki.js';

const test = anyTest as TestFn<{ pki: TestPki }>;
const proto = loadTetragonProto();
const openssl = haveOpenssl();
if (!openssl) process.stderr.write('\n*** SKIPPING TLS handshake tests in tls.test.ts: no `openssl` on this machine to make certificates ***\n\n');
const withPki = openssl ? test.serial : test.skip;

test.before((t) => {
  if (openssl) t.context.pki = makeTestPki();
});
test.after.always((t) => t.context.pki?.remove());

function tcp(text: string): ServerAddress {
  const address = parseServerAddress(text);
  if (address === undefined) throw new Error('no address');
  return address;
}

const noServerTls: ServerTlsFlags = { certFile: '', keyFile: '', clientCaFiles: [] };
const noClientTls: ClientTlsFlags = { certFile: '', keyFile: '', caCertFiles: [], serverName: '' };

async function startTlsServer(flags: ServerTlsFlags): Promise<GrpcEventServer> {
  const tls = loadServerTls(flags);
  return GrpcEventServer.start({ address: tcp('127.0.0.1:0'), eventQueueSize: 100, version: 'tls-test', logger: silentLogger, metrics: new MetricsRegistry(), proto, ...(tls !== undefined ? { tls } : {}) });
}

/** GetVersion with a short deadline: resolves the version, rejects with the gRPC error. */
function version(client: SensorsClient): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    (client as unknown as { GetVersion(r: object, m: Metadata, o: { deadline: number }, cb: (e: ServiceError | null, r?: { version?: string }) => void): void }).GetVersion(
      {},
      new Metadata(),
      { deadline: Date.now() + 3000 },
      (error, response) => (error !== null ? reject(error) : resolve(response?.version)),
    );
  });
}

async function withClient<T>(target: string, tls: ClientTls | undefined, use: (c: SensorsClient) => Promise<T>): Promise<T> {
  const client = createSensorsClient(proto, target, undefined, tls);
  try {
    return await use(client);
  } finally {
    client.close();
  }
}

function firstEvent(client: SensorsClient, server: GrpcEventServer): Promise<GetEventsResponseMsg> {
  return new Promise((resolve, reject) => {
    const call = client.GetEvents({});
    const timer = setInterval(() => {
      // Write once the stream is registered on the server.
      if (server.sink.streams.size > 0) {
        clearInterval(timer);
        server.sink.write(sampleExec({ process: sampleProcess({ binary: '/usr/bin/tls-probe' }) }));
      }
    }, 5);
    call.on('data', (m: GetEventsResponseMsg) => {
      clearInterval(timer);
      call.cancel();
      resolve(m);
    });
    call.on('error', (e: ServiceError) => {
      clearInterval(timer);
      if (e.code !== status.CANCELLED) reject(e);
    });
  });
}

withPki('TLS: a client trusting the CA streams events; plaintext and untrusting clients cannot connect', async (t) => {
  const { pki } = t.context;
  const server = await startTlsServer({ certFile: pki.serverCert, keyFile: pki.serverKey, clientCaFiles: [] });
  try {
    const trusting = loadClientTls({ ...noClientTls, caCertFiles: [pki.caCert] });
    const event = await withClient(server.boundTarget, trusting, (c) => firstEvent(c, server));
    t.is(event.process_exec?.process?.binary, '/usr/bin/tls-probe');
    t.is(await withClient(`localhost:${server.port}`, trusting, version), 'tls-test');

    const plaintext = await t.throwsAsync(withClient(server.boundTarget, undefined, version));
    t.is((plaintext as ServiceError).code, status.UNAVAILABLE);
    const untrusting = await t.throwsAsync(withClient(server.boundTarget, loadClientTls({ ...noClientTls, caCertFiles: [pki.rogueCaCert] }), version));
    t.is((untrusting as ServiceError).code, status.UNAVAILABLE);
    t.regex((untrusting as ServiceError).details, /certificate/i);
  } finally {
    await server.close(1000);
  }
});

withPki('--tls-server-name: that name is verified instead of the host dialled', async (t) => {
  const { pki } = t.context;
  const server = await startTlsServer({ certFile: pki.serverCert, keyFile: pki.serverKey, clientCaFiles: [] });
  try {
    const named = (serverName: string) => loadClientTls({ ...noClientTls, caCertFiles: [pki.caCert], serverName });
    t.is(await withClient(server.boundTarget, named('agent.execscope.test'), version), 'tls-test');
    const wrong = await t.throwsAsync(withClient(server.boundTarget, named('other.execscope.test'), version));
    t.is((wrong as ServiceError).code, status.UNAVAILABLE);
    t.regex((wrong as ServiceError).details, /other\.execscope\.test/);
  } finally {
    await server.close(1000);
  }
});

withPki('mutual TLS: only clients with a certificate signed by a client CA get events', async (t) => {
  const { pki } = t.context;
  // Two CA files, comma-list style: the rogue CA is not among them.
  const server = await startTlsServer({ certFile: pki.serverCert, keyFile: pki.serverKey, clientCaFiles: [pki.caCert, pki.caCert] });
  try {
    const base = { ...noClientTls, caCertFiles: [pki.caCert] };
    const good = loadClientTls({ ...base, certFile: pki.clientCert, keyFile: pki.clientKey });
    const event = await withClient(server.boundTarget, good, (c) => firstEvent(c, server));
    t.is(event.process_exec?.process?.binary, '/usr/bin/tls-probe');
    await new Promise((resolve) => setTimeout(resolve, 50));
    t.is(server.sink.streams.size, 0);

    const noCert = await t.throwsAsync(withClient(server.boundTarget, loadClientTls(base), version));
    t.is((noCert as ServiceError).code, status.UNAVAILABLE);
    t.regex((noCert as ServiceError).details, /certificate required/);
    const rogue = await t.throwsAsync(withClient(server.boundTarget, loadClientTls({ ...base, certFile: pki.rogueClientCert, keyFile: pki.rogueClientKey }), version));
    t.is((rogue as ServiceError).code, status.UNAVAILABLE);
    // A refused client never got a stream.
    const refusedStream = await t.throwsAsync(withClient(server.boundTarget, loadClientTls(base), (c) => firstEvent(c, server)));
    t.is((refusedStream as ServiceError).code, status.UNAVAILABLE);
    t.is(server.sink.streams.size, 0);
  } finally {
    await server.close(1000);
  }
});

withPki('TLS material is checked at start: partner flags, unreadable files, a key that is not the certificate\'s', (t) => {
  const { pki } = t.context;
  const server = { certFile: pki.serverCert, keyFile: pki.serverKey, clientCaFiles: [] };
  t.is(loadServerTls(noServerTls), undefined);
  t.is(loadServerTls(server)?.mutual, false);
  t.is(loadServerTls({ ...server, clientCaFiles: [pki.caCert] })?.mutual, true);
  const bad: [ServerTlsFlags, RegExp][] = [
    [{ ...server, keyFile: '' }, /^--server-tls-cert-file ".*server\.pem" needs --server-tls-key-file$/],
    [{ ...server, certFile: '' }, /^--server-tls-key-file ".*server-key\.pem" needs --server-tls-cert-file/],
    [{ ...noServerTls, clientCaFiles: [pki.caCert] }, /^--server-tls-client-ca-files ".*ca\.pem" needs --server-tls-cert-file/],
    [{ ...server, keyFile: pki.clientKey }, /^--server-tls-key-file ".*client-key\.pem": this key does not belong to the certificate/],
    [{ ...server, certFile: '/no/such/cert.pem' }, /^--server-tls-cert-file "\/no\/such\/cert\.pem": cannot read: ENOENT/],
    [{ ...server, certFile: pki.serverKey }, /^--server-tls-cert-file ".*": no PEM certificate/],
    [{ ...server, keyFile: pki.serverCert }, /^--server-tls-key-file ".*server\.pem": not a PEM private key/],
    [{ ...server, clientCaFiles: [pki.clientKey] }, /^--server-tls-client-ca-files ".*client-key\.pem": no PEM certificate/],
  ];
  for (const [flags, message] of bad) t.throws(() => loadServerTls(flags), { instanceOf: ConfigError, message }, JSON.stringify(flags));

  t.is(loadClientTls(noClientTls), undefined);
  t.not(loadClientTls({ ...noClientTls, serverName: 'agent.execscope.test' }), undefined, 'any --tls-* flag turns TLS on');
  const badClient: [ClientTlsFlags, RegExp][] = [
    [{ ...noClientTls, certFile: pki.clientCert }, /^--tls-cert-file ".*client\.pem" needs --tls-key-file$/],
    [{ ...noClientTls, keyFile: pki.clientKey }, /^--tls-key-file ".*client-key\.pem" needs --tls-cert-file$/],
    [{ ...noClientTls, certFile: pki.clientCert, keyFile: pki.serverKey }, /^--tls-key-file ".*server-key\.pem": this key does not belong/],
    [{ ...noClientTls, caCertFiles: ['/no/ca.pem'] }, /^--tls-ca-cert-files "\/no\/ca\.pem": cannot read/],
    [{ ...noClientTls, serverName: 'a b' }, /^--tls-server-name "a b": expected a host name$/],
  ];
  for (const [flags, message] of badClient) t.throws(() => loadClientTls(flags), { instanceOf: ConfigError, message }, JSON.stringify(flags));
});

test('loopback and unspecified addresses', (t) => {
  for (const a of ['127.0.0.1', '127.9.8.7', '::1', '0:0:0:0:0:0:0:1', '::ffff:127.0.0.1']) t.true(isLoopbackAddress(a), a);
  for (const a of ['0.0.0.0', '::', '192.0.2.1', '::2', 'fd00::1', '::ffff:10.0.0.1', 'localhost']) t.false(isLoopbackAddress(a), a);
  for (const a of ['0.0.0.0', '::', '0:0::0', '::ffff:0.0.0.0']) t.true(isUnspecifiedAddress(a), a);
  for (const a of ['127.0.0.1', '::1', '10.0.0.0']) t.false(isUnspecifiedAddress(a), a);
});

test('plaintext on every interface or a routable address is refused, naming --server-address and the way out', async (t) => {
  const plain = { tls: false, allowInsecureRemote: false };
  for (const text of ['0.0.0.0:54321', '[::]:54321', ':54321', '0:54321', '[::ffff:0.0.0.0]:1']) {
    const error = await t.throwsAsync(checkExposure(tcp(text), { ...plain, text }), { instanceOf: ConfigError }, text);
    t.true(error?.message.startsWith(`--server-address ${JSON.stringify(text)} listens on every network interface without TLS`), error?.message);
    t.regex(error?.message ?? '', /--server-allow-insecure-remote/);
  }
  const routable = await t.throwsAsync(checkExposure(tcp('192.0.2.10:54321'), plain), { instanceOf: ConfigError });
  t.regex(routable?.message ?? '', /is reachable from other hosts \(192\.0\.2\.10\) without TLS/);
  const resolve = async (host: string) => (host === 'agent.internal' ? ['127.0.0.1', '10.1.2.3'] : ['127.0.0.1', '::1']);
  await t.throwsAsync(checkExposure(tcp('agent.internal:1'), { ...plain, resolve }), { message: /reachable from other hosts \(127\.0\.0\.1, 10\.1\.2\.3\)/ });

  t.is(await checkExposure(tcp('0.0.0.0:1'), { ...plain, allowInsecureRemote: true }), 'remote');
  t.is(await checkExposure(tcp(':1'), { ...plain, tls: true }), 'remote');
  for (const text of ['localhost:54321', '127.0.0.1:0', '[::1]:1', 'my-loopback-name:1']) t.is(await checkExposure(tcp(text), { ...plain, resolve }), 'loopback', text);
  t.is(await checkExposure(tcp('localhost:54321'), plain), 'loopback', 'the default, resolved for real');
  t.is(await checkExposure(tcp('unix:///run/x.sock'), plain), 'unix');
  await t.throwsAsync(checkExposure(tcp('no-such-host.invalid:1'), { ...plain, resolve: () => Promise.reject(new Error('ENOTFOUND')) }), {
    instanceOf: ConfigError,
    message: /^--server-address "no-such-host\.invalid:1": cannot resolve/,
  });
});

withPki('the agent feature: bind-all needs TLS or the explicit flag; TLS on a unix socket is refused', async (t) => {
  const { pki } = t.context;
  const tlsFlags = { serverTlsCertFile: pki.serverCert, serverTlsKeyFile: pki.serverKey };
  await t.throwsAsync(resolveGrpcConfig({ serverAddress: '0.0.0.0:54321' }), { instanceOf: ConfigError, message: /^--server-address "0\.0\.0\.0:54321" listens on every network interface/ });
  t.is((await resolveGrpcConfig({ serverAddress: '0.0.0.0:54321', serverAllowInsecureRemote: true }))?.exposure, 'remote');
  const withTls = await resolveGrpcConfig({ serverAddress: ':54321', ...tlsFlags, serverTlsClientCaFiles: [`${pki.caCert},${pki.caCert}`] });
  t.is(withTls?.tls?.mutual, true);
  t.is((await resolveGrpcConfig({}))?.exposure, 'loopback', 'the default localhost:54321');
  t.is(await resolveGrpcConfig({ serverAddress: '', eventQueueSize: '5' }), undefined);
  await t.throwsAsync(resolveGrpcConfig({ serverAddress: '', eventQueueSize: '0' }), { message: /^--event-queue-size "0"/ });
  await t.throwsAsync(resolveGrpcConfig({ serverAddress: '', serverTlsCertFile: pki.serverCert }), { message: /^--server-tls-cert-file ".*" needs --server-tls-key-file/ }, 'checked with the server off too');
  await t.throwsAsync(resolveGrpcConfig({ serverAddress: 'unix:///run/execscope/x.sock', ...tlsFlags }), { instanceOf: ConfigError, message: /applies to TCP addresses/ });
});
