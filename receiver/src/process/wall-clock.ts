// receiver/src/process/wall-clock.ts
// Turns kernel boot-clock nanoseconds into wall-clock HrTime, following NTP steps by re-sampling.

import { hrTimeFromNanos, type HrTime } from '../model/hr-time.js';

export type ClockSampler = () => { readonly boottimeNs: bigint; readonly realtimeNs: bigint };

export class WallClock {
  private _offset: bigint;
  private _sampledAt = 0;
  constructor(
    private readonly _sample: ClockSampler,
    private readonly _resampleMs = 10_000,
    private readonly _now: () => number = Date.now,
  ) {
    this._offset = this._measure();
  }
  /** Wall-clock time of a CLOCK_BOOTTIME instant. */
  fromBoottime(ns: bigint): HrTime {
    if (this._now() - this._sampledAt > this._resampleMs) this._offset = this._measure();
    return hrTimeFromNanos(ns + this._offset);
  }
  private _measure(): bigint {
    const { boottimeNs, realtimeNs } = this._sample();
    this._sampledAt = this._now();
    return realtimeNs - boottimeNs;
  }
}

/** A sampler from Node alone (µs precision), for tests and replay without the addon. */
export const processClockSampler: ClockSampler = () => {
  const boottimeNs = process.hrtime.bigint();
  const realtimeNs = BigInt(Math.round((performance.timeOrigin + performance.now()) * 1000)) * 1000n;
  return { boottimeNs, realtimeNs };
};
