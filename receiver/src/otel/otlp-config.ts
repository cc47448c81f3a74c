// receiver/src/otel/otlp-config.ts
// Resolves the OTLP log export settings once, from flags, then the standard OTEL_* variables, then defaults.

import { readFileSync } from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import { ConfigError, getErrorMessage } from '../errors.js';
import type { LogAttributes } from '../logger.js';
import { DEFAULT_RETRY } from './retrying-exporter.js';
import type { RetryOptions } from './retrying-exporter.js';

/** Batch processor settings (the SDK reads none of the OTEL_BLRP_* variables itself). */
export interface OtlpBatchOptions {
  /** OTEL_BLRP_MAX_QUEUE_SIZE; default 65536, so a burst of execs waits instead of being dropped. */
  readonly maxQueueSize: number;
  /** OTEL_BLRP_MAX_EXPORT_BATCH_SIZE; default 2048. */
  readonly maxExportBatchSize: number;
  /** OTEL_BLRP_SCHEDULE_DELAY in ms; default 1000. */
  readonly scheduledDelayMs: number;
  /** OTEL_BLRP_EXPORT_TIMEOUT in ms: one batch's time across all its retries; default 30000. */
  readonly exportTimeoutMs: number;
}

/** TLS material read from the OTEL_EXPORTER_OTLP_*CERTIFICATE / *CLIENT_KEY files. */
export interface OtlpTlsFiles {
  readonly rootCert?: Buffer;
  readonly clientKey?: Buffer;
  readonly clientCert?: Buffer;
}

/** The durable on-disk queue (--otlp-queue-dir): records wait there while the endpoint is away. */
export interface OtlpQueueOptions {
  /** Absolute path of the queue directory (created if missing, 0700). */
  readonly dir: string;
  /** Bound on the bytes of its segment files (--otlp-queue-max-size-mb); default 256 MiB. */
  readonly maxBytes: number;
}

/** Fully resolved settings of the OTLP log sink. */
export interface OtlpConfig {
  /** The endpoint as configured, scheme included (`http://collector:4317`). */
  readonly endpoint: string;
  /** Plaintext when true; TLS (with `tls`) otherwise. */
  readonly insecure: boolean;
  readonly tls: OtlpTlsFiles;
  /** gRPC metadata sent with every export. Keys are lowercase. */
  readonly headers: Readonly<Record<string, string>>;
  readonly compression: 'gzip' | 'none';
  /** Deadline of one export call, in ms; default 10000. */
  readonly timeoutMs: number;
  /** Parsed OTEL_RESOURCE_ATTRIBUTES. */
  readonly resourceAttributes: Readonly<Record<string, string>>;
  /** OTEL_SERVICE_NAME. */
  readonly serviceName?: string;
  readonly batch: OtlpBatchOptions;
  /** OTEL_LOGRECORD_ATTRIBUTE_COUNT_LIMIT (else OTEL_ATTRIBUTE_COUNT_LIMIT); default 256 (SDK default 128). */
  readonly attributeCountLimit: number;
  /** OTEL_LOGRECORD_ATTRIBUTE_VALUE_LENGTH_LIMIT (else OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT); default unlimited. */
  readonly attributeValueLengthLimit?: number;
  readonly retry: RetryOptions;
  /** Present when --otlp-queue-dir is set; otherwise records wait in memory only (the batch queue). */
  readonly queue?: OtlpQueueOptions;
}

/** Flag values, already typed by the caller. Any of them beats the environment. */
export interface OtlpFlags {
  readonly endpoint?: string;
  /** `key=value` entries (values taken verbatim). */
  readonly headers?: readonly string[];
  readonly insecure?: boolean;
  readonly compression?: string;
  readonly timeoutMs?: number;
  readonly maxQueueSize?: number;
  /** --otlp-queue-dir. */
  readonly queueDir?: string;
  /** --otlp-queue-max-size-mb (MiB). */
  readonly queueMaxSizeMb?: number;
}

/** Defaults where neither a flag nor an OTEL_* variable says otherwise (see docs/otel.md). */
export const OTLP_DEFAULTS = {
  timeoutMs: 10_000,
  compression: 'none',
  batch: { maxQueueSize: 65_536, maxExportBatchSize: 2048, scheduledDelayMs: 1000, exportTimeoutMs: 30_000 },
  attributeCountLimit: 256,
} as const satisfies Partial<OtlpConfig>;

