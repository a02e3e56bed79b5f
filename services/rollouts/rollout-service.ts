import { z } from 'zod';
import { FleetError, isFleetError, type FleetErrorCode } from '../../core/errors.ts';
import type { MinerClient } from '../../collector/miner-client.ts';
import type { ApiInfra, Caller } from '../context.ts';
import { hasRole } from '../context.ts';
import { forEachLimit, sleep } from '../control/concurrency.ts';
import { dryRunFields, dryRunOf, oneDryRun, oneDryRunMsg } from '../control/dry-run.ts';
import { MinerStateReader } from '../control/miner-state.ts';
import { MinerResolver, minerSelectorSchema, type TargetMiner } from '../control/selector.ts';
import {
  JobCancelledError,
  JobShutdownError,
  type JobContext,
  type JobService,
} from '../jobs/job-service.ts';
import type { JobOutcome, JobSummary, MinerJobResult } from '../jobs/types.ts';
import { sha256Schema, type FirmwareImage, type FirmwareStore } from './firmware-store.ts';
import {
  FAILED_OUTCOMES,
  countOutcomes,
  describeFailures,
  isRolloutOutcome,
  statusOf,
  type RolloutOutcome,
} from './outcomes.ts';

/**
 * Firmware rollouts as a durable `firmware-rollout` job. Every step acts on evidence.
 *
 * Plan: per selected miner, from its stored snapshot: already on the image's version → skip;
 * API older than 1.10 (no SystemUpgrade) or another platform than the image's → excluded with
 * the reason. The rest are split into a canary wave (`canary_size`, or `canary_percent`) and
 * waves of `wave_size`; inside a wave at most `parallelism` miners run at once.
 *
 * Per miner (each phase persisted before it starts, so a job resumed after an API restart
 * continues where it was):
 *  1. `prepare`: API version, firmware and platform read from the miner (not touched on
 *     failure), pre-upgrade hashrate, the image to roll back to;
 *  2. `uploading`: SystemUpgrade. Resumed in this phase: first watch for a reboot (the miner may
 *     have taken the image), upload again only if none comes;
 *  3. `rebooting`: until the miner answers after a reboot; it must report the image's version;
 *  4. `gate`: hashrate back to `hashrate_gate_pct` % of the pre-upgrade level.
 * Each miner ends in exactly one outcome word (outcomes.ts), the same in results, progress,
 * summary and steps.
 *
 * After a wave with a failed miner the rollout halts (later miners: `not_started`) and each
 * failed miner is rolled back only if something changed: never took the image → untouched;
 * already on its previous version → not changed; otherwise the previous image is flashed and
 * the miner must come back on that version and pass the health gate to be `rolled_back`.
 */

export const rolloutRequestSchema = z
  .strictObject({
    image: sha256Schema,
    selector: minerSelectorSchema,
    /** Miners in the first wave. @defaultValue 1 */
    canary_size: z.number().int().min(1).max(1_000).optional(),
    /** Alternative to canary_size: this percentage of the miners (at least 1). */
    canary_percent: z.number().gt(0).max(100).optional(),
    /** Miners per wave after the canary. @defaultValue 10 */
    wave_size: z.number().int().min(1).max(10_000).default(10),
    /** Miners upgraded at once inside a wave. @defaultValue 5 */
    parallelism: z.number().int().min(1).max(500).default(5),
    /** Hashrate a miner must recover to, in percent of its pre-upgrade level. @defaultValue 90 */
    hashrate_gate_pct: z.number().min(0).max(100).default(90),
    /** Time allowed for the hashrate to recover once the miner is back, in ms. @defaultValue 900000 (15 min) */
    gate_timeout_ms: z
      .number()
      .int()
      .min(500)
      .max(24 * 3_600_000)
      .default(15 * 60_000),
    /** Per-miner limit for upload, reboot and gate, in ms. @defaultValue FIRMWARE_MINER_TIMEOUT_MS */
    miner_timeout_ms: z
      .number()
      .int()
      .min(1_000)
      .max(24 * 3_600_000)
      .optional(),
    /** Roll failed miners back to their previous image when one is stored. @defaultValue true */
    rollback: z.boolean().default(true),
    /** Reset the miners' settings with the upgrade. @defaultValue false */
    discard_settings: z.boolean().default(false),
    /** How often a miner is polled while waiting, in ms. @defaultValue 5000 */
    poll_interval_ms: z.number().int().min(50).max(60_000).default(5_000),
    ...dryRunFields,
  })
  .refine(r => !(r.canary_size !== undefined && r.canary_percent !== undefined), {
    error: 'give canary_size or canary_percent, not both',
  })
  .refine(oneDryRun, oneDryRunMsg);

export type RolloutRequest = z.input<typeof rolloutRequestSchema>;

