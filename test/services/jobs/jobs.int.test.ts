import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, waitFor, type Harness } from '../control/harness.ts';

// The batch-control job machinery (BullMQ on the test Redis) over a simulated fleet: cancel,
// pause/resume, tenant scoping, and surviving an API restart (graceful hand-off and a crash
// recovered by the stalled-job check). Miners answer slowly (simulator `slow` fault) and the job
// works on one miner at a time, so there is time to act mid-job.
let h: Harness;
const MINERS = 6;

beforeAll(async () => {
  // A 5 s RPC deadline leaves room for the 1 s answers of the reboot test on a loaded machine.
  h = await startHarness({
    sim: { miners: MINERS, seed: 33 },
    env: { JOBS_CONCURRENCY: '1', MINER_RPC_TIMEOUT_MS: '5000' },
  });
}, 60_000);

afterAll(async () => {
  await h?.close();
});

afterEach(async () => {
  for (const m of h.fleet.miners) h.fleet.clearFault(m.id);
  // Everything back to mining for the next test.
  for (const m of h.fleet.miners) h.fleet.miner(m.id).resume(Date.now());
});

const slowAll = (ms: number): void => {
  for (const m of h.fleet.miners) h.fleet.injectFault(m.id, { kind: 'slow', delay_ms: ms });
};
const paused = (id: string): boolean => h.fleet.truth(id).status === 'MINER_STATUS_PAUSED';
const all = { selector: { all: true as const } };

