import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { MinerClient } from '../../../collector/miner-client.ts';
import type { FirmwareImage } from '../../../services/rollouts/firmware-store.ts';
import { FIRMWARE_PREVIOUS, buildFirmwareImage, type FirmwareBehaviour } from '../../../simulator/index.ts';
import { startHarness, waitFor, type Harness } from '../control/harness.ts';

// Firmware rollouts over a simulated fleet: the images come from the simulator's
// buildFirmwareImage and are uploaded through UpgradeService.SystemUpgrade (real gRPC client
// stream); reboots take 700 ms, gates and per-miner timeouts are short.
let h: Harness;
const NEW = '2026-06-01-0-1a2b3c4d-26.06-plus';
const images: Record<string, FirmwareImage> = {};

const opts = { poll_interval_ms: 100, gate_timeout_ms: 5_000, miner_timeout_ms: 12_000, parallelism: 2 };

async function upload(name: string, version: string, behaviour: FirmwareBehaviour): Promise<FirmwareImage> {
  const { image, created } = await h.plane.firmware.upload(
    h.admin,
    { name, version },
    buildFirmwareImage({ version, behaviour }),
  );
  expect(created).toBe(true);
  return image;
}

beforeAll(async () => {
  h = await startHarness({
    sim: { miners: 8, seed: 44, firmware: FIRMWARE_PREVIOUS, rebootMs: 700, warmupMs: 200 },
  });
  images.previous = await upload('bos-26.01.img', FIRMWARE_PREVIOUS, 'ok');
  images.next = await upload('bos-26.06.img', NEW, 'ok');
  images.oldVersion = await upload(
    'bos-26.06.1-bad.img',
    '2026-06-02-0-2b3c4d5e-26.06.1-plus',
    'old_version',
  );
  images.neverReturns = await upload(
    'bos-26.06.2-brick.img',
    '2026-06-03-0-3c4d5e6f-26.06.2-plus',
    'never_returns',
  );
}, 60_000);

afterAll(async () => {
  await h?.close();
});

afterEach(() => {
  vi.restoreAllMocks();
});

const ids = (...idx: number[]): string[] => idx.map(i => h.fleet.miners[i]!.id);
const fw = (id: string): string => h.fleet.truth(id).firmware;

describe('firmware images', () => {
  it('stores images by checksum with their version, refuses a second version for the same bytes, and needs admin', async () => {
    const list = await h.plane.firmware.list(h.operator);
    expect(list.map(i => i.version)).toContain(NEW);
    const again = await h.plane.firmware.upload(
      h.admin,
      { name: 'copy.img', version: NEW },
      buildFirmwareImage({ version: NEW }),
    );
    expect(again).toMatchObject({ created: false, image: { sha256: images.next!.sha256 } });
    await expect(
      h.plane.firmware.upload(
        h.admin,
        { name: 'x.img', version: '2026-07-01-0-00000000-26.07-plus' },
        buildFirmwareImage({ version: NEW }),
      ),
    ).rejects.toMatchObject({ code: 'invalid_argument' });
    await expect(
      h.plane.firmware.upload(h.operator, { name: 'x.img', version: NEW }, Buffer.from('x')),
    ).rejects.toMatchObject({ code: 'forbidden' });
    expect(await h.plane.firmware.list({ ...h.admin, tenant: 'other' })).toEqual([]);
  });
});

