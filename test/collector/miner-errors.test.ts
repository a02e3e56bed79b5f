import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MinerClient } from '../../collector/miner-client.ts';
import { MinerTracker, pollMiner } from '../../collector/poller.ts';
import { startSimulator, type SimulatedFleet } from '../../simulator/index.ts';

// The collector reads the errors a miner reports (GetErrors) with its details and keeps them in
// the snapshot's details; they make the miner degraded with reason miner_errors. Real simulator
// over gRPC.
let fleet: SimulatedFleet;
const clients: MinerClient[] = [];

beforeAll(async () => {
  fleet = await startSimulator({
    miners: 3,
    seed: 'errs',
    models: 's19jpro',
    baseAddress: '127.7.2.1',
    warmupMs: 100,
    rebootMs: 300,
  });
});
afterAll(async () => {
  for (const c of clients) c.close();
  await fleet.stop();
});

function tracked(i: number): { t: MinerTracker; client: MinerClient } {
  const m = fleet.miners[i]!;
  const client = new MinerClient({
    minerId: m.id,
    host: m.host,
    port: m.port,
    credentials: { username: 'root', password: 'root' },
    timeoutMs: 3_000,
  });
  clients.push(client);
  const t = new MinerTracker({
    id: m.id,
    host: m.host,
    port: m.port,
    tenant: m.tenant,
    site: m.site,
    credentials: 'default',
    labels: {},
    source: 'file',
  });
  return { t, client };
}
const settings = { detailsIntervalMs: 60_000, fallbackHotTempC: 90, lowHashratePct: 90, streamActive: true };

describe('GetErrors in the collector', () => {
  it('a miner reporting a hashboard error: errors stored with the details, degraded with miner_errors', async () => {
    const { t, client } = tracked(0);
    fleet.injectFault(fleet.miners[0]!.id, { kind: 'hashboard_failure', board_index: 1 });
    const r = await pollMiner(t, client, settings);
    expect(r.ok).toBe(true);
    expect(t.details?.errors?.flatMap(e => e.codes)).toContain('HASHBOARD_NO_CHIPS');
    expect(t.details?.errors?.[0]).toMatchObject({
      message: expect.stringMatching(/no chips/),
      component: 'hashboard 1',
    });
    if (r.ok) {
      expect(r.result.sample.degraded_reasons).toEqual(
        expect.arrayContaining(['hashboard_down', 'miner_errors']),
      );
      expect(r.result.sample.status).toBe('degraded');
    }
  });

  it('a healthy miner has an empty error list and no miner_errors reason', async () => {
    const { t, client } = tracked(1);
    const r = await pollMiner(t, client, settings);
    expect(t.details?.errors).toEqual([]);
    expect(r.ok && r.result.sample.degraded_reasons).not.toContain('miner_errors');
  });

  it('errors are read again at the next details read (e.g. after a reboot): SYSTEM_UPGRADE_FAILED appears', async () => {
    const { t, client } = tracked(2);
    await pollMiner(t, client, settings);
    expect(t.details?.errors).toEqual([]);
    fleet
      .miner(fleet.miners[2]!.id)
      .upgradeFailures.push({ atMs: Date.now(), message: 'Upgrade to X failed: booted back into Y' });
    fleet.miner(fleet.miners[2]!.id).changed();
    await pollMiner(t, client, settings); // not due: details (and errors) are not re-read every poll
    expect(t.details?.errors).toEqual([]);
    t.needDetails = true; // what the scheduler sets after a reboot or reconnect
    const r = await pollMiner(t, client, settings);
    expect(t.details?.errors?.flatMap(e => e.codes)).toEqual(['SYSTEM_UPGRADE_FAILED']);
    expect(r.ok && r.result.sample.degraded_reasons).toContain('miner_errors');
  });

  it('a miner on an API without GetErrors (before 1.2) stores null, not a failed poll', async () => {
    const m = fleet.miners[1]!;
    fleet.miner(m.id).apiVersion = { major: 1, minor: 1, patch: 0 };
    const { t, client } = tracked(1);
    const r = await pollMiner(t, client, settings);
    expect(r.ok).toBe(true);
    expect(t.details?.errors).toBeNull();
    fleet.miner(m.id).apiVersion = { major: 1, minor: 11, patch: 0 };
  });
});
