// receiver/src/wire/records.ts
// Kernel records as decoded from the ring (raw facts, before the process cache adds meaning).

interface RecordBase {
  readonly cpu: number;
  readonly seq: number;
  /** CLOCK_BOOTTIME nanoseconds. */
  readonly ktime: bigint;
}

export interface ExecRecord extends RecordBase {
  readonly kind: 'exec';
  readonly tgid: number;
  readonly tid: number;
  readonly ppid: number;
  readonly uid: number;
  readonly euid: number;
  readonly auid: number;
  readonly nspid: number;
  readonly pidnsLevel: number;
  readonly flags: number;
  readonly argsTotal: number;
  readonly startBoottime: bigint;
  /** cgroup v2 id (kernfs node ids stay below 2^53). */
  readonly cgroupId: number;
  readonly filename: string;
  /** argv of the new image (the last element may be cut short when flags has TRUNC_ARGS). */
  readonly argv: readonly string[];
  readonly cwd: string;
  readonly cgroupV2: string;
  readonly cgroupV1: string;
  /** KEY=VALUE entries captured from the environment. */
  readonly env: readonly string[];
}

export interface ForkRecord extends RecordBase {
  readonly kind: 'fork';
  readonly tgid: number;
  readonly ppid: number;
  readonly nspid: number;
  readonly pidnsLevel: number;
  readonly startBoottime: bigint;
}

export interface ExitRecord extends RecordBase {
  readonly kind: 'exit';
  readonly tgid: number;
  readonly tid: number;
  readonly exitCode: number;
  readonly startBoottime: bigint;
}

export type KernelRecord = ExecRecord | ForkRecord | ExitRecord;