describe('rollouts', () => {
  it('a 3-miner rollout (canary, then a wave of 2) upgrades every miner and records each step', async () => {
    const targets = ids(0, 1, 2);
    const plan = await h.plane.rollouts.start(h.operator, {
      image: images.next!.sha256,
      selector: { ids: targets },
      canary_size: 1,
      wave_size: 2,
      ...opts,
    });
    expect(plan.waves.map(w => w.miners.map(m => m.id))).toEqual([[targets[0]], [targets[1], targets[2]]]);
    const done = await h.plane.jobs.waitUntilFinished(h.operator, plan.job!.id, 60_000);
    expect(done.status, done.message ?? '').toBe('succeeded');
    for (const id of targets) expect(fw(id)).toBe(NEW);
    for (const id of ids(3, 4, 5, 6, 7)) expect(fw(id)).toBe(FIRMWARE_PREVIOUS);
    const job = await h.plane.jobs.get(h.operator, plan.job!.id);
    expect(job.results.map(r => r.status)).toEqual(['ok', 'ok', 'ok']);
    expect(job.results.map(r => r.outcome)).toEqual(['upgraded', 'upgraded', 'upgraded']);
    expect(job.outcome?.summary).toMatchObject({ upgraded: 3, skipped: 0, rolled_back: 0, not_started: 0 });
    for (const r of job.results)
      expect(r.changes?.[0]).toMatchObject({ field: 'firmware', current: FIRMWARE_PREVIOUS, new: NEW });
    const { steps } = await h.plane.jobs.steps(h.operator, plan.job!.id);
    const kinds = steps.map(s => `${s.kind}:${s.status}`);
    expect(kinds).toEqual(
      expect.arrayContaining([
        'wave:started',
        'gate:passed',
        'miner:uploading',
        'miner:uploaded',
        'miner:back',
        'miner:upgraded',
      ]),
    );
    // The canary's gate passed before the second wave started.
    const canaryGate = kinds.indexOf('gate:passed');
    const secondWave = kinds.lastIndexOf('wave:started');
    expect(canaryGate).toBeLessThan(secondWave);
    // Job steps are audited.
    const events = await h.events.recent(h.tenant, { kind: 'job_step', limit: 1_000 });
    expect(events.filter(e => e.data?.job === plan.job!.id && e.miner === targets[0]).length).toBeGreaterThan(
      3,
    );

    // Planning again: those miners are already on the version and are left alone.
    await h.refreshSnapshots();
    const dry = await h.plane.rollouts.start(h.operator, {
      image: images.next!.sha256,
      selector: { ids: ids(0, 1, 2, 3) },
      dry_run: true,
    });
    expect(dry.already_current.sort()).toEqual([...targets].sort());
    expect(dry.waves.flatMap(w => w.miners.map(m => m.id))).toEqual(ids(3));
    expect(dry.job).toBeNull();
  });

  it('an image that brings the canary back on the old version halts the rollout; nothing to roll back, no second flash', async () => {
    const targets = ids(3, 4);
    const uptimeBefore = h.fleet.truth(targets[1]!).uptime_s;
    const upgrades = vi.spyOn(MinerClient.prototype, 'systemUpgrade');
    const plan = await h.plane.rollouts.start(h.operator, {
      image: images.oldVersion!.sha256,
      selector: { ids: targets },
      canary_size: 1,
      wave_size: 1,
      ...opts,
    });
    const done = await h.plane.jobs.waitUntilFinished(h.operator, plan.job!.id, 60_000);
    expect(done.status).toBe('halted');
    const job = await h.plane.jobs.get(h.operator, plan.job!.id);
    const canary = job.results.find(r => r.id === targets[0])!;
    expect(canary).toMatchObject({ status: 'failed', outcome: 'wrong_version' });
    expect(canary.message).toMatch(/came back on 2026-01-20-0-6f4d2a91-26.01-plus instead of 2026-06-02/);
    expect(canary.data).toMatchObject({
      rollback: 'not_changed',
      previous_image: images.previous!.sha256,
      previous_version: FIRMWARE_PREVIOUS,
    });
    // One upload: the image itself; the miner already back on its old version is not flashed again.
    expect((upgrades.mock.contexts as MinerClient[]).map(c => c.minerId)).toEqual([targets[0]]);
    const second = job.results.find(r => r.id === targets[1])!;
    expect(second).toMatchObject({ status: 'cancelled', outcome: 'not_started' });
    expect(job.outcome?.summary).toMatchObject({ wrong_version: 1, not_started: 1, rolled_back: 0 });
    expect(job.progress).toMatchObject({
      failed: 1,
      cancelled: 1,
      outcomes: { wrong_version: 1, not_started: 1 },
    });
    expect(second.message).toMatch(/not started/);
    expect(fw(targets[0]!)).toBe(FIRMWARE_PREVIOUS);
    expect(fw(targets[1]!)).toBe(FIRMWARE_PREVIOUS);
    // The second miner was never touched (no reboot).
    expect(h.fleet.truth(targets[1]!).uptime_s).toBeGreaterThanOrEqual(uptimeBefore);
    const { steps } = await h.plane.jobs.steps(h.operator, plan.job!.id);
    expect(steps.map(s => `${s.kind}:${s.status}`)).toEqual(
      expect.arrayContaining(['miner:wrong_version', 'gate:failed', 'rollback:not_changed']),
    );
  });

  it('a miner that never comes back times out; the rollout halts and says it cannot be rolled back', async () => {
    const target = ids(5)[0]!;
    const plan = await h.plane.rollouts.start(h.operator, {
      image: images.neverReturns!.sha256,
      selector: { ids: [target] },
      ...opts,
      miner_timeout_ms: 3_000,
    });
    const t0 = Date.now();
    const done = await h.plane.jobs.waitUntilFinished(h.operator, plan.job!.id, 30_000);
    expect(Date.now() - t0).toBeLessThan(15_000);
    expect(done.status).toBe('halted');
    const job = await h.plane.jobs.get(h.operator, plan.job!.id);
    expect(job.results[0]).toMatchObject({
      id: target,
      status: 'failed',
      outcome: 'timeout',
      code: 'timeout',
    });
    expect(job.results[0]!.message).toMatch(/rebooting: did not come back within the per-miner timeout/);
    expect(job.results[0]!.data).toMatchObject({ rollback: 'unreachable' });
    expect(job.results[0]!.message).toMatch(/roll back by hand/);
    h.fleet.clearFault(target, 'unreachable');
  });

  it('a miner back on the new version but below the hashrate gate fails it and is rolled back', async () => {
    const target = ids(4)[0]!;
    const dead = await upload(
      'bos-26.06.3-deadboard.img',
      '2026-06-04-0-4d5e6f70-26.06.3-plus',
      'dead_hashboard',
    );
    const plan = await h.plane.rollouts.start(h.operator, {
      image: dead.sha256,
      selector: { ids: [target] },
      ...opts,
      gate_timeout_ms: 2_000,
    });
    const done = await h.plane.jobs.waitUntilFinished(h.operator, plan.job!.id, 30_000);
    expect(done.status).toBe('halted');
    const [r] = (await h.plane.jobs.get(h.operator, plan.job!.id)).results;
    expect(r).toMatchObject({
      id: target,
      status: 'rolled_back',
      outcome: 'rolled_back',
      code: 'miner_error',
    });
    expect(r!.data).toMatchObject({ rollback: 'done' });
    expect(r!.message).toMatch(/^gate: hashrate \d+ GH\/s stayed below 90% of its pre-upgrade \d+ GH\/s/);
    expect(fw(target)).toBe(FIRMWARE_PREVIOUS);
    h.fleet.clearFault(target, 'hashboard_failure');
  });

  it('an API restart mid-rollout resumes the job: the in-flight miner is re-checked, not re-uploaded', async () => {
    const targets = ids(6, 7);
    const upgrades = vi.spyOn(MinerClient.prototype, 'systemUpgrade');
    const plan = await h.plane.rollouts.start(h.operator, {
      image: images.next!.sha256,
      selector: { ids: targets },
      canary_size: 1,
      wave_size: 1,
      ...opts,
    });
    await waitFor(
      'canary rebooting',
      async () =>
        (await h.plane.jobs.get(h.operator, plan.job!.id)).results.some(
          r => r.id === targets[0] && r.data?.phase === 'rebooting',
        ),
      20_000,
      20,
    );
    await h.plane.close();
    h.plane = h.newPlane();
    await h.plane.start();
    const done = await h.plane.jobs.waitUntilFinished(h.operator, plan.job!.id, 60_000);
    expect(done.status, done.message ?? '').toBe('succeeded');
    for (const id of targets) expect(fw(id)).toBe(NEW);
    const uploadsPerMiner = new Map<string, number>();
    for (const c of upgrades.mock.contexts as MinerClient[])
      uploadsPerMiner.set(c.minerId, (uploadsPerMiner.get(c.minerId) ?? 0) + 1);
    expect(Object.fromEntries(uploadsPerMiner)).toEqual({ [targets[0]!]: 1, [targets[1]!]: 1 });
    const { steps } = await h.plane.jobs.steps(h.operator, plan.job!.id);
    expect(steps.some(s => s.kind === 'job' && s.message.startsWith('resumed'))).toBe(true);
  });

  it('validates rollout requests', async () => {
    await expect(
      h.plane.rollouts.start(h.operator, { image: 'f'.repeat(64), selector: { all: true } }),
    ).rejects.toMatchObject({ code: 'not_found' });
    await expect(
      h.plane.rollouts.start(h.operator, {
        image: images.next!.sha256,
        selector: { all: true },
        canary_size: 1,
        canary_percent: 10,
      }),
    ).rejects.toMatchObject({ code: 'invalid_argument' });
    await expect(
      h.plane.rollouts.start(h.viewer, { image: images.next!.sha256, selector: { all: true } }),
    ).rejects.toMatchObject({ code: 'forbidden' });
  });
});
