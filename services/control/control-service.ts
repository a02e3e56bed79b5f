import { FleetError, isFleetError, minerFailureReason, type FleetErrorCode } from '../../core/errors.ts';
import { currentHashrateGhs, expectedHashrateGhs, isHashing } from '../query/miner-figures.ts';
import type { MinerClient } from '../../collector/miner-client.ts';
import type { FleetEvent } from '../../core/samples.ts';
import { round } from '../../core/units.ts';
import type { ApiInfra, Caller } from '../context.ts';
import { hasRole } from '../context.ts';
import {
  JobCancelledError,
  JobShutdownError,
  type JobContext,
  type JobService,
} from '../jobs/job-service.ts';
import type { JobOutcome, JobSummary, MinerJobResult } from '../jobs/types.ts';
import { AuditBuffer, recordSafely, type AuditLog } from './audit.ts';
import { forEachLimit, notStartedOf } from './concurrency.ts';
import { MinerStateReader, type MinerConfigView, type MinerConstraints, type Range } from './miner-state.ts';
import {
  describeRequest,
  extractPoolSecrets,
  isIdempotent,
  redactRequest,
  requestSchemaFor,
  restorePoolSecrets,
  type ControlRequest,
  type CoolingRequest,
  type HashboardsRequest,
  type HashrateTargetRequest,
  type PoolGroupInput,
  type PoolsRequest,
  type PowerTargetRequest,
  type RelativeReference,
} from './requests.ts';
import { MinerResolver, minerSelectorSchema, type MinerSelector, type TargetMiner } from './selector.ts';

/**
 * The one way the API changes miners. Every request:
 *  1. resolves its target (one id, or a selector) to the caller's miners;
 *  2. plans each miner: reads the miner's own constraints (cached) and live configuration,
 *     computes current -> new and the expected effect on power and hashrate; a value the miner's
 *     constraints reject makes that miner `invalid` (it is not touched);
 *  3. dry run: returns the plan; no write RPC is sent;
 *  4. otherwise one miner runs inline, several become a durable `batch-control` job;
 *  5. every executed (or refused) change is recorded as a `control_action` event with the caller.
 */

export type ControlTarget = { id: string } | { selector: MinerSelector };

export interface ControlOptions {
  dryRun?: boolean;
}

/** Expected change of fleet output if the request is carried out. */
export interface FleetEffect {
  power_kw: number;
  hashrate_ths: number;
  /** miners whose effect could be estimated */
  miners_estimated: number;
  /** miners without the data for an estimate (offline, no sample) */
  miners_unknown: number;
  note: string;
}

/**
 * Whether anything ran (dry run: would run): ok = every miner; partial = some; refused = none,
 * each refused by its constraints; none_ran = none (failures, or nothing matched); queued = a
 * batch job that has not run yet (its per-miner outcomes are at /jobs/{id}).
 */
export type ControlStatus = 'ok' | 'partial' | 'refused' | 'none_ran' | 'queued';

export interface ControlResponse {
  dry_run: boolean;
  /** inline: done already; job: see `job`; dry_run: nothing was changed */
  mode: 'inline' | 'job' | 'dry_run';
  status: ControlStatus;
  description: string;
  request: ControlRequest;
  matched: number;
  not_found: string[];
  job: JobSummary | null;
  /** per miner (dry run: the plan; inline: results; job: empty, see GET /jobs/:id) */
  miners: MinerJobResult[];
  miners_truncated: boolean;
  counts: Record<string, number>;
  effect: FleetEffect;
}

export interface ControlServiceOptions {
  /** How long a miner's constraints are cached, in milliseconds. @defaultValue 300000 */
  constraintsTtlMs?: number;
  /** Most miners listed in a dry-run answer (counts and effect always cover all). @defaultValue 1000 */
  dryRunListLimit?: number;
}

/** Payload of a batch-control job (the request is stored redacted; passwords live in the job's secrets). */
export interface BatchControlPayload {
  request: ControlRequest;
  miner_ids: string[];
  /** schedules: HASH where each miner's previous state is remembered, for the window's end */
  memo_key?: string;
  /**
   * a repeated change (a curtail retry): a miner's memo already there stays, since by now the
   * miner may show the change an earlier attempt made (its answer lost) as its own state
   */
  memo_keep?: boolean;
  /** schedules: tag for events */
  origin?: string;
}

interface Effect {
  power_w: number | null;
  hashrate_ghs: number | null;
}

type Change = NonNullable<MinerJobResult['changes']>[number];

interface Plan {
  status: 'would_apply' | 'invalid' | 'skipped';
  code?: FleetErrorCode;
  message?: string;
  changes: Change[];
  effect: Effect;
  /** executes the change; returns a short note and what to remember for a later restore */
  apply?: (client: MinerClient) => Promise<{ note?: string; memo?: Record<string, unknown> }>;
}

const SAVE = 'SAVE_ACTION_SAVE_AND_APPLY' as const;
const REF: Record<
  RelativeReference,
  | 'RELATIVE_TARGET_REFERENCE_NOMINAL'
  | 'RELATIVE_TARGET_REFERENCE_CURRENT'
  | 'RELATIVE_TARGET_REFERENCE_MIN'
  | 'RELATIVE_TARGET_REFERENCE_MAX'
> = {
  nominal: 'RELATIVE_TARGET_REFERENCE_NOMINAL',
  current: 'RELATIVE_TARGET_REFERENCE_CURRENT',
  min: 'RELATIVE_TARGET_REFERENCE_MIN',
  max: 'RELATIVE_TARGET_REFERENCE_MAX',
};

function invalid(message: string, changes: Change[] = []): Plan {
  return {
    status: 'invalid',
    code: 'invalid_argument',
    message,
    changes,
    effect: { power_w: 0, hashrate_ghs: 0 },
  };
}

function outside(v: number, r: Range | undefined): boolean {
  return r !== undefined && (v < r.min - 1e-9 || v > r.max + 1e-9);
}

function fmt(n: number, digits = 2): string {
  return String(round(n, digits));
}

/** Live output figures of a miner from its snapshot; null when it is not reporting. */
function liveSample(m: TargetMiner): {
  power_w: number;
  hashrate_ghs: number;
  nominal_ghs: number;
  w_per_ghs: number | null;
  power_target_w: number | null;
  mining: boolean;
} | null {
  const s = m.snapshot?.sample;
  if (!s || m.snapshot?.status === 'offline') return null;
  const mining = (m.snapshot?.status === 'online' || m.snapshot?.status === 'degraded') && isHashing(s);
  // The same current and expected figures as the fleet answers (services/query/miner-figures.ts): a
  // paused miner adds 0 now and its lagging windows are not what resuming brings back.
  const hashrate = currentHashrateGhs(s);
  const nominal = expectedHashrateGhs(s, m.snapshot?.details) ?? 0;
  if (s.power_w === null || s.power_w === undefined) return null;
  return {
    power_w: s.power_w,
    hashrate_ghs: hashrate,
    nominal_ghs: nominal,
    w_per_ghs: s.power_w > 0 && hashrate > 0 ? s.power_w / hashrate : null,
    power_target_w: s.power_target_w,
    mining,
  };
}

