import { MEASUREMENTS, ROLLUP_FIELDS } from '../../core/samples.ts';

/**
 * A small fleet as line protocol, shaped like the collector's schema (core/samples.ts):
 * 6 miners on 2 sites covering every health status, 10 s raw polls with hashboards, fans and
 * pools, events, and 1m/1h rollups computed from the raw points. Timestamps in ms.
 */
export const TENANT = 'acme';

interface FixtureMiner {
  id: string;
  site: string;
  model: string;
  nominalGhs: number;
  powerW: number;
  /** status from `sinceMin` minutes before the end; online before */
  status: 'online' | 'degraded' | 'offline' | 'paused' | 'stopped';
  sinceMin: number;
}

export const MINERS: FixtureMiner[] = [
  {
    id: 'm-n1',
    site: 'north',
    model: 'Antminer S19j Pro',
    nominalGhs: 104_000,
    powerW: 3068,
    status: 'online',
    sinceMin: 0,
  },
  {
    id: 'm-n2',
    site: 'north',
    model: 'Antminer S19j Pro',
    nominalGhs: 104_000,
    powerW: 3068,
    status: 'degraded',
    sinceMin: 100,
  },
  {
    id: 'm-n3',
    site: 'north',
    model: 'Antminer S21',
    nominalGhs: 200_000,
    powerW: 3500,
    status: 'offline',
    sinceMin: 40,
  },
  {
    id: 'm-s1',
    site: 'south',
    model: 'Antminer S21',
    nominalGhs: 200_000,
    powerW: 3500,
    status: 'online',
    sinceMin: 0,
  },
  {
    id: 'm-s2',
    site: 'south',
    model: 'Antminer S19 XP',
    nominalGhs: 140_000,
    powerW: 3010,
    status: 'paused',
    sinceMin: 30,
  },
  {
    id: 'm-s3',
    site: 'south',
    model: 'Antminer S21',
    nominalGhs: 200_000,
    powerW: 3500,
    status: 'stopped',
    sinceMin: 20,
  },
];

const POOLS = ['stratum+tcp://pool-a.example.com:3333', 'stratum+tcp://pool-b.example.com:3333'];
const STEP_MS = 10_000;
const HOUR_MS = 3_600_000;

// line protocol escaping: tag values escape comma, space, equals; string fields quote
const tag = (v: string): string => v.replace(/[,= ]/g, '\\$&');
const str = (v: string): string => `"${v.replace(/["\\]/g, '\\$&')}"`;
type FieldValue = number | string | boolean | { int: number };
function line(
  measurement: string,
  tags: Record<string, string>,
  fields: Record<string, FieldValue | null>,
  t: number,
): string {
  const tagPart = Object.entries(tags)
    .map(([k, v]) => `,${k}=${tag(v)}`)
    .join('');
  const fieldPart = Object.entries(fields)
    .filter((e): e is [string, FieldValue] => e[1] !== null)
    .map(([k, v]) => {
      if (typeof v === 'string') return `${k}=${str(v)}`;
      if (typeof v === 'object') return `${k}=${v.int}i`;
      return `${k}=${v}`;
    })
    .join(',');
  return `${measurement}${tagPart} ${fieldPart} ${t}`;
}

/** Fields collector/points.ts writes as integers, in `miner` and the rollups (except `up`: a fraction there). */
const INT_FIELDS = ['up', 'fan_rpm_min', 'shares_accepted', 'shares_rejected', 'shares_stale'] as const;

/** Raw miner fields as the rollup reads them. */
type RawMiner = Record<string, number | null>;

export interface Fixture {
  lines: string[];
  startMs: number;
  endMs: number;
}

/**
 * Raw data from two full hours before the current hour up to `nowMs` (2-3 h), so there are
 * complete 1h rollups as well as recent raw points.
 */
