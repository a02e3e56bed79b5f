import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { InfluxClient } from '../../../store/influx-redis/influx-client.ts';
import { influxRedisStoreOver } from '../../../store/influx-redis/index.ts';
import { offlinePoint, samplePoints } from '../../../collector/points.ts';
import { redisKeys, type RedisKeys } from '../../../store/influx-redis/redis-keys.ts';
import { FleetRollups } from '../../../collector/fleet-rollups.ts';
import { MinerRollups } from '../../../collector/rollups.ts';
import { WindowStatsWriter } from '../../../collector/window-stats-writer.ts';
import { computeAggregates } from '../../../core/fleet-aggregates.ts';
import type { SeriesPoint } from '../../../store/ports/series.ts';
import type { Store, StoreBackend } from '../../../store/store.ts';
import { openTestStore, type TestStore } from '../../store/backends.ts';
import type {
  DegradedReason,
  FleetEvent,
  HealthStatus,
  MinerSample,
  MinerSnapshot,
} from '../../../core/samples.ts';

/**
 * A deterministic fleet and its stored history, for query tests on either storage backend.
 *
 * 30 miners, 2 tenants (acme 20, globex 10), sites dc1/dc2 (acme) and dc1/dc3 (globex; dc1 on
 * purpose in both tenants), 3 models, and `historyMinutes` (default 180) of 10 s polls ending at
 * an hour boundary `nowMs`. Values are defined per minute and vary within a minute only by a
 * zero-mean pattern, and every outage covers whole minutes, so the raw mean of any
 * minute-aligned window equals the mean of its 1-minute rollups: expectations computed here
 * from the generator (never through the query code) hold whichever series the API reads.
 *
 * Stored the way the collector stores it, through a Store's ports: points.ts (raw points) and
 * MinerRollups (miner_1m / miner_1h) feeding FleetRollups (fleet_1m / fleet_1h) through
 * store.series, WindowStatsWriter (per-miner window statistics) and the snapshots, aggregates and
 * heartbeat through store.state, the events through store.events. So the same fleet seeds the
 * embedded store and the farm one (InfluxDB + Redis), and the suites compare their answers.
 *
 * Scenarios (ids):
 *   acme-dc1-03  board 2 dead (2 of 3 boards hash)            degraded hashboard_down
 *   acme-dc1-05  fine, but its snapshot is 5 min old          online, stale
 *   acme-dc1-07  runs hot (~95-101 °C)                         degraded overheating
 *   acme-dc1-10  paused the whole time (0 hashrate, 50 W)      paused
 *   acme-dc2-02  unreachable for the last 40 minutes           offline
 *   acme-dc2-05  at 85 % of nominal; its backup pool is dead   degraded low_hashrate
 *   acme-dc2-09  unreachable minutes 60-89                     online again
 *   globex-dc1-04 at 80 % of nominal                           degraded low_hashrate
 *   globex-dc3-02 unreachable minutes 0-29                     online again
 */

export const POLL_MS = 10_000;
export const SAMPLES_PER_MINUTE = 6;
const MINUTE = 60_000;
const HOUR = 3_600_000;

export const MODELS = [
  { model: 'Antminer S19j Pro', nominal_ghs: 104_000, power_w: 3_068 },
  { model: 'Antminer S21', nominal_ghs: 200_000, power_w: 3_500 },
  { model: 'Antminer S19 XP', nominal_ghs: 141_000, power_w: 3_010 },
] as const;

export const POOL_A = 'stratum+tcp://pool-a.example.com:3333';
export const POOL_B = 'stratum+tcp://pool-b.example.com:3333';
export const POOL_C = 'stratum+tcp://pool-c.example.net:700';

export interface FixtureMiner {
  /** position in the fleet (0..29), drives every generated value */
  index: number;
  id: string;
  tenant: string;
  site: string;
  model: string;
  nominal_ghs: number;
  base_power_w: number;
  /** performance factor on nominal */
  perf: number;
  dead_boards: number[];
  hot: boolean;
  paused: boolean;
  /** [fromMinute, toMinute) ranges without answers, minutes counted from the start of history */
  offline: [number, number][];
  /** the snapshot's last_seen is this much before nowMs (stale scenario) */
  snapshot_age_ms: number;
  firmware: string;
  labels: Record<string, string>;
  address: string;
  hostname: string;
  pools: string[];
  dead_pool: string | null;
}

