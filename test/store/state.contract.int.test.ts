import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { computeAggregates } from '../../core/fleet-aggregates.ts';
import type { HealthStatus, MinerSnapshot } from '../../core/samples.ts';
import { WINDOW_RESOLUTIONS } from '../../core/window-stats.ts';
import { waitForRedis } from '../../store/influx-redis/redis-connection.ts';
import type { WindowStatWrite } from '../../store/ports/state.ts';
import { BACKENDS, openTestStore, type TestStore } from './backends.ts';

// The state port's contract: the same assertions on the embedded store (memory + SQLite) and
// on influx-redis (Redis keys of today).

const NOW = Date.now();

function snap(id: string, tenant: string, site: string, status: HealthStatus, model = 'S19'): MinerSnapshot {
  const ref = { id, tenant, site, address: `${id}.lan:50051`, credentials: 'default', labels: {} };
  const reached = status !== 'offline';
  return {
    ref,
    last_seen_ms: reached ? NOW : NOW - 60_000,
    last_poll_ms: NOW,
    consecutive_failures: reached ? 0 : 3,
    last_error: reached ? null : 'unreachable',
    status,
    details: null,
    sample: {
      time_ms: NOW,
      ref,
      model,
      hostname: `host-${id}`,
      firmware: 'fw',
      status,
      degraded_reasons: [],
      miner_status: 'normal',
      tuner_state: 'stable',
      hashrate_ghs: 100_000,
      hashrate_5m_ghs: 100_000,
      hashrate_nominal_ghs: 110_000,
      hashrate_error_mhs: 0,
      power_w: 3_000,
      power_target_w: null,
      efficiency_jth: 30,
      temp_chip_max_c: 70,
      temp_board_max_c: 60,
      fan_rpm_min: 4_000,
      fan_rpm_avg: 4_000,
      shares_accepted: 1,
      shares_rejected: 0,
      shares_stale: 0,
      uptime_s: 60,
      boards_hashing: 3,
      boards_total: 3,
      hashboards: [],
      fans: [],
      pools: [],
    },
  };
}

const fleet = [
  snap('a1', 'acme', 'dc1', 'online', 'S19'),
  snap('a2', 'acme', 'dc1', 'degraded', 'S21'),
  snap('a3', 'acme', 'dc2', 'online', 'S21'),
  snap('b1', 'beta', 'dc9', 'online', 'S19'),
];

const HOUR = WINDOW_RESOLUTIONS['1h'].ms;
const stat = (tenant: string, startMs: number, field: string, value: string, expireAtMs = startMs + HOUR + WINDOW_RESOLUTIONS['1h'].retentionMs): WindowStatWrite => ({
  tenant,
  res: '1h',
  startMs,
  field,
  value,
  expireAtMs,
});
/** a flat [field, value, ...] reply as a map */
const fieldsOf = (flat: string[]): Record<string, string> =>
  Object.fromEntries(Array.from({ length: flat.length / 2 }, (_, i) => [flat[2 * i]!, flat[2 * i + 1]!]));

/** Redis refuses commands until connected (no offline queue): wait for it, as the processes do at start. */
async function ready(s: TestStore): Promise<TestStore> {
  if (s.backend === 'influx-redis' && !(await waitForRedis(s.redis, 5_000))) throw new Error('test Redis not reachable');
  return s;
}

