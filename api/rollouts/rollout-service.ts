import { z } from 'zod';
import { FleetError, isFleetError, type FleetErrorCode } from '../../collector/errors.ts';
import type { MinerClient } from '../../collector/miner-client.ts';
import type { ApiInfra, Caller } from '../context.ts';
import { hasRole } from '../context.ts';
import { forEachLimit, sleep } from '../control/concurrency.ts';
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

/**
 * Firmware rollouts as a durable `firmware-rollout` job.
 *
 * Plan: the selector's miners (minus those already on the image's version) are split into a
 * canary wave (`canary_size` miners, or `canary_percent` of them) and then waves of
 * `wave_size`; inside a wave at most `parallelism` miners are upgraded at once.
 *
 * Per miner (each phase is persisted in the job's per-miner results before it starts, so a
 * job resumed after an API restart continues where it was instead of re-uploading blindly):
 *  1. `prepare`: read the firmware version (GetMinerDetails), the pre-upgrade hashrate
 *     (GetMinerStats, live: the collector may lag) and the image to roll back to (the one a
 *     rollout last applied, else any stored image of the current version);
 *  2. `uploading`: SystemUpgrade with progress steps. Resumed in this phase: wait for the miner,
 *     and if it already reports the new version go to the gate, else upload again;
 *  3. `rebooting`: poll until the miner answers again after a reboot (seen down, or its boot
 *     time moved) and check `bos_version.current` equals the image's version;
 *  4. `gate`: hashrate (GetMinerStats last_1m) back to >= `hashrate_gate_pct` % of the
 *     pre-upgrade level within `gate_timeout_ms`.
 * The whole of 1-4 must fit in `miner_timeout_ms` (FIRMWARE_MINER_TIMEOUT_MS by default),
 * counted from the miner's start, across restarts.
 *
 * After each wave: if any miner failed, the rollout halts (later waves are not started, their
 * miners are reported `cancelled`), and each failed miner that answers and has a previous
 * image is rolled back to it (upload, wait for the previous version). The job ends `halted`.
 * Pause stops new miners and waves from starting; cancel also aborts uploads and waits in flight.
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
    dryRun: z.boolean().default(false),
  })
  .refine(r => !(r.canary_size !== undefined && r.canary_percent !== undefined), {
    error: 'give canary_size or canary_percent, not both',
  });

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

export interface RolloutPlan {
  dry_run: boolean;
  image: FirmwareImage;
  matched: number;
  not_found: string[];
  /** miners already on the image's version (not upgraded) */
  already_current: string[];
  waves: {
    index: number;
    kind: 'canary' | 'wave';
    miners: { id: string; site: string; firmware: string | null }[];
  }[];
  options: RolloutOptions;
  job: JobSummary | null;
}

type Phase = 'pending' | 'prepare' | 'uploading' | 'rebooting' | 'gate' | 'done' | 'failed';

/** What a rollout remembers per miner (MinerJobResult.data). */
interface MinerRolloutState {
  phase: Phase;
  wave: number;
  previous_version: string | null;
  previous_image: string | null;
  pre_hashrate_ghs: number | null;
  boot_at_ms: number | null;
  uploaded_ms: number | null;
  back_ms: number | null;
  rollback: 'none' | 'pending' | 'running' | 'done' | 'failed' | 'unavailable';
  rollback_note: string | null;
}

class MinerFailure extends Error {
  readonly code: FleetErrorCode;
  constructor(code: FleetErrorCode, message: string) {
    super(message);
    this.name = 'MinerFailure';
    this.code = code;
  }
}

