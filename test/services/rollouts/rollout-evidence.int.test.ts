import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { MinerClient } from '../../../collector/miner-client.ts';
import type { FirmwareImage } from '../../../services/rollouts/firmware-store.ts';
import { ROLLOUT_OUTCOMES } from '../../../services/rollouts/outcomes.ts';
import type { JobDetail } from '../../../services/jobs/types.ts';
import { FIRMWARE_PREVIOUS, buildFirmwareImage } from '../../../simulator/index.ts';
import { startHarness, type Harness } from '../control/harness.ts';

// Rollouts act only on evidence: a miner that refuses the upload is never flashed again nor
// rebooted; a plan excludes miners that cannot take the image before any miner is touched.
// Real simulator over gRPC, real Redis/BullMQ jobs.
let h: Harness;
const NEW = '2026-06-01-0-1a2b3c4d-26.06-plus';
const images: Record<string, FirmwareImage> = {};
const opts = { poll_interval_ms: 100, gate_timeout_ms: 5_000, miner_timeout_ms: 12_000, parallelism: 2 };

beforeAll(async () => {
  h = await startHarness({
    sim: {
      miners: 5,
      seed: 45,
      firmware: FIRMWARE_PREVIOUS,
      models: 's19jpro',
      rebootMs: 700,
      warmupMs: 200,
    },
  });
  images.previous = (
    await h.plane.firmware.upload(
      h.admin,
      { name: 'prev.img' },
      buildFirmwareImage({ version: FIRMWARE_PREVIOUS }),
    )
  ).image;
  images.next = (
    await h.plane.firmware.upload(h.admin, { name: 'next.img' }, buildFirmwareImage({ version: NEW }))
  ).image;
  images.s9 = (
    await h.plane.firmware.upload(
      h.admin,
      { name: 's9.img' },
      buildFirmwareImage({ version: '2026-06-05-0-5e6f7081-26.06.4-plus', platform: 'PLATFORM_AM1_S9' }),
    )
  ).image;
}, 60_000);
afterAll(async () => {
  await h?.close();
});
afterEach(() => {
  vi.restoreAllMocks();
});

const ids = (...idx: number[]): string[] => idx.map(i => h.fleet.miners[i]!.id);

/** The summary counts exactly the per-miner outcomes, and progress says the same. */
function expectSummaryMatchesOutcomes(job: JobDetail): void {
  const counted = Object.fromEntries(ROLLOUT_OUTCOMES.map(o => [o, 0]));
  for (const r of job.results) {
    expect(ROLLOUT_OUTCOMES).toContain(r.outcome);
    counted[r.outcome!]!++;
  }
  const summary = job.outcome!.summary;
  expect(Object.fromEntries(ROLLOUT_OUTCOMES.map(o => [o, summary[o]]))).toEqual(counted);
  expect(job.progress?.outcomes).toEqual(counted);
}

describe('rollback acts only on what changed', () => {
  it('a miner that refuses the upload is upload_refused, never flashed again, never rebooted', async () => {
    const [target] = ids(0);
    h.fleet.injectFault(target!, { kind: 'upgrade_failure', mode: 'refuse_upload' });
    const uptime = h.fleet.truth(target!).uptime_s;
    const upgrades = vi.spyOn(MinerClient.prototype, 'systemUpgrade');
    const plan = await h.plane.rollouts.start(h.operator, {
      image: images.next!.sha256,
      selector: { ids: ids(0, 1) },
      canary_size: 1,
      ...opts,
    });
    const done = await h.plane.jobs.waitUntilFinished(h.operator, plan.job!.id, 60_000);
    expect(done.status).toBe('halted');
    const job = await h.plane.jobs.get(h.operator, plan.job!.id);
    const r = job.results.find(x => x.id === target)!;
    expect(r).toMatchObject({ status: 'failed', outcome: 'upload_refused', data: { rollback: 'untouched' } });
    expect(r.message).toMatch(/refused the image/);
    expect((upgrades.mock.contexts as MinerClient[]).map(c => c.minerId)).toEqual([target]);
    expect(h.fleet.truth(target!).uptime_s).toBeGreaterThanOrEqual(uptime);
    expect(h.fleet.truth(target!).firmware).toBe(FIRMWARE_PREVIOUS);
    expect(job.results.find(x => x.id !== target)).toMatchObject({ outcome: 'not_started' });
    expectSummaryMatchesOutcomes(job);
    const { steps } = await h.plane.jobs.steps(h.operator, plan.job!.id);
    const words = steps.map(s => `${s.kind}:${s.status}`);
    expect(words).toEqual(expect.arrayContaining(['miner:upload_refused', 'rollback:untouched']));
    expect(words).not.toContain('rollback:running');
    expect(steps.find(s => s.kind === 'gate')!.message).toMatch(/1 upload_refused/);
    h.fleet.clearFault(target!, 'upgrade_failure');
  });
});

