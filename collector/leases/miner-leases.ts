import { randomUUID } from 'node:crypto';
import { isFleetError } from '../../core/errors.ts';
import type { Logger } from '../../runtime/logger.ts';
import type { LeaseRecord, LeaseRenewal, LeasesPort } from '../../store/ports/leases.ts';
import { assignedMiners } from './assignment.ts';

export interface MinerLeasesOptions {
  leases: LeasesPort;
  /** this process's member id (COLLECTOR_ID) */
  member: string;
  /** a member that stops renewing loses its miners this long after its last renewal */
  ttlMs: number;
  /** the poll interval: a miner handed over is polled by its new member no sooner than this after the old one let it go */
  settleMs: number;
  log: Logger;
  /** the owned set changed (called synchronously; read owns()) */
  onChange: () => void;
  /** a member whose lease ended (stopped or expired) since the last round */
  onMemberGone?: (member: string) => void;
  /** owned miners and live members, for /metrics */
  gauges?: { owned(n: number): void; members(n: number): void };
}

/**
 * This process's share of the fleet when several collector processes poll it: renews its lease
 * every ttl/3, applies the member set it sees (collector/leases/assignment.ts decides what it may
 * poll) and tells the collector when its share changes.
 *
 * Losing the lease stops polling: when no renewal has come back in time (a stalled event loop, a
 * store that does not answer) owns() turns false — checked as each poll falls due, so a timer
 * running late cannot let one through — at least one interval before the store may expire the
 * record, and a renewal that finds its record gone starts over with nothing. A store
 * that refuses at once (down, not slow) is the exception: every member then keeps what it holds,
 * since no one can take anything over without the store; a member cut off alone from a store the
 * others still reach would then poll its miners alongside the ones that took them over, until it
 * reaches the store again.
 */
export class MinerLeases {
  private readonly o: MinerLeasesOptions;
  private readonly heartbeatMs: number;
  private readonly marginMs: number;
  private miners: string[] = [];
  private held = new Set<string>();
  private view: string[] = [];
  private last: LeaseRenewal | null = null;
  private hadLease = false;
  private storeRefused = false;
  private timer: NodeJS.Timeout | null = null;
  private ticking: Promise<void> | null = null;
  private stopped = false;
  /** between letting go for a new view and the store having it: take nothing meanwhile */
  private changingView = false;
  /** performance.now() after which our lease may have expired in the store */
  private validUntilMs = 0;
  private readonly instance = randomUUID();
  private twinWarnedMs = 0;

  constructor(o: MinerLeasesOptions) {
    this.o = o;
    this.heartbeatMs = Math.max(5, Math.floor(o.ttlMs / 3));
    // Stop at least one interval before the store may expire us, so whoever takes over polls a
    // miner no sooner than one interval after our last poll (but keep one renewal of slack).
    this.marginMs = Math.min(Math.max(this.heartbeatMs, o.settleMs), o.ttlMs - this.heartbeatMs);
  }

  /** Whether the miner is this process's share (its trackers); owns() says whether to poll it right now. */
  holds(id: string): boolean {
    return this.held.has(id);
  }

  /** Whether this process may poll the miner now. */
  owns(id: string): boolean {
    if (!this.held.has(id)) return false;
    // Alone at the last round: no one to hand over to, so a late renewal costs no polls.
    if (this.storeRefused || (this.last?.members.length ?? 0) <= 1) return true;
    return performance.now() < this.validUntilMs;
  }

  /**
   * Until when (epoch ms) this process may poll what it holds, for poll threads that cannot
   * call owns(): Infinity while no one else could take over.
   */
  pollableUntilMs(): number {
    if (this.storeRefused || (this.last?.members.length ?? 0) <= 1) return Infinity;
    return Date.now() + (this.validUntilMs - performance.now());
  }

  get ownedCount(): number {
    return this.held.size;
  }

  /** Every miner of the inventory (this process's copy); the share is taken from these. */
  setMiners(ids: Iterable<string>): void {
    this.miners = [...ids];
    const all = new Set(this.miners);
    let changed = false;
    for (const id of this.held) if (!all.has(id)) changed = this.held.delete(id) || changed;
    // New miners can be taken from the last round's records: our claims have not changed since.
    if (this.last && !this.stopped && !this.changingView) changed = this.take(this.last) || changed;
    else if (this.alone()) changed = this.takeAll() || changed;
    if (changed) this.changed();
  }

  /** First round (waits for it, so the first inventory is assigned), then every ttl/3. */
  async start(): Promise<void> {
    await this.tick();
    this.timer = setInterval(() => void this.tick(), this.heartbeatMs);
  }

