import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from './harness.ts';

// Issue #14 item 4: a dry-run resume estimates the hashrate the miner will add from its real
// expected hashrate (every board), not from the lagging hashrate windows of a paused miner
// (which still read near full output right after the pause) nor a nominal that dropped to 0.
let h: Harness;

beforeAll(async () => {
  h = await startHarness({ sim: { miners: 2, sites: 1, seed: 1414 } });
}, 60_000);

afterAll(async () => {
  await h?.close();
});

describe('dry-run resume', () => {
  it('adds the miner expected hashrate, compared with the simulator truth', async () => {
    const id = h.fleet.miners[0]!.id;
    const expectedGhs = h.fleet.truth(id).hashrate_nominal_ghs;
    expect(expectedGhs).toBeGreaterThan(0);
    const paused = await h.plane.control.execute(h.operator, { id }, { kind: 'action', action: 'pause' });
    expect(paused.miners[0]!.status).toBe('ok');
    expect(h.fleet.truth(id).status).toBe('MINER_STATUS_PAUSED');
    await h.refreshSnapshots();
    const r = await h.plane.control.execute(h.operator, { id }, { kind: 'action', action: 'resume' }, { dryRun: true });
    expect(r.effect.miners_estimated).toBe(1);
    expect(r.effect.hashrate_ths).toBeGreaterThan((expectedGhs / 1_000) * 0.9);
    expect(r.effect.hashrate_ths).toBeLessThan((expectedGhs / 1_000) * 1.1);
  });
});