const FINAL = new Set(['ok', 'skipped', 'failed', 'cancelled', 'rolled_back']);

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

  /** Plan (dryRun) or start a rollout. Needs the operator role; uploading images needs admin. */
  async start(caller: Caller, input: unknown): Promise<RolloutPlan> {
    if (!hasRole(caller, 'operator'))
      throw new FleetError('forbidden', 'firmware rollouts need the operator role');
    const parsed = rolloutRequestSchema.safeParse(input);
    if (!parsed.success)
      throw new FleetError(
        'invalid_argument',
        `invalid rollout: ${parsed.error.issues.map(i => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; ')}`,
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
    const already = sel.miners.filter(m => firmwareOf(m) === image.version);
    const todo = sel.miners.filter(m => firmwareOf(m) !== image.version);
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
      dry_run: r.dryRun,
      image,
      matched: sel.matched,
      not_found: sel.not_found,
      already_current: already.map(m => m.id),
      waves: waves.map((w, i) => ({
        index: i,
        kind: i === 0 ? 'canary' : 'wave',
        miners: w.map(m => ({ id: m.id, site: m.site, firmware: firmwareOf(m) })),
      })),
      options,
      job: null,
    };
    if (r.dryRun) return plan;
    if (todo.length === 0)
      throw new FleetError(
        'precondition_failed',
        `no miner to upgrade: ${sel.matched === 0 ? 'the selector matched no miner' : `all ${sel.matched} matched miner(s) already run ${image.version}`}`,
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
    const counts = (): Record<'ok' | 'failed' | 'skipped' | 'cancelled' | 'rolled_back', number> => {
      const c = { ok: 0, failed: 0, skipped: 0, cancelled: 0, rolled_back: 0 };
      for (const id of all) {
        const s = results.get(id)?.status;
        if (s && s in c) c[s as keyof typeof c]++;
      }
      return c;
    };
    const progress = async (phase: string, force = false): Promise<void> => {
      const c = counts();
      await ctx.progress(
        {
          total: all.length,
          done: c.ok + c.failed + c.skipped + c.cancelled + c.rolled_back,
          ok: c.ok,
          failed: c.failed + c.rolled_back,
          invalid: 0,
          skipped: c.skipped,
          cancelled: c.cancelled,
          phase,
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

    try {
      for (let w = 0; w < waves.length; w++) {
        const wave = waves[w]!;
        const name = w === 0 ? 'canary' : `wave ${w + 1}/${waves.length}`;
        const open = wave.filter(id => !FINAL.has(results.get(id)?.status ?? 'pending'));
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
                await save({
                  id,
                  site: '',
                  status: 'failed',
                  code: 'not_found',
                  message: 'no longer in your inventory',
                  finished_ms: Date.now(),
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
          const r = results.get(id);
          return r?.status === 'failed' || r?.status === 'rolled_back';
        });
        if (failed.length > 0) {
          await ctx.step({
            kind: 'gate',
            status: 'failed',
            message: `${name}: ${failed.length} miner(s) failed the health gate; rollout halted`,
            data: { wave: w },
          });
          if (options.rollback) {
            await progress('rollback', true);
            await forEachLimit(failed, options.parallelism, async id => {
              const miner = located.get(id);
              const r = results.get(id);
              if (miner && r) await this.rollbackMiner(ctx, miner, r, save);
            });
          }
          for (const id of waves.slice(w + 1).flat()) {
            if (!FINAL.has(results.get(id)?.status ?? 'pending')) {
              await save({
                id,
                site: located.get(id)?.site ?? '',
                status: 'cancelled',
                message: `not started: the rollout halted after ${name} failed its health gate`,
                finished_ms: Date.now(),
              });
            }
          }
          await progress('halted', true);
          const c = counts();
          return {
            outcome: 'halted',
            message: `halted after ${name}: ${c.failed + c.rolled_back} miner(s) failed (${c.rolled_back} rolled back), ${c.ok} upgraded, ${c.cancelled} not started`,
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
          const r = results.get(id);
          if (!FINAL.has(r?.status ?? 'pending')) {
            const phase = (r?.data?.phase as string | undefined) ?? 'pending';
            await save({
              ...(r ?? { id, site: located.get(id)?.site ?? '' }),
              status: 'cancelled',
              message:
                phase === 'pending'
                  ? 'not started: the rollout was cancelled'
                  : `cancelled during ${phase}; check the miner's firmware`,
              finished_ms: Date.now(),
            });
          }
        }
        await progress('cancelled', true);
        return {
          outcome: 'cancelled',
          message: `cancelled: ${counts().ok} miner(s) upgraded before the cancel`,
          summary: summary(),
        };
      }
      throw err;
    }
    await progress('done', true);
    const c = counts();
    return {
      outcome: 'succeeded',
      message: `${c.ok} miner(s) upgraded to ${image.version}${c.skipped ? `, ${c.skipped} already on it` : ''}`,
      summary: summary(),
    };
  }

  private client(m: TargetMiner): MinerClient {
    return this.infra.minerPool.get({ id: m.id, host: m.host, port: m.port, credentials: m.credentials });
  }

  /** Runs (or resumes) one miner to a final status; never throws for a miner failure. */
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
      wave,
      previous_version: null,
      previous_image: null,
      pre_hashrate_ghs: null,
      boot_at_ms: null,
      uploaded_ms: null,
      back_ms: null,
      rollback: 'none',
      rollback_note: null,
      ...((previous?.data ?? {}) as Partial<MinerRolloutState>),
    };
    const resumedPhase = previous ? st.phase : null;
    const persist = async (
      status: MinerJobResult['status'],
      extra: Partial<MinerJobResult> = {},
    ): Promise<void> => {
      await save({
        id: miner.id,
        site: miner.site,
        status,
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
    try {
      if (st.phase === 'pending' || st.phase === 'prepare') {
        st.phase = 'prepare';
        await persist('running');
        // SystemUpgrade needs API 1.10 (BOS 26.04); older firmware fails here with a clear `unsupported`.
        await this.withDeadline(deadline, signal, () => client.probe({ signal }));
        const details = await this.withDeadline(deadline, signal, () =>
          client.unary('MinerService', 'GetMinerDetails', {}, { signal }),
        );
        const current = details.bos_version?.current || null;
        st.previous_version = current;
        if (current === image.version) {
          st.phase = 'done';
          await persist('skipped', { message: `already on ${image.version}`, finished_ms: Date.now() });
          await step('skipped', `already on ${image.version}`);
          return;
        }
        st.pre_hashrate_ghs = await this.hashrate(client, signal, 'last_5m');
        const prev = current ? await this.store.previousImage(ctx.caller.tenant, miner.id, current) : null;
        st.previous_image = prev?.sha256 ?? null;
        st.phase = 'uploading';
        await persist('running');
      }
      if (st.phase === 'uploading') {
        let needUpload = true;
        if (resumedPhase === 'uploading') {
          // The previous worker stopped mid-upload: look before uploading again.
          const seen = await this.waitReachable(client, deadline, options.poll_interval_ms, signal);
          if (seen.version === image.version) {
            needUpload = false;
            st.back_ms = Date.now();
            st.phase = 'gate';
            await step('resumed', `already reports ${image.version} after the restart; checking its health`);
          }
        }
        if (needUpload) {
          const before = await this.withDeadline(deadline, signal, () =>
            client.unary('MinerService', 'GetMinerDetails', {}, { signal }),
          );
          st.boot_at_ms = Date.now() - before.system_uptime_s * 1000;
          await step('uploading', `uploading ${image.name} (${image.size_bytes} bytes)`);
          let lastPct = 0;
          const ok = await this.withDeadline(deadline, signal, () =>
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
          if (!ok)
            throw new MinerFailure(
              'miner_error',
              'the miner refused the image (SystemUpgrade returned unsuccessful)',
            );
          st.uploaded_ms = Date.now();
          st.phase = 'rebooting';
          await persist('running');
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
            'miner_error',
            `came back on ${back.version || 'an unknown version'} instead of ${image.version}`,
          );
        }
        st.back_ms = Date.now();
        st.phase = 'gate';
        await persist('running');
        await step('back', `back on ${image.version}; waiting for its hashrate`);
        await this.state.forget(miner.id);
      }
      if (st.phase === 'gate') {
        const gateDeadline = Math.min(deadline, (st.back_ms ?? Date.now()) + options.gate_timeout_ms);
        const want = ((st.pre_hashrate_ghs ?? 0) * options.hashrate_gate_pct) / 100;
        let last = 0;
        for (;;) {
          if (signal.aborted) throw signal.reason;
          last = await this.hashrate(client, signal, 'last_1m').catch(err => {
            if (err instanceof JobCancelledError || err instanceof JobShutdownError) throw err;
            return 0;
          });
          if (last >= want) break;
          if (Date.now() >= gateDeadline) {
            const timedOut = gateDeadline === deadline;
            throw new MinerFailure(
              timedOut ? 'timeout' : 'miner_error',
              `hashrate ${Math.round(last)} GH/s stayed below ${options.hashrate_gate_pct}% of its pre-upgrade ${Math.round(st.pre_hashrate_ghs ?? 0)} GH/s for ${Math.round((gateDeadline - (st.back_ms ?? Date.now())) / 1000)} s`,
            );
          }
          await sleep(options.poll_interval_ms, signal);
        }
        st.phase = 'done';
        await this.store.recordApplied(ctx.caller.tenant, miner.id, image);
        await persist('ok', {
          message: `upgraded to ${image.version}; hashrate ${Math.round(last)} GH/s`,
          finished_ms: Date.now(),
        });
        await step(
          'ok',
          `health gate passed: ${Math.round(last)} GH/s (pre-upgrade ${Math.round(st.pre_hashrate_ghs ?? 0)} GH/s)`,
        );
      }
    } catch (err) {
      if (err instanceof JobCancelledError || err instanceof JobShutdownError) throw err;
      if (signal.aborted) throw signal.reason;
      const code: FleetErrorCode =
        err instanceof MinerFailure ? err.code : isFleetError(err) ? err.code : 'internal';
      const message =
        err instanceof Error && (err instanceof MinerFailure || isFleetError(err))
          ? err.message
          : 'internal error; see the API logs';
      if (!(err instanceof MinerFailure) && !isFleetError(err))
        this.infra.log.error({ miner: miner.id, err }, 'rollout step crashed');
      const failedIn = st.phase;
      st.phase = 'failed';
      st.rollback = ctx.payload.options.rollback ? 'pending' : 'none';
      await persist('failed', { code, message: `${failedIn}: ${message}`, finished_ms: Date.now() });
      await step('failed', `${failedIn}: ${message}`, { code });
    }
  }

  private async rollbackMiner(
    ctx: JobContext<RolloutPayload>,
    miner: TargetMiner,
    r: MinerJobResult,
    save: (r: MinerJobResult) => Promise<void>,
  ): Promise<void> {
    const st = { ...(r.data ?? {}) } as unknown as MinerRolloutState;
    if (
      st.rollback === 'done' ||
      st.rollback === 'failed' ||
      st.rollback === 'unavailable' ||
      st.rollback === 'none'
    )
      return;
    const { options } = ctx.payload;
    const signal = ctx.signal;
    const note = async (
      rollback: MinerRolloutState['rollback'],
      text: string,
      status: MinerJobResult['status'] = 'failed',
    ): Promise<void> => {
      st.rollback = rollback;
      st.rollback_note = text;
      await save({
        ...r,
        status,
        message: `${r.message ?? 'failed'}; rollback: ${text}`,
        data: { ...st },
        finished_ms: Date.now(),
      });
      await ctx.step({
        kind: 'rollback',
        miner: miner.id,
        site: miner.site,
        status: rollback,
        message: `rollback: ${text}`,
      });
    };
    if (!st.previous_image || !st.previous_version) {
      await note(
        'unavailable',
        st.previous_version
          ? `no stored image of its previous version ${st.previous_version}; roll back by hand`
          : 'its previous version is unknown; roll back by hand',
      );
      return;
    }
    const image = await this.store.get(ctx.caller, st.previous_image).catch(() => null);
    if (!image) {
      await note(
        'unavailable',
        `the previous image ${st.previous_image} is no longer stored; roll back by hand`,
      );
      return;
    }
    const client = this.client(miner);
    const deadline = Date.now() + options.miner_timeout_ms;
    try {
      await client.probe({ signal, timeoutMs: 3_000 });
    } catch (err) {
      if (signal.aborted) throw signal.reason;
      await note(
        'failed',
        `the miner does not answer (${isFleetError(err) ? err.code : 'error'}); roll back by hand once it is reachable`,
      );
      return;
    }
    st.rollback = 'running';
    await save({ ...r, data: { ...st } });
    await ctx.step({
      kind: 'rollback',
      miner: miner.id,
      site: miner.site,
      status: 'running',
      message: `rolling back to ${image.version} (${image.name})`,
    });
    try {
      const before = await client.unary('MinerService', 'GetMinerDetails', {}, { signal });
      const bootAt = Date.now() - before.system_uptime_s * 1000;
      const bytes = await this.store.read(image);
      const ok = await client.systemUpgrade(bytes, {
        signal,
        timeoutMs: Math.max(1_000, deadline - Date.now()),
        discardSettings: false,
      });
      if (!ok) throw new MinerFailure('miner_error', 'the miner refused the previous image');
      const back = await this.waitRebooted(client, bootAt, deadline, options.poll_interval_ms, signal);
      if (back.version !== image.version)
        throw new MinerFailure(
          'miner_error',
          `came back on ${back.version || 'an unknown version'} instead of ${image.version}`,
        );
      await this.store.recordApplied(ctx.caller.tenant, miner.id, image);
      await this.state.forget(miner.id);
      await note('done', `back on ${image.version}`, 'rolled_back');
    } catch (err) {
      if (err instanceof JobCancelledError || err instanceof JobShutdownError) throw err;
      if (signal.aborted) throw signal.reason;
      await note(
        'failed',
        `${err instanceof Error && (err instanceof MinerFailure || isFleetError(err)) ? err.message : 'internal error'}; roll back by hand`,
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
    if (Date.now() >= deadline) throw new MinerFailure('timeout', 'per-miner timeout reached');
    if (signal.aborted) throw signal.reason;
    try {
      return await fn();
    } catch (err) {
      if (signal.aborted) throw signal.reason;
      throw err;
    }
  }

  /** Polls until the miner answers GetMinerDetails; returns its version. */
  private async waitReachable(
    client: MinerClient,
    deadline: number,
    pollMs: number,
    signal: AbortSignal,
  ): Promise<{ version: string; bootAtMs: number }> {
    for (;;) {
      if (signal.aborted) throw signal.reason;
      try {
        const d = await client.unary(
          'MinerService',
          'GetMinerDetails',
          {},
          { signal, timeoutMs: Math.min(5_000, Math.max(500, pollMs * 2)) },
        );
        return { version: d.bos_version?.current ?? '', bootAtMs: Date.now() - d.system_uptime_s * 1000 };
      } catch (err) {
        if (signal.aborted) throw signal.reason;
        if (isFleetError(err) && err.code === 'auth_rejected') throw err;
      }
      if (Date.now() >= deadline)
        throw new MinerFailure(
          'timeout',
          `did not answer again within the per-miner timeout (${Math.round((deadline - Date.now() + 0) / 1000) || 0} s left)`,
        );
      await sleep(pollMs, signal);
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
          sawDown
            ? 'did not come back within the per-miner timeout after rebooting'
            : 'did not reboot into the new image within the per-miner timeout',
        );
      }
      await sleep(pollMs, signal);
    }
  }
}
