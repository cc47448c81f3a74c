// receiver/src/process/exec-id.ts
// exec_id = base64("<node>:<ktime>:<pid>"), Tetragon's process identity.

/** ktime of the synthetic <kernel> process (pid 0). */
export const KERNEL_KTIME = 1n;

export function execIdOf(nodeName: string, ktime: bigint, pid: number): string {
  return Buffer.from(`${nodeName}:${ktime}:${pid}`).toString('base64');
}

/** The id a parent gets when it is not known: ktime 0 (as Tetragon reports untracked parents). */
export function missingParentExecId(nodeName: string, ppid: number): string {
  return ppid === 0 ? execIdOf(nodeName, KERNEL_KTIME, 0) : execIdOf(nodeName, 0n, ppid);
}
