import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { rowsOf } from '../../../store/influx-redis/influx-client.ts';
import { MinerClient } from '../../../collector/miner-client.ts';
import { startHarness, waitFor, type Harness } from './harness.ts';

// ControlService over a simulated fleet (real gRPC on loopback), real Redis and InfluxDB.
// 8 miners on 2 sites, two models with different power-target limits
// (Antminer S19J Pro 1200-3900 W, Antminer S21 1600-4300 W).
let h: Harness;
const WRITE_RPC =
  /^(Set|Increment|Decrement|Pause|Resume|Stop|Start|Restart|Reboot|Create|Update|Remove|Enable|Disable)/;

beforeAll(async () => {
  h = await startHarness({ sim: { miners: 8, sites: 2, models: 's19jpro:50,s21:50', seed: 21 } });
}, 60_000);

afterAll(async () => {
  await h?.close();
});

afterEach(() => {
  vi.restoreAllMocks();
  for (const m of h.fleet.miners) {
    // A client whose channel saw the miner down backs off reconnecting; start the next test fresh.
    if (h.fleet.clearFault(m.id)) h.infra.minerPool.evict(m.id);
  }
});

const site = (s: string): string[] => h.fleet.miners.filter(m => m.site === s).map(m => m.id);
const status = (id: string): string => h.fleet.truth(id).status;

describe('batch actions', () => {
  it('a batch pause over a site reaches exactly those miners, runs as a job and is audited', async () => {
    const site1 = site('site-1');
    const others = h.fleet.miners.filter(m => m.site !== 'site-1').map(m => m.id);
    expect(site1.length).toBeGreaterThan(1);
    const r = await h.plane.control.execute(
      h.operator,
      { selector: { site: 'site-1' } },
      { kind: 'action', action: 'pause' },
    );
    expect(r.mode).toBe('job');
    expect(r.matched).toBe(site1.length);
    expect(r.effect.power_kw).toBeLessThan(0);
    const done = await h.plane.jobs.waitUntilFinished(h.operator, r.job!.id, 30_000);
    expect(done.status).toBe('succeeded');
    for (const id of site1) expect(status(id)).toBe('MINER_STATUS_PAUSED');
    for (const id of others) expect(status(id)).toBe('MINER_STATUS_NORMAL');

    const job = await h.plane.jobs.get(h.operator, r.job!.id);
    expect(job.results.map(x => x.id).sort()).toEqual([...site1].sort());
    expect(job.results.every(x => x.status === 'ok')).toBe(true);
    expect(job.progress).toMatchObject({ total: site1.length, done: site1.length, ok: site1.length });

    // Audit: one control_action per miner with who did it, in the Redis stream and InfluxDB.
    const recent = await h.events.recent(h.tenant, { kind: 'control_action', limit: 100 });
    const mine = recent.filter(e => e.data?.job === r.job!.id);
    expect(mine.map(e => e.miner).sort()).toEqual([...site1].sort());
    expect(mine.every(e => e.actor === h.operator.sub && e.result === 'ok')).toBe(true);
    await h.writer.flush();
    const rows = rowsOf(
      await h.influx.query(
        `SELECT count("message") AS n FROM event WHERE kind = 'control_action' AND actor = '${h.operator.sub}'`,
      ),
    );
    expect(Number(rows[0]?.n)).toBeGreaterThanOrEqual(site1.length);

    // Put them back for the next tests (and check resume as a batch).
    const back = await h.plane.control.execute(
      h.operator,
      { selector: { site: 'site-1' } },
      { kind: 'action', action: 'resume' },
    );
    await h.plane.jobs.waitUntilFinished(h.operator, back.job!.id, 30_000);
    for (const id of site1) expect(status(id)).toBe('MINER_STATUS_NORMAL');
  });

  it('an unreachable miner in a batch is reported; the rest succeed', async () => {
    const ids = site('site-2');
    const dead = ids[0]!;
    h.fleet.injectFault(dead, 'unreachable');
    const r = await h.plane.control.execute(
      h.operator,
      { selector: { ids } },
      { kind: 'action', action: 'locate_on' },
    );
    const done = await h.plane.jobs.waitUntilFinished(h.operator, r.job!.id, 30_000);
    expect(done.status).toBe('partially_failed');
    const job = await h.plane.jobs.get(h.operator, r.job!.id);
    const byId = new Map(job.results.map(x => [x.id, x]));
    expect(byId.get(dead)).toMatchObject({ status: 'failed' });
    expect(['unreachable', 'timeout']).toContain(byId.get(dead)!.code);
    expect(byId.get(dead)!.message).toMatch(/unreachable|deadline|did not answer/);
    for (const id of ids.slice(1)) {
      expect(byId.get(id)?.status).toBe('ok');
      expect(h.fleet.truth(id).locate).toBe(true);
    }
  });

  it("another tenant's ids are reported as not found, one by one", async () => {
    const r = await h.plane.control
      .execute(
        { ...h.operator, tenant: 'someone-else' },
        { selector: { ids: [h.fleet.miners[0]!.id, 'nope'] } },
        { kind: 'action', action: 'pause' },
        { dryRun: true },
      )
      .then(
        () => null,
        (e: unknown) => e as { code: string; details: { not_found: string[] } },
      );
    expect(r?.code).toBe('not_found');
    expect(r!.details.not_found.sort()).toEqual([h.fleet.miners[0]!.id, 'nope'].sort());
    await expect(
      h.plane.control.execute(
        { ...h.operator, tenant: 'someone-else' },
        { id: h.fleet.miners[0]!.id },
        { kind: 'action', action: 'pause' },
      ),
    ).rejects.toMatchObject({ code: 'not_found' });
  });

  it('refuses an empty selector and a viewer', async () => {
    await expect(
      h.plane.control.execute(h.operator, { selector: {} }, { kind: 'action', action: 'reboot' }),
    ).rejects.toMatchObject({ code: 'invalid_argument' });
    await expect(
      h.plane.control.execute(h.viewer, { id: h.fleet.miners[0]!.id }, { kind: 'action', action: 'pause' }),
    ).rejects.toMatchObject({ code: 'forbidden' });
  });
});