/** Default bound of the durable queue (--otlp-queue-max-size-mb), in MiB. */
export const OTLP_QUEUE_DEFAULT_MAX_SIZE_MB = 256;

/** What resolution needs from its surroundings; tests pass their own environment and file reader. */
export interface OtlpConfigSources {
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Reports an ignored environment value (the OTel rule: warn and fall back, never fail). */
  readonly warn: (msg: string, attrs?: LogAttributes) => void;
  readonly readFile?: (path: string) => Buffer;
}

const GRPC_METADATA_KEY = /^[0-9a-z_.-]+$/;

/**
 * Returns the settings, or undefined when OTLP export is off: no `--otlp-endpoint` and neither
 * OTEL_EXPORTER_OTLP_LOGS_ENDPOINT nor OTEL_EXPORTER_OTLP_ENDPOINT (or OTEL_SDK_DISABLED=true, or
 * OTEL_LOGS_EXPORTER=none, which only an explicit flag overrides). Throws ConfigError naming a bad value.
 */
export function resolveOtlpConfig(flags: OtlpFlags, sources: OtlpConfigSources): OtlpConfig | undefined {
  // Flags are checked even when export is off, so a typo does not wait for the day it is turned on.
  checkFlagSyntax(flags);
  const env = new EnvReader(sources);
  const envEndpoint = env.signal('ENDPOINT');
  if (flags.endpoint === undefined) {
    if (envEndpoint === undefined) return undefined;
    if (env.raw('OTEL_SDK_DISABLED')?.toLowerCase() === 'true') return undefined;
    if (env.raw('OTEL_LOGS_EXPORTER')?.toLowerCase() === 'none') return undefined;
  }
  const endpoint = (flags.endpoint ?? envEndpoint ?? '').trim();
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(endpoint)?.[1]?.toLowerCase();
  checkEndpoint(endpoint, scheme, sources.warn);

  const protocol = env.signal('PROTOCOL');
  if (protocol !== undefined && protocol !== 'grpc') {
    sources.warn('OTLP protocol is not gRPC; execscope exports logs over OTLP/gRPC only', { 'otel.protocol': protocol, 'otel.endpoint': endpoint });
  }

  const insecure = scheme === 'http' ? true : scheme === 'https' ? false : flags.insecure === true || env.signal('INSECURE')?.toLowerCase() === 'true';
  const tls = insecure ? {} : readTlsFiles(env, sources.readFile ?? ((path) => readFileSync(resolvePath(path))));

  const headers: Record<string, string> = {
    ...env.keyValues('OTEL_EXPORTER_OTLP_HEADERS', true),
    ...env.keyValues('OTEL_EXPORTER_OTLP_LOGS_HEADERS', true),
  };
  for (const entry of flags.headers ?? []) {
    const eq = entry.indexOf('=');
    const key = entry.slice(0, eq).trim().toLowerCase();
    if (eq <= 0 || !isMetadataKey(key)) throw new ConfigError(`--otlp-header: expected key=value with a valid gRPC metadata key, got ${JSON.stringify(entry)}`);
    headers[key] = entry.slice(eq + 1).trim();
  }

  let compression: 'gzip' | 'none' = OTLP_DEFAULTS.compression;
  const rawCompression = flags.compression ?? env.signal('COMPRESSION');
  if (rawCompression === 'gzip' || rawCompression === 'none') compression = rawCompression;
  else if (flags.compression !== undefined) throw new ConfigError(`--otlp-compression: expected gzip or none, got ${JSON.stringify(flags.compression)}`);
  else if (rawCompression !== undefined) sources.warn('ignoring OTEL_EXPORTER_OTLP_COMPRESSION: expected gzip or none', { value: rawCompression });

  const maxQueueSize = flags.maxQueueSize ?? env.int('OTEL_BLRP_MAX_QUEUE_SIZE', 1) ?? OTLP_DEFAULTS.batch.maxQueueSize;
  let maxExportBatchSize = env.int('OTEL_BLRP_MAX_EXPORT_BATCH_SIZE', 1) ?? OTLP_DEFAULTS.batch.maxExportBatchSize;
  if (maxExportBatchSize > maxQueueSize) {
    sources.warn('OTEL_BLRP_MAX_EXPORT_BATCH_SIZE exceeds the queue size; using the queue size', { 'otel.batch_size': maxExportBatchSize, 'otel.queue_size': maxQueueSize });
    maxExportBatchSize = maxQueueSize;
  }
  const queue = resolveQueue(flags);
  const serviceName = env.raw('OTEL_SERVICE_NAME')?.trim();
  const valueLimit = env.int('OTEL_LOGRECORD_ATTRIBUTE_VALUE_LENGTH_LIMIT', 1) ?? env.int('OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT', 1);

  return {
    endpoint,
    insecure,
    tls,
    headers,
    compression,
    timeoutMs: flags.timeoutMs ?? env.signalInt('TIMEOUT', 1) ?? OTLP_DEFAULTS.timeoutMs,
    resourceAttributes: env.keyValues('OTEL_RESOURCE_ATTRIBUTES', false),
    ...(serviceName === undefined || serviceName === '' ? {} : { serviceName }),
    batch: {
      maxQueueSize,
      maxExportBatchSize,
      scheduledDelayMs: env.int('OTEL_BLRP_SCHEDULE_DELAY', 0) ?? OTLP_DEFAULTS.batch.scheduledDelayMs,
      exportTimeoutMs: env.int('OTEL_BLRP_EXPORT_TIMEOUT', 1) ?? OTLP_DEFAULTS.batch.exportTimeoutMs,
    },
    attributeCountLimit:
      env.int('OTEL_LOGRECORD_ATTRIBUTE_COUNT_LIMIT', 1) ?? env.int('OTEL_ATTRIBUTE_COUNT_LIMIT', 1) ?? OTLP_DEFAULTS.attributeCountLimit,
    ...(valueLimit === undefined ? {} : { attributeValueLengthLimit: valueLimit }),
    retry: DEFAULT_RETRY,
    ...(queue === undefined ? {} : { queue }),
  };
}

