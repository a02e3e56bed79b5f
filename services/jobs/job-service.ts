import { randomUUID } from 'node:crypto';
import { FleetError, isFleetError } from '../../core/errors.ts';
import type { FleetEvent } from '../../core/samples.ts';
import type { SecretBox } from '../../collector/secret-box.ts';
import { secretBoxFor } from './secret-key.ts';
import { recordSafely, type AuditLog } from '../control/audit.ts';
import type { ApiInfra, Caller } from '../context.ts';
import { JobHandBackError, PermanentJobError, type JobEvent, type JobRun, type JobsPort, type StoredJob } from '../../store/ports/jobs.ts';
import {
  FINAL_STATUSES,
  type JobData,
  type JobDetail,
  type JobListQuery,
  type JobOutcome,
  type JobProgress,
  type JobStatus,
  type JobStep,
  type JobSummary,
  type JobType,
  type MinerJobResult,
  type StepInput,
} from './types.ts';

/**
 * Durable jobs over the store's jobs port (store/ports/jobs.ts: BullMQ on the farm backend,
 * SQLite on the embedded one). The service owns the handlers, what they see (JobContext), the
 * caller-facing status, the audit trail and the sealing of secrets; the port stores and schedules.
 *
 * Per job the port keeps per-miner results (written as each miner finishes, so a job resumed
 * after a restart skips finished miners and a rollout re-checks in-flight ones), the step history
 * behind GET /jobs/:id/events, a pause | cancel command any replica may set and the process
 * running the job polls, and the secrets a job needs (pool passwords), always AES-GCM sealed
 * (with BOSFLEET_SECRET_KEY, or the key in BOSFLEET_SECRET_KEY_FILE), never returned, dropped
 * when the job ends. `plain:` values written by older versions are still read.
 *
 * Restart: a worker runs in every API process. On close() the running jobs are handed back to
 * the queue at once, so the next worker picks them up with no delay; if the process dies
 * instead, the port recovers the job (farm: lock expiry and BullMQ's stalled check; embedded: at
 * the next start), up to `maxStalledCount` times. Handlers are written to be re-entered: they
 * read their per-miner results first.
 *
 * Failures: a handler's FleetError that cannot get better by retrying (invalid_argument,
 * not_found, forbidden, precondition_failed, conflict) fails the job at once; other errors are
 * retried (`attempts`, exponential backoff), and the retry resumes from the stored results.
 */

export interface JobServiceOptions {
  /** Jobs this process works on at once. @defaultValue 4 */
  workerConcurrency?: number;
  /** Start a worker in this process (false: enqueue and query only). @defaultValue true */
  runWorker?: boolean;
  /** BullMQ lock duration in milliseconds; a dead process's jobs are recovered after about this. @defaultValue 30000 */
  lockDurationMs?: number;
  /** How often the stalled-job check runs, in milliseconds. @defaultValue 15000 */
  stalledIntervalMs?: number;
  /** How many times a job may be recovered from a dead process before it fails. @defaultValue 5 */
  maxStalledCount?: number;
  /** Attempts of a job whose handler throws a transient error. @defaultValue 3 */
  attempts?: number;
  /** Delay before the first retry, in milliseconds; doubles with each attempt. @defaultValue 5000 */
  retryBackoffMs?: number;
  /** How long finished jobs, their results and steps are kept, in milliseconds. @defaultValue 30 days */
  retentionMs?: number;
  /** Most steps kept per job. @defaultValue 20000 */
  maxStepsPerJob?: number;
  /** How often a running job checks for pause/cancel commands, in milliseconds. @defaultValue 500 */
  commandPollMs?: number;
  /** Progress is written at most this often, in milliseconds. @defaultValue 500 */
  progressIntervalMs?: number;
}

/** Thrown by checkpoint() when the job was cancelled. */
export class JobCancelledError extends Error {
  constructor(message = 'job cancelled') {
    super(message);
    this.name = 'JobCancelledError';
  }
}

