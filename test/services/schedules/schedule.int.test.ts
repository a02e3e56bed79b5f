import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ControlPlane } from '../../../services/control/index.ts';
import { sleep, startHarness, waitFor, type Harness } from '../control/harness.ts';

// Power schedules with two API replicas (two control planes, each with its schedule evaluator
// and job worker) on one Redis, over a simulated fleet. Windows are a few seconds long and
// start a few seconds after creation (6-field cron with seconds, UTC).
let h: Harness;
let replicaB: ControlPlane;

beforeAll(async () => {
  // A 500 ms tick puts the "late" threshold (3 ticks) well past a stall of a loaded CI machine.
  h = await startHarness({ sim: { miners: 6, sites: 2, seed: 55 }, plane: { schedules: { tickMs: 500 } } });
  replicaB = h.newPlane();
  await replicaB.start();
}, 60_000);

afterAll(async () => {
  await h?.close();
});

/** A 6-field cron expression that fires once at `ms` (UTC, second precision). */
function cronAt(ms: number): string {
  const d = new Date(ms);
  return `${d.getUTCSeconds()} ${d.getUTCMinutes()} ${d.getUTCHours()} ${d.getUTCDate()} ${d.getUTCMonth() + 1} *`;
}

const site = (s: string): string[] => h.fleet.miners.filter(m => m.site === s).map(m => m.id);
const status = (id: string): string => h.fleet.truth(id).status;

