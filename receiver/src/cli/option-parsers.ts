// receiver/src/cli/option-parsers.ts
// Parsers for option values; each throws ConfigError naming the option and the bad value.

import { ConfigError } from '../errors.js';

export function parsePositiveInt(option: string, value: string): number {
  if (!/^\d+$/.test(value.trim())) throw new ConfigError(`${option}: "${value}" is not a positive integer`);
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n <= 0) throw new ConfigError(`${option}: "${value}" is not a positive integer`);
  return n;
}

const DURATION_UNITS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** "500ms", "30s", "2m", "1h" or a bare number of seconds; returns milliseconds. */
export function parseDuration(option: string, value: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(value.trim());
  if (m === null) throw new ConfigError(`${option}: "${value}" is not a duration like 500ms, 30s, 2m`);
  return Math.round(Number(m[1]) * (DURATION_UNITS[m[2] ?? 's'] ?? 1000));
}

const SIZE_UNITS: Readonly<Record<string, number>> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

/** "4096", "64K", "8M", "1G" (binary units); returns bytes. */
export function parseSize(option: string, value: string): number {
  const m = /^(\d+)([kmg]?)i?b?$/i.exec(value.trim());
  if (m === null) throw new ConfigError(`${option}: "${value}" is not a size like 4096, 64K, 8M`);
  return Number(m[1]) * (SIZE_UNITS[(m[2] ?? '').toLowerCase()] ?? 1);
}
