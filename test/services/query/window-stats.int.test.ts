import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { redisKeys } from '../../../store/influx-redis/redis-keys.ts';
import { MinerRollups } from '../../../collector/rollups.ts';
import type { MinerRef, MinerSample } from '../../../core/samples.ts';
import { WindowStatsWriter } from '../../../collector/window-stats-writer.ts';
import { RedisState } from '../../../store/influx-redis/redis-state.ts';
import { WINDOW_RESOLUTIONS, encodeWindowStat, type WindowStat } from '../../../collector/window-stats.ts';
import { WindowBuckets } from '../../../services/query/window-buckets.ts';
import { planWindow, preloadUnits, readWindowStats } from '../../../services/query/window-stats.ts';

// Per-miner window statistics end to end against a real Redis: 52 hours of 10 s polls of four
// miners (known values, outages, one collector restart) go through MinerRollups and the
// collector's WindowStatsWriter; the reader's answers for windows made of day, hour and
// 5-minute buckets must equal statistics computed here straight from the polls fed in.
// History ends at the real clock's last 5-minute boundary, so the hashes' expiry times are real.

const POLL_MS = 10_000;
const MIN = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
// "Now" is kept in the middle of an hour (up to 50 min in the past): within a few minutes after
// an hour boundary a 1 h window is one hour bucket and a window's end needs no 5-minute bucket,
// which would make the plan assertions below depend on the time of day the suite runs.
const NOW = ((t: number): number => {
  const intoHour = t % HOUR;
  return intoHour >= 20 * MIN && intoHour <= 50 * MIN ? t : t - ((intoHour - 30 * MIN + HOUR) % HOUR);
})(Date.now());
const END = Math.floor(NOW / 300_000) * 300_000;
const START = END - 52 * HOUR;
/** the collector "restarts" here: a second MinerRollups/writer pair (new run id) carries on */
const RESTART = END - 90 * MIN + 7 * POLL_MS;

const MINERS = [
  { id: 'm-1', site: 's1', model: 'S19', nominal: 104_000 },
  { id: 'm-2', site: 's1', model: 'S21', nominal: 200_000 },
  { id: 'm-3', site: 's2', model: 'S19', nominal: 104_000 },
  { id: 'm-4', site: 's2,odd', model: 'S21 Hydro', nominal: 200_000 },
];
const ref = (m: (typeof MINERS)[number]): MinerRef => ({
  id: m.id,
  tenant: 't1',
  site: m.site,
  address: `${m.id}:50051`,
  credentials: 'default',
  labels: {},
});

/** Poll k of miner i, or null when unreachable (m-2 is down 5 h yesterday, m-3 the last 20 min). */
function poll(i: number, k: number): MinerSample | null {
  const m = MINERS[i]!;
  const t = START + k * POLL_MS;
  if (m.id === 'm-2' && t >= START + 20 * HOUR && t < START + 25 * HOUR) return null;
  if (m.id === 'm-3' && t >= END - 20 * MIN) return null;
  const wave = ((k * 7 + i * 3) % 13) - 6;
  return {
    time_ms: t,
    ref: ref(m),
    model: m.model,
    hostname: m.id,
    firmware: 'fw',
    status: 'online',
    degraded_reasons: [],
    miner_status: 'normal',
    tuner_state: 'stable',
    hashrate_ghs: m.nominal * (0.9 + 0.01 * i) + 100 * wave,
    hashrate_5m_ghs: m.nominal,
    hashrate_nominal_ghs: m.nominal,
    hashrate_error_mhs: 0,
    power_w: i === 3 && k % 5 === 0 ? null : 3_000 + 10 * wave,
    power_target_w: null,
    efficiency_jth: null,
    temp_chip_max_c: 70 + i + 0.5 * wave + (k % 8640 === 4321 ? 20 : 0),
    temp_board_max_c: 60 + i + 0.25 * wave,
    fan_rpm_min: 4000,
    fan_rpm_avg: 4100,
    shares_accepted: k,
    shares_rejected: 0,
    shares_stale: 0,
    uptime_s: k * 10,
    boards_hashing: 3,
    boards_total: 3,
    hashboards: [],
    fans: [],
    pools: [],
  };
}

const POLLS = (END - START) / POLL_MS;

