// receiver/src/process/environment.ts
// KEY=VALUE environment entries as Tetragon's EnvVar list, and the trace context among them.

import type { EnvVar } from '../model/process.js';

export interface ParsedEnvironment {
  readonly vars: EnvVar[];
  readonly traceParent: string | undefined;
  readonly traceState: string | undefined;
}

/** An entry without "=" becomes key "invalid" holding the whole entry, as Tetragon reports it. */
export function parseEnvironment(entries: Iterable<string>): ParsedEnvironment {
  const vars: EnvVar[] = [];
  let traceParent: string | undefined;
  let traceState: string | undefined;
  for (const entry of entries) {
    const eq = entry.indexOf('=');
    const key = eq === -1 ? 'invalid' : entry.slice(0, eq);
    const value = eq === -1 ? entry : entry.slice(eq + 1);
    if (key === 'TRACEPARENT') traceParent = value;
    else if (key === 'TRACESTATE') traceState = value;
    vars.push({ key, value });
  }
  return { vars, traceParent, traceState };
}
