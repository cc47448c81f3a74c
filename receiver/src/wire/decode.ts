// receiver/src/wire/decode.ts
// Walks one batch from the addon ([record][pad to 8]…) and turns each record into a KernelRecord.

import { RecordDecodeError } from '../errors.js';
import { EXEC, EXIT, FORK, HEADER, KIND, RECORD_VERSION } from './layout.js';
import type { ExecRecord, KernelRecord } from './records.js';

export interface DecodeStats {
  records: number;
  errors: number;
  /** Records missing according to the per-CPU sequence numbers (lost anywhere before this point). */
  sequenceGaps: number;
}

/** Decodes batches, tracking per-CPU sequence numbers across batches to detect loss no counter saw. */
export class BatchDecoder {
  readonly stats: DecodeStats = { records: 0, errors: 0, sequenceGaps: 0 };
  private readonly _lastSeq = new Map<number, number>();

  constructor(private readonly _onError: (error: RecordDecodeError) => void = () => {}) {}

  /** Calls `emit` for every well-formed record; never throws out of the loop. */
  decode(batch: Buffer, emit: (record: KernelRecord) => void): void {
    let off = 0;
    while (off + HEADER.SIZE <= batch.length) {
      const kind = batch.readUInt8(off + HEADER.kind);
      const size = batch.readUInt32LE(off + HEADER.size);
      if (size < HEADER.SIZE || off + size > batch.length) {
        this._fail(new RecordDecodeError(`record size ${size} does not fit the batch (${batch.length - off} bytes left)`, kind, off));
        return; // the rest of the batch cannot be framed
      }
      const record = this._decodeOne(batch, off, kind, size);
      if (record !== undefined) {
        this._trackSequence(record.cpu, record.seq);
        this.stats.records++;
        emit(record);
      }
      off += (size + 7) & ~7;
    }
  }

  private _trackSequence(cpu: number, seq: number): void {
    // Each sensor starts with zeroed counters, so a CPU's first record is seq 1: anything before it was lost.
    const last = this._lastSeq.get(cpu) ?? 0;
    if (seq > last + 1) this.stats.sequenceGaps += seq - last - 1;
    if (seq > last) this._lastSeq.set(cpu, seq);
  }

  private _decodeOne(b: Buffer, off: number, kind: number, size: number): KernelRecord | undefined {
    const version = b.readUInt8(off + HEADER.version);
    if (version !== RECORD_VERSION) {
      this._fail(new RecordDecodeError(`record version ${version}, expected ${RECORD_VERSION}`, kind, off));
      return undefined;
    }
    const cpu = b.readUInt16LE(off + HEADER.cpu);
    const ktime = b.readBigUInt64LE(off + HEADER.ktime);
    // Sequence numbers stay far below 2^53 (one per record per CPU): two u32 reads avoid a BigInt.
    const seq = b.readUInt32LE(off + HEADER.seq) + b.readUInt32LE(off + HEADER.seq + 4) * 0x1_0000_0000;
    switch (kind) {
      case KIND.EXEC:
        return size < EXEC.SIZE ? this._short(kind, off, size, EXEC.SIZE) : decodeExec(b, off, size, cpu, seq, ktime, (e) => this._fail(e));
      case KIND.FORK:
        if (size < FORK.SIZE) return this._short(kind, off, size, FORK.SIZE);
        return {
          kind: 'fork',
          cpu,
          seq,
          ktime,
          tgid: b.readUInt32LE(off + FORK.tgid),
          ppid: b.readUInt32LE(off + FORK.ppid),
          nspid: b.readUInt32LE(off + FORK.nspid),
          pidnsLevel: b.readUInt32LE(off + FORK.pidns_level),
          startBoottime: b.readBigUInt64LE(off + FORK.start_boottime),
        };
      case KIND.EXIT:
        if (size < EXIT.SIZE) return this._short(kind, off, size, EXIT.SIZE);
        return {
          kind: 'exit',
          cpu,
          seq,
          ktime,
          tgid: b.readUInt32LE(off + EXIT.tgid),
          tid: b.readUInt32LE(off + EXIT.tid),
          exitCode: b.readUInt32LE(off + EXIT.exit_code),
          startBoottime: b.readBigUInt64LE(off + EXIT.start_boottime),
        };
      default:
        this._fail(new RecordDecodeError(`unknown record kind ${kind}`, kind, off));
        return undefined;
    }
  }