/** The 30 miners of the fixture fleet (independent of the history length). */
export function buildFleet(historyMinutes = 180): FixtureMiner[] {
  const out: FixtureMiner[] = [];
  const layout: [string, string, number][] = [
    ['acme', 'dc1', 10],
    ['acme', 'dc2', 10],
    ['globex', 'dc1', 6],
    ['globex', 'dc3', 4],
  ];
  let index = 0;
  layout.forEach(([tenant, site, count], siteIdx) => {
    for (let n = 1; n <= count; n++, index++) {
      const id = `${tenant}-${site}-${String(n).padStart(2, '0')}`;
      const m = MODELS[index % 3]!;
      const miner: FixtureMiner = {
        index,
        id,
        tenant,
        site,
        model: m.model,
        nominal_ghs: m.nominal_ghs,
        base_power_w: m.power_w,
        perf: 0.97 + ((index * 37) % 6) / 100,
        dead_boards: [],
        hot: false,
        paused: false,
        offline: [],
        snapshot_age_ms: POLL_MS,
        firmware: index % 7 === 3 ? 'Braiins OS 24.09' : 'Braiins OS 25.01',
        labels: { rack: `r${1 + (index % 3)}`, ...(n <= 2 ? { role: 'canary' } : {}) },
        address: `10.${tenant === 'acme' ? 1 : 2}.${siteIdx}.${10 + n}:50051`,
        hostname: `${id}.lan`,
        pools: tenant === 'acme' ? [POOL_A, POOL_B] : [POOL_C],
        dead_pool: null,
      };
      switch (id) {
        case 'acme-dc1-03':
          miner.dead_boards = [2];
          break;
        case 'acme-dc1-05':
          miner.snapshot_age_ms = 5 * MINUTE;
          break;
        case 'acme-dc1-07':
          miner.hot = true;
          break;
        case 'acme-dc1-10':
          miner.paused = true;
          break;
        case 'acme-dc2-02':
          miner.offline = [[historyMinutes - 40, historyMinutes]];
          break;
        case 'acme-dc2-05':
          miner.perf = 0.85;
          miner.dead_pool = POOL_B;
          break;
        case 'acme-dc2-09':
          miner.offline = [[60, 90]];
          break;
        case 'globex-dc1-04':
          miner.perf = 0.8;
          break;
        case 'globex-dc3-02':
          miner.offline = [[0, 30]];
          break;
      }
      out.push(miner);
    }
  });
  return out;
}

// ---- the generator ---------------------------------------------------------------------------

const SIGN = [1, -1, 1, -1, 1, -1] as const;

export function isOnline(m: FixtureMiner, minute: number): boolean {
  return !m.offline.some(([a, b]) => minute >= a && minute < b);
}

/** Per-minute values (the means of the minute's samples). */
export function minuteValues(
  m: FixtureMiner,
  minute: number,
): { hashrate_ghs: number; power_w: number; temp_chip_c: number } {
  const i = m.index;
  const boardFactor = (3 - m.dead_boards.length) / 3;
  const hashrate = m.paused
    ? 0
    : m.nominal_ghs * m.perf * (1 + 0.01 * Math.sin(minute / 10 + i)) * boardFactor;
  const power = m.paused
    ? 50
    : m.base_power_w * (0.95 + 0.05 * m.perf) * boardFactor + 10 * Math.cos(minute / 7 + i);
  const base = m.paused ? 40 : m.hot ? 95 : 70 + (i % 5);
  return { hashrate_ghs: hashrate, power_w: power, temp_chip_c: base + 3 * Math.sin(minute / 15 + i) };
}