function checkFlagSyntax(flags: OtlpFlags): void {
  for (const entry of flags.headers ?? []) {
    const eq = entry.indexOf('=');
    if (eq <= 0 || !isMetadataKey(entry.slice(0, eq).trim().toLowerCase())) {
      throw new ConfigError(`--otlp-header: expected key=value with a valid gRPC metadata key, got ${JSON.stringify(entry)}`);
    }
  }
  if (flags.compression !== undefined && flags.compression !== 'gzip' && flags.compression !== 'none') {
    throw new ConfigError(`--otlp-compression: expected gzip or none, got ${JSON.stringify(flags.compression)}`);
  }
  resolveQueue(flags);
}

function resolveQueue(flags: OtlpFlags): OtlpQueueOptions | undefined {
  if (flags.queueDir === undefined) {
    if (flags.queueMaxSizeMb !== undefined) throw new ConfigError(`--otlp-queue-max-size-mb ${flags.queueMaxSizeMb}: needs --otlp-queue-dir`);
    return undefined;
  }
  const dir = flags.queueDir.trim();
  if (dir === '') throw new ConfigError('--otlp-queue-dir: the directory is empty');
  const mb = flags.queueMaxSizeMb ?? OTLP_QUEUE_DEFAULT_MAX_SIZE_MB;
  if (!Number.isSafeInteger(mb) || mb < 1) throw new ConfigError(`--otlp-queue-max-size-mb: "${mb}" must be a whole number of MiB, at least 1`);
  return { dir: resolvePath(dir), maxBytes: mb * 1024 * 1024 };
}

function checkEndpoint(endpoint: string, scheme: string | undefined, warn: OtlpConfigSources['warn']): void {
  if (endpoint === '') throw new ConfigError('OTLP endpoint is empty');
  if (scheme === 'unix') return;
  let url: URL;
  try {
    url = new URL(scheme === undefined ? `https://${endpoint}` : endpoint);
  } catch (error: unknown) {
    throw new ConfigError(`OTLP endpoint is not a valid URL: ${JSON.stringify(endpoint)} (${getErrorMessage(error)})`, { cause: error });
  }
  if (scheme !== undefined && scheme !== 'http' && scheme !== 'https') {
    throw new ConfigError(`OTLP endpoint scheme must be http, https or unix: ${JSON.stringify(endpoint)}`);
  }
  if (url.pathname !== '' && url.pathname !== '/') {
    warn('OTLP/gRPC ignores the path of the endpoint', { 'otel.endpoint': endpoint });
  }
}

