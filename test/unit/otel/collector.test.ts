// test/unit/otel/collector.test.ts
// Our exporter against a real OpenTelemetry Collector (built here if missing): what its file exporter writes.

import { execFile, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import test from 'ava';
import type { ExecutionContext } from 'ava';
import { PROJECT_ROOT } from '../../helpers/agent.js';
import { flattenExportRequest, plainAttributes, plainValue } from '../../helpers/otlp-records.js';
import type { ReceivedLogRecord } from '../../helpers/otlp-records.js';
import { createTestSink } from '../../helpers/otlp-sink.js';
import { sampleExec, sampleExit, samplePod, sampleProcess } from '../../helpers/sample-events.js';

const execFileAsync = promisify(execFile);
const BUILD_SCRIPT = join(PROJECT_ROOT, 'scripts', 'build-collector.sh');
/** A clean clone builds the Collector first: downloads and compiling take minutes on 2 cores. */
const BUILD_TIMEOUT_MS = 30 * 60_000;

let binaryPromise: Promise<string> | undefined;

/** The cached Collector binary, building it first when missing; fails (never skips) when it cannot be built. */
function collectorBinary(): Promise<string> {
  binaryPromise ??= (async () => {
    const started = Date.now();
    try {
      const { stdout, stderr } = await execFileAsync('bash', [BUILD_SCRIPT, '--print-path'], { timeout: BUILD_TIMEOUT_MS, maxBuffer: 64 * 1024 * 1024 });
      const seconds = ((Date.now() - started) / 1000).toFixed(1);
      const message = /built .* in \d+s/.test(stderr) ? `OpenTelemetry Collector built in ${seconds} s` : `OpenTelemetry Collector found in the cache (${seconds} s)`;
      process.stderr.write(`\n${message}\n`);
      return stdout.trim().split('\n').pop() ?? '';
    } catch (error: unknown) {
      const stderr = typeof error === 'object' && error !== null && 'stderr' in error ? String((error as { stderr: unknown }).stderr) : String(error);
      throw new Error(`the OpenTelemetry Collector could not be built by scripts/build-collector.sh:\n${stderr.split('\n').slice(-25).join('\n')}`);
    }
  })();
  return binaryPromise;
}

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

async function waitForPort(port: number, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the Collector exited with code ${child.exitCode}`);
    const connected = await new Promise<boolean>((resolve) => {
      const socket = createConnection({ host: '127.0.0.1', port }, () => {
        socket.destroy();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
    });
    if (connected) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`the Collector did not listen on ${port} within ${timeoutMs} ms`);
}

function readFileExport(path: string): ReceivedLogRecord[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .flatMap((line, i) => flattenExportRequest(JSON.parse(line), i).records);
}

interface RunningCollector {
  readonly child: ChildProcess;
  readonly log: string[];
  stop(): Promise<void>;
}

/** Runs the Collector: OTLP/gRPC receiver on `port` → batch → file exporter writing OTLP/JSON lines to `out`. */
async function startCollector(t: ExecutionContext, binary: string, dir: string, port: number, out: string): Promise<RunningCollector> {
  const config = join(dir, `config-${port}-${Date.now()}.yaml`);
  writeFileSync(
    config,
    [
      'receivers:',
      '  otlp:',
      '    protocols:',
      '      grpc:',
      `        endpoint: 127.0.0.1:${port}`,
      'processors:',
      '  batch:',
      '    timeout: 200ms',
      'exporters:',
      '  file:',
      `    path: ${out}`,
      '    flush_interval: 100ms',
      'service:',
      '  telemetry:',
      '    logs:',
      '      level: warn',
      '    metrics:',
      '      level: none',
      '  pipelines:',
      '    logs:',
      '      receivers: [otlp]',
      '      processors: [batch]',
      '      exporters: [file]',
      '',
    ].join('\n'),
  );
  const child = spawn(binary, ['--config', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  const log: string[] = [];
  child.stderr?.on('data', (chunk: Buffer) => log.push(chunk.toString()));
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    await once(child, 'exit');
  };
  t.teardown(stop);
  await waitForPort(port, child, 30_000).catch((error: unknown) => {
    t.log(log.join(''));
    throw error;
  });
  return { child, log, stop };
}

async function waitForFileRecords(path: string, count: number, timeoutMs: number): Promise<ReceivedLogRecord[]> {
  const deadline = Date.now() + timeoutMs;
  let records = readFileExport(path);
  while (records.length < count && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    records = readFileExport(path);
  }
  return records;
}

test.serial('every otel-config/collector*.yaml passes `otelcol validate`', async (t) => {
  t.timeout(BUILD_TIMEOUT_MS + 60_000);
  const binary = await collectorBinary();
  const configs = readdirSync(join(PROJECT_ROOT, 'otel-config')).filter((f) => /^collector.*\.yaml$/.test(f));
  t.true(configs.length > 0);
  for (const config of configs) {
    const result = await execFileAsync(binary, ['validate', '--config', join(PROJECT_ROOT, 'otel-config', config)]).then(
      () => 'valid',
      (error: unknown) => String((error as { stderr?: unknown }).stderr ?? error),
    );
    t.is(result, 'valid', config);
  }
});

test.serial('exporter → real Collector (OTLP receiver, batch) → file exporter: records, Resources, trace ids intact', async (t) => {
  t.timeout(BUILD_TIMEOUT_MS + 120_000);
  const binary = await collectorBinary();
  const dir = mkdtempSync(join(tmpdir(), 'execscope-otelcol-'));
  const out = join(dir, 'logs.json');
  const port = await freePort();
  const collector = await startCollector(t, binary, dir, port, out);
  const collectorLog = collector.log;

  const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
  const spanId = '00f067aa0ba902b7';
  const podA = samplePod();
  const podB = samplePod({ name: 'tiefighter', uid: 'bbbbbbbb-0000-0000-0000-000000000002', namespace: 'empire', workload: 'tie', workloadKind: 'Deployment' });
  const traced = sampleProcess({ pid: 101, pod: podA, traceParent: `00-${traceId}-${spanId}-01` });
  const { sink, metric } = createTestSink({ env: { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}` } });
  t.teardown(() => sink.close(100));
  sink.write(sampleExec({ process: traced, time: [1_700_000_000, 123_456_789] }));
  sink.write(sampleExec({ process: sampleProcess({ pid: 102 }), time: [1_700_000_001, 1] }));
  sink.write(sampleExec({ process: sampleProcess({ pid: 103, pod: podB }), time: [2_000_000_000, 999_999_999] }));
  sink.write(sampleExit({ process: traced, status: 2, time: [1_700_000_002, 5], exitTime: [1_700_000_002, 5] }));
  await sink.close(10_000);
  t.is(metric('execscope_otlp_records_exported_total'), 4);

  const records = await waitForFileRecords(out, 4, 20_000);
  if (records.length < 4) t.log(collectorLog.join(''));
  t.is(records.length, 4);

  const find = (eventName: string, pid: bigint) =>
    records.find((r) => r.eventName === eventName && plainValue(r.attributes['process.pid']) === pid);
  const exec = find('execscope.process.exec', 101n);
  const exit = find('execscope.process.exit', 101n);
  const host = find('execscope.process.exec', 102n);
  const other = find('execscope.process.exec', 103n);
  if (exec === undefined || exit === undefined || host === undefined || other === undefined) {
    t.fail(`missing records: ${JSON.stringify(records.map((r) => [r.eventName, plainValue(r.attributes['process.pid'])]))}`);
    return;
  }
  t.like(exec, { traceId, spanId, flags: 1, timeUnixNano: 1_700_000_000_123_456_789n, severityNumber: 9 });
  t.like(exit, { traceId, spanId, flags: 1, timeUnixNano: 1_700_000_002_000_000_005n, severityNumber: 13 });
  t.like(host, { traceId: '', timeUnixNano: 1_700_000_001_000_000_001n });
  t.is(other.timeUnixNano, 2_000_000_000_999_999_999n);

  t.deepEqual(exec.attributes['process.pid'], { type: 'int', value: 101n });
  t.deepEqual(exec.attributes['process.command_args'], {
    type: 'array',
    value: [
      { type: 'string', value: 'curl' },
      { type: 'string', value: 'https://ebpf.io/applications/#tetragon' },
    ],
  });
  t.deepEqual(exit.attributes['process.exit.code'], { type: 'int', value: 2n });
  t.is(plainValue(exec.attributes['event.name']), 'execscope.process.exec');
  t.is(plainValue(exec.body), '🚀 process default/xwing /usr/bin/curl https://ebpf.io/applications/#tetragon');

  t.like(plainAttributes(exec.resource.attributes), {
    'k8s.pod.name': 'xwing',
    'k8s.namespace.name': 'default',
    'k8s.pod.uid': podA.uid,
    'k8s.container.name': 'spaceship',
    'container.id': 'ae7a1981e064c217035e0b23979c8defd51c850d1af26fbcf148187e5b0da61c',
    'k8s.pod.label.app.kubernetes.io/name': 'xwing',
    'service.name': 'execscope',
  });
  t.deepEqual(exit.resource, exec.resource, 'exec and exit of one pod share a Resource');
  t.like(plainAttributes(other.resource.attributes), { 'k8s.pod.name': 'tiefighter', 'k8s.deployment.name': 'tie' });
  t.false('k8s.pod.name' in plainAttributes(host.resource.attributes));
  t.is(exec.scope.name, 'execscope');
});