describe('batch-control jobs', () => {
  it('cancel stops the remaining miners; finished ones stay done', async () => {
    slowAll(300);
    const r = await h.plane.control.execute(h.operator, all, { kind: 'action', action: 'pause' });
    await waitFor(
      'two miners done',
      async () =>
        (await h.plane.jobs.get(h.operator, r.job!.id)).results.filter(x => x.status === 'ok').length >= 2,
    );
    const c = await h.plane.jobs.cancel(h.operator, r.job!.id);
    expect(['cancelling', 'cancelled']).toContain(c.status);
    const done = await h.plane.jobs.waitUntilFinished(h.operator, r.job!.id, 20_000);
    expect(done.status).toBe('cancelled');
    const job = await h.plane.jobs.get(h.operator, r.job!.id);
    const ok = job.results.filter(x => x.status === 'ok').map(x => x.id);
    const cancelled = job.results.filter(x => x.status === 'cancelled').map(x => x.id);
    expect(ok.length + cancelled.length).toBe(MINERS);
    expect(cancelled.length).toBeGreaterThan(0);
    for (const id of ok) expect(paused(id)).toBe(true);
    for (const id of cancelled) expect(paused(id)).toBe(false);
    const { steps } = await h.plane.jobs.steps(h.operator, r.job!.id);
    expect(steps.map(s => s.status)).toContain('cancel_requested');
    expect(steps.at(-1)).toMatchObject({ kind: 'job', status: 'cancelled' });
    await expect(h.plane.jobs.cancel(h.operator, r.job!.id)).rejects.toMatchObject({ code: 'conflict' });
  });

  it('pause holds new miners until resume', async () => {
    slowAll(200);
    const r = await h.plane.control.execute(h.operator, all, { kind: 'action', action: 'locate_on' });
    await waitFor('one miner done', async () =>
      (await h.plane.jobs.get(h.operator, r.job!.id)).results.some(x => x.status === 'ok'),
    );
    expect((await h.plane.jobs.pause(h.operator, r.job!.id)).status).toBe('paused');
    await waitFor('pause step', async () =>
      (await h.plane.jobs.steps(h.operator, r.job!.id)).steps.some(s => s.status === 'paused'),
    );
    const held = (await h.plane.jobs.get(h.operator, r.job!.id)).results.filter(
      x => x.status === 'ok',
    ).length;
    await new Promise(res => setTimeout(res, 800));
    const still = await h.plane.jobs.get(h.operator, r.job!.id);
    expect(still.status).toBe('paused');
    expect(still.results.filter(x => x.status === 'ok').length).toBe(held);
    await h.plane.jobs.resume(h.operator, r.job!.id);
    const done = await h.plane.jobs.waitUntilFinished(h.operator, r.job!.id, 20_000);
    expect(done.status).toBe('succeeded');
    for (const m of h.fleet.miners) expect(h.fleet.truth(m.id).locate).toBe(true);
  });

  it('jobs are tenant-scoped: another tenant neither lists nor reads them', async () => {
    const r = await h.plane.control.execute(h.operator, all, { kind: 'action', action: 'locate_off' });
    await h.plane.jobs.waitUntilFinished(h.operator, r.job!.id, 20_000);
    const other = { ...h.operator, tenant: 'another-tenant' };
    await expect(h.plane.jobs.get(other, r.job!.id)).rejects.toMatchObject({ code: 'not_found' });
    await expect(h.plane.jobs.cancel(other, r.job!.id)).rejects.toMatchObject({ code: 'not_found' });
    expect((await h.plane.jobs.list(other)).items).toEqual([]);
    const mine = await h.plane.jobs.list(h.operator, { type: 'batch-control' });
    expect(mine.items.map(j => j.id)).toContain(r.job!.id);
    expect(mine.items[0]!.created_ms).toBeGreaterThanOrEqual(mine.items.at(-1)!.created_ms);
    expect(
      (await h.plane.jobs.list(h.operator, { status: 'cancelled' })).items.every(
        j => j.status === 'cancelled',
      ),
    ).toBe(true);
  });

  it('a graceful API restart hands the running job to the next worker, which finishes it without redoing finished miners', async () => {
    slowAll(300);
    const r = await h.plane.control.execute(h.operator, all, { kind: 'action', action: 'pause' });
    await waitFor(
      'two miners done',
      async () =>
        (await h.plane.jobs.get(h.operator, r.job!.id)).results.filter(x => x.status === 'ok').length >= 2,
    );
    await h.plane.close();
    // Handed back to the wait list at once (not left to the stalled check).
    expect((await h.plane.jobs.get(h.operator, r.job!.id)).status).toBe('queued');
    h.plane = h.newPlane();
    await h.plane.start();
    const done = await h.plane.jobs.waitUntilFinished(h.operator, r.job!.id, 30_000);
    expect(done.status).toBe('succeeded');
    for (const m of h.fleet.miners) expect(paused(m.id)).toBe(true);
    const { steps } = await h.plane.jobs.steps(h.operator, r.job!.id);
    expect(steps.some(s => s.kind === 'job' && s.message.startsWith('resumed'))).toBe(true);
    // Every miner has exactly one final result and one audit event per execution at most twice (the one in flight).
    const job = await h.plane.jobs.get(h.operator, r.job!.id);
    expect(job.results.map(x => x.status)).toEqual(Array(MINERS).fill('ok'));
  });

  it('a crashed API (no hand-off) is recovered by the stalled-job check of a new worker', async () => {
    slowAll(300);
    const r = await h.plane.control.execute(h.operator, all, { kind: 'action', action: 'pause' });
    await waitFor(
      'two miners done',
      async () =>
        (await h.plane.jobs.get(h.operator, r.job!.id)).results.filter(x => x.status === 'ok').length >= 2,
    );
    await h.plane.close({ force: true });
    // Still marked active by the dead worker until its lock expires.
    expect((await h.plane.jobs.get(h.operator, r.job!.id)).status).toBe('running');
    h.plane = h.newPlane();
    await h.plane.start();
    const done = await h.plane.jobs.waitUntilFinished(h.operator, r.job!.id, 30_000);
    expect(done.status).toBe('succeeded');
    for (const m of h.fleet.miners) expect(paused(m.id)).toBe(true);
    const job = await h.plane.jobs.get(h.operator, r.job!.id);
    expect(job.results.map(x => x.status)).toEqual(Array(MINERS).fill('ok'));
  });

  it('a reboot in flight during a crash is not repeated blindly', async () => {
    // Slow answers make the crash land inside a miner's reboot, not in the few ms between two miners.
    slowAll(1_000);
    const r = await h.plane.control.execute(h.operator, all, { kind: 'action', action: 'reboot' });
    await waitFor('one miner running', async () =>
      (await h.plane.jobs.get(h.operator, r.job!.id)).results.some(x => x.status === 'running'),
    );
    await h.plane.close({ force: true });
    h.plane = h.newPlane();
    await h.plane.start();
    const done = await h.plane.jobs.waitUntilFinished(h.operator, r.job!.id, 30_000);
    expect(['partially_failed', 'succeeded']).toContain(done.status);
    const job = await h.plane.jobs.get(h.operator, r.job!.id);
    const conflicts = job.results.filter(x => x.code === 'conflict');
    expect(conflicts.length).toBe(1);
    for (const c of conflicts) expect(c.message).toMatch(/not repeated/);
    expect(job.results.filter(x => x.status === 'ok').length + conflicts.length).toBe(MINERS);
    await waitFor('miners back', () => h.fleet.miners.every(m => h.fleet.truth(m.id).reachable), 20_000);
  });

  // Last in this file: it replaces the firmware-rollout handler of this plane.
  it('a job read while it finishes shows its own outcome, never a default one', async () => {
    h.plane.jobs.register('firmware-rollout', async () => {
      await new Promise(r => setTimeout(r, 10 + Math.random() * 30));
      return { outcome: 'halted', message: 'halted on purpose', summary: {} };
    });
    const seen: string[] = [];
    for (let i = 0; i < 40; i++) {
      const job = await h.plane.jobs.enqueue(h.operator, 'firmware-rollout', {
        label: 'race',
        payload: {},
        minersTotal: 0,
      });
      // Poll without pause, as a client waiting for the end does: the first final status counts.
      for (;;) {
        const s = await h.plane.jobs.get(h.operator, job.id);
        if (['succeeded', 'halted', 'failed', 'cancelled', 'partially_failed'].includes(s.status)) {
          seen.push(`${s.status}: ${s.message}`);
          break;
        }
      }
    }
    expect(seen).toEqual(Array(40).fill('halted: halted on purpose'));
  }, 60_000);
});
