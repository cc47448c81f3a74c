// receiver/src/sinks/stdout-sink.ts
// Prints events on stdout as JSON lines or Tetragon's compact lines, buffered per event-loop turn.

import { encodeEventCompact } from '../encode/compact-encoder.js';
import { EventJsonWriter } from '../encode/event-json-writer.js';
import type { ExecscopeEvent } from '../model/events.js';
import type { EventSink } from '../model/sink.js';
import type { Counter, MetricsRegistry } from '../metrics.js';

export type StdoutFormat = 'json' | 'compact';

const CHUNK_CHARS = 32 * 1024;
/** Output a slow reader has not taken yet, beyond which events are dropped (and counted) instead of buffered. */
const MAX_UNWRITTEN_BYTES = 16 * 1024 * 1024;

export class StdoutSink implements EventSink {
  readonly name = 'stdout';
  private _pending: string[] = [];
  private _pendingChars = 0;
  private _scheduled = false;
  private _closed = false;
  private readonly _json = new EventJsonWriter();
  private readonly _dropped: Counter;

  constructor(
    private readonly _format: StdoutFormat,
    private readonly _color: boolean,
    metrics: MetricsRegistry,
    private readonly _stream: NodeJS.WritableStream & { readonly writableLength?: number } = process.stdout,
  ) {
    this._dropped = metrics.counter('execscope_stdout_dropped_events_total', 'Events not printed because stdout was not being read fast enough.');
    // A closed pipe (`execscope agent -o compact | head`) ends printing, not the agent.
    this._stream.on('error', () => {
      this._closed = true;
      this._pending = [];
    });
  }

  write(event: ExecscopeEvent): void {
    if (this._closed) return;
    // A pipe nobody reads must not grow the agent's memory: past the bound, drop and count.
    if ((this._stream.writableLength ?? 0) + this._pendingChars > MAX_UNWRITTEN_BYTES) {
      this._dropped.inc();
      return;
    }
    const line = this._format === 'json' ? this._json.write(event) : encodeEventCompact(event, { color: this._color, timestamps: false });
    if (line === undefined) return;
    this._pending.push(line);
    this._pendingChars += line.length + 1;
    // Write in chunks well below V8's large-object size (128 KiB): one huge joined string per batch would be
    // allocated straight into the old generation and make every exec storm a series of full GCs.
    if (this._pendingChars >= CHUNK_CHARS) this._drain();
    else if (!this._scheduled) {
      this._scheduled = true;
      setImmediate(() => this._drain());
    }
  }

  async flush(_timeoutMs?: number): Promise<void> {
    this._drain();
    if (this._closed) return;
    await new Promise<void>((resolve) => {
      if (this._stream.write('')) resolve();
      else this._stream.once('drain', () => resolve());
    });
  }

  async close(timeoutMs: number): Promise<void> {
    if (this._closed) return;
    await this.flush(timeoutMs);
    this._closed = true;
  }

  private _drain(): void {
    this._scheduled = false;
    if (this._pending.length === 0) return;
    const text = `${this._pending.join('\n')}\n`;
    this._pending = [];
    this._pendingChars = 0;
    this._stream.write(text);
  }
}
