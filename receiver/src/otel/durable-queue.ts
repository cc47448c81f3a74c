// receiver/src/otel/durable-queue.ts
// A bounded on-disk FIFO of serialized OTLP export requests: segment files, a cursor, crash recovery, a lock.

// Frames are appended to the active segment; a single consumer takes them oldest first and completes each once
// the endpoint answered. A segment file is deleted when all its frames are done, or as a whole when the size
// bound needs room (its waiting records counted as queue_overflow). Every file operation runs on one serial
// chain, so appends, reads, deletions and syncs never overlap; bookkeeping is synchronous and in memory.

import { mkdirSync, readdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { open, unlink } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError, getErrorCode, getErrorMessage } from '../errors.js';
import type { Logger } from '../logger.js';
import type { DurableQueueMetrics, QueueIoOperation } from './durable-queue-metrics.js';
import {
  checkSegmentHeader,
  CURSOR_BYTES,
  decodeCursor,
  decodeFrameHeader,
  encodeCursor,
  encodeFrameHeader,
  encodeSegmentHeader,
  FRAME_HEADER_BYTES,
  parseSegmentFileName,
  payloadMatches,
  scanSegment,
  SEGMENT_HEADER_BYTES,
  segmentFileName,
} from './queue-segment-format.js';
import type { QueueCursor } from './queue-segment-format.js';

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

interface Segment {
  readonly seq: number;
  readonly path: string;
  /** Bytes in the file, which is also where the next frame goes. */
  size: number;
  /** Frames assigned to this segment and not done. */
  live: number;
  handle: FileHandle | undefined;
  /** Written since its last sync. */
  dirty: boolean;
  /** A write failed; no more appends go here. */
  broken: boolean;
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
const LOCK_FILE = 'lock';
const CURSOR_FILE = 'cursor';

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
  private _cursorHandle: FileHandle | undefined;
  private _dirDirty = false;
  private _io: Promise<void> = Promise.resolve();
  private _syncQueued = false;
  private readonly _timer: NodeJS.Timeout;
  private readonly _appendWaiters = new Set<() => void>();
  private readonly _doneWaiters = new Set<() => void>();
  private _closing: Promise<number> | undefined;

