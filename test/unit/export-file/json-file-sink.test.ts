// test/unit/export-file/json-file-sink.test.ts
// The JSON export file: content, mode 600, rotation by size and interval, backups, gzip, filters, rate limit, reopen.

import { chmod, mkdtemp, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { Command } from 'commander';
import anyTest, { type TestFn } from 'ava';
import { exportFileFeature, isReopenable } from '../../../receiver/src/cli/features/export-file-feature.js';
import { encodeEventJson } from '../../../receiver/src/encode/json-encoder.js';
import { ConfigError } from '../../../receiver/src/errors.js';
import { backupName, listBackups } from '../../../receiver/src/export-file/backups.js';
import { JsonFileSink, type JsonFileSinkOptions } from '../../../receiver/src/export-file/json-file-sink.js';
import { silentLogger } from '../../../receiver/src/logger.js';
import { MetricsRegistry } from '../../../receiver/src/metrics.js';
import { samplePod, sampleExec, sampleExit, sampleProcess } from '../../helpers/sample-events.js';

const test = anyTest as TestFn<{ dir: string }>;

test.beforeEach(async (t) => {
  t.context.dir = await mkdtemp(path.join(tmpdir(), 'execscope-export-'));
});

test.afterEach.always(async (t) => {
  await rm(t.context.dir, { recursive: true, force: true });
});

function options(dir: string, overrides: Omit<Partial<JsonFileSinkOptions>, 'file'> & { file?: Partial<JsonFileSinkOptions['file']> } = {}): JsonFileSinkOptions {
  const { file, ...rest } = overrides;
  return {
    file: { path: path.join(dir, 'tetragon.log'), maxSizeBytes: 10 * 1024 * 1024, maxBackups: 5, compress: false, mode: 0o600, ...file },
    rotationIntervalMs: 0,
    allowList: [],
    denyList: [],
    fieldFilters: [],
    rateLimitPerMinute: -1,
    nodeName: 'node-1',
    logger: silentLogger,
    metrics: new MetricsRegistry(),
    ...rest,
  };
}

async function lines(file: string): Promise<string[]> {
  return (await readFile(file, 'utf8')).split('\n').filter((l) => l !== '');
}

const exec = sampleExec();
const exit = sampleExit({ status: 3 });
const podExec = sampleExec({ process: sampleProcess({ pod: samplePod({ namespace: 'kube-system' }) }) });

test('writes Tetragon JSON lines; buffered until flush, which really writes', async (t) => {
  const o = options(t.context.dir);
  const sink = await JsonFileSink.open(o);
  sink.write(exec);
  sink.write(exit);
  t.deepEqual(await lines(o.file.path), [], 'nothing written synchronously');
  await sink.flush(2000);
  t.deepEqual(await lines(o.file.path), [encodeEventJson(exec), encodeEventJson(exit)]);
  t.is(o.metrics.find('execscope_events_exported_total')?.total(), 2);
  t.is(o.metrics.find('execscope_events_exported_bytes_total')?.total(), (await stat(o.file.path)).size);
  await sink.close(2000);
});

test('the flush timer writes without an explicit flush', async (t) => {
  const o = options(t.context.dir, { flushIntervalMs: 20 });
  const sink = await JsonFileSink.open(o);
  sink.write(exec);
  await new Promise((resolve) => setTimeout(resolve, 200));
  t.is((await lines(o.file.path)).length, 1);
  await sink.close(2000);
});

test('file mode 600, also forced on an existing file; one missing directory is created, a deeper missing path refused', async (t) => {
  // Not recursive: a deep missing path is a typo to report (and Node's recursive mkdir never returns under /proc).
  await t.throwsAsync(JsonFileSink.open(options(t.context.dir, { file: { path: path.join(t.context.dir, 'no', 'such', 'export.log') } })), {
    message: /ENOENT/,
  });
  const file = path.join(t.context.dir, 'sub', 'export.log');
  const sink = await JsonFileSink.open(options(t.context.dir, { file: { path: file } }));
  t.is((await stat(file)).mode & 0o777, 0o600);
  await sink.close(1000);
  await chmod(file, 0o644);
  const again = await JsonFileSink.open(options(t.context.dir, { file: { path: file } }));
  t.is((await stat(file)).mode & 0o777, 0o600);
  await again.close(1000);
});

test('rotation by size: no file over the limit, lumberjack backup names, oldest pruned', async (t) => {
  const lineBytes = encodeEventJson(exec).length + 1;
  const o = options(t.context.dir, { file: { maxSizeBytes: lineBytes * 3, maxBackups: 2 } });
  const sink = await JsonFileSink.open(o);
  for (let i = 0; i < 10; i++) {
    sink.write(exec);
    await sink.flush(1000);
  }
  await sink.close(2000);
  const backups = await listBackups(o.file.path);
  t.is(backups.length, 2);
  for (const b of backups) {
    t.regex(path.basename(b.path), /^tetragon-\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}\.\d{3}\.log$/);
    t.is((await lines(b.path)).length, 3);
    t.is((await stat(b.path)).mode & 0o777, 0o600);
  }
  t.is((await lines(o.file.path)).length, 1, '10 = 3 + 3 + 3 (pruned) + 1');
  t.is(o.metrics.find('execscope_export_file_rotations_total')?.total(), 3);
});

