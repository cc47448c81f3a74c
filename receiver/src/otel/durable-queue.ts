// receiver/src/otel/durable-queue.ts
// A bounded on-disk FIFO of serialized OTLP export requests: segment files, a cursor, crash recovery, a lock.

// Frames are appended to the active segment; a single consumer takes them oldest first and completes each once
// the endpoint answered. A segment file is deleted when all its frames are done, or as a whole when the size
// bound needs room (its waiting records counted as queue_overflow). File operations run one at a time (see
// SegmentFiles); the bookkeeping here is synchronous and in memory.

import { ConfigError, getErrorMessage } from '../errors.js';
import type { Logger } from '../logger.js';
import type { DurableQueueMetrics } from './durable-queue-metrics.js';
import { acquireQueueLock, releaseQueueLock } from './queue-dir-lock.js';
import { recoverQueue } from './queue-recovery.js';
import type { RecoveredQueue } from './queue-recovery.js';
import { FRAME_HEADER_BYTES, SEGMENT_HEADER_BYTES } from './queue-segment-format.js';
import type { QueueCursor } from './queue-segment-format.js';
import { SegmentFiles } from './segment-files.js';
import type { SegmentFile as Segment } from './segment-files.js';

/** Why the queue gave records up (reasons of execscope_otlp_records_dropped_total). */
export type QueueDropReason = 'queue_overflow' | 'queue_corrupt' | 'queue_error';

/** Where the queue lives, how big it may grow, and what it reports to. */
export interface DurableQueueOptions {
  readonly dir: string;
  /** Bound on the bytes of all segment files (--otlp-queue-max-size-mb). */
  readonly maxBytes: number;
  /** Nominal size of one segment file; default maxBytes / 32, between 32 KiB and 8 MiB. */
  readonly segmentBytes?: number;
  /** How often the active segment, the cursor and the directory are synced; default 1000 ms. */
  readonly syncIntervalMs?: number;
  /**
   * Payload bytes kept in memory so that sending needs no disk read; default 16 MiB. The same amount again may
   * hold frames that could not be written (disk full), so export goes on without durability.
   */
  readonly cacheBytes?: number;
  readonly metrics: DurableQueueMetrics;
  /** Records the queue gave up on. */
  readonly onDrop: (reason: QueueDropReason, records: number) => void;
  readonly logger: Logger;
}

/** One queued export request, as the consumer sees it. */
export interface QueuedFrame {
  /** Increasing in append order. */
  readonly id: number;
  readonly records: number;
  /** Payload bytes. */
  readonly length: number;
}

interface Frame extends QueuedFrame {
  /** Undefined once detached: its segment was dropped while it was being sent. */
  segment: Segment | undefined;
  readonly offset: number;
  onDisk: boolean;
  /** The payload, when held in memory (cached, or never written). */
  bytes: Uint8Array | undefined;
  /** Which memory budget `bytes` counts against. */
  held: 'none' | 'cache' | 'memory';
  /** The payload the consumer is sending, kept so a detached frame can still be retried. */
  sending: Uint8Array | undefined;
  state: 'queued' | 'sending' | 'done';
}

/** One shape for every frame (a long outage may queue hundreds of thousands of them). */
function makeFrame(id: number, records: number, length: number, segment: Segment | undefined, offset: number, onDisk: boolean, bytes: Uint8Array | undefined, held: Frame['held']): Frame {
  return { id, records, length, segment, offset, onDisk, bytes, held, sending: undefined, state: 'queued' };
}

const DEFAULT_SYNC_INTERVAL_MS = 1000;
const DEFAULT_CACHE_BYTES = 16 * 1024 * 1024;
const MIN_SEGMENT_BYTES = 32 * 1024;
const MAX_SEGMENT_BYTES = 8 * 1024 * 1024;

/** The segment size for a bound: 32 segments, so overflow drops about 3% of the queue at a time. */
export function defaultSegmentBytes(maxBytes: number): number {
  return Math.min(MAX_SEGMENT_BYTES, Math.max(MIN_SEGMENT_BYTES, Math.floor(maxBytes / 32)));
}

