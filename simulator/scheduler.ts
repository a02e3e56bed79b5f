// The fleet's only timer: scheduled transitions (reboot completion, reboot loops, deferred
// shutdowns) sit in one list and a single setTimeout is armed for the earliest of them.

export type Cancel = () => void;

interface Entry {
  at: number;
  seq: number;
  fn: () => void;
  cancelled: boolean;
  keepAlive: boolean;
}

export class Scheduler {
  private readonly entries: Entry[] = [];
  private timer: NodeJS.Timeout | undefined;
  private armedFor = Infinity;
  private seq = 0;
  private stopped = false;
  private readonly now: () => number;
  private readonly onError: (err: unknown) => void;

  constructor(now: () => number, onError: (err: unknown) => void) {
    this.now = now;
    this.onError = onError;
  }

  /**
   * Runs `fn` at `atMs` (or as soon as possible if that is in the past). With `keepAlive` the
   * process stays up until it has run: a miner coming back from a reboot is the simulator's own
   * work, and when every miner is down nothing else (no listening socket) holds the process.
   */
  at(atMs: number, fn: () => void, opts: { keepAlive?: boolean } = {}): Cancel {
    const entry: Entry = { at: atMs, seq: this.seq++, fn, cancelled: false, keepAlive: opts.keepAlive ?? false };
    if (this.stopped) return () => undefined;
    this.entries.push(entry);
    this.arm();
    return () => {
      entry.cancelled = true;
    };
  }

  after(delayMs: number, fn: () => void, opts: { keepAlive?: boolean } = {}): Cancel {
    return this.at(this.now() + delayMs, fn, opts);
  }

  get pending(): number {
    return this.entries.filter(e => !e.cancelled).length;
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.entries.length = 0;
  }

  private arm(): void {
    let next = Infinity;
    for (const e of this.entries) if (!e.cancelled && e.at < next) next = e.at;
    if (next === Infinity) {
      if (this.timer) clearTimeout(this.timer);
      this.timer = undefined;
      this.armedFor = Infinity;
      return;
    }
    const keepAlive = this.entries.some(e => !e.cancelled && e.keepAlive);
    if (this.timer && next >= this.armedFor) {
      if (keepAlive) this.timer.ref();
      return;
    }
    if (this.timer) clearTimeout(this.timer);
    this.armedFor = next;
    this.timer = setTimeout(() => this.fire(), Math.max(0, next - this.now()));
    if (!keepAlive) this.timer.unref();
  }

  private fire(): void {
    this.timer = undefined;
    this.armedFor = Infinity;
    const now = this.now();
    const due = this.entries
      .filter(e => !e.cancelled && e.at <= now)
      .sort((a, b) => a.at - b.at || a.seq - b.seq);
    for (let i = this.entries.length - 1; i >= 0; i--) {
      const e = this.entries[i] as Entry;
      if (e.cancelled || e.at <= now) this.entries.splice(i, 1);
    }
    for (const e of due) {
      try {
        e.fn();
      } catch (err) {
        this.onError(err);
      }
    }
    if (!this.stopped) this.arm();
  }
}
