import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { MinerClient } from '../../../collector/miner-client.ts';
import { ROLLOUT_OUTCOMES, type RolloutOutcome } from '../../../services/rollouts/outcomes.ts';
import { FIRMWARE_PREVIOUS, buildFirmwareImage } from '../../../simulator/index.ts';
import { startHarness, waitFor, type Harness } from '../control/harness.ts';

// Property test over random per-miner fault schedules during a rollout (a small seeded generator:
// fast-check is not installed). Each trial draws, per miner, one of: no fault, refused upload,
// back on the old version, never returns, unhealthy after return; and maybe an API restart
// mid-wave. Whatever is drawn: no miner is flashed or rebooted without cause, none gets the same
// image twice, every miner ends in exactly one documented outcome, and the summary equals the
// per-miner outcomes. Real simulator (gRPC), real Redis/BullMQ. Bounded: TRIALS trials and a time
// budget; the seed is printed with each failure so a run can be replayed (ROLLOUT_PROP_SEED).

const SEED = Number(process.env.ROLLOUT_PROP_SEED ?? 20_261_206);
const TRIALS = 3;
const BUDGET_MS = 100_000;
const MINERS = 5;

/** mulberry32: tiny deterministic PRNG. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

type Fault = 'none' | 'refuse_upload' | 'old_version' | 'never_returns' | 'dead_hashboard';
const FAULTS: Fault[] = ['none', 'refuse_upload', 'old_version', 'never_returns', 'dead_hashboard'];

/** Outcomes each fault may lead to (not_started when an earlier wave halted the rollout). */
const ALLOWED: Record<Fault, RolloutOutcome[]> = {
  none: ['upgraded', 'not_started'],
  refuse_upload: ['upload_refused', 'not_started'],
  old_version: ['wrong_version', 'not_started'],
  never_returns: ['timeout', 'not_started'],
  dead_hashboard: ['rolled_back', 'rollback_failed', 'unhealthy', 'not_started'],
};

let h: Harness;
const uploads: { miner: string; sha: string; ok: boolean | null }[] = [];
const reboots: string[] = [];
const original = MinerClient.prototype.systemUpgrade;

beforeAll(async () => {
  h = await startHarness({
    sim: {
      miners: MINERS,
      seed: 46,
      firmware: FIRMWARE_PREVIOUS,
      models: 's19jpro',
      rebootMs: 500,
      warmupMs: 150,
    },
  });
  await h.plane.firmware.upload(
    h.admin,
    { name: 'base.img' },
    buildFirmwareImage({ version: FIRMWARE_PREVIOUS }),
  );
  // Record every upload (which miner, which image, accepted?) and every reboot the simulator does.
  vi.spyOn(MinerClient.prototype, 'systemUpgrade').mockImplementation(async function (
    this: MinerClient,
    data: Buffer,
    o: Parameters<MinerClient['systemUpgrade']>[1],
  ) {
    const rec = {
      miner: this.minerId,
      sha: createHash('sha256').update(data).digest('hex'),
      ok: null as boolean | null,
    };
    uploads.push(rec);
    const ok = await original.call(this, data, o);
    rec.ok = ok;
    return ok;
  });
  const fleet = h.fleet as unknown as { rebootNow: (m: { id: string }, ...rest: unknown[]) => void };
  const rebootNow = fleet.rebootNow.bind(h.fleet);
  vi.spyOn(fleet, 'rebootNow').mockImplementation((m, ...rest) => {
    reboots.push(m.id);
    rebootNow(m, ...rest);
  });
}, 60_000);

afterAll(async () => {
  vi.restoreAllMocks();
  await h?.close();
});