describe('power schedules', () => {
  it('a window runs exactly once with two replicas racing, pauses during the window, resumes after, and is audited', async () => {
    const miners = site('site-1');
    expect(miners.length).toBeGreaterThan(1);
    // Paused by someone else before the window: the window's end must leave it paused.
    const prePaused = miners[0]!;
    await h.plane.control.execute(h.operator, { id: prePaused }, { kind: 'action', action: 'pause' });
    const startMs = Math.ceil((Date.now() + 2_500) / 1000) * 1000;
    // Long enough for the start job to reach every miner before the end cancels what is left of it.
    const windowMs = 5_000;
    const s = await h.plane.schedules.create(h.operator, {
      name: 'peak-tariff',
      selector: { site: 'site-1' },
      cron: cronAt(startMs),
      timezone: 'UTC',
      duration_ms: windowMs,
      action: { type: 'pause' },
    });
    expect(s.next_start_ms).toBe(startMs);
    expect(s.next_end_ms).toBe(startMs + windowMs);
    // Replica B learns about it through pub/sub (well before its 1 s reload).
    await waitFor(
      'window start',
      async () => (await h.plane.schedules.get(h.operator, s.id)).recent_windows.length === 1,
      10_000,
    );
    await waitFor(
      'miners paused in the window',
      () => miners.every(id => status(id) === 'MINER_STATUS_PAUSED'),
      5_000,
    );
    for (const id of site('site-2')) expect(status(id)).toBe('MINER_STATUS_NORMAL');
    const w = await waitFor(
      'window end job',
      async () => {
        const win = (await h.plane.schedules.get(h.operator, s.id)).recent_windows[0];
        return win?.end_job ? win : null;
      },
      15_000,
    );
    await h.plane.jobs.waitUntilFinished(h.operator, w.end_job!, 20_000);
    expect(w).toMatchObject({
      start_ms: startMs,
      end_ms: startMs + windowMs,
      late: false,
      miners: miners.length,
    });
    for (const id of miners.filter(x => x !== prePaused)) expect(status(id)).toBe('MINER_STATUS_NORMAL');
    expect(status(prePaused)).toBe('MINER_STATUS_PAUSED');
    const end = await h.plane.jobs.get(h.operator, w.end_job!);
    expect(end.results.find(r => r.id === prePaused)).toMatchObject({
      status: 'skipped',
      message: 'not paused by this window; left as it is',
    });

    // Exactly once: one start job and one end job in all, whichever replica ran them.
    await sleep(1_000);
    const jobs = (await h.plane.jobs.list(h.operator, { type: 'batch-control' })).items.filter(j =>
      j.label.includes('peak-tariff'),
    );
    expect(jobs.map(j => j.label.split(':')[0]).sort()).toEqual([
      'schedule "peak-tariff" window end',
      'schedule "peak-tariff" window start',
    ]);
    expect((await h.plane.schedules.get(h.operator, s.id)).recent_windows).toHaveLength(1);

    // Audited: the window's start and end once each, and every miner action with its origin.
    const events = await h.events.recent(h.tenant, { kind: 'control_action', limit: 500 });
    const notes = events.filter(e => e.data?.schedule === s.id && typeof e.data?.phase === 'string');
    expect(notes.map(e => e.data?.phase).sort()).toEqual(['end', 'start']);
    expect(notes.every(e => e.actor === `schedule:peak-tariff (by ${h.operator.sub})`)).toBe(true);
    const perMiner = events.filter(e => e.data?.origin === `schedule:${s.id}`);
    expect(perMiner.filter(e => e.data?.action === 'pause').length).toBe(miners.length);
    expect(perMiner.filter(e => e.data?.action === 'resume' && e.result === 'ok').length).toBe(
      miners.length - 1,
    );
    expect(
      perMiner.filter(e => e.data?.action === 'resume' && e.result === 'skipped').map(e => e.miner),
    ).toEqual([prePaused]);

    await h.plane.control.execute(h.operator, { id: prePaused }, { kind: 'action', action: 'resume' });
    await h.plane.schedules.remove(h.operator, s.id);
  });

  it('a power-target window lowers the target and restores each miner to its previous value', async () => {
    const miners = site('site-2');
    const before = new Map(miners.map(id => [id, h.fleet.truth(id).power_target_w]));
    const startMs = Math.ceil((Date.now() + 2_000) / 1000) * 1000;
    const s = await replicaB.schedules.create(h.operator, {
      name: 'curtail',
      selector: { site: 'site-2' },
      cron: cronAt(startMs),
      duration_ms: 5_000,
      action: { type: 'power_target', watt: 2_000 },
    });
    await waitFor(
      'targets lowered',
      () => miners.every(id => h.fleet.truth(id).power_target_w === 2_000),
      10_000,
    );
    const w = await waitFor(
      'window end job',
      async () => (await h.plane.schedules.get(h.operator, s.id)).recent_windows[0]?.end_job ?? null,
      15_000,
    );
    await h.plane.jobs.waitUntilFinished(h.operator, w, 20_000);
    for (const id of miners) expect(h.fleet.truth(id).power_target_w).toBe(before.get(id));
    await replicaB.schedules.remove(h.operator, s.id);
  });

  it('deleting a schedule mid-window ends the window first', async () => {
    const miners = site('site-1');
    const startMs = Math.ceil((Date.now() + 1_500) / 1000) * 1000;
    const s = await h.plane.schedules.create(h.operator, {
      name: 'long',
      selector: { site: 'site-1' },
      cron: cronAt(startMs),
      duration_ms: 60_000,
      action: { type: 'pause' },
    });
    await waitFor('paused', () => miners.every(id => status(id) === 'MINER_STATUS_PAUSED'), 10_000);
    const win = await waitFor(
      'start job',
      async () => (await h.plane.schedules.get(h.operator, s.id)).recent_windows[0]?.start_job ?? null,
      5_000,
    );
    await h.plane.jobs.waitUntilFinished(h.operator, win, 20_000);
    const removed = await h.plane.schedules.remove(h.operator, s.id);
    expect(removed).toEqual({ removed: true, ended_window: true });
    await waitFor('resumed', () => miners.every(id => status(id) === 'MINER_STATUS_NORMAL'), 15_000);
    await expect(h.plane.schedules.get(h.operator, s.id)).rejects.toMatchObject({ code: 'not_found' });
  });

  it('validates schedules and scopes them to the tenant', async () => {
    const bad = (input: object): Promise<unknown> =>
      h.plane.schedules.create(h.operator, {
        name: 'x',
        selector: { site: 'site-1' },
        action: { type: 'pause' },
        ...input,
      });
    await expect(bad({ cron: 'every day at five', duration_ms: 1_000 })).rejects.toMatchObject({
      code: 'invalid_argument',
    });
    await expect(bad({ cron: '0 17 * * 1-5', timezone: 'Mars/Olympus', duration_ms: 1_000 })).rejects.toThrow(
      /unknown time zone/,
    );
    await expect(bad({ cron: '0 17 * * 1-5' })).rejects.toThrow(/duration_ms or end_cron/);
    await expect(bad({ cron: '0 * * * *', duration_ms: 2 * 3_600_000 })).rejects.toThrow(
      /windows would overlap/,
    );
    // The overlap error names the arguments to change (the MCP tool's and the REST body's names
    // alike: `cron`, and the window length), so a client can point at the field.
    await expect(bad({ cron: '0 17 * * 1-5', duration_ms: 7 * 24 * 3_600_000 })).rejects.toMatchObject({
      code: 'invalid_argument',
      message: expect.stringMatching(/^duration_ms: .*windows would overlap.*start less often \(cron\)/),
      details: { field: 'duration_ms' },
    });
    await expect(bad({ cron: '0 17 * * *', end_cron: '0 16 * * 1' })).rejects.toMatchObject({
      code: 'invalid_argument',
      message: expect.stringMatching(/^end_cron: .*windows would overlap.*start less often \(cron\)/),
      details: { field: 'end_cron' },
    });
    await expect(bad({ cron: '0 17 * * 1-5', duration_ms: 1_000, extra: 1 })).rejects.toMatchObject({
      code: 'invalid_argument',
    });
    const ok = await h.plane.schedules.create(h.operator, {
      name: 'weekday-peak',
      selector: { site: 'site-1' },
      cron: '0 17 * * 1-5',
      end_cron: '0 20 * * 1-5',
      timezone: 'Europe/Prague',
      action: { type: 'power_target', watt: 2_000 },
    });
    expect(ok.next_end_ms! - ok.next_start_ms!).toBe(3 * 3_600_000);
    expect((await h.plane.schedules.list({ ...h.operator, tenant: 'other' })).length).toBe(0);
    await expect(h.plane.schedules.remove({ ...h.operator, tenant: 'other' }, ok.id)).rejects.toMatchObject({
      code: 'not_found',
    });
    await expect(
      h.plane.schedules.create(h.viewer, {
        name: 'v',
        selector: { all: true },
        cron: '0 17 * * *',
        duration_ms: 1_000,
        action: { type: 'pause' },
      }),
    ).rejects.toMatchObject({ code: 'forbidden' });
    await h.plane.schedules.remove(h.operator, ok.id);
  });
});