describe.each(BACKENDS)('state port on %s', backend => {
  let store: TestStore;

  beforeEach(async () => {
    store = await ready(await openTestStore(backend));
  });
  afterEach(async () => {
    await store.destroy();
  });

  it('returns the snapshots written, in the order asked, null for unknown ids', async () => {
    await store.state.putSnapshots(fleet);
    expect(await store.state.snapshot('a2')).toEqual(fleet[1]);
    expect(await store.state.snapshot('nope')).toBeNull();
    expect(await store.state.snapshots(['b1', 'nope', 'a1'])).toEqual([fleet[3], null, fleet[0]]);
  });

  it('keeps each tenant to its own miners, sites and tenants list', async () => {
    await store.state.putSnapshots(fleet);
    expect(await store.state.tenants()).toEqual(['acme', 'beta']);
    expect(await store.state.minersOf({ tenant: 'acme' })).toEqual(['a1', 'a2', 'a3']);
    expect(await store.state.minersOf({ tenant: 'beta' })).toEqual(['b1']);
    expect(await store.state.minersOf({ tenant: 'gamma' })).toEqual([]);
    expect(await store.state.hasMiner('acme', 'a1')).toBe(true);
    expect(await store.state.hasMiner('beta', 'a1')).toBe(false);
    expect(await store.state.sites('acme')).toEqual(['dc1', 'dc2']);
    expect(await store.state.minersOf({ tenant: 'acme', site: 'dc1' })).toEqual(['a1', 'a2']);
    expect(await store.state.minersOf({ tenant: 'acme', model: 'S21' })).toEqual(['a2', 'a3']);
    expect(await store.state.minersOf({ tenant: 'beta', site: 'dc1' })).toEqual([]);
  });

  it('moves a miner between status sets when its status changes', async () => {
    await store.state.putSnapshots(fleet);
    expect(await store.state.minersOf({ tenant: 'acme', status: 'online' })).toEqual(['a1', 'a3']);
    await store.state.putSnapshots([{ ...fleet[0]!, status: 'offline' }]);
    expect(await store.state.minersOf({ tenant: 'acme', status: 'online' })).toEqual(['a3']);
    expect(await store.state.minersOf({ tenant: 'acme', status: 'offline' })).toEqual(['a1']);
    expect(await store.state.minersOf({ tenant: 'acme', status: 'offline', site: 'dc2' })).toEqual([]);
  });

  it('moves a miner to its new site and tenant', async () => {
    await store.state.putSnapshots(fleet);
    const moved = snap('a3', 'beta', 'dc9', 'online', 'S21');
    await store.state.putSnapshots([moved]);
    expect(await store.state.minersOf({ tenant: 'acme' })).toEqual(['a1', 'a2']);
    expect(await store.state.minersOf({ tenant: 'beta' })).toEqual(['a3', 'b1']);
    expect(await store.state.minersOf({ tenant: 'acme', model: 'S21' })).toEqual(['a2']);
    expect(await store.state.hasMiner('acme', 'a3')).toBe(false);
  });

  it('forgets a removed miner everywhere and drops its late writes until readmitted', async () => {
    await store.state.putSnapshots(fleet);
    await store.state.removeMiner('a2');
    expect(await store.state.snapshot('a2')).toBeNull();
    expect(await store.state.minersOf({ tenant: 'acme' })).toEqual(['a1', 'a3']);
    expect(await store.state.minersOf({ tenant: 'acme', status: 'degraded' })).toEqual([]);
    expect(await store.state.minersOf({ tenant: 'acme', model: 'S21' })).toEqual(['a3']);
    expect(await store.state.hasMiner('acme', 'a2')).toBe(false);
    // a poll that was in flight when the miner was deleted
    await store.state.putSnapshots([fleet[1]!]);
    expect(await store.state.snapshot('a2')).toBeNull();
    store.state.readmit(['a2']);
    await store.state.putSnapshots([fleet[1]!]);
    expect(await store.state.minersOf({ tenant: 'acme', status: 'degraded' })).toEqual(['a2']);
  });

  it('sums the aggregate parts of every collector; sites in the order asked', async () => {
    const parts = computeAggregates(fleet, Date.now());
    await store.state.putAggregates('c1', parts);
    await store.state.putAggregates('c2', parts);
    const acme = await store.state.aggregate('acme');
    expect(acme?.miners_total).toBe(6);
    expect(acme?.by_status.online).toBe(4);
    expect(acme?.hashrate_ghs).toBe(6 * 100_000);
    const [dc2, none, dc1] = await store.state.siteAggregates('acme', ['dc2', 'dc7', 'dc1']);
    expect([dc2?.miners_total, none, dc1?.miners_total]).toEqual([2, null, 4]);
    expect((await store.state.aggregate('acme', 'dc1'))?.site).toBe('dc1');
    expect(await store.state.aggregate('gamma')).toBeNull();
    // a collector's new part replaces its old one
    await store.state.putAggregates('c2', computeAggregates(fleet.slice(0, 1), Date.now()));
    expect((await store.state.aggregate('acme'))?.miners_total).toBe(4);
  });

  it('keeps the collector heartbeat', async () => {
    expect(await store.state.heartbeat()).toBeNull();
    await store.state.putHeartbeat(NOW);
    await store.state.putHeartbeat(NOW + 1_000);
    expect(await store.state.heartbeat()).toBe(NOW + 1_000);
  });

  it('adds the fields of a bucket up per tenant, overwriting a field written again', async () => {
    const h = Math.floor(NOW / HOUR) * HOUR - HOUR;
    await store.state.putWindowStats([stat('acme', h, 'a1|run1', 'v1'), stat('acme', h, 'a2|run1', 'v2'), stat('beta', h, 'b1|run1', 'vb')]);
    await store.state.putWindowStats([stat('acme', h, 'a1|run2', 'v3'), stat('acme', h, 'a2|run1', 'v2b')]);
    expect(fieldsOf(await store.state.windowBucket('acme', { res: '1h', startMs: h }))).toEqual({ 'a1|run1': 'v1', 'a1|run2': 'v3', 'a2|run1': 'v2b' });
    expect(fieldsOf(await store.state.windowBucket('beta', { res: '1h', startMs: h }))).toEqual({ 'b1|run1': 'vb' });
    expect(await store.state.windowBucket('acme', { res: '5m', startMs: h })).toEqual([]);
    expect(
      await store.state.windowBucketSizes('acme', [
        { res: '1h', startMs: h },
        { res: '1h', startMs: h - HOUR },
      ]),
    ).toEqual([3, 0]);
  });

  it('lets a bucket go when it expires', async () => {
    const h = Math.floor(NOW / HOUR) * HOUR - 2 * HOUR;
    const kept = { res: '1h' as const, startMs: h + HOUR };
    await store.state.putWindowStats([stat('acme', h, 'a1|run1', 'old', Date.now() + 300), stat('acme', kept.startMs, 'a1|run1', 'new')]);
    await expect
      .poll(async () => (await store.state.windowBucketSizes('acme', [{ res: '1h', startMs: h }, kept])).join(','), { timeout: 5_000, interval: 50 })
      .toBe('0,1');
    expect(await store.state.windowBucket('acme', { res: '1h', startMs: h })).toEqual([]);
    expect(fieldsOf(await store.state.windowBucket('acme', kept))).toEqual({ 'a1|run1': 'new' });
  });

  it('answers after a restart with the last snapshots, aggregates, heartbeat and window statistics', async () => {
    const h = Math.floor(NOW / HOUR) * HOUR - HOUR;
    await store.state.putSnapshots(fleet);
    await store.state.putSnapshots([{ ...fleet[0]!, status: 'offline' }]);
    await store.state.removeMiner('a3');
    await store.state.putAggregates('c1', computeAggregates(fleet, Date.now()));
    await store.state.putHeartbeat(NOW);
    await store.state.putWindowStats([stat('acme', h, 'a1|run1', 'v1')]);
    await store.close();
    store = await ready(await store.reopen());
    expect(await store.state.tenants()).toEqual(['acme', 'beta']);
    expect(await store.state.minersOf({ tenant: 'acme' })).toEqual(['a1', 'a2']);
    expect(await store.state.minersOf({ tenant: 'acme', status: 'offline' })).toEqual(['a1']);
    expect(await store.state.snapshot('b1')).toEqual(fleet[3]);
    expect((await store.state.aggregate('acme'))?.miners_total).toBe(3);
    expect(await store.state.heartbeat()).toBe(NOW);
    expect(fieldsOf(await store.state.windowBucket('acme', { res: '1h', startMs: h }))).toEqual({ 'a1|run1': 'v1' });
  });
});
