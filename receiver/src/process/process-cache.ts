// receiver/src/process/process-cache.ts
// Keeps every known process image and turns kernel records into Tetragon-shaped exec and exit events.

import { posix } from 'node:path';
import type { ProcessExecEvent, ProcessExitEvent } from '../model/events.js';
import type { HrTime } from '../model/hr-time.js';
import type { EnvVar, Process } from '../model/process.js';
import type { ExecRecord, ExitRecord, ForkRecord } from '../wire/records.js';
import { EXEC_FLAG } from '../wire/layout.js';
import { formatArguments } from './arguments.js';
import { parseEnvironment } from './environment.js';
import { execIdOf, missingParentExecId } from './exec-id.js';
import { decodeExitCode } from './exit-status.js';
import { formatFlags, type FlagWord } from './flags.js';

/** Redaction of a command line and its captured environment (--redaction-filters). */
export type Redact = (
  binary: string,
  args: string,
  env: readonly EnvVar[] | undefined,
) => { readonly arguments: string; readonly environmentVariables?: readonly EnvVar[] | undefined };

/** Pure helpers the cache needs from enrichment and filtering; injected so the cache imports none of them. */
export interface ProcessCacheOptions {
  readonly nodeName: string;
  /** Most entries kept; the oldest unreferenced ones are evicted first. */
  readonly maxEntries: number;
  /** Entries whose references reached zero survive at least this long (late events still resolve). */
  readonly gcGraceMs: number;
  readonly toWallTime: (boottimeNs: bigint) => HrTime;
  /** Full container id from a cgroup path, "" for none. */
  readonly containerIdOf: (cgroupPath: string) => string;
  /** Environment variables to put on exec events (undefined: none). */
  readonly environmentFilter?: (entries: readonly EnvVar[]) => readonly EnvVar[];
  /** Rewrites arguments and captured environment values before caching (--redaction-filters). */
  readonly redact?: Redact;
  /**
   * Most exited images kept for late lookups. Records arrive in order, so nothing needs an image once its
   * exit is out and no child refers to it; a bounded tail keeps exec storms from filling the cache.
   */
  readonly maxReleased?: number;
  /** Add `ancestors` (grandparent first) to events. */
  readonly ancestors: boolean;
  readonly now?: () => number;
}

interface Entry {
  process: Process;
  /** Live references: the process itself until it exits, plus one per child that names it as parent. */
  refs: number;
  /** A fork-only image waiting for its exec (or its exit). */
  cloneOnly: boolean;
  /** When refs last reached 0 (ms), for GC. */
  releasedAt: number;
}

export interface ProcessCacheStats {
  size: number;
  evictions: number;
  gcRemoved: number;
  missingParent: number;
  exitsUnknown: number;
}

const CONTAINER_DOCKER_LEN = 31;

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

export class ProcessCache {
  readonly stats: ProcessCacheStats = { size: 0, evictions: 0, gcRemoved: 0, missingParent: 0, exitsUnknown: 0 };
  /** Current image of every live thread group. */
  private readonly _byPid = new Map<number, Entry>();
  /** Every cached image by exec_id, in insertion order (oldest first, for eviction). */
  private readonly _byExecId = new Map<string, Entry>();
  /** Entries nothing refers to any more, oldest release first: GC and eviction take from here in O(1). */
  private readonly _released = new Map<string, Entry>();
  private readonly _now: () => number;
  private readonly _maxReleased: number;

  constructor(private readonly _opts: ProcessCacheOptions) {
    this._now = _opts.now ?? Date.now;
    this._maxReleased = _opts.maxReleased ?? 256;
  }

  /** Adds an image found by the /proc scan (parents must come first); returns it for emission. */
  seed(process: Process): void {
    const entry: Entry = { process, refs: 1, cloneOnly: false, releasedAt: 0 };
    this._insert(entry);
    this._byPid.set(process.pid, entry);
    const parent = this._byExecId.get(process.parentExecId);
    if (parent !== undefined && parent !== entry) this._retain(parent);
  }