  private _short(kind: number, off: number, size: number, want: number): undefined {
    this._fail(new RecordDecodeError(`record of kind ${kind} is ${size} bytes, shorter than its ${want}-byte fixed part`, kind, off));
    return undefined;
  }

  private _fail(error: RecordDecodeError): void {
    this.stats.errors++;
    this._onError(error);
  }
}

function decodeExec(
  b: Buffer,
  off: number,
  size: number,
  cpu: number,
  seq: number,
  ktime: bigint,
  fail: (e: RecordDecodeError) => void,
): ExecRecord | undefined {
  const lens = [
    b.readUInt16LE(off + EXEC.filename_len),
    b.readUInt16LE(off + EXEC.args_len),
    b.readUInt16LE(off + EXEC.cwd_len),
    b.readUInt16LE(off + EXEC.cgroup_v2_len),
    b.readUInt16LE(off + EXEC.cgroup_v1_len),
    b.readUInt16LE(off + EXEC.env_len),
  ] as const;
  const tail = lens[0] + lens[1] + lens[2] + lens[3] + lens[4] + lens[5];
  if (EXEC.SIZE + tail > size) {
    fail(new RecordDecodeError(`exec string lengths ${lens.join('+')} exceed the record (${size - EXEC.SIZE} bytes)`, KIND.EXEC, off));
    return undefined;
  }
  let p = off + EXEC.SIZE;
  const take = (len: number): [number, number] => {
    const start = p;
    p += len;
    return [start, p];
  };
  const [fs, fe] = take(lens[0]);
  const [as, ae] = take(lens[1]);
  const [cs, ce] = take(lens[2]);
  const [g2s, g2e] = take(lens[3]);
  const [g1s, g1e] = take(lens[4]);
  const [es, ee] = take(lens[5]);
  return {
    kind: 'exec',
    cpu,
    seq,
    ktime,
    tgid: b.readUInt32LE(off + EXEC.tgid),
    tid: b.readUInt32LE(off + EXEC.tid),
    ppid: b.readUInt32LE(off + EXEC.ppid),
    uid: b.readUInt32LE(off + EXEC.uid),
    euid: b.readUInt32LE(off + EXEC.euid),
    auid: b.readUInt32LE(off + EXEC.auid),
    nspid: b.readUInt32LE(off + EXEC.nspid),
    pidnsLevel: b.readUInt32LE(off + EXEC.pidns_level),
    flags: b.readUInt32LE(off + EXEC.flags),
    argsTotal: b.readUInt32LE(off + EXEC.args_total),
    startBoottime: b.readBigUInt64LE(off + EXEC.start_boottime),
    cgroupId: b.readUInt32LE(off + EXEC.cgroup_id) + b.readUInt32LE(off + EXEC.cgroup_id + 4) * 0x1_0000_0000,
    filename: b.toString('utf8', fs, fe),
    argv: splitNulList(b, as, ae),
    cwd: b.toString('utf8', cs, ce),
    cgroupV2: b.toString('utf8', g2s, g2e),
    cgroupV1: b.toString('utf8', g1s, g1e),
    env: splitNulList(b, es, ee),
  };
}

/** Splits a NUL-separated block; a trailing NUL ends the last entry rather than starting an empty one. */
export function splitNulList(b: Buffer, start: number, end: number): string[] {
  if (end <= start) return [];
  const out: string[] = [];
  let from = start;
  for (;;) {
    const nul = b.indexOf(0, from);
    if (nul === -1 || nul >= end) {
      if (from < end) out.push(b.toString('utf8', from, end));
      return out;
    }
    out.push(b.toString('utf8', from, nul));
    from = nul + 1;
    if (from >= end) return out;
  }
}