function summariseGroups(groups: { name: string; pools: { url: string; user: string }[] }[]): string {
  return (
    groups.map(g => `${g.name}: ${g.pools.map(p => `${p.url} (${p.user})`).join(', ')}`).join('; ') ||
    '(none)'
  );
}

function poolGroupConfig(g: PoolGroupInput): {
  uid?: string;
  name: string;
  quota?: { value: number };
  fixed_share_ratio?: { value: number };
  pools: { url: string; user: string; password?: string; enabled?: boolean }[];
} {
  return {
    ...(g.uid !== undefined ? { uid: g.uid } : {}),
    name: g.name,
    ...(g.quota !== undefined ? { quota: { value: g.quota } } : {}),
    ...(g.fixed_share_ratio !== undefined ? { fixed_share_ratio: { value: g.fixed_share_ratio } } : {}),
    pools: g.pools.map(p => ({
      url: p.url,
      user: p.user,
      ...(p.password !== undefined ? { password: p.password } : {}),
      ...(p.enabled !== undefined ? { enabled: p.enabled } : {}),
    })),
  };
}

export class ControlService {
  private readonly infra: ApiInfra;
  private readonly jobs: JobService;
  private readonly audit: AuditLog;
  readonly resolver: MinerResolver;
  private readonly state: MinerStateReader;
  private readonly opts: Required<ControlServiceOptions>;

  constructor(
    infra: ApiInfra,
    deps: { jobs: JobService; audit: AuditLog; resolver?: MinerResolver },
    options: ControlServiceOptions = {},
  ) {
    this.infra = infra;
    this.jobs = deps.jobs;
    this.audit = deps.audit;
    this.resolver = deps.resolver ?? new MinerResolver(infra);
    this.opts = { constraintsTtlMs: 5 * 60_000, dryRunListLimit: 1_000, ...options };
    this.state = new MinerStateReader(infra, this.opts.constraintsTtlMs);
    this.jobs.register<BatchControlPayload>('batch-control', ctx => this.runBatch(ctx));
  }

  // ---- public entry points (REST routes and MCP tools call these) ----

  /** Run (or dry-run) any control request on one miner or a selector. */
  async execute(
    caller: Caller,
    target: ControlTarget,
    input: unknown,
    opts: ControlOptions = {},
  ): Promise<ControlResponse> {
    if (!hasRole(caller, 'operator'))
      throw new FleetError('forbidden', 'control actions need the operator role');
    const parsed = requestSchemaFor(input).safeParse(input);
    if (!parsed.success) {
      throw new FleetError(
        'invalid_argument',
        `invalid control request: ${parsed.error.issues.map(i => (i.path.length > 0 ? `${i.path.join('.')}: ${i.message}` : i.message)).join('; ')}`,
      );
    }
    const request = parsed.data as ControlRequest;
    let miners: TargetMiner[];
    let notFound: string[] = [];
    if ('id' in target) {
      miners = [await this.resolver.one(caller, target.id)];
    } else {
      const sel = minerSelectorSchema.safeParse(target.selector);
      if (!sel.success)
        throw new FleetError(
          'invalid_argument',
          `invalid selector: ${sel.error.issues.map(i => `selector${i.path.length > 0 ? `.${i.path.join('.')}` : ''}: ${i.message}`).join('; ')}`,
        );
      const resolved = await this.resolver.resolve(caller, sel.data);
      miners = resolved.miners;
      notFound = resolved.not_found;
      // Only unknown (or another tenant's) ids: say so, as a single unknown id does.
      if (miners.length === 0 && notFound.length > 0)
        throw new FleetError('not_found', `no miner of yours matched; unknown ids: ${notFound.join(', ')}`, {
          details: { not_found: notFound },
        });
    }
    if (opts.dryRun) return this.dryRun(request, miners, notFound);
    if (miners.length === 0) {
      return this.response({
        dry_run: false,
        mode: 'inline',
        request,
        miners: [],
        notFound,
        job: null,
        effect: emptyEffect(),
      });
    }
    if (miners.length === 1) {
      const r = await this.inline(caller, request, miners[0]!, notFound);
      const only = r.miners[0];
      // One named miner that refused the request: the request failed, not "200 with a note".
      if ('id' in target && only?.status === 'invalid')
        throw new FleetError('unsupported', `${only.id} refused ${r.description}: ${only.message ?? 'outside its limits'}`, {
          details: {
            miner: only.id,
            status: only.status,
            ...(only.code ? { reason: only.code } : {}),
            ...(only.changes ? { changes: only.changes } : {}),
          },
        });
      return r;
    }
    return this.enqueue(caller, request, miners, notFound);
  }

  /** Convenience wrappers with the same semantics as execute(). */
  action(
    caller: Caller,
    target: ControlTarget,
    action: Extract<ControlRequest, { kind: 'action' }>['action'],
    opts?: ControlOptions,
  ): Promise<ControlResponse> {
    return this.execute(caller, target, { kind: 'action', action }, opts);
  }

  setPowerTarget(
    caller: Caller,
    target: ControlTarget,
    spec: Omit<PowerTargetRequest, 'kind'>,
    opts?: ControlOptions,
  ): Promise<ControlResponse> {
    return this.execute(caller, target, { kind: 'power_target', ...spec }, opts);
  }

  setHashrateTarget(
    caller: Caller,
    target: ControlTarget,
    spec: Omit<HashrateTargetRequest, 'kind'>,
    opts?: ControlOptions,
  ): Promise<ControlResponse> {
    return this.execute(caller, target, { kind: 'hashrate_target', ...spec }, opts);
  }

  setPools(
    caller: Caller,
    target: ControlTarget,
    spec: PoolsRequest,
    opts?: ControlOptions,
  ): Promise<ControlResponse> {
    return this.execute(caller, target, spec, opts);
  }

  setCooling(
    caller: Caller,
    target: ControlTarget,
    spec: CoolingRequest,
    opts?: ControlOptions,
  ): Promise<ControlResponse> {
    return this.execute(caller, target, spec, opts);
  }

  setHashboards(
    caller: Caller,
    target: ControlTarget,
    spec: Omit<HashboardsRequest, 'kind'>,
    opts?: ControlOptions,
  ): Promise<ControlResponse> {
    return this.execute(caller, target, { kind: 'hashboards', ...spec }, opts);
  }

