// test/unit/otel/otel-env.test.ts
// The standard OTEL_* variables and the --otlp-* flags change what is exported, where and how.

import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import type { ExecutionContext } from 'ava';
import { Command } from 'commander';
import { OtlpFeature } from '../../../receiver/src/cli/features/otlp-feature.js';
import { ConfigError } from '../../../receiver/src/errors.js';
import { JsonLogger, silentLogger } from '../../../receiver/src/logger.js';
import { MetricsRegistry } from '../../../receiver/src/metrics.js';
import type { EventSink } from '../../../receiver/src/model/sink.js';
import { OTLP_DEFAULTS, resolveOtlpConfig } from '../../../receiver/src/otel/otlp-config.js';
import type { OtlpFlags } from '../../../receiver/src/otel/otlp-config.js';
import { PROJECT_ROOT } from '../../helpers/agent.js';
import { plainAttributes, plainValue, startOtlpReceiver } from '../../helpers/otlp-receiver.js';
import { createTestSink } from '../../helpers/otlp-sink.js';
import { sampleExec, samplePod, sampleProcess } from '../../helpers/sample-events.js';

function resolve(env: Record<string, string>, flags: OtlpFlags = {}) {
  const warnings: string[] = [];
  const config = resolveOtlpConfig(flags, { env, warn: (msg) => warnings.push(msg), readFile: () => Buffer.from('PEM') });
  return { config, warnings };
}

// ---- resolution, no network ----------------------------------------------------------------------------------