test('rotation inside one large flush keeps line boundaries and every line', async (t) => {
  const lineBytes = encodeEventJson(exec).length + 1;
  const o = options(t.context.dir, { file: { maxSizeBytes: lineBytes * 4 + 10, maxBackups: 0 } });
  const sink = await JsonFileSink.open(o);
  for (let i = 0; i < 10; i++) sink.write(exec);
  await sink.close(2000);
  const files = [...(await listBackups(o.file.path)).map((b) => b.path).reverse(), o.file.path];
  const counts = await Promise.all(files.map(async (f) => (await lines(f)).length));
  t.deepEqual(counts, [4, 4, 2]);
});

test('compressed backups: .gz, mode 600, gunzip to the lines', async (t) => {
  const lineBytes = encodeEventJson(exec).length + 1;
  const o = options(t.context.dir, { file: { maxSizeBytes: lineBytes * 2, maxBackups: 5, compress: true } });
  const sink = await JsonFileSink.open(o);
  for (let i = 0; i < 5; i++) {
    sink.write(i === 4 ? exit : exec);
    await sink.flush(1000);
  }
  await sink.close(2000);
  const names = (await readdir(t.context.dir)).sort();
  const gz = names.filter((n) => n.endsWith('.log.gz'));
  t.is(gz.length, 2);
  t.false(names.some((n) => /T.*\.log$/.test(n)), 'uncompressed backups removed');
  const first = gz[0] ?? '';
  t.is((await stat(path.join(t.context.dir, first))).mode & 0o777, 0o600);
  t.deepEqual(gunzipSync(await readFile(path.join(t.context.dir, first))).toString().trim().split('\n'), [encodeEventJson(exec), encodeEventJson(exec)]);
  t.deepEqual(await lines(o.file.path), [encodeEventJson(exit)]);
});

test('rotation by interval; an empty file is not rotated', async (t) => {
  const o = options(t.context.dir, { rotationIntervalMs: 60 });
  const sink = await JsonFileSink.open(o);
  await new Promise((resolve) => setTimeout(resolve, 150));
  t.is((await listBackups(o.file.path)).length, 0);
  sink.write(exec);
  await sink.flush(1000);
  await new Promise((resolve) => setTimeout(resolve, 150));
  await sink.close(1000);
  t.is((await listBackups(o.file.path)).length, 1);
  t.deepEqual(await lines(o.file.path), []);
});

test('allow and deny lists; deny wins', async (t) => {
  const o = options(t.context.dir, { allowList: [{ event_set: ['PROCESS_EXEC'] }], denyList: [{ namespace: ['kube-system'] }] });
  const sink = await JsonFileSink.open(o);
  for (const e of [exec, exit, podExec]) sink.write(e);
  await sink.close(1000);
  t.deepEqual(await lines(o.file.path), [encodeEventJson(exec)]);
});

test('field filters shape the exported events', async (t) => {
  const o = options(t.context.dir, { fieldFilters: [{ fields: { paths: ['process.exec_id', 'process.parent_exec_id'] }, event_set: ['PROCESS_EXEC'], invert_event_set: { value: true } }] });
  const sink = await JsonFileSink.open(o);
  sink.write(exec);
  sink.write(exit);
  await sink.close(1000);
  const [first, second] = await lines(o.file.path);
  t.is(first, encodeEventJson(exec));
  t.deepEqual((JSON.parse(second ?? '{}') as { process_exit: unknown }).process_exit, { process: { exec_id: exit.process.execId, parent_exec_id: exit.process.parentExecId } });
});

test('rate limit: N per minute, drops counted and reported as rate_limit_info', async (t) => {
  let now = 1_700_000_000_000;
  const o = options(t.context.dir, { rateLimitPerMinute: 3, rateLimitReportIntervalMs: 40, now: () => now });
  const sink = await JsonFileSink.open(o);
  for (let i = 0; i < 10; i++) sink.write(exec);
  await new Promise((resolve) => setTimeout(resolve, 120));
  now += 20_000; // a third of a minute: one more token
  sink.write(exec);
  sink.write(exec);
  await sink.close(1000);
  const out = await lines(o.file.path);
  t.is(out.filter((l) => l === encodeEventJson(exec)).length, 4);
  const reports = out.filter((l) => l.startsWith('{"rate_limit_info"'));
  t.deepEqual(reports, [
    '{"rate_limit_info":{"number_of_dropped_process_events":"7"},"node_name":"node-1","time":"2023-11-14T22:13:20Z"}',
    '{"rate_limit_info":{"number_of_dropped_process_events":"1"},"node_name":"node-1","time":"2023-11-14T22:13:40Z"}',
  ]);
  t.is(o.metrics.find('execscope_export_ratelimit_events_dropped_total')?.total(), 8);
});