  /**
   * Start a batch job for already-resolved miners (schedules). `memoKey` makes each miner's
   * previous state be remembered there; a later `{ kind: 'restore' }` request undoes it.
   */
  async enqueueBatch(
    caller: Caller,
    request: ControlRequest,
    minerIds: string[],
    extra: { memoKey?: string; memoKeep?: boolean; origin?: string; label?: string } = {},
  ): Promise<JobSummary> {
    const secrets = extractPoolSecrets(request);
    const payload: BatchControlPayload = {
      request: redactRequest(request),
      miner_ids: minerIds,
      ...(extra.memoKey ? { memo_key: extra.memoKey } : {}),
      ...(extra.memoKey && extra.memoKeep ? { memo_keep: true } : {}),
      ...(extra.origin ? { origin: extra.origin } : {}),
    };
    return this.jobs.enqueue(caller, 'batch-control', {
      label: extra.label ?? `${describeRequest(request)} on ${minerIds.length} miner(s)`,
      payload,
      minersTotal: minerIds.length,
      ...(secrets.some(s => s !== undefined) ? { secrets } : {}),
    });
  }

  // ---- modes ----

  private async dryRun(
    request: ControlRequest,
    miners: TargetMiner[],
    notFound: string[],
  ): Promise<ControlResponse> {
    const results: MinerJobResult[] = new Array(miners.length);
    const effects: Effect[] = new Array(miners.length);
    const needsMiner = request.kind !== 'action';
    await forEachLimit(miners, this.infra.config.JOBS_CONCURRENCY, async (m, i) => {
      let plan: Plan;
      try {
        plan = await this.plan(request, m, needsMiner ? this.client(m) : null, null);
      } catch (err) {
        const code = isFleetError(err) ? err.code : 'internal';
        results[i] = {
          id: m.id,
          site: m.site,
          status: 'failed',
          code,
          message: `would fail: ${isFleetError(err) ? err.message : 'internal error'}`,
        };
        effects[i] = { power_w: null, hashrate_ghs: null };
        return;
      }
      results[i] = {
        id: m.id,
        site: m.site,
        status: plan.status,
        ...(plan.code ? { code: plan.code } : {}),
        ...(plan.message ? { message: plan.message } : {}),
        changes: plan.changes,
        data: effectFigures(plan.effect),
      };
      effects[i] = plan.status === 'would_apply' ? plan.effect : { power_w: 0, hashrate_ghs: 0 };
    });
    return this.response({
      dry_run: true,
      mode: 'dry_run',
      request,
      miners: results,
      notFound,
      job: null,
      effect: sumEffects(request, effects),
    });
  }

  private async inline(
    caller: Caller,
    request: ControlRequest,
    miner: TargetMiner,
    notFound: string[],
  ): Promise<ControlResponse> {
    const audit = new AuditBuffer(this.audit, this.infra.log);
    const { result, effect } = await this.runOne(caller, request, miner, { audit });
    await audit.flush();
    return this.response({
      dry_run: false,
      mode: 'inline',
      request,
      miners: [result],
      notFound,
      job: null,
      effect: sumEffects(request, [result.status === 'ok' ? effect : { power_w: 0, hashrate_ghs: 0 }]),
    });
  }

  private async enqueue(
    caller: Caller,
    request: ControlRequest,
    miners: TargetMiner[],
    notFound: string[],
  ): Promise<ControlResponse> {
    const job = await this.enqueueBatch(
      caller,
      request,
      miners.map(m => m.id),
    );
    const effects = miners.map(m => this.snapshotEffect(request, m));
    return this.response({
      dry_run: false,
      mode: 'job',
      request,
      miners: [],
      notFound,
      job,
      effect: sumEffects(request, effects),
      matched: miners.length,
    });
  }

  private response(r: {
    dry_run: boolean;
    mode: ControlResponse['mode'];
    request: ControlRequest;
    miners: MinerJobResult[];
    notFound: string[];
    job: JobSummary | null;
    effect: FleetEffect;
    matched?: number;
  }): ControlResponse {
    const counts: Record<string, number> = {};
    for (const m of r.miners) {
      counts[m.status] = (counts[m.status] ?? 0) + 1;
    }
    const limit = r.dry_run ? this.opts.dryRunListLimit : r.miners.length;
    return {
      dry_run: r.dry_run,
      mode: r.mode,
      status: r.mode === 'job' ? 'queued' : controlStatus(r.miners),
      description: describeRequest(r.request),
      request: redactRequest(r.request),
      matched: r.matched ?? r.miners.length,
      not_found: r.notFound,
      job: r.job,
      miners: r.miners.slice(0, limit),
      miners_truncated: r.miners.length > limit,
      counts,
      effect: r.effect,
    };
  }

  // ---- one miner ----

  private client(m: TargetMiner): MinerClient {
    return this.infra.minerPool.get({ id: m.id, host: m.host, port: m.port, credentials: m.credentials });
  }

  /** The memo a window holds for a miner; null when none, or when the store cannot say (then the new one is written). */
  private async memoOf(memoKey: string, minerId: string): Promise<unknown> {
    return await this.infra.store.schedules.changeOf(memoKey, minerId).catch((err: unknown) => {
      this.infra.log.warn({ miner: minerId, err: (err as Error).message }, 'schedule window: the memo already kept for this miner could not be read; keeping the new one');
      return null;
    });
  }

  /** Plan and, when valid, apply on one miner; audits the outcome. Never throws for miner failures. */
  private async runOne(
    caller: Caller,
    request: ControlRequest,
    miner: TargetMiner,
    opts: { audit: AuditBuffer; jobId?: string; memoKey?: string; memoKeep?: boolean; origin?: string },
  ): Promise<{ result: MinerJobResult; effect: Effect }> {
    const started = Date.now();
    const client = this.client(miner);
    let result: MinerJobResult;
    let effect: Effect = { power_w: null, hashrate_ghs: null };
    try {
      // Knowing the API version turns an RPC the firmware lacks into a clear `unsupported`.
      if (!client.knownApiVersion) await client.probe();
      const plan = await this.plan(request, miner, client, opts.memoKey ?? null);
      effect = plan.effect;
      if (plan.status !== 'would_apply' || !plan.apply) {
        result = {
          id: miner.id,
          site: miner.site,
          status: plan.status === 'skipped' ? 'skipped' : 'invalid',
          changes: plan.changes,
          started_ms: started,
          finished_ms: Date.now(),
          ...(plan.code ? { code: plan.code } : {}),
          ...(plan.message ? { message: plan.message } : {}),
        };
      } else {
        const { note, memo } = await plan.apply(client);
        if (memo && opts.memoKey && !(opts.memoKeep && (await this.memoOf(opts.memoKey, miner.id)))) {
          await this.infra.store.schedules.rememberChange(opts.memoKey, miner.id, memo).catch((err: unknown) =>
            this.infra.log.warn(
              { miner: miner.id, err: (err as Error).message },
              'schedule window: what this miner had before was not recorded; the window end will leave it as it is',
            ),
          );
        }
        result = {
          id: miner.id,
          site: miner.site,
          status: 'ok',
          changes: plan.changes,
          started_ms: started,
          finished_ms: Date.now(),
          ...(note ? { message: note } : {}),
        };
      }
    } catch (err) {
      const code: FleetErrorCode = isFleetError(err) ? err.code : minerFailureReason(err);
      if (!isFleetError(err))
        this.infra.log.error({ miner: miner.id, err }, 'control action failed unexpectedly');
      result = {
        id: miner.id,
        site: miner.site,
        status: 'failed',
        code,
        message: isFleetError(err) ? err.message : 'internal error; see the API logs',
        started_ms: started,
        finished_ms: Date.now(),
      };
    }
    await opts.audit.add(this.event(caller, request, miner, result, opts.jobId, opts.origin));
    return { result, effect };
  }