/**
 * The queue directory's content: open() takes a lock, reads what an earlier agent left (skipping and counting
 * torn or corrupt frames), and from then on appends, hands out and deletes frames in order. Not thread-safe;
 * one consumer.
 */
export class DurableQueue {
  readonly dir: string;
  /** Largest payload worth putting in one frame (a frame never spans segments). */
  readonly maxPayloadBytes: number;
  /** Records found at open, left by an earlier run (those found corrupt included: they were counted dropped). */
  readonly recoveredRecords: number;

  private readonly _options: DurableQueueOptions;
  private readonly _segmentBytes: number;
  private readonly _cacheBytes: number;
  private readonly _segments: Segment[] = [];
  private _active: Segment | undefined;
  private _nextSeq: number;
  private readonly _frames: Frame[] = [];
  private _head = 0;
  private _nextId = 1;
  private _records = 0;
  private _diskBytes = 0;
  private _cachedBytes = 0;
  private _memoryBytes = 0;
  private _cursor: QueueCursor | undefined;
  private _cursorDirty = false;
  private _dirDirty = false;
  private readonly _files: SegmentFiles;
  private _syncQueued = false;
  private readonly _timer: NodeJS.Timeout;
  private readonly _appendWaiters = new Set<() => void>();
  private readonly _doneWaiters = new Set<() => void>();
  private _closing: Promise<number> | undefined;
  private readonly _lockPath: string;

  private constructor(options: DurableQueueOptions, recovered: RecoveredQueue, lockPath: string) {
    this._options = options;
    this._lockPath = lockPath;
    this.dir = options.dir;
    this._files = new SegmentFiles(options.dir, options.metrics, options.logger);
    this._segmentBytes = options.segmentBytes ?? defaultSegmentBytes(options.maxBytes);
    this._cacheBytes = options.cacheBytes ?? DEFAULT_CACHE_BYTES;
    this.maxPayloadBytes = this._segmentBytes - SEGMENT_HEADER_BYTES - FRAME_HEADER_BYTES;
    this._cursor = recovered.cursor;
    this._nextSeq = recovered.nextSeq;
    for (const { seq, path, size, frames } of recovered.segments) {
      // Recovered segments are only read and deleted: new frames go to a new segment.
      const segment: Segment = { seq, path, size, live: frames.length, handle: undefined, dirty: false, broken: true };
      this._segments.push(segment);
      this._diskBytes += segment.size;
      for (const scanned of frames) {
        this._frames.push(makeFrame(this._nextId++, scanned.records, scanned.length, segment, scanned.offset, true, undefined, 'none'));
        this._records += scanned.records;
      }
    }
    this.recoveredRecords = recovered.records;
    options.metrics.capacityBytes.set(options.maxBytes);
    // A smaller bound than the earlier run's: make room at once.
    for (const dropped of this._makeRoom(0)) void this._files.run(() => this._files.delete(dropped));
    this._publish();
    this._timer = setInterval(() => this._scheduleSync(), options.syncIntervalMs ?? DEFAULT_SYNC_INTERVAL_MS);
    this._timer.unref();
  }

  /**
   * Creates the directory if needed, locks it, and recovers what it holds (synchronously: at most the size bound
   * is read once). Throws ConfigError naming the directory when it cannot be used.
   */
  static open(options: DurableQueueOptions): DurableQueue {
    const lock = acquireQueueLock(options.dir);
    try {
      return new DurableQueue(options, recoverQueue(options), lock);
    } catch (error: unknown) {
      releaseQueueLock(lock);
      if (error instanceof ConfigError) throw error;
      throw new ConfigError(`--otlp-queue-dir: cannot recover the queue in ${JSON.stringify(options.dir)}: ${getErrorMessage(error)}`, { cause: error });
    }
  }

