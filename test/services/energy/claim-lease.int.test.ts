import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEnergyMetrics } from '../../../services/energy/energy-metrics.ts';
import type { EnergyServiceOptions } from '../../../services/energy/energy-service.ts';
import type { EnergyPort } from '../../../store/ports/energy.ts';
import { startHarness, waitFor, type Harness } from '../control/harness.ts';
import { MIN, expensiveWindow, now, wall } from './plan-clock.ts';

// A replica that claims a restore step and dies before it records the run (here: its store
// never answers the save, then the replica is closed, as a killed process stops renewing).
// The step must still run in another replica, and the execution finish. The plan clock runs
// 30 times faster than the wall clock (plan-clock.ts).
const LEASE_MS = 1_500;

let h: Harness;

const energyOptions = (replicaId: string): EnergyServiceOptions => ({
  now,
  tickMs: 100,
  retryMs: 10_000,
  graceMs: 60_000,
  claimLeaseMs: LEASE_MS,
  replicaId,
  metrics: createEnergyMetrics(new Registry()),
});

beforeAll(async () => {
  h = await startHarness({ sim: { miners: 8, sites: 1, seed: 23, models: { s9: 50, s19jpro: 50 }, rackSize: 8 } });
  await h.plane.close(); // the replicas of this test only
}, 60_000);

afterAll(async () => {
  await h?.close();
});

describe('a replica that dies between claiming a restore step and recording its run', () => {
  it('holds the step for one lease only: another replica runs it and every miner is restored', async () => {
    const miners = h.fleet.miners;
    const truth = (id: string) => h.fleet.truth(id);
    const before = new Map(miners.map(m => [m.id, truth(m.id).status]));
    await h.refreshSnapshots();
    const powerKw = miners.reduce((a, m) => a + truth(m.id).power_w, 0) / 1000;

    let restoreClaimed!: () => void;
    const dying = new Promise<void>(r => (restoreClaimed = r));
    const energy = h.infra.store.energy;
    const stuck: EnergyPort = {
      ...energy,
      saveStepRun: (id, run) => {
        if (!String(run.kind).startsWith('restore')) return energy.saveStepRun(id, run);
        restoreClaimed();
        return new Promise<void>(() => undefined); // the process is gone: the save never happens
      },
    };
    const doomed = h.newPlane({ energy: energyOptions('doomed') }, { store: { ...h.infra.store, energy: stuck } });
    await doomed.start();

    const a = Math.ceil(now() / MIN) * MIN + 2 * MIN;
    const end = a + 3 * MIN;
    await doomed.energy.putPolicy(h.operator, {
      id: 'lease-rules',
      selector: {},
      currency: 'EUR',
      strike_price_per_mwh: 100,
      target: { kind: 'reduce_percent', percent: 50 },
      method: { default: 'pause' },
      ramp_kw_per_min: powerKw,
      max_price_age_minutes: 24 * 60,
      fallback: 'hold',
      horizon_hours: 2,
      price_source: expensiveWindow(a, end),
    });

    // The doomed replica curtails, then claims the restore step and never records it.
    await Promise.race([
      dying,
      waitFor('never', () => null, wall(12 * MIN) + 20_000, 1_000).catch(() => {
        throw new Error('the doomed replica never reached the restore step');
      }),
    ]);
    const [execution] = await doomed.energy.listExecutions(h.viewer);
    await doomed.close();

    const after = h.newPlane({ energy: energyOptions('after') });
    await after.start();
    const done = await waitFor(
      'execution finished by the other replica',
      async () => {
        const v = await after.energy.getExecution(h.viewer, execution!.id);
        return v.status === 'finished' ? v : null;
      },
      wall(10 * MIN) + 30_000,
      200,
    );
    const restores = done.runs.filter(r => r.kind === 'restore');
    expect(restores.length).toBeGreaterThan(0);
    for (const r of restores) expect(r.replica, r.key).toBe('after');
    for (const m of miners) expect(truth(m.id).status, m.id).toBe(before.get(m.id));
    await after.energy.deletePolicy(h.operator, 'lease-rules');
    await after.close();
  }, 120_000);
});