  private event(
    caller: Caller,
    request: ControlRequest,
    miner: TargetMiner,
    r: MinerJobResult,
    jobId?: string,
    origin?: string,
  ): FleetEvent {
    const what = describeRequest(request);
    const data: Record<string, string | number | boolean> = { request: request.kind };
    if (request.kind === 'action') data.action = request.action;
    if (request.kind === 'restore') {
      data.restore_of = request.of;
      if (request.of === 'pause') data.action = 'resume';
      if (request.of === 'stop') data.action = 'start';
    }
    if (jobId) data.job = jobId;
    if (origin) data.origin = origin;
    for (const c of r.changes ?? []) {
      if (c.new !== null && typeof c.new !== 'object') data[`new_${c.field}`] = c.new;
    }
    return {
      time_ms: r.finished_ms ?? Date.now(),
      tenant: miner.tenant,
      site: miner.site,
      miner: miner.id,
      kind: 'control_action',
      severity: r.status === 'ok' || r.status === 'skipped' ? 'info' : 'warning',
      message:
        r.status === 'ok'
          ? `${what}: done${r.message ? ` (${r.message})` : ''}`
          : `${what}: ${r.status}${r.message ? ` - ${r.message}` : ''}`,
      actor: caller.sub,
      result: r.status === 'ok' ? 'ok' : (r.code ?? r.status),
      data,
    };
  }

  // ---- planning per request kind ----

  private async plan(
    request: ControlRequest,
    miner: TargetMiner,
    client: MinerClient | null,
    memoKey: string | null,
  ): Promise<Plan> {
    switch (request.kind) {
      case 'action':
        return this.planAction(request.action, miner, memoKey);
      case 'power_target':
        return this.planPower(request, miner, client!, memoKey);
      case 'hashrate_target':
        return this.planHashrate(request, miner, client!);
      case 'pools':
        return this.planPools(request, miner, client!);
      case 'cooling':
        return this.planCooling(request, miner, client!);
      case 'hashboards':
        return this.planHashboards(request, miner, client!);
      case 'restore':
        return this.planRestore(request, miner, client!);
    }
  }

  private actionEffect(action: string, m: TargetMiner): Effect {
    const s = liveSample(m);
    if (!s) return { power_w: null, hashrate_ghs: null };
    switch (action) {
      case 'pause':
      case 'stop':
        return s.mining
          ? { power_w: -s.power_w, hashrate_ghs: -s.hashrate_ghs }
          : { power_w: 0, hashrate_ghs: 0 };
      case 'resume':
      case 'start': {
        if (s.mining) return { power_w: 0, hashrate_ghs: 0 };
        const power = s.power_target_w ?? null;
        return {
          power_w: power === null ? null : power - s.power_w,
          hashrate_ghs: s.nominal_ghs > 0 ? s.nominal_ghs - s.hashrate_ghs : null,
        };
      }
      default:
        return { power_w: 0, hashrate_ghs: 0 };
    }
  }

  /**
   * Effect estimated from the snapshot alone (no RPC): what a batch's 202 answer reports before
   * the job has run. Only absolute targets and actions can be estimated without the miner.
   */
  private snapshotEffect(request: ControlRequest, m: TargetMiner): Effect {
    if (request.kind === 'action') return this.actionEffect(request.action, m);
    if (request.kind === 'pools' || request.kind === 'cooling') return { power_w: 0, hashrate_ghs: 0 };
    const s = liveSample(m);
    if (!s) return { power_w: null, hashrate_ghs: null };
    if (!s.mining) return { power_w: 0, hashrate_ghs: 0 };
    if (request.kind === 'power_target' && request.watt !== undefined) {
      const dp = request.watt - s.power_w;
      return { power_w: dp, hashrate_ghs: s.w_per_ghs ? dp / s.w_per_ghs : null };
    }
    if (request.kind === 'hashrate_target' && request.ths !== undefined) {
      const dh = request.ths * 1000 - s.hashrate_ghs;
      return { hashrate_ghs: dh, power_w: s.w_per_ghs ? dh * s.w_per_ghs : null };
    }
    return { power_w: null, hashrate_ghs: null };
  }

  private planAction(
    action: Extract<ControlRequest, { kind: 'action' }>['action'],
    m: TargetMiner,
    memoKey: string | null,
  ): Plan {
    const status = m.snapshot?.sample?.miner_status ?? m.status ?? 'unknown';
    const to: Record<string, string> = {
      pause: 'paused',
      resume: 'normal',
      stop: 'not_started',
      start: 'normal',
      reboot: 'rebooting',
      restart: 'restarting',
      locate_on: 'locate on',
      locate_off: 'locate off',
    };
    const changes: Change[] = action.startsWith('locate')
      ? [{ field: 'locate', current: null, new: action === 'locate_on' }]
      : [{ field: 'mining', current: status, new: to[action] ?? action }];
    return {
      status: 'would_apply',
      changes,
      effect: this.actionEffect(action, m),
      apply: async client => {
        switch (action) {
          case 'pause': {
            const r = await client.unary('ActionsService', 'PauseMining', {});
            return {
              ...(r.already_paused ? { note: 'was already paused' } : {}),
              ...(memoKey ? { memo: { paused_by_us: !r.already_paused } } : {}),
            };
          }
          case 'resume': {
            const r = await client.unary('ActionsService', 'ResumeMining', {});
            return r.already_mining ? { note: 'was already mining' } : {};
          }
          case 'stop': {
            const r = await client.unary('ActionsService', 'Stop', {});
            return {
              ...(r.already_stopped ? { note: 'was already stopped' } : {}),
              ...(memoKey ? { memo: { stopped_by_us: !r.already_stopped } } : {}),
            };
          }
          case 'start': {
            const r = await client.unary('ActionsService', 'Start', {});
            return r.already_running ? { note: 'was already running' } : {};
          }
          case 'restart': {
            const r = await client.unary('ActionsService', 'Restart', {});
            return r.already_running ? { note: 'mining daemon restarted' } : {};
          }
          case 'reboot':
            await client.unary('ActionsService', 'Reboot', {});
            return { note: 'rebooting; it is unreachable for a few minutes' };
          case 'locate_on':
          case 'locate_off':
            await client.unary('ActionsService', 'SetLocateDeviceStatus', { enable: action === 'locate_on' });
            return {};
        }
      },
    };
  }