  private constructor(options: DurableQueueOptions, recovered: Recovered) {
    this._options = options;
    this.dir = options.dir;
    this._segmentBytes = options.segmentBytes ?? defaultSegmentBytes(options.maxBytes);
    this._cacheBytes = options.cacheBytes ?? DEFAULT_CACHE_BYTES;
    this.maxPayloadBytes = this._segmentBytes - SEGMENT_HEADER_BYTES - FRAME_HEADER_BYTES;
    this._cursor = recovered.cursor;
    this._nextSeq = recovered.nextSeq;
    for (const { segment, frames } of recovered.segments) {
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
    for (const dropped of this._makeRoom(0)) void this._enqueueIo(() => this._deleteFile(dropped));
    this._publish();
    this._timer = setInterval(() => this._scheduleSync(), options.syncIntervalMs ?? DEFAULT_SYNC_INTERVAL_MS);
    this._timer.unref();
  }

  /**
   * Creates the directory if needed, locks it, and recovers what it holds (synchronously: at most the size bound
   * is read once). Throws ConfigError naming the directory when it cannot be used.
   */
  static open(options: DurableQueueOptions): DurableQueue {
    const lock = acquireLock(options.dir);
    try {
      return new DurableQueue(options, recover(options));
    } catch (error: unknown) {
      releaseLock(lock);
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
    return this._enqueueIo(async () => {
      if (this._closing !== undefined) return; // settled as shutdown by the sink
      try {
        await this._append(payload, records);
      } catch (error: unknown) {
        this._ioError('write', error);
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
    return this._enqueueIo(async () => {
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
        segment.handle ??= await open(segment.path, 'r');
        const data = Buffer.allocUnsafe(FRAME_HEADER_BYTES + f.length);
        const { bytesRead } = await segment.handle.read(data, 0, data.length, f.offset);
        const header = decodeFrameHeader(data, 0);
        const payload = data.subarray(FRAME_HEADER_BYTES);
        if (bytesRead === data.length && header !== undefined && payloadMatches(header, payload)) return payload;
        this._options.metrics.corrupt.inc({ reason: 'checksum' });
        this._options.logger.warn('OTLP queue: a frame changed on disk since it was written; skipping it', { 'file.path': segment.path, 'file.offset': f.offset, 'otlp.records': f.records });
        this._finish(f, 'queue_corrupt');
      } catch (error: unknown) {
        this._ioError('read', error);
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
    return this._enqueueIo(() => Promise.resolve());
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
    await this._enqueueIo(async () => {
      const active = this._active;
      if (active !== undefined && active.live === 0) {
        // Everything in it was sent: leave no file behind for the next start to read.
        this._active = undefined;
        this._removeSegment(active);
        await this._deleteFile(active);
      }
      await this._sync();
      const handles = [...this._segments.map((s) => s.handle), this._cursorHandle];
      for (const handle of handles) await handle?.close().catch(() => {});
      for (const segment of this._segments) segment.handle = undefined;
      this._cursorHandle = undefined;
    });
    releaseLock(join(this.dir, LOCK_FILE));
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
    for (const dropped of this._makeRoom(frameBytes + (rotate ? SEGMENT_HEADER_BYTES : 0))) await this._deleteFile(dropped);
    if (rotate) segment = await this._createSegment();
    if (segment !== undefined && this._diskBytes + frameBytes > this._options.maxBytes) {
      // Larger than the whole bound: nothing else could make room for it.
      this._options.onDrop('queue_overflow', records);
      return;
    }
    if (segment?.handle !== undefined) {
      const offset = segment.size;
      try {
        const header = encodeFrameHeader(payload, records);
        const { bytesWritten } = await segment.handle.writev([header, payload], offset);
        if (bytesWritten !== frameBytes) throw new Error(`short write: ${bytesWritten} of ${frameBytes} bytes`);
        segment.size += frameBytes;
        segment.dirty = true;
        this._diskBytes += frameBytes;
        const cached = this._cachedBytes + payload.byteLength <= this._cacheBytes;
        if (cached) this._cachedBytes += payload.byteLength;
        this._push(makeFrame(this._nextId++, records, payload.byteLength, segment, offset, true, cached ? payload : undefined, cached ? 'cache' : 'none'));
        return;
      } catch (error: unknown) {
        this._ioError('write', error);
        segment.broken = true;
        // Cut a partly written frame off, so the file ends at the last whole frame.
        await segment.handle?.truncate(offset).catch(() => {});
      }
    }
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
    const seq = this._nextSeq++;
    const path = join(this.dir, segmentFileName(seq));
    let handle: FileHandle | undefined;
    try {
      handle = await open(path, 'wx+', 0o600);
      const header = encodeSegmentHeader();
      await handle.write(header, 0, header.length, 0);
    } catch (error: unknown) {
      this._ioError('open', error);
      await handle?.close().catch(() => {});
      await unlink(path).catch(() => {});
      return undefined;
    }
    const segment: Segment = { seq, path, size: SEGMENT_HEADER_BYTES, live: 0, handle, dirty: true, broken: false };
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
      await this._deleteFile(segment);
      return;
    }
    if (segment.dirty) {
      segment.dirty = false;
      await segment.handle?.datasync().catch((error: unknown) => this._ioError('sync', error));
    }
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
        void this._enqueueIo(() => this._deleteFile(segment));
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

  private async _deleteFile(segment: Segment): Promise<void> {
    await segment.handle?.close().catch(() => {});
    segment.handle = undefined;
    await unlink(segment.path).catch((error: unknown) => {
      if (getErrorCode(error) !== 'ENOENT') this._ioError('delete', error);
    });
  }

  // ---- syncing -----------------------------------------------------------------------------------------------

  private _scheduleSync(): void {
    if (this._syncQueued || this._closing !== undefined) return;
    this._syncQueued = true;
    void this._enqueueIo(async () => {
      this._syncQueued = false;
      await this._sync();
    });
  }

  /** Active segment data, then the cursor, then the directory entries of created and deleted segments. */
  private async _sync(): Promise<void> {
    const active = this._active;
    if (active?.dirty === true && active.handle !== undefined) {
      active.dirty = false;
      await active.handle.datasync().catch((error: unknown) => this._ioError('sync', error));
    }
    if (this._cursorDirty && this._cursor !== undefined) {
      this._cursorDirty = false;
      try {
        this._cursorHandle ??= await openCursor(join(this.dir, CURSOR_FILE));
        await this._cursorHandle.write(encodeCursor(this._cursor), 0, CURSOR_BYTES, 0);
        await this._cursorHandle.datasync();
      } catch (error: unknown) {
        this._ioError('cursor', error);
      }
    }
    if (this._dirDirty) {
      this._dirDirty = false;
      let dir: FileHandle | undefined;
      try {
        dir = await open(this.dir, 'r');
        await dir.sync();
      } catch (error: unknown) {
        this._ioError('sync', error);
      } finally {
        await dir?.close().catch(() => {});
      }
    }
  }

  // ---- plumbing ----------------------------------------------------------------------------------------------

  private _enqueueIo<T>(operation: () => Promise<T>): Promise<T> {
    const result = this._io.then(operation);
    this._io = result.then(
      () => {},
      () => {},
    );
    return result;
  }

  private _ioError(op: QueueIoOperation, error: unknown): void {
    this._options.metrics.ioErrors.inc({ op });
    this._options.logger.warn('OTLP queue: file operation failed', { 'otel.queue_op': op, 'error.message': getErrorMessage(error), 'file.directory': this.dir });
  }

  private _publish(): void {
    this._options.metrics.records.set(this._records);
    this._options.metrics.bytes.set(this._diskBytes);
  }
}

/** What recovery found: segments with their intact frames after the cursor, and the next sequence number. */
interface Recovered {
  readonly cursor: QueueCursor | undefined;
  readonly segments: { segment: Segment; frames: { offset: number; length: number; records: number }[] }[];
  readonly nextSeq: number;
  /** Records found, intact or not. */
  readonly records: number;
}

/** Reads every segment after the cursor; deletes consumed and empty ones; counts and skips corrupt regions. */
function recover(options: DurableQueueOptions): Recovered {
  const { dir, metrics, logger } = options;
  let names: string[];
  let cursorData: Buffer;
  try {
    names = readdirSync(dir);
    cursorData = names.includes(CURSOR_FILE) ? readFileSync(join(dir, CURSOR_FILE)) : Buffer.alloc(0);
  } catch (error: unknown) {
    throw new ConfigError(`--otlp-queue-dir: cannot read ${JSON.stringify(dir)}: ${getErrorMessage(error)}`, { cause: error });
  }
  const cursor = decodeCursor(cursorData);
  const seqs = names.map(parseSegmentFileName).filter((seq): seq is number => seq !== undefined).sort((a, b) => a - b);
  const segments: Recovered['segments'] = [];
  let corruptRecords = 0;
  let found = 0;
  for (const seq of seqs) {
    const path = join(dir, segmentFileName(seq));
    if (cursor !== undefined && seq < cursor.seq) {
      unlinkSync(path); // consumed before the last run ended
      continue;
    }
    const data = readFileSync(path);
    const header = checkSegmentHeader(data);
    if (header === 'foreign') {
      throw new ConfigError(`--otlp-queue-dir: ${JSON.stringify(path)} was written by another version of the queue format; move it away or use another directory`);
    }
    if (header === 'bad') {
      if (data.length > 0) {
        metrics.corrupt.inc({ reason: 'torn' });
        logger.warn('OTLP queue: skipping a segment without a valid header', { 'file.path': path, 'file.size': data.length });
      }
      unlinkSync(path);
      continue;
    }
    const start = cursor?.seq === seq ? Math.max(SEGMENT_HEADER_BYTES, cursor.offset) : SEGMENT_HEADER_BYTES;
    const { frames, corrupt } = scanSegment(data, start);
    for (const region of corrupt) {
      metrics.corrupt.inc({ reason: region.reason });
      corruptRecords += region.records ?? 0;
      logger.warn('OTLP queue: skipping a torn or corrupt part of a segment', {
        'file.path': path,
        'file.offset': region.offset,
        'otel.skipped_bytes': region.bytes,
        'otel.corrupt_reason': region.reason,
        ...(region.records === undefined ? {} : { 'otlp.records': region.records }),
      });
    }
    if (frames.length === 0) {
      unlinkSync(path);
      continue;
    }
    for (const frame of frames) found += frame.records;
    const segment: Segment = { seq, path, size: data.length, live: frames.length, handle: undefined, dirty: false, broken: true };
    segments.push({ segment, frames });
  }
  metrics.recovered.inc({}, found + corruptRecords);
  if (corruptRecords > 0) options.onDrop('queue_corrupt', corruptRecords);
  const lastSeq = Math.max(seqs.at(-1) ?? 0, cursor?.seq ?? 0);
  return { cursor, segments, nextSeq: lastSeq + 1, records: found + corruptRecords };
}

async function openCursor(path: string): Promise<FileHandle> {
  try {
    return await open(path, 'r+');
  } catch (error: unknown) {
    if (getErrorCode(error) !== 'ENOENT') throw error;
    return open(path, 'w+', 0o600);
  }
}

/**
 * Takes `<dir>/lock`, creating the directory first. The lock holds our pid and the process's start time (from
 * /proc), so a lock left by an agent that is gone is taken over even when its pid now names another process
 * (after a container restart, pids repeat). A lock naming this very process is ours already.
 */
function acquireLock(dir: string): string {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (error: unknown) {
    throw new ConfigError(`--otlp-queue-dir: cannot create ${JSON.stringify(dir)}: ${getErrorMessage(error)}`, { cause: error });
  }
  const path = join(dir, LOCK_FILE);
  const self = `${process.pid} ${processStartTime(process.pid) ?? ''}`.trim();
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      writeFileSync(path, `${self}\n`, { flag: 'wx', mode: 0o600 });
      return path;
    } catch (error: unknown) {
      if (getErrorCode(error) !== 'EEXIST') {
        throw new ConfigError(`--otlp-queue-dir: cannot write to ${JSON.stringify(dir)}: ${getErrorMessage(error)}`, { cause: error });
      }
    }
    let owner = '';
    try {
      owner = readFileSync(path, 'utf8').trim();
    } catch {
      // Removed meanwhile: try again.
    }
    const [pidText = '', startTime] = owner.split(' ');
    const pid = Number(pidText);
    if (Number.isSafeInteger(pid) && pid > 0 && pid !== process.pid && isAlive(pid, startTime)) {
      throw new ConfigError(`--otlp-queue-dir: ${JSON.stringify(dir)} is in use by process ${pid} (lock file ${path})`);
    }
    try {
      unlinkSync(path);
    } catch {
      // Someone else removed it; the next attempt decides.
    }
  }
  throw new ConfigError(`--otlp-queue-dir: could not take the lock ${JSON.stringify(path)}`);
}

function releaseLock(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // Already gone: nothing to release.
  }
}

/** True when `pid` runs and, if the lock recorded one, started at `startTime`. */
function isAlive(pid: number, startTime: string | undefined): boolean {
  try {
    process.kill(pid, 0);
  } catch (error: unknown) {
    if (getErrorCode(error) !== 'EPERM') return false;
  }
  if (startTime === undefined) return true;
  const current = processStartTime(pid);
  return current === undefined || current === startTime;
}

/** Field 22 of /proc/<pid>/stat: when the process started, in clock ticks since boot. */
function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}