/** Sample k (0..5) of a minute: the minute value plus a zero-mean wiggle; the chip temperature climbs 0.5 °C per sample. */
export function sampleValues(
  m: FixtureMiner,
  minute: number,
  k: number,
): { hashrate_ghs: number; power_w: number; temp_chip_max_c: number; efficiency_jth: number | null } {
  const v = minuteValues(m, minute);
  const hashrate = v.hashrate_ghs * (1 + 0.002 * SIGN[k]!);
  const power = v.power_w + 3 * SIGN[k]!;
  return {
    hashrate_ghs: hashrate,
    power_w: power,
    temp_chip_max_c: v.temp_chip_c + 0.5 * k,
    efficiency_jth: hashrate > 0 ? power / (hashrate / 1_000) : null,
  };
}

function degradedReasons(m: FixtureMiner): DegradedReason[] {
  const r: DegradedReason[] = [];
  if (m.dead_boards.length > 0) r.push('hashboard_down');
  if (!m.paused && m.perf < 0.9) r.push('low_hashrate');
  if (m.hot) r.push('overheating');
  return r;
}

function healthOf(m: FixtureMiner, online: boolean): HealthStatus {
  if (!online) return 'offline';
  if (m.paused) return 'paused';
  return degradedReasons(m).length > 0 ? 'degraded' : 'online';
}

/** The MinerSample of poll `s` (0-based from the start of history), or null when unreachable. */
export function sampleAt(m: FixtureMiner, startMs: number, s: number): MinerSample | null {
  const minute = Math.floor(s / SAMPLES_PER_MINUTE);
  if (!isOnline(m, minute)) return null;
  const k = s % SAMPLES_PER_MINUTE;
  const v = sampleValues(m, minute, k);
  const working = 3 - m.dead_boards.length;
  const hashboards = [0, 1, 2].map(b => {
    const dead = m.dead_boards.includes(b);
    return {
      board: String(b),
      enabled: true,
      hashrate_ghs: dead || working === 0 ? 0 : v.hashrate_ghs / working,
      hashrate_nominal_ghs: m.nominal_ghs / 3,
      hashrate_error_mhs: 0,
      temp_chip_c: v.temp_chip_max_c - 2 * b,
      temp_board_c: v.temp_chip_max_c - 10 - 2 * b,
      temp_inlet_c: 25,
      temp_outlet_c: 45,
      voltage_v: 13.2,
      frequency_mhz: 525,
      chips: dead ? 0 : 126,
    };
  });
  const fanMin = 4_000 + 10 * (m.index % 5);
  return {
    time_ms: startMs + s * POLL_MS,
    ref: {
      id: m.id,
      tenant: m.tenant,
      site: m.site,
      address: m.address,
      credentials: 'default',
      labels: m.labels,
    },
    model: m.model,
    hostname: m.hostname,
    firmware: m.firmware,
    status: healthOf(m, true),
    degraded_reasons: degradedReasons(m),
    miner_status: m.paused ? 'paused' : 'normal',
    tuner_state: 'stable',
    hashrate_ghs: v.hashrate_ghs,
    hashrate_5m_ghs: minuteValues(m, minute).hashrate_ghs,
    hashrate_nominal_ghs: m.nominal_ghs,
    hashrate_error_mhs: 0,
    power_w: v.power_w,
    power_target_w: 3_500,
    efficiency_jth: v.efficiency_jth,
    temp_chip_max_c: v.temp_chip_max_c,
    temp_board_max_c: v.temp_chip_max_c - 10,
    fan_rpm_min: fanMin,
    fan_rpm_avg: fanMin + 100,
    shares_accepted: 1_000 + 2 * s + m.index,
    shares_rejected: Math.floor(s / 50),
    shares_stale: 0,
    uptime_s: 86_400 + s * 10,
    boards_hashing: working,
    boards_total: 3,
    hashboards,
    fans: [
      { fan: '0', rpm: fanMin, pwm_ratio: 0.6 },
      { fan: '1', rpm: fanMin + 200, pwm_ratio: 0.6 },
    ],
    pools: m.pools.map((url, p) => ({
      group: 'default',
      pool: url,
      user: `${m.tenant}.${m.id}`,
      accepted: p === 0 ? 1_000 + 10 * m.index : 0,
      rejected: p === 0 ? m.index : 0,
      stale: p === 0 ? m.index % 3 : 0,
      alive: url !== m.dead_pool,
      active: p === 0,
      enabled: true,
    })),
  };
}

