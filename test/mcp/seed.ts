/**
 * Stored fleets for MCP tests and the MCP benchmark, written with the collector's own modules
 * (SnapshotStore for snapshots, indexes and aggregates; points.ts for raw `miner` lines;
 * InfluxRedisEvents for events) so the query service reads exactly what production stores.
 *
 *  - `syntheticFleet(n)`: n miners of one tenant, deterministic, with a few of every problem
 *    (offline, low hashrate, overheating, paused, dead board, dead pool).
 *  - `seedSynthetic(...)`: their snapshots + aggregates, raw `miner` points for the last
 *    `rawMinutes`, 1-minute rollups for the last `rollup1mMinutes` (every `rollup1mEveryMin`
 *    minutes), 1-hour rollups for `rollup1hHours`, and some events.
 *  - `rollupLines(...)`: history for a real (simulated) miner, from a fixed set of values.
 *
 * Rollup lines use the field types of collector/rollups.ts (means and temperatures float,
 * fan_rpm_min and shares integer, up float 0..1, samples integer).
 */
import type { Redis } from 'ioredis';
import { InfluxRedisEvents } from '../../store/influx-redis/events.ts';
import { InfluxClient } from '../../store/influx-redis/influx-client.ts';
import { samplePoints } from '../../collector/points.ts';
import type { SeriesPoint } from '../../store/ports/series.ts';
import { FieldSet, line, minerTags, toLine, toLines } from '../../store/influx-redis/line-protocol.ts';
import type { RedisKeys } from '../../store/influx-redis/redis-keys.ts';
import {
  MEASUREMENTS,
  type DegradedReason,
  type FleetEvent,
  type HealthStatus,
  type MinerRef,
  type MinerSample,
  type MinerSnapshot,
} from '../../core/samples.ts';
import { SnapshotStore, computeAggregates } from '../../store/influx-redis/snapshot-store.ts';

const MINUTE = 60_000;
const HOUR = 3_600_000;
/** how long the offline miners of the synthetic fleet have been unreachable */
export const OFFLINE_FOR_MS = 30 * MINUTE;

const MODELS = [
  { model: 'Antminer S19j Pro', nominal_ghs: 104_000, power_w: 3_068 },
  { model: 'Antminer S21', nominal_ghs: 200_000, power_w: 3_500 },
  { model: 'Antminer S19 XP', nominal_ghs: 141_000, power_w: 3_010 },
] as const;

export interface SyntheticMiner {
  index: number;
  ref: MinerRef;
  hostname: string;
  model: string;
  nominal_ghs: number;
  power_w: number;
  perf: number;
  temp_c: number;
  status: HealthStatus;
  reasons: DegradedReason[];
  dead_board: boolean;
  dead_pool: boolean;
}

/** n miners of `tenant`, 500 per site, deterministic. */
export function syntheticFleet(n: number, tenant = 'acme'): SyntheticMiner[] {
  const out: SyntheticMiner[] = [];
  for (let i = 0; i < n; i++) {
    const site = `site-${String(Math.floor(i / 500) + 1).padStart(2, '0')}`;
    const id = `rig-${String(i + 1).padStart(5, '0')}`;
    const m = MODELS[i % 3]!;
    let status: HealthStatus = 'online';
    const reasons: DegradedReason[] = [];
    let perf = 0.97 + ((i * 37) % 5) / 100;
    let temp = 68 + (i % 12);
    const deadBoard = i % 113 === 5;
    const deadPool = i % 89 === 7;
    if (i % 50 === 3) status = 'offline';
    else if (i % 97 === 11) status = 'paused';
    else {
      if (i % 37 === 2) {
        perf = 0.78;
        reasons.push('low_hashrate');
      }
      if (i % 61 === 4) {
        temp = 97;
        reasons.push('overheating');
      }
      if (deadBoard) reasons.push('hashboard_down');
      if (deadPool) reasons.push('pool_dead');
      if (reasons.length > 0) status = 'degraded';
    }
    out.push({
      index: i,
      ref: {
        id,
        tenant,
        site,
        address: `10.${Math.floor(i / 62_500)}.${Math.floor(i / 250) % 250}.${(i % 250) + 1}:50051`,
        credentials: 'default',
        labels: { rack: `r${String(Math.floor((i % 500) / 25) + 1).padStart(2, '0')}` },
      },
      hostname: `${site}-${id}.mine.lan`,
      model: m.model,
      nominal_ghs: m.nominal_ghs,
      power_w: m.power_w,
      perf,
      temp_c: temp,
      status,
      reasons,
      dead_board: deadBoard,
      dead_pool: deadPool,
    });
  }
  return out;
}

