import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ControlPlane } from '../../../services/control/index.ts';
import { createEnergyMetrics, type EnergyMetrics } from '../../../services/energy/energy-metrics.ts';
import type { EnergyServiceOptions } from '../../../services/energy/energy-service.ts';
import { startHarness, waitFor, type Harness } from '../control/harness.ts';
import { MIN, SPEED, expensiveWindow, now, wall } from './plan-clock.ts';

// Curtailment end to end over a simulated mixed fleet, with TWO API replicas (two control planes,
// each with its own energy executor and job worker) on one Redis. Plans work in whole minutes
// (the ramp is kW per minute), so both replicas share a clock that runs 30 times faster than
// the wall clock (plan-clock.ts): a plan minute passes in 2 s.

let h: Harness;
let replicaB: ControlPlane;
let metricsA: EnergyMetrics;
let registryA: Registry;

const energyOptions = (metrics: EnergyMetrics): EnergyServiceOptions => ({ now, tickMs: 100, retryMs: 10_000, graceMs: 60_000, metrics });

beforeAll(async () => {
  registryA = new Registry();
  metricsA = createEnergyMetrics(registryA);
  h = await startHarness({
    sim: { miners: 16, sites: 2, seed: 18, models: { s9: 25, s19jpro: 25, s21: 25, s19xp: 25 }, rackSize: 8 },
    plane: { energy: energyOptions(metricsA) },
  });
  replicaB = h.newPlane({ energy: energyOptions(createEnergyMetrics(new Registry())) });
  await replicaB.start();
}, 60_000);

afterAll(async () => {
  await h?.close();
});

const minersOf = (site: string) => h.fleet.miners.filter(m => m.site === site);
const truth = (id: string) => h.fleet.truth(id);
const sitePowerKw = (site: string) => minersOf(site).reduce((a, m) => a + truth(m.id).power_w, 0) / 1000;
const metric = async (name: string, policy: string): Promise<number | undefined> =>
  (await registryA.getSingleMetric(name)?.get())?.values.find(v => v.labels.policy === policy)?.value;