  /** Records waiting (not yet done). */
  get records(): number {
    return this._records;
  }

  /** Bytes of the segment files. */
  get diskBytes(): number {
    return this._diskBytes;
  }

  /** Id of the last frame appended (0 when none). */
  get lastId(): number {
    return this._nextId - 1;
  }

  /**
   * Writes one serialized export request. Resolves once it is in the file (the page cache: it survives a crash
   * of the agent, and reaches the disk at the next sync), kept in memory after a failed write, or dropped and
   * counted. Never rejects.
   */
  append(payload: Uint8Array, records: number): Promise<void> {
    return this._files.run(async () => {
      if (this._closing !== undefined) return; // settled as shutdown by the sink
      try {
        await this._append(payload, records);
      } catch (error: unknown) {
        this._files.ioError('write', error);
        this._options.onDrop('queue_error', records);
      }
    });
  }

  /** The oldest frame not done, or undefined when the queue is empty. */
  head(): QueuedFrame | undefined {
    this._advanceHead();
    return this._frames[this._head];
  }

  /** Resolves at the next append, or at close. */
  whenAppended(): Promise<void> {
    if (this._closing !== undefined) return Promise.resolve();
    return new Promise((resolve) => this._appendWaiters.add(resolve));
  }

  /**
   * The payload of `frame`, from memory or from its segment (checksum verified). Undefined when the frame is no
   * longer waiting (dropped meanwhile) or could not be read; the latter is counted.
   */
  async load(frame: QueuedFrame): Promise<Uint8Array | undefined> {
    const f = frame as Frame;
    if (f.state === 'done') return undefined;
    if (f.bytes !== undefined) return f.bytes;
    if (f.sending !== undefined) return f.sending;
    return this._files.run(async () => {
      const segment = f.segment;
      if (f.state === 'done') return undefined;
      const held = f.bytes ?? f.sending;
      if (held !== undefined) return held;
      if (segment === undefined) {
        // Neither on disk nor in memory: cannot happen by construction; never leave the consumer spinning on it.
        this._finish(f, 'queue_error');
        return undefined;
      }
      try {
        const payload = await this._files.readFrame(segment, f.offset, f.length);
        if (payload !== undefined) return payload;
        this._options.metrics.corrupt.inc({ reason: 'checksum' });
        this._options.logger.warn('OTLP queue: a frame changed on disk since it was written; skipping it', { 'file.path': segment.path, 'file.offset': f.offset, 'otlp.records': f.records });
        this._finish(f, 'queue_corrupt');
      } catch (error: unknown) {
        this._files.ioError('read', error);
        this._finish(f, 'queue_error');
      }
      return undefined;
    });
  }

  /** The consumer is sending `frame` with this payload. */
  markSending(frame: QueuedFrame, payload: Uint8Array): void {
    const f = frame as Frame;
    if (f.state === 'done') return;
    f.state = 'sending';
    f.sending = payload;
  }

  /** Sending failed and will be tried again: the frame stays at the head. */
  release(frame: QueuedFrame): void {
    const f = frame as Frame;
    if (f.state !== 'sending') return;
    f.state = 'queued';
    if (f.segment !== undefined) f.sending = undefined;
  }

  /** The endpoint answered for `frame` (accepted, or rejected for good): it leaves the queue. */
  complete(frame: QueuedFrame): void {
    this._finish(frame as Frame, undefined);
  }

