// receiver/src/logger.ts
// Structured JSON-lines logging on stderr (stdout may carry events).

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogAttributes = Readonly<Record<string, unknown>>;

export interface Logger {
  debug(msg: string, attrs?: LogAttributes): void;
  info(msg: string, attrs?: LogAttributes): void;
  warn(msg: string, attrs?: LogAttributes): void;
  error(msg: string, attrs?: LogAttributes): void;
}

const LEVEL_ORDER: Readonly<Record<LogLevel, number>> = { debug: 10, info: 20, warn: 30, error: 40 };

export function isLogLevel(value: string): value is LogLevel {
  return Object.hasOwn(LEVEL_ORDER, value);
}

/** Writes one JSON object per line: {time, level, msg, ...attrs}. */
export class JsonLogger implements Logger {
  private readonly _min: number;
  constructor(
    level: LogLevel,
    private readonly _write: (line: string) => void = (line) => process.stderr.write(line),
  ) {
    this._min = LEVEL_ORDER[level];
  }
  debug(msg: string, attrs?: LogAttributes): void {
    this._log('debug', msg, attrs);
  }
  info(msg: string, attrs?: LogAttributes): void {
    this._log('info', msg, attrs);
  }
  warn(msg: string, attrs?: LogAttributes): void {
    this._log('warn', msg, attrs);
  }
  error(msg: string, attrs?: LogAttributes): void {
    this._log('error', msg, attrs);
  }
  private _log(level: LogLevel, msg: string, attrs: LogAttributes | undefined): void {
    if (LEVEL_ORDER[level] < this._min) return;
    const record = { time: new Date().toISOString(), level, msg, ...attrs };
    this._write(`${JSON.stringify(record, bigintReplacer)}\n`);
  }
}

function bigintReplacer(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}

/** A logger that drops everything (tests, benchmarks). */
export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
};

/**
 * Lets a hot path warn at most once per interval per key, and says how many were suppressed.
 */
export class RateLimitedWarner {
  private readonly _last = new Map<string, { at: number; suppressed: number }>();
  constructor(
    private readonly _logger: Logger,
    private readonly _intervalMs = 10_000,
    private readonly _now: () => number = Date.now,
  ) {}
  warn(key: string, msg: string, attrs?: LogAttributes): void {
    const now = this._now();
    const entry = this._last.get(key);
    if (entry !== undefined && now - entry.at < this._intervalMs) {
      entry.suppressed++;
      return;
    }
    const suppressed = entry?.suppressed ?? 0;
    this._last.set(key, { at: now, suppressed: 0 });
    this._logger.warn(msg, suppressed > 0 ? { ...attrs, 'log.suppressed': suppressed } : attrs);
  }
}
