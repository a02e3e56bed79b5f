// Each fault's effect as a real client sees it, the --faults syntax, and faults over admin HTTP.
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type {
  GetErrorsResponse,
  GetHashboardsResponse,
  GetMinerStatsResponse,
  GetPoolGroupsResponse,
} from '../../proto/types.ts';
import { assignFaults, parseFaultSpec } from '../../simulator/faults.ts';
import { startSimulator, type SimulatedFleet } from '../../simulator/index.ts';
import { connect, expectStatus, FAST, sleep, waitFor, type MinerClients } from './helpers.ts';

describe('--faults syntax', () => {
  it('parses counts, percentages, parameters and explicit miners', () => {
    expect(
      parseFaultSpec(
        'overheat:2,unreachable,slow=5000:10%,intermittent=20%@sim-0003+sim-0007,upgrade_failure=old_version:1',
      ),
    ).toEqual([
      { fault: { kind: 'overheat' }, count: 2 },
      { fault: { kind: 'unreachable' }, count: 1 },
      { fault: { kind: 'slow', delay_ms: 5000 }, percent: 10 },
      { fault: { kind: 'intermittent', failure_rate: 0.2 }, minerIds: ['sim-0003', 'sim-0007'] },
      { fault: { kind: 'upgrade_failure', mode: 'old_version' }, count: 1 },
    ]);
    expect(parseFaultSpec('reboot_loop=30:1,low_hashrate=0.6:3,hashboard_failure=2:1')).toEqual([
      { fault: { kind: 'reboot_loop', every_s: 30 }, count: 1 },
      { fault: { kind: 'low_hashrate', ratio: 0.6 }, count: 3 },
      { fault: { kind: 'hashboard_failure', board_index: 2 }, count: 1 },
    ]);
    expect(() => parseFaultSpec('melting:2')).toThrow(/unknown fault 'melting'/);
    expect(() => parseFaultSpec('overheat=3:1')).toThrow(/takes no parameter/);
    expect(() => parseFaultSpec('slow=-1:1')).toThrow(/slow=-1/);
    expect(() => parseFaultSpec('overheat:x')).toThrow(/bad fault item/);
  });

  it('picks miners deterministically from the seed, preferring miners without a fault', () => {
    const ids = Array.from({ length: 50 }, (_, i) => `sim-${String(i + 1).padStart(4, '0')}`);
    const items = parseFaultSpec('overheat:5,unreachable:5,dead_pool:10%');
    const a = assignFaults(items, ids, 42);
    const b = assignFaults(items, ids, 42);
    const c = assignFaults(items, ids, 43);
    expect([...a.entries()]).toEqual([...b.entries()]);
    expect([...a.keys()].sort()).not.toEqual([...c.keys()].sort());
    expect(a.size).toBe(15);
    expect([...a.values()].every(f => f.length === 1)).toBe(true);
    expect(() => assignFaults(parseFaultSpec('overheat@sim-9999'), ids, 1)).toThrow(/no miner/);
    expect(() => assignFaults(parseFaultSpec('overheat:51'), ids, 1)).toThrow(/only 50/);
  });

  it('applies start faults from the options string', async () => {
    const fleet = await startSimulator({
      miners: 12,
      seed: 9,
      baseAddress: '127.6.1.1',
      faults: 'overheat:2,unreachable:1,slow=250@sim-0004',
    });
    try {
      const s = fleet.summary();
      const flat = s.faults.flatMap(f => f.faults.map(k => `${f.id}:${k}`));
      expect(flat.filter(x => x.endsWith(':overheat'))).toHaveLength(2);
      expect(flat.filter(x => x.endsWith(':unreachable'))).toHaveLength(1);
      expect(flat).toContain('sim-0004:slow=250');
      const down = s.faults.find(f => f.faults.includes('unreachable'))!.id;
      const c = connect(fleet.info(down).address);
      try {
        await expectStatus(
          c.call('ApiVersionService', 'GetApiVersion', {}, new grpc.Metadata(), 1_000),
          grpc.status.UNAVAILABLE,
        );
      } finally {
        c.close();
      }
    } finally {
      await fleet.stop();
    }
  });
});

