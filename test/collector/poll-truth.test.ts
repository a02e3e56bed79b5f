// What one poll of the collector says about a miner, compared with the simulator's ground truth
// (fleet.truth), over real gRPC on loopback: a dead board is a shortfall, a paused or stopped
// miner produces nothing now, and uptime is bosminer's own.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toLines } from '../../store/influx-redis/line-protocol.ts';
import type { InventoryMiner } from '../../collector/inventory/schema.ts';
import { MinerClient } from '../../collector/miner-client.ts';
import { samplePoints } from '../../collector/points.ts';
import { MinerTracker, pollMiner, type PollSettings } from '../../collector/poller.ts';
import type { MinerSample } from '../../core/samples.ts';
import { startSimulator, type SimulatedFleet } from '../../simulator/index.ts';

let fleet: SimulatedFleet;
const clients: MinerClient[] = [];
const settings: PollSettings = { detailsIntervalMs: 60_000, fallbackHotTempC: 90, lowHashratePct: 90, streamActive: false };

beforeAll(async () => {
  fleet = await startSimulator({ miners: 4, seed: 1414, baseAddress: '127.64.0.1', models: 's9:100', rebootMs: 600, retuneMs: 300, warmupMs: 200, quickRamping: { upS: 1, downS: 1 } });
});
afterAll(async () => {
  for (const c of clients) c.close();
  await fleet.stop();
});

function trackerFor(i: number): { t: MinerTracker; client: MinerClient; poll: (s?: Partial<PollSettings>) => Promise<MinerSample> } {
  const m = fleet.miners[i]!;
  const inv: InventoryMiner = { id: m.id, host: m.host, port: m.port, tenant: 'default', site: 'default', credentials: 'default', labels: {}, source: 'file' };
  const t = new MinerTracker(inv);
  const client = new MinerClient({ minerId: m.id, host: m.host, port: m.port, credentials: { username: 'root', password: 'root' }, timeoutMs: 3_000 });
  clients.push(client);
  const poll = async (s: Partial<PollSettings> = {}): Promise<MinerSample> => {
    const out = await pollMiner(t, client, { ...settings, ...s });
    if (!out.ok) throw out.error;
    t.lastSample = out.result.sample;
    return out.result.sample;
  };
  return { t, client, poll };
}

async function until<T>(what: string, f: () => T | Promise<T>, ok: (v: T) => boolean, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await f();
    if (ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: last ${JSON.stringify(v).slice(0, 300)}`);
    await new Promise(r => setTimeout(r, 100));
  }
}

describe('a poll tells the truth', () => {
  it('counts a dead hashboard as a shortfall: expected hashrate keeps every board, the board gets a row', async () => {
    const { poll } = trackerFor(0);
    const id = fleet.miners[0]!.id;
    await until('warm miner', () => fleet.truth(id), v => v.boards.every(b => b.hashing) && v.hashrate_instant_ghs > 0);
    const healthy = await poll();
    expect(healthy.boards_hashing).toBe(3);
    fleet.injectFault(id, { kind: 'hashboard_failure', board_index: 2 });
    const truth = await until('board 3 down', () => fleet.truth(id), v => !v.boards[2]!.hashing);
    const s = await poll();
    const perBoard = truth.boards[0]!.hashrate_nominal_ghs;
    expect(s.boards_total).toBe(3);
    expect(s.boards_hashing).toBe(2);
    // expected counts all three boards (within the boards' weights), not the two still hashing
    expect(s.hashrate_nominal_ghs).toBeGreaterThan(perBoard * 2.7);
    expect(s.hashrate_nominal_reported_ghs).toBeLessThan(perBoard * 2.3);
    expect((s.hashrate_ghs / s.hashrate_nominal_ghs) * 100).toBeLessThan(75);
    expect(s.degraded_reasons).toEqual(expect.arrayContaining(['hashboard_down', 'low_hashrate']));
    const dead = s.hashboards.find(b => b.board === truth.boards[2]!.id)!;
    expect(dead.hashrate_ghs).toBe(0);
    expect(dead.hashrate_nominal_ghs).toBeGreaterThan(perBoard * 0.9);
    const row = toLines(samplePoints(s)).find(l => l.startsWith(`hashboard,board=${truth.boards[2]!.id},`));
    expect(row).toMatch(/hashrate_ghs=0,hashrate_nominal_ghs=\d/);
    fleet.clearFault(id, 'hashboard_failure');
  });

  it('a paused miner contributes no hashrate now and has no efficiency, however its 1-minute window lags', async () => {
    const { poll, client } = trackerFor(1);
    const id = fleet.miners[1]!.id;
    await until('warm miner', () => fleet.truth(id), v => v.hashrate_instant_ghs > 0 && v.hashrate_ghs > 0);
    await client.unary('ActionsService', 'PauseMining', {});
    await until('paused', () => fleet.truth(id), v => v.status === 'MINER_STATUS_PAUSED');
    const s = await poll();
    expect(s.status).toBe('paused');
    expect(s.hashrate_ghs).toBe(0);
    expect(s.efficiency_jth).toBeNull();
    await client.unary('ActionsService', 'ResumeMining', {});
  });

  it('a stopped bosminer has no uptime, and after Start uptime is bosminer\'s own, not the system\'s', async () => {
    const { poll, client, t } = trackerFor(2);
    const id = fleet.miners[2]!.id;
    await poll();
    await client.unary('ActionsService', 'Stop', {});
    await until('stopped', () => fleet.truth(id), v => v.status === 'MINER_STATUS_NOT_STARTED');
    const stopped = await poll();
    expect(stopped.status).toBe('stopped');
    expect(stopped.hashrate_ghs).toBe(0);
    expect(stopped.uptime_s).toBe(0);
    await client.unary('ActionsService', 'Start', {});
    // the status stream tells the collector; details are not read again on their own before their interval
    t.minerStatus = 'MINER_STATUS_NORMAL';
    await new Promise(r => setTimeout(r, 1_200));
    const started = await poll({ streamActive: true });
    const truth = fleet.truth(id);
    expect(started.uptime_s).toBeLessThanOrEqual(truth.bosminer_uptime_s + 1);
    expect(truth.uptime_s).toBeGreaterThan(truth.bosminer_uptime_s);
  });
});
