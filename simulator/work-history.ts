// Cumulative work of one hashboard over time (GH done since bosminer start), so every hashrate
// window the API reports is a true time-average: (work(now) - work(now - window)) / window.
// Recent points are kept densely, older ones thinned, so memory stays bounded over 24 h.

/** Spacing of kept points by age: dense for the short windows, sparse for the day-long one. */
const TIERS = [
  { maxAgeMs: 120_000, spacingMs: 1_000 },
  { maxAgeMs: 3_600_000, spacingMs: 60_000 },
  { maxAgeMs: 86_400_000 + 900_000, spacingMs: 900_000 },
] as const;
/** Thin after this many new points. */
const COMPACT_EVERY = 64;

export class WorkHistory {
  private times: number[] = [];
  private work: number[] = [];
  private sinceCompact = 0;

  /** Starts over at `atMs` with no work done (bosminer start). */
  reset(atMs: number): void {
    this.times = [atMs];
    this.work = [0];
    this.sinceCompact = 0;
  }

  /** Records the cumulative work at `atMs` (non-decreasing times). */
  record(atMs: number, workGh: number): void {
    const n = this.times.length;
    if (n > 0 && atMs < this.times[n - 1]!) return;
    // the newest point is always exact; points closer than a second to it are replaced
    if (n >= 2 && atMs - this.times[n - 2]! < TIERS[0].spacingMs) {
      this.times[n - 1] = atMs;
      this.work[n - 1] = workGh;
      return;
    }
    this.times.push(atMs);
    this.work.push(workGh);
    if (++this.sinceCompact >= COMPACT_EVERY) this.compact(atMs);
  }

  /** Work done by `atMs`, linear between points; 0 before the first. */
  workAt(atMs: number): number {
    const t = this.times;
    const n = t.length;
    if (n === 0 || atMs <= t[0]!) return 0;
    if (atMs >= t[n - 1]!) return this.work[n - 1]!;
    let lo = 0;
    let hi = n - 1;
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (t[mid]! <= atMs) lo = mid;
      else hi = mid;
    }
    const f = (atMs - t[lo]!) / (t[hi]! - t[lo]!);
    return this.work[lo]! + f * (this.work[hi]! - this.work[lo]!);
  }

  /**
   * Mean rate over the last `windowMs` before `nowMs`, GH/s. While the history is younger than
   * the window (bosminer just started) the mean is over the time it has run.
   */
  meanGhs(nowMs: number, windowMs: number): number {
    if (this.times.length === 0) return 0;
    const span = Math.min(windowMs, nowMs - this.times[0]!);
    if (span <= 0) return 0;
    return (this.workAt(nowMs) - this.workAt(nowMs - span)) / (span / 1000);
  }

  get size(): number {
    return this.times.length;
  }

  private compact(nowMs: number): void {
    this.sinceCompact = 0;
    const keepT: number[] = [];
    const keepW: number[] = [];
    const n = this.times.length;
    let lastKept = Infinity;
    // newest to oldest; the oldest point inside the horizon keeps the window's left edge exact
    for (let i = n - 1; i >= 0; i--) {
      const t = this.times[i]!;
      const age = nowMs - t;
      const tier = TIERS.find(x => age <= x.maxAgeMs);
      const newest = i === n - 1;
      if (!tier) {
        // one point beyond the horizon bounds the longest window
        keepT.push(t);
        keepW.push(this.work[i]!);
        break;
      }
      if (newest || i === 0 || lastKept - t >= tier.spacingMs) {
        keepT.push(t);
        keepW.push(this.work[i]!);
        lastKept = t;
      }
    }
    this.times = keepT.reverse();
    this.work = keepW.reverse();
  }
}
