// receiver/src/otel/rfc3339-formatter.ts
// hrTimeToRfc3339 with the date part cached per second: bursts of events share their second.

import { hrTimeToRfc3339 } from '../model/hr-time.js';
import type { HrTime } from '../model/hr-time.js';

/**
 * Formats exactly as hrTimeToRfc3339 (fraction trimmed to 0, 3, 6 or 9 digits) but builds the date part
 * (a Date and toISOString) only when the second changes; that was ~7% of the export path's CPU.
 * Keep one instance per kind of time (creation, exit) so they do not evict each other.
 */
export class Rfc3339Formatter {
  private _second = Number.NaN;
  private _prefix = '';

  format(t: HrTime): string {
    if (t[0] !== this._second) {
      this._second = t[0];
      this._prefix = hrTimeToRfc3339([t[0], 0]).slice(0, -1);
    }
    const nsec = t[1];
    if (nsec === 0) return `${this._prefix}Z`;
    const digits = String(nsec).padStart(9, '0');
    if (nsec % 1_000_000 === 0) return `${this._prefix}.${digits.slice(0, 3)}Z`;
    if (nsec % 1_000 === 0) return `${this._prefix}.${digits.slice(0, 6)}Z`;
    return `${this._prefix}.${digits}Z`;
  }
}
