// receiver/src/otel/queue-segment-format.ts
// On-disk layout of the durable OTLP queue: segment files of checksummed frames, and the cursor file.

// A segment file starts with an 8-byte header (magic "ESQ1", format version), then frames. A frame is a 20-byte
// header followed by one serialized ExportLogsServiceRequest (the exact bytes sent over gRPC). The header's own
// checksum makes its length and record count trustworthy, so a frame with a bad payload is skipped exactly and
// its records counted; a bad header is skipped by searching for the next valid one. All integers little-endian.

import { crc32 } from 'node:zlib';

/** "ESQ1" as a little-endian u32. */
const SEGMENT_MAGIC = 0x31515345;
/** Bumped on any incompatible change; segments of another version are left alone and reported. */
export const QUEUE_FORMAT_VERSION = 1;
/** magic u32, version u32. */
export const SEGMENT_HEADER_BYTES = 8;

/** "ESFR" as a little-endian u32. */
const FRAME_MAGIC = 0x52465345;
const FRAME_MAGIC_BYTES = Buffer.from([0x45, 0x53, 0x46, 0x52]);
/** magic u32, payload length u32, record count u32, payload crc32 u32, crc32 of the 16 bytes before. */
export const FRAME_HEADER_BYTES = 20;

/** Name of the cursor file in the queue directory. */
export const CURSOR_FILE_NAME = 'cursor';

/** "ESCU" as a little-endian u32. */
const CURSOR_MAGIC = 0x55435345;
/** magic u32, version u32, segment sequence u64, offset u32, crc32 of the 20 bytes before. */
export const CURSOR_BYTES = 24;

/** File names: `00000000000000000001.seg`, so that a name sort is a sequence sort. */
const SEGMENT_NAME = /^(\d{20})\.seg$/;

/** The file name of segment `seq`. */
export function segmentFileName(seq: number): string {
  return `${String(seq).padStart(20, '0')}.seg`;
}

/** The sequence number of a segment file name, or undefined for any other file. */
export function parseSegmentFileName(name: string): number | undefined {
  const m = SEGMENT_NAME.exec(name);
  if (m === null) return undefined;
  const seq = Number(m[1]);
  return Number.isSafeInteger(seq) ? seq : undefined;
}

/** The 8 bytes every segment file starts with. */
export function encodeSegmentHeader(): Buffer {
  const header = Buffer.alloc(SEGMENT_HEADER_BYTES);
  header.writeUInt32LE(SEGMENT_MAGIC, 0);
  header.writeUInt32LE(QUEUE_FORMAT_VERSION, 4);
  return header;
}

/** `ok`, `foreign` (another version: not ours to read or delete) or `bad` (torn or garbage). */
export function checkSegmentHeader(data: Buffer): 'ok' | 'foreign' | 'bad' {
  if (data.length < SEGMENT_HEADER_BYTES || data.readUInt32LE(0) !== SEGMENT_MAGIC) return 'bad';
  return data.readUInt32LE(4) === QUEUE_FORMAT_VERSION ? 'ok' : 'foreign';
}

/** The header that precedes `payload` in a segment. */
export function encodeFrameHeader(payload: Uint8Array, records: number): Buffer {
  const header = Buffer.allocUnsafe(FRAME_HEADER_BYTES);
  header.writeUInt32LE(FRAME_MAGIC, 0);
  header.writeUInt32LE(payload.byteLength, 4);
  header.writeUInt32LE(records, 8);
  header.writeUInt32LE(crc32(payload), 12);
  header.writeUInt32LE(crc32(header.subarray(0, 16)), 16);
  return header;
}

/** A decoded frame header, trusted only because its checksum matched. */
export interface FrameHeader {
  readonly length: number;
  readonly records: number;
  readonly payloadCrc: number;
}

/** The frame header at `offset`, or undefined when the bytes there are not a valid one. */
export function decodeFrameHeader(data: Buffer, offset: number): FrameHeader | undefined {
  if (offset + FRAME_HEADER_BYTES > data.length || data.readUInt32LE(offset) !== FRAME_MAGIC) return undefined;
  if (crc32(data.subarray(offset, offset + 16)) !== data.readUInt32LE(offset + 16)) return undefined;
  return { length: data.readUInt32LE(offset + 4), records: data.readUInt32LE(offset + 8), payloadCrc: data.readUInt32LE(offset + 12) };
}