  /** The cached image with this exec_id, if any. */
  get(execId: string): Process | undefined {
    return this._byExecId.get(execId)?.process;
  }

  /** Is a thread group currently known (seeded or seen)? */
  hasPid(pid: number): boolean {
    return this._byPid.has(pid);
  }

  onFork(rec: ForkRecord): void {
    const parent = this._byPid.get(rec.ppid);
    if (parent === undefined) this.stats.missingParent++;
    const p = parent?.process;
    const inInitTree = (rec.pidnsLevel > 0 && rec.nspid === 1) || p?.inInitTree === true;
    const flags: FlagWord[] = ['execve'];
    if (inInitTree) flags.push('inInitTree');
    const process: Process = {
      execId: execIdOf(this._opts.nodeName, rec.ktime, rec.tgid),
      pid: rec.tgid,
      uid: p?.uid ?? 0,
      cwd: p?.cwd ?? '',
      binary: p?.binary ?? '',
      arguments: p?.arguments ?? '',
      flags: formatFlags(flags),
      startTime: this._opts.toWallTime(rec.ktime),
      auid: p?.auid ?? 4294967295,
      docker: p?.docker ?? '',
      parentExecId: p?.execId ?? missingParentExecId(this._opts.nodeName, rec.ppid),
      refcnt: 0,
      tid: rec.tgid,
      inInitTree,
      argv: p?.argv ?? [],
      ppid: rec.ppid,
      nspid: rec.nspid,
      ktime: rec.ktime,
      cgroupPath: p?.cgroupPath ?? '',
      containerId: p?.containerId ?? '',
      ...(p?.traceParent !== undefined ? { traceParent: p.traceParent } : {}),
      ...(p?.traceState !== undefined ? { traceState: p.traceState } : {}),
      ...(p?.environmentVariables !== undefined ? { environmentVariables: p.environmentVariables } : {}),
    };
    const previous = this._byPid.get(rec.tgid);
    if (previous !== undefined) this._release(previous); // pid reused before we saw the exit
    const entry: Entry = { process, refs: 1, cloneOnly: true, releasedAt: 0 };
    this._insert(entry);
    this._byPid.set(rec.tgid, entry);
    if (parent !== undefined) this._retain(parent);
  }

  onExec(rec: ExecRecord): ProcessExecEvent {
    const previous = this._byPid.get(rec.tgid);
    // After fork, the parent is the forking process; after an exec without fork, the previous image.
    let parent: Entry | undefined;
    let clone = false;
    if (previous?.cloneOnly === true) {
      clone = true;
      parent = this._byExecId.get(previous.process.parentExecId);
    } else if (previous !== undefined) {
      parent = previous;
    } else {
      parent = this._byPid.get(rec.ppid);
    }
    if (parent === undefined) this.stats.missingParent++;

    const process = this._buildExecProcess(rec, previous, parent, clone);
    const entry: Entry = { process, refs: 1, cloneOnly: false, releasedAt: 0 };
    this._insert(entry);
    this._byPid.set(rec.tgid, entry);
    if (parent !== undefined) this._retain(parent);
    if (previous !== undefined) this._release(previous); // it will get no exit of its own
    if (previous?.cloneOnly === true && parent !== undefined) this._release(parent); // the clone's parent ref moves to the new image

    const event: Mutable<ProcessExecEvent> = { kind: 'process_exec', process, nodeName: this._opts.nodeName, time: process.startTime };
    if (parent !== undefined) event.parent = parent.process;
    if (this._opts.ancestors) event.ancestors = this._ancestorsOf(parent);
    return event;
  }

  onExit(rec: ExitRecord): ProcessExitEvent {
    const entry = this._byPid.get(rec.tgid);
    const exitTime = this._opts.toWallTime(rec.ktime);
    const { status, signal } = decodeExitCode(rec.exitCode);
    let process: Process;
    let parent: Entry | undefined;
    if (entry === undefined) {
      this.stats.exitsUnknown++;
      process = this._unknownProcess(rec);
    } else {
      parent = this._byExecId.get(entry.process.parentExecId);
      process = { ...entry.process, refcnt: entry.refs };
      this._byPid.delete(rec.tgid);
      this._release(entry);
      if (parent !== undefined && parent !== entry) this._release(parent);
    }
    const event: Mutable<ProcessExitEvent> = { kind: 'process_exit', process, signal, status, exitTime, nodeName: this._opts.nodeName, time: exitTime };
    if (parent !== undefined) event.parent = parent.process;
    if (this._opts.ancestors) event.ancestors = this._ancestorsOf(parent);
    return event;
  }

