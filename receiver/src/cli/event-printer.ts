// receiver/src/cli/event-printer.ts
// Writes GetEventsResponse messages as JSON lines or compact lines, honouring the output stream's back-pressure.

import type { Writable } from 'node:stream';
import { encodeEventCompact, type CompactOptions } from '../encode/compact-encoder.js';
import { encodeResponseJson } from '../encode/json-encoder.js';
import type { GetEventsResponseMsg } from '../proto/messages.js';
import { fromProtoResponse } from '../proto/from-proto.js';

export type OutputFormat = 'json' | 'compact';

/** The text line (no newline) for one response, or undefined when the format prints nothing for it. */
export function formatResponse(response: GetEventsResponseMsg, format: OutputFormat, compact: CompactOptions): string | undefined {
  if (format === 'json') return encodeResponseJson(response);
  // Tetragon's compact encoder refuses events without a process (e.g. removed by a field filter).
  const process = response.process_exec?.process ?? response.process_exit?.process;
  if (process === undefined) return undefined;
  const event = fromProtoResponse(response);
  return event === undefined ? undefined : encodeEventCompact(event, compact);
}

/** Prints lines to a stream; `write` returns false when the caller should wait for `drained()`. */
export class EventPrinter {
  private _broken = false;

  constructor(
    private readonly _out: Writable,
    private readonly _format: OutputFormat,
    private readonly _compact: CompactOptions,
  ) {
    // A closed pipe (`| head`) ends output quietly instead of crashing.
    _out.on('error', () => {
      this._broken = true;
    });
  }

  /** True once the output stream failed (EPIPE); callers stop reading events. */
  get broken(): boolean {
    return this._broken;
  }

  write(response: GetEventsResponseMsg): boolean {
    if (this._broken) return false;
    const line = formatResponse(response, this._format, this._compact);
    if (line === undefined) return true;
    return this._out.write(`${line}\n`);
  }

  /** Resolves when the stream has room again (or failed). */
  drained(): Promise<void> {
    if (this._broken || !this._out.writableNeedDrain) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        this._out.off('drain', done);
        this._out.off('error', done);
        this._out.off('close', done);
        resolve();
      };
      this._out.on('drain', done);
      this._out.on('error', done);
      this._out.on('close', done);
    });
  }
}