/** Statistics of miner i over [from, to) computed from the polls, independent of the code under test. */
function expected(i: number, from: number, to: number) {
  let polls = 0;
  let reached = 0;
  let h = 0;
  let p = 0;
  let pn = 0;
  let t = 0;
  let tMax = -Infinity;
  let bMax = -Infinity;
  for (let k = 0; k < POLLS; k++) {
    const time = START + k * POLL_MS;
    if (time < from || time >= to) continue;
    polls++;
    const s = poll(i, k);
    if (!s) continue;
    reached++;
    h += s.hashrate_ghs;
    if (s.power_w !== null) {
      p += s.power_w;
      pn++;
    }
    t += s.temp_chip_max_c!;
    tMax = Math.max(tMax, s.temp_chip_max_c!);
    bMax = Math.max(bMax, s.temp_board_max_c!);
  }
  return { polls, reached, h: h / reached, p: p / pn, pn, tmean: t / reached, tmax: tMax, tboard: bMax };
}

/** Statistics of one miner over one bucket (no site or model), for writing a test value. */
function someStat(polls: number): WindowStat {
  return {
    site: 's1',
    model: 'S19',
    polls,
    reached: polls,
    hashrate_ghs: { sum: 100_000 * polls, n: polls },
    hashrate_nominal_ghs: { sum: 104_000 * polls, n: polls },
    power_w: { sum: 3_000 * polls, n: polls },
    temp_chip_max_c: { sum: 70 * polls, n: polls },
    temp_chip_max_max_c: 71,
    temp_board_max_c: 60,
  };
}

const prefix = `test:${randomUUID()}`;
const keys = redisKeys(prefix);
let redis: Redis;

beforeAll(async () => {
  redis = new Redis(inject('redisUrl'), { maxRetriesPerRequest: 1 });
  const run = async (runId: string, fromK: number, toK: number): Promise<void> => {
    const writer = new WindowStatsWriter(new RedisState(redis, keys), { runId, chunkSize: 500 });
    const rollups = new MinerRollups({ write: () => undefined }, { onWindow: w => writer.add(w) });
    for (let k = fromK; k < toK; k++) {
      for (let i = 0; i < MINERS.length; i++) {
        const s = poll(i, k);
        if (s) rollups.addSample(s);
        else rollups.addOffline(ref(MINERS[i]!), MINERS[i]!.model, START + k * POLL_MS);
      }
      if (k % 360 === 0) await writer.flush(); // the collector flushes every cycle
    }
    rollups.flushAll(); // shutdown: partial windows included
    await writer.flush();
  };
  const restartK = (RESTART - START) / POLL_MS;
  await run('c1.first', 0, restartK);
  await run('c1.second', restartK, POLLS);
});

afterAll(async () => {
  let cursor = '0';
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1_000);
    if (found.length > 0) await redis.del(...found);
    cursor = next;
  } while (cursor !== '0');
  redis.disconnect();
});

function check(rows: Awaited<ReturnType<typeof readWindowStats>>['rows'], from: number, to: number): void {
  expect(rows.map(r => r.key).sort()).toEqual(MINERS.map(m => m.id));
  for (const row of rows) {
    const i = MINERS.findIndex(m => m.id === row.key);
    const e = expected(i, from, to);
    expect(row.tags).toEqual({ miner: MINERS[i]!.id, site: MINERS[i]!.site, model: MINERS[i]!.model });
    expect(row.n.up, `${row.key} polls`).toBe(e.polls);
    expect(row.v.up! * row.n.up, `${row.key} reached`).toBeCloseTo(e.reached, 6);
    expect(row.n.h).toBe(e.reached);
    expect(row.v.h!).toBeCloseTo(e.h, 6);
    expect(row.v.n!).toBeCloseTo(MINERS[i]!.nominal, 6);
    expect(row.n.p).toBe(e.pn);
    expect(row.v.p!).toBeCloseTo(e.p, 6);
    expect(row.v.tmean!).toBeCloseTo(e.tmean, 6);
    expect(row.v.tmax).toBe(e.tmax);
    expect(row.v.tboard).toBe(e.tboard);
  }
}

