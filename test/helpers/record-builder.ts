// test/helpers/record-builder.ts
// Encodes kernel records the way the BPF programs do, for decoder tests, replay and benchmarks.

import { EXEC, EXIT, FORK, HEADER, KIND, RECORD_VERSION } from '../../receiver/src/wire/layout.js';

export interface ExecFields {
  cpu?: number;
  seq?: number;
  ktime: bigint;
  tgid: number;
  tid?: number;
  ppid: number;
  uid?: number;
  euid?: number;
  auid?: number;
  nspid?: number;
  pidnsLevel?: number;
  flags?: number;
  startBoottime?: bigint;
  filename: string;
  argv: readonly string[];
  cwd: string;
  cgroupV2?: string;
  cgroupV1?: string;
  env?: readonly string[];
}

function header(b: Buffer, kind: number, size: number, cpu: number, seq: number, ktime: bigint): void {
  b.writeUInt8(kind, HEADER.kind);
  b.writeUInt8(RECORD_VERSION, HEADER.version);
  b.writeUInt16LE(cpu, HEADER.cpu);
  b.writeUInt32LE(size, HEADER.size);
  b.writeBigUInt64LE(ktime, HEADER.ktime);
  b.writeBigUInt64LE(BigInt(seq), HEADER.seq);
}

export function execRecord(f: ExecFields): Buffer {
  const filename = Buffer.from(f.filename);
  const args = Buffer.concat(f.argv.map((a) => Buffer.concat([Buffer.from(a), Buffer.from([0])])));
  const cwd = Buffer.from(f.cwd);
  const cg2 = Buffer.from(f.cgroupV2 ?? '/');
  const cg1 = Buffer.from(f.cgroupV1 ?? '');
  const env = Buffer.concat((f.env ?? []).map((e) => Buffer.concat([Buffer.from(e), Buffer.from([0])])));
  const size = EXEC.SIZE + filename.length + args.length + cwd.length + cg2.length + cg1.length + env.length;
  const b = Buffer.alloc(size);
  header(b, KIND.EXEC, size, f.cpu ?? 0, f.seq ?? 1, f.ktime);
  b.writeUInt32LE(f.tgid, EXEC.tgid);
  b.writeUInt32LE(f.tid ?? f.tgid, EXEC.tid);
  b.writeUInt32LE(f.ppid, EXEC.ppid);
  b.writeUInt32LE(f.uid ?? 0, EXEC.uid);
  b.writeUInt32LE(f.euid ?? f.uid ?? 0, EXEC.euid);
  b.writeUInt32LE(f.auid ?? 4294967295, EXEC.auid);
  b.writeUInt32LE(f.nspid ?? f.tgid, EXEC.nspid);
  b.writeUInt32LE(f.pidnsLevel ?? 0, EXEC.pidns_level);
  b.writeUInt32LE(f.flags ?? 0, EXEC.flags);
  b.writeUInt32LE(args.length, EXEC.args_total);
  b.writeBigUInt64LE(f.startBoottime ?? f.ktime, EXEC.start_boottime);
  b.writeBigUInt64LE(1n, EXEC.cgroup_id);
  b.writeUInt16LE(filename.length, EXEC.filename_len);
  b.writeUInt16LE(args.length, EXEC.args_len);
  b.writeUInt16LE(cwd.length, EXEC.cwd_len);
  b.writeUInt16LE(cg2.length, EXEC.cgroup_v2_len);
  b.writeUInt16LE(cg1.length, EXEC.cgroup_v1_len);
  b.writeUInt16LE(env.length, EXEC.env_len);
  let p = EXEC.SIZE;
  for (const part of [filename, args, cwd, cg2, cg1, env]) {
    part.copy(b, p);
    p += part.length;
  }
  return b;
}

export function forkRecord(f: { cpu?: number; seq?: number; ktime: bigint; tgid: number; ppid: number; nspid?: number; pidnsLevel?: number }): Buffer {
  const b = Buffer.alloc(FORK.SIZE);
  header(b, KIND.FORK, FORK.SIZE, f.cpu ?? 0, f.seq ?? 1, f.ktime);
  b.writeUInt32LE(f.tgid, FORK.tgid);
  b.writeUInt32LE(f.ppid, FORK.ppid);
  b.writeUInt32LE(f.nspid ?? f.tgid, FORK.nspid);
  b.writeUInt32LE(f.pidnsLevel ?? 0, FORK.pidns_level);
  b.writeBigUInt64LE(f.ktime, FORK.start_boottime);
  return b;
}

export function exitRecord(f: { cpu?: number; seq?: number; ktime: bigint; tgid: number; tid?: number; exitCode: number; startBoottime?: bigint }): Buffer {
  const b = Buffer.alloc(EXIT.SIZE);
  header(b, KIND.EXIT, EXIT.SIZE, f.cpu ?? 0, f.seq ?? 1, f.ktime);
  b.writeUInt32LE(f.tgid, EXIT.tgid);
  b.writeUInt32LE(f.tid ?? f.tgid, EXIT.tid);
  b.writeUInt32LE(f.exitCode, EXIT.exit_code);
  b.writeBigUInt64LE(f.startBoottime ?? 0n, EXIT.start_boottime);
  return b;
}

/** Frames records as the addon delivers them: each padded to 8 bytes. */
export function batchOf(records: readonly Buffer[]): Buffer {
  const parts: Buffer[] = [];
  for (const r of records) {
    parts.push(r);
    const pad = ((r.length + 7) & ~7) - r.length;
    if (pad > 0) parts.push(Buffer.alloc(pad));
  }
  return Buffer.concat(parts);
}
