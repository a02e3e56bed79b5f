// Pool groups of one miner: configuration (what PoolService edits) plus per-pool share counters.
// Within a group pools are fail-over ordered (the first enabled, alive pool is active); across
// groups work is split by quota (or fixed share ratio).
import type { PoolGroupConfiguration, PoolGroupConfigurationInput } from '../proto/types.ts';
import { poolDifficulty } from './physics.ts';
import { ALPHANUMERIC, Rng } from './random.ts';
import { invalidArgument } from './rpc-error.ts';

export const REJECTED_FRACTION = 0.003;
export const STALE_FRACTION = 0.001;

export interface PoolRuntime {
  uid: string;
  url: string;
  /** Host is in the reserved `.invalid` TLD: the pool never answers (precomputed from url). */
  unreachableHost: boolean;
  user: string;
  password?: string;
  enabled: boolean;
  /** Share counters (fractional internally; reported floored). */
  accepted: number;
  rejected: number;
  stale: number;
  /** Work in difficulty-1 shares. */
  diff1Work: number;
  lastDifficulty: number;
  lastShareMs: number | null;
  bestShare: number;
}

export interface PoolGroupRuntime {
  uid: string;
  name: string;
  quota?: number;
  fixedShareRatio?: number;
  pools: PoolRuntime[];
}

const URL_PATTERN = /^(stratum2?\+(tcp|ssl|tls):\/\/)?[A-Za-z0-9.-]+(:\d{1,5})(\/.*)?$/;

