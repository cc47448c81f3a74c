// receiver/src/cli/agent.ts
// `execscope agent`: load the sensor, seed from /proc, wire sinks and features, serve metrics, stop cleanly.

import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { Command, Option } from 'commander';
import { containerIdFromCgroupPath, containerIdFromProcCgroup } from '../enrich/container-id.js';
import { EventPipeline } from '../agent/event-pipeline.js';
import { ExecThrottle, parseCgroupRate } from '../agent/exec-throttle.js';
import { LossMonitor } from '../agent/loss-monitor.js';
import { ConfigError, FilterError, NotPrivilegedError } from '../errors.js';
import { Redactor } from '../filter/redaction.js';
import { isReopenable } from './features/export-file-feature.js';
import { JsonLogger, isLogLevel, type Logger } from '../logger.js';
import { MetricsRegistry } from '../metrics.js';
import type { EnvVar } from '../model/process.js';
import type { EventSink } from '../model/sink.js';
import { loadNativeBinding, toBpfLoadError, type NativeSensor } from '../native/binding.js';
import { ProcessCache, type Redact } from '../process/process-cache.js';
import { WallClock } from '../process/wall-clock.js';
import { kernelProcess, scanProcfs } from '../procfs/procfs-scan.js';
import { MetricsServer, parseListenAddress } from '../server/metrics-server.js';
import { StdoutSink, type StdoutFormat } from '../sinks/stdout-sink.js';
import { BatchDecoder } from '../wire/decode.js';
import { ENV_MODE } from '../wire/layout.js';
import type { AgentFeature, EventEnricher, StartedFeature } from './agent-feature.js';
import { agentFeatures } from './agent-features.js';
import { parseDuration, parsePositiveInt, parseSize } from './option-parsers.js';

/** How long SIGTERM waits for sinks to deliver what they accepted. */
export const SHUTDOWN_TIMEOUT_MS = 10_000;

interface AgentOptions {
  nodeName?: string;
  output: 'none' | StdoutFormat;
  color: 'auto' | 'always' | 'never';
  processCacheSize: string;
  processCacheGcInterval: string;
  metricsServer: string;
  rbSize: string;
  ringUserBudget: string;
  ringPollInterval: string;
  procfs: string;
  cgroupV1Controller?: string;
  enableAncestors: string;
  enableProcessEnvironmentVariables: boolean;
  filterEnvironmentVariables?: string;
  argsMax: string;
  redactionFilters: string;
  cgroupRate?: string;
  keepCapabilities: boolean;
  logLevel: string;
  shutdownTimeout: string;
}

export function registerAgent(program: Command, features: readonly AgentFeature[] = agentFeatures()): void {
  const command = program
    .command('agent')
    .description('run the sensor (as root) and stream process exec/exit events to the configured sinks')
    .option('--node-name <name>', 'node name in exec_id and node_name (default: $NODE_NAME, then the hostname)')
    .addOption(new Option('-o, --output <format>', 'print events on stdout').choices(['none', 'json', 'compact']).default('none'))
    .addOption(new Option('--color <when>', 'colours for --output compact').choices(['auto', 'always', 'never']).default('auto'))
    .option('--process-cache-size <n>', 'most process images kept in the cache', '65536')
    .option('--process-cache-gc-interval <duration>', 'how often unreferenced processes are collected', '30s')
    .option('--metrics-server <addr>', 'serve Prometheus /metrics, /healthz and /readyz on host:port ("" disables)', '')
    .option('--rb-size <bytes>', 'kernel ring buffer size (e.g. 8M; rounded up to a power of two)', '8M')
    .option('--ring-poll-interval <duration>', 'longest a record waits in the ring before the consumer takes it (batching vs latency)', '2ms')
    .option('--ring-user-budget <bytes>', 'records read from the ring but not yet processed, beyond which they are dropped and counted', '256M')
    .option('--procfs <dir>', 'procfs to scan at start (the host /proc in a container)', '/proc')
    .option('--cgroup-v1-controller <name>', 'v1 controller whose cgroup path names containers (default: memory on hybrid hosts, none on cgroup v2)')
    .option('--enable-ancestors <list>', 'add ancestors to events: "base" for exec and exit', '')
    .option('--enable-process-environment-variables', 'capture environment variables on exec events', false)
    .option('--filter-environment-variables <names>', 'comma-separated names to keep (with the option above)')
    .option('--args-max <bytes>', 'argv bytes recorded per exec (at most 65535)', '65535')
    .option('--cgroup-rate <events,interval>', 'at most this many exec events per interval per cgroup, e.g. 1000,1s (the rest dropped and counted)')
    .option('--keep-capabilities', 'do not drop capabilities once the programs are attached and /proc is read', false)
    .option('--redaction-filters <json>', 'JSON RedactionFilter lines: capture groups in arguments and env values become *****', '')
    .option('--log-level <level>', 'debug, info, warn or error', process.env['EXECSCOPE_LOG_LEVEL'] ?? 'info')
    .option('--shutdown-timeout <duration>', 'how long SIGTERM waits for sinks to flush', `${SHUTDOWN_TIMEOUT_MS / 1000}s`);
  for (const feature of features) feature.addOptions(command);
  command.action(async (options: AgentOptions) => {
    await runAgent(options, command.opts(), features);
  });
}

