/**
 * Fixed-window hit counters for the rate limiters: the first hit of a (limiter, subject) opens a
 * window of windowMs, every hit in it counts, and the count starts over once it has passed.
 * influx-redis: shared by every API process (Redis); embedded: in this process (one process).
 * A hit rejects when the counters cannot be reached; the caller decides to fail open or closed.
 */
export interface WindowHit {
  /** hits in the current window, this one included */
  count: number;
  /** ms until the window ends */
  ttlMs: number;
}

export interface LimitsPort {
  hit(limiter: string, subject: string, windowMs: number): Promise<WindowHit>;
}