export function buildFixture(nowMs = Date.now()): Fixture {
  const endMs = nowMs - (nowMs % STEP_MS);
  const startMs = endMs - (endMs % HOUR_MS) - 2 * HOUR_MS;
  const lines: string[] = [];

  for (const m of MINERS) {
    const base = { tenant: TENANT, site: m.site, miner: m.id };
    const series: { t: number; f: RawMiner }[] = [];
    let accepted = 0;
    let rejected = 0;
    let stale = 0;
    for (let t = startMs, i = 0; t <= endMs; t += STEP_MS, i++) {
      const status = endMs - t < m.sinceMin * 60_000 ? m.status : 'online';
      const wobble = Math.sin(i / 17 + m.nominalGhs) * 0.01;
      if (status === 'offline') {
        // like the collector's offlinePoint(): nothing but up and status
        lines.push(
          line(MEASUREMENTS.miner, { ...base, model: m.model }, { up: { int: 0 }, status: 'offline' }, t),
        );
        series.push({ t, f: { up: 0 } });
        continue;
      }
      const hashing = status === 'online' || status === 'degraded';
      const boards = status === 'degraded' ? 2 : hashing ? 3 : 0;
      const hashrate = (m.nominalGhs * boards * (0.99 + wobble)) / 3;
      const power = hashing ? m.powerW * (boards / 3) * (1 + wobble / 2) : 40;
      const chipMax = status === 'degraded' ? 92 + wobble * 100 : hashing ? 74 + wobble * 100 : 35;
      const fanMin = hashing ? 4200 + wobble * 10_000 : 1500;
      if (hashing) {
        accepted += 3;
        if (i % 40 === 0) rejected += 1;
        if (i % 90 === 0) stale += 1;
      }
      const f: RawMiner = {
        hashrate_ghs: hashrate,
        hashrate_nominal_ghs: m.nominalGhs,
        power_w: power,
        efficiency_jth: hashrate > 0 ? power / (hashrate / 1000) : null,
        temp_chip_max_c: chipMax,
        temp_board_max_c: chipMax - 12,
        fan_rpm_min: Math.round(fanMin),
        shares_accepted: accepted,
        shares_rejected: rejected,
        shares_stale: stale,
        up: 1,
      };
      series.push({ t, f });
      const ints = Object.fromEntries(INT_FIELDS.map(k => [k, { int: f[k] as number }]));
      lines.push(
        line(
          MEASUREMENTS.miner,
          { ...base, model: m.model },
          {
            ...f,
            ...ints,
            hashrate_5m_ghs: hashrate,
            hashrate_error_mhs: hashing ? 1200 : 0,
            power_target_w: m.powerW,
            fan_rpm_avg: fanMin + 300,
            uptime_s: { int: Math.round((t - startMs) / 1000) + 86_400 },
            boards_hashing: { int: boards },
            boards_total: { int: 3 },
            status,
            tuner_state: i < 60 ? 'tuning' : 'stable',
            firmware: '2025-01-15-0-1a2b3c4d-25.01-plus',
          },
          t,
        ),
      );
      for (let b = 0; b < 3; b++) {
        const on = b < boards;
        lines.push(
          line(
            MEASUREMENTS.hashboard,
            { ...base, board: String(b) },
            {
              hashrate_ghs: on ? hashrate / boards : 0,
              hashrate_nominal_ghs: m.nominalGhs / 3,
              temp_chip_c: on ? chipMax - b : 30,
              temp_board_c: on ? chipMax - 12 - b : 28,
              temp_inlet_c: 25 + b,
              temp_outlet_c: on ? 55 + b : 27,
              voltage_v: on ? 13.2 : 0,
              frequency_mhz: on ? 525 : 0,
              chips: { int: 126 },
              enabled: { int: 1 },
            },
            t,
          ),
        );
      }
      for (let fan = 0; fan < 4; fan++) {
        lines.push(
          line(
            MEASUREMENTS.fan,
            { ...base, fan: String(fan) },
            { rpm: fanMin + fan * 60, pwm_ratio: hashing ? 0.62 : 0.2 },
            t,
          ),
        );
      }
      // m-n2 loses both pools for the last 20 minutes
      const poolsDead = m.id === 'm-n2' && endMs - t < 20 * 60_000;
      POOLS.forEach((pool, p) => {
        lines.push(
          line(
            MEASUREMENTS.pool,
            { ...base, group: 'default', pool },
            {
              accepted: { int: p === 0 ? accepted : 0 },
              rejected: { int: p === 0 ? rejected : 0 },
              stale: { int: p === 0 ? stale : 0 },
              alive: { int: poolsDead ? 0 : 1 },
              active: { int: p === 0 ? 1 : 0 },
              enabled: { int: 1 },
            },
            t,
          ),
        );
      });
    }
    lines.push(
      ...rollups(MEASUREMENTS.miner1m, m, series, 60_000, endMs),
      ...rollups(MEASUREMENTS.miner1h, m, series, HOUR_MS, endMs),
    );
  }
  lines.push(...events(endMs));
  return { lines, startMs, endMs };
}