/** A full MinerSample of a synthetic miner at time t (as normalize.ts would produce). */
export function sampleOf(m: SyntheticMiner, t: number): MinerSample {
  const paused = m.status === 'paused';
  const wobble = 1 + 0.01 * Math.sin(t / 600_000 + m.index);
  const boards = [0, 1, 2].map(b => {
    const nominal = m.nominal_ghs / 3;
    const dead = m.dead_board && b === 1;
    return {
      board: String(b + 1),
      enabled: true,
      hashrate_ghs: paused || dead ? 0 : nominal * m.perf * wobble,
      hashrate_nominal_ghs: nominal,
      hashrate_error_mhs: 0,
      temp_chip_c: m.temp_c - b,
      temp_board_c: m.temp_c - 12,
      temp_inlet_c: 30,
      temp_outlet_c: 45,
      voltage_v: 13.2,
      frequency_mhz: 525,
      chips: dead ? 0 : 126,
    };
  });
  const hashrate = boards.reduce((a, b) => a + b.hashrate_ghs, 0);
  const power = paused ? 50 : m.power_w * (m.dead_board ? 0.67 : 1) * (0.98 + 0.02 * m.perf);
  return {
    time_ms: t,
    ref: m.ref,
    model: m.model,
    hostname: m.hostname,
    firmware: m.index % 7 === 3 ? '2026-01-15-0-11aa22bb-26.01-plus' : '2026-05-20-0-33cc44dd-26.05-plus',
    status: m.status === 'offline' ? 'online' : m.status,
    degraded_reasons: m.reasons,
    miner_status: paused ? 'paused' : 'normal',
    tuner_state: 'stable',
    hashrate_ghs: hashrate,
    hashrate_5m_ghs: hashrate,
    hashrate_nominal_ghs: m.nominal_ghs,
    hashrate_error_mhs: 0,
    power_w: power,
    power_target_w: m.power_w,
    efficiency_jth: hashrate > 0 ? power / (hashrate / 1_000) : null,
    temp_chip_max_c: m.temp_c,
    temp_board_max_c: m.temp_c - 12,
    fan_rpm_min: 4_200,
    fan_rpm_avg: 4_500,
    shares_accepted: 10_000 + m.index,
    shares_rejected: 20,
    shares_stale: 5,
    uptime_s: 86_400,
    boards_hashing: boards.filter(b => b.hashrate_ghs > 0).length,
    boards_total: 3,
    hashboards: boards,
    fans: [0, 1, 2, 3].map(f => ({ fan: String(f), rpm: 4_200 + f * 100, pwm_ratio: 0.6 })),
    pools: [
      {
        group: 'default',
        pool: `stratum+tcp://pool-${(m.index % 3) + 1}.example.com:3333`,
        user: `acme.${m.ref.id}`,
        accepted: 10_000 + m.index,
        rejected: 20,
        stale: 5,
        alive: !m.dead_pool,
        active: true,
        enabled: true,
      },
      {
        group: 'default',
        pool: 'stratum+tcp://backup.example.net:700',
        user: `acme.${m.ref.id}`,
        accepted: 0,
        rejected: 0,
        stale: 0,
        alive: true,
        active: false,
        enabled: true,
      },
    ],
  };
}

export interface RollupValues {
  hashrate_ghs: number;
  hashrate_nominal_ghs: number;
  power_w: number;
  temp_chip_max_c: number;
  up: number;
}

/** One rollup point (miner_1m or miner_1h), field types as in collector/rollups.ts. */
export function rollupLine(measurement: string, ref: MinerRef, model: string, t: number, v: RollupValues, samples: number): string {
  const f = new FieldSet();
  if (v.up > 0) {
    f.float('hashrate_ghs', v.hashrate_ghs)
      .float('hashrate_nominal_ghs', v.hashrate_nominal_ghs)
      .float('power_w', v.power_w)
      .float('efficiency_jth', v.hashrate_ghs > 0 ? v.power_w / (v.hashrate_ghs / 1_000) : null)
      .float('temp_chip_max_c', v.temp_chip_max_c)
      .float('temp_board_max_c', v.temp_chip_max_c - 12)
      .int('fan_rpm_min', 4_200)
      .int('shares_accepted', 10_000)
      .int('shares_rejected', 20)
      .int('shares_stale', 5);
  }
  f.float('up', v.up).int('samples', samples);
  return line(measurement, minerTags(ref, model), f, t)!;
}