export interface RolloutOptions {
  canary_size: number;
  wave_size: number;
  parallelism: number;
  hashrate_gate_pct: number;
  gate_timeout_ms: number;
  miner_timeout_ms: number;
  rollback: boolean;
  discard_settings: boolean;
  poll_interval_ms: number;
}

export interface RolloutPayload {
  image: FirmwareImage;
  waves: string[][];
  options: RolloutOptions;
}

/** What the plan decided for one selected miner, from its stored snapshot. */
export interface PlannedMiner {
  id: string;
  site: string;
  firmware: string | null;
  api_version: string | null;
  platform: string | null;
  /** upgrade: in a wave; skip: already on the version; exclude: cannot take this image */
  action: 'upgrade' | 'skip' | 'exclude';
  reason: string | null;
}

export interface RolloutPlan {
  dry_run: boolean;
  image: FirmwareImage;
  matched: number;
  not_found: string[];
  /** miners already on the image's version (not upgraded) */
  already_current: string[];
  /** miners that cannot take this image, with the reason (never touched) */
  excluded: { id: string; reason: string }[];
  /** every matched miner with what the rollout will do with it */
  miners: PlannedMiner[];
  waves: {
    index: number;
    kind: 'canary' | 'wave';
    miners: { id: string; site: string; firmware: string | null }[];
  }[];
  options: RolloutOptions;
  job: JobSummary | null;
}

type Phase = 'pending' | 'prepare' | 'uploading' | 'rebooting' | 'gate' | 'done' | 'failed';

/** Where a failed miner's rollback stands. */
type RollbackState =
  | 'none'
  | 'disabled'
  | 'pending'
  | 'running'
  | 'untouched'
  | 'not_changed'
  | 'unreachable'
  | 'unavailable'
  | 'done'
  | 'failed';

/** What a rollout remembers per miner (MinerJobResult.data). */
interface MinerRolloutState {
  phase: Phase;
  failed_phase: Phase | null;
  wave: number;
  previous_version: string | null;
  previous_image: string | null;
  pre_hashrate_ghs: number | null;
  boot_at_ms: number | null;
  uploaded_ms: number | null;
  back_ms: number | null;
  rollback: RollbackState;
  rollback_note: string | null;
  rollback_boot_at_ms: number | null;
  rollback_uploaded_ms: number | null;
}

class MinerFailure extends Error {
  readonly code: FleetErrorCode;
  readonly outcome: RolloutOutcome;
  constructor(outcome: RolloutOutcome, code: FleetErrorCode, message: string) {
    super(message);
    this.name = 'MinerFailure';
    this.outcome = outcome;
    this.code = code;
  }
}

/** SystemUpgrade came with API 1.10 (Braiins OS 26.04). */
const MIN_UPGRADE_API: readonly [number, number] = [1, 10];

function apiTooOld(v: string | null): boolean {
  if (!v) return false;
  const [major = 0, minor = 0] = v.split('.').map(Number);
  return major < MIN_UPGRADE_API[0] || (major === MIN_UPGRADE_API[0] && minor < MIN_UPGRADE_API[1]);
}

function platformMismatch(image: FirmwareImage, platform: string | null): boolean {
  return !!image.platform && !!platform && !platform.startsWith('unknown') && platform !== image.platform;
}

const ROLLBACK_OPEN = new Set<RollbackState>(['pending', 'running']);

export class RolloutService {
  private readonly infra: ApiInfra;
  private readonly jobs: JobService;
  private readonly store: FirmwareStore;
  private readonly resolver: MinerResolver;
  private readonly state: MinerStateReader;

  constructor(infra: ApiInfra, deps: { jobs: JobService; store: FirmwareStore; resolver?: MinerResolver }) {
    this.infra = infra;
    this.jobs = deps.jobs;
    this.store = deps.store;
    this.resolver = deps.resolver ?? new MinerResolver(infra);
    this.state = new MinerStateReader(infra);
    this.jobs.register<RolloutPayload>('firmware-rollout', ctx => this.run(ctx));
  }