test('rate limit 0 drops everything', async (t) => {
  const o = options(t.context.dir, { rateLimitPerMinute: 0 });
  const sink = await JsonFileSink.open(o);
  sink.write(exec);
  await sink.flush(1000);
  t.deepEqual(await lines(o.file.path), []);
  await sink.close(1000);
  t.is(o.metrics.find('execscope_export_ratelimit_events_dropped_total')?.total(), 1);
});

test('reopen after an external rotation starts a new file', async (t) => {
  const o = options(t.context.dir);
  const sink = await JsonFileSink.open(o);
  sink.write(exec);
  await sink.flush(1000);
  await rename(o.file.path, `${o.file.path}.1`);
  sink.write(exit);
  await sink.reopen();
  sink.write(podExec);
  await sink.close(1000);
  t.deepEqual(await lines(`${o.file.path}.1`), [encodeEventJson(exec), encodeEventJson(exit)], 'pending lines go to the old file');
  t.deepEqual(await lines(o.file.path), [encodeEventJson(podExec)]);
  t.is((await stat(o.file.path)).mode & 0o777, 0o600);
});

test('a stuck disk costs bounded memory: beyond the backlog, events are dropped and counted', async (t) => {
  const o = options(t.context.dir, { maxPendingBytes: 3000, chunkBytes: 1_000_000, flushIntervalMs: 60_000 });
  const sink = await JsonFileSink.open(o);
  for (let i = 0; i < 10; i++) sink.write(exec);
  const kept = Math.floor(3000 / (encodeEventJson(exec).length + 1));
  t.is(o.metrics.find('execscope_export_file_dropped_events_total')?.total(), 10 - kept);
  await sink.close(1000);
  t.is((await lines(o.file.path)).length, kept);
});

test('backup names follow lumberjack', (t) => {
  t.is(backupName('/var/log/tetragon/tetragon.log', Date.UTC(2024, 0, 2, 3, 4, 5, 678)), '/var/log/tetragon/tetragon-2024-01-02T03-04-05.678.log');
  t.is(backupName('/x/events', Date.UTC(2024, 0, 2, 3, 4, 5, 6)), '/x/events-2024-01-02T03-04-05.006');
});

test('feature: disabled without a file name; bad options stop the agent with ConfigError', async (t) => {
  const command = new Command('agent');
  exportFileFeature.addOptions(command);
  const context = { logger: silentLogger, metrics: new MetricsRegistry(), nodeName: 'n' };
  const parse = (args: string[]): Record<string, unknown> => {
    const c = new Command('agent');
    exportFileFeature.addOptions(c);
    c.parse(args, { from: 'user' });
    return c.opts();
  };
  t.is(await exportFileFeature.start(parse([]), context), undefined);
  const file = path.join(t.context.dir, 'e.log');
  const bad: [string[], RegExp][] = [
    [['--export-allowlist', '{"binary_regex":["("]}'], /--export-allowlist, filter 1: invalid binary_regex/],
    [['--export-denylist', '{"namespace":["a"]}\n{"nope":1}'], /--export-denylist, filter 2: nope: unknown field/],
    [['--export-allowlist', '{"pid_set":[1]}'], /--enable-pid-set-filter/],
    [['--field-filters', '{"fields":"process.nope"}'], /--field-filters, filter 1: unknown field path/],
    [['--export-rate-limit', 'fast'], /--export-rate-limit "fast"/],
    [['--export-file-max-size-mb', '0'], /--export-file-max-size-mb "0"/],
    [['--export-file-rotation-interval', '-1h'], /must not be negative/],
    [['--export-file-rotation-interval', 'hourly'], /--export-file-rotation-interval "hourly"/],
    [['--export-file-perm', '999'], /--export-file-perm "999"/],
  ];
  for (const [args, message] of bad) {
    await t.throwsAsync(exportFileFeature.start(parse(['--export-filename', file, ...args]), context), { instanceOf: ConfigError, message }, args.join(' '));
  }
  await writeFile(path.join(t.context.dir, 'plain'), 'x');
  await t.throwsAsync(exportFileFeature.start(parse(['--export-filename', path.join(t.context.dir, 'plain', 'e.log')]), context), { instanceOf: ConfigError, message: /cannot open/ });
  const started = await exportFileFeature.start(parse(['--export-filename', file, '--export-allowlist', '{"event_set":["PROCESS_EXEC"]}', '--export-file-compress', '--enable-pid-set-filter']), context);
  const sink = started?.sinks?.[0];
  t.truthy(sink);
  t.true(sink !== undefined && isReopenable(sink));
  sink?.write(exec);
  sink?.write(exit);
  await sink?.close(1000);
  t.deepEqual(await lines(file), [encodeEventJson(exec)]);
});
