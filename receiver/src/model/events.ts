// receiver/src/model/events.ts
// The events execscope emits: Tetragon's GetEventsResponse variants for exec and exit, and loss reports.

import type { HrTime } from './hr-time.js';
import type { Process } from './process.js';

interface EventBase {
  /** Export node name (NODE_NAME or hostname). */
  readonly nodeName: string;
  /** When the event happened (exec or exit time). */
  readonly time: HrTime;
}

export interface ProcessExecEvent extends EventBase {
  readonly kind: 'process_exec';
  readonly process: Process;
  readonly parent?: Process;
  /** Grandparent first, nearest first; only with --enable-ancestors base. */
  readonly ancestors?: readonly Process[];
}

export interface ProcessExitEvent extends EventBase {
  readonly kind: 'process_exit';
  readonly process: Process;
  readonly parent?: Process;
  /** Signal name such as SIGKILL, "" when the process exited normally. */
  readonly signal: string;
  /** Exit status (exit_code >> 8), 0 when killed by a signal. */
  readonly status: number;
  readonly exitTime: HrTime;
  readonly ancestors?: readonly Process[];
}

/** Written to the export file when --export-rate-limit dropped events (Tetragon's rate_limit_info). */
export interface RateLimitInfoEvent extends EventBase {
  readonly kind: 'rate_limit_info';
  /** A uint64 on the wire: a bigint only when it is beyond Number's exact range (from decoded input). */
  readonly numberOfDroppedProcessEvents: number | bigint;
}

/**
 * Announces, in the event stream itself, records lost since the previous report (execscope's own event; not in
 * Tetragon). Emitted only when something was lost.
 */
export interface LossReportEvent extends EventBase {
  readonly kind: 'loss_report';
  /** Records the kernel could not put in the full ring buffer. */
  readonly kernelRing: number;
  /** Records dropped in user space because JavaScript fell behind (--ring-user-budget). */
  readonly userSpace: number;
  /** Records missing by per-CPU sequence numbers that no counter above explains. */
  readonly unexplained: number;
  /** Events each sink dropped (queue full, export failure, rate limit), by sink name. */
  readonly sinks: Readonly<Record<string, number>>;
}

export type ExecscopeEvent = ProcessExecEvent | ProcessExitEvent | RateLimitInfoEvent | LossReportEvent;

/** Events about a process (the ones filters, enrichment and OpenTelemetry mapping deal with). */
export type ProcessEventOf<E extends ExecscopeEvent = ExecscopeEvent> = Extract<E, { readonly process: unknown }>;

/** True for exec and exit events. */
export function isProcessEvent(event: ExecscopeEvent): event is ProcessExecEvent | ProcessExitEvent {
  return event.kind === 'process_exec' || event.kind === 'process_exit';
}

/** Tetragon's EventType enum values, equal to the oneof field numbers of GetEventsResponse. */
export const EVENT_TYPE = {
  PROCESS_EXEC: 1,
  PROCESS_EXIT: 5,
  RATE_LIMIT_INFO: 40001,
  /** execscope's own: the oneof field number of execscope_loss_report (not a Tetragon event type). */
  EXECSCOPE_LOSS_REPORT: 50001,
} as const;

export type EventTypeName = keyof typeof EVENT_TYPE;

export function eventTypeOf(event: ExecscopeEvent): EventTypeName {
  switch (event.kind) {
    case 'process_exec':
      return 'PROCESS_EXEC';
    case 'process_exit':
      return 'PROCESS_EXIT';
    case 'rate_limit_info':
      return 'RATE_LIMIT_INFO';
    case 'loss_report':
      return 'EXECSCOPE_LOSS_REPORT';
  }
}