  /** Plan (dry_run) or start a rollout. Needs the operator role; uploading images needs admin. */
  async start(caller: Caller, input: unknown): Promise<RolloutPlan> {
    if (!hasRole(caller, 'operator'))
      throw new FleetError('forbidden', 'firmware rollouts need the operator role');
    const parsed = rolloutRequestSchema.safeParse(input);
    if (!parsed.success)
      throw new FleetError(
        'invalid_argument',
        `invalid rollout: ${parsed.error.issues.map(i => (i.path.length > 0 ? `${i.path.join('.')}: ${i.message}` : i.message)).join('; ')}`,
      );
    const r = parsed.data;
    const image = await this.store.get(caller, r.image);
    if (!(await this.store.hasFile(image.sha256)))
      throw new FleetError(
        'precondition_failed',
        `the file of image ${image.name} is missing from FIRMWARE_DIR; upload it again`,
      );
    const sel = await this.resolver.resolve(caller, r.selector);
    const firmwareOf = (m: TargetMiner): string | null =>
      m.snapshot?.details?.firmware || m.snapshot?.sample?.firmware || null;
    // Decide per miner from what the collector last read; facts not known yet are checked again
    // on the miner before its upload (prepare), still before anything is sent to it.
    const planned: PlannedMiner[] = sel.miners.map(m => {
      const firmware = firmwareOf(m);
      const api = m.snapshot?.details?.api_version ?? null;
      const platform = m.snapshot?.details?.platform ?? null;
      const base = { id: m.id, site: m.site, firmware, api_version: api, platform };
      if (firmware === image.version)
        return { ...base, action: 'skip', reason: `already on ${image.version}` };
      if (apiTooOld(api))
        return {
          ...base,
          action: 'exclude',
          reason: `API ${api} has no SystemUpgrade (needs ${MIN_UPGRADE_API.join('.')}, Braiins OS 26.04 or later)`,
        };
      if (platformMismatch(image, platform))
        return {
          ...base,
          action: 'exclude',
          reason: `the image is built for ${image.platform}; this miner is ${platform}`,
        };
      return { ...base, action: 'upgrade', reason: null };
    });
    const actionOf = new Map(planned.map(p => [p.id, p.action]));
    const already = sel.miners.filter(m => actionOf.get(m.id) === 'skip');
    const todo = sel.miners.filter(m => actionOf.get(m.id) === 'upgrade');
    const excluded = planned.filter(p => p.action === 'exclude').map(p => ({ id: p.id, reason: p.reason! }));
    const canary = Math.min(
      todo.length,
      r.canary_percent !== undefined
        ? Math.max(1, Math.ceil((todo.length * r.canary_percent) / 100))
        : (r.canary_size ?? 1),
    );
    const waves: TargetMiner[][] = [];
    if (canary > 0) waves.push(todo.slice(0, canary));
    for (let i = canary; i < todo.length; i += r.wave_size) waves.push(todo.slice(i, i + r.wave_size));
    const options: RolloutOptions = {
      canary_size: canary,
      wave_size: r.wave_size,
      parallelism: r.parallelism,
      hashrate_gate_pct: r.hashrate_gate_pct,
      gate_timeout_ms: r.gate_timeout_ms,
      miner_timeout_ms: r.miner_timeout_ms ?? this.infra.config.FIRMWARE_MINER_TIMEOUT_MS,
      rollback: r.rollback,
      discard_settings: r.discard_settings,
      poll_interval_ms: r.poll_interval_ms,
    };
    const plan: RolloutPlan = {
      dry_run: dryRunOf(r),
      image,
      matched: sel.matched,
      not_found: sel.not_found,
      already_current: already.map(m => m.id),
      excluded,
      miners: planned,
      waves: waves.map((w, i) => ({
        index: i,
        kind: i === 0 ? 'canary' : 'wave',
        miners: w.map(m => ({ id: m.id, site: m.site, firmware: firmwareOf(m) })),
      })),
      options,
      job: null,
    };
    if (dryRunOf(r)) return plan;
    if (todo.length === 0)
      throw new FleetError(
        'precondition_failed',
        `no miner to upgrade: ${
          sel.matched === 0
            ? 'the selector matched no miner'
            : [
                already.length ? `${already.length} already run ${image.version}` : '',
                ...excluded.map(e => `${e.id}: ${e.reason}`),
              ]
                .filter(Boolean)
                .join('; ')
        }`,
        { details: { excluded } },
      );
    const payload: RolloutPayload = { image, waves: waves.map(w => w.map(m => m.id)), options };
    plan.job = await this.jobs.enqueue(caller, 'firmware-rollout', {
      label: `firmware ${image.version} (${image.name}) on ${todo.length} miner(s) in ${waves.length} wave(s)`,
      payload,
      minersTotal: todo.length,
    });
    return plan;
  }

  // ---- the job ----

