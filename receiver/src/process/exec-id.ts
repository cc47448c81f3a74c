// receiver/src/process/exec-id.ts
// exec_id = base64("<node>:<ktime>:<pid>"), Tetragon's process identity.

/** ktime of the synthetic <kernel> process (pid 0). */
export const KERNEL_KTIME = 1n;

const NON_ASCII = /[^\x00-\x7f]/;

export function execIdOf(nodeName: string, ktime: bigint, pid: number): string {
  const id = `${nodeName}:${ktime}:${pid}`;
  // btoa is ~2.5x faster than a Buffer round trip, but encodes latin1, not UTF-8: ASCII names only.
  return NON_ASCII.test(nodeName) ? Buffer.from(id).toString('base64') : btoa(id);
}

/** The id a parent gets when it is not known: ktime 0 (as Tetragon reports untracked parents). */
export function missingParentExecId(nodeName: string, ppid: number): string {
  return ppid === 0 ? execIdOf(nodeName, KERNEL_KTIME, 0) : execIdOf(nodeName, 0n, ppid);
}