/** Reason of the context's signal when this process shuts down (the job continues elsewhere). */
export class JobShutdownError extends Error {
  constructor() {
    super('API process shutting down; the job continues in the next worker');
    this.name = 'JobShutdownError';
  }
}

/** What a handler gets to run one job. */
export interface JobContext<P> {
  readonly id: string;
  readonly type: JobType;
  readonly caller: Caller;
  readonly payload: P;
  readonly label: string;
  /** Aborted on cancel (reason JobCancelledError) or process shutdown (reason JobShutdownError). */
  readonly signal: AbortSignal;
  /** true when this run continues an earlier one (retry, restart) */
  readonly resumed: boolean;
  secrets<T>(): Promise<T | null>;
  step(step: StepInput, opts?: { audit?: boolean }): Promise<void>;
  progress(p: JobProgress, opts?: { force?: boolean }): Promise<void>;
  /** Waits while the job is paused; throws when it was cancelled or the process shuts down. */
  checkpoint(): Promise<void>;
  results(): Promise<Map<string, MinerJobResult>>;
  setResult(r: MinerJobResult): Promise<void>;
  updatePayload(p: P): Promise<void>;
}

export type JobHandler<P> = (ctx: JobContext<P>) => Promise<JobOutcome>;

interface Running {
  ac: AbortController;
}

/** Most jobs a filtered listing examines. */
const LIST_SCAN_MAX = 2_000;

const PERMANENT_CODES = new Set([
  'invalid_argument',
  'not_found',
  'forbidden',
  'precondition_failed',
  'conflict',
]);

const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise(resolve => {
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });

export class JobService {
  private readonly infra: ApiInfra;
  private readonly store: JobsPort;
  private readonly audit: AuditLog;
  private readonly opts: Required<JobServiceOptions>;
  private readonly handlers = new Map<JobType, JobHandler<unknown>>();
  private readonly running = new Map<string, Running>();
  private box: SecretBox | null = null;
  private closing = false;
  private forced = false;

  constructor(infra: ApiInfra, audit: AuditLog, options: JobServiceOptions = {}) {
    this.infra = infra;
    this.store = infra.store.jobs;
    this.audit = audit;
    this.opts = {
      workerConcurrency: 4,
      runWorker: true,
      lockDurationMs: 30_000,
      stalledIntervalMs: 15_000,
      maxStalledCount: 5,
      attempts: 3,
      retryBackoffMs: 5_000,
      retentionMs: 30 * 24 * 3_600_000,
      maxStepsPerJob: 20_000,
      commandPollMs: 500,
      progressIntervalMs: 500,
      ...options,
    };
    for (const k of [
      'workerConcurrency',
      'lockDurationMs',
      'stalledIntervalMs',
      'attempts',
      'retryBackoffMs',
      'retentionMs',
      'maxStepsPerJob',
      'commandPollMs',
    ] as const) {
      if (!(this.opts[k] > 0))
        throw new FleetError('invalid_argument', `JobService option ${k} must be greater than 0`);
    }
  }

  /** Register the handler of a job type (before start()). */
  register<P>(type: JobType, handler: JobHandler<P>): void {
    this.handlers.set(type, handler as JobHandler<unknown>);
  }

  /** Start this process's worker (unless runWorker is false); resumes waiting and interrupted jobs. */
  async start(): Promise<void> {
    if (!this.opts.runWorker || this.store.isWorkerRunning) return;
    this.closing = false;
    this.forced = false;
    await this.store.startWorker(
      {
        concurrency: this.opts.workerConcurrency,
        lockDurationMs: this.opts.lockDurationMs,
        stalledIntervalMs: this.opts.stalledIntervalMs,
        maxStalledCount: this.opts.maxStalledCount,
      },
      run => this.process(run),
    );
  }

  /**
   * Stop this process's worker. Default: running jobs stop at their next checkpoint and go
   * back to the queue for the next worker. `force: true` leaves them to the port's recovery
   * instead (as if the process had died) -- used by tests and last-resort shutdowns.
   */
  async close(opts: { force?: boolean } = {}): Promise<void> {
    this.closing = true;
    this.forced = opts.force === true;
    if (this.forced) {
      await this.store.stopWorker({ force: true });
      for (const r of this.running.values()) r.ac.abort(new JobShutdownError());
    } else {
      for (const r of this.running.values()) r.ac.abort(new JobShutdownError());
      await this.store.stopWorker({ force: false });
    }
  }

