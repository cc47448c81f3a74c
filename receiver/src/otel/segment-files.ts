// receiver/src/otel/segment-files.ts
// File operations of the durable OTLP queue on one serial chain: segments created, appended, read, synced, deleted.

import { open, unlink } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { getErrorCode, getErrorMessage } from '../errors.js';
import type { Logger } from '../logger.js';
import type { DurableQueueMetrics, QueueIoOperation } from './durable-queue-metrics.js';
import {
  CURSOR_BYTES,
  CURSOR_FILE_NAME,
  decodeFrameHeader,
  encodeCursor,
  encodeFrameHeader,
  encodeSegmentHeader,
  FRAME_HEADER_BYTES,
  payloadMatches,
  SEGMENT_HEADER_BYTES,
  segmentFileName,
} from './queue-segment-format.js';
import type { QueueCursor } from './queue-segment-format.js';

/** One segment file and what the queue knows about it. */
export interface SegmentFile {
  readonly seq: number;
  readonly path: string;
  /** Bytes in the file, which is also where the next frame goes. */
  size: number;
  /** Frames assigned to this segment and not done (kept by the queue). */
  live: number;
  /** Open once written or read; closed when deleted or at close. */
  handle: FileHandle | undefined;
  /** Written since its last sync. */
  dirty: boolean;
  /** Not to be appended to: recovered from an earlier run, or a write to it failed. */
  broken: boolean;
}

/**
 * The queue directory's files. Every operation that touches them runs through `run()`, one at a time, so a
 * read never meets a half-deleted file and syncs never race a rotation. Failures are counted and logged here.
 */
export class SegmentFiles {
  private _chain: Promise<void> = Promise.resolve();
  private _cursorHandle: FileHandle | undefined;

  constructor(
    readonly dir: string,
    private readonly _metrics: DurableQueueMetrics,
    private readonly _logger: Logger,
  ) {}

  /** Runs `operation` after every operation queued before it. The methods below assume they run inside. */
  run<T>(operation: () => Promise<T>): Promise<T> {
    const result = this._chain.then(operation);
    this._chain = result.then(
      () => {},
      () => {},
    );
    return result;
  }

  /** Creates segment `seq` with its header; undefined (counted) when that fails. */
  async create(seq: number): Promise<SegmentFile | undefined> {
    const path = join(this.dir, segmentFileName(seq));
    let handle: FileHandle | undefined;
    try {
      handle = await open(path, 'wx+', 0o600);
      const header = encodeSegmentHeader();
      await handle.write(header, 0, header.length, 0);
    } catch (error: unknown) {
      this.ioError('open', error);
      await handle?.close().catch(() => {});
      await unlink(path).catch(() => {});
      return undefined;
    }
    return { seq, path, size: SEGMENT_HEADER_BYTES, live: 0, handle, dirty: true, broken: false };
  }

  /**
   * Writes a frame at the end of `segment` with one pwritev. On failure (counted), cuts a partly written frame
   * off, marks the segment broken and returns false.
   */
  async append(segment: SegmentFile, payload: Uint8Array, records: number): Promise<boolean> {
    const offset = segment.size;
    const frameBytes = FRAME_HEADER_BYTES + payload.byteLength;
    try {
      if (segment.handle === undefined) throw new Error('segment not open for writing');
      const { bytesWritten } = await segment.handle.writev([encodeFrameHeader(payload, records), payload], offset);
      if (bytesWritten !== frameBytes) throw new Error(`short write: ${bytesWritten} of ${frameBytes} bytes`);
    } catch (error: unknown) {
      this.ioError('write', error);
      segment.broken = true;
      await segment.handle?.truncate(offset).catch(() => {});
      return false;
    }
    segment.size += frameBytes;
    segment.dirty = true;
    return true;
  }

  /** The payload of the frame at `offset`, or undefined when it no longer matches its checksum. Throws on I/O errors. */
  async readFrame(segment: SegmentFile, offset: number, length: number): Promise<Uint8Array | undefined> {
    segment.handle ??= await open(segment.path, 'r');
    const data = Buffer.allocUnsafe(FRAME_HEADER_BYTES + length);
    const { bytesRead } = await segment.handle.read(data, 0, data.length, offset);
    const header = decodeFrameHeader(data, 0);
    const payload = data.subarray(FRAME_HEADER_BYTES);
    return bytesRead === data.length && header !== undefined && payloadMatches(header, payload) ? payload : undefined;
  }

  /** fdatasync, when the segment was written since the last one. */
  async syncData(segment: SegmentFile): Promise<void> {
    if (!segment.dirty || segment.handle === undefined) return;
    segment.dirty = false;
    await segment.handle.datasync().catch((error: unknown) => this.ioError('sync', error));
  }

  /** Closes and unlinks a segment file. */
  async delete(segment: SegmentFile): Promise<void> {
    await segment.handle?.close().catch(() => {});
    segment.handle = undefined;
    await unlink(segment.path).catch((error: unknown) => {
      if (getErrorCode(error) !== 'ENOENT') this.ioError('delete', error);
    });
  }

  /** Rewrites the cursor file in place and syncs it. */
  async writeCursor(cursor: QueueCursor): Promise<void> {
    try {
      this._cursorHandle ??= await openInPlace(join(this.dir, CURSOR_FILE_NAME));
      await this._cursorHandle.write(encodeCursor(cursor), 0, CURSOR_BYTES, 0);
      await this._cursorHandle.datasync();
    } catch (error: unknown) {
      this.ioError('cursor', error);
    }
  }

  /** fsync of the directory, so that created and deleted segment names survive a power loss. */
  async syncDirectory(): Promise<void> {
    let dir: FileHandle | undefined;
    try {
      dir = await open(this.dir, 'r');
      await dir.sync();
    } catch (error: unknown) {
      this.ioError('sync', error);
    } finally {
      await dir?.close().catch(() => {});
    }
  }

  /** Closes every handle (the queue is closing). */
  async closeAll(segments: readonly SegmentFile[]): Promise<void> {
    for (const segment of segments) {
      await segment.handle?.close().catch(() => {});
      segment.handle = undefined;
    }
    await this._cursorHandle?.close().catch(() => {});
    this._cursorHandle = undefined;
  }

  /** Counts and logs a failed file operation. */
  ioError(op: QueueIoOperation, error: unknown): void {
    this._metrics.ioErrors.inc({ op });
    this._logger.warn('OTLP queue: file operation failed', { 'otel.queue_op': op, 'error.message': getErrorMessage(error), 'file.directory': this.dir });
  }
}

/** Opens for rewrites at a position (O_APPEND would ignore it), creating the file if needed. */
async function openInPlace(path: string): Promise<FileHandle> {
  try {
    return await open(path, 'r+');
  } catch (error: unknown) {
    if (getErrorCode(error) !== 'ENOENT') throw error;
    return open(path, 'w+', 0o600);
  }
}
