import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { MinerClient } from '../../../collector/miner-client.ts';
import { startHarness, type Harness } from './harness.ts';

// Refusing what the miner would refuse, before asking it; effect notes that describe the action
// asked for. Real simulator over gRPC.
let h: Harness;
beforeAll(async () => {
  h = await startHarness({ sim: { miners: 2, seed: 72, models: 's19jpro' } });
}, 60_000);
afterAll(async () => {
  await h?.close();
});

describe('hashboards', () => {
  it('disabling every hashboard is refused up front as invalid; the miner is not asked', async () => {
    const id = h.fleet.miners[0]!.id;
    const boards = h.fleet.truth(id).boards.map(b => b.id);
    expect(boards.length).toBeGreaterThan(1);
    const unary = vi.spyOn(MinerClient.prototype, 'unary');
    const res = await h.plane.control
      .execute(h.operator, { id }, { kind: 'hashboards', enable: false, hashboard_ids: boards })
      .then(
        () => null,
        (e: unknown) => e as { code: string; message: string; details: Record<string, unknown> },
      );
    expect(res).toMatchObject({ code: 'unsupported', details: { miner: id, status: 'invalid', reason: 'invalid_argument' } });
    expect(res!.message).toMatch(/at least one hashboard must stay enabled/);
    expect(unary.mock.calls.map(c => String(c[1]))).not.toContain('DisableHashboards');
    unary.mockRestore();
    // Disabling some of them is still fine.
    const some = await h.plane.control.execute(
      h.operator,
      { id },
      { kind: 'hashboards', enable: false, hashboard_ids: boards.slice(0, 1) },
    );
    expect(some.miners[0]?.status).toBe('ok');
  });
});

describe('effect notes', () => {
  it("each action's note describes that action", async () => {
    const id = h.fleet.miners[1]!.id;
    const cooling = await h.plane.control.execute(
      h.operator,
      { id },
      { kind: 'cooling', mode: 'manual', fan_speed_ratio: 0.9 },
      { dryRun: true },
    );
    expect(cooling.effect.note).not.toMatch(/pool/);
    expect(cooling.effect.note).toMatch(/cooling/i);
    const boards = await h.plane.control.execute(
      h.operator,
      { id },
      { kind: 'hashboards', enable: false, hashboard_ids: [h.fleet.truth(id).boards[0]!.id] },
      { dryRun: true },
    );
    expect(boards.effect.note).toMatch(/hashboard/i);
  });
});