// ---- expectations computed from the generator ------------------------------------------------

export interface WindowStats {
  /** polls in the window */
  polls: number;
  /** polls that reached the miner */
  reached: number;
  hashrate_mean_ghs: number | null;
  nominal_mean_ghs: number | null;
  power_mean_w: number | null;
  efficiency_field_mean: number | null;
  temp_max_c: number | null;
  temp_mean_c: number | null;
  temp_board_max_c: number | null;
}

/** Raw statistics of one miner over [fromMs, toMs) straight from the generator. */
export function windowStats(
  fx: { startMs: number; historyMinutes: number },
  m: FixtureMiner,
  fromMs: number,
  toMs: number,
): WindowStats {
  let polls = 0;
  let reached = 0;
  let h = 0;
  let p = 0;
  let eff = 0;
  let effN = 0;
  let tSum = 0;
  let tMax: number | null = null;
  const total = fx.historyMinutes * SAMPLES_PER_MINUTE;
  for (let s = 0; s < total; s++) {
    const t = fx.startMs + s * POLL_MS;
    if (t < fromMs || t >= toMs) continue;
    polls++;
    const x = sampleAt(m, fx.startMs, s);
    if (!x) continue;
    reached++;
    h += x.hashrate_ghs;
    p += x.power_w ?? 0;
    if (x.efficiency_jth !== null) {
      eff += x.efficiency_jth;
      effN++;
    }
    tSum += x.temp_chip_max_c!;
    tMax = tMax === null ? x.temp_chip_max_c! : Math.max(tMax, x.temp_chip_max_c!);
  }
  return {
    polls,
    reached,
    hashrate_mean_ghs: reached > 0 ? h / reached : null,
    nominal_mean_ghs: reached > 0 ? m.nominal_ghs : null,
    power_mean_w: reached > 0 ? p / reached : null,
    efficiency_field_mean: effN > 0 ? eff / effN : null,
    temp_max_c: tMax,
    temp_mean_c: reached > 0 ? tSum / reached : null,
    temp_board_max_c: tMax === null ? null : tMax - 10,
  };
}

/** The snapshot the fixture stores for a miner (its latest reached poll, or the offline state). */
export function snapshotOf(
  fx: { startMs: number; nowMs: number; historyMinutes: number },
  m: FixtureMiner,
): MinerSnapshot {
  const total = fx.historyMinutes * SAMPLES_PER_MINUTE;
  let last: MinerSample | null = null;
  for (let s = total - 1; s >= 0 && !last; s--) last = sampleAt(m, fx.startMs, s);
  const online = isOnline(m, fx.historyMinutes - 1);
  const lastPoll = fx.nowMs - POLL_MS;
  const lastSeen = online ? fx.nowMs - m.snapshot_age_ms : (last?.time_ms ?? null);
  const failures = online ? 0 : Math.round((lastPoll - (last?.time_ms ?? fx.startMs)) / POLL_MS);
  return {
    ref: {
      id: m.id,
      tenant: m.tenant,
      site: m.site,
      address: m.address,
      credentials: 'default',
      labels: m.labels,
    },
    last_seen_ms: lastSeen,
    last_poll_ms: lastPoll,
    consecutive_failures: failures,
    last_error: online ? null : 'unreachable',
    status: healthOf(m, online),
    sample: last,
    details: {
      uid: `uid-${m.id}`,
      serial: `SN${String(m.index).padStart(6, '0')}`,
      mac: `02:00:00:00:00:${m.index.toString(16).padStart(2, '0')}`,
      hostname: m.hostname,
      model: m.model,
      firmware: m.firmware,
      api_version: '1.11.0',
      platform: 'am2-s19',
      sticker_hashrate_ghs: m.nominal_ghs,
      fetched_ms: fx.nowMs - HOUR,
    },
  };
}

