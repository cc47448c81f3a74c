// receiver/src/model/hr-time.ts
// Wall-clock time as [seconds, nanoseconds], the shape OpenTelemetry calls HrTime.

/** Seconds since the Unix epoch and the nanoseconds within that second (0 ≤ nsec < 1e9). */
export type HrTime = readonly [sec: number, nsec: number];

/** Builds an HrTime from nanoseconds since the epoch, exactly (a Number would lose precision). */
export function hrTimeFromNanos(ns: bigint): HrTime {
  const sec = ns / 1_000_000_000n;
  return [Number(sec), Number(ns - sec * 1_000_000_000n)];
}

/** Nanoseconds since the epoch of an HrTime. */
export function hrTimeToNanos(t: HrTime): bigint {
  return BigInt(t[0]) * 1_000_000_000n + BigInt(t[1]);
}

/** RFC 3339 in UTC with the fraction trimmed to 0, 3, 6 or 9 digits, as protobuf's JSON mapping prints a Timestamp. */
export function hrTimeToRfc3339(t: HrTime): string {
  const base = new Date(t[0] * 1000).toISOString().slice(0, 19);
  const nsec = t[1];
  if (nsec === 0) return `${base}Z`;
  const digits = String(nsec).padStart(9, '0');
  if (nsec % 1_000_000 === 0) return `${base}.${digits.slice(0, 3)}Z`;
  if (nsec % 1_000 === 0) return `${base}.${digits.slice(0, 6)}Z`;
  return `${base}.${digits}Z`;
}
