// receiver/src/process/exit-status.ts
// Splits a raw task->exit_code into Tetragon's status and signal name.

import { constants } from 'node:os';

const SIGNAL_NAMES: ReadonlyMap<number, string> = new Map(
  Object.entries(constants.signals)
    .filter(([name]) => name !== 'SIGIOT' && name !== 'SIGPOLL' && name !== 'SIGUNUSED')
    .map(([name, num]) => [num, name]),
);

export interface ExitStatus {
  /** exit(3) value, 0 when killed by a signal. */
  readonly status: number;
  /** Signal name (SIGKILL…) or "" when the process exited on its own. */
  readonly signal: string;
}

export function decodeExitCode(exitCode: number): ExitStatus {
  const sig = exitCode & 0x7f;
  const status = (exitCode >> 8) & 0xff;
  if (sig === 0) return { status, signal: '' };
  return { status, signal: SIGNAL_NAMES.get(sig) ?? `SIG${sig}` };
}