/** The events of the fixture history (times relative to its start and end). */
export function fixtureEvents(fx: { startMs: number; nowMs: number }): FleetEvent[] {
  const at = (min: number): number => fx.startMs + min * MINUTE;
  const ev = (
    time_ms: number,
    tenant: string,
    site: string,
    miner: string,
    kind: FleetEvent['kind'],
    severity: FleetEvent['severity'],
    message: string,
    extra: Partial<FleetEvent> = {},
  ): FleetEvent => ({
    time_ms,
    tenant,
    site,
    miner,
    kind,
    severity,
    message,
    ...extra,
  });
  return [
    ev(at(2), 'acme', 'dc1', 'acme-dc1-10', 'control_action', 'info', 'paused by alice', {
      actor: 'alice',
      result: 'ok',
      data: { action: 'pause', dry_run: false },
    }),
    ev(at(5), 'acme', 'dc1', 'acme-dc1-03', 'hashboard_lost', 'warning', 'hashboard 2 stopped hashing'),
    ev(at(60), 'acme', 'dc2', 'acme-dc2-09', 'miner_offline', 'warning', 'miner unreachable'),
    ev(at(90), 'acme', 'dc2', 'acme-dc2-09', 'miner_online', 'info', 'miner reachable again'),
    ev(at(100), 'acme', 'dc1', 'acme-dc1-07', 'overheating', 'critical', 'chip temperature 98 °C'),
    ev(fx.nowMs - 40 * MINUTE, 'acme', 'dc2', 'acme-dc2-02', 'miner_offline', 'warning', 'miner unreachable'),
    ev(at(0), 'globex', 'dc3', 'globex-dc3-02', 'miner_offline', 'warning', 'miner unreachable'),
    ev(at(30), 'globex', 'dc3', 'globex-dc3-02', 'miner_online', 'info', 'miner reachable again'),
  ].sort((a, b) => a.time_ms - b.time_ms);
}

// ---- seeding ---------------------------------------------------------------------------------

export interface FleetFixture {
  miners: FixtureMiner[];
  historyMinutes: number;
  startMs: number;
  /** end of history (an hour boundary); the clock to give the query service */
  nowMs: number;
  /** the store the fleet was written to */
  store: Store;
  snapshots: MinerSnapshot[];
  events: FleetEvent[];
  miner(id: string): FixtureMiner;
  tenantMiners(tenant: string): FixtureMiner[];
  cleanup(): Promise<void>;
}

/** The fixture on the farm backend with its connections, for suites that inspect Redis or InfluxDB. */
export interface FarmFleetFixture extends FleetFixture {
  db: string;
  prefix: string;
  keys: RedisKeys;
  redis: Redis;
  influx: InfluxClient;
}

export interface FleetOptions {
  /** default 180 (3 h) */
  historyMinutes?: number;
  /** end of history; default the last full hour */
  nowMs?: number;
  /** write a collector heartbeat 2 s before nowMs (a running collector); default none, as before a collector ran */
  heartbeat?: boolean;
}

export interface SeedOptions extends FleetOptions {
  influxUrl: string;
  redisUrl: string;
}

