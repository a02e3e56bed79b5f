/**
 * Answers the console computes from slow reads (chart series from InfluxDB), kept for a short
 * time per key: every open fleet page asks for the same series, which change once a minute at
 * most. A failed read is not kept.
 */
export class AnswerCache<T> {
  private readonly entries = new Map<string, { atMs: number; value: Promise<T> }>();
  private readonly freshMs: number;
  private readonly maxEntries: number;

  constructor(opts: { freshMs: number; maxEntries: number }) {
    this.freshMs = opts.freshMs;
    this.maxEntries = opts.maxEntries;
  }

  get(key: string, load: () => Promise<T>, nowMs = Date.now()): Promise<T> {
    const hit = this.entries.get(key);
    if (hit && nowMs - hit.atMs < this.freshMs) return hit.value;
    const value = load();
    this.entries.delete(key);
    this.entries.set(key, { atMs: nowMs, value });
    value.catch(() => {
      if (this.entries.get(key)?.value === value) this.entries.delete(key);
    });
    // oldest first in insertion order
    while (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    return value;
  }
}