describe('fault effects over gRPC', () => {
  let fleet: SimulatedFleet;
  const clients: MinerClients[] = [];
  const open = async (index: number): Promise<MinerClients> => {
    const c = connect(fleet.miners[index]!.address);
    clients.push(c);
    await c.login();
    return c;
  };

  beforeAll(async () => {
    fleet = await startSimulator({
      miners: 10,
      seed: 'faults',
      models: 's19jpro',
      baseAddress: '127.6.0.1',
      ...FAST,
      thermalTauMs: 300,
      fanTauMs: 200,
    });
  });
  afterAll(async () => {
    for (const c of clients) c.close();
    await fleet.stop();
  });

  it('unreachable: connections refused, mining goes on; back when cleared', async () => {
    const c = await open(0);
    const before = fleet.truth('sim-0001');
    fleet.injectFault('sim-0001', 'unreachable');
    await fleet.settled();
    await expectStatus(
      c.call('ApiVersionService', 'GetApiVersion', {}, new grpc.Metadata(), 1_000),
      grpc.status.UNAVAILABLE,
    );
    const fresh = connect(fleet.miners[0]!.address);
    clients.push(fresh);
    const refused = await expectStatus(
      fresh.call('ApiVersionService', 'GetApiVersion', {}, new grpc.Metadata(), 1_000),
      grpc.status.UNAVAILABLE,
    );
    expect(refused.details).toMatch(/ECONNREFUSED|No connection established/);
    expect(fleet.truth('sim-0001')).toMatchObject({
      reachable: false,
      booted: true,
      status: 'MINER_STATUS_NORMAL',
    });
    fleet.clearFault('sim-0001', 'unreachable');
    await fleet.settled();
    await waitFor(async () => {
      await fresh.call('MinerService', 'GetMinerDetails', {}, c.md, 1_000);
      return true;
    }, 10_000);
    expect(fleet.truth('sim-0001').uptime_s).toBeGreaterThanOrEqual(before.uptime_s);
  });

  it('slow: responses are delayed (deadlines expire)', async () => {
    const c = await open(1);
    fleet.injectFault('sim-0002', { kind: 'slow', delay_ms: 600 });
    await expectStatus(
      c.call('MinerService', 'GetMinerStats', {}, undefined, 300),
      grpc.status.DEADLINE_EXCEEDED,
    );
    const t0 = Date.now();
    await c.call('MinerService', 'GetMinerStats', {}, undefined, 3_000);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(590);
    fleet.clearFault('sim-0002');
  });

  it('intermittent: a fraction of calls fails with UNAVAILABLE', async () => {
    const c = await open(2);
    fleet.injectFault('sim-0003', { kind: 'intermittent', failure_rate: 0.5 });
    let ok = 0;
    let failed = 0;
    for (let i = 0; i < 40; i++) {
      try {
        await c.call('ApiVersionService', 'GetApiVersion', {}, new grpc.Metadata());
        ok++;
      } catch (err) {
        expect((err as grpc.ServiceError).code).toBe(grpc.status.UNAVAILABLE);
        failed++;
      }
    }
    expect(ok).toBeGreaterThan(8);
    expect(failed).toBeGreaterThan(8);
    fleet.clearFault('sim-0003');
  });

  it('auth_reject: login fails and existing sessions are dropped', async () => {
    const c = await open(3);
    fleet.injectFault('sim-0004', 'auth_reject');
    await expectStatus(c.call('MinerService', 'GetMinerDetails'), grpc.status.UNAUTHENTICATED);
    await expectStatus(c.login(), grpc.status.UNAUTHENTICATED);
    fleet.clearFault('sim-0004', 'auth_reject');
    await c.login();
    await c.call('MinerService', 'GetMinerDetails');
  });

  it('overheat: chips climb between hot and dangerous, fans at 100 %, an error is reported', async () => {
    const c = await open(4);
    fleet.injectFault('sim-0005', 'overheat');
    await sleep(1_000);
    const t = fleet.truth('sim-0005');
    expect(t.temp_chip_max_c).toBeGreaterThan(92);
    expect(t.temp_chip_max_c).toBeLessThan(105);
    expect(t.fans.every(f => f.pwm_ratio > 0.95)).toBe(true);
    const { res } = await c.call<GetErrorsResponse>('MinerService', 'GetErrors');
    expect(res.errors.map(e => e.error_codes[0]?.code)).toContain('TEMPERATURE_HOT');
    const e = res.errors.find(x => x.error_codes[0]?.code === 'TEMPERATURE_HOT')!;
    expect(e.timestamp).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    expect(e.components[0]?.name).toBe('hashboard');
    fleet.clearFault('sim-0005');
    await sleep(1_000);
    expect(fleet.truth('sim-0005').temp_chip_max_c).toBeLessThan(85);
  });

  it('hashboard_failure: one board with 0 chips and 0 hashrate, errors name it', async () => {
    const c = await open(5);
    const before = fleet.truth('sim-0006');
    fleet.injectFault('sim-0006', { kind: 'hashboard_failure', board_index: 1 });
    const { res } = await c.call<GetHashboardsResponse>('MinerService', 'GetHashboards');
    const board = res.hashboards.find(b => b.id === '2')!;
    expect(board.enabled).toBe(true);
    expect(board.chips_count?.value).toBe(0);
    expect(board.stats!.nominal_hashrate!.gigahash_per_second).toBe(0);
    const t = fleet.truth('sim-0006');
    expect(t.boards_hashing).toBe(2);
    expect(t.hashrate_nominal_ghs).toBeCloseTo((before.hashrate_nominal_ghs * 2) / 3, -3);
    expect(t.power_w).toBeLessThan(before.power_w * 0.8);
    const errs = await c.call<GetErrorsResponse>('MinerService', 'GetErrors');
    expect(errs.res.errors[0]).toMatchObject({
      error_codes: [{ code: 'HASHBOARD_NO_CHIPS' }],
      components: [{ name: 'hashboard', index: 1 }],
    });
  });

  it('dead_pool: pools not alive, no shares, hashrate drops to 0', async () => {
    const c = await open(6);
    fleet.injectFault('sim-0007', 'dead_pool');
    const { res } = await c.call<GetPoolGroupsResponse>('PoolService', 'GetPoolGroups');
    for (const p of res.pool_groups.flatMap(g => g.pools))
      expect(p).toMatchObject({ alive: false, active: false });
    const a = fleet.truth('sim-0007');
    await sleep(1_000);
    const b = fleet.truth('sim-0007');
    expect(b.shares_accepted).toBe(a.shares_accepted);
    expect(b.hashrate_instant_ghs).toBe(0);
    expect(b.hashrate_nominal_ghs).toBeGreaterThan(90_000);
    const errs = await c.call<GetErrorsResponse>('MinerService', 'GetErrors');
    expect(errs.res.errors.map(e => e.error_codes[0]?.code)).toContain('POOL_NONE_ALIVE');
  });

  it('low_hashrate: real hashrate settles at ~70 % of nominal with a large error hashrate', async () => {
    const c = await open(7);
    fleet.injectFault('sim-0008', 'low_hashrate');
    const t = fleet.truth('sim-0008');
    expect(t.hashrate_instant_ghs / t.hashrate_nominal_ghs).toBeCloseTo(0.7, 2);
    await waitFor(async () => {
      const { res } = await c.call<GetMinerStatsResponse>('MinerService', 'GetMinerStats');
      const ms = res.miner_stats!;
      return (
        ms.real_hashrate!.last_5s!.gigahash_per_second / ms.nominal_hashrate!.gigahash_per_second < 0.85 &&
        ms.error_hashrate!.megahash_per_second > 1e6
      );
    }, 12_000);
  });

  it('reboot_loop: the miner keeps rebooting until cleared', async () => {
    fleet.injectFault('sim-0009', { kind: 'reboot_loop', every_s: 1 });
    await waitFor(() => !fleet.truth('sim-0009').reachable, 3_000, 20);
    await waitFor(() => fleet.truth('sim-0009').reachable, 3_000, 20);
    expect(fleet.truth('sim-0009').uptime_s).toBeLessThan(2);
    await waitFor(() => !fleet.truth('sim-0009').reachable, 3_000, 20);
    fleet.clearFault('sim-0009', 'reboot_loop');
    await waitFor(() => fleet.truth('sim-0009').reachable, 3_000, 20);
    await sleep(1_200);
    expect(fleet.truth('sim-0009').reachable).toBe(true);
  });
});

