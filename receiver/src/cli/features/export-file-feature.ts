// receiver/src/cli/features/export-file-feature.ts
// `execscope agent` feature: Tetragon's JSON export file (--export-filename and the options around it).

import { Option, type Command } from 'commander';
import { ConfigError, FilterError, getErrorMessage } from '../../errors.js';
import { JsonFileSink } from '../../export-file/json-file-sink.js';
import { parseFieldFilterList } from '../../filter/field-filter.js';
import { parseFilterList } from '../../filter/filter-list.js';
import type { EventSink } from '../../model/sink.js';
import type { AgentContext, AgentFeature, StartedFeature } from '../agent-feature.js';
import { parseGoDuration } from '../go-duration.js';

/** A sink that can reopen its file, for SIGHUP after an external logrotate (the export file sink is one). */
export interface ReopenableSink extends EventSink {
  reopen(): Promise<void>;
}

/** True for sinks with reopen(); the agent calls it on SIGHUP. */
export function isReopenable(sink: EventSink): sink is ReopenableSink {
  return typeof (sink as Partial<ReopenableSink>).reopen === 'function';
}

function integerAtLeast(value: unknown, min: number, flag: string): number {
  const n = Number(String(value).trim());
  if (String(value).trim() === '' || !Number.isSafeInteger(n) || n < min) throw new ConfigError(`${flag} ${JSON.stringify(String(value))}: expected an integer ≥ ${min}`);
  return n;
}

function fileMode(value: unknown): number {
  const text = String(value).trim();
  if (!/^0?[0-7]{3}$/.test(text)) throw new ConfigError(`--export-file-perm ${JSON.stringify(text)}: expected an octal file mode such as 600`);
  return parseInt(text, 8);
}

/** The JSON export file as an agent feature; started, it returns one sink (a ReopenableSink). */
export const exportFileFeature: AgentFeature = {
  name: 'export-file',
  addOptions(command: Command): void {
    command
      .addOption(new Option('--export-filename <path>', 'write events as JSON lines to this file ("" disables)').default(''))
      .addOption(new Option('--export-file-max-size-mb <mb>', 'rotate the export file when it reaches this size').default('10'))
      .addOption(new Option('--export-file-rotation-interval <duration>', 'also rotate at this interval, e.g. 1h (0: only by size)').default('0'))
      .addOption(new Option('--export-file-max-backups <n>', 'rotated files to keep (0 keeps all)').default('5'))
      .addOption(new Option('--export-file-compress', 'gzip rotated files'))
      .addOption(new Option('--export-file-perm <mode>', 'file mode of the export file and its backups').default('600'))
      .addOption(new Option('--export-allowlist <filters>', 'JSON filters, one per line; export events matching any of them').default(''))
      .addOption(new Option('--export-denylist <filters>', 'JSON filters, one per line; do not export events matching any of them').default(''))
      .addOption(new Option('--export-rate-limit <events-per-minute>', 'export at most this many events per minute (-1: no limit)').default('-1'))
      .addOption(new Option('--field-filters <filters>', 'JSON field filters, one per line, applied to exported events').default(''))
      .addOption(new Option('--enable-pid-set-filter', 'allow pid_set in --export-allowlist/--export-denylist (best effort, for testing)'));
  },
  async start(options: Readonly<Record<string, unknown>>, context: AgentContext): Promise<StartedFeature | undefined> {
    const file = String(options['exportFilename'] ?? '').trim();
    // Every option is checked even when the file is off: a typo must not wait for the day it is enabled.
    const maxSizeMb = integerAtLeast(options['exportFileMaxSizeMb'] ?? 10, 1, '--export-file-max-size-mb');
    const rotationIntervalMs = parseGoDuration(String(options['exportFileRotationInterval'] ?? '0'), '--export-file-rotation-interval');
    if (rotationIntervalMs < 0) throw new ConfigError(`--export-file-rotation-interval ${JSON.stringify(String(options['exportFileRotationInterval']))}: must not be negative`);
    const maxBackups = integerAtLeast(options['exportFileMaxBackups'] ?? 5, 0, '--export-file-max-backups');
    const rateLimitPerMinute = integerAtLeast(options['exportRateLimit'] ?? -1, -1, '--export-rate-limit');
    const mode = fileMode(options['exportFilePerm'] ?? '600');
    const allowPidSet = options['enablePidSetFilter'] === true;
    let allowList;
    let denyList;
    let fieldFilters;
    try {
      allowList = parseFilterList(String(options['exportAllowlist'] ?? ''), '--export-allowlist', { allowPidSet });
      denyList = parseFilterList(String(options['exportDenylist'] ?? ''), '--export-denylist', { allowPidSet });
      fieldFilters = parseFieldFilterList(String(options['fieldFilters'] ?? ''), '--field-filters');
    } catch (error: unknown) {
      if (error instanceof FilterError) throw new ConfigError(error.message, { cause: error });
      throw error;
    }
    if (file === '') return undefined;
    let sink: JsonFileSink;
    try {
      sink = await JsonFileSink.open({
        file: { path: file, maxSizeBytes: maxSizeMb * 1024 * 1024, maxBackups, compress: options['exportFileCompress'] === true, mode },
        rotationIntervalMs,
        allowList,
        denyList,
        fieldFilters,
        rateLimitPerMinute,
        nodeName: context.nodeName,
        logger: context.logger,
        metrics: context.metrics,
      });
    } catch (error: unknown) {
      throw new ConfigError(`--export-filename ${JSON.stringify(file)}: cannot open: ${getErrorMessage(error)}`, { cause: error });
    }
    context.logger.info('export file: writing events', { 'file.path': file, 'export.rate_limit': rateLimitPerMinute, 'export.allow_filters': allowList.length, 'export.deny_filters': denyList.length });
    return { sinks: [sink] };
  },
};
