// receiver/src/procfs/procfs-scan.ts
// Reads every process already running from /proc, parents first, as cache entries flagged procFS.

import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { HrTime } from '../model/hr-time.js';
import type { EnvVar, Process } from '../model/process.js';
import { formatArguments } from '../process/arguments.js';
import { execIdOf, KERNEL_KTIME, missingParentExecId } from '../process/exec-id.js';
import { formatFlags, type FlagWord } from '../process/flags.js';
import type { Redact } from '../process/process-cache.js';
import { parseEnvironment, type ParsedEnvironment } from '../process/environment.js';

/** Linux reports /proc start times in clock ticks of 1/100 s (USER_HZ). */
const NS_PER_TICK = 10_000_000n;

export interface ProcfsScanOptions {
  readonly procRoot: string;
  readonly nodeName: string;
  readonly toWallTime: (boottimeNs: bigint) => HrTime;
  readonly containerIdOf: (procCgroupFile: string) => { readonly id: string; readonly path: string };
  readonly environmentFilter?: (entries: readonly EnvVar[]) => readonly EnvVar[];
  readonly redact?: Redact;
}

export interface ScannedProcess {
  readonly process: Process;
  /** Kernel threads are cached (children may name them as parent) but produce no event. */
  readonly emit: boolean;
}

/** The synthetic pid-0 process every top-level process descends from. */
export function kernelProcess(nodeName: string, toWallTime: (ns: bigint) => HrTime): Process {
  const execId = execIdOf(nodeName, KERNEL_KTIME, 0);
  return {
    execId,
    pid: 0,
    uid: 0,
    cwd: '',
    binary: '<kernel>',
    arguments: '',
    flags: 'procFS',
    startTime: toWallTime(KERNEL_KTIME),
    auid: 4294967295,
    docker: '',
    parentExecId: execId,
    refcnt: 0,
    tid: 0,
    argv: [],
    ppid: 0,
    nspid: 0,
    ktime: KERNEL_KTIME,
    cgroupPath: '',
    containerId: '',
  };
}

/** Scans /proc once; processes that vanish mid-scan are skipped. Result is ordered parents first. */
export function scanProcfs(opts: ProcfsScanOptions): ScannedProcess[] {
  const byPid = new Map<number, ScannedProcess>();
  const ppidOf = new Map<number, number>();
  for (const name of readdirSync(opts.procRoot)) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    try {
      const scanned = readOne(opts, pid);
      if (scanned !== undefined) {
        byPid.set(pid, scanned);
        ppidOf.set(pid, scanned.process.ppid);
      }
    } catch {
      // ENOENT/ESRCH: the process exited while we looked at it.
    }
  }
  // Order parents first: breadth-first from the roots (ppid 0 or a parent we did not see).
  const children = new Map<number, number[]>();
  const roots: number[] = [];
  for (const [pid, ppid] of ppidOf) {
    if (ppid === 0 || !byPid.has(ppid)) roots.push(pid);
    else {
      const list = children.get(ppid) ?? [];
      list.push(pid);
      children.set(ppid, list);
    }
  }
  const ordered: ScannedProcess[] = [];
  const queue = roots.sort((a, b) => a - b);
  for (let i = 0; i < queue.length; i++) {
    const pid = queue[i] as number;
    const scanned = byPid.get(pid);
    if (scanned === undefined) continue;
    const parent = byPid.get(scanned.process.ppid);
    const inInitTree = scanned.process.inInitTree === true || parent?.process.inInitTree === true && scanned.process.containerId !== '';
    const process: Process = {
      ...scanned.process,
      parentExecId: parent?.process.execId ?? missingParentExecId(opts.nodeName, scanned.process.ppid),
      inInitTree,
      flags: inInitTree && !scanned.process.flags.includes('inInitTree') ? `${scanned.process.flags} inInitTree` : scanned.process.flags,
    };
    ordered.push({ process, emit: scanned.emit });
    byPid.set(pid, { process, emit: scanned.emit });
    for (const child of (children.get(pid) ?? []).sort((a, b) => a - b)) queue.push(child);
  }
  return ordered;
}