function readTlsFiles(env: EnvReader, readFile: (path: string) => Buffer): OtlpTlsFiles {
  const read = (suffix: string): Buffer | undefined => {
    const path = env.signal(suffix);
    if (path === undefined) return undefined;
    try {
      return readFile(path);
    } catch (error: unknown) {
      throw new ConfigError(`cannot read OTEL_EXPORTER_OTLP_${suffix} file ${JSON.stringify(path)}: ${getErrorMessage(error)}`, { cause: error });
    }
  };
  const rootCert = read('CERTIFICATE');
  const clientKey = read('CLIENT_KEY');
  const clientCert = read('CLIENT_CERTIFICATE');
  if ((clientKey === undefined) !== (clientCert === undefined)) {
    throw new ConfigError('OTEL_EXPORTER_OTLP_CLIENT_KEY and OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE must be set together');
  }
  return {
    ...(rootCert === undefined ? {} : { rootCert }),
    ...(clientKey === undefined ? {} : { clientKey }),
    ...(clientCert === undefined ? {} : { clientCert }),
  };
}

function isMetadataKey(key: string): boolean {
  // Binary metadata (-bin) would need Buffer values; the grpc- prefix is reserved for the transport.
  return GRPC_METADATA_KEY.test(key) && !key.endsWith('-bin') && !key.startsWith('grpc-');
}

/** Reads OTEL_* variables the way the OTel SDKs do: blank is unset, invalid warns and counts as unset. */
class EnvReader {
  constructor(private readonly _sources: OtlpConfigSources) {}

  raw(name: string): string | undefined {
    const value = this._sources.env[name];
    return value === undefined || value.trim() === '' ? undefined : value.trim();
  }

  /** OTEL_EXPORTER_OTLP_LOGS_<suffix>, else OTEL_EXPORTER_OTLP_<suffix>. */
  signal(suffix: string): string | undefined {
    return this.raw(`OTEL_EXPORTER_OTLP_LOGS_${suffix}`) ?? this.raw(`OTEL_EXPORTER_OTLP_${suffix}`);
  }

  signalInt(suffix: string, min: number): number | undefined {
    return this.int(`OTEL_EXPORTER_OTLP_LOGS_${suffix}`, min) ?? this.int(`OTEL_EXPORTER_OTLP_${suffix}`, min);
  }

  int(name: string, min: number): number | undefined {
    const value = this.raw(name);
    if (value === undefined) return undefined;
    const parsed = Number(value);
    if (Number.isSafeInteger(parsed) && parsed >= min) return parsed;
    this._sources.warn(`ignoring ${name}: expected an integer ≥ ${min}`, { value });
    return undefined;
  }

  /** `k1=v1,k2=v2` with percent-encoded values (W3C baggage octets), as OTEL_*_HEADERS and OTEL_RESOURCE_ATTRIBUTES. */
  keyValues(name: string, metadataKeys: boolean): Record<string, string> {
    const out: Record<string, string> = {};
    const value = this.raw(name);
    if (value === undefined) return out;
    for (const entry of value.split(',')) {
      if (entry.trim() === '') continue;
      const eq = entry.indexOf('=');
      let key = eq > 0 ? entry.slice(0, eq).trim() : '';
      let decoded: string | undefined;
      try {
        decoded = eq > 0 ? decodeURIComponent(entry.slice(eq + 1).trim()) : undefined;
        key = decodeURIComponent(key);
      } catch {
        decoded = undefined;
      }
      if (metadataKeys) key = key.toLowerCase();
      if (key === '' || decoded === undefined || (metadataKeys && !isMetadataKey(key))) {
        this._sources.warn(`ignoring an entry of ${name}: expected key=value`, { entry: metadataKeys ? entry.slice(0, Math.max(eq, 0)) : entry });
        continue;
      }
      out[key] = decoded;
    }
    return out;
  }
}