  private async constraintsAndConfig(
    miner: TargetMiner,
    client: MinerClient,
  ): Promise<{ c: MinerConstraints; cfg: MinerConfigView }> {
    const [c, cfg] = await Promise.all([this.state.constraints(miner.id, client), this.state.config(client)]);
    return { c, cfg };
  }

  private async planPower(
    r: PowerTargetRequest,
    m: TargetMiner,
    client: MinerClient,
    memoKey: string | null,
  ): Promise<Plan> {
    const { c, cfg } = await this.constraintsAndConfig(m, client);
    const current = cfg.power_target_w ?? m.snapshot?.sample?.power_target_w ?? null;
    const range = c.power_target_w;
    let target: number | null;
    if (r.watt !== undefined) target = r.watt;
    else if (r.delta_w !== undefined) target = current === null ? null : current + r.delta_w;
    else {
      const ref =
        r.reference === 'current'
          ? current
          : r.reference === 'nominal'
            ? (range?.default ?? null)
            : r.reference === 'min'
              ? (range?.min ?? null)
              : (range?.max ?? null);
      target = ref === null ? null : Math.round((ref * r.percent!) / 100);
    }
    const changes: Change[] = [{ field: 'power_target_w', current, new: target }];
    if (cfg.tuner_mode === 'hashrate')
      changes.push({ field: 'tuner_mode', current: 'hashrate', new: 'power' });
    if (target === null) {
      return invalid(
        `cannot compute the new power target: this miner does not report its ${r.delta_w !== undefined || r.reference === 'current' ? 'current target' : `${r.reference} power target`}`,
        changes,
      );
    }
    if (outside(target, range)) {
      return invalid(
        `power target ${target} W is outside this miner's range ${range!.min}-${range!.max} W`,
        changes,
      );
    }
    const s = liveSample(m);
    const effect: Effect =
      s && s.mining
        ? {
            power_w: target - s.power_w,
            hashrate_ghs: s.w_per_ghs ? (target - s.power_w) / s.w_per_ghs : null,
          }
        : { power_w: s ? 0 : null, hashrate_ghs: s ? 0 : null };
    return {
      status: 'would_apply',
      changes,
      effect,
      apply: async client => {
        const absolute = async (): Promise<{ power_target?: { watt?: number } | null }> =>
          await client.unary('PerformanceService', 'SetPowerTarget', {
            save_action: SAVE,
            power_target: { watt: target },
          });
        let res: { power_target?: { watt?: number } | null };
        let fellBack: string | null = null;
        if (r.watt !== undefined) res = await absolute();
        else {
          const relative =
            r.delta_w !== undefined && r.delta_w > 0
              ? 'IncrementPowerTarget'
              : r.delta_w !== undefined
                ? 'DecrementPowerTarget'
                : 'SetRelativePowerTarget';
          res = await withFallback<{ power_target?: { watt?: number } | null }>(
            async () =>
              relative === 'IncrementPowerTarget'
                ? await client.unary('PerformanceService', relative, {
                    save_action: SAVE,
                    power_target_increment: { watt: r.delta_w! },
                  })
                : relative === 'DecrementPowerTarget'
                  ? await client.unary('PerformanceService', relative, {
                      save_action: SAVE,
                      power_target_decrement: { watt: -r.delta_w! },
                    })
                  : await client.unary('PerformanceService', relative, {
                      save_action: SAVE,
                      percentage: r.percent!,
                      reference: REF[r.reference!],
                    }),
            absolute,
            () => (fellBack = `the miner does not implement ${relative}; set ${target} W with SetPowerTarget`),
          );
        }
        const applied = res.power_target?.watt;
        const notes = [
          ...(fellBack ? [fellBack] : []),
          ...(applied !== undefined && applied !== target ? [`miner set ${applied} W`] : []),
        ];
        return {
          ...(notes.length > 0 ? { note: notes.join('; ') } : {}),
          ...(memoKey && current !== null ? { memo: { power_target_w: current } } : {}),
        };
      },
    };
  }

  private async planHashrate(r: HashrateTargetRequest, m: TargetMiner, client: MinerClient): Promise<Plan> {
    const { c, cfg } = await this.constraintsAndConfig(m, client);
    const current = cfg.hashrate_target_ths;
    const range = c.hashrate_target_ths;
    let target: number | null;
    if (r.ths !== undefined) target = r.ths;
    else if (r.delta_ths !== undefined) target = current === null ? null : current + r.delta_ths;
    else {
      const ref =
        r.reference === 'current'
          ? current
          : r.reference === 'nominal'
            ? (range?.default ?? null)
            : r.reference === 'min'
              ? (range?.min ?? null)
              : (range?.max ?? null);
      target = ref === null ? null : round((ref * r.percent!) / 100, 3);
    }
    const changes: Change[] = [{ field: 'hashrate_target_ths', current, new: target }];
    if (cfg.tuner_mode === 'power') changes.push({ field: 'tuner_mode', current: 'power', new: 'hashrate' });
    if (target === null)
      return invalid(
        'cannot compute the new hashrate target: this miner does not report the reference value',
        changes,
      );
    if (outside(target, range))
      return invalid(
        `hashrate target ${fmt(target)} TH/s is outside this miner's range ${fmt(range!.min)}-${fmt(range!.max)} TH/s`,
        changes,
      );
    const s = liveSample(m);
    const dGhs = s && s.mining ? target * 1000 - s.hashrate_ghs : null;
    const effect: Effect =
      s && s.mining
        ? { hashrate_ghs: dGhs, power_w: s.w_per_ghs && dGhs !== null ? dGhs * s.w_per_ghs : null }
        : { power_w: s ? 0 : null, hashrate_ghs: s ? 0 : null };
    return {
      status: 'would_apply',
      changes,
      effect,
      apply: async client => {
        const absolute = async (): Promise<unknown> =>
          await client.unary('PerformanceService', 'SetHashrateTarget', {
            save_action: SAVE,
            hashrate_target: { terahash_per_second: target },
          });
        if (r.ths !== undefined) {
          await absolute();
          return {};
        }
        const relative =
          r.delta_ths !== undefined && r.delta_ths > 0
            ? 'IncrementHashrateTarget'
            : r.delta_ths !== undefined
              ? 'DecrementHashrateTarget'
              : 'SetRelativeHashrateTarget';
        let note: string | null = null;
        await withFallback(
          async () =>
            relative === 'IncrementHashrateTarget'
              ? await client.unary('PerformanceService', relative, {
                  save_action: SAVE,
                  hashrate_target_increment: { terahash_per_second: r.delta_ths! },
                })
              : relative === 'DecrementHashrateTarget'
                ? await client.unary('PerformanceService', relative, {
                    save_action: SAVE,
                    hashrate_target_decrement: { terahash_per_second: -r.delta_ths! },
                  })
                : await client.unary('PerformanceService', relative, {
                    save_action: SAVE,
                    percentage: r.percent!,
                    reference: REF[r.reference!],
                  }),
          absolute,
          () => (note = `the miner does not implement ${relative}; set ${fmt(target)} TH/s with SetHashrateTarget`),
        );
        return note ? { note } : {};
      },
    };
  }