describe('curtailment on a price curve with two expensive windows', () => {
  it('plans least efficient first within the ramp keeping exemptions, runs each step exactly once with two replicas, and restores every miner', async () => {
    const site = 'site-1';
    const miners = minersOf(site);
    const models = new Set(miners.map(m => m.model));
    expect(models.size).toBeGreaterThan(2);
    const exempt = miners.filter(m => m.model === 's19xp').map(m => m.id);
    expect(exempt.length).toBeGreaterThan(0);
    const before = new Map(miners.map(m => [m.id, { status: truth(m.id).status, target: truth(m.id).power_target_w }]));
    await h.refreshSnapshots();
    const powerKw = sitePowerKw(site);
    // Two expensive windows of 4 plan minutes, 4 minutes apart, starting at the next whole minute + 1.
    const a = Math.ceil(now() / MIN) * MIN + 2 * MIN;
    const prices = [
      { start: a - 2 * MIN, end: a, price: 40 },
      { start: a, end: a + 4 * MIN, price: 180 },
      { start: a + 4 * MIN, end: a + 8 * MIN, price: 40 },
      { start: a + 8 * MIN, end: a + 12 * MIN, price: 220 },
      { start: a + 12 * MIN, end: a + 60 * MIN, price: 40 },
    ];
    const cap = Math.floor(powerKw * 0.55);
    // kW per minute: the cut takes at least two steps; above any one miner's power (S19J Pro ~3.3 kW)
    const ramp = Math.max(3.6, (powerKw - cap) / 2.5);
    await h.plane.energy.putPolicy(h.operator, {
      id: 'peak',
      selector: { site },
      currency: 'EUR',
      strike_price_per_mwh: 100,
      target: { kind: 'cap_kw', cap_kw: cap },
      method: { default: 'pause', by_model: { 'Antminer S21': 'power_target' } },
      ramp_kw_per_min: ramp,
      exempt_labels: { model_key: 's19xp' },
      max_price_age_minutes: 24 * 60,
      fallback: 'hold',
      horizon_hours: 2,
      price_source: { kind: 'day_ahead', format: 'json', content: { currency: 'EUR', prices } },
    });

    // The dry run: two windows; the least efficient miners (S9) first; the ramp holds; exempt untouched.
    const { plan } = await replicaB.energy.plan(h.viewer, 'peak');
    expect(plan.windows.map(w => [w.start_ms - a, w.end_ms - a])).toEqual([
      [0, 4 * MIN],
      [8 * MIN, 12 * MIN],
    ]);
    expect(plan.exempt_miner_ids.sort()).toEqual(exempt.sort());
    const curtailed = plan.steps.filter(s => s.kind === 'curtail').flatMap(s => s.miners.map(m => m.miner_id));
    for (const id of exempt) expect(curtailed).not.toContain(id);
    const first = plan.steps.filter(s => s.window_id === plan.windows[0]!.id && s.kind === 'curtail').flatMap(s => s.miners.map(m => h.fleet.miners.find(x => x.id === m.miner_id)!.model));
    expect(first[0]).toBe('s9');
    const rank = { s9: 0, s19jpro: 1, s21: 2, s19xp: 3 } as const;
    expect([...first].map(m => rank[m])).toEqual([...first].map(m => rank[m]).sort());
    const perMinute = new Map<number, number>();
    for (const s of plan.steps) perMinute.set(s.at_ms, (perMinute.get(s.at_ms) ?? 0) + s.kw);
    for (const kw of perMinute.values()) expect(kw).toBeLessThanOrEqual(ramp + 1e-9);
    expect(new Set(plan.steps.filter(s => s.kind === 'curtail' && s.window_id === plan.windows[0]!.id).map(s => s.at_ms)).size).toBeGreaterThan(1);
    const w1Miners = new Set(plan.steps.filter(s => s.window_id === plan.windows[0]!.id && s.kind === 'curtail').flatMap(s => s.miners.map(m => m.miner_id)));

    // During the first window the planned miners are curtailed in the simulator.
    // Each planned miner is seen curtailed during the first window (steps a minute apart).
    const seen = new Set<string>();
    await waitFor(
      'first window curtailed',
      () => {
        for (const id of w1Miners) if (truth(id).status === 'MINER_STATUS_PAUSED' || truth(id).power_target_w !== before.get(id)!.target) seen.add(id);
        return seen.size === w1Miners.size;
      },
      wall(8 * MIN) + 10_000,
      50,
    );
    for (const id of exempt) expect(truth(id).status).toBe(before.get(id)!.status);

    // Both windows finish: every miner restored.
    const done = await waitFor(
      'two executions finished',
      async () => {
        const list = (await h.plane.energy.listExecutions(h.viewer)).filter(e => e.policy_id === 'peak');
        return list.length === 2 && list.every(e => e.status === 'finished') ? list : null;
      },
      wall(20 * MIN) + 30_000,
      200,
    );
    for (const m of miners) {
      expect(truth(m.id).status, m.id).toBe(before.get(m.id)!.status);
      expect(truth(m.id).power_target_w, m.id).toBe(before.get(m.id)!.target);
    }

    // Exactly once: each step ran in one replica; one job per step and request; no duplicates.
    const views = await Promise.all(done.map(e => h.plane.energy.getExecution(h.viewer, e.id)));
    // frozen ahead of the window: its first step runs at the window's start, as the dry run showed
    expect(views.map(v => v.steps[0]!.at_ms - a).sort((x, y) => x - y)).toEqual([0, 8 * MIN]);
    const jobIds = views.flatMap(v => v.runs.flatMap(r => (r.jobs as { id: string }[]).map(j => j.id)));
    const jobs = (await h.plane.jobs.list(h.operator, { type: 'batch-control', limit: 500 })).items.filter(j => j.label.startsWith('curtailment peak'));
    expect(jobs.map(j => j.id).sort()).toEqual([...jobIds].sort());
    for (const v of views) {
      expect(v.runs.map(r => r.key).sort()).toEqual(v.steps.map(s => s.key).sort());
      for (const m of v.miners) {
        expect(m.curtail?.status, m.miner_id).toBe('ok');
        expect(m.restore?.status, m.miner_id).toBe('ok');
      }
    }
    // Audited: per-miner control actions with the execution as origin.
    const events = await h.events.recent(h.tenant, { kind: 'control_action', limit: 1_000 });
    for (const v of views) {
      const mine = events.filter(e => e.data?.origin === `energy:${v.id}`);
      expect(mine.length).toBe(v.miners.length * 2);
    }
    expect(await metric('bosfleet_energy_plan_steps_overdue', `${h.tenant}/peak`)).toBe(0);
    await h.plane.energy.deletePolicy(h.operator, 'peak');
  }, 120_000);
});