export function newPool(
  uid: string,
  url: string,
  user: string,
  enabled = true,
  password?: string,
): PoolRuntime {
  return {
    uid,
    url,
    unreachableHost: /\.invalid(:|\/|$)/i.test(url.replace(/^[a-z0-9+]+:\/\//i, '')),
    user,
    ...(password !== undefined ? { password } : {}),
    enabled,
    accepted: 0,
    rejected: 0,
    stale: 0,
    diff1Work: 0,
    lastDifficulty: 0,
    lastShareMs: null,
    bestShare: 0,
  };
}

/** Generates uids for pool groups and pools of one miner. */
export class UidSource {
  private readonly rng: Rng;

  constructor(seed: number) {
    this.rng = new Rng(seed);
  }

  next(): string {
    return this.rng.chars(12, ALPHANUMERIC);
  }
}

/** The pool setup a freshly provisioned miner has: Braiins Pool with a regional fail-over. */
export function defaultPoolGroups(uids: UidSource, worker: string): PoolGroupRuntime[] {
  return [
    {
      uid: uids.next(),
      name: 'Braiins Pool',
      quota: 1,
      pools: [
        newPool(uids.next(), 'stratum+tcp://eu.stratum.braiins.com:3333', worker),
        newPool(uids.next(), 'stratum+tcp://us-east.stratum.braiins.com:3333', worker),
      ],
    },
  ];
}

/** A pool is unreachable when the dead_pool fault is active or its host is in the `.invalid` TLD. */
export function poolAlive(pool: PoolRuntime, deadPool: boolean): boolean {
  return !deadPool && !pool.unreachableHost;
}

export function activePool(group: PoolGroupRuntime, deadPool: boolean): PoolRuntime | undefined {
  return group.pools.find(p => p.enabled && poolAlive(p, deadPool));
}

/** True when at least one group has a pool that accepts work. */
export function anyPoolAlive(groups: readonly PoolGroupRuntime[], deadPool: boolean): boolean {
  return groups.some(g => activePool(g, deadPool) !== undefined);
}

/** Share of the miner's work each group gets (by index), among groups with an active pool. */
function groupWeights(groups: readonly PoolGroupRuntime[], deadPool: boolean): number[] {
  const active = groups.map(g => activePool(g, deadPool) !== undefined);
  const quotaSum = groups.reduce(
    (s, g, i) => s + (active[i] && g.fixedShareRatio === undefined ? (g.quota ?? 1) : 0),
    0,
  );
  const ratioSum = groups.reduce(
    (s, g, i) => s + (active[i] && g.fixedShareRatio !== undefined ? g.fixedShareRatio : 0),
    0,
  );
  const rest = Math.max(0, 1 - ratioSum);
  const weights = groups.map((g, i) => {
    if (!active[i]) return 0;
    if (g.fixedShareRatio !== undefined) return g.fixedShareRatio;
    return quotaSum > 0 ? (rest * (g.quota ?? 1)) / quotaSum : 0;
  });
  const total = weights.reduce((s, w) => s + w, 0);
  return total > 0 ? weights.map(w => w / total) : weights;
}

/**
 * Credits `gh` (GH·s of work the miner did) to the active pools. `ghs` is the miner's current
 * hashrate, from which each pool's vardiff difficulty is derived.
 */
export function creditWork(
  groups: readonly PoolGroupRuntime[],
  gh: number,
  ghs: number,
  deadPool: boolean,
  nowMs: number,
): void {
  if (gh <= 0) return;
  const diff1 = (gh * 1e9) / 2 ** 32;
  const weights = groupWeights(groups, deadPool);
  groups.forEach((group, i) => {
    const w = weights[i] ?? 0;
    const pool = w > 0 ? activePool(group, deadPool) : undefined;
    if (!pool) return;
    const work = diff1 * w;
    const difficulty = poolDifficulty(Math.max(ghs * w, 1));
    const shares = work / difficulty;
    const before = Math.floor(pool.accepted);
    pool.diff1Work += work;
    pool.lastDifficulty = difficulty;
    pool.accepted += shares * (1 - REJECTED_FRACTION - STALE_FRACTION);
    pool.rejected += shares * REJECTED_FRACTION;
    pool.stale += shares * STALE_FRACTION;
    if (Math.floor(pool.accepted) > before) pool.lastShareMs = nowMs;
    // The best share of n shares at difficulty D is about n·D; keep it monotonic.
    pool.bestShare = Math.max(pool.bestShare, Math.round(difficulty * Math.sqrt(pool.accepted + 1) * 37));
  });
}

export function resetPoolCounters(groups: readonly PoolGroupRuntime[]): void {
  for (const g of groups) {
    for (const p of g.pools) {
      p.accepted = 0;
      p.rejected = 0;
      p.stale = 0;
      p.diff1Work = 0;
      p.lastShareMs = null;
      p.bestShare = 0;
    }
  }
}

/** Builds a group from its configuration (validated); keeps counters of pools whose uid or url match. */
export function groupFromConfig(
  cfg: PoolGroupConfiguration,
  uids: UidSource,
  previous: PoolGroupRuntime | undefined,
  opts: { uid?: string },
): PoolGroupRuntime {
  const name = cfg.name.trim();
  if (!name) throw invalidArgument('pool group name must not be empty');
  if (cfg.pools.length === 0) throw invalidArgument(`pool group '${name}' must have at least one pool`);
  const group: PoolGroupRuntime = { uid: opts.uid ?? uids.next(), name, pools: [] };
  if (cfg.load_balance_strategy === 'fixed_share_ratio') {
    const ratio = cfg.fixed_share_ratio?.value ?? 0;
    if (!(ratio > 0 && ratio <= 1))
      throw invalidArgument(`pool group '${name}': fixed_share_ratio must be in (0, 1], got ${ratio}`);
    group.fixedShareRatio = ratio;
  } else {
    const quota = cfg.quota?.value ?? 1;
    if (!(quota >= 1)) throw invalidArgument(`pool group '${name}': quota must be at least 1, got ${quota}`);
    group.quota = quota;
  }
  for (const p of cfg.pools) {
    const url = p.url.trim();
    if (!URL_PATTERN.test(url)) {
      throw invalidArgument(`pool url '${p.url}' is not a stratum URL such as stratum+tcp://host:3333`);
    }
    if (!p.user.trim()) throw invalidArgument(`pool ${url}: user must not be empty`);
    const old = previous?.pools.find(
      o => (p.uid !== undefined && o.uid === p.uid) || (o.url === url && o.user === p.user),
    );
    const pool = newPool(p.uid ?? old?.uid ?? uids.next(), url, p.user, p.enabled ?? true, p.password);
    if (old) {
      Object.assign(pool, {
        accepted: old.accepted,
        rejected: old.rejected,
        stale: old.stale,
        diff1Work: old.diff1Work,
        lastDifficulty: old.lastDifficulty,
        lastShareMs: old.lastShareMs,
        bestShare: old.bestShare,
      });
    }
    group.pools.push(pool);
  }
  return group;
}

/** The configuration view of a group (passwords are never returned). */
export function groupToConfig(group: PoolGroupRuntime): PoolGroupConfigurationInput {
  return {
    uid: group.uid,
    name: group.name,
    ...(group.fixedShareRatio !== undefined
      ? { fixed_share_ratio: { value: group.fixedShareRatio } }
      : { quota: { value: group.quota ?? 1 } }),
    pools: group.pools.map(p => ({ uid: p.uid, url: p.url, user: p.user, enabled: p.enabled })),
  };
}
