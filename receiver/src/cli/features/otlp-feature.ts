// receiver/src/cli/features/otlp-feature.ts
// The OTLP feature: --otlp-* flags and OTEL_* variables → one sink exporting exec/exit log records over gRPC.

import type { Command } from 'commander';
import { encodeEventCompact } from '../../encode/compact-encoder.js';
import { ConfigError } from '../../errors.js';
import type { BodyFormatter } from '../../otel/log-record-mapper.js';
import { OTLP_DEFAULTS, OTLP_QUEUE_DEFAULT_MAX_SIZE_MB, resolveOtlpConfig } from '../../otel/otlp-config.js';
import type { OtlpFlags } from '../../otel/otlp-config.js';
import type { AgentContext, AgentFeature, StartedFeature } from '../agent-feature.js';
import { parseDuration, parsePositiveInt } from '../option-parsers.js';

/** The options commander hands over for this feature (camel-cased flag names). */
interface OtlpCommanderFlags {
  readonly otlpEndpoint?: unknown;
  readonly otlpHeader?: unknown;
  readonly otlpInsecure?: unknown;
  readonly otlpCompression?: unknown;
  readonly otlpTimeout?: unknown;
  readonly otlpMaxQueueSize?: unknown;
  readonly otlpQueueDir?: unknown;
  readonly otlpQueueMaxSizeMb?: unknown;
}

/** Dependencies the agent (or a test) can replace. */
export interface OtlpFeatureOptions {
  /** Where OTEL_* variables are read. Default process.env. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Body of each record. Default: the compact one-line form without colour or timestamp. */
  readonly formatBody?: BodyFormatter;
}

/** The default body: Tetragon's compact line, e.g. `🚀 process default/xwing /usr/bin/curl https://…`. */
export const compactBody: BodyFormatter = (event) => encodeEventCompact(event, { color: false, timestamps: false });

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/**
 * `--otlp-endpoint` or OTEL_EXPORTER_OTLP_{LOGS_,}ENDPOINT: exec and exit events leave as OpenTelemetry log
 * records over OTLP/gRPC. Disabled (start returns undefined) when no endpoint is configured.
 */
export class OtlpFeature implements AgentFeature {
  readonly name = 'otlp';

  constructor(private readonly _options: OtlpFeatureOptions = {}) {}

  addOptions(command: Command): void {
    command
      .option(
        '--otlp-endpoint <url>',
        'export exec/exit events as OTLP log records over gRPC, e.g. http://otel-collector:4317 (default: $OTEL_EXPORTER_OTLP_LOGS_ENDPOINT, then $OTEL_EXPORTER_OTLP_ENDPOINT; none disables)',
      )
      .option('--otlp-header <key=value>', 'gRPC metadata for every OTLP export, repeatable (adds to $OTEL_EXPORTER_OTLP_HEADERS)', collect, [])
      .option('--otlp-insecure', 'plaintext gRPC for an endpoint without http:// or https:// ($OTEL_EXPORTER_OTLP_INSECURE)')
      .option('--otlp-compression <gzip|none>', 'compression of OTLP exports ($OTEL_EXPORTER_OTLP_COMPRESSION; default none)')
      .option('--otlp-timeout <duration>', `deadline of one OTLP export call ($OTEL_EXPORTER_OTLP_TIMEOUT in ms; default ${OTLP_DEFAULTS.timeoutMs / 1000}s)`)
      .option(
        '--otlp-max-queue-size <n>',
        `log records buffered for OTLP export before new ones are dropped and counted ($OTEL_BLRP_MAX_QUEUE_SIZE; default ${OTLP_DEFAULTS.batch.maxQueueSize})`,
      )
      .option(
        '--otlp-queue-dir <dir>',
        'keep OTLP records in a bounded queue in this directory until the endpoint accepts them, across restarts (default: in memory only)',
      )
      .option(
        '--otlp-queue-max-size-mb <n>',
        `size bound of --otlp-queue-dir in MiB; the oldest records are dropped and counted beyond it (default ${OTLP_QUEUE_DEFAULT_MAX_SIZE_MB})`,
      );
  }

  async start(options: Readonly<Record<string, unknown>>, context: AgentContext): Promise<StartedFeature | undefined> {
    const config = resolveOtlpConfig(parseFlags(options as OtlpCommanderFlags), {
      env: this._options.env ?? process.env,
      warn: (msg, attrs) => context.logger.warn(`OTLP: ${msg}`, attrs),
    });
    if (config === undefined) return undefined;
    // The OpenTelemetry SDK is loaded only when export is on (tens of MB of RSS otherwise spent for nothing).
    const { OtlpLogSink } = await import('../../otel/otlp-log-sink.js');
    const sink = new OtlpLogSink(config, {
      logger: context.logger,
      metrics: context.metrics,
      nodeName: context.nodeName,
      formatBody: this._options.formatBody ?? compactBody,
    });
    context.logger.info('OTLP log export enabled', {
      'otel.endpoint': config.endpoint,
      'otel.insecure': config.insecure,
      'otel.compression': config.compression,
      'otel.queue_size': config.batch.maxQueueSize,
      'otel.batch_size': config.batch.maxExportBatchSize,
      ...(config.queue === undefined ? {} : { 'otel.queue_dir': config.queue.dir, 'otel.queue_max_bytes': config.queue.maxBytes }),
    });
    return { sinks: [sink] };
  }
}

function parseFlags(flags: OtlpCommanderFlags): OtlpFlags {
  const out: { -readonly [K in keyof OtlpFlags]: OtlpFlags[K] } = {};
  if (flags.otlpEndpoint !== undefined) {
    const endpoint = String(flags.otlpEndpoint).trim();
    if (endpoint === '') throw new ConfigError('--otlp-endpoint: the endpoint is empty');
    out.endpoint = endpoint;
  }
  if (Array.isArray(flags.otlpHeader) && flags.otlpHeader.length > 0) out.headers = flags.otlpHeader.map(String);
  if (flags.otlpInsecure === true) out.insecure = true;
  if (flags.otlpCompression !== undefined) out.compression = String(flags.otlpCompression);
  if (flags.otlpTimeout !== undefined) {
    const ms = parseDuration('--otlp-timeout', String(flags.otlpTimeout));
    if (ms <= 0) throw new ConfigError(`--otlp-timeout: "${String(flags.otlpTimeout)}" must be above zero`);
    out.timeoutMs = ms;
  }
  if (flags.otlpMaxQueueSize !== undefined) out.maxQueueSize = parsePositiveInt('--otlp-max-queue-size', String(flags.otlpMaxQueueSize));
  if (flags.otlpQueueDir !== undefined) out.queueDir = String(flags.otlpQueueDir);
  if (flags.otlpQueueMaxSizeMb !== undefined) out.queueMaxSizeMb = parsePositiveInt('--otlp-queue-max-size-mb', String(flags.otlpQueueMaxSizeMb));
  return out;
}

/** The feature as the agent registers it: OTEL_* from process.env, compact bodies. */
export const otlpFeature: AgentFeature = new OtlpFeature();