async function runAgent(options: AgentOptions, allOptions: Record<string, unknown>, features: readonly AgentFeature[]): Promise<void> {
  if (!isLogLevel(options.logLevel)) throw new ConfigError(`--log-level: "${options.logLevel}" is not one of debug, info, warn, error`);
  const logger = new JsonLogger(options.logLevel);
  const nodeName = options.nodeName ?? process.env['NODE_NAME'] ?? process.env['HUBBLE_NODE_NAME'] ?? hostname();
  if (nodeName.trim() === '') throw new ConfigError('--node-name: the node name is empty (it is part of every exec_id)');
  const cacheSize = parsePositiveInt('--process-cache-size', options.processCacheSize);
  const gcIntervalMs = parseDuration('--process-cache-gc-interval', options.processCacheGcInterval);
  if (gcIntervalMs < 100) throw new ConfigError(`--process-cache-gc-interval: "${options.processCacheGcInterval}" is below 100ms`);
  const shutdownTimeoutMs = parseDuration('--shutdown-timeout', options.shutdownTimeout);
  if (shutdownTimeoutMs <= 0) throw new ConfigError(`--shutdown-timeout: "${options.shutdownTimeout}" must be above zero`);
  const ringBytesWanted = parseSize('--rb-size', options.rbSize);
  // The kernel caps a ring buffer's size; 1 GiB is already far beyond any exec burst.
  if (ringBytesWanted > 1024 ** 3) throw new ConfigError(`--rb-size: "${options.rbSize}" is above 1G`);
  if (ringBytesWanted < 4096) throw new ConfigError(`--rb-size: "${options.rbSize}" is below 4K (one page)`);
  const ringBytes = roundUpPowerOfTwo(Math.max(ringBytesWanted, 4096));
  const argsMax = parsePositiveInt('--args-max', options.argsMax);
  const userBudget = parseSize('--ring-user-budget', options.ringUserBudget);
  const pollMs = parseDuration('--ring-poll-interval', options.ringPollInterval);
  if (pollMs < 1 || pollMs > 1000) throw new ConfigError(`--ring-poll-interval: "${options.ringPollInterval}" is not between 1ms and 1s`);
  if (userBudget < 4096) throw new ConfigError(`--ring-user-budget: "${options.ringUserBudget}" is below 4K`);
  if (argsMax > 65535) throw new ConfigError(`--args-max: ${argsMax} is above 65535`);
  const metricsAddress = options.metricsServer === '' ? undefined : parseListenAddress(options.metricsServer);
  if (options.metricsServer !== '' && metricsAddress === undefined) {
    throw new ConfigError(`--metrics-server: "${options.metricsServer}" is not host:port`);
  }
  const ancestors = parseAncestors(options.enableAncestors);
  const envNames = parseEnvNames(options);
  const cgroupV1Ssid = resolveCgroupV1Ssid(options.cgroupV1Controller);
  if (!existsSync(join(options.procfs, 'self', 'stat'))) throw new ConfigError(`--procfs: "${options.procfs}" is not a mounted procfs`);
  const redact = parseRedaction(options.redactionFilters);
  const cgroupRate =
    options.cgroupRate === undefined ? undefined : parseCgroupRate(options.cgroupRate, (v) => parseDuration('--cgroup-rate', v));
  if (options.cgroupRate !== undefined && cgroupRate === undefined) {
    throw new ConfigError(`--cgroup-rate: "${options.cgroupRate}" is not <events>,<interval> such as 1000,1s`);
  }
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    throw new NotPrivilegedError('execscope agent must run as root (it loads BPF programs)');
  }

  const metrics = new MetricsRegistry();
  const context = { logger, metrics, nodeName };
  const started: StartedFeature[] = [];
  const sinks: EventSink[] = [];
  let enricher: EventEnricher | undefined;
  for (const feature of features) {
    const result = await feature.start(allOptions, context);
    if (result === undefined) continue;
    started.push(result);
    sinks.push(...(result.sinks ?? []));
    if (result.enricher !== undefined) enricher = result.enricher;
  }
  if (options.output !== 'none') {
    const color = options.color === 'always' || (options.color === 'auto' && process.stdout.isTTY === true && !process.env['NO_COLOR']);
    sinks.push(new StdoutSink(options.output, color, metrics));
  }

  const binding = loadNativeBinding();
  const clock = new WallClock(() => binding.clocks());
  const toWallTime = (ns: bigint) => clock.fromBoottime(ns);
  const environmentFilter = envNames === undefined ? undefined : (vars: readonly EnvVar[]) => vars.filter((v) => envNames.has(v.key));
  const cache = new ProcessCache({
    nodeName,
    maxEntries: cacheSize,
    gcGraceMs: gcIntervalMs,
    toWallTime,
    containerIdOf: containerIdFromCgroupPath,
    ancestors,
    ...(environmentFilter !== undefined ? { environmentFilter } : {}),
    ...(redact !== undefined ? { redact } : {}),
  });
  const decoder = new BatchDecoder((error) => logger.debug('decode error', { 'error.code': error.code, 'error.message': error.message }));
  const throttle = cgroupRate === undefined ? undefined : new ExecThrottle({ ...cgroupRate, logger, metrics });
  const pipeline = new EventPipeline({
    decoder,
    cache,
    sinks,
    metrics,
    logger,
    ...(enricher !== undefined ? { enricher } : {}),
    ...(throttle !== undefined ? { throttle } : {}),
  });

  let sensor: NativeSensor;
  try {
    sensor = new binding.Sensor(
      {
        ringBytes,
        wakeupBytes: Math.max(4096, Math.floor(ringBytes / 8)),
        cgroupV1Ssid,
        envMode: envNames !== undefined ? ENV_MODE.ALL : ENV_MODE.TRACE_CONTEXT,
        argsMax,
        pollMs,
        maxInFlightBytes: userBudget,
      },
      pipeline.handleBatch,
    );
  } catch (error: unknown) {
    throw toBpfLoadError(error);
  }
  logger.info('sensor attached', { 'ring.bytes': ringBytes, 'cgroup.v1_ssid': cgroupV1Ssid, 'node.name': nodeName });

  // Seed from /proc only now that the stream runs, so nothing falls between snapshot and stream.
  const seedStartKtime = binding.clocks().boottimeNs;
  const seeded = scanProcfs({
    procRoot: options.procfs,
    nodeName,
    toWallTime,
    containerIdOf: (file) => containerIdFromProcCgroup(file),
    ...(environmentFilter !== undefined ? { environmentFilter } : {}),
    ...(redact !== undefined ? { redact } : {}),
  });
  const kernel = kernelProcess(nodeName, toWallTime);
  cache.seed(kernel);
  pipeline.emit({ kind: 'process_exec', process: kernel, nodeName, time: kernel.startTime });
  const seededPids = new Set<number>();
  for (const { process: p, emit } of seeded) {
    cache.seed(p);
    seededPids.add(p.pid);
    if (emit) pipeline.emit({ kind: 'process_exec', process: p, parent: cache.get(p.parentExecId) ?? kernel, nodeName, time: p.startTime });
  }
  pipeline.goLive(seededPids, seedStartKtime);
  logger.info('procfs seed done', { 'procfs.processes': seeded.length });

  const lossMonitor = new LossMonitor({
    sensor,
    decoder,
    cache,
    metrics,
    logger,
    emit: (e) => pipeline.emit(e),
    nodeName,
    toWallTime,
    clock: () => binding.clocks().boottimeNs,
  });
  const gcTimer = setInterval(() => cache.gc(), gcIntervalMs);
  gcTimer.unref();

  let ready = true;
  let metricsServer: MetricsServer | undefined;
  if (metricsAddress !== undefined) {
    metricsServer = new MetricsServer(metrics, { ready: () => ready, healthy: () => true });
    const bound = await metricsServer.listen(metricsAddress.host, metricsAddress.port);
    logger.info('metrics server listening', { 'server.address': bound.address, 'server.port': bound.port });
  }
  // Everything privileged is done (programs attached, /proc read, sockets bound): keep no capability.
  if (!options.keepCapabilities) {
    const dropped = binding.dropCapabilities();
    const attrs = { 'process.threads': dropped.threads, 'capabilities.threads_still_privileged': dropped.remaining.length };
    if (dropped.remaining.length > 1) logger.warn('capabilities: some threads could not be reached', { ...attrs, 'thread.ids': dropped.remaining });
    else logger.info('capabilities dropped', attrs);
  }
  logger.info('agent ready');

  // logrotate: SIGHUP reopens the export file.
  process.on('SIGHUP', () => {
    logger.info('SIGHUP: reopening files');
    for (const sink of sinks) if (isReopenable(sink)) sink.reopen();
  });
  await waitForStopSignal(logger);
  ready = false;
  logger.info('stopping: detaching and flushing', { 'shutdown.timeout_ms': shutdownTimeoutMs });
  const forceExit = setTimeout(() => {
    logger.error('shutdown timed out; exiting');
    process.exit(1);
  }, shutdownTimeoutMs + 2000);
  forceExit.unref();
  sensor.close();
  // The addon delivers what was left in the ring asynchronously; give it a turn of the loop.
  await new Promise((resolve) => setTimeout(resolve, 50));
  lossMonitor.close();
  await enricher?.close(shutdownTimeoutMs);
  await Promise.allSettled(sinks.map((s) => s.close(shutdownTimeoutMs)));
  await Promise.allSettled(started.map((f) => f.close?.(shutdownTimeoutMs)));
  await metricsServer?.close();
  logger.info('stopped', { 'events.kernel_records': decoder.stats.records });
}

