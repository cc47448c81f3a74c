// receiver/src/otel/queue-dir-lock.ts
// One agent per durable queue directory: a lock file holding the owner's pid and process start time.

import { mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, getErrorCode, getErrorMessage } from '../errors.js';

const LOCK_FILE = 'lock';

/**
 * Takes `<dir>/lock`, creating the directory first. The lock holds our pid and the process's start time (from
 * /proc), so a lock left by an agent that is gone is taken over even when its pid now names another process
 * (after a container restart, pids repeat). A lock naming this very process is ours already. Returns the lock's
 * path; throws ConfigError naming the directory when it cannot be created or another live process holds it.
 */
export function acquireQueueLock(dir: string): string {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (error: unknown) {
    throw new ConfigError(`--otlp-queue-dir: cannot create ${JSON.stringify(dir)}: ${getErrorMessage(error)}`, { cause: error });
  }
  const path = join(dir, LOCK_FILE);
  const self = `${process.pid} ${processStartTime(process.pid) ?? ''}`.trim();
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      writeFileSync(path, `${self}\n`, { flag: 'wx', mode: 0o600 });
      return path;
    } catch (error: unknown) {
      if (getErrorCode(error) !== 'EEXIST') {
        throw new ConfigError(`--otlp-queue-dir: cannot write to ${JSON.stringify(dir)}: ${getErrorMessage(error)}`, { cause: error });
      }
    }
    let owner = '';
    try {
      owner = readFileSync(path, 'utf8').trim();
    } catch {
      // Removed meanwhile: try again.
    }
    const [pidText = '', startTime] = owner.split(' ');
    const pid = Number(pidText);
    if (Number.isSafeInteger(pid) && pid > 0 && pid !== process.pid && isAlive(pid, startTime)) {
      throw new ConfigError(`--otlp-queue-dir: ${JSON.stringify(dir)} is in use by process ${pid} (lock file ${path})`);
    }
    try {
      unlinkSync(path);
    } catch {
      // Someone else removed it; the next attempt decides.
    }
  }
  throw new ConfigError(`--otlp-queue-dir: could not take the lock ${JSON.stringify(path)}`);
}

/** Removes the lock file taken by acquireQueueLock; a lock already gone is fine. */
export function releaseQueueLock(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // Already gone: nothing to release.
  }
}

/** True when `pid` runs and, if the lock recorded one, started at `startTime`. */
function isAlive(pid: number, startTime: string | undefined): boolean {
  try {
    process.kill(pid, 0);
  } catch (error: unknown) {
    if (getErrorCode(error) !== 'EPERM') return false;
  }
  if (startTime === undefined) return true;
  const current = processStartTime(pid);
  return current === undefined || current === startTime;
}

/** Field 22 of /proc/<pid>/stat: when the process started, in clock ticks since boot. */
function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}
