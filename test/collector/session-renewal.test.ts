import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MinerClient } from '../../collector/miner-client.ts';
import { startSimulator, type SimulatedFleet } from '../../simulator/index.ts';

// A miner's session token lives timeout_s of inactivity (Login says how long): the client renews
// it before then, so a poll after a quiet spell makes no failing calls. Real gRPC over loopback.
let fleet: SimulatedFleet;
let client: MinerClient;
beforeAll(async () => {
  fleet = await startSimulator({ miners: 1, seed: 1416, baseAddress: '127.66.0.1', tokenTimeoutS: 2 });
  const m = fleet.miners[0]!;
  client = new MinerClient({ minerId: m.id, host: m.host, port: m.port, credentials: { username: 'root', password: 'root' }, timeoutMs: 3_000 });
});
afterAll(async () => {
  client.close();
  await fleet.stop();
});

const poll = () =>
  Promise.all([
    client.unary('MinerService', 'GetMinerStats', {}),
    client.unary('MinerService', 'GetHashboards', {}),
    client.unary('CoolingService', 'GetCoolingState', {}),
    client.unary('PerformanceService', 'GetTunerState', {}),
    client.unary('PoolService', 'GetPoolGroups', {}),
  ]);

describe('session renewal', () => {
  it('renews an idle token before the miner forgets it: one login, no failing call', async () => {
    await poll();
    // idle past the token's lifetime (the condition itself is time)
    const idleUntil = Date.now() + 2_300;
    while (Date.now() < idleUntil) await new Promise(r => setTimeout(r, 100));
    const before = fleet.grpcStats();
    await poll();
    const after = fleet.grpcStats();
    expect(after.errors - before.errors).toBe(0);
    expect(after.calls - before.calls).toBe(6); // Login + the five reads
  });
});
