// receiver/src/agent/exec-throttle.ts
// --cgroup-rate: at most N exec events per interval per cgroup; the excess (and their exits) is dropped,
// counted and announced, so one runaway workload cannot flood the sinks.

import type { Logger } from '../logger.js';
import type { Counter, Gauge, MetricsRegistry } from '../metrics.js';
import type { Process } from '../model/process.js';

export interface ExecThrottleOptions {
  readonly events: number;
  readonly intervalMs: number;
  readonly logger: Logger;
  readonly metrics: MetricsRegistry;
  readonly now?: () => number;
}

interface Window {
  start: number;
  count: number;
  throttling: boolean;
  dropped: number;
}

/** Most exec_ids of throttled processes remembered so that their exits are dropped too. */
const THROTTLED_MAX = 65536;

export class ExecThrottle {
  private readonly _windows = new Map<string, Window>();
  private readonly _throttled = new Set<string>();
  private readonly _dropped: Counter;
  private readonly _active: Gauge;
  private readonly _now: () => number;
  private _lastSweep = 0;

  constructor(private readonly _o: ExecThrottleOptions) {
    this._now = _o.now ?? Date.now;
    this._dropped = _o.metrics.counter('execscope_exec_throttled_total', 'Exec and exit events dropped by --cgroup-rate, by kind.');
    this._active = _o.metrics.gauge('execscope_throttled_cgroups', 'Cgroups currently throttled by --cgroup-rate.');
    this._active.onCollect(() => {
      let n = 0;
      for (const w of this._windows.values()) if (w.throttling) n++;
      this._active.set(n);
    });
  }

  /** Whether this exec may be emitted; throttled ones are remembered so their exit is dropped as well. */
  allowExec(process: Process): boolean {
    const now = this._now();
    const key = process.cgroupPath;
    let w = this._windows.get(key);
    if (w === undefined) {
      w = { start: now, count: 0, throttling: false, dropped: 0 };
      this._windows.set(key, w);
    } else if (now - w.start >= this._o.intervalMs) {
      this._endWindow(key, w, now);
    }
    w.count++;
    if (now - this._lastSweep > 10 * this._o.intervalMs) this._sweep(now);
    if (w.count <= this._o.events) return true;
    if (!w.throttling) {
      w.throttling = true;
      this._o.logger.warn('throttle START: exec rate above --cgroup-rate', { 'cgroup.path': key, 'throttle.events': this._o.events, 'throttle.interval_ms': this._o.intervalMs });
    }
    w.dropped++;
    this._dropped.inc({ event: 'exec' });
    if (this._throttled.size >= THROTTLED_MAX) this._throttled.clear();
    this._throttled.add(process.execId);
    return false;
  }

  /** Whether this exit may be emitted (not when its exec was throttled). */
  allowExit(process: Process): boolean {
    if (!this._throttled.delete(process.execId)) return true;
    this._dropped.inc({ event: 'exit' });
    return false;
  }

  private _endWindow(key: string, w: Window, now: number): void {
    if (w.throttling && w.count <= this._o.events) {
      this._o.logger.warn('throttle STOP', { 'cgroup.path': key, 'throttle.dropped': w.dropped });
      w.throttling = false;
      w.dropped = 0;
    }
    w.start = now;
    w.count = 0;
  }

  /** Forgets cgroups that have been quiet for a while. */
  private _sweep(now: number): void {
    this._lastSweep = now;
    for (const [key, w] of this._windows) {
      if (now - w.start >= 2 * this._o.intervalMs) {
        if (w.throttling) this._endWindow(key, w, now);
        this._windows.delete(key);
      }
    }
  }
}

/** Parses Tetragon's "<events>,<interval>" (e.g. "1000,1s"). */
export function parseCgroupRate(value: string, parseDuration: (v: string) => number): { events: number; intervalMs: number } | undefined {
  const m = /^\s*(\d+)\s*,\s*(\S+)\s*$/.exec(value);
  if (m === null) return undefined;
  const events = Number(m[1]);
  const intervalMs = parseDuration(m[2] as string);
  if (!Number.isSafeInteger(events) || events <= 0 || intervalMs <= 0) return undefined;
  return { events, intervalMs };
}
