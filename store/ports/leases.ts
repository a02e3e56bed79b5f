/**
 * Membership leases of the collector processes sharing one fleet (collector/leases/). Each
 * member renews a record that expires ttlMs after its last renewal; the record carries the
 * member set the member has applied (its "view") and the view before it, with the store's time
 * of the change, so every member can tell which miners another member may still be polling
 * (collector/leases/assignment.ts). Times are the store's clock, never a member's, so members on
 * different hosts agree on expiry and age.
 *
 * influx-redis: one Redis HASH per member with PEXPIRE, renewed and read in one script (atomic:
 * a member's renewal and what it reads of the others are one instant). embedded: in this process
 * (one process; nothing to share, nothing that must survive a restart).
 * Every method throws FleetError('unavailable') when the store cannot be reached.
 */
export interface LeaseRecord {
  /** the member's id (COLLECTOR_ID) */
  member: string;
  /** the member ids whose assignment this member applies, sorted; [] = it holds nothing */
  view: readonly string[];
  /** the view before `view` ([] when the record is new, e.g. after it expired) */
  prev: readonly string[];
  /** store time (epoch ms) at which `view` replaced `prev` */
  sinceMs: number;
}

export interface LeaseRound {
  /** the store's clock at the instant of the read (epoch ms) */
  nowMs: number;
  /** every member whose lease has not expired, sorted by id */
  members: LeaseRecord[];
}

export interface LeaseRenewal extends LeaseRound {
  /** false when the member had no live record before this renewal (new, released or expired) */
  continued: boolean;
  /** the `instance` of the renewal before this one (null when none): another process's means two processes share one member id */
  previousInstance: string | null;
}

export interface LeasesPort {
  /**
   * Renew `member`'s lease for ttlMs advertising `view`, and read every live member's record in
   * the same instant. A view different from the stored one becomes `view` with the stored one as
   * `prev` and sinceMs = now; an unchanged view keeps prev and sinceMs; a member without a live
   * record (new, or expired) starts over with prev []. `instance` (the renewing process, e.g. a
   * random id per start) is stored and the one stored before is returned.
   */
  renew(member: string, view: readonly string[], ttlMs: number, instance?: string): Promise<LeaseRenewal>;
  /** every live member's record, renewing nothing */
  round(): Promise<LeaseRound>;
  /** end `member`'s lease now (clean stop), so the others need not wait for it to expire */
  release(member: string): Promise<void>;
}