/** True when `payload` is what the header's checksum describes. */
export function payloadMatches(header: FrameHeader, payload: Uint8Array): boolean {
  return payload.byteLength === header.length && crc32(payload) === header.payloadCrc;
}

/** A frame found intact by scanSegment. `offset` is where its header starts. */
export interface ScannedFrame {
  readonly offset: number;
  readonly length: number;
  readonly records: number;
}

/**
 * Bytes scanSegment skipped. `torn`: the file ends inside this frame (a write cut short by a crash);
 * `checksum`: a frame whose payload does not match its header; `garbage`: bytes that are no frame header, up to
 * the next valid one. `records` is known when the frame's header was intact.
 */
export interface CorruptRegion {
  readonly offset: number;
  readonly bytes: number;
  readonly reason: 'torn' | 'checksum' | 'garbage';
  readonly records?: number;
}

/** Walks the frames of a whole segment file from `start`; never throws on bad data. */
export function scanSegment(data: Buffer, start: number): { frames: ScannedFrame[]; corrupt: CorruptRegion[] } {
  const frames: ScannedFrame[] = [];
  const corrupt: CorruptRegion[] = [];
  let pos = start;
  while (pos < data.length) {
    const header = decodeFrameHeader(data, pos);
    if (header === undefined) {
      const next = findFrameHeader(data, pos + 1);
      const end = next ?? data.length;
      corrupt.push({ offset: pos, bytes: end - pos, reason: next === undefined ? 'torn' : 'garbage' });
      pos = end;
      continue;
    }
    const end = pos + FRAME_HEADER_BYTES + header.length;
    if (end > data.length) {
      corrupt.push({ offset: pos, bytes: data.length - pos, reason: 'torn', records: header.records });
      break;
    }
    if (!payloadMatches(header, data.subarray(pos + FRAME_HEADER_BYTES, end))) {
      corrupt.push({ offset: pos, bytes: end - pos, reason: 'checksum', records: header.records });
    } else {
      frames.push({ offset: pos, length: header.length, records: header.records });
    }
    pos = end;
  }
  return { frames, corrupt };
}

/** The offset of the next valid frame header at or after `from`. */
function findFrameHeader(data: Buffer, from: number): number | undefined {
  let pos = data.indexOf(FRAME_MAGIC_BYTES, from);
  while (pos >= 0) {
    if (decodeFrameHeader(data, pos) !== undefined) return pos;
    pos = data.indexOf(FRAME_MAGIC_BYTES, pos + 1);
  }
  return undefined;
}

/** Where sending stands: every frame before `offset` in segment `seq`, and every older segment, is done. */
export interface QueueCursor {
  readonly seq: number;
  readonly offset: number;
}

/** The cursor file's content. */
export function encodeCursor(cursor: QueueCursor): Buffer {
  const out = Buffer.alloc(CURSOR_BYTES);
  out.writeUInt32LE(CURSOR_MAGIC, 0);
  out.writeUInt32LE(QUEUE_FORMAT_VERSION, 4);
  out.writeBigUInt64LE(BigInt(cursor.seq), 8);
  out.writeUInt32LE(cursor.offset, 16);
  out.writeUInt32LE(crc32(out.subarray(0, 20)), 20);
  return out;
}

/** The cursor in `data`, or undefined when it is missing, torn or of another version. */
export function decodeCursor(data: Buffer): QueueCursor | undefined {
  if (data.length < CURSOR_BYTES || data.readUInt32LE(0) !== CURSOR_MAGIC || data.readUInt32LE(4) !== QUEUE_FORMAT_VERSION) return undefined;
  if (crc32(data.subarray(0, 20)) !== data.readUInt32LE(20)) return undefined;
  const seq = Number(data.readBigUInt64LE(8));
  return Number.isSafeInteger(seq) ? { seq, offset: data.readUInt32LE(16) } : undefined;
}