test.serial('a Collector restart on the same port loses nothing', async (t) => {
  t.timeout(BUILD_TIMEOUT_MS + 120_000);
  const binary = await collectorBinary();
  const dir = mkdtempSync(join(tmpdir(), 'execscope-otelcol-'));
  const port = await freePort();
  const before = await startCollector(t, binary, dir, port, join(dir, 'before.json'));
  const { sink, metric } = createTestSink({ env: { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`, OTEL_BLRP_SCHEDULE_DELAY: '50' } });
  t.teardown(() => sink.close(100));
  for (let pid = 1; pid <= 5; pid++) sink.write(sampleExec({ process: sampleProcess({ pid }) }));
  t.is((await waitForFileRecords(join(dir, 'before.json'), 5, 20_000)).length, 5);
  await before.stop();
  for (let pid = 6; pid <= 10; pid++) sink.write(sampleExec({ process: sampleProcess({ pid }) }));
  await new Promise((resolve) => setTimeout(resolve, 2500));
  await startCollector(t, binary, dir, port, join(dir, 'after.json'));
  const after = await waitForFileRecords(join(dir, 'after.json'), 5, 20_000);
  t.deepEqual(
    after.map((r) => Number(plainValue(r.attributes['process.pid']))).sort((a, b) => a - b),
    [6, 7, 8, 9, 10],
  );
  await sink.close(5000);
  t.is(metric('execscope_otlp_records_exported_total'), 10);
  t.true(metric('execscope_otlp_export_errors_total', { code: 'UNAVAILABLE' }) > 0, 'the outage was seen and retried');
});