  /** Progress and steps of the jobs this process runs, as they happen; returns the unsubscribe function. */
  subscribe(caller: Caller, listener: (e: JobEvent) => void): () => void {
    return this.store.subscribe(e => {
      if (e.tenant === caller.tenant) listener(e);
    });
  }

  /**
   * Add a job. `secrets` (e.g. pool passwords) are stored apart from the job's data, sealed,
   * and dropped when the job ends.
   */
  async enqueue<P>(
    caller: Caller,
    type: JobType,
    input: { label: string; payload: P; minersTotal: number; secrets?: unknown },
  ): Promise<JobSummary> {
    if (!this.handlers.has(type))
      throw new FleetError('internal', `no handler registered for job type ${type}`);
    const id = randomUUID();
    const now = Date.now();
    const hasSecrets = input.secrets !== undefined;
    const sealedSecrets = hasSecrets
      ? `sealed:${this.sealedBox().seal(JSON.stringify(input.secrets), `job:${id}`)}`
      : undefined;
    const data: JobData<P> = {
      v: 1,
      type,
      caller: { sub: caller.sub, tenant: caller.tenant, roles: caller.roles },
      label: input.label,
      created_ms: now,
      miners_total: input.minersTotal,
      payload: input.payload,
      has_secrets: hasSecrets,
    };
    await this.store.enqueue(id, data as JobData, {
      attempts: this.opts.attempts,
      backoffMs: this.opts.retryBackoffMs,
      retentionMs: this.opts.retentionMs,
      ...(sealedSecrets !== undefined ? { sealedSecrets } : {}),
    });
    await this.appendStep(
      id,
      data,
      { kind: 'job', status: 'queued', message: `queued: ${input.label}` },
      true,
    );
    return {
      id,
      type,
      status: 'queued',
      label: input.label,
      created_by: caller.sub,
      created_ms: now,
      started_ms: null,
      finished_ms: null,
      miners_total: input.minersTotal,
      progress: null,
      message: null,
    };
  }

  // ---- the processor ----

