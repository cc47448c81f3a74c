// test/unit/process/wall-clock.test.ts
// Boot-clock nanoseconds to wall-clock HrTime: the fast Number path must agree with exact BigInt arithmetic.

import test from 'ava';
import fc from 'fast-check';
import { hrTimeFromNanos } from '../../../receiver/src/model/hr-time.js';
import { WallClock } from '../../../receiver/src/process/wall-clock.js';

test('agrees with BigInt arithmetic to the nanosecond, below and above 2^53 ns of uptime', (t) => {
  fc.assert(
    fc.property(fc.bigInt({ min: 0n, max: 2n ** 62n }), fc.bigInt({ min: 1_000_000_000_000_000_000n, max: 2_000_000_000_000_000_000n }), (boot, offset) => {
      const clock = new WallClock(() => ({ boottimeNs: 0n, realtimeNs: offset }));
      const got = clock.fromBoottime(boot);
      const want = hrTimeFromNanos(boot + offset);
      return got[0] === want[0] && got[1] === want[1];
    }),
    { numRuns: 5000 },
  );
  t.pass();
});

test('re-samples the clocks after the interval (follows NTP steps)', (t) => {
  let now = 0;
  let offset = 1_000_000_000_000_000_000n;
  const clock = new WallClock(() => ({ boottimeNs: 0n, realtimeNs: offset }), 1000, () => now);
  t.deepEqual(clock.fromBoottime(0n), [1_000_000_000, 0]);
  offset += 5_000_000_000n;
  now = 500;
  t.deepEqual(clock.fromBoottime(0n), [1_000_000_000, 0]);
  now = 1500;
  t.deepEqual(clock.fromBoottime(0n), [1_000_000_005, 0]);
});
