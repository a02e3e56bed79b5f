import { status as GrpcStatus } from '@grpc/grpc-js';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { toFleetError } from '../../../collector/grpc-errors.ts';
import { MinerClient } from '../../../collector/miner-client.ts';
import { startHarness, type Harness } from './harness.ts';

// Issue #14 item 9: a miner answering UNIMPLEMENTED for an RPC (while it reports API 1.11) is
// not "older firmware"; where an equivalent call exists the product falls back to it: a relative
// or incremental power / hashrate target is sent as the absolute target already computed.
// The simulator implements every RPC, so the miner's lack of one is mocked here: the spied
// client call fails exactly as grpc-js reports UNIMPLEMENTED, mapped by the real toFleetError.
let h: Harness;

beforeAll(async () => {
  h = await startHarness({ sim: { miners: 2, sites: 1, seed: 1409 } });
}, 60_000);

afterAll(async () => {
  await h?.close();
});

afterEach(() => {
  vi.restoreAllMocks();
});

function lacking(...methods: string[]): void {
  const real = MinerClient.prototype.unary;
  vi.spyOn(MinerClient.prototype, 'unary').mockImplementation(function (this: MinerClient, ...args: unknown[]) {
    const [service, method] = args as [string, string];
    if (methods.includes(method))
      return Promise.reject(
        toFleetError({ code: GrpcStatus.UNIMPLEMENTED, details: 'unknown method' }, this.minerId, `${service}/${method}`),
      );
    return (real as (...a: unknown[]) => Promise<unknown>).apply(this, args);
  } as typeof real);
}

describe('UNIMPLEMENTED', () => {
  it('says the miner does not implement the call, not that its firmware is old', () => {
    const err = toFleetError({ code: GrpcStatus.UNIMPLEMENTED, details: '' }, 'm-1', 'PerformanceService/SetRelativePowerTarget');
    expect(err.code).toBe('unsupported');
    expect(err.message).toMatch(/does not implement PerformanceService\/SetRelativePowerTarget/);
    expect(err.message).not.toMatch(/older|firmware/);
  });

  it('a relative power target falls back to the absolute target the product computed', async () => {
    const id = h.fleet.miners[0]!.id;
    const before = h.fleet.truth(id).power_target_w!;
    lacking('SetRelativePowerTarget', 'DecrementPowerTarget', 'IncrementPowerTarget');
    const r = await h.plane.control.execute(h.operator, { id }, { kind: 'power_target', percent: 90, reference: 'current' });
    const m = r.miners[0]!;
    expect(m.status, JSON.stringify(m)).toBe('ok');
    const want = Math.round(before * 0.9);
    expect(h.fleet.truth(id).power_target_w).toBe(want);
    expect(m.message).toMatch(/SetPowerTarget/);
    const d = await h.plane.control.execute(h.operator, { id }, { kind: 'power_target', delta_w: -100 });
    expect(d.miners[0]!.status, JSON.stringify(d.miners[0])).toBe('ok');
    expect(h.fleet.truth(id).power_target_w).toBe(want - 100);
  });

  it('a relative hashrate target falls back to the absolute hashrate target', async () => {
    const id = h.fleet.miners[1]!.id;
    lacking('SetRelativeHashrateTarget', 'IncrementHashrateTarget', 'DecrementHashrateTarget');
    const r = await h.plane.control.execute(h.operator, { id }, { kind: 'hashrate_target', percent: 90, reference: 'nominal' });
    const m = r.miners[0]!;
    expect(m.status, JSON.stringify(m)).toBe('ok');
    const target = (m.changes ?? []).find(c => c.field === 'hashrate_target_ths')!.new as number;
    expect(h.fleet.miner(id).tuner.hashrateTargetThs).toBeCloseTo(target, 2);
  });
});
