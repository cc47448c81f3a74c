// receiver/src/encode/compact-encoder.ts
// Tetragon v1.7's one-line human format (`tetra getevents -o compact`), with unprintable fields Go-quoted.

import type { ExecscopeEvent, LossReportEvent } from '../model/events.js';
import type { HrTime } from '../model/hr-time.js';
import type { Process } from '../model/process.js';
import { quoteIfUnprintable } from './go-quote.js';

export interface CompactOptions {
  /** Wrap each piece in ANSI colours, as `--color always` (or `auto` on a terminal) does. */
  readonly color: boolean;
  /** Prefix each line with the event time, RFC 3339 with 9 fraction digits. */
  readonly timestamps: boolean;
}

const RED = 31;
const GREEN = 32;
const BLUE = 34;
const MAGENTA = 35;
const CYAN = 36;

/** Tetragon right-aligns the capabilities trailer near this column (`capsPad`). */
const CAPS_PAD = 120;

function paint(color: boolean, code: number, s: string): string {
  return color ? `\x1b[${code}m${s}\x1b[0m` : s;
}

/**
 * Tetragon's CapTrailorPrinter. execscope collects no capabilities, so the trailer text is empty; in colour
 * mode the magenta wrapper still makes it non-empty, and Tetragon then pads it towards column 120 (in bytes).
 */
function withCapsTrailer(line: string, caps: string): string {
  if (caps.length === 0) return line;
  const bytes = Buffer.byteLength(line, 'utf8');
  const width = bytes < CAPS_PAD ? CAPS_PAD - bytes : 0;
  return `${line} ${caps.padStart(width, ' ')}`;
}

/** RFC 3339 with exactly nine fraction digits, Go's "2006-01-02T15:04:05.000000000Z07:00" in UTC. */
export function formatRfc3339Nano(t: HrTime): string {
  const [sec, nsec] = t;
  const date = new Date(sec * 1000);
  const base = Number.isNaN(date.getTime()) ? '1970-01-01T00:00:00' : date.toISOString().slice(0, 19);
  const frac = Number.isInteger(nsec) && nsec >= 0 && nsec < 1e9 ? String(nsec).padStart(9, '0') : '000000000';
  return `${base}.${frac}Z`;
}

function processPieces(event: ExecscopeEvent & { process: Process }, color: boolean): { info: string; args: string; caps: string } {
  const p = event.process;
  const rawSource = p.pod !== undefined ? `${p.pod.namespace}/${p.pod.name}` : event.nodeName;
  const source = paint(color, GREEN, quoteIfUnprintable(rawSource));
  const binary = paint(color, MAGENTA, quoteIfUnprintable(p.binary));
  return {
    info: `${source} ${binary}`,
    args: paint(color, CYAN, quoteIfUnprintable(p.arguments)),
    caps: paint(color, MAGENTA, ''),
  };
}

/**
 * One compact line (no newline) for an event, or undefined for events the compact format does not print
 * (rate_limit_info). Byte-identical to Tetragon v1.7 except that a binary, argument string, node name, pod
 * or signal containing an unprintable character is printed Go-quoted instead of raw.
 */
export function encodeEventCompact(event: ExecscopeEvent, options: CompactOptions): string | undefined {
  const { color } = options;
  let line: string;
  switch (event.kind) {
    case 'process_exec': {
      const label = paint(color, BLUE, '🚀 process');
      const { info, args, caps } = processPieces(event, color);
      line = withCapsTrailer(`${label} ${info} ${args}`, caps);
      break;
    }
    case 'process_exit': {
      const label = paint(color, BLUE, '💥 exit   ');
      const { info, args, caps } = processPieces(event, color);
      const status = paint(color, RED, event.signal !== '' ? quoteIfUnprintable(event.signal) : String(event.status));
      line = withCapsTrailer(`${label} ${info} ${args} ${status}`, caps);
      break;
    }
    case 'rate_limit_info':
      return undefined;
    case 'loss_report':
      line = lossLine(event, color);
      break;
  }
  return options.timestamps ? `${formatRfc3339Nano(event.time)} ${line}` : line;
}

/**
 * execscope's loss announcement: `⚠️ lost    <node> kernel_ring=N user_space=N unexplained=N [sink=N …]`.
 * Not a Tetragon event; printed so that a terminal user sees gaps where they happen.
 */
function lossLine(event: LossReportEvent, color: boolean): string {
  const sinks = Object.entries(event.sinks)
    .filter(([, n]) => n > 0)
    .map(([name, n]) => `${name}=${n}`);
  const counts = [`kernel_ring=${event.kernelRing}`, `user_space=${event.userSpace}`, `unexplained=${event.unexplained}`, ...sinks].join(' ');
  return `${paint(color, RED, '⚠️  lost   ')} ${paint(color, GREEN, quoteIfUnprintable(event.nodeName))} ${counts}`;
}