  private async planPools(r: PoolsRequest, m: TargetMiner, client: MinerClient): Promise<Plan> {
    const cfg = await this.state.config(client);
    const current = summariseGroups(cfg.pool_groups);
    const zero: Effect = { power_w: 0, hashrate_ghs: 0 };
    if (r.op === 'replace') {
      return {
        status: 'would_apply',
        changes: [{ field: 'pool_groups', current, new: summariseGroups(r.groups) }],
        effect: zero,
        apply: async client => {
          await client.unary('PoolService', 'SetPoolGroups', {
            save_action: SAVE,
            pool_groups: r.groups.map(poolGroupConfig),
          });
          return { note: 'pools replaced; the mining daemon restarts to apply them' };
        },
      };
    }
    if (r.op === 'create') {
      if (cfg.pool_groups.some(g => g.name === r.group.name))
        return invalid(
          `this miner already has a pool group named '${r.group.name}'; update it by uid instead`,
          [{ field: 'pool_groups', current, new: null }],
        );
      return {
        status: 'would_apply',
        changes: [{ field: 'pool_groups', current, new: `${current}; + ${summariseGroups([r.group])}` }],
        effect: zero,
        apply: async client => {
          const res = await client.unary('PoolService', 'CreatePoolGroup', {
            save_action: SAVE,
            group: poolGroupConfig(r.group),
          });
          return res.group?.uid ? { note: `created group uid ${res.group.uid}` } : {};
        },
      };
    }
    const uid = r.op === 'update' ? r.group.uid! : r.uid;
    const existing = cfg.pool_groups.find(g => g.uid === uid);
    if (!existing) {
      return invalid(
        `this miner has no pool group with uid '${uid}' (its groups: ${cfg.pool_groups.map(g => `${g.name}=${g.uid ?? '?'}`).join(', ') || 'none'})`,
        [{ field: 'pool_groups', current, new: null }],
      );
    }
    if (r.op === 'update') {
      return {
        status: 'would_apply',
        changes: [
          {
            field: `pool_group ${existing.name}`,
            current: summariseGroups([existing]),
            new: summariseGroups([r.group]),
          },
        ],
        effect: zero,
        apply: async client => {
          await client.unary('PoolService', 'UpdatePoolGroup', {
            save_action: SAVE,
            group: poolGroupConfig(r.group),
          });
          return {};
        },
      };
    }
    if (cfg.pool_groups.length <= 1)
      return invalid('refusing to remove the only pool group: the miner would have nowhere to mine', [
        { field: 'pool_groups', current, new: null },
      ]);
    return {
      status: 'would_apply',
      changes: [{ field: `pool_group ${existing.name}`, current: summariseGroups([existing]), new: null }],
      effect: zero,
      apply: async client => {
        await client.unary('PoolService', 'RemovePoolGroup', { save_action: SAVE, uid });
        return {};
      },
    };
  }

  private async planCooling(r: CoolingRequest, m: TargetMiner, client: MinerClient): Promise<Plan> {
    const { c, cfg } = await this.constraintsAndConfig(m, client);
    const k = c.cooling;
    const checks: [string, number | undefined, Range | undefined, string][] = [];
    const temp = (name: string, v: number | undefined, rg: Range | undefined): void =>
      void checks.push([name, v, rg, '°C']);
    if (r.mode === 'auto') {
      temp('target_c', r.target_c, k.target_c);
      temp('hot_c', r.hot_c, k.hot_c);
      temp('dangerous_c', r.dangerous_c, k.dangerous_c);
      checks.push(
        ['min_fan_speed_pct', r.min_fan_speed_pct, k.min_fan_speed_pct, '%'],
        ['max_fan_speed_pct', r.max_fan_speed_pct, k.max_fan_speed_pct, '%'],
      );
      checks.push(['minimum_required_fans', r.minimum_required_fans, k.minimum_required_fans, '']);
    } else if (r.mode === 'manual') {
      checks.push(['fan_speed_ratio', r.fan_speed_ratio, k.fan_speed_ratio, '']);
      temp('hot_c', r.hot_c, k.hot_c);
      temp('dangerous_c', r.dangerous_c, k.dangerous_c);
      checks.push(['minimum_required_fans', r.minimum_required_fans, k.minimum_required_fans, '']);
    } else {
      temp('target_c', r.target_c, k.target_c);
      temp('hot_c', r.hot_c, k.hot_c);
      temp('dangerous_c', r.dangerous_c, k.dangerous_c);
    }
    const changes: Change[] = [{ field: 'cooling_mode', current: cfg.cooling_mode, new: r.mode }];
    for (const [name, v] of checks) if (v !== undefined) changes.push({ field: name, current: null, new: v });
    for (const [name, v, rg, unit] of checks) {
      if (v !== undefined && outside(v, rg))
        return invalid(
          `${name} ${v}${unit} is outside this miner's range ${rg!.min}-${rg!.max}${unit}`,
          changes,
        );
    }
    const t = (v: number | undefined): { degree_c: number } | undefined =>
      v === undefined ? undefined : { degree_c: v };
    return {
      status: 'would_apply',
      changes,
      effect: { power_w: 0, hashrate_ghs: 0 },
      apply: async client => {
        if (r.mode === 'auto') {
          await client.unary('CoolingService', 'SetCoolingMode', {
            save_action: SAVE,
            auto: {
              target_temperature: t(r.target_c)!,
              hot_temperature: t(r.hot_c)!,
              dangerous_temperature: t(r.dangerous_c)!,
              ...(r.min_fan_speed_pct !== undefined ? { min_fan_speed: r.min_fan_speed_pct } : {}),
              ...(r.max_fan_speed_pct !== undefined ? { max_fan_speed: r.max_fan_speed_pct } : {}),
              ...(r.minimum_required_fans !== undefined
                ? { minimum_required_fans: r.minimum_required_fans }
                : {}),
            },
          });
        } else if (r.mode === 'manual') {
          await client.unary('CoolingService', 'SetCoolingMode', {
            save_action: SAVE,
            manual: {
              fan_speed_ratio: r.fan_speed_ratio,
              ...(r.hot_c !== undefined ? { hot_temperature: t(r.hot_c) } : {}),
              ...(r.dangerous_c !== undefined ? { dangerous_temperature: t(r.dangerous_c) } : {}),
              ...(r.minimum_required_fans !== undefined
                ? { minimum_required_fans: r.minimum_required_fans }
                : {}),
            },
          });
        } else {
          await client.unary('CoolingService', 'SetCoolingMode', {
            save_action: SAVE,
            immersion: {
              ...(r.target_c !== undefined ? { target_temperature: t(r.target_c) } : {}),
              ...(r.hot_c !== undefined ? { hot_temperature: t(r.hot_c) } : {}),
              ...(r.dangerous_c !== undefined ? { dangerous_temperature: t(r.dangerous_c) } : {}),
            },
          });
        }
        return {};
      },
    };
  }

