// A miner that hashes nothing because it is paused or still warming up has no pool error: Braiins
// OS reports POOL_NONE_ALIVE when it cannot reach any pool, not whenever its hashrate is 0. The
// collector makes a miner reporting errors `degraded` (miner_errors), so a false error would turn
// a paused or freshly started miner into a degraded one.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { GetErrorsResponse } from '../../proto/types.ts';
import { startSimulator, type SimulatedFleet } from '../../simulator/index.ts';
import { connect, FAST, waitFor, type MinerClients } from './helpers.ts';

describe('GetErrors of a miner that is not hashing', () => {
  let fleet: SimulatedFleet;
  const clients: MinerClients[] = [];
  const open = async (index: number): Promise<MinerClients> => {
    const c = connect(fleet.miners[index]!.address);
    clients.push(c);
    await c.login();
    return c;
  };
  const codes = async (c: MinerClients): Promise<string[]> =>
    (await c.call<GetErrorsResponse>('MinerService', 'GetErrors')).res.errors.flatMap(e => e.error_codes.map(x => x.code));

  beforeAll(async () => {
    fleet = await startSimulator({ miners: 3, seed: 'idle-errors', models: 's19jpro', baseAddress: '127.57.0.1', ...FAST, warmupMs: 3_000, cacheMs: 0 });
  });
  afterAll(async () => {
    for (const c of clients) c.close();
    await fleet.stop();
  });

  it('paused: hashrate down to 0, no POOL_NONE_ALIVE', async () => {
    const c = await open(0);
    await c.call('ActionsService', 'PauseMining');
    await waitFor(() => fleet.truth(fleet.miners[0]!.id).hashrate_instant_ghs === 0 || undefined, 10_000);
    expect(fleet.truth(fleet.miners[0]!.id).status).toBe('MINER_STATUS_PAUSED');
    expect(await codes(c)).not.toContain('POOL_NONE_ALIVE');
  });

  it('never reports POOL_NONE_ALIVE through stop, start, pause and resume while its pools are alive', async () => {
    const c = await open(1);
    const id = fleet.miners[1]!.id;
    const seen = new Set<string>();
    const watch = async (ms: number): Promise<void> => {
      const until = Date.now() + ms;
      while (Date.now() < until) {
        const t = fleet.truth(id);
        for (const code of await codes(c)) seen.add(`${code} (${t.status}, instant ${Math.round(t.hashrate_instant_ghs)} GH/s)`);
        await new Promise(r => setTimeout(r, 20));
      }
    };
    for (const action of ['Stop', 'Start', 'PauseMining', 'ResumeMining']) {
      await c.call('ActionsService', action);
      await watch(1_500);
    }
    expect([...seen]).toEqual([]);
    fleet.injectFault(id, 'dead_pool');
    expect(await codes(c)).toContain('POOL_NONE_ALIVE');
  });

  it('hashing nothing from hardware errors with its pools alive: HASHRATE_LOW, not POOL_NONE_ALIVE', async () => {
    const c = await open(2);
    const id = fleet.miners[2]!.id;
    fleet.injectFault(id, { kind: 'low_hashrate', ratio: 0 });
    const t = fleet.truth(id);
    expect(t.hashrate_instant_ghs).toBe(0);
    expect(t.pools.some(p => p.alive)).toBe(true);
    const got = await codes(c);
    expect(got).toContain('HASHRATE_LOW');
    expect(got).not.toContain('POOL_NONE_ALIVE');
  });
});