/** The same rollup as a structured point, for a store's series writer (either backend). */
export function rollupPoint(measurement: string, ref: MinerRef, model: string, t: number, v: RollupValues, samples: number): SeriesPoint {
  const up = v.up > 0;
  return {
    measurement,
    tags: { miner: ref.id, model, site: ref.site, tenant: ref.tenant },
    fields: {
      ...(up
        ? {
            hashrate_ghs: v.hashrate_ghs,
            hashrate_nominal_ghs: v.hashrate_nominal_ghs,
            power_w: v.power_w,
            efficiency_jth: v.hashrate_ghs > 0 ? v.power_w / (v.hashrate_ghs / 1_000) : null,
            temp_chip_max_c: v.temp_chip_max_c,
            temp_board_max_c: v.temp_chip_max_c - 12,
            fan_rpm_min: 4_200,
            shares_accepted: 10_000,
            shares_rejected: 20,
            shares_stale: 5,
          }
        : {}),
      up: v.up,
      samples,
    },
    time_ms: t,
  };
}

/** POST line protocol to InfluxDB's v1 /write in batches. */
export class LineWriter {
  private readonly url: string;
  private batch: string[] = [];
  written = 0;

  constructor(influxUrl: string, db: string) {
    this.url = `${influxUrl}/write?db=${encodeURIComponent(db)}&precision=ms`;
  }

  async add(l: string): Promise<void> {
    this.batch.push(l);
    if (this.batch.length >= 20_000) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.batch.length === 0) return;
    const body = this.batch.join('\n');
    this.batch = [];
    const res = await fetch(this.url, { method: 'POST', body });
    if (res.status !== 204) throw new Error(`InfluxDB write failed: ${res.status} ${await res.text()}`);
    this.written += body.split('\n').length;
  }
}

/** The latest state of a synthetic miner at nowMs: seen 5 s ago, an offline one OFFLINE_FOR_MS ago after `offlineFailures` failed polls. */
export function syntheticSnapshot(m: SyntheticMiner, nowMs: number, offlineFailures: number): MinerSnapshot {
  const offline = m.status === 'offline';
  const seenMs = offline ? nowMs - OFFLINE_FOR_MS : nowMs - 5_000;
  const sample = sampleOf(m, seenMs);
  return {
    ref: m.ref,
    last_seen_ms: seenMs,
    last_poll_ms: nowMs - 5_000,
    consecutive_failures: offline ? offlineFailures : 0,
    last_error: offline ? 'unreachable' : null,
    status: m.status,
    sample,
    details: {
      uid: `uid-${m.ref.id}`,
      serial: `SN${m.index}`,
      mac: null,
      hostname: m.hostname,
      model: m.model,
      firmware: sample.firmware,
      api_version: '1.11.0',
      platform: 'PLATFORM_AM3_BBB',
      sticker_hashrate_ghs: m.nominal_ghs,
      fetched_ms: nowMs - HOUR,
    },
  };
}

export interface SeedOptions {
  redis: Redis;
  keys: RedisKeys;
  influxUrl: string;
  db: string;
  miners: readonly SyntheticMiner[];
  nowMs: number;
  /** raw `miner` points for the last this many minutes (default 60), one per rawEveryMin */
  rawMinutes?: number;
  rawEveryMin?: number;
  /** 1-minute rollups for the last this many minutes (default 180), one every rollup1mEveryMin */
  rollup1mMinutes?: number;
  rollup1mEveryMin?: number;
  /** 1-hour rollups for the last this many hours (default 48) */
  rollup1hHours?: number;
  /** events to record (default 300) */
  events?: number;
  /** also publish the resolved inventory (what the control half resolves ids with), every miner at this host:port */
  inventoryAt?: { host: string; port: number };
}

