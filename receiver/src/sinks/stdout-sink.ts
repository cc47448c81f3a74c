// receiver/src/sinks/stdout-sink.ts
// Prints events on stdout as JSON lines or Tetragon's compact lines, buffered per event-loop turn.

import { encodeEventCompact } from '../encode/compact-encoder.js';
import { EventJsonWriter } from '../encode/event-json-writer.js';
import type { ExecscopeEvent } from '../model/events.js';
import type { EventSink } from '../model/sink.js';

export type StdoutFormat = 'json' | 'compact';

const CHUNK_CHARS = 32 * 1024;

export class StdoutSink implements EventSink {
  readonly name = 'stdout';
  private _pending: string[] = [];
  private _pendingChars = 0;
  private _scheduled = false;
  private _closed = false;
  private readonly _json = new EventJsonWriter();

  constructor(
    private readonly _format: StdoutFormat,
    private readonly _color: boolean,
    private readonly _stream: NodeJS.WritableStream = process.stdout,
  ) {
    // A closed pipe (`execscope agent -o compact | head`) ends printing, not the agent.
    this._stream.on('error', () => {
      this._closed = true;
      this._pending = [];
    });
  }

  write(event: ExecscopeEvent): void {
    if (this._closed) return;
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
