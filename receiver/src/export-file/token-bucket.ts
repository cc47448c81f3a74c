// receiver/src/export-file/token-bucket.ts
// --export-rate-limit: a token bucket refilled at N per minute with a burst of N (golang.org/x/time/rate style).

export class TokenBucket {
  private _tokens: number;
  private _last: number;

  /** `perMinute` tokens per minute, bucket size `perMinute`; 0 takes nothing, ever. */
  constructor(
    private readonly _perMinute: number,
    private readonly _now: () => number = Date.now,
  ) {
    this._tokens = _perMinute;
    this._last = _now();
  }

  /** Takes one token if there is one. */
  tryTake(): boolean {
    const now = this._now();
    const elapsed = Math.max(0, now - this._last);
    this._last = now;
    this._tokens = Math.min(this._perMinute, this._tokens + (elapsed * this._perMinute) / 60_000);
    if (this._tokens < 1) return false;
    this._tokens -= 1;
    return true;
  }
}