  private async process(run: JobRun): Promise<JobOutcome> {
    const id = run.job.id;
    if (this.closing) throw new JobHandBackError(!this.forced);
    const handler = this.handlers.get(run.job.data.type);
    if (!handler) throw new PermanentJobError(`no handler for job type ${run.job.data.type}`);
    const ac = new AbortController();
    run.signal?.addEventListener('abort', () => ac.abort(new JobCancelledError()), { once: true });
    this.running.set(id, { ac });
    const resumed = run.resumed || (await this.store.stepCount(id)) > 1;
    let lastProgressMs = 0;
    let pendingProgress: JobProgress | null = null;
    let command: string | null = null;
    const pollCommand = async (): Promise<void> => {
      command = await this.store.getCommand(id).catch(() => command);
      if (command === 'cancel' && !ac.signal.aborted) ac.abort(new JobCancelledError(`cancelled`));
    };
    await pollCommand();
    const poller = setInterval(() => void pollCommand(), this.opts.commandPollMs);
    const data = run.job.data;
    const ctx: JobContext<unknown> = {
      id,
      type: data.type,
      caller: data.caller,
      payload: data.payload,
      label: data.label,
      signal: ac.signal,
      resumed,
      secrets: async <T>(): Promise<T | null> => {
        if (!data.has_secrets) return null;
        const raw = await this.store.sealedSecrets(id);
        if (!raw)
          throw new PermanentJobError('the secrets of this job have expired; submit the request again');
        const json = raw.startsWith('sealed:')
          ? this.sealedBox().open(raw.slice(7), `job:${id}`)
          : raw.slice(6);
        return JSON.parse(json) as T;
      },
      // After a forced close this process no longer owns the job (another worker may): it stops writing.
      step: async (s, o) => {
        if (!this.forced) await this.appendStep(id, data, s, o?.audit ?? true);
      },
      progress: async (p, o) => {
        pendingProgress = p;
        const now = Date.now();
        if (!o?.force && now - lastProgressMs < this.opts.progressIntervalMs) return;
        lastProgressMs = now;
        pendingProgress = null;
        if (!this.forced) await run.updateProgress(p).catch(() => undefined);
      },
      checkpoint: async () => {
        let announced = false;
        for (;;) {
          if (ac.signal.aborted)
            throw ac.signal.reason instanceof Error ? ac.signal.reason : new JobCancelledError();
          if (command !== 'pause') break;
          if (!announced) {
            announced = true;
            await ctx.step({
              kind: 'job',
              status: 'paused',
              message: 'paused; no new work starts until resumed',
            });
          }
          await sleep(this.opts.commandPollMs, ac.signal);
        }
        if (announced) await ctx.step({ kind: 'job', status: 'running', message: 'resumed' });
      },
      results: () => this.store.results(id),
      setResult: async r => {
        if (this.forced) return;
        await this.store.setResult(id, r);
      },
      updatePayload: async p => {
        data.payload = p;
        await run.updateData(data);
      },
    };
    try {
      await ctx.step({
        kind: 'job',
        status: 'running',
        message: resumed ? 'resumed after a restart or retry; finished miners are skipped' : 'started',
      });
      const outcome = await handler(ctx);
      if (pendingProgress) await run.updateProgress(pendingProgress).catch(() => undefined);
      await this.finish(id, data, outcome);
      return outcome;
    } catch (err) {
      const reason: unknown = ac.signal.aborted ? ac.signal.reason : null;
      if (reason instanceof JobShutdownError || this.closing) {
        // Hand the job to the next worker (or, when forced, to the port's recovery).
        throw new JobHandBackError(!this.forced);
      }
      if (reason instanceof JobCancelledError || err instanceof JobCancelledError) {
        const outcome: JobOutcome = {
          outcome: 'cancelled',
          message: 'cancelled before all miners were done',
          summary: {},
        };
        await this.finish(id, data, outcome);
        return outcome;
      }
      const message = isFleetError(err) ? err.message : err instanceof PermanentJobError ? err.message : 'internal error; see the API logs';
      if (!isFleetError(err) && !(err instanceof PermanentJobError)) this.infra.log.error({ job: id, err }, 'job handler crashed');
      const permanent =
        err instanceof PermanentJobError || (isFleetError(err) && PERMANENT_CODES.has(err.code));
      const last = permanent || run.attemptsMade + 1 >= run.maxAttempts;
      await ctx
        .step({
          kind: 'job',
          status: last ? 'failed' : 'retrying',
          message: last ? `failed: ${message}` : `attempt failed (${message}); retrying`,
        })
        .catch(() => undefined);
      if (last) await this.store.release(id, this.opts.retentionMs).catch(() => undefined);
      if (permanent) throw new PermanentJobError(message);
      throw new Error(message, { cause: err });
    } finally {
      clearInterval(poller);
      this.running.delete(id);
    }
  }

  /** The sealing key, loaded (or generated) on first use: instances that never see a secret never touch the key file. */
  private sealedBox(): SecretBox {
    this.box ??= secretBoxFor(this.infra.config);
    return this.box;
  }

  private async finish(id: string, data: JobData, outcome: JobOutcome): Promise<void> {
    await this.appendStep(
      id,
      data,
      { kind: 'job', status: outcome.outcome, message: `${outcome.outcome}: ${outcome.message}` },
      true,
    ).catch(() => undefined);
    await this.store.release(id, this.opts.retentionMs).catch(() => undefined);
  }