describe('dry run', () => {
  it('changes nothing and sends no write RPC, but reports miners, current -> new and the fleet effect', async () => {
    const ids = site('site-2');
    const before = new Map(
      ids.map(id => [id, { target: h.fleet.truth(id).power_target_w, version: h.fleet.miner(id).version }]),
    );
    const unary = vi.spyOn(MinerClient.prototype, 'unary');
    const upgrade = vi.spyOn(MinerClient.prototype, 'systemUpgrade');
    const r = await h.plane.control.execute(
      h.operator,
      { selector: { site: 'site-2' } },
      { kind: 'power_target', watt: 2_500 },
      { dryRun: true },
    );
    expect(r.mode).toBe('dry_run');
    expect(r.matched).toBe(ids.length);
    expect(r.counts.would_apply).toBe(ids.length);
    for (const m of r.miners) {
      expect(m.changes?.[0]).toMatchObject({
        field: 'power_target_w',
        current: before.get(m.id)!.target,
        new: 2_500,
      });
    }
    // Every miner runs above 2.5 kW by default: the fleet would draw less and hash less.
    expect(r.effect.power_kw).toBeLessThan(0);
    expect(r.effect.hashrate_ths).toBeLessThan(0);
    expect(r.effect.miners_estimated).toBe(ids.length);
    const methods = unary.mock.calls.map(c => String(c[1]));
    expect(methods.filter(m => WRITE_RPC.test(m))).toEqual([]);
    expect(upgrade).not.toHaveBeenCalled();
    for (const id of ids) {
      expect(h.fleet.truth(id).power_target_w).toBe(before.get(id)!.target);
      expect(h.fleet.miner(id).version).toBe(before.get(id)!.version);
    }
    const jobs = await h.plane.jobs.list(h.operator, {});
    expect(jobs.items.some(j => j.label.includes('2500'))).toBe(false);
  });

  it('a pause dry run estimates minus the current output', async () => {
    const r = await h.plane.control.execute(
      h.operator,
      { selector: { site: 'site-1' } },
      { kind: 'action', action: 'pause' },
      { dryRun: true },
    );
    expect(r.counts.would_apply).toBe(site('site-1').length);
    expect(r.effect.power_kw).toBeLessThan(-1);
    expect(r.effect.hashrate_ths).toBeLessThan(-100);
    for (const id of site('site-1')) expect(status(id)).toBe('MINER_STATUS_NORMAL');
  });
});

