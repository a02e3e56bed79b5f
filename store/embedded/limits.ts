import type { LimitsPort, WindowHit } from '../ports/limits.ts';

/**
 * Rate-limit windows in memory: the embedded backend is one process, and a restart forgetting
 * the current windows only hands out at most one fresh window early.
 */
export class InProcessWindowCounter implements LimitsPort {
  private readonly windows = new Map<string, { count: number; endsMs: number }>();
  private readonly now: () => number;
  private nextSweepMs = 0;

  constructor(opts: { now?: () => number } = {}) {
    this.now = opts.now ?? Date.now;
  }

  async hit(limiter: string, subject: string, windowMs: number): Promise<WindowHit> {
    const now = this.now();
    if (now >= this.nextSweepMs) this.sweep(now, windowMs);
    const key = `${limiter}\u0000${subject}`;
    let w = this.windows.get(key);
    if (!w || now >= w.endsMs) {
      w = { count: 0, endsMs: now + windowMs };
      this.windows.set(key, w);
    }
    w.count += 1;
    return { count: w.count, ttlMs: w.endsMs - now };
  }

  /** Forgets ended windows, so one-off subjects (IPs) do not pile up. */
  private sweep(now: number, windowMs: number): void {
    for (const [k, w] of this.windows) if (now >= w.endsMs) this.windows.delete(k);
    this.nextSweepMs = now + Math.max(1_000, windowMs);
  }
}