describe('a stale HTTP price feed', () => {
  let server: Server;
  let up = true;
  beforeAll(async () => {
    server = createServer((_req, res) => {
      if (!up) {
        res.writeHead(503).end();
        return;
      }
      const t = Math.floor(now() / MIN) * MIN;
      const items = Array.from({ length: 36 }, (_, i) => ({ start: t + i * 5 * MIN, price: 50 }));
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ data: items }));
    });
    await new Promise<void>(r => server.listen(0, '127.0.0.1', r));
  });
  afterAll(() => new Promise<void>(r => server.close(() => r())));

  it('falls back to the configured behaviour, says so in the plan, and raises the stale metric', async () => {
    const port = (server.address() as AddressInfo).port;
    await h.plane.energy.putPolicy(h.operator, {
      id: 'feed',
      selector: { site: 'site-2' },
      currency: 'EUR',
      strike_price_per_mwh: 100,
      target: { kind: 'reduce_percent', percent: 30 },
      ramp_kw_per_min: 50,
      max_price_age_minutes: 3,
      fallback: 'run',
      horizon_hours: 1,
      price_source: { kind: 'http', feed: { url: `http://127.0.0.1:${port}/prices`, items_path: 'data', time_path: 'start', price_path: 'price', currency: 'EUR', interval_minutes: 5 }, poll_minutes: 1 },
    });
    const label = `${h.tenant}/feed`;
    await waitFor('fresh prices', async () => (await h.plane.energy.plan(h.viewer, 'feed')).plan.prices.status === 'fresh', 10_000);
    expect(await metric('bosfleet_energy_price_stale', label)).toBe(0);
    up = false;
    const stale = await waitFor(
      'stale prices',
      async () => {
        const p = (await h.plane.energy.plan(h.viewer, 'feed')).plan;
        return p.prices.status === 'stale' ? p : null;
      },
      wall(6 * MIN) + 10_000,
    );
    expect(stale.prices.fallback_applied).toBe('run');
    expect(stale.windows).toEqual([]);
    await waitFor('stale metric', async () => (await metric('bosfleet_energy_price_stale', label)) === 1, 5_000);
    expect((await metric('bosfleet_energy_price_age_seconds', label))!).toBeGreaterThan(180);
    await h.plane.energy.deletePolicy(h.operator, 'feed');
  }, 60_000);
});

describe('a demand-response signal', () => {
  it('caps the site power within the ramp and restores afterwards', async () => {
    const site = 'site-2';
    const miners = minersOf(site);
    const before = new Map(miners.map(m => [m.id, { status: truth(m.id).status, target: truth(m.id).power_target_w }]));
    await h.refreshSnapshots();
    const powerKw = sitePowerKw(site);
    const ramp = 10;
    await h.plane.energy.putPolicy(h.operator, {
      id: 'dr-rules',
      selector: { site },
      currency: 'USD',
      strike_price_per_mwh: 1_000_000,
      target: { kind: 'cap_kw', cap_kw: 0 },
      ramp_kw_per_min: ramp,
      price_source: { kind: 'none' },
    });
    const cap = Math.floor(powerKw * 0.5);
    const dry = await h.plane.energy.signal(h.operator, { id: 'grid-1', site, cap_kw: cap, duration_minutes: 6 }, { dry_run: true, policy_id: 'dr-rules' });
    expect(dry.execution).toBeNull();
    expect(dry.plan.windows[0]!.sites[0]!.shortfall_kw).toBe(0);
    const given = now();
    const r = await replicaB.energy.signal(h.operator, { id: 'grid-1', site, cap_kw: cap, duration_minutes: 6 }, { policy_id: 'dr-rules' });
    const reachedPlan = r.plan.windows[0]!.sites[0]!.reached_at_ms!;
    // The ramp bounds each minute's change; the plan reaches the cap in the fewest minutes the ramp allows.
    const perMinute = new Map<number, number>();
    for (const s of r.plan.steps.filter(x => x.kind === 'curtail')) perMinute.set(s.at_ms, (perMinute.get(s.at_ms) ?? 0) + s.kw);
    for (const kw of perMinute.values()) expect(kw).toBeLessThanOrEqual(ramp + 1e-9);
    expect(perMinute.size).toBeGreaterThanOrEqual(Math.ceil((powerKw - cap) / ramp) - 1);
    await waitFor('site under the cap', () => sitePowerKw(site) <= cap, wall(8 * MIN), 50);
    const reached = now();
    expect(reached).toBeGreaterThanOrEqual(reachedPlan - 1_000 * SPEED);
    expect(reached - given).toBeLessThan(reachedPlan - given + 2 * MIN);
    await expect(h.plane.energy.signal(h.operator, { id: 'grid-1', site, cap_kw: cap, duration_minutes: 6, start: r.plan.from_ms }, { policy_id: 'dr-rules' })).rejects.toMatchObject({ code: 'conflict' });
    await waitFor('restored', async () => (await h.plane.energy.getExecution(h.viewer, r.execution!.id)).status === 'finished', wall(12 * MIN) + 20_000, 200);
    for (const m of miners) {
      expect(truth(m.id).status, m.id).toBe(before.get(m.id)!.status);
      expect(truth(m.id).power_target_w, m.id).toBe(before.get(m.id)!.target);
    }
  }, 90_000);
});