  /** End the lease now (after the scheduler stopped), so the others take over at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.ticking;
    // The collector has stopped polling; its trackers stay for its last flush.
    this.held.clear();
    await this.o.leases.release(this.o.member).catch(err => this.o.log.warn({ err: (err as Error).message }, 'lease not released (store unavailable); the other collectors take over when it expires'));
  }

  private tick(): Promise<void> {
    if (this.ticking || this.stopped) return this.ticking ?? Promise.resolve();
    this.ticking = this.round()
      .catch(err => {
        if (isFleetError(err) && err.code === 'unavailable') {
          if (!this.storeRefused) this.o.log.warn({ err: err.message }, 'lease not renewed (store unavailable): keeping this collector\'s miners until it is back');
          this.storeRefused = true;
          if (this.alone() && this.takeAll()) this.changed();
        } else this.o.log.error({ err: (err as Error).message }, 'lease round failed');
      })
      .finally(() => {
        this.ticking = null;
      });
    return this.ticking;
  }

  private async round(): Promise<void> {
    let r = await this.renew(this.view);
    if (this.stopped) return;
    const live = r.members.map(m => m.member);
    const self = r.members.find(m => m.member === this.o.member);
    // Our view changes at most once per settleMs (unless it held nothing), so `prev` in our
    // record always covers what we may have polled within the last interval.
    const settled = !self || self.prev.length === 0 || r.nowMs - self.sinceMs >= this.o.settleMs;
    if (!sameMembers(live, this.view) && settled) {
      const next = [...live].sort();
      // Let go of what the new view gives others before claiming it (and before they can take it).
      const keep = assignedMiners({ self: this.o.member, view: next, held: this.held, others: [], nowMs: r.nowMs, settleMs: 0, miners: this.held });
      if (keep.size !== this.held.size) {
        this.held = keep;
        this.changed();
      }
      this.changingView = true;
      try {
        r = await this.renew(next);
      } finally {
        this.changingView = false;
      }
      if (this.stopped) return;
    }
    if (this.take(r)) this.changed();
    this.o.gauges?.members(r.members.length);
  }

  /** Advertise `view` (it becomes ours once the store has it: nothing is taken under a view not yet advertised). */
  private async renew(view: string[]): Promise<LeaseRenewal> {
    const sentMs = performance.now();
    const r = await this.o.leases.renew(this.o.member, view, this.o.ttlMs, this.instance);
    this.view = view;
    // Another process renewed under our id since our last renewal (the first one may see our previous start's).
    if (this.hadLease && r.previousInstance !== null && r.previousInstance !== this.instance && Date.now() - this.twinWarnedMs > 60_000) {
      this.twinWarnedMs = Date.now();
      this.o.log.error({ member: this.o.member }, `another collector process uses COLLECTOR_ID ${this.o.member}: both poll the same miners and overwrite each other's aggregates; give each process its own COLLECTOR_ID`);
    }
    this.storeRefused = false;
    this.extendValidity(sentMs);
    if (!r.continued && this.hadLease && this.held.size > 0) {
      // Our lease expired meanwhile: others may hold our miners now.
      this.o.log.warn({ member: this.o.member }, 'collector lease had expired: dropping its miners and joining again');
      this.held.clear();
      this.view = [];
      this.changed();
    }
    this.hadLease = true;
    const gone = (this.last?.members ?? []).filter(m => !r.members.some(n => n.member === m.member));
    this.last = r;
    for (const g of gone) if (g.member !== this.o.member) this.o.onMemberGone?.(g.member);
    return r;
  }

  /** Never had a lease and the store refuses: poll like a lone collector until it answers. */
  private alone(): boolean {
    return this.storeRefused && !this.hadLease && !this.stopped;
  }

  private takeAll(): boolean {
    if (this.held.size === this.miners.length) return false;
    if (this.held.size === 0) this.o.log.warn('store unavailable at start: this collector polls the whole inventory until it can take its lease (other collectors of this fleet may poll the same miners meanwhile)');
    this.held = new Set(this.miners);
    return true;
  }

  private take(r: LeaseRenewal): boolean {
    const others: LeaseRecord[] = r.members.filter(m => m.member !== this.o.member);
    const next = assignedMiners({ self: this.o.member, view: this.view, held: this.held, others, nowMs: r.nowMs, settleMs: this.o.settleMs, miners: this.miners });
    if (next.size === this.held.size && [...next].every(id => this.held.has(id))) return false;
    this.held = next;
    return true;
  }

  /** Polls stop (owns() false) once the store may be about to expire us without a renewal having come back. */
  private extendValidity(sentMs: number): void {
    this.validUntilMs = sentMs + this.o.ttlMs - this.marginMs;
  }

  private changed(): void {
    this.o.gauges?.owned(this.held.size);
    this.o.onChange();
  }
}

function sameMembers(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  const s = new Set(b);
  return a.every(x => s.has(x));
}