describe('admin HTTP', () => {
  let fleet: SimulatedFleet;

  beforeAll(async () => {
    fleet = await startSimulator({ miners: 4, seed: 'admin', baseAddress: '127.6.2.1', adminPort: 0 });
  });
  afterAll(async () => {
    await fleet.stop();
  });

  it('lists miners, injects and clears faults, shows truth', async () => {
    const base = fleet.adminUrl!;
    expect(base).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const list = (await (await fetch(`${base}/miners`)).json()) as Array<{
      id: string;
      address: string;
      reachable: boolean;
      faults: string[];
    }>;
    expect(list).toHaveLength(4);
    expect(list[0]).toMatchObject({
      id: 'sim-0001',
      address: '127.6.2.1:50051',
      reachable: true,
      faults: [],
    });

    const post = await fetch(`${base}/miners/sim-0002/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ fault: 'slow', delay_ms: 1500 }),
    });
    expect(post.status).toBe(201);
    expect(await post.json()).toEqual({ id: 'sim-0002', faults: [{ kind: 'slow', delay_ms: 1500 }] });
    expect(fleet.faults('sim-0002')).toEqual([{ kind: 'slow', delay_ms: 1500 }]);

    const unreachable = await fetch(`${base}/miners/sim-0003/faults`, {
      method: 'POST',
      body: JSON.stringify({ fault: 'unreachable' }),
    });
    expect(unreachable.status).toBe(201);
    const truth = (await (await fetch(`${base}/miners/sim-0003`)).json()) as {
      reachable: boolean;
      hashrate_ghs: number;
    };
    expect(truth.reachable).toBe(false);
    expect(truth.hashrate_ghs).toBeGreaterThan(0);

    const del = await fetch(`${base}/miners/sim-0002/faults/slow`, { method: 'DELETE' });
    expect(await del.json()).toEqual({ id: 'sim-0002', cleared: true, faults: [] });
    const delAll = await fetch(`${base}/miners/sim-0003/faults`, { method: 'DELETE' });
    expect(((await delAll.json()) as { cleared: boolean }).cleared).toBe(true);
    expect(fleet.truth('sim-0003').reachable).toBe(true);

    expect((await fetch(`${base}/miners/sim-9999`)).status).toBe(404);
    const bad = await fetch(`${base}/miners/sim-0001/faults`, {
      method: 'POST',
      body: JSON.stringify({ fault: 'melting' }),
    });
    expect(bad.status).toBe(400);
    const badParam = await fetch(`${base}/miners/sim-0001/faults`, {
      method: 'POST',
      body: JSON.stringify({ fault: 'slow', delay_ms: -5 }),
    });
    expect(badParam.status).toBe(400);
    expect(((await badParam.json()) as { error: string }).error).toMatch(/delay_ms/);
    expect((await fetch(`${base}/health`)).status).toBe(200);
  });
});