describe('a miner that does not answer at the restore', () => {
  it('is retried and reported until it is back, never left curtailed', async () => {
    const site = 'site-1';
    await h.refreshSnapshots();
    await h.plane.energy.putPolicy(h.operator, {
      id: 'retry-rules',
      selector: { site },
      currency: 'USD',
      strike_price_per_mwh: 1_000_000,
      target: { kind: 'cap_kw', cap_kw: 0 },
      method: { default: 'pause' },
      ramp_kw_per_min: 1_000,
      exempt_labels: { model_key: 's19xp' },
      price_source: { kind: 'none' },
    });
    const r = await h.plane.energy.signal(h.operator, { id: 'grid-retry', site, cap_kw: 0, duration_minutes: 3 }, { policy_id: 'retry-rules' });
    const victim = r.plan.steps.find(s => s.kind === 'curtail')!.miners[0]!.miner_id;
    await waitFor('victim paused', () => truth(victim).status === 'MINER_STATUS_PAUSED', wall(3 * MIN) + 10_000, 50);
    h.fleet.injectFault(victim, 'unreachable');
    const failing = await waitFor(
      'restore failing and retried',
      async () => {
        const v = await h.plane.energy.getExecution(h.viewer, r.execution!.id);
        const m = v.miners.find(x => x.miner_id === victim);
        return v.status === 'restore_retrying' && m?.restore?.status === 'failed' && m.restore.attempts >= 2 ? v : null;
      },
      wall(15 * MIN) + 20_000,
      200,
    );
    expect(failing.finished_ms).toBeNull();
    expect(truth(victim).status).toBe('MINER_STATUS_PAUSED');
    expect(await metric('bosfleet_energy_restore_pending_miners', `${h.tenant}/retry-rules`)).toBeGreaterThanOrEqual(1);
    h.fleet.clearFault(victim, 'unreachable');
    const done = await waitFor('finished', async () => {
      const v = await h.plane.energy.getExecution(h.viewer, r.execution!.id);
      return v.status === 'finished' ? v : null;
    }, wall(20 * MIN) + 30_000, 200);
    expect(truth(victim).status).toBe('MINER_STATUS_NORMAL');
    const m = done.miners.find(x => x.miner_id === victim)!;
    expect(m.restore).toMatchObject({ status: 'ok' });
    expect(m.restore!.attempts).toBeGreaterThanOrEqual(3);
    await h.plane.energy.deletePolicy(h.operator, 'retry-rules');
  }, 120_000);
});

