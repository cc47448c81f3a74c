// receiver/src/grpc/event-stream.ts
// One GetEvents client: its filters, a bounded queue, and a pump that respects HTTP/2 back-pressure.

import type { ExecscopeEvent } from '../model/events.js';
import type { EventPredicate } from '../filter/event-filter.js';
import type { FieldFilterChain } from '../filter/field-filter.js';
import type { GetEventsResponseMsg } from '../proto/messages.js';
import { toProtoResponse } from '../proto/to-proto.js';
import { BoundedQueue } from './bounded-queue.js';

/** Serializes a GetEventsResponse to protobuf bytes (the service's own serializer). */
export type ResponseSerializer = (message: GetEventsResponseMsg) => Buffer;

/** An event offered to every stream; streams without field filters share one encoding. */
export class SharedEvent {
  private _bytes: Buffer | undefined;
  constructor(
    readonly event: ExecscopeEvent,
    private readonly _serialize: ResponseSerializer,
  ) {}
  /** The protobuf bytes of the unfiltered response, encoded on first use. */
  bytes(): Buffer {
    this._bytes ??= this._serialize(toProtoResponse(this.event));
    return this._bytes;
  }
}

/** Where a stream's messages go: see `responseWriterFor` in server.ts. */
export interface ResponseWriter {
  /** Sends one serialized message; `done` runs once it is written to the HTTP/2 stream. */
  write(chunk: Buffer, done: () => void): void;
  /** Ends the call with status OK after the messages written so far. */
  end(): void;
}

export interface EventStreamOptions {
  /** Short id for logs. */
  readonly id: number;
  /** Client address for logs. */
  readonly peer: string;
  /** Events held for this client before new ones are dropped (--event-queue-size). */
  readonly queueSize: number;
  readonly predicate: EventPredicate;
  readonly fieldFilters: FieldFilterChain;
  readonly serialize: ResponseSerializer;
  /** Called once per dropped event (queue full). */
  readonly onDrop: (stream: EventStream) => void;
  /** Called once per event handed to gRPC. */
  readonly onSent: () => void;
  /** Called when an event cannot be serialized (a bug); the event is skipped. */
  readonly onError: (stream: EventStream, error: unknown) => void;
}

/** Events written per turn of the event loop, so one busy client cannot monopolise it. */
const PUMP_BATCH = 256;

/**
 * Messages handed to gRPC but not yet written, per stream. Beyond this many we wait for writes to complete
 * (a slow client or HTTP/2 flow control), and the bounded queue then takes the overflow.
 */
const MAX_IN_FLIGHT = 512;

/** The same bound in bytes, since one event can be large (arguments up to ~320 KiB). */
const MAX_IN_FLIGHT_BYTES = 4 * 1024 * 1024;

export class EventStream {
  private readonly _queue: BoundedQueue<SharedEvent>;
  private _waitingForWrites = false;
  private _inFlight = 0;
  private _inFlightBytes = 0;
  private _scheduled = false;
  private _closed = false;
  private _dropped = 0;
  private _sent = 0;

  constructor(
    private readonly _writer: ResponseWriter,
    private readonly _options: EventStreamOptions,
  ) {
    this._queue = new BoundedQueue(Math.max(1, _options.queueSize));
  }

  get id(): number {
    return this._options.id;
  }
  get peer(): string {
    return this._options.peer;
  }
  /** Events dropped because this client's queue was full. */
  get dropped(): number {
    return this._dropped;
  }
  /** Events handed to gRPC. */
  get sent(): number {
    return this._sent;
  }
  get queued(): number {
    return this._queue.size;
  }
  /** Nothing queued here and nothing buffered in the gRPC stream. */
  get idle(): boolean {
    return this._closed || (this._queue.size === 0 && this._inFlight === 0);
  }

  /** Filters and enqueues an event; never blocks: when the queue is full the event is dropped and counted. */
  offer(item: SharedEvent): void {
    if (this._closed || !this._options.predicate(item.event)) return;
    if (!this._queue.push(item)) {
      this._dropped++;
      this._options.onDrop(this);
      return;
    }
    this._schedule();
  }

  /** Ends the stream with status OK (server shutdown); queued events are discarded. */
  end(): void {
    if (this._closed) return;
    this.detach();
    this._writer.end();
  }

  /** Stops without writing (the client went away). */
  detach(): void {
    this._closed = true;
    this._queue.clear();
  }

  private _schedule(): void {
    if (this._scheduled || this._waitingForWrites || this._closed || this._queue.size === 0) return;
    this._scheduled = true;
    setImmediate(() => {
      this._scheduled = false;
      this._pump();
    });
  }

  private _pump(): void {
    for (let budget = PUMP_BATCH; budget > 0 && !this._closed; budget--) {
      if (this._inFlight >= MAX_IN_FLIGHT || this._inFlightBytes >= MAX_IN_FLIGHT_BYTES) {
        // Slow client or HTTP/2 flow control: resume when writes complete (see _written).
        this._waitingForWrites = true;
        return;
      }
      const item = this._queue.shift();
      if (item === undefined) return;
      let bytes: Buffer;
      try {
        bytes = this._options.fieldFilters.empty ? item.bytes() : this._options.serialize(this._options.fieldFilters.apply(toProtoResponse(item.event)));
      } catch (error: unknown) {
        this._options.onError(this, error);
        continue;
      }
      this._sent++;
      this._options.onSent();
      this._inFlight++;
      this._inFlightBytes += bytes.length;
      const length = bytes.length;
      this._writer.write(bytes, () => {
        this._inFlight--;
        this._inFlightBytes -= length;
        this._written();
      });
    }
    this._schedule();
  }

  private readonly _written = (): void => {
    if (this._waitingForWrites && this._inFlight < MAX_IN_FLIGHT / 2 && this._inFlightBytes < MAX_IN_FLIGHT_BYTES / 2) {
      this._waitingForWrites = false;
      this._schedule();
    }
  };
}
