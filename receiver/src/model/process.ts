// receiver/src/model/process.ts
// A process as events describe it: Tetragon's Process message plus the faithful fields OpenTelemetry needs.

import type { HrTime } from './hr-time.js';
import type { Pod } from './pod.js';

/** One captured environment variable (Tetragon's EnvVar). */
export interface EnvVar {
  readonly key: string;
  readonly value: string;
}

export interface Process {
  /** base64("<node>:<ktime>:<pid>"), unique per process image on a node. */
  readonly execId: string;
  /** Thread-group id in the host pid namespace. */
  readonly pid: number;
  /** Effective uid. */
  readonly uid: number;
  /** Working directory at exec; "/" with flag rootcwd; "" when unknown. */
  readonly cwd: string;
  /** Path passed to execve, made absolute against cwd; "<kernel>" or "[comm]" for kernel entries. */
  readonly binary: string;
  /** argv[1..] joined with Tetragon's quoting rules (lossy, for compatibility). */
  readonly arguments: string;
  /** Space-separated flag words in Tetragon's fixed order. */
  readonly flags: string;
  /** Exec time (fork time for fork-only processes, /proc start time for procFS ones). */
  readonly startTime: HrTime;
  /** Audit login uid; 4294967295 when unset. */
  readonly auid: number;
  readonly pod?: Pod;
  /** Container id from the cgroup path, first 31 characters; "" on the host. */
  readonly docker: string;
  readonly parentExecId: string;
  /** Process-cache reference count (debugging aid, as in Tetragon). */
  readonly refcnt: number;
  /** For exec and exit events always equal to pid. */
  readonly tid: number;
  /** True when the process belongs to its pid namespace's init tree; undefined for <kernel>. */
  readonly inInitTree?: boolean;
  /** Captured environment variables (only with --enable-process-environment-variables). */
  readonly environmentVariables?: readonly EnvVar[];

  // Fields below are not part of Tetragon's Process; the OpenTelemetry mapping and enrichment use them.

  /** The faithful argv of the image, argv[0] included (empty for kernel entries). */
  readonly argv: readonly string[];
  /** Parent's thread-group id in the host pid namespace (0 for the kernel). */
  readonly ppid: number;
  /** pid in the process's own pid namespace. */
  readonly nspid: number;
  /** Boot-clock nanoseconds used in exec_id (exec time, clone time, or /proc start time). */
  readonly ktime: bigint;
  /** Cgroup path the sensor recorded (v2, or the configured v1 controller), "" when unknown. */
  readonly cgroupPath: string;
  /** Full container id parsed from the cgroup path (untruncated), "" on the host. */
  readonly containerId: string;
  /** TRACEPARENT and TRACESTATE as found in the exec's environment, before any filtering. */
  readonly traceParent?: string;
  readonly traceState?: string;
}
