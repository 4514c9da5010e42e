/**
 * Per-key token buckets: each key may spend `burst` tokens at once and regains `ratePerSecond`
 * a second. Idle buckets are forgotten once full again, and the number tracked is bounded.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly ratePerSecond: number,
    private readonly burst: number,
    private readonly now: () => number = Date.now,
    private readonly maxKeys = 100_000,
  ) {}

  /**
   * Takes `cost` tokens from `key`'s bucket. Returns 0 when allowed, otherwise the whole
   * seconds to wait before the same request would be (and takes nothing).
   */
  take(key: string, cost = 1): number {
    if (this.ratePerSecond <= 0) return 0;
    const now = this.now();
    let b = this.buckets.get(key);
    if (!b) {
      if (this.buckets.size >= this.maxKeys) this.sweep(now);
      b = { tokens: this.burst, at: now };
      this.buckets.set(key, b);
    } else {
      b.tokens = Math.min(this.burst, b.tokens + ((now - b.at) / 1000) * this.ratePerSecond);
      b.at = now;
    }
    if (cost > this.burst) return Math.ceil((cost - b.tokens) / this.ratePerSecond) || 1;
    if (b.tokens >= cost) {
      b.tokens -= cost;
      return 0;
    }
    return Math.max(1, Math.ceil((cost - b.tokens) / this.ratePerSecond));
  }

  private sweep(now: number): void {
    for (const [key, b] of this.buckets) {
      if (b.tokens + ((now - b.at) / 1000) * this.ratePerSecond >= this.burst) this.buckets.delete(key);
    }
    // Still full of busy keys: drop the oldest rather than grow.
    while (this.buckets.size >= this.maxKeys) this.buckets.delete(this.buckets.keys().next().value!);
  }
}