describe('constraints', () => {
  it("a power target outside a miner's own range is rejected for that miner with a clear message; the others apply it", async () => {
    const s19 = h.fleet.miners.filter(m => m.model === 's19jpro').map(m => m.id);
    const s21 = h.fleet.miners.filter(m => m.model === 's21').map(m => m.id);
    expect(s19.length).toBeGreaterThan(0);
    expect(s21.length).toBeGreaterThan(0);
    const before = new Map(s19.map(id => [id, h.fleet.truth(id).power_target_w]));
    const r = await h.plane.control.execute(
      h.operator,
      { selector: { all: true } },
      { kind: 'power_target', watt: 4_100 },
    );
    const done = await h.plane.jobs.waitUntilFinished(h.operator, r.job!.id, 30_000);
    expect(done.status).toBe('partially_failed');
    const job = await h.plane.jobs.get(h.operator, r.job!.id);
    for (const res of job.results) {
      if (s19.includes(res.id)) {
        expect(res).toMatchObject({ status: 'invalid', code: 'invalid_argument' });
        expect(res.message).toBe("power target 4100 W is outside this miner's range 1200-3900 W");
        expect(h.fleet.truth(res.id).power_target_w).toBe(before.get(res.id));
      } else {
        expect(res, JSON.stringify(res)).toMatchObject({ status: 'ok' });
        expect(h.fleet.truth(res.id).power_target_w).toBe(4_100);
      }
    }
    // The refusal is audited too.
    const recent = await h.events.recent(h.tenant, { kind: 'control_action', limit: 200 });
    expect(recent.filter(e => e.data?.job === r.job!.id && e.result === 'invalid_argument').length).toBe(
      s19.length,
    );
  });

  it('relative targets go through Increment/Decrement and are checked against the computed value', async () => {
    const id = h.fleet.miners.find(m => m.model === 's19jpro')!.id;
    const start = h.fleet.truth(id).power_target_w;
    const unary = vi.spyOn(MinerClient.prototype, 'unary');
    const r = await h.plane.control.execute(h.operator, { id }, { kind: 'power_target', delta_w: -200 });
    expect(r.mode).toBe('inline');
    expect(r.miners[0]).toMatchObject({
      status: 'ok',
      changes: [{ field: 'power_target_w', current: start, new: start - 200 }],
    });
    expect(unary.mock.calls.map(c => String(c[1]))).toContain('DecrementPowerTarget');
    expect(h.fleet.truth(id).power_target_w).toBe(start - 200);
    // One named miner refusing is the request failing (422), with the miner's reason.
    await expect(
      h.plane.control.execute(h.operator, { id }, { kind: 'power_target', delta_w: 10_000 }),
    ).rejects.toMatchObject({ code: 'unsupported', details: { miner: id, status: 'invalid', reason: 'invalid_argument' } });
    expect(h.fleet.truth(id).power_target_w).toBe(start - 200);
  });

  it('validates cooling values against the cooling constraints and hashboard ids against the miner', async () => {
    const id = h.fleet.miners[0]!.id;
    await expect(
      h.plane.control.execute(h.operator, { id }, { kind: 'hashboards', enable: false, hashboard_ids: ['99'] }),
    ).rejects.toMatchObject({ code: 'unsupported', message: expect.stringMatching(/no hashboard 99/) });
    const ok = await h.plane.control.execute(
      h.operator,
      { id },
      { kind: 'cooling', mode: 'manual', fan_speed_ratio: 0.8 },
    );
    expect(ok.miners[0]?.status).toBe('ok');
    expect(h.fleet.truth(id).cooling_mode).toBe('manual');
  });
});

describe('pools', () => {
  it('replaces pool groups; the password reaches the miner but is never echoed, stored in clear or audited', async () => {
    const ids = site('site-1').slice(0, 2);
    const secret = 'hunter2-very-secret';
    const request = {
      kind: 'pools',
      op: 'replace',
      groups: [
        {
          name: 'main',
          pools: [{ url: 'stratum+tcp://pool.example.com:3333', user: 'acme.worker', password: secret }],
        },
      ],
    };
    const r = await h.plane.control.execute(h.operator, { selector: { ids } }, request);
    expect(JSON.stringify(r)).not.toContain(secret);
    const done = await h.plane.jobs.waitUntilFinished(h.operator, r.job!.id, 30_000);
    expect(done.status).toBe('succeeded');
    for (const id of ids) {
      const pools = h.fleet.truth(id).pools;
      expect(pools.map(p => p.url)).toEqual(['stratum+tcp://pool.example.com:3333']);
      expect(h.fleet.miner(id).poolGroups[0]!.pools[0]!.password).toBe(secret);
    }
    const job = await h.plane.jobs.get(h.operator, r.job!.id);
    expect(JSON.stringify(job)).not.toContain(secret);
    const raw = await h.redis.keys(`${h.keys.prefix}:*`);
    for (const k of raw) {
      const type = await h.redis.type(k);
      const dump =
        type === 'string'
          ? await h.redis.get(k)
          : type === 'hash'
            ? JSON.stringify(await h.redis.hgetall(k))
            : type === 'stream'
              ? JSON.stringify(await h.redis.xrange(k, '-', '+'))
              : '';
      expect(dump ?? '', `key ${k}`).not.toContain(secret);
    }
    const recent = await h.events.recent(h.tenant, { limit: 500 });
    expect(JSON.stringify(recent)).not.toContain(secret);
  });
});

describe('single miner', () => {
  it('runs inline and returns its result', async () => {
    const id = h.fleet.miners[1]!.id;
    const r = await h.plane.control.execute(h.operator, { id }, { kind: 'action', action: 'pause' });
    expect(r).toMatchObject({ mode: 'inline', job: null, matched: 1 });
    expect(r.miners[0]).toMatchObject({ id, status: 'ok' });
    expect(status(id)).toBe('MINER_STATUS_PAUSED');
    const again = await h.plane.control.execute(h.operator, { id }, { kind: 'action', action: 'pause' });
    expect(again.miners[0]).toMatchObject({ status: 'ok', message: 'was already paused' });
    await h.plane.control.execute(h.operator, { id }, { kind: 'action', action: 'resume' });
    await waitFor('resumed', () => status(id) === 'MINER_STATUS_NORMAL');
  });
});
