// receiver/src/wire/layout.ts
// Byte offsets of the kernel records; mirrors bpf/execscope_event.h (test/native/layout.test.ts checks it).

export const RECORD_VERSION = 1;

export const KIND = { EXEC: 1, FORK: 2, EXIT: 3 } as const;

export const HEADER = { SIZE: 24, kind: 0, version: 1, cpu: 2, size: 4, ktime: 8, seq: 16 } as const;

export const EXEC = {
  SIZE: 96,
  tgid: 24,
  tid: 28,
  ppid: 32,
  uid: 36,
  euid: 40,
  auid: 44,
  nspid: 48,
  pidns_level: 52,
  flags: 56,
  args_total: 60,
  start_boottime: 64,
  cgroup_id: 72,
  filename_len: 80,
  args_len: 82,
  cwd_len: 84,
  cgroup_v2_len: 86,
  cgroup_v1_len: 88,
  env_len: 90,
} as const;

export const FORK = { SIZE: 48, tgid: 24, ppid: 28, nspid: 32, pidns_level: 36, start_boottime: 40 } as const;

export const EXIT = { SIZE: 48, tgid: 24, tid: 28, exit_code: 32, start_boottime: 40 } as const;

/** es_exec.flags bits. */
export const EXEC_FLAG = {
  TRUNC_FILENAME: 1 << 0,
  TRUNC_ARGS: 1 << 1,
  ERROR_ARGS: 1 << 2,
  ERROR_CWD: 1 << 3,
  TRUNC_CWD: 1 << 4,
  ERROR_FILENAME: 1 << 5,
  ERROR_CGROUP: 1 << 6,
  TRUNC_ENV: 1 << 7,
  ERROR_ENV: 1 << 8,
  CWD_DELETED: 1 << 9,
  NO_MM: 1 << 10,
} as const;

export const ENV_MODE = { NONE: 0, TRACE_CONTEXT: 1, ALL: 2 } as const;

/** Slots of the per-CPU kernel stats array. */
export const STAT = {
  EXEC_SEEN: 0,
  EXEC_DROPPED: 1,
  FORK_SEEN: 2,
  FORK_DROPPED: 3,
  EXIT_SEEN: 4,
  EXIT_DROPPED: 5,
  SEQ: 6,
  SCRATCH_MISS: 7,
  COUNT: 8,
} as const;

export const ARGS_MAX = 65535;
export const FILENAME_MAX = 4095;