// Last in the file: it stops the replicas the tests above use.
describe('a restart of every replica while miners are curtailed', () => {
  it('a new replica restores every curtailed miner once the window has ended, and no curtail step runs twice', async () => {
    const site = 'site-2';
    const miners = minersOf(site);
    const before = new Map(miners.map(m => [m.id, { status: truth(m.id).status, target: truth(m.id).power_target_w }]));
    const curtailedNow = (id: string): boolean => truth(id).status !== before.get(id)!.status || truth(id).power_target_w !== before.get(id)!.target;
    await h.refreshSnapshots();
    const powerKw = sitePowerKw(site);
    const a = Math.ceil(now() / MIN) * MIN + 2 * MIN;
    const end = a + 8 * MIN;
    const cap = Math.floor(powerKw * 0.5);
    await h.plane.energy.putPolicy(h.operator, {
      id: 'restart-rules',
      selector: { site },
      currency: 'EUR',
      strike_price_per_mwh: 100,
      target: { kind: 'cap_kw', cap_kw: cap },
      method: { default: 'pause', by_model: { 'Antminer S21': 'power_target' } },
      // the cut takes two steps, a minute apart
      ramp_kw_per_min: Math.max(3.6, (powerKw - cap) / 1.5),
      max_price_age_minutes: 24 * 60,
      fallback: 'hold',
      horizon_hours: 2,
      price_source: expensiveWindow(a, end),
    });

    // Every curtail step has run and its jobs have finished: the planned miners are curtailed.
    const curtailed = await waitFor(
      'curtail steps run',
      async () => {
        const e = (await h.plane.energy.listExecutions(h.viewer)).find(x => x.policy_id === 'restart-rules');
        if (!e) return null;
        const v = await h.plane.energy.getExecution(h.viewer, e.id);
        return v.status === 'curtailed' && v.miners.every(m => m.curtail?.status === 'ok' && curtailedNow(m.miner_id)) ? v : null;
      },
      wall(6 * MIN) + 10_000,
      100,
    );
    expect(now(), 'curtailed before the window ended').toBeLessThan(end);
    const planned = curtailed.miners.map(m => m.miner_id);
    expect(planned.length).toBeGreaterThan(1);
    expect(new Set(curtailed.steps.filter(s => s.kind === 'curtail').map(s => s.at_ms)).size).toBeGreaterThan(1);

    // Every replica stops, as in a process restart; nothing restores the miners meanwhile.
    await Promise.all([h.plane.close(), replicaB.close()]);
    await waitFor('window end passed with no replica running', () => now() > end + MIN, wall(10 * MIN) + 10_000, 50);
    for (const id of planned) expect(curtailedNow(id), id).toBe(true);

    // A new replica over the same store restores them at once: the window's end has passed.
    const after = h.newPlane({ energy: { ...energyOptions(createEnergyMetrics(new Registry())), replicaId: 'after-restart' } });
    await after.start();
    const done = await waitFor(
      'execution finished after the restart',
      async () => {
        const v = await after.energy.getExecution(h.viewer, curtailed.id);
        return v.status === 'finished' ? v : null;
      },
      wall(10 * MIN) + 30_000,
      200,
    );
    for (const m of miners) {
      expect(truth(m.id).status, m.id).toBe(before.get(m.id)!.status);
      expect(truth(m.id).power_target_w, m.id).toBe(before.get(m.id)!.target);
    }

    // One run per step: curtail steps by the old replicas (not again), restores by the new one.
    expect(done.runs.map(r => r.key).sort()).toEqual(done.steps.map(s => s.key).sort());
    for (const r of done.runs) {
      if (r.kind === 'curtail') expect(r.replica, r.key).not.toBe('after-restart');
      else expect(r.replica, r.key).toBe('after-restart');
    }
    for (const m of done.miners) {
      expect(m.curtail, m.miner_id).toMatchObject({ status: 'ok', attempts: 1 });
      expect(m.restore, m.miner_id).toMatchObject({ status: 'ok', attempts: 1 });
    }
    const jobIds = done.runs.flatMap(r => (r.jobs as { id: string }[]).map(j => j.id));
    const jobs = (await after.jobs.list(h.operator, { type: 'batch-control', limit: 500 })).items.filter(j => j.label.startsWith('curtailment restart-rules'));
    expect(jobs.map(j => j.id).sort()).toEqual([...jobIds].sort());
    const events = await h.events.recent(h.tenant, { kind: 'control_action', limit: 1_000 });
    expect(events.filter(e => e.data?.origin === `energy:${done.id}`).length).toBe(planned.length * 2);
    await after.energy.deletePolicy(h.operator, 'restart-rules');
  }, 120_000);
});
