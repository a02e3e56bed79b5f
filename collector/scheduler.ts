import PQueue from 'p-queue';
import type { Logger } from '../runtime/logger.ts';
import type { CollectorMetrics } from './metrics.ts';
import type { MinerClientPool } from './miner-client-pool.ts';
import { MinHeap } from './min-heap.ts';
import { pollMiner, MinerTracker, type PollOutcome, type PollSettings } from './poller.ts';
import type { InventoryMiner } from './inventory/schema.ts';

/** Receives what polls produce; the collector service turns it into points, snapshots and events. */
export interface PollSink {
  polled(t: MinerTracker, outcome: Extract<PollOutcome, { ok: true }>): void;
  missed(t: MinerTracker, outcome: Extract<PollOutcome, { ok: false }> | null, timeMs: number): void;
  /** a status pushed by the miner's GetMinerStatus stream between polls */
  statusPushed(t: MinerTracker, minerStatus: string): void;
  cycle(trackers: Iterable<MinerTracker>, stats: CycleStats): void;
}

export interface CycleStats {
  index: number;
  polls: number;
  durationMs: number;
  /** worst delay between a poll's due time and its start */
  lagMs: number;
  endedMs: number;
}

export interface SchedulerOptions {
  /** Default poll interval; a site may override it per miner (InventoryMiner.poll_interval_ms). */
  intervalMs: number;
  /** Most polls in flight fleet-wide. */
  concurrency: number;
  /** Consecutive failed polls after which a miner counts as offline. */
  offlineAfterMisses: number;
  /** Cap of the exponential backoff between probes of an offline miner. */
  backoffMaxMs: number;
  statusStream: boolean;
  poll: Omit<PollSettings, 'streamActive'>;
  pool: MinerClientPool;
  sink: PollSink;
  /** checked when a poll is due: false skips it (the miner is not this process's to poll right now: collector/leases/) */
  mayPoll?: (id: string) => boolean;
  /**
   * With poll threads, which own their miners' sets but cannot call mayPoll: until when (epoch
   * ms) this process may poll at all (its leases' validity), read by the threads on every tick.
   */
  pollableUntilMs?: () => number;
  /** checked whenever a poll brought fresh details: false keeps nothing of that poll (device-identity.ts) */
  admit?: (t: MinerTracker) => Promise<boolean>;
  metrics: CollectorMetrics;
  log: Logger;
  /** Scheduler resolution. @defaultValue 50 */
  tickMs?: number;
}

/** Stable spread of start times over the interval, from the miner id. */
function phaseOf(id: string, intervalMs: number): number {
  let h = 2166136261;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 16777619);
  return ((h >>> 0) % 10_000) / 10_000 * intervalMs;
}

/**
 * Polls every miner on its interval through one bounded queue. Start times are spread over
 * the interval (no thundering herd); a poll that would overlap its predecessor is skipped and
 * counted; unreachable miners back off exponentially (capped) and are marked offline after
 * N misses; a slow miner only holds its own slot.
 */
export class PollScheduler {
  readonly trackers = new Map<string, MinerTracker>();
  private readonly opts: SchedulerOptions;
  private readonly queue: PQueue;
  /** due times of trackers; an entry of a tracker since removed (even if its id came back) is dropped when popped */
  private heap = new MinHeap<MinerTracker>();
  private timer: NodeJS.Timeout | null = null;
  private cycleTimer: NodeJS.Timeout | null = null;
  private running = false;
  private epochMs = Date.now();
  private cycleIndex = 0;
  private cycle = { polls: 0, firstStart: 0, lastEnd: 0, lagMs: 0 };

  constructor(opts: SchedulerOptions) {
    this.opts = opts;
    this.queue = new PQueue({ concurrency: opts.concurrency });
  }

  private intervalOf(t: MinerTracker): number {
    return t.inv.poll_interval_ms ?? this.opts.intervalMs;
  }

  /** Reconcile with a new inventory: add, update and remove miners. */
  setInventory(miners: InventoryMiner[]): void {
    const now = Date.now();
    const seen = new Set<string>();
    for (const m of miners) {
      seen.add(m.id);
      const existing = this.trackers.get(m.id);
      if (existing) {
        const moved = existing.inv.host !== m.host || existing.inv.port !== m.port || existing.inv.credentials !== m.credentials;
        existing.update(m);
        if (moved) {
          existing.stream?.abort();
          existing.stream = null;
          existing.needDetails = true;
          existing.probeAfterMs = 0;
        }
        continue;
      }
      const t = new MinerTracker(m);
      this.trackers.set(m.id, t);
      const iv = this.intervalOf(t);
      // First poll soon, still spread: within one interval from now.
      const due = now + ((phaseOf(m.id, iv) - ((now - this.epochMs) % iv) + iv) % iv);
      this.heap.push(due, t);
    }
    for (const [id, t] of this.trackers) {
      if (!seen.has(id)) {
        t.stream?.abort();
        this.trackers.delete(id);
      }
    }
    this.opts.pool.retain(seen);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.epochMs = Date.now();
    this.timer = setInterval(() => this.tick(), this.opts.tickMs ?? 50);
    this.cycleTimer = setInterval(() => this.endCycle(), this.opts.intervalMs);
  }