function readOne(opts: ProcfsScanOptions, pid: number): ScannedProcess | undefined {
  const dir = join(opts.procRoot, String(pid));
  const stat = readFileSync(join(dir, 'stat'), 'latin1');
  // comm may contain spaces and parentheses: fields start after the last ')'.
  const close = stat.lastIndexOf(')');
  const comm = stat.slice(stat.indexOf('(') + 1, close);
  const fields = stat.slice(close + 2).split(' ');
  const ppid = Number(fields[1]);
  const startTicks = BigInt(fields[19] ?? '0');
  const ktime = startTicks * NS_PER_TICK;
  const status = readFileSync(join(dir, 'status'), 'utf8');
  const euid = Number(/^Uid:\s+\d+\s+(\d+)/m.exec(status)?.[1] ?? '0');
  const nspids = (/^NSpid:\s+(.*)$/m.exec(status)?.[1] ?? String(pid)).trim().split(/\s+/);
  const nspid = Number(nspids[nspids.length - 1] ?? pid);
  const nsLevel = nspids.length - 1;
  const cmdline = readFileSync(join(dir, 'cmdline'));
  const isKernelThread = cmdline.length === 0 && (ppid === 2 || pid === 2);
  const base = {
    pid,
    tid: pid,
    ppid,
    nspid,
    ktime,
    refcnt: 0,
    startTime: opts.toWallTime(ktime),
    execId: execIdOf(opts.nodeName, ktime, pid),
    parentExecId: '',
  };
  if (isKernelThread) {
    return {
      emit: false,
      process: {
        ...base,
        uid: 0,
        cwd: '',
        binary: `[${comm}]`,
        arguments: '',
        flags: 'procFS',
        auid: 4294967295,
        docker: '',
        argv: [],
        cgroupPath: '',
        containerId: '',
      },
    };
  }
  const argv = cmdline.toString('utf8').split('\0');
  if (argv.length > 0 && argv[argv.length - 1] === '') argv.pop();
  const binary = safeReadlink(join(dir, 'exe')) ?? argv[0] ?? `[${comm}]`;
  const cwd = safeReadlink(join(dir, 'cwd')) ?? '';
  const auid = Number(safeRead(join(dir, 'loginuid'))?.trim() ?? '4294967295');
  const cgroupFile = safeRead(join(dir, 'cgroup')) ?? '';
  const container = opts.containerIdOf(cgroupFile);
  const env = readEnv(join(dir, 'environ'));
  const words: FlagWord[] = ['procFS'];
  if (cwd === '') words.push('nocwd');
  if (cwd === '/') words.push('rootcwd');
  const inInitTree = container.id !== '' && nsLevel > 0 && nspid === 1;
  if (inInitTree) words.push('inInitTree');
  let args = formatArguments(argv);
  let environmentVariables = opts.environmentFilter?.(env.vars);
  if (opts.redact !== undefined) {
    const redacted = opts.redact(binary, args, environmentVariables);
    args = redacted.arguments;
    environmentVariables = redacted.environmentVariables;
  }
  return {
    emit: true,
    process: {
      ...base,
      uid: euid,
      cwd,
      binary,
      arguments: args,
      flags: formatFlags(words),
      auid: Number.isFinite(auid) ? auid : 4294967295,
      docker: container.id.slice(0, 31),
      inInitTree,
      argv,
      cgroupPath: container.path,
      containerId: container.id,
      ...(environmentVariables !== undefined && environmentVariables.length > 0 ? { environmentVariables } : {}),
      ...(env.traceParent !== undefined ? { traceParent: env.traceParent } : {}),
      ...(env.traceState !== undefined ? { traceState: env.traceState } : {}),
    },
  };
}

function readEnv(path: string): ParsedEnvironment {
  return parseEnvironment((safeRead(path) ?? '').split('\0').filter((entry) => entry !== ''));
}

function safeRead(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

function safeReadlink(path: string): string | undefined {
  try {
    return readlinkSync(path);
  } catch {
    return undefined;
  }
}