  private async run(ctx: JobContext<RolloutPayload>): Promise<JobOutcome> {
    const { image, waves, options } = ctx.payload;
    const tenant = ctx.caller.tenant;
    const results = await ctx.results();
    const all = waves.flat();
    const located = await this.resolver.locate(tenant, all, true);
    const data = await this.store.read(image);
    const outcomeOf = (id: string): RolloutOutcome | null => {
      const o = results.get(id)?.outcome;
      return isRolloutOutcome(o) ? o : null;
    };
    const counts = (): Record<RolloutOutcome, number> =>
      countOutcomes(all.map(outcomeOf).filter((o): o is RolloutOutcome => o !== null));
    const progress = async (phase: string, force = false): Promise<void> => {
      const c = counts();
      let failed = 0;
      for (const o of FAILED_OUTCOMES) failed += c[o];
      await ctx.progress(
        {
          total: all.length,
          done: Object.values(c).reduce((x, y) => x + y, 0),
          ok: c.upgraded,
          failed,
          invalid: 0,
          skipped: c.skipped,
          cancelled: c.not_started + c.cancelled,
          phase,
          outcomes: { ...c },
        },
        { force },
      );
    };
    const save = async (r: MinerJobResult): Promise<void> => {
      results.set(r.id, r);
      await ctx.setResult(r);
    };
    const summary = (): Record<string, number | string> => ({
      image: image.sha256,
      version: image.version,
      waves: waves.length,
      ...counts(),
    });
    const finish = async (
      id: string,
      outcome: RolloutOutcome,
      message: string,
      extra: Partial<MinerJobResult> = {},
    ): Promise<void> => {
      const r = results.get(id);
      await save({
        ...(r ?? { id, site: located.get(id)?.site ?? '' }),
        ...extra,
        status: statusOf(outcome),
        outcome,
        message,
        finished_ms: Date.now(),
      });
    };

    try {
      for (let w = 0; w < waves.length; w++) {
        const wave = waves[w]!;
        const name = w === 0 ? 'canary' : `wave ${w + 1}/${waves.length}`;
        const open = wave.filter(id => outcomeOf(id) === null);
        if (open.length > 0) {
          await ctx.checkpoint();
          await progress(name, true);
          await ctx.step({
            kind: 'wave',
            status: 'started',
            message: `${name}: upgrading ${open.length} miner(s)`,
            data: { wave: w },
          });
          await forEachLimit(
            open,
            options.parallelism,
            async id => {
              const miner = located.get(id);
              if (!miner) {
                await finish(id, 'unreachable', 'no longer in your inventory; not touched', {
                  code: 'not_found',
                });
                return;
              }
              await this.upgradeMiner(ctx, miner, w, data, results.get(id) ?? null, save);
              await progress(name);
            },
            () => ctx.checkpoint(),
          );
        }
        const failed = wave.filter(id => {
          const o = outcomeOf(id);
          return o !== null && FAILED_OUTCOMES.has(o);
        });
        if (failed.length > 0) {
          const waveCounts = countOutcomes(failed.map(id => outcomeOf(id)!));
          await ctx.step({
            kind: 'gate',
            status: 'failed',
            message: `${name}: ${failed.length} miner(s) failed (${describeFailures(waveCounts)}); rollout halted`,
            data: { wave: w },
          });
          const toRollBack = failed.filter(id => {
            const st = results.get(id)?.data?.rollback as RollbackState | undefined;
            return st !== undefined && ROLLBACK_OPEN.has(st);
          });
          if (toRollBack.length > 0) {
            await progress('rollback', true);
            await forEachLimit(toRollBack, options.parallelism, async id => {
              const miner = located.get(id);
              const r = results.get(id);
              if (miner && r) await this.rollbackMiner(ctx, miner, r, save);
            });
          }
          for (const id of waves.slice(w + 1).flat()) {
            if (outcomeOf(id) === null)
              await finish(id, 'not_started', `not started: the rollout halted after ${name} failed`);
          }
          await progress('halted', true);
          const c = counts();
          return {
            outcome: 'halted',
            message: `halted after ${name}: ${describeFailures(c)}; ${c.upgraded} upgraded, ${c.skipped} skipped, ${c.not_started} not_started`,
            summary: summary(),
          };
        }
        await ctx.step({
          kind: 'gate',
          status: 'passed',
          message: `${name}: every miner back on ${image.version} with its hashrate`,
          data: { wave: w },
        });
      }
    } catch (err) {
      if (err instanceof JobCancelledError) {
        for (const id of all) {
          if (outcomeOf(id) !== null) continue;
          const phase = (results.get(id)?.data?.phase as string | undefined) ?? 'pending';
          if (phase === 'pending') await finish(id, 'not_started', 'not started: the rollout was cancelled');
          else await finish(id, 'cancelled', `cancelled during ${phase}; check the miner's firmware`);
        }
        await progress('cancelled', true);
        return {
          outcome: 'cancelled',
          message: `cancelled: ${counts().upgraded} miner(s) upgraded before the cancel`,
          summary: summary(),
        };
      }
      throw err;
    }
    await progress('done', true);
    const c = counts();
    return {
      outcome: 'succeeded',
      message: `${c.upgraded} miner(s) upgraded to ${image.version}${c.skipped ? `, ${c.skipped} skipped (already on it)` : ''}`,
      summary: summary(),
    };
  }

  private client(m: TargetMiner): MinerClient {
    return this.infra.minerPool.get({ id: m.id, host: m.host, port: m.port, credentials: m.credentials });
  }