/** Writes the fixture fleet through the store's ports; cleanup() closes nothing (the caller owns the store). */
export async function seedFleetInto(store: Store, o: FleetOptions = {}): Promise<FleetFixture> {
  const historyMinutes = o.historyMinutes ?? 180;
  const nowMs = o.nowMs ?? Math.floor(Date.now() / HOUR) * HOUR;
  const startMs = nowMs - historyMinutes * MINUTE;
  const miners = buildFleet(historyMinutes);

  // Raw points and rollups, miner by miner in time order (as the collector produces them).
  const writer = await store.series.openWriter({ bufferMaxPoints: 2_000_000 });
  const fleetRollups = new FleetRollups(writer, { collector: 'fixture' });
  const windowStats = new WindowStatsWriter(store.state, { runId: 'fixture.1' });
  const rollups = new MinerRollups(writer, {
    onWindow: w => {
      fleetRollups.add(w);
      windowStats.add(w);
    },
  });
  const total = historyMinutes * SAMPLES_PER_MINUTE;
  for (const m of miners) {
    const ref = {
      id: m.id,
      tenant: m.tenant,
      site: m.site,
      address: m.address,
      credentials: 'default',
      labels: m.labels,
    };
    const points: SeriesPoint[] = [];
    for (let s = 0; s < total; s++) {
      const sample = sampleAt(m, startMs, s);
      if (sample) {
        points.push(...samplePoints(sample).filter(p => p.measurement === 'miner' || p.measurement === 'hashboard'));
        rollups.addSample(sample);
      } else {
        const t = startMs + s * POLL_MS;
        points.push(offlinePoint(ref, m.model, t));
        rollups.addOffline(ref, m.model, t);
      }
    }
    writer.write(points);
    await writer.flush();
  }
  rollups.flushAll();
  fleetRollups.flushAll();
  await writer.close({ timeoutMs: 60_000 });
  if (writer.stats().dropped > 0) throw new Error(`fixture: ${writer.stats().dropped} points dropped`);
  await windowStats.flush();

  const events = fixtureEvents({ startMs, nowMs });
  await store.events.record(events);
  await untilEventsReadable(store, events);

  // Latest state: snapshots, indexes, aggregates and the collector heartbeat.
  const fx = { startMs, nowMs, historyMinutes };
  const snapshots = miners.map(m => snapshotOf(fx, m));
  await store.state.putSnapshots(snapshots);
  await store.state.putAggregates('collector', computeAggregates(snapshots, nowMs - 2_000));
  if (o.heartbeat) await store.state.putHeartbeat(nowMs - 2_000);

  return {
    miners,
    historyMinutes,
    startMs,
    nowMs,
    store,
    snapshots,
    events,
    miner: id => {
      const m = miners.find(x => x.id === id);
      if (!m) throw new Error(`no fixture miner ${id}`);
      return m;
    },
    tenantMiners: tenant => miners.filter(m => m.tenant === tenant),
    cleanup: async () => undefined,
  };
}

/** The farm store writes `event` points in the background: wait until history answers all of them. */
async function untilEventsReadable(store: Store, events: readonly FleetEvent[]): Promise<void> {
  const deadline = Date.now() + 30_000;
  const r = { fromMs: Math.min(...events.map(e => e.time_ms)), toMs: Math.max(...events.map(e => e.time_ms)) };
  for (const tenant of new Set(events.map(e => e.tenant))) {
    const want = events.filter(e => e.tenant === tenant).length;
    for (;;) {
      const got = await store.events.history(tenant, { ...r, limit: 1_000 });
      if (got.events.length >= want) break;
      if (Date.now() > deadline) throw new Error(`fixture: ${got.events.length} of ${want} ${tenant} events readable after 30 s`);
      await new Promise(res => setTimeout(res, 50));
    }
  }
}

/** A fresh test store of `backend` (test/store/backends.ts) holding the fixture; cleanup() destroys it. */
export async function openFleetFixture(backend: StoreBackend, o: FleetOptions = {}): Promise<FleetFixture & { store: TestStore }> {
  const store = await openTestStore(backend);
  try {
    const fx = await seedFleetInto(store, o);
    return { ...fx, store, cleanup: () => store.destroy() };
  } catch (err) {
    await store.destroy();
    throw err;
  }
}

/** The fixture on the farm backend over connections of its own (suites that reach into Redis or InfluxDB). */
export async function seedFleet(o: SeedOptions): Promise<FarmFleetFixture> {
  const db = `bosfleet_test_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
  const prefix = `test:${randomUUID()}`;
  const keys = redisKeys(prefix);
  const redis = new Redis(o.redisUrl, { maxRetriesPerRequest: 1 });
  const influx = new InfluxClient({ url: o.influxUrl, db, auth: 'none', flavour: '1' });
  await influx.ensureDatabase();
  const store = influxRedisStoreOver({ redis, keys, influx });
  const fx = await seedFleetInto(store, o);
  return {
    ...fx,
    db,
    prefix,
    keys,
    redis,
    influx,
    async cleanup() {
      await fetch(`${o.influxUrl}/query`, {
        method: 'POST',
        body: new URLSearchParams({ q: `DROP DATABASE "${db}"` }),
      }).catch(() => undefined);
      let cursor = '0';
      do {
        const [next, found] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1_000);
        if (found.length > 0) await redis.del(...found);
        cursor = next;
      } while (cursor !== '0');
      await store.close();
    },
  };
}
