// receiver/src/cli/go-duration.ts
// Go's time.ParseDuration syntax ("30s", "1m30s", "250ms", "2h", "0"), as tetra and Tetragon flags take it.

import { ConfigError } from '../errors.js';

const UNIT_MS: Readonly<Record<string, number>> = { ns: 1e-6, us: 1e-3, µs: 1e-3, μs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Milliseconds in a Go duration string; throws ConfigError naming `flag` when it is not one. */
export function parseGoDuration(text: string, flag: string): number {
  const value = text.trim();
  const fail = (): never => {
    throw new ConfigError(`${flag} ${JSON.stringify(text)}: expected a duration such as 30s, 1m30s, 500ms or 2h`);
  };
  if (value === '0') return 0;
  const m = /^([-+]?)((?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+$/.exec(value);
  if (m === null) return fail();
  let total = 0;
  for (const part of value.slice(m[1]?.length ?? 0).matchAll(/(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/g)) {
    total += Number(part[1]) * (UNIT_MS[part[2] ?? ''] ?? fail());
  }
  return m[1] === '-' ? -total : total;
}