  /** Runs (or resumes) one miner to an outcome; never throws for a miner failure. */
  private async upgradeMiner(
    ctx: JobContext<RolloutPayload>,
    miner: TargetMiner,
    wave: number,
    data: Buffer,
    previous: MinerJobResult | null,
    save: (r: MinerJobResult) => Promise<void>,
  ): Promise<void> {
    const { image, options } = ctx.payload;
    const client = this.client(miner);
    const started = previous?.started_ms ?? Date.now();
    const deadline = started + options.miner_timeout_ms;
    const st: MinerRolloutState = {
      phase: 'pending',
      failed_phase: null,
      wave,
      previous_version: null,
      previous_image: null,
      pre_hashrate_ghs: null,
      boot_at_ms: null,
      uploaded_ms: null,
      back_ms: null,
      rollback: 'none',
      rollback_note: null,
      rollback_boot_at_ms: null,
      rollback_uploaded_ms: null,
      ...((previous?.data ?? {}) as Partial<MinerRolloutState>),
    };
    const resumedPhase = previous ? st.phase : null;
    const persist = async (
      outcome: RolloutOutcome | null,
      extra: Partial<MinerJobResult> = {},
    ): Promise<void> => {
      await save({
        id: miner.id,
        site: miner.site,
        status: outcome ? statusOf(outcome) : 'running',
        ...(outcome ? { outcome } : {}),
        started_ms: started,
        changes: [{ field: 'firmware', current: st.previous_version, new: image.version }],
        ...extra,
        data: { ...st },
      });
    };
    const step = (
      status: string,
      message: string,
      more: Partial<{ code: FleetErrorCode; data: Record<string, string | number | boolean | null> }> = {},
    ): Promise<void> =>
      ctx.step({ kind: 'miner', miner: miner.id, site: miner.site, status, message, ...more });
    const signal = ctx.signal;
    /** Details read before anything is sent: a failure here leaves the miner untouched. */
    const readBefore = async (): Promise<Awaited<ReturnType<MinerClient['unary']>>> => {
      try {
        return await this.withDeadline(deadline, signal, () =>
          client.unary('MinerService', 'GetMinerDetails', {}, { signal }),
        );
      } catch (err) {
        if (signal.aborted || err instanceof MinerFailure) throw err;
        throw new MinerFailure(
          'unreachable',
          isFleetError(err) ? err.code : 'unavailable',
          `could not read the miner before the upload (${isFleetError(err) ? err.message : 'error'}); not touched`,
        );
      }
    };
    try {
      if (st.phase === 'pending' || st.phase === 'prepare') {
        st.phase = 'prepare';
        await persist(null);
        let api;
        try {
          api = await this.withDeadline(deadline, signal, () => client.probe({ signal }));
        } catch (err) {
          if (signal.aborted || err instanceof MinerFailure) throw err;
          throw new MinerFailure(
            'unreachable',
            isFleetError(err) ? err.code : 'unavailable',
            `does not answer (${isFleetError(err) ? err.message : 'error'}); not touched`,
          );
        }
        const apiText = `${api.major}.${api.minor}.${api.patch}`;
        if (apiTooOld(apiText))
          throw new MinerFailure(
            'unsupported',
            'unsupported',
            `API ${apiText} has no SystemUpgrade (needs ${MIN_UPGRADE_API.join('.')}); not touched`,
          );
        const details = (await readBefore()) as {
          bos_version?: { current?: string };
          platform?: string;
        };
        const current = details.bos_version?.current || null;
        st.previous_version = current;
        if (current === image.version) {
          st.phase = 'done';
          await persist('skipped', { message: `already on ${image.version}`, finished_ms: Date.now() });
          await step('skipped', `already on ${image.version}`);
          return;
        }
        const platform = typeof details.platform === 'string' ? details.platform : null;
        if (platformMismatch(image, platform))
          throw new MinerFailure(
            'unsupported',
            'precondition_failed',
            `the image is built for ${image.platform}; this miner is ${platform}; not touched`,
          );
        st.pre_hashrate_ghs = await this.hashrate(client, signal, 'last_5m');
        const prev = current ? await this.store.previousImage(ctx.caller.tenant, miner.id, current) : null;
        st.previous_image = prev?.sha256 ?? null;
        st.phase = 'uploading';
        await persist(null);
      }
      if (st.phase === 'uploading') {
        let needUpload = true;
        if (resumedPhase === 'uploading' && st.boot_at_ms !== null) {
          // The previous worker stopped during the upload: the miner may have taken the image and
          // be about to reboot. Watch for a reboot for a short while before sending it again.
          const grace = Math.min(deadline, Date.now() + Math.max(2_000, options.poll_interval_ms * 4));
          const back = await this.waitRebooted(
            client,
            st.boot_at_ms,
            grace,
            options.poll_interval_ms,
            signal,
          ).catch((err: unknown) => {
            if (err instanceof MinerFailure && err.outcome === 'timeout') return null;
            throw err;
          });
          if (back) {
            needUpload = false;
            st.uploaded_ms = st.uploaded_ms ?? Date.now();
            st.phase = 'rebooting';
            await step('resumed', `rebooted during the restart; checking its version`);
          }
        }
        if (needUpload) {
          const before = await readBefore().catch((err: unknown) => {
            // The previous worker was uploading when it stopped: a miner that answers nothing now
            // may have taken the image and not come back. "Not touched" would not be true.
            if (resumedPhase === 'uploading' && err instanceof MinerFailure && err.outcome === 'unreachable')
              throw new MinerFailure('timeout', err.code, 'did not answer after the upload the previous worker was sending when the API stopped; not sent again');
            throw err;
          });
          st.boot_at_ms = Date.now() - before.system_uptime_s * 1000;
          await persist(null);
          await step('uploading', `uploading ${image.name} (${image.size_bytes} bytes)`);
          let lastPct = 0;
          let ok: boolean;
          try {
            ok = await this.withDeadline(deadline, signal, () =>
              client.systemUpgrade(data, {
                signal,
                timeoutMs: Math.max(1_000, deadline - Date.now()),
                discardSettings: options.discard_settings,
                onProgress: p => {
                  const pct = Math.floor((p.bytesSent / p.totalBytes) * 4) * 25;
                  if (pct > lastPct && pct < 100) {
                    lastPct = pct;
                    void step('uploading', `upload ${pct}%`, {
                      data: { bytes_sent: p.bytesSent, total_bytes: p.totalBytes },
                    }).catch(() => undefined);
                  }
                },
              }),
            );
          } catch (err) {
            if (signal.aborted || err instanceof MinerFailure) throw err;
            if (isFleetError(err) && err.code === 'unsupported')
              throw new MinerFailure('unsupported', 'unsupported', `${err.message}; not touched`);
            if (isFleetError(err) && (err.code === 'invalid_argument' || err.code === 'miner_error'))
              throw new MinerFailure(
                'upload_refused',
                'miner_error',
                `the miner refused the image: ${err.message}`,
              );
            throw new MinerFailure(
              'unreachable',
              isFleetError(err) ? err.code : 'unavailable',
              `the upload did not complete (${isFleetError(err) ? err.message : 'error'})`,
            );
          }
          if (!ok)
            throw new MinerFailure(
              'upload_refused',
              'miner_error',
              'the miner refused the image (SystemUpgrade returned unsuccessful); not touched',
            );
          st.uploaded_ms = Date.now();
          st.phase = 'rebooting';
          await persist(null);
          await step('uploaded', 'image accepted; waiting for the miner to reboot into it');
        }
      }
      if (st.phase === 'rebooting') {
        const back = await this.waitRebooted(
          client,
          st.boot_at_ms,
          deadline,
          options.poll_interval_ms,
          signal,
        );
        if (back.version !== image.version) {
          throw new MinerFailure(
            'wrong_version',
            'miner_error',
            `came back on ${back.version || 'an unknown version'} instead of ${image.version}`,
          );
        }
        st.back_ms = Date.now();
        st.phase = 'gate';
        await persist(null);
        await step('back', `back on ${image.version}; waiting for its hashrate`);
        await this.state.forget(miner.id);
      }
      if (st.phase === 'gate') {
        const gateDeadline = Math.min(deadline, (st.back_ms ?? Date.now()) + options.gate_timeout_ms);
        const { ok, last } = await this.healthGate(
          client,
          st.pre_hashrate_ghs,
          gateDeadline,
          options,
          signal,
        );
        if (!ok)
          throw new MinerFailure(
            'unhealthy',
            gateDeadline === deadline ? 'timeout' : 'miner_error',
            `hashrate ${Math.round(last)} GH/s stayed below ${options.hashrate_gate_pct}% of its pre-upgrade ${Math.round(st.pre_hashrate_ghs ?? 0)} GH/s for ${Math.round((gateDeadline - (st.back_ms ?? Date.now())) / 1000)} s`,
          );
        st.phase = 'done';
        await this.store.recordApplied(ctx.caller.tenant, miner.id, image);
        await persist('upgraded', {
          message: `upgraded to ${image.version}; hashrate ${Math.round(last)} GH/s`,
          finished_ms: Date.now(),
        });
        await step(
          'upgraded',
          `health gate passed: ${Math.round(last)} GH/s (pre-upgrade ${Math.round(st.pre_hashrate_ghs ?? 0)} GH/s)`,
        );
      }
    } catch (err) {
      if (err instanceof JobCancelledError || err instanceof JobShutdownError) throw err;
      if (signal.aborted) throw signal.reason;
      const failure =
        err instanceof MinerFailure
          ? err
          : new MinerFailure(
              st.uploaded_ms === null ? 'unreachable' : 'timeout',
              isFleetError(err) ? err.code : 'internal',
              isFleetError(err) ? err.message : 'internal error; see the API logs',
            );
      if (!(err instanceof MinerFailure) && !isFleetError(err))
        this.infra.log.error({ miner: miner.id, err }, 'rollout step crashed');
      const failedIn = st.phase;
      st.failed_phase = failedIn;
      st.phase = 'failed';
      st.rollback = ctx.payload.options.rollback ? 'pending' : 'disabled';
      await persist(failure.outcome, {
        code: failure.code,
        message: `${failedIn}: ${failure.message}`,
        finished_ms: Date.now(),
      });
      await step(failure.outcome, `${failedIn}: ${failure.message}`, { code: failure.code });
    }
  }