describe('planning checks what each miner supports', () => {
  it('excludes a miner on API 1.2.0 and one of another platform, with reasons, before touching any', async () => {
    const [old, ok] = ids(2, 3);
    h.fleet.miner(old!).apiVersion = { major: 1, minor: 2, patch: 0 };
    h.infra.minerPool.evict(old!); // the next poll probes the API version again
    await h.refreshSnapshots();
    const dry = await h.plane.rollouts.start(h.operator, {
      image: images.next!.sha256,
      selector: { ids: [old!, ok!] },
      dry_run: true,
    });
    expect(dry.excluded).toEqual([
      { id: old, reason: expect.stringMatching(/API 1.2.0 has no SystemUpgrade/) },
    ]);
    expect(dry.waves.flatMap(w => w.miners.map(m => m.id))).toEqual([ok]);
    expect(dry.miners.find(m => m.id === old)).toMatchObject({ action: 'exclude', api_version: '1.2.0' });
    expect(dry.miners.find(m => m.id === ok)).toMatchObject({ action: 'upgrade', api_version: '1.11.0' });

    const upgrades = vi.spyOn(MinerClient.prototype, 'systemUpgrade');
    await expect(
      h.plane.rollouts.start(h.operator, { image: images.next!.sha256, selector: { ids: [old!] }, ...opts }),
    ).rejects.toMatchObject({ code: 'precondition_failed', message: expect.stringMatching(/API 1.2.0/) });
    const wrongPlatform = await h.plane.rollouts.start(h.operator, {
      image: images.s9!.sha256,
      selector: { ids: [ok!] },
      dry_run: true,
    });
    expect(wrongPlatform.excluded).toEqual([
      { id: ok, reason: expect.stringMatching(/built for PLATFORM_AM1_S9; this miner is PLATFORM_/) },
    ]);
    await expect(
      h.plane.rollouts.start(h.operator, { image: images.s9!.sha256, selector: { ids: [ok!] }, ...opts }),
    ).rejects.toMatchObject({ code: 'precondition_failed' });
    expect(upgrades).not.toHaveBeenCalled();
    h.fleet.miner(old!).apiVersion = { major: 1, minor: 11, patch: 0 };
    h.infra.minerPool.evict(old!);
    await h.refreshSnapshots();
  });

  it('a miner whose API was not known at planning is checked before its upload: unsupported, untouched', async () => {
    const [target] = ids(4);
    await h.refreshSnapshots();
    h.fleet.miner(target!).apiVersion = { major: 1, minor: 2, patch: 0 };
    const upgrades = vi.spyOn(MinerClient.prototype, 'systemUpgrade');
    const plan = await h.plane.rollouts.start(h.operator, {
      image: images.next!.sha256,
      selector: { ids: [target!] },
      ...opts,
    });
    const done = await h.plane.jobs.waitUntilFinished(h.operator, plan.job!.id, 30_000);
    expect(done.status).toBe('halted');
    const job = await h.plane.jobs.get(h.operator, plan.job!.id);
    expect(job.results[0]).toMatchObject({ outcome: 'unsupported', data: { rollback: 'untouched' } });
    expect(job.results[0]!.message).not.toMatch(/by hand/);
    expect(upgrades).not.toHaveBeenCalled();
    expectSummaryMatchesOutcomes(job);
    h.fleet.miner(target!).apiVersion = { major: 1, minor: 11, patch: 0 };
  });
});