/** Snapshots, aggregates, raw points, rollups and events of a synthetic fleet. Returns lines written. */
export async function seedSynthetic(o: SeedOptions): Promise<{ lines: number }> {
  const influx = new InfluxClient({ url: o.influxUrl, db: o.db, auth: 'none', flavour: '1' });
  await influx.ensureDatabase();
  const store = new SnapshotStore(o.redis, o.keys, { chunkSize: 500 });
  const now = o.nowMs;
  const snaps = o.miners.map(m => syntheticSnapshot(m, o.nowMs, 20));
  await store.writeSnapshots(snaps);
  await store.writeAggregates(computeAggregates(snaps, now));
  if (o.inventoryAt) {
    const at = o.inventoryAt;
    for (let i = 0; i < o.miners.length; i += 1_000) {
      const part = o.miners.slice(i, i + 1_000);
      await o.redis.hset(
        o.keys.resolvedInventory(),
        Object.fromEntries(
          part.map(m => [
            m.ref.id,
            JSON.stringify({ id: m.ref.id, host: at.host, port: at.port, tenant: m.ref.tenant, site: m.ref.site, credentials: 'default', labels: m.ref.labels, source: 'file' }),
          ]),
        ),
      );
    }
  }

  const w = new LineWriter(o.influxUrl, o.db);
  const rawMinutes = o.rawMinutes ?? 60;
  const rawEvery = o.rawEveryMin ?? 1;
  for (let k = rawMinutes; k >= 1; k -= rawEvery) {
    const t = Math.floor((now - k * MINUTE) / MINUTE) * MINUTE;
    for (const m of o.miners) {
      if (m.status === 'offline' && t > now - 30 * MINUTE) {
        await w.add(line(MEASUREMENTS.miner, minerTags(m.ref, m.model), new FieldSet().int('up', 0).str('status', 'offline'), t)!);
        continue;
      }
      await w.add(toLine(samplePoints(sampleOf(m, t))[0]!)!);
    }
  }
  const values = (m: SyntheticMiner, t: number, windowMs: number): RollupValues => {
    const s = sampleOf(m, t);
    const offlineShare = m.status === 'offline' ? Math.max(0, Math.min(1, (t + windowMs - (now - 30 * MINUTE)) / windowMs)) : 0;
    return {
      hashrate_ghs: s.hashrate_ghs,
      hashrate_nominal_ghs: s.hashrate_nominal_ghs,
      power_w: s.power_w ?? 0,
      temp_chip_max_c: s.temp_chip_max_c ?? 70,
      up: 1 - offlineShare,
    };
  };
  const m1 = o.rollup1mMinutes ?? 180;
  const m1Every = o.rollup1mEveryMin ?? 1;
  for (let k = m1; k >= 1; k -= m1Every) {
    const t = Math.floor((now - k * MINUTE) / MINUTE) * MINUTE;
    for (const m of o.miners) await w.add(rollupLine(MEASUREMENTS.miner1m, m.ref, m.model, t, values(m, t, MINUTE), 6));
  }
  for (let h = o.rollup1hHours ?? 48; h >= 1; h--) {
    const t = Math.floor((now - h * HOUR) / HOUR) * HOUR;
    for (const m of o.miners) await w.add(rollupLine(MEASUREMENTS.miner1h, m.ref, m.model, t, values(m, t, HOUR), 360));
  }
  await w.flush();

  const eventLines: string[] = [];
  const eventLog = new InfluxRedisEvents({ redis: o.redis, keys: o.keys, writer: { write: points => void eventLines.push(...toLines(points)) }, maxLen: 10_000 });
  const events: FleetEvent[] = [];
  const nEvents = o.events ?? 300;
  for (let i = 0; i < nEvents; i++) {
    const m = o.miners[(i * 7919) % o.miners.length]!;
    const kind = (['miner_offline', 'overheating', 'hashboard_lost', 'pool_dead', 'reboot_detected'] as const)[i % 5]!;
    events.push({
      time_ms: now - (nEvents - i) * 30_000,
      tenant: m.ref.tenant,
      site: m.ref.site,
      miner: m.ref.id,
      kind,
      severity: kind === 'miner_offline' || kind === 'hashboard_lost' ? 'critical' : 'warning',
      message: `${kind.replace('_', ' ')} on ${m.ref.id} (${m.hostname}) detected by the collector`,
    });
  }
  await eventLog.record(events);
  for (const l of eventLines) await w.add(l);
  await w.flush();
  return { lines: w.written };
}