  private async planHashboards(r: HashboardsRequest, m: TargetMiner, client: MinerClient): Promise<Plan> {
    const { c, cfg } = await this.constraintsAndConfig(m, client);
    const known = c.hashboard_ids.length > 0 ? c.hashboard_ids : cfg.hashboards.map(h => h.id);
    const unknown = r.hashboard_ids.filter(id => !known.includes(id));
    const enabledNow = new Map(cfg.hashboards.map(h => [h.id, h.enabled]));
    const changes: Change[] = r.hashboard_ids.map(id => ({
      field: `hashboard ${id} enabled`,
      current: enabledNow.get(id) ?? null,
      new: r.enable,
    }));
    if (unknown.length > 0)
      return invalid(
        `this miner has no hashboard ${unknown.join(', ')} (its hashboards: ${known.join(', ') || 'none reported'})`,
        changes,
      );
    if (!r.enable && cfg.hashboards.length > 0) {
      // The firmware refuses to disable its last enabled board; say so before asking it.
      const left = cfg.hashboards.filter(b => b.enabled && !r.hashboard_ids.includes(b.id));
      if (left.length === 0)
        return invalid(
          `at least one hashboard must stay enabled; this would disable every enabled board (${cfg.hashboards
            .filter(b => b.enabled)
            .map(b => b.id)
            .join(', ')})`,
          changes,
        );
    }
    const s = liveSample(m);
    let effect: Effect = { power_w: null, hashrate_ghs: null };
    const boards = m.snapshot?.sample?.hashboards ?? [];
    if (s) {
      let dGhs = 0;
      for (const id of r.hashboard_ids) {
        const b = boards.find(x => x.board === id);
        if (!b) continue;
        if (r.enable && !b.enabled) dGhs += b.hashrate_nominal_ghs;
        if (!r.enable && b.enabled) dGhs -= b.hashrate_ghs;
      }
      effect = { hashrate_ghs: dGhs, power_w: s.w_per_ghs ? dGhs * s.w_per_ghs : dGhs === 0 ? 0 : null };
    }
    return {
      status: 'would_apply',
      changes,
      effect,
      apply: async client => {
        if (r.enable)
          await client.unary('MinerService', 'EnableHashboards', {
            save_action: SAVE,
            hashboard_ids: r.hashboard_ids,
          });
        else
          await client.unary('MinerService', 'DisableHashboards', {
            save_action: SAVE,
            hashboard_ids: r.hashboard_ids,
          });
        return {};
      },
    };
  }

  private async planRestore(
    r: Extract<ControlRequest, { kind: 'restore' }>,
    m: TargetMiner,
    client: MinerClient,
  ): Promise<Plan> {
    const memo = (await this.infra.store.schedules.changeOf(r.memo_key, m.id).catch((err: unknown) => {
      this.infra.log.warn({ miner: m.id, err: (err as Error).message }, 'schedule window: what this miner had before could not be read');
      return null;
    })) as { power_target_w?: number; paused_by_us?: boolean; stopped_by_us?: boolean } | null;
    const skipped = (message: string): Plan => ({
      status: 'skipped',
      message,
      changes: [],
      effect: { power_w: 0, hashrate_ghs: 0 },
    });
    if (r.of === 'pause') {
      if (!memo?.paused_by_us) return skipped('not paused by this window; left as it is');
      const plan = this.planAction('resume', m, null);
      return plan;
    }
    if (r.of === 'stop') {
      if (!memo?.stopped_by_us) return skipped('not stopped by this window; left as it is');
      return this.planAction('start', m, null);
    }
    if (memo?.power_target_w === undefined)
      return skipped('no previous power target remembered; left as it is');
    return this.planPower({ kind: 'power_target', watt: memo.power_target_w }, m, client, null);
  }

  // ---- the batch-control job ----