function waitForStopSignal(logger: Logger): Promise<void> {
  return new Promise((resolve) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) {
        logger.warn('second signal: exiting at once', { signal });
        process.exit(1);
      }
      stopping = true;
      logger.info('signal received', { signal });
      resolve();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}

function parseRedaction(text: string): Redact | undefined {
  let redactor: Redactor;
  try {
    redactor = Redactor.parse(text);
  } catch (error: unknown) {
    if (error instanceof FilterError) throw new ConfigError(`--redaction-filters: ${error.message}`, { cause: error });
    throw error;
  }
  if (redactor.empty) return undefined;
  return (binary, args, env) => redactor.redact(binary, args, env);
}

function parseAncestors(value: string): boolean {
  if (value === '') return false;
  const kinds = value.split(',').map((s) => s.trim());
  for (const kind of kinds) {
    if (kind !== 'base') throw new ConfigError(`--enable-ancestors: "${kind}" is not supported (only "base": exec and exit)`);
  }
  return true;
}

function parseEnvNames(options: AgentOptions): ReadonlySet<string> | undefined {
  if (!options.enableProcessEnvironmentVariables) {
    if (options.filterEnvironmentVariables !== undefined) {
      throw new ConfigError('--filter-environment-variables needs --enable-process-environment-variables');
    }
    return undefined;
  }
  const names = (options.filterEnvironmentVariables ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (names.length === 0) {
    // Never capture the whole environment by default: it holds secrets.
    throw new ConfigError('--enable-process-environment-variables needs --filter-environment-variables NAME[,NAME…]');
  }
  for (const name of names) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new ConfigError(`--filter-environment-variables: "${name}" is not a variable name`);
  }
  return new Set(names);
}

/** Row index in /proc/cgroups = the kernel's cgroup_subsys_id of that controller. */
function resolveCgroupV1Ssid(controller: string | undefined): number {
  const pureV2 = existsSync('/sys/fs/cgroup/cgroup.controllers');
  const wanted = controller ?? (pureV2 ? undefined : 'memory');
  if (wanted === undefined || wanted === 'none') return -1;
  const rows = readFileSync('/proc/cgroups', 'utf8')
    .split('\n')
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => l.split('\t')[0]);
  const ssid = rows.indexOf(wanted);
  if (ssid < 0) throw new ConfigError(`--cgroup-v1-controller: "${wanted}" is not in /proc/cgroups (${rows.join(', ')})`);
  if (ssid > 15) throw new ConfigError(`--cgroup-v1-controller: "${wanted}" has index ${ssid}, above what the sensor reads`);
  return ssid;
}

function roundUpPowerOfTwo(n: number): number {
  let p = 4096;
  while (p < n) p *= 2;
  return p;
}