  /** Removes entries unreferenced for longer than the grace period. */
  gc(): void {
    const now = this._now();
    for (const [id, entry] of this._released) {
      if (now - entry.releasedAt < this._opts.gcGraceMs) break; // the rest were released later
      this._remove(id, entry);
      this.stats.gcRemoved++;
    }
    this.stats.size = this._byExecId.size;
  }

  get size(): number {
    return this._byExecId.size;
  }

  private _buildExecProcess(rec: ExecRecord, previous: Entry | undefined, parent: Entry | undefined, clone: boolean): Process {
    const f = rec.flags;
    const deleted = (f & EXEC_FLAG.CWD_DELETED) !== 0;
    const cwd = (f & EXEC_FLAG.ERROR_CWD) !== 0 ? '' : deleted ? `${rec.cwd} (deleted)` : rec.cwd;
    const binary = absoluteBinary(rec.filename, rec.cwd);
    const words: FlagWord[] = ['execve'];
    if ((f & EXEC_FLAG.TRUNC_ARGS) !== 0) words.push('truncArgs');
    if ((f & (EXEC_FLAG.ERROR_FILENAME | EXEC_FLAG.TRUNC_FILENAME)) !== 0) words.push('errorFilename');
    if ((f & EXEC_FLAG.ERROR_ARGS) !== 0) words.push('errorArgs');
    if ((f & (EXEC_FLAG.ERROR_ENV | EXEC_FLAG.TRUNC_ENV)) !== 0) words.push('errorEnvs');
    if (cwd === '/') words.push('rootcwd');
    if ((f & EXEC_FLAG.ERROR_CWD) !== 0) words.push('errorCWD');
    if (clone) words.push('clone');
    if ((f & EXEC_FLAG.ERROR_CGROUP) !== 0) words.push('errorCgroupName');
    if ((f & EXEC_FLAG.TRUNC_CWD) !== 0) words.push('errorPathResolutionCwd');
    const inInitTree =
      (rec.pidnsLevel > 0 && rec.nspid === 1) ||
      (previous !== undefined ? previous.process.inInitTree === true : parent?.process.inInitTree === true);
    if (inInitTree) words.push('inInitTree');

    // The cgroup that names a container: the v1 controller's path first (hybrid hosts), then v2.
    let cgroupPath = rec.cgroupV1 !== '' ? rec.cgroupV1 : rec.cgroupV2;
    let containerId = rec.cgroupV1 !== '' ? this._opts.containerIdOf(rec.cgroupV1) : '';
    if (containerId === '' && rec.cgroupV2 !== '') {
      const fromV2 = this._opts.containerIdOf(rec.cgroupV2);
      if (fromV2 !== '') {
        containerId = fromV2;
        cgroupPath = rec.cgroupV2;
      }
    }

    const { vars: envVars, traceParent, traceState } = parseEnvironment(rec.env);
    let environmentVariables = envVars.length > 0 ? this._opts.environmentFilter?.(envVars) : undefined;

    let args = formatArguments(rec.argv);
    if (this._opts.redact !== undefined) {
      const redacted = this._opts.redact(binary, args, environmentVariables);
      args = redacted.arguments;
      environmentVariables = redacted.environmentVariables;
    }
    const process: Mutable<Process> = {
      execId: execIdOf(this._opts.nodeName, rec.ktime, rec.tgid),
      pid: rec.tgid,
      uid: rec.euid,
      cwd,
      binary,
      arguments: args,
      // Words were pushed in Tetragon's order, so a join is enough (formatFlags would sort).
      flags: words.join(' '),
      startTime: this._opts.toWallTime(rec.ktime),
      auid: rec.auid,
      docker: containerId.length > CONTAINER_DOCKER_LEN ? containerId.slice(0, CONTAINER_DOCKER_LEN) : containerId,
      parentExecId: parent?.process.execId ?? missingParentExecId(this._opts.nodeName, rec.ppid),
      refcnt: 0,
      tid: rec.tgid,
      inInitTree,
      argv: rec.argv,
      ppid: previous !== undefined ? previous.process.ppid : rec.ppid,
      nspid: rec.nspid,
      ktime: rec.ktime,
      cgroupPath,
      containerId,
    };
    if (environmentVariables !== undefined && environmentVariables.length > 0) process.environmentVariables = environmentVariables;
    if (traceParent !== undefined) process.traceParent = traceParent;
    if (traceState !== undefined) process.traceState = traceState;
    return process;
  }

