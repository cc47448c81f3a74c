// receiver/src/otel/queue-recovery.ts
// Start-up of the durable OTLP queue: what an earlier agent left in the directory, torn and corrupt parts skipped.

import { readdirSync, readFileSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, getErrorMessage } from '../errors.js';
import type { Logger } from '../logger.js';
import type { DurableQueueMetrics } from './durable-queue-metrics.js';
import { checkSegmentHeader, CURSOR_FILE_NAME, decodeCursor, parseSegmentFileName, scanSegment, SEGMENT_HEADER_BYTES, segmentFileName } from './queue-segment-format.js';
import type { QueueCursor, ScannedFrame } from './queue-segment-format.js';

/** A segment file with intact frames left to send. */
export interface RecoveredSegment {
  readonly seq: number;
  readonly path: string;
  /** File size in bytes. */
  readonly size: number;
  /** Its intact frames from the cursor on, in file order. */
  readonly frames: readonly ScannedFrame[];
}

/** What recovery found: segments with their intact frames after the cursor, and the next sequence number. */
export interface RecoveredQueue {
  readonly cursor: QueueCursor | undefined;
  readonly segments: readonly RecoveredSegment[];
  readonly nextSeq: number;
  /** Records found, intact or not. */
  readonly records: number;
}

/** Where to recover from and what to report to. */
export interface QueueRecoveryOptions {
  readonly dir: string;
  readonly metrics: DurableQueueMetrics;
  readonly logger: Logger;
  /** Records of frames found torn or corrupt (their header was intact, so their count is known). */
  readonly onDrop: (reason: 'queue_corrupt', records: number) => void;
}

/**
 * Reads every segment from the cursor on (synchronously: the agent is starting), deletes consumed and empty
 * ones, and counts and skips torn and corrupt regions. Throws ConfigError for a directory it cannot read or a
 * segment of another format version; other file errors propagate.
 */
export function recoverQueue(options: QueueRecoveryOptions): RecoveredQueue {
  const { dir, metrics, logger } = options;
  let names: string[];
  let cursorData: Buffer;
  try {
    names = readdirSync(dir);
    cursorData = names.includes(CURSOR_FILE_NAME) ? readFileSync(join(dir, CURSOR_FILE_NAME)) : Buffer.alloc(0);
  } catch (error: unknown) {
    throw new ConfigError(`--otlp-queue-dir: cannot read ${JSON.stringify(dir)}: ${getErrorMessage(error)}`, { cause: error });
  }
  const cursor = decodeCursor(cursorData);
  const seqs = names.map(parseSegmentFileName).filter((seq): seq is number => seq !== undefined).sort((a, b) => a - b);
  const segments: RecoveredSegment[] = [];
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
    segments.push({ seq, path, size: data.length, frames });
  }
  metrics.recovered.inc({}, found + corruptRecords);
  if (corruptRecords > 0) options.onDrop('queue_corrupt', corruptRecords);
  const lastSeq = Math.max(seqs.at(-1) ?? 0, cursor?.seq ?? 0);
  return { cursor, segments, nextSeq: lastSeq + 1, records: found + corruptRecords };
}