  private async appendStep(id: string, data: JobData, s: StepInput, audit: boolean): Promise<void> {
    const step: Omit<JobStep, 'id'> = { ...s, time_ms: s.time_ms ?? Date.now() };
    await this.store.appendStep(id, data.caller.tenant, step, this.opts.maxStepsPerJob);
    if (!audit) return;
    const event: FleetEvent = {
      time_ms: step.time_ms,
      tenant: data.caller.tenant,
      site: s.site ?? '',
      miner: s.miner ?? '',
      kind: 'job_step',
      severity: s.status === 'failed' || s.status === 'halted' ? 'warning' : 'info',
      message: `${data.label}: ${s.message}`,
      actor: data.caller.sub,
      result: s.code ?? s.status ?? 'info',
      data: { job: id, job_type: data.type, step: s.kind },
    };
    await recordSafely(this.audit, this.infra.log, [event]);
  }

  // ---- queries and commands (tenant-scoped) ----

  private async load(caller: Caller, id: string): Promise<StoredJob> {
    const job = await this.store.get(id);
    if (!job || job.data?.caller?.tenant !== caller.tenant) {
      throw new FleetError('not_found', `unknown job '${id}'; GET /api/v1/jobs lists your jobs`, {
        details: { job: id },
      });
    }
    return job;
  }

  private async summarize(job: StoredJob, command?: string | null): Promise<JobSummary> {
    const cmd = command === undefined ? await this.store.getCommand(job.id).catch(() => null) : command;
    const outcome = job.outcome;
    let status: JobStatus;
    if (job.state === 'completed') status = outcome?.outcome ?? 'succeeded';
    else if (job.state === 'failed') status = 'failed';
    else if (cmd === 'cancel') status = 'cancelling';
    else if (cmd === 'pause') status = 'paused';
    else if (job.state === 'active') status = 'running';
    else status = 'queued';
    return {
      id: job.id,
      type: job.data.type,
      status,
      label: job.data.label,
      created_by: job.data.caller.sub,
      created_ms: job.data.created_ms,
      started_ms: job.startedMs,
      finished_ms: FINAL_STATUSES.includes(status) ? job.finishedMs : null,
      miners_total: job.data.miners_total,
      progress: job.progress,
      message: outcome?.message ?? (job.state === 'failed' ? job.failedReason : null),
    };
  }

  /**
   * The caller's jobs, newest first. Without filters `total` is exact and only `limit` jobs are
   * read; with a status or type filter at most the newest `LIST_SCAN_MAX` jobs are examined and
   * the answer says so (`hint`).
   */
  async list(
    caller: Caller,
    query: JobListQuery = {},
  ): Promise<{ items: JobSummary[]; total: number; limit: number; truncated: boolean; hint?: string }> {
    const limit = Math.max(1, Math.min(query.limit ?? 50, 500));
    const tenant = caller.tenant;
    await this.store.pruneIndex(tenant, Date.now() - this.opts.retentionMs);
    const filtered = query.status !== undefined || query.type !== undefined;
    const out: JobSummary[] = [];
    let offset = 0;
    let matched = 0;
    let scanned = 0;
    let exhausted = false;
    const page = filtered ? 200 : limit;
    while (scanned < LIST_SCAN_MAX && (filtered || out.length < limit)) {
      const ids = await this.store.listIds(tenant, offset, page);
      offset += ids.length;
      for (const id of ids) {
        scanned++;
        const job = await this.store.get(id).catch(() => null);
        if (!job) {
          // Removed by the queue's retention: drop it from the index too.
          await this.store.unindex(tenant, id);
          offset--;
          continue;
        }
        if (query.type && job.data.type !== query.type) continue;
        const s = await this.summarize(job);
        if (query.status && s.status !== query.status) continue;
        matched++;
        if (out.length < limit) out.push(s);
      }
      if (ids.length < page) {
        exhausted = true;
        break;
      }
    }
    if (!filtered) {
      const total = await this.store.countIds(tenant);
      return { items: out, total, limit, truncated: total > out.length };
    }
    const hint = exhausted
      ? undefined
      : `only the newest ${LIST_SCAN_MAX} jobs were examined; total counts matches among them`;
    return {
      items: out,
      total: matched,
      limit,
      truncated: matched > out.length || !exhausted,
      ...(hint ? { hint } : {}),
    };
  }