  private tick(): void {
    const now = Date.now();
    for (;;) {
      const key = this.heap.peekKey();
      if (key === undefined || key > now) break;
      const { key: due, value: t } = this.heap.pop()!;
      if (this.trackers.get(t.ref.id) !== t) continue; // removed from inventory
      this.heap.push(due + this.intervalOf(t), t);
      if (this.opts.mayPoll && !this.opts.mayPoll(t.ref.id)) continue;
      this.dispatch(t, due, now);
    }
    this.opts.metrics.queueDepth.set(this.queue.size);
  }

  private dispatch(t: MinerTracker, dueMs: number, now: number): void {
    if (t.inFlight) {
      this.opts.metrics.pollsSkipped.inc();
      return;
    }
    if (now < t.probeAfterMs) {
      // Backing off: no RPC, but availability still gets its up=0 point for this interval.
      this.opts.sink.missed(t, null, now);
      return;
    }
    t.inFlight = true;
    void this.queue.add(async () => {
      const started = Date.now();
      this.cycle.polls++;
      if (this.cycle.firstStart === 0) this.cycle.firstStart = started;
      this.cycle.lagMs = Math.max(this.cycle.lagMs, started - dueMs);
      try {
        await this.pollOnce(t);
      } finally {
        t.inFlight = false;
        this.cycle.lastEnd = Date.now();
      }
    }).catch(err => {
      // stop() clears the queue; polls that never started are dropped on purpose.
      if (!this.running) return;
      this.opts.log.error({ miner: t.ref.id, err: (err as Error).message }, 'poll crashed');
    });
  }

  /** Poll one miner now (also used by tests and the first cycle). */
  async pollOnce(t: MinerTracker): Promise<PollOutcome> {
    const client = this.opts.pool.get({ id: t.inv.id, host: t.inv.host, port: t.inv.port, credentials: t.inv.credentials });
    const outcome = await pollMiner(t, client, { ...this.opts.poll, streamActive: t.stream !== null });
    // A device another entry holds: nothing polled through this entry is kept (it is being held back).
    if (outcome.ok && outcome.detailsRefreshed && t.details && this.opts.admit && !(await this.opts.admit(t))) return outcome;
    t.lastPollMs = Date.now();
    this.opts.metrics.pollDuration.observe(outcome.durationMs / 1_000);
    if (outcome.ok) {
      this.opts.metrics.polls.inc({ result: 'ok', reason: 'none' });
      t.failures = 0;
      t.probeAfterMs = 0;
      t.lastError = null;
      t.lastSeenMs = t.lastPollMs;
      this.opts.sink.polled(t, outcome);
      if (this.opts.statusStream && !t.stream) this.subscribe(t, client);
    } else {
      this.opts.metrics.polls.inc({ result: 'error', reason: outcome.reason });
      this.opts.metrics.rpcErrors.inc({ rpc: outcome.rpc, reason: outcome.reason });
      t.failures++;
      t.lastError = outcome.reason;
      t.needDetails = true;
      const over = t.failures - this.opts.offlineAfterMisses;
      if (over >= 0) t.probeAfterMs = Date.now() + Math.min(this.intervalOf(t) * 2 ** over, this.opts.backoffMaxMs);
      this.opts.sink.missed(t, outcome, t.lastPollMs);
    }
    return outcome;
  }

  get offlineAfterMisses(): number {
    return this.opts.offlineAfterMisses;
  }

  private subscribe(t: MinerTracker, client: ReturnType<MinerClientPool['get']>): void {
    const ctl = new AbortController();
    t.stream = ctl;
    client
      .watchStatus(status => {
        if (status === t.minerStatus) return;
        t.minerStatus = status;
        this.opts.sink.statusPushed(t, status);
      }, ctl.signal)
      .catch(err => {
        if (!ctl.signal.aborted && (err as { code?: string }).code !== 'unsupported') {
          this.opts.metrics.rpcErrors.inc({ rpc: 'MinerService.GetMinerStatus', reason: (err as { code?: string }).code ?? 'miner_error' });
        }
      })
      .finally(() => {
        // Stream ended (reboot, network): details are refreshed and the stream re-opened after the next good poll.
        if (t.stream === ctl) {
          t.stream = null;
          t.needDetails = true;
        }
      });
  }

  private endCycle(): void {
    const c = this.cycle;
    const now = Date.now();
    const stats: CycleStats = {
      index: this.cycleIndex++,
      polls: c.polls,
      durationMs: c.polls > 0 ? Math.max(0, c.lastEnd - c.firstStart) : 0,
      lagMs: c.lagMs,
      endedMs: now,
    };
    this.cycle = { polls: 0, firstStart: 0, lastEnd: 0, lagMs: 0 };
    this.opts.metrics.cycleDuration.observe(stats.durationMs / 1_000);
    this.opts.metrics.cycleLag.set(Math.max(0, stats.lagMs) / 1_000);
    this.opts.metrics.lastCycleTimestamp.set(now / 1_000);
    this.opts.sink.cycle(this.trackers.values(), stats);
  }

  /** Stop scheduling and wait for in-flight polls; streams are closed. */
  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearInterval(this.timer);
    if (this.cycleTimer) clearInterval(this.cycleTimer);
    this.timer = null;
    this.cycleTimer = null;
    this.queue.clear();
    await this.queue.onIdle();
    for (const t of this.trackers.values()) t.stream?.abort();
  }
}
