// receiver/src/process/wall-clock.ts
// Turns kernel boot-clock nanoseconds into wall-clock HrTime, following NTP steps by re-sampling.

import { hrTimeFromNanos, type HrTime } from '../model/hr-time.js';

export type ClockSampler = () => { readonly boottimeNs: bigint; readonly realtimeNs: bigint };

const NS_PER_S = 1_000_000_000;
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

export class WallClock {
  private _offset: bigint;
  private _offsetSec = 0;
  private _offsetNsec = 0;
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
    // Number arithmetic is exact below 2^53 ns (104 days of uptime) and avoids BigInt allocations.
    if (ns <= MAX_SAFE && this._offset >= 0n) {
      const n = Number(ns);
      const sec = Math.floor(n / NS_PER_S);
      let nsec = n - sec * NS_PER_S + this._offsetNsec;
      let total = sec + this._offsetSec;
      if (nsec >= NS_PER_S) {
        nsec -= NS_PER_S;
        total += 1;
      }
      return [total, nsec];
    }
    return hrTimeFromNanos(ns + this._offset);
  }
  private _measure(): bigint {
    const { boottimeNs, realtimeNs } = this._sample();
    this._sampledAt = this._now();
    const offset = realtimeNs - boottimeNs;
    this._offsetSec = Number(offset / 1_000_000_000n);
    this._offsetNsec = Number(offset % 1_000_000_000n);
    return offset;
  }
}

/** A sampler from Node alone (µs precision), for tests and replay without the addon. */
export const processClockSampler: ClockSampler = () => {
  const boottimeNs = process.hrtime.bigint();
  const realtimeNs = BigInt(Math.round((performance.timeOrigin + performance.now()) * 1000)) * 1000n;
  return { boottimeNs, realtimeNs };
};