describe('rollouts under random per-miner faults', () => {
  it('never flash or reboot without cause, never the same image twice, one outcome each, summary = outcomes', async () => {
    const started = Date.now();
    const rand = rng(SEED);
    for (let trial = 0; trial < TRIALS && Date.now() - started < BUDGET_MS; trial++) {
      const seedNote = `seed ${SEED}, trial ${trial}`;
      const version = `2026-06-1${trial}-0-${(0xa0b0c0d0 + trial).toString(16)}-26.06.${trial + 1}-plus`;
      const { image } = await h.plane.firmware.upload(
        h.admin,
        { name: `t${trial}.img` },
        buildFirmwareImage({ version }),
      );
      const miners = h.fleet.miners.map(m => m.id);
      const fault = new Map<string, Fault>();
      for (const id of miners) {
        const f = FAULTS[Math.floor(rand() * FAULTS.length)]!;
        fault.set(id, f);
        if (f !== 'none') h.fleet.injectFault(id, { kind: 'upgrade_failure', mode: f });
      }
      const restart = rand() < 0.5;
      const before = new Map(miners.map(id => [id, h.fleet.truth(id).firmware]));
      uploads.length = 0;
      reboots.length = 0;
      await h.refreshSnapshots();
      const plan = await h.plane.rollouts.start(h.operator, {
        image: image.sha256,
        selector: { ids: miners },
        canary_size: 1 + Math.floor(rand() * 2),
        wave_size: 1 + Math.floor(rand() * 3),
        parallelism: 2,
        poll_interval_ms: 100,
        gate_timeout_ms: 2_500,
        miner_timeout_ms: 6_000,
      });
      const jobId = plan.job!.id;
      if (restart) {
        // API restart while a miner is mid-upgrade (or as soon as the job is past its canary).
        await waitFor(
          'a miner mid-upgrade',
          async () => {
            const j = await h.plane.jobs.get(h.operator, jobId);
            return (
              j.status !== 'running' ||
              j.results.some(r => r.data?.phase === 'rebooting' || r.data?.phase === 'uploading')
            );
          },
          30_000,
          20,
        );
        await h.plane.close();
        h.plane = h.newPlane();
        await h.plane.start();
      }
      await h.plane.jobs.waitUntilFinished(h.operator, jobId, 90_000);
      const job = await h.plane.jobs.get(h.operator, jobId);
      const note = `${seedNote}, faults ${JSON.stringify(Object.fromEntries(fault))}, restart ${restart}`;

      // Every miner: exactly one result, with one documented outcome that fits its fault.
      expect(job.results.map(r => r.id).sort(), note).toEqual([...miners].sort());
      const outcome = new Map(job.results.map(r => [r.id, r.outcome as RolloutOutcome]));
      for (const id of miners) {
        expect(ROLLOUT_OUTCOMES, `${note}: ${id}`).toContain(outcome.get(id));
        expect(ALLOWED[fault.get(id)!], `${note}: ${id} ended ${outcome.get(id)}`).toContain(outcome.get(id));
      }
      // The summary and the progress count exactly the per-miner outcomes.
      const counted = Object.fromEntries(ROLLOUT_OUTCOMES.map(o => [o, 0]));
      for (const o of outcome.values()) counted[o]!++;
      const summary = job.outcome!.summary;
      expect(Object.fromEntries(ROLLOUT_OUTCOMES.map(o => [o, summary[o]])), note).toEqual(counted);
      expect(job.progress?.outcomes, note).toEqual(counted);

      for (const id of miners) {
        const mine = uploads.filter(u => u.miner === id);
        const o = outcome.get(id)!;
        const where = `${note}: ${id} (${o}) uploads ${JSON.stringify(mine.map(u => [u.sha.slice(0, 6), u.ok]))} reboots ${reboots.filter(r => r === id).length} result ${JSON.stringify(job.results.find(r => r.id === id))}`;
        // An upload the API restart cut off before the miner answered (ok null) may or may not
        // have been taken; the resumed job watches for the reboot before sending it again.
        const accepted = mine.filter(u => u.ok === true).length;
        const cut = mine.filter(u => u.ok === null).length;
        const rebooted = reboots.filter(r => r === id).length;
        if (!restart) expect(cut, where).toBe(0);
        // Only with cause: every reboot follows an image sent to this miner.
        expect(rebooted, where).toBeGreaterThanOrEqual(accepted);
        expect(rebooted, where).toBeLessThanOrEqual(accepted + cut);
        // Never flashed twice with the same image: at most one reboot per distinct image, and no
        // completed upload of the same image twice.
        expect(rebooted, where).toBeLessThanOrEqual(new Set(mine.map(u => u.sha)).size);
        const perImage = new Map<string, number>();
        for (const u of mine.filter(x => x.ok !== null)) perImage.set(u.sha, (perImage.get(u.sha) ?? 0) + 1);
        for (const n of perImage.values()) expect(n, where).toBe(1);
        // Miners never started are never touched; a refused upload is not retried nor rolled back.
        if (o === 'not_started') expect(mine, where).toEqual([]);
        const sent = mine.filter(u => u.ok !== null);
        if (o === 'upload_refused' || o === 'wrong_version' || o === 'timeout')
          expect(
            sent.map(u => u.sha),
            where,
          ).toEqual([image.sha256]);
        // A second image (the rollback) only for a miner the upgrade changed.
        if (new Set(sent.map(u => u.sha)).size > 1)
          expect(['rolled_back', 'rollback_failed'], where).toContain(o);
        if (o === 'rolled_back') expect(h.fleet.truth(id).firmware, where).toBe(before.get(id));
      }

      // Reset the faults for the next trial; a miner that never returned comes back.
      for (const id of miners) {
        h.fleet.clearFault(id, 'upgrade_failure');
        h.fleet.clearFault(id, 'unreachable');
        h.fleet.clearFault(id, 'hashboard_failure');
      }
      await waitFor('every miner reachable', () => miners.every(id => h.fleet.truth(id).reachable), 10_000);
    }
  }, 240_000);
});