describe('window statistics in Redis', () => {
  it('a 50 h window is cut into days, hours and 5-minute buckets and merges exactly', async () => {
    const plan = planWindow({ fromMs: END - 50 * HOUR, toMs: NOW }, NOW);
    const kinds = new Set(plan.units.map(u => u.res));
    // In a day's first hour the window ends before any whole hour of that day (seen at 00:30 UTC).
    expect(kinds).toEqual(new Set(END % DAY >= HOUR ? ['1d', '1h', '5m'] : ['1d', '5m']));
    // the start is older than the hourly retention: it moves to the nearest midnight
    expect(plan.fromMs % DAY).toBe(0);
    expect(Math.abs(plan.fromMs - (END - 50 * HOUR))).toBeLessThanOrEqual(DAY / 2);
    expect(plan.toMs).toBe(END); // the unfinished 5 minutes are in no bucket yet
    // contiguous, aligned, inside the window
    let t = plan.fromMs;
    for (const u of plan.units) {
      expect(u.startMs).toBe(t);
      expect(u.startMs % WINDOW_RESOLUTIONS[u.res].ms).toBe(0);
      t += WINDOW_RESOLUTIONS[u.res].ms;
    }
    expect(t).toBe(plan.toMs);
    const from = Math.max(plan.fromMs, START);
    const got = await readWindowStats(new WindowBuckets(new RedisState(redis, keys), { now: () => NOW }), 't1', plan);
    expect(got.covered).toEqual({
      fromMs: plan.units.find(u => u.startMs + WINDOW_RESOLUTIONS[u.res].ms > START)!.startMs,
      toMs: END,
    });
    check(got.rows, from, END);
  });

  it('a 1 h window reads 5-minute buckets across the collector restart', async () => {
    const plan = planWindow({ fromMs: NOW - HOUR, toMs: NOW }, NOW);
    expect(plan.units.every(u => u.res === '5m')).toBe(true);
    expect(plan.toMs).toBe(END);
    expect(plan.toMs - plan.fromMs).toBeGreaterThanOrEqual(55 * MIN);
    const got = await readWindowStats(new WindowBuckets(new RedisState(redis, keys), { now: () => NOW }), 't1', plan);
    check(got.rows, plan.fromMs, plan.toMs);
    // the restart bucket holds two fields for each miner (one per run), merged above
    const restartBucket = Math.floor(RESTART / 300_000) * 300_000;
    const fields = await redis.hkeys(keys.windowStats('t1', '5m', restartBucket));
    expect(fields.filter(f => f.startsWith('m-1|')).sort()).toEqual(['m-1|c1.first', 'm-1|c1.second']);
  });

  it('a 24 h window uses hours and 5-minute buckets and filters by site', async () => {
    const plan = planWindow({ fromMs: NOW - 24 * HOUR, toMs: NOW }, NOW);
    expect(plan.units.some(u => u.res === '1h')).toBe(true);
    expect(plan.units.some(u => u.res === '1d')).toBe(false);
    // a long window starts on the nearest hour: no 5-minute buckets at its start
    expect(plan.fromMs % HOUR).toBe(0);
    expect(Math.abs(plan.fromMs - (NOW - 24 * HOUR))).toBeLessThanOrEqual(30 * MIN);
    expect(plan.units[0]!.res).toBe('1h');
    const got = await readWindowStats(new WindowBuckets(new RedisState(redis, keys), { now: () => NOW }), 't1', plan, {
      site: 's2,odd',
    });
    expect(got.rows.map(r => r.key)).toEqual(['m-4']);
    const e = expected(3, plan.fromMs, plan.toMs);
    expect(got.rows[0]!.v.p!).toBeCloseTo(e.p, 6);
    expect(got.rows[0]!.n.up).toBe(e.polls);
  });

  it('sets each hash to expire its retention after its bucket ends', async () => {
    const hour = Math.floor((END - 5 * HOUR) / HOUR) * HOUR;
    const day = Math.floor((END - 30 * HOUR) / DAY) * DAY;
    const five = END - 10 * MIN;
    for (const [res, start] of [
      ['1h', hour],
      ['1d', day],
      ['5m', five],
    ] as const) {
      const at = await redis.pexpiretime(keys.windowStats('t1', res, start));
      const r = WINDOW_RESOLUTIONS[res];
      expect(at, res).toBe(start + r.ms + r.retentionMs);
    }
    // 5-minute buckets older than their 3 h retention are gone
    expect(await redis.exists(keys.windowStats('t1', '5m', END - 4 * HOUR))).toBe(0);
  });

  it('answers nothing for a tenant without statistics', async () => {
    const got = await readWindowStats(
      new WindowBuckets(new RedisState(redis, keys), { now: () => NOW }),
      'nobody',
      planWindow({ fromMs: NOW - HOUR, toMs: NOW }, NOW),
    );
    expect(got).toMatchObject({ rows: [], covered: null, bucketsWithData: 0 });
  });
});