  /** Hashrate back to hashrate_gate_pct % of `pre` before `until`? */
  private async healthGate(
    client: MinerClient,
    pre: number | null,
    until: number,
    options: RolloutOptions,
    signal: AbortSignal,
  ): Promise<{ ok: boolean; last: number }> {
    const want = ((pre ?? 0) * options.hashrate_gate_pct) / 100;
    for (;;) {
      if (signal.aborted) throw signal.reason;
      const last = await this.hashrate(client, signal, 'last_1m').catch(err => {
        if (err instanceof JobCancelledError || err instanceof JobShutdownError) throw err;
        if (signal.aborted) throw signal.reason;
        return 0;
      });
      if (last >= want) return { ok: true, last };
      if (Date.now() >= until) return { ok: false, last };
      await sleep(options.poll_interval_ms, signal);
    }
  }

  /**
   * Undo what a failed miner's upgrade changed, on evidence: where the step failed and what the
   * miner runs now. Nothing changed → no flash, no reboot. `rolled_back` only when the miner is
   * back on its previous version and passes the health gate.
   */
  private async rollbackMiner(
    ctx: JobContext<RolloutPayload>,
    miner: TargetMiner,
    r: MinerJobResult,
    save: (r: MinerJobResult) => Promise<void>,
  ): Promise<void> {
    const st = { ...(r.data ?? {}) } as unknown as MinerRolloutState;
    if (!ROLLBACK_OPEN.has(st.rollback)) return;
    const failedOutcome = (isRolloutOutcome(r.outcome) ? r.outcome : 'unreachable') as RolloutOutcome;
    const { options } = ctx.payload;
    const signal = ctx.signal;
    const note = async (rollback: RollbackState, text: string, outcome: RolloutOutcome): Promise<void> => {
      st.rollback = rollback;
      st.rollback_note = text;
      await save({
        ...r,
        status: statusOf(outcome),
        outcome,
        message: `${r.message ?? failedOutcome}; rollback: ${text}`,
        data: { ...st },
        finished_ms: Date.now(),
      });
      await ctx.step({
        kind: 'rollback',
        miner: miner.id,
        site: miner.site,
        status: rollback,
        message: `rollback: ${text}`,
        data: { outcome },
      });
    };
    // Never sent an image, or the miner refused it: nothing on the miner changed.
    if (
      st.uploaded_ms === null &&
      st.rollback === 'pending' &&
      (failedOutcome === 'upload_refused' || failedOutcome === 'unsupported' || st.failed_phase === 'prepare')
    ) {
      await note('untouched', 'not needed: the miner never took the image', failedOutcome);
      return;
    }
    const client = this.client(miner);
    const deadline = Date.now() + options.miner_timeout_ms;
    let current: string;
    try {
      const d = await client.unary('MinerService', 'GetMinerDetails', {}, { signal, timeoutMs: 3_000 });
      current = d.bos_version?.current ?? '';
    } catch (err) {
      if (signal.aborted) throw signal.reason;
      await note(
        'unreachable',
        `the miner does not answer (${isFleetError(err) ? err.code : 'error'}); once it is back, check its version and roll back by hand if it does not run ${st.previous_version ?? 'its previous version'}`,
        failedOutcome,
      );
      return;
    }
    const flashed = st.rollback === 'running' && st.rollback_uploaded_ms !== null;
    if (current === st.previous_version && !flashed) {
      await note('not_changed', `not needed: still on its previous version ${current}`, failedOutcome);
      return;
    }
    if (!st.previous_version) {
      await note('unavailable', 'its previous version is unknown; roll back by hand', failedOutcome);
      return;
    }
    const image = st.previous_image
      ? await this.store.get(ctx.caller, st.previous_image).catch(() => null)
      : null;
    if (!image) {
      await note(
        'unavailable',
        `no stored image of its previous version ${st.previous_version}; roll back by hand`,
        failedOutcome,
      );
      return;
    }
    try {
      if (current !== st.previous_version && !flashed) {
        st.rollback = 'running';
        const before = await client.unary('MinerService', 'GetMinerDetails', {}, { signal });
        st.rollback_boot_at_ms = Date.now() - before.system_uptime_s * 1000;
        await save({ ...r, data: { ...st } });
        await ctx.step({
          kind: 'rollback',
          miner: miner.id,
          site: miner.site,
          status: 'running',
          message: `runs ${current || 'an unknown version'}; rolling back to ${image.version} (${image.name})`,
        });
        const bytes = await this.store.read(image);
        const ok = await client.systemUpgrade(bytes, {
          signal,
          timeoutMs: Math.max(1_000, deadline - Date.now()),
          discardSettings: false,
        });
        if (!ok)
          throw new MinerFailure('rollback_failed', 'miner_error', 'the miner refused the previous image');
        st.rollback_uploaded_ms = Date.now();
        await save({ ...r, data: { ...st } });
      }
      if (current !== st.previous_version) {
        const back = await this.waitRebooted(
          client,
          st.rollback_boot_at_ms,
          deadline,
          options.poll_interval_ms,
          signal,
        );
        if (back.version !== image.version)
          throw new MinerFailure(
            'rollback_failed',
            'miner_error',
            `came back on ${back.version || 'an unknown version'} instead of ${image.version}`,
          );
      }
      await this.state.forget(miner.id);
      const gate = await this.healthGate(
        client,
        st.pre_hashrate_ghs,
        Math.min(deadline, Date.now() + options.gate_timeout_ms),
        options,
        signal,
      );
      if (!gate.ok)
        throw new MinerFailure(
          'rollback_failed',
          'miner_error',
          `back on ${image.version} but its hashrate ${Math.round(gate.last)} GH/s stayed below ${options.hashrate_gate_pct}% of ${Math.round(st.pre_hashrate_ghs ?? 0)} GH/s`,
        );
      await this.store.recordApplied(ctx.caller.tenant, miner.id, image);
      await note('done', `back on ${image.version} and healthy`, 'rolled_back');
    } catch (err) {
      if (err instanceof JobCancelledError || err instanceof JobShutdownError) throw err;
      if (signal.aborted) throw signal.reason;
      await note(
        'failed',
        `${err instanceof Error && (err instanceof MinerFailure || isFleetError(err)) ? err.message : 'internal error'}; roll back by hand`,
        'rollback_failed',
      );
    }
  }