test('export is off without an endpoint, and with OTEL_SDK_DISABLED or OTEL_LOGS_EXPORTER=none', (t) => {
  t.is(resolve({}).config, undefined);
  t.is(resolve({ OTEL_EXPORTER_OTLP_ENDPOINT: '  ' }).config, undefined);
  t.is(resolve({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4317', OTEL_SDK_DISABLED: 'true' }).config, undefined);
  t.is(resolve({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4317', OTEL_LOGS_EXPORTER: 'none' }).config, undefined);
  t.is(resolve({ OTEL_SDK_DISABLED: 'true' }, { endpoint: 'http://flag:4317' }).config?.endpoint, 'http://flag:4317');
});

test('endpoint precedence: flag, then OTEL_EXPORTER_OTLP_LOGS_ENDPOINT, then OTEL_EXPORTER_OTLP_ENDPOINT', (t) => {
  const env = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://generic:4317', OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: 'http://logs:4317' };
  t.is(resolve(env).config?.endpoint, 'http://logs:4317');
  t.is(resolve({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://generic:4317' }).config?.endpoint, 'http://generic:4317');
  t.is(resolve(env, { endpoint: 'http://flag:4317' }).config?.endpoint, 'http://flag:4317');
});

test('transport security follows the scheme, then the insecure setting', (t) => {
  t.true(resolve({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4317' }).config?.insecure);
  t.false(resolve({ OTEL_EXPORTER_OTLP_ENDPOINT: 'https://c:4317', OTEL_EXPORTER_OTLP_INSECURE: 'true' }).config?.insecure);
  t.false(resolve({ OTEL_EXPORTER_OTLP_ENDPOINT: 'c:4317' }).config?.insecure);
  t.true(resolve({ OTEL_EXPORTER_OTLP_ENDPOINT: 'c:4317', OTEL_EXPORTER_OTLP_INSECURE: 'TRUE' }).config?.insecure);
  t.true(resolve({ OTEL_EXPORTER_OTLP_ENDPOINT: 'c:4317', OTEL_EXPORTER_OTLP_LOGS_INSECURE: 'true' }).config?.insecure);
  t.true(resolve({}, { endpoint: 'c:4317', insecure: true }).config?.insecure);
  const tls = resolve({ OTEL_EXPORTER_OTLP_ENDPOINT: 'https://c', OTEL_EXPORTER_OTLP_CERTIFICATE: '/ca.pem', OTEL_EXPORTER_OTLP_LOGS_CLIENT_KEY: '/k', OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE: '/c' }).config?.tls;
  t.deepEqual(Object.keys(tls ?? {}).sort(), ['clientCert', 'clientKey', 'rootCert']);
  t.deepEqual(resolve({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c', OTEL_EXPORTER_OTLP_CERTIFICATE: '/ca.pem' }).config?.tls, {}, 'plaintext reads no files');
});

test('bad TLS files and bad endpoints stop the agent with ConfigError', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'execscope-otlp-'));
  writeFileSync(join(dir, 'ca.pem'), 'not really a certificate');
  const sources = { warn: () => {} };
  const ok = resolveOtlpConfig({}, { ...sources, env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'https://c', OTEL_EXPORTER_OTLP_CERTIFICATE: join(dir, 'ca.pem') } });
  t.is(ok?.tls.rootCert?.toString(), 'not really a certificate');
  t.throws(() => resolveOtlpConfig({}, { ...sources, env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'https://c', OTEL_EXPORTER_OTLP_CERTIFICATE: join(dir, 'missing.pem') } }), {
    instanceOf: ConfigError,
    message: /missing\.pem/,
  });
  t.throws(() => resolve({ OTEL_EXPORTER_OTLP_ENDPOINT: 'https://c', OTEL_EXPORTER_OTLP_CLIENT_KEY: '/k' }), { instanceOf: ConfigError, message: /together/ });
  t.throws(() => resolve({ OTEL_EXPORTER_OTLP_ENDPOINT: 'ftp://c:21' }), { instanceOf: ConfigError, message: /scheme/ });
  t.throws(() => resolve({}, { endpoint: 'http://[bad' }), { instanceOf: ConfigError });
  t.notThrows(() => resolve({ OTEL_EXPORTER_OTLP_ENDPOINT: 'unix:///run/otel.sock', OTEL_EXPORTER_OTLP_INSECURE: 'true' }));
  t.deepEqual(resolve({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4317/v1/logs' }).warnings, ['OTLP/gRPC ignores the path of the endpoint']);
});

test('headers: percent-decoded, signal-specific wins per key, flags win over both; bad entries warn', (t) => {
  const { config, warnings } = resolve(
    {
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c',
      OTEL_EXPORTER_OTLP_HEADERS: 'Authorization=Bearer%20abc,x-scope-orgid=generic,broken, =x,bad key=1',
      OTEL_EXPORTER_OTLP_LOGS_HEADERS: 'x-scope-orgid=logs',
    },
    { headers: ['x-extra=1=2'] },
  );
  t.deepEqual(config?.headers, { authorization: 'Bearer abc', 'x-scope-orgid': 'logs', 'x-extra': '1=2' });
  t.is(warnings.length, 3);
  t.false(warnings.join().includes('abc'), 'header values are never logged');
  t.throws(() => resolve({}, { endpoint: 'http://c', headers: ['no-equals'] }), { instanceOf: ConfigError });
  t.throws(() => resolve({}, { endpoint: 'http://c', headers: ['grpc-timeout=1'] }), { instanceOf: ConfigError });
});

test('compression, timeout, batch settings and limits from the environment; invalid values fall back with a warning', (t) => {
  const { config } = resolve({
    OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c',
    OTEL_EXPORTER_OTLP_COMPRESSION: 'gzip',
    OTEL_EXPORTER_OTLP_TIMEOUT: '2500',
    OTEL_EXPORTER_OTLP_LOGS_TIMEOUT: '1500',
    OTEL_BLRP_MAX_QUEUE_SIZE: '5000',
    OTEL_BLRP_MAX_EXPORT_BATCH_SIZE: '100',
    OTEL_BLRP_SCHEDULE_DELAY: '250',
    OTEL_BLRP_EXPORT_TIMEOUT: '9000',
    OTEL_ATTRIBUTE_COUNT_LIMIT: '64',
    OTEL_LOGRECORD_ATTRIBUTE_VALUE_LENGTH_LIMIT: '4096',
    OTEL_RESOURCE_ATTRIBUTES: 'k8s.cluster.name=prod,team=a%2Cb',
    OTEL_SERVICE_NAME: 'exec-monitor',
  });
  t.like(config, {
    compression: 'gzip',
    timeoutMs: 1500,
    batch: { maxQueueSize: 5000, maxExportBatchSize: 100, scheduledDelayMs: 250, exportTimeoutMs: 9000 },
    attributeCountLimit: 64,
    attributeValueLengthLimit: 4096,
    resourceAttributes: { 'k8s.cluster.name': 'prod', team: 'a,b' },
    serviceName: 'exec-monitor',
  });

  const bad = resolve({
    OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c',
    OTEL_EXPORTER_OTLP_COMPRESSION: 'zstd',
    OTEL_EXPORTER_OTLP_TIMEOUT: 'soon',
    OTEL_BLRP_MAX_QUEUE_SIZE: '-5',
    OTEL_BLRP_MAX_EXPORT_BATCH_SIZE: '1.5',
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
  });
  t.like(bad.config, { compression: 'none', timeoutMs: OTLP_DEFAULTS.timeoutMs, batch: OTLP_DEFAULTS.batch, attributeCountLimit: OTLP_DEFAULTS.attributeCountLimit });
  t.is(bad.warnings.length, 5);
  t.throws(() => resolve({}, { endpoint: 'http://c', compression: 'zstd' }), { instanceOf: ConfigError });

  const clamped = resolve({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c', OTEL_BLRP_MAX_QUEUE_SIZE: '10', OTEL_BLRP_MAX_EXPORT_BATCH_SIZE: '50' });
  t.is(clamped.config?.batch.maxExportBatchSize, 10);
  t.is(resolve({ OTEL_BLRP_MAX_QUEUE_SIZE: '10' }, { endpoint: 'http://c', maxQueueSize: 77 }).config?.batch.maxQueueSize, 77);
});

// ---- behaviour on the wire -----------------------------------------------------------------------------------

async function receiverFor(t: ExecutionContext) {
  const receiver = await startOtlpReceiver();
  t.teardown(() => receiver.close());
  return receiver;
}

test('OTEL_EXPORTER_OTLP_LOGS_ENDPOINT is used over OTEL_EXPORTER_OTLP_ENDPOINT', async (t) => {
  const receiver = await receiverFor(t);
  const dead = await startOtlpReceiver({ refusing: true });
  await dead.close();
  const { sink, metric } = createTestSink({ env: { OTEL_EXPORTER_OTLP_ENDPOINT: dead.url, OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: receiver.url } });
  t.teardown(() => sink.close(100));
  sink.write(sampleExec());
  await sink.close(5000);
  t.is(receiver.records.length, 1);
  t.is(metric('execscope_otlp_export_errors_total', { code: 'UNAVAILABLE' }), 0);
});

test('OTEL_EXPORTER_OTLP_HEADERS and --otlp-header arrive as gRPC metadata; gzip still delivers', async (t) => {
  const receiver = await receiverFor(t);
  const { sink } = createTestSink({
    env: {
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_EXPORTER_OTLP_HEADERS: 'x-scope-orgid=tenant%201,authorization=Basic%20Zm9v',
      OTEL_EXPORTER_OTLP_COMPRESSION: 'gzip',
    },
    flags: { headers: ['x-execscope-test=yes'] },
  });
  t.teardown(() => sink.close(100));
  sink.write(sampleExec());
  await sink.close(5000);
  const metadata = receiver.requests[0]?.metadata ?? {};
  t.deepEqual(metadata['x-scope-orgid'], ['tenant 1']);
  t.deepEqual(metadata['authorization'], ['Basic Zm9v']);
  t.deepEqual(metadata['x-execscope-test'], ['yes']);
  t.is(receiver.records.length, 1);
});

test('OTEL_RESOURCE_ATTRIBUTES and OTEL_SERVICE_NAME shape every Resource; pod-level keys are not inherited', async (t) => {
  const receiver = await receiverFor(t);
  const logLines: string[] = [];
  const { sink } = createTestSink({
    env: {
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_RESOURCE_ATTRIBUTES: 'service.name=from-attrs,k8s.cluster.name=prod,deployment.environment.name=test,k8s.pod.name=agent-xyz,k8s.namespace.name=kube-system',
      OTEL_SERVICE_NAME: 'exec-monitor',
    },
    logger: new JsonLogger('warn', (line) => logLines.push(line)),
  });
  t.teardown(() => sink.close(100));
  sink.write(sampleExec({ process: sampleProcess({ pid: 1 }) }));
  sink.write(sampleExec({ process: sampleProcess({ pid: 2, pod: samplePod() }) }));
  await sink.close(5000);
  const [host, pod] = receiver.records.map((r) => plainAttributes(r.resource.attributes));
  for (const resource of [host, pod]) {
    t.like(resource, { 'service.name': 'exec-monitor', 'k8s.cluster.name': 'prod', 'deployment.environment.name': 'test' });
  }
  t.false('k8s.pod.name' in (host ?? {}), "the agent's own pod name does not land on host processes");
  t.is(pod?.['k8s.pod.name'], 'xwing');
  t.is(pod?.['k8s.namespace.name'], 'default');
  t.true(logLines.some((line) => line.includes('k8s.pod.name') && line.includes('ignoring')));
});

test('OTEL_BLRP_MAX_EXPORT_BATCH_SIZE bounds the records per export call', async (t) => {
  const receiver = await receiverFor(t);
  const { sink } = createTestSink({ env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_BLRP_MAX_EXPORT_BATCH_SIZE: '10' } });
  t.teardown(() => sink.close(100));
  for (let pid = 1; pid <= 25; pid++) sink.write(sampleExec({ process: sampleProcess({ pid }) }));
  await sink.close(5000);
  t.deepEqual(
    receiver.requests.map((r) => r.records.length),
    [10, 10, 5],
  );
});

test('OTEL_BLRP_SCHEDULE_DELAY decides when a partial batch leaves', async (t) => {
  const receiver = await receiverFor(t);
  const { sink } = createTestSink({ env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_BLRP_SCHEDULE_DELAY: '50' } });
  t.teardown(() => sink.close(100));
  const started = Date.now();
  sink.write(sampleExec());
  await receiver.waitForRecords(1, 2000);
  t.true(Date.now() - started < 1000, 'sent well before the 1 s default delay');
});

// ---- the agent feature ---------------------------------------------------------------------------------------

function parseAgentArgs(feature: OtlpFeature, args: string[]): Record<string, unknown> {
  const command = new Command('agent').exitOverride();
  feature.addOptions(command);
  command.parse(args, { from: 'user' });
  return command.opts();
}

test('the OTLP feature stays off without an endpoint', async (t) => {
  const feature = new OtlpFeature({ env: {} });
  const started = await feature.start(parseAgentArgs(feature, []), { logger: silentLogger, metrics: new MetricsRegistry(), nodeName: 'n' });
  t.is(started, undefined);
});

test('the OTLP feature starts one sink from flags, headers repeatable, and rejects bad values', async (t) => {
  const receiver = await receiverFor(t);
  const feature = new OtlpFeature({ env: { OTEL_SERVICE_NAME: 'from-env' } });
  const options = parseAgentArgs(feature, [
    '--otlp-endpoint', receiver.url,
    '--otlp-header', 'a=1',
    '--otlp-header', 'b=2',
    '--otlp-timeout', '5s',
    '--otlp-max-queue-size', '1000',
  ]);
  const registry = new MetricsRegistry();
  const started = await feature.start(options, { logger: silentLogger, metrics: registry, nodeName: 'node-7' });
  const sinks: readonly EventSink[] = started?.sinks ?? [];
  t.is(sinks.length, 1);
  const sink = sinks[0]!;
  t.teardown(() => sink.close(100));
  t.is(sink.name, 'otlp');
  sink.write(sampleExec());
  await sink.close(5000);
  const [record] = await receiver.waitForRecords(1);
  t.deepEqual(receiver.requests[0]?.metadata['a'], ['1']);
  t.deepEqual(receiver.requests[0]?.metadata['b'], ['2']);
  t.is(plainValue(record?.resource.attributes['service.name']), 'from-env');
  t.is(plainValue(record?.resource.attributes['host.name']), 'node-7');
  t.is(registry.find('execscope_otlp_queue_capacity')?.get(), 1000);

  const context = { logger: silentLogger, metrics: new MetricsRegistry(), nodeName: 'n' };
  await t.throwsAsync(feature.start(parseAgentArgs(feature, ['--otlp-endpoint', receiver.url, '--otlp-max-queue-size', '0']), context), { instanceOf: ConfigError });
  await t.throwsAsync(feature.start(parseAgentArgs(feature, ['--otlp-endpoint', receiver.url, '--otlp-timeout', 'soon']), context), { instanceOf: ConfigError });
  await t.throwsAsync(feature.start(parseAgentArgs(feature, ['--otlp-endpoint', '']), context), { instanceOf: ConfigError });
});

// ---- TLS -----------------------------------------------------------------------------------------------------

const TLS_DIR = join(PROJECT_ROOT, 'test', 'fixtures', 'tls');
const tlsFile = (name: string) => readFileSync(join(TLS_DIR, name));

test('OTEL_EXPORTER_OTLP_CERTIFICATE: TLS to a server signed by that CA; without it the export fails and is counted', async (t) => {
  const receiver = await startOtlpReceiver({ tls: { cert: tlsFile('server.pem'), key: tlsFile('server-key.pem') } });
  t.teardown(() => receiver.close());
  t.regex(receiver.url, /^https:/);

  const trusted = createTestSink({ env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_EXPORTER_OTLP_CERTIFICATE: join(TLS_DIR, 'ca.pem') } });
  t.teardown(() => trusted.sink.close(100));
  trusted.sink.write(sampleExec());
  await trusted.sink.close(5000);
  t.is(receiver.records.length, 1);

  const untrusted = createTestSink({ env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_BLRP_EXPORT_TIMEOUT: '200' } });
  t.teardown(() => untrusted.sink.close(100));
  untrusted.sink.write(sampleExec());
  await untrusted.sink.close(3000);
  t.is(receiver.records.length, 1, 'nothing arrives over an unverified connection');
  t.is(untrusted.metric('execscope_otlp_records_exported_total'), 0);
  t.is(untrusted.metric('execscope_otlp_records_dropped_total', { reason: 'export_failed' }) + untrusted.metric('execscope_otlp_records_dropped_total', { reason: 'shutdown' }), 1);
});

test('mutual TLS with OTEL_EXPORTER_OTLP_CLIENT_KEY and OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE', async (t) => {
  const receiver = await startOtlpReceiver({ tls: { cert: tlsFile('server.pem'), key: tlsFile('server-key.pem'), clientCa: tlsFile('ca.pem') } });
  t.teardown(() => receiver.close());
  const { sink } = createTestSink({
    env: {
      OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: receiver.url,
      OTEL_EXPORTER_OTLP_LOGS_CERTIFICATE: join(TLS_DIR, 'ca.pem'),
      OTEL_EXPORTER_OTLP_LOGS_CLIENT_KEY: join(TLS_DIR, 'client-key.pem'),
      OTEL_EXPORTER_OTLP_LOGS_CLIENT_CERTIFICATE: join(TLS_DIR, 'client.pem'),
    },
  });
  t.teardown(() => sink.close(100));
  sink.write(sampleExec());
  await sink.close(5000);
  t.is(receiver.records.length, 1);
});