describe('decoded buckets kept in memory', () => {
  // A copy of t1's hashes of the last 24 h under tenant t2, changed by the tests below.
  const plan = planWindow({ fromMs: NOW - 24 * HOUR, toMs: NOW }, NOW);
  const key = (tenant: string, u: (typeof plan.units)[number]): string =>
    keys.windowStats(tenant, u.res, u.startMs);
  // The newest bucket (ending at END) is not settled yet, the one before it is.
  const settleMs = NOW - END + 60_000;
  const hour = plan.units.find(u => u.res === '1h')!;
  const newest = plan.units.at(-1)!;
  const polls = async (b: WindowBuckets): Promise<number> =>
    (await readWindowStats(b, 't2', plan)).rows.find(r => r.key === 'm-1')!.n.up;

  beforeAll(async () => {
    for (const u of plan.units) await redis.copy(key('t1', u), key('t2', u), 'REPLACE');
  });

  it('a settled bucket is read once; a field added late, an expired hash and the unsettled bucket are read again', async () => {
    const b = new WindowBuckets(new RedisState(redis, keys), { now: () => NOW, settleMs });
    const before = await polls(b);
    expect(before).toBe(expected(0, plan.fromMs, plan.toMs).polls);
    const m1 = async (k: string): Promise<string> => (await redis.hkeys(k)).find(f => f.startsWith('m-1|'))!;
    const hourPolls = Number((await redis.hget(key('t2', hour), await m1(key('t2', hour))))!.split(',')[1]);

    // Same field count in a settled hash: served from memory (settled buckets do not change).
    await redis.hset(key('t2', hour), await m1(key('t2', hour)), encodeWindowStat(someStat(1)));
    expect(await polls(b)).toBe(before);
    // The unsettled bucket is read on every call.
    const newestField = await m1(key('t2', newest));
    const newestPolls = Number((await redis.hget(key('t2', newest), newestField))!.split(',')[1]);
    await redis.hset(key('t2', newest), newestField, encodeWindowStat(someStat(newestPolls + 7)));
    expect(await polls(b)).toBe(before + 7);
    // A collector run that flushed late adds a field: the count changed, the hash is read again
    // (the value overwritten above, 1 poll instead of hourPolls, is seen now too).
    await redis.hset(key('t2', hour), 'm-1|late.run', encodeWindowStat(someStat(11)));
    expect(await polls(b)).toBe(before + 7 - hourPolls + 1 + 11);
    // An expired (here: deleted) hash no longer counts.
    await redis.del(key('t2', hour));
    expect(await polls(b)).toBe(before + 7 - hourPolls);
  });

  it('reading ahead 48 h covers every bucket of the last day and of the day before it', () => {
    for (let now = NOW; now < NOW + 2 * HOUR; now += 7 * MIN) {
      const ahead = new Set(preloadUnits(48, now).map(u => `${u.res}@${u.startMs}`));
      for (const range of [
        { fromMs: now - 24 * HOUR, toMs: now },
        { fromMs: now - 48 * HOUR, toMs: now - 24 * HOUR },
        { fromMs: now - 12 * HOUR, toMs: now },
      ]) {
        const missing = planWindow(range, now).units.filter(u => !ahead.has(`${u.res}@${u.startMs}`));
        expect(missing, new Date(now).toISOString()).toEqual([]);
      }
    }
  });

  it('keeps no more decoded buckets than its memory bound, and still answers exactly', async () => {
    const all = new WindowBuckets(new RedisState(redis, keys), { now: () => NOW });
    const small = new WindowBuckets(new RedisState(redis, keys), { now: () => NOW, maxBytes: 1_000 });
    const a = await readWindowStats(all, 't1', plan);
    const c = await readWindowStats(small, 't1', plan);
    expect(all.bytes).toBeGreaterThan(1_000);
    expect(small.bytes).toBeLessThanOrEqual(1_000);
    expect(c.rows).toEqual(a.rows);
    check(a.rows, plan.fromMs, plan.toMs);
  });
});
