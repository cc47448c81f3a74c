// receiver/src/grpc/fanout-sink.ts
// The EventSink behind the gRPC server: offers every event to every open GetEvents stream.

import type { ExecscopeEvent } from '../model/events.js';
import type { EventSink } from '../model/sink.js';
import { SharedEvent, type EventStream, type ResponseSerializer } from './event-stream.js';

const POLL_MS = 5;

export class GrpcFanoutSink implements EventSink {
  readonly name = 'grpc';
  private readonly _streams = new Set<EventStream>();
  private _closed = false;

  constructor(private readonly _serialize: ResponseSerializer) {}

  /** Open streams (tests, metrics). */
  get streams(): ReadonlySet<EventStream> {
    return this._streams;
  }

  get closed(): boolean {
    return this._closed;
  }

  add(stream: EventStream): void {
    if (this._closed) {
      stream.end();
      return;
    }
    this._streams.add(stream);
  }

  remove(stream: EventStream): void {
    this._streams.delete(stream);
  }

  /** Never blocks: each stream filters and queues (or drops and counts) on its own. */
  write(event: ExecscopeEvent): void {
    if (this._streams.size === 0) return;
    const shared = new SharedEvent(event, this._serialize);
    for (const stream of this._streams) stream.offer(shared);
  }

  /** Resolves when every stream has handed its queue to gRPC, or after timeoutMs (slow clients keep theirs). */
  async flush(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline && [...this._streams].some((s) => !s.idle)) {
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  }

  /** Flushes, then ends every stream with status OK. Idempotent. */
  async close(timeoutMs: number): Promise<void> {
    if (this._closed) return;
    this._closed = true;
    await this.flush(timeoutMs);
    for (const stream of this._streams) stream.end();
    this._streams.clear();
  }
}
