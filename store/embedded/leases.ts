import type { LeaseRecord, LeaseRenewal, LeaseRound, LeasesPort } from '../ports/leases.ts';
import { checkLeaseMember, checkLeaseTtl, decodeView, encodeView } from '../lease-member.ts';

/**
 * Leases in this process: the embedded backend runs one collector, so this only keeps the
 * contract (expiry, view history) for it; nothing needs to survive a restart.
 */
export class InProcessLeases implements LeasesPort {
  private readonly records = new Map<string, { view: string; prev: string; sinceMs: number; expiresMs: number; instance: string }>();
  private readonly now: () => number;

  constructor(opts: { now?: () => number } = {}) {
    this.now = opts.now ?? Date.now;
  }

  async renew(member: string, view: readonly string[], ttlMs: number, instance = ''): Promise<LeaseRenewal> {
    checkLeaseMember(member);
    checkLeaseTtl(ttlMs);
    const now = this.now();
    const v = encodeView(view);
    const cur = this.records.get(member);
    const continued = cur !== undefined && cur.expiresMs > now;
    const previousInstance = continued ? cur.instance : null;
    if (!continued) this.records.set(member, { view: v, prev: '', sinceMs: now, expiresMs: now + ttlMs, instance });
    else if (cur.view !== v) this.records.set(member, { view: v, prev: cur.view, sinceMs: now, expiresMs: now + ttlMs, instance });
    else Object.assign(cur, { expiresMs: now + ttlMs, instance });
    return { ...this.read(now), continued, previousInstance };
  }

  async round(): Promise<LeaseRound> {
    return this.read(this.now());
  }

  async release(member: string): Promise<void> {
    checkLeaseMember(member);
    this.records.delete(member);
  }

  private read(now: number): LeaseRound {
    const members: LeaseRecord[] = [];
    for (const [member, r] of this.records) {
      if (r.expiresMs <= now) {
        this.records.delete(member);
        continue;
      }
      members.push({ member, view: decodeView(r.view), prev: decodeView(r.prev), sinceMs: r.sinceMs });
    }
    members.sort((a, b) => (a.member < b.member ? -1 : a.member > b.member ? 1 : 0));
    return { nowMs: now, members };
  }
}
