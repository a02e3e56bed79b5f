import type { LeaseRecord } from '../../store/ports/leases.ts';

/** 32-bit FNV-1a of `member \n miner`, then murmur3's finaliser so near ids spread evenly. */
function score(member: string, miner: string): number {
  let h = 2166136261;
  const s = `${member}\n${miner}`;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * Which member of `view` a miner belongs to: rendezvous hashing (highest score wins), so a
 * member joining takes only its own share and a member leaving hands only its share over; ties
 * go to the smaller id. null for an empty view.
 */
export function ownerOf(miner: string, view: readonly string[]): string | null {
  let best: string | null = null;
  let bestScore = -1;
  for (const m of view) {
    const s = score(m, miner);
    if (s > bestScore || (s === bestScore && best !== null && m < best)) {
      best = m;
      bestScore = s;
    }
  }
  return best;
}

/**
 * Which of `miners` a member may poll, given what it holds now, its advertised view and every
 * other live member's record (read in the same instant as its own renewal):
 * - it keeps what it holds that its view still gives it (no one else can have taken those: they
 *   saw its claim);
 * - it takes what its view gives it only if no other live member claims it — by its current
 *   view, or by its previous view while that change is younger than settleMs (the other may have
 *   polled it less than one interval ago).
 * Two members never hold one miner: each claims through its advertised view before taking, and
 * takes only after reading that no one else claims.
 */
export function assignedMiners(o: {
  self: string;
  view: readonly string[];
  held: ReadonlySet<string>;
  others: readonly LeaseRecord[];
  nowMs: number;
  settleMs: number;
  miners: Iterable<string>;
}): Set<string> {
  const out = new Set<string>();
  const others = o.others.filter(r => r.member !== o.self);
  const unsettled = others.filter(r => o.nowMs - r.sinceMs < o.settleMs && r.prev.length > 0);
  for (const id of o.miners) {
    if (ownerOf(id, o.view) !== o.self) continue;
    if (o.held.has(id)) {
      out.add(id);
      continue;
    }
    if (others.some(r => ownerOf(id, r.view) === r.member)) continue;
    if (unsettled.some(r => ownerOf(id, r.prev) === r.member)) continue;
    out.add(id);
  }
  return out;
}