  /** One job with its per-miner results (paged). */
  async get(
    caller: Caller,
    id: string,
    opts: { resultsLimit?: number; resultsOffset?: number; resultStatus?: MinerJobResult['status'] } = {},
  ): Promise<JobDetail> {
    const job = await this.load(caller, id);
    const summary = await this.summarize(job);
    let results = [...(await this.store.results(id)).values()];
    if (opts.resultStatus) results = results.filter(r => r.status === opts.resultStatus);
    results.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const offset = Math.max(0, opts.resultsOffset ?? 0);
    const limit = Math.max(0, Math.min(opts.resultsLimit ?? 1_000, 10_000));
    const pageOf = results.slice(offset, offset + limit);
    return {
      ...summary,
      payload: job.data.payload,
      outcome: job.outcome,
      error: job.failedReason,
      attempts: job.attemptsStarted,
      results: pageOf,
      results_total: results.length,
      results_truncated: offset + pageOf.length < results.length,
    };
  }

  /** Steps after `afterId` (exclusive; '0' or undefined: from the start), oldest first. */
  async steps(
    caller: Caller,
    id: string,
    opts: { afterId?: string; limit?: number } = {},
  ): Promise<{ steps: JobStep[]; status: JobStatus }> {
    const job = await this.load(caller, id);
    const summary = await this.summarize(job);
    const limit = Math.max(1, Math.min(opts.limit ?? 1_000, 10_000));
    const after = opts.afterId && opts.afterId !== '0' ? opts.afterId : undefined;
    const steps = await this.store.steps(id, after, limit);
    return { steps, status: summary.status };
  }

  async pause(caller: Caller, id: string): Promise<JobSummary> {
    const job = await this.load(caller, id);
    const s = await this.summarize(job);
    if (FINAL_STATUSES.includes(s.status))
      throw new FleetError('conflict', `job ${id} has already ended (${s.status})`);
    if (s.status === 'cancelling') throw new FleetError('conflict', `job ${id} is being cancelled`);
    await this.store.setCommand(id, 'pause', this.opts.retentionMs);
    await this.appendStep(
      id,
      job.data,
      { kind: 'job', status: 'pause_requested', message: `pause requested by ${caller.sub}` },
      true,
    );
    return this.summarize(job, 'pause');
  }

  async resume(caller: Caller, id: string): Promise<JobSummary> {
    const job = await this.load(caller, id);
    const s = await this.summarize(job);
    if (s.status !== 'paused') throw new FleetError('conflict', `job ${id} is not paused (${s.status})`);
    await this.store.setCommand(id, null, this.opts.retentionMs);
    await this.appendStep(
      id,
      job.data,
      { kind: 'job', status: 'resume_requested', message: `resume requested by ${caller.sub}` },
      true,
    );
    return this.summarize(job, null);
  }

  /** Stop starting new miners; in-flight work finishes or aborts through the job's signal. */
  async cancel(caller: Caller, id: string): Promise<JobSummary> {
    const job = await this.load(caller, id);
    const s = await this.summarize(job);
    if (FINAL_STATUSES.includes(s.status))
      throw new FleetError('conflict', `job ${id} has already ended (${s.status})`);
    await this.store.setCommand(id, 'cancel', this.opts.retentionMs);
    this.running.get(id)?.ac.abort(new JobCancelledError());
    await this.appendStep(
      id,
      job.data,
      { kind: 'job', status: 'cancel_requested', message: `cancel requested by ${caller.sub}` },
      true,
    );
    return this.summarize(job, 'cancel');
  }

  /** Resolves when the job has ended (tests, CLI); rejects after timeoutMs. */
  async waitUntilFinished(caller: Caller, id: string, timeoutMs = 60_000): Promise<JobSummary> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const s = await this.summarize(await this.load(caller, id));
      if (FINAL_STATUSES.includes(s.status)) return s;
      if (Date.now() > deadline)
        throw new FleetError(
          'timeout',
          `job ${id} did not finish within ${timeoutMs} ms (status ${s.status})`,
        );
      await sleep(100);
    }
  }

  /** The job's data type check for handlers' callers. */
  get isRunningWorker(): boolean {
    return this.store.isWorkerRunning;
  }
}
