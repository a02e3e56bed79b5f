import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MinerClient } from '../../../collector/miner-client.ts';
import { createEnergyMetrics } from '../../../services/energy/energy-metrics.ts';
import { startHarness, waitFor, type Harness } from '../control/harness.ts';
import { MIN, now, wall } from './plan-clock.ts';

// A curtail whose first attempt took effect but whose answer was lost: the retry finds the miner
// already paused. What the window puts back must still be the state before its first attempt.
// The test stands in for the lost answer: the first attempt fails (unreachable), then the miner
// is paused directly before the retry. Plan clock 30 times the wall clock (plan-clock.ts).

let h: Harness;

beforeAll(async () => {
  h = await startHarness({
    sim: { miners: 4, sites: 1, seed: 31, models: { s19jpro: 100 }, rackSize: 4 },
    // the retry waits 3 plan minutes (6 s): room to stand in for the lost answer first
    plane: { energy: { now, tickMs: 100, retryMs: 3 * MIN, graceMs: 60_000, metrics: createEnergyMetrics(new Registry()) } },
  });
}, 60_000);

afterAll(async () => {
  await h?.close();
});

describe('a curtail retry that finds the miner already curtailed', () => {
  it('keeps what the miner had before the first attempt, so the window end resumes it', async () => {
    const truth = (id: string) => h.fleet.truth(id);
    await h.refreshSnapshots();
    await h.plane.energy.putPolicy(h.operator, {
      id: 'memo-rules',
      selector: {},
      currency: 'USD',
      strike_price_per_mwh: 1_000_000,
      target: { kind: 'cap_kw', cap_kw: 0 },
      method: { default: 'pause' },
      ramp_kw_per_min: 1_000,
      price_source: { kind: 'none' },
    });
    const plan = await h.plane.energy.signal(h.operator, { id: 'grid', site: h.fleet.miners[0]!.site, cap_kw: 0, duration_minutes: 12 }, { dry_run: true, policy_id: 'memo-rules' });
    const victim = plan.plan.steps.find(s => s.kind === 'curtail')!.miners[0]!.miner_id;
    expect(truth(victim).status).toBe('MINER_STATUS_NORMAL');
    h.fleet.injectFault(victim, 'unreachable');
    const r = await h.plane.energy.signal(h.operator, { id: 'grid', site: h.fleet.miners[0]!.site, cap_kw: 0, duration_minutes: 12 }, { policy_id: 'memo-rules' });
    const minerOf = async () => (await h.plane.energy.getExecution(h.viewer, r.execution!.id)).miners.find(x => x.miner_id === victim);
    await waitFor('first curtail failed', async () => ((await minerOf())?.curtail?.status === 'failed' ? true : null), wall(4 * MIN) + 10_000, 100);

    // the first attempt "took effect": the miner is back and paused before the retry comes
    h.fleet.clearFault(victim, 'unreachable');
    const m = h.fleet.info(victim);
    const c = new MinerClient({ minerId: m.id, host: m.host, port: m.port, credentials: { username: 'root', password: 'root' } });
    // the simulator reopens the miner's port a moment after the fault is cleared
    await waitFor('paused directly', () => c.unary('ActionsService', 'PauseMining', {}).then(() => true, () => null), 10_000, 100);
    c.close();
    expect((await minerOf())?.curtail?.attempts, 'the retry ran before the test could stand in for the lost answer').toBe(1);

    await waitFor('retry found it paused', async () => {
      const x = await minerOf();
      return x?.curtail?.status === 'ok' && x.curtail.attempts >= 2 ? true : null;
    }, wall(8 * MIN) + 10_000, 100);
    const done = await waitFor('finished', async () => {
      const v = await h.plane.energy.getExecution(h.viewer, r.execution!.id);
      return v.status === 'finished' ? v : null;
    }, wall(20 * MIN) + 30_000, 200);
    expect(done.miners.find(x => x.miner_id === victim)!.restore).toMatchObject({ status: 'ok' });
    expect(truth(victim).status, 'the window end left the miner paused').toBe('MINER_STATUS_NORMAL');
    await h.plane.energy.deletePolicy(h.operator, 'memo-rules');
  }, 120_000);
});