  private async hashrate(
    client: MinerClient,
    signal: AbortSignal,
    window: 'last_1m' | 'last_5m',
  ): Promise<number> {
    const s = await client.unary('MinerService', 'GetMinerStats', {}, { signal });
    const rh = s.miner_stats?.real_hashrate;
    const v = rh?.[window]?.gigahash_per_second ?? 0;
    return v > 0 ? v : (rh?.last_1m?.gigahash_per_second ?? 0);
  }

  private async withDeadline<T>(deadline: number, signal: AbortSignal, fn: () => Promise<T>): Promise<T> {
    if (Date.now() >= deadline) throw new MinerFailure('timeout', 'timeout', 'per-miner timeout reached');
    if (signal.aborted) throw signal.reason;
    try {
      return await fn();
    } catch (err) {
      if (signal.aborted) throw signal.reason;
      throw err;
    }
  }

  /**
   * Polls until the miner has rebooted (seen unreachable, or its boot time moved past
   * `bootAtMs`) and answers again; returns the version it reports.
   */
  private async waitRebooted(
    client: MinerClient,
    bootAtMs: number | null,
    deadline: number,
    pollMs: number,
    signal: AbortSignal,
  ): Promise<{ version: string }> {
    let sawDown = false;
    for (;;) {
      if (signal.aborted) throw signal.reason;
      try {
        const d = await client.unary(
          'MinerService',
          'GetMinerDetails',
          {},
          { signal, timeoutMs: Math.min(5_000, Math.max(500, pollMs * 2)) },
        );
        const bootAt = Date.now() - d.system_uptime_s * 1000;
        const rebooted = sawDown || bootAtMs === null || bootAt > bootAtMs + 2_000;
        if (rebooted) return { version: d.bos_version?.current ?? '' };
      } catch (err) {
        if (signal.aborted) throw signal.reason;
        if (isFleetError(err) && err.code === 'auth_rejected') throw err;
        sawDown = true;
      }
      if (Date.now() >= deadline) {
        throw new MinerFailure(
          'timeout',
          'timeout',
          sawDown
            ? 'did not come back within the per-miner timeout after rebooting'
            : 'did not reboot into the new image within the per-miner timeout',
        );
      }
      await sleep(pollMs, signal);
    }
  }
}