  /** Resolves true once every frame up to `id` is done, false after `timeoutMs`. */
  waitDone(id: number, timeoutMs: number): Promise<boolean> {
    const done = (): boolean => {
      const head = this.head();
      return head === undefined || head.id > id;
    };
    if (done()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const check = (): void => {
        if (!done()) return;
        finish(true);
      };
      const timer = setTimeout(() => finish(false), timeoutMs);
      timer.unref();
      const finish = (value: boolean): void => {
        clearTimeout(timer);
        this._doneWaiters.delete(check);
        resolve(value);
      };
      this._doneWaiters.add(check);
    });
  }

  /** Resolves once every file operation queued so far has run. */
  settled(): Promise<void> {
    return this._files.run(() => Promise.resolve());
  }

  /**
   * Syncs everything, records where sending stands, closes the files and releases the lock. Resolves with the
   * number of records left on disk for the next start. Idempotent.
   */
  close(): Promise<number> {
    this._closing ??= this._close();
    return this._closing;
  }

  private async _close(): Promise<number> {
    clearInterval(this._timer);
    for (const wake of [...this._appendWaiters]) wake();
    this._appendWaiters.clear();
    await this._files.run(async () => {
      const active = this._active;
      if (active !== undefined && active.live === 0) {
        // Everything in it was sent: leave no file behind for the next start to read.
        this._active = undefined;
        this._removeSegment(active);
        await this._files.delete(active);
      }
      await this._sync();
      await this._files.closeAll(this._segments);
    });
    releaseQueueLock(this._lockPath);
    let kept = 0;
    for (let i = this._head; i < this._frames.length; i++) {
      const f = this._frames[i] as Frame;
      if (f.state !== 'done' && f.onDisk && f.segment !== undefined) kept += f.records;
    }
    return kept;
  }

  // ---- appending ---------------------------------------------------------------------------------------------

  private async _append(payload: Uint8Array, records: number): Promise<void> {
    const frameBytes = FRAME_HEADER_BYTES + payload.byteLength;
    let segment = this._active;
    const rotate = segment === undefined || segment.broken || (segment.size + frameBytes > this._segmentBytes && segment.size > SEGMENT_HEADER_BYTES);
    if (rotate && segment !== undefined) await this._seal(segment);
    // Files dropped for room are gone before the new bytes land, so the directory never exceeds the bound.
    for (const dropped of this._makeRoom(frameBytes + (rotate ? SEGMENT_HEADER_BYTES : 0))) await this._files.delete(dropped);
    if (rotate) segment = await this._createSegment();
    if (segment !== undefined && this._diskBytes + frameBytes > this._options.maxBytes) {
      // Larger than the whole bound: nothing else could make room for it.
      this._options.onDrop('queue_overflow', records);
      return;
    }
    const offset = segment?.size ?? 0;
    if (segment !== undefined && (await this._files.append(segment, payload, records))) {
      this._diskBytes += frameBytes;
      const cached = this._cachedBytes + payload.byteLength <= this._cacheBytes;
      if (cached) this._cachedBytes += payload.byteLength;
      this._push(makeFrame(this._nextId++, records, payload.byteLength, segment, offset, true, cached ? payload : undefined, cached ? 'cache' : 'none'));
      return;
    }
    // Not written (disk full, I/O error): keep it in memory, bounded, so export goes on without durability.
    if (this._memoryBytes + payload.byteLength > this._cacheBytes) {
      this._options.onDrop('queue_error', records);
      return;
    }
    this._memoryBytes += payload.byteLength;
    this._push(makeFrame(this._nextId++, records, payload.byteLength, this._active, 0, false, payload, 'memory'));
  }

  private _push(frame: Frame): void {
    this._frames.push(frame);
    if (frame.segment !== undefined) frame.segment.live++;
    this._records += frame.records;
    this._publish();
    const waiters = [...this._appendWaiters];
    this._appendWaiters.clear();
    for (const wake of waiters) wake();
  }

  private async _createSegment(): Promise<Segment | undefined> {
    const segment = await this._files.create(this._nextSeq++);
    if (segment === undefined) return undefined;
    this._segments.push(segment);
    this._diskBytes += segment.size;
    this._dirDirty = true;
    this._active = segment;
    this._publish();
    return segment;
  }

  /** The active segment is full: sync it now (it will not be written again); delete it if nothing waits in it. */
  private async _seal(segment: Segment): Promise<void> {
    this._active = undefined;
    if (segment.live === 0) {
      this._removeSegment(segment);
      await this._files.delete(segment);
      return;
    }
    await this._files.syncData(segment);
  }

  /**
   * Drops the oldest sealed segments, their waiting records counted, until `frameBytes` more fit the bound.
   * Returns them for the caller to delete.
   */
  private _makeRoom(frameBytes: number): Segment[] {
    const removed: Segment[] = [];
    while (this._diskBytes + frameBytes > this._options.maxBytes) {
      const oldest = this._segments[0];
      if (oldest === undefined || oldest === this._active) break;
      let dropped = 0;
      for (let i = this._head; i < this._frames.length; i++) {
        const f = this._frames[i] as Frame;
        if (f.segment !== undefined && f.segment.seq > oldest.seq) break;
        if (f.segment !== oldest || f.state === 'done') continue;
        if (f.state === 'sending') {
          // Its send is under way: keep it (in memory) and let the answer decide.
          f.segment = undefined;
          f.onDisk = false;
          continue;
        }
        this._release(f);
        f.state = 'done';
        dropped += f.records;
      }
      this._records -= dropped;
      if (dropped > 0) this._options.onDrop('queue_overflow', dropped);
      this._removeSegment(oldest);
      removed.push(oldest);
      this._notifyDone();
    }
    return removed;
  }

  // ---- completing --------------------------------------------------------------------------------------------

  private _finish(f: Frame, dropReason: QueueDropReason | undefined): void {
    if (f.state === 'done') return;
    f.state = 'done';
    f.sending = undefined;
    this._release(f);
    this._records -= f.records;
    if (dropReason !== undefined) this._options.onDrop(dropReason, f.records);
    const segment = f.segment;
    if (segment !== undefined) {
      segment.live--;
      if (f.onDisk) {
        this._cursor = { seq: segment.seq, offset: f.offset + FRAME_HEADER_BYTES + f.length };
        this._cursorDirty = true;
      }
      if (segment.live === 0 && segment !== this._active) {
        this._removeSegment(segment);
        void this._files.run(() => this._files.delete(segment));
      }
    }
    this._publish();
    this._notifyDone();
  }

  private _release(f: Frame): void {
    if (f.held === 'cache') this._cachedBytes -= f.length;
    else if (f.held === 'memory') this._memoryBytes -= f.length;
    f.held = 'none';
    f.bytes = undefined;
  }

  private _advanceHead(): void {
    while (this._head < this._frames.length && (this._frames[this._head] as Frame).state === 'done') this._head++;
    // Compact now and then rather than shifting on every completion.
    if (this._head > 1024 && this._head * 2 > this._frames.length) {
      this._frames.splice(0, this._head);
      this._head = 0;
    }
  }

  private _notifyDone(): void {
    for (const check of [...this._doneWaiters]) check();
  }

  private _removeSegment(segment: Segment): void {
    const i = this._segments.indexOf(segment);
    if (i < 0) return;
    this._segments.splice(i, 1);
    this._diskBytes -= segment.size;
    this._dirDirty = true;
    this._publish();
  }

  // ---- syncing -----------------------------------------------------------------------------------------------

  private _scheduleSync(): void {
    if (this._syncQueued || this._closing !== undefined) return;
    this._syncQueued = true;
    void this._files.run(async () => {
      this._syncQueued = false;
      await this._sync();
    });
  }

  /** Active segment data, then the cursor, then the directory entries of created and deleted segments. */
  private async _sync(): Promise<void> {
    if (this._active !== undefined) await this._files.syncData(this._active);
    if (this._cursorDirty && this._cursor !== undefined) {
      this._cursorDirty = false;
      await this._files.writeCursor(this._cursor);
    }
    if (this._dirDirty) {
      this._dirDirty = false;
      await this._files.syncDirectory();
    }
  }

  // ---- plumbing ----------------------------------------------------------------------------------------------

  private _publish(): void {
    this._options.metrics.records.set(this._records);
    this._options.metrics.bytes.set(this._diskBytes);
  }
}