/** Complete buckets only, stamped at the bucket start, as ROLLUP_FIELDS describes. */
function rollups(
  measurement: string,
  m: FixtureMiner,
  series: { t: number; f: RawMiner }[],
  bucketMs: number,
  endMs: number,
): string[] {
  const buckets = new Map<number, RawMiner[]>();
  for (const { t, f } of series) {
    const b = t - (t % bucketMs);
    if (b + bucketMs > endMs) continue;
    buckets.set(b, [...(buckets.get(b) ?? []), f]);
  }
  const agg = (points: RawMiner[], field: string, how: 'mean' | 'max' | 'min' | 'last'): number | null => {
    const vs = points.map(p => p[field]).filter((v): v is number => typeof v === 'number');
    if (vs.length === 0) return null;
    if (how === 'mean') return vs.reduce((a, b) => a + b, 0) / vs.length;
    if (how === 'max') return Math.max(...vs);
    if (how === 'min') return Math.min(...vs);
    return vs[vs.length - 1] as number;
  };
  const how: Record<(typeof ROLLUP_FIELDS)[number], 'mean' | 'max' | 'min' | 'last' | 'count'> = {
    hashrate_ghs: 'mean',
    hashrate_nominal_ghs: 'mean',
    power_w: 'mean',
    efficiency_jth: 'mean',
    temp_chip_max_c: 'max',
    temp_board_max_c: 'max',
    fan_rpm_min: 'min',
    shares_accepted: 'last',
    shares_rejected: 'last',
    shares_stale: 'last',
    up: 'mean',
    samples: 'count',
  };
  return [...buckets].map(([b, points]) => {
    const fields: Record<string, FieldValue | null> = {};
    for (const field of ROLLUP_FIELDS) {
      const h = how[field];
      const v = h === 'count' ? points.length : agg(points, field, h);
      const isInt = h === 'count' || (field !== 'up' && (INT_FIELDS as readonly string[]).includes(field));
      fields[field] = v === null ? null : isInt ? { int: Math.round(v) } : v;
    }
    return line(measurement, { tenant: TENANT, site: m.site, miner: m.id, model: m.model }, fields, b);
  });
}

function events(endMs: number): string[] {
  const ev = (
    minAgo: number,
    minerId: string,
    kind: string,
    severity: string,
    message: string,
    extra: Record<string, string> = {},
  ): string => {
    const m = MINERS.find(x => x.id === minerId) as FixtureMiner;
    return line(
      MEASUREMENTS.event,
      { tenant: TENANT, site: m.site, miner: m.id, kind, severity },
      { message, ...extra },
      endMs - minAgo * 60_000,
    );
  };
  return [
    ev(125, 'm-n1', 'reboot_detected', 'info', 'uptime went back from 91234 s to 12 s'),
    ev(100, 'm-n2', 'hashboard_lost', 'warning', 'hashboard 2 stopped hashing'),
    ev(50, 'm-n1', 'control_action', 'info', 'set power target 3068 W', { actor: 'bob@acme', result: 'ok' }),
    ev(40, 'm-n3', 'miner_offline', 'warning', 'miner unreachable: DEADLINE_EXCEEDED'),
    ev(30, 'm-n2', 'overheating', 'critical', 'chip temperature 93 C above hot limit 90 C'),
    ev(30, 'm-s2', 'control_action', 'info', 'pause mining', { actor: 'alice@acme', result: 'ok' }),
    ev(29, 'm-s2', 'job_step', 'info', 'job 17: pause 1/1 done', { actor: 'alice@acme', result: 'ok' }),
    ev(20, 'm-n2', 'pool_dead', 'critical', 'no alive pool in active group default'),
    ev(20, 'm-s3', 'status_changed', 'info', 'online -> stopped'),
  ];
}

/** Writes the fixture in batches through the v1 /write endpoint. */
export async function writeFixture(influxUrl: string, db: string, fixture: Fixture): Promise<void> {
  for (let i = 0; i < fixture.lines.length; i += 5_000) {
    const res = await fetch(`${influxUrl}/write?db=${encodeURIComponent(db)}&precision=ms`, {
      method: 'POST',
      body: fixture.lines.slice(i, i + 5_000).join('\n'),
    });
    if (res.status !== 204) throw new Error(`write failed: ${res.status} ${await res.text()}`);
  }
}
