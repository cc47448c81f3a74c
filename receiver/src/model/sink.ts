// receiver/src/model/sink.ts
// The contract every event consumer implements (stdout, JSON file, gRPC stream, OTLP).

import type { ExecscopeEvent } from './events.js';

export interface EventSink {
  /** Short name used in logs and metrics labels, e.g. "otlp", "export-file". */
  readonly name: string;
  /** Accepts one event; must not block or throw. Sinks count and report their own drops. */
  write(event: ExecscopeEvent): void;
  /** Resolves when everything accepted so far has been delivered or counted as lost. */
  flush(timeoutMs: number): Promise<void>;
  /** Flushes and releases resources; idempotent. */
  close(timeoutMs: number): Promise<void>;
}