  private async runBatch(ctx: JobContext<BatchControlPayload>): Promise<JobOutcome> {
    const { payload, caller } = ctx;
    let request = payload.request;
    const secrets = await ctx.secrets<(string | undefined)[]>();
    if (secrets) request = restorePoolSecrets(request, secrets);
    const previous = await ctx.results();
    const ids = payload.miner_ids;
    const counts = { ok: 0, failed: 0, invalid: 0, skipped: 0, cancelled: 0 };
    const final = new Set(['ok', 'failed', 'invalid', 'skipped', 'cancelled']);
    const todo: string[] = [];
    for (const id of ids) {
      const p = previous.get(id);
      if (p && final.has(p.status)) {
        counts[p.status as keyof typeof counts]++;
        continue;
      }
      if (p?.status === 'running' && !isIdempotent(request)) {
        // In flight when the previous worker stopped: do not repeat a reboot/restart blindly.
        const r: MinerJobResult = {
          ...p,
          status: 'failed',
          code: 'conflict',
          message:
            'interrupted by an API restart while in flight; not repeated because it is not idempotent; check the miner',
          finished_ms: Date.now(),
        };
        await ctx.setResult(r);
        counts.failed++;
        continue;
      }
      todo.push(id);
    }
    const located = await this.resolver.locate(caller.tenant, todo, true);
    const audit = new AuditBuffer(this.audit, this.infra.log);
    const progress = async (force = false): Promise<void> => {
      const done = counts.ok + counts.failed + counts.invalid + counts.skipped + counts.cancelled;
      await ctx.progress({ total: ids.length, done, ...counts }, { force });
    };
    await progress(true);
    let interrupted: unknown = null;
    try {
      await forEachLimit(
        todo,
        this.infra.config.JOBS_CONCURRENCY,
        async id => {
          const miner = located.get(id);
          let result: MinerJobResult;
          if (!miner) {
            result = {
              id,
              site: '',
              status: 'failed',
              code: 'not_found',
              message: 'no longer in your inventory',
              finished_ms: Date.now(),
            };
          } else {
            await ctx.setResult({ id, site: miner.site, status: 'running', started_ms: Date.now() });
            result = (
              await this.runOne(caller, request, miner, {
                audit,
                jobId: ctx.id,
                ...(payload.memo_key ? { memoKey: payload.memo_key } : {}),
                ...(payload.memo_keep ? { memoKeep: true } : {}),
                ...(payload.origin ? { origin: payload.origin } : {}),
              })
            ).result;
          }
          await ctx.setResult(result);
          counts[result.status as keyof typeof counts]++;
          await ctx.step(
            {
              kind: 'miner',
              miner: id,
              site: result.site,
              status: result.status,
              message: result.message ?? result.status,
              ...(result.code ? { code: result.code } : {}),
            },
            { audit: false },
          );
          await progress();
        },
        () => ctx.checkpoint(),
      );
    } catch (err) {
      interrupted = err;
      if (!(err instanceof JobCancelledError) && !(err instanceof JobShutdownError)) {
        await audit.flush();
        throw err;
      }
      if (err instanceof JobCancelledError) {
        const left = notStartedOf(err).map(i => todo[i]!);
        for (const id of left) {
          const site = located.get(id)?.site ?? '';
          await ctx.setResult({
            id,
            site,
            status: 'cancelled',
            message: 'not started: the job was cancelled',
            finished_ms: Date.now(),
          });
          counts.cancelled++;
        }
      }
    }
    await audit.flush();
    if (interrupted instanceof JobShutdownError) throw interrupted;
    await progress(true);
    const summary = { total: ids.length, ...counts };
    if (interrupted instanceof JobCancelledError) {
      return {
        outcome: 'cancelled',
        message: `cancelled: ${counts.ok} done, ${counts.cancelled} not started`,
        summary,
      };
    }
    const bad = counts.failed + counts.invalid;
    if (bad === 0)
      return {
        outcome: 'succeeded',
        message: `${counts.ok} miner(s) done${counts.skipped ? `, ${counts.skipped} skipped` : ''}`,
        summary,
      };
    if (counts.ok > 0 || counts.skipped > 0)
      return {
        outcome: 'partially_failed',
        message: `${counts.ok} done, ${counts.failed} failed, ${counts.invalid} rejected by their constraints`,
        summary,
      };
    return {
      outcome: 'failed',
      message: `no miner done: ${counts.failed} failed, ${counts.invalid} rejected by their constraints`,
      summary,
    };
  }

  /** Records a single event (used by schedules for window start/end notes). */
  async note(caller: Caller, event: Omit<FleetEvent, 'actor' | 'tenant'>): Promise<void> {
    await recordSafely(this.audit, this.infra.log, [{ ...event, tenant: caller.tenant, actor: caller.sub }]);
  }
}

/**
 * Run a relative call; when the miner does not implement it (`unsupported`: UNIMPLEMENTED, or an
 * API version without it), run the equivalent absolute call with the value already computed.
 */
async function withFallback<T>(relative: () => Promise<T>, absolute: () => Promise<T>, onFallback: () => void): Promise<T> {
  try {
    return await relative();
  } catch (err) {
    if (!isFleetError(err) || err.code !== 'unsupported') throw err;
    onFallback();
    return await absolute();
  }
}

/** Whether anything ran (or would), from the per-miner outcomes. */
function controlStatus(miners: MinerJobResult[]): ControlStatus {
  const ran = miners.filter(m => m.status === 'ok' || m.status === 'would_apply' || m.status === 'skipped').length;
  if (miners.length > 0 && ran === miners.length) return 'ok';
  if (ran > 0) return 'partial';
  if (miners.length > 0 && miners.every(m => m.status === 'invalid')) return 'refused';
  return 'none_ran';
}

/**
 * The one place effects get their units and precision: kW and TH/s to 3 decimals (W and GH/s),
 * per miner and in totals, so the totals are the sums of what the miners show.
 */
const kwOf = (w: number): number => round(w / 1000, 3);
const thsOf = (ghs: number): number => round(ghs / 1000, 3);

function effectFigures(e: Effect): { effect_power_kw: number | null; effect_hashrate_ths: number | null } {
  return {
    effect_power_kw: e.power_w === null ? null : kwOf(e.power_w),
    effect_hashrate_ths: e.hashrate_ghs === null ? null : thsOf(e.hashrate_ghs),
  };
}

function emptyEffect(): FleetEffect {
  return { power_kw: 0, hashrate_ths: 0, miners_estimated: 0, miners_unknown: 0, note: 'no miner matched' };
}

function sumEffects(request: ControlRequest, effects: Effect[]): FleetEffect {
  let p = 0;
  let h = 0;
  let known = 0;
  let unknown = 0;
  for (const e of effects) {
    if (!e || e.power_w === null || e.hashrate_ghs === null) {
      unknown++;
      if (e?.power_w != null) p += kwOf(e.power_w);
      if (e?.hashrate_ghs != null) h += thsOf(e.hashrate_ghs);
      continue;
    }
    known++;
    p += kwOf(e.power_w);
    h += thsOf(e.hashrate_ghs);
  }
  let note = 'estimate from the latest snapshots; positive = more';
  if (request.kind === 'power_target')
    note =
      "new target minus current power per mining miner; hashrate scaled by each miner's current efficiency";
  else if (request.kind === 'hashrate_target')
    note =
      "new target minus current hashrate per mining miner; power scaled by each miner's current efficiency";
  else if (request.kind === 'action')
    note =
      'pause/stop remove current output; resume/start add nominal hashrate and the power target; reboot/restart/locate have no lasting effect';
  else if (request.kind === 'pools')
    note = 'no direct effect on output; the mining daemon restarts briefly to apply the new pools';
  else if (request.kind === 'cooling')
    note =
      'no direct effect on output estimated; cooling settings change fan speed and the temperatures at which the miner throttles or stops';
  else if (request.kind === 'hashboards')
    note =
      "disabling hashboards removes their current hashrate, enabling adds their nominal hashrate; power scaled by each miner's current efficiency";
  return {
    power_kw: round(p, 3),
    hashrate_ths: round(h, 3),
    miners_estimated: known,
    miners_unknown: unknown,
    note,
  };
}