  private _unknownProcess(rec: ExitRecord): Process {
    return {
      execId: execIdOf(this._opts.nodeName, rec.startBoottime, rec.tgid),
      pid: rec.tgid,
      uid: 0,
      cwd: '',
      binary: '',
      arguments: '',
      flags: '',
      startTime: this._opts.toWallTime(rec.startBoottime),
      auid: 4294967295,
      docker: '',
      parentExecId: '',
      refcnt: 0,
      tid: rec.tgid,
      argv: [],
      ppid: 0,
      nspid: 0,
      ktime: rec.startBoottime,
      cgroupPath: '',
      containerId: '',
    };
  }

  /** Grandparent first, walking up until pid 1 or 2 (Tetragon stops after those). */
  private _ancestorsOf(parent: Entry | undefined): Process[] {
    const out: Process[] = [];
    if (parent === undefined || parent.process.pid <= 2) return out;
    let next = this._byExecId.get(parent.process.parentExecId);
    const seen = new Set<Entry>([parent]);
    while (next !== undefined && !seen.has(next)) {
      out.push(next.process);
      seen.add(next);
      if (next.process.pid <= 2) break;
      next = this._byExecId.get(next.process.parentExecId);
    }
    return out;
  }

  private _insert(entry: Entry): void {
    this._byExecId.set(entry.process.execId, entry);
    if (this._byExecId.size > this._opts.maxEntries) this._evictOldest();
    this.stats.size = this._byExecId.size;
  }

  private _retain(entry: Entry): void {
    if (entry.refs++ <= 0) this._released.delete(entry.process.execId);
  }

  private _release(entry: Entry): void {
    entry.refs--;
    if (entry.refs > 0) return;
    entry.releasedAt = this._now();
    // A clone replaced by its exec is referred to by nothing: drop it now rather than after the grace period.
    if (entry.cloneOnly && this._byPid.get(entry.process.pid) !== entry) {
      this._remove(entry.process.execId, entry);
      return;
    }
    this._released.delete(entry.process.execId);
    this._released.set(entry.process.execId, entry);
    if (this._released.size > this._maxReleased) {
      const oldest = this._released.entries().next();
      if (oldest.done !== true) {
        this._remove(oldest.value[0], oldest.value[1]);
        this.stats.gcRemoved++;
      }
    }
  }

  private _remove(execId: string, entry: Entry): void {
    this._byExecId.delete(execId);
    this._released.delete(execId);
    if (this._byPid.get(entry.process.pid) === entry) this._byPid.delete(entry.process.pid);
  }

  /** Makes room: the oldest released entry first; a live one only when nothing is released. */
  private _evictOldest(): void {
    const released = this._released.entries().next();
    const victim = released.done === true ? this._byExecId.entries().next() : released;
    if (victim.done === true) return;
    const [id, entry] = victim.value;
    this._remove(id, entry);
    this.stats.evictions++;
  }
}

/** execve's filename made absolute against the cwd (not resolving symlinks), as Tetragon reports binary. */
export function absoluteBinary(filename: string, cwd: string): string {
  if (filename.startsWith('/') || filename === '' || cwd === '') return filename;
  return posix.join(cwd, filename);
}
